"""Fixtures of the lookup tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws import credentials_file
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state import run

from .run_files import RUN_ID


@pytest.fixture
def run_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """This process is the controller of run RUN_ID, whose files go under tmp_path."""
    monkeypatch.setenv(run.RUN_ID_ENV, RUN_ID)
    monkeypatch.setenv(run.RUN_PID_ENV, str(os.getpid()))
    monkeypatch.setenv(credentials_file.RUN_FILES_ENV, str(tmp_path / "runs"))
    return tmp_path / "runs"
