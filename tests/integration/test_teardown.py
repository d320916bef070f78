"""playbooks/teardown.yml on the sandbox: two SAML tenants converged with site.yml, then torn down.

Tenant A is surrounded by decoys made in plain boto3 (a VPC with A's Name tag but another tenant's
tag, an untagged VPC with the same Name, another tenant's fleet whose name starts like A's and which
streams A's image, an FSx file system with A's Name tag but another tenant's tag, a secret under
``A/`` without A's tag). Tenant B is torn down with an interruption: ansible-playbook is killed
(SIGKILL, whole process group) right after the fleet is deleted, then run again.

The tests run in order and share the two tenants (one converge of both costs about a minute):
refusal without confirmation, the check-mode plan, A's teardown, B's interrupted teardown and a
no-op third run, then the purges of images and secrets on both.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.client import SandboxClient
from tests.helpers import BIN, ROOT, PlaybookRun, demo_tenant, run_playbook, write_inventory

SITE = ROOT / "site.yml"
TEARDOWN = ROOT / "playbooks" / "teardown.yml"
SUFFIX = uuid.uuid4().hex[:5]
A = f"tda{SUFFIX}"
B = f"tdb{SUFFIX}"
OTHER = f"{A}-lab2"  # another tenant whose resource names start like A's


def definition(name: str, cidr: str) -> dict[str, Any]:
    tenant = demo_tenant()
    tenant["name"] = name
    tenant["network"]["cidr"] = cidr
    tenant["directory"].update(fqdn=f"corp.{name}.example", netbios=name.upper())
    return tenant


def tags_of(pairs: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in pairs or []}


def teardown_report(run: PlaybookRun, tenant: str) -> dict[str, Any]:
    """The `teardown_report` the playbook prints for `tenant` (its debug task, YAML callback)."""
    match = re.search(
        rf"^ok: \[{re.escape(tenant)}\] => \n    teardown_report:\n((?:        .*\n)+)", run.stdout, re.MULTILINE
    )
    assert match, f"no teardown report for {tenant}:\n{run.stdout[-3000:]}"
    return yaml.safe_load(match.group(1).replace("\n        ", "\n")[8:])


@dataclass
class Decoys:
    vpc_other_tenant: str = ""
    vpc_untagged: str = ""
    fleet: str = ""
    file_system: str = ""
    secret: str = ""


@dataclass
class World:
    sandbox: SandboxClient
    inventories: dict[str, Path]
    decoys: Decoys
    images: dict[str, str] = field(default_factory=dict)
    runs: dict[str, PlaybookRun] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return self.sandbox.boto3(service)

    def appstream(self) -> dict[str, Any]:
        return self.sandbox.hook("appstream", "inventory")

    def owned_vpcs(self, tenant: str) -> list[str]:
        vpcs = self.client("ec2").describe_vpcs(Filters=[{"Name": "tag:tenant", "Values": [tenant]}])["Vpcs"]
        return [v["VpcId"] for v in vpcs]

    def owned_file_systems(self, tenant: str) -> list[dict[str, Any]]:
        return [
            fs for fs in self.sandbox.hook("fsx", "inventory")["file_systems"] if fs["tags"].get("tenant") == tenant
        ]

    def owned_directories(self, tenant: str) -> list[dict[str, Any]]:
        return [d for d in self.sandbox.hook("ds", "inventory")["directories"] if d["tags"].get("tenant") == tenant]

    def budgets(self) -> dict[str, Any]:
        return self.sandbox.hook("budgets", "inventory")["budgets"]

    def secret(self, name: str) -> dict[str, Any]:
        return self.client("secretsmanager").describe_secret(SecretId=name)

    def teardown(self, *tenants: str, **kwargs: Any) -> PlaybookRun:
        extra = kwargs.pop("extra_vars", {})
        return run_playbook(
            TEARDOWN,
            [self.inventories[t] for t in tenants],
            self.sandbox,
            extra_vars={"confirm_teardown": ",".join(tenants), **extra},
            **kwargs,
        )


def make_decoys(sandbox: SandboxClient, image: str) -> Decoys:
    """Resources that look like tenant A's but are not A's to delete."""
    ec2, appstream, fsx = sandbox.boto3("ec2"), sandbox.boto3("appstream"), sandbox.boto3("fsx")
    decoys = Decoys()

    def vpc(cidr: str, tags: dict[str, str]) -> str:
        specification = [{"ResourceType": "vpc", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
        return ec2.create_vpc(CidrBlock=cidr, TagSpecifications=specification)["Vpc"]["VpcId"]

    decoys.vpc_other_tenant = vpc("10.173.0.0/16", {"Name": f"{A}-vpc", "tenant": OTHER, "managed-by": "someone"})
    decoys.vpc_untagged = vpc("10.174.0.0/16", {"Name": f"{A}-vpc"})
    zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    subnet = ec2.create_subnet(VpcId=decoys.vpc_other_tenant, CidrBlock="10.173.0.0/24", AvailabilityZone=zone)
    subnet_id = subnet["Subnet"]["SubnetId"]
    group = ec2.create_security_group(
        GroupName=f"{OTHER}-streaming", Description="decoy", VpcId=decoys.vpc_other_tenant
    )

    # Another tenant's fleet, named like A's, streaming A's image (same account): it keeps that image.
    decoys.fleet = f"{OTHER}-fleet"
    appstream.create_fleet(
        Name=decoys.fleet,
        ImageName=image,
        InstanceType="stream.standard.medium",
        FleetType="ON_DEMAND",
        ComputeCapacity={"DesiredInstances": 1},
        VpcConfig={"SubnetIds": [subnet_id], "SecurityGroupIds": [group["GroupId"]]},
        Tags={"tenant": OTHER},
    )
    decoys.file_system = fsx.create_file_system(
        FileSystemType="WINDOWS",
        StorageCapacity=32,
        StorageType="SSD",
        SubnetIds=[subnet_id],
        WindowsConfiguration={
            "DeploymentType": "SINGLE_AZ_2",
            "ThroughputCapacity": 32,
            "SelfManagedActiveDirectoryConfiguration": {
                "DomainName": "corp.other.example",
                "UserName": "fsxadmin",
                "Password": "Decoy-Passw0rd!",
                "DnsIps": ["10.173.0.10"],
            },
        },
        Tags=[{"Key": "Name", "Value": f"{A}-fsx"}, {"Key": "tenant", "Value": OTHER}],
    )["FileSystem"]["FileSystemId"]
    decoys.secret = f"{A}/users/decoy"
    sandbox.boto3("secretsmanager").create_secret(Name=decoys.secret, SecretString="not A's")
    return decoys


@pytest.fixture(scope="module")
def world(sandbox: SandboxClient, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("teardown")
    inventories = {}
    for name, cidr in ((A, "10.171.0.0/16"), (B, "10.172.0.0/16")):
        directory = write_inventory(
            base / name, definition(name, cidr), sandbox, extra_host_vars={"image_build_mode": "sandbox_hook"}
        )
        (directory / "files").mkdir(exist_ok=True)  # the IdP metadata of a SAML tenant
        shutil.copy(ROOT / "inventories" / "demo" / "files" / "saml-metadata.xml", directory / "files")
        inventories[name] = directory
    converge = run_playbook(SITE, list(inventories.values()), sandbox)
    assert converge.rc == 0, converge.stdout[-5000:] + converge.stderr
    assert converge.recap[A]["failed"] == 0 and converge.recap[B]["failed"] == 0
    images = {
        tags["tenant"]: name
        for name, image in sandbox.hook("appstream", "inventory")["images"].items()
        if (tags := image["tags"]).get("tenant") in (A, B)
    }
    assert sorted(images) == [A, B], images
    yield World(sandbox, inventories, make_decoys(sandbox, images[A]), images)


# -- confirmation ----------------------------------------------------------------------------------


def test_teardown_without_confirmation_fails_before_any_aws_call(world: World) -> None:
    run = run_playbook(TEARDOWN, [world.inventories[A], world.inventories[B]], world.sandbox)

    assert run.rc != 0
    assert "confirm_teardown" in run.stdout
    assert f"-e confirm_teardown={A},{B}" in " ".join(run.stdout.split())
    assert run.stats()["total"] == 0, run.stats()["by_operation"]
    assert f"{A}-fleet" in world.appstream()["fleets"]


def test_every_tenant_of_the_run_must_be_confirmed(world: World) -> None:
    run = run_playbook(
        TEARDOWN, [world.inventories[A], world.inventories[B]], world.sandbox, extra_vars={"confirm_teardown": A}
    )

    assert run.rc != 0
    assert f"Refusing to tear down tenant {B}" in " ".join(run.stdout.split())
    assert run.stats()["total"] == 0, run.stats()["by_operation"]
    assert f"{A}-fleet" in world.appstream()["fleets"]


# -- plan -------------------------------------------------------------------------------------------


def test_check_mode_plans_the_deletions_without_mutating_calls(world: World) -> None:
    run = world.teardown(A, check=True, diff=True)

    assert run.rc == 0, run.stdout[-5000:]
    stats = run.stats()
    assert stats["mutating"] == 0, stats["mutating_operations"]
    report = teardown_report(run, A)
    assert report["check_mode"] is True
    planned = " | ".join(report["deleted"])
    for resource in (f"fleet {A}-fleet", f"stack {A}-stack", f"image builder {A}-builder", f"budget {A}-monthly"):
        assert resource in report["deleted"]
    for kind in ("AppStream directory config", "file system", "directory", "VPC", f"IAM role {A}-appstream-saml"):
        assert kind in planned
    assert f"image {world.images[A]}" not in planned  # images are kept unless purge_images
    assert f"{A}-fleet" in world.appstream()["fleets"]
    assert world.owned_vpcs(A)


# -- teardown ---------------------------------------------------------------------------------------


def test_teardown_removes_everything_the_tenant_owns(world: World) -> None:
    run = world.teardown(A)
    world.runs[A] = run

    assert run.rc == 0, run.stdout[-5000:]
    appstream = world.appstream()
    assert not [f for f in appstream["fleets"] if f.startswith(f"{A}-") and f != world.decoys.fleet]
    assert f"{A}-stack" not in appstream["stacks"]
    assert f"{A}-builder" not in appstream["image_builders"]
    assert f"corp.{A}.example" not in appstream["directory_configs"]
    assert world.owned_vpcs(A) == []
    assert [fs["id"] for fs in world.owned_file_systems(A)] == []
    assert world.owned_directories(A) == []
    assert f"{A}-monthly" not in json.dumps(world.budgets())
    iam = world.client("iam")
    assert f"{A}-appstream-saml" not in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert not [p for p in iam.list_saml_providers()["SAMLProviderList"] if p["Arn"].endswith(f"/{A}-idp")]
    # Images and secrets are kept by default.
    assert appstream["images"][world.images[A]]["state"] == "AVAILABLE"
    assert "DeletedDate" not in world.secret(f"{A}/directory/admin")


def test_teardown_removes_the_alerts_and_keeps_the_region_s_usage_report_subscription(world: World) -> None:
    topics = [t["TopicArn"].rsplit(":", 1)[1] for t in world.client("sns").list_topics()["Topics"]]
    assert f"{A}-alerts" not in topics and f"{B}-alerts" in topics  # B, converged alike, is not torn down yet
    alarms = world.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{A}-fleet-")["MetricAlarms"]
    assert alarms == []
    assert world.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{B}-fleet-")["MetricAlarms"]
    subscriptions = world.client("appstream").describe_usage_report_subscriptions()["UsageReportSubscriptions"]
    assert len(subscriptions) == 1
    assert "SNS topic " + f"{A}-alerts" in teardown_report(world.runs[A], A)["deleted"]


def test_teardown_leaves_the_decoys_intact(world: World) -> None:
    ec2 = world.client("ec2")
    vpcs = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    assert {world.decoys.vpc_other_tenant, world.decoys.vpc_untagged} <= vpcs
    assert world.decoys.fleet in world.appstream()["fleets"]
    file_systems = {fs["id"]: fs for fs in world.sandbox.hook("fsx", "inventory")["file_systems"]}
    assert file_systems[world.decoys.file_system]["lifecycle"] == "AVAILABLE"
    assert "DeletedDate" not in world.secret(world.decoys.secret)
    kept = teardown_report(world.runs[A], A)["kept"]
    reasons = " | ".join(f"{k['resource']}: {k['reason']}" for k in kept)
    assert world.decoys.vpc_untagged in reasons and world.decoys.vpc_other_tenant in reasons
    assert f"secret {world.decoys.secret}: not tagged for the tenant" in reasons


def test_teardown_takes_a_final_backup_tagged_for_the_tenant_and_reports_it(world: World) -> None:
    report = teardown_report(world.runs[A], A)
    assert len(report["final_backup_ids"]) == 1
    backup_id = report["final_backup_ids"][0]
    backup = world.client("fsx").describe_backups(BackupIds=[backup_id])["Backups"][0]
    tags = tags_of(backup["Tags"])
    assert tags["tenant"] == A
    assert tags["managed-by"] == "appstream-tenant-toolkit"
    assert backup["Lifecycle"] in ("CREATING", "AVAILABLE")
    assert report["remaining"] == []


# -- interruption ------------------------------------------------------------------------------------


def test_an_interrupted_teardown_finishes_when_run_again(world: World) -> None:
    sandbox = world.sandbox
    mark = sandbox.log_mark()
    command = [
        str(BIN / "ansible-playbook"),
        str(TEARDOWN),
        "-i",
        str(world.inventories[B]),
        "-e",
        json.dumps({"confirm_teardown": B}),
    ]
    environment = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill reaches the forked workers too
    )
    try:
        deadline = time.monotonic() + 300
        while not any(e["operation"] == "DeleteFleet" for e in sandbox.log(mark)):
            assert process.poll() is None, "the teardown ended before deleting the fleet"
            assert time.monotonic() < deadline, "no DeleteFleet within 300 s"
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)

    assert f"{B}-fleet" not in world.appstream()["fleets"]
    assert world.owned_file_systems(B), "killed after the fleet: the file system must still be there"
    assert world.owned_vpcs(B)

    resumed = world.teardown(B)

    assert resumed.rc == 0, resumed.stdout[-5000:]
    appstream = world.appstream()
    assert f"{B}-stack" not in appstream["stacks"] and f"{B}-builder" not in appstream["image_builders"]
    assert world.owned_vpcs(B) == [] and world.owned_directories(B) == []
    assert [fs["id"] for fs in world.owned_file_systems(B)] == []
    assert len(teardown_report(resumed, B)["final_backup_ids"]) == 1


def test_a_third_run_after_the_interruption_changes_nothing(world: World) -> None:
    run = world.teardown(B)

    assert run.rc == 0, run.stdout[-5000:]
    assert run.recap[B]["changed"] == 0
    stats = run.stats()
    assert stats["mutating"] == 0, stats["mutating_operations"]
    report = teardown_report(run, B)
    assert report["deleted"] == [] and report["remaining"] == []


# -- purges -----------------------------------------------------------------------------------------


def test_purge_images_deletes_the_tenant_images_but_keeps_one_used_elsewhere(world: World) -> None:
    run = world.teardown(A, B, extra_vars={"purge_images": True, "purge_secrets": True})

    assert run.rc == 0, run.stdout[-5000:]
    images = world.appstream()["images"]
    assert world.images[B] not in images
    # A's image streams in another tenant's fleet: kept, and said why.
    assert images[world.images[A]]["state"] == "AVAILABLE"
    kept = teardown_report(run, A)["kept"]
    assert any(k["resource"] == f"image {world.images[A]}" and world.decoys.fleet in k["reason"] for k in kept), kept
    assert f"image {world.images[B]}" in teardown_report(run, B)["deleted"]


def test_purge_secrets_schedules_the_tenant_secrets_for_deletion_only(world: World) -> None:
    for tenant in (A, B):
        for suffix in ("directory/admin", "directory/appstream-service"):
            assert "DeletedDate" in world.secret(f"{tenant}/{suffix}"), f"{tenant}/{suffix}"
    assert "DeletedDate" not in world.secret(world.decoys.secret)
