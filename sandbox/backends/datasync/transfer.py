"""One task execution's work, off the request threads: list what to move, copy it, verify it.

With an FSx for Windows destination whose file system is served by a Samba DC, the objects are really
read from moto's S3 and written to the share as the location's user, then read back and compared by
SHA-256 (VerifyMode). Without a real share the same steps run on the source alone: counters, states and
logs as AWS would show them, no data written.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from sandbox.backends.datasync.models import Execution, Location
from sandbox.backends.datasync.rules import bucket_of, filter_patterns, invalid, matches, parse_manifest
from sandbox.backends.datasync.storage import (
    Share,
    SourceObject,
    TaskLog,
    list_current,
    object_size,
    read_object,
)
from sandbox.errors import AwsError

log = logging.getLogger("sandbox.datasync")


class TransferFailed(Exception):
    """Ends an execution in ERROR with DataSync-like ErrorCode and ErrorDetail."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


class Cancelled(Exception):
    pass


@dataclass
class Plan:
    objects: list[SourceObject]
    folders: set[str] = field(default_factory=set)


def list_source(execution: Execution, source: Location) -> Plan:
    """What the execution moves: the manifest's entries, or every current object matching the filters."""
    prefix = source.subdirectory.lstrip("/")
    objects: list[SourceObject] = []
    if execution.manifest_config:
        s3 = execution.manifest_config["Source"]["S3"]
        found = read_object(bucket_of(s3["S3BucketArn"]), s3["ManifestObjectPath"], s3.get("ManifestObjectVersionId"))
        if found is None:
            raise TransferFailed("ManifestNotFound", f"The manifest {s3['ManifestObjectPath']} could not be read.")
        try:
            entries = parse_manifest(found[0].decode("utf-8"))
        except (UnicodeDecodeError, AwsError) as err:
            raise TransferFailed("InvalidManifest", f"The manifest is not valid: {err}") from None
        for relative, version in entries:
            size = object_size(source.bucket, prefix + relative, version)
            if size is None:
                raise TransferFailed(
                    "ObjectNotFound",
                    f"{relative}{f' (version {version})' if version else ''} does not exist at the source.",
                )
            objects.append(SourceObject(relative, prefix + relative, version, size))
    else:
        includes = filter_patterns(execution.includes)
        excludes = filter_patterns(execution.excludes)
        for key, size, version in list_current(source.bucket, prefix):
            relative = key[len(prefix) :]
            path = "/" + relative
            if includes and not matches(path, includes):
                continue
            if excludes and matches(path, excludes):
                continue
            objects.append(SourceObject(relative, key, version, size))
    folders = {
        "/".join(item.relative.split("/")[:depth])
        for item in objects
        for depth in range(1, item.relative.count("/") + 1)
    }
    return Plan(objects, folders)


def destination_path(destination: Location, relative: str) -> tuple[str, str]:
    """(share name, path inside the share) of a file: the subdirectory's first component is the share."""
    parts = [part for part in destination.subdirectory.split("/") if part]
    if not parts:
        raise invalid("An FSx for Windows location's subdirectory must start with the share name (/share/...).")
    return parts[0], "/".join([*parts[1:], relative])


def run_copy(
    execution: Execution, plan: Plan, destination: Location, share: Share | None, task_log: TaskLog
) -> dict[str, str]:
    """Copy every planned object; return the SHA-256 of each transferred file by relative path."""
    counters = execution.counters
    options = execution.options
    digests: dict[str, str] = {}
    if share is not None:
        base = destination_path(destination, "")[1]
        if base:
            share.ensure_folder(base)
        for folder in sorted(plan.folders):
            counters.folders_transferred += share.ensure_folder(destination_path(destination, folder)[1])
    for item in plan.objects:
        if getattr(execution, "cancelled", False):
            raise Cancelled()
        found = read_object(plan_bucket(execution), item.key, item.version_id)
        if found is None:
            counters.failed_transfer += 1
            raise TransferFailed("ObjectNotFound", f"{item.relative} disappeared from the source during the transfer.")
        data = found[0]
        digest = hashlib.sha256(data).hexdigest()
        target = destination_path(destination, item.relative)[1]
        if share is not None:
            existing = (
                share.digest(target)
                if options.get("TransferMode") == "CHANGED" or options.get("OverwriteMode") == "NEVER"
                else None
            )
            if existing is not None and (existing == digest or options.get("OverwriteMode") == "NEVER"):
                counters.files_skipped += 1
                task_log.write(f"[NOTICE] Skipped {item.relative}: unchanged at the destination", "TRANSFER")
                continue
            try:
                share.write(target, data)
            except OSError as err:
                counters.failed_transfer += 1
                raise TransferFailed("WriteFailed", f"Could not write {item.relative}: {err}") from None
            counters.bytes_written += len(data)
        digests[item.relative] = digest
        counters.files_transferred += 1
        counters.bytes_transferred += len(data)
        task_log.write(f"[INFO] Transferred file {item.relative}, {len(data)} bytes", "TRANSFER")
    return digests


def run_verify(
    execution: Execution, destination: Location, share: Share | None, digests: dict[str, str], task_log: TaskLog
) -> None:
    """Read each transferred file back and compare its SHA-256 with the source's (VerifyMode)."""
    counters = execution.counters
    mismatched = []
    for relative, digest in digests.items():
        if getattr(execution, "cancelled", False):
            raise Cancelled()
        if share is not None:
            found = share.digest(destination_path(destination, relative)[1])
            if found != digest:
                counters.failed_verify += 1
                mismatched.append(relative)
                task_log.write(f"[ERROR] Verification failed for {relative}")
                continue
        counters.files_verified += 1
        task_log.write(f"[INFO] Verified file {relative}", "TRANSFER")
    if mismatched:
        raise TransferFailed(
            "VerificationFailed", f"{len(mismatched)} files differ at the destination (first: {mismatched[0]})"
        )


def plan_bucket(execution: Execution) -> str:
    return execution.source_bucket  # type: ignore[attr-defined]


def estimate(execution: Execution, plan: Plan) -> dict[str, Any]:
    counters = execution.counters
    counters.estimated_files = len(plan.objects)
    counters.estimated_bytes = sum(item.size for item in plan.objects)
    counters.files_prepared = len(plan.objects)
    return {"files": counters.estimated_files, "bytes": counters.estimated_bytes}
