# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which acquisitions of the landing bucket are complete, and the DataSync manifest that moves exactly them.

An acquisition is complete when its manifest (written last by the uploader) is there and every file it
lists is there with the listed size. Versioning makes "there" precise: each listed file is taken at its
newest version written no later than the manifest, so an acquisition being sent again
(`ingest-upload --force` overwrites the files first, the manifest last) is moved as it was when its
manifest was written, never as a mix of old and new files. The DataSync manifest names those object
versions (`path,versionId`), so what DataSync copies is exactly what was checked here.

The acquisition manifest is written by an instrument, whose credentials could be stolen: it is untrusted
input. `parse_manifest` accepts only the uploader's format with safe relative paths, so a manifest can
never point DataSync outside its own acquisition's prefix.

Pure functions (no AWS call); the module `ingest_sync` feeds them S3 listings.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest.layout import (
    KEY_ROOT,
    MANIFEST_NAME,
    acquisition_prefix,
    is_device_name,
    split_manifest_key,
)

# The uploader's manifest format (uploader/README.md, "The contract with the bucket and DataSync").
MANIFEST_FORMAT = 1
# A manifest larger than this is not read (about a million files); the uploader never writes one.
MAX_MANIFEST_BYTES = 256 * 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Characters no file name of an acquisition may hold (uploader naming rules: Windows and S3 together).
_FORBIDDEN = set('<>:"\\|?*') | {chr(code) for code in range(32)} | {"\x7f"}
MAX_KEY_BYTES = 1024


class ManifestError(ValueError):
    """An acquisition manifest the toolkit refuses to act on; the message says why (never its content)."""


@dataclass(frozen=True)
class ManifestFile:
    path: str  # relative POSIX path inside the acquisition
    size: int
    sha256: str


@dataclass(frozen=True)
class ObjectVersion:
    """One entry of ListObjectVersions: a version, or a delete marker (`size` None)."""

    key: str
    version_id: str
    last_modified: float  # epoch seconds
    size: int | None
    is_latest: bool = False

    @property
    def is_delete_marker(self) -> bool:
        return self.size is None


@dataclass
class Acquisition:
    instrument: str
    name: str
    manifest: ObjectVersion
    status: str = "pending"  # complete | incomplete | transferred | invalid
    reason: str = ""
    files: list[tuple[str, ObjectVersion]] = field(default_factory=list)  # (key, version), manifest included
    total_bytes: int = 0
    file_count: int = 0  # the acquisition's files, its manifest not counted

    @property
    def prefix(self) -> str:
        return acquisition_prefix(self.instrument, self.name)

    def summary(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "acquisition": self.name,
            "status": self.status,
            "reason": self.reason,
            "files": self.file_count,
            "bytes": self.total_bytes,
            "manifest_version_id": self.manifest.version_id,
        }


def _path_problem(path: Any) -> str | None:
    if not isinstance(path, str) or not path:
        return "a file path is not a non-empty string"
    if path.startswith("/") or path.endswith("/"):
        return f"path {path!r} is not relative to the acquisition"
    for component in path.split("/"):
        if component in ("", ".", ".."):
            return f"path {path!r} has an empty, '.' or '..' component"
        if any(char in _FORBIDDEN for char in component):
            return f"path {path!r} holds a character Windows or the uploader does not allow"
        if component.endswith((" ", ".")):
            return f"path {path!r} has a name ending with a space or a period, which Windows drops"
        if is_device_name(component):
            return f"path {path!r} has a reserved Windows device name ({component.split('.')[0]})"
    if path == MANIFEST_NAME:
        return f"path {path!r} is the manifest's own name"
    return None


def parse_manifest(text: bytes | str, instrument: str, acquisition: str) -> list[ManifestFile]:
    """The files an acquisition manifest lists, or ManifestError naming what is wrong with it."""
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as err:
        raise ManifestError(f"the manifest is not valid JSON ({err.__class__.__name__})") from None
    if not isinstance(document, dict):
        raise ManifestError("the manifest is not a JSON object")
    if document.get("format") != MANIFEST_FORMAT:
        raise ManifestError(f"the manifest's format is {document.get('format')!r}, not {MANIFEST_FORMAT}")
    if document.get("instrument") != instrument or document.get("acquisition") != acquisition:
        raise ManifestError(
            "the manifest names another instrument or acquisition than its key "
            f"({document.get('instrument')!r}/{document.get('acquisition')!r})"
        )
    entries = document.get("files")
    if not isinstance(entries, list) or not entries:
        raise ManifestError("the manifest lists no files")
    files: list[ManifestFile] = []
    seen: set[str] = set()
    prefix_bytes = len(acquisition_prefix(instrument, acquisition).encode("utf-8"))
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ManifestError(f"files[{index}] is not an object")
        path, size, digest = entry.get("path"), entry.get("size"), entry.get("sha256")
        problem = _path_problem(path)
        if problem:
            raise ManifestError(f"files[{index}]: {problem}")
        if prefix_bytes + len(path.encode("utf-8")) > MAX_KEY_BYTES:
            raise ManifestError(f"files[{index}]: the key of {path!r} is longer than S3 allows")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ManifestError(f"files[{index}]: size is not a non-negative integer")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise ManifestError(f"files[{index}]: sha256 is not 64 lower-case hexadecimal digits")
        folded = path.casefold()
        if folded in seen:
            raise ManifestError(f"files[{index}]: {path!r} is listed twice (names ignore case on the share)")
        seen.add(folded)
        files.append(ManifestFile(path, size, digest))
    return files


def versions_by_key(entries: list[ObjectVersion]) -> dict[str, list[ObjectVersion]]:
    """Versions and delete markers of each key, newest first."""
    grouped: dict[str, list[ObjectVersion]] = {}
    for entry in entries:
        grouped.setdefault(entry.key, []).append(entry)
    for versions in grouped.values():
        versions.sort(key=lambda entry: (entry.last_modified, entry.is_latest), reverse=True)
    return grouped


def version_as_of(versions: list[ObjectVersion], moment: float) -> ObjectVersion | None:
    """The version a key had at `moment` (None when it did not exist, or was deleted)."""
    for entry in versions:  # newest first
        if entry.last_modified <= moment:
            return None if entry.is_delete_marker else entry
    return None


def find_acquisitions(entries: list[ObjectVersion], instruments: list[str]) -> list[Acquisition]:
    """Every acquisition of the given instruments whose manifest currently exists, oldest manifest first."""
    wanted = set(instruments)
    found = []
    for key, versions in versions_by_key(entries).items():
        names = split_manifest_key(key)
        if names is None or names[0] not in wanted:
            continue
        current = versions[0]
        if current.is_delete_marker:
            continue
        found.append(Acquisition(names[0], names[1], current))
    return sorted(found, key=lambda item: (item.manifest.last_modified, item.instrument, item.name))


def check_complete(
    acquisition: Acquisition, listed: list[ManifestFile], entries: dict[str, list[ObjectVersion]]
) -> None:
    """Mark the acquisition complete (with the versions to move) or incomplete (with why)."""
    moment = acquisition.manifest.last_modified
    missing: list[str] = []
    wrong_size: list[str] = []
    files: list[tuple[str, ObjectVersion]] = []
    for item in listed:
        key = acquisition.prefix + item.path
        version = version_as_of(entries.get(key, []), moment)
        if version is None:
            missing.append(item.path)
        elif version.size != item.size:
            wrong_size.append(item.path)
        else:
            files.append((key, version))
    acquisition.file_count = len(listed)
    acquisition.total_bytes = sum(item.size for item in listed)
    if missing or wrong_size:
        acquisition.status = "incomplete"
        parts = []
        if missing:
            parts.append(f"{len(missing)} of {len(listed)} files missing (first: {missing[0]})")
        if wrong_size:
            parts.append(f"{len(wrong_size)} with another size than listed (first: {wrong_size[0]})")
        acquisition.reason = "; ".join(parts)
        return
    acquisition.status = "complete"
    acquisition.files = [*files, (acquisition.manifest.key, acquisition.manifest)]


def datasync_manifest(acquisitions: list[Acquisition]) -> str:
    """The CSV DataSync reads: one `path,versionId` line per object, relative to the S3 location's
    `incoming/` subdirectory (DataSync user guide, "Creating your manifest": paths relative to the
    location's prefix; a comma, quote or line break in a path is quoted)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    root = KEY_ROOT + "/"
    for acquisition in acquisitions:
        for key, version in acquisition.files:
            writer.writerow([key[len(root) :], version.version_id])
    return out.getvalue()


def read_datasync_manifest(text: str) -> list[tuple[str, str | None]]:
    """(key, version id) of each line of a DataSync manifest written by `datasync_manifest`."""
    rows = []
    for row in csv.reader(io.StringIO(text)):
        if not row:
            continue
        rows.append((f"{KEY_ROOT}/{row[0]}", row[1] if len(row) > 1 and row[1] else None))
    return rows
