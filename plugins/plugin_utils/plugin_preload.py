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

The same holds for the modules' Python: each task whose module `in_worker` runs imported the collection's
module_utils (compiled from source: the collection loader keeps no bytecode), amazon.aws' module_utils, boto3
and the JSON profiles of the module protocol, again in every worker; a task using one of the collection's
filters loaded all of its filter files. For one user-pool tenant's no-op, 170
modules were executed in its workers after the lock, 173 more in the lock task's own worker.

`preload_without_aws()` loads the plugins that import no AWS library when the playbook starts (the `tenant_state`
callback), for the workers of validation and of the lock's play; `preload()` loads the rest and imports the modules
once, in the main process, when the run's first tenant lock task starts (with the botocore models): the workers
forked afterwards, the lock task's own included, find them loaded. In all: the collection's seven lookups, also the
three only some runs use (`tenant_secret`, `tenant_session` for an assumed role, `sandbox_health` aimed at an
endpoint of their own), its filters, and every module of the collection's and amazon.aws' module_utils, also those
only SAML tenants' directory content uses (`ad`: LDAP and SMB are imported by their functions): loading a plugin or
a module_utils runs no code but its module's definitions (6 MiB and 0.25 s in all).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

COLLECTION = "iconeus.tenant_toolkit"
MODULE_UTILS = "ansible_collections.iconeus.tenant_toolkit.plugins.module_utils"
# Every module of these packages is imported: the collection's own, and amazon.aws' that its modules build on
# (AnsibleAWSModule, tagging, transformation: 2 MiB and 0.07 s for all 41).
MODULE_UTILS_PACKAGES = (MODULE_UTILS, "ansible_collections.amazon.aws.plugins.module_utils")
# The serialisation profile of the module protocol in_worker speaks (plugins/action/in_worker.py): the one
# AnsiballZ uses for a module that declares none.
MODULE_PROFILE = "legacy"
# One builtin test loads them all: the Jinja2 plugin loader reads every file of ansible/plugins/test at once.
TESTS = ("ansible.builtin.defined",)
# Likewise one of the collection's filters loads every filter file of the collection (and the builtin ones).
FILTERS = (f"{COLLECTION}.known_secret_arn",)
# The lookups that import no AWS library (validation and the lock's plays use them), then those loaded at the
# first lock: the two that import boto3, and sandbox_health (ansible's urls, which amazon.aws' module_utils import).
LOOKUPS = tuple(f"{COLLECTION}.{name}" for name in ("known_tags", "run_id", "tenant_credentials", "tenant_environment"))
AWS_LOOKUPS = tuple(f"{COLLECTION}.{name}" for name in ("tenant_secret", "tenant_session", "sandbox_health"))
ACTIONS = (f"{COLLECTION}.in_worker",)


def preload() -> list[str]:
    """Load the plugins above and the modules the collection's modules import, in this process; the names of
    those that could not be loaded (none, normally)."""
    from ansible.plugins.loader import action_loader, lookup_loader

    missing = preload_without_aws()
    for loader, names in ((lookup_loader, AWS_LOOKUPS), (action_loader, ACTIONS)):
        missing += _load(loader, names)
    return missing + import_module_utils()


def preload_without_aws() -> list[str]:
    """Load the builtin tests, the filters and the lookups that import no AWS library (boto3's import alone is a
    fifth of a second: tests/unit/test_controller_startup.py); the names of those that could not be loaded."""
    from ansible.plugins.loader import filter_loader, lookup_loader, test_loader

    missing = []
    for loader, names in ((test_loader, TESTS), (filter_loader, FILTERS), (lookup_loader, LOOKUPS)):
        missing += _load(loader, names)
    return missing


def _load(loader: Any, names: tuple[str, ...]) -> list[str]:
    return [name for name in names if loader.get(name, class_only=True) is None]


def module_utils_names(package_name: str = MODULE_UTILS, failed: list[str] | None = None) -> list[str]:
    """Every module of a module_utils package, packages included; a subpackage that cannot be imported (to list
    what it holds) is added to `failed`."""
    package = importlib.import_module(package_name)
    walked = pkgutil.walk_packages(
        package.__path__, f"{package_name}.", onerror=lambda name: failed.append(name) if failed is not None else None
    )
    return [package_name] + [info.name for info in walked]


def import_module_utils() -> list[str]:
    """Import the module_utils of MODULE_UTILS_PACKAGES (and, through them, boto3) and the module protocol's
    JSON profiles; the names of those that failed to import."""
    from ansible.module_utils.common.json import Direction, get_module_decoder, get_module_encoder

    failed: list[str] = []
    names = []
    for package in MODULE_UTILS_PACKAGES:
        try:
            names += module_utils_names(package, failed)
        except (Exception, SystemExit) as err:  # noqa: BLE001 - each worker imports what it needs, as without this
            failed.append(f"{package} ({err!r})")
    for name in names:
        try:
            importlib.import_module(name)
        except (Exception, SystemExit) as err:  # noqa: BLE001 - the modules that need it fail with their own message
            failed.append(f"{name} ({err!r})")
    for direction in Direction:
        try:
            get_module_encoder(MODULE_PROFILE, direction)
            get_module_decoder(MODULE_PROFILE, direction)
        except Exception as err:  # noqa: BLE001 - in_worker loads the profile itself
            failed.append(f"module JSON profile {MODULE_PROFILE} {direction.name} ({err})")
    return failed
