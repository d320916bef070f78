# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: run_id
short_description: The id of the running ansible-playbook run (one per run, shared by every fork)
version_added: 0.2.0
description:
  - Returns the run id that the C(iconeus.tenant_toolkit.tenant_state) callback made when the run started,
    in the main controller process, before any worker forked (C(r-) and 12 hex digits). Every task of the
    run, on every host and fork, gets the same id; the next run gets another.
  - It cannot be chosen from outside the run. The callback sets it in the environment of its own process
    (overwriting any value inherited from the shell) and the lookup checks that the id was exported by
    the controller process of this very run, so neither an extra variable nor an exported variable can
    impersonate another run, for example to release its lock.
  - With O(info=true) returns what a lock records about the run (run id, pid and start of the controller
    process, host, kernel boot id, pid namespace, local user, start time, playbook).
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  info:
    description: Return the description of the run (a dict) instead of its id.
    type: bool
    default: false
notes:
  - Fails when the C(tenant_state) callback is not enabled (C(callbacks_enabled) of the project's ansible.cfg).
"""

EXAMPLES = r"""
- name: Show the id of this run
  ansible.builtin.debug:
    msg: "{{ lookup('iconeus.tenant_toolkit.run_id') }}"

- name: Take the tenant's lock for this run
  iconeus.tenant_toolkit.tenant_lock:
    tenant: acme-neuro
    run_id: "{{ lookup('iconeus.tenant_toolkit.run_id') }}"
    holder: "{{ query('iconeus.tenant_toolkit.run_id', info=true) | first }}"
"""

RETURN = r"""
_raw:
  description: The run id (C(r-0123456789ab)), or with O(info=true) the run's description.
  type: list
  elements: raw
"""

import getpass
import os
from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state.run import (
    PLAYBOOK_ENV,
    RUN_ID_ENV,
    RUN_PID_ENV,
    RUN_STARTED_ENV,
    boot_id,
    is_run_id,
    local_identity,
    pid_namespace,
    process_start,
)


def run_of_this_process(environ: dict[str, str], pid: int, parent: int) -> tuple[str, int]:
    """The run id and controller pid exported by this run's controller; AnsibleLookupError otherwise.

    Lookups run in a worker forked from the controller (or, for a few play-level templates, in the
    controller itself): the exported pid must be one of the two.
    """
    run_id = environ.get(RUN_ID_ENV, "")
    if not is_run_id(run_id):
        raise AnsibleLookupError(
            "no run id: the iconeus.tenant_toolkit.tenant_state callback is not enabled "
            "(callbacks_enabled in ansible.cfg; run from the project root, or set ANSIBLE_CONFIG to its ansible.cfg)"
        )
    try:
        controller = int(environ.get(RUN_PID_ENV, ""))
    except ValueError:
        controller = -1
    if controller not in (pid, parent):
        raise AnsibleLookupError(
            f"the run id in the environment ({RUN_ID_ENV}) was not made by this run's controller "
            f"(pid {environ.get(RUN_PID_ENV, '?')}, this process {pid}, its parent {parent}): "
            "a run id cannot be given from outside the run"
        )
    return run_id, controller


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: Any = None, **kwargs: Any) -> list[Any]:
        self.set_options(var_options=variables, direct=kwargs)
        run_id, controller = run_of_this_process(dict(os.environ), os.getpid(), os.getppid())
        if not self.get_option("info"):
            return [run_id]
        identity = local_identity()
        return [
            {
                "run_id": run_id,
                "pid": controller,
                "process_start": process_start(controller) or "",
                "host": identity["host"],
                "boot_id": boot_id() or "",
                "pid_namespace": pid_namespace() or "",
                "operator": getpass.getuser(),
                "started": os.environ.get(RUN_STARTED_ENV, ""),
                "playbook": os.environ.get(PLAYBOOK_ENV, ""),
            }
        ]
