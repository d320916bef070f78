"""The toolkit state store on the sandbox: the account bootstrap, tenant locks, the run id, unlocking.

Locks are checked on the lock table itself (DynamoDB items) and on the request log; runs of "another
controller" are lock items written here the way a run on another host writes them.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state import lock, run, store

from sandbox.client import SandboxClient
from tests.conftest import TEST_TIME_SCALE
from tests.helpers import BIN, ROOT, PlaybookRun, demo_tenant, run_playbook, write_inventory
from tests.sandboxes import running_sandbox

REGION = "eu-west-3"
ACCOUNT = "123456789012"  # the sandbox's (moto's) account


def tenant_inventory(directory: Path, sandbox: SandboxClient, name: str, region: str = REGION) -> Path:
    tenant = demo_tenant()
    tenant.update(name=name, region=region)
    tenant["directory"]["fqdn"] = f"corp.{name}.example"
    return write_inventory(directory, tenant, sandbox)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def lock_playbook(directory: Path, tasks: list[dict[str, Any]] | None = None) -> Path:
    """validate.yml and lock.yml as every tenant-changing playbook imports them, then `tasks` on the tenants."""
    directory.mkdir(parents=True, exist_ok=True)
    group_vars = directory / "group_vars"
    if not group_vars.exists():
        group_vars.symlink_to(ROOT / "playbooks" / "group_vars")  # tenant_aws_environment, the catalogue
    plays: list[dict[str, Any]] = [
        {"name": "Validate", "ansible.builtin.import_playbook": str(ROOT / "playbooks" / "validate.yml")},
        {"name": "Lock", "ansible.builtin.import_playbook": str(ROOT / "playbooks" / "lock.yml")},
    ]
    if tasks:
        plays.append({"name": "Tasks under test", "hosts": "tenants", "gather_facts": False, "tasks": tasks})
    playbook = directory / "play.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    return playbook


def table(sandbox: SandboxClient, region: str = REGION) -> Any:
    return sandbox.boto3("dynamodb", region)


def held_by(sandbox: SandboxClient, tenant: str, region: str = REGION) -> lock.Holder | None:
    return lock.read(table(sandbox, region), store.TABLE_NAME, tenant)


def put_lock(sandbox: SandboxClient, tenant: str, expires_in: float, **overrides: Any) -> lock.Holder:
    """The lock item of another run (by default on another controller), as that run writes it."""
    values = {
        "run_id": run.new_run_id(),
        "operator": "bob",
        "caller_arn": f"arn:aws:iam::{ACCOUNT}:user/bob",
        "host": "other-controller",
        "pid": 31337,
        "process_start": "12345",
        "boot_id": "another-machine",
        "pid_namespace": "1",
        "started": "2026-12-06T09:00:00Z",
        "playbook": "site.yml",
        **overrides,
    }
    holder = lock.holder_from_params(values)
    now = time.time()
    item = lock.item_of(tenant, holder, now, 300)
    item["lease_expires"] = {"N": f"{now + expires_in:.3f}"}
    table(sandbox).put_item(TableName=store.TABLE_NAME, Item=item)
    holder.lease_expires = now + expires_in
    return holder


def ok(result: PlaybookRun) -> PlaybookRun:
    assert result.rc == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result


def said(result: PlaybookRun) -> str:
    """What the run printed, with the YAML result format's line wrapping undone."""
    return " ".join((result.stdout + result.stderr).split())


def lock_writes(result: PlaybookRun) -> list[str]:
    return [call["operation"] for call in result.bookkeeping() if call["mutating"]]


# -- the account bootstrap ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bare_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxClient]:
    """A sandbox whose account has not been bootstrapped (no state store anywhere)."""
    with running_sandbox(tmp_path_factory.mktemp("bare-sandbox"), TEST_TIME_SCALE, state_store=False) as client:
        yield client


def test_the_bootstrap_creates_the_state_store_once_and_then_only_reads(
    bare_sandbox: SandboxClient, tmp_path: Path
) -> None:
    sandbox, region = bare_sandbox, "ap-southeast-2"
    name = unique("boot")
    inventory = tenant_inventory(tmp_path / "inv", sandbox, name, region=region)
    plan = ok(run_playbook("playbooks/bootstrap.yml", inventory, sandbox, check=True))
    assert [c["operation"] for c in plan.client.log(plan.log_mark) if c["mutating"]] == []
    assert "create table tenant-toolkit-state" in said(plan)

    first = ok(run_playbook("playbooks/bootstrap.yml", inventory, sandbox))
    dynamodb, s3 = sandbox.boto3("dynamodb", region), sandbox.boto3("s3", region)
    described = dynamodb.describe_table(TableName=store.TABLE_NAME)["Table"]
    assert described["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    bucket = store.bucket_name(ACCOUNT, region)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == region
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    assert tags["toolkit:component"] == "state-store"
    assert "create table tenant-toolkit-state; create bucket" in said(first)

    again = ok(run_playbook("playbooks/bootstrap.yml", inventory, sandbox))
    assert again.recap[name]["changed"] == 0 and "(already in place)" in said(again)
    assert [c for c in again.client.log(again.log_mark) if c["mutating"]] == []


def test_without_a_state_store_a_converge_stops_before_any_change_and_says_how_to_bootstrap(
    bare_sandbox: SandboxClient, tmp_path: Path
) -> None:
    sandbox = bare_sandbox
    inventory = tenant_inventory(tmp_path / "inv", sandbox, unique("nostore"))
    result = run_playbook("playbooks/network.yml", inventory, sandbox)
    assert result.rc != 0
    assert "playbooks/bootstrap.yml" in said(result) and "no lock table" in said(result)
    assert result.stats()["mutating"] == 0


# -- taking and releasing --------------------------------------------------------------------------------
def test_a_run_takes_the_lock_before_its_first_change_and_releases_it_at_the_end(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    name = unique("lock")
    inventory = tenant_inventory(tmp_path / "inv", sandbox, name)
    result = ok(run_playbook("playbooks/network.yml", inventory, sandbox))
    everything = result.client.log(result.log_mark)
    operations = [f"{c['service']}:{c['operation']}" for c in everything if c["mutating"]]
    assert operations[0] == "dynamodb:PutItem", operations[:3]  # before CreateVpc
    assert operations[-1] == "dynamodb:DeleteItem"
    assert held_by(sandbox, name) is None


def test_a_run_of_several_stages_locks_each_tenant_once_and_its_later_lock_plays_match_no_host(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    """As site.yml does: every stage imports validate.yml and lock.yml; only the first import of each runs."""
    name = unique("lock")
    inventory = tenant_inventory(tmp_path / "inv", sandbox, name)
    composed = tmp_path / "play"
    composed.mkdir()
    (composed / "group_vars").symlink_to(ROOT / "group_vars")
    stage = str(ROOT / "playbooks" / "network.yml")
    (composed / "stages.yml").write_text(
        yaml.safe_dump([{"ansible.builtin.import_playbook": stage}, {"ansible.builtin.import_playbook": stage}]),
        encoding="utf-8",
    )
    result = ok(run_playbook(composed / "stages.yml", inventory, sandbox))
    plays = re.findall(r"PLAY \[Lock each tenant for this run\][^\n]*\n\n?([^\n]*)", result.stdout)
    assert len(plays) == 2 and plays[1] == "skipping: no hosts matched", result.stdout[-3000:]
    assert result.stdout.count("TASK [Ensure this run holds the tenant's lock") == 1
    everything = result.client.log(result.log_mark)
    acquired = [c for c in everything if c["mutating"] and c["operation"] == "PutItem"]
    assert len(acquired) == 1, acquired
    assert held_by(sandbox, name) is None


def test_a_failing_run_releases_its_lock_too(sandbox: SandboxClient, tmp_path: Path) -> None:
    name = unique("fail")
    inventory = tenant_inventory(tmp_path / "inv", sandbox, name)
    playbook = lock_playbook(
        tmp_path / "pb", [{"name": "Fail after the lock", "ansible.builtin.fail": {"msg": "boom"}}]
    )
    result = run_playbook(playbook, inventory, sandbox)
    assert result.rc == 2 and "boom" in said(result)
    assert lock_writes(result)[0] == "PutItem" and "DeleteItem" in lock_writes(result)
    assert held_by(sandbox, name) is None


def test_a_held_tenant_fails_the_run_naming_the_holder_and_another_tenant_proceeds(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    busy, free = unique("busy"), unique("free")
    other = put_lock(sandbox, busy, expires_in=300)
    inventories = [tenant_inventory(tmp_path / busy, sandbox, busy), tenant_inventory(tmp_path / free, sandbox, free)]
    playbook = lock_playbook(tmp_path / "pb", [{"name": "Record", "ansible.builtin.debug": {"msg": "locked"}}])
    result = run_playbook(playbook, inventories, sandbox, extra_vars={"tenant_lock_wait_timeout": 0})
    assert result.rc == 2
    assert result.recap[busy]["failed"] == 1 and result.recap[free]["failed"] == 0
    for detail in (other.run_id, "operator bob", "host other-controller pid 31337", "playbook site.yml", "unlock.yml"):
        assert detail in said(result), detail
    holder = held_by(sandbox, busy)
    assert holder is not None and holder.run_id == other.run_id  # never taken from a live run
    assert held_by(sandbox, free) is None  # taken, then released at the end


def start_playbook(
    playbook: Path, inventory: Path, output: Path, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """ansible-playbook in the background, its output in a file (a full pipe would stall it)."""
    environment = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", **(env or {})}
    with output.open("w") as handle:
        return subprocess.Popen(
            [str(BIN / "ansible-playbook"), str(playbook), "-i", str(inventory)],
            cwd=ROOT,
            env=environment,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until(condition: Any, what: str, attempts: int = 1200) -> Any:
    for _ in range(attempts):
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def test_a_run_waits_for_the_holder_printing_who_it_is_then_takes_the_lock(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    name = unique("wait")
    other = put_lock(sandbox, name, expires_in=300)
    inventory = tenant_inventory(tmp_path / "inv", sandbox, name)
    mark = sandbox.log_mark()
    output = tmp_path / "run.log"
    # Progress lines as soon as there is something to say (30 s apart by default).
    process = start_playbook(lock_playbook(tmp_path / "pb"), inventory, output, env={"TENANT_PROGRESS_INTERVAL": "0"})

    def refused() -> bool:
        return any(
            c["operation"] == "PutItem" and c["error"] == "ConditionalCheckFailedException" for c in sandbox.log(mark)
        )

    wait_until(refused, "the run's attempt on the held lock")
    wait_until(lambda: "held by run" in output.read_text(), "a progress line naming the holder")
    table(sandbox).delete_item(
        TableName=store.TABLE_NAME, Key={"pk": {"S": store.lock_key(name)}}
    )  # the other run ends
    assert process.wait(timeout=300) == 0, output.read_text()[-3000:]
    text = " ".join(output.read_text().split())
    assert f"[{name}] lock of tenant {name}: held by run {other.run_id} (operator bob" in text
    assert "after waiting" in text and f"for run {other.run_id}" in text
    assert held_by(sandbox, name) is None


def test_the_lock_of_a_killed_run_on_this_controller_is_taken_over_at_once(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    name = unique("killed")
    inventory = tenant_inventory(tmp_path / "inv", sandbox, name)
    playbook = lock_playbook(tmp_path / "pb", [{"name": "Take a while", "ansible.builtin.pause": {"seconds": 120}}])
    process = start_playbook(playbook, inventory, tmp_path / "killed.log")
    try:
        holder = wait_until(lambda: held_by(sandbox, name), "the first run taking the lock")
        assert holder.pid == process.pid and holder.host == socket.gethostname()
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # as a lost CI runner or kill -9: no release
        process.wait()
    assert held_by(sandbox, name).run_id == holder.run_id  # SIGKILL left it behind

    result = ok(
        run_playbook(lock_playbook(tmp_path / "pb2"), inventory, sandbox, extra_vars={"tenant_lock_wait_timeout": 0})
    )
    assert "took over the lock" in said(result) and holder.run_id in said(result)
    assert held_by(sandbox, name) is None


def test_a_long_run_renews_its_lease(sandbox: SandboxClient, tmp_path: Path) -> None:
    name = unique("renew")
    inventory = tenant_inventory(tmp_path / "inv", sandbox, name)
    playbook = lock_playbook(tmp_path / "pb", [{"name": "Last 12 s", "ansible.builtin.pause": {"seconds": 12}}])
    result = ok(run_playbook(playbook, inventory, sandbox, extra_vars={"tenant_lock_lease_seconds": 30}))
    assert "UpdateItem" in lock_writes(result)  # every 10 s (a third of the lease)
    assert held_by(sandbox, name) is None


def test_check_mode_takes_no_lock_and_warns_when_the_tenant_is_locked(sandbox: SandboxClient, tmp_path: Path) -> None:
    name = unique("check")
    other = put_lock(sandbox, name, expires_in=300)
    inventory = tenant_inventory(tmp_path / "inv", sandbox, name)
    result = ok(run_playbook("playbooks/network.yml", inventory, sandbox, check=True, diff=True))
    assert "[WARNING]" in said(result)
    assert f"is locked by run {other.run_id}" in said(result)
    assert lock_writes(result) == [] and result.stats()["mutating"] == 0
    assert held_by(sandbox, name).run_id == other.run_id


def test_validating_alone_takes_no_lock(sandbox: SandboxClient, tmp_path: Path) -> None:
    inventory = tenant_inventory(tmp_path / "inv", sandbox, unique("valid"))
    result = ok(run_playbook("site.yml", inventory, sandbox, args=["--tags", "validate"]))
    assert result.bookkeeping() == []


# -- the run id --------------------------------------------------------------------------------------------
def show_run_id(tmp_path: Path, sandbox: SandboxClient, **kwargs: Any) -> PlaybookRun:
    inventory = tenant_inventory(tmp_path / "inv", sandbox, unique("runid"))
    playbook = tmp_path / "show.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Show the run id on every fork",
                    "hosts": "tenants,localhost",
                    "gather_facts": False,
                    "tasks": [{"ansible.builtin.debug": {"msg": "RUN {{ lookup('iconeus.tenant_toolkit.run_id') }}"}}],
                }
            ]
        )
    )
    return run_playbook(playbook, [inventory, Path("localhost,")], **kwargs)


def test_every_fork_of_a_run_shares_one_run_id_that_nothing_outside_can_choose(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    forced = "r-000000000000"
    first = show_run_id(
        tmp_path, sandbox, extra_vars={"run_id": forced}, env={run.RUN_ID_ENV: forced, run.RUN_PID_ENV: "1"}
    )
    second = show_run_id(tmp_path, sandbox)
    ids = [
        {line.split("RUN ")[1].strip('" ') for line in r.stdout.splitlines() if "RUN r-" in line}
        for r in (first, second)
    ]
    assert all(len(found) == 1 for found in ids), ids  # the tenant host and localhost: one id
    assert ids[0] != ids[1] and forced not in ids[0] | ids[1]


def test_the_run_id_lookup_fails_without_the_callback(sandbox: SandboxClient, tmp_path: Path) -> None:
    result = show_run_id(
        tmp_path,
        sandbox,
        env={"ANSIBLE_CALLBACKS_ENABLED": "iconeus.tenant_toolkit.tenant_progress", run.RUN_ID_ENV: ""},
    )
    assert result.rc != 0 and "tenant_state callback is not enabled" in said(result)


# -- unlock.yml ----------------------------------------------------------------------------------------------
def unlock(tmp_path: Path, sandbox: SandboxClient, name: str, run_id: str | None, **kwargs: Any) -> PlaybookRun:
    inventory = tenant_inventory(tmp_path / f"inv-{uuid.uuid4().hex[:4]}", sandbox, name)
    extra = {"force_unlock": run_id} if run_id is not None else {}
    return run_playbook("playbooks/ops/unlock.yml", inventory, sandbox, extra_vars=extra, **kwargs)


def test_unlock_refuses_the_lock_of_a_live_run_naming_it(sandbox: SandboxClient, tmp_path: Path) -> None:
    name = unique("live")
    other = put_lock(sandbox, name, expires_in=300)
    result = unlock(tmp_path, sandbox, name, other.run_id)
    assert result.rc == 2
    assert "refusing to remove" in said(result) and other.run_id in said(result) and "other-controller" in said(result)
    assert held_by(sandbox, name).run_id == other.run_id


def test_unlock_removes_an_expired_lock_and_check_mode_only_says_so(sandbox: SandboxClient, tmp_path: Path) -> None:
    name = unique("expired")
    other = put_lock(sandbox, name, expires_in=-30)
    planned = ok(unlock(tmp_path, sandbox, name, other.run_id, check=True))
    assert "would remove the lock" in said(planned) and lock_writes(planned) == []
    assert held_by(sandbox, name) is not None
    done = ok(unlock(tmp_path, sandbox, name, other.run_id))
    assert "lease expired" in said(done) and lock_writes(done) == ["DeleteItem"]
    assert held_by(sandbox, name) is None


def test_unlock_removes_the_lock_of_a_dead_process_on_this_controller(sandbox: SandboxClient, tmp_path: Path) -> None:
    name = unique("dead")
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that no longer runs
    here = run.local_identity()
    other = put_lock(
        sandbox,
        name,
        expires_in=300,
        host=here["host"],
        boot_id=here["boot_id"],
        pid_namespace=here["pid_namespace"],
        pid=dead.pid,
        process_start="1",
    )
    done = ok(unlock(tmp_path, sandbox, name, other.run_id))
    assert "no longer exists" in said(done)
    assert held_by(sandbox, name) is None


def test_unlock_leaves_another_run_s_lock_alone(sandbox: SandboxClient, tmp_path: Path) -> None:
    name = unique("others")
    other = put_lock(sandbox, name, expires_in=-30)
    done = ok(unlock(tmp_path, sandbox, name, run.new_run_id()))
    assert "nothing removed" in said(done) and lock_writes(done) == []
    assert held_by(sandbox, name).run_id == other.run_id


@pytest.mark.parametrize("value", [None, "r-123", "$(reboot)"])
def test_unlock_checks_its_variable_before_any_aws_call(
    sandbox: SandboxClient, tmp_path: Path, value: str | None
) -> None:
    result = unlock(tmp_path, sandbox, unique("badvar"), value)
    assert result.rc != 0 and "force_unlock" in said(result)
    assert result.client.log(result.log_mark) == []


def test_the_lock_item_records_who_holds_it(sandbox: SandboxClient, tmp_path: Path) -> None:
    name = unique("who")
    inventory = tenant_inventory(tmp_path / "inv", sandbox, name)
    seen = tmp_path / "seen.json"
    playbook = lock_playbook(
        tmp_path / "pb",
        [
            {
                "name": "Read the lock while it is held",
                "iconeus.tenant_toolkit.tenant_lock": {"tenant": name, "state": "inspected"},
                "environment": "{{ tenant_aws_environment }}",
                "register": "seen",
            },
            {
                "name": "Keep it",
                "ansible.builtin.copy": {"content": "{{ seen.holder | to_json }}", "dest": str(seen), "mode": "0600"},
            },
        ],
    )
    ok(run_playbook(playbook, inventory, sandbox))
    holder = json.loads(seen.read_text())
    assert run.is_run_id(holder["run_id"])
    assert holder["host"] == socket.gethostname() and holder["operator"]
    assert holder["playbook"].endswith("play.yml") and holder["started"].endswith("Z")
    assert holder["pid"] > 0 and holder["lease_expires"] > time.time()


def test_a_tenant_lock_given_from_outside_never_stands_for_this_run_s(sandbox: SandboxClient, tmp_path: Path) -> None:
    """-e tenant_lock=... (or a host variable of that name) does not skip the lock: the run still takes it."""
    name = unique("forged")
    other = put_lock(sandbox, name, expires_in=300)
    inventory = tenant_inventory(tmp_path / "inv", sandbox, name)
    forged = {"tenant_lock": {"run_id": "r-0123456789ab", "held": True}, "tenant_lock_wait_timeout": 0}
    result = run_playbook(lock_playbook(tmp_path / "pb"), inventory, sandbox, extra_vars=forged)
    # Refused: by validate.yml, which refuses a pre-set tenant_lock before any call (test_validation_gate.py),
    # or else by the lock itself, held by the other run. Never skipped.
    assert result.rc == 2 and ("tenant_lock" in said(result) or other.run_id in said(result))
    assert "Playbook run took" in said(result) and result.recap[name]["failed"] == 1
    assert held_by(sandbox, name).run_id == other.run_id


def test_the_lock_variables_are_checked_before_any_call(sandbox: SandboxClient, tmp_path: Path) -> None:
    inventory = tenant_inventory(tmp_path / "inv", sandbox, unique("lockvars"))
    bad = {"tenant_lock_wait_timeout": "5m", "tenant_lock_lease_seconds": 10}
    result = run_playbook(lock_playbook(tmp_path / "pb"), inventory, sandbox, extra_vars=bad)
    assert result.rc == 2
    assert "tenant_lock_wait_timeout: " in said(result) and "tenant_lock_lease_seconds: " in said(result)
    assert result.bookkeeping() == [] and result.calls() == []


def test_a_run_cannot_release_another_run_s_live_lock_by_naming_it(sandbox: SandboxClient, tmp_path: Path) -> None:
    name = unique("spoof")
    other = put_lock(sandbox, name, expires_in=300)
    inventory = tenant_inventory(tmp_path / "inv", sandbox, name)
    release = {
        "name": "Release another run's lock by its id",
        "iconeus.tenant_toolkit.tenant_lock": {"tenant": name, "state": "released", "run_id": other.run_id},
    }
    plays = [
        {"name": "Validate", "ansible.builtin.import_playbook": str(ROOT / "playbooks" / "validate.yml")},
        {
            "name": "Spoof",
            "hosts": "tenants",
            "gather_facts": False,
            "environment": "{{ tenant_aws_environment }}",
            "tasks": [release],
        },
    ]
    playbook = tmp_path / "pb" / "play.yml"
    playbook.parent.mkdir(parents=True)
    (playbook.parent / "group_vars").symlink_to(ROOT / "playbooks" / "group_vars")
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    result = run_playbook(playbook, inventory, sandbox)
    assert result.rc == 2
    assert f"run_id: {other.run_id} is not this run's id" in said(result)
    assert held_by(sandbox, name).run_id == other.run_id
