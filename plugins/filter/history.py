# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the change history of a tenant reads (records of module tenant_history_info).

The filters are called by their FQCN, ``iconeus.tenant_toolkit.<name>``; short names below.

    {{ record | history_line }}   -> one line: when, run, status, who, from where, what ran and changed

Used by playbooks/ops/history.yml and by the tenant report (playbooks/ops/report.yml).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

# Task names shown in one line before the rest is counted.
TASKS_SHOWN = 5


def history_line(record: Mapping[str, Any]) -> str:
    """`2026-12-06T10:15:03Z r-0123456789ab ok: alice (arn:...) on ctl1, site.yml --tags fleet, ...`."""
    if not isinstance(record, Mapping) or "run_id" not in record:
        raise AnsibleFilterError(f"history_line expects a record of tenant_history_info, got {record!r}")
    who = str(record.get("operator") or "?")
    if record.get("caller_arn"):
        who += f" ({record['caller_arn']})"
    ran = str(record.get("playbook") or "?")
    if record.get("tags"):
        ran += " --tags " + ",".join(map(str, record["tags"]))
    version = str(record.get("toolkit") or "?")
    if record.get("commit"):
        version += f" ({str(record['commit'])[:12]})"
    tasks = [str(task) for task in record.get("tasks") or []]
    changed = f"{record.get('changed_tasks', len(tasks))} changed task(s)"
    if tasks:
        shown = "; ".join(tasks[:TASKS_SHOWN])
        changed += f": {shown}" + (f"; and {len(tasks) - TASKS_SHOWN} more" if len(tasks) > TASKS_SHOWN else "")
    line = (
        f"{record.get('time')} {record['run_id']} {record.get('status', '?')}: {who} on "
        f"{record.get('controller') or '?'}, {ran}, toolkit {version}, {changed}"
    )
    failures = [str(failure) for failure in record.get("failures") or []]
    if failures:
        line += "; FAILED " + "; ".join(failures)
    return line


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"history_line": history_line}
