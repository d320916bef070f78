"""The sandbox's Directory Service (Managed Microsoft AD), driven through boto3 like AWS.

Each test builds its own VPC and names, so the shared sandbox is never reset.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.client import SandboxClient
from tests.sandbox.aws_helpers import (
    PASSWORD,
    create_directory,
    error_code,
    make_network,
    unique,
    wait_for,
)

FAST_SCALE = 0.00005  # 25 modelled minutes in 75 ms


# -- helpers ------------------------------------------------------------------------------------


def describe(ds: Any, directory_id: str) -> dict[str, Any]:
    return ds.describe_directories(DirectoryIds=[directory_id])["DirectoryDescriptions"][0]


def wait_stage(ds: Any, directory_id: str, stage: str, timeout: float = 15.0) -> dict[str, Any]:
    return wait_for(lambda: describe(ds, directory_id), lambda d: d["Stage"] == stage, timeout)


def wait_gone(ds: Any, directory_id: str, timeout: float = 15.0) -> None:
    def exists() -> bool:
        try:
            describe(ds, directory_id)
        except ClientError as err:
            assert err.response["Error"]["Code"] == "EntityDoesNotExistException"
            return False
        return True

    wait_for(exists, lambda present: not present, timeout)


def create_active_directory(sandbox: SandboxClient, ds: Any, network: dict[str, Any], **overrides: Any) -> str:
    """A directory created under a much faster clock, for tests that only need it Active."""
    before = sandbox.health()["time_scale"]
    sandbox.set_time_scale(FAST_SCALE)
    try:
        directory_id = create_directory(ds, network, **overrides)
    finally:
        sandbox.set_time_scale(before)
    wait_stage(ds, directory_id, "Active")
    return directory_id


def unvalidated_client(sandbox: SandboxClient, service: str) -> Any:
    """A boto3 client that skips botocore's own parameter checks, to reach the sandbox's."""
    return boto3.client(
        service,
        region_name=sandbox.region,
        endpoint_url=sandbox.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(parameter_validation=False, retries={"mode": "standard", "max_attempts": 1}),
    )


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def network(ec2: Any) -> dict[str, Any]:
    return make_network(ec2)


@pytest.fixture(scope="module")
def active_directory(sandbox: SandboxClient, ds: Any, ec2: Any) -> Iterator[dict[str, Any]]:
    """One Active directory shared by the tests that need that stage."""
    network = make_network(ec2)
    tags = [{"Key": "tenant", "Value": "ds-tests"}]
    directory_id = create_active_directory(sandbox, ds, network, Edition="Standard", Tags=tags)
    yield {"id": directory_id, "network": network}
    ds.delete_directory(DirectoryId=directory_id)


# -- creation and lifecycle ---------------------------------------------------------------------------
def test_create_moves_requested_then_creating_then_active(
    ds: Any, network: dict[str, Any], time_scale: Callable[[float], None]
) -> None:
    time_scale(0.0005)  # 25 modelled minutes in 0.75 s: Creating stays observable
    directory_id = create_directory(ds, network)
    assert directory_id.startswith("d-") and len(directory_id) == 12
    first = describe(ds, directory_id)
    assert first["Stage"] in ("Requested", "Creating")
    creating = wait_stage(ds, directory_id, "Creating")
    active = wait_stage(ds, directory_id, "Active")
    assert active["StageLastUpdatedDateTime"] > creating["StageLastUpdatedDateTime"]
    ds.delete_directory(DirectoryId=directory_id)


def test_describe_shows_the_model_fields_of_a_managed_ad(ds: Any, active_directory: dict[str, Any]) -> None:
    found = describe(ds, active_directory["id"])
    network = active_directory["network"]
    assert found["Type"] == "MicrosoftAD"
    assert found["Edition"] == "Standard"
    assert "Size" not in found
    assert found["AccessUrl"] == f"{active_directory['id']}.awsapps.com"
    assert found["DesiredNumberOfDomainControllers"] == 2
    assert found["ShortName"] == found["Name"].split(".")[0].upper()
    settings = found["VpcSettings"]
    assert settings["VpcId"] == network["vpc"]
    assert settings["SubnetIds"] == network["subnets"][:2]
    assert settings["AvailabilityZones"] == network["zones"][:2]
    assert settings["SecurityGroupId"].startswith("sg-")
    assert found["LaunchTime"] <= found["StageLastUpdatedDateTime"]
    assert "Password" not in json.dumps(found, default=str)


def test_edition_defaults_to_enterprise_as_the_api(ds: Any, network: dict[str, Any]) -> None:
    directory_id = create_directory(ds, network)
    assert describe(ds, directory_id)["Edition"] == "Enterprise"
    ds.delete_directory(DirectoryId=directory_id)


def test_dns_addresses_lie_in_the_two_subnets_and_are_stable(
    ds: Any, ec2: Any, active_directory: dict[str, Any]
) -> None:
    network = active_directory["network"]
    addresses = describe(ds, active_directory["id"])["DnsIpAddrs"]
    assert len(addresses) == 2
    for address, subnet_id in zip(addresses, network["subnets"][:2], strict=True):
        assert ipaddress.ip_address(address) in ipaddress.ip_network(network["cidrs"][subnet_id])
    assert describe(ds, active_directory["id"])["DnsIpAddrs"] == addresses
    interfaces = ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [network["vpc"]]}])
    assert sorted(i["PrivateIpAddress"] for i in interfaces["NetworkInterfaces"]) == sorted(addresses)


def test_controllers_security_group_is_created_in_the_vpc(ds: Any, ec2: Any, active_directory: dict[str, Any]) -> None:
    group_id = describe(ds, active_directory["id"])["VpcSettings"]["SecurityGroupId"]
    group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    assert group["GroupName"] == f"{active_directory['id']}_controllers"
    assert group["VpcId"] == active_directory["network"]["vpc"]


def test_describe_directories_paginates_with_limit(ds: Any, network: dict[str, Any]) -> None:
    created = {create_directory(ds, network) for _ in range(3)}
    seen: list[str] = []
    kwargs: dict[str, Any] = {"Limit": 2}
    while True:
        page = ds.describe_directories(**kwargs)
        assert len(page["DirectoryDescriptions"]) <= 2
        seen += [d["DirectoryId"] for d in page["DirectoryDescriptions"]]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert created <= set(seen)
    assert len(seen) == len(set(seen))
    for directory_id in created:
        ds.delete_directory(DirectoryId=directory_id)


# -- creation rules ---------------------------------------------------------------------------------
def test_subnets_in_the_same_az_are_refused(ds: Any, network: dict[str, Any]) -> None:
    same_zone = [network["subnets"][0], network["subnets"][2]]
    with pytest.raises(ClientError) as excinfo:
        create_directory(ds, network, VpcSettings={"VpcId": network["vpc"], "SubnetIds": same_zone})
    assert error_code(excinfo) == "ClientException"


def test_exactly_two_subnets_are_required(ds: Any, network: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as excinfo:
        create_directory(ds, network, VpcSettings={"VpcId": network["vpc"], "SubnetIds": network["subnets"][:1]})
    assert error_code(excinfo) == "InvalidParameterException"


def test_unknown_subnet_is_refused(ds: Any, network: dict[str, Any]) -> None:
    subnets = [network["subnets"][0], "subnet-0123456789abcdef0"]
    with pytest.raises(ClientError) as excinfo:
        create_directory(ds, network, VpcSettings={"VpcId": network["vpc"], "SubnetIds": subnets})
    assert error_code(excinfo) == "InvalidParameterException"


def test_subnets_of_another_vpc_are_refused(ds: Any, ec2: Any, network: dict[str, Any]) -> None:
    other = make_network(ec2)
    with pytest.raises(ClientError) as excinfo:
        create_directory(ds, network, VpcSettings={"VpcId": other["vpc"], "SubnetIds": network["subnets"][:2]})
    assert error_code(excinfo) == "ClientException"


def test_unknown_vpc_is_refused(ds: Any, network: dict[str, Any]) -> None:
    settings = {"VpcId": "vpc-0123456789abcdef0", "SubnetIds": network["subnets"][:2]}
    with pytest.raises(ClientError) as excinfo:
        create_directory(ds, network, VpcSettings=settings)
    assert error_code(excinfo) == "ClientException"


def test_hybrid_edition_is_unsupported_here(ds: Any, network: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as excinfo:
        create_directory(ds, network, Edition="Hybrid")
    assert error_code(excinfo) == "UnsupportedOperationException"


def test_netbios_name_longer_than_15_characters_is_refused(ds: Any, network: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as excinfo:
        create_directory(ds, network, ShortName="SIXTEENCHARSLONG")
    assert error_code(excinfo) == "InvalidParameterException"


def test_reserved_tag_prefix_is_refused(ds: Any, network: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as excinfo:
        create_directory(ds, network, Tags=[{"Key": "aws:owner", "Value": "x"}])
    assert error_code(excinfo) == "InvalidParameterException"


def test_directory_limit_per_region(sandbox: SandboxClient) -> None:
    region = "eu-central-1"  # a region of its own, so the lowered limit disturbs no other test
    ds, ec2 = sandbox.boto3("ds", region), sandbox.boto3("ec2", region)
    network = make_network(ec2, ("eu-central-1a", "eu-central-1b"))
    previous = sandbox.hook("ds", "set-limits", region=region)["directories"]
    existing = len(ds.describe_directories()["DirectoryDescriptions"])
    sandbox.hook("ds", "set-limits", region=region, directories=existing + 1)
    try:
        directory_id = create_directory(ds, network)
        with pytest.raises(ClientError) as excinfo:
            create_directory(ds, network)
        assert error_code(excinfo) == "DirectoryLimitExceededException"
        ds.delete_directory(DirectoryId=directory_id)
    finally:
        sandbox.hook("ds", "set-limits", region=region, directories=previous)


def test_weak_password_is_refused_without_being_echoed(sandbox: SandboxClient, network: dict[str, Any]) -> None:
    weak = "alllowercaseletters"
    with pytest.raises(ClientError) as excinfo:
        create_directory(sandbox.boto3("ds"), network, Password=weak)
    assert error_code(excinfo) == "ValidationException"
    assert weak not in json.dumps(excinfo.value.response, default=str)


def test_fewer_than_two_controllers_fail_server_side_validation(
    sandbox: SandboxClient, active_directory: dict[str, Any]
) -> None:
    client = unvalidated_client(sandbox, "ds")
    with pytest.raises(ClientError) as excinfo:
        client.update_number_of_domain_controllers(DirectoryId=active_directory["id"], DesiredNumber=1)
    assert error_code(excinfo) == "ValidationException"


def test_connect_directory_answers_not_implemented(ds: Any, network: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as excinfo:
        ds.connect_directory(
            Name="corp.example.com",
            Password=PASSWORD,
            Size="Small",
            ConnectSettings={
                "VpcId": network["vpc"],
                "SubnetIds": network["subnets"][:2],
                "CustomerDnsIps": ["10.0.0.2"],
                "CustomerUserName": "admin",
            },
        )
    assert error_code(excinfo) == "InvalidAction"


def test_unknown_directory_does_not_exist(ds: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        ds.describe_directories(DirectoryIds=["d-0000000000"])
    assert error_code(excinfo) == "EntityDoesNotExistException"


# -- passwords ---------------------------------------------------------------------------------------
def check_password(sandbox: SandboxClient, directory_id: str, password: str, user: str = "Admin") -> bool:
    return sandbox.hook("ds", "check-password", directory_id=directory_id, user=user, password=password)["matches"]


def test_reset_user_password_changes_the_admin_password(
    sandbox: SandboxClient, ds: Any, network: dict[str, Any]
) -> None:
    directory_id = create_active_directory(sandbox, ds, network)
    assert check_password(sandbox, directory_id, PASSWORD)
    new_password = f"Rotated-{uuid.uuid4().hex[:10]}-Pw1"
    ds.reset_user_password(DirectoryId=directory_id, UserName="Admin", NewPassword=new_password)
    assert check_password(sandbox, directory_id, new_password)
    assert not check_password(sandbox, directory_id, PASSWORD)
    ds.delete_directory(DirectoryId=directory_id)


def test_passwords_never_reach_the_request_log_or_a_response(
    sandbox: SandboxClient, ds: Any, network: dict[str, Any]
) -> None:
    initial = f"Initial-{uuid.uuid4().hex[:12]}-Pw1"
    rotated = f"Rotated-{uuid.uuid4().hex[:12]}-Pw2"
    responses: list[Any] = []
    directory_id = create_active_directory(sandbox, ds, network, Password=initial)
    responses.append(describe(ds, directory_id))
    responses.append(ds.reset_user_password(DirectoryId=directory_id, UserName="Admin", NewPassword=rotated))
    responses.append(ds.describe_directories())
    responses.append(ds.describe_domain_controllers(DirectoryId=directory_id))
    responses.append(sandbox.hook("ds", "inventory"))
    responses.append(sandbox.log())
    ds.delete_directory(DirectoryId=directory_id)
    text = json.dumps(responses, default=str)
    log_file = (sandbox.state_dir / "requests.jsonl").read_text()  # type: ignore[attr-defined]
    for secret in (initial, rotated):
        assert secret not in text
        assert secret not in log_file


def test_reset_user_password_refuses_a_weak_password(ds: Any, active_directory: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as excinfo:
        ds.reset_user_password(DirectoryId=active_directory["id"], UserName="Admin", NewPassword="password")
    assert error_code(excinfo) == "InvalidPasswordException"


def test_reset_user_password_refuses_a_password_containing_the_user_name(
    ds: Any, active_directory: dict[str, Any]
) -> None:
    with pytest.raises(ClientError) as excinfo:
        ds.reset_user_password(DirectoryId=active_directory["id"], UserName="Admin", NewPassword="MyAdmin-2024x")
    assert error_code(excinfo) == "InvalidPasswordException"


def test_reset_user_password_of_an_unknown_user(ds: Any, active_directory: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as excinfo:
        ds.reset_user_password(DirectoryId=active_directory["id"], UserName="nobody", NewPassword="Str0ng-Pass!")
    assert error_code(excinfo) == "UserDoesNotExistException"


def test_reset_user_password_reaches_a_declared_user(
    sandbox: SandboxClient, ds: Any, active_directory: dict[str, Any]
) -> None:
    user = unique("svc")
    sandbox.hook("ds", "add-user", directory_id=active_directory["id"], user=user)
    ds.reset_user_password(DirectoryId=active_directory["id"], UserName=user, NewPassword="Str0ng-Pass!")
    assert check_password(sandbox, active_directory["id"], "Str0ng-Pass!", user=user)


def test_reset_user_password_needs_an_active_directory(ds: Any, network: dict[str, Any]) -> None:
    directory_id = create_directory(ds, network)
    with pytest.raises(ClientError) as excinfo:
        ds.reset_user_password(DirectoryId=directory_id, UserName="Admin", NewPassword="Str0ng-Pass!")
    assert error_code(excinfo) == "DirectoryUnavailableException"
    ds.delete_directory(DirectoryId=directory_id)


# -- domain controllers --------------------------------------------------------------------------------
def controllers(ds: Any, directory_id: str) -> list[dict[str, Any]]:
    return ds.describe_domain_controllers(DirectoryId=directory_id)["DomainControllers"]


def test_a_new_directory_has_two_controllers_in_two_zones(ds: Any, active_directory: dict[str, Any]) -> None:
    found = controllers(ds, active_directory["id"])
    assert [c["Status"] for c in found] == ["Active", "Active"]
    assert {c["AvailabilityZone"] for c in found} == set(active_directory["network"]["zones"][:2])
    assert sorted(c["DnsIpAddr"] for c in found) == sorted(describe(ds, active_directory["id"])["DnsIpAddrs"])
    assert all(c["DomainControllerId"].startswith("dc-") for c in found)


def test_update_number_of_domain_controllers_adds_then_removes(
    sandbox: SandboxClient, ds: Any, network: dict[str, Any], time_scale: Callable[[float], None]
) -> None:
    directory_id = create_active_directory(sandbox, ds, network)
    time_scale(0.0005)  # a new controller is Creating for 0.6 s, a removed one Deleting for 0.3 s
    ds.update_number_of_domain_controllers(DirectoryId=directory_id, DesiredNumber=3)
    found = describe(ds, directory_id)
    assert found["Stage"] == "Active"
    assert found["DesiredNumberOfDomainControllers"] == 3
    assert sorted(c["Status"] for c in controllers(ds, directory_id)) == ["Active", "Active", "Creating"]
    wait_for(lambda: controllers(ds, directory_id), lambda cs: [c["Status"] for c in cs] == ["Active"] * 3)

    ds.update_number_of_domain_controllers(DirectoryId=directory_id, DesiredNumber=2)
    assert [c["Status"] for c in controllers(ds, directory_id)] == ["Active", "Active", "Deleting"]
    wait_for(lambda: controllers(ds, directory_id), lambda cs: len(cs) == 2)
    assert describe(ds, directory_id)["DesiredNumberOfDomainControllers"] == 2
    ds.delete_directory(DirectoryId=directory_id)


def test_describe_domain_controllers_filters_and_paginates(ds: Any, active_directory: dict[str, Any]) -> None:
    every = controllers(ds, active_directory["id"])
    first = ds.describe_domain_controllers(DirectoryId=active_directory["id"], Limit=1)
    assert len(first["DomainControllers"]) == 1
    second = ds.describe_domain_controllers(DirectoryId=active_directory["id"], Limit=1, NextToken=first["NextToken"])
    assert [first["DomainControllers"][0], second["DomainControllers"][0]] == every
    chosen = every[1]["DomainControllerId"]
    filtered = ds.describe_domain_controllers(DirectoryId=active_directory["id"], DomainControllerIds=[chosen])
    assert [c["DomainControllerId"] for c in filtered["DomainControllers"]] == [chosen]


def test_more_than_twenty_controllers_exceed_the_limit(ds: Any, active_directory: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as excinfo:
        ds.update_number_of_domain_controllers(DirectoryId=active_directory["id"], DesiredNumber=21)
    assert error_code(excinfo) == "DomainControllerLimitExceededException"


def test_update_number_of_domain_controllers_needs_an_active_directory(ds: Any, network: dict[str, Any]) -> None:
    directory_id = create_directory(ds, network)
    with pytest.raises(ClientError) as excinfo:
        ds.update_number_of_domain_controllers(DirectoryId=directory_id, DesiredNumber=3)
    assert error_code(excinfo) == "DirectoryUnavailableException"
    ds.delete_directory(DirectoryId=directory_id)


# -- tags ------------------------------------------------------------------------------------------
def test_tags_are_added_listed_and_removed(ds: Any, active_directory: dict[str, Any]) -> None:
    directory_id = active_directory["id"]
    assert ds.list_tags_for_resource(ResourceId=directory_id)["Tags"] == [{"Key": "tenant", "Value": "ds-tests"}]
    ds.add_tags_to_resource(
        ResourceId=directory_id, Tags=[{"Key": "environment", "Value": "test"}, {"Key": "tenant", "Value": "renamed"}]
    )
    tags = {t["Key"]: t["Value"] for t in ds.list_tags_for_resource(ResourceId=directory_id)["Tags"]}
    assert tags == {"tenant": "renamed", "environment": "test"}
    ds.remove_tags_from_resource(ResourceId=directory_id, TagKeys=["environment"])
    ds.add_tags_to_resource(ResourceId=directory_id, Tags=[{"Key": "tenant", "Value": "ds-tests"}])
    assert ds.list_tags_for_resource(ResourceId=directory_id)["Tags"] == [{"Key": "tenant", "Value": "ds-tests"}]


def test_more_than_fifty_tags_exceed_the_limit(ds: Any, active_directory: dict[str, Any]) -> None:
    many = [{"Key": f"k{index}", "Value": "v"} for index in range(50)]
    with pytest.raises(ClientError) as excinfo:
        ds.add_tags_to_resource(ResourceId=active_directory["id"], Tags=many)
    assert error_code(excinfo) == "TagLimitExceededException"


def test_tagging_an_unknown_directory(ds: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        ds.add_tags_to_resource(ResourceId="d-0000000000", Tags=[{"Key": "a", "Value": "b"}])
    assert error_code(excinfo) == "EntityDoesNotExistException"


# -- deletion and failure -------------------------------------------------------------------------------
def test_delete_directory_goes_deleting_then_gone_with_its_ec2_resources(
    ds: Any, ec2: Any, network: dict[str, Any]
) -> None:
    directory_id = create_directory(ds, network)
    group_id = describe(ds, directory_id)["VpcSettings"]["SecurityGroupId"]
    assert ds.delete_directory(DirectoryId=directory_id)["DirectoryId"] == directory_id
    assert describe(ds, directory_id)["Stage"] == "Deleting"
    wait_gone(ds, directory_id)
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [network["vpc"]]}])["SecurityGroups"]
    assert group_id not in [g["GroupId"] for g in groups]
    interfaces = ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [network["vpc"]]}])
    assert interfaces["NetworkInterfaces"] == []
    with pytest.raises(ClientError) as excinfo:
        ds.delete_directory(DirectoryId=directory_id)
    assert error_code(excinfo) == "EntityDoesNotExistException"


def test_forced_failure_shows_failed_stage_and_reason(sandbox: SandboxClient, ds: Any, network: dict[str, Any]) -> None:
    directory_id = create_directory(ds, network)
    sandbox.hook("ds", "fail-directory", directory_id=directory_id, reason="Insufficient subnet capacity")
    found = describe(ds, directory_id)
    assert found["Stage"] == "Failed"
    assert found["StageReason"] == "Insufficient subnet capacity"
    time.sleep(0.1)
    assert describe(ds, directory_id)["Stage"] == "Failed"
    ds.delete_directory(DirectoryId=directory_id)
    wait_gone(ds, directory_id)


def test_inventory_lists_directories_with_stage_and_tags(
    sandbox: SandboxClient, active_directory: dict[str, Any]
) -> None:
    inventory = sandbox.hook("ds", "inventory")
    mine = [d for d in inventory["directories"] if d["id"] == active_directory["id"]]
    assert len(mine) == 1
    assert mine[0]["stage"] == "Active"
    assert mine[0]["tags"]["tenant"] == "ds-tests"
    assert mine[0]["domain_controllers"] == 2


# -- the domain controller provider seam (in process) -------------------------------------------------------
class RecordingProvider:
    """Stands in for a Samba AD DC launcher."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def provision(self, directory: Any, admin_password: str) -> list[str]:
        self.calls.append(("provision", directory.name, admin_password))
        return ["127.0.0.42"]

    def set_password(self, directory: Any, user: str, password: str) -> None:
        self.calls.append(("set_password", user))

    def destroy(self, directory: Any) -> None:
        self.calls.append(("destroy", directory.directory_id))


def test_dc_provider_backs_an_active_directory_and_is_told_when_it_goes() -> None:
    from sandbox import moto_state
    from sandbox.backends.ds import DirectoryService
    from sandbox.clock import SimClock

    region = "ap-southeast-2"
    backend = moto_state.ec2(region)
    vpc = backend.create_vpc(cidr_block="10.77.0.0/16")
    subnets = [
        backend.create_subnet(vpc_id=vpc.id, cidr_block=f"10.77.{n}.0/24", availability_zone=f"{region}{zone}").id
        for n, zone in ((1, "a"), (2, "b"))
    ]
    service = DirectoryService(SimClock(0.00001))
    provider = RecordingProvider()
    service.dc_provider = provider

    def call(operation: str, **params: Any) -> dict[str, Any]:
        status, document = service.handle(operation, json.dumps(params).encode(), region)
        assert status == 200, document
        return document

    directory_id = call(
        "CreateMicrosoftAD",
        Name="lab.example.com",
        Password=PASSWORD,
        VpcSettings={"VpcId": vpc.id, "SubnetIds": subnets},
    )["DirectoryId"]
    found = wait_for(
        lambda: call("DescribeDirectories", DirectoryIds=[directory_id])["DirectoryDescriptions"][0],
        lambda d: d["Stage"] == "Active",
        timeout=5,
    )
    assert found["DnsIpAddrs"] == ["127.0.0.42"]
    assert provider.calls == [("provision", "lab.example.com", PASSWORD)]
    call("ResetUserPassword", DirectoryId=directory_id, UserName="Admin", NewPassword="Str0ng-Pass!")
    call("DeleteDirectory", DirectoryId=directory_id)
    wait_for(lambda: call("DescribeDirectories")["DirectoryDescriptions"], lambda ds: ds == [], timeout=5)
    assert service.background.wait_idle(timeout=60), "the DC's destruction never ran"
    assert provider.calls[1:] == [("set_password", "Admin"), ("destroy", directory_id)]


class BlockingProvider(RecordingProvider):
    """A provider whose provisioning runs until the test lets it end (or fail)."""

    def __init__(self, failure: str | None = None) -> None:
        super().__init__()
        self.started = threading.Event()
        self.release = threading.Event()
        self.failure = failure

    def provision(self, directory: Any, admin_password: str) -> list[str]:
        self.started.set()
        assert self.release.wait(timeout=120), "the test never released the provisioning"
        if self.failure:
            from sandbox.backends.ds import ProvisioningError

            raise ProvisioningError(self.failure)
        return super().provision(directory, admin_password)


@pytest.fixture
def backed_service() -> Iterator[tuple[Any, BlockingProvider, Callable[..., dict[str, Any]], str]]:
    """An in-process DS backend whose directories wait for a BlockingProvider; yields a created directory."""
    from sandbox import moto_state
    from sandbox.backends.ds import DirectoryService
    from sandbox.clock import SimClock

    region = "ap-southeast-1"
    backend = moto_state.ec2(region)
    octet = 80 + next(_networks)
    vpc = backend.create_vpc(cidr_block=f"10.{octet}.0.0/16")
    subnets = [
        backend.create_subnet(vpc_id=vpc.id, cidr_block=f"10.{octet}.{n}.0/24", availability_zone=f"{region}{zone}").id
        for n, zone in ((1, "a"), (2, "b"))
    ]
    service = DirectoryService(SimClock(0.00001))  # the modelled 25 minutes last 15 ms
    provider = BlockingProvider()
    service.dc_provider = provider

    def call(operation: str, **params: Any) -> dict[str, Any]:
        status, document = service.handle(operation, json.dumps(params).encode(), region)
        assert status == 200, document
        return document

    directory_id = call(
        "CreateMicrosoftAD",
        Name="blocked.example.com",
        Password=PASSWORD,
        VpcSettings={"VpcId": vpc.id, "SubnetIds": subnets},
    )["DirectoryId"]
    assert provider.started.wait(timeout=60), "the provisioning never started"
    try:
        yield service, provider, call, directory_id
    finally:
        provider.release.set()
        service.background.wait_idle(timeout=60)


_networks = itertools.count()


def _describe_in_thread(call: Callable[..., dict[str, Any]], directory_id: str) -> dict[str, Any]:
    """DescribeDirectories from another thread, as an independent client; fails if it never answers."""
    answer: dict[str, Any] = {}
    thread = threading.Thread(
        target=lambda: answer.update(call("DescribeDirectories", DirectoryIds=[directory_id])), daemon=True
    )
    thread.start()
    thread.join(timeout=60)  # a deadlock guard, not a speed check: the provisioning is blocked indefinitely
    assert not thread.is_alive(), "DescribeDirectories waited for the DC's provisioning"
    return answer["DirectoryDescriptions"][0]


def test_describe_answers_while_the_dc_is_provisioned_and_active_waits_for_the_dc(backed_service) -> None:
    _service, provider, call, directory_id = backed_service
    time.sleep(0.05)  # past the modelled creation time (15 ms): only the DC holds the directory back
    during = _describe_in_thread(call, directory_id)
    assert provider.started.is_set() and not provider.release.is_set()
    assert during["Stage"] == "Creating"
    assert "127.0.0.42" not in during.get("DnsIpAddrs", [])
    controllers = call("DescribeDomainControllers", DirectoryId=directory_id)["DomainControllers"]
    assert {controller["Status"] for controller in controllers} == {"Creating"}
    provider.release.set()
    found = wait_for(
        lambda: call("DescribeDirectories", DirectoryIds=[directory_id])["DirectoryDescriptions"][0],
        lambda d: d["Stage"] == "Active",
        timeout=30,
    )
    assert found["DnsIpAddrs"] == ["127.0.0.42"]
    controllers = call("DescribeDomainControllers", DirectoryId=directory_id)["DomainControllers"]
    assert {controller["Status"] for controller in controllers} == {"Active"}


def test_a_failed_provisioning_fails_the_directory_with_its_reason(backed_service) -> None:
    _service, provider, call, directory_id = backed_service
    provider.failure = "samba-tool exited with 1"
    provider.release.set()
    found = wait_for(
        lambda: call("DescribeDirectories", DirectoryIds=[directory_id])["DirectoryDescriptions"][0],
        lambda d: d["Stage"] != "Creating" and d["Stage"] != "Requested",
        timeout=30,
    )
    assert found["Stage"] == "Failed"
    assert "samba-tool exited with 1" in found["StageReason"]


def test_a_directory_deleted_while_its_dc_is_provisioned_loses_its_dc_afterwards(backed_service) -> None:
    service, provider, call, directory_id = backed_service
    call("DeleteDirectory", DirectoryId=directory_id)
    provider.release.set()
    assert service.background.wait_idle(timeout=60)
    # Not made Active by the late DC: still Deleting, or already gone (the modelled deletion lasts milliseconds
    # here, and a loaded machine can take longer than that to get to this read).
    described = call("DescribeDirectories")["DirectoryDescriptions"]
    stages = [d["Stage"] for d in described if d["DirectoryId"] == directory_id]
    assert stages in (["Deleting"], []), stages
    wait_for(lambda: call("DescribeDirectories")["DirectoryDescriptions"], lambda ds: ds == [], timeout=30)
    assert service.background.wait_idle(timeout=60)
    assert [call[0] for call in provider.calls] == ["provision", "destroy"]
