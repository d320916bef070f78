# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The identity of one ansible-playbook run and of the process that runs it.

A run id names one `ansible-playbook` invocation. The `tenant_state` callback makes it in the main
controller process, before any worker forks, and exports it (with the pid of that process and the start
time) in the environment every worker and module inherits; the lookup `iconeus.tenant_toolkit.run_id`
reads it back. Nothing else can set it: an extra variable never reaches the environment, and the lookup
checks that the exported pid is its own controller's.

A lock records where its holder runs: host name, kernel boot id, pid namespace, pid and the pid's start
time. On the same machine (same boot id and pid namespace) another process can then *prove* that the
holder is gone: its pid no longer exists, or now belongs to a process started at another time (a reused
pid). Anywhere else only the lease's expiry can tell.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
from typing import Any

RUN_ID_ENV = "TENANT_TOOLKIT_RUN_ID"
RUN_PID_ENV = "TENANT_TOOLKIT_RUN_PID"
RUN_STARTED_ENV = "TENANT_TOOLKIT_RUN_STARTED"
PLAYBOOK_ENV = "TENANT_TOOLKIT_PLAYBOOK"
RUN_ID_PATTERN = r"^r-[0-9a-f]{12}$"


def new_run_id() -> str:
    """`r-` and 12 random hex digits: unique enough for one account's runs, safe in S3 keys and shells."""
    return "r-" + secrets.token_hex(6)


def is_run_id(value: Any) -> bool:
    return isinstance(value, str) and re.match(RUN_ID_PATTERN, value) is not None


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def boot_id() -> str | None:
    """The kernel's id of this boot (Linux); two processes with the same one run on the same kernel."""
    return _read("/proc/sys/kernel/random/boot_id")


def pid_namespace() -> str | None:
    """The pid namespace of this process (Linux): pids are only comparable within one namespace."""
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return None


def process_start(pid: int) -> str | None:
    """When `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat); None when unknown."""
    stat = _read(f"/proc/{int(pid)}/stat")
    if stat is None:
        return None
    # The command name (field 2) is in parentheses and may itself contain spaces or parentheses.
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def local_identity() -> dict[str, str | None]:
    """Where this process runs, in the terms a lock records."""
    return {"host": socket.gethostname(), "boot_id": boot_id(), "pid_namespace": pid_namespace()}


def same_machine(holder: dict[str, Any], local: dict[str, Any]) -> bool:
    """Whether pids of `holder` can be checked from here: same kernel boot and same pid namespace."""
    return (
        bool(holder.get("boot_id"))
        and holder.get("boot_id") == local.get("boot_id")
        and bool(holder.get("pid_namespace"))
        and holder.get("pid_namespace") == local.get("pid_namespace")
    )


def process_gone(pid: Any, started: Any, start_of: Any = process_start) -> bool:
    """Whether the process `pid` that started at `started` no longer exists (on this machine).

    A pid that exists but started at another time was reused: the recorded process is gone. Without a
    recorded start time nothing can be proved.
    """
    try:
        pid = int(pid)
    except (TypeError, ValueError):
        return False
    if pid <= 0 or not started:
        return False
    return start_of(pid) != str(started)
