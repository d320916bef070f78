"""Network no-op: the aws_network role (one tenant_network task) against the amazon.aws chain.

Both build the same network (VPC, 2 public + 2 private subnets, internet gateway, one NAT
gateway, public and private route tables, S3 gateway endpoint, three security groups with
the same rules) on one fresh sandbox, then converge it again with nothing to do. The no-op
runs alternate between the two so that machine noise hits both alike. Measured: API calls
from the sandbox's request log (total, by operation, mutating) and the wall time of the
whole `ansible-playbook` process, which both pay the same interpreter start-up.

Design.md section 8 targets (raised on 2026-12-06): the role's no-op at the floor of one read per kind
of network resource (every Describe operation once; DescribeVpcAttribute once per attribute, as the
API answers one attribute per call) and at most 1/8 of the chain's wall time. The earlier call target
(at most 1/3 of the chain's calls) is still reported.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REGION = "eu-west-3"
ZONES = ["eu-west-3a", "eu-west-3b"]
CASES = {
    "aws_network": ("bench/playbooks/network_role.yml", "bench-role", "10.60.0.0/16"),
    "amazon_aws_chain": ("bench/playbooks/network_chain.yml", "bench-chain", "10.61.0.0/16"),
}
CALL_TARGET = 1 / 3
TIME_TARGET = 1 / 8
# DescribeVpcAttribute answers one attribute per call: enableDnsSupport and enableDnsHostnames.
PER_KIND_ALLOWANCE = {"DescribeVpcAttribute": 2}

sys.path.insert(0, str(ROOT))

from sandbox.client import SandboxClient  # noqa: E402


def layout(cidr: str) -> list[dict[str, str]]:
    """The subnets tenant_network derives, so that the chain builds exactly the same network."""
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    # The repository is the collection iconeus.tenant_toolkit (collections/ links it): import by FQCN.
    _AnsibleCollectionFinder(paths=[str(ROOT / "collections")])._install()
    from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.layout import derive_subnet_layout

    derived = derive_subnet_layout(cidr, len(ZONES))
    return [{"role": "public", "cidr": c, "az": z} for c, z in zip(derived.public, ZONES, strict=True)] + [
        {"role": "private", "cidr": c, "az": z} for c, z in zip(derived.private, ZONES, strict=True)
    ]


def changed_tasks(stdout: str) -> int:
    match = re.search(r"^localhost\s+:.*\bchanged=(\d+)", stdout, re.MULTILINE)
    return int(match.group(1)) if match else -1


def reads_above_floor(by_operation: dict[str, int]) -> dict[str, int]:
    """The operations the no-op calls more often than once per kind of resource (the floor)."""
    extra = {}
    for name, count in by_operation.items():
        allowed = PER_KIND_ALLOWANCE.get(name.split(":", 1)[-1], 1)
        if count > allowed:
            extra[name] = count - allowed
    return extra


def run_once(client: SandboxClient, case: str, environment: dict[str, str]) -> dict[str, Any]:
    playbook, tenant, cidr = CASES[case]
    extra = (
        f'{{"bench_tenant": "{tenant}", "bench_cidr": "{cidr}", "bench_region": "{REGION}", '
        f'"bench_zones": {list(ZONES)!r}, "bench_subnets": {layout(cidr)!r}}}'
    ).replace("'", '"')
    command = [str(BIN / "ansible-playbook"), playbook, "-i", "localhost,", "-e", extra]
    mark = client.log_mark()
    began = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"{playbook} failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    stats = client.stats(mark)
    return {
        "seconds": round(seconds, 3),
        "calls": stats["total"],
        "mutating": stats["mutating"],
        "by_operation": dict(sorted(stats["by_operation"].items())),
        "changed_tasks": changed_tasks(done.stdout),
    }


def run(port: int, repeats: int = 5) -> dict[str, Any]:
    """Start a sandbox on `port`, build both networks, measure `repeats` no-op runs of each."""
    with tempfile.TemporaryDirectory() as state:
        common = ["--port", str(port), "--state-dir", state]
        subprocess.run([sys.executable, "-m", "sandbox", "start", *common], cwd=ROOT, check=True, capture_output=True)
        try:
            client = SandboxClient(port=port, region=REGION, state_dir=state)
            environment = {
                **os.environ,
                "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
                "AWS_ENDPOINT_URL": client.endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
            }
            created = {case: run_once(client, case, environment) for case in CASES}
            noop: dict[str, list[dict[str, Any]]] = {case: [] for case in CASES}
            for _ in range(repeats):
                for case in CASES:
                    noop[case].append(run_once(client, case, environment))
        finally:
            subprocess.run([sys.executable, "-m", "sandbox", "stop", *common], cwd=ROOT, capture_output=True)

    summary: dict[str, Any] = {}
    for case, runs in noop.items():
        summary[case] = {
            "noop_calls": runs[-1]["calls"],
            "noop_mutating_calls": runs[-1]["mutating"],
            "noop_changed_tasks": runs[-1]["changed_tasks"],
            "noop_seconds_median": round(statistics.median(r["seconds"] for r in runs), 3),
            "noop_seconds_min": round(min(r["seconds"] for r in runs), 3),
            "noop_seconds": [r["seconds"] for r in runs],
            "noop_by_operation": runs[-1]["by_operation"],
            "create_calls": created[case]["calls"],
            "create_seconds": created[case]["seconds"],
        }
    role, chain = summary["aws_network"], summary["amazon_aws_chain"]
    calls_ratio = role["noop_calls"] / chain["noop_calls"]
    time_ratio = role["noop_seconds_median"] / chain["noop_seconds_median"]
    above_floor = reads_above_floor(role["noop_by_operation"])
    return {
        **summary,
        # The median is what the target is checked on; the ratio of the fastest runs is given beside it: on a
        # shared machine a short playbook's median carries the load of the moment, its fastest run less so.
        "ratios": {
            "calls": round(calls_ratio, 3),
            "seconds": round(time_ratio, 3),
            "seconds_fastest": round(role["noop_seconds_min"] / chain["noop_seconds_min"], 3),
        },
        "floor": {"kinds_read": len(role["noop_by_operation"]), "reads_above_floor": above_floor},
        "targets": {"calls": round(CALL_TARGET, 3), "seconds": TIME_TARGET, "reads_above_floor": 0},
        "met": {
            "calls": calls_ratio <= CALL_TARGET,
            "seconds": time_ratio <= TIME_TARGET,
            "floor": not above_floor,
        },
        "measured": (
            f"one fresh sandbox; each network created once, then {repeats} alternating no-op runs of each "
            "playbook; calls from the request log, time is the wall time of ansible-playbook (median; the "
            "ratio of the fastest runs beside it)"
        ),
        "reproduce": ".venv/bin/python -m bench --only network_vs_chain",
    }
