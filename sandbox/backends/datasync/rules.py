"""Pure rules of DataSync (no state, no I/O): ARNs, subdirectories, filters, manifests, tags, errors."""

from __future__ import annotations

import csv
import fnmatch
import io
import re
from typing import Any

from sandbox.backends.datasync.constants import DEFAULT_OPTIONS, MAX_TAGS
from sandbox.errors import AwsError

_ARN = re.compile(r"^arn:aws[a-z-]*:datasync:([a-z0-9-]+):(\d{12}):(location|task)/((?:loc|task)-[0-9a-z]{17})$")
_EXECUTION_ARN = re.compile(
    r"^(arn:aws[a-z-]*:datasync:[a-z0-9-]+:\d{12}:task/task-[0-9a-f]{17})/execution/(exec-[0-9a-f]{17})$"
)


def invalid(message: str, error_code: str = "InvalidRequestException") -> AwsError:
    """DataSync answers every client error as InvalidRequestException, with an errorCode member."""
    return AwsError("InvalidRequestException", message, extra={"errorCode": error_code})


def resource_id(arn: str, kind: str) -> str:
    """The id in a location or task ARN; InvalidRequestException for anything else."""
    match = _ARN.match(arn)
    if match is None or match.group(3) != kind:
        raise invalid(f"Invalid {kind} ARN: {arn}")
    return match.group(4)


def execution_id(arn: str) -> str:
    match = _EXECUTION_ARN.match(arn)
    if match is None:
        raise invalid(f"Invalid task execution ARN: {arn}")
    return match.group(2)


def normalise_subdirectory(value: str | None) -> str:
    """DataSync keeps a subdirectory with a leading and a trailing slash; none given is the root."""
    parts = [part for part in (value or "").replace("\\", "/").split("/") if part]
    if any(part in (".", "..") for part in parts):
        raise invalid(f"Subdirectory {value!r} must not contain '.' or '..' components.")
    return "/" + "".join(f"{part}/" for part in parts)


def bucket_of(arn: str) -> str:
    prefix = "arn:aws:s3:::"
    if not arn.startswith(prefix) or "/" in arn[len(prefix) :]:
        raise invalid(f"The sandbox models S3 locations on bucket ARNs (arn:aws:s3:::<bucket>), not {arn}.")
    return arn[len(prefix) :]


def file_system_of(arn: str) -> tuple[str, str]:
    """(region, file system id) of an FSx file system ARN."""
    match = re.match(r"^arn:aws[a-z-]*:fsx:([a-z0-9-]+):\d{12}:file-system/(fs-[0-9a-f]+)$", arn)
    if match is None:
        raise invalid(f"Invalid FSx file system ARN: {arn}")
    return match.group(1), match.group(2)


def security_group_of(arn: str) -> str:
    match = re.match(r"^arn:aws[a-z-]*:ec2:[a-z0-9-]*:\d{12}:security-group/(sg-[0-9a-f]+)$", arn)
    if match is None:
        raise invalid(f"Invalid security group ARN: {arn}")
    return match.group(1)


def role_name_of(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def options_with_defaults(given: dict[str, Any] | None, base: dict[str, Any] | None = None) -> dict[str, Any]:
    options = dict(base or DEFAULT_OPTIONS)
    options.update(given or {})
    if options.get("PreserveDeletedFiles") == "REMOVE" and options.get("TransferMode") == "ALL":
        raise invalid("PreserveDeletedFiles REMOVE cannot be used with TransferMode ALL.")
    return options


def filter_patterns(filters: list[dict[str, str]]) -> list[str]:
    """The patterns of a SIMPLE_PATTERN filter: '|' separates them (DataSync user guide, "Filtering data")."""
    patterns: list[str] = []
    for item in filters or []:
        for pattern in item.get("Value", "").split("|"):
            if pattern:
                if not pattern.startswith("/"):
                    raise invalid(f"Filter pattern {pattern!r} must start with '/'.")
                patterns.append(pattern)
    return patterns


def matches(path: str, patterns: list[str]) -> bool:
    """Whether `/relative/path` is matched: by the pattern itself (`*` matches anything), or by a folder it names."""
    for pattern in patterns:
        folder = pattern.rstrip("*").rstrip("/")
        if fnmatch.fnmatchcase(path, pattern) or (folder and path.startswith(folder + "/")):
            return True
    return False


def parse_manifest(text: str) -> list[tuple[str, str | None]]:
    """(relative path, version id) of each line of a CSV transfer manifest."""
    entries = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not row[0].strip():
            continue
        if len(row) > 2:
            raise invalid(f"Manifest line {number} has {len(row)} fields; expected a path and an optional version.")
        path = row[0].lstrip("/")
        if any(part in ("", ".", "..") for part in path.split("/")):
            raise invalid(f"Manifest line {number}: {row[0]!r} is not a file path.")
        entries.append((path, row[1] if len(row) == 2 and row[1] else None))
    if not entries:
        raise invalid("The manifest lists no files.")
    return entries


def tags_from_list(tags: list[dict[str, str]] | None) -> dict[str, str]:
    result = {tag["Key"]: tag.get("Value", "") for tag in tags or []}
    if any(key.lower().startswith("aws:") for key in result):
        raise invalid("Tag keys starting with 'aws:' are reserved.")
    if len(result) > MAX_TAGS:
        raise invalid(f"A resource can have at most {MAX_TAGS} tags.")
    return result


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def string_filter_matches(value: str, operator: str, values: list[str]) -> bool:
    if operator == "Equals":
        return value in values
    if operator == "NotEquals":
        return value not in values
    if operator == "In":
        return value in values
    if operator == "BeginsWith":
        return any(value.startswith(item) for item in values)
    if operator == "Contains":
        return any(item in value for item in values)
    if operator == "NotContains":
        return not any(item in value for item in values)
    raise invalid(f"Operator {operator} is not valid for this filter.")
