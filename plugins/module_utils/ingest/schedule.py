# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When a scheduled transfer is due (tenant.ingest.schedule).

DataSync's own task schedule starts executions on a clock, without knowing which acquisitions are
complete: an execution of the whole prefix would copy an acquisition while it is still being uploaded.
So the toolkit's task has no DataSync schedule. `playbooks/ops/ingest_sync.yml` starts each execution with
a manifest of complete acquisitions only, and a scheduler (the Jenkins job `ingest-sync`, or an AWX
schedule, docs/awx.md) runs it every hour with `-e scheduled=true` across the tenant inventories: each
tenant then transfers only when its own schedule says so, measured from the start of its last execution.

Pure functions (no AWS call).
"""

from __future__ import annotations

# Seconds between two scheduled transfers, and how early a run may come: the scheduler's own runs drift
# by a few minutes, and an hourly tenant must not skip every other hour because of it.
PERIODS = {"hourly": 3600, "daily": 86400}
TOLERANCE = {"hourly": 15 * 60, "daily": 60 * 60}


def is_due(schedule: str, last_start: float | None, now: float) -> tuple[bool, str]:
    """Whether a scheduled run should start a transfer now, and why."""
    if schedule == "manual":
        return False, "tenant.ingest.schedule is manual: transfers start only when run by hand"
    if schedule not in PERIODS:
        raise ValueError(f"unknown schedule {schedule!r}")
    if last_start is None:
        return True, "no transfer has run yet"
    elapsed = now - last_start
    if elapsed >= PERIODS[schedule] - TOLERANCE[schedule]:
        return True, f"the last transfer started {int(elapsed // 60)} minutes ago ({schedule})"
    return False, f"the last transfer started {int(elapsed // 60)} minutes ago; next one due ({schedule}) later"
