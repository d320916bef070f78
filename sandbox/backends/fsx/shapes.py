"""What FSx answers: describe shapes of actions and deletions, pages and their tokens."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from sandbox.backends.common import cursor_page
from sandbox.backends.fsx.constants import GONE, MAX_PAGE
from sandbox.backends.fsx.models import AdministrativeAction, Backup, FileSystem
from sandbox.backends.fsx.rules import bad_request
from sandbox.clock import Lifecycle
from sandbox.errors import AwsError
from sandbox.jsonproto import paginate


def shown(lifecycle: Lifecycle, now: float | None = None) -> str:
    """The state AWS shows: a resource whose deletion ends between two reads of one request is still DELETING.
    `now` is the request's clock reading (a describe shows one instant), by default a reading of its own."""
    state = lifecycle.state if now is None else lifecycle.state_at(now)
    return "DELETING" if state == GONE else state


def fsx_page(items: list[Any], params: dict[str, Any]) -> tuple[list[Any], str | None]:
    """paginate() with FSx's base64 tokens and its BadRequest for a bad one."""
    inner = {"MaxResults": min(params.get("MaxResults") or MAX_PAGE, MAX_PAGE)}
    token = params.get("NextToken")
    try:
        if token:
            inner["NextToken"] = base64.b64decode(token, validate=True).decode()
        page, following = paginate(items, inner, limit_key="MaxResults", default_limit=MAX_PAGE)
    except (binascii.Error, UnicodeDecodeError, AwsError) as exc:
        raise bad_request(f"The NextToken '{token}' is not valid.") from exc
    return page, (base64.b64encode(following.encode()).decode() if following else None)


def fsx_cursor_page(
    items: list[Any], sort_key: Callable[[Any], tuple[float, str]], params: dict[str, Any]
) -> tuple[list[Any], str | None]:
    """Stable pages of resources that come and go (file systems, backups), with FSx's base64 tokens."""
    try:
        return cursor_page(
            items, sort_key, params.get("NextToken"), min(params.get("MaxResults") or MAX_PAGE, MAX_PAGE)
        )
    except ValueError as exc:
        raise bad_request(f"The NextToken '{params.get('NextToken')}' is not valid.") from exc


def matches_filters(backup: Backup, filters: list[dict[str, Any]]) -> bool:
    values = {
        "file-system-id": backup.file_system_id,
        "backup-type": backup.backup_type,
        "file-system-type": "WINDOWS",
    }
    return all(values.get(item["Name"]) in item.get("Values", []) for item in filters)


def describe_action(action: AdministrativeAction, now: float | None = None) -> dict[str, Any]:
    status = action.status.state if now is None else action.status.state_at(now)
    description: dict[str, Any] = {
        "AdministrativeActionType": action.action_type,
        "RequestTime": action.request_time,
        "Status": status,
    }
    if action.target is not None:
        description["TargetFileSystemValues"] = action.target
    if action.action_type == "STORAGE_OPTIMIZATION":
        description["ProgressPercent"] = 100 if status == "COMPLETED" else 0
    return description


def deletion_response(item: FileSystem) -> dict[str, Any]:
    response: dict[str, Any] = {"FileSystemId": item.file_system_id, "Lifecycle": "DELETING"}
    if item.final_backup:
        response["WindowsResponse"] = dict(item.final_backup)
    return response


def is_throughput_action(action: AdministrativeAction) -> bool:
    return bool(action.target and "ThroughputCapacity" in action.target.get("WindowsConfiguration", {}))


def is_storage_action(action: AdministrativeAction) -> bool:
    return action.action_type == "STORAGE_OPTIMIZATION" or bool(action.target and "StorageCapacity" in action.target)
