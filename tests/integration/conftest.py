"""Fixtures shared by the integration tests (the `sandbox` fixture itself is in tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.client import SandboxClient


@pytest.fixture(scope="module")
def ec2(sandbox: SandboxClient) -> Any:
    return sandbox.boto3("ec2")
