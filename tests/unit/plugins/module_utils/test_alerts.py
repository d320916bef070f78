"""The tenant's CloudWatch alarms (plugins/module_utils/alerts.py): names, metrics, dimensions, thresholds."""

from __future__ import annotations

from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.alerts import (
    GIB,
    storage_threshold_bytes,
    tenant_alarms,
)

TOPIC = "arn:aws:sns:eu-west-3:123456789012:acme-alerts"
ALERTS = {
    "notify": ["ops@example.com"],
    "capacity_utilization_percent": 90,
    "capacity_utilization_minutes": 15,
    "no_available_capacity_minutes": 10,
    "storage_free_percent": 10,
}


def by_name(alarms: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {alarm["AlarmName"]: alarm for alarm in alarms}


def saml_alarms() -> dict[str, dict[str, Any]]:
    return by_name(
        tenant_alarms(
            "acme",
            ALERTS,
            TOPIC,
            fleet={"name": "acme-fleet", "type": "ON_DEMAND"},
            file_system={"id": "fs-0123456789abcdef0", "storage_gib": 64},
        )
    )


def test_a_saml_tenant_has_three_fleet_alarms_and_one_storage_alarm_all_named_after_it() -> None:
    assert sorted(saml_alarms()) == [
        "acme-fleet-capacity-utilization",
        "acme-fleet-insufficient-capacity",
        "acme-fleet-no-available-capacity",
        "acme-fsx-free-storage",
    ]


def test_every_alarm_notifies_the_tenant_topic_on_alarm_and_on_recovery() -> None:
    for alarm in saml_alarms().values():
        assert alarm["AlarmActions"] == [TOPIC] and alarm["OKActions"] == [TOPIC]
        assert alarm["ActionsEnabled"] is True


def test_refused_sessions_alarm_on_the_first_one() -> None:
    alarm = saml_alarms()["acme-fleet-insufficient-capacity"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "AWS/AppStream",
        "InsufficientCapacityError",
        "Sum",
    )
    assert alarm["Dimensions"] == [{"Name": "Fleet", "Value": "acme-fleet"}]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0.0)
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (60, 1, 1)


def test_high_utilisation_must_last_the_minutes_of_the_definition() -> None:
    alarm = saml_alarms()["acme-fleet-capacity-utilization"]
    assert (alarm["MetricName"], alarm["Statistic"], alarm["Dimensions"]) == (
        "CapacityUtilization",
        "Average",
        [{"Name": "Fleet", "Value": "acme-fleet"}],
    )
    assert alarm["Threshold"] == 90.0 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["Period"] * alarm["EvaluationPeriods"] == 15 * 60
    assert alarm["DatapointsToAlarm"] == alarm["EvaluationPeriods"]


def test_no_available_capacity_only_counts_while_the_fleet_is_meant_to_be_up() -> None:
    alarm = saml_alarms()["acme-fleet-no-available-capacity"]
    assert "MetricName" not in alarm and "Namespace" not in alarm  # a metric math alarm
    queries = {query["Id"]: query for query in alarm["Metrics"]}
    assert queries["available"]["MetricStat"]["Metric"] == {
        "Namespace": "AWS/AppStream",
        "MetricName": "AvailableCapacity",
        "Dimensions": [{"Name": "Fleet", "Value": "acme-fleet"}],
    }
    assert queries["desired"]["MetricStat"]["Metric"]["MetricName"] == "DesiredCapacity"
    assert [q["Id"] for q in alarm["Metrics"] if q["ReturnData"]] == ["noroom"]
    assert queries["noroom"]["Expression"] == "IF(desired > 0 AND available == 0, 1, 0)"
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == 10


def test_the_storage_alarm_threshold_is_the_free_share_of_the_storage_size() -> None:
    alarm = saml_alarms()["acme-fsx-free-storage"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/FSx", "FreeStorageCapacity")
    assert alarm["Dimensions"] == [{"Name": "FileSystemId", "Value": "fs-0123456789abcdef0"}]
    assert alarm["ComparisonOperator"] == "LessThanThreshold"
    assert alarm["Threshold"] == 64 * GIB / 10 == storage_threshold_bytes(64, 10)


def test_an_elastic_fleet_only_alarms_on_refused_sessions() -> None:
    alarms = by_name(tenant_alarms("trial", ALERTS, TOPIC, fleet={"name": "trial-fleet", "type": "ELASTIC"}))
    assert sorted(alarms) == ["trial-fleet-insufficient-capacity"]


def test_resources_not_there_yet_have_no_alarm_yet() -> None:
    assert tenant_alarms("acme", ALERTS, TOPIC) == []
    assert tenant_alarms("acme", ALERTS, TOPIC, file_system={"id": "", "storage_gib": 32}) == []
