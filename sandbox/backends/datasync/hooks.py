"""Sandbox-only hooks (POST /_sandbox/datasync/<action>): an inventory, and a destination that goes bad."""

from __future__ import annotations

from typing import Any

from sandbox.backends.datasync.base import DataSyncBase


class HooksMixin(DataSyncBase):
    def admin_inventory(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            state = self.region_state(region)
            return {
                "locations": [
                    {"arn": loc.arn, "type": loc.kind, "uri": loc.uri, "tags": dict(loc.tags)}
                    for loc in state.locations.values()
                ],
                "tasks": [
                    {"arn": task.arn, "name": task.name, "tags": dict(task.tags), "executions": len(task.executions)}
                    for task in state.tasks.values()
                ],
                "executions": [
                    {
                        "arn": item.arn,
                        "status": item.status.state,
                        "history": list(item.history),
                        "files_transferred": item.counters.files_transferred,
                        "files_verified": item.counters.files_verified,
                        "error_code": item.error_code,
                    }
                    for item in state.executions.values()
                ],
            }

    def admin_corrupt_next_transfer(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The next execution of the task finds one file changed on the share after the copy (verification
        must then fail), as a faulty destination would."""
        with self._lock:
            task = self._task(self.region_state(region), payload["task_arn"])
            task.corrupt_next = True  # type: ignore[attr-defined]
            return {"task_arn": task.arn, "corrupt_next": True}
