#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: directory_event_topic
version_added: 0.1.0
short_description: Have a tenant's Managed Microsoft AD publish its status changes to the tenant's SNS topic
description:
  - "Registers (C(RegisterEventTopic)) or deregisters (C(DeregisterEventTopic)) an SNS topic of the directory's
    region as a publisher target of the directory: AWS then publishes a message when the directory goes from
    Active to Impaired or Inoperable and when it returns to Active (Directory Service API reference,
    RegisterEventTopic)."
  - "The registration is read with C(DescribeEventTopics). Before any change the directory's C(tenant) tag is
    read (C(ListTagsForResource)): a directory of another tenant, or untagged, is never registered with or
    deregistered from; other topics registered with the tenant's directory are left alone."
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  directory_id:
    description: Id of the tenant's directory (C(d-...)).
    type: str
    required: true
  topic_name:
    description: Name of the SNS topic (same region as the directory). Defaults to C(<tenant>-alerts).
    type: str
  state:
    description: Whether the topic should be registered with the directory.
    type: str
    choices: [present, absent]
    default: present
  tenant:
    description: Tenant that owns the directory and the topic.
    type: str
    required: true
attributes:
  check_mode:
    details: Read calls only; C(changed) and the diff show what would be done.
  diff_mode:
    details: Whether the topic is registered, before and after.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.attributes
"""

EXAMPLES = r"""
- name: Ensure the directory tells the tenant's topic about its status
  iconeus.tenant_toolkit.directory_event_topic:
    tenant: acme-neuro
    directory_id: d-9067c1f2a3
"""

RETURN = r"""
registration:
  description: The registration after the run (empty when absent).
  type: dict
  returned: always
  sample: {directory_id: d-9067c1f2a3, topic_name: acme-neuro-alerts, status: Registered,
           topic_arn: "arn:aws:sns:eu-west-3:123456789012:acme-neuro-alerts"}
plan:
  description: What the run changed or, in check mode, would change.
  type: dict
  returned: always
  sample: {action: create}
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator, run
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import (
    Plan,
    PlanRefused,
    ResourceKind,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import is_owned, list_to_dict, owner_of


class EventTopic(ResourceKind):
    kind = "registration"
    taggable = False  # a registration has no tags: the directory's tell whose it is

    def __init__(self, module: AnsibleAWSModule) -> None:
        super().__init__(module, module.params["tenant"])
        self.client = module.client("ds", retry_decorator=retry_decorator())
        self.directory_id = module.params["directory_id"]

    @property
    def name(self) -> str:
        return self.params["topic_name"] or f"{self.tenant}-alerts"

    def find(self) -> dict[str, Any] | None:
        try:
            topics = self.client.describe_event_topics(
                DirectoryId=self.directory_id, TopicNames=[self.name], aws_retry=True
            )["EventTopics"]
        except is_boto3_error_code("EntityDoesNotExistException"):
            return None  # no directory: nothing registered with it
        return next((topic for topic in topics if topic.get("TopicName") == self.name), None)

    def annotate(self, result: dict[str, Any], plan: Plan) -> None:
        if not plan.changed:
            return  # the ownership of the directory matters only before a change
        tags = list_to_dict(
            self.client.list_tags_for_resource(ResourceId=self.directory_id, aws_retry=True).get("Tags")
        )
        if not is_owned(tags, self.tenant):
            raise PlanRefused(
                f"directory {self.directory_id} is not owned by tenant {self.tenant!r} (its tenant tag is "
                f"{owner_of(tags)!r}); the toolkit never registers or deregisters its event topics",
                result,
            )

    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any] | None:
        self.client.register_event_topic(DirectoryId=self.directory_id, TopicName=self.name, aws_retry=True)
        return self.find()

    def delete(self, resource: dict[str, Any]) -> None:
        self.client.deregister_event_topic(DirectoryId=self.directory_id, TopicName=self.name, aws_retry=True)

    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        if not resource:
            return {}
        return {
            "directory_id": resource.get("DirectoryId", self.directory_id),
            "topic_name": resource.get("TopicName", self.name),
            "topic_arn": resource.get("TopicArn", ""),
            "status": resource.get("Status", ""),
        }


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            directory_id=dict(type="str", required=True),
            topic_name=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            tenant=dict(type="str", required=True),
        ),
        supports_check_mode=True,
    )
    run(module, EventTopic(module), module.params["state"])


if __name__ == "__main__":
    main()
