#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tenant_alert_topic
version_added: 0.1.0
short_description: Manage the SNS topic that tells a tenant's operators about its alarms
description:
  - Ensures the Amazon SNS topic C(<tenant>-alerts) with an e-mail subscription for each address of
    O(notify). The tenant's CloudWatch alarms and its directory's status changes publish to it.
  - The topic is found by its name in the account and region (C(GetTopicAttributes) on its ARN); a topic of
    that name carrying another tenant's C(tenant) tag, or none, is never adopted, changed or deleted.
  - "An e-mail subscription stays I(pending) until its owner follows the link of SNS's confirmation
    message. A pending subscription of an address that is still wanted is left alone (subscribing again
    would send another confirmation). One that is no longer wanted cannot be removed: Amazon SNS deletes
    unconfirmed subscriptions after 48 hours (SNS developer guide, Deleting an Amazon SNS subscription and
    topic); the module reports it in a warning and plans no change for it."
  - Deleting the topic deletes its subscriptions.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  account_id:
    description:
      - The AWS account the run works in, when the caller knows it (the roles pass the C(account_id) that
        M(iconeus.tenant_toolkit.tenant_network) read from the tenant's VPC).
      - Spares the C(sts:GetCallerIdentity) call the module makes without it.
    type: str
  name:
    description: Name of the topic. Defaults to C(<tenant>-alerts).
    type: str
  notify:
    description: E-mail addresses subscribed to the topic (compared without regard to case). Required with
      I(state=present).
    type: list
    elements: str
  state:
    description: Whether the topic should exist.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description: SNS is synchronous; accepted for consistency with the other tenant modules.
  wait_timeout:
    default: 60
attributes:
  check_mode:
    details: Read calls only; C(changed) and the diff show what would be done.
  diff_mode:
    details: The subscribed addresses and tags before and after.
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
- name: Ensure the tenant's alert topic and its e-mail subscriptions
  iconeus.tenant_toolkit.tenant_alert_topic:
    tenant: acme-neuro
    environment: prod
    notify: [ops@example.com, oncall@acme-neuro.example]

- name: Remove the tenant's alert topic
  iconeus.tenant_toolkit.tenant_alert_topic:
    tenant: acme-neuro
    state: absent
"""

RETURN = r"""
topic:
  description: The topic as it is after the run (empty when absent).
  type: dict
  returned: always
  contains:
    name:
      description: Topic name.
      type: str
      sample: acme-neuro-alerts
    arn:
      description: Topic ARN, the action of the tenant's alarms.
      type: str
      sample: arn:aws:sns:eu-west-3:123456789012:acme-neuro-alerts
    subscriptions:
      description: E-mail subscriptions, C(confirmed) or C(pending) (waiting for the recipient's confirmation).
      type: list
      elements: dict
      sample: [{endpoint: ops@example.com, status: pending}]
    tags:
      description: Tags of the topic.
      type: dict
      sample: {tenant: acme-neuro, managed-by: appstream-tenant-toolkit}
plan:
  description: What the run changed or, in check mode, would change.
  type: dict
  returned: always
  sample: {action: update, fields: [subscriptions]}
topic_arn:
  description: ARN of the topic (also in check mode, before the topic exists), the action of the tenant's alarms.
  type: str
  returned: success
  sample: arn:aws:sns:eu-west-3:123456789012:acme-neuro-alerts
pending_unwanted:
  description: Pending subscriptions of addresses no longer wanted, which only time removes (also warned).
  type: list
  elements: str
  returned: always
  sample: ["old@example.com: pending confirmation; Amazon SNS deletes it after 48 hours unconfirmed"]
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import (
    account_id_of,
    converge_or_fail,
    retry_decorator,
    tenant_argument_spec,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.pagination import paginate
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import Plan, ResourceKind
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import (
    dict_to_list,
    known_or_read,
    list_to_dict,
)

PENDING = "PendingConfirmation"  # the SubscriptionArn SNS lists for an unconfirmed subscription
EMAIL_PROTOCOLS = ("email", "email-json")


def email_subscriptions(subscriptions: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """E-mail subscriptions by lower-cased address: {endpoint, arn, pending}."""
    found = {}
    for item in subscriptions:
        if item.get("Protocol") not in EMAIL_PROTOCOLS:
            continue
        arn = item.get("SubscriptionArn", "")
        found[str(item.get("Endpoint", "")).lower()] = {
            "endpoint": item.get("Endpoint", ""),
            "arn": arn,
            "pending": arn in (PENDING, "pending confirmation") or not arn.startswith("arn:"),
        }
    return found


def subscribed(current: dict[str, dict[str, Any]], wanted: list[str]) -> list[str]:
    """The addresses the topic counts as subscribed: confirmed ones, and pending ones still wanted (a pending
    one no longer wanted cannot be removed and is left to expire)."""
    wanted_keys = {address.lower() for address in wanted}
    return sorted(key for key, item in current.items() if not item["pending"] or key in wanted_keys)


class AlertTopic(ResourceKind):
    kind = "topic"

    def __init__(self, module: AnsibleAWSModule) -> None:
        super().__init__(module, module.params["tenant"], module.params["environment"])
        self.client = module.client("sns", retry_decorator=retry_decorator())
        self.region = module.region
        self._arn: str | None = None

    @property
    def name(self) -> str:
        return self.params["name"] or f"{self.tenant}-alerts"

    @property
    def arn(self) -> str:
        if self._arn is None:
            account = account_id_of(self.module)
            self._arn = f"arn:aws:sns:{self.region}:{account}:{self.name}"
        return self._arn

    @property
    def wanted(self) -> list[str]:
        return sorted({address.lower() for address in self.params["notify"] or []})

    def read_tags(self) -> dict[str, str] | None:
        """The topic's tags, None when it does not exist.

        ListTagsForResource answers NotFound for a topic that does not exist, so it is the existence check
        too: no GetTopicAttributes (https://docs.aws.amazon.com/sns/latest/api/API_ListTagsForResource.html).
        """
        try:
            listed = self.client.list_tags_for_resource(ResourceArn=self.arn, aws_retry=True)
        except is_boto3_error_code(["ResourceNotFound", "NotFound"]):
            return None
        return list_to_dict(listed["Tags"])

    def find(self) -> dict[str, Any] | None:
        # A topic the run's tag listing (known_tags) holds is not read again; ListSubscriptionsByTopic, which
        # answers NotFound too, then finds one deleted since (the tagging API may still list it for a while).
        tags = known_or_read(self.known_tags, self.arn, self.read_tags)
        if tags is None:
            return None
        try:
            subscriptions = paginate(
                self.client.list_subscriptions_by_topic, "Subscriptions", aws_retry=True, TopicArn=self.arn
            )
        except is_boto3_error_code(["ResourceNotFound", "NotFound"]):
            return None
        return {"arn": self.arn, "tags": tags, "subscriptions": email_subscriptions(subscriptions)}

    def current_tags(self, resource: dict[str, Any]) -> dict[str, str]:
        return resource["tags"]

    def desired(self) -> dict[str, Any]:
        if self.params["state"] == "absent":
            return {}
        return {"subscriptions": self.wanted}

    def comparable(self, resource: dict[str, Any]) -> dict[str, Any]:
        return {"subscriptions": subscribed(resource["subscriptions"], self.wanted)}

    def subscribe(self, addresses: list[str]) -> None:
        for address in addresses:
            self.client.subscribe(
                TopicArn=self.arn, Protocol="email", Endpoint=address, ReturnSubscriptionArn=True, aws_retry=True
            )

    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any] | None:
        self.client.create_topic(Name=self.name, Tags=dict_to_list(tags), aws_retry=True)
        self.subscribe(self.wanted)
        return self.find()

    def update(self, resource: dict[str, Any], plan: Plan) -> dict[str, Any] | None:
        current = resource["subscriptions"]
        self.subscribe([address for address in self.wanted if address not in current])
        for key, item in sorted(current.items()):
            if key not in self.wanted and not item["pending"]:
                self.client.unsubscribe(SubscriptionArn=item["arn"], aws_retry=True)
        return None

    def set_tags(self, resource: dict[str, Any], to_set: dict[str, str], to_remove: list[str]) -> None:
        if to_remove:
            self.client.untag_resource(ResourceArn=self.arn, TagKeys=to_remove, aws_retry=True)
        if to_set:
            self.client.tag_resource(ResourceArn=self.arn, Tags=dict_to_list(to_set), aws_retry=True)
        self.known_tags.pop(self.arn, None)

    def delete(self, resource: dict[str, Any]) -> None:
        self.client.delete_topic(TopicArn=self.arn, aws_retry=True)

    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        if not resource:
            return {}
        return {
            "name": self.name,
            "arn": resource["arn"],
            "subscriptions": [
                {"endpoint": item["endpoint"], "status": "pending" if item["pending"] else "confirmed"}
                for _key, item in sorted(resource["subscriptions"].items())
            ],
            "tags": resource["tags"],
        }

    def finish(self, result: dict[str, Any], state: str, check_mode: bool) -> dict[str, Any]:
        current = (result.get(self.kind) or {}).get("subscriptions") or []
        # The ARN the tenant's alarms notify, also in check mode before the topic exists.
        result["topic_arn"] = self.arn
        result["pending_unwanted"] = [
            f"{item['endpoint']}: pending confirmation and no longer in notify; Amazon SNS deletes it after "
            "48 hours unconfirmed (a pending subscription cannot be removed)"
            for item in current
            if item["status"] == "pending" and item["endpoint"].lower() not in self.wanted and state == "present"
        ]
        return result


def main() -> None:
    argument_spec = dict(
        name=dict(type="str"),
        notify=dict(type="list", elements="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        account_id=dict(type="str"),
        known_tags=dict(type="dict"),
        **tenant_argument_spec(wait_timeout=60),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["notify"])],
        supports_check_mode=True,
    )
    result = converge_or_fail(module, AlertTopic(module), module.params["state"])
    for warning in result["pending_unwanted"]:
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
