"""Tenants in parallel: one `site.yml` no-op run converging 1, 5 and 10 demo-like tenants.

Ten copies of inventories/demo with their own names, CIDRs, domains and NetBIOS names
(`bench-t01`..`bench-t10`, SAML, no Samba; `BENCH_TENANTS_AUTH=userpool` for light tenants)
are converged together once on a fresh sandbox (time scale 0.001). Then, on the same
sandbox, single runs of site.yml with 1, 5 and 10 `-i` inventories; the 1-tenant run is
repeated at the end and the mean of the two is the reference, so that a drift in the
shared machine's load weighs on both ends of the ratio. Measured for each run: wall time
of ansible-playbook, API calls and mutating calls from the request log, and memory sampled
from /proc every 0.2 s: RSS summed over ansible-playbook and all its descendants (forked
workers and the module processes they start; shared pages count once per process) and
the same as PSS (shared pages divided among the processes that share them), plus the
sandbox server's RSS.

Design.md section 8 target: 10 tenants in at most 4 times the wall time of one tenant
(raised from 6 on 2026-12-06).
"""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.tenant_runs import changed_total, run_site, sandbox, tenant_inventory

TARGET = 4
TIME_SCALE = 0.001
COUNTS = (1, 5, 10)


def run() -> dict[str, Any]:
    auth = os.environ.get("BENCH_TENANTS_AUTH", "saml")
    names = [f"bench-t{index:02d}" for index in range(1, max(COUNTS) + 1)]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-tenants-") as scratch:
        work = Path(scratch)
        with sandbox(TIME_SCALE, work / "sandbox") as box:
            inventories = [
                tenant_inventory(work / name, box, name=name, index=index, auth=auth)
                for index, name in enumerate(names, start=1)
            ]
            converge = run_site(inventories, work, label="converge", timeout=3600)
            runs: dict[str, dict[str, Any]] = {}
            for label, count in [(f"{n}", n) for n in COUNTS] + [("1-again", 1)]:
                mark = box.client.log_mark()
                done = run_site(
                    inventories[:count], work, sample_memory=True, sandbox_pid=box.pid, label=f"noop-{label}"
                )
                stats = box.tenant_stats(mark)
                runs[label] = {
                    "tenants": count,
                    "seconds": done.seconds,
                    "cpu_seconds": done.cpu_seconds,
                    "calls": stats["total"],
                    "mutating_calls": stats["mutating"],
                    "changed_tasks": changed_total(done),
                    **(done.memory or {}),
                }

    one = statistics.mean([runs["1"]["seconds"], runs["1-again"]["seconds"]])
    ratios = {f"{n}/1": round(runs[str(n)]["seconds"] / one, 2) for n in COUNTS if n > 1}
    ratio = runs[str(max(COUNTS))]["seconds"] / one
    one_cpu = statistics.mean([runs["1"]["cpu_seconds"], runs["1-again"]["cpu_seconds"]])
    cpu_ratios = {f"{n}/1": round(runs[str(n)]["cpu_seconds"] / one_cpu, 2) for n in COUNTS if n > 1}
    ten = runs[str(max(COUNTS))]
    summary = [
        {"figure": f"no-op wall, 1 {auth} tenant (s, mean of 2)", "value": round(one, 1)},
        *({"figure": f"no-op wall, {n} tenants (s)", "value": runs[str(n)]["seconds"]} for n in COUNTS if n > 1),
        {"figure": "10/1 wall", "value": round(ratio, 2), "target": f"<= {TARGET}", "met": ratio <= TARGET},
        {"figure": "10/1 CPU time", "value": cpu_ratios["10/1"]},
        {
            "figure": "peak RSS / PSS, ansible, 10 tenants (MiB)",
            "value": f"{ten['ansible_peak_rss_mib']} / {ten['ansible_peak_pss_mib']}",
        },
        {
            "figure": "peak RSS / PSS, ansible, 1 tenant (MiB)",
            "value": f"{runs['1']['ansible_peak_rss_mib']} / {runs['1']['ansible_peak_pss_mib']}",
        },
        {"figure": "peak RSS, sandbox, 10 tenants (MiB)", "value": ten["sandbox_peak_rss_mib"]},
    ]
    return {
        "summary": summary,
        "auth": auth,
        "one_tenant_seconds_mean": round(one, 3),
        "ratios": ratios,
        "cpu_ratios": cpu_ratios,
        "target": {"10/1": TARGET},
        "met": ratio <= TARGET,
        "runs": runs,
        "converge_all_seconds": converge.seconds,
        "converge_changed_tasks": changed_total(converge),
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "measured": (
            f"{max(COUNTS)} demo-like {auth} tenants converged together once on a fresh sandbox (SANDBOX_SAMBA=0, "
            f"time scale {TIME_SCALE}); then one site.yml no-op run each with 1, 5, 10 -i inventories and 1 again "
            "(reference = mean of the two 1-tenant runs); wall time of ansible-playbook; calls from the request "
            "log; CPU time (user+sys) of ansible-playbook and the processes it waited for; peak memory sampled "
            "from /proc every 0.2 s (RSS and PSS summed over ansible-playbook and its descendants, RSS of the "
            "sandbox server)"
        ),
        "reproduce": ".venv/bin/python -m bench --only tenants_parallel",
    }
