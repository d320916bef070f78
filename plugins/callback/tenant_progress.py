# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: tenant_progress
type: aggregate
short_description: Show the progress of long AWS waits while a task runs
version_added: 0.1.0
description:
  - The toolkit's modules append one JSON line per poll to the file named by the environment variable
    C(TENANT_PROGRESS_FILE) while they wait for a long AWS operation (a directory is created in 20-40
    minutes, a file system in about 30, a fleet starts in 10-20).
  - At the start of the playbook this callback points C(TENANT_PROGRESS_FILE) at a temporary file (or
    keeps the one already set in the environment, for a C(tail -f) elsewhere), so that every module
    run by the playbook inherits it.
  - "While a task runs, a background thread reads the new lines and prints the latest state of each
    resource at most every O(interval) seconds, for example
    C([demo] directory corp.demo.example: Creating, 6m12s elapsed of ~25m expected). Tasks that end
    sooner print nothing. The thread stops when the task ends."
  - A line is attributed to the tenant host running the task; when several hosts run it, to the host
    named like the tenant the waiting module reports (the toolkit's modules write it with each line), else
    to the host whose name appears in the resource name (resource names start with the tenant name),
    otherwise to C(?).
author: Tenant toolkit maintainers (@tenant-toolkit)
requirements:
  - enabled in C(callbacks_enabled) (ansible.cfg of the project)
options:
  interval:
    description: Minimum number of seconds between two progress reports of a task.
    type: float
    default: 30
    env:
      - name: TENANT_PROGRESS_INTERVAL
    ini:
      - section: callback_tenant_progress
        key: interval
  poll:
    description: How often, in seconds, the thread reads the progress file.
    type: float
    default: 1
    env:
      - name: TENANT_PROGRESS_POLL
    ini:
      - section: callback_tenant_progress
        key: poll
  progress_file:
    description:
      - The progress file. When unset, a temporary file is created for the run and removed at its end.
      - An existing file is kept and only the lines written during the run are shown.
    type: path
    env:
      - name: TENANT_PROGRESS_FILE
"""

import atexit
import contextlib
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible.plugins.callback import CallbackBase

PROGRESS_ENV = "TENANT_PROGRESS_FILE"  # the variable plugins/module_utils/aws/waiters.py reads
UNKNOWN_HOST = "?"


def format_duration(seconds: float) -> str:
    """`45s`, `6m12s`, `1h02m`: short enough for a progress line."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_expected(seconds: float) -> str:
    """`~25m` for an expected duration (whole minutes past one minute), `~40s` below."""
    if seconds < 60:
        return f"~{round(seconds)}s"
    minutes = round(seconds / 60)
    if minutes < 120:
        return f"~{minutes}m"
    return f"~{format_duration(minutes * 60)}"


def attribute_host(record: Mapping[str, Any], running_hosts: Iterable[str]) -> str:
    """The host a progress record belongs to, among the hosts running the task."""
    hosts = sorted(set(running_hosts))
    for key in ("host", "tenant"):
        named = record.get(key)
        if named in hosts:
            return str(named)
    if len(hosts) == 1:
        return hosts[0]
    name = str(record.get("name", "")).lower()
    # Tenant resources are named `<tenant>-fleet`, `<tenant>-fsx`, `corp.<tenant>.example`...: the
    # longest host name found as a whole word wins (`acme-neuro` over `acme`).
    matches = [
        host for host in hosts if re.search(rf"(?<![a-z0-9]){re.escape(host.lower())}(?![a-z0-9])", name) is not None
    ]
    return max(matches, key=len) if matches else UNKNOWN_HOST


def format_record(host: str, record: Mapping[str, Any], now: float | None = None) -> str:
    """One operator line, the elapsed time brought up to `now` (records are written at each poll)."""
    elapsed = float(record.get("elapsed_s") or 0)
    if now is not None and isinstance(record.get("time"), int | float):
        elapsed += max(0.0, now - record["time"])
    line = f"  [{host}] {record.get('kind', 'resource')} {record.get('name', '')}: {record.get('state', '?')}, "
    line += f"{format_duration(elapsed)} elapsed"
    expected = record.get("expected_s")
    if expected:
        line += f" of {format_expected(float(expected))} expected"
    return line


class ProgressTail:
    """Reads the lines appended to the progress file and says which ones to show, and when.

    Pure bookkeeping with an injected clock, so the timing rules are testable without threads.
    """

    def __init__(self, path: str, interval: float, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.interval = interval
        self.clock = clock
        self.offset = self._size()
        self.partial = ""
        self.started = clock()
        self.last_report = self.started
        self.latest: dict[tuple[str, str], dict[str, Any]] = {}
        self.reported: dict[tuple[str, str], dict[str, Any]] = {}

    def _size(self) -> int:
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

    def read_new(self) -> list[dict[str, Any]]:
        """Records appended since the last read; a line still being written waits for its newline."""
        try:
            with open(self.path, encoding="utf-8", errors="replace") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
                self.offset = handle.tell()
        except OSError:
            return []
        text = self.partial + chunk
        *lines, self.partial = text.split("\n")
        records = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # not ours, or damaged: progress is a courtesy, never an error
            if isinstance(record, dict):
                records.append(record)
        return records

    def due_lines(self, running_hosts: Iterable[str]) -> list[str]:
        """Lines to print now: nothing before `interval` has passed since the last report."""
        for record in self.read_new():
            self.latest[(str(record.get("kind")), str(record.get("name")))] = record
        now = self.clock()
        if now - self.last_report < self.interval:
            return []
        hosts = list(running_hosts)
        lines = []
        for key, record in self.latest.items():
            if self.reported.get(key) is record:
                continue  # nothing new about this resource since its last line
            self.reported[key] = record
            lines.append(format_record(attribute_host(record, hosts), record, now))
        if lines:
            self.last_report = now
        return lines


class CallbackModule(CallbackBase):
    """Prints the progress of long waits of the running task."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "tenant_progress"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.progress_file: str | None = None
        self.owns_file = False
        self.running_hosts: set[str] = set()
        self.hosts_lock = threading.Lock()
        self.tail: ProgressTail | None = None
        self.thread: threading.Thread | None = None
        self.stop_event = threading.Event()

    # -- run lifecycle ---------------------------------------------------------------------------
    def v2_playbook_on_start(self, playbook: Any) -> None:
        if self.progress_file:
            return  # already set up: each playbook's stats removes the file, its start makes a new one
        configured = self.get_option("progress_file")
        if configured:
            self.progress_file = configured
        else:
            handle, self.progress_file = tempfile.mkstemp(prefix="tenant-progress-", suffix=".jsonl")
            os.close(handle)
            self.owns_file = True
            # An interrupted run (Ctrl-C) sends no stats: remove the file on the way out anyway.
            atexit.register(self._remove_owned_file)
        # Workers fork from this process and modules inherit their environment.
        os.environ[PROGRESS_ENV] = self.progress_file
        self._display.vv(f"tenant_progress: long waits report to {self.progress_file}")

    def v2_playbook_on_stats(self, stats: Any) -> None:
        self.stop_tail()
        self.tail = None
        self._remove_owned_file()

    def _remove_owned_file(self) -> None:
        if self.owns_file and self.progress_file:
            with contextlib.suppress(OSError):
                os.unlink(self.progress_file)
            if os.environ.get(PROGRESS_ENV) == self.progress_file:
                del os.environ[PROGRESS_ENV]
            self.progress_file = None
            self.owns_file = False

    # -- task lifecycle --------------------------------------------------------------------------
    def v2_playbook_on_play_start(self, play: Any) -> None:
        self.stop_tail()
        self.tail = None

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self.start_tail()

    def v2_playbook_on_handler_task_start(self, task: Any) -> None:
        self.start_tail()

    def v2_runner_on_start(self, host: Any, task: Any) -> None:
        with self.hosts_lock:
            self.running_hosts.add(host.get_name())
        if self.thread is None and self.tail is not None:
            # More hosts than forks: a later batch starts after the first one has finished.
            self.follow(self.tail)

    def _host_done(self, result: Any) -> None:
        with self.hosts_lock:
            self.running_hosts.discard(result._host.get_name())
            finished = not self.running_hosts
        if finished:
            self.stop_tail()

    def v2_runner_on_ok(self, result: Any) -> None:
        self._host_done(result)

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._host_done(result)

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._host_done(result)

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._host_done(result)

    # -- the tail thread -------------------------------------------------------------------------
    def hosts_snapshot(self) -> list[str]:
        with self.hosts_lock:
            return list(self.running_hosts)

    def start_tail(self) -> None:
        """A task starts: follow what is appended from now on."""
        self.stop_tail()
        with self.hosts_lock:
            self.running_hosts = set()
        self.tail = None
        if self.progress_file:
            self.tail = ProgressTail(self.progress_file, float(self.get_option("interval")))
            self.follow(self.tail)

    def follow(self, tail: ProgressTail) -> None:
        self.stop_event = threading.Event()
        self.thread = threading.Thread(
            target=self._follow, args=(tail, self.stop_event, float(self.get_option("poll"))), daemon=True
        )
        self.thread.start()

    def stop_tail(self) -> None:
        thread, self.thread = self.thread, None
        if thread is not None:
            self.stop_event.set()
            thread.join(timeout=5)

    def _follow(self, tail: ProgressTail, stop: threading.Event, poll: float) -> None:
        while not stop.wait(poll):
            for line in tail.due_lines(self.hosts_snapshot()):
                if stop.is_set():
                    return
                self._display.display(line)
