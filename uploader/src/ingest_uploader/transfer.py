"""Sending one acquisition: each file whole (PutObject) or in parts (a resumable multipart upload), the manifest last.

Integrity: every request carries the SHA-256 of its body (`ChecksumSHA256`), which S3 recomputes and refuses
on a mismatch (BadDigest); multipart uploads are created with `ChecksumAlgorithm='SHA256'` and completed with
each part's checksum. S3's checksum of a multipart object is a checksum of the parts' checksums, not of the
file ("this value may not be a direct checksum value of the full object. Instead, it's a calculation based on
the checksum values of each individual part", https://docs.aws.amazon.com/AmazonS3/latest/API/API_Checksum.html),
so the manifest carries the whole file's SHA-256, computed here while reading it.

Limits (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html): parts of 5 MiB to 5 GiB except the
last, at most 10,000 parts; the part size grows for files that would need more.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from ingest_uploader import __version__, naming
from ingest_uploader.errors import BusyError, LocalDataError, ServerError, UploadGone
from ingest_uploader.journal import PENDING, SENDING, SENT, Journal, utc_now
from ingest_uploader.progress import Progress
from ingest_uploader.scan import Acquisition, LocalFile, has_changed

log = logging.getLogger("ingest_uploader")

MiB = 1024 * 1024
GiB = 1024 * MiB
MIN_PART_SIZE = 5 * MiB
MAX_PART_SIZE = 5 * GiB
MAX_PARTS = 10_000
MAX_SINGLE_PUT = 5 * GiB
MANIFEST_FORMAT = 1
# Test hook: the process kills itself (as a power cut would) once this many parts were stored by S3 and before
# the journal records the last of them. Only the test suite sets it.
KILL_AFTER_PARTS_VARIABLE = "INGEST_UPLOAD_TEST_KILL_AFTER_PARTS"
SMALL_FILE_SAVE_INTERVAL = 1.0  # seconds between journal writes while many small files are sent


@dataclass(frozen=True)
class Tuning:
    part_size: int = 64 * MiB
    multipart_threshold: int = 64 * MiB
    concurrency: int = 4


def part_size_for(size: int, preferred: int) -> int:
    """The part size for a file: the preferred one, grown (in whole MiB) when the file would need > 10,000 parts."""
    if size > MAX_PART_SIZE * MAX_PARTS:
        raise LocalDataError(f"a file of {size} bytes exceeds S3's largest object ({MAX_PART_SIZE * MAX_PARTS} bytes)")
    if math.ceil(size / preferred) <= MAX_PARTS:
        return preferred
    return math.ceil(size / MAX_PARTS / MiB) * MiB


def part_count(size: int, part_size: int) -> int:
    return max(1, math.ceil(size / part_size))


def part_length(size: int, part_size: int, number: int) -> int:
    return min(part_size, size - (number - 1) * part_size)


def b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def composite_sha256(part_digests: list[bytes]) -> str:
    """S3's checksum of a multipart object: the SHA-256 of the parts' SHA-256 digests (without the -N suffix)."""
    return base64.b64encode(hashlib.sha256(b"".join(part_digests)).digest()).decode()


def build_manifest(instrument: str, acquisition: str, files: list[dict[str, Any]], completed_at: str) -> dict[str, Any]:
    """The manifest contract (README.md, "The manifest")."""
    return {
        "format": MANIFEST_FORMAT,
        "instrument": instrument,
        "acquisition": acquisition,
        "completed_at": completed_at,
        "uploader_version": __version__,
        "files": [{"path": f["path"], "size": f["size"], "sha256": f["sha256"]} for f in files],
        "total_bytes": sum(f["size"] for f in files),
    }


def manifest_body(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def changed_while_sending(relative: str) -> BusyError:
    return BusyError(
        f"{relative} changed while it was being sent",
        "The acquisition is probably still being written: wait until the instrument has finished, then re-run "
        "the same command (what was sent is kept; the changed file is sent again).",
    )


def unreadable(relative: str, error: OSError) -> BusyError:
    """A file that cannot be opened now: on Windows, typically still held open by the instrument's software."""
    return BusyError(
        f"{relative} cannot be read ({error.strerror or type(error).__name__}); it may still be in use",
        "Wait until the instrument has finished with it, then re-run the same command.",
    )


class Window:
    """At most `size` requests in flight; results are handled on the calling thread, in completion order.

    The first failure cancels what has not started and waits for what has; what succeeded meanwhile is still
    recorded (S3 holds it), then the failure is raised.
    """

    def __init__(self, pool: ThreadPoolExecutor, size: int) -> None:
        self.pool = pool
        self.size = size
        self.pending: dict[Future[Any], Callable[[Any], None]] = {}

    def submit(self, work: Callable[[], Any], on_done: Callable[[Any], None]) -> None:
        while len(self.pending) >= self.size:
            self._handle(wait(self.pending, return_when=FIRST_COMPLETED)[0])
        self.pending[self.pool.submit(work)] = on_done

    def drain(self) -> None:
        while self.pending:
            self._handle(wait(self.pending, return_when=FIRST_COMPLETED)[0])

    def abandon(self) -> None:
        """Stop: cancel what has not started, wait for the rest, record what succeeded."""
        for future in self.pending:
            future.cancel()
        wait(self.pending)
        finished, self.pending = self.pending, {}
        for future, on_done in finished.items():
            if not future.cancelled() and future.exception() is None:
                on_done(future.result())

    def _handle(self, done: set[Future[Any]]) -> None:
        failure: BaseException | None = None
        for future in sorted(done, key=id):
            on_done = self.pending.pop(future)
            error = future.exception()
            if error is not None:
                failure = failure or error
                continue
            on_done(future.result())
        if failure is not None:
            self.abandon()
            raise failure


class Sender:
    """Sends one acquisition to s3://bucket/incoming/<instrument>/<acquisition>/ as its journal allows."""

    def __init__(
        self, client: Any, bucket: str, instrument: str, journal: Journal, tuning: Tuning, progress: Progress
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.instrument = instrument
        self.journal = journal
        self.tuning = tuning
        self.progress = progress
        self.parts_stored_here = 0
        self._last_save = 0.0
        kill_after = os.environ.get(KILL_AFTER_PARTS_VARIABLE, "")
        self.kill_after_parts = int(kill_after) if kill_after.isdigit() else None

    # -- the journal against the folder ------------------------------------------------------------
    def reconcile(self, acquisition: Acquisition) -> None:
        """Start again any file that changed or vanished since the journal last saw it; add new files."""
        files = self.journal.files
        current = {f.relative: f for f in acquisition.files}
        for relative in list(files):
            entry, local = files[relative], current.get(relative)
            if local is None:
                log.warning("%s is no longer in the acquisition folder; it will not be sent", relative)
                self._abort(relative, entry)
                del files[relative]
            elif (entry["size"], entry["mtime_ns"]) != (local.size, local.mtime_ns):
                if entry["state"] != PENDING:
                    log.warning("%s changed since it was read; sending it again from its start", relative)
                self._abort(relative, entry)
                files[relative] = self._new_entry(local)
        for relative, local in current.items():
            files.setdefault(relative, self._new_entry(local))
        self.journal.data["source"] = str(acquisition.source)
        self.journal.save()

    @staticmethod
    def _new_entry(local: LocalFile) -> dict[str, Any]:
        return {"size": local.size, "mtime_ns": local.mtime_ns, "state": PENDING, "sha256": None, "upload": None}

    def _abort(self, relative: str, entry: dict[str, Any]) -> None:
        upload = entry.get("upload")
        if entry["state"] != SENDING or not upload:
            return
        try:
            self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self._key(relative), UploadId=upload["upload_id"]
            )
        except ClientError as error:
            if _code(error) != "NoSuchUpload":
                raise

    # -- sending -------------------------------------------------------------------------------------
    def send(self, acquisition: Acquisition) -> dict[str, Any]:
        """Send what the journal does not hold yet, then the manifest; returns the manifest."""
        self.progress.begin(acquisition.name, acquisition.total_bytes, self._bytes_held(acquisition))
        try:
            self._send_files(acquisition)
        finally:
            self.journal.save()  # what was sent before a failure is not sent again
            self.progress.end()
        return self._send_manifest(acquisition)

    def _send_files(self, acquisition: Acquisition) -> None:
        files = self.journal.files
        with ThreadPoolExecutor(max_workers=self.tuning.concurrency, thread_name_prefix="ingest-upload") as pool:
            window = Window(pool, self.tuning.concurrency)
            try:
                for local in acquisition.files:
                    entry = files[local.relative]
                    if entry["state"] == SENT:
                        continue
                    if local.size <= self.tuning.multipart_threshold and not entry.get("upload"):
                        window.submit(partial(self._put_whole, local), partial(self._whole_sent, local))
                    else:
                        window.drain()  # a multipart file's parts are the only requests in flight
                        self._send_in_parts(local, window)
                window.drain()
            except BaseException:
                window.abandon()
                raise

    def _bytes_held(self, acquisition: Acquisition) -> int:
        held = 0
        for local in acquisition.files:
            entry = self.journal.files[local.relative]
            if entry["state"] == SENT:
                held += local.size
            elif entry.get("upload"):
                part_size = entry["upload"]["part_size"]
                held += sum(part_length(local.size, part_size, int(n)) for n in entry["upload"]["parts"])
        return held

    def _key(self, relative: str) -> str:
        return naming.object_key(self.instrument, self.journal.data["acquisition"], relative)

    # -- whole files ----------------------------------------------------------------------------------
    def _put_whole(self, local: LocalFile) -> dict[str, str]:
        """(worker thread) One PutObject carrying the file's SHA-256."""
        if local.size > MAX_SINGLE_PUT:
            raise LocalDataError(f"{local.relative}: --multipart-threshold is above S3's 5 GiB limit for one request")
        if has_changed(local):
            raise changed_while_sending(local.relative)
        try:
            body = local.path.read_bytes()
        except OSError as error:
            raise unreadable(local.relative, error) from None
        if len(body) != local.size or has_changed(local):
            raise changed_while_sending(local.relative)
        checksum = b64_sha256(body)
        answer = self.client.put_object(
            Bucket=self.bucket,
            Key=self._key(local.relative),
            Body=body,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=checksum,
        )
        _check_echo(answer, checksum, local.relative)
        return {"sha256": hashlib.sha256(body).hexdigest(), "etag": answer.get("ETag", "")}

    def _whole_sent(self, local: LocalFile, result: dict[str, str]) -> None:
        entry = self.journal.files[local.relative]
        entry.update(state=SENT, sha256=result["sha256"], etag=result["etag"], upload=None)
        self.progress.advance(local.size)
        log.info("sent %s (%d bytes)", local.relative, local.size)
        if time.monotonic() - self._last_save >= SMALL_FILE_SAVE_INTERVAL:
            self.journal.save()
            self._last_save = time.monotonic()

    # -- multipart files -------------------------------------------------------------------------------
    def _send_in_parts(self, local: LocalFile, window: Window) -> None:
        try:
            self._send_in_parts_once(local, window)
        except UploadGone:
            log.warning("S3 no longer knows the upload of %s (aborted or expired); sending it again", local.relative)
            self._restart_file(local)
            try:
                self._send_in_parts_once(local, window)
            except UploadGone:
                raise ServerError(
                    f"S3 lost the multipart upload of {local.relative} twice in a row",
                    "Check the bucket's lifecycle rules (AbortIncompleteMultipartUpload) with the administrator.",
                ) from None

    def _restart_file(self, local: LocalFile) -> None:
        entry = self.journal.files[local.relative]
        upload = entry.get("upload") or {}
        self.progress.advance(
            -sum(part_length(local.size, upload["part_size"], int(n)) for n in upload.get("parts", {}))
        )
        entry.update(state=PENDING, upload=None)
        self.journal.save()

    def _send_in_parts_once(self, local: LocalFile, window: Window) -> None:
        key = self._key(local.relative)
        entry = self.journal.files[local.relative]
        upload = entry.get("upload")
        stored: dict[int, dict[str, Any]] = {}
        if upload:
            try:
                stored = self._stored_parts(key, upload["upload_id"])
            except UploadGone:
                log.warning(
                    "S3 no longer knows the upload of %s (aborted or expired); sending it again", local.relative
                )
                self._restart_file(local)
                upload = None
        if not upload:
            part_size = part_size_for(local.size, self.tuning.part_size)
            created = self.client.create_multipart_upload(Bucket=self.bucket, Key=key, ChecksumAlgorithm="SHA256")
            upload = {"upload_id": created["UploadId"], "part_size": part_size, "parts": {}}
            entry.update(state=SENDING, upload=upload)
            self.journal.save()
        elif stored:
            log.info("resuming %s: S3 holds %d of its parts", local.relative, len(stored))
        recorded: dict[str, dict[str, str]] = upload["parts"]
        counted = {int(n) for n in recorded}  # already in the progress bar's starting point
        part_size, upload_id = upload["part_size"], upload["upload_id"]
        whole = hashlib.sha256()
        digests: list[bytes] = []
        if has_changed(local):
            raise changed_while_sending(local.relative)
        try:
            stream = local.path.open("rb")
        except OSError as error:
            raise unreadable(local.relative, error) from None
        with stream:
            for number in range(1, part_count(local.size, part_size) + 1):
                chunk = stream.read(part_size)
                if len(chunk) != part_length(local.size, part_size, number):
                    raise changed_while_sending(local.relative)
                whole.update(chunk)
                digest = hashlib.sha256(chunk).digest()
                digests.append(digest)
                checksum = base64.b64encode(digest).decode()
                if _already_stored(stored.get(number), recorded.get(str(number)), checksum, len(chunk)):
                    recorded[str(number)] = {"etag": stored[number]["etag"], "sha256": checksum}
                    if number not in counted:
                        self.progress.advance(len(chunk))
                    continue
                work = partial(self._upload_part, key, upload_id, number, chunk, checksum)
                on_done = partial(self._part_stored, local, number, len(chunk), number in counted)
                window.submit(work, on_done)
        window.drain()
        if has_changed(local):
            raise changed_while_sending(local.relative)
        self._complete(local, key, upload, digests)
        entry.update(state=SENT, sha256=whole.hexdigest(), parts=len(digests), upload=None)
        self.journal.save()
        log.info("sent %s (%d bytes, %d parts)", local.relative, local.size, len(digests))

    def _stored_parts(self, key: str, upload_id: str) -> dict[int, dict[str, Any]]:
        """What S3 holds of an upload (ListParts, 1,000 parts a page), by part number."""
        parts: dict[int, dict[str, Any]] = {}
        try:
            pages = self.client.get_paginator("list_parts").paginate(Bucket=self.bucket, Key=key, UploadId=upload_id)
            for page in pages:
                for part in page.get("Parts", []):
                    parts[part["PartNumber"]] = {
                        "etag": part["ETag"],
                        "size": part["Size"],
                        "sha256": part.get("ChecksumSHA256"),
                    }
        except ClientError as error:
            if _code(error) == "NoSuchUpload":
                raise UploadGone(upload_id) from None
            raise
        return parts

    def _upload_part(self, key: str, upload_id: str, number: int, chunk: bytes, checksum: str) -> dict[str, str]:
        """(worker thread) One UploadPart carrying the part's SHA-256."""
        try:
            answer = self.client.upload_part(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=chunk,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=checksum,
            )
        except ClientError as error:
            if _code(error) == "NoSuchUpload":
                raise UploadGone(upload_id) from None
            raise
        _check_echo(answer, checksum, f"{key} part {number}")
        return {"etag": answer["ETag"], "sha256": checksum}

    def _part_stored(self, local: LocalFile, number: int, length: int, counted: bool, result: dict[str, str]) -> None:
        self.parts_stored_here += 1
        if self.kill_after_parts is not None and self.parts_stored_here >= self.kill_after_parts:
            os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
        self.journal.files[local.relative]["upload"]["parts"][str(number)] = result
        self.journal.save()
        if not counted:
            self.progress.advance(length)
        log.debug("%s: part %d stored", local.relative, number)

    def _complete(self, local: LocalFile, key: str, upload: dict[str, Any], digests: list[bytes]) -> None:
        recorded = upload["parts"]
        parts = [
            {
                "PartNumber": number,
                "ETag": recorded[str(number)]["etag"],
                "ChecksumSHA256": recorded[str(number)]["sha256"],
            }
            for number in range(1, len(digests) + 1)
        ]
        try:
            answer = self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload["upload_id"], MultipartUpload={"Parts": parts}
            )
        except ClientError as error:
            if _code(error) == "NoSuchUpload":
                raise UploadGone(upload["upload_id"]) from None
            raise
        returned = answer.get("ChecksumSHA256")
        if returned and returned.split("-")[0] != composite_sha256(digests):
            raise ServerError(
                f"S3's checksum of {local.relative} is not the one of the parts sent", "Re-run the command."
            )

    # -- the manifest -----------------------------------------------------------------------------------
    def _send_manifest(self, acquisition: Acquisition) -> dict[str, Any]:
        files = self.journal.files
        for local in acquisition.files:
            if files[local.relative]["state"] != SENT:
                raise ServerError(f"{local.relative} was not sent", "Re-run the same command.")
            if has_changed(local):
                raise changed_while_sending(local.relative)
        listing = [
            {"path": f.relative, "size": f.size, "sha256": files[f.relative]["sha256"]} for f in acquisition.files
        ]
        manifest = build_manifest(self.instrument, acquisition.name, listing, utc_now())
        body = manifest_body(manifest)
        checksum = b64_sha256(body)
        answer = self.client.put_object(
            Bucket=self.bucket,
            Key=naming.manifest_key(self.instrument, acquisition.name),
            Body=body,
            ContentType="application/json",
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=checksum,
        )
        _check_echo(answer, checksum, naming.MANIFEST_NAME)
        self.journal.data.update(
            state=SENT,
            completed_at=manifest["completed_at"],
            total_bytes=manifest["total_bytes"],
            manifest_sha256=hashlib.sha256(body).hexdigest(),
            snapshot=acquisition.snapshot(),
        )
        self.journal.save()
        return manifest


def _already_stored(held: dict[str, Any] | None, recorded: dict[str, str] | None, checksum: str, length: int) -> bool:
    """Whether S3 already holds this very part: its checksum (ListParts) says so, or, when S3 lists no
    checksum, the journal recorded this checksum for the ETag S3 lists."""
    if held is None or held["size"] != length:
        return False
    if held["sha256"]:
        return held["sha256"] == checksum
    return recorded is not None and recorded["sha256"] == checksum and recorded["etag"] == held["etag"]


def _check_echo(answer: dict[str, Any], checksum: str, what: str) -> None:
    echoed = answer.get("ChecksumSHA256")
    if echoed and echoed != checksum:
        raise ServerError(f"S3 acknowledged {what} with another SHA-256 than the one sent", "Re-run the command.")


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
