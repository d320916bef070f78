"""CreateBackup, DescribeBackups, DeleteBackup (and the final backup a deletion takes)."""

from __future__ import annotations

import secrets
from typing import Any

from sandbox.backends.fsx.base import FSxBase
from sandbox.backends.fsx.constants import DURATIONS
from sandbox.backends.fsx.models import Backup, FileSystem, RegionState
from sandbox.backends.fsx.rules import bad_request, tag_list, tags_from_list
from sandbox.backends.fsx.shapes import fsx_cursor_page, matches_filters
from sandbox.clock import Lifecycle
from sandbox.errors import AwsError
from sandbox.jsonproto import ACCOUNT_ID, Context


class BackupsMixin(FSxBase):
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
        tags = tags_from_list(given) if given else (dict(item.tags) if item.copy_tags_to_backups else {})
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
        backups = [backup for backup in backups if matches_filters(backup, params.get("Filters", []))]
        page, following = fsx_cursor_page(backups, lambda item: (item.creation_time, item.backup_id), params)
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
            description["Tags"] = tag_list(backup.tags)
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
