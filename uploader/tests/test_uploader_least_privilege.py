"""The uploader works end to end, resume included, with nothing but the instrument's policy (IAM enforced).

The instrument's principal may only PutObject under incoming/<instrument>/, and list the parts of and abort its
own multipart uploads there (README.md, "The instrument's IAM policy"): no GetObject, HeadObject, ListBucket,
DeleteObject or ListBucketMultipartUploads. A sandbox of this module's own enforces IAM (sandbox/iam_enforce.py).
"""

from __future__ import annotations

import json
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from ingest_testkit import REGION, MiB, Uploader, calls_on, key_of, keys_in, object_bytes, own_sandbox, write_files

from sandbox.client import SandboxClient

ACCOUNT = "123456789012"
INSTRUMENT = "ECHO-01"


def instrument_policy(bucket: str, instrument: str) -> dict[str, Any]:
    own_keys = f"arn:aws:s3:::{bucket}/incoming/{instrument}/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "SendAcquisitions", "Effect": "Allow", "Action": "s3:PutObject", "Resource": own_keys},
            {
                "Sid": "ResumeOwnUploads",
                "Effect": "Allow",
                "Action": ["s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"],
                "Resource": own_keys,
            },
        ],
    }


@pytest.fixture(scope="module")
def enforcing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxClient]:
    with own_sandbox(tmp_path_factory.mktemp("enforcing-sandbox"), enforce_iam=True) as sandbox:
        assert sandbox.health()["enforce_iam"] is True
        yield sandbox


@pytest.fixture
def instrument(enforcing: SandboxClient, tmp_path: Path) -> Uploader:
    """As root: a bucket, and an IAM user holding exactly the instrument policy; the uploader runs with its key."""
    bucket = f"landing-{uuid.uuid4().hex[:12]}"
    enforcing.boto3("s3").create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    iam = enforcing.boto3("iam")
    user = f"instrument-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    iam.put_user_policy(
        UserName=user, PolicyName="ingest", PolicyDocument=json.dumps(instrument_policy(bucket, INSTRUMENT))
    )
    assert not iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
    key = iam.create_access_key(UserName=user)["AccessKey"]
    home = tmp_path / "home"
    home.mkdir()
    credentials = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    uploader = Uploader(enforcing, bucket, INSTRUMENT, home, credentials)
    uploader.arn = f"arn:aws:iam::{ACCOUNT}:user/{user}"  # type: ignore[attr-defined]
    return uploader


def s3_calls(run_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in run_calls if c["service"] == "s3"]


def test_the_instrument_policy_suffices_to_send_kill_and_resume(instrument: Uploader, tmp_path: Path) -> None:
    content = os.urandom(3 * 5 * MiB + 99)
    source = write_files(tmp_path / "acq-lp", {"scan.source": content, "meta.json": b"{}", "empty": b""})
    key = key_of(INSTRUMENT, "acq-lp", "scan.source")

    killed = instrument.upload(source, "--concurrency", "1", env={"INGEST_UPLOAD_TEST_KILL_AFTER_PARTS": "2"})
    resumed = instrument.upload(source)

    assert killed.rc == -signal.SIGKILL, killed.output
    assert resumed.rc == 0, resumed.output
    assert "resuming scan.source: S3 holds 2 of its parts" in resumed.stderr
    assert len(calls_on(resumed.calls, "GET", instrument.bucket, key)) == 1  # ListParts, allowed on its own keys
    assert len(calls_on(resumed.calls, "PUT", instrument.bucket, key)) == 2
    calls = s3_calls(killed.calls) + s3_calls(resumed.calls)
    assert {c.get("principal") for c in calls} == {instrument.arn}  # type: ignore[attr-defined]
    assert [c for c in calls if c["error"]] == []
    assert object_bytes(instrument.sandbox, instrument.bucket, key) == content
    assert key_of(INSTRUMENT, "acq-lp", "_acquisition-manifest.json") in keys_in(instrument.sandbox, instrument.bucket)


def test_a_stale_upload_is_aborted_with_the_instrument_policy(instrument: Uploader, tmp_path: Path) -> None:
    source = write_files(tmp_path / "acq-stale", {"scan.source": os.urandom(2 * 5 * MiB + 1)})
    key = key_of(INSTRUMENT, "acq-stale", "scan.source")
    assert instrument.upload(source, "--concurrency", "1", env={"INGEST_UPLOAD_TEST_KILL_AFTER_PARTS": "1"}).rc < 0
    replaced = os.urandom(5 * MiB + 5)
    (source / "scan.source").write_bytes(replaced)

    resumed = instrument.upload(source)

    assert resumed.rc == 0, resumed.output
    aborts = calls_on(resumed.calls, "DELETE", instrument.bucket, key)
    assert len(aborts) == 1 and aborts[0]["error"] is None and aborts[0]["principal"] == instrument.arn  # type: ignore[attr-defined]
    assert object_bytes(instrument.sandbox, instrument.bucket, key) == replaced
    assert instrument.sandbox.boto3("s3").list_multipart_uploads(Bucket=instrument.bucket).get("Uploads", []) == []


def test_another_instrument_s_prefix_is_refused_with_exit_5(instrument: Uploader, tmp_path: Path) -> None:
    source = write_files(tmp_path / "acq-x", {"a.bin": b"a"})

    run = instrument.upload(source, instrument="OTHER-02")

    assert run.rc == 5, run.output
    assert (
        f"access denied to s3://{instrument.bucket}/incoming/OTHER-02/acq-x/ (AccessDenied on PutObject)" in run.stderr
    )
    assert "is not authorized to perform: s3:PutObject" in run.stderr
    assert "--instrument" in run.stderr  # what to check
    assert instrument.credentials["AWS_SECRET_ACCESS_KEY"] not in run.output
    assert not any(k.startswith("incoming/OTHER-02/") for k in keys_in(instrument.sandbox, instrument.bucket))
    assert [c["denied_action"] for c in s3_calls(run.calls)] == ["s3:PutObject"]


@pytest.mark.parametrize(
    ("call", "action"),
    [
        (lambda s3, b: s3.get_object(Bucket=b, Key=f"incoming/{INSTRUMENT}/acq/a.bin"), "s3:GetObject"),
        (lambda s3, b: s3.head_object(Bucket=b, Key=f"incoming/{INSTRUMENT}/acq/a.bin"), "s3:GetObject"),
        (lambda s3, b: s3.list_objects_v2(Bucket=b, Prefix=f"incoming/{INSTRUMENT}/"), "s3:ListBucket"),
        (lambda s3, b: s3.delete_object(Bucket=b, Key=f"incoming/{INSTRUMENT}/acq/a.bin"), "s3:DeleteObject"),
        (lambda s3, b: s3.list_multipart_uploads(Bucket=b), "s3:ListBucketMultipartUploads"),
    ],
)
def test_the_instrument_can_read_list_or_delete_nothing(instrument: Uploader, call: Any, action: str) -> None:
    instrument.sandbox.boto3("s3").put_object(
        Bucket=instrument.bucket, Key=f"incoming/{INSTRUMENT}/acq/a.bin", Body=b"a"
    )
    s3 = boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=instrument.sandbox.endpoint,
        aws_access_key_id=instrument.credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=instrument.credentials["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )
    mark = instrument.sandbox.log_mark()
    with pytest.raises(ClientError) as refused:
        call(s3, instrument.bucket)
    assert refused.value.response["Error"]["Code"] in {"AccessDenied", "403"}
    assert [c["denied_action"] for c in instrument.sandbox.log(mark)] == [action]
    assert object_bytes(instrument.sandbox, instrument.bucket, f"incoming/{INSTRUMENT}/acq/a.bin") == b"a"
