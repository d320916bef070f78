"""No password of a tenant leaks: not in -vvv output, not in the sandbox's logs, not in any file of the run.

The demo tenant is converged with `-vvv`: the run generates and stores every password, reads each back
from Secrets Manager and hands it to the modules that need it. The passwords are then read from the
sandbox's Secrets Manager (`<tenant>/directory/admin`, `<tenant>/directory/appstream-service`,
`<tenant>/users/<sam>`) and searched for, verbatim, in the run's output, in the sandbox's state
directory (request log, server log) and in every file written during the run under the project tree,
the run's temporary directories, ~/.ansible and the system temporary directory.

On a machine with Samba's AD DC the sandbox backs the directory with a real DC, so the LDAP/SMB stages
(service account, users and their initial passwords, GPO, home folders) run and are searched too.
Without it those stages are skipped by site.yml, and so is the user-password case here, with the reason.

AWS access keys given as host variables (issue 16, section 4) are searched for the same way, in a shorter
run (the network stage, `-vvv`) that is not slow: they reach the modules through a 0600 credentials file of
the run (lookup `tenant_credentials`), never through a task's environment, which `-vvv` prints.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sandbox.client import SandboxClient
from sandbox.samba import SambaDcProvider
from tests.conftest import TEST_TIME_SCALE
from tests.helpers import ROOT, PlaybookRun, run_playbook
from tests.reliability.tenants import REGION, assert_converged, demo_tenant, write_demo_inventory
from tests.sandboxes import running_sandbox

TENANT = "rel-secrets"
KEYS_TENANT = "rel-keys"
# Trees never written by a converge, or too large to read for nothing.
SKIPPED_DIRECTORIES = {".git", ".venv", "collections", "__pycache__", ".ruff_cache", ".pytest_cache", "node_modules"}
MAX_FILE_SIZE = 64 * 1024 * 1024


@dataclass
class SecretsRun:
    sandbox: SandboxClient
    samba: bool
    run: PlaybookRun
    started: float
    run_temp: Path
    passwords: dict[str, str] = field(default_factory=dict)  # secret name -> password


def _passwords(sandbox: SandboxClient, tenant: str) -> dict[str, str]:
    client = sandbox.boto3("secretsmanager", REGION)
    found = {}
    for page in client.get_paginator("list_secrets").paginate():
        for secret in page["SecretList"]:
            if not secret["Name"].startswith(f"{tenant}/"):
                continue
            value = client.get_secret_value(SecretId=secret["ARN"])["SecretString"]
            found[secret["Name"]] = json.loads(value)["password"] if value.lstrip().startswith("{") else value
    return found


@pytest.fixture(scope="module")
def secrets_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretsRun]:
    samba = SambaDcProvider.available()
    state_dir = tmp_path_factory.mktemp("secrets-sandbox")
    with running_sandbox(state_dir, TEST_TIME_SCALE, samba=samba) as sandbox:
        inventory = write_demo_inventory(tmp_path_factory.mktemp("secrets"), demo_tenant(TENANT), sandbox)
        run_temp = tmp_path_factory.mktemp("secrets-run-tmp")
        # Everything the runs put in temporary files lands where it can be searched.
        environment = {
            "TMPDIR": str(run_temp),
            "ANSIBLE_LOCAL_TEMP": str(run_temp / "local"),
            "ANSIBLE_REMOTE_TEMP": str(run_temp / "remote"),
        }
        started = time.time() - 1  # file times have a coarse resolution on some file systems
        run = run_playbook("site.yml", inventory, sandbox, env=environment, args=["-vvv"], timeout=1800)
        assert_converged(run, TENANT)
        result = SecretsRun(sandbox, samba, run, started, run_temp)
        result.passwords = _passwords(sandbox, TENANT)
        yield result


def _written_files(
    root: Path, since: float, skip: set[str] = SKIPPED_DIRECTORIES, excluded: tuple[Path, ...] = ()
) -> Iterator[Path]:
    """Regular files under `root` modified since `since` (symbolic links are not followed)."""
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [
            name for name in subdirectories if name not in skip and Path(directory, name) not in excluded
        ]
        for name in files:
            path = Path(directory, name)
            try:
                stat = path.lstat()
            except OSError:
                continue  # removed meanwhile
            if path.is_file() and not path.is_symlink() and stat.st_mtime >= since and stat.st_size <= MAX_FILE_SIZE:
                yield path


def _leaks_in_files(paths: Iterator[Path], passwords: dict[str, str]) -> list[str]:
    needles = {name: password.encode() for name, password in passwords.items()}
    leaks = []
    for path in paths:
        try:
            content = path.read_bytes()
        except OSError:
            continue  # unreadable (another user's) or removed meanwhile
        leaks += [f"{name} in {path}" for name, needle in needles.items() if needle in content]
    return leaks


@pytest.mark.slow
def test_the_runs_stored_the_tenant_passwords(secrets_run: SecretsRun) -> None:
    names = set(secrets_run.passwords)
    assert {f"{TENANT}/directory/admin", f"{TENANT}/directory/appstream-service"} <= names
    # Random and long enough that finding one by chance is impossible.
    assert all(len(password) >= 16 for password in secrets_run.passwords.values())


def _user_secrets(secrets_run: SecretsRun) -> set[str]:
    if not secrets_run.samba:
        pytest.skip("no Samba AD DC here: site.yml skips the users stage, so no user password exists to leak")
    return {name for name in secrets_run.passwords if name.startswith(f"{TENANT}/users/")}


@pytest.mark.slow
def test_each_user_has_an_initial_password_in_secrets_manager(secrets_run: SecretsRun) -> None:
    assert len(_user_secrets(secrets_run)) == len(demo_tenant(TENANT)["users"])


@pytest.mark.slow
def test_user_passwords_are_kept_under_the_username_of_the_definition(secrets_run: SecretsRun) -> None:
    assert _user_secrets(secrets_run) == {f"{TENANT}/users/{sam}" for sam in ("ada", "alan", "ghopper")}


@pytest.mark.slow
def test_no_password_appears_in_the_verbose_output(secrets_run: SecretsRun) -> None:
    output = secrets_run.run.stdout + secrets_run.run.stderr
    assert "in the worker process (pid" in output, "the run was not verbose"
    assert [name for name, password in secrets_run.passwords.items() if password in output] == []


@pytest.mark.slow
def test_no_password_reaches_the_sandbox_request_log_or_its_state(secrets_run: SecretsRun) -> None:
    state_dir = Path(secrets_run.sandbox.state_dir)  # type: ignore[attr-defined]
    request_log = state_dir / "requests.jsonl"
    assert request_log.stat().st_size > 0
    # The Samba DCs stand in for AWS's own directory, which holds the credentials by design.
    files = _written_files(state_dir, 0, SKIPPED_DIRECTORIES | {"samba"})
    assert _leaks_in_files(files, secrets_run.passwords) == []


@pytest.mark.slow
def test_no_password_is_written_to_a_file_by_the_runs(secrets_run: SecretsRun) -> None:
    roots = [ROOT, secrets_run.run_temp, Path.home() / ".ansible", Path(tempfile.gettempdir())]
    # The sandbox's state has a test of its own (its Samba DCs hold the credentials by design).
    excluded = (Path(secrets_run.sandbox.state_dir),)  # type: ignore[attr-defined]
    leaks = []
    for root in dict.fromkeys(roots):
        if root.exists():
            files = _written_files(root, secrets_run.started, excluded=excluded)
            leaks += _leaks_in_files(files, secrets_run.passwords)
    assert leaks == []


# ---------------------------------------------------------------------------------------------------
# AWS access keys given as host variables
# ---------------------------------------------------------------------------------------------------
@dataclass
class KeysRun:
    sandbox: SandboxClient
    run: PlaybookRun
    started: float
    inventory: Path
    run_temp: Path
    run_files: Path
    keys: dict[str, str]  # host variable -> value, random so that finding one by chance is impossible


# The controller has no credentials of its own (empty keys count as none, and its shared files below do not
# exist, so no profile can give any): a run that calls AWS at all used the host vars' keys.
NO_CONTROLLER_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "",
    "AWS_SECRET_ACCESS_KEY": "",
    "AWS_SESSION_TOKEN": "",
    "AWS_SECURITY_TOKEN": "",
}


@pytest.fixture(scope="module")
def keys_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeysRun]:
    keys = {
        "aws_secret_access_key": "tsk" + secrets.token_hex(20),
        "aws_session_token": "tst" + secrets.token_hex(32),
    }
    with running_sandbox(tmp_path_factory.mktemp("keys-sandbox"), TEST_TIME_SCALE) as sandbox:
        inventory = write_demo_inventory(tmp_path_factory.mktemp("keys"), demo_tenant(KEYS_TENANT), sandbox, keys)
        run_temp = tmp_path_factory.mktemp("keys-run-tmp")
        nowhere = run_temp / "no-such-file"
        environment = {
            **NO_CONTROLLER_CREDENTIALS,
            "AWS_SHARED_CREDENTIALS_FILE": str(nowhere),
            "AWS_CONFIG_FILE": str(nowhere),
            "TMPDIR": str(run_temp),
            "ANSIBLE_LOCAL_TEMP": str(run_temp / "local"),
            "ANSIBLE_REMOTE_TEMP": str(run_temp / "remote"),
            "TENANT_TOOLKIT_RUN_FILES": str(run_temp / "run-files"),
        }
        started = time.time() - 1
        run = run_playbook("playbooks/network.yml", inventory, sandbox, env=environment, args=["-vvv"])
        yield KeysRun(sandbox, run, started, inventory, run_temp, run_temp / "run-files", keys)


def test_a_run_with_keys_as_host_vars_authenticates_with_them(keys_run: KeysRun) -> None:
    assert_converged(keys_run.run, KEYS_TENANT)
    operations = {call["operation"] for call in keys_run.run.calls()}
    assert {"CreateVpc", "CreateSubnet"} <= operations, operations
    # The lock was taken and released with the same credentials (the tenant_state callback builds its
    # session from the lock task's environment): no warning that it could not be released.
    assert {"PutItem", "DeleteItem"} <= {call["operation"] for call in keys_run.run.bookkeeping()}
    assert "could not release the lock" not in keys_run.run.stdout + keys_run.run.stderr


def test_keys_as_host_vars_reach_the_modules_through_a_credentials_file_of_the_run(keys_run: KeysRun) -> None:
    output = keys_run.run.stdout + keys_run.run.stderr
    assert "in the worker process (pid" in output, "the run was not verbose"
    # -vvv prints each module's environment (on its command line, or as it runs in the worker, in_worker.py):
    # a file of the run and a profile.
    assert f"AWS_SHARED_CREDENTIALS_FILE={keys_run.run_files}/r-" in output
    assert f"AWS_PROFILE=tenant-keys-{KEYS_TENANT}" in output


def test_no_key_given_as_a_host_var_appears_in_the_verbose_output(keys_run: KeysRun) -> None:
    output = keys_run.run.stdout + keys_run.run.stderr
    assert [name for name, value in keys_run.keys.items() if value in output] == []


def test_no_key_given_as_a_host_var_is_left_in_a_file(keys_run: KeysRun) -> None:
    roots = [ROOT, keys_run.run_temp, Path.home() / ".ansible", Path.home() / ".cache", Path(tempfile.gettempdir())]
    # The inventory holds the keys by design; the sandbox's request log has a test of its own above.
    excluded = (keys_run.inventory, Path(keys_run.sandbox.state_dir))  # type: ignore[attr-defined]
    leaks = []
    for root in dict.fromkeys(roots):
        if root.exists():
            leaks += _leaks_in_files(_written_files(root, keys_run.started, excluded=excluded), keys_run.keys)
    assert leaks == []
    # The run's credentials file went with the run.
    assert list(keys_run.run_files.iterdir()) == []
