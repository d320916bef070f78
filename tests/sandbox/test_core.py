"""The sandbox endpoint itself: routing, model validation, request log, faults, admin API, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from sandbox.client import SandboxClient

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_one_endpoint_serves_moto_and_appstream(sandbox):
    mark = sandbox.log_mark()
    assert sandbox.boto3("sts").get_caller_identity()["Account"] == "123456789012"
    sandbox.boto3("appstream").describe_stacks()
    services = {e["service"] for e in sandbox.log(mark)}
    assert {"sts", "appstream"} <= services


def test_constraint_violations_answer_validation_exception(sandbox):
    with pytest.raises(ClientError) as caught:
        sandbox.boto3("appstream").create_stack(Name="-not-a-valid-name")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "regular expression pattern" in caught.value.response["Error"]["Message"]


def test_unimplemented_operation_names_itself(sandbox):
    with pytest.raises(ClientError) as caught:
        sandbox.boto3("appstream").describe_entitlements(StackName="s")
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidAction"
    assert "DescribeEntitlements" in error["Message"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_request_log_records_each_call_with_its_tenant(sandbox):
    mark = sandbox.log_mark()
    ec2 = sandbox.boto3("ec2")
    ec2.create_vpc(
        CidrBlock="10.91.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "tenant", "Value": "logtest"}]}],
    )
    ec2.describe_vpcs()
    entries = sandbox.log(mark)
    create = next(e for e in entries if e["operation"] == "CreateVpc")
    assert create["service"] == "ec2" and create["status"] == 200 and create["mutating"] is True
    assert create["tenant"] == "logtest" and create["region"] == "eu-west-3"
    assert {"time", "duration_ms", "error", "seq"} <= create.keys()
    describe = next(e for e in entries if e["operation"] == "DescribeVpcs")
    assert describe["mutating"] is False
    stats = sandbox.stats(mark)
    assert stats["mutating_operations"] == ["ec2:CreateVpc"]
    assert stats["by_operation"]["ec2:DescribeVpcs"] == 1


def test_request_log_never_holds_a_secret(sandbox):
    secret = "S3cr3t-Value-" + str(time.time_ns())
    sandbox.boto3("secretsmanager").create_secret(Name=f"logtest/{time.time_ns()}", SecretString=secret)
    log_file = sandbox.state_dir / "requests.jsonl"
    assert log_file.exists()
    content = log_file.read_text()
    assert "CreateSecret" in content
    assert secret not in content


def test_errors_are_logged_with_their_code(sandbox):
    mark = sandbox.log_mark()
    with pytest.raises(ClientError):
        sandbox.boto3("ec2").describe_vpcs(VpcIds=["vpc-00000000000000000"])
    entry = sandbox.log(mark)[-1]
    assert entry["status"] >= 400 and entry["error"] == "InvalidVpcID.NotFound"


def test_injected_throttling_is_retried_by_botocore(sandbox):
    mark = sandbox.log_mark()
    sandbox.add_fault(service="ec2", operation="DescribeAvailabilityZones", throttle_rate=0.3, seed=1)
    try:
        for _ in range(4):
            sandbox.boto3("ec2").describe_availability_zones()
    finally:
        sandbox.clear_faults()
    stats = sandbox.stats(mark)
    assert stats["injected"] >= 1
    assert stats["by_operation"]["ec2:DescribeAvailabilityZones"] > 4


def test_injected_server_errors_surface_after_retries(sandbox):
    sandbox.add_fault(service="appstream", operation="DescribeFleets", error_rate=1.0)
    try:
        with pytest.raises(ClientError) as caught:
            sandbox.boto3("appstream").describe_fleets()
    finally:
        sandbox.clear_faults()
    assert caught.value.response["Error"]["Code"] == "InternalServerError"


def test_injected_latency_delays_answers(sandbox):
    sandbox.add_fault(service="sts", latency_ms=300)
    try:
        began = time.monotonic()
        sandbox.boto3("sts").get_caller_identity()
        delayed = time.monotonic() - began
    finally:
        sandbox.clear_faults()
    assert delayed >= 0.3


def test_admin_time_scale_round_trip(sandbox, time_scale):
    time_scale(0.5)
    assert sandbox.health()["time_scale"] == 0.5
    with pytest.raises(RuntimeError, match="positive"):
        sandbox.set_time_scale(0)


def test_admin_rejects_unknown_routes(sandbox):
    with pytest.raises(RuntimeError, match="404"):
        sandbox.call("POST", "appstream/no-such-hook", {})


def test_admin_rejects_bad_fault_rules(sandbox):
    with pytest.raises(RuntimeError, match="400"):
        sandbox.add_fault(service="ec2", throttle_rate=3)


def test_cli_start_stop_status_and_reset(tmp_path):
    from tests.sandboxes import free_port

    port = free_port()
    base = [sys.executable, "-m", "sandbox"]
    common = ["--port", str(port), "--state-dir", str(tmp_path)]
    began = time.monotonic()
    started = subprocess.run(
        [*base, "start", *common, "--time-scale", "0.01"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    startup = time.monotonic() - began
    try:
        assert "running" in started.stdout
        client = SandboxClient(port=port, state_dir=tmp_path)
        again = subprocess.run([*base, "start", *common], cwd=ROOT, capture_output=True, text=True, check=True)
        assert "already running" in again.stdout
        status = subprocess.run([*base, "status", *common], cwd=ROOT, capture_output=True, text=True, check=True)
        assert json.loads(status.stdout)["time_scale"] == 0.01
        ec2 = client.boto3("ec2")
        vpc_id = ec2.create_vpc(CidrBlock="10.92.0.0/16")["Vpc"]["VpcId"]
        subprocess.run([*base, "reset", *common], cwd=ROOT, capture_output=True, check=True)
        assert vpc_id not in {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    finally:
        subprocess.run([*base, "stop", *common], cwd=ROOT, capture_output=True, check=True)
    assert not SandboxClient(port=port, state_dir=tmp_path).healthy()
    down = subprocess.run([*base, "status", *common], cwd=ROOT, capture_output=True, text=True)
    assert down.returncode == 1
    # Not a timing assertion on the machine's speed: a start that waited for its whole
    # 30 s timeout would mean the readiness check is broken.
    assert startup < 30


def test_health_lists_the_project_services(sandbox):
    request = urllib.request.Request(
        f"{sandbox.endpoint}/_sandbox/health", headers={"X-Sandbox-Token": sandbox.admin_token()}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        health = json.loads(response.read())
    assert health["status"] == "ok"
    assert {"appstream", "ds", "fsx"} <= set(health["services"])


def test_a_time_scale_change_counts_the_calendar_s_past_seconds_at_the_old_scale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AppStream's usage calendar: ten wall seconds at scale 1 are ten modelled seconds, even when the scale is
    changed to 0.001 before the calendar is next read (then one wall second is a thousand modelled ones)."""
    import datetime
    from types import SimpleNamespace

    from sandbox.backends.appstream import usage
    from sandbox.server import SandboxApp

    wall = [1_000.0]
    monkeypatch.setattr(usage, "time", SimpleNamespace(time=lambda: wall[0]))
    app = SandboxApp(tmp_path / "state", time_scale=1.0)
    appstream = app.services["appstream"]
    start = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
    appstream.set_modelled_now(start)
    wall[0] += 10.0
    app.set_time_scale(0.001)
    wall[0] += 1.0
    assert appstream.modelled_now() == start + datetime.timedelta(seconds=10 + 1_000)

    # A calendar not started yet is not started by a scale change (it starts when first read, at the then scale).
    appstream.reset()
    app.set_time_scale(1.0)
    assert "_calendar" not in appstream.__dict__
