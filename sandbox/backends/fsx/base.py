"""Shared plumbing of the FSx backend: region state, look-ups, idempotency, describe shapes."""

from __future__ import annotations

from typing import Any

from sandbox.backends.common import delete_interfaces
from sandbox.backends.ds import DirectoryService
from sandbox.backends.fsx.constants import GONE, MAX_PAGE
from sandbox.backends.fsx.models import AdministrativeAction, Alias, FileSystem, RegionState
from sandbox.backends.fsx.rules import bad_request, fingerprint, tag_list
from sandbox.backends.fsx.shapes import describe_action, shown
from sandbox.clock import Lifecycle, SimClock
from sandbox.errors import AwsError
from sandbox.jsonproto import ACCOUNT_ID, Context, JsonService


class FSxBase(JsonService):
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

    def lifecycle_of(self, region: str, file_system_id: str) -> str | None:
        """The file system's lifecycle, None when it does not exist (for other backends: DataSync)."""
        with self._lock:
            found = self._live(self.region_state(region)).get(file_system_id)
            return shown(found.lifecycle) if found is not None else None

    def served_share(self, region: str, file_system_id: str) -> str | None:
        """The address a real SMB share of the file system answers on (its Samba DC), None without one.

        Only a file system joined to a Samba-backed directory has a share that files can be written to;
        otherwise the file system is bookkeeping and DataSync's copy is modelled without data."""
        with self._lock:
            item = self._live(self.region_state(region)).get(file_system_id)
            if item is None or item.lifecycle.state != "AVAILABLE" or not item.directory_id:
                return None
            directories = self._directories
            provider = getattr(directories, "dc_provider", None) if directories else None
            if provider is None or not hasattr(provider, "provision_file_share"):
                return None
            directory = directories.region_state(region).directories.get(item.directory_id)
            if directory is None or not directory.provided_addresses:
                return None
            return item.addresses.get(item.preferred_subnet_id)

    def new_region_state(self, region: str) -> RegionState:
        return RegionState()

    def region_state(self, region: str) -> RegionState:
        return self.state(Context(region=region, account_id=ACCOUNT_ID, request_id="internal", operation="internal"))

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
        if earlier[0] != fingerprint(params):
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
            state.tokens[(operation, token)] = (fingerprint(params), resource_id)

    def _describe(self, item: FileSystem) -> dict[str, Any]:
        # One clock reading for the whole description: a step falling due between two reads of one describe showed
        # a storage update UPDATED_OPTIMIZING beside its optimisation COMPLETED. The actions are read first:
        # reading an action's status applies its change when it completes (the new throughput, the new storage),
        # so the values below are those of the statuses shown.
        now = self.clock.now()
        actions = [describe_action(action, now) for action in item.actions[-MAX_PAGE:]]
        lifecycle = shown(item.lifecycle, now)
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
            "WindowsConfiguration": self._describe_windows(item, lifecycle, now),
            "NetworkType": "IPV4",
        }
        if item.tags:
            description["Tags"] = tag_list(item.tags)
        if lifecycle == "FAILED" and item.failure_message:
            description["FailureDetails"] = {"Message": item.failure_message}
        if actions:
            description["AdministrativeActions"] = actions
        return description

    def _describe_windows(self, item: FileSystem, lifecycle: str, now: float | None = None) -> dict[str, Any]:
        windows: dict[str, Any] = {
            "DeploymentType": item.deployment_type,
            "RemoteAdministrationEndpoint": item.remote_admin_endpoint,
            "PreferredSubnetId": item.preferred_subnet_id,
            "PreferredFileServerIp": item.addresses.get(item.preferred_subnet_id, ""),
            "ThroughputCapacity": item.throughput,
            "MaintenanceOperationsInProgress": self._maintenance(item, lifecycle, now),
            "WeeklyMaintenanceStartTime": item.weekly_maintenance,
            "DailyAutomaticBackupStartTime": item.daily_backup,
            "AutomaticBackupRetentionDays": item.retention_days,
            "CopyTagsToBackups": item.copy_tags_to_backups,
            "Aliases": [{"Name": alias.name, "Lifecycle": shown(alias.lifecycle, now)} for alias in item.aliases],
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

    def _maintenance(self, item: FileSystem, lifecycle: str | None = None, now: float | None = None) -> list[str]:
        """BACKING_UP while a backup of the available file system is made; `lifecycle` is the state a describe
        already read and `now` its clock reading (the same request shows one instant), else both are read now."""
        state = self._regions.get(item.region)
        backups = state.backups.values() if state else []
        now = self.clock.now() if now is None else now
        busy = any(b.file_system_id == item.file_system_id and b.lifecycle.state_at(now) == "CREATING" for b in backups)
        available = (lifecycle if lifecycle is not None else item.lifecycle.state_at(now)) == "AVAILABLE"
        return ["BACKING_UP"] if busy and available else []

    def _action(
        self,
        item: FileSystem,
        action_type: str,
        target: dict[str, Any] | None,
        *steps: tuple[Any, ...],
        start: float | None = None,
    ) -> AdministrativeAction:
        """A new administrative action of `item`, its steps counted from `start` (one clock reading for the
        actions of one request), by default from now."""
        start = self.clock.now() if start is None else start
        status = Lifecycle(self.clock, "PENDING")
        status.go("PENDING", *steps, start=start)
        action = AdministrativeAction(action_type, start, status, target)
        item.actions.append(action)
        return action

    def _alias(self, name: str, seconds: float) -> Alias:
        lifecycle = Lifecycle(self.clock, "CREATING")
        lifecycle.go("CREATING", (seconds, "AVAILABLE"))
        return Alias(name, lifecycle)
