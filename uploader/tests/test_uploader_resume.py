"""An interrupted upload resumes from the journal and S3's own list of parts, without sending a stored part again."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from ingest_testkit import MiB, Uploader, calls_on, key_of, mutating_s3, object_bytes, write_files

KILL_AFTER = "INGEST_UPLOAD_TEST_KILL_AFTER_PARTS"
PARTS = 5  # 4 parts of 5 MiB and a last one


def big_acquisition(tmp_path: Path, name: str = "acq-big") -> tuple[Path, bytes]:
    content = os.urandom(4 * 5 * MiB + 777)
    return write_files(tmp_path / name, {"scan.source": content, "info.txt": b"probe L22"}), content


def in_progress_upload(uploader: Uploader) -> dict:
    (journal,) = uploader.journals()
    return journal["files"]["scan.source"]["upload"]


def test_a_killed_upload_resumes_without_sending_stored_parts_again(uploader: Uploader, tmp_path: Path) -> None:
    source, content = big_acquisition(tmp_path)
    key = key_of("ECHO-01", "acq-big", "scan.source")

    # The process dies (SIGKILL, as in a power cut) right after S3 stored its 3rd part, before the journal recorded it.
    killed = uploader.upload(source, "--concurrency", "1", env={KILL_AFTER: "3"})

    assert killed.rc == -signal.SIGKILL, killed.output
    upload = in_progress_upload(uploader)
    assert sorted(upload["parts"]) == ["1", "2"]
    stored = uploader.sandbox.boto3("s3").list_parts(Bucket=uploader.bucket, Key=key, UploadId=upload["upload_id"])
    assert [part["PartNumber"] for part in stored["Parts"]] == [1, 2, 3]
    assert (
        calls_on(killed.calls, "PUT", uploader.bucket, key_of("ECHO-01", "acq-big", "_acquisition-manifest.json")) == []
    )

    resumed = uploader.upload(source)

    assert resumed.rc == 0, resumed.output
    assert "resuming scan.source: S3 holds 3 of its parts" in resumed.stderr
    # ListParts (a GET on the key) told it what S3 holds; only parts 4 and 5 travelled again.
    assert len(calls_on(resumed.calls, "GET", uploader.bucket, key)) == 1
    assert len(calls_on(resumed.calls, "PUT", uploader.bucket, key)) == PARTS - 3
    assert len(calls_on(killed.calls, "PUT", uploader.bucket, key)) + PARTS - 3 == PARTS
    assert len(calls_on(resumed.calls, "POST", uploader.bucket, key)) == 1  # CompleteMultipartUpload only
    assert object_bytes(uploader.sandbox, uploader.bucket, key) == content
    assert mutating_s3(resumed.calls)[-1]["operation"].endswith("/_acquisition-manifest.json")


def test_parts_sent_in_parallel_and_stored_but_not_journaled_are_not_sent_again(
    uploader: Uploader, tmp_path: Path
) -> None:
    source, content = big_acquisition(tmp_path)
    key = key_of("ECHO-01", "acq-big", "scan.source")

    # Three parts in flight at a time; the process dies when the last of the 5 answers arrives (no request is
    # in flight then, so the request log tells the two runs apart), before the journal records that part.
    killed = uploader.upload(source, "--concurrency", "3", env={KILL_AFTER: str(PARTS)})

    assert killed.rc == -signal.SIGKILL, killed.output
    upload = in_progress_upload(uploader)
    assert len(upload["parts"]) == PARTS - 1
    stored = uploader.sandbox.boto3("s3").list_parts(Bucket=uploader.bucket, Key=key, UploadId=upload["upload_id"])
    assert len(stored["Parts"]) == PARTS
    resumed = uploader.upload(source)
    assert resumed.rc == 0, resumed.output
    assert calls_on(resumed.calls, "PUT", uploader.bucket, key) == []
    assert len(calls_on(resumed.calls, "POST", uploader.bucket, key)) == 1  # CompleteMultipartUpload
    assert object_bytes(uploader.sandbox, uploader.bucket, key) == content


def test_an_upload_s3_no_longer_knows_is_started_again_and_said_so(uploader: Uploader, tmp_path: Path) -> None:
    source, content = big_acquisition(tmp_path)
    key = key_of("ECHO-01", "acq-big", "scan.source")
    assert uploader.upload(source, "--concurrency", "1", env={KILL_AFTER: "2"}).rc == -signal.SIGKILL
    gone = in_progress_upload(uploader)["upload_id"]
    # A lifecycle rule (AbortIncompleteMultipartUpload) or an administrator aborted it meanwhile.
    uploader.sandbox.boto3("s3").abort_multipart_upload(Bucket=uploader.bucket, Key=key, UploadId=gone)

    resumed = uploader.upload(source)

    assert resumed.rc == 0, resumed.output
    assert "S3 no longer knows the upload of scan.source" in resumed.stderr
    assert len(calls_on(resumed.calls, "PUT", uploader.bucket, key)) == PARTS
    assert object_bytes(uploader.sandbox, uploader.bucket, key) == content


def test_a_file_changed_between_runs_is_sent_again_from_its_start(uploader: Uploader, tmp_path: Path) -> None:
    source, _ = big_acquisition(tmp_path)
    key = key_of("ECHO-01", "acq-big", "scan.source")
    assert uploader.upload(source, "--concurrency", "1", env={KILL_AFTER: "2"}).rc == -signal.SIGKILL
    old_upload = in_progress_upload(uploader)["upload_id"]
    replaced = os.urandom(3 * 5 * MiB + 1)
    (source / "scan.source").write_bytes(replaced)

    resumed = uploader.upload(source)

    assert resumed.rc == 0, resumed.output
    assert "scan.source changed since it was read; sending it again from its start" in resumed.stderr
    # The stale upload is aborted (a DELETE on the key), the new content sent whole.
    assert len(calls_on(resumed.calls, "DELETE", uploader.bucket, key)) == 1
    assert len(calls_on(resumed.calls, "PUT", uploader.bucket, key)) == 4
    assert object_bytes(uploader.sandbox, uploader.bucket, key) == replaced
    s3 = uploader.sandbox.boto3("s3")
    assert s3.list_multipart_uploads(Bucket=uploader.bucket).get("Uploads", []) == []
    assert old_upload != (uploader.journals()[0]["files"]["scan.source"].get("upload") or {}).get("upload_id")


def test_status_shows_what_is_resumable_without_calling_aws(uploader: Uploader, tmp_path: Path) -> None:
    source, _ = big_acquisition(tmp_path)
    assert uploader.upload(source, "--concurrency", "1", env={KILL_AFTER: "3"}).rc == -signal.SIGKILL

    status = uploader.run("status", "--state-dir", str(uploader.state_dir))

    assert status.rc == 0, status.output
    assert f"resumable s3://{uploader.bucket}/incoming/ECHO-01/acq-big/" in status.stdout
    assert "scan.source: 2 part(s) of 5.0 MiB stored" in status.stdout
    assert str(source) in status.stdout
    assert status.calls == []
    assert uploader.upload(source).rc == 0
    after = uploader.run("status", "--state-dir", str(uploader.state_dir))
    assert "nothing pending" in after.stdout
    assert "sent      s3://" in uploader.run("status", "--state-dir", str(uploader.state_dir), "--all").stdout
