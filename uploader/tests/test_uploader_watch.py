"""watch: an acquisition still being written waits until it settles; a sent one is never sent again, restart or not."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from ingest_testkit import REGION, SMALL, Uploader, key_of, keys_in, mutating_s3, object_bytes, write_files
from ingest_uploader.commands import s3_client, send_acquisition
from ingest_uploader.settings import Settings
from ingest_uploader.transfer import Tuning
from ingest_uploader.watch import Watcher, is_settled

SETTLE = 120.0


class Clock:
    """The watcher's clock, moved by the test: no sleeping, no timing."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def touch(path: Path, when: float) -> None:
    os.utime(path, (when, when))


def settings_for(uploader: Uploader) -> Settings:
    return Settings(
        bucket=uploader.bucket,
        instrument=uploader.instrument,
        region=REGION,
        profile=None,
        endpoint_url=uploader.sandbox.endpoint,
        state_dir=uploader.state_dir,
        tuning=Tuning(part_size=5 * 1024 * 1024, multipart_threshold=5 * 1024 * 1024, concurrency=2),
        max_attempts=2,
        quiet=True,
    )


def watcher_for(uploader: Uploader, root: Path, clock: Clock) -> Watcher:
    settings = settings_for(uploader)
    client = s3_client(settings)
    return Watcher(
        root,
        settings.state_dir,
        settings.bucket,
        settings.instrument,
        SETTLE,
        send=lambda acquisition: send_acquisition(settings, client, acquisition),
        now=clock,
    )


@pytest.fixture(autouse=True)
def sandbox_credentials(monkeypatch: pytest.MonkeyPatch, uploader: Uploader) -> None:
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in uploader.environment().items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)


def test_an_acquisition_still_being_written_is_sent_only_once_it_settles(uploader: Uploader, tmp_path: Path) -> None:
    clock = Clock()
    root = tmp_path / "acquisitions"
    done = write_files(root / "acq-done", {"a.bin": b"a" * 100, "b.bin": b"b" * 100})
    writing = write_files(root / "acq-writing", {"scan.source": b"x" * 1000})
    for path in done.iterdir():
        touch(path, clock.now - 1000)  # written long ago
    touch(writing / "scan.source", clock.now)  # being written now
    watcher = watcher_for(uploader, root, clock)
    mark = uploader.sandbox.log_mark()

    assert watcher.scan_once() == []  # first sighting: nothing has been seen unchanged for long enough yet
    clock.advance(SETTLE + 1)
    with (writing / "scan.source").open("ab") as stream:  # the instrument is still writing
        stream.write(b"y" * 500)
    touch(writing / "scan.source", clock.now)

    assert watcher.scan_once() == ["acq-done"]
    assert not any(k.startswith("incoming/ECHO-01/acq-writing/") for k in keys_in(uploader.sandbox, uploader.bucket))
    clock.advance(SETTLE - 1)
    assert watcher.scan_once() == []  # unchanged, but not for long enough
    clock.advance(2)

    assert watcher.scan_once() == ["acq-writing"]
    sent = object_bytes(uploader.sandbox, uploader.bucket, key_of("ECHO-01", "acq-writing", "scan.source"))
    assert sent == b"x" * 1000 + b"y" * 500
    assert "incoming/ECHO-01/acq-writing/_acquisition-manifest.json" in keys_in(uploader.sandbox, uploader.bucket)
    assert watcher.waiting() == {}
    # Each file and each manifest once: acq-done's 2 files and manifest, acq-writing's file and manifest.
    written = sorted(c["operation"].split(" ", 1)[1] for c in mutating_s3(uploader.sandbox.log(mark)))
    prefix = f"/{uploader.bucket}/incoming/ECHO-01/"
    assert written == [
        prefix + "acq-done/_acquisition-manifest.json",
        prefix + "acq-done/a.bin",
        prefix + "acq-done/b.bin",
        prefix + "acq-writing/_acquisition-manifest.json",
        prefix + "acq-writing/scan.source",
    ]


def test_a_sent_acquisition_is_not_sent_again_after_a_restart(uploader: Uploader, tmp_path: Path) -> None:
    clock = Clock()
    root = tmp_path / "acquisitions"
    acquisition = write_files(root / "acq-1", {"a.bin": b"a" * 100})
    touch(acquisition / "a.bin", clock.now - 1000)
    first = watcher_for(uploader, root, clock)
    first.scan_once()
    clock.advance(SETTLE)
    assert first.scan_once() == ["acq-1"]
    mark = uploader.sandbox.log_mark()

    clock.advance(3600)
    restarted = watcher_for(uploader, root, clock)  # a new process: only the state directory is shared
    assert restarted.scan_once() == []
    clock.advance(SETTLE)
    assert restarted.scan_once() == []

    assert [c for c in uploader.sandbox.log(mark) if c["service"] == "s3"] == []


def test_sightings_survive_a_restart(uploader: Uploader, tmp_path: Path) -> None:
    clock = Clock()
    root = tmp_path / "acquisitions"
    acquisition = write_files(root / "acq-1", {"a.bin": b"a"})
    touch(acquisition / "a.bin", clock.now - 1000)
    watcher_for(uploader, root, clock).scan_once()
    clock.advance(SETTLE)
    assert watcher_for(uploader, root, clock).scan_once() == ["acq-1"]


def test_a_folder_with_a_name_s3_cannot_take_is_reported_once_and_never_sent(
    uploader: Uploader, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    root = tmp_path / "acquisitions"
    write_files(root / "Scan of Monday", {"a.bin": b"a"})
    bad = write_files(root / "acq-bad", {"ok.bin": b"a", "what?.bin": b"b"})
    for path in [*root.rglob("*.bin")]:
        touch(path, clock.now - 1000)
    watcher = watcher_for(uploader, root, clock)
    mark = uploader.sandbox.log_mark()
    with caplog.at_level("WARNING", logger="ingest_uploader"):
        for _ in range(3):
            assert watcher.scan_once() == []
            clock.advance(SETTLE)
    warnings = [r.getMessage() for r in caplog.records]
    assert sum("Scan of Monday: not sent: the folder name must be" in w for w in warnings) == 1
    assert sum("acq-bad: not sent:" in w and "what?.bin" in w for w in warnings) == 1
    assert [c for c in uploader.sandbox.log(mark) if c["service"] == "s3"] == []
    assert bad.exists()


@pytest.mark.parametrize(
    ("since", "mtime_age", "snapshot", "settled"),
    [
        (None, 1000, "s", False),  # never seen
        (0.0, 1000, "s", True),
        (0.0, 1000, "other", False),  # changed since the sighting
        (100.0, 1000, "s", False),  # seen unchanged for 20 s only
        (0.0, 30, "s", False),  # a file modified 30 s ago (the scan missed the change)
    ],
)
def test_settled_means_unchanged_for_the_settle_time(
    since: float | None, mtime_age: float, snapshot: str, settled: bool
) -> None:
    now = 120.0
    sighting = None if since is None else {"snapshot": "s", "since": since}
    assert is_settled(sighting, snapshot, now - mtime_age, now, 120.0) is settled


def test_watch_once_from_the_command_line(uploader: Uploader, tmp_path: Path) -> None:
    root = tmp_path / "acquisitions"
    write_files(root / "acq-cli", {"a.bin": b"a" * 10})
    args = ["watch", str(root), *uploader.target(), *SMALL, "--quiet", "--once", "--settle-seconds", "0"]

    first = uploader.run(*args)
    again = uploader.run(*args)

    assert first.rc == 0, first.output
    assert "sent acq-cli to s3://" in first.stderr
    assert object_bytes(uploader.sandbox, uploader.bucket, key_of("ECHO-01", "acq-cli", "a.bin")) == b"a" * 10
    assert again.rc == 0, again.output
    assert [c for c in again.calls if c["service"] == "s3"] == []
