# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tenant's CloudWatch alarms as PutMetricAlarm requests, for the tenant_alarms module.

    {{ tenant_spec.alerts | iconeus.tenant_toolkit.tenant_alarm_requests(
         tenant=tenant_spec.name, topic_arn=arn, fleet={'name': ..., 'type': ...},
         file_system={'id': ..., 'storage_gib': ...}) }}

The alarms themselves (metrics, dimensions, thresholds, why) are in plugins/module_utils/alerts.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.alerts import tenant_alarms


def tenant_alarm_requests(
    alerts: Mapping[str, Any],
    tenant: str,
    topic_arn: str,
    fleet: Mapping[str, Any] | None = None,
    file_system: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    if not isinstance(alerts, Mapping):
        raise AnsibleFilterError(f"tenant_alarm_requests: the alerts must be a mapping, got {type(alerts).__name__}")
    if not topic_arn:
        raise AnsibleFilterError("tenant_alarm_requests: topic_arn is empty")
    return tenant_alarms(str(tenant), alerts, str(topic_arn), fleet=fleet or None, file_system=file_system or None)


class FilterModule:
    """The tenant's alarms."""

    def filters(self) -> dict[str, Any]:
        return {"tenant_alarm_requests": tenant_alarm_requests}
