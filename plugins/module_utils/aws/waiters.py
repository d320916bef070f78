# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for AWS resources, failing fast with the service's own error text.

boto3 ships fleet waiters but none for image builders, directories or FSx, and its
waiters report a failure only as "Waiter encountered a terminal failure state". This
poller reads the resource each time, stops as soon as it reaches a failed state and
puts the service's reason (fleet errors, state change reason, failure details) into
the error, and records progress (elapsed time, state, expected duration) that an
operator can follow.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Iterable
from typing import Any

PROGRESS_ENV = "TENANT_PROGRESS_FILE"


class WaitFailed(Exception):
    """The resource reached a failed state; the message is the service's reason."""

    def __init__(self, message: str, resource: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.resource = resource


class WaitTimeout(Exception):
    def __init__(self, message: str, resource: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.resource = resource


def delays(first: float = 0.2, factor: float = 2.0, cap: float = 15.0) -> Iterable[float]:
    """Poll quickly at first (the sandbox and quick transitions), then settle at `cap` seconds."""
    delay = first
    while True:
        yield delay
        delay = min(delay * factor, cap)


# The waiters' schedule. A transition is seen at most LAG_FRACTION of the time already waited after it happens
# (or FLOOR seconds, whichever is longer), and never more than CAP seconds after. A doubling interval alone lets
# the last sleep be as long as everything waited before it: a resource ready just after a poll at 40.4 s was seen
# at 55.4 s. With this schedule a 75-second wait is seen within 3.75 s; past 300 s both poll every 15 s (at most),
# so on AWS the gain is on the waits of 20 s to 5 minutes. The cost is reads: a 60-second wait makes 32 to 39
# describe calls instead of 11, a 15-minute one 105 to 130 instead of 67, a 25-minute one 145 to 180 instead of
# 107 (tests/unit/plugins/module_utils/test_aws_waiters.py). Each interval is shortened by up to a fifth at
# random, so that tenants started by one task do not poll in step.
FIRST = 0.2
FLOOR = 2.0
LAG_FRACTION = 0.05
CAP = 15.0
JITTER = 0.2


def lagging_delays(
    elapsed: Callable[[], float], spread: Callable[[], float] = lambda: random.uniform(1 - JITTER, 1.0)
) -> Iterable[float]:
    """The waiters' poll intervals: 0.2, 0.4, 0.8, 1.6 s, then 5 % of the time waited, from 2 s up to 15 s.

    Each is multiplied by `spread()` (0.8 to 1: never longer, so the bounds above hold).
    """
    delay = FIRST
    while True:
        yield delay * spread()
        delay = min(CAP, max(min(delay * 2, FLOOR), elapsed() * LAG_FRACTION))


def report_progress(
    kind: str, name: str, state: str, elapsed: float, expected: float | None, tenant: str | None = None
) -> None:
    """Append a progress line for operators; a callback plugin or `tail -f` shows it.

    `tenant` lets the tenant_progress callback attribute the line to its tenant's host for sure
    when several tenants wait at once (their resources' names need not contain the tenant name).
    """
    path = os.environ.get(PROGRESS_ENV)
    if not path:
        return
    line = {"time": time.time(), "kind": kind, "name": name, "state": state, "elapsed_s": round(elapsed, 1)}
    if tenant:
        line["tenant"] = tenant
    if expected:
        line["expected_s"] = expected
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")
    except OSError:
        pass  # progress is a courtesy; never fail a deployment because it cannot be written


def wait_for(
    fetch: Callable[[], dict[str, Any] | None],
    state_of: Callable[[dict[str, Any] | None], str],
    targets: Iterable[str],
    failures: Iterable[str] = (),
    failure_reason: Callable[[dict[str, Any]], str] | None = None,
    timeout: float = 1800,
    kind: str = "resource",
    name: str = "",
    expected: float | None = None,
    tenant: str | None = None,
    poll: Iterable[float] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any] | None:
    """Poll `fetch` until `state_of` its result is in `targets`; `ABSENT` stands for a deleted resource."""
    targets, failures = set(targets), set(failures)
    began = clock()
    intervals = iter(poll or lagging_delays(lambda: clock() - began))
    while True:
        resource = fetch()
        state = state_of(resource)
        elapsed = clock() - began
        report_progress(kind, name, state, elapsed, expected, tenant)
        if state in targets:
            return resource
        if state in failures:
            reason = failure_reason(resource) if failure_reason and resource else ""
            raise WaitFailed(f"{kind} {name} reached {state}" + (f": {reason}" if reason else ""), resource)
        if elapsed >= timeout:
            raise WaitTimeout(
                f"{kind} {name} still {state} after {int(elapsed)} s (wait_timeout {int(timeout)} s)", resource
            )
        sleep(min(next(intervals), max(0.0, timeout - elapsed)))


ABSENT = "ABSENT"
