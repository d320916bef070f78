# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AppStream 2.0 API helpers shared by every AppStream module: reads (one, all pages), not-found errors,
tags, error texts, and the request/response shapes several resources share (domain join, S3 locations).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.errors import error_code
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.pagination import paginate

# API helpers
NOT_FOUND_CODES = ("ResourceNotFoundException",)


def is_not_found(err: BaseException) -> bool:
    return error_code(err) in NOT_FOUND_CODES


def get_tags(client: Any, arn: str) -> dict[str, str]:
    """Tags of an AppStream resource (fleet, stack, image builder, image) as a dict."""
    try:
        return dict(client.list_tags_for_resource(ResourceArn=arn, aws_retry=True).get("Tags") or {})
    except Exception as err:
        if is_not_found(err):
            return {}
        raise


appstream_tags = get_tags


def set_tags(client: Any, arn: str, to_set: Mapping[str, str], to_remove: Iterable[str]) -> None:
    """Apply a tag change computed by aws.tags.tag_changes."""
    keys = list(to_remove)
    if keys:
        client.untag_resource(ResourceArn=arn, TagKeys=keys, aws_retry=True)
    if to_set:
        client.tag_resource(ResourceArn=arn, Tags=dict(to_set), aws_retry=True)


def describe_one(client: Any, operation: str, result_key: str, **kwargs: Any) -> dict[str, Any] | None:
    """The single resource a DescribeX call names, or None when AWS says it does not exist."""
    try:
        response = getattr(client, operation)(aws_retry=True, **kwargs)
    except Exception as err:
        if is_not_found(err):
            return None
        raise
    items = response.get(result_key) or []
    return items[0] if items else None


def describe_all(client: Any, operation: str, result_key: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every page of a DescribeX/ListX call that pages with NextToken."""
    return paginate(getattr(client, operation), result_key, aws_retry=True, **kwargs)


def errors_text(errors: Iterable[Mapping[str, Any]] | None) -> str:
    """FleetErrors / ImageBuilderErrors / ImageErrors as one line: CODE: message; CODE: message."""
    parts = []
    for error in errors or []:
        code, message = error.get("ErrorCode"), error.get("ErrorMessage")
        parts.append(f"{code}: {message}" if code and message else str(code or message or ""))
    return "; ".join(p for p in parts if p)


def reason_text(resource: Mapping[str, Any], errors_key: str) -> str:
    """StateChangeReason and the resource's error list, the service's own words."""
    parts = []
    reason = resource.get("StateChangeReason") or {}
    if reason.get("Message") or reason.get("Code"):
        parts.append(f"{reason.get('Code', '')}: {reason.get('Message', '')}".strip(": "))
    listed = errors_text(resource.get(errors_key))
    if listed and listed not in parts:
        parts.append(listed)
    return "; ".join(parts)


def image_name_of_arn(arn: str | None) -> str | None:
    return arn.rsplit("/", 1)[-1] if arn else None


# Options shared by fleets and builders
def is_empty(value: Any) -> bool:
    """Whether an option was set to an explicit empty value (the removal convention).

    Ansible fills the sub-options of a dict option with None, so ``{}`` arrives as a dict
    whose values are all None.
    """
    if value in ("", [], {}):
        return True
    return isinstance(value, dict) and all(v in (None, "", [], {}) for v in value.values())


def domain_join_option(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "directory_name": value.get("directory_name"),
        "organizational_unit_distinguished_name": value.get("organizational_unit_distinguished_name"),
    }


def domain_join_of(info: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not info or not info.get("DirectoryName"):
        return None
    return {
        "directory_name": info.get("DirectoryName"),
        "organizational_unit_distinguished_name": info.get("OrganizationalUnitDistinguishedName"),
    }


def domain_join_member(value: Mapping[str, Any]) -> dict[str, Any]:
    member = {"DirectoryName": value["directory_name"]}
    if value.get("organizational_unit_distinguished_name"):
        member["OrganizationalUnitDistinguishedName"] = value["organizational_unit_distinguished_name"]
    return member


def s3_location_of(location: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not location:
        return None
    return {"s3_bucket": location.get("S3Bucket"), "s3_key": location.get("S3Key")}


def s3_location_member(value: Mapping[str, Any]) -> dict[str, Any]:
    member = {"S3Bucket": value["s3_bucket"]}
    if value.get("s3_key"):
        member["S3Key"] = value["s3_key"]
    return member
