# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tenant's DataSync task seen by the runbooks: finding it, its executions, what each one moved.

Calls DataSync through a client wrapped with AWSRetry (calls take `aws_retry=True`).
"""

from __future__ import annotations

import datetime
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.pagination import paginate
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import is_owned, list_to_dict, owner_of

TERMINAL = ("SUCCESS", "ERROR")


class TaskNotFound(Exception):
    pass


def find_task(datasync: Any, name: str, tenant: str) -> dict[str, Any]:
    """The tenant's task of that name (ListTasks, ListTagsForResource); TaskNotFound naming why otherwise."""
    candidates = [task for task in paginate(datasync.list_tasks, "Tasks", aws_retry=True) if task.get("Name") == name]
    owners = []
    for candidate in candidates:
        tags = list_to_dict(
            datasync.list_tags_for_resource(ResourceArn=candidate["TaskArn"], aws_retry=True).get("Tags")
        )
        if is_owned(tags, tenant):
            return {**candidate, "Tags": tags}
        owners.append(owner_of(tags))
    if owners:
        raise TaskNotFound(
            f"DataSync task {name!r} exists but is not owned by tenant {tenant!r} (tenant tags {owners}); "
            "the toolkit never uses it"
        )
    raise TaskNotFound(f"DataSync task {name!r} does not exist: converge the tenant first (playbooks/ingest.yml)")


def execution_arns(datasync: Any, task_arn: str) -> list[str]:
    """The task's executions, oldest first (ListTaskExecutions lists them in the order they started)."""
    return [
        item["TaskExecutionArn"]
        for item in paginate(datasync.list_task_executions, "TaskExecutions", TaskArn=task_arn, aws_retry=True)
    ]


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    return None if value is None else str(value)


def epoch(value: Any) -> float | None:
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    return None if value is None else float(value)


def summary(described: dict[str, Any]) -> dict[str, Any]:
    """What an execution moved, in snake_case: status, files, bytes, verification, failures, the error."""
    result = described.get("Result") or {}
    failed = described.get("FilesFailed") or {}
    manifest = ((described.get("ManifestConfig") or {}).get("Source") or {}).get("S3") or {}
    return {
        "arn": described["TaskExecutionArn"],
        "id": described["TaskExecutionArn"].rsplit("/", 1)[-1],
        "status": described.get("Status"),
        "start_time": _iso(described.get("StartTime")),
        "end_time": _iso(described.get("EndTime")),
        "files_transferred": int(described.get("FilesTransferred") or 0),
        "bytes_transferred": int(described.get("BytesTransferred") or 0),
        "files_verified": int(described.get("FilesVerified") or 0),
        "files_skipped": int(described.get("FilesSkipped") or 0),
        "files_failed": sum(int(value or 0) for value in failed.values()),
        "estimated_files": int(described.get("EstimatedFilesToTransfer") or 0),
        "estimated_bytes": int(described.get("EstimatedBytesToTransfer") or 0),
        "error_code": result.get("ErrorCode"),
        "error_detail": result.get("ErrorDetail"),
        "manifest_key": manifest.get("ManifestObjectPath"),
        "manifest_version_id": manifest.get("ManifestObjectVersionId"),
    }
