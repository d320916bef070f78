# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The landing bucket seen by the toolkit: its acquisitions and their state, the marks of what was moved.

Calls S3 through a client wrapped with AWSRetry (calls take `aws_retry=True`); the rules themselves are in
`acquisitions` (pure).
"""

from __future__ import annotations

import datetime
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.errors import error_code
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest.acquisitions import (
    MAX_MANIFEST_BYTES,
    Acquisition,
    ManifestError,
    ObjectVersion,
    check_complete,
    find_acquisitions,
    parse_manifest,
    read_datasync_manifest,
    versions_by_key,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest.layout import (
    KEY_ROOT,
    TRANSFERRED_TAG_KEY,
    TRANSFERRED_TAG_VALUE,
)


def _epoch(value: Any) -> float:
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    return float(value)


def list_versions(s3: Any, bucket: str, prefix: str = KEY_ROOT + "/") -> list[ObjectVersion]:
    """Every object version and delete marker under `prefix` (ListObjectVersions, all pages)."""
    entries: list[ObjectVersion] = []
    request: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    while True:
        page = s3.list_object_versions(aws_retry=True, **request)
        for item in page.get("Versions") or []:
            entries.append(
                ObjectVersion(
                    item["Key"],
                    str(item.get("VersionId") or "null"),
                    _epoch(item["LastModified"]),
                    int(item.get("Size", 0)),
                    bool(item.get("IsLatest")),
                )
            )
        for item in page.get("DeleteMarkers") or []:
            entries.append(
                ObjectVersion(
                    item["Key"],
                    str(item.get("VersionId") or "null"),
                    _epoch(item["LastModified"]),
                    None,
                    bool(item.get("IsLatest")),
                )
            )
        if not page.get("IsTruncated"):
            return entries
        request["KeyMarker"] = page.get("NextKeyMarker")
        request["VersionIdMarker"] = page.get("NextVersionIdMarker")


def is_marked(s3: Any, bucket: str, key: str, version_id: str) -> bool:
    tags = s3.get_object_tagging(Bucket=bucket, Key=key, VersionId=version_id, aws_retry=True).get("TagSet", [])
    return any(tag.get("Key") == TRANSFERRED_TAG_KEY and tag.get("Value") == TRANSFERRED_TAG_VALUE for tag in tags)


def mark(s3: Any, bucket: str, objects: list[tuple[str, str | None]]) -> int:
    """Tag each object version as transferred (S3 lifecycle expires it after the retention); returns how many.

    A version deleted meanwhile (by the lifecycle or an administrator) is skipped."""
    marked = 0
    tagging = {"TagSet": [{"Key": TRANSFERRED_TAG_KEY, "Value": TRANSFERRED_TAG_VALUE}]}
    for key, version_id in objects:
        params: dict[str, Any] = {"Bucket": bucket, "Key": key, "Tagging": tagging}
        if version_id and version_id != "null":
            params["VersionId"] = version_id
        try:
            s3.put_object_tagging(aws_retry=True, **params)
        except Exception as err:
            if error_code(err) in ("NoSuchKey", "NoSuchVersion", "404"):
                continue
            raise
        marked += 1
    return marked


def classify(s3: Any, bucket: str, instruments: list[str]) -> list[Acquisition]:
    """Every acquisition of the instruments with its status: complete, incomplete, transferred or invalid.

    Costs one ListObjectVersions per 1,000 versions, then per acquisition not yet transferred one
    GetObjectTagging and one GetObject of its manifest (transferred ones cost the tagging read only)."""
    entries = list_versions(s3, bucket)
    grouped = versions_by_key(entries)
    acquisitions = find_acquisitions(entries, instruments)
    for acquisition in acquisitions:
        manifest = acquisition.manifest
        if is_marked(s3, bucket, manifest.key, manifest.version_id):
            acquisition.status = "transferred"
            continue
        if (manifest.size or 0) > MAX_MANIFEST_BYTES:
            acquisition.status, acquisition.reason = "invalid", "the manifest is larger than the toolkit reads"
            continue
        body = s3.get_object(Bucket=bucket, Key=manifest.key, VersionId=manifest.version_id, aws_retry=True)["Body"]
        try:
            listed = parse_manifest(body.read(MAX_MANIFEST_BYTES + 1), acquisition.instrument, acquisition.name)
        except ManifestError as err:
            acquisition.status, acquisition.reason = "invalid", str(err)
            continue
        check_complete(acquisition, listed, grouped)
    return acquisitions


def manifest_objects(s3: Any, bucket: str, key: str, version_id: str | None = None) -> list[tuple[str, str | None]]:
    """(key, version id) of each object a DataSync manifest of the toolkit names."""
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id:
        params["VersionId"] = version_id
    text = s3.get_object(aws_retry=True, **params)["Body"].read().decode("utf-8")
    return read_datasync_manifest(text)
