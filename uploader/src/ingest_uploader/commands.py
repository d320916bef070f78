"""The three commands: upload, watch, status."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from ingest_uploader import __version__, naming
from ingest_uploader.errors import (
    CREDENTIAL_EXCEPTIONS,
    CredentialsError,
    LocalDataError,
    NetworkError,
    ServerError,
    credential_hint,
    from_aws,
)
from ingest_uploader.journal import SENT, Journal, journal_lock, read_json
from ingest_uploader.progress import Progress, human_bytes
from ingest_uploader.scan import Acquisition, acquisition_name, scan
from ingest_uploader.settings import Settings
from ingest_uploader.transfer import Sender
from ingest_uploader.watch import Watcher

log = logging.getLogger("ingest_uploader")


@dataclass(frozen=True)
class Outcome:
    acquisition: Acquisition
    already_sent: bool
    completed_at: str


def s3_client(settings: Settings) -> Any:
    """An S3 client from boto3's default credential chain (the profile, or AWS_* variables), never from options.

    Retries: botocore's standard mode, exponential backoff with jitter on throttling, 5xx and connection errors
    (https://docs.aws.amazon.com/boto3/latest/guide/retries.html), --max-attempts attempts per request.
    """
    try:
        session = boto3.session.Session(profile_name=settings.profile, region_name=settings.region)
        credentials = session.get_credentials()
    except ProfileNotFound:
        raise CredentialsError(
            f"the AWS profile '{settings.profile}' does not exist (ProfileNotFound)", credential_hint(settings.profile)
        ) from None
    except CREDENTIAL_EXCEPTIONS as error:
        # Only the kind: a credential provider's message may quote what it read.
        raise CredentialsError(
            f"no usable AWS credentials ({type(error).__name__})", credential_hint(settings.profile)
        ) from None
    if credentials is None:
        raise CredentialsError("no AWS credentials found", credential_hint(settings.profile))
    config = Config(
        retries={"mode": "standard", "max_attempts": settings.max_attempts},
        connect_timeout=20,
        read_timeout=120,
        tcp_keepalive=True,
        max_pool_connections=settings.tuning.concurrency + 4,
        user_agent_extra=f"tenant-ingest-uploader/{__version__}",
    )
    return session.client("s3", endpoint_url=settings.endpoint_url, config=config)


def send_acquisition(settings: Settings, client: Any, acquisition: Acquisition, force: bool = False) -> Outcome:
    """Send one scanned acquisition, resuming from its journal; the manifest is written last."""
    journal_path = Journal.path_for(settings.state_dir, settings.bucket, settings.instrument, acquisition.name)
    with journal_lock(journal_path, acquisition.name):
        journal = Journal.open(
            settings.state_dir, settings.bucket, settings.instrument, acquisition.name, acquisition.source
        )
        if journal.sent:
            if journal.data.get("snapshot") == acquisition.snapshot() and not force:
                return Outcome(acquisition, True, journal.data["completed_at"])
            if not force:
                raise LocalDataError(
                    f"{acquisition.name} was sent on {journal.data['completed_at']} and its files have changed since; "
                    "it is not sent again",
                    "If the new content must replace what was sent, run `ingest-upload upload PATH --force` (the "
                    "objects and the manifest are overwritten; a copy DataSync already made is not).",
                )
            log.warning("%s was sent on %s; sending it again (--force)", acquisition.name, journal.data["completed_at"])
            journal.restart(acquisition.source)
        sender = Sender(
            client, settings.bucket, settings.instrument, journal, settings.tuning, Progress(settings.quiet)
        )
        try:
            sender.reconcile(acquisition)
            manifest = sender.send(acquisition)
        except (ClientError, BotoCoreError) as error:
            raise from_aws(
                error,
                bucket=settings.bucket,
                prefix=naming.acquisition_prefix(settings.instrument, acquisition.name),
                profile=settings.profile,
                attempts=settings.max_attempts,
            ) from None
    return Outcome(acquisition, False, manifest["completed_at"])


def upload(settings: Settings, path: Path, name: str | None, force: bool) -> int:
    source = Path(path).absolute()
    if not source.exists():
        raise LocalDataError(f"{source} does not exist", "Check the path (a folder of one acquisition, or a file).")
    acquisition = scan(source, acquisition_name(source, name), settings.instrument)
    outcome = send_acquisition(settings, s3_client(settings), acquisition, force)
    prefix = f"s3://{settings.bucket}/{naming.acquisition_prefix(settings.instrument, acquisition.name)}"
    if outcome.already_sent:
        print(f"{acquisition.name} was already sent to {prefix} on {outcome.completed_at}; nothing to do")
    else:
        print(
            f"sent {acquisition.name} to {prefix}: {len(acquisition.files)} file(s), "
            f"{human_bytes(acquisition.total_bytes)}; manifest written last at {outcome.completed_at}"
        )
    return 0


def watch(settings: Settings, root: Path, settle_seconds: float, interval: float, once: bool) -> int:
    client = s3_client(settings)
    watcher = Watcher(
        Path(root),
        settings.state_dir,
        settings.bucket,
        settings.instrument,
        settle_seconds,
        send=lambda acquisition: _report(settings, send_acquisition(settings, client, acquisition)),
    )
    log.info("watching %s (settle %s s, every %s s)", root, settle_seconds, interval)
    while True:
        try:
            watcher.scan_once()
        except (NetworkError, ServerError) as error:
            if once:
                raise
            log.warning("%s; trying again in %s s", error.message, interval)
        if once:
            return 0
        time.sleep(interval)


def _report(settings: Settings, outcome: Outcome) -> Outcome:
    log.info(
        "sent %s to s3://%s/%s (%d file(s), %s)",
        outcome.acquisition.name,
        settings.bucket,
        naming.acquisition_prefix(settings.instrument, outcome.acquisition.name),
        len(outcome.acquisition.files),
        human_bytes(outcome.acquisition.total_bytes),
    )
    return outcome


def status(state_dir: Path, show_all: bool, as_json: bool) -> int:
    """What is pending or resumable, from the journals alone (no AWS call)."""
    rows = [summary(journal) for journal in Journal.all_in(state_dir)]
    if not show_all:
        rows = [row for row in rows if row["state"] != SENT]
    waiting = _watch_sightings(state_dir)
    if as_json:
        print(json.dumps({"state_dir": str(state_dir), "acquisitions": rows, "watching": waiting}, indent=2))
        return 0
    print(f"state directory: {state_dir}")
    if not rows:
        print("nothing pending" if not show_all else "no acquisition in the journal")
    for row in rows:
        where = f"s3://{row['bucket']}/{naming.acquisition_prefix(row['instrument'], row['acquisition'])}"
        if row["state"] == SENT:
            size = human_bytes(row["total_bytes"])
            print(f"sent      {where}  {row['files']} file(s), {size}, on {row['completed_at']}")
            continue
        print(
            f"resumable {where}  {row['files_sent']}/{row['files']} file(s), "
            f"{human_bytes(row['bytes_sent'])} of {human_bytes(row['total_bytes'])} sent"
        )
        for upload in row["multipart_uploads"]:
            part = human_bytes(upload["part_size"])
            print(f"          {upload['path']}: {upload['parts_stored']} part(s) of {part} stored")
        print(f'          from {row["source"]}; re-run `ingest-upload upload "{row["source"]}"` (or watch) to resume')
    for watched in waiting:
        for name, since in sorted(watched["waiting"].items()):
            changed = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since))
            print(f"waiting   {watched['root']}: {name} (not settled; last seen changing {changed})")
    return 0


def summary(journal: Journal) -> dict[str, Any]:
    data, files = journal.data, journal.files
    sent = [entry for entry in files.values() if entry["state"] == SENT]
    uploads = [
        {"path": path, "parts_stored": len(entry["upload"]["parts"]), "part_size": entry["upload"]["part_size"]}
        for path, entry in sorted(files.items())
        if entry.get("upload")
    ]
    part_bytes = sum(min(u["parts_stored"] * u["part_size"], files[u["path"]]["size"]) for u in uploads)
    return {
        "bucket": data["bucket"],
        "instrument": data["instrument"],
        "acquisition": data["acquisition"],
        "source": data.get("source"),
        "state": data.get("state"),
        "completed_at": data.get("completed_at"),
        "files": len(files),
        "files_sent": len(sent),
        "total_bytes": sum(entry["size"] for entry in files.values()),
        "bytes_sent": sum(entry["size"] for entry in sent) + part_bytes,
        "multipart_uploads": uploads,
        "journal": str(journal.path),
    }


def _watch_sightings(state_dir: Path) -> list[dict[str, Any]]:
    folder = state_dir / "watch"
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        state = read_json(path)
        found.append(
            {"root": state.get("root"), "waiting": {n: s["since"] for n, s in state.get("sightings", {}).items()}}
        )
    return found
