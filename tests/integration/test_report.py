"""playbooks/ops/report.yml on the sandbox: two tenants in one run, read-only, with their reports.

A SAML tenant is fully built in plain boto3 (network, directory, FSx, AppStream, budget) and a
user-pool tenant part-way (network and a stack with its users, no fleet). One run with two
``-i`` inventories writes both reports; the request log proves no call changed anything.
The HTML is then rendered in headless Chromium when it is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.cost import estimate
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.tenant import normalise_tenant

from tests.helpers import ROOT, PlaybookRun, demo_tenant, run_playbook, write_inventory
from tests.integration.report_footprint import Footprint, build_footprint, build_partial_userpool_tenant

PLAYBOOK = ROOT / "playbooks" / "ops" / "report.yml"
PRICES = yaml.safe_load((ROOT / "data" / "prices.yml").read_text())
SAML = "rptsaml"
POOL = "rptpool"
POOL_USERS = ["ada.pool@lab.example", "alan.pool@lab.example"]


def saml_definition() -> dict[str, Any]:
    tenant = demo_tenant()
    tenant["name"] = SAML
    tenant["network"]["cidr"] = "10.61.0.0/16"
    tenant["directory"].update(fqdn=f"corp.{SAML}.example", netbios=SAML.upper())
    return tenant


def pool_definition() -> dict[str, Any]:
    tenant = demo_tenant()
    tenant.update(name=POOL, auth="userpool")
    tenant["network"].update(cidr="10.62.0.0/16", nat_gateways="none")
    tenant.pop("directory")
    tenant.pop("storage")
    tenant["appstream"]["fleet"].update(type="ELASTIC", min_capacity=0, max_capacity=5)
    tenant["appstream"]["fleet"].pop("schedule")
    tenant["users"] = [
        {"email": POOL_USERS[0], "first_name": "Ada", "last_name": "Pool"},
        {"email": POOL_USERS[1], "first_name": "Alan", "last_name": "Pool"},
    ]
    return tenant


def flat(text: str) -> str:
    """Ansible's YAML output wraps long lines: compare with whitespace collapsed."""
    return " ".join(text.split())


class Reports:
    def __init__(self, directory: Path, run: PlaybookRun, saml: Footprint, pool: Footprint, inventories: list[Path]):
        self.directory = directory
        self.run = run
        self.saml = saml
        self.pool = pool
        self.inventories = inventories

    def markdown(self, tenant: str) -> str:
        return (self.directory / f"{tenant}.md").read_text()

    def html(self, tenant: str) -> Path:
        return self.directory / f"{tenant}.html"


@pytest.fixture(scope="module")
def reports(sandbox, tmp_path_factory: pytest.TempPathFactory) -> Reports:
    saml = build_footprint(sandbox, SAML, cidr_prefix="10.61")
    pool = build_partial_userpool_tenant(sandbox, POOL, cidr_prefix="10.62", users=POOL_USERS)
    base = tmp_path_factory.mktemp("report")
    inventories = [
        write_inventory(base / "inventory-saml", saml_definition(), sandbox),
        write_inventory(base / "inventory-pool", pool_definition(), sandbox),
    ]
    directory = base / "out"
    run = run_playbook(PLAYBOOK, inventories, sandbox, extra_vars={"report_dir": str(directory)})
    assert run.rc == 0, run.stdout + run.stderr
    return Reports(directory, run, saml, pool, inventories)


def test_one_run_with_two_inventories_writes_a_report_per_tenant(reports: Reports) -> None:
    assert sorted(p.name for p in reports.directory.iterdir()) == [
        f"{POOL}.html",
        f"{POOL}.md",
        f"{SAML}.html",
        f"{SAML}.md",
    ]
    assert reports.run.recap[SAML]["failed"] == 0 and reports.run.recap[POOL]["failed"] == 0
    # Users' names and e-mail addresses: readable by the owner and the operators' group only.
    assert {p.stat().st_mode & 0o777 for p in reports.directory.iterdir()} == {0o640}
    assert reports.directory.stat().st_mode & 0o777 == 0o750


def test_the_report_reads_aws_without_changing_anything(reports: Reports) -> None:
    stats = reports.run.stats()
    assert stats["mutating"] == 0, stats["mutating_operations"]
    assert 0 < stats["total"] <= 60  # both tenants
    # The only errors are "not found" answers for what the part-built tenant does not have yet.
    errors = {(e["operation"], e["error"]) for e in reports.run.calls() if e["error"]}
    assert errors <= {
        ("DescribeImageBuilders", "ResourceNotFoundException"),
        ("DescribeFleets", "ResourceNotFoundException"),
        ("DescribeBudget", "NotFoundException"),
    }, errors


def test_the_markdown_lists_the_real_resources_with_their_ids(reports: Reports) -> None:
    text = reports.markdown(SAML)
    fp = reports.saml
    for value in (
        fp.vpc_id,
        *fp.subnets.values(),
        fp.nat_gateway_id,
        fp.directory_id,
        fp.file_system_id,
        fp.backup_id,
        fp.fleet,
        fp.stack,
        fp.builder,
        fp.image,
        fp.budget,
    ):
        assert value in text, value
    assert "```mermaid\nflowchart TB\n" in text
    assert "| Ada Lovelace | ada@lab.example | ada | yes |" in text


def test_the_markdown_carries_the_cost_estimate_and_its_total(reports: Reports) -> None:
    expected = estimate(normalise_tenant(saml_definition()), PRICES)
    text = reports.markdown(SAML)
    assert f"| **Total** | | | | **{expected['total_monthly']:.2f}** |" in text
    for line in expected["lines"]:
        assert f"{line['monthly']:.2f} |" in text
    assert "re-check them on the AWS pricing pages" in text
    assert ("**over budget**" in text) == expected["over_budget"]


def test_a_tenant_part_way_built_is_reported_with_what_is_missing(reports: Reports) -> None:
    text = reports.markdown(POOL)
    assert reports.pool.vpc_id in text and reports.pool.stack in text
    assert f"Fleet {POOL}-fleet" in text and f"Budget {POOL}-monthly" in text  # the "Not found" line
    assert "| Ada Pool | ada.pool@lab.example | ada.pool@lab.example | yes | associated" in text
    assert "Elastic streaming" in text and "| Managed Microsoft AD" not in text
    assert f"No image named {POOL}-suite-\\*" in text


def test_a_tenant_that_cannot_be_priced_still_gets_its_report(reports: Reports, sandbox, tmp_path: Path) -> None:
    tenant = pool_definition()
    tenant["appstream"]["fleet"].update(type="ON_DEMAND", instance_type="stream.memory.z1d.large", min_capacity=1)
    inventory = write_inventory(tmp_path / "inventory", tenant, sandbox)
    run = run_playbook(PLAYBOOK, inventory, sandbox, extra_vars={"report_dir": str(tmp_path / "out")})
    assert run.rc == 0, run.stdout
    text = (tmp_path / "out" / f"{POOL}.md").read_text()
    assert "No estimate: " in text
    assert "tenant.appstream.fleet.instance_type: 'stream.memory.z1d.large' has no price for eu-west-3" in text
    assert reports.pool.vpc_id in text  # the rest of the report is there
    assert "unavailable" in (tmp_path / "out" / f"{POOL}.html").read_text()


def test_check_mode_reads_but_writes_nothing(reports: Reports, sandbox, tmp_path: Path) -> None:
    directory = tmp_path / "planned"
    run = run_playbook(PLAYBOOK, reports.inventories, sandbox, extra_vars={"report_dir": str(directory)}, check=True)
    assert run.rc == 0, run.stdout
    assert not directory.exists()
    assert f"Would write (check mode) {directory}/{SAML}.md and .html" in flat(run.stdout)
    stats = run.stats()
    assert stats["mutating"] == 0 and stats["total"] > 0


def test_bad_extra_variables_fail_with_every_error_before_any_aws_call(reports: Reports, sandbox) -> None:
    run = run_playbook(
        PLAYBOOK,
        reports.inventories[:1],
        sandbox,
        extra_vars={
            "report_dir": "",
            "report_build_hours": "many",
            "report_streaming_hours": 30,
            "report_format": "pdf",
        },
    )
    assert run.rc != 0
    for message in (
        "report_dir: must be a directory path",
        'report_build_hours: must be a number of hours of at least 0, got "many"',
        "report_streaming_hours: must be a number of hours between 0 and 24, got 30",
        "report_format: unknown variable",
    ):
        assert message in flat(run.stdout), message
    assert run.stats()["total"] == 0


def test_the_html_is_self_contained_and_escaped(reports: Reports) -> None:
    html = reports.html(SAML).read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert re.search(r"url\((?!#)", html) is None  # only the SVG's own arrow markers
    # Only references inside the page: matplotlib's charts <use> their own markers (xlink:href="#...").
    assert re.search(r"""(src|href)=["'](?!#)""", html) is None
    svg = html[html.index("<svg") : html.index("</svg>") + len("</svg>")]
    ET.fromstring(svg)  # noqa: S314 - the report's own output
    assert reports.saml.fleet in svg and reports.saml.subnets["private-a"] in svg


# -- headless Chromium --------------------------------------------------------------------------

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("headless Chromium is not installed (apt-get install chromium fonts-dejavu-core)")
    raise AssertionError("unreachable")


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_html_renders_in_headless_chromium(reports: Reports, tmp_path: Path) -> None:
    binary = chromium()
    page = reports.html(SAML).as_uri()
    dom = run_chromium(binary, tmp_path / "profile-dom", "--dump-dom", page)
    assert dom.returncode == 0, dom.stderr[-2000:]
    svg = dom.stdout[dom.stdout.index("<svg") : dom.stdout.index("</svg>")]
    assert reports.saml.fleet in svg
    assert reports.saml.subnets["private-a"] in svg and reports.saml.file_system_id in svg

    screenshot = tmp_path / f"{SAML}.png"
    shot = run_chromium(
        binary, tmp_path / "profile-shot", f"--screenshot={screenshot}", "--window-size=1280,1600", page
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    data = screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
