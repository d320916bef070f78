"""Project wiring: global group_vars reach every kind of playbook; tenants stay separate."""

from __future__ import annotations

import re

import yaml

from tests.helpers import ROOT, run_playbook, write_inventory


def demo_tenant() -> dict:
    return yaml.safe_load((ROOT / "inventories/demo/host_vars/demo/tenant.yml").read_text())["tenant"]


def test_catalogue_reaches_an_ops_playbook_run_directly():
    run = run_playbook("playbooks/ops/catalogue.yml", ROOT / "inventories" / "demo")
    assert run.rc == 0, run.stdout + run.stderr
    assert re.search(r"image_name: demo-suite-[0-9a-f]{12}", run.stdout), run.stdout
    assert "icostudio" in run.stdout and "vcredist_2015_2022_x64" in run.stdout


def test_catalogue_reaches_playbooks_imported_from_site(tmp_path):
    run = run_playbook("site.yml", ROOT / "inventories" / "demo", args=["--tags", "validate", "-v"])
    assert run.rc == 0, run.stdout + run.stderr
    assert run.recap["demo"]["failed"] == 0
    assert re.search(r"image_name.{0,4}demo-suite-[0-9a-f]{12}", run.stdout), run.stdout


def test_two_inventories_keep_their_own_definitions(tmp_path):
    other = demo_tenant()
    other["name"] = "otherlab"
    other["apps"] = ["icobatch"]
    inventory = write_inventory(tmp_path / "otherlab", other)
    run = run_playbook("playbooks/ops/catalogue.yml", [ROOT / "inventories" / "demo", inventory])
    assert run.rc == 0, run.stdout + run.stderr
    assert set(run.recap) == {"demo", "otherlab"}
    blocks = dict(re.findall(r"ok: \[(\w+)\] =>(.*?)(?=ok: \[|PLAY RECAP)", run.stdout, re.DOTALL))
    demo_block, other_block = blocks["demo"], blocks["otherlab"]
    assert "icostudio" in demo_block and "demo-suite-" in demo_block
    assert "icostudio" not in other_block and "otherlab-suite-" in other_block
