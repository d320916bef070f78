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
"""

from __future__ import annotations

import json
import os
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

pytestmark = pytest.mark.slow

TENANT = "rel-secrets"
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


def test_the_runs_stored_the_tenant_passwords(secrets_run: SecretsRun) -> None:
    names = set(secrets_run.passwords)
    assert {f"{TENANT}/directory/admin", f"{TENANT}/directory/appstream-service"} <= names
    # Random and long enough that finding one by chance is impossible.
    assert all(len(password) >= 16 for password in secrets_run.passwords.values())


def _user_secrets(secrets_run: SecretsRun) -> set[str]:
    if not secrets_run.samba:
        pytest.skip("no Samba AD DC here: site.yml skips the users stage, so no user password exists to leak")
    return {name for name in secrets_run.passwords if name.startswith(f"{TENANT}/users/")}


def test_each_user_has_an_initial_password_in_secrets_manager(secrets_run: SecretsRun) -> None:
    assert len(_user_secrets(secrets_run)) == len(demo_tenant(TENANT)["users"])


def test_user_passwords_are_kept_under_the_username_of_the_definition(secrets_run: SecretsRun) -> None:
    assert _user_secrets(secrets_run) == {f"{TENANT}/users/{sam}" for sam in ("ada", "alan", "ghopper")}


def test_no_password_appears_in_the_verbose_output(secrets_run: SecretsRun) -> None:
    output = secrets_run.run.stdout + secrets_run.run.stderr
    assert "ESTABLISH LOCAL CONNECTION" in output, "the run was not verbose"
    assert [name for name, password in secrets_run.passwords.items() if password in output] == []


def test_no_password_reaches_the_sandbox_request_log_or_its_state(secrets_run: SecretsRun) -> None:
    state_dir = Path(secrets_run.sandbox.state_dir)  # type: ignore[attr-defined]
    request_log = state_dir / "requests.jsonl"
    assert request_log.stat().st_size > 0
    # The Samba DCs stand in for AWS's own directory, which holds the credentials by design.
    files = _written_files(state_dir, 0, SKIPPED_DIRECTORIES | {"samba"})
    assert _leaks_in_files(files, secrets_run.passwords) == []


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
