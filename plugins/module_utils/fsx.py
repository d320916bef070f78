# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""FSx for Windows File Server: what can change in place, storage growth rules, aliases, waiting states.

Pure functions only (no AWS call), so the planning rules are unit-testable; the module
`fsx_windows_file_system` wires them to the FSx API.

FSx file systems have no name. The toolkit names one with its `Name` tag and finds it by
that tag together with the ownership tag `tenant`.
"""

from __future__ import annotations

import math
from typing import Any

NAME_TAG = "Name"
SHARE = "share"  # the default share every FSx for Windows file system has
AVAILABLE = "AVAILABLE"
#: lifecycles a file system does not leave by itself (FAILED) or only with an operator's help
FAILED_LIFECYCLES = ("FAILED", "MISCONFIGURED", "MISCONFIGURED_UNAVAILABLE")
DELETING = "DELETING"

#: attributes FSx cannot change on an existing file system
UNCHANGEABLE = (
    "deployment_type",
    "storage_type",
    "subnet_ids",
    "preferred_subnet_id",
    "active_directory_id",
    "kms_key_id",
    "copy_tags_to_backups",
)
#: why a change to an UNCHANGEABLE attribute is refused (aws.resource.refusal_message)
IN_PLACE_LIMITS = (
    "FSx cannot change the deployment type, storage type, subnets, directory, KMS key or copy_tags_to_backups "
    "of an existing file system, and this module never replaces one (its data would be lost). Keep the current "
    "values, or restore a backup into a new file system and move the data yourself."
)
#: attributes of UpdateFileSystem's WindowsConfiguration, by option name
WINDOWS_UPDATABLE = {
    "throughput_capacity": "ThroughputCapacity",
    "automatic_backup_retention_days": "AutomaticBackupRetentionDays",
    "daily_automatic_backup_start_time": "DailyAutomaticBackupStartTime",
    "weekly_maintenance_start_time": "WeeklyMaintenanceStartTime",
}
# FSx rules for a storage increase (UpdateFileSystem StorageCapacity, Windows).
STORAGE_MIN_GROWTH = 0.10
STORAGE_GROWTH_MIN_THROUGHPUT = 16
# Administrative action statuses after which the new value is in effect.
UPDATE_DONE = ("COMPLETED", "UPDATED_OPTIMIZING")
UPDATE_IN_FLIGHT = ("PENDING", "IN_PROGRESS")


def in_flight_targets(file_system: dict[str, Any]) -> dict[str, Any]:
    """Values that pending FILE_SYSTEM_UPDATE actions are about to apply (option name -> value).

    DescribeFileSystems keeps showing the old throughput or storage until an update
    completes; comparing with the target values keeps a re-run during an update from
    asking for the same change again (which FSx refuses).
    """
    targets: dict[str, Any] = {}
    for action in file_system.get("AdministrativeActions") or []:
        if action.get("AdministrativeActionType") != "FILE_SYSTEM_UPDATE":
            continue
        if action.get("Status") not in UPDATE_IN_FLIGHT:
            continue
        values = action.get("TargetFileSystemValues") or {}
        if values.get("StorageCapacity") is not None:
            targets["storage_capacity"] = values["StorageCapacity"]
        windows = values.get("WindowsConfiguration") or {}
        for option, key in WINDOWS_UPDATABLE.items():
            if windows.get(key) is not None:
                targets[option] = windows[key]
    return targets


def current_aliases(file_system: dict[str, Any]) -> list[str]:
    """Aliases associated or being associated (an alias being removed no longer counts)."""
    windows = file_system.get("WindowsConfiguration") or {}
    return sorted(
        alias["Name"].lower()
        for alias in windows.get("Aliases") or []
        if alias.get("Lifecycle") not in ("DELETING", "DELETE_FAILED")
    )


def comparable_file_system(file_system: dict[str, Any]) -> dict[str, Any]:
    """The attributes the module manages, read from a DescribeFileSystems entry."""
    windows = file_system.get("WindowsConfiguration") or {}
    comparable = {
        "deployment_type": windows.get("DeploymentType"),
        "storage_type": file_system.get("StorageType"),
        "subnet_ids": list(file_system.get("SubnetIds") or []),
        "preferred_subnet_id": windows.get("PreferredSubnetId"),
        "active_directory_id": windows.get("ActiveDirectoryId"),
        "kms_key_id": file_system.get("KmsKeyId"),
        "copy_tags_to_backups": windows.get("CopyTagsToBackups"),
        "storage_capacity": file_system.get("StorageCapacity"),
        "aliases": current_aliases(file_system),
    }
    for option, key in WINDOWS_UPDATABLE.items():
        comparable[option] = windows.get(key)
    comparable.update(in_flight_targets(file_system))
    return comparable


def desired_file_system(params: dict[str, Any]) -> dict[str, Any]:
    """The same attributes from the module options; None means "not managed by this run"."""
    aliases = params.get("aliases")
    return {
        "deployment_type": params.get("deployment_type"),
        "storage_type": params.get("storage_type"),
        "subnet_ids": params.get("subnet_ids"),
        "preferred_subnet_id": params.get("preferred_subnet_id"),
        "active_directory_id": params.get("active_directory_id"),
        "kms_key_id": params.get("kms_key_id"),
        "copy_tags_to_backups": params.get("copy_tags_to_backups"),
        "storage_capacity": params.get("storage_capacity"),
        "throughput_capacity": params.get("throughput_capacity"),
        "automatic_backup_retention_days": params.get("automatic_backup_retention_days"),
        "daily_automatic_backup_start_time": params.get("daily_automatic_backup_start_time"),
        "weekly_maintenance_start_time": params.get("weekly_maintenance_start_time"),
        "aliases": None if aliases is None else sorted({alias.lower() for alias in aliases}),
    }


def kms_key_matches(current: str | None, wanted: str) -> bool:
    """Whether `wanted` (a key ARN, a key id or an alias) names the key `current` (an ARN).

    FSx reports the key as an ARN; an alias cannot be resolved without a KMS call, so an
    alias is taken to match (documented: aliases are not compared).
    """
    if not current or wanted.startswith("alias/") or ":alias/" in wanted:
        return True
    return current == wanted or current.endswith(f"/{wanted}")


def storage_change_errors(current: int, desired: int, throughput: int | None = None) -> list[str]:
    """Why FSx would refuse changing the storage capacity from `current` to `desired` GiB."""
    if desired == current:
        return []
    if desired < current:
        return [
            f"storage_capacity cannot shrink from {current} GiB to {desired} GiB: FSx only grows storage in "
            "place. To use less storage, create a new file system and copy the data"
        ]
    errors = []
    minimum = math.ceil(current * (1 + STORAGE_MIN_GROWTH))
    if desired < minimum:
        errors.append(
            f"storage_capacity {desired} GiB is less than 10% above the current {current} GiB: FSx needs an "
            f"increase of at least 10% ({minimum} GiB or more)"
        )
    if throughput is not None and throughput < STORAGE_GROWTH_MIN_THROUGHPUT:
        errors.append(
            f"storage_capacity can only grow with a throughput capacity of at least "
            f"{STORAGE_GROWTH_MIN_THROUGHPUT} MB/s (the file system has {throughput}); raise it first"
        )
    return errors


def alias_changes(current: list[str], desired: list[str]) -> tuple[list[str], list[str]]:
    """(aliases to associate, aliases to disassociate); DNS names compare case-insensitively."""
    have = {alias.lower() for alias in current}
    want = {alias.lower() for alias in desired}
    return sorted(want - have), sorted(have - want)


def update_request(changes: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    """UpdateFileSystem arguments (without FileSystemId) for the planned changes; {} when none apply."""
    request: dict[str, Any] = {}
    if "storage_capacity" in changes:
        request["StorageCapacity"] = changes["storage_capacity"][1]
    windows = {key: changes[option][1] for option, key in WINDOWS_UPDATABLE.items() if option in changes}
    if windows:
        request["WindowsConfiguration"] = windows
    return request


def failure_reason(file_system: dict[str, Any] | None) -> str:
    if not file_system:
        return ""
    return (file_system.get("FailureDetails") or {}).get("Message") or ""


def latest_update(file_system: dict[str, Any]) -> dict[str, Any] | None:
    """The most recent FILE_SYSTEM_UPDATE administrative action (the one this run started, after an update)."""
    updates = [
        action
        for action in file_system.get("AdministrativeActions") or []
        if action.get("AdministrativeActionType") == "FILE_SYSTEM_UPDATE"
    ]
    return max(updates, key=_request_time, default=None)


def _request_time(action: dict[str, Any]) -> float:
    when = action.get("RequestTime")
    if hasattr(when, "timestamp"):
        return when.timestamp()
    return float(when or 0)


def settle_state(file_system: dict[str, Any] | None, watch_update: bool = False) -> tuple[str, str]:
    """(state, reason) of a file system being waited for: AVAILABLE once it and its aliases are ready.

    With `watch_update`, the latest FILE_SYSTEM_UPDATE must also have taken effect
    (UPDATED_OPTIMIZING is enough: the storage optimisation that follows takes hours and
    does not stop the file system from serving the new capacity).
    """
    if file_system is None:
        return "ABSENT", ""
    lifecycle = file_system.get("Lifecycle") or "UNKNOWN"
    if lifecycle in FAILED_LIFECYCLES or lifecycle == DELETING:
        return lifecycle, failure_reason(file_system) or "FSx gave no failure details"
    if lifecycle != AVAILABLE:
        return lifecycle, ""
    windows = file_system.get("WindowsConfiguration") or {}
    failed_aliases = [a["Name"] for a in windows.get("Aliases") or [] if a.get("Lifecycle", "").endswith("_FAILED")]
    if failed_aliases:
        return "ALIAS_FAILED", f"alias change failed for {', '.join(sorted(failed_aliases))}"
    if any(a.get("Lifecycle") in ("CREATING", "DELETING") for a in windows.get("Aliases") or []):
        return "UPDATING_ALIASES", ""
    if watch_update:
        action = latest_update(file_system)
        if action is not None:
            status = action.get("Status")
            if status == "FAILED":
                details = (action.get("FailureDetails") or {}).get("Message") or "FSx gave no failure details"
                return "UPDATE_FAILED", details
            if status not in UPDATE_DONE:
                return "UPDATING", ""
    return AVAILABLE, ""


def share_path(dns_name: str | None, share: str = SHARE) -> str | None:
    return f"\\\\{dns_name}\\{share}" if dns_name else None


def file_system_summary(file_system: dict[str, Any] | None, tags: dict[str, str] | None = None) -> dict[str, Any]:
    """The module's `file_system` result: snake_case, with what later roles need at the top."""
    if not file_system:
        return {}
    windows = file_system.get("WindowsConfiguration") or {}
    return {
        "file_system_id": file_system.get("FileSystemId"),
        "name": (tags or {}).get(NAME_TAG),
        "arn": file_system.get("ResourceARN"),
        "dns_name": file_system.get("DNSName"),
        "share_path": share_path(file_system.get("DNSName")),
        "lifecycle": file_system.get("Lifecycle"),
        "failure_details": file_system.get("FailureDetails"),
        "storage_capacity": file_system.get("StorageCapacity"),
        "storage_type": file_system.get("StorageType"),
        "vpc_id": file_system.get("VpcId"),
        "subnet_ids": list(file_system.get("SubnetIds") or []),
        "network_interface_ids": list(file_system.get("NetworkInterfaceIds") or []),
        "kms_key_id": file_system.get("KmsKeyId"),
        "windows_configuration": _snake_windows(windows),
        "administrative_actions": [_snake_action(a) for a in file_system.get("AdministrativeActions") or []],
        "tags": dict(tags or {}),
    }


def _snake_windows(windows: dict[str, Any]) -> dict[str, Any]:
    keys = {
        "ActiveDirectoryId": "active_directory_id",
        "DeploymentType": "deployment_type",
        "RemoteAdministrationEndpoint": "remote_administration_endpoint",
        "PreferredSubnetId": "preferred_subnet_id",
        "PreferredFileServerIp": "preferred_file_server_ip",
        "ThroughputCapacity": "throughput_capacity",
        "MaintenanceOperationsInProgress": "maintenance_operations_in_progress",
        "WeeklyMaintenanceStartTime": "weekly_maintenance_start_time",
        "DailyAutomaticBackupStartTime": "daily_automatic_backup_start_time",
        "AutomaticBackupRetentionDays": "automatic_backup_retention_days",
        "CopyTagsToBackups": "copy_tags_to_backups",
    }
    result = {snake: windows.get(camel) for camel, snake in keys.items()}
    result["aliases"] = [
        {"name": alias.get("Name"), "lifecycle": alias.get("Lifecycle")} for alias in windows.get("Aliases") or []
    ]
    return result


def _snake_action(action: dict[str, Any]) -> dict[str, Any]:
    return {
        "administrative_action_type": action.get("AdministrativeActionType"),
        "status": action.get("Status"),
        "progress_percent": action.get("ProgressPercent"),
        "failure_details": action.get("FailureDetails"),
    }
