"""playbooks/bootstrap.yml on the sandbox: the tenant cost allocation tag and the regions' usage reports."""

from __future__ import annotations

from pathlib import Path

from sandbox.client import SandboxClient
from tests.helpers import ROOT, demo_tenant, run_playbook, write_inventory

PLAYBOOK = ROOT / "playbooks" / "bootstrap.yml"
REGION = "ca-central-1"


def test_bootstrap_activates_the_tenant_tag_and_subscribes_the_region_once(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    ce = sandbox.boto3("ce", region="us-east-1")
    ce.update_cost_allocation_tags_status(CostAllocationTagsStatus=[{"TagKey": "tenant", "Status": "Inactive"}])
    inventories = []
    for name in ("bootone", "boottwo"):  # two tenants of one region: one subscription
        tenant = demo_tenant()
        tenant["name"] = name
        tenant["region"] = REGION  # a region of its own: no other test subscribes it
        tenant["directory"].update(fqdn=f"corp.{name}.example", netbios=name.upper())
        inventories.append(write_inventory(tmp_path / name, tenant, sandbox))

    plan = run_playbook(PLAYBOOK, inventories, sandbox, check=True, diff=True)
    assert plan.rc == 0, plan.stdout[-3000:]
    assert plan.stats()["mutating"] == 0
    first = run_playbook(PLAYBOOK, inventories, sandbox)
    assert first.rc == 0, first.stdout[-3000:]
    assert ce.list_cost_allocation_tags(TagKeys=["tenant"])["CostAllocationTags"][0]["Status"] == "Active"
    appstream = sandbox.boto3("appstream", region=REGION)
    subscriptions = appstream.describe_usage_report_subscriptions()["UsageReportSubscriptions"]
    assert len(subscriptions) == 1
    calls = [c["operation"] for c in first.calls()]
    assert calls.count("UpdateCostAllocationTagsStatus") == 1 and calls.count("CreateUsageReportSubscription") == 1

    again = run_playbook(PLAYBOOK, inventories, sandbox)
    assert again.rc == 0 and again.stats()["mutating"] == 0
    assert all(counts["changed"] == 0 for counts in again.recap.values())
