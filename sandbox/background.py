"""Slow work of the sandbox's backends, done off the request threads.

A Samba AD DC takes 10-40 s to provision and a file share several seconds to serve: an API call
must not wait for either (AWS answers DescribeDirectories at once while a directory is Creating).
The backends hand such work to one `BackgroundWorker`: one daemon thread running jobs in the order
they were submitted, so a DC's destruction queued behind its provisioning runs after it, and the
provider's own lock never sits on a request thread.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger("sandbox.background")

Job = Callable[[], None]


class BackgroundWorker:
    def __init__(self, name: str = "sandbox-background") -> None:
        self.name = name
        self._jobs: queue.Queue[tuple[str, Job] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._idle = threading.Condition()
        self._busy = 0  # jobs submitted and not finished

    def submit(self, label: str, job: Job) -> None:
        """Run `job` after every job submitted before it; `label` names it in the log."""
        with self._idle:
            self._busy += 1
        self._jobs.put((label, job))
        self._ensure_thread()

    def cancel_pending(self) -> list[str]:
        """Drop the jobs not started yet (sandbox reset); returns their labels."""
        dropped = []
        while True:
            try:
                item = self._jobs.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                dropped.append(item[0])
                self._done()
        return dropped

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every submitted job has finished; False when `timeout` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    @property
    def busy(self) -> int:
        with self._idle:
            return self._busy

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                # A daemon thread: the interpreter's exit does not wait for a DC being provisioned;
                # the provider's atexit hook stops the DCs instead (sandbox/samba.py stop_all).
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            label, job = item
            try:
                job()
            except Exception:  # a job reports its own failure; this only keeps the worker alive
                log.exception("background job %s failed", label)
            finally:
                self._done()

    def _done(self) -> None:
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()
