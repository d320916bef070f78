#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tenant_alarms
version_added: 0.1.0
short_description: Manage the CloudWatch metric alarms of one tenant
description:
  - Ensures the tenant's CloudWatch metric alarms are exactly O(alarms), each given as a C(PutMetricAlarm)
    request (plugins/module_utils/alerts.py computes the toolkit's from the tenant definition), and with
    O(purge=true) deletes the tenant's other alarms whose names start with O(prefix).
  - One C(DescribeAlarms) call over O(prefix) finds the alarms, then one C(ListTagsForResource) each reads the
    ownership tags of those it may change (none for an alarm listed in O(known_tags)). An alarm of that name
    carrying another tenant's C(tenant) tag, or none, is never adopted, changed or deleted (the run fails
    naming it; O(state=absent) reports it kept).
  - An alarm whose settings differ is replaced in place by C(PutMetricAlarm) (CloudWatch has no partial
    update); tags change through C(TagResource)/C(UntagResource), as C(PutMetricAlarm) ignores the tags of an
    existing alarm.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  alarms:
    description:
      - The alarms, each a C(PutMetricAlarm) request (C(AlarmName), C(Namespace), C(MetricName), C(Dimensions),
        C(Statistic), C(Period) or C(Metrics) for metric math, C(EvaluationPeriods), C(DatapointsToAlarm),
        C(Threshold), C(ComparisonOperator), C(TreatMissingData), C(AlarmActions), C(OKActions), ...).
      - Every name must start with O(prefix).
    type: list
    elements: dict
    default: []
  prefix:
    description: Name prefix of the tenant's alarms. Defaults to C(<tenant>-).
    type: str
  purge:
    description: Delete the tenant's alarms under O(prefix) that are not in O(alarms).
    type: bool
    default: true
  state:
    description: C(absent) deletes every alarm of the tenant under O(prefix).
    type: str
    choices: [present, absent]
    default: present
  wait:
    description: CloudWatch is synchronous; accepted for consistency with the other tenant modules.
  wait_timeout:
    default: 60
attributes:
  check_mode:
    details: Read calls only; C(changed) and the diff show what would be done.
  diff_mode:
    details: The settings of each alarm that would change, by alarm name.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.tenant
  - iconeus.tenant_toolkit.known_tags
  - iconeus.tenant_toolkit.wait
  - iconeus.tenant_toolkit.attributes
"""

EXAMPLES = r"""
- name: Ensure the tenant's alarms
  iconeus.tenant_toolkit.tenant_alarms:
    tenant: acme-neuro
    environment: prod
    alarms: "{{ alarms }}"

- name: Remove every alarm of the tenant
  iconeus.tenant_toolkit.tenant_alarms:
    tenant: acme-neuro
    state: absent
"""

RETURN = r"""
alarms:
  description: The tenant's alarms after the run, by name.
  type: list
  elements: dict
  returned: always
  sample: [{name: acme-neuro-fleet-insufficient-capacity, state: OK, metric: AWS/AppStream InsufficientCapacityError,
            dimensions: {Fleet: acme-neuro-fleet}, threshold: 0.0, tags: {tenant: acme-neuro}}]
plans:
  description: What the run did (or would do) to each alarm.
  type: dict
  returned: always
  sample: {acme-neuro-fsx-free-storage: {action: create, fields: [Threshold]}}
kept:
  description: Alarms under the prefix that are not the tenant's, left alone.
  type: list
  elements: dict
  returned: always
  sample: [{name: acme-neuro-lab2-fleet-insufficient-capacity, reason: "its tenant tag is 'acme-neuro-lab2'"}]
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import (
    converge_or_fail,
    retry_decorator,
    tenant_argument_spec,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.pagination import paginate
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import Plan, ResourceKind
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import (
    dict_to_list,
    is_owned,
    known_or_read,
    list_to_dict,
    owner_of,
)

# The members of a metric alarm that PutMetricAlarm sets and DescribeAlarms returns.
SETTINGS = (
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
)
DEFAULTS = {"ActionsEnabled": True, "InsufficientDataActions": [], "OKActions": [], "AlarmActions": []}


def _dimensions(items: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    return sorted(({"Name": d["Name"], "Value": str(d["Value"])} for d in items or []), key=lambda d: d["Name"])


def _query(query: dict[str, Any]) -> dict[str, Any]:
    shaped = {key: query[key] for key in ("Id", "Expression", "Label", "Period", "AccountId") if query.get(key)}
    shaped["ReturnData"] = bool(query.get("ReturnData", True))
    if query.get("MetricStat"):
        stat = query["MetricStat"]
        metric = stat["Metric"]
        shaped["MetricStat"] = {
            "Metric": {
                "Namespace": metric.get("Namespace"),
                "MetricName": metric.get("MetricName"),
                "Dimensions": _dimensions(metric.get("Dimensions")),
            },
            "Period": int(stat["Period"]),
            "Stat": stat["Stat"],
            **({"Unit": stat["Unit"]} if stat.get("Unit") else {}),
        }
    return shaped


def comparable_settings(alarm: dict[str, Any]) -> dict[str, Any]:
    """An alarm's settings in one canonical form, whether from a request or from DescribeAlarms."""
    settings = {**DEFAULTS, **{key: alarm.get(key) for key in SETTINGS if alarm.get(key) not in (None, [], "")}}
    settings["Dimensions"] = _dimensions(alarm.get("Dimensions"))
    settings["Metrics"] = [_query(query) for query in alarm.get("Metrics") or []]
    for key in ("OKActions", "AlarmActions", "InsufficientDataActions"):
        settings[key] = sorted(settings[key])
    for key in ("Threshold",):
        if settings.get(key) is not None:
            settings[key] = float(settings[key])
    for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
        if settings.get(key) is not None:
            settings[key] = int(settings[key])
    return {key: value for key, value in settings.items() if value not in (None, "")}


class Alarm(ResourceKind):
    kind = "alarm"

    def __init__(self, owner: TenantAlarms, name: str, request: dict[str, Any] | None) -> None:
        super().__init__(owner.module, owner.module.params["tenant"], owner.module.params["environment"])
        self.owner = owner
        self.alarm_name = name
        self.request = request or {}

    @property
    def name(self) -> str:
        return self.alarm_name

    def find(self) -> dict[str, Any] | None:
        return self.owner.described(self.alarm_name)

    def current_tags(self, resource: dict[str, Any]) -> dict[str, str]:
        return self.owner.tags_of(resource)

    def desired(self) -> dict[str, Any]:
        return comparable_settings(self.request) if self.request else {}

    def comparable(self, resource: dict[str, Any]) -> dict[str, Any]:
        return comparable_settings(resource)

    def put(self, tags: dict[str, str] | None) -> None:
        request = {key: value for key, value in self.request.items() if key != "Tags"}
        if tags:
            request["Tags"] = dict_to_list(tags)
        self.owner.client.put_metric_alarm(aws_retry=True, **request)

    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any] | None:
        self.put(tags)
        return self.owner.refreshed(self.alarm_name)

    def update(self, resource: dict[str, Any], plan: Plan) -> dict[str, Any] | None:
        self.put(None)
        return self.owner.refreshed(self.alarm_name)

    def set_tags(self, resource: dict[str, Any], to_set: dict[str, str], to_remove: list[str]) -> None:
        arn = resource["AlarmArn"]
        if to_remove:
            self.owner.client.untag_resource(ResourceARN=arn, TagKeys=to_remove, aws_retry=True)
        if to_set:
            self.owner.client.tag_resource(ResourceARN=arn, Tags=dict_to_list(to_set), aws_retry=True)
        self.owner.tags.pop(arn, None)
        self.owner.known.pop(arn, None)

    def wait_present(self, resource: dict[str, Any] | None) -> dict[str, Any] | None:
        return self.owner.refreshed(self.alarm_name) if resource is None else resource

    def delete(self, resource: dict[str, Any]) -> None:
        self.owner.client.delete_alarms(AlarmNames=[self.alarm_name], aws_retry=True)

    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        if not resource:
            return {}
        if resource.get("Metrics"):
            watched = [query.get("Expression", "") for query in resource["Metrics"] if query.get("ReturnData")]
            metric = "metric math: " + (watched[0] if watched else "")
        else:
            metric = f"{resource.get('Namespace')} {resource.get('MetricName')}"
        return {
            "name": resource["AlarmName"],
            "arn": resource.get("AlarmArn", ""),
            "state": resource.get("StateValue", ""),
            "metric": metric,
            "dimensions": {d["Name"]: d["Value"] for d in resource.get("Dimensions") or []},
            "threshold": resource.get("Threshold"),
            "comparison": resource.get("ComparisonOperator"),
            "tags": self.owner.tags.get(resource.get("AlarmArn", ""), {}),
        }


class TenantAlarms:
    """The tenant's alarms read once (one DescribeAlarms over the prefix), their tags read as needed."""

    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.params = module.params
        self.client = module.client("cloudwatch", retry_decorator=retry_decorator())
        self.prefix = self.params["prefix"] or f"{self.params['tenant']}-"
        self.alarms: dict[str, dict[str, Any]] = {}
        self.tags: dict[str, dict[str, str]] = {}
        # Tags read earlier in the run (option known_tags); forgotten for an alarm whose tags change.
        self.known: dict[str, Any] = dict(self.params.get("known_tags") or {})

    def read(self) -> None:
        found = paginate(
            self.client.describe_alarms,
            "MetricAlarms",
            aws_retry=True,
            AlarmNamePrefix=self.prefix,
            AlarmTypes=["MetricAlarm"],
        )
        self.alarms = {alarm["AlarmName"]: alarm for alarm in found}

    def described(self, name: str) -> dict[str, Any] | None:
        return self.alarms.get(name)

    def refreshed(self, name: str) -> dict[str, Any] | None:
        found = self.client.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm"], aws_retry=True)
        for alarm in found.get("MetricAlarms") or []:
            self.alarms[name] = alarm
            return alarm
        return None

    def tags_of(self, alarm: dict[str, Any]) -> dict[str, str]:
        arn = alarm["AlarmArn"]
        if arn not in self.tags:

            def read() -> dict[str, str]:
                return list_to_dict(self.client.list_tags_for_resource(ResourceARN=arn, aws_retry=True)["Tags"])

            self.tags[arn] = known_or_read(self.known, arn, read)
        return self.tags[arn]

    def run(self) -> dict[str, Any]:
        state = self.params["state"]
        requests = {} if state == "absent" else {alarm["AlarmName"]: alarm for alarm in self.params["alarms"]}
        wrong = sorted(name for name in requests if not name.startswith(self.prefix))
        if wrong:
            self.module.fail_json(
                msg=f"alarms: {', '.join(wrong)} do not start with the tenant's prefix {self.prefix!r}"
            )
        self.read()
        result: dict[str, Any] = {"changed": False, "alarms": [], "plans": {}, "kept": [], "diff": []}
        names = sorted(set(requests) | (set(self.alarms) if state == "absent" or self.params["purge"] else set()))
        for name in names:
            wanted = name in requests
            alarm = Alarm(self, name, requests.get(name))
            existing = self.alarms.get(name)
            if not wanted and existing is not None and not is_owned(self.tags_of(existing), alarm.tenant):
                reason = f"its tenant tag is {owner_of(self.tags_of(existing))!r}"
                result["kept"].append({"name": name, "reason": reason})
                continue
            outcome = converge_or_fail(self.module, alarm, "present" if wanted else "absent")
            result["changed"] |= bool(outcome["changed"])
            result["plans"][name] = outcome["plan"]
            if outcome["changed"]:
                result["diff"].append({"before_header": name, "after_header": name, **outcome["diff"]})
            if outcome.get("alarm"):
                result["alarms"].append(outcome["alarm"])
        return result


def main() -> None:
    argument_spec = dict(
        alarms=dict(type="list", elements="dict", default=[]),
        prefix=dict(type="str"),
        purge=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        known_tags=dict(type="dict"),
        **tenant_argument_spec(wait_timeout=60),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_json(**TenantAlarms(module).run())


if __name__ == "__main__":
    main()
