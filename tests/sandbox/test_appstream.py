"""The sandbox's AppStream 2.0 backend, through boto3: operations, service rules, states over time.

Every rule test asserts the exact error code and that the resource did not change. Resource names
are unique per test because the sandbox is shared by the whole test session.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from sandbox.backends.appstream.constants import UPDATE_FLEET_LIVE_FIELDS, USER_SETTING_DEFAULTS
from sandbox.client import SandboxClient

REGION = "eu-west-3"
ACCOUNT = "123456789012"
WS2019 = "AppStream-WinServer2019-10-08-2024"
WS2022 = "AppStream-WinServer2022-10-08-2024"
LINUX = "AppStream-AmazonLinux2-09-21-2023"
FAST = 0.0002  # for flows whose transitional states are not under test


# -- helpers -----------------------------------------------------------------------------------
def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value: {value!r})")
        time.sleep(interval)


def code_of(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def raw_call(sandbox: SandboxClient, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Send a signed request exactly as given, members botocore would refuse to serialise included."""
    request = AWSRequest(
        method="POST",
        url=f"{sandbox.endpoint}/",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"PhotonAdminProxyService.{operation}"},
    )
    SigV4Auth(Credentials("testing", "testing"), "appstream", REGION).add_auth(request)
    prepared = request.prepare()
    http = urllib.request.Request(prepared.url, data=prepared.body, headers=dict(prepared.headers), method="POST")
    try:
        with urllib.request.urlopen(http, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def hook_error(sandbox: SandboxClient, action: str, **payload: Any) -> tuple[int, str]:
    """(HTTP status, error code) of a hook call that must fail."""
    with pytest.raises(RuntimeError) as caught:
        sandbox.hook("appstream", action, **payload)
    match = re.search(r"failed: (\d+) (.*)$", str(caught.value), re.S)
    assert match, str(caught.value)
    body = json.loads(match.group(2))
    return int(match.group(1)), body.get("code", "")


# -- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def appstream(sandbox: SandboxClient) -> Any:
    return sandbox.boto3("appstream")


@pytest.fixture(scope="module")
def raw(sandbox: SandboxClient) -> Any:
    """A client that skips botocore's own parameter checks, to reach the server's validation."""
    return boto3.client(
        "appstream",
        region_name=REGION,
        endpoint_url=sandbox.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def network(sandbox: SandboxClient) -> dict[str, Any]:
    ec2 = sandbox.boto3("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.77.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")["Subnet"]
        for i, zone in ((1, "a"), (2, "b"), (3, "a"))
    ]
    group = ec2.create_security_group(GroupName=uid("as"), Description="appstream", VpcId=vpc)["GroupId"]
    other_vpc = ec2.create_vpc(CidrBlock="10.78.0.0/16")["Vpc"]["VpcId"]
    other_group = ec2.create_security_group(GroupName=uid("other"), Description="other", VpcId=other_vpc)["GroupId"]
    return {
        "vpc": vpc,
        "subnets": [s["SubnetId"] for s in subnets],
        "cidrs": {s["SubnetId"]: s["CidrBlock"] for s in subnets},
        "sg": group,
        "other_sg": other_group,
    }


@pytest.fixture(scope="module")
def directory(appstream: Any) -> dict[str, str]:
    name = f"{uid('corp')}.example.com"
    domain = ",".join(f"DC={part}" for part in name.split("."))
    ou = f"OU=Computers,OU=CORP,{domain}"
    appstream.create_directory_config(
        DirectoryName=name,
        OrganizationalUnitDistinguishedNames=[ou],
        ServiceAccountCredentials={"AccountName": "CORP\\svc-appstream", "AccountPassword": "S3cret!pass"},
    )
    return {"name": name, "ou": ou, "domain": domain}


@pytest.fixture
def fast(time_scale: Callable[[float], None]) -> None:
    time_scale(FAST)


def vpc_config(network: dict[str, Any], subnets: int = 1) -> dict[str, list[str]]:
    return {"SubnetIds": network["subnets"][:subnets], "SecurityGroupIds": [network["sg"]]}


def make_fleet(appstream: Any, network: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "Name": uid("fleet"),
        "ImageName": WS2019,
        "InstanceType": "stream.standard.medium",
        "FleetType": "ON_DEMAND",
        "ComputeCapacity": {"DesiredInstances": 2},
        "VpcConfig": vpc_config(network, 2),
    }
    params.update(overrides)
    params = {k: v for k, v in params.items() if v is not None}
    return appstream.create_fleet(**params)["Fleet"]


def fleet_of(appstream: Any, name: str) -> dict[str, Any]:
    return appstream.describe_fleets(Names=[name])["Fleets"][0]


def fleet_state(appstream: Any, name: str) -> str:
    return fleet_of(appstream, name)["State"]


def running_fleet(appstream: Any, network: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    fleet = make_fleet(appstream, network, **overrides)
    appstream.start_fleet(Name=fleet["Name"])
    wait_for(lambda: fleet_state(appstream, fleet["Name"]) == "RUNNING")
    return fleet_of(appstream, fleet["Name"])


def builder_of(appstream: Any, name: str) -> dict[str, Any]:
    return appstream.describe_image_builders(Names=[name])["ImageBuilders"][0]


def make_builder(appstream: Any, network: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "Name": uid("builder"),
        "ImageName": WS2019,
        "InstanceType": "stream.standard.medium",
        "VpcConfig": vpc_config(network),
    }
    params.update(overrides)
    return appstream.create_image_builder(**{k: v for k, v in params.items() if v is not None})["ImageBuilder"]


def running_builder(appstream: Any, network: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    builder = make_builder(appstream, network, **overrides)
    wait_for(lambda: builder_of(appstream, builder["Name"])["State"] == "RUNNING")
    return builder_of(appstream, builder["Name"])


def image_of(appstream: Any, name: str, region_client: Any = None) -> dict[str, Any]:
    return (region_client or appstream).describe_images(Names=[name])["Images"][0]


def image_exists(appstream: Any, name: str) -> bool:
    try:
        appstream.describe_images(Names=[name])
    except ClientError as err:
        if err.response["Error"]["Code"] == "ResourceNotFoundException":
            return False
        raise
    return True


def private_image(sandbox: SandboxClient, appstream: Any, network: dict[str, Any], **payload: Any) -> str:
    """An AVAILABLE private image made the way Image Assistant makes one."""
    builder = running_builder(appstream, network)
    name = uid("img")
    sandbox.hook("appstream", "create-image", builder_name=builder["Name"], image_name=name, **payload)
    wait_for(lambda: image_of(appstream, name)["State"] == "AVAILABLE")
    return name


def make_stack(appstream: Any, **overrides: Any) -> dict[str, Any]:
    return appstream.create_stack(**{"Name": uid("stack"), **overrides})["Stack"]


def stack_of(appstream: Any, name: str) -> dict[str, Any]:
    return appstream.describe_stacks(Names=[name])["Stacks"][0]


# == images =====================================================================================
def test_public_base_images_are_seeded_with_empty_account_arns(appstream: Any) -> None:
    images = {i["Name"]: i for i in appstream.describe_images(Type="PUBLIC", MaxResults=25)["Images"]}
    for name, platform in [
        ("AppStream-WinServer2019-07-16-2024", "WINDOWS_SERVER_2019"),
        (WS2019, "WINDOWS_SERVER_2019"),
        ("AppStream-WinServer2022-07-16-2024", "WINDOWS_SERVER_2022"),
        (WS2022, "WINDOWS_SERVER_2022"),
    ]:
        image = images[name]
        assert image["Arn"] == f"arn:aws:appstream:{REGION}::image/{name}"
        assert (image["Platform"], image["State"], image["Visibility"]) == (platform, "AVAILABLE", "PUBLIC")
        assert image["ImageBuilderSupported"] is True


def test_describe_images_of_unknown_name_is_not_found(appstream: Any) -> None:
    assert code_of(lambda: appstream.describe_images(Names=[uid("nope")])) == "ResourceNotFoundException"


def test_describe_images_with_names_and_arns_is_an_invalid_combination(appstream: Any) -> None:
    arn = f"arn:aws:appstream:{REGION}::image/{WS2019}"
    code = code_of(lambda: appstream.describe_images(Names=[WS2019], Arns=[arn]))
    assert code == "InvalidParameterCombinationException"


def test_describe_images_by_arn_and_by_type(appstream: Any) -> None:
    arn = f"arn:aws:appstream:{REGION}::image/{WS2022}"
    assert [i["Name"] for i in appstream.describe_images(Arns=[arn])["Images"]] == [WS2022]
    private = appstream.describe_images(Type="PRIVATE")["Images"]
    assert all(i["Visibility"] == "PRIVATE" for i in private)


def test_describe_images_paginates_with_max_results(appstream: Any) -> None:
    first = appstream.describe_images(Type="PUBLIC", MaxResults=2)
    assert len(first["Images"]) == 2 and first["NextToken"]
    paged = [
        i["Name"]
        for p in appstream.get_paginator("describe_images").paginate(Type="PUBLIC", PaginationConfig={"PageSize": 2})
        for i in p["Images"]
    ]
    every = [i["Name"] for i in appstream.describe_images(Type="PUBLIC", MaxResults=25)["Images"]]
    assert paged == every and len(every) >= 5


def test_describe_images_max_results_above_the_model_limit_is_rejected(raw: Any) -> None:
    assert code_of(lambda: raw.describe_images(MaxResults=26)) == "ValidationException"


def test_unimplemented_operation_answers_invalid_action(appstream: Any) -> None:
    code = code_of(lambda: appstream.describe_app_blocks())
    assert code == "InvalidAction"


def test_create_image_hook_moves_builder_and_image_through_their_states(
    sandbox: SandboxClient, appstream: Any, network: dict[str, Any], time_scale: Callable[[float], None]
) -> None:
    time_scale(0.0004)  # snapshot 0.6 s, image 0.72 s: long enough to observe, short enough to wait for
    builder = running_builder(appstream, network)
    name = uid("img")
    result = sandbox.hook(
        "appstream",
        "create-image",
        builder_name=builder["Name"],
        image_name=name,
        description="IcoStudio catalogue",
        display_name="IcoStudio 2024",
        tags={"tenant": "acme"},
        applications=[
            {"name": "IcoStudio", "display_name": "Ico Studio", "absolute_app_path": r"C:\Ico\IcoStudio.exe"},
            {"Name": "IcoBatch", "LaunchPath": r"C:\Ico\IcoBatch.bat", "LaunchParameters": "--batch"},
        ],
    )
    assert result["status"] == 0
    assert builder_of(appstream, builder["Name"])["State"] == "SNAPSHOTTING"
    image = image_of(appstream, name)
    assert (image["State"], image["Visibility"], image["Platform"]) == ("PENDING", "PRIVATE", "WINDOWS_SERVER_2019")
    assert image["BaseImageArn"] == builder["ImageArn"]
    assert image["ImageBuilderName"] == builder["Name"]
    assert (image["Description"], image["DisplayName"]) == ("IcoStudio catalogue", "IcoStudio 2024")
    apps = {a["Name"]: a for a in image["Applications"]}
    assert apps["IcoStudio"]["LaunchPath"] == r"C:\Ico\IcoStudio.exe" and apps["IcoStudio"]["Enabled"] is True
    assert apps["IcoBatch"]["LaunchParameters"] == "--batch"
    wait_for(lambda: builder_of(appstream, builder["Name"])["State"] == "STOPPED")
    wait_for(lambda: image_of(appstream, name)["State"] == "AVAILABLE")
    assert image["Arn"] == f"arn:aws:appstream:{REGION}:{ACCOUNT}:image/{name}"
    assert appstream.list_tags_for_resource(ResourceArn=image["Arn"])["Tags"] == {"tenant": "acme"}


def test_create_image_hook_refuses_a_builder_that_is_not_running(
    sandbox: SandboxClient, appstream: Any, network: dict[str, Any]
) -> None:
    builder = make_builder(appstream, network)
    status, code = hook_error(sandbox, "create-image", builder_name=builder["Name"], image_name=uid("img"))
    assert (status, code) == (400, "ConcurrentModificationException")
    assert builder_of(appstream, builder["Name"])["State"] == "PENDING"
    status, _ = hook_error(sandbox, "create-image", builder_name=uid("ghost"), image_name=uid("img"))
    assert status == 404


@pytest.mark.parametrize(
    ("image_name", "expected"),
    [
        ("AppStream-copy", "ValidationException"),
        ("aws_image", "ValidationException"),
        ("Amazon.image", "ValidationException"),
        ("with space", "ValidationException"),
        ("x" * 101, "ValidationException"),
    ],
)
def test_create_image_hook_enforces_image_assistant_name_rules(
    sandbox: SandboxClient, appstream: Any, network: dict[str, Any], fast: None, image_name: str, expected: str
) -> None:
    builder = running_builder(appstream, network)
    _, code = hook_error(sandbox, "create-image", builder_name=builder["Name"], image_name=image_name)
    assert code == expected
    assert builder_of(appstream, builder["Name"])["State"] == "RUNNING"


def test_create_image_hook_refuses_a_name_already_taken(
    sandbox: SandboxClient, appstream: Any, network: dict[str, Any], fast: None
) -> None:
    taken = private_image(sandbox, appstream, network)
    builder = running_builder(appstream, network)
    _, code = hook_error(sandbox, "create-image", builder_name=builder["Name"], image_name=taken)
    assert code == "ResourceAlreadyExistsException"
    assert builder_of(appstream, builder["Name"])["State"] == "RUNNING"


def test_create_image_dry_run_changes_nothing(
    sandbox: SandboxClient, appstream: Any, network: dict[str, Any], fast: None
) -> None:
    builder = running_builder(appstream, network)
    name = uid("img")
    result = sandbox.hook("appstream", "create-image", builder_name=builder["Name"], image_name=name, dry_run=True)
    assert result["status"] == 0
    assert builder_of(appstream, builder["Name"])["State"] == "RUNNING"
    assert code_of(lambda: appstream.describe_images(Names=[name])) == "ResourceNotFoundException"


def test_fail_image_hook_reports_state_change_reason(
    sandbox: SandboxClient, appstream: Any, network: dict[str, Any], fast: None
) -> None:
    builder = running_builder(appstream, network)
    name = uid("img")
    sandbox.hook("appstream", "create-image", builder_name=builder["Name"], image_name=name)
    sandbox.hook("appstream", "fail-image", name=name, message="Snapshot of the root volume failed")
    image = image_of(appstream, name)
    assert image["State"] == "FAILED"
    assert image["StateChangeReason"] == {"Code": "INTERNAL_ERROR", "Message": "Snapshot of the root volume failed"}
    assert image["ImageErrors"][0]["ErrorMessage"] == "Snapshot of the root volume failed"


def test_delete_image_rules_and_lifecycle(
    sandbox: SandboxClient, appstream: Any, network: dict[str, Any], fast: None
) -> None:
    assert code_of(lambda: appstream.delete_image(Name=WS2019)) == "OperationNotPermittedException"
    builder = running_builder(appstream, network)
    pending = uid("img")
    sandbox.hook("appstream", "create-image", builder_name=builder["Name"], image_name=pending)
    assert code_of(lambda: appstream.delete_image(Name=pending)) == "ConcurrentModificationException"
    wait_for(lambda: image_of(appstream, pending)["State"] == "AVAILABLE")
    fleet = make_fleet(appstream, network, ImageName=pending)
    assert code_of(lambda: appstream.delete_image(Name=pending)) == "ResourceInUseException"
    assert image_of(appstream, pending)["State"] == "AVAILABLE"
    appstream.delete_fleet(Name=fleet["Name"])
    assert appstream.delete_image(Name=pending)["Image"]["State"] == "DELETING"
    wait_for(lambda: not image_exists(appstream, pending))


def test_copy_image_to_another_region_is_copying_then_available(
    sandbox: SandboxClient, appstream: Any, network: dict[str, Any], fast: None
) -> None:
    source = private_image(sandbox, appstream, network, tags={"tenant": "acme"})
    target = uid("copy")
    other = sandbox.boto3("appstream", region="eu-west-1")
    result = appstream.copy_image(
        SourceImageName=source,
        DestinationImageName=target,
        DestinationRegion="eu-west-1",
        DestinationImageDescription="copied",
    )
    assert result["DestinationImageName"] == target
    copied = image_of(other, target)
    assert copied["State"] == "COPYING"
    assert copied["Arn"] == f"arn:aws:appstream:eu-west-1:{ACCOUNT}:image/{target}"
    assert copied["Description"] == "copied" and "ImageBuilderName" not in copied
    wait_for(lambda: image_of(other, target)["State"] == "AVAILABLE")
    assert other.list_tags_for_resource(ResourceArn=copied["Arn"])["Tags"] == {}
    assert image_of(appstream, source)["State"] == "AVAILABLE"
    assert WS2019 in {i["Name"] for i in other.describe_images(Type="PUBLIC")["Images"]}
    again = code_of(
        lambda: appstream.copy_image(SourceImageName=source, DestinationImageName=target, DestinationRegion="eu-west-1")
    )
    assert again == "ResourceAlreadyExistsException"
    public = code_of(
        lambda: appstream.copy_image(
            SourceImageName=WS2019, DestinationImageName=uid("c"), DestinationRegion="eu-west-1"
        )
    )
    assert public == "ResourceNotAvailableException"


def test_image_permissions_share_describe_and_revoke(
    sandbox: SandboxClient, appstream: Any, network: dict[str, Any], fast: None
) -> None:
    name = private_image(sandbox, appstream, network)
    appstream.update_image_permissions(
        Name=name, SharedAccountId="210987654321", ImagePermissions={"allowFleet": True, "allowImageBuilder": False}
    )
    appstream.update_image_permissions(
        Name=name, SharedAccountId="111111111111", ImagePermissions={"allowFleet": True, "allowImageBuilder": True}
    )
    listed = appstream.describe_image_permissions(Name=name)
    assert listed["Name"] == name
    assert {p["sharedAccountId"]: p["imagePermissions"] for p in listed["SharedImagePermissionsList"]} == {
        "210987654321": {"allowFleet": True, "allowImageBuilder": False},
        "111111111111": {"allowFleet": True, "allowImageBuilder": True},
    }
    only = appstream.describe_image_permissions(Name=name, SharedAwsAccountIds=["111111111111"])
    assert [p["sharedAccountId"] for p in only["SharedImagePermissionsList"]] == ["111111111111"]
    assert image_of(appstream, name)["ImageSharedWithOthers"] == "TRUE"
    appstream.delete_image_permissions(Name=name, SharedAccountId="210987654321")
    remaining = appstream.describe_image_permissions(Name=name)["SharedImagePermissionsList"]
    assert [p["sharedAccountId"] for p in remaining] == ["111111111111"]
    code = code_of(lambda: appstream.delete_image_permissions(Name=name, SharedAccountId="210987654321"))
    assert code == "ResourceNotFoundException"
    assert code_of(lambda: appstream.describe_image_permissions(Name=WS2019)) == "ResourceNotFoundException"


def test_images_shared_by_another_account_are_listed_as_shared(sandbox: SandboxClient, appstream: Any) -> None:
    name = uid("shared")
    sandbox.hook("appstream", "share-image", name=name, owner_account="444455556666", allow_image_builder=False)
    shared = appstream.describe_images(Type="SHARED")["Images"]
    found = next(i for i in shared if i["Name"] == name)
    assert found["Arn"] == f"arn:aws:appstream:{REGION}:444455556666:image/{name}"
    assert found["ImagePermissions"] == {"allowFleet": True, "allowImageBuilder": False}
    code = code_of(
        lambda: appstream.create_image_builder(Name=uid("b"), ImageName=name, InstanceType="stream.standard.medium")
    )
    assert code == "ResourceNotAvailableException"


# == image builders ============================================================================
def test_builder_starts_pending_then_running_with_an_eni_in_its_subnet(appstream: Any, network: dict[str, Any]) -> None:
    builder = make_builder(appstream, network, Tags={"tenant": "acme"}, DisplayName="Catalogue builder")
    assert builder["State"] == "PENDING"
    assert builder["Arn"] == f"arn:aws:appstream:{REGION}:{ACCOUNT}:image-builder/{builder['Name']}"
    assert builder["ImageArn"] == f"arn:aws:appstream:{REGION}::image/{WS2019}"
    assert builder["Platform"] == "WINDOWS_SERVER_2019"
    assert builder_of(appstream, builder["Name"])["State"] == "PENDING"
    wait_for(lambda: builder_of(appstream, builder["Name"])["State"] == "RUNNING")
    described = builder_of(appstream, builder["Name"])
    address = described["NetworkAccessConfiguration"]["EniPrivateIpAddress"]
    subnet = network["subnets"][0]
    prefix = network["cidrs"][subnet].rsplit(".", 1)[0]
    assert address.startswith(prefix + ".") and 4 <= int(address.rsplit(".", 1)[1]) <= 254
    assert described["NetworkAccessConfiguration"]["EniId"].startswith("eni-")
    assert builder_of(appstream, builder["Name"])["NetworkAccessConfiguration"]["EniPrivateIpAddress"] == address
    assert described["DisplayName"] == "Catalogue builder"


def test_builder_image_must_exist_and_be_available(
    sandbox: SandboxClient, appstream: Any, network: dict[str, Any], fast: None
) -> None:
    assert code_of(lambda: make_builder(appstream, network, ImageName=uid("nope"))) == "ResourceNotFoundException"
    builder = running_builder(appstream, network)
    pending = uid("img")
    sandbox.hook("appstream", "create-image", builder_name=builder["Name"], image_name=pending)
    name = uid("builder")
    assert code_of(lambda: make_builder(appstream, network, Name=name, ImageName=pending)) == (
        "ResourceNotAvailableException"
    )
    assert code_of(lambda: builder_of(appstream, name)) == "ResourceNotFoundException"


def test_builder_takes_exactly_one_subnet(appstream: Any, network: dict[str, Any]) -> None:
    name = uid("builder")
    code = code_of(lambda: make_builder(appstream, network, Name=name, VpcConfig=vpc_config(network, 2)))
    assert code == "InvalidParameterCombinationException"
    assert code_of(lambda: builder_of(appstream, name)) == "ResourceNotFoundException"


def test_builder_subnet_must_exist(appstream: Any, network: dict[str, Any]) -> None:
    bad = {"SubnetIds": ["subnet-0123456789abcdef0"], "SecurityGroupIds": [network["sg"]]}
    assert code_of(lambda: make_builder(appstream, network, VpcConfig=bad)) == "InvalidParameterCombinationException"


def test_builder_names_are_unique(appstream: Any, network: dict[str, Any]) -> None:
    builder = make_builder(appstream, network)
    code = code_of(lambda: make_builder(appstream, network, Name=builder["Name"], ImageName=WS2022))
    assert code == "ResourceAlreadyExistsException"
    assert builder_of(appstream, builder["Name"])["Platform"] == "WINDOWS_SERVER_2019"


def test_builder_actions_need_settled_states(
    appstream: Any, network: dict[str, Any], time_scale: Callable[[float], None]
) -> None:
    # PENDING (10 min modelled) must outlast three calls on a loaded machine: 3 s here, then fast.
    time_scale(0.005)
    name = make_builder(appstream, network)["Name"]
    assert code_of(lambda: appstream.start_image_builder(Name=name)) == "ConcurrentModificationException"
    assert code_of(lambda: appstream.stop_image_builder(Name=name)) == "ConcurrentModificationException"
    assert code_of(lambda: appstream.delete_image_builder(Name=name)) == "ConcurrentModificationException"
    wait_for(lambda: builder_of(appstream, name)["State"] == "RUNNING")
    time_scale(0.0005)
    assert code_of(lambda: appstream.delete_image_builder(Name=name)) == "OperationNotPermittedException"
    assert code_of(lambda: appstream.start_image_builder(Name=name)) == "ResourceNotAvailableException"
    assert appstream.stop_image_builder(Name=name)["ImageBuilder"]["State"] == "STOPPING"
    wait_for(lambda: builder_of(appstream, name)["State"] == "STOPPED")
    assert code_of(lambda: appstream.stop_image_builder(Name=name)) == "OperationNotPermittedException"
    assert code_of(lambda: appstream.create_image_builder_streaming_url(Name=name)) == (
        "OperationNotPermittedException"
    )
    assert appstream.start_image_builder(Name=name)["ImageBuilder"]["State"] == "PENDING"
    wait_for(lambda: builder_of(appstream, name)["State"] == "RUNNING")
    appstream.stop_image_builder(Name=name)
    wait_for(lambda: builder_of(appstream, name)["State"] == "STOPPED")
    assert appstream.delete_image_builder(Name=name)["ImageBuilder"]["State"] == "DELETING"
    wait_for(lambda: name not in {b["Name"] for b in appstream.describe_image_builders()["ImageBuilders"]})


def test_failed_builder_reports_its_reason_and_can_be_deleted(
    sandbox: SandboxClient, appstream: Any, network: dict[str, Any]
) -> None:
    name = make_builder(appstream, network)["Name"]
    sandbox.hook(
        "appstream", "fail-image-builder", name=name, reason="The base image is unavailable", code="IMAGE_UNAVAILABLE"
    )
    builder = builder_of(appstream, name)
    assert builder["State"] == "FAILED"
    assert builder["StateChangeReason"] == {"Code": "IMAGE_UNAVAILABLE", "Message": "The base image is unavailable"}
    assert builder["ImageBuilderErrors"][0]["ErrorMessage"] == "The base image is unavailable"
    assert code_of(lambda: appstream.start_image_builder(Name=name)) == "ResourceNotAvailableException"
    assert appstream.delete_image_builder(Name=name)["ImageBuilder"]["State"] == "DELETING"


def test_domain_joined_builder_needs_a_directory_config_and_one_of_its_ous(
    appstream: Any, network: dict[str, Any], directory: dict[str, str]
) -> None:
    missing = {"DirectoryName": "nowhere.example.com", "OrganizationalUnitDistinguishedName": directory["ou"]}
    assert code_of(lambda: make_builder(appstream, network, DomainJoinInfo=missing)) == "ResourceNotFoundException"
    other_ou = {
        "DirectoryName": directory["name"],
        "OrganizationalUnitDistinguishedName": f"OU=X,{directory['domain']}",
    }
    code = code_of(lambda: make_builder(appstream, network, DomainJoinInfo=other_ou))
    assert code == "InvalidParameterCombinationException"
    joined = {"DirectoryName": directory["name"], "OrganizationalUnitDistinguishedName": directory["ou"]}
    builder = make_builder(appstream, network, DomainJoinInfo=joined)
    assert builder_of(appstream, builder["Name"])["DomainJoinInfo"] == joined


def test_update_image_builder_needs_a_stopped_builder(appstream: Any, network: dict[str, Any], fast: None) -> None:
    name = running_builder(appstream, network)["Name"]
    code = code_of(lambda: appstream.update_image_builder(Name=name, DisplayName="new"))
    assert code == "OperationNotPermittedException"
    appstream.stop_image_builder(Name=name)
    wait_for(lambda: builder_of(appstream, name)["State"] == "STOPPED")
    access = {
        "Settings": [{"AgentAction": "COMPUTER_VISION", "Permission": "ENABLED"}],
        "ScreenResolution": "W_1280xH_720",
        "ScreenImageFormat": "PNG",
    }
    updated = appstream.update_image_builder(Name=name, DisplayName="new", Description="d", AgentAccessConfig=access)
    assert (updated["ImageBuilder"]["DisplayName"], updated["ImageBuilder"]["Description"]) == ("new", "d")
    assert updated["ImageBuilder"]["AgentAccessConfig"]["Settings"][0]["AgentAction"] == "COMPUTER_VISION"
    cleared = appstream.update_image_builder(Name=name, AttributesToDelete=["AGENT_ACCESS_CONFIG"])
    assert "AgentAccessConfig" not in cleared["ImageBuilder"]


def test_image_builder_streaming_url_for_a_running_builder(appstream: Any, network: dict[str, Any], fast: None) -> None:
    name = running_builder(appstream, network)["Name"]
    result = appstream.create_image_builder_streaming_url(Name=name, Validity=600)
    assert result["StreamingURL"].startswith(f"https://appstream2.{REGION}.aws.amazon.com/authenticate?parameters=")
    assert 590 <= result["Expires"].timestamp() - time.time() <= 610


# == fleets ====================================================================================
def test_fleet_is_created_stopped_then_starts_and_stops_through_transitional_states(
    appstream: Any, network: dict[str, Any]
) -> None:
    fleet = make_fleet(appstream, network, Tags={"tenant": "acme"}, DisplayName="Lab", Description="lab fleet")
    name = fleet["Name"]
    assert fleet["State"] == "STOPPED"
    assert fleet["Arn"] == f"arn:aws:appstream:{REGION}:{ACCOUNT}:fleet/{name}"
    assert fleet["ImageArn"] == f"arn:aws:appstream:{REGION}::image/{WS2019}" and fleet["ImageName"] == WS2019
    assert fleet["ComputeCapacityStatus"] == {"Desired": 2, "Running": 0, "InUse": 0, "Available": 0}
    assert (fleet["FleetType"], fleet["StreamView"], fleet["Platform"]) == ("ON_DEMAND", "APP", "WINDOWS_SERVER_2019")
    appstream.start_fleet(Name=name)
    assert fleet_state(appstream, name) == "STARTING"
    wait_for(lambda: fleet_state(appstream, name) == "RUNNING")
    assert fleet_of(appstream, name)["ComputeCapacityStatus"] == {
        "Desired": 2,
        "Running": 2,
        "InUse": 0,
        "Available": 2,
    }
    appstream.stop_fleet(Name=name)
    assert fleet_state(appstream, name) == "STOPPING"
    wait_for(lambda: fleet_state(appstream, name) == "STOPPED")
    assert appstream.get_waiter("fleet_stopped").wait(Names=[name], WaiterConfig={"Delay": 0}) is None


@pytest.mark.parametrize(
    ("capacity", "sessions_per_instance"),
    [
        ({"DesiredInstances": 1, "DesiredSessions": 4}, 4),
        ({}, None),
        (None, None),
        ({"DesiredSessions": 4}, None),
        ({"DesiredInstances": 2}, 4),
    ],
    ids=["both", "neither", "missing", "sessions-without-per-instance", "instances-on-multi-session"],
)
def test_compute_capacity_takes_exactly_one_matching_member(
    appstream: Any, network: dict[str, Any], capacity: dict[str, int] | None, sessions_per_instance: int | None
) -> None:
    name = uid("fleet")
    code = code_of(
        lambda: make_fleet(
            appstream, network, Name=name, ComputeCapacity=capacity, MaxSessionsPerInstance=sessions_per_instance
        )
    )
    assert code == "InvalidParameterCombinationException"
    assert code_of(lambda: fleet_of(appstream, name)) == "ResourceNotFoundException"


def test_multi_session_fleet_reports_session_capacity(
    sandbox: SandboxClient, appstream: Any, network: dict[str, Any], fast: None
) -> None:
    fleet = running_fleet(appstream, network, ComputeCapacity={"DesiredSessions": 10}, MaxSessionsPerInstance=4)
    stack = make_stack(appstream)
    appstream.associate_fleet(FleetName=fleet["Name"], StackName=stack["Name"])
    sandbox.hook("appstream", "sessions", stack=stack["Name"], fleet=fleet["Name"], user="ada", count=5)
    status = fleet_of(appstream, fleet["Name"])["ComputeCapacityStatus"]
    assert (status["Desired"], status["Running"], status["InUse"], status["Available"]) == (3, 3, 2, 1)
    assert (status["DesiredUserSessions"], status["ActualUserSessions"]) == (10, 12)
    assert (status["ActiveUserSessions"], status["AvailableUserSessions"]) == (5, 7)


def test_fleet_names_are_unique(appstream: Any, network: dict[str, Any]) -> None:
    fleet = make_fleet(appstream, network)
    code = code_of(lambda: make_fleet(appstream, network, Name=fleet["Name"], InstanceType="stream.compute.large"))
    assert code == "ResourceAlreadyExistsException"
    assert fleet_of(appstream, fleet["Name"])["InstanceType"] == "stream.standard.medium"


def test_fleet_image_must_exist_and_be_available(
    sandbox: SandboxClient, appstream: Any, network: dict[str, Any], fast: None
) -> None:
    assert code_of(lambda: make_fleet(appstream, network, ImageName=uid("nope"))) == "ResourceNotFoundException"
    builder = running_builder(appstream, network)
    pending = uid("img")
    sandbox.hook("appstream", "create-image", builder_name=builder["Name"], image_name=pending)
    assert code_of(lambda: make_fleet(appstream, network, ImageName=pending)) == "ResourceNotAvailableException"


def test_fleet_platform_must_match_its_image(appstream: Any, network: dict[str, Any]) -> None:
    name = uid("fleet")
    code = code_of(lambda: make_fleet(appstream, network, Name=name, Platform="WINDOWS_SERVER_2022"))
    assert code == "IncompatibleImageException"
    assert code_of(lambda: fleet_of(appstream, name)) == "ResourceNotFoundException"


@pytest.mark.parametrize("problem", ["unknown-subnet", "unknown-group", "two-vpcs"])
def test_fleet_network_must_exist_in_one_vpc(appstream: Any, network: dict[str, Any], problem: str) -> None:
    config = {
        "unknown-subnet": {"SubnetIds": ["subnet-0badbadbadbadbad0"], "SecurityGroupIds": [network["sg"]]},
        "unknown-group": {"SubnetIds": network["subnets"][:1], "SecurityGroupIds": ["sg-0badbadbadbadbad0"]},
        "two-vpcs": {"SubnetIds": network["subnets"][:1], "SecurityGroupIds": [network["other_sg"]]},
    }[problem]
    name = uid("fleet")
    code = code_of(lambda: make_fleet(appstream, network, Name=name, VpcConfig=config))
    assert code == "InvalidParameterCombinationException"
    assert code_of(lambda: fleet_of(appstream, name)) == "ResourceNotFoundException"


@pytest.mark.parametrize(
    "overrides",
    [
        {"VpcConfig": "one-subnet"},
        {"VpcConfig": "same-zone"},
        {"DomainJoinInfo": "joined"},
        {"MaxConcurrentSessions": None},
        {"ImageName": WS2019},
        {"Platform": None},
        {"Platform": "WINDOWS_SERVER_2022"},
        {"ComputeCapacity": {"DesiredInstances": 1}},
    ],
    ids=["one-subnet", "same-az", "domain-join", "no-max-sessions", "image", "no-platform", "bad-platform", "capacity"],
)
def test_elastic_fleet_rules(
    appstream: Any, network: dict[str, Any], directory: dict[str, str], overrides: dict[str, Any]
) -> None:
    values = {
        "one-subnet": {"SubnetIds": network["subnets"][:1], "SecurityGroupIds": [network["sg"]]},
        "same-zone": {"SubnetIds": [network["subnets"][0], network["subnets"][2]], "SecurityGroupIds": [network["sg"]]},
        "joined": {"DirectoryName": directory["name"], "OrganizationalUnitDistinguishedName": directory["ou"]},
    }
    params = {
        "FleetType": "ELASTIC",
        "ImageName": None,
        "ComputeCapacity": None,
        "MaxConcurrentSessions": 5,
        "Platform": "WINDOWS_SERVER_2019",
        "VpcConfig": vpc_config(network, 2),
    }
    params.update({k: values.get(v, v) if isinstance(v, str) else v for k, v in overrides.items()})
    name = uid("elastic")
    code = code_of(lambda: make_fleet(appstream, network, Name=name, **params))
    assert code == "InvalidParameterCombinationException"
    assert code_of(lambda: fleet_of(appstream, name)) == "ResourceNotFoundException"


def test_elastic_fleet_with_two_zones_is_created(appstream: Any, network: dict[str, Any]) -> None:
    fleet = make_fleet(
        appstream,
        network,
        FleetType="ELASTIC",
        ImageName=None,
        ComputeCapacity=None,
        MaxConcurrentSessions=5,
        Platform="WINDOWS_SERVER_2019",
        SessionScriptS3Location={"S3Bucket": "scripts-bucket", "S3Key": "session.zip"},
    )
    assert (fleet["FleetType"], fleet["MaxConcurrentSessions"], fleet["State"]) == ("ELASTIC", 5, "STOPPED")
    assert "ImageName" not in fleet


@pytest.mark.parametrize(
    "extra",
    [{"MaxConcurrentSessions": 5}, {"SessionScriptS3Location": {"S3Bucket": "scripts-bucket", "S3Key": "s.zip"}}],
    ids=["max-concurrent-sessions", "session-script"],
)
def test_elastic_only_settings_are_refused_on_other_fleets(
    appstream: Any, network: dict[str, Any], extra: dict[str, Any]
) -> None:
    assert code_of(lambda: make_fleet(appstream, network, **extra)) == "InvalidParameterCombinationException"


def test_fleet_timeouts_are_range_checked(appstream: Any, network: dict[str, Any]) -> None:
    assert code_of(lambda: make_fleet(appstream, network, MaxUserDurationInSeconds=60)) == (
        "InvalidParameterCombinationException"
    )
    fleet = make_fleet(appstream, network, IdleDisconnectTimeoutInSeconds=0, DisconnectTimeoutInSeconds=60)
    assert (fleet["IdleDisconnectTimeoutInSeconds"], fleet["DisconnectTimeoutInSeconds"]) == (0, 60)


def test_domain_joined_fleet_needs_a_directory_config(appstream: Any, network: dict[str, Any]) -> None:
    name = uid("fleet")
    join = {"DirectoryName": f"{uid('none')}.example.com", "OrganizationalUnitDistinguishedName": "OU=A,DC=x,DC=y"}
    assert code_of(lambda: make_fleet(appstream, network, Name=name, DomainJoinInfo=join)) == (
        "ResourceNotFoundException"
    )
    assert code_of(lambda: fleet_of(appstream, name)) == "ResourceNotFoundException"


def test_update_fleet_table_covers_every_update_fleet_member() -> None:
    shape = botocore.session.get_session().get_service_model("appstream").operation_model("UpdateFleet").input_shape
    assert set(UPDATE_FLEET_LIVE_FIELDS) == set(shape.members) - {"Name"}


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("InstanceType", "stream.compute.large"),
        ("Description", "changed"),
        ("MaxUserDurationInSeconds", 7200),
        ("EnableDefaultInternetAccess", True),
        ("StreamView", "DESKTOP"),
        ("AttributesToDelete", ["IAM_ROLE_ARN"]),
        ("DisableIMDSV1", True),
        ("MaxConcurrentSessions", 4),
    ],
)
def test_running_fleet_refuses_changes_that_need_a_stop(
    appstream: Any, network: dict[str, Any], fast: None, member: str, value: Any
) -> None:
    fleet = running_fleet(appstream, network)
    with pytest.raises(ClientError) as caught:
        appstream.update_fleet(Name=fleet["Name"], **{member: value})
    assert caught.value.response["Error"]["Code"] == "ResourceInUseException"
    assert member in caught.value.response["Error"]["Message"]
    after = fleet_of(appstream, fleet["Name"])
    assert after == {**fleet, "ComputeCapacityStatus": after["ComputeCapacityStatus"]}


def test_running_fleet_accepts_the_live_fields(appstream: Any, network: dict[str, Any], fast: None) -> None:
    fleet = running_fleet(appstream, network)
    updated = appstream.update_fleet(
        Name=fleet["Name"],
        DisplayName="Renamed",
        ComputeCapacity={"DesiredInstances": 3},
        ImageName=WS2022,
        IdleDisconnectTimeoutInSeconds=600,
        DisconnectTimeoutInSeconds=1200,
    )["Fleet"]
    assert updated["State"] == "RUNNING"
    assert (updated["DisplayName"], updated["ImageName"], updated["Platform"]) == (
        "Renamed",
        WS2022,
        "WINDOWS_SERVER_2022",
    )
    assert updated["ImageArn"] == f"arn:aws:appstream:{REGION}::image/{WS2022}"
    assert updated["ComputeCapacityStatus"]["Desired"] == 3 and updated["ComputeCapacityStatus"]["Running"] == 3
    assert (updated["IdleDisconnectTimeoutInSeconds"], updated["DisconnectTimeoutInSeconds"]) == (600, 1200)


def test_running_elastic_fleet_has_its_own_live_fields(appstream: Any, network: dict[str, Any], fast: None) -> None:
    fleet = running_fleet(
        appstream,
        network,
        FleetType="ELASTIC",
        ImageName=None,
        ComputeCapacity=None,
        MaxConcurrentSessions=5,
        Platform="WINDOWS_SERVER_2019",
    )
    updated = appstream.update_fleet(Name=fleet["Name"], MaxConcurrentSessions=8, DisplayName="Elastic")["Fleet"]
    assert (updated["MaxConcurrentSessions"], updated["State"]) == (8, "RUNNING")
    code = code_of(lambda: appstream.update_fleet(Name=fleet["Name"], InstanceType="stream.standard.large"))
    assert code == "ResourceInUseException"


def test_fleet_cannot_be_updated_while_starting(appstream: Any, network: dict[str, Any]) -> None:
    fleet = make_fleet(appstream, network)
    appstream.start_fleet(Name=fleet["Name"])
    code = code_of(lambda: appstream.update_fleet(Name=fleet["Name"], DisplayName="x"))
    assert code == "ConcurrentModificationException"
    assert "DisplayName" not in fleet_of(appstream, fleet["Name"])


def test_stopped_fleet_accepts_any_change(appstream: Any, network: dict[str, Any], directory: dict[str, str]) -> None:
    fleet = make_fleet(appstream, network)
    join = {"DirectoryName": directory["name"], "OrganizationalUnitDistinguishedName": directory["ou"]}
    updated = appstream.update_fleet(
        Name=fleet["Name"],
        InstanceType="stream.compute.large",
        Description="changed",
        MaxUserDurationInSeconds=7200,
        StreamView="DESKTOP",
        VpcConfig={"SubnetIds": network["subnets"][1:2], "SecurityGroupIds": [network["sg"]]},
        DomainJoinInfo=join,
        IamRoleArn=f"arn:aws:iam::{ACCOUNT}:role/appstream-fleet",
        UsbDeviceFilterStrings=["Yubico,YubiKey,*,*,*,*,1,0"],
        RootVolumeConfig={"VolumeSizeInGb": 250},
        DisableIMDSV1=True,
        ImageArn=f"arn:aws:appstream:{REGION}::image/{WS2022}",
    )["Fleet"]
    assert updated["InstanceType"] == "stream.compute.large" and updated["StreamView"] == "DESKTOP"
    assert updated["VpcConfig"]["SubnetIds"] == network["subnets"][1:2]
    assert updated["DomainJoinInfo"] == join and updated["ImageName"] == WS2022
    assert updated["RootVolumeConfig"] == {"VolumeSizeInGb": 250} and updated["DisableIMDSV1"] is True
    assert updated["FleetType"] == "ON_DEMAND"


def test_fleet_type_cannot_be_changed(sandbox: SandboxClient, appstream: Any, network: dict[str, Any]) -> None:
    fleet = make_fleet(appstream, network, FleetType="ALWAYS_ON")
    status, error = raw_call(sandbox, "UpdateFleet", {"Name": fleet["Name"], "FleetType": "ON_DEMAND"})
    assert (status, error["__type"]) == (400, "ValidationException")
    assert "FleetType" in error["message"]
    assert fleet_of(appstream, fleet["Name"])["FleetType"] == "ALWAYS_ON"


def test_update_fleet_attributes_to_delete_remove_settings(
    appstream: Any, network: dict[str, Any], directory: dict[str, str]
) -> None:
    join = {"DirectoryName": directory["name"], "OrganizationalUnitDistinguishedName": directory["ou"]}
    fleet = make_fleet(
        appstream,
        network,
        DomainJoinInfo=join,
        IamRoleArn=f"arn:aws:iam::{ACCOUNT}:role/r",
        UsbDeviceFilterStrings=["Yubico,YubiKey,*,*,*,*,1,0"],
        RootVolumeConfig={"VolumeSizeInGb": 300},
    )
    name = fleet["Name"]
    code = code_of(lambda: appstream.update_fleet(Name=name, AttributesToDelete=["VPC_CONFIGURATION"]))
    assert code == "InvalidParameterCombinationException"  # a domain-joined fleet needs its VPC
    updated = appstream.update_fleet(
        Name=name,
        AttributesToDelete=[
            "DOMAIN_JOIN_INFO",
            "IAM_ROLE_ARN",
            "USB_DEVICE_FILTER_STRINGS",
            "VOLUME_CONFIGURATION",
            "VPC_CONFIGURATION_SECURITY_GROUP_IDS",
        ],
    )["Fleet"]
    for member in ("DomainJoinInfo", "IamRoleArn", "UsbDeviceFilterStrings", "RootVolumeConfig"):
        assert member not in updated
    assert updated["VpcConfig"] == {"SubnetIds": network["subnets"][:2]}
    assert "VpcConfig" not in appstream.update_fleet(Name=name, AttributesToDelete=["VPC_CONFIGURATION"])["Fleet"]


def test_update_fleet_cannot_set_and_delete_the_same_setting(appstream: Any, network: dict[str, Any]) -> None:
    fleet = make_fleet(appstream, network, IamRoleArn=f"arn:aws:iam::{ACCOUNT}:role/r")
    code = code_of(
        lambda: appstream.update_fleet(
            Name=fleet["Name"], IamRoleArn=f"arn:aws:iam::{ACCOUNT}:role/s", AttributesToDelete=["IAM_ROLE_ARN"]
        )
    )
    assert code == "InvalidParameterCombinationException"
    assert fleet_of(appstream, fleet["Name"])["IamRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/r"


def test_update_fleet_refuses_an_image_of_another_platform_family(appstream: Any, network: dict[str, Any]) -> None:
    fleet = make_fleet(appstream, network)
    assert code_of(lambda: appstream.update_fleet(Name=fleet["Name"], ImageName=LINUX)) == "IncompatibleImageException"
    assert fleet_of(appstream, fleet["Name"])["ImageName"] == WS2019


def test_fleet_must_be_stopped_and_disassociated_before_delete(
    appstream: Any, network: dict[str, Any], fast: None
) -> None:
    fleet = running_fleet(appstream, network)
    name = fleet["Name"]
    stack = make_stack(appstream)
    appstream.associate_fleet(FleetName=name, StackName=stack["Name"])
    assert code_of(lambda: appstream.delete_fleet(Name=name)) == "ResourceInUseException"
    appstream.stop_fleet(Name=name)
    wait_for(lambda: fleet_state(appstream, name) == "STOPPED")
    assert code_of(lambda: appstream.delete_fleet(Name=name)) == "ResourceInUseException"
    assert fleet_state(appstream, name) == "STOPPED"
    appstream.disassociate_fleet(FleetName=name, StackName=stack["Name"])
    appstream.delete_fleet(Name=name)
    assert code_of(lambda: fleet_of(appstream, name)) == "ResourceNotFoundException"


def test_fleet_that_cannot_start_reports_fleet_errors_and_stays_starting(
    sandbox: SandboxClient, appstream: Any, network: dict[str, Any], time_scale: Callable[[float], None]
) -> None:
    time_scale(0.0005)  # errors after 0.15 s; a normal start would take 0.45 s
    name = make_fleet(appstream, network)["Name"]
    error = {"ErrorCode": "DOMAIN_JOIN_ERROR_ACCESS_DENIED", "ErrorMessage": "Access is denied."}
    assert sandbox.hook("appstream", "fail-fleet", name=name, errors=[error])["armed"] is True
    appstream.start_fleet(Name=name)
    assert fleet_of(appstream, name)["FleetErrors"] == []
    wait_for(lambda: fleet_of(appstream, name)["FleetErrors"] == [error])
    time.sleep(0.5)  # longer than a modelled start at this scale: AWS leaves such a fleet STARTING
    assert fleet_state(appstream, name) == "STARTING"
    appstream.stop_fleet(Name=name)
    wait_for(lambda: fleet_state(appstream, name) == "STOPPED")
    appstream.start_fleet(Name=name)
    wait_for(lambda: fleet_state(appstream, name) == "RUNNING")
    assert fleet_of(appstream, name)["FleetErrors"] == []


def test_fail_fleet_can_end_in_stopped(sandbox: SandboxClient, appstream: Any, network: dict[str, Any]) -> None:
    name = make_fleet(appstream, network)["Name"]
    appstream.start_fleet(Name=name)
    sandbox.hook("appstream", "fail-fleet", name=name, final_state="STOPPED")
    described = fleet_of(appstream, name)
    assert described["State"] == "STOPPED"
    assert described["FleetErrors"][0]["ErrorCode"] == "INTERNAL_SERVICE_ERROR"
    status, _ = hook_error(sandbox, "fail-fleet", name=name, errors=[{"ErrorCode": "NOPE", "ErrorMessage": "x"}])
    assert status == 400


# == stacks and associations ===================================================================
FULL_STACK: dict[str, Any] = {
    "Description": "Lab stack",
    "DisplayName": "Lab",
    "StorageConnectors": [{"ConnectorType": "HOMEFOLDERS"}, {"ConnectorType": "ONE_DRIVE", "Domains": ["lab.example"]}],
    "RedirectURL": "https://lab.example/bye",
    "FeedbackURL": "https://lab.example/feedback",
    "UserSettings": [
        {"Action": "CLIPBOARD_COPY_TO_LOCAL_DEVICE", "Permission": "DISABLED"},
        {"Action": "FILE_DOWNLOAD", "Permission": "DISABLED"},
        {"Action": "PRINTING_TO_LOCAL_DEVICE", "Permission": "DISABLED"},
    ],
    "ApplicationSettings": {"Enabled": True, "SettingsGroup": "lab"},
    "AccessEndpoints": [{"EndpointType": "STREAMING", "VpceId": "vpce-0123456789abcdef0"}],
    "EmbedHostDomains": ["portal.lab.example"],
    "StreamingExperienceSettings": {"PreferredProtocol": "UDP"},
    "StorageConnectorAuthentication": "FORCE_REAUTHENTICATION",
}


def test_stack_reports_every_setting_and_default_user_settings(appstream: Any) -> None:
    stack = make_stack(appstream, Tags={"tenant": "acme"}, **FULL_STACK)
    described = stack_of(appstream, stack["Name"])
    assert described["Arn"] == f"arn:aws:appstream:{REGION}:{ACCOUNT}:stack/{stack['Name']}"
    for member in (
        "Description",
        "DisplayName",
        "StorageConnectors",
        "RedirectURL",
        "FeedbackURL",
        "AccessEndpoints",
        "EmbedHostDomains",
        "StreamingExperienceSettings",
        "StorageConnectorAuthentication",
    ):
        assert described[member] == FULL_STACK[member], member
    settings = {s["Action"]: s["Permission"] for s in described["UserSettings"]}
    assert set(settings) == set(USER_SETTING_DEFAULTS)
    assert settings["FILE_DOWNLOAD"] == "DISABLED" and settings["FILE_UPLOAD"] == "ENABLED"
    assert described["ApplicationSettings"]["Enabled"] is True
    assert described["ApplicationSettings"]["S3BucketName"].startswith(f"appstream-app-settings-{REGION}-{ACCOUNT}")
    bare = make_stack(appstream)
    assert bare["ApplicationSettings"] == {"Enabled": False}
    assert {s["Permission"] for s in bare["UserSettings"]} == {"ENABLED"}


def test_update_stack_changes_every_field(appstream: Any) -> None:
    name = make_stack(appstream)["Name"]
    updated = appstream.update_stack(Name=name, **FULL_STACK)["Stack"]
    for member in (
        "Description",
        "DisplayName",
        "StorageConnectors",
        "RedirectURL",
        "FeedbackURL",
        "AccessEndpoints",
        "EmbedHostDomains",
        "StreamingExperienceSettings",
        "StorageConnectorAuthentication",
    ):
        assert updated[member] == FULL_STACK[member], member
    again = appstream.update_stack(Name=name, UserSettings=[{"Action": "FILE_UPLOAD", "Permission": "DISABLED"}])
    settings = {s["Action"]: s["Permission"] for s in again["Stack"]["UserSettings"]}
    assert settings["FILE_UPLOAD"] == "DISABLED" and settings["FILE_DOWNLOAD"] == "DISABLED"


@pytest.mark.parametrize(
    ("attribute", "member"),
    [
        ("STORAGE_CONNECTORS", "StorageConnectors"),
        ("REDIRECT_URL", "RedirectURL"),
        ("FEEDBACK_URL", "FeedbackURL"),
        ("EMBED_HOST_DOMAINS", "EmbedHostDomains"),
        ("ACCESS_ENDPOINTS", "AccessEndpoints"),
        ("STREAMING_EXPERIENCE_SETTINGS", "StreamingExperienceSettings"),
        ("STORAGE_CONNECTOR_AUTHENTICATION", "StorageConnectorAuthentication"),
    ],
)
def test_update_stack_attributes_to_delete_remove_settings(appstream: Any, attribute: str, member: str) -> None:
    name = make_stack(appstream, **FULL_STACK)["Name"]
    updated = appstream.update_stack(Name=name, AttributesToDelete=[attribute])["Stack"]
    assert member not in updated
    assert updated["RedirectURL" if member != "RedirectURL" else "FeedbackURL"]


def test_update_stack_deletes_one_connector_type_and_resets_user_settings(appstream: Any) -> None:
    name = make_stack(appstream, **FULL_STACK)["Name"]
    updated = appstream.update_stack(Name=name, AttributesToDelete=["STORAGE_CONNECTOR_HOMEFOLDERS", "USER_SETTINGS"])
    assert [c["ConnectorType"] for c in updated["Stack"]["StorageConnectors"]] == ["ONE_DRIVE"]
    assert {s["Permission"] for s in updated["Stack"]["UserSettings"]} == {"ENABLED"}


def test_update_stack_cannot_set_and_delete_the_same_setting(appstream: Any) -> None:
    name = make_stack(appstream, RedirectURL="https://a.example")["Name"]
    code = code_of(
        lambda: appstream.update_stack(Name=name, RedirectURL="https://b.example", AttributesToDelete=["REDIRECT_URL"])
    )
    assert code == "InvalidParameterCombinationException"
    assert stack_of(appstream, name)["RedirectURL"] == "https://a.example"


def test_stack_names_are_unique(appstream: Any) -> None:
    name = make_stack(appstream, Description="first")["Name"]
    assert code_of(lambda: make_stack(appstream, Name=name)) == "ResourceAlreadyExistsException"
    assert stack_of(appstream, name)["Description"] == "first"


def test_stack_with_a_fleet_cannot_be_deleted(appstream: Any, network: dict[str, Any]) -> None:
    stack, fleet = make_stack(appstream)["Name"], make_fleet(appstream, network)["Name"]
    appstream.associate_fleet(FleetName=fleet, StackName=stack)
    assert code_of(lambda: appstream.delete_stack(Name=stack)) == "ResourceInUseException"
    assert stack_of(appstream, stack)["Name"] == stack
    appstream.disassociate_fleet(FleetName=fleet, StackName=stack)
    appstream.delete_stack(Name=stack)
    assert code_of(lambda: stack_of(appstream, stack)) == "ResourceNotFoundException"


def test_fleet_stack_associations_are_listed_and_a_stack_has_one_fleet(appstream: Any, network: dict[str, Any]) -> None:
    stack, fleet, other = make_stack(appstream)["Name"], make_fleet(appstream, network)["Name"], uid("x")
    appstream.associate_fleet(FleetName=fleet, StackName=stack)
    appstream.associate_fleet(FleetName=fleet, StackName=stack)  # idempotent
    assert appstream.list_associated_stacks(FleetName=fleet)["Names"] == [stack]
    assert appstream.list_associated_fleets(StackName=stack)["Names"] == [fleet]
    second = make_fleet(appstream, network, Name=other)["Name"]
    code = code_of(lambda: appstream.associate_fleet(FleetName=second, StackName=stack))
    assert code == "OperationNotPermittedException"
    assert appstream.list_associated_fleets(StackName=stack)["Names"] == [fleet]
    code = code_of(lambda: appstream.disassociate_fleet(FleetName=second, StackName=stack))
    assert code == "ResourceNotFoundException"
    assert code_of(lambda: appstream.associate_fleet(FleetName=uid("ghost"), StackName=stack)) == (
        "ResourceNotFoundException"
    )


# == directory configs =========================================================================
def test_directory_config_lifecycle_never_returns_the_password(appstream: Any) -> None:
    name = f"{uid('dir')}.example.com"
    domain = ",".join(f"DC={p}" for p in name.split("."))
    ous = [f"OU=Computers,OU=LAB,{domain}"]
    created = appstream.create_directory_config(
        DirectoryName=name,
        OrganizationalUnitDistinguishedNames=ous,
        ServiceAccountCredentials={"AccountName": "LAB\\svc", "AccountPassword": "Pa55word!"},
    )["DirectoryConfig"]
    assert created["ServiceAccountCredentials"] == {"AccountName": "LAB\\svc"}
    described = appstream.describe_directory_configs(DirectoryNames=[name])["DirectoryConfigs"][0]
    assert described["OrganizationalUnitDistinguishedNames"] == ous
    assert "AccountPassword" not in described["ServiceAccountCredentials"]
    more = [*ous, f"OU=Fleet,OU=LAB,{domain}"]
    updated = appstream.update_directory_config(
        DirectoryName=name,
        OrganizationalUnitDistinguishedNames=more,
        ServiceAccountCredentials={"AccountName": "LAB\\svc2", "AccountPassword": "Other!pass1"},
    )["DirectoryConfig"]
    assert updated["OrganizationalUnitDistinguishedNames"] == more
    assert updated["ServiceAccountCredentials"] == {"AccountName": "LAB\\svc2"}
    appstream.delete_directory_config(DirectoryName=name)
    code = code_of(lambda: appstream.describe_directory_configs(DirectoryNames=[name]))
    assert code == "ResourceNotFoundException"


def test_one_directory_config_per_directory_name(appstream: Any, directory: dict[str, str]) -> None:
    code = code_of(
        lambda: appstream.create_directory_config(
            DirectoryName=directory["name"], OrganizationalUnitDistinguishedNames=[f"OU=Other,{directory['domain']}"]
        )
    )
    assert code == "ResourceAlreadyExistsException"
    described = appstream.describe_directory_configs(DirectoryNames=[directory["name"]])["DirectoryConfigs"][0]
    assert described["OrganizationalUnitDistinguishedNames"] == [directory["ou"]]


@pytest.mark.parametrize(
    "ou",
    ["CN=Computers,{domain}", "OU=App Stream,{domain}", "OU=Computers,DC=elsewhere,DC=example", "OU=Computers"],
    ids=["container-not-ou", "space-in-ou-name", "other-domain", "no-domain"],
)
def test_directory_config_ous_must_be_ous_of_the_domain(appstream: Any, ou: str) -> None:
    name = f"{uid('dir')}.example.com"
    domain = ",".join(f"DC={p}" for p in name.split("."))
    code = code_of(
        lambda: appstream.create_directory_config(
            DirectoryName=name, OrganizationalUnitDistinguishedNames=[ou.format(domain=domain)]
        )
    )
    assert code == "OperationNotPermittedException"
    assert code_of(lambda: appstream.describe_directory_configs(DirectoryNames=[name])) == "ResourceNotFoundException"


def test_directory_config_in_use_cannot_be_deleted_or_lose_the_ou(appstream: Any, network: dict[str, Any]) -> None:
    name = f"{uid('dir')}.example.com"
    domain = ",".join(f"DC={p}" for p in name.split("."))
    ou, spare = f"OU=Computers,{domain}", f"OU=Spare,{domain}"
    appstream.create_directory_config(DirectoryName=name, OrganizationalUnitDistinguishedNames=[ou, spare])
    make_fleet(appstream, network, DomainJoinInfo={"DirectoryName": name, "OrganizationalUnitDistinguishedName": ou})
    assert code_of(lambda: appstream.delete_directory_config(DirectoryName=name)) == "ResourceInUseException"
    code = code_of(
        lambda: appstream.update_directory_config(DirectoryName=name, OrganizationalUnitDistinguishedNames=[spare])
    )
    assert code == "ResourceInUseException"
    appstream.update_directory_config(DirectoryName=name, OrganizationalUnitDistinguishedNames=[ou])
    described = appstream.describe_directory_configs(DirectoryNames=[name])["DirectoryConfigs"][0]
    assert described["OrganizationalUnitDistinguishedNames"] == [ou]


# == users, associations, streaming, sessions ====================================================
def test_user_pool_users_lifecycle(appstream: Any) -> None:
    email = f"{uid('ada')}@lab.example"
    appstream.create_user(
        UserName=email, AuthenticationType="USERPOOL", FirstName="Ada", LastName="Lovelace", MessageAction="SUPPRESS"
    )
    assert code_of(lambda: appstream.create_user(UserName=email, AuthenticationType="USERPOOL")) == (
        "ResourceAlreadyExistsException"
    )

    def user() -> dict[str, Any]:
        pages = appstream.get_paginator("describe_users").paginate(AuthenticationType="USERPOOL")
        return next(u for p in pages for u in p["Users"] if u["UserName"] == email)

    assert (user()["FirstName"], user()["Enabled"], user()["AuthenticationType"]) == ("Ada", True, "USERPOOL")
    assert user()["Arn"].startswith(f"arn:aws:appstream:{REGION}:{ACCOUNT}:user/")
    appstream.disable_user(UserName=email, AuthenticationType="USERPOOL")
    assert user()["Enabled"] is False
    appstream.enable_user(UserName=email, AuthenticationType="USERPOOL")
    assert user()["Enabled"] is True
    appstream.delete_user(UserName=email, AuthenticationType="USERPOOL")
    assert code_of(lambda: appstream.delete_user(UserName=email, AuthenticationType="USERPOOL")) == (
        "ResourceNotFoundException"
    )


def test_only_user_pool_users_can_be_created(appstream: Any) -> None:
    code = code_of(lambda: appstream.create_user(UserName="x@lab.example", AuthenticationType="SAML"))
    assert code == "InvalidParameterCombinationException"


def test_user_stack_associations_report_errors_per_item(appstream: Any) -> None:
    email, stack = f"{uid('u')}@lab.example", make_stack(appstream)["Name"]
    appstream.create_user(UserName=email, AuthenticationType="USERPOOL")
    ghost_stack, ghost_user = uid("nostack"), f"{uid('nobody')}@lab.example"
    result = appstream.batch_associate_user_stack(
        UserStackAssociations=[
            {"StackName": stack, "UserName": email, "AuthenticationType": "USERPOOL", "SendEmailNotification": True},
            {"StackName": ghost_stack, "UserName": email, "AuthenticationType": "USERPOOL"},
            {"StackName": stack, "UserName": ghost_user, "AuthenticationType": "USERPOOL"},
        ]
    )
    assert [(e["ErrorCode"], e["UserStackAssociation"]["StackName"]) for e in result["errors"]] == [
        ("STACK_NOT_FOUND", ghost_stack),
        ("USER_NAME_NOT_FOUND", stack),
    ]
    by_stack = appstream.describe_user_stack_associations(StackName=stack)["UserStackAssociations"]
    assert by_stack == [{"StackName": stack, "UserName": email, "AuthenticationType": "USERPOOL"}]
    by_user = appstream.describe_user_stack_associations(UserName=email, AuthenticationType="USERPOOL")
    assert by_user["UserStackAssociations"] == by_stack
    out = appstream.batch_disassociate_user_stack(
        UserStackAssociations=[{"StackName": stack, "UserName": email, "AuthenticationType": "USERPOOL"}]
    )
    assert out["errors"] == []
    assert appstream.describe_user_stack_associations(StackName=stack)["UserStackAssociations"] == []
    assert code_of(lambda: appstream.describe_user_stack_associations()) == "InvalidParameterCombinationException"


def test_user_pool_users_cannot_join_a_stack_with_a_domain_joined_fleet(
    appstream: Any, network: dict[str, Any], directory: dict[str, str]
) -> None:
    join = {"DirectoryName": directory["name"], "OrganizationalUnitDistinguishedName": directory["ou"]}
    stack, fleet = make_stack(appstream)["Name"], make_fleet(appstream, network, DomainJoinInfo=join)["Name"]
    appstream.associate_fleet(FleetName=fleet, StackName=stack)
    email = f"{uid('u')}@lab.example"
    appstream.create_user(UserName=email, AuthenticationType="USERPOOL")
    result = appstream.batch_associate_user_stack(
        UserStackAssociations=[{"StackName": stack, "UserName": email, "AuthenticationType": "USERPOOL"}]
    )
    assert [e["ErrorCode"] for e in result["errors"]] == ["DIRECTORY_NOT_FOUND"]
    assert appstream.describe_user_stack_associations(StackName=stack)["UserStackAssociations"] == []


def test_streaming_url_rules(appstream: Any, network: dict[str, Any], directory: dict[str, str], fast: None) -> None:
    stack = make_stack(appstream)["Name"]
    fleet = make_fleet(appstream, network)["Name"]
    code = code_of(lambda: appstream.create_streaming_url(StackName=stack, FleetName=fleet, UserId="ada"))
    assert code == "InvalidParameterCombinationException"
    appstream.associate_fleet(FleetName=fleet, StackName=stack)
    code = code_of(lambda: appstream.create_streaming_url(StackName=stack, FleetName=fleet, UserId="ada"))
    assert code == "ResourceNotAvailableException"
    appstream.start_fleet(Name=fleet)
    wait_for(lambda: fleet_state(appstream, fleet) == "RUNNING")
    result = appstream.create_streaming_url(StackName=stack, FleetName=fleet, UserId="ada", Validity=120)
    assert result["StreamingURL"].startswith("https://appstream2.")
    joined_stack = make_stack(appstream)["Name"]
    join = {"DirectoryName": directory["name"], "OrganizationalUnitDistinguishedName": directory["ou"]}
    joined = running_fleet(appstream, network, DomainJoinInfo=join, FleetType="ALWAYS_ON")["Name"]
    appstream.associate_fleet(FleetName=joined, StackName=joined_stack)
    code = code_of(lambda: appstream.create_streaming_url(StackName=joined_stack, FleetName=joined, UserId="ada"))
    assert code == "OperationNotPermittedException"


def test_sessions_are_described_counted_and_expired(
    sandbox: SandboxClient, appstream: Any, network: dict[str, Any], fast: None
) -> None:
    fleet = running_fleet(appstream, network, ComputeCapacity={"DesiredInstances": 4})["Name"]
    stack = make_stack(appstream)["Name"]
    appstream.associate_fleet(FleetName=fleet, StackName=stack)
    sandbox.hook("appstream", "sessions", stack=stack, fleet=fleet, user="ada", count=2)
    sandbox.hook(
        "appstream",
        "sessions",
        stack=stack,
        fleet=fleet,
        user="bob@lab.example",
        count=1,
        authentication_type="USERPOOL",
    )
    api = appstream.describe_sessions(StackName=stack, FleetName=fleet)["Sessions"]
    assert [(s["UserId"], s["State"], s["AuthenticationType"]) for s in api] == [("ada", "ACTIVE", "API")] * 2
    pool = appstream.describe_sessions(StackName=stack, FleetName=fleet, AuthenticationType="USERPOOL")["Sessions"]
    assert [s["UserId"] for s in pool] == ["bob@lab.example"]
    first = appstream.describe_sessions(StackName=stack, FleetName=fleet, Limit=1)
    assert len(first["Sessions"]) == 1 and first["NextToken"]
    assert fleet_of(appstream, fleet)["ComputeCapacityStatus"] == {
        "Desired": 4,
        "Running": 4,
        "InUse": 3,
        "Available": 1,
    }
    assert code_of(lambda: appstream.describe_sessions(StackName=stack, FleetName=fleet, UserId="ada")) == (
        "InvalidParameterCombinationException"
    )
    assert code_of(lambda: appstream.disassociate_fleet(FleetName=fleet, StackName=stack)) == ("ResourceInUseException")
    appstream.expire_session(SessionId=api[0]["Id"])
    assert len(appstream.describe_sessions(StackName=stack, FleetName=fleet)["Sessions"]) == 1
    status, _ = hook_error(sandbox, "sessions", stack=stack, fleet=fleet, user="eve", count=5)
    assert status == 400
    appstream.stop_fleet(Name=fleet)
    assert appstream.describe_sessions(StackName=stack, FleetName=fleet)["Sessions"] == []


# == tags, pagination, inventory ===============================================================
def test_tags_on_every_resource_kind(
    sandbox: SandboxClient, appstream: Any, network: dict[str, Any], fast: None
) -> None:
    image = private_image(sandbox, appstream, network)
    arns = [
        make_fleet(appstream, network, Tags={"tenant": "acme"})["Arn"],
        make_stack(appstream, Tags={"tenant": "acme"})["Arn"],
        make_builder(appstream, network, Tags={"tenant": "acme"})["Arn"],
        image_of(appstream, image)["Arn"],
    ]
    assert [a.split(":")[5].split("/")[0] for a in arns] == ["fleet", "stack", "image-builder", "image"]
    for arn in arns:
        appstream.tag_resource(ResourceArn=arn, Tags={"tenant": "acme", "environment": "dev"})
        appstream.tag_resource(ResourceArn=arn, Tags={"managed-by": "ansible"})
        appstream.untag_resource(ResourceArn=arn, TagKeys=["environment"])
        assert appstream.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"tenant": "acme", "managed-by": "ansible"}
    public = f"arn:aws:appstream:{REGION}::image/{WS2019}"
    assert appstream.list_tags_for_resource(ResourceArn=public)["Tags"] == {}
    assert code_of(lambda: appstream.tag_resource(ResourceArn=public, Tags={"a": "b"})) == "ResourceNotFoundException"


def test_tag_limits_and_unknown_resources(appstream: Any, raw: Any) -> None:
    arn = make_stack(appstream, Tags={f"k{i}": "v" for i in range(45)})["Arn"]
    # raw: no retries, which boto3's standard mode would spend on LimitExceededException
    code = code_of(lambda: raw.tag_resource(ResourceArn=arn, Tags={f"n{i}": "v" for i in range(6)}))
    assert code == "LimitExceededException"
    assert len(appstream.list_tags_for_resource(ResourceArn=arn)["Tags"]) == 45
    assert code_of(lambda: raw.create_stack(Name=uid("s"), Tags={f"k{i}": "v" for i in range(51)})) == (
        "ValidationException"
    )
    assert code_of(lambda: appstream.tag_resource(ResourceArn=arn, Tags={"aws:owner": "x"})) == "ValidationException"
    ghost = f"arn:aws:appstream:{REGION}:{ACCOUNT}:fleet/{uid('ghost')}"
    assert code_of(lambda: appstream.list_tags_for_resource(ResourceArn=ghost)) == "ResourceNotFoundException"


def test_describe_stacks_paginates_beyond_one_page(appstream: Any) -> None:
    prefix = uid("page")
    names = {make_stack(appstream, Name=f"{prefix}-{i:02d}")["Name"] for i in range(27)}
    first = appstream.describe_stacks()
    assert len(first["Stacks"]) == 25 and first["NextToken"]
    listed = [s["Name"] for p in appstream.get_paginator("describe_stacks").paginate() for s in p["Stacks"]]
    assert names <= set(listed) and len(listed) == len(set(listed))
    assert code_of(lambda: appstream.describe_stacks(NextToken="garbage")) == "InvalidNextTokenException"


def test_describe_users_paginates_with_max_results(appstream: Any) -> None:
    for _ in range(3):
        appstream.create_user(UserName=f"{uid('p')}@lab.example", AuthenticationType="USERPOOL")
    first = appstream.describe_users(AuthenticationType="USERPOOL", MaxResults=2)
    assert len(first["Users"]) == 2 and first["NextToken"]


def test_inventory_hook_lists_resources_states_and_tags(
    sandbox: SandboxClient, appstream: Any, network: dict[str, Any]
) -> None:
    fleet = make_fleet(appstream, network, Tags={"tenant": "inv"})["Name"]
    stack = make_stack(appstream, Tags={"tenant": "inv"})["Name"]
    appstream.associate_fleet(FleetName=fleet, StackName=stack)
    inventory = sandbox.hook("appstream", "inventory")
    assert inventory["fleets"][fleet]["state"] == "STOPPED"
    assert inventory["fleets"][fleet]["tags"] == {"tenant": "inv"}
    assert inventory["fleets"][fleet]["stacks"] == [stack]
    assert inventory["stacks"][stack]["fleets"] == [fleet]
    assert all(i["visibility"] != "PUBLIC" for i in inventory["images"].values())
