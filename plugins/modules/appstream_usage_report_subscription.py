#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: appstream_usage_report_subscription
version_added: 0.1.0
short_description: Manage the AppStream 2.0 usage report subscription of an account and region
description:
  - AppStream 2.0 usage reports are one subscription per account and B(region) (developer guide, Enable
    AppStream 2.0 Usage Reports); with it, AWS writes daily sessions and applications reports to a bucket
    C(appstream-logs-<region>-<account>-<random>) it creates, named by C(DescribeUsageReportSubscriptions).
  - "The subscription is B(shared) by every tenant of the region: the toolkit creates it where a tenant needs
    it and never deletes it when a tenant goes (playbooks/teardown.yml does not call this module).
    O(state=absent) exists for an account's own decommissioning, by hand."
  - An existing subscription costs one read; C(CreateUsageReportSubscription) is only called when there is
    none.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  state:
    description: Whether the region's subscription should exist. C(absent) stops the reports of B(every) tenant
      of the region.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    details: Read calls only.
  diff_mode:
    details: Whether the subscription exists, before and after.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.attributes
"""

EXAMPLES = r"""
- name: Ensure AppStream usage reports are written in the tenant's region
  iconeus.tenant_toolkit.appstream_usage_report_subscription:
  register: usage_subscription

- name: Show where the reports go
  ansible.builtin.debug:
    msg: "{{ usage_subscription.subscription.bucket }}"
"""

RETURN = r"""
subscription:
  description: The region's subscription after the run (empty when absent).
  type: dict
  returned: always
  sample: {bucket: appstream-logs-eu-west-3-123456789012-abcdefgh, schedule: DAILY,
           last_generated: "2026-12-05T00:00:00+00:00", errors: []}
plan:
  description: What the run changed or, in check mode, would change.
  type: dict
  returned: always
  sample: {action: create}
"""

import datetime
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator, run
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.pagination import paginate
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import ResourceKind


class UsageReportSubscription(ResourceKind):
    kind = "subscription"
    taggable = False  # an account-and-region setting, shared by every tenant: nobody's to own

    def __init__(self, module: AnsibleAWSModule) -> None:
        super().__init__(module, "")
        self.client = module.client("appstream", retry_decorator=retry_decorator())

    @property
    def name(self) -> str:
        return f"usage reports of {self.module.region}"

    def find(self) -> dict[str, Any] | None:
        found = paginate(self.client.describe_usage_report_subscriptions, "UsageReportSubscriptions", aws_retry=True)
        return found[0] if found else None

    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any] | None:
        self.client.create_usage_report_subscription(aws_retry=True)
        return self.find()

    def delete(self, resource: dict[str, Any]) -> None:
        self.client.delete_usage_report_subscription(aws_retry=True)

    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        if not resource:
            return {}
        generated = resource.get("LastGeneratedReportDate")
        return {
            "bucket": resource.get("S3BucketName", ""),
            "schedule": resource.get("Schedule", ""),
            "last_generated": generated.isoformat() if isinstance(generated, datetime.datetime) else generated,
            "errors": [
                f"{e.get('ErrorCode')}: {e.get('ErrorMessage')}" for e in resource.get("SubscriptionErrors") or []
            ],
        }


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(state=dict(type="str", choices=["present", "absent"], default="present")),
        supports_check_mode=True,
    )
    run(module, UsageReportSubscription(module), module.params["state"])


if __name__ == "__main__":
    main()
