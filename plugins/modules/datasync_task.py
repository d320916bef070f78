#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: datasync_task
version_added: 0.1.0
short_description: Manage an AWS DataSync task of a tenant
description:
  - Ensures a DataSync task from a source location to a destination location, with its options (given keys only
    are managed; DataSync fills in the others), its CloudWatch log group, and no DataSync schedule unless
    O(schedule) is given.
  - The toolkit's ingest task has no schedule on purpose - a DataSync schedule starts executions on a clock, without
    knowing which acquisitions are complete; the runbook C(playbooks/ops/ingest_sync.yml) starts each execution
    with a manifest of complete acquisitions instead (roles/ingest/README.md, "Schedule").
  - Options, the log group, the name and the schedule change in place (UpdateTask); the locations cannot
    (C(recreate=true) replaces the task, after its running execution if any has ended).
  - Only a task tagged for the tenant is changed or deleted. A task with an execution that has not ended is not
    deleted.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  name:
    description: Task name (also its C(Name) tag), which identifies it.
    type: str
    required: true
  source_location_arn:
    description: Source location. Required with O(state=present).
    type: str
  destination_location_arn:
    description: Destination location. Required with O(state=present).
    type: str
  cloudwatch_log_group_arn:
    description: Log group DataSync writes the task's logs to (its resource policy must allow DataSync).
    type: str
  options:
    description: DataSync Options (VerifyMode, TransferMode, LogLevel, SecurityDescriptorCopyFlags, ...) to manage.
    type: dict
    default: {}
  schedule:
    description: A DataSync schedule expression (C(cron(...)) or C(rate(...))). Omitted, the task has none.
    type: str
  recreate:
    description: Replace the task when its locations change (the API cannot change them).
    type: bool
    default: false
  state:
    description: Whether the task should exist.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description: Wait for the task to be C(AVAILABLE) after creation.
  wait_timeout:
    default: 300
attributes:
  check_mode:
    details: Read calls only; C(changed), the plan and the diff show what would be done.
  diff_mode:
    details: Before and after values of the settings that would change.
notes:
  - Like the ownership tags, the C(Name) tag is always set and never removed, even with O(purge_tags=true).
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
- name: Ensure the ingest task, verifying what it transfers, logging to the tenant's group
  iconeus.tenant_toolkit.datasync_task:
    name: acme-neuro-ingest
    source_location_arn: "{{ source.location.arn }}"
    destination_location_arn: "{{ destination.location.arn }}"
    cloudwatch_log_group_arn: arn:aws:logs:eu-west-3:123456789012:log-group:/tenant-toolkit/datasync/acme-neuro:*
    options:
      VerifyMode: ONLY_FILES_TRANSFERRED
      TransferMode: CHANGED
      LogLevel: TRANSFER
      SecurityDescriptorCopyFlags: NONE
    tenant: acme-neuro
"""

RETURN = r"""
task:
  description: The task as it is after the run (empty when absent).
  type: dict
  returned: always
  contains:
    arn:
      description: Task ARN.
      type: str
      sample: arn:aws:datasync:eu-west-3:123456789012:task/task-0123456789abcdef0
    name:
      description: Task name.
      type: str
      sample: acme-neuro-ingest
    status:
      description: AVAILABLE, CREATING, QUEUED, RUNNING or UNAVAILABLE.
      type: str
      sample: AVAILABLE
    options:
      description: The task's options (all of them, as DataSync reports them).
      type: dict
      sample: {VerifyMode: ONLY_FILES_TRANSFERRED}
    schedule:
      description: The task's DataSync schedule, if any.
      type: dict
      sample: null
    tags:
      description: Tags.
      type: dict
      sample: {Name: acme-neuro-ingest, tenant: acme-neuro}
plan:
  description: What the run changed or, in check mode, would change.
  type: dict
  returned: always
  sample: {action: update, fields: [options]}
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import (
    run,
    tenant_argument_spec,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.pagination import paginate
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import (
    RECREATE,
    REMOVE,
    Plan,
    PlanRefused,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.waiters import wait_for
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.datasync import (
    AmbiguousName,
    DataSyncKind,
    pick,
    tags_of,
)


class Task(DataSyncKind):
    kind = "task"
    field_kinds = {"source_location_arn": RECREATE, "destination_location_arn": RECREATE}

    def __init__(self, module: AnsibleAWSModule) -> None:
        super().__init__(module)
        self._found: dict[str, Any] | None = None  # the task as found, for the refusal of a running one

    def arn_of(self, resource: dict[str, Any]) -> str:
        return resource["TaskArn"]

    def find(self) -> dict[str, Any] | None:
        tasks = [
            item for item in paginate(self.client.list_tasks, "Tasks", aws_retry=True) if item.get("Name") == self.name
        ]
        found = pick(
            [(item["TaskArn"], tags_of(self.client, item["TaskArn"])) for item in tasks], self.name, self.tenant, "task"
        )
        if found is None:
            return None
        arn, tags = found
        return {**self.client.describe_task(TaskArn=arn, aws_retry=True), "Tags": tags}

    def desired(self) -> dict[str, Any]:
        if self.params["state"] == "absent":
            return {}
        schedule = self.params["schedule"]
        return {
            "source_location_arn": self.params["source_location_arn"],
            "destination_location_arn": self.params["destination_location_arn"],
            "cloudwatch_log_group_arn": self.params["cloudwatch_log_group_arn"],
            "options": dict(self.params["options"]) or None,
            "schedule": {"ScheduleExpression": schedule, "Status": "ENABLED"} if schedule else REMOVE,
        }

    def comparable(self, resource: dict[str, Any]) -> dict[str, Any]:
        managed = set(self.params["options"] or {})
        options = resource.get("Options") or {}
        return {
            "source_location_arn": resource.get("SourceLocationArn"),
            "destination_location_arn": resource.get("DestinationLocationArn"),
            "cloudwatch_log_group_arn": resource.get("CloudWatchLogGroupArn"),
            "options": {key: value for key, value in options.items() if key in managed} or None,
            "schedule": resource.get("Schedule"),
        }

    def annotate(self, result: dict[str, Any], plan: Plan) -> None:
        running = bool(self._found and self._found.get("Status") in ("QUEUED", "RUNNING"))
        if plan.action in ("delete", "recreate") and running:
            raise PlanRefused(
                f"task {self.name!r} has an execution that has not ended: it is not deleted now (wait for it, "
                "or cancel it: aws datasync cancel-task-execution), then run again",
                result,
            )

    def plan(self, resource: dict[str, Any] | None, state: str) -> Plan:
        self._found = resource
        return super().plan(resource, state)

    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any] | None:
        params: dict[str, Any] = {
            "SourceLocationArn": desired["source_location_arn"],
            "DestinationLocationArn": desired["destination_location_arn"],
            "Name": self.name,
            "Tags": self.named_tags(tags),
        }
        if desired.get("options"):
            params["Options"] = desired["options"]
        if desired.get("cloudwatch_log_group_arn"):
            params["CloudWatchLogGroupArn"] = desired["cloudwatch_log_group_arn"]
        if desired.get("schedule") and desired["schedule"] != REMOVE:
            params["Schedule"] = desired["schedule"]
        arn = self.client.create_task(aws_retry=True, **params)["TaskArn"]
        return {"TaskArn": arn}

    def update(self, resource: dict[str, Any], plan: Plan) -> dict[str, Any] | None:
        wanted = self.desired()
        params: dict[str, Any] = {"TaskArn": resource["TaskArn"]}
        if "options" in plan.changes:
            params["Options"] = wanted["options"]
        if "cloudwatch_log_group_arn" in plan.changes:
            params["CloudWatchLogGroupArn"] = wanted["cloudwatch_log_group_arn"] or ""
        if "schedule" in plan.changes:
            # UpdateTask with an empty expression removes the schedule (DataSync API reference, TaskSchedule).
            params["Schedule"] = wanted["schedule"] if wanted["schedule"] != REMOVE else {"ScheduleExpression": ""}
        self.client.update_task(aws_retry=True, **params)
        return None

    def wait_present(self, resource: dict[str, Any] | None) -> dict[str, Any] | None:
        if resource is None or not self.params["wait"]:
            return self.find() if resource is not None else resource

        def fetch() -> dict[str, Any] | None:
            return self.client.describe_task(TaskArn=resource["TaskArn"], aws_retry=True)

        wait_for(
            fetch,
            lambda found: (found or {}).get("Status", "ABSENT"),
            targets=("AVAILABLE", "RUNNING", "QUEUED"),
            failures=("UNAVAILABLE",),
            failure_reason=lambda found: f"{found.get('ErrorCode', '')}: {found.get('ErrorDetail', '')}",
            timeout=self.params["wait_timeout"],
            kind="DataSync task",
            name=self.name,
            tenant=self.tenant,
        )
        return self.find()

    def delete(self, resource: dict[str, Any]) -> None:
        self.client.delete_task(TaskArn=resource["TaskArn"], aws_retry=True)

    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        if not resource or "Name" not in resource:
            return {}
        return {
            "arn": resource["TaskArn"],
            "name": resource.get("Name"),
            "status": resource.get("Status"),
            "source_location_arn": resource.get("SourceLocationArn"),
            "destination_location_arn": resource.get("DestinationLocationArn"),
            "cloudwatch_log_group_arn": resource.get("CloudWatchLogGroupArn"),
            "options": resource.get("Options", {}),
            "schedule": resource.get("Schedule"),
            "tags": resource.get("Tags", {}),
        }


def main() -> None:
    argument_spec = dict(
        name=dict(type="str", required=True),
        source_location_arn=dict(type="str"),
        destination_location_arn=dict(type="str"),
        cloudwatch_log_group_arn=dict(type="str"),
        options=dict(type="dict", default={}),
        schedule=dict(type="str"),
        recreate=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        **tenant_argument_spec(wait_timeout=300),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["source_location_arn", "destination_location_arn"])],
        supports_check_mode=True,
    )
    try:
        run(module, Task(module), module.params["state"], allow_recreate=module.params["recreate"])
    except AmbiguousName as err:
        module.fail_json(msg=str(err))


if __name__ == "__main__":
    main()
