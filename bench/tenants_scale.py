"""Tenants at scale: the no-op of 1, 10, 25 and 50 user-pool tenants, each in one `site.yml` run.

The nightly drift report and the multi-tenant jobs run many tenants in one `ansible-playbook`
run, so the cost that matters is per tenant, at many tenants. On a fresh sandbox (time scale
0.001, no Samba) `max(counts)` user-pool copies of the demo tenant (`bench-s001`...) are
converged together once; then one no-op run of site.yml per count, with the first N
inventories, smallest first, and the 1-tenant run again at the end (the reference is the mean
of the two, so that a drift of the shared machine's load weighs on both ends of the ratio).

For each run: wall time; CPU time (user + sys of ansible-playbook and every process it waited
for); API calls (mutating ones must be 0; the toolkit state store's lock and history calls are
counted apart, as in every benchmark); peak memory of the controller, sampled from /proc every
0.2 s over ansible-playbook and all its descendants (forked workers, module processes): the sum
of PSS (shared pages divided among their processes: what the machine spends, what the 4 GiB target
is checked on) and of RSS (shared pages counted once per process: an upper bound, shown beside
it); tasks per tenant (per-host task results from the bench_timeline callback) and the slowest
tasks, summed over the tenants and longest single run.

Design.md section 8 target: 50 tenants' no-op in at most 15 times the wall time of one, with the
controller's peak memory (all processes) under 4 GiB. `BENCH_SCALE_COUNTS=1,5` makes a quick run.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.tenant_runs import SiteRun, changed_total, run_site, sandbox, tenant_inventory

TIME_SCALE = 0.001
COUNTS = (1, 10, 25, 50)
WALL_TARGET = 15  # 50 tenants' no-op wall time against one tenant's
MEMORY_TARGET_MIB = 4096  # controller peak memory, all processes


def counts_from_environment() -> tuple[int, ...]:
    """BENCH_SCALE_COUNTS=1,5 for a quick run; the full run is 1, 10, 25, 50."""
    text = os.environ.get("BENCH_SCALE_COUNTS", "")
    counts = sorted({int(part) for part in text.split(",") if part.strip()}) if text else list(COUNTS)
    if 1 not in counts:
        counts.insert(0, 1)
    return tuple(counts)


def task_costs(run: SiteRun, count: int = 8) -> list[dict[str, Any]]:
    """The tasks that cost the most in a run: seconds summed over the tenants, the longest single one, runs."""
    total: dict[str, float] = defaultdict(float)
    longest: dict[str, float] = defaultdict(float)
    runs: dict[str, int] = defaultdict(int)
    for span in run.slowest_tasks(count=10**9):
        total[span["task"]] += span["seconds"]
        longest[span["task"]] = max(longest[span["task"]], span["seconds"])
        runs[span["task"]] += 1
    ranked = sorted(total, key=lambda task: -total[task])[:count]
    return [
        {
            "task": task,
            "seconds_all_tenants": round(total[task], 2),
            "longest_s": round(longest[task], 3),
            "host_runs": runs[task],
        }
        for task in ranked
    ]


def run() -> dict[str, Any]:
    counts = counts_from_environment()
    most = max(counts)
    names = [f"bench-s{index:03d}" for index in range(1, most + 1)]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as scratch:
        work = Path(scratch)
        with sandbox(TIME_SCALE, work / "sandbox") as box:
            inventories = [
                tenant_inventory(work / name, box, name=name, index=index, auth="userpool")
                for index, name in enumerate(names, start=1)
            ]
            converge = run_site(inventories, work, label="converge", timeout=4 * 3600)
            runs: dict[str, dict[str, Any]] = {}
            for label, tenants in [(str(n), n) for n in counts] + [("1-again", 1)]:
                mark = box.client.log_mark()
                sandbox_cpu_before = box.cpu_seconds()
                done = run_site(
                    inventories[:tenants],
                    work,
                    sample_memory=True,
                    sandbox_pid=box.pid,
                    label=f"noop-{label}",
                    timeout=4 * 3600,
                )
                sandbox_cpu_after = box.cpu_seconds()
                stats = box.tenant_stats(mark)
                tasks = done.tasks()
                host_results = sum(tasks[f"host_results_{status}"] for status in ("ok", "changed", "skipped"))
                runs[label] = {
                    "tenants": tenants,
                    "seconds": done.seconds,
                    "cpu_seconds": done.cpu_seconds,
                    "cpu_seconds_per_tenant": round(done.cpu_seconds / tenants, 2),
                    "seconds_per_tenant": round(done.seconds / tenants, 2),
                    "calls": stats["total"],
                    "calls_per_tenant": round(stats["total"] / tenants, 1),
                    "mutating_calls": stats["mutating"],
                    "state_store_calls": stats["state_store_calls"],
                    "changed_tasks": changed_total(done),
                    "task_starts": tasks["task_starts"],
                    "tasks_per_tenant": round(host_results / tenants, 1),
                    "skipped_tasks_per_tenant": round(tasks["host_results_skipped"] / tenants, 1),
                    "costliest_tasks": task_costs(done),
                    "sandbox_cpu_seconds": (
                        round(sandbox_cpu_after - sandbox_cpu_before, 2)
                        if sandbox_cpu_before is not None and sandbox_cpu_after is not None
                        else None
                    ),
                    **(done.memory or {}),
                }

    one = statistics.mean([runs["1"]["seconds"], runs["1-again"]["seconds"]])
    one_cpu = statistics.mean([runs["1"]["cpu_seconds"], runs["1-again"]["cpu_seconds"]])
    largest = runs[str(most)]
    wall_ratio = largest["seconds"] / one
    memory = max(entry["ansible_peak_rss_mib"] for entry in runs.values())
    memory_pss = max(entry["ansible_peak_pss_mib"] for entry in runs.values())
    growth = {
        str(n): {
            "wall_ratio": round(runs[str(n)]["seconds"] / one, 2),
            "cpu_ratio": round(runs[str(n)]["cpu_seconds"] / one_cpu, 2),
            "peak_rss_mib": runs[str(n)]["ansible_peak_rss_mib"],
            "peak_pss_mib": runs[str(n)]["ansible_peak_pss_mib"],
            "cpu_seconds_per_tenant": runs[str(n)]["cpu_seconds_per_tenant"],
        }
        for n in counts
    }
    full = most >= 50
    summary = [
        {"figure": "no-op wall, 1 user-pool tenant (s, mean of 2)", "value": round(one, 1)},
        *(
            {
                "figure": f"no-op wall, {n} tenants (s); x one",
                "value": f"{runs[str(n)]['seconds']}; {growth[str(n)]['wall_ratio']}",
            }
            for n in counts
            if n > 1
        ),
        {
            "figure": f"{most}/1 wall" + ("" if full else " (quick run: target is for 50)"),
            "value": round(wall_ratio, 2),
            "target": f"<= {WALL_TARGET}",
            "met": wall_ratio <= WALL_TARGET if full else None,
        },
        {
            "figure": f"controller peak memory, PSS summed over all processes, {most} tenants (MiB)",
            "value": memory_pss,
            "target": f"< {MEMORY_TARGET_MIB}",
            "met": memory_pss < MEMORY_TARGET_MIB,
        },
        {
            "figure": "  the same as RSS sum (shared pages once per process: an upper bound) (MiB)",
            "value": memory,
        },
        {
            "figure": f"CPU s per tenant, 1 / {most} tenants",
            "value": f"{runs['1']['cpu_seconds_per_tenant']} / {largest['cpu_seconds_per_tenant']}",
        },
        {"figure": f"tasks per tenant, {most} tenants", "value": largest["tasks_per_tenant"]},
        {
            "figure": f"sandbox CPU s during the no-op, 1 / {most} tenants (on the controller's cores)",
            "value": f"{runs['1']['sandbox_cpu_seconds']} / {largest['sandbox_cpu_seconds']}",
        },
        {
            "figure": f"mutating calls, {most} tenants",
            "value": largest["mutating_calls"],
            "target": "0",
            "met": largest["mutating_calls"] == 0,
        },
    ]
    for row in summary:
        if row.get("met") is None:
            row.pop("met", None)
    return {
        "summary": summary,
        "counts": list(counts),
        "one_tenant_seconds_mean": round(one, 3),
        "wall_ratio": round(wall_ratio, 2),
        "growth": growth,
        "peak_memory_mib": {"rss_sum": memory, "pss_sum": memory_pss},
        "target": {f"{50}/1 wall": WALL_TARGET, "peak_memory_mib": MEMORY_TARGET_MIB},
        "met": {
            "wall": (wall_ratio <= WALL_TARGET) if full else None,
            # PSS: the forked workers share most of their pages with ansible-playbook; an RSS sum counts
            # them once per process (10 GiB for 1.9 GiB of PSS at 25 tenants), PSS divides them.
            "memory": memory_pss < MEMORY_TARGET_MIB,
            "all_reads": all(entry["mutating_calls"] == 0 for entry in runs.values()),
        },
        "runs": runs,
        "converge_all_seconds": converge.seconds,
        "converge_cpu_seconds": converge.cpu_seconds,
        "converge_changed_tasks": changed_total(converge),
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "measured": (
            f"{most} user-pool copies of the demo tenant converged together once on a fresh sandbox "
            f"(SANDBOX_SAMBA=0, time scale {TIME_SCALE}); then one site.yml no-op run each with the first "
            f"{', '.join(map(str, counts))} inventories (-i each) and 1 again (reference = mean of the two 1-tenant "
            "runs); wall time of ansible-playbook; CPU time (user+sys) of ansible-playbook and the processes it "
            "waited for; calls from the request log (state store bookkeeping counted apart); peak memory sampled "
            "from /proc every 0.2 s (RSS and PSS summed over ansible-playbook and all its descendants); tasks "
            "and task costs from the bench_timeline callback"
        ),
        "reproduce": ".venv/bin/python -m bench --only tenants_scale   # BENCH_SCALE_COUNTS=1,5 for a quick run",
    }
