#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ingest_sync
version_added: 0.1.0
short_description: Move a tenant's complete acquisitions from its landing bucket to its file share with DataSync
description:
  - Selects the complete acquisitions of the landing bucket (the uploader's manifest present, and every file it
    lists present with the listed size, each taken at its version as of the manifest), writes a DataSync manifest
    naming exactly those object versions under C(_toolkit/datasync-manifests/), and starts an execution of the
    tenant's task limited to it (StartTaskExecution ManifestConfig). An acquisition still being uploaded has no
    manifest yet, or misses files - it is never part of an execution, so it is never half-copied.
  - With O(wait), waits for the execution and, when it succeeded (DataSync verified what it transferred), marks
    every object version it moved with the C(ingest-state=transferred) tag - a marked acquisition is not sent again,
    and the bucket's lifecycle expires it after the tenant's retention.
  - Executions of earlier runs that succeeded without being marked (a run interrupted while waiting) are marked
    first. While an execution of the task is running, no other is started (with O(wait), it is waited for).
  - O(scheduled=true) is what the scheduler passes (the Jenkins job or AWX schedule that runs
    C(playbooks/ops/ingest_sync.yml) hourly) - the run transfers only when O(schedule) says it is due, measured from
    the start of the task's last execution. A DataSync task schedule cannot do this - it cannot tell complete
    acquisitions from incomplete ones.
  - The acquisition manifests are written by instruments and are untrusted - only the uploader's format with safe
    relative paths is accepted; an acquisition whose manifest is not is reported as invalid and never moved.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  tenant:
    description: Tenant that owns the task (its C(tenant) tag is checked).
    type: str
    required: true
  task_name:
    description: Name of the tenant's DataSync task (module M(iconeus.tenant_toolkit.datasync_task)).
    type: str
    required: true
  bucket:
    description: The landing bucket (the task's source).
    type: str
    required: true
  instruments:
    description: The tenant's instruments; acquisitions of any other prefix are ignored.
    type: list
    elements: str
    required: true
  bucket_access_role_arn:
    description: The role DataSync assumes to read the manifest (the source location's role).
    type: str
    required: true
  schedule:
    description: The tenant's schedule (C(tenant.ingest.schedule)), used with O(scheduled=true).
    type: str
    choices: [hourly, daily, manual]
    default: hourly
  scheduled:
    description: The run comes from the scheduler; transfer only when the schedule says it is due.
    type: bool
    default: false
  wait:
    description: Wait for the execution to end and mark what it moved. Without it, the next run marks it.
  wait_timeout:
    default: 3600
attributes:
  check_mode:
    details: Read calls only; reports what would be transferred and marked.
  diff_mode:
    support: none
    details: A transfer has no before and after; the result lists what moved.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.wait
  - iconeus.tenant_toolkit.attributes
"""

EXAMPLES = r"""
- name: Transfer the complete acquisitions now and wait for them
  iconeus.tenant_toolkit.ingest_sync:
    tenant: acme-neuro
    task_name: acme-neuro-ingest
    bucket: acme-neuro-ingest-123456789012-eu-west-3
    instruments: [ECHO-01, ECHO-02]
    bucket_access_role_arn: arn:aws:iam::123456789012:role/tenant-toolkit/ingest/acme-neuro-ingest-datasync
"""

RETURN = r"""
started:
  description: Whether this run started an execution (in check mode, whether it would).
  type: bool
  returned: always
skipped:
  description: Why no execution was started, when none was.
  type: str
  returned: always
  sample: no complete acquisition to transfer
execution:
  description: The execution this run started or waited for (status, files, bytes, verification, error).
  type: dict
  returned: when an execution was started or waited for
  sample: {id: exec-0123456789abcdef0, status: SUCCESS, files_transferred: 12, bytes_transferred: 70012}
acquisitions:
  description: Every acquisition of the bucket, by status (transferred now, waiting, incomplete, invalid), with counts.
  type: dict
  returned: always
  contains:
    sent:
      description: Acquisitions in the execution (instrument, acquisition, files, bytes).
      type: list
      elements: dict
    incomplete:
      description: Acquisitions with a manifest but missing files or sizes, and why.
      type: list
      elements: dict
    invalid:
      description: Acquisitions whose manifest the toolkit refuses, and why.
      type: list
      elements: dict
    transferred:
      description: How many acquisitions were transferred by earlier runs and are kept until they expire.
      type: int
marked:
  description: Object versions tagged as transferred by this run (earlier executions included).
  type: int
  returned: always
recovered:
  description: Earlier executions whose objects this run marked.
  type: list
  elements: str
  returned: always
"""

import datetime
import secrets
import time
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.waiters import (
    WaitFailed,
    WaitTimeout,
    wait_for,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest.acquisitions import (
    Acquisition,
    datasync_manifest,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest.landing import (
    classify,
    is_marked,
    manifest_objects,
    mark,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest.layout import DATASYNC_MANIFEST_PREFIX
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest.schedule import is_due
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest.transfers import (
    TERMINAL,
    TaskNotFound,
    epoch,
    execution_arns,
    find_task,
    summary,
)

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # AnsibleAWSModule reports a missing botocore itself
    BotoCoreError = ClientError = ()  # type: ignore[assignment,misc]

# Earlier executions looked at for a run still going, a success not yet marked, and the schedule.
RECENT = 5


class SyncFailed(Exception):
    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result


class Sync:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.params = module.params
        self.bucket = module.params["bucket"]
        self.s3 = module.client("s3", retry_decorator=retry_decorator(["SlowDown"]))
        self.datasync = module.client("datasync", retry_decorator=retry_decorator())
        self.result: dict[str, Any] = {
            "changed": False,
            "started": False,
            "skipped": "",
            "marked": 0,
            "recovered": [],
            "acquisitions": {"sent": [], "incomplete": [], "invalid": [], "transferred": 0},
        }

    # -- earlier executions ---------------------------------------------------------------------------
    def recent(self, task_arn: str) -> list[dict[str, Any]]:
        arns = execution_arns(self.datasync, task_arn)[-RECENT:]
        return [self.datasync.describe_task_execution(TaskExecutionArn=arn, aws_retry=True) for arn in arns]

    def own_manifest(self, described: dict[str, Any]) -> tuple[str, str | None] | None:
        source = ((described.get("ManifestConfig") or {}).get("Source") or {}).get("S3") or {}
        key = source.get("ManifestObjectPath")
        if not key or not key.startswith(DATASYNC_MANIFEST_PREFIX) or source.get("S3BucketArn") != self.bucket_arn:
            return None
        return key, source.get("ManifestObjectVersionId")

    @property
    def bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}"

    def mark_execution(self, described: dict[str, Any]) -> int:
        """Mark what a successful execution of the toolkit moved, and its manifest last; 0 when already done."""
        manifest = self.own_manifest(described)
        if manifest is None:
            return 0
        key, version = manifest
        try:
            if is_marked(self.s3, self.bucket, key, version or "null"):
                return 0
        except ClientError:
            return 0  # the manifest expired with what it named
        objects = manifest_objects(self.s3, self.bucket, key, version)
        if self.module.check_mode:
            return len(objects)
        return mark(self.s3, self.bucket, [*objects, (key, version)]) - 1

    # -- this run -------------------------------------------------------------------------------------
    def start(self, task_arn: str, acquisitions: list[Acquisition]) -> str:
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        key = f"{DATASYNC_MANIFEST_PREFIX}{stamp}-{secrets.token_hex(4)}.csv"
        written = self.s3.put_object(
            Bucket=self.bucket, Key=key, Body=datasync_manifest(acquisitions).encode("utf-8"), aws_retry=True
        )
        source: dict[str, Any] = {
            "ManifestObjectPath": key,
            "BucketAccessRoleArn": self.params["bucket_access_role_arn"],
            "S3BucketArn": self.bucket_arn,
        }
        if written.get("VersionId"):
            source["ManifestObjectVersionId"] = written["VersionId"]
        return self.datasync.start_task_execution(
            TaskArn=task_arn,
            ManifestConfig={"Action": "TRANSFER", "Format": "CSV", "Source": {"S3": source}},
            aws_retry=True,
        )["TaskExecutionArn"]

    def wait(self, arn: str) -> dict[str, Any]:
        def fetch() -> dict[str, Any]:
            return self.datasync.describe_task_execution(TaskExecutionArn=arn, aws_retry=True)

        def reason(found: dict[str, Any]) -> str:
            result = found.get("Result") or {}
            return f"{result.get('ErrorCode', '')}: {result.get('ErrorDetail', '')}"

        try:
            return (
                wait_for(
                    fetch,
                    lambda found: (found or {}).get("Status", "ABSENT"),
                    targets=("SUCCESS",),
                    failures=("ERROR",),
                    failure_reason=reason,
                    timeout=self.params["wait_timeout"],
                    kind="DataSync execution",
                    name=arn.rsplit("/", 1)[-1],
                    tenant=self.params["tenant"],
                )
                or {}
            )
        except WaitFailed as err:
            self.result["execution"] = summary(err.resource or fetch())
            raise SyncFailed(f"{err}; nothing of it is marked, the next run sends it again", self.result) from None
        except WaitTimeout as err:
            self.result["execution"] = summary(err.resource or fetch())
            raise SyncFailed(
                f"{err}; the next run waits for it and marks what it moved, without starting another", self.result
            ) from None

    def finish(self, described: dict[str, Any]) -> None:
        self.result["execution"] = summary(described)
        marked = self.mark_execution(described)
        self.result["marked"] += marked
        self.result["changed"] = self.result["changed"] or bool(marked)

    def run(self) -> dict[str, Any]:
        task = find_task(self.datasync, self.params["task_name"], self.params["tenant"])
        recent = self.recent(task["TaskArn"])
        for described in recent:
            if described.get("Status") == "SUCCESS":
                marked = self.mark_execution(described)
                if marked:
                    self.result["marked"] += marked
                    self.result["changed"] = True
                    self.result["recovered"].append(described["TaskExecutionArn"])
        running = [item for item in recent if item.get("Status") not in TERMINAL]
        if running:
            arn = running[-1]["TaskExecutionArn"]
            self.result["skipped"] = f"execution {arn.rsplit('/', 1)[-1]} of the task has not ended yet"
            if self.params["wait"] and not self.module.check_mode:
                self.finish(self.wait(arn))
            else:
                self.result["execution"] = summary(running[-1])
            return self.result
        if self.params["scheduled"]:
            last = epoch(recent[-1].get("StartTime")) if recent else None
            due, why = is_due(self.params["schedule"], last, time.time())
            if not due:
                self.result["skipped"] = why
                return self.result
        acquisitions = classify(self.s3, self.bucket, self.params["instruments"])
        groups = self.result["acquisitions"]
        groups["transferred"] = sum(1 for item in acquisitions if item.status == "transferred")
        groups["incomplete"] = [item.summary() for item in acquisitions if item.status == "incomplete"]
        groups["invalid"] = [item.summary() for item in acquisitions if item.status == "invalid"]
        complete = [item for item in acquisitions if item.status == "complete"]
        groups["sent"] = [item.summary() for item in complete]
        if not complete:
            self.result["skipped"] = "no complete acquisition to transfer"
            return self.result
        self.result["changed"] = self.result["started"] = True
        if self.module.check_mode:
            return self.result
        arn = self.start(task["TaskArn"], complete)
        self.result["execution"] = {"arn": arn, "id": arn.rsplit("/", 1)[-1], "status": "QUEUED"}
        if self.params["wait"]:
            self.finish(self.wait(arn))
        return self.result


def main() -> None:
    argument_spec = dict(
        tenant=dict(type="str", required=True),
        task_name=dict(type="str", required=True),
        bucket=dict(type="str", required=True),
        instruments=dict(type="list", elements="str", required=True),
        bucket_access_role_arn=dict(type="str", required=True),
        schedule=dict(type="str", choices=["hourly", "daily", "manual"], default="hourly"),
        scheduled=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=3600),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        module.exit_json(**Sync(module).run())
    except TaskNotFound as err:
        module.fail_json(msg=str(err))
    except SyncFailed as err:
        module.fail_json(msg=str(err), **{k: v for k, v in err.result.items() if k != "changed"}, changed=True)
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"ingest of tenant {module.params['tenant']!r}: AWS refused the request")


if __name__ == "__main__":
    main()
