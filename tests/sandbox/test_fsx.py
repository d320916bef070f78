"""The sandbox's FSx for Windows File Server, driven through boto3 like AWS.

File systems join an Active directory of the sandbox's DS backend. Each test builds its own
names; the shared sandbox is never reset.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.client import SandboxClient
from tests.sandbox.aws_helpers import (  # noqa: F401
    PASSWORD,
    create_directory,
    error_code,
    make_network,
    unique,
    wait_for,
)

FAST_SCALE = 0.00005  # 30 modelled minutes in 90 ms
SetScale = Callable[[float], None]


# -- helpers (the same small ones as test_ds.py, so each module stands alone) ----------------


def windows(directory_id: str, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"ActiveDirectoryId": directory_id, "ThroughputCapacity": 32}
    config.update(overrides)
    return config


def create_params(
    env: dict[str, Any], windows_overrides: dict[str, Any] | None = None, **overrides: Any
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "FileSystemType": "WINDOWS",
        "StorageCapacity": 64,
        "StorageType": "SSD",
        "SubnetIds": [env["network"]["subnets"][0]],
        "WindowsConfiguration": windows(env["directory_id"], **(windows_overrides or {})),
        "Tags": [{"Key": "tenant", "Value": "fsx-tests"}, {"Key": "Name", "Value": unique("fs-")}],
    }
    params.update(overrides)
    return params


def describe(fsx: Any, file_system_id: str) -> dict[str, Any]:
    return fsx.describe_file_systems(FileSystemIds=[file_system_id])["FileSystems"][0]


def wait_lifecycle(fsx: Any, file_system_id: str, lifecycle: str, timeout: float = 15.0) -> dict[str, Any]:
    return wait_for(lambda: describe(fsx, file_system_id), lambda fs: fs["Lifecycle"] == lifecycle, timeout)


def wait_gone(fsx: Any, file_system_id: str, timeout: float = 15.0) -> None:
    def exists() -> bool:
        try:
            describe(fsx, file_system_id)
        except ClientError as err:
            assert err.response["Error"]["Code"] == "FileSystemNotFound"
            return False
        return True

    wait_for(exists, lambda present: not present, timeout)


def in_subnet(address: str, cidr: str) -> bool:
    return ipaddress.ip_address(address) in ipaddress.ip_network(cidr)


def fast_available(sandbox: SandboxClient, fsx: Any, env: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A file system created under a much faster clock, for tests that only need it AVAILABLE."""
    before = sandbox.health()["time_scale"]
    sandbox.set_time_scale(FAST_SCALE)
    try:
        created = fsx.create_file_system(**create_params(env, **overrides))["FileSystem"]
    finally:
        sandbox.set_time_scale(before)
    return wait_lifecycle(fsx, created["FileSystemId"], "AVAILABLE")


def with_scale(sandbox: SandboxClient, scale: float, action: Callable[[], Any]) -> Any:
    before = sandbox.health()["time_scale"]
    sandbox.set_time_scale(scale)
    try:
        return action()
    finally:
        sandbox.set_time_scale(before)


# -- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fsx(sandbox: SandboxClient) -> Any:
    return sandbox.boto3("fsx")


@pytest.fixture(scope="module")
def env(sandbox: SandboxClient, ds: Any, ec2: Any) -> Iterator[dict[str, Any]]:
    """A VPC and an Active directory that the file systems of this module join."""
    network = make_network(ec2)
    name = f"{unique('files')}.example.com"
    directory_id = with_scale(sandbox, FAST_SCALE, lambda: create_directory(ds, network, Name=name))
    wait_for(
        lambda: ds.describe_directories(DirectoryIds=[directory_id])["DirectoryDescriptions"][0]["Stage"],
        lambda stage: stage == "Active",
    )
    yield {"network": network, "directory_id": directory_id, "domain": name}


@pytest.fixture(scope="module")
def shared_fs(sandbox: SandboxClient, fsx: Any, env: dict[str, Any]) -> dict[str, Any]:
    """One AVAILABLE file system for the tests that only read or tag it."""
    return fast_available(sandbox, fsx, env)


# -- creation and lifecycle ------------------------------------------------------------------------------
def test_create_moves_creating_then_available(fsx: Any, ec2: Any, env: dict[str, Any], time_scale: SetScale) -> None:
    time_scale(0.0003)  # 30 modelled minutes in 0.54 s: CREATING stays observable
    created = fsx.create_file_system(**create_params(env))["FileSystem"]
    file_system_id = created["FileSystemId"]
    assert re.fullmatch(r"fs-[0-9a-f]{17}", file_system_id)
    assert created["Lifecycle"] == "CREATING"
    assert describe(fsx, file_system_id)["Lifecycle"] == "CREATING"
    available = wait_lifecycle(fsx, file_system_id, "AVAILABLE")
    assert available["DNSName"] == f"{file_system_id}.{env['domain']}"
    assert available["ResourceARN"] == f"arn:aws:fsx:eu-west-3:123456789012:file-system/{file_system_id}"
    assert available["VpcId"] == env["network"]["vpc"]
    eni_ids = available["NetworkInterfaceIds"]
    interfaces = ec2.describe_network_interfaces(NetworkInterfaceIds=eni_ids)["NetworkInterfaces"]
    assert [i["PrivateIpAddress"] for i in interfaces] == [available["WindowsConfiguration"]["PreferredFileServerIp"]]
    fsx.delete_file_system(FileSystemId=file_system_id, WindowsConfiguration={"SkipFinalBackup": True})


def test_windows_configuration_output(shared_fs: dict[str, Any], env: dict[str, Any]) -> None:
    config = shared_fs["WindowsConfiguration"]
    subnet_id = env["network"]["subnets"][0]
    assert config["ActiveDirectoryId"] == env["directory_id"]
    assert config["DeploymentType"] == "SINGLE_AZ_1"
    assert config["PreferredSubnetId"] == subnet_id
    assert in_subnet(config["PreferredFileServerIp"], env["network"]["cidrs"][subnet_id])
    assert config["RemoteAdministrationEndpoint"] == shared_fs["DNSName"]
    assert config["ThroughputCapacity"] == 32
    assert config["MaintenanceOperationsInProgress"] == []
    assert config["AutomaticBackupRetentionDays"] == 30
    assert config["CopyTagsToBackups"] is False
    assert config["AuditLogConfiguration"] == {
        "FileAccessAuditLogLevel": "DISABLED",
        "FileShareAccessAuditLogLevel": "DISABLED",
    }
    assert shared_fs["StorageType"] == "SSD"
    assert shared_fs["KmsKeyId"].startswith("arn:aws:kms:eu-west-3:123456789012:key/")


def test_multi_az_names_preferred_server_and_longer_creation(
    fsx: Any, env: dict[str, Any], time_scale: SetScale
) -> None:
    time_scale(0.0005)
    subnets = env["network"]["subnets"][:2]
    params = create_params(env, {"DeploymentType": "MULTI_AZ_1", "PreferredSubnetId": subnets[1]}, SubnetIds=subnets)
    multi = fsx.create_file_system(**params)["FileSystem"]
    single = fsx.create_file_system(**create_params(env))["FileSystem"]
    domain = re.escape(env["domain"])
    assert re.fullmatch(rf"amznfsx[a-z0-9]{{8}}\.{domain}", multi["DNSName"])
    endpoint = multi["WindowsConfiguration"]["RemoteAdministrationEndpoint"]
    assert re.fullmatch(rf"amznfsx[a-z0-9]{{8}}\.{domain}", endpoint) and endpoint != multi["DNSName"]
    assert in_subnet(multi["WindowsConfiguration"]["PreferredFileServerIp"], env["network"]["cidrs"][subnets[1]])
    assert len(multi["NetworkInterfaceIds"]) == 2
    wait_lifecycle(fsx, single["FileSystemId"], "AVAILABLE")
    assert describe(fsx, multi["FileSystemId"])["Lifecycle"] == "CREATING"
    wait_lifecycle(fsx, multi["FileSystemId"], "AVAILABLE")
    for created in (multi, single):
        fsx.delete_file_system(FileSystemId=created["FileSystemId"], WindowsConfiguration={"SkipFinalBackup": True})


def test_client_request_token_makes_create_idempotent(sandbox: SandboxClient, fsx: Any, env: dict[str, Any]) -> None:
    token = uuid.uuid4().hex
    params = create_params(env, ClientRequestToken=token)
    first = with_scale(sandbox, FAST_SCALE, lambda: fsx.create_file_system(**params)["FileSystem"])
    again = fsx.create_file_system(**params)["FileSystem"]
    assert again["FileSystemId"] == first["FileSystemId"]
    assert sum(fs["FileSystemId"] == first["FileSystemId"] for fs in fsx.describe_file_systems()["FileSystems"]) == 1
    changed = {**params, "StorageCapacity": 128}
    with pytest.raises(ClientError) as excinfo:
        fsx.create_file_system(**changed)
    assert error_code(excinfo) == "IncompatibleParameterError"
    wait_lifecycle(fsx, first["FileSystemId"], "AVAILABLE")
    fsx.delete_file_system(FileSystemId=first["FileSystemId"], WindowsConfiguration={"SkipFinalBackup": True})


def test_describe_file_systems_paginates_with_base64_tokens(
    sandbox: SandboxClient, fsx: Any, shared_fs: dict[str, Any]
) -> None:
    seen: list[str] = []
    kwargs: dict[str, Any] = {"MaxResults": 1}
    while True:
        page = fsx.describe_file_systems(**kwargs)
        assert len(page["FileSystems"]) <= 1
        seen += [fs["FileSystemId"] for fs in page["FileSystems"]]
        if "NextToken" not in page:
            break
        base64.b64decode(page["NextToken"], validate=True)
        kwargs["NextToken"] = page["NextToken"]
    assert shared_fs["FileSystemId"] in seen
    assert len(seen) == len(set(seen))


def test_unknown_file_system_is_not_found(fsx: Any) -> None:
    for call in (
        lambda: fsx.describe_file_systems(FileSystemIds=["fs-0123456789abcdef0"]),
        lambda: fsx.update_file_system(FileSystemId="fs-0123456789abcdef0", StorageCapacity=100),
        lambda: fsx.delete_file_system(FileSystemId="fs-0123456789abcdef0"),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_code(excinfo) == "FileSystemNotFound"


# -- creation rules ---------------------------------------------------------------------------------
def _subnets(env: dict[str, Any], *indexes: int) -> list[str]:
    return [env["network"]["subnets"][index] for index in indexes]


RULES: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]], str]] = [
    ("lustre", lambda e: create_params(e, FileSystemType="LUSTRE"), "BadRequest"),
    (
        "no_windows_configuration",
        lambda e: {k: v for k, v in create_params(e).items() if k != "WindowsConfiguration"},
        "MissingFileSystemConfiguration",
    ),
    ("ssd_below_32", lambda e: create_params(e, StorageCapacity=31), "BadRequest"),
    ("ssd_above_65536", lambda e: create_params(e, StorageCapacity=65537), "BadRequest"),
    (
        "hdd_below_2000",
        lambda e: create_params(e, {"DeploymentType": "SINGLE_AZ_2"}, StorageType="HDD", StorageCapacity=1999),
        "BadRequest",
    ),
    ("hdd_on_single_az_1", lambda e: create_params(e, StorageType="HDD", StorageCapacity=2000), "BadRequest"),
    ("throughput_not_allowed", lambda e: create_params(e, {"ThroughputCapacity": 24}), "BadRequest"),
    ("throughput_above_single_az_1", lambda e: create_params(e, {"ThroughputCapacity": 4608}), "BadRequest"),
    ("two_subnets_single_az", lambda e: create_params(e, SubnetIds=_subnets(e, 0, 1)), "InvalidNetworkSettings"),
    (
        "one_subnet_multi_az",
        lambda e: create_params(e, {"DeploymentType": "MULTI_AZ_1", "PreferredSubnetId": _subnets(e, 0)[0]}),
        "InvalidNetworkSettings",
    ),
    (
        "multi_az_same_zone",
        lambda e: create_params(
            e, {"DeploymentType": "MULTI_AZ_1", "PreferredSubnetId": _subnets(e, 0)[0]}, SubnetIds=_subnets(e, 0, 2)
        ),
        "InvalidNetworkSettings",
    ),
    (
        "multi_az_without_preferred_subnet",
        lambda e: create_params(e, {"DeploymentType": "MULTI_AZ_1"}, SubnetIds=_subnets(e, 0, 1)),
        "BadRequest",
    ),
    (
        "preferred_subnet_not_listed",
        lambda e: create_params(e, {"PreferredSubnetId": _subnets(e, 1)[0]}),
        "InvalidNetworkSettings",
    ),
    ("unknown_subnet", lambda e: create_params(e, SubnetIds=["subnet-0123456789abcdef0"]), "InvalidNetworkSettings"),
    (
        "unknown_security_group",
        lambda e: create_params(e, SecurityGroupIds=["sg-0123456789abcdef0"]),
        "InvalidNetworkSettings",
    ),
    ("unknown_directory", lambda e: create_params(e, {"ActiveDirectoryId": "d-0000000000"}), "ActiveDirectoryError"),
    ("invalid_alias", lambda e: create_params(e, {"Aliases": ["-bad-.example.com"]}), "BadRequest"),
    ("alias_without_domain", lambda e: create_params(e, {"Aliases": ["files"]}), "BadRequest"),
    (
        "audit_below_32_mbps",
        lambda e: create_params(
            e,
            {
                "ThroughputCapacity": 16,
                "AuditLogConfiguration": {
                    "FileAccessAuditLogLevel": "SUCCESS_AND_FAILURE",
                    "FileShareAccessAuditLogLevel": "DISABLED",
                },
            },
        ),
        "BadRequest",
    ),
    (
        "audit_destination_prefix",
        lambda e: create_params(
            e,
            {
                "AuditLogConfiguration": {
                    "FileAccessAuditLogLevel": "FAILURE_ONLY",
                    "FileShareAccessAuditLogLevel": "FAILURE_ONLY",
                    "AuditLogDestination": "arn:aws:logs:eu-west-3:123456789012:log-group:my-audit",
                }
            },
        ),
        "BadRequest",
    ),
    (
        "audit_destination_other_region",
        lambda e: create_params(
            e,
            {
                "AuditLogConfiguration": {
                    "FileAccessAuditLogLevel": "FAILURE_ONLY",
                    "FileShareAccessAuditLogLevel": "FAILURE_ONLY",
                    "AuditLogDestination": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/fsx/audit",
                }
            },
        ),
        "BadRequest",
    ),
    ("reserved_tag", lambda e: create_params(e, Tags=[{"Key": "aws:owner", "Value": "x"}]), "BadRequest"),
]


@pytest.mark.parametrize(("build", "code"), [(rule[1], rule[2]) for rule in RULES], ids=[rule[0] for rule in RULES])
def test_create_rule_is_enforced(
    fsx: Any, env: dict[str, Any], build: Callable[[dict[str, Any]], dict[str, Any]], code: str
) -> None:
    before = {fs["FileSystemId"] for fs in fsx.describe_file_systems()["FileSystems"]}
    with pytest.raises(ClientError) as excinfo:
        fsx.create_file_system(**build(env))
    assert error_code(excinfo) == code
    assert {fs["FileSystemId"] for fs in fsx.describe_file_systems()["FileSystems"]} <= before


def test_directory_must_be_active(fsx: Any, ds: Any, env: dict[str, Any]) -> None:
    creating = create_directory(ds, env["network"])
    with pytest.raises(ClientError) as excinfo:
        fsx.create_file_system(**create_params(env, {"ActiveDirectoryId": creating}))
    assert error_code(excinfo) == "ActiveDirectoryError"
    ds.delete_directory(DirectoryId=creating)


def test_long_domain_names_are_refused_beyond_single_az_1(
    sandbox: SandboxClient, fsx: Any, ds: Any, env: dict[str, Any]
) -> None:
    name = f"{unique('research-department-')}.neuroscience.example.com"
    assert len(name) > 47
    directory_id = with_scale(sandbox, FAST_SCALE, lambda: create_directory(ds, env["network"], Name=name))
    wait_for(
        lambda: ds.describe_directories(DirectoryIds=[directory_id])["DirectoryDescriptions"][0]["Stage"],
        lambda stage: stage == "Active",
    )
    long_env = {**env, "directory_id": directory_id}
    with pytest.raises(ClientError) as excinfo:
        fsx.create_file_system(**create_params(long_env, {"DeploymentType": "SINGLE_AZ_2"}))
    assert error_code(excinfo) == "BadRequest"
    accepted = with_scale(sandbox, FAST_SCALE, lambda: fsx.create_file_system(**create_params(long_env))["FileSystem"])
    assert accepted["DNSName"].endswith(name)
    wait_lifecycle(fsx, accepted["FileSystemId"], "AVAILABLE")
    fsx.delete_file_system(FileSystemId=accepted["FileSystemId"], WindowsConfiguration={"SkipFinalBackup": True})
    wait_gone(fsx, accepted["FileSystemId"])
    ds.delete_directory(DirectoryId=directory_id)


def test_self_managed_directory_is_joined_without_returning_its_password(
    sandbox: SandboxClient, fsx: Any, env: dict[str, Any]
) -> None:
    secret = f"Join-{uuid.uuid4().hex[:12]}-Pw1"
    self_managed = {
        "DomainName": "onprem.example.com",
        "UserName": "fsxjoin",
        "Password": secret,
        "DnsIps": ["10.200.0.10"],
    }
    config = {"SelfManagedActiveDirectoryConfiguration": self_managed, "ThroughputCapacity": 32}
    available = fast_available(sandbox, fsx, env, WindowsConfiguration=config)
    assert available["DNSName"] == f"{available['FileSystemId']}.onprem.example.com"
    attributes = available["WindowsConfiguration"]["SelfManagedActiveDirectoryConfiguration"]
    assert attributes == {"DomainName": "onprem.example.com", "UserName": "fsxjoin", "DnsIps": ["10.200.0.10"]}
    assert secret not in str(fsx.describe_file_systems()) + str(sandbox.hook("fsx", "inventory"))
    fsx.delete_file_system(FileSystemId=available["FileSystemId"], WindowsConfiguration={"SkipFinalBackup": True})


def test_a_directory_in_use_cannot_be_deleted(ds: Any, shared_fs: dict[str, Any], env: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as excinfo:
        ds.delete_directory(DirectoryId=env["directory_id"])
    assert error_code(excinfo) == "ClientException"
    assert shared_fs["FileSystemId"] in excinfo.value.response["Error"]["Message"]


def test_file_system_limit_per_region(sandbox: SandboxClient, fsx: Any, env: dict[str, Any]) -> None:
    previous = sandbox.hook("fsx", "set-limits")["file_systems"]
    sandbox.hook("fsx", "set-limits", file_systems=0)  # whatever else exists, one more is over the limit
    try:
        with pytest.raises(ClientError) as excinfo:
            fsx.create_file_system(**create_params(env))
        assert error_code(excinfo) == "ServiceLimitExceeded"
    finally:
        sandbox.hook("fsx", "set-limits", file_systems=previous)


# -- updates ----------------------------------------------------------------------------------------
def action_of(fs: dict[str, Any], kind: str, key: str) -> dict[str, Any]:
    matching = [
        a
        for a in fs.get("AdministrativeActions", [])
        if a["AdministrativeActionType"] == kind and key in str(a.get("TargetFileSystemValues", {}))
    ]
    return matching[-1]


def test_throughput_update_completes_over_time_while_available(
    sandbox: SandboxClient, fsx: Any, env: dict[str, Any]
) -> None:
    file_system_id = fast_available(sandbox, fsx, env)["FileSystemId"]
    updated = fsx.update_file_system(FileSystemId=file_system_id, WindowsConfiguration={"ThroughputCapacity": 64})[
        "FileSystem"
    ]
    action = action_of(updated, "FILE_SYSTEM_UPDATE", "ThroughputCapacity")
    assert action["Status"] == "PENDING"
    assert action["TargetFileSystemValues"]["WindowsConfiguration"]["ThroughputCapacity"] == 64
    assert updated["WindowsConfiguration"]["ThroughputCapacity"] == 32
    assert updated["Lifecycle"] == "AVAILABLE"
    running = wait_for(
        lambda: describe(fsx, file_system_id),
        lambda fs: action_of(fs, "FILE_SYSTEM_UPDATE", "Throughput")["Status"] == "IN_PROGRESS",
    )
    assert running["WindowsConfiguration"]["ThroughputCapacity"] == 32
    assert running["Lifecycle"] == "AVAILABLE"
    done = wait_for(
        lambda: describe(fsx, file_system_id),
        lambda fs: action_of(fs, "FILE_SYSTEM_UPDATE", "Throughput")["Status"] == "COMPLETED",
    )
    assert done["WindowsConfiguration"]["ThroughputCapacity"] == 64
    fsx.delete_file_system(FileSystemId=file_system_id, WindowsConfiguration={"SkipFinalBackup": True})


def test_throughput_update_refuses_a_second_one_in_progress(
    fsx: Any, sandbox: SandboxClient, env: dict[str, Any]
) -> None:
    file_system_id = fast_available(sandbox, fsx, env)["FileSystemId"]
    fsx.update_file_system(FileSystemId=file_system_id, WindowsConfiguration={"ThroughputCapacity": 64})
    with pytest.raises(ClientError) as excinfo:
        fsx.update_file_system(FileSystemId=file_system_id, WindowsConfiguration={"ThroughputCapacity": 128})
    assert error_code(excinfo) == "BadRequest"
    fsx.delete_file_system(FileSystemId=file_system_id, WindowsConfiguration={"SkipFinalBackup": True})


def test_storage_shrink_is_refused(fsx: Any, shared_fs: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as excinfo:
        fsx.update_file_system(FileSystemId=shared_fs["FileSystemId"], StorageCapacity=32)
    assert error_code(excinfo) == "BadRequest"
    assert "can only increase" in excinfo.value.response["Error"]["Message"]


def test_storage_increase_below_ten_percent_is_refused(fsx: Any, shared_fs: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as excinfo:
        fsx.update_file_system(FileSystemId=shared_fs["FileSystemId"], StorageCapacity=70)
    assert error_code(excinfo) == "BadRequest"


def test_storage_increase_needs_16_mbps_of_throughput(sandbox: SandboxClient, fsx: Any, env: dict[str, Any]) -> None:
    slow = fast_available(sandbox, fsx, env, WindowsConfiguration=windows(env["directory_id"], ThroughputCapacity=8))
    with pytest.raises(ClientError) as excinfo:
        fsx.update_file_system(FileSystemId=slow["FileSystemId"], StorageCapacity=100)
    assert error_code(excinfo) == "BadRequest"
    fsx.delete_file_system(FileSystemId=slow["FileSystemId"], WindowsConfiguration={"SkipFinalBackup": True})


def test_storage_increase_applies_then_optimizes(
    sandbox: SandboxClient, fsx: Any, env: dict[str, Any], time_scale: SetScale
) -> None:
    file_system_id = fast_available(sandbox, fsx, env)["FileSystemId"]
    time_scale(0.0002)
    updated = fsx.update_file_system(FileSystemId=file_system_id, StorageCapacity=100)["FileSystem"]
    kinds = [a["AdministrativeActionType"] for a in updated["AdministrativeActions"]]
    assert kinds == ["FILE_SYSTEM_UPDATE", "STORAGE_OPTIMIZATION"]
    assert updated["StorageCapacity"] == 64
    optimizing = wait_for(
        lambda: describe(fsx, file_system_id),
        lambda fs: fs["AdministrativeActions"][0]["Status"] == "UPDATED_OPTIMIZING",
    )
    assert optimizing["StorageCapacity"] == 100
    assert optimizing["WindowsConfiguration"]["DiskIopsConfiguration"] == {"Mode": "AUTOMATIC", "Iops": 300}
    done = wait_for(
        lambda: describe(fsx, file_system_id),
        lambda fs: [a["Status"] for a in fs["AdministrativeActions"]] == ["COMPLETED", "COMPLETED"],
    )
    assert done["AdministrativeActions"][1]["ProgressPercent"] == 100
    fsx.delete_file_system(FileSystemId=file_system_id, WindowsConfiguration={"SkipFinalBackup": True})


def test_backup_and_maintenance_settings_apply_at_once(sandbox: SandboxClient, fsx: Any, env: dict[str, Any]) -> None:
    file_system_id = fast_available(sandbox, fsx, env)["FileSystemId"]
    settings = {
        "WeeklyMaintenanceStartTime": "6:02:30",
        "DailyAutomaticBackupStartTime": "03:15",
        "AutomaticBackupRetentionDays": 7,
        "AuditLogConfiguration": {
            "FileAccessAuditLogLevel": "SUCCESS_AND_FAILURE",
            "FileShareAccessAuditLogLevel": "FAILURE_ONLY",
        },
    }
    updated = fsx.update_file_system(FileSystemId=file_system_id, WindowsConfiguration=settings)["FileSystem"]
    config = describe(fsx, file_system_id)["WindowsConfiguration"]
    assert updated.get("AdministrativeActions", []) == []
    assert config["WeeklyMaintenanceStartTime"] == "6:02:30"
    assert config["DailyAutomaticBackupStartTime"] == "03:15"
    assert config["AutomaticBackupRetentionDays"] == 7
    assert config["AuditLogConfiguration"]["AuditLogDestination"].endswith(":log-group:/aws/fsx/windows")
    fsx.delete_file_system(FileSystemId=file_system_id, WindowsConfiguration={"SkipFinalBackup": True})


def test_update_needs_an_available_file_system(fsx: Any, env: dict[str, Any], time_scale: SetScale) -> None:
    time_scale(0.0002)
    created = fsx.create_file_system(**create_params(env))["FileSystem"]
    with pytest.raises(ClientError) as excinfo:
        fsx.update_file_system(FileSystemId=created["FileSystemId"], WindowsConfiguration={"ThroughputCapacity": 64})
    assert error_code(excinfo) == "BadRequest"
    wait_lifecycle(fsx, created["FileSystemId"], "AVAILABLE")
    fsx.delete_file_system(FileSystemId=created["FileSystemId"], WindowsConfiguration={"SkipFinalBackup": True})


# -- aliases ---------------------------------------------------------------------------------------
def aliases(fsx: Any, file_system_id: str) -> dict[str, str]:
    found = fsx.describe_file_system_aliases(FileSystemId=file_system_id)["Aliases"]
    return {alias["Name"]: alias["Lifecycle"] for alias in found}


def test_aliases_are_associated_then_disassociated_over_time(
    sandbox: SandboxClient, fsx: Any, env: dict[str, Any]
) -> None:
    file_system_id = fast_available(sandbox, fsx, env)["FileSystemId"]
    alias = f"{unique('share')}.corp.example.com"
    answered = fsx.associate_file_system_aliases(FileSystemId=file_system_id, Aliases=[alias.upper()])["Aliases"]
    assert answered == [{"Name": alias, "Lifecycle": "CREATING"}]
    assert aliases(fsx, file_system_id) == {alias: "CREATING"}
    wait_for(lambda: aliases(fsx, file_system_id), lambda found: found == {alias: "AVAILABLE"})
    assert describe(fsx, file_system_id)["WindowsConfiguration"]["Aliases"] == [
        {"Name": alias, "Lifecycle": "AVAILABLE"}
    ]
    removed = fsx.disassociate_file_system_aliases(FileSystemId=file_system_id, Aliases=[alias])["Aliases"]
    assert removed == [{"Name": alias, "Lifecycle": "DELETING"}]
    wait_for(lambda: aliases(fsx, file_system_id), lambda found: found == {})
    kinds = [a["AdministrativeActionType"] for a in describe(fsx, file_system_id)["AdministrativeActions"]]
    assert kinds == ["FILE_SYSTEM_ALIAS_ASSOCIATION", "FILE_SYSTEM_ALIAS_DISASSOCIATION"]
    fsx.delete_file_system(FileSystemId=file_system_id, WindowsConfiguration={"SkipFinalBackup": True})


def test_aliases_given_at_creation_become_available_with_the_file_system(
    sandbox: SandboxClient, fsx: Any, env: dict[str, Any]
) -> None:
    alias = f"{unique('data')}.corp.example.com"
    available = fast_available(sandbox, fsx, env, WindowsConfiguration=windows(env["directory_id"], Aliases=[alias]))
    assert available["WindowsConfiguration"]["Aliases"] == [{"Name": alias, "Lifecycle": "AVAILABLE"}]
    fsx.delete_file_system(FileSystemId=available["FileSystemId"], WindowsConfiguration={"SkipFinalBackup": True})


def test_disassociating_an_unknown_alias_is_refused(fsx: Any, shared_fs: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as excinfo:
        fsx.disassociate_file_system_aliases(FileSystemId=shared_fs["FileSystemId"], Aliases=["nope.example.com"])
    assert error_code(excinfo) == "BadRequest"


# -- backups ---------------------------------------------------------------------------------------
def backups_of(fsx: Any, file_system_id: str) -> list[dict[str, Any]]:
    return fsx.describe_backups(Filters=[{"Name": "file-system-id", "Values": [file_system_id]}])["Backups"]


def test_create_describe_and_delete_a_backup(sandbox: SandboxClient, fsx: Any, env: dict[str, Any]) -> None:
    file_system_id = fast_available(sandbox, fsx, env)["FileSystemId"]
    backup = fsx.create_backup(FileSystemId=file_system_id, Tags=[{"Key": "purpose", "Value": "test"}])["Backup"]
    assert backup["Lifecycle"] == "CREATING" and backup["Type"] == "USER_INITIATED"
    assert describe(fsx, file_system_id)["WindowsConfiguration"]["MaintenanceOperationsInProgress"] == ["BACKING_UP"]
    with pytest.raises(ClientError) as excinfo:
        fsx.create_backup(FileSystemId=file_system_id)
    assert error_code(excinfo) == "BackupInProgress"
    with pytest.raises(ClientError) as excinfo:
        fsx.delete_backup(BackupId=backup["BackupId"])
    assert error_code(excinfo) == "BackupInProgress"
    wait_for(lambda: backups_of(fsx, file_system_id), lambda found: found[0]["Lifecycle"] == "AVAILABLE")
    found = backups_of(fsx, file_system_id)[0]
    assert found["Tags"] == [{"Key": "purpose", "Value": "test"}]
    assert found["FileSystem"]["FileSystemId"] == file_system_id
    assert found["DirectoryInformation"] == {"DomainName": env["domain"], "ActiveDirectoryId": env["directory_id"]}
    deleted = fsx.delete_backup(BackupId=backup["BackupId"])
    assert (deleted["BackupId"], deleted["Lifecycle"]) == (backup["BackupId"], "DELETED")
    with pytest.raises(ClientError) as excinfo:
        fsx.describe_backups(BackupIds=[backup["BackupId"]])
    assert error_code(excinfo) == "BackupNotFound"
    fsx.delete_file_system(FileSystemId=file_system_id, WindowsConfiguration={"SkipFinalBackup": True})


def test_create_backup_is_idempotent_with_a_client_token(sandbox: SandboxClient, fsx: Any, env: dict[str, Any]) -> None:
    file_system_id = fast_available(sandbox, fsx, env)["FileSystemId"]
    token = uuid.uuid4().hex
    first = fsx.create_backup(FileSystemId=file_system_id, ClientRequestToken=token)["Backup"]
    again = fsx.create_backup(FileSystemId=file_system_id, ClientRequestToken=token)["Backup"]
    assert again["BackupId"] == first["BackupId"]
    assert len(backups_of(fsx, file_system_id)) == 1
    fsx.delete_file_system(FileSystemId=file_system_id, WindowsConfiguration={"SkipFinalBackup": True})


def test_delete_takes_a_final_backup_with_its_tags(
    sandbox: SandboxClient, fsx: Any, ec2: Any, env: dict[str, Any]
) -> None:
    available = fast_available(sandbox, fsx, env)
    file_system_id = available["FileSystemId"]
    final_tags = [{"Key": "final", "Value": "yes"}, {"Key": "tenant", "Value": "fsx-tests"}]
    answer = fsx.delete_file_system(FileSystemId=file_system_id, WindowsConfiguration={"FinalBackupTags": final_tags})
    assert answer["Lifecycle"] == "DELETING"
    backup_id = answer["WindowsResponse"]["FinalBackupId"]
    assert answer["WindowsResponse"]["FinalBackupTags"] == final_tags
    assert describe(fsx, file_system_id)["Lifecycle"] == "DELETING"
    backup = fsx.describe_backups(BackupIds=[backup_id])["Backups"][0]
    assert backup["Type"] == "USER_INITIATED"
    assert backup["Tags"] == final_tags
    assert backup["FileSystem"]["FileSystemId"] == file_system_id
    wait_gone(fsx, file_system_id)
    assert fsx.describe_backups(BackupIds=[backup_id])["Backups"][0]["Lifecycle"] == "AVAILABLE"
    eni_ids = set(available["NetworkInterfaceIds"])
    interfaces = ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [env["network"]["vpc"]]}])
    assert eni_ids.isdisjoint(i["NetworkInterfaceId"] for i in interfaces["NetworkInterfaces"])
    fsx.delete_backup(BackupId=backup_id)


def test_delete_without_final_backup(sandbox: SandboxClient, fsx: Any, env: dict[str, Any]) -> None:
    file_system_id = fast_available(sandbox, fsx, env)["FileSystemId"]
    answer = fsx.delete_file_system(FileSystemId=file_system_id, WindowsConfiguration={"SkipFinalBackup": True})
    assert "WindowsResponse" not in answer
    assert backups_of(fsx, file_system_id) == []
    wait_gone(fsx, file_system_id)


def test_final_backup_tags_with_skip_final_backup_are_refused(fsx: Any, shared_fs: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as excinfo:
        fsx.delete_file_system(
            FileSystemId=shared_fs["FileSystemId"],
            WindowsConfiguration={"SkipFinalBackup": True, "FinalBackupTags": [{"Key": "a", "Value": "b"}]},
        )
    assert error_code(excinfo) == "BadRequest"
    assert describe(fsx, shared_fs["FileSystemId"])["Lifecycle"] == "AVAILABLE"


# -- tags, failure, inventory ------------------------------------------------------------------------------
def test_tags_are_added_listed_and_removed(fsx: Any, shared_fs: dict[str, Any]) -> None:
    arn = shared_fs["ResourceARN"]
    fsx.tag_resource(ResourceARN=arn, Tags=[{"Key": "environment", "Value": "test"}])
    tags = {t["Key"]: t["Value"] for t in fsx.list_tags_for_resource(ResourceARN=arn)["Tags"]}
    assert tags["environment"] == "test" and tags["tenant"] == "fsx-tests"
    fsx.untag_resource(ResourceARN=arn, TagKeys=["environment"])
    keys = [t["Key"] for t in describe(fsx, shared_fs["FileSystemId"])["Tags"]]
    assert "environment" not in keys and "tenant" in keys


def test_tagging_an_unknown_resource(fsx: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        fsx.tag_resource(
            ResourceARN="arn:aws:fsx:eu-west-3:123456789012:file-system/fs-0123456789abcdef0",
            Tags=[{"Key": "a", "Value": "b"}],
        )
    assert error_code(excinfo) == "ResourceNotFound"


def test_forced_failure_is_visible_in_describe(sandbox: SandboxClient, fsx: Any, env: dict[str, Any]) -> None:
    created = fsx.create_file_system(**create_params(env))["FileSystem"]
    message = "The file system could not join the directory: DNS unreachable"
    sandbox.hook("fsx", "fail-file-system", file_system_id=created["FileSystemId"], message=message)
    failed = describe(fsx, created["FileSystemId"])
    assert failed["Lifecycle"] == "FAILED"
    assert failed["FailureDetails"] == {"Message": message}
    fsx.delete_file_system(FileSystemId=created["FileSystemId"], WindowsConfiguration={"SkipFinalBackup": True})
    wait_gone(fsx, created["FileSystemId"])


def test_inventory_lists_file_systems_and_backups(sandbox: SandboxClient, shared_fs: dict[str, Any]) -> None:
    inventory = sandbox.hook("fsx", "inventory")
    mine = [fs for fs in inventory["file_systems"] if fs["id"] == shared_fs["FileSystemId"]]
    assert len(mine) == 1
    assert mine[0]["lifecycle"] == "AVAILABLE"
    assert mine[0]["tags"]["tenant"] == "fsx-tests"
    assert isinstance(inventory["backups"], list)


class SettableClock:
    """A clock read at `t`, moving `tick` modelled seconds on every reading (0: frozen)."""

    time_scale = 1.0

    def __init__(self, tick: float = 0.0) -> None:
        self.t = 1_000_000.0
        self.tick = tick

    def now(self) -> float:
        self.t += self.tick
        return self.t

    def after(self, modelled_seconds: float) -> float:
        return self.t + modelled_seconds


def service_and_file_system(clock: SettableClock) -> tuple[Any, Any]:
    """An in-process FSx backend on `clock`, and an AVAILABLE Windows file system of it (not registered)."""
    from sandbox.backends.fsx import FSxService
    from sandbox.backends.fsx.models import FileSystem
    from sandbox.clock import Lifecycle

    service = FSxService(clock)  # type: ignore[arg-type]
    lifecycle = Lifecycle(clock, "AVAILABLE")  # type: ignore[arg-type]
    item = FileSystem(
        region="eu-west-3", file_system_id="fs-0123456789abcdef0", lifecycle=lifecycle, creation_time=0.0,
        deployment_type="SINGLE_AZ_2", storage_capacity=32, storage_type="SSD", throughput=32, vpc_id="vpc-1",
        subnet_ids=["subnet-1"], preferred_subnet_id="subnet-1", addresses={"subnet-1": "10.0.0.10"},
        eni_ids=["eni-1"], domain_name="corp.example.com", directory_id="d-1234567890", self_managed=None,
        dns_name="amznfsx.corp.example.com", remote_admin_endpoint="amznfsx.corp.example.com", kms_key_id="k",
        weekly_maintenance="1:05:00", daily_backup="03:00", retention_days=7, copy_tags_to_backups=False,
        audit={}, disk_iops=None, fsrm=None,
    )  # fmt: skip
    return service, item


def test_a_described_file_system_shows_the_values_of_the_actions_it_shows() -> None:
    """A throughput update that completes while the file system is described shows COMPLETED with its new value."""
    # A modelled hour passes on every reading: each read of a status finds its next step due.
    service, item = service_and_file_system(SettableClock(tick=3600.0))
    service._start_throughput_update(item, 64)
    described = service._describe(item)
    [action] = described["AdministrativeActions"]
    assert action["Status"] == "COMPLETED"
    assert described["WindowsConfiguration"]["ThroughputCapacity"] == 64


def test_a_storage_update_and_its_optimisation_are_timed_from_one_clock_reading() -> None:
    """The two actions of a storage increase complete together, even when the clock moves while they are made."""
    from sandbox.backends.fsx.constants import DURATIONS

    clock = SettableClock()
    service, item = service_and_file_system(clock)
    clock.tick = 1.0  # a modelled second passes between any two readings while the request is served
    service._start_storage_update(item, 64)
    update, optimisation = item.actions
    assert update.request_time == optimisation.request_time
    clock.tick = 0.0
    completed = update.request_time + sum(
        DURATIONS[step] for step in ("action_pending", "storage_update", "storage_optimization")
    )

    def described_at(instant: float) -> dict[str, str]:
        clock.t = instant
        actions = service._describe(item)["AdministrativeActions"]
        return {action["AdministrativeActionType"]: action["Status"] for action in actions}

    assert described_at(completed - 0.5) == {
        "FILE_SYSTEM_UPDATE": "UPDATED_OPTIMIZING",
        "STORAGE_OPTIMIZATION": "IN_PROGRESS",
    }
    assert described_at(completed) == {"FILE_SYSTEM_UPDATE": "COMPLETED", "STORAGE_OPTIMIZATION": "COMPLETED"}


def test_one_describe_shows_a_storage_update_and_its_optimisation_at_one_instant() -> None:
    """Read twice within one describe, the update showed UPDATED_OPTIMIZING beside its optimisation COMPLETED."""
    from sandbox.backends.fsx.constants import DURATIONS

    clock = SettableClock()
    service, item = service_and_file_system(clock)
    service._start_storage_update(item, 64)
    update, _optimisation = item.actions
    completed = update.request_time + sum(
        DURATIONS[step] for step in ("action_pending", "storage_update", "storage_optimization")
    )
    # The describe's first reading is half a second before both complete, any later one half a second after.
    clock.t, clock.tick = completed - 1.5, 1.0
    described = service._describe(item)
    statuses = {action["AdministrativeActionType"]: action["Status"] for action in described["AdministrativeActions"]}
    assert statuses == {"FILE_SYSTEM_UPDATE": "UPDATED_OPTIMIZING", "STORAGE_OPTIMIZATION": "IN_PROGRESS"}
    assert described["StorageCapacity"] == 64  # applied as the update reached UPDATED_OPTIMIZING
    clock.tick = 0.0
    clock.t = completed + 0.5
    statuses = {
        action["AdministrativeActionType"]: action["Status"]
        for action in service._describe(item)["AdministrativeActions"]
    }
    assert statuses == {"FILE_SYSTEM_UPDATE": "COMPLETED", "STORAGE_OPTIMIZATION": "COMPLETED"}
