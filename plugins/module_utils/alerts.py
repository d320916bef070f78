# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CloudWatch alarms of one tenant (design.md section 2, item 7), as PutMetricAlarm requests.

Pure functions: the role computes the alarms from the normalised definition and the ids of the
tenant's resources, the ``tenant_alarms`` module converges them. Names, namespaces, metrics,
dimensions and statistics are AWS's own:

- AppStream 2.0 admin guide, "Monitoring Amazon AppStream 2.0 Resources" / "Fleet Usage Metrics for
  Single-session Fleets" (https://docs.aws.amazon.com/appstream2/latest/developerguide/appstream-dimensions.html):
  namespace ``AWS/AppStream``, dimension ``Fleet`` (the fleet name), published every minute.
  ``InsufficientCapacityError`` is "the number of session requests rejected due to lack of capacity"
  (statistics Average, Minimum, Maximum, Sum); ``CapacityUtilization`` = InUseCapacity / ActualCapacity * 100
  (Percent); ``AvailableCapacity`` idle instances; ``DesiredCapacity`` running or pending instances.
- FSx for Windows File Server guide, "Monitoring with Amazon CloudWatch"
  ("Amazon FSx for Windows File Server metrics"): namespace ``AWS/FSx``,
  ``FreeStorageCapacity`` in bytes, dimension ``FileSystemId``.
- CloudWatch user guide, "Using metric math" (comparison and logical operators, ``IF``), and
  PutMetricAlarm's ``Metrics``: one expression with ``ReturnData`` true is what the alarm watches.

"AvailableCapacity at 0 during working hours": the fleet's schedule (Application Auto Scaling scheduled
actions, roles/appstream_fleet) sets its capacity to 0 outside working hours, where AvailableCapacity is
0 by design. The alarm therefore watches ``IF(desired > 0 AND available == 0, 1, 0)``: DesiredCapacity is
above 0 exactly while the schedule (or the operator) says the fleet is up, so the expression is 1 only
when users are expected and no idle instance waits for them. This follows the schedule wherever it is
set (the definition, playbooks/ops/fleet_schedule.yml, a manual scale) and daylight-saving changes, which
a clock-based expression (metric math ``HOUR()``/``DAY()`` are UTC) would not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

GIB = 1024**3
APPSTREAM_NAMESPACE = "AWS/AppStream"
FSX_NAMESPACE = "AWS/FSx"
# AppStream publishes fleet metrics once a minute: one-minute periods let "N minutes" mean N datapoints.
FLEET_PERIOD = 60
# Free storage moves slowly; two five-minute periods keep a short burst of writes from paging anyone.
STORAGE_PERIOD = 300
STORAGE_PERIODS = 2


def alarm_prefix(tenant: str) -> str:
    """Every alarm of the tenant starts with this, so one DescribeAlarms call finds them all."""
    return f"{tenant}-"


def _fleet_metric(metric: str, fleet: str, statistic: str) -> dict[str, Any]:
    return {
        "Metric": {
            "Namespace": APPSTREAM_NAMESPACE,
            "MetricName": metric,
            "Dimensions": [{"Name": "Fleet", "Value": fleet}],
        },
        "Period": FLEET_PERIOD,
        "Stat": statistic,
    }


def fleet_alarms(
    tenant: str, fleet: str, fleet_type: str, thresholds: Mapping[str, Any], actions: list[str]
) -> list[dict[str, Any]]:
    """The fleet's alarms. An Elastic fleet has no instances of its own to count: only refused sessions."""
    common = {"AlarmActions": list(actions), "OKActions": list(actions), "ActionsEnabled": True}
    alarms: list[dict[str, Any]] = [
        {
            "AlarmName": f"{tenant}-fleet-insufficient-capacity",
            "AlarmDescription": f"Fleet {fleet} refused session requests for lack of capacity.",
            "Namespace": APPSTREAM_NAMESPACE,
            "MetricName": "InsufficientCapacityError",
            "Dimensions": [{"Name": "Fleet", "Value": fleet}],
            "Statistic": "Sum",
            "Period": FLEET_PERIOD,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "Threshold": 0.0,
            "ComparisonOperator": "GreaterThanThreshold",
            # No datapoint means no refused request.
            "TreatMissingData": "notBreaching",
            **common,
        }
    ]
    if fleet_type == "ELASTIC":
        return alarms
    minutes = int(thresholds["capacity_utilization_minutes"])
    percent = float(thresholds["capacity_utilization_percent"])
    alarms.append(
        {
            "AlarmName": f"{tenant}-fleet-capacity-utilization",
            "AlarmDescription": (
                f"Fleet {fleet}: at least {percent:g}% of its instances in use for {minutes} minutes; "
                "raise tenant.appstream.fleet.max_capacity or scale the fleet."
            ),
            "Namespace": APPSTREAM_NAMESPACE,
            "MetricName": "CapacityUtilization",
            "Dimensions": [{"Name": "Fleet", "Value": fleet}],
            "Statistic": "Average",
            "Period": FLEET_PERIOD,
            "EvaluationPeriods": minutes,
            "DatapointsToAlarm": minutes,
            "Threshold": percent,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            # A stopped fleet publishes nothing: that is not a busy fleet.
            "TreatMissingData": "notBreaching",
            **common,
        }
    )
    waiting = int(thresholds["no_available_capacity_minutes"])
    alarms.append(
        {
            "AlarmName": f"{tenant}-fleet-no-available-capacity",
            "AlarmDescription": (
                f"Fleet {fleet}: no idle instance for {waiting} minutes while it is meant to be up "
                "(DesiredCapacity above 0, i.e. within its working hours): the next user waits or is refused."
            ),
            "Metrics": [
                {
                    "Id": "available",
                    "MetricStat": _fleet_metric("AvailableCapacity", fleet, "Maximum"),
                    "ReturnData": False,
                },
                {
                    "Id": "desired",
                    "MetricStat": _fleet_metric("DesiredCapacity", fleet, "Maximum"),
                    "ReturnData": False,
                },
                {
                    "Id": "noroom",
                    "Expression": "IF(desired > 0 AND available == 0, 1, 0)",
                    "Label": "No idle instance while the fleet is meant to be up",
                    "ReturnData": True,
                },
            ],
            "EvaluationPeriods": waiting,
            "DatapointsToAlarm": waiting,
            "Threshold": 0.0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            **common,
        }
    )
    return alarms


def storage_threshold_bytes(storage_gib: int, free_percent: float) -> float:
    """FreeStorageCapacity (bytes) below which less than `free_percent` of the storage is free."""
    return storage_gib * GIB * free_percent / 100


def storage_alarm(
    tenant: str, file_system_id: str, storage_gib: int, free_percent: float, actions: list[str]
) -> dict[str, Any]:
    return {
        "AlarmName": f"{tenant}-fsx-free-storage",
        "AlarmDescription": (
            f"File system {file_system_id}: less than {free_percent:g}% of its {storage_gib} GiB free; "
            "raise tenant.storage.storage_gib (FSx grows in place)."
        ),
        "Namespace": FSX_NAMESPACE,
        "MetricName": "FreeStorageCapacity",
        "Dimensions": [{"Name": "FileSystemId", "Value": file_system_id}],
        "Statistic": "Minimum",
        "Period": STORAGE_PERIOD,
        "EvaluationPeriods": STORAGE_PERIODS,
        "DatapointsToAlarm": STORAGE_PERIODS,
        "Threshold": storage_threshold_bytes(storage_gib, free_percent),
        "ComparisonOperator": "LessThanThreshold",
        # A file system that stops reporting is not full; the directory and AWS Health say why.
        "TreatMissingData": "missing",
        "AlarmActions": list(actions),
        "OKActions": list(actions),
        "ActionsEnabled": True,
    }


def tenant_alarms(
    tenant: str,
    alerts: Mapping[str, Any],
    topic_arn: str,
    fleet: Mapping[str, Any] | None = None,
    file_system: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every alarm of the tenant, sorted by name. `fleet` {name, type}; `file_system` {id, storage_gib}:
    a resource not there yet (a tenant part-way built) has no alarm yet."""
    actions = [topic_arn]
    alarms: list[dict[str, Any]] = []
    if fleet and fleet.get("name"):
        alarms += fleet_alarms(tenant, str(fleet["name"]), str(fleet.get("type") or "ON_DEMAND"), alerts, actions)
    if file_system and file_system.get("id") and file_system.get("storage_gib"):
        alarms.append(
            storage_alarm(
                tenant,
                str(file_system["id"]),
                int(file_system["storage_gib"]),
                float(alerts["storage_free_percent"]),
                actions,
            )
        )
    return sorted(alarms, key=lambda alarm: alarm["AlarmName"])
