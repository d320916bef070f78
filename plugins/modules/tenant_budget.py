#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tenant_budget
version_added: 0.1.0
short_description: Manage the monthly AWS Budget of one tenant
description:
  - Ensures a monthly cost budget filtered by the tenant's cost allocation tag (C(tenant)), with an e-mail
    alert on actual spend above a percentage of the limit and one on forecast spend above another.
  - Only a budget tagged with the tenant's ownership tags is changed or deleted.
  - No Ansible collection ships a module for AWS Budgets.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  account_id:
    description:
      - The AWS account the run works in, when the caller knows it (the roles pass the C(account_id) that
        M(iconeus.tenant_toolkit.tenant_network) read from the tenant's VPC).
      - Spares the C(sts:GetCallerIdentity) call the module makes without it.
    type: str
  name:
    description: Budget name. Defaults to C(<tenant>-monthly).
    type: str
  monthly_usd:
    description: Monthly limit in US dollars. Required with I(state=present).
    type: float
  notify:
    description: E-mail addresses that receive both alerts. Required with I(state=present).
    type: list
    elements: str
  actual_threshold_percent:
    description: Alert when actual spend exceeds this percentage of the limit.
    type: float
    default: 80
  forecast_threshold_percent:
    description: Alert when forecast spend exceeds this percentage of the limit.
    type: float
    default: 100
  state:
    description: Whether the budget should exist.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description: Budgets are synchronous; accepted for consistency with the other tenant modules.
  wait_timeout:
    default: 60
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.tenant
  - iconeus.tenant_toolkit.wait
  - iconeus.tenant_toolkit.attributes
attributes:
  check_mode:
    details: Read calls only; C(changed) and the diff show what would be done.
  diff_mode:
    details: Before and after values of the settings that would change.
notes:
  - The C(tenant) tag must be activated as a cost allocation tag in the billing console for the filter to
    match spend.
"""

EXAMPLES = r"""
- name: Ensure the tenant's monthly budget and its alerts
  iconeus.tenant_toolkit.tenant_budget:
    tenant: acme-neuro
    environment: prod
    monthly_usd: 800
    notify: [ops@example.com]

- name: Remove the tenant's budget
  iconeus.tenant_toolkit.tenant_budget:
    tenant: acme-neuro
    state: absent
"""

RETURN = r"""
budget:
  description: The budget as it is after the run (empty when absent).
  type: dict
  returned: always
  contains:
    name:
      description: Budget name.
      type: str
      sample: acme-neuro-monthly
    limit_usd:
      description: Monthly limit.
      type: float
      sample: 800.0
    notifications:
      description: Alerts with their subscribers.
      type: list
      elements: dict
      sample: [{type: ACTUAL, threshold_percent: 80.0, subscribers: [ops@example.com]}]
    tags:
      description: Tags of the budget.
      type: dict
      sample: {tenant: acme-neuro, managed-by: appstream-tenant-toolkit}
plan:
  description: What the run changed or, in check mode, would change.
  type: dict
  returned: always
  sample: {action: update, fields: [limit_usd]}
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import (
    account_id_of,
    retry_decorator,
    run,
    tenant_argument_spec,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import ResourceKind
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import dict_to_list, list_to_dict


def notification_spec(kind: str, threshold: float) -> dict[str, Any]:
    return {
        "NotificationType": kind,
        "ComparisonOperator": "GREATER_THAN",
        "Threshold": float(threshold),
        "ThresholdType": "PERCENTAGE",
    }


def comparable_notifications(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        (
            {
                "type": n["NotificationType"],
                "threshold_percent": float(n["Threshold"]),
                "subscribers": sorted(s["Address"] for s in n.get("Subscribers", [])),
            }
            for n in items
        ),
        key=lambda n: (n["type"], n["threshold_percent"]),
    )


class Budget(ResourceKind):
    kind = "budget"

    def __init__(self, module: AnsibleAWSModule) -> None:
        super().__init__(module, module.params["tenant"], module.params["environment"])
        self.client = module.client("budgets", retry_decorator=retry_decorator())
        self._account_id: str | None = None

    @property
    def name(self) -> str:
        return self.params["name"] or f"{self.tenant}-monthly"

    @property
    def account_id(self) -> str:
        if self._account_id is None:
            self._account_id = account_id_of(self.module)
        return self._account_id

    @property
    def arn(self) -> str:
        return f"arn:aws:budgets::{self.account_id}:budget/{self.name}"

    def find(self) -> dict[str, Any] | None:
        try:
            budget = self.client.describe_budget(AccountId=self.account_id, BudgetName=self.name, aws_retry=True)
        except is_boto3_error_code("NotFoundException"):
            return None
        budget = budget["Budget"]
        notifications = self.client.describe_notifications_for_budget(
            AccountId=self.account_id, BudgetName=self.name, aws_retry=True
        )["Notifications"]
        for notification in notifications:
            notification["Subscribers"] = self.client.describe_subscribers_for_notification(
                AccountId=self.account_id, BudgetName=self.name, Notification=notification, aws_retry=True
            )["Subscribers"]
        budget["Notifications"] = notifications
        budget["Tags"] = list_to_dict(
            self.client.list_tags_for_resource(ResourceARN=self.arn, aws_retry=True)["ResourceTags"]
        )
        return budget

    def current_tags(self, resource: dict[str, Any]) -> dict[str, str]:
        return resource.get("Tags", {})

    def _wanted_notifications(self) -> list[dict[str, Any]]:
        notify = sorted(self.params["notify"] or [])
        return [
            {
                **notification_spec("ACTUAL", self.params["actual_threshold_percent"]),
                "Subscribers": [{"SubscriptionType": "EMAIL", "Address": a} for a in notify],
            },
            {
                **notification_spec("FORECASTED", self.params["forecast_threshold_percent"]),
                "Subscribers": [{"SubscriptionType": "EMAIL", "Address": a} for a in notify],
            },
        ]

    def desired(self) -> dict[str, Any]:
        if self.params["state"] == "absent":
            return {}
        return {
            "limit_usd": float(self.params["monthly_usd"]),
            "cost_filter": {"TagKeyValue": [f"user:tenant${self.tenant}"]},
            "notifications": comparable_notifications(self._wanted_notifications()),
        }

    def comparable(self, resource: dict[str, Any]) -> dict[str, Any]:
        return {
            "limit_usd": float(resource.get("BudgetLimit", {}).get("Amount", 0)),
            "cost_filter": resource.get("CostFilters", {}),
            "notifications": comparable_notifications(resource.get("Notifications", [])),
        }

    def _budget_document(self) -> dict[str, Any]:
        return {
            "BudgetName": self.name,
            "BudgetLimit": {"Amount": f"{float(self.params['monthly_usd']):.2f}", "Unit": "USD"},
            "CostFilters": {"TagKeyValue": [f"user:tenant${self.tenant}"]},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        }

    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any] | None:
        self.client.create_budget(
            AccountId=self.account_id,
            Budget=self._budget_document(),
            NotificationsWithSubscribers=[
                {"Notification": {k: v for k, v in n.items() if k != "Subscribers"}, "Subscribers": n["Subscribers"]}
                for n in self._wanted_notifications()
            ],
            ResourceTags=dict_to_list(tags),
            aws_retry=True,
        )
        return self.find()

    def update(self, resource: dict[str, Any], plan: Any) -> dict[str, Any] | None:
        if "limit_usd" in plan.changes or "cost_filter" in plan.changes:
            self.client.update_budget(AccountId=self.account_id, NewBudget=self._budget_document(), aws_retry=True)
        if "notifications" in plan.changes:
            # Alerts are few (two); replacing them keeps the logic obviously right.
            for notification in resource.get("Notifications", []):
                self.client.delete_notification(
                    AccountId=self.account_id,
                    BudgetName=self.name,
                    Notification={k: v for k, v in notification.items() if k != "Subscribers"},
                    aws_retry=True,
                )
            for notification in self._wanted_notifications():
                self.client.create_notification(
                    AccountId=self.account_id,
                    BudgetName=self.name,
                    Notification={k: v for k, v in notification.items() if k != "Subscribers"},
                    Subscribers=notification["Subscribers"],
                    aws_retry=True,
                )
        return None

    def set_tags(self, resource: dict[str, Any], to_set: dict[str, str], to_remove: list[str]) -> None:
        if to_remove:
            self.client.untag_resource(ResourceARN=self.arn, ResourceTagKeys=to_remove, aws_retry=True)
        if to_set:
            self.client.tag_resource(ResourceARN=self.arn, ResourceTags=dict_to_list(to_set), aws_retry=True)

    def delete(self, resource: dict[str, Any]) -> None:
        self.client.delete_budget(AccountId=self.account_id, BudgetName=self.name, aws_retry=True)

    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        if not resource:
            return {}
        current = self.comparable(resource)
        return {
            "name": resource["BudgetName"],
            "limit_usd": current["limit_usd"],
            "notifications": current["notifications"],
            "tags": resource.get("Tags", {}),
        }


def main() -> None:
    argument_spec = dict(
        name=dict(type="str"),
        monthly_usd=dict(type="float"),
        notify=dict(type="list", elements="str"),
        actual_threshold_percent=dict(type="float", default=80),
        forecast_threshold_percent=dict(type="float", default=100),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        account_id=dict(type="str"),
        **tenant_argument_spec(wait_timeout=60),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["monthly_usd", "notify"])],
        supports_check_mode=True,
    )
    if module.params["state"] == "present" and module.params["monthly_usd"] <= 0:
        module.fail_json(msg="monthly_usd: must be a positive amount")
    run(module, Budget(module), module.params["state"])


if __name__ == "__main__":
    main()
