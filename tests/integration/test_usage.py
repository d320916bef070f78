"""playbooks/ops/usage.yml on the sandbox: sessions streamed through the sandbox become AWS-format usage
reports, which the runbook turns into the tenant's billing file for the month.

October 2026 is built on the sandbox's calendar: two users of the tenant on the 1st (with applications
launched), a session crossing the midnight of the 14th (it belongs to the report of the 15th), a session of
another tenant's stack on the 1st, and a session from 31 October to 1 November (November's, not October's).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from sandbox.client import SandboxClient
from tests.helpers import ROOT, demo_tenant, run_playbook, write_inventory
from tests.integration.report_footprint import BASE_IMAGE, Footprint, build_footprint, wait_for
from tests.integration.test_report import chromium, run_chromium

PLAYBOOK = ROOT / "playbooks" / "ops" / "usage.yml"
TENANT = "usagelab"
OTHER = "usageother"
HEADER = "tenant,month,user_id,authentication_type,sessions,session_hours,applications"


def definition() -> dict[str, Any]:
    tenant = demo_tenant()
    tenant["name"] = TENANT
    tenant["network"]["cidr"] = "10.65.0.0/16"
    tenant["directory"].update(fqdn=f"corp.{TENANT}.example", netbios=TENANT.upper())
    return tenant


def other_stack(sandbox: SandboxClient, footprint: Footprint) -> str:
    """Another tenant's fleet and stack in the same account and region (its sessions share the reports)."""
    appstream, ec2 = sandbox.boto3("appstream"), sandbox.boto3("ec2")
    subnet = footprint.subnets["private-a"]
    vpc = ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["VpcId"]
    group = ec2.create_security_group(GroupName=f"{OTHER}-streaming", Description="other", VpcId=vpc)["GroupId"]
    appstream.create_fleet(
        Name=f"{OTHER}-fleet",
        ImageName=BASE_IMAGE,
        InstanceType="stream.standard.medium",
        FleetType="ON_DEMAND",
        ComputeCapacity={"DesiredInstances": 1},
        VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": [group]},
        Tags={"tenant": OTHER},
    )
    appstream.create_stack(Name=f"{OTHER}-stack", Tags={"tenant": OTHER})
    appstream.associate_fleet(FleetName=f"{OTHER}-fleet", StackName=f"{OTHER}-stack")
    appstream.start_fleet(Name=f"{OTHER}-fleet")
    wait_for(lambda: appstream.describe_fleets(Names=[f"{OTHER}-fleet"])["Fleets"][0]["State"], "RUNNING")
    return f"{OTHER}-stack"


def stream(sandbox: SandboxClient, stack: str, user: str, start: str, end: str, apps: list[str] | None = None) -> None:
    session = sandbox.start_session(stack, user, authentication_type="SAML", start_time=start, applications=apps or [])
    sandbox.end_session(session, end_time=end)


@pytest.fixture(scope="module")
def october(sandbox: SandboxClient, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    footprint = build_footprint(sandbox, TENANT, cidr_prefix="10.65")
    sandbox.boto3("appstream").create_usage_report_subscription()
    stack = footprint.stack
    stream(sandbox, stack, "CORP\\ada", "2026-10-01T08:00:00Z", "2026-10-01T10:30:00Z", ["IcoStudio", "IcoBatch"])
    stream(sandbox, stack, "CORP\\alan", "2026-10-01T09:00:00Z", "2026-10-01T09:45:00Z")
    stream(sandbox, stack, "CORP\\ada", "2026-10-14T22:30:00Z", "2026-10-15T01:15:00Z", ["IcoStudio"])
    stream(sandbox, other_stack(sandbox, footprint), "OTHER\\eve", "2026-10-01T09:00:00Z", "2026-10-01T18:00:00Z")
    stream(sandbox, stack, "CORP\\ada", "2026-10-31T23:00:00Z", "2026-11-01T01:00:00Z")
    written = sandbox.write_usage_reports(month="2026-10")
    sandbox.write_usage_reports(month="2026-11")
    base = tmp_path_factory.mktemp("usage")
    inventory = write_inventory(base / "inventory", definition(), sandbox)
    return {"footprint": footprint, "inventory": inventory, "out": base / "out", "written": written}


def test_the_sandbox_wrote_the_month_s_reports_where_aws_does(october: dict[str, Any]) -> None:
    assert october["written"]["keys"] == [
        "sessions/schedule=DAILY/year=2026/month=10/day=01/daily-session-report-2026-10-01.csv",
        "applications/schedule=DAILY/year=2026/month=10/day=01/daily-app-report-2026-10-01.csv",
        "sessions/schedule=DAILY/year=2026/month=10/day=15/daily-session-report-2026-10-15.csv",
        "applications/schedule=DAILY/year=2026/month=10/day=15/daily-app-report-2026-10-15.csv",
    ]


def test_the_billing_file_has_one_row_per_user_with_the_right_totals(sandbox: SandboxClient, october) -> None:
    run = run_playbook(
        PLAYBOOK, october["inventory"], sandbox, extra_vars={"month": "2026-10", "report_dir": str(october["out"])}
    )
    assert run.rc == 0, run.stdout[-3000:]
    path = october["out"] / TENANT / "usage-2026-10.csv"
    assert path.read_text().splitlines() == [
        HEADER,
        "usagelab,2026-10,CORP\\ada,SAML,2,5.25,IcoBatch;IcoStudio",
        "usagelab,2026-10,CORP\\alan,SAML,1,0.75,",
    ]
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    said = " ".join(run.stdout.split())
    assert "2 users, 3 sessions, 6.0 hours on stack usagelab-stack" in said
    assert "Days without a sessions report" in said and "2026-10-02" in said
    assert run.stats()["mutating"] == 0, run.stats()["mutating_operations"]


def test_a_month_without_usage_writes_the_header_only(sandbox: SandboxClient, october) -> None:
    run = run_playbook(
        PLAYBOOK, october["inventory"], sandbox, extra_vars={"month": "2026-09", "report_dir": str(october["out"])}
    )
    assert run.rc == 0, run.stdout[-3000:]
    assert (october["out"] / TENANT / "usage-2026-09.csv").read_text() == HEADER + "\n"


def test_a_bad_month_fails_before_any_aws_call(sandbox: SandboxClient, october, tmp_path: Path) -> None:
    run = run_playbook(
        PLAYBOOK, october["inventory"], sandbox, extra_vars={"month": "2026-13", "report_dir": str(tmp_path)}
    )
    assert run.rc != 0
    assert "month: " in run.stdout and "YYYY-MM" in run.stdout
    assert run.stats()["total"] == 0
    assert not any(tmp_path.iterdir())


REPORT = ROOT / "playbooks" / "ops" / "report.yml"


def test_the_report_charts_the_month_and_sets_the_actual_cost_beside_the_budget(
    sandbox: SandboxClient, october: dict[str, Any], tmp_path: Path
) -> None:
    sandbox.record_cost("2026-10-05", 41.5, {"tenant": TENANT})
    sandbox.record_cost("2026-10-05", 99, {"tenant": OTHER})
    sandbox.boto3("ce", region="us-east-1").update_cost_allocation_tags_status(
        CostAllocationTagsStatus=[{"TagKey": "tenant", "Status": "Active"}]
    )
    out = tmp_path / "out"
    run = run_playbook(
        REPORT, october["inventory"], sandbox, extra_vars={"report_dir": str(out), "report_month": "2026-10"}
    )
    assert run.rc == 0, run.stdout[-3000:]
    assert run.stats()["mutating"] == 0, run.stats()["mutating_operations"]
    html = (out / f"{TENANT}.html").read_text()
    charts = re.findall(r"<svg[^>]*>.*?</svg>", html, re.S)
    assert len(charts) == 4  # the architecture, then the three charts of the month
    for chart in charts:
        ET.fromstring(chart)  # noqa: S314 - the report's own output
    assert "Sessions per day" in charts[1] and "CORP\\ada" in charts[2] and "fleet capacity (2)" in charts[3]
    assert "41.50 USD" in html and "budget 300.00 USD" in html
    markdown = (out / f"{TENANT}.md").read_text()
    assert "| Usage, 2026-10 | 2 users, 3 sessions, 6.00 hours" in markdown

    binary = chromium()
    page = (out / f"{TENANT}.html").as_uri()
    dom = run_chromium(binary, tmp_path / "profile-dom", "--dump-dom", page)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count("<svg") == 4 and "Peak concurrent sessions" in dom.stdout and "fleet capacity" in dom.stdout
    screenshot = tmp_path / f"{TENANT}.png"
    shot = run_chromium(
        binary, tmp_path / "profile-shot", f"--screenshot={screenshot}", "--window-size=1280,2400", page
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("TOOLKIT_KEEP_SCREENSHOTS")
    if keep:
        shutil.copy(screenshot, Path(keep) / screenshot.name)
