"""The tenant_session lookup: a tenant's session of the deployer role, kept in a credentials file of its own.

The play's environment names the file and its profile only: no key reaches a task's output, even at -vvv.
A session is reused for `reuse_for` seconds, then assumed again; a tenant name that is not one fails before
any AWS call.
"""

from __future__ import annotations

import configparser
import stat
import time
import uuid
from pathlib import Path

from sandbox.client import SandboxClient
from tests.helpers import run_tasks

LOOKUP = "'iconeus.tenant_toolkit.tenant_session'"
REGION = "eu-west-3"
ROLE = "arn:aws:iam::123456789012:role/tenant-deployer"


def _session_play(sandbox: SandboxClient, tmp_path: Path, tenant: str, tasks: int = 3, **options: str) -> list:
    """`tasks` tasks, each running as the tenant's session (its environment templated for each task)."""
    extra = "".join(f", {key}={value!r}" for key, value in options.items())
    path = (
        f"{{{{ lookup({LOOKUP}, '{ROLE}', tenant='{tenant}', region='{REGION}', endpoint_url='{sandbox.endpoint}', "
        f"access_key='testing', secret_key='testing', session_dir='{tmp_path / 'sessions'}'{extra}) }}}}"
    )
    environment = {
        "AWS_SHARED_CREDENTIALS_FILE": path,
        "AWS_PROFILE": f"tenant-session-{tenant}",
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_SESSION_TOKEN": "",
    }
    return [
        {
            "name": f"Who am I, call {n}",
            "amazon.aws.aws_caller_info": {},
            "environment": environment,
            "register": f"caller_{n}",
        }
        for n in range(tasks)
    ] + [{"name": "Show", "ansible.builtin.debug": {"msg": "ARN={{ caller_0.arn }}"}}]


def test_one_session_serves_every_task_and_no_key_reaches_the_output(sandbox: SandboxClient, tmp_path: Path) -> None:
    tenant = f"ses-{uuid.uuid4().hex[:6]}"
    run = run_tasks(tmp_path, _session_play(sandbox, tmp_path, tenant), sandbox, region=REGION, args=["-vvv"])
    output = run.stdout + run.stderr
    assert run.rc == 0, output
    assert f"ARN=arn:aws:sts::123456789012:assumed-role/tenant-deployer/toolkit-{tenant}" in output
    calls = sandbox.log(run.log_mark)
    assume = [c for c in calls if c["operation"] == "AssumeRole"]
    assert len(assume) == 1 and assume[0]["tenant"] == tenant  # the session tag tenant=<tenant>
    (written,) = (tmp_path / "sessions").iterdir()
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "sessions").stat().st_mode) == 0o700
    profile = configparser.ConfigParser()
    profile.read(written)
    keys = profile[f"tenant-session-{tenant}"]
    assert set(keys) == {"aws_access_key_id", "aws_secret_access_key", "aws_session_token"}
    for secret in keys.values():
        assert secret not in output
    assert str(written) in output  # the path is what the environment shows


def test_a_session_is_assumed_again_once_reused_long_enough(sandbox: SandboxClient, tmp_path: Path) -> None:
    tenant = f"ses-{uuid.uuid4().hex[:6]}"
    first = run_tasks(tmp_path / "a", _session_play(sandbox, tmp_path, tenant, tasks=1), sandbox, region=REGION)
    assert first.rc == 0, first.stdout + first.stderr
    (written,) = (tmp_path / "sessions").iterdir()
    aged = written.read_text().replace("# assumed: ", f"# assumed: {int(time.time()) - 901}\n# was: ", 1)
    written.write_text(aged)
    again = run_tasks(tmp_path / "b", _session_play(sandbox, tmp_path, tenant, tasks=1), sandbox, region=REGION)
    assert again.rc == 0, again.stdout + again.stderr
    assert [c["operation"] for c in sandbox.log(again.log_mark)].count("AssumeRole") == 1
    assert "# was: " not in written.read_text()


def test_a_tenant_that_is_no_tenant_name_fails_before_any_call(sandbox: SandboxClient, tmp_path: Path) -> None:
    run = run_tasks(tmp_path, _session_play(sandbox, tmp_path, "../etc", tasks=1), sandbox, region=REGION)
    assert run.rc != 0
    assert "tenant: must be a tenant name" in run.stdout + run.stderr
    assert [c["operation"] for c in sandbox.log(run.log_mark)] == []


def test_the_tenant_environment_runs_the_modules_as_the_tenant_session(sandbox: SandboxClient, tmp_path: Path) -> None:
    """tenant_environment, as group_vars/tenants/aws.yml calls it: the role and the keys it is assumed with come
    from the host's variables; the module runs as the session, and no key reaches the output at -vvv."""
    tenant = f"env-{uuid.uuid4().hex[:6]}"
    lookup = f"{{{{ lookup('iconeus.tenant_toolkit.tenant_environment', tenant='{tenant}', region='{REGION}') }}}}"
    tasks = [
        {
            "name": "Who am I",
            "amazon.aws.aws_caller_info": {},
            "environment": lookup,
            "register": "caller",
            "vars": {
                "aws_assume_role_arn": ROLE,
                "aws_endpoint_url": sandbox.endpoint,
                "aws_access_key_id": "testing",
                "aws_secret_access_key": "testing",
            },
        },
        {"name": "Show", "ansible.builtin.debug": {"msg": "ARN={{ caller.arn }}"}},
    ]
    environment = {"TENANT_TOOLKIT_SESSION_DIR": str(tmp_path / "sessions")}
    run = run_tasks(tmp_path, tasks, sandbox, region=REGION, args=["-vvv"], env=environment)
    output = run.stdout + run.stderr
    assert run.rc == 0, output
    assert f"ARN=arn:aws:sts::123456789012:assumed-role/tenant-deployer/toolkit-{tenant}" in output
    assume = [c for c in sandbox.log(run.log_mark) if c["operation"] == "AssumeRole"]
    assert len(assume) == 1 and assume[0]["tenant"] == tenant
    (written,) = (tmp_path / "sessions").iterdir()
    profile = configparser.ConfigParser()
    profile.read(written)
    for secret in profile[f"tenant-session-{tenant}"].values():
        assert secret not in output
