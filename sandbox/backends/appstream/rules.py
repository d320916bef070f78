"""Pure checks of AppStream's service rules (no state, no I/O), so they are unit-testable."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sandbox.backends.appstream.constants import (
    BUILDER_ACTIONS,
    BUILDER_TRANSITIONAL,
    FLEET_TIMEOUT_RANGES,
    MAX_TAGS,
    RESERVED_IMAGE_PREFIXES,
    UPDATE_FLEET_LIVE_FIELDS,
    WINDOWS_PLATFORMS,
)
from sandbox.errors import AwsError, invalid_combination

_IMAGE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_TAG_SPECIALS = set("_.:/=+-@ ")


def platform_family(platform: str) -> str:
    return "WINDOWS" if platform in WINDOWS_PLATFORMS else "LINUX"


def fields_requiring_stop(fleet_type: str, requested: Mapping[str, Any]) -> list[str]:
    """UpdateFleet members in `requested` that a RUNNING fleet of `fleet_type` refuses."""
    refused = []
    for member, value in requested.items():
        asks_nothing = member in ("AttributesToDelete", "DeleteVpcConfig") and not value
        if member == "Name" or asks_nothing:
            continue
        if fleet_type not in UPDATE_FLEET_LIVE_FIELDS.get(member, frozenset()):
            refused.append(member)
    return sorted(refused)


def check_builder_action(action: str, name: str, state: str) -> None:
    """Raise the error AWS gives when a builder is not in a state that allows `action`."""
    allowed, settled_code = BUILDER_ACTIONS[action]
    if state in allowed:
        return
    wanted = " or ".join(sorted(allowed))
    verb = action.replace("_", " ")
    if state in BUILDER_TRANSITIONAL:
        raise AwsError(
            "ConcurrentModificationException",
            f"Image builder {name} is {state}; it must be {wanted} to {verb} it. Wait a few minutes and try again.",
        )
    raise AwsError(settled_code, f"Image builder {name} is {state}; it must be {wanted} to {verb} it.")


def check_compute_capacity(capacity: Mapping[str, Any] | None, max_sessions_per_instance: int | None) -> None:
    """Exactly one of DesiredInstances/DesiredSessions, matching single- or multi-session fleets."""
    if not capacity:
        raise invalid_combination("ComputeCapacity is required for ALWAYS_ON and ON_DEMAND fleets.")
    has_instances = capacity.get("DesiredInstances") is not None
    has_sessions = capacity.get("DesiredSessions") is not None
    if has_instances == has_sessions:
        raise invalid_combination("ComputeCapacity must specify exactly one of DesiredInstances or DesiredSessions.")
    if has_sessions and not max_sessions_per_instance:
        raise invalid_combination("DesiredSessions requires MaxSessionsPerInstance (multi-session fleets only).")
    if has_instances and max_sessions_per_instance:
        raise invalid_combination(
            "A multi-session fleet (MaxSessionsPerInstance) takes DesiredSessions, not DesiredInstances."
        )
    value = capacity.get("DesiredInstances", capacity.get("DesiredSessions"))
    if value < 0:
        raise invalid_combination("The desired capacity cannot be negative.")


def check_timeouts(settings: Mapping[str, Any]) -> None:
    for member, low, high in FLEET_TIMEOUT_RANGES:
        value = settings.get(member)
        if value is None or (member == "IdleDisconnectTimeoutInSeconds" and value == 0):
            continue
        if not low <= value <= high:
            raise invalid_combination(f"{member} must be between {low} and {high}; got {value}.")


def check_ou_dn(ou: str, directory_name: str, code: str = "OperationNotPermittedException") -> None:
    """An OU distinguished name: OU= first, no spaces in OU names, inside the directory's domain."""
    rdns = [part.strip() for part in ou.split(",") if part.strip()]
    if not rdns or not rdns[0].upper().startswith("OU="):
        raise AwsError(
            code,
            f"'{ou}' is not an organizational unit: the first RDN must be OU=... "
            "(the default CN=Computers container cannot be used).",
        )
    for rdn in rdns:
        key, _, value = rdn.partition("=")
        if key.strip().upper() == "OU" and " " in value:
            raise AwsError(code, f"The OU name '{value}' in '{ou}' contains a space, which is not supported.")
    domain = [rdn.partition("=")[2].lower() for rdn in rdns if rdn.upper().startswith("DC=")]
    if directory_name and domain and ".".join(domain) != directory_name.lower():
        raise AwsError(code, f"The OU '{ou}' is not in the directory {directory_name}.")
    if directory_name and not domain:
        raise AwsError(code, f"The OU '{ou}' must end with the domain components of {directory_name}.")


def check_image_name(name: str, taken: Iterable[str]) -> None:
    """Image Assistant's create-image name rules."""
    if not _IMAGE_NAME.match(name):
        raise AwsError("ValidationException", f"Image name '{name}' must be 1-100 characters from [A-Za-z0-9_.-].")
    if name.lower().startswith(RESERVED_IMAGE_PREFIXES):
        raise AwsError("ValidationException", f"Image name '{name}' cannot start with aws, appstream or amazon.")
    if name in set(taken):
        raise AwsError("ResourceAlreadyExistsException", f"An image named {name} already exists.")


def check_tag_keys(tags: Mapping[str, str]) -> None:
    """The parts of the tag key/value patterns the generic validator cannot compile (\\p classes)."""
    for key, value in tags.items():
        if key.lower().startswith("aws:"):
            raise AwsError("ValidationException", f"Tag keys cannot start with 'aws:': {key!r}")
        for text in (key, value):
            if any(not (char.isalnum() or char in _TAG_SPECIALS) for char in text):
                raise AwsError("ValidationException", f"Tag {key!r}={value!r} contains characters AWS does not allow.")


def merged_tags(current: Mapping[str, str], new: Mapping[str, str]) -> dict[str, str]:
    merged = {**current, **new}
    if len(merged) > MAX_TAGS:
        raise AwsError(
            "LimitExceededException", f"A resource can have at most {MAX_TAGS} tags; this would make {len(merged)}."
        )
    return merged


def delete_conflicts(requested: Mapping[str, Any], deleted_members: Iterable[str]) -> list[str]:
    """Members both set and deleted in one update."""
    return sorted({member for member in deleted_members if member and requested.get(member) is not None})
