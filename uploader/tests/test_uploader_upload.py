"""An acquisition arrives whole and checked, its manifest last; a second run sends nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ingest_testkit import (
    MiB,
    Uploader,
    calls_on,
    composite_b64,
    key_of,
    keys_in,
    mutating_s3,
    object_bytes,
    sha256_b64,
    sha256_hex,
    write_files,
)

MANIFEST = "_acquisition-manifest.json"


def acquisition_files() -> dict[str, bytes]:
    """Small files, nested folders, an empty file, and one file of 2 parts and a bit above the 5 MiB threshold."""
    return {
        "scan.source": os.urandom(12 * MiB + 12345),
        "metadata.json": b'{"probe": "L22-14v"}\n',
        "frames/0001.bin": os.urandom(70_000),
        "frames/0002.bin": os.urandom(70_000),
        "notes/empty.txt": b"",
    }


def test_a_folder_arrives_with_identical_bytes_and_its_manifest_last(uploader: Uploader, tmp_path: Path) -> None:
    files = acquisition_files()
    source = write_files(tmp_path / "acq-2026-12-01_0930", files)

    run = uploader.upload(source)

    assert run.rc == 0, run.output
    assert "manifest written last" in run.stdout
    name, s3 = "acq-2026-12-01_0930", uploader.sandbox.boto3("s3")
    expected_keys = {key_of("ECHO-01", name, relative) for relative in [*files, MANIFEST]}
    assert keys_in(uploader.sandbox, uploader.bucket) == expected_keys
    for relative, content in files.items():
        assert object_bytes(uploader.sandbox, uploader.bucket, key_of("ECHO-01", name, relative)) == content, relative

    # The manifest's request is the last mutating one, after each file's last (PutObject, or CompleteMultipartUpload).
    calls = mutating_s3(run.calls)
    manifest_put = calls_on(calls, "PUT", uploader.bucket, key_of("ECHO-01", name, MANIFEST))
    assert len(manifest_put) == 1 and calls[-1] is manifest_put[0], [c["operation"] for c in calls]
    for relative in files:
        finished = calls_on(
            calls, "POST" if relative == "scan.source" else "PUT", uploader.bucket, key_of("ECHO-01", name, relative)
        )
        assert finished and finished[-1]["seq"] < manifest_put[0]["seq"], relative
    big = key_of("ECHO-01", name, "scan.source")
    assert len(calls_on(calls, "PUT", uploader.bucket, big)) == 3  # 5 MiB + 5 MiB + the rest
    assert len(calls_on(calls, "POST", uploader.bucket, big)) == 2  # CreateMultipartUpload, CompleteMultipartUpload

    manifest = json.loads(object_bytes(uploader.sandbox, uploader.bucket, key_of("ECHO-01", name, MANIFEST)))
    assert set(manifest) == {
        "format",
        "instrument",
        "acquisition",
        "completed_at",
        "uploader_version",
        "files",
        "total_bytes",
    }
    assert (manifest["format"], manifest["instrument"], manifest["acquisition"]) == (1, "ECHO-01", name)
    assert manifest["completed_at"].endswith("Z") and manifest["uploader_version"] == "0.1.0"
    assert manifest["files"] == [
        {"path": relative, "size": len(files[relative]), "sha256": sha256_hex(files[relative])}
        for relative in sorted(files)
    ]
    assert manifest["total_bytes"] == sum(len(content) for content in files.values())

    # S3 holds SHA-256 checksums it verified: the file's own for single requests, the parts' composite otherwise.
    for relative, content in files.items():
        attributes = s3.get_object_attributes(
            Bucket=uploader.bucket, Key=key_of("ECHO-01", name, relative), ObjectAttributes=["Checksum", "ObjectSize"]
        )
        assert attributes["ObjectSize"] == len(content)
        if relative == "scan.source":
            assert attributes["Checksum"] == {"ChecksumSHA256": composite_b64(content), "ChecksumType": "COMPOSITE"}
        else:
            assert attributes["Checksum"]["ChecksumSHA256"] == sha256_b64(content), relative
    head = s3.head_object(Bucket=uploader.bucket, Key=key_of("ECHO-01", name, MANIFEST), ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == sha256_b64(
        object_bytes(uploader.sandbox, uploader.bucket, key_of("ECHO-01", name, MANIFEST))
    )


def test_a_second_run_sends_nothing_and_says_so(uploader: Uploader, tmp_path: Path) -> None:
    source = write_files(tmp_path / "acq-2", {"a.bin": b"a" * 1000, "b.bin": os.urandom(6 * MiB)})
    assert uploader.upload(source).rc == 0

    again = uploader.upload(source)

    assert again.rc == 0, again.output
    assert "already sent" in again.stdout
    assert [c for c in again.calls if c["service"] == "s3"] == []


def test_a_single_file_is_an_acquisition_named_after_it(uploader: Uploader, tmp_path: Path) -> None:
    content = os.urandom(3000)
    source = write_files(tmp_path, {"run-17.scan": content}) / "run-17.scan"

    run = uploader.upload(source)

    assert run.rc == 0, run.output
    assert keys_in(uploader.sandbox, uploader.bucket) == {
        key_of("ECHO-01", "run-17.scan", "run-17.scan"),
        key_of("ECHO-01", "run-17.scan", MANIFEST),
    }
    assert object_bytes(uploader.sandbox, uploader.bucket, key_of("ECHO-01", "run-17.scan", "run-17.scan")) == content


def test_acquisition_gives_the_name_in_s3(uploader: Uploader, tmp_path: Path) -> None:
    source = write_files(tmp_path / "Scan of Monday", {"a.bin": b"a"})
    run = uploader.upload(source, "--acquisition", "scan-monday")
    assert run.rc == 0, run.output
    assert key_of("ECHO-01", "scan-monday", "a.bin") in keys_in(uploader.sandbox, uploader.bucket)


def test_a_sent_acquisition_that_changed_is_refused_unless_forced(uploader: Uploader, tmp_path: Path) -> None:
    source = write_files(tmp_path / "acq-3", {"a.bin": b"first"})
    assert uploader.upload(source).rc == 0
    (source / "a.bin").write_bytes(b"second version")

    refused = uploader.upload(source)

    assert refused.rc == 3, refused.output
    assert "was sent on" in refused.stderr and "--force" in refused.stderr
    assert mutating_s3(refused.calls) == []
    forced = uploader.upload(source, "--force")
    assert forced.rc == 0, forced.output
    assert object_bytes(uploader.sandbox, uploader.bucket, key_of("ECHO-01", "acq-3", "a.bin")) == b"second version"
    manifest = json.loads(object_bytes(uploader.sandbox, uploader.bucket, key_of("ECHO-01", "acq-3", MANIFEST)))
    assert manifest["files"][0]["sha256"] == sha256_hex(b"second version")


def test_the_local_data_is_never_modified(uploader: Uploader, tmp_path: Path) -> None:
    files = {"a.bin": os.urandom(6 * MiB), "b/c.txt": b"c"}
    source = write_files(tmp_path / "acq-4", files)
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in source.rglob("*") if p.is_file()}

    assert uploader.upload(source).rc == 0

    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in source.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in source.rglob("*")) == ["a.bin", "b", "c.txt"]
