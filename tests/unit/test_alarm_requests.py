"""The tenant's alarms are PutMetricAlarm requests botocore's CloudWatch model accepts, member for member."""

from __future__ import annotations

import botocore.session
import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.alerts import tenant_alarms

from sandbox.validation import validate

MODEL = botocore.session.get_session().get_service_model("cloudwatch")
ALERTS = {
    "notify": ["ops@example.com"],
    "capacity_utilization_percent": 85,
    "capacity_utilization_minutes": 30,
    "no_available_capacity_minutes": 15,
    "storage_free_percent": 12.5,
}
ALARMS = tenant_alarms(
    "acme-neuro",
    ALERTS,
    "arn:aws:sns:eu-west-3:123456789012:acme-neuro-alerts",
    fleet={"name": "acme-neuro-fleet", "type": "ALWAYS_ON"},
    file_system={"id": "fs-0123456789abcdef0", "storage_gib": 2000},
)


@pytest.mark.parametrize("alarm", ALARMS, ids=lambda alarm: alarm["AlarmName"])
def test_each_alarm_is_a_valid_put_metric_alarm_request(alarm: dict) -> None:
    assert validate(MODEL.operation_model("PutMetricAlarm").input_shape, alarm) == []
