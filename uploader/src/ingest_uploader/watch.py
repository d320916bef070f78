"""Watching a folder of acquisitions: each sub-folder is sent once it has settled, and only once.

Settled: its files (names, sizes, modification times) have not changed for --settle-seconds, as seen by
successive scans (an instrument may keep a file open and grow it), and the newest modification time is at
least that old (a scan right after a restart has no earlier sighting to compare with but the files' own
times). Sightings are kept in the state directory, so a restart does not lose them; what was sent is in the
acquisition's journal, so a restart never sends it again.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingest_uploader import naming
from ingest_uploader.errors import BusyError, LocalDataError
from ingest_uploader.journal import Journal, read_json, write_json_atomically
from ingest_uploader.scan import Acquisition, scan

log = logging.getLogger("ingest_uploader")


def is_settled(sighting: dict[str, Any] | None, snapshot: str, newest_mtime: float, now: float, settle: float) -> bool:
    """Unchanged since a sighting at least `settle` seconds old, and no file modified in the last `settle` seconds."""
    if sighting is None or sighting["snapshot"] != snapshot:
        return False
    return now - sighting["since"] >= settle and now - newest_mtime >= settle


class Watcher:
    def __init__(
        self,
        root: Path,
        state_dir: Path,
        bucket: str,
        instrument: str,
        settle_seconds: float,
        send: Callable[[Acquisition], Any],
        now: Callable[[], float] = time.time,
    ) -> None:
        self.root = root
        self.state_dir = state_dir
        self.bucket = bucket
        self.instrument = instrument
        self.settle_seconds = settle_seconds
        self.send = send
        self.now = now
        digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
        self.state_path = state_dir / "watch" / f"{digest}.json"
        self.state = read_json(self.state_path) if self.state_path.exists() else {"root": str(root.resolve())}
        self.state.setdefault("sightings", {})
        self.reported: set[tuple[str, str]] = set()  # (acquisition, problem) already logged

    def _once(self, name: str, problem: str) -> None:
        if (name, problem) not in self.reported:
            self.reported.add((name, problem))
            log.warning("%s: %s", name, problem)

    def folders(self) -> list[Path]:
        if not self.root.is_dir():
            raise LocalDataError(
                f"{self.root} is not a folder", "Give the folder the instrument writes acquisitions to."
            )
        return sorted(
            p for p in self.root.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
        )

    def scan_once(self) -> list[str]:
        """One look at the folder: send every settled acquisition not sent yet; returns the names sent."""
        sightings: dict[str, Any] = self.state["sightings"]
        present, sent = set(), []
        try:
            for folder in self.folders():
                name = folder.name
                present.add(name)
                problem = naming.name_problem(name)
                if problem is not None:
                    self._once(name, f"not sent: the folder name {problem} (rename it)")
                    continue
                journal_path = Journal.path_for(self.state_dir, self.bucket, self.instrument, name)
                if journal_path.exists() and read_json(journal_path).get("state") == "sent":
                    sightings.pop(name, None)
                    continue
                try:
                    acquisition = scan(folder, name, self.instrument)
                except LocalDataError as error:
                    self._once(name, f"not sent: {error.message}")
                    continue
                snapshot, now = acquisition.snapshot(), self.now()
                sighting = sightings.get(name)
                if sighting is None or sighting["snapshot"] != snapshot:
                    sightings[name] = sighting = {"snapshot": snapshot, "since": now}
                if not is_settled(sighting, snapshot, acquisition.newest_mtime, now, self.settle_seconds):
                    log.debug("%s: waiting until it has not changed for %s s", name, self.settle_seconds)
                    continue
                log.info("%s has settled; sending it", name)
                try:
                    self.send(acquisition)
                except BusyError as error:
                    log.warning("%s: %s; will try again once it has settled", name, error.message)
                    sightings[name] = {"snapshot": "", "since": self.now()}
                    continue
                sightings.pop(name, None)
                sent.append(name)
        finally:
            for gone in set(sightings) - present:
                del sightings[gone]
            write_json_atomically(self.state_path, self.state)
        return sent

    def waiting(self) -> dict[str, float]:
        """Acquisitions seen but not settled yet: name -> when they were last seen changing."""
        return {name: s["since"] for name, s in self.state["sightings"].items()}
