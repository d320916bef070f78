"""Drift across tenants (playbooks/ops/drift.yml) on the sandbox: in sync, drifted and failed tenants are told
apart in reports/drift.json and drift.html, the exit status is 0 only when every tenant is in sync, and the
whole report is made with read calls only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sandbox.client import SandboxClient
from tests.helpers import PlaybookRun, run_playbook, write_inventory
from tests.integration.test_site import saml_tenant, userpool_tenant

pytestmark = pytest.mark.slow  # two whole tenants converged, then three plans of both


@pytest.fixture(scope="module")
def tenants(sandbox: SandboxClient, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("drift")
    inventories = {
        "drift-saml": write_inventory(base / "drift-saml", saml_tenant("drift-saml", "10.71.0.0/16"), sandbox),
        "drift-pool": write_inventory(base / "drift-pool", userpool_tenant("drift-pool", "10.72.0.0/16"), sandbox),
    }
    converge = run_playbook("site.yml", list(inventories.values()), sandbox, timeout=1200)
    assert converge.rc == 0, converge.stdout[-4000:]
    return inventories


def drift(sandbox: SandboxClient, inventories: list[Path], report_dir: Path) -> tuple[PlaybookRun, dict[str, Any]]:
    run = run_playbook(
        "playbooks/ops/drift.yml", inventories, sandbox, extra_vars={"report_dir": str(report_dir)}, timeout=1200
    )
    return run, json.loads((report_dir / "drift.json").read_text())


def all_mutating(run: PlaybookRun) -> list[str]:
    """Every mutating call of the run, the state store's included (check mode takes no lock)."""
    assert run.client is not None
    return [f"{c['service']}:{c['operation']}" for c in run.client.log(run.log_mark) if c["mutating"]]


def test_converged_tenants_are_in_sync_and_the_exit_status_is_0(
    sandbox: SandboxClient, tenants: dict[str, Path], tmp_path: Path
) -> None:
    run, report = drift(sandbox, list(tenants.values()), tmp_path)
    assert run.rc == 0, run.stdout[-3000:]
    assert report["summary"] == {
        "status": "in_sync",
        "tenants": 2,
        "in_sync": 2,
        "drifted": 0,
        "errors": 0,
        "changes": 0,
    }
    assert all_mutating(run) == []
    assert "In sync: a converge would change nothing." in (tmp_path / "drift.html").read_text()
    # The plan's diffs name users: the reports are personal data, readable by the operators' group only.
    for name in ("drift.json", "drift.html", "drift-plan.log"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o640, name


def test_a_change_made_outside_the_toolkit_is_drift_with_its_diff_and_exit_status_2(
    sandbox: SandboxClient, tenants: dict[str, Path], tmp_path: Path
) -> None:
    # Someone raises the fleet's idle timeout and turns printing on in the console.
    appstream = sandbox.boto3("appstream")
    appstream.update_fleet(Name="drift-pool-fleet", IdleDisconnectTimeoutInSeconds=1800)
    stack = appstream.describe_stacks(Names=["drift-pool-stack"])["Stacks"][0]
    settings = [s for s in stack["UserSettings"] if s["Action"] != "PRINTING_TO_LOCAL_DEVICE"]
    appstream.update_stack(
        Name="drift-pool-stack",
        UserSettings=[*settings, {"Action": "PRINTING_TO_LOCAL_DEVICE", "Permission": "ENABLED"}],
    )
    run, report = drift(sandbox, list(tenants.values()), tmp_path)
    assert run.rc == 2 and "DRIFT: 1 tenant(s) drifted" in " ".join(run.stdout.split())
    assert report["summary"]["status"] == "drifted" and report["exit_status"] == 2
    assert report["tenants"]["drift-saml"]["status"] == "in_sync"
    pool = report["tenants"]["drift-pool"]
    assert pool["status"] == "drifted" and pool["errors"] == []
    diffs = json.dumps([change.get("diff") for change in pool["changes"]])
    assert '"idle_disconnect_timeout": 1800' in diffs and '"printing": true' in diffs
    tasks = [change["task"] for change in pool["changes"]]
    assert any("fleet" in task.lower() for task in tasks) and any("stack" in task.lower() for task in tasks)
    page = (tmp_path / "drift.html").read_text()
    assert "drift-pool" in page and "1800" in page and "<script" not in page
    assert all_mutating(run) == []  # the plan changed nothing back
    assert appstream.describe_fleets(Names=["drift-pool-fleet"])["Fleets"][0]["IdleDisconnectTimeoutInSeconds"] == 1800


def test_a_tenant_whose_plan_fails_is_an_error_never_in_sync(
    sandbox: SandboxClient, tenants: dict[str, Path], tmp_path: Path
) -> None:
    broken = saml_tenant("drift-bad", "10.73.0.0/16")
    broken["storage"]["storage_gib"] = 16  # below the SSD minimum: the plan stops at validation
    inventory = write_inventory(tmp_path / "drift-bad", broken, sandbox)
    run, report = drift(sandbox, [tenants["drift-saml"], inventory], tmp_path / "report")
    assert run.rc == 2 and "ERROR:" in " ".join(run.stdout.split())
    assert report["summary"]["status"] == "error" and report["summary"]["errors"] == 1
    bad = report["tenants"]["drift-bad"]
    assert bad["status"] == "error" and any("storage_gib" in error for error in bad["errors"])
    assert report["tenants"]["drift-saml"]["status"] == "in_sync"
    assert all_mutating(run) == []
