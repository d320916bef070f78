"""Scaled time for modelled AWS durations.

Every duration the sandbox models (a fleet starting, a directory being created) is
expressed in real AWS seconds and multiplied by the time scale: 1 is real time,
0.001 turns a 30-minute creation into 1.8 seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class SimClock:
    def __init__(self, time_scale: float = 1.0) -> None:
        self.time_scale = float(time_scale)

    def now(self) -> float:
        return time.time()

    def after(self, modelled_seconds: float) -> float:
        """Wall-clock time at which a modelled duration starting now ends."""
        return self.now() + modelled_seconds * self.time_scale


@dataclass
class _Step:
    due: float
    state: str
    on_enter: Callable[[], None] | None = None


@dataclass
class Lifecycle:
    """A resource state that moves through scheduled steps as time passes.

    Steps are applied lazily, whenever the state is read, so no background thread
    is needed and a describe call always sees the state AWS would show at that time.
    """

    clock: SimClock
    initial: str
    _state: str = field(init=False)
    _steps: list[_Step] = field(default_factory=list, init=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False)

    def __post_init__(self) -> None:
        self._state = self.initial

    @property
    def state(self) -> str:
        return self.state_at(self.clock.now())

    def state_at(self, now: float) -> str:
        """The state at `now`, a clock reading the caller shares with other reads of the same request (a describe
        shows one instant). Steps due by then are applied; a step already applied by a later reading stays."""
        with self._lock:
            while self._steps and self._steps[0].due <= now:
                step = self._steps.pop(0)
                self._state = step.state
                if step.on_enter is not None:
                    step.on_enter()
            return self._state

    @property
    def pending(self) -> bool:
        _ = self.state
        return bool(self._steps)

    def set(self, state: str) -> None:
        """Jump to a state now, cancelling whatever was scheduled."""
        with self._lock:
            self._steps.clear()
            self._state = state

    def next_due(self) -> float | None:
        """Wall-clock time of the next scheduled step, None when nothing is scheduled."""
        with self._lock:
            return self._steps[0].due if self._steps else None

    def arrive(self, state: str, due: float, on_enter: Callable[[], None] | None = None) -> None:
        """Schedule `state` at wall-clock time `due`, after the steps already scheduled before it.

        For a state reached when outside work completes (a DC answering), not after a fixed duration."""
        with self._lock:
            self._steps.append(_Step(due, state, on_enter))
            self._steps.sort(key=lambda step: step.due)

    def go(
        self,
        now_state: str,
        *steps: tuple[float, str] | tuple[float, str, Callable[[], None]],
        start: float | None = None,
    ) -> None:
        """Enter `now_state` at once, then each (modelled seconds, state[, callback]) in turn, counted from `start`
        (a clock reading shared with other lifecycles started by the same request), by default from now."""
        with self._lock:
            self._steps.clear()
            self._state = now_state
            due = self.clock.now() if start is None else start
            for step in steps:
                seconds, state = step[0], step[1]
                callback = step[2] if len(step) > 2 else None  # type: ignore[misc]
                due += seconds * self.clock.time_scale
                self._steps.append(_Step(due, state, callback))
