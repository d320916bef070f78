"""CreateFileSystem, DescribeFileSystems, UpdateFileSystem, DeleteFileSystem."""

from __future__ import annotations

import math
import secrets
from typing import Any

from sandbox.backends.common import create_service_interface
from sandbox.backends.fsx.base import FSxBase
from sandbox.backends.fsx.constants import (
    AUDIT_MIN_THROUGHPUT,
    DEFAULT_RETENTION_DAYS,
    DURATIONS,
    FINISHED,
    GONE,
    LONG_DOMAIN_DEPLOYMENTS,
    MAX_DOMAIN_NAME_LENGTH,
    OTHER_CONFIGURATIONS,
    STORAGE_MIN_INCREASE,
    STORAGE_UPDATE_MIN_THROUGHPUT,
)
from sandbox.backends.fsx.models import FileSystem
from sandbox.backends.fsx.network import check_fsx_network, default_security_group
from sandbox.backends.fsx.rules import (
    audit_configuration,
    audit_enabled,
    bad_request,
    check_alias,
    check_storage,
    check_throughput,
    default_iops,
    default_kms_key,
    netbios_like,
    tag_list,
    tags_from_list,
)
from sandbox.backends.fsx.shapes import deletion_response, fsx_cursor_page, is_storage_action, is_throughput_action
from sandbox.clock import Lifecycle
from sandbox.errors import AwsError
from sandbox.jsonproto import Context


class FileSystemsMixin(FSxBase):
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
        if any(key in params for key in OTHER_CONFIGURATIONS):
            raise bad_request("Only a WindowsConfiguration can be given for a WINDOWS file system.")
        item = self._new_file_system(ctx.region, params, windows)
        if len(self._live(state)) >= state.file_system_limit:
            raise AwsError("ServiceLimitExceeded", f"Limit FILE_SYSTEM_COUNT reached ({state.file_system_limit}).")
        self._attach_network(item, params.get("SecurityGroupIds") or [])
        state.file_systems[item.file_system_id] = item
        self._serve_share(item)
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
        check_storage(params["StorageCapacity"], storage_type, deployment)
        check_throughput(windows["ThroughputCapacity"], deployment)
        vpc_id, subnet_ids, preferred = check_fsx_network(region, params, deployment, windows.get("PreferredSubnetId"))
        directory_id, self_managed, domain = self._resolve_directory(region, windows, deployment)
        audit = audit_configuration(region, windows.get("AuditLogConfiguration"), windows["ThroughputCapacity"])
        aliases = [check_alias(name) for name in windows.get("Aliases", [])]
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
            dns_name=f"{file_system_id}.{domain}" if single_az else f"{netbios_like(file_system_id, 'dns')}.{domain}",
            remote_admin_endpoint=(
                f"{file_system_id}.{domain}" if single_az else f"{netbios_like(file_system_id, 'admin')}.{domain}"
            ),
            kms_key_id=params.get("KmsKeyId") or default_kms_key(region),
            weekly_maintenance=windows.get("WeeklyMaintenanceStartTime", "7:03:00"),
            daily_backup=windows.get("DailyAutomaticBackupStartTime", "01:00"),
            retention_days=windows.get("AutomaticBackupRetentionDays", DEFAULT_RETENTION_DAYS),
            copy_tags_to_backups=windows.get("CopyTagsToBackups", False),
            audit=audit,
            disk_iops=windows.get("DiskIopsConfiguration") or default_iops(storage_type, params["StorageCapacity"]),
            fsrm=windows.get("FsrmConfiguration"),
            tags=tags_from_list(params.get("Tags", [])),
        )
        item.aliases = [self._alias(name, creation) for name in dict.fromkeys(aliases)]
        lifecycle.go("CREATING", (creation, "AVAILABLE"))
        return item

    def _serve_share(self, item: FileSystem) -> None:
        """With a Samba-backed directory, the share `share` of the file system becomes real (served by its DC).

        In the background (smbd reload, DNS registration: seconds), so no API call waits: the file
        system stays CREATING until both its modelled creation time has passed and the share is served."""
        directories = self._directories
        provider = getattr(directories, "dc_provider", None) if directories else None
        if directories is None or provider is None or not hasattr(provider, "provision_file_share"):
            return
        if not item.directory_id:
            return
        directory = directories.region_state(item.region).directories.get(item.directory_id)
        if directory is None or not directory.provided_addresses:
            return
        due = item.lifecycle.next_due()
        item.lifecycle.go("CREATING")  # AVAILABLE comes when the share is served

        def serve() -> None:
            try:
                address: str | None = provider.provision_file_share(directory, item.dns_name)
                failure = None
            except Exception as err:  # noqa: BLE001 - a Samba failure is reported as the file system's own
                address, failure = None, f"The file share could not be served: {err}"
            with self._lock:
                if item.lifecycle.state != "CREATING":
                    return
                if failure is not None:
                    item.lifecycle.set("FAILED")
                    item.failure_message = failure
                    return
                item.addresses[item.preferred_subnet_id] = str(address)
                item.lifecycle.arrive("AVAILABLE", max(due or 0.0, self.clock.now()))

        directories.background.submit(f"serve the share of {item.file_system_id}", serve)

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
        groups = group_ids or default_security_group(item.region, item.vpc_id)
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

    def describe_file_systems(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        state = self.state(ctx)
        live = self._live(state)
        wanted = params.get("FileSystemIds")
        items = [self._get(state, item) for item in wanted] if wanted else list(live.values())
        page, following = fsx_cursor_page(items, lambda item: (item.creation_time, item.file_system_id), params)
        result: dict[str, Any] = {"FileSystems": [self._describe(item) for item in page]}
        if following:
            result["NextToken"] = following
        return result

    def update_file_system(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        item = self._get(self.state(ctx), params["FileSystemId"])
        if any(key in params for key in OTHER_CONFIGURATIONS) or "FileSystemTypeVersion" in params:
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
            audit = audit_configuration(item.region, windows["AuditLogConfiguration"], throughput or item.throughput)
        self._check_self_managed_update(item, windows)
        self._apply_settings(item, windows, audit)
        if throughput is not None:
            self._start_throughput_update(item, throughput)
        if storage is not None:
            self._start_storage_update(item, storage)
        return {"FileSystem": self._describe(item)}

    def _check_throughput_update(self, item: FileSystem, throughput: int) -> None:
        check_throughput(throughput, item.deployment_type)
        if any(is_throughput_action(action) and action.status.state not in FINISHED for action in item.actions):
            raise bad_request("A throughput capacity update is already in progress for this file system.")
        if throughput == item.throughput:
            raise bad_request(f"The file system already has a throughput capacity of {throughput} MB/s.")
        if throughput < AUDIT_MIN_THROUGHPUT and audit_enabled(item.audit):
            raise bad_request(f"Audit logging needs a throughput capacity of at least {AUDIT_MIN_THROUGHPUT} MB/s.")

    def _check_storage_update(self, item: FileSystem, storage: int) -> None:
        if any(is_storage_action(action) and action.status.state not in FINISHED for action in item.actions):
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
        check_storage(storage, item.storage_type, item.deployment_type)

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
                item.disk_iops = default_iops(item.storage_type, storage)

        # One clock reading and the same steps' durations for both actions (the same sums, to the last bit): the
        # optimisation starts as the update reaches UPDATED_OPTIMIZING, and both complete at the same instant.
        start = self.clock.now()
        self._action(
            item,
            "FILE_SYSTEM_UPDATE",
            {"StorageCapacity": storage},
            (DURATIONS["action_pending"], "IN_PROGRESS"),
            (DURATIONS["storage_update"], "UPDATED_OPTIMIZING", apply),
            (DURATIONS["storage_optimization"], "COMPLETED"),
            start=start,
        )
        self._action(
            item,
            "STORAGE_OPTIMIZATION",
            None,
            (DURATIONS["action_pending"], "PENDING"),
            (DURATIONS["storage_update"], "IN_PROGRESS"),
            (DURATIONS["storage_optimization"], "COMPLETED"),
            start=start,
        )

    def delete_file_system(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        state = self.state(ctx)
        item = self._get(state, params["FileSystemId"])
        if any(key in params for key in ("LustreConfiguration", "OpenZFSConfiguration")):
            raise bad_request("Only a WindowsConfiguration can be given when deleting a WINDOWS file system.")
        lifecycle = item.lifecycle.state
        if lifecycle == "DELETING":
            return deletion_response(item)
        if lifecycle == "CREATING":
            raise bad_request(f"File system {item.file_system_id} is still CREATING and cannot be deleted yet.")
        windows = params.get("WindowsConfiguration", {})
        skip = windows.get("SkipFinalBackup", False)
        final_tags = windows.get("FinalBackupTags")
        if skip and final_tags:
            raise bad_request("FinalBackupTags cannot be given when SkipFinalBackup is true.")
        seconds = DURATIONS["delete"]
        if not skip:
            tags = tags_from_list(final_tags) if final_tags else (dict(item.tags) if item.copy_tags_to_backups else {})
            backup = self._new_backup(state, item, tags)
            item.final_backup = {"FinalBackupId": backup.backup_id}
            if tags:
                item.final_backup["FinalBackupTags"] = tag_list(tags)
            seconds += DURATIONS["backup"]
        item.lifecycle.go("DELETING", (seconds, GONE))
        return deletion_response(item)
