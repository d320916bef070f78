"""Two converges started together: on one tenant, one run waits for the other (or fails naming it) and the tenant
ends with exactly one of each resource, as a clean converge leaves it; on two tenants, neither waits.

The runs are two `ansible-playbook site.yml` processes started at the same moment, as two engineers (or a
Jenkins job and an engineer) would. Footprints are compared with the reference converge (footprint.py).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from sandbox.client import SandboxClient
from tests.helpers import ROOT, PlaybookRun
from tests.reliability import footprint
from tests.reliability.conftest import Converged
from tests.reliability.tenants import (
    REGION,
    assert_converged,
    demo_tenant,
    netbios_of,
    playbook_command,
    playbook_environment,
    write_demo_inventory,
)

pytestmark = pytest.mark.slow  # whole converges, two at a time


def together(commands: list[list[str]], outputs: list[Path], sandbox: SandboxClient) -> list[PlaybookRun]:
    """Start every command at once; wait for all; their results (their output files, not pipes)."""
    mark = sandbox.log_mark()
    handles = [output.open("w") for output in outputs]
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=playbook_environment(), stdout=handle, stderr=subprocess.STDOUT)
        for command, handle in zip(commands, handles, strict=True)
    ]
    codes = [process.wait(timeout=1800) for process in processes]
    for handle in handles:
        handle.close()
    return [
        PlaybookRun(code, output.read_text(), "", mark, sandbox) for code, output in zip(codes, outputs, strict=True)
    ]


def flat(run: PlaybookRun) -> str:
    return " ".join(run.stdout.split())


def run_ids_of_records(sandbox: SandboxClient, tenant: str) -> list[str]:
    s3 = sandbox.boto3("s3", REGION)
    bucket = f"tenant-toolkit-state-123456789012-{REGION}"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"history/{tenant}/").get("Contents", [])
    return [json.loads(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())["run_id"] for o in listed]


def test_two_runs_on_one_tenant_end_with_one_of_each_resource(
    reliability_sandbox: SandboxClient, reference: Converged, tmp_path: Path
) -> None:
    name = "rel-together"
    inventory = write_demo_inventory(tmp_path / name, demo_tenant(name), reliability_sandbox)
    first, second = together(
        [playbook_command("site.yml", [inventory])] * 2,
        [tmp_path / "one.log", tmp_path / "two.log"],
        reliability_sandbox,
    )
    runs = [first, second]
    # One run held the tenant from its lock on; the other waited for it (then found nothing to change), or,
    # had the wait run out, failed naming it. Never both at once.
    waited = [r for r in runs if "after waiting" in flat(r) or "is locked by run" in flat(r)]
    assert len(waited) == 1, [r.stdout[-3000:] for r in runs]
    (holder,) = [r for r in runs if r is not waited[0]]
    assert_converged(holder, name)
    holder_id = run_ids_of_records(reliability_sandbox, name)
    assert len(holder_id) == 1, holder_id  # only the run that changed the tenant left a record
    assert re.search(rf"(for|locked by) run {holder_id[0]}\b", flat(waited[0])), flat(waited[0])[-3000:]
    if waited[0].rc == 0:
        assert waited[0].recap[name]["changed"] == 0  # it came after: the tenant was already converged

    resources = footprint.collect(reliability_sandbox, REGION)
    assert footprint.difference(footprint.normalised(resources, name, netbios_of(name)), reference.normalised) == {}


def test_two_runs_on_two_tenants_both_proceed_without_waiting(
    reliability_sandbox: SandboxClient, reference: Converged, tmp_path: Path
) -> None:
    names = ["rel-apart-a", "rel-apart-b"]
    inventories = [write_demo_inventory(tmp_path / n, demo_tenant(n), reliability_sandbox) for n in names]
    # Distinct ranges: tenants of one account side by side.
    for index, (inventory, name) in enumerate(zip(inventories, names, strict=True)):
        tenant_file = inventory / "host_vars" / name / "tenant.yml"
        tenant_file.write_text(tenant_file.read_text().replace("10.40.0.0/16", f"10.{90 + index}.0.0/16"))
    runs = together(
        [playbook_command("site.yml", [inventory]) for inventory in inventories],
        [tmp_path / f"{n}.log" for n in names],
        reliability_sandbox,
    )
    resources = footprint.collect(reliability_sandbox, REGION)
    for run, name in zip(runs, names, strict=True):
        assert_converged(run, name)
        assert "after waiting" not in flat(run) and "is locked by" not in flat(run)
        assert footprint.counts(resources, name) == footprint.counts(reference.resources, reference.name)
