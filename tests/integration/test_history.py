"""The change history: one record per run that changed a tenant, written by the tenant_state callback to the
state store's bucket; playbooks/ops/history.yml lists them and the tenant report shows the last ten."""

from __future__ import annotations

import datetime
import json
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state import run, store

from sandbox.client import SandboxClient
from tests.helpers import ROOT, PlaybookRun, run_playbook
from tests.integration.test_state import lock_playbook, ok, said, tenant_inventory, unique

REGION = "eu-west-3"
BUCKET = store.bucket_name("123456789012", REGION)
SECRET = "Tr0ub4dor&3-never-in-history"


def records(sandbox: SandboxClient, tenant: str) -> list[dict[str, Any]]:
    s3 = sandbox.boto3("s3", REGION)
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=store.history_prefix(tenant)).get("Contents", [])
    return [json.loads(s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read()) for o in listed]


def galaxy_version() -> str:
    return yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]


@pytest.fixture(scope="module")
def converged(sandbox: SandboxClient, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A tenant's network converged twice (the second run changes nothing), then a run that fails."""
    directory = tmp_path_factory.mktemp("history")
    name = unique("hist")
    inventory = tenant_inventory(directory / "inv", sandbox, name)
    first = ok(run_playbook("playbooks/network.yml", inventory, sandbox))
    after_first = records(sandbox, name)
    second = ok(run_playbook("playbooks/network.yml", inventory, sandbox))
    second_writes = [c["operation"] for c in second.bookkeeping() if c["mutating"]]
    after_second = records(sandbox, name)
    tasks = [
        {"name": "Change something openly", "ansible.builtin.debug": {"msg": "x"}, "changed_when": True},
        {
            "name": "Change something secret",
            "ansible.builtin.debug": {"msg": SECRET},
            "changed_when": True,
            "no_log": True,
        },
        {"name": "Show a password", "ansible.builtin.debug": {"var": "app_password"}, "changed_when": True},
        {"name": "Fail", "ansible.builtin.fail": {"msg": "the fleet did not start"}},
    ]
    failed = run_playbook(
        lock_playbook(directory / "pb", tasks), inventory, sandbox, extra_vars={"app_password": SECRET}
    )
    assert failed.rc == 2
    return {
        "name": name,
        "inventory": inventory,
        "first": first,
        "after_first": after_first,
        "second_writes": second_writes,
        "after_second": after_second,
        "after_failed": records(sandbox, name),
    }


def test_a_run_that_changes_a_tenant_leaves_one_record_of_who_changed_what(converged: dict[str, Any]) -> None:
    (record,) = converged["after_first"]
    assert run.is_run_id(record["run_id"]) and record["tenant"] == converged["name"]
    assert record["status"] == "ok" and record["check_mode"] is False
    assert record["operator"]["user"] and record["operator"]["caller_arn"].startswith("arn:aws:")
    assert record["controller"] == socket.gethostname()
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    assert record["toolkit"]["version"] == galaxy_version() and record["toolkit"]["commit"] == commit
    assert record["playbook"]["path"] == "playbooks/network.yml"
    network = next(c for c in record["changes"] if c["action"] == "iconeus.tenant_toolkit.tenant_network")
    assert network["diff"]["after"]["vpc"]["cidr"] == "10.40.0.0/16"
    assert any(action.startswith("create VPC") for action in network["actions"])
    assert record["recap"]["changed"] >= 1 and record["recap"]["failures"] == 0
    assert record["started"] <= record["ended"]


def test_a_run_that_changes_nothing_leaves_no_record(converged: dict[str, Any]) -> None:
    assert converged["after_second"] == converged["after_first"]
    assert converged["second_writes"] == ["PutItem", "DeleteItem"]  # the lock, taken and released


def test_a_failed_run_leaves_its_record_with_the_failure_and_no_secret(converged: dict[str, Any]) -> None:
    failed = next(r for r in converged["after_failed"] if r["status"] == "failed")
    assert failed["failures"] == [{"task": "Fail", "action": "ansible.builtin.fail", "msg": "the fleet did not start"}]
    names = [change["task"] for change in failed["changes"]]
    assert names == ["Change something openly", "Change something secret", "Show a password"]
    assert failed["changes"][1]["censored"] is True
    assert SECRET not in json.dumps(failed)


def history(converged: dict[str, Any], sandbox: SandboxClient, **variables: Any) -> PlaybookRun:
    return run_playbook("playbooks/ops/history.yml", converged["inventory"], sandbox, extra_vars=variables)


def test_history_lists_the_changes_newest_first(converged: dict[str, Any], sandbox: SandboxClient) -> None:
    result = ok(history(converged, sandbox))
    text = said(result)
    failed = next(r for r in converged["after_failed"] if r["status"] == "failed")
    first = converged["after_first"][0]
    assert "2 of 2 change(s)" in text
    assert text.index(failed["run_id"]) < text.index(first["run_id"])
    assert f"{failed['run_id']} failed" in text and "FAILED Fail: the fleet did not start" in text
    assert "playbooks/network.yml" in text and first["operator"]["caller_arn"] in text
    assert result.stats()["mutating"] == 0 and not [c for c in result.bookkeeping() if c["mutating"]]


def test_history_filters_by_date(converged: dict[str, Any], sandbox: SandboxClient) -> None:
    tomorrow = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    assert "0 of 0 change(s) since " + tomorrow in said(ok(history(converged, sandbox, date_from=tomorrow)))
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    assert "1 of 2 change(s) until " + today in said(ok(history(converged, sandbox, date_to=today, limit=1)))


@pytest.mark.parametrize(
    ("variables", "error"),
    [
        ({"date_from": "yesterday"}, 'date_from: "yesterday" is not a date written YYYY-MM-DD'),
        (
            {"date_from": "2026-12-07", "date_to": "2026-12-01"},
            'date_from: "2026-12-07" is above date_to ("2026-12-01")',
        ),
        ({"limit": -1}, "limit: -1 is below the minimum of 0"),
    ],
)
def test_history_checks_its_variables_before_any_aws_call(
    converged: dict[str, Any], sandbox: SandboxClient, variables: dict[str, Any], error: str
) -> None:
    result = history(converged, sandbox, **variables)
    assert result.rc != 0 and error in said(result)
    assert result.client.log(result.log_mark) == []


def test_the_report_shows_the_last_changes(converged: dict[str, Any], sandbox: SandboxClient, tmp_path: Path) -> None:
    ok(
        run_playbook(
            "playbooks/ops/report.yml", converged["inventory"], sandbox, extra_vars={"report_dir": str(tmp_path)}
        )
    )
    markdown = (tmp_path / f"{converged['name']}.md").read_text()
    page = (tmp_path / f"{converged['name']}.html").read_text()
    section = markdown[markdown.index("## Last changes") :]
    for record in converged["after_failed"]:
        assert record["run_id"] in section and record["run_id"] in page
    assert "| failed |" in section and "the fleet did not start" in section
