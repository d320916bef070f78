"""A converge killed with SIGKILL at any point is finished by the next run: no duplicate, no orphan.

For each kill point a fresh copy of the demo tenant starts `ansible-playbook site.yml`; the test follows
the sandbox's request log file and, as soon as the run's Nth successful call of one operation is logged
(the first CreateVpc, CreateSecret, CreateMicrosoftAD, ...), kills the playbook and every process
below it (the module in flight included), as `kill -9` of the controller or a lost CI runner would.
The kill points cover every stage, from the network to the guardrails.

Then one run converges all the interrupted tenants together (`-i a -i b ...`). Each must converge, its
resources must equal those of the clean reference run (same kinds, counts, names, states, tags), its
directory must use the Admin password kept in Secrets Manager (a password generated before the kill is
reused, not replaced), and nothing created meanwhile may be left without an owner.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sandbox.client import SandboxClient
from tests.helpers import ROOT, PlaybookRun, run_playbook
from tests.reliability import footprint
from tests.reliability.conftest import Converged
from tests.reliability.tenants import (
    REGION,
    demo_tenant,
    kill_tree,
    netbios_of,
    playbook_command,
    playbook_environment,
    write_demo_inventory,
)

pytestmark = pytest.mark.slow

KILL_TIMEOUT = 600.0


@dataclass(frozen=True)
class KillPoint:
    id: str
    service: str
    operation: str
    occurrence: int = 1  # the Nth successful call of the operation in the run

    @property
    def tenant(self) -> str:
        return f"kill-{self.id}"


KILL_POINTS = [
    KillPoint("vpc", "ec2", "CreateVpc"),
    KillPoint("admin-secret", "secretsmanager", "CreateSecret"),
    KillPoint("directory", "ds", "CreateMicrosoftAD"),
    KillPoint("file-system", "fsx", "CreateFileSystem"),
    KillPoint("builder", "appstream", "CreateImageBuilder"),
    # The first successful DescribeImages follows the create-image hook: the builder is snapshotting.
    KillPoint("snapshot", "appstream", "DescribeImages"),
    KillPoint("fleet", "appstream", "CreateFleet"),
    KillPoint("stack", "appstream", "CreateStack"),
    KillPoint("saml-role", "iam", "CreateRole"),
    KillPoint("budget", "budgets", "CreateBudget"),
]


@dataclass
class Interruption:
    point: KillPoint
    inventory: Path
    killed: bool = False
    mutating_calls: list[str] = field(default_factory=list)  # what the killed run did, in order
    output_tail: str = ""


@dataclass
class Recovery:
    interruptions: dict[str, Interruption]
    rerun: PlaybookRun
    resources: list[footprint.Resource]
    orphans: list[footprint.Resource]
    # Per tenant: whether its directory's Admin password is the one kept in <tenant>/directory/admin.
    admin_password_kept: dict[str, bool]


class RequestLogFollower:
    """Reads the sandbox's request log file as it grows (cheaper than polling the admin API)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0
        self.partial = b""

    def new_entries(self) -> Iterator[dict[str, Any]]:
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            chunk = handle.read()
        self.offset += len(chunk)
        lines = (self.partial + chunk).split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            if line.strip():
                yield json.loads(line)


def interrupt(point: KillPoint, inventory: Path, sandbox: SandboxClient) -> Interruption:
    """Run site.yml until the kill point's call is logged, then SIGKILL the whole process tree."""
    result = Interruption(point, inventory)
    follower = RequestLogFollower(Path(sandbox.state_dir) / "requests.jsonl")  # type: ignore[attr-defined]
    output = inventory / "killed-run.log"  # a file, not a pipe: a full pipe would stall the run
    with output.open("wb") as sink:
        process = subprocess.Popen(
            playbook_command("site.yml", [inventory]),
            cwd=ROOT,
            env=playbook_environment(),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    seen = 0
    deadline = time.monotonic() + KILL_TIMEOUT
    try:
        while not result.killed and process.poll() is None and time.monotonic() < deadline:
            for entry in follower.new_entries():
                if entry["mutating"] and not entry.get("injected") and entry["status"] < 400:
                    result.mutating_calls.append(f"{entry['service']}:{entry['operation']}")
                if (
                    (entry["service"], entry["operation"]) == (point.service, point.operation)
                    and entry["status"] < 400
                    and not entry.get("injected")
                ):
                    seen += 1
                    if seen == point.occurrence:
                        kill_tree(process.pid)
                        result.killed = True
                        break
            time.sleep(0.005)
    finally:
        if process.poll() is None and not result.killed:
            kill_tree(process.pid)
        process.wait(timeout=60)
    result.output_tail = output.read_text(errors="replace")[-3000:]
    return result


@pytest.fixture(scope="module")
def recovery(reliability_sandbox: SandboxClient, tmp_path_factory: pytest.TempPathFactory) -> Recovery:
    """Every kill point interrupted in turn, then one run converging all of them."""
    known = {(r.kind, r.id) for r in footprint.collect(reliability_sandbox, REGION)}
    interruptions = {}
    for point in KILL_POINTS:
        inventory = write_demo_inventory(
            tmp_path_factory.mktemp(point.tenant), demo_tenant(point.tenant), reliability_sandbox
        )
        interruptions[point.id] = interrupt(point, inventory, reliability_sandbox)
    inventories = [i.inventory for i in interruptions.values() if i.killed]
    rerun = run_playbook("site.yml", inventories, reliability_sandbox, timeout=1800)
    resources = footprint.collect(reliability_sandbox, REGION)
    kept = {point.tenant: _admin_password_kept(reliability_sandbox, resources, point.tenant) for point in KILL_POINTS}
    return Recovery(interruptions, rerun, resources, footprint.unattributed(resources, known), kept)


def _admin_password_kept(sandbox: SandboxClient, resources: list[footprint.Resource], tenant: str) -> bool:
    """Whether the tenant's directory was created with the password its secret holds (not a later one)."""
    directories = [r.id for r in resources if r.kind == "directory" and r.owner == tenant]
    if len(directories) != 1:
        return False
    secret = sandbox.boto3("secretsmanager", REGION).get_secret_value(SecretId=f"{tenant}/directory/admin")
    password = json.loads(secret["SecretString"])["password"]
    return sandbox.hook("ds", "check-password", region=REGION, directory_id=directories[0], password=password)[
        "matches"
    ]


@pytest.mark.parametrize("point", KILL_POINTS, ids=[p.id for p in KILL_POINTS])
def test_a_rerun_after_a_kill_converges_to_the_clean_end_state(
    point: KillPoint, recovery: Recovery, reference: Converged
) -> None:
    interruption = recovery.interruptions[point.id]
    assert interruption.killed, (
        f"the run ended before {point.operation} #{point.occurrence}:\n{interruption.output_tail}"
    )
    counters = recovery.rerun.recap.get(point.tenant)
    assert counters is not None and counters["failed"] == 0, _host_output(recovery.rerun, point.tenant)

    actual = footprint.normalised(recovery.resources, point.tenant, netbios_of(point.tenant))
    difference = footprint.difference(actual, reference.normalised)
    assert difference == {}, (
        f"killed after {interruption.mutating_calls[-5:]}; re-run differs from the clean run:\n"
        + json.dumps(difference, indent=1)
    )


@pytest.mark.parametrize("point", KILL_POINTS, ids=[p.id for p in KILL_POINTS])
def test_the_directory_keeps_the_admin_password_stored_before_the_kill(point: KillPoint, recovery: Recovery) -> None:
    assert recovery.admin_password_kept[point.tenant]


def test_no_interrupted_run_leaves_an_orphan(recovery: Recovery) -> None:
    assert recovery.orphans == []


def test_the_kill_points_span_every_stage() -> None:
    services = {point.service for point in KILL_POINTS}
    assert services >= {"ec2", "secretsmanager", "ds", "fsx", "appstream", "iam", "budgets"}
    assert len(KILL_POINTS) >= 10


def _host_output(run: PlaybookRun, host: str) -> str:
    """The failures of one host with some context (the whole re-run output is too long to read)."""
    lines = run.stdout.splitlines()
    failed = [index for index, line in enumerate(lines) if line.startswith((f"fatal: [{host}]", f"failed: [{host}]"))]
    context = [line for index in failed for line in lines[max(index - 3, 0) : index + 25]]
    return "\n".join(context) or f"{host} is not in the recap:\n" + "\n".join(lines[-40:])
