# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Ansible plugins each tenant task's worker would load from source, loaded once in the controller instead.

ansible-core loads a plugin's Python file the first time a process asks for the plugin, and keeps it in
`sys.modules`. The controller's main process evaluates no task's conditional or `environment`: those are
templated in the worker Ansible forks for the task and host. So no plugin they use was ever loaded in the main
process, and every worker loaded them again: the builtin tests (one `is defined` loads the four files of
ansible/plugins/test), the lookups of every task's AWS environment (`tenant_environment`, `tenant_credentials`,
`run_id`), the action plugin that runs the collection's modules. For one tenant's no-op that was 351 files
executed in 96 workers (0.33 s of CPU); for fifty tenants, fifty times that.

`preload()` asks the plugin loaders for them once, in the main process, when the run takes its first tenant
lock (the `tenant_state` callback, with the botocore models): the workers forked afterwards find them loaded.
It loads the collection's six lookups, also the two only some tenants use (`tenant_secret`, `tenant_session`
for an assumed role): loading a plugin runs no code but its module's definitions.
"""

from __future__ import annotations

from typing import Any

COLLECTION = "iconeus.tenant_toolkit"
# One builtin test loads them all: the Jinja2 plugin loader reads every file of ansible/plugins/test at once.
TESTS = ("ansible.builtin.defined",)
LOOKUPS = tuple(
    f"{COLLECTION}.{name}"
    for name in ("known_tags", "run_id", "tenant_credentials", "tenant_environment", "tenant_secret", "tenant_session")
)
ACTIONS = (f"{COLLECTION}.in_worker",)


def preload() -> list[str]:
    """Load the plugins above in this process; the names of those that could not be found (none, normally)."""
    from ansible.plugins.loader import action_loader, lookup_loader, test_loader

    missing = []
    for loader, names in ((test_loader, TESTS), (lookup_loader, LOOKUPS), (action_loader, ACTIONS)):
        for name in names:
            found: Any = loader.get(name, class_only=True)
            if found is None:
                missing.append(name)
    return missing
