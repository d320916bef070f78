#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ingest_transfers_info
version_added: 0.1.0
short_description: The last transfers of a tenant's ingest, their volumes, and what waits in the landing bucket
description:
  - Reads the last executions of the tenant's DataSync task (status, start and end, files and bytes transferred and
    verified, failures, the error) and totals them, and lists the acquisitions of the landing bucket by status -
    waiting for a transfer (complete), incomplete (and why), invalid (and why), transferred and kept until they expire.
  - Read calls only.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  tenant:
    description: Tenant that owns the task (its C(tenant) tag is checked).
    type: str
    required: true
  task_name:
    description: Name of the tenant's DataSync task.
    type: str
    required: true
  bucket:
    description: The landing bucket.
    type: str
    required: true
  instruments:
    description: The tenant's instruments.
    type: list
    elements: str
    required: true
  count:
    description: How many of the last executions to read.
    type: int
    default: 10
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.attributes.read_only
"""

EXAMPLES = r"""
- name: Read the last transfers of the tenant
  iconeus.tenant_toolkit.ingest_transfers_info:
    tenant: acme-neuro
    task_name: acme-neuro-ingest
    bucket: acme-neuro-ingest-123456789012-eu-west-3
    instruments: [ECHO-01]
  register: transfers
"""

RETURN = r"""
executions:
  description: The last executions, newest first (as module ingest_sync returns its execution).
  type: list
  elements: dict
  returned: always
totals:
  description: Sums over those executions.
  type: dict
  returned: always
  sample: {executions: 3, succeeded: 3, failed: 0, files_transferred: 36, bytes_transferred: 210036}
acquisitions:
  description: Acquisitions of the landing bucket by status.
  type: dict
  returned: always
  sample: {waiting: [], incomplete: [], invalid: [], transferred: 3}
task_found:
  description: Whether the tenant's task exists.
  type: bool
  returned: always
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.errors import error_code
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest.landing import classify
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest.transfers import (
    TaskNotFound,
    execution_arns,
    find_task,
    summary,
)

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # AnsibleAWSModule reports a missing botocore itself
    BotoCoreError = ClientError = ()  # type: ignore[assignment,misc]


def totals(executions: list[dict[str, Any]]) -> dict[str, int]:
    return {
        "executions": len(executions),
        "succeeded": sum(1 for item in executions if item["status"] == "SUCCESS"),
        "failed": sum(1 for item in executions if item["status"] == "ERROR"),
        "files_transferred": sum(item["files_transferred"] for item in executions),
        "bytes_transferred": sum(item["bytes_transferred"] for item in executions),
        "files_verified": sum(item["files_verified"] for item in executions),
    }


def main() -> None:
    argument_spec = dict(
        tenant=dict(type="str", required=True),
        task_name=dict(type="str", required=True),
        bucket=dict(type="str", required=True),
        instruments=dict(type="list", elements="str", required=True),
        count=dict(type="int", default=10),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    datasync = module.client("datasync", retry_decorator=retry_decorator())
    s3 = module.client("s3", retry_decorator=retry_decorator(["SlowDown"]))
    result: dict[str, Any] = {"changed": False, "task_found": True, "executions": []}
    try:
        try:
            task = find_task(datasync, params["task_name"], params["tenant"])
        except TaskNotFound:
            task = None
            result["task_found"] = False
        if task is not None:
            arns = execution_arns(datasync, task["TaskArn"])[-params["count"] :]
            described = [datasync.describe_task_execution(TaskExecutionArn=arn, aws_retry=True) for arn in arns]
            result["executions"] = [summary(item) for item in reversed(described)]
        result["totals"] = totals(result["executions"])
        try:
            acquisitions = classify(s3, params["bucket"], params["instruments"])
        except ClientError as err:
            if error_code(err) != "NoSuchBucket":
                raise
            acquisitions = []
        result["acquisitions"] = {
            "waiting": [item.summary() for item in acquisitions if item.status == "complete"],
            "incomplete": [item.summary() for item in acquisitions if item.status == "incomplete"],
            "invalid": [item.summary() for item in acquisitions if item.status == "invalid"],
            "transferred": sum(1 for item in acquisitions if item.status == "transferred"),
        }
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"ingest of tenant {params['tenant']!r}: AWS refused the request")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
