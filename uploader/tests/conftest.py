"""Fixtures of the uploader's tests: a sandbox per session (per xdist worker), a bucket and an uploader per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from ingest_testkit import REGION, Uploader, own_sandbox

from sandbox.client import SandboxClient


@pytest.fixture(scope="session")
def landing_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxClient]:
    with own_sandbox(tmp_path_factory.mktemp("uploader-sandbox")) as sandbox:
        yield sandbox


def new_bucket(sandbox: SandboxClient) -> str:
    name = f"landing-{uuid.uuid4().hex[:12]}"
    sandbox.boto3("s3").create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


@pytest.fixture
def uploader(landing_sandbox: SandboxClient, tmp_path: Path) -> Uploader:
    home = tmp_path / "home"
    home.mkdir()
    return Uploader(landing_sandbox, new_bucket(landing_sandbox), "ECHO-01", home)
