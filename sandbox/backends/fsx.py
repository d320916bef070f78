"""Amazon FSx for Windows File Server as the sandbox models it (WINDOWS file systems only).

File systems move CREATING -> AVAILABLE over (scaled) time, join a Managed Microsoft AD
directory of the sandbox's DS backend (which must be Active), get requester-managed
network interfaces in moto's EC2, and follow AWS's rules on storage, throughput,
deployment types and networks with the model's error codes. Throughput and storage
changes run as AdministrativeActions that complete over time while the file system stays
AVAILABLE; aliases are associated and disassociated over time; deleting takes a final
backup unless told not to. ClientRequestToken makes CreateFileSystem and CreateBackup
idempotent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox import moto_state
from sandbox.backends.ds import DirectoryService, create_service_interface, cursor_page, delete_interfaces
from sandbox.clock import Lifecycle, SimClock
from sandbox.errors import AwsError
from sandbox.jsonproto import ACCOUNT_ID, Context, JsonService, paginate

# Modelled AWS durations, in real AWS seconds (the sandbox multiplies them by its time scale).
DURATIONS: dict[str, float] = {
    "create_single_az": 30 * 60,  # CREATING -> AVAILABLE, SINGLE_AZ_1 / SINGLE_AZ_2
    "create_multi_az": 45 * 60,  # CREATING -> AVAILABLE, MULTI_AZ_1
    "delete": 10 * 60,  # DELETING -> gone (after the final backup, when one is taken)
    "backup": 5 * 60,  # backup CREATING -> AVAILABLE
    "action_pending": 60,  # an administrative action PENDING -> IN_PROGRESS
    "throughput_update": 19 * 60,  # throughput FILE_SYSTEM_UPDATE IN_PROGRESS -> COMPLETED
    "storage_update": 15 * 60,  # storage FILE_SYSTEM_UPDATE IN_PROGRESS -> UPDATED_OPTIMIZING
    "storage_optimization": 60 * 60,  # UPDATED_OPTIMIZING / STORAGE_OPTIMIZATION -> COMPLETED
    "alias_association": 5 * 60,  # alias CREATING -> AVAILABLE
    "alias_disassociation": 5 * 60,  # alias DELETING -> gone
}

THROUGHPUT_VALUES = (8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3072, 4608, 6144, 9216, 12288)
SINGLE_AZ_1_MAX_THROUGHPUT = 2048
AUDIT_MIN_THROUGHPUT = 32
STORAGE_UPDATE_MIN_THROUGHPUT = 16
SSD_RANGE = (32, 65536)
HDD_RANGE = (2000, 65536)
STORAGE_MIN_INCREASE = 1.10
LONG_DOMAIN_DEPLOYMENTS = ("SINGLE_AZ_2", "MULTI_AZ_1")
MAX_DOMAIN_NAME_LENGTH = 47
MAX_ALIASES = 50
MAX_TAGS = 50
MAX_PAGE = 50
DEFAULT_FILE_SYSTEM_LIMIT = 100
DEFAULT_RETENTION_DAYS = 30
GONE = "GONE"  # internal terminal state: the resource is dropped the next time it is read
_FINISHED = ("COMPLETED", "FAILED", "CANCELLED")
_OTHER_CONFIGURATIONS = ("LustreConfiguration", "OntapConfiguration", "OpenZFSConfiguration")
_ALIAS = re.compile(r"^(?=.{4,253}$)([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?\.)+[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$")
_DISABLED_AUDIT = {"FileAccessAuditLogLevel": "DISABLED", "FileShareAccessAuditLogLevel": "DISABLED"}


def bad_request(message: str) -> AwsError:
    return AwsError("BadRequest", message)


# -- model ------------------------------------------------------------------------------------
@dataclass
class Alias:
    name: str
    lifecycle: Lifecycle


@dataclass
class AdministrativeAction:
    action_type: str
    request_time: float
    status: Lifecycle
    target: dict[str, Any] | None = None


@dataclass
class FileSystem:
    region: str
    file_system_id: str
    lifecycle: Lifecycle
    creation_time: float
    deployment_type: str
    storage_capacity: int
    storage_type: str
    throughput: int
    vpc_id: str
    subnet_ids: list[str]
    preferred_subnet_id: str
    addresses: dict[str, str]
    eni_ids: list[str]
    domain_name: str
    directory_id: str | None
    self_managed: dict[str, Any] | None
    dns_name: str
    remote_admin_endpoint: str
    kms_key_id: str
    weekly_maintenance: str
    daily_backup: str
    retention_days: int
    copy_tags_to_backups: bool
    audit: dict[str, str]
    disk_iops: dict[str, Any] | None
    fsrm: dict[str, Any] | None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[Alias] = field(default_factory=list)
    actions: list[AdministrativeAction] = field(default_factory=list)
    failure_message: str | None = None
    final_backup: dict[str, Any] | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:fsx:{self.region}:{ACCOUNT_ID}:file-system/{self.file_system_id}"


@dataclass
class Backup:
    region: str
    backup_id: str
    file_system_id: str
    lifecycle: Lifecycle
    creation_time: float
    kms_key_id: str
    file_system: dict[str, Any]
    directory: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)
    backup_type: str = "USER_INITIATED"

    @property
    def arn(self) -> str:
        return f"arn:aws:fsx:{self.region}:{ACCOUNT_ID}:backup/{self.backup_id}"


@dataclass
class RegionState:
    file_systems: dict[str, FileSystem] = field(default_factory=dict)
    backups: dict[str, Backup] = field(default_factory=dict)
    tokens: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    file_system_limit: int = DEFAULT_FILE_SYSTEM_LIMIT


# -- the service ------------------------------------------------------------------------------------
class FSxService(JsonService):
    service_name = "fsx"

    def __init__(self, clock: SimClock) -> None:
        super().__init__(clock)
        self._directories: DirectoryService | None = None

    def attach_directory_service(self, directories: DirectoryService) -> None:
        """Resolve ActiveDirectoryId through the sandbox's DS backend, and hold deletion of directories in use."""
        self._directories = directories
        directories.add_dependent_check(self.file_systems_using_directory)

    def file_systems_using_directory(self, region: str, directory_id: str) -> list[str]:
        # Called by the DS backend under its own lock: reads without taking ours (no lock-order cycle);
        # a file system's lifecycle has no callbacks, so reading it changes nothing else.
        state = self._regions.get(region)
        if state is None:
            return []
        return [
            item.file_system_id
            for item in list(state.file_systems.values())
            if item.directory_id == directory_id and item.lifecycle.state != GONE
        ]

    def new_region_state(self, region: str) -> RegionState:
        return RegionState()

    def region_state(self, region: str) -> RegionState:
        return self.state(Context(region=region, account_id=ACCOUNT_ID, request_id="internal", operation="internal"))

    # -- bookkeeping -------------------------------------------------------------------------------
    def _live(self, state: RegionState) -> dict[str, FileSystem]:
        """File systems that still exist, with due transitions applied and finished deletions dropped."""
        for item in list(state.file_systems.values()):
            if item.lifecycle.state == GONE:
                delete_interfaces(item.region, item.eni_ids)
                del state.file_systems[item.file_system_id]
                continue
            item.aliases = [alias for alias in item.aliases if alias.lifecycle.state != GONE]
            for action in item.actions:
                _ = action.status.state  # applies a completed update
        return state.file_systems

    def _get(self, state: RegionState, file_system_id: str) -> FileSystem:
        found = self._live(state).get(file_system_id)
        if found is None:
            raise AwsError("FileSystemNotFound", f"File system '{file_system_id}' does not exist.")
        return found

    def _require_available(self, item: FileSystem, operation: str) -> None:
        lifecycle = item.lifecycle.state
        if lifecycle != "AVAILABLE":
            raise bad_request(
                f"Unable to {operation}: file system {item.file_system_id} is {lifecycle}, not AVAILABLE."
            )

    def _idempotent(self, state: RegionState, operation: str, params: dict[str, Any]) -> tuple[str | None, str | None]:
        """(token, id of the resource an identical earlier request created); raise on a reused token."""
        token = params.get("ClientRequestToken")
        if not token:
            return None, None
        earlier = state.tokens.get((operation, token))
        if earlier is None:
            return token, None
        if earlier[0] != _fingerprint(params):
            raise AwsError(
                "IncompatibleParameterError",
                f"The client request token '{token}' was already used with different parameters.",
            )
        return token, earlier[1]

    @staticmethod
    def _remember(
        state: RegionState, operation: str, token: str | None, params: dict[str, Any], resource_id: str
    ) -> None:
        if token:
            state.tokens[(operation, token)] = (_fingerprint(params), resource_id)

    # -- CreateFileSystem -----------------------------------------------------------------------------
    def create_file_system(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        state = self.state(ctx)
        token, earlier = self._idempotent(state, "CreateFileSystem", params)
        if earlier is not None and earlier in self._live(state):
            return {"FileSystem": self._describe(state.file_systems[earlier])}
        if params["FileSystemType"] != "WINDOWS":
            raise bad_request(f"The sandbox models only WINDOWS file systems, not {params['FileSystemType']}.")
        windows = params.get("WindowsConfiguration")
        if windows is None:
            raise AwsError("MissingFileSystemConfiguration", "A WindowsConfiguration is required for WINDOWS.")
        if any(key in params for key in _OTHER_CONFIGURATIONS):
            raise bad_request("Only a WindowsConfiguration can be given for a WINDOWS file system.")
        item = self._new_file_system(ctx.region, params, windows)
        if len(self._live(state)) >= state.file_system_limit:
            raise AwsError("ServiceLimitExceeded", f"Limit FILE_SYSTEM_COUNT reached ({state.file_system_limit}).")
        self._attach_network(item, params.get("SecurityGroupIds") or [])
        state.file_systems[item.file_system_id] = item
        self._remember(state, "CreateFileSystem", token, params, item.file_system_id)
        return {"FileSystem": self._describe(item)}

    def _new_file_system(self, region: str, params: dict[str, Any], windows: dict[str, Any]) -> FileSystem:
        """Validate a create request (no side effect) and build the file system it describes."""
        deployment = windows.get("DeploymentType", "SINGLE_AZ_1")
        storage_type = params.get("StorageType", "SSD")
        if storage_type not in ("SSD", "HDD"):
            raise bad_request(f"StorageType {storage_type} is not supported for WINDOWS file systems.")
        if params.get("StorageCapacity") is None:
            raise bad_request("StorageCapacity is required for WINDOWS file systems.")
        _check_storage(params["StorageCapacity"], storage_type, deployment)
        _check_throughput(windows["ThroughputCapacity"], deployment)
        vpc_id, subnet_ids, preferred = _check_fsx_network(region, params, deployment, windows.get("PreferredSubnetId"))
        directory_id, self_managed, domain = self._resolve_directory(region, windows, deployment)
        audit = _audit_configuration(region, windows.get("AuditLogConfiguration"), windows["ThroughputCapacity"])
        aliases = [_check_alias(name) for name in windows.get("Aliases", [])]
        file_system_id = f"fs-{secrets.token_hex(9)[:17]}"
        single_az = deployment != "MULTI_AZ_1"
        lifecycle = Lifecycle(self.clock, "CREATING")
        creation = DURATIONS["create_single_az" if single_az else "create_multi_az"]
        item = FileSystem(
            region=region,
            file_system_id=file_system_id,
            lifecycle=lifecycle,
            creation_time=self.clock.now(),
            deployment_type=deployment,
            storage_capacity=params["StorageCapacity"],
            storage_type=storage_type,
            throughput=windows["ThroughputCapacity"],
            vpc_id=vpc_id,
            subnet_ids=subnet_ids,
            preferred_subnet_id=preferred,
            addresses={},
            eni_ids=[],
            domain_name=domain,
            directory_id=directory_id,
            self_managed=self_managed,
            dns_name=f"{file_system_id}.{domain}" if single_az else f"{_netbios_like(file_system_id, 'dns')}.{domain}",
            remote_admin_endpoint=(
                f"{file_system_id}.{domain}" if single_az else f"{_netbios_like(file_system_id, 'admin')}.{domain}"
            ),
            kms_key_id=params.get("KmsKeyId") or _default_kms_key(region),
            weekly_maintenance=windows.get("WeeklyMaintenanceStartTime", "7:03:00"),
            daily_backup=windows.get("DailyAutomaticBackupStartTime", "01:00"),
            retention_days=windows.get("AutomaticBackupRetentionDays", DEFAULT_RETENTION_DAYS),
            copy_tags_to_backups=windows.get("CopyTagsToBackups", False),
            audit=audit,
            disk_iops=windows.get("DiskIopsConfiguration") or _default_iops(storage_type, params["StorageCapacity"]),
            fsrm=windows.get("FsrmConfiguration"),
            tags=_tags(params.get("Tags", [])),
        )
        item.aliases = [self._alias(name, creation) for name in dict.fromkeys(aliases)]
        lifecycle.go("CREATING", (creation, "AVAILABLE", lambda: self._serve_share(item)))
        return item

    def _serve_share(self, item: FileSystem) -> None:
        """With a Samba-backed directory, the share `share` of the file system becomes real (served by its DC)."""
        provider = getattr(self._directories, "dc_provider", None) if self._directories else None
        if provider is None or not hasattr(provider, "provision_file_share") or not item.directory_id:
            return
        directory = self._directories.region_state(item.region).directories.get(item.directory_id)
        if directory is None or not directory.provided_addresses:
            return
        try:
            item.addresses[item.preferred_subnet_id] = provider.provision_file_share(directory, item.dns_name)
        except Exception as err:  # noqa: BLE001 - a Samba failure is reported as the file system's own failure
            item.lifecycle.set("FAILED")
            item.failure_message = f"The file share could not be served: {err}"

    def _alias(self, name: str, seconds: float) -> Alias:
        lifecycle = Lifecycle(self.clock, "CREATING")
        lifecycle.go("CREATING", (seconds, "AVAILABLE"))
        return Alias(name, lifecycle)

    def _resolve_directory(
        self, region: str, windows: dict[str, Any], deployment: str
    ) -> tuple[str | None, dict[str, Any] | None, str]:
        directory_id = windows.get("ActiveDirectoryId")
        self_managed = windows.get("SelfManagedActiveDirectoryConfiguration")
        if bool(directory_id) == bool(self_managed):
            raise bad_request("Give exactly one of ActiveDirectoryId and SelfManagedActiveDirectoryConfiguration.")
        if self_managed:
            domain = self_managed["DomainName"]
            kept = {key: value for key, value in self_managed.items() if key not in ("Password",)}
        else:
            info = self._directories.directory_info(region, directory_id) if self._directories else None
            if info is None:
                raise AwsError("ActiveDirectoryError", f"DOMAIN_NOT_FOUND: directory {directory_id} does not exist.")
            if info.stage != "Active":
                raise AwsError(
                    "ActiveDirectoryError",
                    f"INVALID_DOMAIN_STAGE: directory {directory_id} is {info.stage}; it must be Active.",
                )
            domain, kept = info.name, None
        if deployment in LONG_DOMAIN_DEPLOYMENTS and len(domain) > MAX_DOMAIN_NAME_LENGTH:
            raise bad_request(
                f"The Active Directory domain name must be at most {MAX_DOMAIN_NAME_LENGTH} characters for "
                f"{deployment} file systems; {domain} has {len(domain)}."
            )
        return directory_id, kept, domain

    def _attach_network(self, item: FileSystem, group_ids: list[str]) -> None:
        groups = group_ids or _default_security_group(item.region, item.vpc_id)
        for subnet_id in item.subnet_ids:
            eni_id, address = create_service_interface(
                item.region,
                subnet_id,
                groups,
                f"ENI for FSx file system {item.file_system_id}",
                seed=f"{item.file_system_id}:{subnet_id}",
            )
            item.eni_ids.append(eni_id)
            item.addresses[subnet_id] = address

    # -- DescribeFileSystems --------------------------------------------------------------------------
    def describe_file_systems(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        state = self.state(ctx)
        live = self._live(state)
        wanted = params.get("FileSystemIds")
        items = [self._get(state, item) for item in wanted] if wanted else list(live.values())
        page, following = _cursor_page(items, lambda item: (item.creation_time, item.file_system_id), params)
        result: dict[str, Any] = {"FileSystems": [self._describe(item) for item in page]}
        if following:
            result["NextToken"] = following
        return result

    def _describe(self, item: FileSystem) -> dict[str, Any]:
        lifecycle = _shown(item.lifecycle)
        description: dict[str, Any] = {
            "OwnerId": ACCOUNT_ID,
            "CreationTime": item.creation_time,
            "FileSystemId": item.file_system_id,
            "FileSystemType": "WINDOWS",
            "Lifecycle": lifecycle,
            "StorageCapacity": item.storage_capacity,
            "StorageType": item.storage_type,
            "VpcId": item.vpc_id,
            "SubnetIds": list(item.subnet_ids),
            "NetworkInterfaceIds": list(item.eni_ids),
            "DNSName": item.dns_name,
            "KmsKeyId": item.kms_key_id,
            "ResourceARN": item.arn,
            "WindowsConfiguration": self._describe_windows(item),
            "NetworkType": "IPV4",
        }
        if item.tags:
            description["Tags"] = _tag_list(item.tags)
        if lifecycle == "FAILED" and item.failure_message:
            description["FailureDetails"] = {"Message": item.failure_message}
        if item.actions:
            description["AdministrativeActions"] = [_describe_action(action) for action in item.actions[-MAX_PAGE:]]
        return description

    def _describe_windows(self, item: FileSystem) -> dict[str, Any]:
        windows: dict[str, Any] = {
            "DeploymentType": item.deployment_type,
            "RemoteAdministrationEndpoint": item.remote_admin_endpoint,
            "PreferredSubnetId": item.preferred_subnet_id,
            "PreferredFileServerIp": item.addresses.get(item.preferred_subnet_id, ""),
            "ThroughputCapacity": item.throughput,
            "MaintenanceOperationsInProgress": self._maintenance(item),
            "WeeklyMaintenanceStartTime": item.weekly_maintenance,
            "DailyAutomaticBackupStartTime": item.daily_backup,
            "AutomaticBackupRetentionDays": item.retention_days,
            "CopyTagsToBackups": item.copy_tags_to_backups,
            "Aliases": [{"Name": alias.name, "Lifecycle": _shown(alias.lifecycle)} for alias in item.aliases],
            "AuditLogConfiguration": dict(item.audit),
        }
        if item.directory_id:
            windows["ActiveDirectoryId"] = item.directory_id
        if item.self_managed:
            windows["SelfManagedActiveDirectoryConfiguration"] = dict(item.self_managed)
        if item.disk_iops:
            windows["DiskIopsConfiguration"] = dict(item.disk_iops)
        if item.fsrm:
            windows["FsrmConfiguration"] = dict(item.fsrm)
        return windows

    def _maintenance(self, item: FileSystem) -> list[str]:
        state = self._regions.get(item.region)
        backups = state.backups.values() if state else []
        busy = any(b.file_system_id == item.file_system_id and b.lifecycle.state == "CREATING" for b in backups)
        return ["BACKING_UP"] if busy and item.lifecycle.state == "AVAILABLE" else []

    # -- UpdateFileSystem -------------------------------------------------------------------------------
    def update_file_system(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        item = self._get(self.state(ctx), params["FileSystemId"])
        if any(key in params for key in _OTHER_CONFIGURATIONS) or "FileSystemTypeVersion" in params:
            raise bad_request("Only StorageCapacity and WindowsConfiguration apply to a WINDOWS file system.")
        if params.get("StorageType", item.storage_type) != item.storage_type:
            raise AwsError("UnsupportedOperation", "The sandbox does not model storage type changes.")
        self._require_available(item, "update the file system")
        windows = params.get("WindowsConfiguration", {})
        throughput = windows.get("ThroughputCapacity")
        storage = params.get("StorageCapacity")
        if throughput is not None:
            self._check_throughput_update(item, throughput)
        if storage is not None:
            self._check_storage_update(item, storage)
        audit = None
        if "AuditLogConfiguration" in windows:
            audit = _audit_configuration(item.region, windows["AuditLogConfiguration"], throughput or item.throughput)
        self._check_self_managed_update(item, windows)
        self._apply_settings(item, windows, audit)
        if throughput is not None:
            self._start_throughput_update(item, throughput)
        if storage is not None:
            self._start_storage_update(item, storage)
        return {"FileSystem": self._describe(item)}

    def _check_throughput_update(self, item: FileSystem, throughput: int) -> None:
        _check_throughput(throughput, item.deployment_type)
        if any(_is_throughput_action(action) and action.status.state not in _FINISHED for action in item.actions):
            raise bad_request("A throughput capacity update is already in progress for this file system.")
        if throughput == item.throughput:
            raise bad_request(f"The file system already has a throughput capacity of {throughput} MB/s.")
        if throughput < AUDIT_MIN_THROUGHPUT and _audit_enabled(item.audit):
            raise bad_request(f"Audit logging needs a throughput capacity of at least {AUDIT_MIN_THROUGHPUT} MB/s.")

    def _check_storage_update(self, item: FileSystem, storage: int) -> None:
        if any(_is_storage_action(action) and action.status.state not in _FINISHED for action in item.actions):
            raise bad_request("A storage capacity update or storage optimization is already in progress.")
        if item.throughput < STORAGE_UPDATE_MIN_THROUGHPUT:
            raise bad_request(
                f"Increasing storage needs a throughput capacity of at least {STORAGE_UPDATE_MIN_THROUGHPUT} MB/s."
            )
        if storage < item.storage_capacity:
            raise bad_request(
                f"Storage capacity can only increase: {storage} GiB is less than the current "
                f"{item.storage_capacity} GiB."
            )
        minimum = math.ceil(item.storage_capacity * STORAGE_MIN_INCREASE)
        if storage < minimum:
            raise bad_request(
                f"The new storage capacity must be at least 10% larger than the current one ({minimum} GiB or more)."
            )
        _check_storage(storage, item.storage_type, item.deployment_type)

    @staticmethod
    def _check_self_managed_update(item: FileSystem, windows: dict[str, Any]) -> None:
        if "SelfManagedActiveDirectoryConfiguration" in windows and item.self_managed is None:
            raise bad_request("SelfManagedActiveDirectoryConfiguration applies only to self-managed AD file systems.")

    @staticmethod
    def _apply_settings(item: FileSystem, windows: dict[str, Any], audit: dict[str, str] | None) -> None:
        """Settings AWS applies at once, without an administrative action."""
        item.weekly_maintenance = windows.get("WeeklyMaintenanceStartTime", item.weekly_maintenance)
        item.daily_backup = windows.get("DailyAutomaticBackupStartTime", item.daily_backup)
        item.retention_days = windows.get("AutomaticBackupRetentionDays", item.retention_days)
        item.disk_iops = windows.get("DiskIopsConfiguration", item.disk_iops)
        item.fsrm = windows.get("FsrmConfiguration", item.fsrm)
        if audit is not None:
            item.audit = audit
        updates = windows.get("SelfManagedActiveDirectoryConfiguration")
        if updates and item.self_managed is not None:
            item.self_managed.update({key: value for key, value in updates.items() if key != "Password"})

    def _start_throughput_update(self, item: FileSystem, throughput: int) -> None:
        def apply() -> None:
            item.throughput = throughput

        self._action(
            item,
            "FILE_SYSTEM_UPDATE",
            {"WindowsConfiguration": {"ThroughputCapacity": throughput}},
            (DURATIONS["action_pending"], "IN_PROGRESS"),
            (DURATIONS["throughput_update"], "COMPLETED", apply),
        )

    def _start_storage_update(self, item: FileSystem, storage: int) -> None:
        def apply() -> None:
            item.storage_capacity = storage
            if item.disk_iops and item.disk_iops.get("Mode") == "AUTOMATIC":
                item.disk_iops = _default_iops(item.storage_type, storage)

        self._action(
            item,
            "FILE_SYSTEM_UPDATE",
            {"StorageCapacity": storage},
            (DURATIONS["action_pending"], "IN_PROGRESS"),
            (DURATIONS["storage_update"], "UPDATED_OPTIMIZING", apply),
            (DURATIONS["storage_optimization"], "COMPLETED"),
        )
        self._action(
            item,
            "STORAGE_OPTIMIZATION",
            None,
            (DURATIONS["action_pending"] + DURATIONS["storage_update"], "IN_PROGRESS"),
            (DURATIONS["storage_optimization"], "COMPLETED"),
        )

    def _action(
        self, item: FileSystem, action_type: str, target: dict[str, Any] | None, *steps: tuple[Any, ...]
    ) -> AdministrativeAction:
        status = Lifecycle(self.clock, "PENDING")
        status.go("PENDING", *steps)
        action = AdministrativeAction(action_type, self.clock.now(), status, target)
        item.actions.append(action)
        return action

    # -- aliases ---------------------------------------------------------------------------------------
    def associate_file_system_aliases(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        item = self._get(self.state(ctx), params["FileSystemId"])
        self._require_available(item, "associate aliases")
        names = list(dict.fromkeys(_check_alias(name) for name in params["Aliases"]))
        existing = {alias.name: alias for alias in item.aliases}
        new = [name for name in names if name not in existing]
        if len(item.aliases) + len(new) > MAX_ALIASES:
            raise bad_request(f"A file system can have at most {MAX_ALIASES} aliases.")
        seconds = DURATIONS["alias_association"]
        for name in new:
            existing[name] = self._alias(name, seconds)
            item.aliases.append(existing[name])
        if new:
            self._action(
                item,
                "FILE_SYSTEM_ALIAS_ASSOCIATION",
                None,
                (seconds / 5, "IN_PROGRESS"),
                (seconds * 4 / 5, "COMPLETED"),
            )
        return {"Aliases": [{"Name": name, "Lifecycle": existing[name].lifecycle.state} for name in names]}

    def disassociate_file_system_aliases(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        item = self._get(self.state(ctx), params["FileSystemId"])
        self._require_available(item, "disassociate aliases")
        names = list(dict.fromkeys(name.lower() for name in params["Aliases"]))
        existing = {alias.name: alias for alias in item.aliases}
        unknown = [name for name in names if name not in existing]
        if unknown:
            raise bad_request(f"Aliases not associated with {item.file_system_id}: {', '.join(unknown)}.")
        seconds = DURATIONS["alias_disassociation"]
        for name in names:
            if existing[name].lifecycle.state != "DELETING":
                existing[name].lifecycle.go("DELETING", (seconds, GONE))
        self._action(
            item, "FILE_SYSTEM_ALIAS_DISASSOCIATION", None, (seconds / 5, "IN_PROGRESS"), (seconds * 4 / 5, "COMPLETED")
        )
        return {"Aliases": [{"Name": name, "Lifecycle": "DELETING"} for name in names]}

    def describe_file_system_aliases(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        item = self._get(self.state(ctx), params["FileSystemId"])
        aliases = [{"Name": alias.name, "Lifecycle": _shown(alias.lifecycle)} for alias in item.aliases]
        page, following = _page(aliases, params)
        result: dict[str, Any] = {"Aliases": page}
        if following:
            result["NextToken"] = following
        return result

    # -- DeleteFileSystem -------------------------------------------------------------------------------
    def delete_file_system(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        state = self.state(ctx)
        item = self._get(state, params["FileSystemId"])
        if any(key in params for key in ("LustreConfiguration", "OpenZFSConfiguration")):
            raise bad_request("Only a WindowsConfiguration can be given when deleting a WINDOWS file system.")
        lifecycle = item.lifecycle.state
        if lifecycle == "DELETING":
            return _deletion_response(item)
        if lifecycle == "CREATING":
            raise bad_request(f"File system {item.file_system_id} is still CREATING and cannot be deleted yet.")
        windows = params.get("WindowsConfiguration", {})
        skip = windows.get("SkipFinalBackup", False)
        final_tags = windows.get("FinalBackupTags")
        if skip and final_tags:
            raise bad_request("FinalBackupTags cannot be given when SkipFinalBackup is true.")
        seconds = DURATIONS["delete"]
        if not skip:
            tags = _tags(final_tags) if final_tags else (dict(item.tags) if item.copy_tags_to_backups else {})
            backup = self._new_backup(state, item, tags)
            item.final_backup = {"FinalBackupId": backup.backup_id}
            if tags:
                item.final_backup["FinalBackupTags"] = _tag_list(tags)
            seconds += DURATIONS["backup"]
        item.lifecycle.go("DELETING", (seconds, GONE))
        return _deletion_response(item)

    # -- backups ---------------------------------------------------------------------------------------
    def create_backup(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        state = self.state(ctx)
        token, earlier = self._idempotent(state, "CreateBackup", params)
        if earlier is not None and earlier in state.backups:
            return {"Backup": self._describe_backup(state.backups[earlier])}
        if params.get("VolumeId"):
            raise AwsError("VolumeNotFound", f"Volume '{params['VolumeId']}' does not exist.")
        if not params.get("FileSystemId"):
            raise bad_request("FileSystemId is required to back up a WINDOWS file system.")
        item = self._get(state, params["FileSystemId"])
        self._require_available(item, "create a backup")
        if self._maintenance(item):
            raise AwsError("BackupInProgress", f"Another backup of {item.file_system_id} is already under way.")
        given = params.get("Tags")
        tags = _tags(given) if given else (dict(item.tags) if item.copy_tags_to_backups else {})
        backup = self._new_backup(state, item, tags)
        self._remember(state, "CreateBackup", token, params, backup.backup_id)
        return {"Backup": self._describe_backup(backup)}

    def _new_backup(self, state: RegionState, item: FileSystem, tags: dict[str, str]) -> Backup:
        snapshot = self._describe(item)
        snapshot.pop("AdministrativeActions", None)
        lifecycle = Lifecycle(self.clock, "CREATING")
        lifecycle.go("CREATING", (DURATIONS["backup"], "AVAILABLE"))
        directory = {"DomainName": item.domain_name}
        if item.directory_id:
            directory["ActiveDirectoryId"] = item.directory_id
        backup = Backup(
            region=item.region,
            backup_id=f"backup-{secrets.token_hex(9)[:17]}",
            file_system_id=item.file_system_id,
            lifecycle=lifecycle,
            creation_time=self.clock.now(),
            kms_key_id=item.kms_key_id,
            file_system=snapshot,
            directory=directory,
            tags=tags,
        )
        state.backups[backup.backup_id] = backup
        return backup

    def describe_backups(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        state = self.state(ctx)
        self._live(state)
        wanted = params.get("BackupIds")
        if wanted:
            missing = [backup_id for backup_id in wanted if backup_id not in state.backups]
            if missing:
                raise AwsError("BackupNotFound", f"Backup '{missing[0]}' does not exist.")
            backups = [state.backups[backup_id] for backup_id in wanted]
        else:
            backups = list(state.backups.values())
        backups = [backup for backup in backups if _matches_filters(backup, params.get("Filters", []))]
        page, following = _cursor_page(backups, lambda item: (item.creation_time, item.backup_id), params)
        result: dict[str, Any] = {"Backups": [self._describe_backup(backup) for backup in page]}
        if following:
            result["NextToken"] = following
        return result

    @staticmethod
    def _describe_backup(backup: Backup) -> dict[str, Any]:
        lifecycle = backup.lifecycle.state
        description: dict[str, Any] = {
            "BackupId": backup.backup_id,
            "Lifecycle": lifecycle,
            "Type": backup.backup_type,
            "ProgressPercent": 100 if lifecycle == "AVAILABLE" else 0,
            "CreationTime": backup.creation_time,
            "KmsKeyId": backup.kms_key_id,
            "ResourceARN": backup.arn,
            "FileSystem": backup.file_system,
            "DirectoryInformation": dict(backup.directory),
            "OwnerId": ACCOUNT_ID,
            "ResourceType": "FILE_SYSTEM",
        }
        if backup.tags:
            description["Tags"] = _tag_list(backup.tags)
        return description

    def delete_backup(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        state = self.state(ctx)
        backup = state.backups.get(params["BackupId"])
        if backup is None:
            raise AwsError("BackupNotFound", f"Backup '{params['BackupId']}' does not exist.")
        if backup.lifecycle.state == "CREATING":
            raise AwsError("BackupInProgress", f"Backup '{backup.backup_id}' is still being created.")
        del state.backups[backup.backup_id]
        return {"BackupId": backup.backup_id, "Lifecycle": "DELETED"}

    # -- tags ------------------------------------------------------------------------------------
    def _tagged(self, state: RegionState, arn: str) -> FileSystem | Backup:
        self._live(state)
        for resource in [*state.file_systems.values(), *state.backups.values()]:
            if resource.arn == arn:
                return resource
        if ":fsx:" not in arn:
            raise AwsError("NotServiceResourceError", f"Resource '{arn}' is not an FSx resource.")
        raise AwsError("ResourceNotFound", f"Resource '{arn}' does not exist.")

    def tag_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        resource = self._tagged(self.state(ctx), params["ResourceARN"])
        merged = {**resource.tags, **_tags(params["Tags"])}
        if len(merged) > MAX_TAGS:
            raise bad_request(f"A resource can have at most {MAX_TAGS} tags.")
        resource.tags = merged
        return {}

    def untag_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        resource = self._tagged(self.state(ctx), params["ResourceARN"])
        for key in params["TagKeys"]:
            resource.tags.pop(key, None)
        return {}

    def list_tags_for_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        resource = self._tagged(self.state(ctx), params["ResourceARN"])
        page, following = _page(_tag_list(resource.tags), params)
        result: dict[str, Any] = {"Tags": page}
        if following:
            result["NextToken"] = following
        return result

    # -- admin hooks (POST /_sandbox/fsx/<action>) ------------------------------------------------------
    def admin_fail_file_system(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            item = self._get(self.region_state(region), payload["file_system_id"])
            item.lifecycle.set("FAILED")
            item.failure_message = (payload.get("message") or "The file system failed.")[:256]
            return {"file_system_id": item.file_system_id, "lifecycle": "FAILED"}

    def admin_set_limits(self, region: str, payload: dict[str, Any]) -> dict[str, int]:
        with self._lock:
            state = self.region_state(region)
            if "file_systems" in payload:
                state.file_system_limit = int(payload["file_systems"])
            return {"file_systems": state.file_system_limit}

    def admin_inventory(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            state = self.region_state(region)
            live = self._live(state)
            return {
                "file_systems": [
                    {
                        "id": item.file_system_id,
                        "lifecycle": item.lifecycle.state,
                        "deployment_type": item.deployment_type,
                        "storage_type": item.storage_type,
                        "storage_capacity": item.storage_capacity,
                        "throughput_capacity": item.throughput,
                        "directory_id": item.directory_id,
                        "dns_name": item.dns_name,
                        "aliases": [alias.name for alias in item.aliases],
                        "tags": dict(item.tags),
                    }
                    for item in sorted(live.values(), key=lambda entry: entry.creation_time)
                ],
                "backups": [
                    {
                        "id": backup.backup_id,
                        "file_system_id": backup.file_system_id,
                        "lifecycle": backup.lifecycle.state,
                        "type": backup.backup_type,
                        "tags": dict(backup.tags),
                    }
                    for backup in sorted(state.backups.values(), key=lambda entry: entry.creation_time)
                ],
            }


# -- rules ------------------------------------------------------------------------------------------
def _check_storage(capacity: int, storage_type: str, deployment: str) -> None:
    if storage_type == "HDD" and deployment == "SINGLE_AZ_1":
        raise bad_request("HDD storage is not supported for SINGLE_AZ_1; use SINGLE_AZ_2 or MULTI_AZ_1.")
    low, high = SSD_RANGE if storage_type == "SSD" else HDD_RANGE
    if not low <= capacity <= high:
        raise bad_request(f"{storage_type} storage capacity must be between {low} and {high} GiB, not {capacity}.")


def _check_throughput(throughput: int, deployment: str) -> None:
    if throughput not in THROUGHPUT_VALUES:
        raise bad_request(
            f"Throughput capacity {throughput} MB/s is not valid; choose one of "
            f"{', '.join(str(value) for value in THROUGHPUT_VALUES)}."
        )
    if deployment == "SINGLE_AZ_1" and throughput > SINGLE_AZ_1_MAX_THROUGHPUT:
        raise bad_request(f"SINGLE_AZ_1 file systems support at most {SINGLE_AZ_1_MAX_THROUGHPUT} MB/s.")


def _check_fsx_network(
    region: str, params: dict[str, Any], deployment: str, preferred: str | None
) -> tuple[str, list[str], str]:
    """(VPC, subnets, preferred subnet) of a valid network for the deployment type."""
    subnet_ids = list(params["SubnetIds"])
    expected = 2 if deployment == "MULTI_AZ_1" else 1
    if len(subnet_ids) != expected or len(set(subnet_ids)) != expected:
        raise AwsError(
            "InvalidNetworkSettings",
            f"{deployment} file systems need exactly {expected} subnet"
            f"{'s in different Availability Zones' if expected == 2 else ''}.",
        )
    vpc_id, zones = moto_state.check_network(
        region, subnet_ids, params.get("SecurityGroupIds") or [], code="InvalidNetworkSettings"
    )
    if expected == 2 and zones[0] == zones[1]:
        raise AwsError(
            "InvalidNetworkSettings",
            "The two subnets of a MULTI_AZ_1 file system must be in different Availability Zones.",
        )
    if expected == 2 and not preferred:
        raise bad_request("PreferredSubnetId is required for MULTI_AZ_1 file systems.")
    preferred = preferred or subnet_ids[0]
    if preferred not in subnet_ids:
        raise AwsError("InvalidNetworkSettings", f"PreferredSubnetId {preferred} is not one of the SubnetIds.")
    return str(vpc_id), subnet_ids, preferred


def _check_alias(name: str) -> str:
    alias = name.lower()
    if not _ALIAS.match(alias):
        raise bad_request(
            f"Alias '{name}' is not valid: it must be a fully qualified domain name (hostname.domain) of letters, "
            "digits, hyphens and underscores, no label starting or ending with a hyphen."
        )
    return alias


def _audit_enabled(audit: dict[str, str]) -> bool:
    return any(audit.get(key) != "DISABLED" for key in _DISABLED_AUDIT)


def _audit_configuration(region: str, config: dict[str, Any] | None, throughput: int) -> dict[str, str]:
    if not config:
        return dict(_DISABLED_AUDIT)
    levels = {key: config[key] for key in _DISABLED_AUDIT}
    destination = config.get("AuditLogDestination")
    if not _audit_enabled(levels):
        if destination:
            raise bad_request("AuditLogDestination cannot be given while both audit log levels are DISABLED.")
        return levels
    if throughput < AUDIT_MIN_THROUGHPUT:
        raise bad_request(f"Audit logging needs a throughput capacity of at least {AUDIT_MIN_THROUGHPUT} MB/s.")
    if destination is None:
        destination = f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:/aws/fsx/windows"
    _check_audit_destination(destination, region)
    return {**levels, "AuditLogDestination": destination}


def _check_audit_destination(destination: str, region: str) -> None:
    parts = destination.split(":", 6)
    if len(parts) < 6 or parts[3] != region or parts[4] != ACCOUNT_ID:
        raise bad_request("AuditLogDestination must be in the file system's Region and account.")
    service = parts[2]
    resource = parts[-1] if service == "logs" else destination.rsplit("/", 1)[-1]
    if service == "logs" and resource.startswith("/aws/fsx"):
        return
    if service == "firehose" and resource.startswith("aws-fsx"):
        return
    raise bad_request(
        "AuditLogDestination must be a CloudWatch Logs log group whose name starts with /aws/fsx or a Kinesis "
        "Data Firehose delivery stream whose name starts with aws-fsx."
    )


# -- small pure helpers -------------------------------------------------------------------------------
def _tags(tags: list[dict[str, str]]) -> dict[str, str]:
    result = {tag["Key"]: tag["Value"] for tag in tags}
    reserved = [key for key in result if key.lower().startswith("aws:")]
    if reserved:
        raise bad_request(f"Tag keys starting with 'aws:' are reserved: {reserved}")
    return result


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _shown(lifecycle: Lifecycle) -> str:
    """The state AWS shows: a resource whose deletion ends between two reads of one request is still DELETING."""
    state = lifecycle.state
    return "DELETING" if state == GONE else state


def _fingerprint(params: dict[str, Any]) -> str:
    """A digest of a request minus its token: compares requests without keeping a password they may carry."""
    canonical = json.dumps({k: v for k, v in params.items() if k != "ClientRequestToken"}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _page(items: list[Any], params: dict[str, Any]) -> tuple[list[Any], str | None]:
    """paginate() with FSx's base64 tokens and its BadRequest for a bad one."""
    inner = {"MaxResults": min(params.get("MaxResults") or MAX_PAGE, MAX_PAGE)}
    token = params.get("NextToken")
    try:
        if token:
            inner["NextToken"] = base64.b64decode(token, validate=True).decode()
        page, following = paginate(items, inner, limit_key="MaxResults", default_limit=MAX_PAGE)
    except (binascii.Error, UnicodeDecodeError, AwsError) as exc:
        raise bad_request(f"The NextToken '{token}' is not valid.") from exc
    return page, (base64.b64encode(following.encode()).decode() if following else None)


def _cursor_page(
    items: list[Any], sort_key: Callable[[Any], tuple[float, str]], params: dict[str, Any]
) -> tuple[list[Any], str | None]:
    """Stable pages of resources that come and go (file systems, backups), with FSx's base64 tokens."""
    try:
        return cursor_page(
            items, sort_key, params.get("NextToken"), min(params.get("MaxResults") or MAX_PAGE, MAX_PAGE)
        )
    except ValueError as exc:
        raise bad_request(f"The NextToken '{params.get('NextToken')}' is not valid.") from exc


def _matches_filters(backup: Backup, filters: list[dict[str, Any]]) -> bool:
    values = {
        "file-system-id": backup.file_system_id,
        "backup-type": backup.backup_type,
        "file-system-type": "WINDOWS",
    }
    return all(values.get(item["Name"]) in item.get("Values", []) for item in filters)


def _describe_action(action: AdministrativeAction) -> dict[str, Any]:
    status = action.status.state
    description: dict[str, Any] = {
        "AdministrativeActionType": action.action_type,
        "RequestTime": action.request_time,
        "Status": status,
    }
    if action.target is not None:
        description["TargetFileSystemValues"] = action.target
    if action.action_type == "STORAGE_OPTIMIZATION":
        description["ProgressPercent"] = 100 if status == "COMPLETED" else 0
    return description


def _deletion_response(item: FileSystem) -> dict[str, Any]:
    response: dict[str, Any] = {"FileSystemId": item.file_system_id, "Lifecycle": "DELETING"}
    if item.final_backup:
        response["WindowsResponse"] = dict(item.final_backup)
    return response


def _is_throughput_action(action: AdministrativeAction) -> bool:
    return bool(action.target and "ThroughputCapacity" in action.target.get("WindowsConfiguration", {}))


def _is_storage_action(action: AdministrativeAction) -> bool:
    return action.action_type == "STORAGE_OPTIMIZATION" or bool(action.target and "StorageCapacity" in action.target)


def _netbios_like(file_system_id: str, purpose: str) -> str:
    """`amznfsx` + 8 lowercase letters/digits, stable for a file system (Multi-AZ endpoint names)."""
    digest = int.from_bytes(hashlib.sha256(f"{file_system_id}:{purpose}".encode()).digest()[:8], "big")
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    suffix = ""
    for _ in range(8):
        digest, index = divmod(digest, len(alphabet))
        suffix += alphabet[index]
    return f"amznfsx{suffix}"


def _default_kms_key(region: str) -> str:
    """The account's AWS managed key for FSx in this region (stable, like aws/fsx)."""
    return f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{uuid.uuid5(uuid.NAMESPACE_URL, f'aws/fsx/{region}')}"


def _default_iops(storage_type: str, capacity: int) -> dict[str, Any] | None:
    # SSD file systems get 3 IOPS per GiB in AUTOMATIC mode; HDD has no provisioned IOPS.
    return {"Mode": "AUTOMATIC", "Iops": 3 * capacity} if storage_type == "SSD" else None


def _default_security_group(region: str, vpc_id: str) -> list[str]:
    group = moto_state.ec2(region).get_security_group_by_name_or_id("default", vpc_id)
    return [group.id] if group is not None else []
