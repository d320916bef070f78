"""playbooks/ops/portfolio.yml on the sandbox: one page, and its JSON, for two tenants in one run.

A SAML tenant built in plain boto3 with its alerts converged (one alarm raised by a refused session), a
session this month and a recorded cost; a user-pool tenant part-way built. The portfolio plans both
(site.yml in check mode, counted per tenant), reads them, and the request log proves that nothing in the
whole run, the plan included, changed anything. Slow: the plan is a whole check-mode converge.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from sandbox.client import SandboxClient
from tests.helpers import ROOT, demo_tenant, run_playbook, write_inventory
from tests.integration.report_footprint import build_footprint, build_partial_userpool_tenant
from tests.integration.test_report import chromium, run_chromium

pytestmark = pytest.mark.slow

PLAYBOOK = ROOT / "playbooks" / "ops" / "portfolio.yml"
SAML = "portsaml"
POOL = "portpool"


def saml_definition() -> dict[str, Any]:
    tenant = demo_tenant()
    tenant["name"] = SAML
    tenant["network"]["cidr"] = "10.66.0.0/16"
    tenant["directory"].update(fqdn=f"corp.{SAML}.example", netbios=SAML.upper())
    return tenant


def pool_definition() -> dict[str, Any]:
    tenant = demo_tenant()
    tenant.update(name=POOL, auth="userpool")
    tenant["network"].update(cidr="10.67.0.0/16", nat_gateways="none")
    tenant.pop("directory")
    tenant.pop("storage")
    tenant["appstream"]["fleet"].update(type="ELASTIC", min_capacity=0, max_capacity=5)
    tenant["appstream"]["fleet"].pop("schedule")
    tenant["users"] = [{"email": "ada.port@lab.example", "first_name": "Ada", "last_name": "Port"}]
    return tenant


@pytest.fixture(scope="module")
def portfolio(sandbox: SandboxClient, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    saml = build_footprint(sandbox, SAML, cidr_prefix="10.66")
    build_partial_userpool_tenant(sandbox, POOL, cidr_prefix="10.67", users=["ada.port@lab.example"])
    base = tmp_path_factory.mktemp("portfolio")
    inventories = [
        write_inventory(base / "saml", saml_definition(), sandbox),
        write_inventory(base / "pool", pool_definition(), sandbox),
    ]
    alerts = run_playbook(ROOT / "playbooks" / "alerts.yml", inventories[0], sandbox)
    assert alerts.rc == 0, alerts.stdout[-3000:]
    # This month: one session on its first day, written to the report, and a cost of the tenant.
    first = datetime.datetime.now(datetime.UTC).date().replace(day=1)
    session = sandbox.start_session(
        saml.stack, "CORP\\ada", authentication_type="SAML", start_time=f"{first}T00:10:00Z"
    )
    sandbox.end_session(session, end_time=f"{first}T01:40:00Z")
    sandbox.write_usage_reports(date=first.isoformat())
    # A second user finds no room: refused, counted, the alarm goes off.
    with pytest.raises(RuntimeError, match="insufficient capacity"):
        for index in range(3):
            sandbox.start_session(saml.stack, f"CORP\\user{index}", authentication_type="SAML")
    sandbox.record_cost(first.isoformat(), 12.34, {"tenant": SAML})
    sandbox.boto3("ce", region="us-east-1").update_cost_allocation_tags_status(
        CostAllocationTagsStatus=[{"TagKey": "tenant", "Status": "Active"}]
    )
    out = base / "out"
    run = run_playbook(PLAYBOOK, inventories, sandbox, extra_vars={"report_dir": str(out)}, timeout=1200)
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return {
        "run": run,
        "out": out,
        "rows": {r["tenant"]: r for r in json.loads((out / "portfolio.json").read_text())["tenants"]},
    }


def test_the_whole_run_and_its_plan_make_no_mutating_call(portfolio: dict[str, Any]) -> None:
    stats = portfolio["run"].stats()
    assert stats["mutating"] == 0, stats["mutating_operations"]
    assert stats["total"] > 0


def test_one_row_per_tenant_with_its_plan_counted_and_its_failure_said(portfolio: dict[str, Any]) -> None:
    rows = portfolio["rows"]
    assert sorted(rows) == [POOL, SAML]
    for row in rows.values():
        # Built in plain boto3, neither tenant is what its definition asks: the plan changes things for both.
        assert row["planned_changes"] > 0 and not row["converged"]
        assert (
            "aws_network : Ensure the VPC, subnets, gateways, routes, S3 endpoint and security groups of the tenant"
            in (row["planned_tasks"])
        )
    # The SAML tenant's plan stops where the toolkit refuses to go on (it is the portfolio's row, not its failure).
    assert rows[SAML]["state"] == "plan failed"
    assert "copy_tags_to_backups is False, requested True" in rows[SAML]["plan_failure"]
    # The user-pool tenant's plan goes through to the end (the plan is a run of its own, with its own run id).
    assert rows[POOL]["plan_failure"] == "" and rows[POOL]["state"].endswith(" planned"), rows[POOL]


def test_fleet_usage_cost_budget_and_alarms_of_the_saml_tenant(portfolio: dict[str, Any]) -> None:
    row = portfolio["rows"][SAML]
    assert row["fleet"]["state"] == "RUNNING" and row["fleet"]["in_use"] == 1
    assert (row["usage"]["sessions"], row["usage"]["hours"]) == (1, 1.5)
    assert row["actual_cost"] == 12.34 and row["budget"] == 300.0
    assert row["estimate_monthly"] > 0
    assert row["alarms"] == 4 and row["alarms_in_alarm"] == [f"{SAML}-fleet-insufficient-capacity"]


def test_a_tenant_part_way_built_has_its_row_too(portfolio: dict[str, Any]) -> None:
    row = portfolio["rows"][POOL]
    assert row["fleet"]["state"] == "not found" and row["budget"] is None and row["alarms"] == 0


def test_the_page_renders_in_headless_chromium(portfolio: dict[str, Any], tmp_path: Path) -> None:
    page = portfolio["out"] / "portfolio.html"
    html = page.read_text()
    assert "<script" not in html and re.findall(r'href="([^"]+)"', html) == [f"{POOL}.html", f"{SAML}.html"]
    binary = chromium()
    dom = run_chromium(binary, tmp_path / "profile-dom", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert f"{SAML}-fleet-insufficient-capacity" in dom.stdout and "12.34" in dom.stdout
    screenshot = tmp_path / "portfolio.png"
    shot = run_chromium(
        binary, tmp_path / "profile-shot", f"--screenshot={screenshot}", "--window-size=1400,900", page.as_uri()
    )
    assert shot.returncode == 0 and screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("TOOLKIT_KEEP_SCREENSHOTS"):
        shutil.copy(screenshot, Path(os.environ["TOOLKIT_KEEP_SCREENSHOTS"]) / screenshot.name)
