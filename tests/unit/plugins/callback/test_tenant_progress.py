"""The tenant_progress callback: progress lines of long waits shown while a task runs."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from ansible.plugins.loader import callback_loader

ROOT = Path(__file__).resolve().parents[4]


def _load_callback() -> ModuleType:
    # Through ansible's plugin loader, as ansible-playbook loads it: that is what registers the
    # plugin's documented options, which set_options() and get_option() rely on.
    plugin = callback_loader.get("iconeus.tenant_toolkit.tenant_progress", class_only=True)
    assert plugin is not None, "plugins/callback/tenant_progress.py did not load"
    return sys.modules[plugin.__module__]


tp = _load_callback()


class FakeDisplay:
    """Stands in for ansible's Display: records what the callback prints."""

    verbosity = 0

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.printed = threading.Event()

    def display(self, msg: str, **_kwargs: Any) -> None:
        self.lines.append(msg)
        self.printed.set()

    def v(self, msg: str, **_kwargs: Any) -> None:
        pass

    vv = vvv = v


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def host(name: str) -> SimpleNamespace:
    return SimpleNamespace(get_name=lambda: name)


def result_of(name: str) -> SimpleNamespace:
    return SimpleNamespace(_host=host(name))


def append(path: Path, **record: Any) -> None:
    record.setdefault("time", time.time())
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


@pytest.fixture
def callback(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv(tp.PROGRESS_ENV, raising=False)
    plugin = tp.CallbackModule(display=FakeDisplay())
    plugin._load_name = tp.CallbackModule._load_name  # the name the loader registered its options under
    plugin.set_options(direct={"interval": 0.2, "poll": 0.02})
    yield plugin
    plugin.stop_tail()
    if plugin.owns_file and plugin.progress_file:
        Path(plugin.progress_file).unlink(missing_ok=True)


# -- formatting --------------------------------------------------------------------------------
def test_durations_read_like_a_clock() -> None:
    assert tp.format_duration(45.4) == "45s"
    assert tp.format_duration(372) == "6m12s"
    assert tp.format_duration(3720) == "1h02m"


def test_expected_durations_are_rounded_to_minutes() -> None:
    assert tp.format_expected(1500) == "~25m"
    assert tp.format_expected(40) == "~40s"


def test_a_record_becomes_an_operator_line_with_the_elapsed_time_brought_up_to_now() -> None:
    record = {"time": 100.0, "kind": "directory", "name": "d-123", "state": "Creating", "elapsed_s": 362.0}
    line = tp.format_record("demo", {**record, "expected_s": 1500}, now=110.0)
    assert line == "  [demo] directory d-123: Creating, 6m12s elapsed of ~25m expected"


def test_a_record_without_an_expected_duration_shows_only_the_elapsed_time() -> None:
    record = {"kind": "fleet", "name": "demo-fleet", "state": "STARTING", "elapsed_s": 75}
    assert tp.format_record("demo", record) == "  [demo] fleet demo-fleet: STARTING, 1m15s elapsed"


# -- attribution -------------------------------------------------------------------------------
def test_the_only_running_host_owns_every_record() -> None:
    assert tp.attribute_host({"name": "nat-0abc"}, ["demo"]) == "demo"


def test_with_several_hosts_the_tenant_name_in_the_resource_name_decides() -> None:
    hosts = ["acme", "acme-neuro", "demo"]
    assert tp.attribute_host({"name": "acme-neuro-fsx"}, hosts) == "acme-neuro"
    assert tp.attribute_host({"name": "corp.demo.example"}, hosts) == "demo"
    assert tp.attribute_host({"name": "acme-fleet"}, hosts) == "acme"


def test_a_record_that_names_its_tenant_is_attributed_to_it() -> None:
    assert tp.attribute_host({"tenant": "demo", "name": "nat-0abc"}, ["acme", "demo"]) == "demo"


def test_an_unattributable_record_says_so() -> None:
    assert tp.attribute_host({"name": "nat-0abc"}, ["acme", "demo"]) == tp.UNKNOWN_HOST


# -- the tail: what is shown, and when ---------------------------------------------------------
def test_nothing_is_shown_before_the_interval_has_passed(tmp_path: Path) -> None:
    progress, clock = tmp_path / "progress.jsonl", FakeClock()
    tail = tp.ProgressTail(str(progress), interval=30, clock=clock)
    append(progress, kind="directory", name="d-1", state="Creating", elapsed_s=5)
    clock.now += 29
    assert tail.due_lines(["demo"]) == []


def test_after_the_interval_the_latest_state_of_each_resource_is_shown_once(tmp_path: Path) -> None:
    progress, clock = tmp_path / "progress.jsonl", FakeClock()
    tail = tp.ProgressTail(str(progress), interval=30, clock=clock)
    for elapsed in (5, 10, 15):
        append(progress, time=clock.now, kind="directory", name="d-1", state="Creating", elapsed_s=elapsed)
    append(progress, time=clock.now, kind="fleet", name="demo-fleet", state="STARTING", elapsed_s=3)
    clock.now += 30
    lines = tail.due_lines(["demo"])
    assert lines == [
        "  [demo] directory d-1: Creating, 45s elapsed",
        "  [demo] fleet demo-fleet: STARTING, 33s elapsed",
    ]
    clock.now += 60
    assert tail.due_lines(["demo"]) == [], "nothing new was written: nothing is repeated"


def test_lines_written_before_the_task_started_are_ignored(tmp_path: Path) -> None:
    progress, clock = tmp_path / "progress.jsonl", FakeClock()
    append(progress, kind="directory", name="old", state="Active", elapsed_s=1)
    tail = tp.ProgressTail(str(progress), interval=0, clock=clock)
    assert tail.due_lines(["demo"]) == []


def test_a_line_still_being_written_waits_for_its_end(tmp_path: Path) -> None:
    progress, clock = tmp_path / "progress.jsonl", FakeClock()
    tail = tp.ProgressTail(str(progress), interval=0, clock=clock)
    record = json.dumps({"time": clock.now, "kind": "image", "name": "img", "state": "PENDING", "elapsed_s": 1})
    progress.write_text(record[:10])
    assert tail.due_lines(["demo"]) == []
    with progress.open("a") as handle:
        handle.write(record[10:] + "\nnot json\n")
    assert tail.due_lines(["demo"]) == ["  [demo] image img: PENDING, 1s elapsed"]


def test_a_missing_progress_file_shows_nothing(tmp_path: Path) -> None:
    tail = tp.ProgressTail(str(tmp_path / "absent.jsonl"), interval=0, clock=FakeClock())
    assert tail.due_lines(["demo"]) == []


# -- the callback ------------------------------------------------------------------------------
def test_the_playbook_start_exports_a_fresh_progress_file_for_the_modules(callback: Any) -> None:
    callback.v2_playbook_on_start(object())
    assert os.environ[tp.PROGRESS_ENV] == callback.progress_file
    assert Path(callback.progress_file).exists()


def test_the_run_end_removes_the_file_it_created_and_the_variable(callback: Any) -> None:
    callback.v2_playbook_on_start(object())
    path = callback.progress_file
    callback.v2_playbook_on_stats(object())
    assert not Path(path).exists()
    assert tp.PROGRESS_ENV not in os.environ


def test_a_progress_file_given_by_the_operator_is_used_and_kept(callback: Any, tmp_path: Path) -> None:
    given = tmp_path / "watched.jsonl"
    callback.set_options(direct={"interval": 0.2, "poll": 0.02, "progress_file": str(given)})
    callback.v2_playbook_on_start(object())
    assert os.environ[tp.PROGRESS_ENV] == str(given)
    callback.v2_playbook_on_stats(object())
    assert tp.PROGRESS_ENV in os.environ, "the operator's variable is left as it was"


def test_while_a_task_runs_its_waits_are_printed_and_the_thread_stops_at_its_end(callback: Any) -> None:
    display = callback._display
    callback.v2_playbook_on_start(object())
    callback.v2_playbook_on_task_start(object(), False)
    callback.v2_runner_on_start(host("demo"), object())
    append(
        Path(callback.progress_file), kind="directory", name="d-123", state="Creating", elapsed_s=372, expected_s=1500
    )
    assert display.printed.wait(5), "no progress line within 5 s"
    assert display.lines[0].startswith("  [demo] directory d-123: Creating, 6m1")
    assert display.lines[0].endswith(" elapsed of ~25m expected")
    thread = callback.thread
    callback.v2_runner_on_ok(result_of("demo"))
    assert callback.thread is None and not thread.is_alive()


def test_nothing_is_printed_once_the_task_has_ended(callback: Any) -> None:
    display = callback._display
    callback.v2_playbook_on_start(object())
    callback.v2_playbook_on_task_start(object(), False)
    callback.v2_runner_on_start(host("demo"), object())
    callback.v2_runner_on_failed(result_of("demo"))
    append(Path(callback.progress_file), kind="fleet", name="demo-fleet", state="STARTING", elapsed_s=10)
    time.sleep(0.4)
    assert display.lines == []


def test_the_next_task_replaces_the_thread_of_the_previous_one(callback: Any) -> None:
    callback.v2_playbook_on_start(object())
    callback.v2_playbook_on_task_start(object(), False)
    first = callback.thread
    callback.v2_playbook_on_task_start(object(), False)
    assert not first.is_alive()
    assert callback.thread is not None and callback.thread.is_alive()
