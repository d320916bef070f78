"""Shared plumbing of the DataSync backend: region state, look-ups, the other backends it reads."""

from __future__ import annotations

import secrets
from typing import Any

from sandbox.backends.datasync.models import Execution, Location, RegionState, Task
from sandbox.backends.datasync.rules import execution_id, invalid, resource_id
from sandbox.clock import SimClock
from sandbox.jsonproto import ACCOUNT_ID, Context, JsonService


def new_id(prefix: str, alphabet: str = "0123456789abcdef") -> str:
    return prefix + "".join(secrets.choice(alphabet) for _ in range(17))


class DataSyncBase(JsonService):
    service_name = "datasync"

    def __init__(self, clock: SimClock) -> None:
        super().__init__(clock)
        self._file_systems: Any = None  # the FSx backend, for FSx for Windows locations

    def attach_file_systems(self, file_systems: Any) -> None:
        """Resolve FSx for Windows locations (and their Samba-served share) through the FSx backend."""
        self._file_systems = file_systems

    def new_region_state(self, region: str) -> RegionState:
        return RegionState()

    def region_state(self, region: str) -> RegionState:
        return self.state(Context(region=region, account_id=ACCOUNT_ID, request_id="internal", operation="internal"))

    def reset(self) -> None:
        with self._lock:
            for _, state in self.all_states():
                for execution in state.executions.values():
                    execution.cancelled = True  # type: ignore[attr-defined]
        super().reset()

    # -- look-ups -------------------------------------------------------------------------------------
    @staticmethod
    def _location(state: RegionState, arn: str) -> Location:
        found = state.locations.get(resource_id(arn, "location"))
        if found is None:
            raise invalid(f"Location {arn} is not found.", "NotFound")
        return found

    @staticmethod
    def _task(state: RegionState, arn: str) -> Task:
        found = state.tasks.get(resource_id(arn, "task"))
        if found is None:
            raise invalid(f"Task {arn} is not found.", "NotFound")
        return found

    @staticmethod
    def _execution(state: RegionState, arn: str) -> Execution:
        found = state.executions.get(execution_id(arn))
        if found is None or found.arn != arn:
            raise invalid(f"Task execution {arn} is not found.", "NotFound")
        return found

    def _tagged(self, state: RegionState, arn: str) -> Location | Task:
        if ":location/" in arn:
            return self._location(state, arn)
        if ":task/" in arn and "/execution/" not in arn:
            return self._task(state, arn)
        raise invalid(f"Resource {arn} cannot be tagged by the sandbox.")
