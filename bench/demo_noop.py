"""Whole-tenant no-op: the second `site.yml` run on the demo tenant.

A fresh sandbox (no Samba, time scale 0.001), a copy of inventories/demo aimed at it,
one converge from nothing, then `repeats` no-op runs. Measured on each no-op run: the
API calls from the sandbox's request log (by service and by operation, mutating ones),
the wall time of the whole `ansible-playbook` process, the tasks from the run's own
timeline callback (bench/callback_plugins/bench_timeline.py) and its PLAY RECAP.

Design.md section 8 target: at most 30 API calls, all reads. The toolkit state store's bookkeeping
(the run's tenant lock in DynamoDB, its history record in S3) is counted apart and left out of the
30: it is the run's own, not a read of the tenant (tests/helpers.py is_bookkeeping).

Fail-soft: a converge or no-op that fails gives a JSON result with `status: failed` and the error,
not a traceback, so that `make bench` goes on with the other benchmarks.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.tenant_runs import changed_total, run_site, sandbox, tenant_inventory

CALL_TARGET = 30
TIME_SCALE = 0.001


def run(port: int | None = None, repeats: int = 2) -> dict[str, Any]:
    try:
        return measure(port, repeats)
    except Exception as err:  # noqa: BLE001 - fail-soft: the table and the JSON say what failed
        return {
            "status": "failed",
            "error": str(err)[-4000:],
            "summary": [{"figure": "no-op API calls", "value": "failed", "target": f"<= {CALL_TARGET}", "met": False}],
            "target": {"calls": CALL_TARGET, "mutating_calls": 0},
            "met": {"calls": False, "all_reads": False},
            "reproduce": ".venv/bin/python -m bench --only demo_noop",
        }


def measure(port: int | None, repeats: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-demo-noop-") as scratch:
        work = Path(scratch)
        with sandbox(TIME_SCALE, work / "sandbox", port) as box:
            inventory = tenant_inventory(work / "inventory", box)
            converge = run_site([inventory], work, label="converge")
            noops = []
            for index in range(repeats):
                mark = box.client.log_mark()
                done = run_site([inventory], work, label=f"noop{index}")
                noops.append((done, box.tenant_stats(mark), box.tenant_calls(mark)))

    last_run, last_stats, last_calls = noops[-1]
    recap = last_run.recap.get("demo", {})
    calls = last_stats["total"]
    mutating = last_stats["mutating"]
    seconds = [done.seconds for done, *_ in noops]
    tasks = last_run.tasks()
    summary = [
        {
            "figure": "no-op API calls (state store bookkeeping apart); x target",
            "value": f"{calls}; {calls / CALL_TARGET:.2f}",
            "target": f"<= {CALL_TARGET}",
            "met": calls <= CALL_TARGET,
        },
        {
            "figure": "no-op state store bookkeeping calls (lock, history; not counted)",
            "value": last_stats["state_store_calls"],
        },
        {"figure": "no-op mutating calls", "value": mutating, "target": "0", "met": mutating == 0},
        {"figure": "no-op wall time, median (s)", "value": round(statistics.median(seconds), 2)},
        {"figure": "no-op CPU time, last run (s)", "value": last_run.cpu_seconds},
        {
            "figure": "no-op tasks: started / ok / skipped",
            "value": f"{tasks['task_starts']} / {recap.get('ok')} / {recap.get('skipped')}",
        },
    ]
    return {
        "status": "ok",
        "summary": summary,
        "calls_ratio_to_target": round(calls / CALL_TARGET, 3),
        "noop_calls": calls,
        "noop_mutating_calls": mutating,
        "noop_mutating_operations": last_stats["mutating_operations"],
        "noop_changed_tasks": changed_total(last_run),
        "noop_seconds_median": round(statistics.median(seconds), 3),
        "noop_seconds": seconds,
        "noop_cpu_seconds": [done.cpu_seconds for done, *_ in noops],
        "noop_calls_each_run": [stats["total"] for _, stats, _ in noops],
        "noop_tasks": {
            **tasks,
            "recap_ok": recap.get("ok"),
            "recap_skipped": recap.get("skipped"),
            "recap_changed": recap.get("changed"),
        },
        # The run's own bookkeeping in the toolkit state store (taking and releasing the tenant's lock).
        "noop_state_store_calls": last_stats["state_store_calls"],
        "noop_by_service": last_stats["by_service"],
        "noop_by_operation": last_stats["by_operation"],
        # Which task made which calls: where the next call to save is.
        "noop_calls_by_task": last_run.calls_by_task(last_calls),
        "noop_slowest_tasks": last_run.slowest_tasks(8),
        "converge_seconds": converge.seconds,
        "converge_changed_tasks": changed_total(converge),
        "target": {"calls": CALL_TARGET, "mutating_calls": 0},
        "met": {"calls": calls <= CALL_TARGET, "all_reads": mutating == 0},
        "measured": (
            f"one fresh sandbox (SANDBOX_SAMBA=0, time scale {TIME_SCALE}); a copy of inventories/demo aimed "
            f"at it converged once, then {repeats} no-op runs of site.yml; calls and mutating calls from the "
            "sandbox request log of the last no-op run, time is the wall time of ansible-playbook (median), "
            "tasks from the bench_timeline callback (task starts, per-host results) and the PLAY RECAP"
        ),
        "reproduce": ".venv/bin/python -m bench --only demo_noop",
    }
