"""Ownership at converge time: look-alike resources of another tenant, or of nobody, are never adopted.

Before one `site.yml` run over several tenants (`-i a -i b ...`), decoys are made in plain boto3 with
the names the toolkit would give a tenant's resources, but another tenant's `tenant` tag or none:

- VPCs named like the tenant's (untagged, and tagged for someone else): the network module ignores
  them and builds the tenant's own; the tenant converges as cleanly as the reference run;
- resources whose name is unique in the account or region (a Managed AD domain, an AppStream fleet, a
  budget, the SAML federation role, the directory admin secret): the tenant's run must stop with a
  message saying the resource is not the tenant's, and leave the decoy exactly as it was.

Then the teardown of the tenant that converged leaves the tenant stopped by the budget decoy (the last
stage, so everything else of it exists) exactly as it was (same resources, ids, states and tags), and
takes the file system's final backup. The calls of the converge and of the teardown are also checked
against the deployer's IAM policy (policies/deployer.json). Teardown decoys and interrupted teardowns
are tests/integration/test_teardown.py's subject.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from sandbox.client import SandboxClient
from tests.helpers import PlaybookRun, run_playbook
from tests.reliability import footprint, policy
from tests.reliability.conftest import Converged
from tests.reliability.tenants import REGION, demo_tenant, netbios_of, write_demo_inventory

pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"
OTHER = "someone-else"
DECOY_PASSWORD = "Decoy-0f-Someone-Else!2024"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


# --- decoys: each made in plain boto3, each read back the same way before and after the run -----------------
@dataclass
class Decoy:
    tenant: str  # whose names it imitates
    kind: str
    ident: str
    read: Callable[[], Any]
    before: Any = None
    after_converge: Any = None


def vpc_decoys(sandbox: SandboxClient, tenant: str) -> list[Decoy]:
    ec2 = sandbox.boto3("ec2", REGION)
    decoys = []
    for label, tags in (
        ("untagged", {"Name": f"{tenant}-vpc"}),
        (
            "other",
            {"Name": f"{tenant}-vpc", "tenant": OTHER, "toolkit:component": "network", "toolkit:resource": "vpc"},
        ),
    ):
        spec = [{"ResourceType": "vpc", "Tags": _tag_list(tags)}]
        vpc_id = ec2.create_vpc(CidrBlock="10.40.0.0/16", TagSpecifications=spec)["Vpc"]["VpcId"]
        ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.40.0.0/24")

        def read(vpc_id: str = vpc_id) -> Any:
            (vpc,) = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
            subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
            groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]
            return {"tags": vpc.get("Tags"), "subnets": len(subnets), "groups": len(groups)}

        decoys.append(Decoy(tenant, f"vpc ({label})", vpc_id, read))
    return decoys


def directory_decoy(sandbox: SandboxClient, tenant: str) -> Decoy:
    ec2, ds = sandbox.boto3("ec2", REGION), sandbox.boto3("ds", REGION)
    vpc_id = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    zones = [zone["ZoneName"] for zone in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.99.{index}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for index, zone in enumerate(zones)
    ]
    directory_id = ds.create_microsoft_ad(
        Name=f"corp.{tenant}.example",
        ShortName=netbios_of(tenant),
        Password=DECOY_PASSWORD,
        Edition="Standard",
        VpcSettings={"VpcId": vpc_id, "SubnetIds": subnets},
        Tags=_tag_list({"tenant": OTHER}),
    )["DirectoryId"]

    def read() -> Any:
        (directory,) = ds.describe_directories(DirectoryIds=[directory_id])["DirectoryDescriptions"]
        tags = ds.list_tags_for_resource(ResourceId=directory_id)["Tags"]
        return {"edition": directory["Edition"], "vpc": directory["VpcSettings"]["VpcId"], "tags": tags}

    return Decoy(tenant, "directory", directory_id, read)


def fleet_decoy(sandbox: SandboxClient, tenant: str) -> Decoy:
    appstream = sandbox.boto3("appstream", REGION)
    name = f"{tenant}-fleet"
    appstream.create_fleet(
        Name=name,
        ImageName=demo_tenant(tenant)["appstream"]["base_image"],
        InstanceType="stream.standard.small",
        FleetType="ON_DEMAND",
        ComputeCapacity={"DesiredInstances": 1},
        Tags={"tenant": OTHER},
    )

    def read() -> Any:
        (fleet,) = appstream.describe_fleets(Names=[name])["Fleets"]
        arn = fleet["Arn"]
        keys = ("State", "ImageName", "InstanceType", "ComputeCapacityStatus", "DomainJoinInfo", "VpcConfig")
        return {key: fleet.get(key) for key in keys} | {
            "tags": appstream.list_tags_for_resource(ResourceArn=arn)["Tags"]
        }

    return Decoy(tenant, "fleet", name, read)


def budget_decoy(sandbox: SandboxClient, tenant: str) -> Decoy:
    budgets = sandbox.boto3("budgets", REGION)
    name = f"{tenant}-monthly"
    budgets.create_budget(
        AccountId=ACCOUNT,
        Budget={
            "BudgetName": name,
            "BudgetLimit": {"Amount": "5", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        },
    )

    def read() -> Any:
        return sandbox.hook("budgets", "inventory", region=REGION)["budgets"][f"{ACCOUNT}/{name}"]

    return Decoy(tenant, "budget (untagged)", name, read)


def role_decoy(sandbox: SandboxClient, tenant: str) -> Decoy:
    iam = sandbox.boto3("iam", REGION)
    name = f"{tenant}-appstream-saml"
    iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(TRUST),
        Description="someone else's role",
        Tags=_tag_list({"tenant": OTHER}),
    )

    def read() -> Any:
        role = iam.get_role(RoleName=name)["Role"]
        return {
            "trust": role["AssumeRolePolicyDocument"],
            "description": role.get("Description"),
            "tags": iam.list_role_tags(RoleName=name)["Tags"],
            "inline_policies": iam.list_role_policies(RoleName=name)["PolicyNames"],
        }

    return Decoy(tenant, "iam role", name, read)


def secret_decoy(sandbox: SandboxClient, tenant: str) -> Decoy:
    secrets = sandbox.boto3("secretsmanager", REGION)
    name = f"{tenant}/directory/admin"
    secrets.create_secret(
        Name=name,
        SecretString=json.dumps({"username": "Admin", "password": DECOY_PASSWORD}),
        Tags=_tag_list({"tenant": OTHER}),
    )

    def read() -> Any:
        described = secrets.describe_secret(SecretId=name)
        value = secrets.get_secret_value(SecretId=name)["SecretString"]
        return {"tags": described.get("Tags"), "value": value}

    return Decoy(tenant, "secret", name, read)


# --- the run ------------------------------------------------------------------------------------------------
IGNORED = "own-ignored"  # VPC look-alikes: ignored, the tenant converges; then it is torn down
# The budget comes last in site.yml: that tenant is otherwise complete, and is the one the teardown of
# IGNORED must leave intact.
PARTNER = "own-budget"
REFUSED = {  # tenant -> (decoy factory, what the failure message names)
    "own-directory": (directory_decoy, "directory 'corp.own-directory.example'"),
    "own-fleet": (fleet_decoy, "fleet 'own-fleet-fleet'"),
    PARTNER: (budget_decoy, "own-budget-monthly"),
    "own-role": (role_decoy, "own-role-appstream-saml"),
    "own-secret": (secret_decoy, "own-secret/directory/admin"),
}


@dataclass
class Ownership:
    sandbox: SandboxClient
    converge: PlaybookRun
    decoys: dict[str, list[Decoy]]
    after_converge: list[footprint.Resource]
    teardown: PlaybookRun
    after_teardown: list[footprint.Resource]
    calls: list[dict[str, Any]]  # the request log entries of the converge and of the teardown


@pytest.fixture(scope="module")
def ownership(reliability_sandbox: SandboxClient, tmp_path_factory: pytest.TempPathFactory) -> Ownership:
    sandbox = reliability_sandbox
    decoys: dict[str, list[Decoy]] = {IGNORED: vpc_decoys(sandbox, IGNORED)}
    decoys |= {tenant: [make(sandbox, tenant)] for tenant, (make, _) in REFUSED.items()}
    for decoy in (d for group in decoys.values() for d in group):
        decoy.before = decoy.read()
    inventories = {
        tenant: write_demo_inventory(tmp_path_factory.mktemp(tenant), demo_tenant(tenant), sandbox) for tenant in decoys
    }
    converge = run_playbook("site.yml", list(inventories.values()), sandbox, timeout=1800)
    # The tenant's calls; the state store's (lock, history) are proven under the policy by
    # test_least_privilege_enforced.py.
    calls = converge.calls()
    after_converge = footprint.collect(sandbox, REGION)
    for decoy in (d for group in decoys.values() for d in group):
        decoy.after_converge = decoy.read()
    teardown = run_playbook(
        "playbooks/teardown.yml", inventories[IGNORED], sandbox, extra_vars={"confirm_teardown": IGNORED}
    )
    calls += teardown.calls()
    after_teardown = footprint.collect(sandbox, REGION)
    return Ownership(sandbox, converge, decoys, after_converge, teardown, after_teardown, calls)


def _failure_of(run: PlaybookRun, host: str) -> str:
    """The text of the host's failed task (message and its first lines), and the errors reported for the
    host before it (a no_log task's failure is censored: the tenant_secret lookup reports why first)."""
    lines = run.stdout.splitlines()
    starts = [index for index, line in enumerate(lines) if re.match(rf"(fatal|failed): \[{re.escape(host)}\]", line)]
    said = [line for line in (run.stdout + run.stderr).splitlines() if line.startswith(f"[ERROR]: {host}: ")]
    return "\n".join(said + [line for index in starts for line in lines[index : index + 12]])


def test_a_tenant_next_to_look_alikes_converges_like_the_reference(ownership: Ownership, reference: Converged) -> None:
    counters = ownership.converge.recap[IGNORED]
    assert counters["failed"] == 0, _failure_of(ownership.converge, IGNORED)
    actual = footprint.normalised(ownership.after_converge, IGNORED, netbios_of(IGNORED))
    assert footprint.difference(actual, reference.normalised) == {}


@pytest.mark.parametrize("tenant", sorted(REFUSED))
def test_a_resource_of_another_owner_with_the_tenant_name_stops_the_run(tenant: str, ownership: Ownership) -> None:
    counters = ownership.converge.recap[tenant]
    failure = _failure_of(ownership.converge, tenant)
    assert counters["failed"] == 1, ownership.converge.stdout[-3000:]
    assert REFUSED[tenant][1] in failure, failure
    assert re.search(r"not (owned|the tenant's)|owned by|another tenant", failure), failure


@pytest.mark.parametrize("tenant", [IGNORED, *sorted(REFUSED)])
def test_the_look_alikes_are_left_exactly_as_they_were(tenant: str, ownership: Ownership) -> None:
    for decoy in ownership.decoys[tenant]:
        assert decoy.after_converge == decoy.before, f"{decoy.kind} {decoy.ident} was changed by the converge"


def test_the_tenant_directory_never_takes_another_owner_s_stored_password(ownership: Ownership) -> None:
    directories = [r for r in ownership.after_converge if r.kind == "directory" and r.owner == "own-secret"]
    for directory in directories:
        check = ownership.sandbox.hook(
            "ds", "check-password", region=REGION, directory_id=directory.id, password=DECOY_PASSWORD
        )
        assert not check["matches"], f"{directory.id} was created with the decoy secret's password"


def test_teardown_of_one_tenant_leaves_the_other_exactly_as_it_was(ownership: Ownership) -> None:
    assert ownership.teardown.rc == 0, ownership.teardown.stdout[-5000:]

    def of_partner(resources: list[footprint.Resource]) -> dict[tuple[str, str], Any]:
        return {(r.kind, r.id): r.description for r in resources if r.owner == PARTNER}

    before, after = of_partner(ownership.after_converge), of_partner(ownership.after_teardown)
    assert before and after == before


def test_teardown_removes_the_tenant_and_keeps_its_final_backup(ownership: Ownership) -> None:
    left = [r for r in ownership.after_teardown if r.owner == IGNORED]
    # Images and secrets are kept unless purged; the final backup is what remains of the file system.
    assert {r.kind for r in left} <= {"image", "secret", "fsx_backup"}, [(r.kind, r.id) for r in left]
    backups = [r for r in left if r.kind == "fsx_backup"]
    assert len(backups) == 1
    assert backups[0].description["lifecycle"] == "AVAILABLE"


def test_teardown_spares_the_look_alikes_of_the_torn_down_tenant(ownership: Ownership) -> None:
    for decoy in ownership.decoys[IGNORED]:
        assert decoy.read() == decoy.before, f"{decoy.kind} {decoy.ident} was changed by the teardown"


def test_the_deployer_policy_allows_every_call_of_the_converge_and_the_teardown(ownership: Ownership) -> None:
    document = policy.load()
    needed = {policy.action_of(call["service"], call["operation"]) for call in ownership.calls} - {None}
    assert "ds:DeleteDirectory" in needed and "appstream:CreateFleet" in needed  # both runs were seen
    assert sorted(a for a in needed if not policy.allowing_statements(document, a)) == []
