"""Planning rules of the directory and file-system modules: what changes in place, what is refused.

Pure functions of plugins/module_utils/ds.py and fsx.py, the modules' resource
kinds driven through the shared cycle with a fake client (no AWS), and the role's password
generator rendered exactly as Ansible renders it.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.password import (
    password_policy_errors,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import (
    PlanRefused,
    converge,
    field_changes,
    refusal_message,
    unchangeable_changes,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ds import (
    IN_PLACE_LIMITS,
    UNCHANGEABLE,
    comparable_directory,
    controllers_state,
    desired_directory,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.fsx import UNCHANGEABLE as FSX_UNCHANGEABLE
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.fsx import (
    alias_changes,
    comparable_file_system,
    current_aliases,
    desired_file_system,
    in_flight_targets,
    kms_key_matches,
    settle_state,
    share_path,
    storage_change_errors,
    update_request,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.modules import directory_service, fsx_windows_file_system
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

ROOT = Path(__file__).resolve().parents[4]
OWNED = [
    {"Key": "tenant", "Value": "acme"},
    {"Key": "environment", "Value": "prod"},
    {"Key": "managed-by", "Value": "appstream-tenant-toolkit"},
]


class Failed(Exception):
    pass


class FakeModule:
    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        self.check_mode = False
        self.warnings: list[str] = []

    def fail_json(self, **kwargs: Any) -> None:
        raise Failed(kwargs["msg"])

    def warn(self, message: str) -> None:
        self.warnings.append(message)


class FakeClient:
    """Answers reads from canned data and records every call (reads and writes)."""

    def __init__(self, pages: dict[str, dict[str, Any]], calls: dict[str, Any] | None = None) -> None:
        self.pages = pages
        self.answers = calls or {}
        self.calls: list[str] = []

    @staticmethod
    def retry(function: Any) -> Any:
        return function

    def get_paginator(self, operation: str) -> Any:
        self.calls.append(operation)
        result = self.pages[operation]
        return SimpleNamespace(paginate=lambda **_kwargs: SimpleNamespace(build_full_result=lambda: result))

    def __getattr__(self, operation: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls.append(operation)
            return self.answers.get(operation, {})

        return call

    @property
    def mutating(self) -> list[str]:
        return [c for c in self.calls if not c.startswith(("describe", "list", "get"))]


# -- directory ------------------------------------------------------------------------------------
def directory(**overrides: Any) -> dict[str, Any]:
    described = {
        "DirectoryId": "d-1234567890",
        "Name": "corp.acme.example",
        "ShortName": "ACME",
        "Edition": "Standard",
        "Stage": "Active",
        "Description": "Managed Microsoft AD of tenant acme",
        "VpcSettings": {"VpcId": "vpc-1", "SubnetIds": ["subnet-a", "subnet-b"], "SecurityGroupId": "sg-1"},
        "DesiredNumberOfDomainControllers": 2,
        "DnsIpAddrs": ["10.0.0.10", "10.0.1.10"],
    }
    described.update(overrides)
    return described


def directory_params(**overrides: Any) -> dict[str, Any]:
    params = {
        "name": "corp.acme.example",
        "short_name": "ACME",
        "edition": "Standard",
        "description": "Managed Microsoft AD of tenant acme",
        "vpc_id": "vpc-1",
        "subnet_ids": ["subnet-a", "subnet-b"],
        "password": "Corr3ct-Horse-Battery",
        "update_password": "on_create",
        "domain_controllers": 2,
        "state": "present",
        "confirm_name": None,
        "wait_for": "active",
        "tenant": "acme",
        "environment": "prod",
        "tags": None,
        "purge_tags": True,
        "wait": False,
        "wait_timeout": 60,
    }
    params.update(overrides)
    return params


def directory_kind(params: dict[str, Any], described: dict[str, Any] | None = None, tags: list | None = None):
    plugin = directory_service
    pages = {
        "describe_directories": {"DirectoryDescriptions": [described] if described else []},
        "list_tags_for_resource": {"Tags": OWNED if tags is None else tags},
    }
    client = FakeClient(pages, {"describe_directories": {"DirectoryDescriptions": [described] if described else []}})
    module = FakeModule(params)
    return plugin.DirectoryKind(module, client), client, module


def test_directory_names_compare_case_insensitively():
    assert (
        field_changes(comparable_directory(directory(Name="Corp.Acme.Example")), desired_directory(directory_params()))
        == {}
    )


def test_domain_controller_count_is_changed_in_place():
    kind, client, _unused = directory_kind(directory_params(domain_controllers=3), directory())
    result = converge(kind, "present", check_mode=False)
    assert result["plan"]["live"] == ["domain_controllers"]
    assert client.mutating == ["update_number_of_domain_controllers"]


@pytest.mark.parametrize(
    ("option", "value"),
    [("edition", "Enterprise"), ("short_name", "OTHER"), ("vpc_id", "vpc-2"), ("subnet_ids", ["subnet-a", "subnet-c"])],
)
def test_directory_changes_aws_cannot_make_are_refused_without_any_call(option, value):
    kind, client, _unused = directory_kind(directory_params(**{option: value}), directory())
    with pytest.raises(PlanRefused, match=option) as refused:
        converge(kind, "present", check_mode=False)
    assert "never replaces a directory" in str(refused.value)
    assert client.mutating == []


def test_directory_refusal_is_also_the_check_mode_answer():
    kind, client, _unused = directory_kind(directory_params(edition="Enterprise"), directory())
    with pytest.raises(PlanRefused):
        converge(kind, "present", check_mode=True)
    assert client.mutating == []


def test_description_difference_is_a_warning_not_a_change():
    kind, client, module = directory_kind(directory_params(description="Another text"), directory())
    result = converge(kind, "present", check_mode=False)
    assert result["changed"] is False
    assert client.mutating == []
    assert "cannot change" in module.warnings[0]


def test_unchangeable_changes_keep_only_fields_without_an_api():
    changes = {"edition": ("Standard", "Enterprise"), "domain_controllers": (2, 3)}
    assert unchangeable_changes(changes, UNCHANGEABLE) == {"edition": ("Standard", "Enterprise")}
    assert "edition is 'Standard', requested 'Enterprise'" in refusal_message(
        "directory 'corp.acme.example'", changes, IN_PLACE_LIMITS
    )


def test_password_reset_only_with_update_password_always():
    kind, client, _unused = directory_kind(directory_params(), directory())
    assert converge(kind, "present", check_mode=False)["changed"] is False
    kind, client, _unused = directory_kind(directory_params(update_password="always"), directory())
    result = converge(kind, "present", check_mode=False)
    assert result["changed"] is True
    assert client.mutating == ["reset_user_password"]
    assert result["diff"] == {"before": {"admin_password_reset": False}, "after": {"admin_password_reset": True}}
    assert "Corr3ct-Horse-Battery" not in repr(result)


def test_delete_is_refused_without_the_name_confirmed():
    params = directory_params(state="absent", confirm_name="corp.other.example")
    kind, client, _unused = directory_kind(params, directory())
    with pytest.raises(PlanRefused, match="confirm_name"):
        converge(kind, "absent", check_mode=False)
    assert client.mutating == []


def test_delete_proceeds_with_the_name_confirmed():
    params = directory_params(state="absent", confirm_name="CORP.acme.example")
    kind, client, _unused = directory_kind(params, directory())
    assert converge(kind, "absent", check_mode=False)["changed"] is True
    assert client.mutating == ["delete_directory"]


def test_directory_of_another_tenant_is_neither_adopted_nor_deleted():
    other = [{"Key": "tenant", "Value": "other"}]
    kind, client, _unused = directory_kind(
        directory_params(state="absent", confirm_name="corp.acme.example"), directory(), other
    )
    result = converge(kind, "absent", check_mode=False)
    assert result["changed"] is False and result["not_owned"] is True
    assert client.mutating == []


def test_failed_directory_is_reported_with_its_reason():
    failed = directory(Stage="Failed", StageReason="DNS unreachable")
    kind, _unused, _unused = directory_kind(directory_params(), failed)
    with pytest.raises(PlanRefused, match="DNS unreachable"):
        converge(kind, "present", check_mode=True)


def test_controllers_settle_when_the_desired_count_is_active():
    active = {"Status": "Active"}
    assert controllers_state([active, active, {"Status": "Creating"}], 3)[0] == "UPDATING"
    assert controllers_state([active, active, active], 3)[0] == "SETTLED"
    assert controllers_state([active, active, {"Status": "Deleting"}], 2)[0] == "SETTLED"
    state, reason = controllers_state([active, {"Status": "Failed", "StatusReason": "no IP left"}], 2)
    assert state == "FAILED" and "no IP left" in reason


# -- passwords ----------------------------------------------------------------------------------------
def test_password_policy_accepts_three_classes_and_names_what_is_missing():
    assert password_policy_errors("Corr3ct-horse") == []
    assert password_policy_errors("correcthorse3") == [
        "must contain characters of at least three of these four kinds: lower-case letters, upper-case letters, "
        "digits, other characters such as !-_#% (lacks: upper-case letter, symbol; CreateMicrosoftAD password policy)"
    ]
    assert any("characters" in error for error in password_policy_errors("Ab1!"))
    assert any('"Admin"' in error for error in password_policy_errors("MyAdmin-Pass1"))


def test_password_policy_errors_never_repeat_the_password():
    password = "short1A"
    assert all(password not in error for error in password_policy_errors(password))


# -- file system ----------------------------------------------------------------------------------------
def file_system(**overrides: Any) -> dict[str, Any]:
    described = {
        "FileSystemId": "fs-0123456789abcdef0",
        "FileSystemType": "WINDOWS",
        "Lifecycle": "AVAILABLE",
        "StorageCapacity": 64,
        "StorageType": "SSD",
        "SubnetIds": ["subnet-a"],
        "DNSName": "fs-0123456789abcdef0.corp.acme.example",
        "KmsKeyId": "arn:aws:kms:eu-west-3:123456789012:key/1234abcd",
        "ResourceARN": "arn:aws:fsx:eu-west-3:123456789012:file-system/fs-0123456789abcdef0",
        "Tags": [*OWNED, {"Key": "Name", "Value": "acme-fsx"}],
        "WindowsConfiguration": {
            "ActiveDirectoryId": "d-1234567890",
            "DeploymentType": "SINGLE_AZ_2",
            "PreferredSubnetId": "subnet-a",
            "ThroughputCapacity": 32,
            "AutomaticBackupRetentionDays": 7,
            "DailyAutomaticBackupStartTime": "01:00",
            "WeeklyMaintenanceStartTime": "7:02:00",
            "CopyTagsToBackups": True,
            "Aliases": [{"Name": "files.corp.acme.example", "Lifecycle": "AVAILABLE"}],
        },
    }
    described.update(overrides)
    return described


def fsx_params(**overrides: Any) -> dict[str, Any]:
    params = {
        "name": "acme-fsx",
        "state": "present",
        "deployment_type": "SINGLE_AZ_2",
        "subnet_ids": ["subnet-a"],
        "preferred_subnet_id": "subnet-a",
        "security_group_ids": ["sg-1"],
        "storage_type": "SSD",
        "storage_capacity": 64,
        "throughput_capacity": 32,
        "active_directory_id": "d-1234567890",
        "aliases": ["files.corp.acme.example"],
        "automatic_backup_retention_days": 7,
        "daily_automatic_backup_start_time": "01:00",
        "weekly_maintenance_start_time": "7:02:00",
        "kms_key_id": None,
        "copy_tags_to_backups": True,
        "skip_final_backup": False,
        "final_backup_tags": None,
        "tenant": "acme",
        "environment": "prod",
        "tags": None,
        "purge_tags": True,
        "wait": False,
        "wait_timeout": 60,
    }
    params.update(overrides)
    return params


def fsx_kind(params: dict[str, Any], described: dict[str, Any] | None = None):
    plugin = fsx_windows_file_system
    systems = [described] if described else []
    pages = {"describe_file_systems": {"FileSystems": systems}}
    answers = {
        "describe_file_systems": {"FileSystems": systems},
        "create_file_system": {"FileSystem": file_system(Lifecycle="CREATING")},
        "delete_file_system": {"WindowsResponse": {"FinalBackupId": "backup-0123456789abcdef0"}},
    }
    client = FakeClient(pages, answers)
    return plugin.FileSystemKind(FakeModule(params), client), client


def test_matching_file_system_costs_one_read():
    kind, client = fsx_kind(fsx_params(), file_system())
    assert converge(kind, "present", check_mode=False)["changed"] is False
    assert client.calls == ["describe_file_systems"]


def test_throughput_and_backup_settings_change_in_one_update_call():
    kind, client = fsx_kind(fsx_params(throughput_capacity=64, automatic_backup_retention_days=14), file_system())
    result = converge(kind, "present", check_mode=False)
    assert result["plan"]["live"] == ["automatic_backup_retention_days", "throughput_capacity"]
    assert client.mutating == ["update_file_system"]


def test_shrinking_storage_is_refused_naming_both_values_before_any_call():
    kind, client = fsx_kind(fsx_params(storage_capacity=32), file_system())
    with pytest.raises(PlanRefused, match="cannot shrink from 64 GiB to 32 GiB"):
        converge(kind, "present", check_mode=False)
    assert client.mutating == []


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("deployment_type", "MULTI_AZ_1"),
        ("storage_type", "HDD"),
        ("subnet_ids", ["subnet-b"]),
        ("active_directory_id", "d-0000000000"),
        ("copy_tags_to_backups", False),
    ],
)
def test_file_system_changes_fsx_cannot_make_are_refused(option, value):
    kind, client = fsx_kind(fsx_params(**{option: value}), file_system())
    with pytest.raises(PlanRefused, match=option):
        converge(kind, "present", check_mode=False)
    assert client.mutating == []


def test_aliases_are_added_and_removed_with_their_own_calls():
    kind, client = fsx_kind(fsx_params(aliases=["Share.Corp.Acme.Example"]), file_system())
    converge(kind, "present", check_mode=False)
    assert client.mutating == ["disassociate_file_system_aliases", "associate_file_system_aliases"]


def test_name_tag_is_never_purged():
    kind, _unused = fsx_kind(fsx_params(tags={"cost-centre": "lab"}), file_system())
    result = converge(kind, "present", check_mode=True)
    assert "Name" in result["diff"]["after"]["tags"]


def created_request() -> dict[str, Any]:
    kind, client = fsx_kind(fsx_params())
    seen: dict[str, Any] = {}

    def create_file_system(**kwargs: Any) -> dict[str, Any]:
        seen.update(kwargs)
        return {"FileSystem": file_system(Lifecycle="CREATING")}

    client.create_file_system = create_file_system
    converge(kind, "present", check_mode=False)
    return seen


def test_create_sends_a_deterministic_token_within_the_fsx_limit():
    first, second = created_request(), created_request()
    assert first["ClientRequestToken"] == second["ClientRequestToken"]
    assert len(first["ClientRequestToken"]) <= 63
    assert {"Key": "Name", "Value": "acme-fsx"} in first["Tags"]


def test_delete_takes_a_tagged_final_backup_and_reports_it():
    kind, client = fsx_kind(fsx_params(state="absent"), file_system())
    seen = {}

    def delete_file_system(**kwargs: Any) -> dict[str, Any]:
        seen.update(kwargs)
        return {"WindowsResponse": {"FinalBackupId": "backup-0123456789abcdef0"}}

    client.delete_file_system = delete_file_system
    result = kind.finish(converge(kind, "absent", check_mode=False), "absent", False)
    assert result["final_backup_id"] == "backup-0123456789abcdef0"
    windows = seen["WindowsConfiguration"]
    assert windows["SkipFinalBackup"] is False
    assert {"Key": "tenant", "Value": "acme"} in windows["FinalBackupTags"]


def test_storage_rules_growth_by_ten_percent_and_throughput():
    assert storage_change_errors(64, 64) == []
    assert storage_change_errors(64, 128, 32) == []
    assert "at least 10%" in storage_change_errors(100, 105)[0]
    assert "16 MB/s" in storage_change_errors(64, 128, 8)[0]
    (shrink,) = storage_change_errors(64, 32)
    assert "64 GiB" in shrink and "32 GiB" in shrink


def test_alias_diff_is_case_insensitive():
    assert alias_changes(["A.corp.example", "b.corp.example"], ["a.CORP.example", "c.corp.example"]) == (
        ["c.corp.example"],
        ["b.corp.example"],
    )


def test_alias_being_removed_no_longer_counts():
    described = file_system()
    described["WindowsConfiguration"]["Aliases"].append({"Name": "old.corp.acme.example", "Lifecycle": "DELETING"})
    assert current_aliases(described) == ["files.corp.acme.example"]


def test_in_flight_update_targets_count_as_current():
    action = {
        "AdministrativeActionType": "FILE_SYSTEM_UPDATE",
        "Status": "IN_PROGRESS",
        "TargetFileSystemValues": {"WindowsConfiguration": {"ThroughputCapacity": 64}},
    }
    described = file_system(AdministrativeActions=[action])
    assert in_flight_targets(described) == {"throughput_capacity": 64}
    assert comparable_file_system(described)["throughput_capacity"] == 64
    assert (
        field_changes(comparable_file_system(described), desired_file_system(fsx_params(throughput_capacity=64))) == {}
    )


def test_update_request_maps_changes_to_the_api():
    changes = {"storage_capacity": (64, 128), "throughput_capacity": (32, 64), "aliases": ([], ["x.y.z"])}
    assert update_request(changes) == {"StorageCapacity": 128, "WindowsConfiguration": {"ThroughputCapacity": 64}}
    assert update_request({"aliases": ([], ["x.y.z"])}) == {}


def test_unchangeable_file_system_fields():
    changes = {"deployment_type": ("SINGLE_AZ_2", "MULTI_AZ_1"), "throughput_capacity": (32, 64)}
    assert list(unchangeable_changes(changes, FSX_UNCHANGEABLE)) == ["deployment_type"]


def test_kms_key_given_as_id_or_alias_matches_the_reported_arn():
    arn = "arn:aws:kms:eu-west-3:123456789012:key/1234abcd"
    assert kms_key_matches(arn, "1234abcd")
    assert kms_key_matches(arn, arn)
    assert kms_key_matches(arn, "alias/fsx")
    assert not kms_key_matches(arn, "9999ffff")


def update_action(status: str, when: int, message: str | None = None) -> dict[str, Any]:
    action = {
        "AdministrativeActionType": "FILE_SYSTEM_UPDATE",
        "Status": status,
        "RequestTime": datetime.datetime.fromtimestamp(when, datetime.UTC),
    }
    if message:
        action["FailureDetails"] = {"Message": message}
    return action


def test_settle_state_fails_fast_with_failure_details():
    state, reason = settle_state(file_system(Lifecycle="FAILED", FailureDetails={"Message": "cannot reach the DCs"}))
    assert state == "FAILED" and reason == "cannot reach the DCs"


def test_settle_state_waits_for_the_latest_update_only():
    old_failure = update_action("FAILED", 100, "an old failure")
    described = file_system(AdministrativeActions=[old_failure, update_action("IN_PROGRESS", 200)])
    assert settle_state(described, watch_update=True)[0] == "UPDATING"
    assert settle_state(described, watch_update=False)[0] == "AVAILABLE"
    described = file_system(AdministrativeActions=[old_failure, update_action("UPDATED_OPTIMIZING", 200)])
    assert settle_state(described, watch_update=True)[0] == "AVAILABLE"
    described = file_system(AdministrativeActions=[update_action("FAILED", 300, "not enough throughput")])
    assert settle_state(described, watch_update=True) == ("UPDATE_FAILED", "not enough throughput")


def test_settle_state_waits_for_aliases():
    described = file_system()
    described["WindowsConfiguration"]["Aliases"] = [{"Name": "files.corp.acme.example", "Lifecycle": "CREATING"}]
    assert settle_state(described)[0] == "UPDATING_ALIASES"


def test_share_path_is_the_default_share():
    assert share_path("fs-1.corp.example") == "\\\\fs-1.corp.example\\share"
    assert share_path(None) is None


# -- the shared run loop ----------------------------------------------------------------------------------
def test_run_lets_the_kind_finish_the_result():
    """aws.module.run hands the converged result to ResourceKind.finish (final backup ids, late waits)."""
    from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import run

    kind, _unused = fsx_kind(fsx_params(state="absent"), file_system())
    exited: dict[str, Any] = {}
    module = SimpleNamespace(check_mode=False, exit_json=exited.update, params=kind.params)
    run(module, kind, "absent")
    assert exited["changed"] is True
    assert exited["final_backup_id"] == "backup-0123456789abcdef0"


class _FailedModule(Exception):
    pass


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (EndpointConnectionError(endpoint_url="https://fsx.eu-west-3.amazonaws.com/"), "did not reach AWS"),
        (NoCredentialsError(), "did not reach AWS"),
        (ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeFileSystems"), "refused"),
    ],
)
def test_run_turns_every_botocore_error_into_a_module_failure(error, words):
    """A connection or credentials error (BotoCoreError) fails the module naming the resource, no traceback."""
    from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import run

    kind, _unused = fsx_kind(fsx_params(state="present"), file_system())

    def unreachable(*args: Any, **kwargs: Any) -> None:
        raise error

    kind.find = unreachable  # type: ignore[method-assign]
    failures: list[tuple[BaseException, str]] = []

    def fail_json_aws(err: BaseException, msg: str) -> None:
        failures.append((err, msg))
        raise _FailedModule(msg)

    module = SimpleNamespace(
        check_mode=False, exit_json=lambda **_kwargs: None, params=kind.params, fail_json_aws=fail_json_aws
    )
    with pytest.raises(_FailedModule):
        run(module, kind, "present")
    assert failures[0][0] is error
    assert failures[0][1].startswith(f"file_system {kind.name!r}: ") and words in failures[0][1]
