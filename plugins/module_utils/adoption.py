# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How an existing directory, file system, fleet and stack differ from a tenant's definition, before adoption.

Each difference says whether the next converge changes it in place, or cannot (AWS offers no change: the
directory's name, edition or subnets, the file system's deployment type, the fleet's type, an AppStream
name): then adopting would leave a tenant that cannot converge, so those are blockers, each with what to
do. The inputs are the service's Describe answers and the normalised definition (`tenant_spec`); the
network's ids come from the adoption of the VPC (network.adopt), in layout order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.stack import (
    USER_SETTING_ACTIONS,
    user_settings_view,
    user_settings_wanted,
)


def difference(resource: str, name: str, current: Any, wanted: Any, in_place: bool, note: str = "") -> dict[str, Any]:
    return {
        "resource": resource,
        "field": name,
        "current": current,
        "wanted": wanted,
        "in_place": in_place,
        "note": note,
    }


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return sorted(map(str, a)) == sorted(map(str, b))
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return a == b


def _compare(
    found: list[dict[str, Any]], resource: str, name: str, current: Any, wanted: Any, in_place: bool, note: str = ""
) -> None:
    if wanted is not None and not _same(current, wanted):
        found.append(difference(resource, name, current, wanted, in_place, note))


def directory_differences(
    directory: Mapping[str, Any], tenant: Mapping[str, Any], vpc_id: str | None, subnet_ids: Sequence[str] | None
) -> list[dict[str, Any]]:
    """`subnet_ids`: the subnets the toolkit puts the domain controllers in (the first two private ones)."""
    wanted = tenant.get("directory") or {}
    label = f"directory {directory.get('DirectoryId')}"
    vpc = directory.get("VpcSettings") or {}
    found: list[dict[str, Any]] = []
    recreate = "AWS cannot change it: set the tenant definition to the directory's value, or do not adopt it"
    if not wanted:
        found.append(
            difference(label, "tenant.auth", tenant.get("auth"), "saml", False, "only SAML tenants have a directory")
        )
        return found
    _compare(
        found,
        label,
        "type",
        directory.get("Type"),
        "MicrosoftAD",
        False,
        "the toolkit manages AWS Managed Microsoft AD",
    )
    _compare(found, label, "name (tenant.directory.fqdn)", directory.get("Name"), wanted.get("fqdn"), False, recreate)
    _compare(
        found,
        label,
        "short name (tenant.directory.netbios)",
        directory.get("ShortName"),
        wanted.get("netbios"),
        False,
        recreate,
    )
    _compare(
        found,
        label,
        "edition (tenant.directory.edition)",
        directory.get("Edition"),
        wanted.get("edition"),
        False,
        recreate,
    )
    _compare(found, label, "VPC", vpc.get("VpcId"), vpc_id, False, "the directory must be in the adopted VPC")
    _compare(
        found,
        label,
        "subnets",
        vpc.get("SubnetIds") or [],
        list(subnet_ids) if subnet_ids else None,
        False,
        "the toolkit keeps the domain controllers in the first two private subnets of the layout",
    )
    if directory.get("Stage") not in (None, "Active"):
        found.append(
            difference(label, "stage", directory.get("Stage"), "Active", True, "the converge waits for Active")
        )
    return found


def file_system_differences(
    file_system: Mapping[str, Any],
    tenant: Mapping[str, Any],
    directory_id: str | None,
    subnet_ids: Sequence[str] | None,
) -> list[dict[str, Any]]:
    """`subnet_ids`: the toolkit's subnets of the file system (the first private subnet; two for MULTI_AZ_1)."""
    storage = tenant.get("storage") or {}
    windows = file_system.get("WindowsConfiguration") or {}
    label = f"file system {file_system.get('FileSystemId')}"
    found: list[dict[str, Any]] = []
    fixed = "FSx cannot change it: set the tenant definition to the file system's value, or do not adopt it"
    if not storage:
        found.append(
            difference(label, "tenant.auth", tenant.get("auth"), "saml", False, "only SAML tenants have a file system")
        )
        return found
    _compare(
        found, label, "type", file_system.get("FileSystemType"), "WINDOWS", False, "FSx for Windows File Server only"
    )
    _compare(
        found,
        label,
        "deployment type (tenant.storage.deployment_type)",
        windows.get("DeploymentType"),
        storage.get("deployment_type"),
        False,
        fixed,
    )
    _compare(
        found,
        label,
        "storage type (tenant.storage.storage_type)",
        file_system.get("StorageType"),
        storage.get("storage_type"),
        False,
        fixed,
    )
    capacity, wanted_capacity = file_system.get("StorageCapacity"), storage.get("storage_gib")
    if wanted_capacity is not None and capacity != wanted_capacity:
        grows = capacity is not None and wanted_capacity > capacity
        found.append(
            difference(
                label,
                "storage (tenant.storage.storage_gib)",
                capacity,
                wanted_capacity,
                grows,
                "grows in place"
                if grows
                else "FSx storage never shrinks: set storage_gib to at least the current size",
            )
        )
    _compare(
        found,
        label,
        "throughput (tenant.storage.throughput_mbps)",
        windows.get("ThroughputCapacity"),
        storage.get("throughput_mbps"),
        True,
    )
    _compare(
        found,
        label,
        "backup retention (tenant.storage.backup_retention_days)",
        windows.get("AutomaticBackupRetentionDays"),
        storage.get("backup_retention_days"),
        True,
    )
    _compare(
        found,
        label,
        "copy tags to backups",
        windows.get("CopyTagsToBackups"),
        True,
        False,
        "the toolkit's file systems copy their tags to backups (teardown finds final backups by them); FSx cannot "
        "change it: set aws_file_storage_copy_tags_to_backups: false for this tenant, or do not adopt it",
    )
    _compare(
        found,
        label,
        "directory",
        windows.get("ActiveDirectoryId"),
        directory_id,
        False,
        "it must be joined to the adopted directory",
    )
    _compare(
        found,
        label,
        "subnets",
        file_system.get("SubnetIds") or [],
        list(subnet_ids) if subnet_ids else None,
        False,
        "the toolkit puts the file system in the first private subnet of the layout (two for MULTI_AZ_1)",
    )
    return found


def fleet_differences(
    fleet: Mapping[str, Any], tenant: Mapping[str, Any], image_name: str | None, subnet_ids: Sequence[str] | None
) -> list[dict[str, Any]]:
    wanted = (tenant.get("appstream") or {}).get("fleet") or {}
    name = str(fleet.get("Name"))
    label = f"fleet {name}"
    found: list[dict[str, Any]] = []
    expected = f"{tenant.get('name')}-fleet"
    _compare(
        found,
        label,
        "name",
        name,
        expected,
        False,
        f"the toolkit manages the fleet {expected} and AppStream names cannot change: a converge would create "
        f"{expected} beside it",
    )
    _compare(
        found,
        label,
        "type (tenant.appstream.fleet.type)",
        fleet.get("FleetType"),
        wanted.get("type"),
        False,
        "AppStream cannot change a fleet's type",
    )
    running = fleet.get("State") in ("RUNNING", "STARTING")
    stop = " (needs a stopped fleet: appstream_fleet_when_running: restart, or stop it first)" if running else ""
    _compare(found, label, "instance type", fleet.get("InstanceType"), wanted.get("instance_type"), True, stop.strip())
    _compare(
        found,
        label,
        "idle disconnect (s)",
        fleet.get("IdleDisconnectTimeoutInSeconds"),
        wanted.get("idle_disconnect_seconds"),
        True,
    )
    _compare(
        found,
        label,
        "disconnect timeout (s)",
        fleet.get("DisconnectTimeoutInSeconds"),
        wanted.get("disconnect_timeout_seconds"),
        True,
    )
    _compare(
        found,
        label,
        "max session (s)",
        fleet.get("MaxUserDurationInSeconds"),
        wanted.get("max_user_duration_seconds"),
        True,
    )
    _compare(
        found,
        label,
        "image",
        fleet.get("ImageName"),
        image_name,
        True,
        "the converge builds the catalogue image if it does not exist, then moves the fleet to it",
    )
    _compare(
        found,
        label,
        "subnets",
        (fleet.get("VpcConfig") or {}).get("SubnetIds") or [],
        list(subnet_ids) if subnet_ids else None,
        True,
        "the tenant's private subnets" + stop,
    )
    return found


def stack_differences(
    stack: Mapping[str, Any], tenant: Mapping[str, Any], associated_fleets: Sequence[str]
) -> list[dict[str, Any]]:
    name = str(stack.get("Name"))
    label = f"stack {name}"
    found: list[dict[str, Any]] = []
    expected = f"{tenant.get('name')}-stack"
    _compare(
        found,
        label,
        "name",
        name,
        expected,
        False,
        f"the toolkit manages the stack {expected} and AppStream names cannot change: a converge would create "
        f"{expected} beside it",
    )
    options = (tenant.get("appstream") or {}).get("stack") or {}
    wanted = user_settings_wanted({option: options.get(option) for option in USER_SETTING_ACTIONS})
    current = user_settings_view(stack.get("UserSettings"))
    for option in USER_SETTING_ACTIONS:
        _compare(found, label, f"user setting {option}", current.get(option), wanted.get(option), True)
    fleet = f"{tenant.get('name')}-fleet"
    if fleet not in associated_fleets:
        found.append(
            difference(
                label, "fleet", list(associated_fleets), [fleet], True, "the converge associates the tenant's fleet"
            )
        )
    return found
