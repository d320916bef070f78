#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tenant_log_group
version_added: 0.1.0
short_description: Manage a tenant's CloudWatch Logs log group and the account's resource policy for a service
description:
  - Ensures a CloudWatch Logs log group with its retention and ownership tags. Only a group tagged for the tenant is
    changed or deleted (amazon.aws's cloudwatchlogs_log_group adopts whatever has the name).
  - With O(resource_policy), also ensures a CloudWatch Logs resource policy of the account and Region (DataSync
    writes task logs only where one allows it). Such a policy is shared by every tenant (CloudWatch Logs allows 10 per
    Region) - it is created or updated, never deleted by this module.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  name:
    description: Log group name.
    type: str
    required: true
  retention_days:
    description: Days log events are kept (a value CloudWatch Logs accepts, e.g. 30, 90, 365).
    type: int
    default: 90
  resource_policy:
    description: A resource policy of the account to ensure alongside (never deleted).
    type: dict
    suboptions:
      name:
        description: Policy name.
        type: str
        required: true
      document:
        description: Policy document.
        type: dict
        required: true
  state:
    description: Whether the log group should exist.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description: Log groups are ready at once; accepted for consistency with the other tenant modules.
  wait_timeout:
    default: 60
attributes:
  check_mode:
    details: Read calls only; C(changed), the plan and the diff show what would be done.
  diff_mode:
    details: Before and after values of the retention, tags and resource policy that would change.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.tenant
  - iconeus.tenant_toolkit.wait
  - iconeus.tenant_toolkit.attributes
"""

EXAMPLES = r"""
- name: Ensure the tenant's DataSync log group, and that DataSync may write to the toolkit's groups
  iconeus.tenant_toolkit.tenant_log_group:
    name: /tenant-toolkit/datasync/acme-neuro
    retention_days: 90
    tenant: acme-neuro
    resource_policy:
      name: tenant-toolkit-datasync
      document: "{{ ingest_logs_policy }}"
"""

RETURN = r"""
log_group:
  description: The log group as it is after the run (empty when absent).
  type: dict
  returned: always
  contains:
    name:
      description: Log group name.
      type: str
      sample: /tenant-toolkit/datasync/acme-neuro
    arn:
      description: Its ARN as DataSync takes it (with C(:*)).
      type: str
      sample: arn:aws:logs:eu-west-3:123456789012:log-group:/tenant-toolkit/datasync/acme-neuro:*
    retention_days:
      description: Retention in days.
      type: int
      sample: 90
    tags:
      description: Tags.
      type: dict
      sample: {tenant: acme-neuro}
resource_policy_changed:
  description: Whether the account's resource policy was (or, in check mode, would be) created or updated.
  type: bool
  returned: when resource_policy is given
plan:
  description: What the run changed or, in check mode, would change.
  type: dict
  returned: always
  sample: {action: create}
"""

import json
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import (
    converge_or_fail,
    retry_decorator,
    tenant_argument_spec,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.pagination import paginate
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import Plan, ResourceKind

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # AnsibleAWSModule reports a missing botocore itself
    BotoCoreError = ClientError = ()  # type: ignore[assignment,misc]


class LogGroup(ResourceKind):
    kind = "log_group"

    def __init__(self, module: AnsibleAWSModule) -> None:
        super().__init__(module, module.params["tenant"], module.params["environment"])
        self.logs = module.client("logs", retry_decorator=retry_decorator(["OperationAbortedException"]))

    def find(self) -> dict[str, Any] | None:
        groups = paginate(
            self.logs.describe_log_groups, "logGroups", "nextToken", logGroupNamePrefix=self.name, aws_retry=True
        )
        found = next((group for group in groups if group["logGroupName"] == self.name), None)
        if found is None:
            return None
        found["tags"] = self.logs.list_tags_log_group(logGroupName=self.name, aws_retry=True).get("tags", {})
        return found

    def current_tags(self, resource: dict[str, Any]) -> dict[str, str]:
        return resource.get("tags", {})

    def desired(self) -> dict[str, Any]:
        if self.params["state"] == "absent":
            return {}
        return {"retention_days": self.params["retention_days"]}

    def comparable(self, resource: dict[str, Any]) -> dict[str, Any]:
        return {"retention_days": resource.get("retentionInDays")}

    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any] | None:
        self.logs.create_log_group(logGroupName=self.name, tags=tags, aws_retry=True)
        self.logs.put_retention_policy(
            logGroupName=self.name, retentionInDays=desired["retention_days"], aws_retry=True
        )
        return self.find()

    def update(self, resource: dict[str, Any], plan: Plan) -> dict[str, Any] | None:
        self.logs.put_retention_policy(
            logGroupName=self.name, retentionInDays=self.params["retention_days"], aws_retry=True
        )
        return None

    def set_tags(self, resource: dict[str, Any], to_set: dict[str, str], to_remove: list[str]) -> None:
        if to_remove:
            self.logs.untag_log_group(logGroupName=self.name, tags=to_remove, aws_retry=True)
        if to_set:
            self.logs.tag_log_group(logGroupName=self.name, tags=to_set, aws_retry=True)

    def delete(self, resource: dict[str, Any]) -> None:
        self.logs.delete_log_group(logGroupName=self.name, aws_retry=True)

    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        if not resource:
            return {}
        arn = resource.get("arn") or ""
        return {
            "name": self.name,
            "arn": arn if arn.endswith(":*") else f"{arn}:*",
            "retention_days": resource.get("retentionInDays"),
            "tags": resource.get("tags", {}),
        }

    # -- the account's resource policy ----------------------------------------------------------------
    def ensure_resource_policy(self, wanted: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """(changed, diff) of the named account policy; created or updated only when it differs."""
        policies = paginate(self.logs.describe_resource_policies, "resourcePolicies", "nextToken", aws_retry=True)
        current = next((item for item in policies if item.get("policyName") == wanted["name"]), None)
        before = json.loads(current["policyDocument"]) if current else None
        if before == wanted["document"]:
            return False, {}
        if not self.module.check_mode:
            self.logs.put_resource_policy(
                policyName=wanted["name"], policyDocument=json.dumps(wanted["document"]), aws_retry=True
            )
        return True, {"before": {"resource_policy": before}, "after": {"resource_policy": wanted["document"]}}


def main() -> None:
    argument_spec = dict(
        name=dict(type="str", required=True),
        retention_days=dict(type="int", default=90),
        resource_policy=dict(
            type="dict",
            options=dict(name=dict(type="str", required=True), document=dict(type="dict", required=True)),
        ),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        **tenant_argument_spec(wait_timeout=60),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    kind = LogGroup(module)
    result = converge_or_fail(module, kind, module.params["state"])
    wanted = module.params["resource_policy"]
    if wanted and module.params["state"] == "present":
        try:
            changed, diff = kind.ensure_resource_policy(wanted)
        except (BotoCoreError, ClientError) as err:
            module.fail_json_aws(
                err, msg=f"CloudWatch Logs resource policy {wanted['name']!r}: AWS refused the request"
            )
        result["resource_policy_changed"] = changed
        if changed:
            result["changed"] = True
            result["diff"]["before"].update(diff["before"])
            result["diff"]["after"].update(diff["after"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
