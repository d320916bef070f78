"""site.yml run by ansible-runner from a private data directory laid out as AWX / Automation Platform lays it
out for a job (docs/awx.md): the project checkout in project/, the tenant's inventory with its definition as
host variables in inventory/, the job template's extra variables in env/extravars, the credentials'
environment variables in env/envvars, and the job's events under artifacts/.

A user-pool tenant is converged against the sandbox through `ansible_runner.run`; the test reads the job
events as AWX stores them and the resources back from the sandbox.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import ansible_runner
import pytest
import yaml

from sandbox.client import SandboxClient
from tests.helpers import BIN, ROOT, demo_tenant


def userpool_tenant(name: str, cidr: str) -> dict[str, Any]:
    tenant = demo_tenant()
    tenant.update(name=name, environment="test", auth="userpool")
    tenant["network"]["cidr"] = cidr
    tenant.pop("directory")
    tenant.pop("storage")
    tenant["users"] = [{k: v for k, v in user.items() if k != "username"} for user in tenant["users"]]
    return tenant


def check_out_project(destination: Path) -> None:
    """The project as an AWX project sync leaves it: the repository's tracked files (links kept as links)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
    ).stdout.split("\0")
    for relative in filter(None, listed):
        source = ROOT / relative
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        elif source.is_file():
            shutil.copy2(source, target)


def write_private_data_dir(directory: Path, tenant: dict[str, Any], sandbox: SandboxClient) -> Path:
    check_out_project(directory / "project")
    # One inventory per tenant: the tenant is the inventory's only host, its definition the host's variables.
    inventory = {"all": {"children": {"tenants": {"hosts": {tenant["name"]: {"tenant": tenant}}}}}}
    (directory / "inventory").mkdir()
    (directory / "inventory" / "hosts.yml").write_text(yaml.safe_dump(inventory, sort_keys=False))
    (directory / "env").mkdir()
    # The job template's extra variables: where AWS is (the sandbox) and how the image is made there.
    # sandbox_state_dir: where the sandbox-only calls read its admin token (group_vars/tenants/sandbox.yml).
    extravars = {
        "aws_endpoint_url": sandbox.endpoint,
        "image_build_mode": "sandbox_hook",
        "sandbox_state_dir": str(sandbox.state_dir),
    }
    (directory / "env" / "extravars").write_text(yaml.safe_dump(extravars))
    # The Amazon Web Services credential type injects the key pair as environment variables.
    envvars = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    (directory / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    return directory


def job_events(artifacts: Path) -> list[dict[str, Any]]:
    """The job's events in their order, as AWX reads them from artifacts/<ident>/job_events/."""
    [job] = [path for path in artifacts.iterdir() if path.is_dir()]
    events = [json.loads(path.read_text()) for path in (job / "job_events").glob("*.json")]
    return sorted(events, key=lambda event: event["counter"])


@pytest.fixture
def runner_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # ansible-runner starts `ansible-playbook` from PATH in project/, whose ansible.cfg must be the one read.
    monkeypatch.setenv("PATH", f"{BIN}:{os.environ.get('PATH', '')}")
    monkeypatch.delenv("ANSIBLE_CONFIG", raising=False)
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


def test_ansible_runner_converges_a_tenant_from_an_awx_private_data_dir(
    tmp_path: Path, sandbox: SandboxClient, runner_environment: None
) -> None:
    name = f"awx-{uuid.uuid4().hex[:6]}"
    tenant = userpool_tenant(name, "10.71.0.0/16")
    private = write_private_data_dir(tmp_path / "job", tenant, sandbox)
    mark = sandbox.log_mark()

    run = ansible_runner.run(private_data_dir=str(private), playbook="site.yml", quiet=True, timeout=900)

    stdout = run.stdout.read()
    assert run.status == "successful", stdout[-4000:]
    assert run.rc == 0
    assert run.stats["failures"] == {} and run.stats["dark"] == {}
    assert name in run.stats["ok"]

    # The job's events, as AWX stores them: the tenant's tasks of every stage, on the tenant's host.
    events = job_events(private / "artifacts")
    kinds = [event["event"] for event in events]
    assert kinds[0] == "playbook_on_start" and "playbook_on_stats" in kinds
    done = [event["event_data"] for event in events if event["event"] in ("runner_on_ok", "runner_on_skipped")]
    tasks = {data["task"] for data in done if data.get("host") == name}
    assert "Ensure the tenant definition and the application catalogue are valid" in tasks
    assert "Ensure the tenant's fleet streams the catalogue image with its capacity and schedule" in tasks
    plays = {event["event_data"].get("play") for event in events if event["event"] == "playbook_on_play_start"}
    assert {"Converge the tenant network", "Converge the tenant fleets", "Converge the tenant stacks"} <= plays
    changed = [data for data in done if data.get("host") == name and data.get("res", {}).get("changed")]
    assert changed, "the first run of a tenant changes things"

    # The resources exist in the sandbox, owned by the tenant, and the calls went there.
    assert sandbox.stats(mark)["mutating"] > 0
    ec2 = sandbox.boto3("ec2")
    [vpc] = ec2.describe_vpcs(Filters=[{"Name": "tag:tenant", "Values": [name]}])["Vpcs"]
    assert vpc["CidrBlock"] == "10.71.0.0/16"
    appstream = sandbox.boto3("appstream")
    [fleet] = appstream.describe_fleets(Names=[f"{name}-fleet"])["Fleets"]
    assert fleet["State"] == "RUNNING"
    assert appstream.list_tags_for_resource(ResourceArn=fleet["Arn"])["Tags"]["tenant"] == name
    assert appstream.list_associated_stacks(FleetName=f"{name}-fleet")["Names"] == [f"{name}-stack"]
    associations = appstream.describe_user_stack_associations(StackName=f"{name}-stack")["UserStackAssociations"]
    assert {a["UserName"] for a in associations} == {user["email"] for user in tenant["users"]}
