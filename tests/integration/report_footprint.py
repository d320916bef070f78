"""A small tenant footprint built in plain boto3 on the sandbox, for the report tests.

Everything a report reads: a tagged VPC with public and private subnets in two zones, an internet
gateway, a NAT gateway, route tables, security groups, an S3 endpoint, a Managed AD directory, an
FSx file system, an AppStream directory config, image builder, image, fleet and stack with their
association and a user, and the tenant's budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.client import SandboxClient

ACCOUNT = "123456789012"
BASE_IMAGE = "AppStream-WinServer2019-07-16-2024"


@dataclass
class Footprint:
    tenant: str
    vpc_id: str = ""
    subnets: dict[str, str] = field(default_factory=dict)  # "private-a" -> subnet id
    nat_gateway_id: str = ""
    directory_id: str = ""
    file_system_id: str = ""
    backup_id: str = ""
    fleet: str = ""
    stack: str = ""
    builder: str = ""
    image: str = ""
    user: str = ""
    budget: str = ""


def wait_for(read: Callable[[], Any], expected: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if value == expected:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r}, expected {expected!r}")
        time.sleep(0.05)


def tag_list(tenant: str, name: str | None = None, **extra: str) -> list[dict[str, str]]:
    tags = {"tenant": tenant, "environment": "dev", "managed-by": "appstream-tenant-toolkit", **extra}
    if name:
        tags["Name"] = name
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def build_network(sandbox: SandboxClient, tenant: str, cidr_prefix: str) -> tuple[Footprint, list[str]]:
    """The tagged VPC with a public and a private subnet in two zones (nothing else)."""
    ec2 = sandbox.boto3("ec2")
    fp = Footprint(tenant)

    def tags(kind: str, name: str, key: str) -> list[dict[str, Any]]:
        return [
            {
                "ResourceType": kind,
                "Tags": tag_list(tenant, name, **{"toolkit:component": "network", "toolkit:resource": key}),
            }
        ]

    fp.vpc_id = ec2.create_vpc(
        CidrBlock=f"{cidr_prefix}.0.0/16", TagSpecifications=tags("vpc", f"{tenant}-vpc", "vpc")
    )["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    for index, zone in enumerate(zones):
        letter = zone[-1]
        for tier, third, mask in (("private", index * 64, 18), ("public", 192 + index * 16, 20)):
            fp.subnets[f"{tier}-{letter}"] = ec2.create_subnet(
                VpcId=fp.vpc_id,
                CidrBlock=f"{cidr_prefix}.{third}.0/{mask}",
                AvailabilityZone=zone,
                TagSpecifications=tags("subnet", f"{tenant}-{tier}-{zone}", f"{tier}-subnet-{zone}"),
            )["Subnet"]["SubnetId"]
    return fp, zones


def build_partial_userpool_tenant(sandbox: SandboxClient, tenant: str, cidr_prefix: str, users: list[str]) -> Footprint:
    """A user-pool tenant part-way built: network subnets, a stack with its users, no fleet yet."""
    fp, _ = build_network(sandbox, tenant, cidr_prefix)
    appstream = sandbox.boto3("appstream")
    tags = {t["Key"]: t["Value"] for t in tag_list(tenant)}
    fp.stack = f"{tenant}-stack"
    appstream.create_stack(Name=fp.stack, Tags=tags)
    for user in users:
        appstream.create_user(
            UserName=user, AuthenticationType="USERPOOL", FirstName="Ada", LastName="Pool", MessageAction="SUPPRESS"
        )
    result = appstream.batch_associate_user_stack(
        UserStackAssociations=[{"StackName": fp.stack, "UserName": u, "AuthenticationType": "USERPOOL"} for u in users]
    )
    assert result["errors"] == [], result["errors"]
    fp.user = users[0]
    return fp


def build_footprint(
    sandbox: SandboxClient, tenant: str, cidr_prefix: str = "10.61", fqdn: str | None = None
) -> Footprint:
    """Build the footprint of `tenant` in the sandbox's default region and return its ids."""
    ec2, ds, fsx = sandbox.boto3("ec2"), sandbox.boto3("ds"), sandbox.boto3("fsx")
    appstream = sandbox.boto3("appstream")
    fqdn = fqdn or f"corp.{tenant}.example"
    fp, zones = build_network(sandbox, tenant, cidr_prefix)

    def ec2_tags(kind: str, name: str, key: str) -> list[dict[str, Any]]:
        return [
            {
                "ResourceType": kind,
                "Tags": tag_list(tenant, name, **{"toolkit:component": "network", "toolkit:resource": key}),
            }
        ]

    first = zones[0][-1]
    igw = ec2.create_internet_gateway(
        TagSpecifications=ec2_tags("internet-gateway", f"{tenant}-igw", "internet-gateway")
    )
    ec2.attach_internet_gateway(InternetGatewayId=igw["InternetGateway"]["InternetGatewayId"], VpcId=fp.vpc_id)
    allocation = ec2.allocate_address(Domain="vpc", TagSpecifications=ec2_tags("elastic-ip", f"{tenant}-eip", "eip"))
    fp.nat_gateway_id = ec2.create_nat_gateway(
        SubnetId=fp.subnets[f"public-{first}"],
        AllocationId=allocation["AllocationId"],
        TagSpecifications=ec2_tags("natgateway", f"{tenant}-nat-{zones[0]}", f"nat-gateway-{zones[0]}"),
    )["NatGateway"]["NatGatewayId"]
    private_rt = ec2.create_route_table(
        VpcId=fp.vpc_id, TagSpecifications=ec2_tags("route-table", f"{tenant}-rt-private", "private-route-table")
    )["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=private_rt, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=fp.nat_gateway_id)
    for key, subnet in fp.subnets.items():
        if key.startswith("private"):
            ec2.associate_route_table(RouteTableId=private_rt, SubnetId=subnet)
    ec2.create_vpc_endpoint(
        VpcId=fp.vpc_id,
        VpcEndpointType="Gateway",
        ServiceName=f"com.amazonaws.{sandbox.region}.s3",
        RouteTableIds=[private_rt],
        TagSpecifications=ec2_tags("vpc-endpoint", f"{tenant}-s3-endpoint", "s3-endpoint"),
    )
    groups = {}
    for role in ("streaming", "directory", "fsx"):
        groups[role] = ec2.create_security_group(
            GroupName=f"{tenant}-{role}",
            Description=f"{role} of {tenant}",
            VpcId=fp.vpc_id,
            TagSpecifications=ec2_tags("security-group", f"{tenant}-{role}", f"security-group-{role}"),
        )["GroupId"]
    private = [fp.subnets[f"private-{z[-1]}"] for z in zones]

    fp.directory_id = ds.create_microsoft_ad(
        Name=fqdn,
        ShortName=tenant.upper().replace("-", "")[:15],
        Password="Sandbox-Passw0rd!",
        Edition="Standard",
        VpcSettings={"VpcId": fp.vpc_id, "SubnetIds": private},
        Tags=[{"Key": t["Key"], "Value": t["Value"]} for t in tag_list(tenant)],
    )["DirectoryId"]
    wait_for(
        lambda: ds.describe_directories(DirectoryIds=[fp.directory_id])["DirectoryDescriptions"][0]["Stage"], "Active"
    )

    fp.file_system_id = fsx.create_file_system(
        FileSystemType="WINDOWS",
        StorageCapacity=32,
        StorageType="SSD",
        SubnetIds=private[:1],
        SecurityGroupIds=[groups["fsx"]],
        WindowsConfiguration={
            "ActiveDirectoryId": fp.directory_id,
            "DeploymentType": "SINGLE_AZ_2",
            "ThroughputCapacity": 32,
            "AutomaticBackupRetentionDays": 7,
        },
        Tags=tag_list(tenant, f"{tenant}-fsx"),
    )["FileSystem"]["FileSystemId"]
    wait_for(
        lambda: fsx.describe_file_systems(FileSystemIds=[fp.file_system_id])["FileSystems"][0]["Lifecycle"], "AVAILABLE"
    )
    fp.backup_id = fsx.create_backup(FileSystemId=fp.file_system_id, Tags=tag_list(tenant))["Backup"]["BackupId"]

    netbios = tenant.upper().replace("-", "")[:15]
    ou = f"OU=AppStream,OU=Computers,OU={netbios}," + ",".join(f"DC={label}" for label in fqdn.split("."))
    appstream.create_directory_config(
        DirectoryName=fqdn,
        OrganizationalUnitDistinguishedNames=[ou],
        ServiceAccountCredentials={"AccountName": f"{netbios}\\svc-appstream", "AccountPassword": "Svc-Passw0rd!"},
    )
    tags = {t["Key"]: t["Value"] for t in tag_list(tenant)}
    join = {"DirectoryName": fqdn, "OrganizationalUnitDistinguishedName": ou}
    fp.builder = f"{tenant}-builder"
    appstream.create_image_builder(
        Name=fp.builder,
        ImageName=BASE_IMAGE,
        InstanceType="stream.standard.medium",
        VpcConfig={"SubnetIds": private[:1], "SecurityGroupIds": [groups["streaming"]]},
        DomainJoinInfo=join,
        Tags=tags,
    )
    builder_state = lambda: appstream.describe_image_builders(Names=[fp.builder])["ImageBuilders"][0]["State"]  # noqa: E731
    wait_for(builder_state, "RUNNING")
    fp.image = f"{tenant}-suite-0123456789ab"
    sandbox.hook("appstream", "create-image", builder_name=fp.builder, image_name=fp.image)
    wait_for(lambda: appstream.describe_images(Names=[fp.image])["Images"][0]["State"], "AVAILABLE")
    image_arn = appstream.describe_images(Names=[fp.image])["Images"][0]["Arn"]
    appstream.tag_resource(ResourceArn=image_arn, Tags=tags)
    wait_for(builder_state, "STOPPED")

    fp.fleet = f"{tenant}-fleet"
    appstream.create_fleet(
        Name=fp.fleet,
        ImageName=fp.image,
        InstanceType="stream.standard.medium",
        FleetType="ON_DEMAND",
        ComputeCapacity={"DesiredInstances": 1},
        VpcConfig={"SubnetIds": private, "SecurityGroupIds": [groups["streaming"]]},
        DomainJoinInfo=join,
        Tags=tags,
    )
    appstream.start_fleet(Name=fp.fleet)
    fp.stack = f"{tenant}-stack"
    appstream.create_stack(Name=fp.stack, Tags=tags)
    appstream.associate_fleet(FleetName=fp.fleet, StackName=fp.stack)
    wait_for(lambda: appstream.describe_fleets(Names=[fp.fleet])["Fleets"][0]["State"], "RUNNING")

    fp.budget = f"{tenant}-monthly"
    sandbox.boto3("budgets", region="us-east-1").create_budget(
        AccountId=ACCOUNT,
        Budget={
            "BudgetName": fp.budget,
            "BudgetLimit": {"Amount": "300.00", "Unit": "USD"},
            "CostFilters": {"TagKeyValue": [f"user:tenant${tenant}"]},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        },
        ResourceTags=tag_list(tenant),
    )
    return fp
