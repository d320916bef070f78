"""Helpers of the uploader's tests: a sandbox of their own, acquisitions on disk, the CLI in a subprocess.

The uploader's tests import nothing from the project's `tests` package; they use the project's sandbox (moto
S3 behind `python -m sandbox`) and its request log, as the project's own tests do.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

UPLOADER = Path(__file__).resolve().parent.parent
ROOT = UPLOADER.parent
SOURCE = UPLOADER / "src"
for path in (ROOT, SOURCE):  # the sandbox package, and the uploader whether or not it is installed
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from sandbox.client import SandboxClient  # noqa: E402

REGION = "eu-west-3"
MiB = 1024 * 1024
TIME_SCALE = 0.001
# Small parts keep the multipart tests quick: S3's minimum part size.
SMALL = ["--part-size", "5MiB", "--multipart-threshold", "5MiB"]
SECRET = "Sup3r-S3cret-Value-That-Must-Never-Show"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def own_sandbox(state_dir: Path, enforce_iam: bool = False) -> Iterator[SandboxClient]:
    """`python -m sandbox start` on a free port, stopped afterwards (as the project's tests/conftest.py does)."""
    port = free_port()
    command = [sys.executable, "-m", "sandbox"]
    common = ["--port", str(port), "--state-dir", str(state_dir)]
    environment = {**os.environ, "SANDBOX_SAMBA": "0"}
    environment.pop("SANDBOX_ENFORCE_IAM", None)
    extra = ["--enforce-iam"] if enforce_iam else []
    subprocess.run(
        [*command, "start", *common, "--time-scale", str(TIME_SCALE), *extra],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env=environment,
    )
    client = SandboxClient(port=port, region=REGION, state_dir=state_dir)
    try:
        yield client
    finally:
        subprocess.run([*command, "stop", *common], cwd=ROOT, check=False, capture_output=True)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def composite_b64(data: bytes, part_size: int = 5 * MiB) -> str:
    digests = b"".join(hashlib.sha256(data[i : i + part_size]).digest() for i in range(0, len(data), part_size))
    return base64.b64encode(hashlib.sha256(digests).digest()).decode()


def write_files(folder: Path, files: dict[str, bytes]) -> Path:
    for relative, content in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return folder


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str
    calls: list[dict[str, Any]]

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Uploader:
    """The `ingest-upload` command aimed at one sandbox and bucket, with its own state directory."""

    sandbox: SandboxClient
    bucket: str
    instrument: str
    home: Path  # AWS config files, XDG folders and the state directory live here: nothing of the machine's
    credentials: dict[str, str] = field(
        default_factory=lambda: {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    )

    @property
    def state_dir(self) -> Path:
        return self.home / "state"

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        kept = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "INGEST_UPLOAD_"))}
        return {
            **kept,
            "PYTHONPATH": os.pathsep.join([str(SOURCE), kept.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            "AWS_CONFIG_FILE": str(self.home / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.home / "aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "XDG_STATE_HOME": str(self.home / "xdg-state"),
            **self.credentials,
            **(extra or {}),
        }

    def target(self, instrument: str | None = None) -> list[str]:
        return [
            "--bucket",
            self.bucket,
            "--instrument",
            instrument or self.instrument,
            "--endpoint-url",
            self.sandbox.endpoint,
            "--region",
            REGION,
            "--state-dir",
            str(self.state_dir),
            "--max-attempts",
            "2",
        ]

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> Run:
        mark = self.sandbox.log_mark()
        done = subprocess.run(
            [sys.executable, "-m", "ingest_uploader", *args],
            cwd=self.home,
            capture_output=True,
            text=True,
            env=self.environment(env),
            timeout=timeout,
            check=False,
        )
        return Run(done.returncode, done.stdout, done.stderr, self.sandbox.log(mark))

    def upload(self, path: Path, *extra: str, env: dict[str, str] | None = None, instrument: str | None = None) -> Run:
        return self.run("upload", str(path), *self.target(instrument), *SMALL, "--quiet", *extra, env=env)

    def journals(self) -> list[dict[str, Any]]:
        return [json.loads(p.read_text()) for p in sorted((self.state_dir / "journals").glob("*.json"))]


def key_of(instrument: str, acquisition: str, relative: str) -> str:
    return f"incoming/{instrument}/{acquisition}/{relative}"


def calls_on(calls: list[dict[str, Any]], method: str, bucket: str, key: str) -> list[dict[str, Any]]:
    """Request log entries of one REST call kind on one object (`PUT /bucket/key`: PutObject and UploadPart)."""
    return [c for c in calls if c["service"] == "s3" and c["operation"] == f"{method} /{bucket}/{key}"]


def mutating_s3(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in calls if c["service"] == "s3" and c["mutating"]]


def object_bytes(sandbox: SandboxClient, bucket: str, key: str) -> bytes:
    return sandbox.boto3("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def keys_in(sandbox: SandboxClient, bucket: str) -> set[str]:
    pages = sandbox.boto3("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}
