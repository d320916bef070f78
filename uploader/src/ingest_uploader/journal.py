"""The local journal: what was sent, so that an interrupted upload resumes and a sent acquisition is not sent twice.

The instrument's credentials cannot read the bucket (no GetObject, HeadObject or ListBucket), so the uploader
cannot ask S3 what it already holds: it remembers. One JSON file per acquisition and bucket, written
atomically (a temporary file, flushed to disk, then renamed over the old one) after every stored part, so a
crash or a power cut leaves either the previous journal or the new one, never half of one.

Per file: its size and modification time when it was read (a change restarts that file), its state, and for
a multipart upload the upload id, the part size, and each stored part's ETag and SHA-256. On resume, S3's own
list of the upload's parts (ListParts, which the instrument may call on its own keys) decides what is stored.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ingest_uploader.errors import BusyError, UsageError

APP_DIR = "tenant-ingest-uploader"
FORMAT = 1
PENDING, SENDING, SENT = "pending", "sending", "sent"


def default_state_dir() -> Path:
    """%LOCALAPPDATA%\\tenant-ingest-uploader on Windows; $XDG_STATE_HOME (~/.local/state)/tenant-ingest-uploader."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / APP_DIR
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / APP_DIR


def utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def write_json_atomically(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8") as stream:
        json.dump(document, stream, indent=1, sort_keys=True)
        stream.flush()
        os.fsync(stream.fileno())
    for attempt in range(10):
        try:
            os.replace(temporary, path)
            return
        except PermissionError:
            # Windows refuses to replace a file another process has open (an antivirus scanning it): wait a little.
            if attempt == 9:
                raise
            time.sleep(0.1 * (attempt + 1))


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise UsageError(
            f"the journal {path} is not valid JSON ({error})",
            "It was damaged outside the uploader. Move it away to start this acquisition from the beginning.",
        ) from None


class Journal:
    """One acquisition's journal (bucket + instrument + acquisition name)."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    # -- opening ------------------------------------------------------------------------------------
    @staticmethod
    def path_for(state_dir: Path, bucket: str, instrument: str, acquisition: str) -> Path:
        digest = hashlib.sha256(f"{bucket}\n{instrument}\n{acquisition}".encode()).hexdigest()[:16]
        return state_dir / "journals" / f"{instrument[:40]}--{acquisition[:60]}--{digest}.json"

    @classmethod
    def open(cls, state_dir: Path, bucket: str, instrument: str, acquisition: str, source: Path) -> Journal:
        path = cls.path_for(state_dir, bucket, instrument, acquisition)
        if path.exists():
            return cls(path, read_json(path))
        return cls(path, cls.fresh(bucket, instrument, acquisition, source))

    @staticmethod
    def fresh(bucket: str, instrument: str, acquisition: str, source: Path) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "bucket": bucket,
            "instrument": instrument,
            "acquisition": acquisition,
            "source": str(source),
            "state": SENDING,
            "started_at": utc_now(),
            "completed_at": None,
            "files": {},
        }

    @classmethod
    def all_in(cls, state_dir: Path) -> list[Journal]:
        folder = state_dir / "journals"
        if not folder.is_dir():
            return []
        return [cls(path, read_json(path)) for path in sorted(folder.glob("*.json"))]

    # -- state --------------------------------------------------------------------------------------
    @property
    def sent(self) -> bool:
        return self.data.get("state") == SENT

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        return self.data["files"]

    def restart(self, source: Path) -> None:
        d = self.data
        self.data = self.fresh(d["bucket"], d["instrument"], d["acquisition"], source)

    def save(self) -> None:
        write_json_atomically(self.path, self.data)


@contextlib.contextmanager
def journal_lock(journal_path: Path, acquisition: str) -> Iterator[None]:
    """Only one uploader at a time per acquisition; the OS releases the lock if the process dies."""
    journal_path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = journal_path.with_suffix(".lock")
    with lock_path.open("a+b") as handle:
        if not _try_lock(handle):
            raise BusyError(
                f"another ingest-upload is sending {acquisition} (lock {lock_path})",
                "Wait for it to finish, or stop it; then re-run.",
            )
        try:
            yield
        finally:
            _unlock(handle)


def _try_lock(handle: Any) -> bool:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(handle: Any) -> None:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        with contextlib.suppress(OSError):
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
