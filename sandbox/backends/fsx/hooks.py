"""Sandbox-only hooks (POST /_sandbox/fsx/<action>): failures and limits AWS would impose, inventory."""

from __future__ import annotations

from typing import Any

from sandbox.backends.fsx.base import FSxBase


class HooksMixin(FSxBase):
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
