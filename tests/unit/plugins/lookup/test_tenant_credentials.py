"""The tenant_credentials lookup: host-var keys as a 0600 credentials file of the run, never a value in output."""

from __future__ import annotations

import configparser
import stat
from pathlib import Path
from typing import Any

import pytest
from ansible.errors import AnsibleLookupError
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws import credentials_file
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state import run

from .run_files import RUN_ID, SECRET, load_lookup

tc = load_lookup("iconeus.tenant_toolkit.tenant_credentials")


def lookup(**options: Any) -> list[str]:
    return tc.LookupModule().run([], {}, **options)


def test_the_keys_are_a_profile_of_a_private_file_of_the_run(run_files: Path) -> None:
    (path,) = lookup(tenant="acme-neuro", access_key="AKIAEXAMPLE", secret_key=SECRET, session_token="tok/en=")
    assert Path(path) == run_files / RUN_ID / "acme-neuro.credentials"
    assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(path).parent.stat().st_mode) == 0o700
    parser = configparser.ConfigParser()
    parser.read(path)
    assert dict(parser["tenant-keys-acme-neuro"]) == {
        "aws_access_key_id": "AKIAEXAMPLE",
        "aws_secret_access_key": SECRET,
        "aws_session_token": "tok/en=",
    }


def test_a_file_already_holding_the_keys_is_not_rewritten(run_files: Path) -> None:
    (path,) = lookup(tenant="acme-neuro", access_key="AKIAEXAMPLE", secret_key=SECRET)
    before = Path(path).stat().st_ino
    assert lookup(tenant="acme-neuro", access_key="AKIAEXAMPLE", secret_key=SECRET) == [path]
    assert Path(path).stat().st_ino == before
    lookup(tenant="acme-neuro", access_key="AKIAEXAMPLE", secret_key=SECRET + "2")
    assert Path(path).stat().st_ino != before  # replaced atomically with the new keys
    assert SECRET + "2" in Path(path).read_text()


def test_an_empty_session_token_is_left_out(run_files: Path) -> None:
    (path,) = lookup(tenant="acme-neuro", access_key="AKIAEXAMPLE", secret_key=SECRET, session_token="")
    assert "aws_session_token" not in Path(path).read_text()


@pytest.mark.parametrize("secret", [SECRET + "\n[other]\ncredential_process = /bin/sh", "a b", ""])
def test_a_key_that_is_not_a_key_is_refused_without_showing_it(run_files: Path, secret: str) -> None:
    with pytest.raises(AnsibleLookupError) as error:
        lookup(tenant="acme-neuro", access_key="AKIAEXAMPLE", secret_key=secret)
    message = str(error.value)
    assert "aws_secret_access_key" in message or "secret_key" in message
    assert SECRET not in message
    assert not (run_files / RUN_ID / "acme-neuro.credentials").exists()


def test_a_bad_tenant_name_is_refused(run_files: Path) -> None:
    with pytest.raises(AnsibleLookupError, match="tenant: must be a tenant name"):
        lookup(tenant="../etc", access_key="AKIAEXAMPLE", secret_key=SECRET)


def test_without_the_run_of_the_tenant_state_callback_nothing_is_written(
    run_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(run.RUN_PID_ENV, "1")  # another process's run, not this one's
    with pytest.raises(AnsibleLookupError, match="tenant_state callback is not enabled"):
        lookup(tenant="acme-neuro", access_key="AKIAEXAMPLE", secret_key=SECRET)
    assert not run_files.exists()


def test_removing_the_run_files_removes_only_that_run(tmp_path: Path) -> None:
    environ = {credentials_file.RUN_FILES_ENV: str(tmp_path)}
    mine = credentials_file.run_files_directory(RUN_ID, environ)
    other = credentials_file.run_files_directory("r-ba9876543210", environ)
    credentials_file.write_private(mine / "t.credentials", "x")
    credentials_file.remove_run_files(RUN_ID, environ)
    assert not mine.exists() and other.exists()
    credentials_file.remove_run_files("../..", environ)  # not a run id: nothing happens
    assert other.exists()
