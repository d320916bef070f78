"""Pure rules of FSx for Windows (no state, no I/O): storage, throughput, aliases, audit logs, tags."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from sandbox.backends.fsx.constants import (
    ALIAS_PATTERN,
    AUDIT_MIN_THROUGHPUT,
    DISABLED_AUDIT,
    HDD_RANGE,
    SINGLE_AZ_1_MAX_THROUGHPUT,
    SSD_RANGE,
    THROUGHPUT_VALUES,
)
from sandbox.errors import AwsError
from sandbox.jsonproto import ACCOUNT_ID


def bad_request(message: str) -> AwsError:
    return AwsError("BadRequest", message)


def check_storage(capacity: int, storage_type: str, deployment: str) -> None:
    if storage_type == "HDD" and deployment == "SINGLE_AZ_1":
        raise bad_request("HDD storage is not supported for SINGLE_AZ_1; use SINGLE_AZ_2 or MULTI_AZ_1.")
    low, high = SSD_RANGE if storage_type == "SSD" else HDD_RANGE
    if not low <= capacity <= high:
        raise bad_request(f"{storage_type} storage capacity must be between {low} and {high} GiB, not {capacity}.")


def check_throughput(throughput: int, deployment: str) -> None:
    if throughput not in THROUGHPUT_VALUES:
        raise bad_request(
            f"Throughput capacity {throughput} MB/s is not valid; choose one of "
            f"{', '.join(str(value) for value in THROUGHPUT_VALUES)}."
        )
    if deployment == "SINGLE_AZ_1" and throughput > SINGLE_AZ_1_MAX_THROUGHPUT:
        raise bad_request(f"SINGLE_AZ_1 file systems support at most {SINGLE_AZ_1_MAX_THROUGHPUT} MB/s.")


def check_alias(name: str) -> str:
    alias = name.lower()
    if not ALIAS_PATTERN.match(alias):
        raise bad_request(
            f"Alias '{name}' is not valid: it must be a fully qualified domain name (hostname.domain) of letters, "
            "digits, hyphens and underscores, no label starting or ending with a hyphen."
        )
    return alias


def audit_enabled(audit: dict[str, str]) -> bool:
    return any(audit.get(key) != "DISABLED" for key in DISABLED_AUDIT)


def audit_configuration(region: str, config: dict[str, Any] | None, throughput: int) -> dict[str, str]:
    if not config:
        return dict(DISABLED_AUDIT)
    levels = {key: config[key] for key in DISABLED_AUDIT}
    destination = config.get("AuditLogDestination")
    if not audit_enabled(levels):
        if destination:
            raise bad_request("AuditLogDestination cannot be given while both audit log levels are DISABLED.")
        return levels
    if throughput < AUDIT_MIN_THROUGHPUT:
        raise bad_request(f"Audit logging needs a throughput capacity of at least {AUDIT_MIN_THROUGHPUT} MB/s.")
    if destination is None:
        destination = f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:/aws/fsx/windows"
    check_audit_destination(destination, region)
    return {**levels, "AuditLogDestination": destination}


def check_audit_destination(destination: str, region: str) -> None:
    parts = destination.split(":", 6)
    if len(parts) < 6 or parts[3] != region or parts[4] != ACCOUNT_ID:
        raise bad_request("AuditLogDestination must be in the file system's Region and account.")
    service = parts[2]
    resource = parts[-1] if service == "logs" else destination.rsplit("/", 1)[-1]
    if service == "logs" and resource.startswith("/aws/fsx"):
        return
    if service == "firehose" and resource.startswith("aws-fsx"):
        return
    raise bad_request(
        "AuditLogDestination must be a CloudWatch Logs log group whose name starts with /aws/fsx or a Kinesis "
        "Data Firehose delivery stream whose name starts with aws-fsx."
    )


def tags_from_list(tags: list[dict[str, str]]) -> dict[str, str]:
    result = {tag["Key"]: tag["Value"] for tag in tags}
    reserved = [key for key in result if key.lower().startswith("aws:")]
    if reserved:
        raise bad_request(f"Tag keys starting with 'aws:' are reserved: {reserved}")
    return result


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def fingerprint(params: dict[str, Any]) -> str:
    """A digest of a request minus its token: compares requests without keeping a password they may carry."""
    canonical = json.dumps({k: v for k, v in params.items() if k != "ClientRequestToken"}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def netbios_like(file_system_id: str, purpose: str) -> str:
    """`amznfsx` + 8 lowercase letters/digits, stable for a file system (Multi-AZ endpoint names)."""
    digest = int.from_bytes(hashlib.sha256(f"{file_system_id}:{purpose}".encode()).digest()[:8], "big")
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    suffix = ""
    for _ in range(8):
        digest, index = divmod(digest, len(alphabet))
        suffix += alphabet[index]
    return f"amznfsx{suffix}"


def default_kms_key(region: str) -> str:
    """The account's AWS managed key for FSx in this region (stable, like aws/fsx)."""
    return f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{uuid.uuid5(uuid.NAMESPACE_URL, f'aws/fsx/{region}')}"


def default_iops(storage_type: str, capacity: int) -> dict[str, Any] | None:
    # SSD file systems get 3 IOPS per GiB in AUTOMATIC mode; HDD has no provisioned IOPS.
    return {"Mode": "AUTOMATIC", "Iops": 3 * capacity} if storage_type == "SSD" else None
