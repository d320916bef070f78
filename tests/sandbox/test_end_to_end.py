"""The sandbox's promise, in plain boto3: a whole tenant's footprint can be built on it.

One flow, in dependency order, with the same calls a program would make against AWS:
VPC, directory, FSx, directory config, builder, image (through the create-image hook),
fleet, stack, users, associations, streaming URL, and the moto-served extras.
"""

from __future__ import annotations

import time
import uuid

import pytest
from botocore.exceptions import ClientError

OU = "OU=AppStream,OU=Computers,OU=E2E,DC=e2e,DC=example"


def wait_for(read, expected, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if value == expected:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r}, expected {expected!r}")
        time.sleep(0.05)


def test_a_whole_tenant_footprint_in_plain_boto3(sandbox, time_scale):
    time_scale(0.0002)
    ec2, ds, fsx = sandbox.boto3("ec2"), sandbox.boto3("ds"), sandbox.boto3("fsx")
    appstream = sandbox.boto3("appstream")

    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.77.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for i, zone in enumerate(zones)
    ]
    group = ec2.create_security_group(GroupName="e2e-streaming", Description="e2e", VpcId=vpc)["GroupId"]

    directory = ds.create_microsoft_ad(
        Name="e2e.example",
        ShortName="E2E",
        Password="Sandbox-Passw0rd!",
        Edition="Standard",
        VpcSettings={"VpcId": vpc, "SubnetIds": subnets},
    )["DirectoryId"]
    wait_for(lambda: ds.describe_directories(DirectoryIds=[directory])["DirectoryDescriptions"][0]["Stage"], "Active")

    file_system = fsx.create_file_system(
        FileSystemType="WINDOWS",
        StorageCapacity=32,
        StorageType="SSD",
        SubnetIds=subnets[:1],
        SecurityGroupIds=[group],
        WindowsConfiguration={
            "ActiveDirectoryId": directory,
            "DeploymentType": "SINGLE_AZ_2",
            "ThroughputCapacity": 32,
        },
    )["FileSystem"]["FileSystemId"]
    wait_for(lambda: fsx.describe_file_systems(FileSystemIds=[file_system])["FileSystems"][0]["Lifecycle"], "AVAILABLE")

    appstream.create_directory_config(
        DirectoryName="e2e.example",
        OrganizationalUnitDistinguishedNames=[OU],
        ServiceAccountCredentials={"AccountName": "E2E\\svc-appstream", "AccountPassword": "Svc-Passw0rd!"},
    )
    join = {"DirectoryName": "e2e.example", "OrganizationalUnitDistinguishedName": OU}
    appstream.create_image_builder(
        Name="e2e-builder",
        ImageName="AppStream-WinServer2019-07-16-2024",
        InstanceType="stream.standard.medium",
        VpcConfig={"SubnetIds": subnets[:1], "SecurityGroupIds": [group]},
        DomainJoinInfo=join,
    )
    builder_state = lambda: appstream.describe_image_builders(Names=["e2e-builder"])["ImageBuilders"][0]["State"]  # noqa: E731
    wait_for(builder_state, "RUNNING")
    sandbox.hook("appstream", "create-image", builder_name="e2e-builder", image_name="e2e-suite-0123456789ab")
    wait_for(lambda: appstream.describe_images(Names=["e2e-suite-0123456789ab"])["Images"][0]["State"], "AVAILABLE")
    wait_for(builder_state, "STOPPED")

    appstream.create_fleet(
        Name="e2e-fleet",
        ImageName="e2e-suite-0123456789ab",
        InstanceType="stream.standard.medium",
        FleetType="ON_DEMAND",
        ComputeCapacity={"DesiredInstances": 1},
        VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": [group]},
        DomainJoinInfo=join,
        Tags={"tenant": "e2e"},
    )
    appstream.start_fleet(Name="e2e-fleet")
    wait_for(lambda: appstream.describe_fleets(Names=["e2e-fleet"])["Fleets"][0]["State"], "RUNNING")
    appstream.create_stack(Name="e2e-stack")
    appstream.associate_fleet(FleetName="e2e-fleet", StackName="e2e-stack")
    assert appstream.list_associated_fleets(StackName="e2e-stack")["Names"] == ["e2e-fleet"]

    # SAML only on a domain-joined fleet: user-pool streaming is refused, as on AWS.
    with pytest.raises(ClientError) as refused:
        appstream.create_streaming_url(StackName="e2e-stack", FleetName="e2e-fleet", UserId="ada")
    assert refused.value.response["Error"]["Code"] == "OperationNotPermittedException"

    # The user pool is the account's: a name no other test of this sandbox uses.
    user = f"ada-{uuid.uuid4().hex[:8]}@lab.example"
    appstream.create_user(UserName=user, AuthenticationType="USERPOOL", MessageAction="SUPPRESS")
    appstream.create_stack(Name="e2e-trial-stack")
    result = appstream.batch_associate_user_stack(
        UserStackAssociations=[{"StackName": "e2e-trial-stack", "UserName": user, "AuthenticationType": "USERPOOL"}]
    )
    assert result["errors"] == []
    associations = appstream.describe_user_stack_associations(StackName="e2e-trial-stack")["UserStackAssociations"]
    assert [a["UserName"] for a in associations] == [user]

    # moto-served services on the same endpoint
    sandbox.boto3("secretsmanager").create_secret(Name="e2e/directory/admin", SecretString="x")
    sandbox.boto3("s3").create_bucket(
        Bucket="e2e-artifacts", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    sandbox.boto3("application-autoscaling").register_scalable_target(
        ServiceNamespace="appstream",
        ResourceId="fleet/e2e-fleet",
        ScalableDimension="appstream:fleet:DesiredCapacity",
        MinCapacity=1,
        MaxCapacity=4,
    )
    assert sandbox.boto3("iam").list_roles()["Roles"] is not None
