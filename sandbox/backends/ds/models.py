"""Directories and domain controllers as the backend keeps them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.backends.ds.constants import DEFAULT_DIRECTORY_LIMIT
from sandbox.clock import Lifecycle


@dataclass
class StampedLifecycle(Lifecycle):
    """A Lifecycle that also knows when its current state was entered (StageLastUpdatedDateTime)."""

    entered_at: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.entered_at = self.clock.now()

    def set(self, state: str) -> None:
        with self._lock:
            super().set(state)
            self.entered_at = self.clock.now()

    def go(self, now_state: str, *steps: tuple[Any, ...], start: float | None = None) -> None:
        with self._lock:
            # One clock reading for the stamps and the steps' due times (Lifecycle.go counts from `start` too).
            start = self.clock.now() if start is None else start
            due = start
            stamped = []
            for step in steps:
                due += step[0] * self.clock.time_scale
                stamped.append((step[0], step[1], self._stamper(due, step[2] if len(step) > 2 else None)))
            super().go(now_state, *stamped, start=start)
            self.entered_at = start

    def arrive(self, state: str, due: float, on_enter: Callable[[], None] | None = None) -> None:
        super().arrive(state, due, self._stamper(due, on_enter))

    def _stamper(self, due: float, callback: Callable[[], None] | None) -> Callable[[], None]:
        def enter() -> None:
            self.entered_at = due
            if callback is not None:
                callback()

        return enter


@dataclass
class DomainController:
    controller_id: str
    subnet_id: str
    availability_zone: str
    address: str
    eni_id: str
    status: StampedLifecycle
    launch_time: float


@dataclass(frozen=True)
class DirectoryInfo:
    """What other backends may know about a directory (a snapshot, not a live object)."""

    directory_id: str
    name: str
    short_name: str
    stage: str
    vpc_id: str
    dns_ip_addrs: tuple[str, ...]


@dataclass
class Directory:
    region: str
    directory_id: str
    name: str
    short_name: str
    description: str | None
    edition: str
    network_type: str | None
    vpc_id: str
    subnet_ids: list[str]
    zones: list[str]
    security_group_id: str
    launch_time: float
    stage: StampedLifecycle
    stage_reason: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    desired_controllers: int = 2
    controllers: list[DomainController] = field(default_factory=list)
    password_hashes: dict[str, bytes] = field(default_factory=dict, repr=False)
    provided_addresses: list[str] | None = None
    # With a DC provider: when the modelled creation ends (Active waits for the DC as well), and
    # whether a DC was asked for (its destruction is then queued when the directory goes).
    active_due: float = 0.0
    dc_requested: bool = False

    @property
    def dns_ip_addrs(self) -> list[str]:
        if self.provided_addresses:
            return list(self.provided_addresses)
        if self.stage.state == "Requested":
            return []
        return [controller.address for controller in self.controllers[:2]]


@dataclass
class RegionState:
    directories: dict[str, Directory] = field(default_factory=dict)
    directory_limit: int = DEFAULT_DIRECTORY_LIMIT
    # (directory id, SNS topic name) -> registration time (RegisterEventTopic)
    event_topics: dict[tuple[str, str], float] = field(default_factory=dict)
