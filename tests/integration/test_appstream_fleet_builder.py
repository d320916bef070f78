"""appstream_fleet, appstream_image_builder, appstream_image(_info), appstream_directory_config and
the builder/fleet/directory roles against the sandbox.

Each test uses its own names (the sandbox is shared by the session). Module results are read from
the JSON stdout callback; the resulting state is read back with boto3 and the calls are counted in
the sandbox's request log.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.client import SandboxClient
from tests.helpers import ROOT, PlaybookRun, demo_tenant, load_plugin, run_playbook, run_tasks, write_inventory

REGION = "eu-west-3"
BASE_IMAGE = "AppStream-WinServer2019-07-16-2024"
NEWER_BASE_IMAGE = "AppStream-WinServer2019-10-08-2024"
SCALING = {"ServiceNamespace": "appstream", "ScalableDimension": "appstream:fleet:DesiredCapacity"}


# -- running modules --------------------------------------------------------------------------------
class Run:
    """One playbook run with the JSON callback: the result of each task, the calls it made."""

    def __init__(self, run: PlaybookRun) -> None:
        self.run = run
        try:
            self.document, _ = json.JSONDecoder().raw_decode(run.stdout[run.stdout.index("{") :])
        except ValueError as err:
            raise AssertionError(f"no JSON output:\n{run.stdout}\n{run.stderr}") from err
        self.results = [task["hosts"]["localhost"] for play in self.document["plays"] for task in play["tasks"]]

    @property
    def result(self) -> dict[str, Any]:
        return self.results[-1]

    @property
    def changed(self) -> bool:
        return bool(self.result.get("changed"))

    @property
    def failed(self) -> bool:
        return bool(self.result.get("failed"))

    def stats(self) -> dict[str, Any]:
        return self.run.stats()


@pytest.fixture
def json_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANSIBLE_STDOUT_CALLBACK", "ansible.posix.json")


def module(tmp_path: Path, sandbox: SandboxClient, module_name: str, /, check: bool = False, **options: Any) -> Run:
    fqcn = f"iconeus.tenant_toolkit.{module_name}"
    task = {"name": f"{module_name} under test", fqcn: options, "register": "under_test", "ignore_errors": True}
    directory = tmp_path / uuid.uuid4().hex[:8]
    return Run(run_tasks(directory, [task], sandbox, region=REGION, check=check, diff=check))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


# -- AWS state ----------------------------------------------------------------------------------------
def appstream(sandbox: SandboxClient, region: str = REGION) -> Any:
    return sandbox.boto3("appstream", region=region)


def fleet_of(sandbox: SandboxClient, name: str) -> dict[str, Any] | None:
    try:
        return appstream(sandbox).describe_fleets(Names=[name])["Fleets"][0]
    except appstream(sandbox).exceptions.ResourceNotFoundException:
        return None


def builder_of(sandbox: SandboxClient, name: str) -> dict[str, Any] | None:
    try:
        return appstream(sandbox).describe_image_builders(Names=[name])["ImageBuilders"][0]
    except appstream(sandbox).exceptions.ResourceNotFoundException:
        return None


def image_of(sandbox: SandboxClient, name: str, region: str = REGION) -> dict[str, Any] | None:
    client = appstream(sandbox, region)
    try:
        return client.describe_images(Names=[name])["Images"][0]
    except client.exceptions.ResourceNotFoundException:
        return None


def wait_until(check: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def network(sandbox: SandboxClient) -> dict[str, Any]:
    """A VPC with two subnets in two zones and a security group (moto's EC2)."""
    ec2 = sandbox.boto3("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.77.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in ((1, "a"), (2, "b"))
    ]
    groups = [
        ec2.create_security_group(GroupName=f"streaming-{i}", Description="streaming", VpcId=vpc)["GroupId"]
        for i in range(2)
    ]
    return {"vpc": vpc, "subnets": subnets, "groups": groups}


def fleet_options(name: str, tenant: str, network: dict[str, Any], **changes: Any) -> dict[str, Any]:
    options = {
        "name": name,
        "tenant": tenant,
        "environment": "test",
        "state": "running",
        "fleet_type": "ON_DEMAND",
        "instance_type": "stream.standard.medium",
        "image_name": BASE_IMAGE,
        "desired_instances": 1,
        "subnet_ids": network["subnets"],
        "security_group_ids": network["groups"][:1],
        "idle_disconnect_timeout": 900,
        "disconnect_timeout": 900,
        "max_user_duration": 28800,
        "display_name": "Lab fleet",
    }
    options.update(changes)
    return options


def builder_options(name: str, tenant: str, network: dict[str, Any], **changes: Any) -> dict[str, Any]:
    options = {
        "name": name,
        "tenant": tenant,
        "state": "running",
        "image_name": BASE_IMAGE,
        "instance_type": "stream.standard.medium",
        "subnet_ids": network["subnets"][:1],
        "security_group_ids": network["groups"][:1],
        "display_name": "Lab builder",
    }
    options.update(changes)
    return options


def assert_no_mutation(run: Run) -> None:
    stats = run.stats()
    assert stats["mutating"] == 0, stats["mutating_operations"]


# -- fleets -------------------------------------------------------------------------------------------
def test_fleet_lifecycle_create_idempotent_stop_delete(tmp_path, sandbox, network, json_output):
    tenant = unique("fl")
    name = f"{tenant}-fleet"
    options = fleet_options(name, tenant, network)

    planned = module(tmp_path, sandbox, "appstream_fleet", check=True, **options)
    assert planned.changed and planned.result["plan"]["action"] == "create"
    assert planned.result["diff"]["after"]["instance_type"] == "stream.standard.medium"
    assert_no_mutation(planned)
    assert fleet_of(sandbox, name) is None

    created = module(tmp_path, sandbox, "appstream_fleet", **options)
    assert created.changed, created.result
    fleet = fleet_of(sandbox, name)
    assert fleet["State"] == "RUNNING"
    assert fleet["InstanceType"] == "stream.standard.medium"
    assert fleet["VpcConfig"]["SecurityGroupIds"] == network["groups"][:1]
    tags = appstream(sandbox).list_tags_for_resource(ResourceArn=fleet["Arn"])["Tags"]
    assert tags["tenant"] == tenant and tags["managed-by"] == "appstream-tenant-toolkit"
    assert created.result["fleet"]["state"] == "RUNNING"

    again = module(tmp_path, sandbox, "appstream_fleet", **options)
    assert not again.changed, again.result["plan"]
    assert_no_mutation(again)

    stopped = module(tmp_path, sandbox, "appstream_fleet", **{**options, "state": "stopped"})
    assert stopped.changed and stopped.result["plan"]["fields"] == ["state"]
    assert fleet_of(sandbox, name)["State"] == "STOPPED"

    deleted = module(tmp_path, sandbox, "appstream_fleet", name=name, tenant=tenant, state="absent")
    assert deleted.changed
    assert fleet_of(sandbox, name) is None
    gone = module(tmp_path, sandbox, "appstream_fleet", name=name, tenant=tenant, state="absent")
    assert not gone.changed
    assert_no_mutation(gone)


def test_fleet_present_leaves_a_new_fleet_stopped_as_aws_creates_it(tmp_path, sandbox, network, json_output):
    tenant = unique("fp")
    run = module(
        tmp_path, sandbox, "appstream_fleet", **fleet_options(f"{tenant}-fleet", tenant, network, state="present")
    )
    assert run.changed
    assert fleet_of(sandbox, f"{tenant}-fleet")["State"] == "STOPPED"
    assert not any(call["operation"] == "StartFleet" for call in run.run.calls())
    retyped = fleet_options(f"{tenant}-fleet", tenant, network, state="present", fleet_type="ALWAYS_ON")
    refused = module(tmp_path, sandbox, "appstream_fleet", **retyped)
    assert refused.failed and "cannot change the type" in refused.result["msg"]
    assert refused.result["plan"]["requires_recreate"] == ["fleet_type"]
    assert_no_mutation(refused)


def test_live_changes_are_applied_to_a_running_fleet_without_a_stop(tmp_path, sandbox, network, json_output):
    tenant = unique("fv")
    name = f"{tenant}-fleet"
    assert not module(tmp_path, sandbox, "appstream_fleet", **fleet_options(name, tenant, network)).failed
    changes = {"display_name": "Renamed", "desired_instances": 2, "idle_disconnect_timeout": 600}
    run = module(tmp_path, sandbox, "appstream_fleet", **fleet_options(name, tenant, network, **changes))
    assert run.changed and run.result["requires_restart"] is False
    assert sorted(run.result["plan"]["live"]) == ["desired_instances", "display_name", "idle_disconnect_timeout"]
    assert run.stats()["mutating_operations"] == ["appstream:UpdateFleet"]
    fleet = fleet_of(sandbox, name)
    assert fleet["State"] == "RUNNING" and fleet["DisplayName"] == "Renamed"
    assert fleet["ComputeCapacityStatus"]["Desired"] == 2 and fleet["IdleDisconnectTimeoutInSeconds"] == 600


def warnings_of(run: Run) -> list[str]:
    """The module's warnings as the play shows them at default verbosity (the result's and on stderr)."""
    return list(run.result.get("warnings") or [])


def test_when_running_fail_refuses_naming_the_fields_and_changes_nothing(tmp_path, sandbox, network, json_output):
    tenant = unique("ff")
    name = f"{tenant}-fleet"
    assert not module(tmp_path, sandbox, "appstream_fleet", **fleet_options(name, tenant, network)).failed
    bigger = fleet_options(
        name, tenant, network, instance_type="stream.standard.large", security_group_ids=network["groups"]
    )

    # The plan does not stop at the refused change: it warns that an apply would refuse it.
    planned = module(tmp_path, sandbox, "appstream_fleet", check=True, **bigger)
    assert not planned.failed, planned.result
    assert planned.changed
    assert planned.result["requires_restart"] is True
    assert planned.result["restart_fields"] == ["instance_type", "security_group_ids"]
    refusal = planned.result["refused_on_apply"]
    assert f"fleet {name!r} is RUNNING; instance_type, security_group_ids can only change while it" in refusal
    assert warnings_of(planned) == [f"{refusal}. An apply refuses this change and leaves the fleet as it is."]
    assert "An apply refuses this change" in planned.run.stdout + planned.run.stderr
    assert_no_mutation(planned)

    refused = module(tmp_path, sandbox, "appstream_fleet", **bigger)
    assert refused.failed
    assert "instance_type, security_group_ids" in refused.result["msg"]
    assert "when_running=restart" in refused.result["msg"]
    assert_no_mutation(refused)
    fleet = fleet_of(sandbox, name)
    assert fleet["State"] == "RUNNING" and fleet["InstanceType"] == "stream.standard.medium"


def stream_from(sandbox: SandboxClient, fleet: str, users: int) -> None:
    """Users streaming from `fleet`: a stack associated with it and sessions through the sandbox hook."""
    stack = f"{fleet}-stack"
    appstream(sandbox).create_stack(Name=stack)
    appstream(sandbox).associate_fleet(FleetName=fleet, StackName=stack)
    sandbox.hook("appstream", "sessions", stack=stack, fleet=fleet, user="ada", count=users)


def test_when_running_restart_stops_updates_and_restarts(tmp_path, sandbox, network, json_output):
    tenant = unique("fr")
    name = f"{tenant}-fleet"
    assert not module(tmp_path, sandbox, "appstream_fleet", **fleet_options(name, tenant, network)).failed
    stream_from(sandbox, name, users=1)
    bigger = fleet_options(name, tenant, network, instance_type="stream.standard.large", when_running="restart")

    planned = module(tmp_path, sandbox, "appstream_fleet", check=True, **bigger)
    assert planned.changed and not planned.failed
    assert planned.result["requires_restart"] is True and planned.result["restart_fields"] == ["instance_type"]
    assert warnings_of(planned) == [
        f"fleet {name!r} is RUNNING: changing instance_type needs it stopped, so the fleet stops and its users are "
        "disconnected (1 streaming session now); it is then updated and started again (when_running=restart)"
    ]
    assert "its users are disconnected (1 streaming session now)" in planned.run.stdout + planned.run.stderr
    assert planned.result["diff"]["before"] == {"instance_type": "stream.standard.medium", "state": "RUNNING"}
    assert planned.result["diff"]["after"] == {
        "instance_type": "stream.standard.large",
        "state": "STOPPED, users disconnected, then RUNNING",
    }
    assert_no_mutation(planned)
    assert fleet_of(sandbox, name)["InstanceType"] == "stream.standard.medium"

    restarted = module(tmp_path, sandbox, "appstream_fleet", **bigger)
    assert restarted.changed, restarted.result
    operations = [c["operation"] for c in restarted.run.calls() if c["mutating"]]
    assert operations == ["StopFleet", "UpdateFleet", "StartFleet"]
    fleet = fleet_of(sandbox, name)
    assert fleet["InstanceType"] == "stream.standard.large" and fleet["State"] == "RUNNING"
    assert not module(tmp_path, sandbox, "appstream_fleet", **bigger).changed


def test_empty_values_remove_settings_through_attributes_to_delete(tmp_path, sandbox, network, json_output):
    tenant = unique("fd")
    name = f"{tenant}-fleet"
    role = "arn:aws:iam::123456789012:role/streaming"
    options = fleet_options(name, tenant, network, state="stopped", iam_role_arn=role)
    assert not module(tmp_path, sandbox, "appstream_fleet", **options).failed
    assert fleet_of(sandbox, name)["IamRoleArn"] == role

    removal = {**options, "iam_role_arn": "", "security_group_ids": []}
    run = module(tmp_path, sandbox, "appstream_fleet", **removal)
    assert run.changed and run.result["plan"]["removals"] == ["iam_role_arn", "security_group_ids"]
    fleet = fleet_of(sandbox, name)
    assert "IamRoleArn" not in fleet
    assert not fleet["VpcConfig"].get("SecurityGroupIds")
    assert fleet["VpcConfig"]["SubnetIds"] == network["subnets"]
    again = module(tmp_path, sandbox, "appstream_fleet", **removal)
    assert not again.changed
    assert_no_mutation(again)


def test_a_fleet_that_cannot_start_fails_fast_with_its_errors(tmp_path, sandbox, network, json_output):
    tenant = unique("fe")
    name = f"{tenant}-fleet"
    assert not module(
        tmp_path, sandbox, "appstream_fleet", **fleet_options(name, tenant, network, state="stopped")
    ).failed
    sandbox.hook(
        "appstream",
        "fail-fleet",
        name=name,
        errors=[{"ErrorCode": "SUBNET_HAS_INSUFFICIENT_IP_ADDRESSES", "ErrorMessage": "Subnet has no free address."}],
    )
    began = time.monotonic()
    run = module(tmp_path, sandbox, "appstream_fleet", **fleet_options(name, tenant, network, wait_timeout=600))
    elapsed = time.monotonic() - began
    assert run.failed
    assert "SUBNET_HAS_INSUFFICIENT_IP_ADDRESSES: Subnet has no free address." in run.result["msg"]
    assert elapsed < 30, f"the wait took {elapsed:.1f} s instead of failing at once"


def test_deleting_a_fleet_detaches_its_stacks_and_removes_its_scaling(tmp_path, sandbox, network, json_output):
    tenant = unique("fa")
    name = f"{tenant}-fleet"
    options = fleet_options(name, tenant, network, scaling={"min_capacity": 1, "max_capacity": 3})
    assert not module(tmp_path, sandbox, "appstream_fleet", **options).failed
    client = appstream(sandbox)
    client.create_stack(Name=f"{tenant}-stack")
    client.associate_fleet(FleetName=name, StackName=f"{tenant}-stack")

    planned = module(tmp_path, sandbox, "appstream_fleet", check=True, name=name, tenant=tenant, state="absent")
    assert planned.changed and planned.result["plan"]["action"] == "delete"
    assert_no_mutation(planned)

    run = module(tmp_path, sandbox, "appstream_fleet", name=name, tenant=tenant, state="absent")
    assert run.changed, run.result
    assert fleet_of(sandbox, name) is None
    assert client.list_associated_fleets(StackName=f"{tenant}-stack")["Names"] == []
    scaling = sandbox.boto3("application-autoscaling")
    assert scaling.describe_scalable_targets(ResourceIds=[f"fleet/{name}"], **SCALING)["ScalableTargets"] == []


def test_a_fleet_of_another_tenant_is_never_changed_or_deleted(tmp_path, sandbox, network, json_output):
    owner = unique("fo")
    name = f"{owner}-fleet"
    assert not module(
        tmp_path, sandbox, "appstream_fleet", **fleet_options(name, owner, network, state="present")
    ).failed
    intruder = unique("fi")
    changed = module(
        tmp_path, sandbox, "appstream_fleet", **fleet_options(name, intruder, network, display_name="Mine")
    )
    assert changed.failed and "not owned" in changed.result["msg"]
    deleted = module(tmp_path, sandbox, "appstream_fleet", name=name, tenant=intruder, state="absent")
    assert not deleted.changed and deleted.result["not_owned"] is True
    assert fleet_of(sandbox, name)["DisplayName"] == "Lab fleet"


def with_known_tags(tmp_path: Path, sandbox: SandboxClient, options: dict[str, Any]) -> Run:
    """appstream_fleet given the tags tenant_tags_info read for its tenant, as the roles give them."""
    tasks = [
        {
            "name": "Read the tenant's tags",
            "iconeus.tenant_toolkit.tenant_tags_info": {"tenant": options["tenant"]},
            "register": "listed",
        },
        {
            "name": "appstream_fleet under test",
            "iconeus.tenant_toolkit.appstream_fleet": {**options, "known_tags": "{{ listed.resources }}"},
            "ignore_errors": True,
        },
    ]
    return Run(run_tasks(tmp_path / uuid.uuid4().hex[:8], tasks, sandbox, region=REGION))


def test_a_fleet_the_tag_listing_holds_is_not_read_again(tmp_path, sandbox, network, json_output):
    tenant = unique("fk")
    options = fleet_options(f"{tenant}-fleet", tenant, network)
    assert not module(tmp_path, sandbox, "appstream_fleet", **options).failed
    again = with_known_tags(tmp_path, sandbox, options)
    assert not again.failed and not again.changed, again.result
    operations = again.stats()["by_operation"]
    assert operations["tagging:GetResources"] == 1, operations
    assert "appstream:ListTagsForResource" not in operations, operations
    assert again.result["fleet"]["tags"]["tenant"] == tenant  # the tags the listing gave


def test_a_fleet_of_another_tenant_is_read_and_refused_even_with_a_tag_listing(tmp_path, sandbox, network, json_output):
    owner = unique("fo")
    name = f"{owner}-fleet"
    assert not module(tmp_path, sandbox, "appstream_fleet", **fleet_options(name, owner, network)).failed
    intruder = unique("fi")
    # The intruder's listing holds its own resources only (the filter is its tenant tag): the foreign fleet
    # of that name is not in it, so the module reads its tags and refuses it as without a listing.
    refused = with_known_tags(tmp_path, sandbox, fleet_options(name, intruder, network, display_name="Mine"))
    assert refused.failed and "not owned" in refused.result["msg"], refused.result
    stats = refused.stats()
    assert stats["by_operation"]["appstream:ListTagsForResource"] == 1, stats
    assert stats["mutating"] == 0, stats["mutating_operations"]
    assert fleet_of(sandbox, name)["DisplayName"] == "Lab fleet"


def test_scaling_target_policy_and_schedule_are_converged_idempotently(tmp_path, sandbox, network, json_output):
    tenant = unique("fs")
    name = f"{tenant}-fleet"
    scaling = {
        "min_capacity": 1,
        "max_capacity": 4,
        "target_utilization": 70,
        "working_hours": {"timezone": "Europe/Paris", "start": "07:30", "stop": "20:00"},
        "schedule": [{"name": "year-end", "schedule": "at(2030-12-24T18:00:00)", "min_capacity": 0, "max_capacity": 0}],
    }
    options = fleet_options(name, tenant, network, scaling=scaling)
    assert not module(tmp_path, sandbox, "appstream_fleet", **options).failed

    client = sandbox.boto3("application-autoscaling")
    resource = {"ResourceIds": [f"fleet/{name}"], **SCALING}
    targets = client.describe_scalable_targets(**resource)["ScalableTargets"]
    assert len(targets) == 1
    # A new target starts at the capacity the working hours give now: 1..4 inside, 0 outside.
    assert (targets[0]["MinCapacity"], targets[0]["MaxCapacity"]) in ((1, 4), (0, 0))
    policies = client.describe_scaling_policies(ResourceId=f"fleet/{name}", **SCALING)["ScalingPolicies"]
    policy = next(p for p in policies if p["ResourceId"] == f"fleet/{name}")
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    assert config["TargetValue"] == 70.0
    assert config["PredefinedMetricSpecification"]["PredefinedMetricType"] == "AppStreamAverageCapacityUtilization"
    actions = {
        a["ScheduledActionName"]: a
        for a in client.describe_scheduled_actions(ResourceId=f"fleet/{name}", **SCALING)["ScheduledActions"]
    }
    assert sorted(actions) == [f"{name}-working-hours-start", f"{name}-working-hours-stop", "year-end"]
    start = actions[f"{name}-working-hours-start"]
    assert start["Schedule"] == "cron(30 7 ? * MON-FRI *)" and start["Timezone"] == "Europe/Paris"
    assert start["ScalableTargetAction"] == {"MinCapacity": 1, "MaxCapacity": 4}
    stop = actions[f"{name}-working-hours-stop"]
    assert stop["Schedule"] == "cron(0 20 ? * MON-FRI *)" and stop["ScalableTargetAction"]["MaxCapacity"] == 0

    again = module(tmp_path, sandbox, "appstream_fleet", **options)
    assert not again.changed, again.result["diff"]
    assert_no_mutation(again)

    # Dropping the one-off action and the policy purges them; working hours stay.
    smaller = {**scaling, "schedule": [], "target_utilization": None}
    run = module(tmp_path, sandbox, "appstream_fleet", **fleet_options(name, tenant, network, scaling=smaller))
    assert run.changed
    assert sorted(run.stats()["mutating_operations"]) == [
        "application-autoscaling:DeleteScalingPolicy",
        "application-autoscaling:DeleteScheduledAction",
    ]
    remaining = client.describe_scheduled_actions(ResourceId=f"fleet/{name}", **SCALING)["ScheduledActions"]
    assert sorted(a["ScheduledActionName"] for a in remaining) == [
        f"{name}-working-hours-start",
        f"{name}-working-hours-stop",
    ]

    removed = module(tmp_path, sandbox, "appstream_fleet", **fleet_options(name, tenant, network, scaling={}))
    assert removed.changed
    assert client.describe_scalable_targets(**resource)["ScalableTargets"] == []
    assert client.describe_scheduled_actions(ResourceId=f"fleet/{name}", **SCALING)["ScheduledActions"] == []


# -- image builders -------------------------------------------------------------------------------
def test_builder_lifecycle_running_stopped_absent(tmp_path, sandbox, network, json_output):
    tenant = unique("bl")
    name = f"{tenant}-builder"
    options = builder_options(name, tenant, network)

    planned = module(tmp_path, sandbox, "appstream_image_builder", check=True, **options)
    assert planned.changed and planned.result["plan"]["action"] == "create"
    assert_no_mutation(planned)

    created = module(tmp_path, sandbox, "appstream_image_builder", **options)
    assert created.changed, created.result
    builder = builder_of(sandbox, name)
    assert builder["State"] == "RUNNING"
    address = builder["NetworkAccessConfiguration"]["EniPrivateIpAddress"]
    assert created.result["image_builder"]["private_ip"] == address
    assert address.startswith("10.77.1.")

    again = module(tmp_path, sandbox, "appstream_image_builder", **options)
    assert not again.changed
    assert_no_mutation(again)

    stopped = module(tmp_path, sandbox, "appstream_image_builder", **{**options, "state": "stopped"})
    assert stopped.changed and builder_of(sandbox, name)["State"] == "STOPPED"

    started = module(tmp_path, sandbox, "appstream_image_builder", **options)
    assert started.changed and builder_of(sandbox, name)["State"] == "RUNNING"

    deleted = module(tmp_path, sandbox, "appstream_image_builder", name=name, tenant=tenant, state="absent")
    assert deleted.changed
    assert builder_of(sandbox, name) is None


def test_builder_created_stopped_is_started_then_stopped(tmp_path, sandbox, network, json_output):
    tenant = unique("bs")
    name = f"{tenant}-builder"
    run = module(
        tmp_path, sandbox, "appstream_image_builder", **builder_options(name, tenant, network, state="stopped")
    )
    assert run.changed
    assert builder_of(sandbox, name)["State"] == "STOPPED"


def test_builder_change_the_api_cannot_make_needs_recreate(tmp_path, sandbox, network, json_output):
    tenant = unique("br")
    name = f"{tenant}-builder"
    assert not module(tmp_path, sandbox, "appstream_image_builder", **builder_options(name, tenant, network)).failed
    newer = builder_options(name, tenant, network, image_name=NEWER_BASE_IMAGE, instance_type="stream.standard.large")

    planned = module(tmp_path, sandbox, "appstream_image_builder", check=True, **newer)
    assert planned.failed
    assert planned.result["plan"]["requires_recreate"] == ["image_name", "instance_type"]
    assert_no_mutation(planned)

    refused = module(tmp_path, sandbox, "appstream_image_builder", **newer)
    assert refused.failed and "image_name, instance_type" in refused.result["msg"]
    assert "recreate=true" in refused.result["msg"]
    assert_no_mutation(refused)

    replaced = module(tmp_path, sandbox, "appstream_image_builder", recreate=True, **newer)
    assert replaced.changed, replaced.result
    builder = builder_of(sandbox, name)
    assert builder["ImageArn"].endswith(f"image/{NEWER_BASE_IMAGE}")
    assert builder["InstanceType"] == "stream.standard.large" and builder["State"] == "RUNNING"


def test_builder_description_changes_in_place_when_stopped(tmp_path, sandbox, network, json_output):
    tenant = unique("bd")
    name = f"{tenant}-builder"
    assert not module(tmp_path, sandbox, "appstream_image_builder", **builder_options(name, tenant, network)).failed
    described = builder_options(name, tenant, network, description="Catalogue builder")
    refused = module(tmp_path, sandbox, "appstream_image_builder", **described)
    assert refused.failed and refused.result["restart_fields"] == ["description"]
    updated = module(tmp_path, sandbox, "appstream_image_builder", **{**described, "state": "stopped"})
    assert updated.changed and updated.result["plan"]["action"] == "update"
    builder = builder_of(sandbox, name)
    assert builder["Description"] == "Catalogue builder" and builder["State"] == "STOPPED"
    assert "appstream:DeleteImageBuilder" not in updated.stats()["mutating_operations"]


def test_a_failed_builder_fails_the_wait_with_its_reason(tmp_path, sandbox, network, json_output):
    tenant = unique("bf")
    name = f"{tenant}-builder"
    assert not module(
        tmp_path, sandbox, "appstream_image_builder", **builder_options(name, tenant, network, state="stopped")
    ).failed
    appstream(sandbox).start_image_builder(Name=name)
    sandbox.hook("appstream", "fail-image-builder", name=name, reason="The root volume could not be attached.")
    run = module(tmp_path, sandbox, "appstream_image_builder", **builder_options(name, tenant, network))
    assert run.failed
    assert "The root volume could not be attached." in run.result["msg"]
    removed = module(tmp_path, sandbox, "appstream_image_builder", name=name, tenant=tenant, state="absent")
    assert removed.changed and builder_of(sandbox, name) is None


# -- images ----------------------------------------------------------------------------------------
def make_image(sandbox: SandboxClient, network: dict[str, Any], tenant: str, image: str) -> None:
    """Image Assistant's create-image (the sandbox hook) on a running builder of `tenant`, tagged like the toolkit."""
    builder = f"{tenant}-builder"
    client = appstream(sandbox)
    if builder_of(sandbox, builder) is None:
        client.create_image_builder(
            Name=builder,
            ImageName=BASE_IMAGE,
            InstanceType="stream.standard.medium",
            VpcConfig={"SubnetIds": network["subnets"][:1]},
            Tags={"tenant": tenant},
        )
    wait_until(lambda: builder_of(sandbox, builder)["State"] in ("RUNNING", "STOPPED"))
    if builder_of(sandbox, builder)["State"] == "STOPPED":
        client.start_image_builder(Name=builder)
        wait_until(lambda: builder_of(sandbox, builder)["State"] == "RUNNING")
    tags = {"tenant": tenant, "managed-by": "appstream-tenant-toolkit"}
    sandbox.hook("appstream", "create-image", builder_name=builder, image_name=image, tags=tags)


def test_image_waits_shares_copies_and_deletes(tmp_path, sandbox, network, json_output):
    tenant = unique("im")
    image = f"{tenant}-suite-1"
    make_image(sandbox, network, tenant, image)

    available = module(tmp_path, sandbox, "appstream_image", name=image, tenant=tenant)
    assert not available.failed and not available.changed
    assert available.result["image"]["state"] == "AVAILABLE"

    shares = [
        {"account_id": "210987654321", "allow_fleet": True, "allow_image_builder": False},
        {"account_id": "310987654321", "allow_fleet": True, "allow_image_builder": True},
    ]
    shared = module(tmp_path, sandbox, "appstream_image", name=image, tenant=tenant, shared_accounts=shares)
    assert shared.changed
    listed = appstream(sandbox).describe_image_permissions(Name=image)["SharedImagePermissionsList"]
    assert {p["sharedAccountId"]: p["imagePermissions"] for p in listed} == {
        "210987654321": {"allowFleet": True, "allowImageBuilder": False},
        "310987654321": {"allowFleet": True, "allowImageBuilder": True},
    }
    again = module(tmp_path, sandbox, "appstream_image", name=image, tenant=tenant, shared_accounts=shares)
    assert not again.changed
    assert_no_mutation(again)
    purged = module(tmp_path, sandbox, "appstream_image", name=image, tenant=tenant, shared_accounts=shares[:1])
    assert purged.changed
    listed = appstream(sandbox).describe_image_permissions(Name=image)["SharedImagePermissionsList"]
    assert [p["sharedAccountId"] for p in listed] == ["210987654321"]

    copy_options = {"name": image, "tenant": tenant, "destination_region": "eu-central-1"}
    planned = module(tmp_path, sandbox, "appstream_image", check=True, **copy_options)
    assert planned.changed and "copy" in planned.result["plan"]["fields"]
    assert_no_mutation(planned)
    copied = module(tmp_path, sandbox, "appstream_image", **copy_options)
    assert copied.changed, copied.result
    copy = image_of(sandbox, image, "eu-central-1")
    assert copy["State"] == "AVAILABLE"
    copy_tags = appstream(sandbox, "eu-central-1").list_tags_for_resource(ResourceArn=copy["Arn"])["Tags"]
    assert copy_tags["tenant"] == tenant
    assert not module(tmp_path, sandbox, "appstream_image", **copy_options).changed

    deleted = module(tmp_path, sandbox, "appstream_image", name=image, tenant=tenant, state="absent")
    assert deleted.changed
    assert image_of(sandbox, image) is None


def test_image_in_use_by_a_fleet_is_not_deleted(tmp_path, sandbox, network, json_output):
    tenant = unique("iu")
    image = f"{tenant}-suite-1"
    make_image(sandbox, network, tenant, image)
    assert not module(tmp_path, sandbox, "appstream_image", name=image, tenant=tenant).failed
    fleet = f"{tenant}-fleet"
    run = module(
        tmp_path, sandbox, "appstream_fleet", **fleet_options(fleet, tenant, network, image_name=image, state="present")
    )
    assert not run.failed, run.result

    planned = module(tmp_path, sandbox, "appstream_image", check=True, name=image, tenant=tenant, state="absent")
    assert planned.failed and f"fleet {fleet}" in planned.result["msg"]
    refused = module(tmp_path, sandbox, "appstream_image", name=image, tenant=tenant, state="absent")
    assert refused.failed and f"fleet {fleet}" in refused.result["msg"]
    assert_no_mutation(refused)
    assert image_of(sandbox, image)["State"] == "AVAILABLE"


def test_public_and_other_tenants_images_are_never_deleted(tmp_path, sandbox, network, json_output):
    tenant = unique("ip")
    run = module(tmp_path, sandbox, "appstream_image", name=BASE_IMAGE, tenant=tenant, state="absent")
    assert not run.changed and run.result["not_owned"] is True
    assert image_of(sandbox, BASE_IMAGE)["State"] == "AVAILABLE"


def test_a_failed_image_fails_the_wait_with_its_reason(tmp_path, sandbox, network, json_output):
    tenant = unique("if")
    image = f"{tenant}-suite-1"
    make_image(sandbox, network, tenant, image)
    sandbox.hook("appstream", "fail-image", name=image, message="Snapshot of the root volume failed.")
    run = module(tmp_path, sandbox, "appstream_image", name=image, tenant=tenant)
    assert run.failed and "Snapshot of the root volume failed." in run.result["msg"]


def test_image_info_filters_and_orders_newest_first(tmp_path, sandbox, network, json_output):
    tenant = unique("ii")
    for index in (1, 2):
        make_image(sandbox, network, tenant, f"{tenant}-suite-{index}")
        wait_until(lambda i=index: image_of(sandbox, f"{tenant}-suite-{i}")["State"] == "AVAILABLE")
        time.sleep(0.05)  # distinct creation times
    other = unique("ij")
    make_image(sandbox, network, other, f"{tenant}-suite-foreign")

    queries = {
        "by_prefix": {"name_prefix": f"{tenant}-suite-"},
        "by_tag": {"name_prefix": f"{tenant}-suite-", "tags": {"tenant": tenant}},
        "available": {"name_prefix": f"{tenant}-suite-", "state": ["AVAILABLE"], "visibility": "PRIVATE"},
        "public": {"visibility": "PUBLIC", "name_prefix": "AppStream-WinServer2019-"},
    }
    tasks = [
        {"name": query, "iconeus.tenant_toolkit.appstream_image_info": options} for query, options in queries.items()
    ]
    run = Run(run_tasks(tmp_path / "info", tasks, sandbox, region=REGION))
    found = {query: [i["name"] for i in result["images"]] for query, result in zip(queries, run.results, strict=True)}

    assert found["by_prefix"].index(f"{tenant}-suite-2") < found["by_prefix"].index(f"{tenant}-suite-1")
    assert found["by_prefix"][0] == f"{tenant}-suite-foreign"  # the newest
    assert found["by_tag"] == [f"{tenant}-suite-2", f"{tenant}-suite-1"]
    assert run.results[1]["images"][0]["tags"]["tenant"] == tenant
    assert f"{tenant}-suite-1" in found["available"]
    assert all(i["state"] == "AVAILABLE" for i in run.results[2]["images"])
    assert found["public"] == [NEWER_BASE_IMAGE, BASE_IMAGE]
    assert_no_mutation(run)

    named = module(tmp_path, sandbox, "appstream_image_info", names=[BASE_IMAGE, "no-such-image"])
    assert [i["name"] for i in named.result["images"]] == [BASE_IMAGE]
    assert named.stats()["by_operation"] == {"appstream:DescribeImages": 2}
    assert_no_mutation(named)


# -- directory configs ---------------------------------------------------------------------------------
def make_directory(sandbox: SandboxClient, network: dict[str, Any], fqdn: str, tenant: str) -> None:
    sandbox.boto3("ds").create_microsoft_ad(
        Name=fqdn,
        ShortName=fqdn.split(".")[1].upper()[:15],
        Password="Sandbox-Admin-Passw0rd!",
        Edition="Standard",
        VpcSettings={"VpcId": network["vpc"], "SubnetIds": network["subnets"]},
        Tags=[{"Key": "tenant", "Value": tenant}],
    )


def test_directory_config_lifecycle_with_the_password_from_secrets_manager(tmp_path, sandbox, network, json_output):
    tenant = unique("dc")
    fqdn = f"corp.{tenant}.example"
    netbios = tenant.replace("-", "").upper()[:15]
    make_directory(sandbox, network, fqdn, tenant)
    password = f"Svc-{uuid.uuid4().hex}"
    secret = f"{tenant}/directory/appstream-service"
    # Tagged for the tenant, as the directory-content stage keeps it: a secret of another owner is never read.
    sandbox.boto3("secretsmanager").create_secret(
        Name=secret,
        SecretString=json.dumps({"username": "svc-appstream", "password": password}),
        Tags=[{"Key": "tenant", "Value": tenant}, {"Key": "managed-by", "Value": "appstream-tenant-toolkit"}],
    )
    ou = f"OU=AppStream,OU=Computers,OU={netbios},DC=corp,DC={tenant},DC=example"
    options = {
        "tenant": tenant,
        "directory_name": fqdn,
        "organizational_unit_distinguished_names": [ou],
        "service_account_name": f"{netbios}\\svc-appstream",
        "service_account_secret_id": secret,
    }

    planned = module(tmp_path, sandbox, "appstream_directory_config", check=True, **options)
    assert planned.changed and planned.result["plan"]["action"] == "create"
    assert_no_mutation(planned)

    created = module(tmp_path, sandbox, "appstream_directory_config", **options)
    assert created.changed, created.result
    config = appstream(sandbox).describe_directory_configs(DirectoryNames=[fqdn])["DirectoryConfigs"][0]
    assert config["OrganizationalUnitDistinguishedNames"] == [ou]
    assert config["ServiceAccountCredentials"]["AccountName"] == f"{netbios}\\svc-appstream"
    assert password not in created.run.stdout + created.run.stderr

    again = module(tmp_path, sandbox, "appstream_directory_config", **options)
    assert not again.changed
    assert again.stats()["by_operation"] == {"appstream:DescribeDirectoryConfigs": 1}

    rotated = module(tmp_path, sandbox, "appstream_directory_config", update_password="always", **options)
    assert rotated.changed
    assert rotated.result["diff"]["after"]["service_account_password"] == "(sent)"
    assert password not in json.dumps(rotated.document)

    second_ou = f"OU=Labs,OU=Computers,OU={netbios},DC=corp,DC={tenant},DC=example"
    widened = module(
        tmp_path,
        sandbox,
        "appstream_directory_config",
        **{**options, "organizational_unit_distinguished_names": [ou, second_ou]},
    )
    assert widened.changed and widened.result["plan"]["fields"] == ["organizational_unit_distinguished_names"]
    config = appstream(sandbox).describe_directory_configs(DirectoryNames=[fqdn])["DirectoryConfigs"][0]
    assert sorted(config["OrganizationalUnitDistinguishedNames"]) == sorted([ou, second_ou])

    deleted = module(
        tmp_path, sandbox, "appstream_directory_config", tenant=tenant, directory_name=fqdn, state="absent"
    )
    assert deleted.changed
    assert appstream(sandbox).describe_directory_configs()["DirectoryConfigs"] == [] or fqdn not in {
        c["DirectoryName"] for c in appstream(sandbox).describe_directory_configs()["DirectoryConfigs"]
    }


def test_directory_config_of_another_tenants_directory_is_never_touched(tmp_path, sandbox, network, json_output):
    owner = unique("do")
    fqdn = f"corp.{owner}.example"
    make_directory(sandbox, network, fqdn, owner)
    ou = f"OU=AppStream,OU=Computers,OU=X,DC=corp,DC={owner},DC=example"
    appstream(sandbox).create_directory_config(
        DirectoryName=fqdn,
        OrganizationalUnitDistinguishedNames=[ou],
        ServiceAccountCredentials={"AccountName": "X\\svc", "AccountPassword": "Sandbox-only-1"},
    )
    intruder = unique("dx")
    changed = module(
        tmp_path,
        sandbox,
        "appstream_directory_config",
        tenant=intruder,
        directory_name=fqdn,
        organizational_unit_distinguished_names=[ou.replace("AppStream", "Mine")],
    )
    assert changed.failed and "not provably owned" in changed.result["msg"]
    deleted = module(
        tmp_path, sandbox, "appstream_directory_config", tenant=intruder, directory_name=fqdn, state="absent"
    )
    assert not deleted.changed and deleted.result["not_owned"] is True
    assert_no_mutation(deleted)
    config = appstream(sandbox).describe_directory_configs(DirectoryNames=[fqdn])["DirectoryConfigs"][0]
    assert config["OrganizationalUnitDistinguishedNames"] == [ou]


def test_directory_config_in_use_is_not_deleted(tmp_path, sandbox, network, json_output):
    tenant = unique("dn")
    fqdn = f"corp.{tenant}.example"
    make_directory(sandbox, network, fqdn, tenant)
    ou = f"OU=AppStream,OU=Computers,OU=X,DC=corp,DC={tenant},DC=example"
    assert not module(
        tmp_path,
        sandbox,
        "appstream_directory_config",
        tenant=tenant,
        directory_name=fqdn,
        organizational_unit_distinguished_names=[ou],
        service_account_name="X\\svc-appstream",
        service_account_password="Sandbox-only-1",
    ).failed
    fleet = f"{tenant}-fleet"
    joined = fleet_options(fleet, tenant, network, state="present", domain_join_info={"directory_name": fqdn, "ou": ou})
    assert not module(tmp_path, sandbox, "appstream_fleet", **joined).failed
    refused = module(
        tmp_path, sandbox, "appstream_directory_config", tenant=tenant, directory_name=fqdn, state="absent"
    )
    assert refused.failed and f"fleet {fleet}" in refused.result["msg"]
    assert_no_mutation(refused)


# -- roles and the fleet playbook ----------------------------------------------------------------------
def saml_tenant(name: str) -> dict[str, Any]:
    tenant = demo_tenant()
    tenant.update(name=name, environment="test")
    tenant["directory"].update(fqdn=f"corp.{name}.example", netbios=name.replace("-", "").upper()[:15])
    return tenant


def catalogue_image_name(tenant: dict[str, Any]) -> str:
    """The image name the validate play computes (module tenant_validate)."""
    validate = load_plugin("plugins/modules/tenant_validate.py")
    catalogue = yaml.safe_load((ROOT / "group_vars" / "all" / "catalogue.yml").read_text())["app_catalogue"]
    result, errors = validate.evaluate(tenant, catalogue)
    assert not errors, errors
    return result["image_name"]


def write_play(tmp_path: Path, roles: list[str]) -> Path:
    """A playbook under playbooks/ semantics: validate, then the roles on the tenants."""
    play = [
        {"ansible.builtin.import_playbook": str(ROOT / "playbooks" / "validate.yml")},
        {
            "name": "Roles under test",
            "hosts": "tenants",
            "gather_facts": False,
            "environment": "{{ tenant_aws_environment }}",
            "roles": [{"role": role} for role in roles],
        },
    ]
    directory = tmp_path / uuid.uuid4().hex[:8]
    directory.mkdir()
    (directory / "group_vars").symlink_to(ROOT / "group_vars")  # as playbooks/group_vars does
    path = directory / "play.yml"
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    return path


def test_roles_and_fleet_playbook_converge_a_saml_tenant(tmp_path, sandbox):
    name = unique("rs")
    tenant = saml_tenant(name)
    inventory = write_inventory(tmp_path / "inventory", tenant, sandbox)
    # The tenant's service account, as the directory-content stage keeps it.
    sandbox.boto3("secretsmanager").create_secret(
        Name=f"{name}/directory/appstream-service",
        SecretString=json.dumps({"username": "svc-appstream", "password": f"Svc-{uuid.uuid4().hex}"}),
        Tags=[{"Key": "tenant", "Value": name}, {"Key": "managed-by", "Value": "appstream-tenant-toolkit"}],
    )

    setup = run_playbook(
        write_play(tmp_path, ["aws_network", "aws_directory", "appstream_directory", "appstream_builder"]),
        inventory,
        sandbox,
    )
    assert setup.rc == 0, setup.stdout[-3000:]
    netbios = tenant["directory"]["netbios"]
    ou = f"OU=AppStream,OU=Computers,OU={netbios},DC=corp,DC={name},DC=example"
    builders_ou = f"OU=ImageBuilders,OU={netbios},DC=corp,DC={name},DC=example"
    config = appstream(sandbox).describe_directory_configs(DirectoryNames=[tenant["directory"]["fqdn"]])
    assert config["DirectoryConfigs"][0]["OrganizationalUnitDistinguishedNames"] == [ou, builders_ou]
    builder = builder_of(sandbox, f"{name}-builder")
    assert builder["State"] == "RUNNING"
    # The builder joins its own OU (the builder-access GPO is linked there), never the fleet's.
    assert builder["DomainJoinInfo"] == {
        "DirectoryName": tenant["directory"]["fqdn"],
        "OrganizationalUnitDistinguishedName": builders_ou,
    }
    assert builder["ImageArn"].endswith(f"image/{tenant['appstream']['base_image']}")

    # The catalogue image, as the image stage makes it from the builder.
    image = catalogue_image_name(tenant)
    sandbox.hook(
        "appstream",
        "create-image",
        builder_name=f"{name}-builder",
        image_name=image,
        tags={"tenant": name, "managed-by": "appstream-tenant-toolkit"},
    )
    wait_until(lambda: image_of(sandbox, image)["State"] == "AVAILABLE")

    plan = run_playbook(ROOT / "playbooks" / "fleet.yml", inventory, sandbox, check=True, diff=True)
    assert plan.rc == 0, plan.stdout[-3000:]
    assert plan.stats()["mutating"] == 0, plan.stats()["mutating_operations"]

    first = run_playbook(ROOT / "playbooks" / "fleet.yml", inventory, sandbox)
    assert first.rc == 0, first.stdout[-3000:]
    fleet = fleet_of(sandbox, f"{name}-fleet")
    assert fleet["State"] == "RUNNING" and fleet["ImageName"] == image
    assert fleet["FleetType"] == "ON_DEMAND" and fleet["ComputeCapacityStatus"]["Desired"] == 1
    assert fleet["DomainJoinInfo"]["OrganizationalUnitDistinguishedName"] == ou
    assert (fleet["IdleDisconnectTimeoutInSeconds"], fleet["MaxUserDurationInSeconds"]) == (900, 28800)
    actions = sandbox.boto3("application-autoscaling").describe_scheduled_actions(
        ResourceId=f"fleet/{name}-fleet", **SCALING
    )["ScheduledActions"]
    schedules = {a["ScheduledActionName"]: (a["Schedule"], a["Timezone"]) for a in actions}
    assert schedules == {
        f"{name}-fleet-working-hours-start": ("cron(30 7 ? * MON-FRI *)", "Europe/Paris"),
        f"{name}-fleet-working-hours-stop": ("cron(0 20 ? * MON-FRI *)", "Europe/Paris"),
    }

    second = run_playbook(ROOT / "playbooks" / "fleet.yml", inventory, sandbox)
    assert second.rc == 0
    assert second.recap[name]["changed"] == 0, second.stdout[-3000:]
    assert second.stats()["mutating"] == 0, second.stats()["mutating_operations"]

    stopped = run_playbook(
        write_play(tmp_path, ["appstream_builder"]),
        inventory,
        sandbox,
        extra_vars={"appstream_builder_state": "absent"},
    )
    assert stopped.rc == 0, stopped.stdout[-3000:]
    assert builder_of(sandbox, f"{name}-builder") is None


def test_fleet_playbook_for_a_userpool_tenant_without_schedule(tmp_path, sandbox):
    name = unique("ru")
    tenant = demo_tenant()
    tenant.update(name=name, environment="test", auth="userpool")
    tenant.pop("directory")
    tenant.pop("storage")
    tenant["users"] = [{k: v for k, v in u.items() if k != "username"} for u in tenant["users"]]
    tenant["appstream"]["fleet"].pop("schedule")
    inventory = write_inventory(tmp_path / "inventory", tenant, sandbox)
    settings = {"appstream_fleet_image_name": BASE_IMAGE, "appstream_fleet_state": "present"}

    run = run_playbook(ROOT / "playbooks" / "fleet.yml", inventory, sandbox, extra_vars=settings)
    assert run.rc == 0, run.stdout[-3000:]
    fleet = fleet_of(sandbox, f"{name}-fleet")
    assert fleet["State"] == "STOPPED" and "DomainJoinInfo" not in fleet
    scaling = sandbox.boto3("application-autoscaling")
    target = scaling.describe_scalable_targets(ResourceIds=[f"fleet/{name}-fleet"], **SCALING)["ScalableTargets"]
    assert (target[0]["MinCapacity"], target[0]["MaxCapacity"]) == (1, 2)
    assert scaling.describe_scheduled_actions(ResourceId=f"fleet/{name}-fleet", **SCALING)["ScheduledActions"] == []

    removed = run_playbook(
        ROOT / "playbooks" / "fleet.yml", inventory, sandbox, extra_vars={**settings, "appstream_fleet_state": "absent"}
    )
    assert removed.rc == 0, removed.stdout[-3000:]
    assert fleet_of(sandbox, f"{name}-fleet") is None


def test_the_site_plan_of_a_running_tenant_says_when_its_fleet_would_restart(tmp_path, sandbox):
    """site.yml --check on a converged tenant whose change needs the fleet stopped: the plan completes."""
    name = unique("rp")
    tenant = demo_tenant()
    tenant.update(name=name, environment="test", auth="userpool")
    tenant.pop("directory")
    tenant.pop("storage")
    tenant["users"] = [{k: v for k, v in u.items() if k != "username"} for u in tenant["users"]]
    tenant["appstream"]["fleet"].pop("schedule")  # the fleet runs whatever the hour of the test
    inventory = write_inventory(tmp_path / "inventory", tenant, sandbox)
    converged = run_playbook("site.yml", inventory, sandbox, timeout=900)
    assert converged.rc == 0, converged.stdout[-3000:]
    fleet = f"{name}-fleet"
    assert fleet_of(sandbox, fleet)["State"] == "RUNNING"
    sandbox.hook("appstream", "sessions", stack=f"{name}-stack", fleet=fleet, user="ada@lab.example", count=1)

    tenant["appstream"]["fleet"]["instance_type"] = "stream.standard.large"
    write_inventory(tmp_path / "inventory", tenant, sandbox)

    # when_running=fail (the default): the refused change is a warning, the later stages are still planned.
    plan = run_playbook("site.yml", inventory, sandbox, check=True, diff=True, timeout=900)
    output = plan.stdout + plan.stderr
    assert plan.rc == 0, output[-3000:]
    assert plan.recap[name]["failed"] == 0
    assert plan.stats()["mutating"] == 0, plan.stats()["mutating_operations"]
    assert (
        f"fleet '{fleet}' is RUNNING; instance_type can only change while it is stopped. Set when_running=restart"
        in " ".join(output.split())
    )
    assert "An apply refuses this change and leaves the fleet as it is." in " ".join(output.split())
    assert "PLAY [Converge the tenant stacks]" in plan.stdout and "PLAY [Converge the tenant guardrails]" in plan.stdout

    # when_running=restart: the plan says that the fleet stops and its users are disconnected.
    restart = run_playbook(
        "site.yml",
        inventory,
        sandbox,
        check=True,
        diff=True,
        extra_vars={"appstream_fleet_when_running": "restart"},
        timeout=900,
    )
    output = " ".join((restart.stdout + restart.stderr).split())
    assert restart.rc == 0, output[-3000:]
    assert restart.stats()["mutating"] == 0, restart.stats()["mutating_operations"]
    assert (
        f"fleet '{fleet}' is RUNNING: changing instance_type needs it stopped, so the fleet stops and its users are "
        "disconnected (1 streaming session now)" in output
    )
    assert "STOPPED, users disconnected, then RUNNING" in output
    current = fleet_of(sandbox, fleet)
    assert current["State"] == "RUNNING" and current["InstanceType"] == "stream.standard.medium"
