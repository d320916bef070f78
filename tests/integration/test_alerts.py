"""playbooks/alerts.yml on the sandbox: the tenant's SNS topic, its e-mail subscriptions, the directory's
event topic, the CloudWatch alarms on its fleet and file system, and the region's usage report subscription.

The tenant is built in plain boto3 (tests/integration/report_footprint.py: network, directory, FSx of
32 GiB, fleet, stack), so the stage runs alone and finds the file system and the directory itself.
The tests run in order on that one tenant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sandbox.client import SandboxClient
from tests.helpers import ROOT, PlaybookRun, demo_tenant, run_playbook, run_tasks, write_inventory
from tests.integration.report_footprint import Footprint, build_footprint

PLAYBOOK = ROOT / "playbooks" / "alerts.yml"
TENANT = "alrtlab"
GIB = 1024**3


def definition(notify: list[str]) -> dict[str, Any]:
    tenant = demo_tenant()
    tenant["name"] = TENANT
    tenant["network"]["cidr"] = "10.64.0.0/16"
    tenant["directory"].update(fqdn=f"corp.{TENANT}.example", netbios=TENANT.upper())
    tenant["alerts"] = {"notify": notify, "capacity_utilization_percent": 80, "no_available_capacity_minutes": 20}
    return tenant


class Alerts:
    def __init__(self, sandbox: SandboxClient, footprint: Footprint, base: Path) -> None:
        self.sandbox = sandbox
        self.footprint = footprint
        self.base = base
        self.sns = sandbox.boto3("sns")
        self.cloudwatch = sandbox.boto3("cloudwatch")
        self.topic_arn = f"arn:aws:sns:{sandbox.region}:123456789012:{TENANT}-alerts"

    def converge(self, notify: list[str], **kwargs: Any) -> PlaybookRun:
        inventory = write_inventory(self.base / "inventory", definition(notify), self.sandbox)
        return run_playbook(PLAYBOOK, inventory, self.sandbox, **kwargs)

    def subscriptions(self) -> dict[str, str]:
        items = self.sns.list_subscriptions_by_topic(TopicArn=self.topic_arn)["Subscriptions"]
        return {item["Endpoint"]: item["SubscriptionArn"] for item in items}

    def alarms(self) -> dict[str, dict[str, Any]]:
        found = self.cloudwatch.describe_alarms(AlarmNamePrefix=f"{TENANT}-")["MetricAlarms"]
        return {alarm["AlarmName"]: alarm for alarm in found}


@pytest.fixture(scope="module")
def alerts(sandbox: SandboxClient, tmp_path_factory: pytest.TempPathFactory) -> Alerts:
    footprint = build_footprint(sandbox, TENANT, cidr_prefix="10.64")
    return Alerts(sandbox, footprint, tmp_path_factory.mktemp("alerts"))


def test_the_plan_makes_no_mutating_call(alerts: Alerts) -> None:
    plan = alerts.converge(["ops@alrtlab.example"], check=True, diff=True)
    assert plan.rc == 0, plan.stdout[-3000:]
    assert plan.recap[TENANT]["changed"] > 0
    assert plan.stats()["mutating"] == 0, plan.stats()["mutating_operations"]
    assert alerts.alarms() == {}


def test_the_converge_leaves_the_topic_with_a_pending_subscription_per_address(alerts: Alerts) -> None:
    run = alerts.converge(["ops@alrtlab.example", "oncall@alrtlab.example"])
    assert run.rc == 0, run.stdout[-3000:]
    tags = {t["Key"]: t["Value"] for t in alerts.sns.list_tags_for_resource(ResourceArn=alerts.topic_arn)["Tags"]}
    assert tags["tenant"] == TENANT and tags["managed-by"] == "appstream-tenant-toolkit"
    assert alerts.subscriptions() == {
        "ops@alrtlab.example": "PendingConfirmation",
        "oncall@alrtlab.example": "PendingConfirmation",
    }


def test_the_alarms_watch_the_fleet_and_the_file_system_with_aws_metrics_and_dimensions(alerts: Alerts) -> None:
    alarms = alerts.alarms()
    fleet = [{"Name": "Fleet", "Value": alerts.footprint.fleet}]
    assert sorted(alarms) == [
        f"{TENANT}-fleet-capacity-utilization",
        f"{TENANT}-fleet-insufficient-capacity",
        f"{TENANT}-fleet-no-available-capacity",
        f"{TENANT}-fsx-free-storage",
    ]
    refused = alarms[f"{TENANT}-fleet-insufficient-capacity"]
    assert (refused["Namespace"], refused["MetricName"], refused["Dimensions"]) == (
        "AWS/AppStream",
        "InsufficientCapacityError",
        fleet,
    )
    assert (refused["ComparisonOperator"], refused["Threshold"]) == ("GreaterThanThreshold", 0.0)
    busy = alarms[f"{TENANT}-fleet-capacity-utilization"]
    assert (busy["MetricName"], busy["Dimensions"], busy["Threshold"]) == ("CapacityUtilization", fleet, 80.0)
    assert busy["Period"] * busy["EvaluationPeriods"] == 15 * 60  # the default minutes
    full = alarms[f"{TENANT}-fleet-no-available-capacity"]
    metrics = {q["Id"]: q for q in full["Metrics"]}
    assert metrics["available"]["MetricStat"]["Metric"]["MetricName"] == "AvailableCapacity"
    assert metrics["desired"]["MetricStat"]["Metric"]["Dimensions"] == fleet
    assert full["EvaluationPeriods"] == 20
    storage = alarms[f"{TENANT}-fsx-free-storage"]
    assert (storage["Namespace"], storage["MetricName"]) == ("AWS/FSx", "FreeStorageCapacity")
    assert storage["Dimensions"] == [{"Name": "FileSystemId", "Value": alerts.footprint.file_system_id}]
    assert storage["Threshold"] == 32 * GIB * 10 / 100  # the file system's 32 GiB, 10 % by default
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [alerts.topic_arn] and alarm["OKActions"] == [alerts.topic_arn]
        tags = alerts.cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
        assert {"Key": "tenant", "Value": TENANT} in tags


def test_the_directory_publishes_its_status_to_the_topic(alerts: Alerts) -> None:
    topics = alerts.sandbox.boto3("ds").describe_event_topics(DirectoryId=alerts.footprint.directory_id)["EventTopics"]
    assert [(t["TopicName"], t["Status"]) for t in topics] == [(f"{TENANT}-alerts", "Registered")]


def test_the_region_has_a_usage_report_subscription(alerts: Alerts) -> None:
    subscriptions = alerts.sandbox.boto3("appstream").describe_usage_report_subscriptions()
    assert [s["Schedule"] for s in subscriptions["UsageReportSubscriptions"]] == ["DAILY"]


def test_a_second_converge_changes_nothing_and_only_reads(alerts: Alerts) -> None:
    again = alerts.converge(["ops@alrtlab.example", "oncall@alrtlab.example"])
    assert again.rc == 0, again.stdout[-3000:]
    assert again.recap[TENANT]["changed"] == 0
    assert again.stats()["mutating"] == 0, again.stats()["mutating_operations"]
    # The topic's and the alarms' tags come from the run's one tag read (lock.yml), not one read each.
    operations = again.stats()["by_operation"]
    assert operations["tagging:GetResources"] == 1, operations
    assert "sns:ListTagsForResource" not in operations and "monitoring:ListTagsForResource" not in operations


def test_a_fleet_without_capacity_raises_the_alarm(alerts: Alerts) -> None:
    appstream = alerts.sandbox.boto3("appstream")
    fleet = appstream.describe_fleets(Names=[alerts.footprint.fleet])["Fleets"][0]
    free = fleet["ComputeCapacityStatus"]["Available"]
    for index in range(free):
        alerts.sandbox.start_session(alerts.footprint.stack, f"CORP\\user{index}", authentication_type="SAML")
    with pytest.raises(RuntimeError, match="insufficient capacity"):
        alerts.sandbox.start_session(alerts.footprint.stack, "CORP\\late", authentication_type="SAML")
    assert alerts.alarms()[f"{TENANT}-fleet-insufficient-capacity"]["StateValue"] == "ALARM"


def test_notify_changes_subscribe_the_new_address_and_unsubscribe_a_confirmed_one(alerts: Alerts) -> None:
    alerts.sandbox.confirm_subscriptions(topic_arn=alerts.topic_arn)
    run = alerts.converge(["ops@alrtlab.example", "night@alrtlab.example"])
    assert run.rc == 0, run.stdout[-3000:]
    subscriptions = alerts.subscriptions()
    assert sorted(subscriptions) == ["night@alrtlab.example", "ops@alrtlab.example"]
    assert subscriptions["night@alrtlab.example"] == "PendingConfirmation"
    assert subscriptions["ops@alrtlab.example"].startswith(alerts.topic_arn + ":")


def test_a_pending_subscription_no_longer_wanted_is_left_to_expire_and_said(alerts: Alerts) -> None:
    run = alerts.converge(["ops@alrtlab.example"])
    assert run.rc == 0, run.stdout[-3000:]
    assert run.recap[TENANT]["changed"] == 0 and run.stats()["mutating"] == 0
    said = " ".join((run.stdout + run.stderr).split())
    assert "night@alrtlab.example: pending confirmation and no longer in notify" in said
    assert "night@alrtlab.example" in alerts.subscriptions()


def test_absent_removes_the_alerts_and_keeps_the_usage_report_subscription(alerts: Alerts) -> None:
    run = alerts.converge(["ops@alrtlab.example"], extra_vars={"tenant_alerts_state": "absent"})
    assert run.rc == 0, run.stdout[-3000:]
    assert alerts.alarms() == {}
    assert f"{TENANT}-alerts" not in [t["TopicArn"].rsplit(":", 1)[1] for t in alerts.sns.list_topics()["Topics"]]
    ds = alerts.sandbox.boto3("ds")
    assert ds.describe_event_topics(DirectoryId=alerts.footprint.directory_id)["EventTopics"] == []
    assert alerts.sandbox.boto3("appstream").describe_usage_report_subscriptions()["UsageReportSubscriptions"]


def test_a_topic_the_tag_listing_holds_but_deleted_since_is_created_again(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    # The tagging API may list a topic for a while after its deletion: the module then finds it gone
    # (ListSubscriptionsByTopic answers NotFound) and creates it, instead of failing.
    name = f"{TENANT}-stale-alerts"
    arn = f"arn:aws:sns:{sandbox.region}:123456789012:{name}"
    task = {
        "name": "Ensure the topic, told that it exists",
        "iconeus.tenant_toolkit.tenant_alert_topic": {
            "name": name,
            "tenant": TENANT,
            "notify": ["ops@alrtlab.example"],
            "account_id": "123456789012",
            "known_tags": {arn: {"tenant": TENANT, "managed-by": "appstream-tenant-toolkit"}},
        },
    }
    run = run_tasks(tmp_path, [task], sandbox)
    assert run.rc == 0, run.stdout[-3000:]
    assert run.stats()["by_operation"].get("sns:CreateTopic") == 1, run.stats()["by_operation"]
    tags = sandbox.boto3("sns").list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert {"Key": "tenant", "Value": TENANT} in tags
