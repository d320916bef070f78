# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record when each task starts and ends, per host, as JSON lines (the benchmarks' timeline).

Enabled by the benchmarks only (`ANSIBLE_CALLBACKS_ENABLED=...,bench_timeline` with
`ANSIBLE_CALLBACK_PLUGINS=bench/callback_plugins`); writes to `$BENCH_TIMELINE_FILE`.
One line per event: {"t": epoch seconds, "event": play|task|start|ok|changed|failed|skipped|
unreachable|stats, "play", "task", "host", "role"}. Nothing from a task's result is written,
so no secret can reach the file.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: bench_timeline
type: aggregate
short_description: task start/end times per host as JSON lines, for the benchmarks
description:
  - Writes one JSON line per play, task and per-host task result to the file named by C(BENCH_TIMELINE_FILE).
  - Results are not written, only their status.
requirements:
  - enable in configuration (callbacks_enabled) and set BENCH_TIMELINE_FILE
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timeline"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        path = os.environ.get("BENCH_TIMELINE_FILE")
        self._file = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115 - kept open for the run
        self._play = ""

    def _write(self, event: str, task=None, host=None, **extra) -> None:
        if self._file is None:
            return
        line = {"t": round(time.time(), 4), "event": event, "play": self._play}
        if task is not None:
            line["task"] = task.get_name()
            role = getattr(task, "_role", None)
            if role is not None:
                line["role"] = role.get_name()
        if host is not None:
            line["host"] = host.get_name()
        line.update(extra)
        self._file.write(json.dumps(line) + "\n")
        self._file.flush()

    def v2_playbook_on_play_start(self, play) -> None:
        self._play = play.get_name()
        self._write("play")

    def v2_playbook_on_task_start(self, task, is_conditional) -> None:
        self._write("task", task)

    def v2_playbook_on_handler_task_start(self, task) -> None:
        self._write("task", task, handler=True)

    def v2_runner_on_start(self, host, task) -> None:
        self._write("start", task, host)

    def v2_runner_on_ok(self, result) -> None:
        self._write("changed" if result._result.get("changed") else "ok", result._task, result._host)

    def v2_runner_on_failed(self, result, ignore_errors=False) -> None:
        self._write("failed", result._task, result._host, ignored=bool(ignore_errors))

    def v2_runner_on_skipped(self, result) -> None:
        self._write("skipped", result._task, result._host)

    def v2_runner_on_unreachable(self, result) -> None:
        self._write("unreachable", result._task, result._host)

    def v2_playbook_on_stats(self, stats) -> None:
        self._write("stats")
        if self._file is not None:
            self._file.close()
            self._file = None
