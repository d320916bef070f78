"""The ops runbooks (playbooks/ops/*.yml) on the sandbox, against one user-pool tenant converged by site.yml.

The tenant is converged once for the module; the tests then run in file order, each asserting the
resulting AWS state (DescribeFleets, Application Auto Scaling describes, DescribeUsers, DescribeImages)
and, through the sandbox's request log, that bad extra variables and --check make no AWS change.
The image tests come last: they move the fleet to another image.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.scaling import within_working_hours

from sandbox.client import SandboxClient
from tests.helpers import ROOT, PlaybookRun, demo_tenant, run_playbook, write_inventory

OPS = ROOT / "playbooks" / "ops"
POOL = "rbkpool"
SAML = "rbksaml"
FLEET = f"{POOL}-fleet"
STACK = f"{POOL}-stack"
RESOURCE = f"fleet/{FLEET}"
ADA = "ada.rbk@lab.example"
BOB = "bob.rbk@lab.example"
HEADER = "email,first_name,last_name,action\n"


def pool_definition() -> dict[str, Any]:
    """A light user-pool tenant: no directory, no file system, no NAT; one listed user."""
    tenant = demo_tenant()
    tenant.update(name=POOL, auth="userpool")
    tenant.pop("directory")
    tenant.pop("storage")
    tenant["network"].update(cidr="10.88.0.0/16", nat_gateways="none")
    tenant["appstream"]["fleet"].update(min_capacity=1, max_capacity=2)
    tenant["appstream"]["fleet"].pop("schedule")
    tenant["users"] = [{"email": ADA, "first_name": "Ada", "last_name": "Rbk"}]
    return tenant


def saml_definition() -> dict[str, Any]:
    tenant = demo_tenant()
    tenant["name"] = SAML
    tenant["network"]["cidr"] = "10.89.0.0/16"
    tenant["directory"].update(fqdn=f"corp.{SAML}.example", netbios=SAML.upper())
    return tenant


@dataclass
class Tenant:
    inventory: Path
    saml_inventory: Path
    base: Path
    sandbox: SandboxClient

    def run(
        self, runbook: str, *, check: bool = False, inventories: list[Path] | None = None, **extra: Any
    ) -> PlaybookRun:
        return run_playbook(
            OPS / f"{runbook}.yml", inventories or self.inventory, self.sandbox, extra_vars=extra or None, check=check
        )

    def csv(self, name: str, rows: str) -> Path:
        path = self.base / name
        path.write_text(HEADER + rows)
        return path

    # -- AWS state --------------------------------------------------------------------------
    def fleet(self) -> dict[str, Any]:
        return self.sandbox.boto3("appstream").describe_fleets(Names=[FLEET])["Fleets"][0]

    def target(self) -> tuple[int, int]:
        scaling = self.sandbox.boto3("application-autoscaling")
        (target,) = scaling.describe_scalable_targets(ServiceNamespace="appstream", ResourceIds=[RESOURCE])[
            "ScalableTargets"
        ]
        return target["MinCapacity"], target["MaxCapacity"]

    def policies(self) -> list[str]:
        scaling = self.sandbox.boto3("application-autoscaling")
        policies = scaling.describe_scaling_policies(ServiceNamespace="appstream", ResourceId=RESOURCE)
        return [p["PolicyName"] for p in policies["ScalingPolicies"]]

    def actions(self) -> dict[str, dict[str, Any]]:
        scaling = self.sandbox.boto3("application-autoscaling")
        actions = scaling.describe_scheduled_actions(ServiceNamespace="appstream", ResourceId=RESOURCE)
        return {a["ScheduledActionName"]: a for a in actions["ScheduledActions"]}

    def users(self) -> dict[str, bool]:
        users = self.sandbox.boto3("appstream").describe_users(AuthenticationType="USERPOOL")["Users"]
        return {u["UserName"]: u["Enabled"] for u in users if u["UserName"].endswith(".rbk@lab.example")}

    def stack_users(self) -> set[str]:
        appstream = self.sandbox.boto3("appstream")
        associations = appstream.describe_user_stack_associations(StackName=STACK)
        return {a["UserName"] for a in associations["UserStackAssociations"]}

    def images(self) -> set[str]:
        images = self.sandbox.boto3("appstream").describe_images(Type="PRIVATE")["Images"]
        return {i["Name"] for i in images if i["Name"].startswith(f"{POOL}-suite-") and i["State"] == "AVAILABLE"}


@pytest.fixture(scope="module")
def tenant(sandbox: SandboxClient, tmp_path_factory: pytest.TempPathFactory) -> Tenant:
    base = tmp_path_factory.mktemp("runbooks")
    inventory = write_inventory(base / "pool", pool_definition(), sandbox)
    saml_inventory = write_inventory(base / "saml", saml_definition(), sandbox)  # with its IdP metadata
    # The budget and cost estimate play no part in the runbooks.
    converge = run_playbook(ROOT / "site.yml", inventory, sandbox, args=["--skip-tags", "guardrails"])
    assert converge.rc == 0, converge.stdout[-3000:] + converge.stderr
    return Tenant(inventory, saml_inventory, base, sandbox)


def output(run: PlaybookRun) -> str:
    """Everything the run printed, with Ansible's line wrapping undone."""
    return " ".join((run.stdout + run.stderr).split())


def assert_no_change(run: PlaybookRun) -> None:
    stats = run.stats()
    assert stats["mutating"] == 0, stats["mutating_operations"]


def assert_no_aws_call(run: PlaybookRun) -> None:
    assert run.rc != 0, run.stdout
    stats = run.stats()
    assert stats["total"] == 0, stats["by_operation"]


# -- every runbook checks its extra variables first --------------------------------------------


@pytest.mark.parametrize(
    ("runbook", "extra", "errors"),
    [
        (
            "fleet_scale",
            {"desired": -1, "min_capacity": 3, "max_capacity": 2},
            ["desired: -1 is below the minimum of 0", "min_capacity: 3 is above max_capacity (2)"],
        ),
        ("fleet_scale", {}, ["desired, min_capacity, max_capacity: at least one of them is required"]),
        ("fleet_schedule", {"schedule": "maybe"}, ['schedule: "maybe" is not one of on, off']),
        (
            "fleet_schedule",
            {"schedule": "on", "start": "7:30", "timezone": "Europe/Pariss"},
            ['start: "7:30" does not match "HH:MM"', 'timezone: "Europe/Pariss" is not an IANA time zone name'],
        ),
        ("fleet_stop", {"wait": "perhaps"}, ['wait: must be a boolean (true or false), got string "perhaps"']),
        ("fleet_start", {"wait_timeout": 5}, ["wait_timeout: 5 is below the minimum of 60"]),
        ("image_rotate", {"keep": 0}, ["keep: 0 is below the minimum of 1"]),
        ("users", {}, ["users_csv: is required but missing (pass -e users_csv=...)"]),
        (
            "streaming_url",
            {"user": "x", "validity": 700000},
            ['user: "x" does not match 2 to 32 letters', "validity: 700000 is above the maximum of 604800"],
        ),
    ],
)
def test_bad_extra_variables_fail_naming_the_variable_before_any_aws_call(
    tenant: Tenant, runbook: str, extra: dict[str, Any], errors: list[str]
) -> None:
    run = tenant.run(runbook, **extra)
    assert_no_aws_call(run)
    text = output(run)
    assert f"Invalid extra variables of playbooks/ops/{runbook}.yml" in text
    for error in errors:
        assert error in text, text[-2000:]


def test_a_bad_csv_file_fails_naming_its_rows_before_any_aws_call(tenant: Tenant) -> None:
    path = tenant.csv("bad.csv", f"{BOB},Bob,Rbk,add\nnot-an-address,Zoë,Rbk,ad\n")
    run = tenant.run("users", users_csv=str(path))
    assert_no_aws_call(run)
    text = output(run)
    assert f"Invalid rows of users_csv {path}: 3 errors" in text
    assert 'row 2.email: "not-an-address" is not an e-mail address' in text
    assert 'row 2.first_name: "Zoë" does not match ASCII letters' in text
    assert 'row 2.action: "ad" is not one of add, disable, enable, remove' in text


def test_users_refuses_a_saml_tenant_before_any_aws_call(tenant: Tenant) -> None:
    run = tenant.run(
        "users", inventories=[tenant.saml_inventory], users_csv=str(tenant.csv("one.csv", f"{BOB},,,add\n"))
    )
    assert_no_aws_call(run)
    assert (
        f"Tenant {SAML} signs in through SAML: its users are accounts of the directory corp.{SAML}.example"
        in output(run)
    )


# -- fleet_scale -------------------------------------------------------------------------------


def test_fleet_scale_sets_the_running_instances_and_the_scaling_range(tenant: Tenant) -> None:
    assert tenant.target() == (1, 2)
    desired = tenant.fleet()["ComputeCapacityStatus"]["Desired"]
    # key=value extra variables arrive as strings
    run = run_playbook(
        OPS / "fleet_scale.yml",
        tenant.inventory,
        tenant.sandbox,
        args=["-e", "desired=3", "-e", "min_capacity=2", "-e", "max_capacity=4"],
    )
    assert run.rc == 0, output(run)[-3000:]
    assert tenant.fleet()["ComputeCapacityStatus"]["Desired"] == 3
    assert tenant.target() == (2, 4)
    assert tenant.policies() == [f"{FLEET}-capacity-utilization"]  # the target-tracking policy stays
    assert "scaling 1..2 -> 2..4" in output(run) and f"desired instances {desired} -> 3" in output(run)


def test_fleet_scale_in_check_mode_changes_nothing(tenant: Tenant) -> None:
    run = tenant.run("fleet_scale", check=True, desired=4, max_capacity=6)
    assert run.rc == 0, output(run)[-3000:]
    assert run.recap[POOL]["changed"] == 2
    assert_no_change(run)
    assert tenant.fleet()["ComputeCapacityStatus"]["Desired"] == 3
    assert tenant.target() == (2, 4)


def test_fleet_scale_refuses_a_maximum_below_the_fleet_s_minimum_without_changing_anything(tenant: Tenant) -> None:
    run = tenant.run("fleet_scale", max_capacity=1)
    assert run.rc != 0
    assert_no_change(run)
    assert f"max_capacity: 1 is below the minimum capacity of fleet {FLEET} (2); pass min_capacity too." in output(run)
    assert tenant.target() == (2, 4)


# -- fleet_schedule ----------------------------------------------------------------------------


def working_hours_around_now() -> tuple[dict[str, Any], bool]:
    """UTC hours at least an hour away from now on either side: inside them when possible."""
    now = datetime.datetime.now(datetime.UTC)
    if 2 <= now.hour <= 20:
        hours = {"start": f"{now.hour - 1:02d}:00", "stop": f"{now.hour + 2:02d}:00"}
    else:
        hours = {"start": "10:00", "stop": "12:00"}
    hours |= {"timezone": "UTC", "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}
    return hours, within_working_hours(hours, now)


def test_fleet_schedule_in_check_mode_changes_nothing(tenant: Tenant) -> None:
    hours, _ = working_hours_around_now()
    run = tenant.run("fleet_schedule", check=True, schedule="on", **hours)
    assert run.rc == 0, output(run)[-3000:]
    assert_no_change(run)
    assert tenant.actions() == {}


def test_fleet_schedule_on_creates_the_working_hours_actions_and_applies_them_now(tenant: Tenant) -> None:
    hours, inside = working_hours_around_now()
    run = tenant.run("fleet_schedule", schedule="on", **hours)
    assert run.rc == 0, output(run)[-3000:]
    actions = tenant.actions()
    assert sorted(actions) == [f"{FLEET}-working-hours-start", f"{FLEET}-working-hours-stop"]
    start, stop = actions[f"{FLEET}-working-hours-start"], actions[f"{FLEET}-working-hours-stop"]
    hour, minute = (int(part) for part in hours["start"].split(":"))
    assert start["Schedule"] == f"cron({minute} {hour} ? * * *)" and start["Timezone"] == "UTC"
    assert start["ScalableTargetAction"] == {"MinCapacity": 2, "MaxCapacity": 4}  # the fleet's capacity
    assert stop["ScalableTargetAction"] == {"MinCapacity": 0, "MaxCapacity": 0}
    assert tenant.target() == ((2, 4) if inside else (0, 0))


def test_fleet_scale_on_a_scheduled_fleet_moves_its_start_action_too(tenant: Tenant) -> None:
    _, inside = working_hours_around_now()
    run = tenant.run("fleet_scale", max_capacity=5)
    assert run.rc == 0, output(run)[-3000:]
    start = tenant.actions()[f"{FLEET}-working-hours-start"]
    assert start["ScalableTargetAction"] == {"MinCapacity": 2, "MaxCapacity": 5}
    assert tenant.target() == ((2, 5) if inside else (0, 0))  # outside working hours the fleet stays at 0
    assert sorted(tenant.actions()) == [f"{FLEET}-working-hours-start", f"{FLEET}-working-hours-stop"]


def test_fleet_schedule_off_removes_the_actions_and_keeps_the_working_hours_capacity(tenant: Tenant) -> None:
    run = tenant.run("fleet_schedule", schedule="off")
    assert run.rc == 0, output(run)[-3000:]
    assert tenant.actions() == {}
    assert tenant.target() == (2, 5)
    assert tenant.policies() == [f"{FLEET}-capacity-utilization"]


# -- fleet_stop / fleet_start ----------------------------------------------------------------


def test_fleet_stop_and_start_move_the_fleet_between_stopped_and_running(tenant: Tenant) -> None:
    stop = tenant.run("fleet_stop")
    assert stop.rc == 0, output(stop)[-3000:]
    assert tenant.fleet()["State"] == "STOPPED"
    assert "Fleet rbkpool-fleet: RUNNING -> STOPPED" in output(stop)

    planned = tenant.run("fleet_start", check=True)
    assert planned.rc == 0, output(planned)[-3000:]
    assert_no_change(planned)
    assert tenant.fleet()["State"] == "STOPPED"

    start = tenant.run("fleet_start", wait=True)
    assert start.rc == 0, output(start)[-3000:]
    assert tenant.fleet()["State"] == "RUNNING"
    assert [c["operation"] for c in start.calls() if c["mutating"]] == ["StartFleet"]


# -- users -----------------------------------------------------------------------------------


def test_users_adds_and_disables_the_users_of_the_csv_file(tenant: Tenant) -> None:
    assert tenant.users() == {ADA: True}
    run = tenant.run("users", users_csv=str(tenant.csv("add.csv", f"{BOB},Bob,Rbk,add\n{ADA},,,disable\n")))
    assert run.rc == 0, output(run)[-3000:]
    assert tenant.users() == {ADA: False, BOB: True}
    assert tenant.stack_users() == {ADA, BOB}
    text = output(run)
    assert f"{BOB}: not in tenant.users, site.yml removes it" in text
    assert f"{ADA}: enabled in tenant.users, site.yml enables it again" in text


def test_users_in_check_mode_changes_nothing(tenant: Tenant) -> None:
    run = tenant.run("users", check=True, users_csv=str(tenant.csv("check.csv", f"{BOB},,,remove\n{ADA},,,enable\n")))
    assert run.rc == 0, output(run)[-3000:]
    assert_no_change(run)
    assert tenant.users() == {ADA: False, BOB: True}


def test_users_refuses_to_enable_a_user_that_does_not_exist_before_any_change(tenant: Tenant) -> None:
    ghost = "ghost.rbk@lab.example"
    run = tenant.run("users", users_csv=str(tenant.csv("ghost.csv", f"{BOB},,,remove\n{ghost},,,enable\n")))
    assert run.rc != 0
    assert_no_change(run)
    assert f"users_csv: {ghost} not in the user pool of tenant {POOL}" in output(run)
    assert tenant.users() == {ADA: False, BOB: True}


def test_users_removes_and_enables_the_users_of_the_csv_file(tenant: Tenant) -> None:
    run = tenant.run("users", users_csv=str(tenant.csv("remove.csv", f"{BOB},,,remove\n{ADA},,,enable\n")))
    assert run.rc == 0, output(run)[-3000:]
    assert tenant.users() == {ADA: True}
    assert tenant.stack_users() == {ADA}


# -- streaming_url ---------------------------------------------------------------------------


URL_PATTERN = r"https://appstream2\.eu-west-3\.aws\.amazon\.com/authenticate\?parameters=\S+"


def test_streaming_url_writes_a_private_file_for_a_user_pool_tenant_and_the_relay_state_for_a_saml_one(
    tenant: Tenant,
) -> None:
    """The URL is a credential: the output AWX or Jenkins keeps names a 0600 file, never the URL itself."""
    url_dir = tenant.base / "urls"
    run = tenant.run(
        "streaming_url", inventories=[tenant.inventory, tenant.saml_inventory], user="support-ada", url_dir=str(url_dir)
    )
    assert run.rc == 0, output(run)[-3000:]
    text = output(run)
    written = url_dir / "streaming-url-support-ada.txt"
    assert f"Streaming URL for support-ada on {STACK}, valid until" in text and f"written to {written}" in text
    assert re.fullmatch(URL_PATTERN + "\n", written.read_text())
    assert written.stat().st_mode & 0o777 == 0o600 and url_dir.stat().st_mode & 0o777 == 0o700
    assert not re.search(URL_PATTERN, text), "the URL reached the job output"
    assert f"https://appstream2.eu-west-3.aws.amazon.com/saml?stack={SAML}-stack&accountId=123456789012" in text
    assert [c["operation"] for c in run.calls() if c["mutating"]] == ["CreateStreamingURL"]


def test_streaming_url_is_printed_only_when_asked(tenant: Tenant) -> None:
    run = tenant.run("streaming_url", user="support-bob", show_url=True)
    assert run.rc == 0, output(run)[-3000:]
    assert re.search(URL_PATTERN, output(run))


# -- image_rotate (last: moves the fleet to another image) --------------------------------------


def test_image_rotate_with_an_unchanged_catalogue_changes_nothing(tenant: Tenant) -> None:
    before = tenant.fleet()["ImageName"]
    run = tenant.run("image_rotate")
    assert run.rc == 0, output(run)[-3000:]
    assert run.recap[POOL]["changed"] == 0
    assert_no_change(run)
    assert tenant.fleet()["ImageName"] == before
    assert f"already streams {before}" in output(run)


@pytest.fixture(scope="module")
def changed_catalogue(tenant: Tenant) -> Path:
    """The same tenant with one application less: another catalogue hash, another image."""
    definition = pool_definition()
    definition["apps"] = ["icostudio"]
    return write_inventory(tenant.base / "pool-icostudio", definition, tenant.sandbox)


def test_image_rotate_in_check_mode_builds_and_moves_nothing(tenant: Tenant, changed_catalogue: Path) -> None:
    before, images = tenant.fleet()["ImageName"], tenant.images()
    run = tenant.run("image_rotate", check=True, inventories=[changed_catalogue])
    assert run.rc == 0, output(run)[-3000:]
    assert_no_change(run)
    assert tenant.fleet()["ImageName"] == before
    assert tenant.images() == images
    assert f"would move from {before} to {POOL}-suite-" in output(run)


def test_image_rotate_builds_the_new_catalogue_image_and_moves_the_fleet_keeping_the_old_one(
    tenant: Tenant, changed_catalogue: Path
) -> None:
    before = tenant.fleet()["ImageName"]
    run = tenant.run("image_rotate", inventories=[changed_catalogue], keep=1)
    assert run.rc == 0, output(run)[-3000:]
    after = tenant.fleet()["ImageName"]
    assert after != before and after.startswith(f"{POOL}-suite-")
    assert {before, after} <= tenant.images()  # the previous image is kept
    assert tenant.fleet()["State"] == "RUNNING"  # moved live, never stopped
    mutating = [c["operation"] for c in run.calls() if c["mutating"]]
    assert "StopFleet" not in mutating and mutating.count("UpdateFleet") == 1
