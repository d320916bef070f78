"""The shared poller: targets, fail-fast with the service's reason, timeouts, progress lines."""

from __future__ import annotations

import json

import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.waiters import (
    ABSENT,
    WaitFailed,
    WaitTimeout,
    delays,
    lagging_delays,
    wait_for,
)


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def clock(self) -> float:
        return self.now


def sequence(*states):
    items = iter(states)
    return lambda: {"State": next(items)}


def test_returns_the_resource_once_it_reaches_a_target():
    fake = FakeTime()
    got = wait_for(
        sequence("STARTING", "STARTING", "RUNNING"),
        lambda r: r["State"],
        ["RUNNING"],
        sleep=fake.sleep,
        clock=fake.clock,
    )
    assert got == {"State": "RUNNING"}


def test_fails_fast_with_the_service_reason():
    fake = FakeTime()
    with pytest.raises(WaitFailed, match="reached FAILED: IMAGE_UNAVAILABLE: no such image") as caught:
        wait_for(
            sequence("PENDING", "FAILED", "RUNNING"),
            lambda r: r["State"],
            ["RUNNING"],
            ["FAILED"],
            failure_reason=lambda r: "IMAGE_UNAVAILABLE: no such image",
            kind="image builder",
            name="b1",
            sleep=fake.sleep,
            clock=fake.clock,
        )
    assert caught.value.resource == {"State": "FAILED"}
    assert fake.now < 1


def test_times_out_naming_the_state_it_was_stuck_in():
    fake = FakeTime()
    with pytest.raises(WaitTimeout, match="still CREATING after 60 s"):
        wait_for(
            lambda: {"State": "CREATING"},
            lambda r: r["State"],
            ["AVAILABLE"],
            timeout=60,
            kind="file system",
            sleep=fake.sleep,
            clock=fake.clock,
        )
    assert 60 <= fake.now <= 61


def test_absent_is_a_state_for_deletions():
    fake = FakeTime()
    answers = iter([{"State": "DELETING"}, None])
    assert (
        wait_for(
            lambda: next(answers), lambda r: r["State"] if r else ABSENT, [ABSENT], sleep=fake.sleep, clock=fake.clock
        )
        is None
    )


def test_poll_intervals_grow_to_a_cap():
    intervals = delays(first=0.2, factor=2, cap=15)
    assert [next(intervals) for _unused in range(9)] == [0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 15, 15]


def polls_until(ready_at: float) -> list[float]:
    """When a waiter polled a resource that becomes ready at `ready_at` seconds (the schedule's own jitter)."""
    fake = FakeTime()
    polls: list[float] = []

    def fetch() -> dict[str, str]:
        polls.append(fake.now)
        return {"State": "Active" if fake.now >= ready_at else "Creating"}

    wait_for(fetch, lambda r: r["State"], ["Active"], timeout=3600, sleep=fake.sleep, clock=fake.clock)
    return polls


@pytest.mark.parametrize("ready_at", [0.1, 0.9, 3.0, 10.0, 41.0, 75.0, 310.0, 1500.0])
def test_a_transition_is_seen_within_five_percent_of_the_wait(ready_at):
    # The doubling schedule saw a directory ready at 41 s only at 55.4 s (0.2 s doubling to 15 s: polls at
    # 25.4, 40.4 and 55.4 s): the overshoot that made the bring-up 1.15 of its critical path.
    for _attempt in range(20):  # the intervals are jittered: the bound holds for each draw
        seen = polls_until(ready_at)[-1]
        assert ready_at <= seen <= ready_at + min(15.0, max(2.0, 0.05 * ready_at))


@pytest.mark.parametrize(("ready_at", "most"), [(60.0, 39), (900.0, 130), (1500.0, 180)])
def test_the_reads_a_wait_costs_are_bounded(ready_at, most):
    # The figures waiters.py and the operator guide give: 32-39 reads for a minute, 145-180 for 25 minutes.
    for _attempt in range(20):
        assert len(polls_until(ready_at)) <= most


def test_the_lagging_schedule_settles_at_fifteen_seconds():
    waited = [0.0]
    intervals = lagging_delays(lambda: waited[0], spread=lambda: 1.0)
    got = []
    for _unused in range(400):
        got.append(next(intervals))
        waited[0] += got[-1]
    assert max(got) == 15.0 and got[-1] == 15.0
    assert got == sorted(got)  # never polls faster as the wait goes on
    assert got[:6] == pytest.approx([0.2, 0.4, 0.8, 1.6, 2.0, 2.0])  # quick transitions: as quick as before


def test_the_jitter_only_shortens_an_interval():
    waited = [0.0]
    plain = lagging_delays(lambda: waited[0], spread=lambda: 1.0)
    shortest = lagging_delays(lambda: waited[0], spread=lambda: 0.8)
    for _unused in range(200):
        full, short = next(plain), next(shortest)
        assert short == pytest.approx(full * 0.8)
        waited[0] += full
    drawn = lagging_delays(lambda: 100.0)
    assert next(drawn) <= 0.2
    draws = [next(drawn) for _unused in range(50)]
    assert all(4.0 <= draw <= 5.0 for draw in draws)  # 5 % of 100 s, shortened by up to a fifth
    assert len(set(draws)) > 1  # drawn, not fixed


def test_progress_is_written_for_operators(tmp_path, monkeypatch):
    progress = tmp_path / "progress.jsonl"
    monkeypatch.setenv("TENANT_PROGRESS_FILE", str(progress))
    fake = FakeTime()
    wait_for(
        sequence("Creating", "Active"),
        lambda r: r["State"],
        ["Active"],
        kind="directory",
        name="d-1",
        expected=1800,
        tenant="acme",
        sleep=fake.sleep,
        clock=fake.clock,
    )
    lines = [json.loads(line) for line in progress.read_text().splitlines()]
    assert [line["state"] for line in lines] == ["Creating", "Active"]
    assert lines[0]["kind"] == "directory" and lines[0]["expected_s"] == 1800
    # The tenant travels with the line: the callback attributes it to that tenant's host for sure.
    assert {line["tenant"] for line in lines} == {"acme"}
