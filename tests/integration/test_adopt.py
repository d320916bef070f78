"""Adopting what exists (playbooks/ops/adopt.yml) on the sandbox: resources made with plain boto3, as a console
user makes them, described, then tagged with confirm_adopt, then converged by site.yml without a second copy
of anything; another owner's resource is refused by name, and a blocker stops the adoption before any tag."""

from __future__ import annotations

import copy
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.layout import SECURITY_GROUP_ROLES

from sandbox.client import SandboxClient
from tests.helpers import PlaybookRun, demo_tenant, run_playbook, write_inventory
from tests.integration.test_state import ok, said

REGION = "eu-west-3"


def tags(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items or []}


def named(name: str) -> list[dict[str, Any]]:
    return [{"ResourceType": "x", "Tags": [{"Key": "Name", "Value": name}]}]


def lab_tenant(name: str, cidr: str) -> dict[str, Any]:
    tenant = copy.deepcopy(demo_tenant())
    tenant["name"] = name
    tenant["network"]["cidr"] = cidr
    tenant["directory"]["fqdn"] = f"corp.{name}.example"
    tenant["directory"]["netbios"] = name.upper().replace("-", "")[:15]
    return tenant


def spec_tags(kind: str, name: str) -> list[dict[str, Any]]:
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}]}]


class Console:
    """What a person builds by hand in the console for a lab, following the toolkit's subnet layout."""

    def __init__(self, sandbox: SandboxClient, tenant: dict[str, Any]) -> None:
        self.sandbox = sandbox
        self.tenant = tenant
        self.ec2 = sandbox.boto3("ec2", REGION)
        self.ids: dict[str, Any] = {}

    def network(self) -> str:
        ec2, cidr = self.ec2, self.tenant["network"]["cidr"]
        prefix = cidr.split(".0.0/")[0]
        vpc = ec2.create_vpc(CidrBlock=cidr, TagSpecifications=spec_tags("vpc", "lab-vpc"))["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        subnets = {}
        for label, block, zone in (
            ("public-a", f"{prefix}.192.0/20", "eu-west-3a"),
            ("public-b", f"{prefix}.208.0/20", "eu-west-3b"),
            ("private-a", f"{prefix}.0.0/18", "eu-west-3a"),
            ("private-b", f"{prefix}.64.0/18", "eu-west-3b"),
        ):
            subnets[label] = ec2.create_subnet(
                VpcId=vpc, CidrBlock=block, AvailabilityZone=zone, TagSpecifications=spec_tags("subnet", f"lab-{label}")
            )["Subnet"]["SubnetId"]
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        public_rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        for label in ("public-a", "public-b"):
            ec2.associate_route_table(RouteTableId=public_rt, SubnetId=subnets[label])
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=subnets["public-a"], AllocationId=allocation)["NatGateway"][
            "NatGatewayId"
        ]
        for _ in range(100):
            if ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"] == "available":
                break
            time.sleep(0.1)
        private_rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=private_rt, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
        for label in ("private-a", "private-b"):
            ec2.associate_route_table(RouteTableId=private_rt, SubnetId=subnets[label])
        ec2.create_vpc_endpoint(
            VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway", RouteTableIds=[private_rt]
        )
        groups = {
            role: ec2.create_security_group(VpcId=vpc, GroupName=f"lab-{role}-sg", Description=f"lab {role}")["GroupId"]
            for role in ("streaming", "fsx", "admin")
        }
        self.ids.update(vpc=vpc, subnets=subnets, groups=groups, nat=nat, igw=igw)
        return vpc

    def directory(self) -> str:
        ds = self.sandbox.boto3("ds", REGION)
        definition = self.tenant["directory"]
        subnets = self.ids["subnets"]
        directory = ds.create_microsoft_ad(
            Name=definition["fqdn"],
            ShortName=definition["netbios"],
            Password="Lab-Admin-Passw0rd!",
            Edition=definition["edition"],
            VpcSettings={"VpcId": self.ids["vpc"], "SubnetIds": [subnets["private-a"], subnets["private-b"]]},
        )["DirectoryId"]
        for _ in range(600):
            if ds.describe_directories(DirectoryIds=[directory])["DirectoryDescriptions"][0]["Stage"] == "Active":
                break
            time.sleep(0.1)
        self.ids["directory"] = directory
        return directory

    def file_system(self) -> str:
        fsx = self.sandbox.boto3("fsx", REGION)
        storage = self.tenant["storage"]
        system = fsx.create_file_system(
            FileSystemType="WINDOWS",
            StorageCapacity=storage["storage_gib"],
            StorageType=storage["storage_type"],
            SubnetIds=[self.ids["subnets"]["private-a"]],
            SecurityGroupIds=[self.ids["groups"]["fsx"]],
            Tags=[{"Key": "Name", "Value": "lab-files"}],
            WindowsConfiguration={
                "ActiveDirectoryId": self.ids["directory"],
                "DeploymentType": storage["deployment_type"],
                "PreferredSubnetId": self.ids["subnets"]["private-a"],
                "ThroughputCapacity": 16,  # the lab chose less than the definition's 32
                "AutomaticBackupRetentionDays": storage["backup_retention_days"],
                "CopyTagsToBackups": True,
            },
        )["FileSystem"]["FileSystemId"]
        for _ in range(600):
            if fsx.describe_file_systems(FileSystemIds=[system])["FileSystems"][0]["Lifecycle"] == "AVAILABLE":
                break
            time.sleep(0.1)
        self.ids["file_system"] = system
        return system

    def appstream(self) -> tuple[str, str]:
        appstream = self.sandbox.boto3("appstream", REGION)
        fleet, stack = f"{self.tenant['name']}-fleet", f"{self.tenant['name']}-stack"
        definition = self.tenant["appstream"]
        appstream.create_fleet(
            Name=fleet,
            ImageName=definition["base_image"],
            InstanceType=definition["fleet"]["instance_type"],
            FleetType=definition["fleet"]["type"],
            ComputeCapacity={"DesiredInstances": 1},
            VpcConfig={
                "SubnetIds": [self.ids["subnets"]["private-a"], self.ids["subnets"]["private-b"]],
                "SecurityGroupIds": [self.ids["groups"]["streaming"]],
            },
            IdleDisconnectTimeoutInSeconds=600,
        )
        appstream.create_stack(Name=stack)
        appstream.associate_fleet(FleetName=fleet, StackName=stack)
        return fleet, stack

    def everything(self) -> dict[str, Any]:
        vpc = self.network()
        return {
            "vpc_id": vpc,
            "directory_id": self.directory(),
            "file_system_id": self.file_system(),
            **dict(zip(("fleet", "stack"), self.appstream(), strict=True)),
        }


def counts(sandbox: SandboxClient, vpc: str, tenant: dict[str, Any]) -> Counter[str]:
    """The lab's resources by kind: what a second copy of anything would show up in."""
    ec2 = sandbox.boto3("ec2", REGION)
    in_vpc = [{"Name": "vpc-id", "Values": [vpc]}]
    found: Counter[str] = Counter()
    found["vpc"] = len(ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": [tenant["network"]["cidr"]]}])["Vpcs"])
    found["subnet"] = len(ec2.describe_subnets(Filters=in_vpc)["Subnets"])
    found["route_table"] = len(
        [
            t
            for t in ec2.describe_route_tables(Filters=in_vpc)["RouteTables"]
            if not any(a.get("Main") for a in t["Associations"])
        ]
    )
    found["internet_gateway"] = len(
        ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])["InternetGateways"]
    )
    nats = [
        n for n in ec2.describe_nat_gateways(Filter=in_vpc)["NatGateways"] if n["State"] not in ("deleted", "deleting")
    ]
    found["nat_gateway"] = len(nats)
    found["vpc_endpoint"] = len(ec2.describe_vpc_endpoints(Filters=in_vpc)["VpcEndpoints"])
    groups = ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"]
    found["security_group"] = len(
        [g for g in groups if g["GroupName"] != "default" and not g["GroupName"].startswith("d-")]
    )
    ds = sandbox.boto3("ds", REGION)
    found["directory"] = len(
        [
            d
            for d in ds.describe_directories()["DirectoryDescriptions"]
            if d["Name"] == tenant["directory"]["fqdn"] and d["Stage"] != "Deleted"
        ]
    )
    fsx = sandbox.boto3("fsx", REGION)
    found["file_system"] = len(
        [f for f in fsx.describe_file_systems()["FileSystems"] if f["VpcId"] == vpc and f["Lifecycle"] != "DELETED"]
    )
    appstream = sandbox.boto3("appstream", REGION)
    name = tenant["name"]
    found["fleet"] = len([f for f in appstream.describe_fleets()["Fleets"] if f["Name"].startswith(name)])
    found["stack"] = len([s for s in appstream.describe_stacks()["Stacks"] if s["Name"].startswith(name)])
    return found


def adopt(sandbox: SandboxClient, inventory: Path, **variables: Any) -> PlaybookRun:
    return run_playbook("playbooks/ops/adopt.yml", inventory, sandbox, extra_vars=variables, timeout=900)


@pytest.mark.slow
def test_console_resources_are_adopted_then_converged_without_a_second_copy(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    tenant = lab_tenant("adopt-lab", "10.81.0.0/16")
    console = Console(sandbox, tenant)
    ids = console.everything()
    inventory = write_inventory(tmp_path / "adopt-lab", tenant, sandbox)
    before = counts(sandbox, ids["vpc_id"], tenant)
    assert before == Counter(
        vpc=1, subnet=4, route_table=2, internet_gateway=1, nat_gateway=1, vpc_endpoint=1, security_group=3,
        directory=1, file_system=1, fleet=1, stack=1,
    )  # fmt: skip

    described = ok(adopt(sandbox, inventory, **ids))
    text = said(described)
    assert "Would adopt (run again with -e confirm_adopt=adopt-lab" in text
    assert f"subnet {console.ids['subnets']['private-a']} (lab-private-a) as private-subnet-eu-west-3a" in text
    assert "throughput (tenant.storage.throughput_mbps) is 16, the definition wants 32" in text
    assert f"left as it is: security-group {console.ids['groups']['admin']}" in text
    assert described.stats()["mutating"] == 0  # only the run's lock was written
    assert "tenant" not in tags(
        sandbox.boto3("ec2", REGION).describe_vpcs(VpcIds=[ids["vpc_id"]])["Vpcs"][0].get("Tags")
    )

    adopted = ok(adopt(sandbox, inventory, confirm_adopt="adopt-lab", **ids))
    assert "Adopted for tenant adopt-lab" in said(adopted)
    ec2 = sandbox.boto3("ec2", REGION)
    vpc_tags = tags(ec2.describe_vpcs(VpcIds=[ids["vpc_id"]])["Vpcs"][0]["Tags"])
    assert vpc_tags["tenant"] == "adopt-lab" and vpc_tags["toolkit:resource"] == "vpc"
    subnet_keys = {
        tags(s["Tags"]).get("toolkit:resource")
        for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [ids["vpc_id"]]}])["Subnets"]
    }
    assert subnet_keys == {
        "public-subnet-eu-west-3a",
        "public-subnet-eu-west-3b",
        "private-subnet-eu-west-3a",
        "private-subnet-eu-west-3b",
    }
    fsx = sandbox.boto3("fsx", REGION)
    assert (
        tags(fsx.describe_file_systems(FileSystemIds=[ids["file_system_id"]])["FileSystems"][0]["Tags"])["Name"]
        == "adopt-lab-fsx"
    )

    converge = run_playbook("site.yml", inventory, sandbox, timeout=1500)
    assert converge.rc == 0, converge.stdout[-5000:]
    after = counts(sandbox, ids["vpc_id"], tenant)
    # The toolkit's groups nothing of the lab used (directory, builder) are the only new network resources;
    # nothing is there twice.
    assert after == before + Counter(security_group=len(SECURITY_GROUP_ROLES) - 2), after - before
    system = fsx.describe_file_systems(FileSystemIds=[ids["file_system_id"]])["FileSystems"][0]
    assert system["WindowsConfiguration"]["ThroughputCapacity"] == 32  # the real difference, converged
    fleet = sandbox.boto3("appstream", REGION).describe_fleets(Names=[ids["fleet"]])["Fleets"][0]
    assert fleet["ImageName"].startswith("adopt-lab-suite-")
    assert fleet["IdleDisconnectTimeoutInSeconds"] == tenant["appstream"]["fleet"]["idle_disconnect_seconds"]

    again = run_playbook("site.yml", inventory, sandbox, timeout=1500)
    assert again.rc == 0 and again.recap["adopt-lab"]["changed"] == 0, again.stdout[-5000:]


def test_a_resource_of_another_owner_is_refused_by_name_and_nothing_is_tagged(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    name = f"adopt-{uuid.uuid4().hex[:5]}"
    tenant = lab_tenant(name, "10.82.0.0/16")
    console = Console(sandbox, tenant)
    vpc = console.network()
    ec2 = sandbox.boto3("ec2", REGION)
    decoy = console.ids["subnets"]["private-b"]
    ec2.create_tags(Resources=[decoy], Tags=[{"Key": "tenant", "Value": "someone-else"}])
    inventory = write_inventory(tmp_path / name, tenant, sandbox)
    refused = adopt(sandbox, inventory, vpc_id=vpc, confirm_adopt=name)
    assert refused.rc == 2
    assert f"subnet {decoy} (tenant tag 'someone-else')" in said(refused) and "nothing was tagged" in said(refused)
    assert refused.stats()["mutating"] == 0
    assert "tenant" not in tags(ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0].get("Tags"))


def test_a_blocker_stops_the_adoption_before_any_tag(sandbox: SandboxClient, tmp_path: Path) -> None:
    name = f"adopt-{uuid.uuid4().hex[:5]}"
    tenant = lab_tenant(name, "10.83.0.0/16")
    vpc = Console(sandbox, tenant).network()
    elsewhere = copy.deepcopy(tenant)
    elsewhere["network"]["cidr"] = "10.84.0.0/16"  # the definition names another range
    inventory = write_inventory(tmp_path / name, elsewhere, sandbox)
    blocked = adopt(sandbox, inventory, vpc_id=vpc, confirm_adopt=name)
    assert blocked.rc == 2
    assert "has the range 10.83.0.0/16, tenant.network.cidr is 10.84.0.0/16" in said(blocked)
    assert blocked.stats()["mutating"] == 0


@pytest.mark.parametrize(
    ("variables", "error"),
    [
        ({}, "vpc_id, directory_id, file_system_id, fleet, stack: at least one of them is required"),
        ({"vpc_id": "vpc-12"}, 'vpc_id: "vpc-12" does not match a VPC id'),
        ({"fleet": "x; rm -rf /"}, "fleet:"),
        (
            {"vpc_id": "vpc-0123456789abcdef0", "confirm_adopt": "other-lab"},
            'confirm_adopt: "other-lab" does not name this tenant',
        ),
    ],
)
def test_adopt_checks_its_variables_before_any_aws_call(
    sandbox: SandboxClient, tmp_path: Path, variables: dict[str, Any], error: str
) -> None:
    inventory = write_inventory(tmp_path / "inv", lab_tenant("adopt-vars", "10.85.0.0/16"), sandbox)
    result = adopt(sandbox, inventory, **variables)
    assert result.rc != 0 and error in said(result)
    assert result.client.log(result.log_mark) == []
