# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AppStream 2.0 planning shared by the appstream_* modules.

Pure functions (unit-tested without AWS) decide, for fleets and image builders:

- which requested changes a resource accepts in its current state (LIVE), which need it
  stopped (STOP) and which the API cannot make at all (RECREATE);
- the removal convention: an option set explicitly to an empty value (``""``, ``[]``, ``{}``,
  ``0`` for ``max_sessions_per_instance``) means "remove this setting", sent as UpdateFleet's
  ``AttributesToDelete``;
- the CreateFleet / UpdateFleet requests built from module options;
- the Application Auto Scaling diff of a fleet (scalable target, target-tracking policy,
  scheduled actions) and the cron expressions of a working-hours schedule.

A few thin API helpers (tags, not-found handling, scaling reads and writes) live here too;
other modules (stacks, users) may import ``get_tags`` / ``set_tags`` / ``appstream_tags``:
their signatures are kept stable.

Comparable attributes are keyed by module option names (``instance_type``, not
``InstanceType``), so plans, diffs and refusals name what the user wrote.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.tenant_resource import (
    LIVE,
    RECREATE,
    REMOVE,
    STOP,
    normalise,
)

# ---------------------------------------------------------------------------------------------
# API helpers
# ---------------------------------------------------------------------------------------------
NOT_FOUND_CODES = ("ResourceNotFoundException",)


def error_code(err: BaseException) -> str:
    response = getattr(err, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


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
    """Apply a tag change computed by tenant_tags.tag_changes."""
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
    items: list[dict[str, Any]] = []
    token = None
    while True:
        args = dict(kwargs)
        if token:
            args["NextToken"] = token
        response = getattr(client, operation)(aws_retry=True, **args)
        items.extend(response.get(result_key) or [])
        token = response.get("NextToken")
        if not token:
            return items


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


# ---------------------------------------------------------------------------------------------
# Options shared by fleets and builders
# ---------------------------------------------------------------------------------------------
def is_empty(value: Any) -> bool:
    """Whether an option was set to an explicit empty value (the removal convention).

    Ansible fills the sub-options of a dict option with None, so ``{}`` arrives as a dict
    whose values are all None.
    """
    if value in ("", [], {}):
        return True
    return isinstance(value, dict) and all(v in (None, "", [], {}) for v in value.values())


def scaling_is_empty(option: Mapping[str, Any] | None) -> bool:
    """`scaling: {}`: every sub-option unset (purge_schedule and capacity_now have defaults, so they do not count)."""
    return option is not None and is_empty(
        {k: v for k, v in option.items() if k not in ("purge_schedule", "capacity_now")}
    )


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


# ---------------------------------------------------------------------------------------------
# Fleets
# ---------------------------------------------------------------------------------------------
FLEET_TRANSITIONAL = ("STARTING", "STOPPING")

#: option -> UpdateFleet/CreateFleet member, for options that map to one scalar member
FLEET_SCALARS: dict[str, str] = {
    "image_name": "ImageName",
    "image_arn": "ImageArn",
    "instance_type": "InstanceType",
    "fleet_type": "FleetType",
    "max_user_duration": "MaxUserDurationInSeconds",
    "disconnect_timeout": "DisconnectTimeoutInSeconds",
    "idle_disconnect_timeout": "IdleDisconnectTimeoutInSeconds",
    "description": "Description",
    "display_name": "DisplayName",
    "enable_default_internet_access": "EnableDefaultInternetAccess",
    "iam_role_arn": "IamRoleArn",
    "stream_view": "StreamView",
    "platform": "Platform",
    "max_concurrent_sessions": "MaxConcurrentSessions",
    "max_sessions_per_instance": "MaxSessionsPerInstance",
    "usb_device_filter_strings": "UsbDeviceFilterStrings",
}

#: options a setting can be removed through (UpdateFleet AttributesToDelete)
FLEET_ATTRIBUTES_TO_DELETE: dict[str, str] = {
    "subnet_ids": "VPC_CONFIGURATION",
    "security_group_ids": "VPC_CONFIGURATION_SECURITY_GROUP_IDS",
    "domain_join_info": "DOMAIN_JOIN_INFO",
    "iam_role_arn": "IAM_ROLE_ARN",
    "usb_device_filter_strings": "USB_DEVICE_FILTER_STRINGS",
    "session_script_s3_location": "SESSION_SCRIPT_S3_LOCATION",
    "max_sessions_per_instance": "MAX_SESSIONS_PER_INSTANCE",
}

#: options that have no AttributesToDelete entry: an empty value is refused, not ignored
FLEET_NOT_REMOVABLE = ("description", "display_name", "image_name", "image_arn", "instance_type", "platform")

_LIVE_INSTANCE_FLEET = frozenset(
    {
        "display_name",
        "desired_instances",
        "desired_sessions",
        "image_name",
        "image_arn",
        "idle_disconnect_timeout",
        "disconnect_timeout",
    }
)
_LIVE_ELASTIC_FLEET = frozenset(
    {
        "display_name",
        "idle_disconnect_timeout",
        "disconnect_timeout",
        "max_concurrent_sessions",
        "session_script_s3_location",
        "usb_device_filter_strings",
    }
)
#: what a RUNNING fleet accepts, per fleet type (botocore UpdateFleet documentation)
FLEET_LIVE_WHEN_RUNNING: dict[str, frozenset[str]] = {
    "ALWAYS_ON": _LIVE_INSTANCE_FLEET,
    "ON_DEMAND": _LIVE_INSTANCE_FLEET,
    "ELASTIC": _LIVE_ELASTIC_FLEET,
}
#: pseudo-fields the module applies with other calls (StartFleet/StopFleet, Application Auto Scaling)
FLEET_OUTSIDE_UPDATE = frozenset({"state", "scaling"})
#: the API can never change these: CreateFleet only
FLEET_CREATE_ONLY = frozenset({"fleet_type"})


def fleet_field_kind(name: str, fleet_type: str, fleet_state: str | None, removal: bool = False) -> str:
    """LIVE, STOP or RECREATE for one changed fleet option.

    A STOPPED fleet accepts every change but the fleet type; a RUNNING (or STARTING) one only
    what its type allows while running. Removals go through AttributesToDelete, which the
    service applies to stopped fleets only.
    """
    if name in FLEET_CREATE_ONLY:
        return RECREATE
    if name in FLEET_OUTSIDE_UPDATE or fleet_state in ("STOPPED", "STOPPING", None):
        return LIVE
    if removal:
        return STOP
    return LIVE if name in FLEET_LIVE_WHEN_RUNNING.get(fleet_type, _LIVE_INSTANCE_FLEET) else STOP


def fleet_changes_requiring_stop(
    changes: Mapping[str, tuple[Any, Any]], fleet_type: str, fleet_state: str | None
) -> list[str]:
    return sorted(
        name
        for name, (_before, after) in changes.items()
        if fleet_field_kind(name, fleet_type, fleet_state, after == REMOVE) == STOP
    )


def fleet_option_errors(params: Mapping[str, Any]) -> list[str]:
    """Option combinations the module refuses before any call (AWS would refuse them too)."""
    errors = []
    for name in FLEET_NOT_REMOVABLE:
        if params.get(name) == "":
            errors.append(f"{name}: the AppStream API cannot remove it; give a value or leave it unset")
    if params.get("image_name") and params.get("image_arn"):
        errors.append("image_name and image_arn are mutually exclusive")
    fleet_type = params.get("fleet_type")
    if fleet_type == "ELASTIC":
        for name in ("desired_instances", "desired_sessions", "domain_join_info", "image_name", "image_arn"):
            if params.get(name) not in (None, "", {}, []) and not is_empty(params.get(name)):
                errors.append(f"{name}: not allowed for ELASTIC fleets")
        if params.get("scaling") and not scaling_is_empty(params.get("scaling")):
            errors.append("scaling: ELASTIC fleets have no capacity to scale")
    elif fleet_type in ("ALWAYS_ON", "ON_DEMAND") and params.get("max_concurrent_sessions") is not None:
        errors.append("max_concurrent_sessions: only for ELASTIC fleets (use desired_sessions)")
    if params.get("desired_instances") is not None and params.get("desired_sessions") is not None:
        errors.append("desired_instances and desired_sessions are mutually exclusive")
    if params.get("desired_sessions") is not None and not params.get("max_sessions_per_instance"):
        errors.append("desired_sessions needs max_sessions_per_instance (multi-session fleets)")
    if is_empty(params.get("subnet_ids")) and params.get("security_group_ids"):
        errors.append("security_group_ids: cannot be set while subnet_ids=[] removes the VPC configuration")
    dji = params.get("domain_join_info")
    if dji is not None and not is_empty(dji) and not dji.get("directory_name"):
        errors.append("domain_join_info.directory_name is required (or domain_join_info: {} to remove it)")
    s3 = params.get("session_script_s3_location")
    if s3 is not None and not is_empty(s3) and not s3.get("s3_bucket"):
        errors.append("session_script_s3_location.s3_bucket is required (or {} to remove it)")
    errors.extend(scaling_option_errors(params.get("scaling")))
    return errors


def _removable(name: str, value: Any) -> Any:
    """The desired value of an option, REMOVE for an explicit empty value of a removable option."""
    if value is None:
        return None
    if name in FLEET_ATTRIBUTES_TO_DELETE and (is_empty(value) or (name == "max_sessions_per_instance" and value == 0)):
        return REMOVE
    return value


def fleet_desired(params: Mapping[str, Any], capacity_managed: bool = True) -> dict[str, Any]:
    """Comparable fleet attributes requested by the options (None: not managed by this run).

    `capacity_managed` is False when Application Auto Scaling owns the desired capacity of an
    existing fleet: the requested capacity is then only used at creation.
    """
    desired: dict[str, Any] = {}
    for name in FLEET_SCALARS:
        desired[name] = _removable(name, params.get(name))
    desired["subnet_ids"] = _removable("subnet_ids", params.get("subnet_ids"))
    desired["security_group_ids"] = _removable("security_group_ids", params.get("security_group_ids"))
    dji = params.get("domain_join_info")
    desired["domain_join_info"] = REMOVE if dji is not None and is_empty(dji) else domain_join_option(dji)
    s3 = params.get("session_script_s3_location")
    if s3 is None:
        desired["session_script_s3_location"] = None
    else:
        desired["session_script_s3_location"] = (
            REMOVE if is_empty(s3) else {"s3_bucket": s3.get("s3_bucket"), "s3_key": s3.get("s3_key")}
        )
    desired["desired_instances"] = params.get("desired_instances") if capacity_managed else None
    desired["desired_sessions"] = params.get("desired_sessions") if capacity_managed else None
    return desired


def fleet_comparable(fleet: Mapping[str, Any]) -> dict[str, Any]:
    """The same attributes read from a DescribeFleets entry."""
    current: dict[str, Any] = {name: copy.deepcopy(fleet.get(member)) for name, member in FLEET_SCALARS.items()}
    vpc = fleet.get("VpcConfig") or {}
    current["subnet_ids"] = list(vpc.get("SubnetIds") or []) or None
    current["security_group_ids"] = list(vpc.get("SecurityGroupIds") or []) or None
    current["domain_join_info"] = domain_join_of(fleet.get("DomainJoinInfo"))
    current["session_script_s3_location"] = s3_location_of(fleet.get("SessionScriptS3Location"))
    status = fleet.get("ComputeCapacityStatus") or {}
    if fleet.get("MaxSessionsPerInstance"):
        current["desired_sessions"] = status.get("DesiredUserSessions")
    elif fleet.get("FleetType") != "ELASTIC":
        current["desired_instances"] = status.get("Desired")
    return current


def settled_fleet_state(state: str | None) -> str | None:
    """The state a fleet is heading to: what `state: running|stopped` is compared with."""
    return {"STARTING": "RUNNING", "STOPPING": "STOPPED"}.get(state or "", state)


def _vpc_member(changes: Mapping[str, tuple[Any, Any]], current: Mapping[str, Any]) -> dict[str, Any] | None:
    """VpcConfig for an update: AWS replaces the whole member, so unchanged parts are resent."""
    if "subnet_ids" not in changes and "security_group_ids" not in changes:
        return None
    if changes.get("subnet_ids", (None, None))[1] == REMOVE:
        return None
    subnets = changes["subnet_ids"][1] if "subnet_ids" in changes else current.get("subnet_ids")
    groups = changes["security_group_ids"][1] if "security_group_ids" in changes else current.get("security_group_ids")
    member: dict[str, Any] = {}
    if subnets:
        member["SubnetIds"] = list(subnets)
    if groups and groups != REMOVE:
        member["SecurityGroupIds"] = list(groups)
    return member or None


def attributes_to_delete(changes: Mapping[str, tuple[Any, Any]]) -> list[str]:
    """AttributesToDelete for the removals in `changes` (VPC_CONFIGURATION covers its security groups)."""
    attributes = {FLEET_ATTRIBUTES_TO_DELETE[name] for name, (_before, after) in changes.items() if after == REMOVE}
    if "VPC_CONFIGURATION" in attributes:
        attributes.discard("VPC_CONFIGURATION_SECURITY_GROUP_IDS")
    return sorted(attributes)


def _fleet_members(values: Mapping[str, Any]) -> dict[str, Any]:
    """API members for option values (no REMOVE, no None)."""
    members: dict[str, Any] = {}
    for name, member in FLEET_SCALARS.items():
        value = values.get(name)
        if value is not None and value != REMOVE:
            members[member] = copy.deepcopy(value)
    if values.get("desired_instances") is not None:
        members["ComputeCapacity"] = {"DesiredInstances": values["desired_instances"]}
    if values.get("desired_sessions") is not None:
        members["ComputeCapacity"] = {"DesiredSessions": values["desired_sessions"]}
    if values.get("domain_join_info") not in (None, REMOVE):
        members["DomainJoinInfo"] = domain_join_member(values["domain_join_info"])
    if values.get("session_script_s3_location") not in (None, REMOVE):
        members["SessionScriptS3Location"] = s3_location_member(values["session_script_s3_location"])
    return members


def create_fleet_request(name: str, desired: Mapping[str, Any], tags: Mapping[str, str]) -> dict[str, Any]:
    request = {"Name": name, **_fleet_members(desired)}
    vpc = {}
    if desired.get("subnet_ids") not in (None, REMOVE):
        vpc["SubnetIds"] = list(desired["subnet_ids"])
    if desired.get("security_group_ids") not in (None, REMOVE):
        vpc["SecurityGroupIds"] = list(desired["security_group_ids"])
    if vpc:
        request["VpcConfig"] = vpc
    if tags:
        request["Tags"] = dict(tags)
    return request


def update_fleet_request(
    name: str, changes: Mapping[str, tuple[Any, Any]], current: Mapping[str, Any]
) -> dict[str, Any] | None:
    """UpdateFleet arguments for `changes` (option -> (before, after)); None when nothing to send."""
    relevant = {k: v for k, v in changes.items() if k not in FLEET_OUTSIDE_UPDATE}
    if not relevant:
        return None
    request: dict[str, Any] = {"Name": name, **_fleet_members({k: after for k, (_before, after) in relevant.items()})}
    vpc = _vpc_member(relevant, current)
    if vpc:
        request["VpcConfig"] = vpc
    removals = attributes_to_delete(relevant)
    if removals:
        request["AttributesToDelete"] = removals
    return request


# ---------------------------------------------------------------------------------------------
# Image builders
# ---------------------------------------------------------------------------------------------
#: UpdateImageBuilder (STOPPED builders only) changes these; nothing else can change
BUILDER_FIELD_KINDS: dict[str, str] = {
    "image_name": RECREATE,
    "image_arn": RECREATE,
    "instance_type": RECREATE,
    "subnet_ids": RECREATE,
    "security_group_ids": RECREATE,
    "domain_join_info": RECREATE,
    "iam_role_arn": RECREATE,
    "enable_default_internet_access": RECREATE,
    "access_endpoints": RECREATE,
    "description": STOP,
    "display_name": STOP,
    "state": LIVE,
}

#: builder states and the settled state each leads to
BUILDER_SETTLES_TO: dict[str, str] = {
    "PENDING": "RUNNING",
    "UPDATING_AGENT": "RUNNING",
    "REBOOTING": "RUNNING",
    "UPDATING": "RUNNING",
    "PENDING_QUALIFICATION": "RUNNING",
    "PENDING_SYNCING_APPS": "RUNNING",
    "SYNCING_APPS": "RUNNING",
    "PENDING_IMAGE_IMPORT": "RUNNING",
    "STOPPING": "STOPPED",
    "SNAPSHOTTING": "STOPPED",
    "DELETING": "ABSENT",
}
BUILDER_SETTLED = ("RUNNING", "STOPPED", "FAILED")


def settled_builder_state(state: str | None) -> str | None:
    return BUILDER_SETTLES_TO.get(state or "", state)


def builder_field_kind(name: str, builder_state: str | None) -> str:
    kind = BUILDER_FIELD_KINDS.get(name, RECREATE)
    if kind == STOP and builder_state in ("STOPPED", None):
        return LIVE
    return kind


def access_endpoints_option(value: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    endpoints = [{"endpoint_type": e.get("endpoint_type") or "STREAMING", "vpce_id": e.get("vpce_id")} for e in value]
    return sorted(endpoints, key=lambda e: (e["endpoint_type"], e["vpce_id"] or ""))


def builder_desired(params: Mapping[str, Any]) -> dict[str, Any]:
    desired: dict[str, Any] = {
        name: params.get(name)
        for name in (
            "image_name",
            "image_arn",
            "instance_type",
            "enable_default_internet_access",
            "description",
            "display_name",
        )
    }
    for name in ("subnet_ids", "security_group_ids"):
        value = params.get(name)
        desired[name] = REMOVE if value is not None and is_empty(value) else value
    role = params.get("iam_role_arn")
    desired["iam_role_arn"] = REMOVE if role == "" else role
    dji = params.get("domain_join_info")
    desired["domain_join_info"] = REMOVE if dji is not None and is_empty(dji) else domain_join_option(dji)
    endpoints = params.get("access_endpoints")
    desired["access_endpoints"] = REMOVE if endpoints == [] else access_endpoints_option(endpoints)
    return desired


def builder_comparable(builder: Mapping[str, Any]) -> dict[str, Any]:
    vpc = builder.get("VpcConfig") or {}
    endpoints = builder.get("AccessEndpoints")
    return {
        "image_name": image_name_of_arn(builder.get("ImageArn")),
        "image_arn": builder.get("ImageArn"),
        "instance_type": builder.get("InstanceType"),
        "enable_default_internet_access": builder.get("EnableDefaultInternetAccess"),
        "description": builder.get("Description"),
        "display_name": builder.get("DisplayName"),
        "subnet_ids": list(vpc.get("SubnetIds") or []) or None,
        "security_group_ids": list(vpc.get("SecurityGroupIds") or []) or None,
        "iam_role_arn": builder.get("IamRoleArn"),
        "domain_join_info": domain_join_of(builder.get("DomainJoinInfo")),
        "access_endpoints": access_endpoints_option(
            [{"endpoint_type": e.get("EndpointType"), "vpce_id": e.get("VpceId")} for e in endpoints]
        )
        if endpoints
        else None,
        "state": settled_builder_state(builder.get("State")),
    }


def create_image_builder_request(
    name: str, desired: Mapping[str, Any], tags: Mapping[str, str], agent_version: str | None = None
) -> dict[str, Any]:
    request: dict[str, Any] = {"Name": name, "InstanceType": desired["instance_type"]}
    if desired.get("image_arn"):
        request["ImageArn"] = desired["image_arn"]
    elif desired.get("image_name"):
        request["ImageName"] = desired["image_name"]
    for name_, member in (
        ("description", "Description"),
        ("display_name", "DisplayName"),
        ("iam_role_arn", "IamRoleArn"),
        ("enable_default_internet_access", "EnableDefaultInternetAccess"),
    ):
        value = desired.get(name_)
        if value not in (None, REMOVE):
            request[member] = value
    vpc = {}
    if desired.get("subnet_ids") not in (None, REMOVE):
        vpc["SubnetIds"] = list(desired["subnet_ids"])
    if desired.get("security_group_ids") not in (None, REMOVE):
        vpc["SecurityGroupIds"] = list(desired["security_group_ids"])
    if vpc:
        request["VpcConfig"] = vpc
    if desired.get("domain_join_info") not in (None, REMOVE):
        request["DomainJoinInfo"] = domain_join_member(desired["domain_join_info"])
    if desired.get("access_endpoints") not in (None, REMOVE):
        request["AccessEndpoints"] = [
            {"EndpointType": e["endpoint_type"], **({"VpceId": e["vpce_id"]} if e.get("vpce_id") else {})}
            for e in desired["access_endpoints"]
        ]
    if agent_version:
        request["AppstreamAgentVersion"] = agent_version
    if tags:
        request["Tags"] = dict(tags)
    return request


# ---------------------------------------------------------------------------------------------
# Fleet scaling (Application Auto Scaling)
# ---------------------------------------------------------------------------------------------
SCALING_NAMESPACE = "appstream"
SCALABLE_DIMENSION = "appstream:fleet:DesiredCapacity"
UTILIZATION_METRIC = "AppStreamAverageCapacityUtilization"
CRON_DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def scaling_resource_id(fleet_name: str) -> str:
    return f"fleet/{fleet_name}"


def scaling_policy_name(fleet_name: str) -> str:
    return f"{fleet_name}-capacity-utilization"


def scaling_option_errors(option: Mapping[str, Any] | None) -> list[str]:
    if option is None or scaling_is_empty(option):
        return []
    errors = []
    low, high = option.get("min_capacity"), option.get("max_capacity")
    if low is None or high is None:
        errors.append("scaling: min_capacity and max_capacity are required (or scaling: {} to remove scaling)")
    elif low > high:
        errors.append(f"scaling: min_capacity {low} is above max_capacity {high}")
    target = option.get("target_utilization")
    if target is not None and not 0 < target <= 100:
        errors.append(f"scaling.target_utilization: {target} must be a percentage in (0, 100]")
    names = [a.get("name") for a in option.get("schedule") or []]
    if len(names) != len(set(names)):
        errors.append("scaling.schedule: action names must be unique")
    for action in option.get("schedule") or []:
        expression = action.get("schedule") or ""
        if not expression.startswith(("cron(", "at(", "rate(")):
            errors.append(
                f"scaling.schedule[{action.get('name')}]: {expression!r} is not cron(...), at(...) or rate(...)"
            )
    hours = option.get("working_hours")
    if hours:
        for key in ("timezone", "start", "stop"):
            if not hours.get(key):
                errors.append(f"scaling.working_hours.{key} is required")
        try:
            if hours.get("start") and hours.get("stop") and _minutes(hours["start"]) >= _minutes(hours["stop"]):
                errors.append("scaling.working_hours: stop must be later than start")
        except ValueError as err:
            errors.append(f"scaling.working_hours: {err}")
        bad = [d for d in hours.get("weekdays") or [] if str(d).upper()[:3] not in CRON_DAYS]
        if bad:
            errors.append(f"scaling.working_hours.weekdays: unknown day(s) {', '.join(map(str, bad))}")
    return errors


def _minutes(hhmm: str) -> int:
    hours, sep, minutes = str(hhmm).partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or int(hours) > 23 or int(minutes) > 59:
        raise ValueError(f'"{hhmm}" is not a time "HH:MM"')
    return int(hours) * 60 + int(minutes)


def weekdays_expression(days: Iterable[str]) -> str:
    """Day-of-week field of an Application Auto Scaling cron: runs become ranges (MON-FRI)."""
    indexes = sorted({CRON_DAYS.index(str(d).upper()[:3]) for d in days})
    if len(indexes) == 7:
        return "*"
    runs: list[list[int]] = []
    for index in indexes:
        if runs and index == runs[-1][-1] + 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{CRON_DAYS[run[0]]}-{CRON_DAYS[run[-1]]}")
        else:
            parts.extend(CRON_DAYS[i] for i in run)
    return ",".join(parts)


def cron_at(hhmm: str, days: Iterable[str]) -> str:
    """cron(Minutes Hours Day-of-month Month Day-of-week Year), evaluated in the action's time zone."""
    minutes = _minutes(hhmm)
    return f"cron({minutes % 60} {minutes // 60} ? * {weekdays_expression(days)} *)"


DEFAULT_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def working_hours_actions(
    fleet_name: str, hours: Mapping[str, Any], min_capacity: int, max_capacity: int
) -> list[dict[str, Any]]:
    """Two scheduled actions: capacity min..max at start, 0 at stop, on the given weekdays."""
    days = hours.get("weekdays") or DEFAULT_WEEKDAYS
    timezone = hours.get("timezone") or "UTC"
    return [
        {
            "name": f"{fleet_name}-working-hours-start",
            "schedule": cron_at(hours["start"], days),
            "timezone": timezone,
            "min_capacity": min_capacity,
            "max_capacity": max_capacity,
        },
        {
            "name": f"{fleet_name}-working-hours-stop",
            "schedule": cron_at(hours["stop"], days),
            "timezone": timezone,
            "min_capacity": 0,
            "max_capacity": 0,
        },
    ]


def within_working_hours(hours: Mapping[str, Any], now: datetime.datetime) -> bool:
    """Whether `now` (aware) falls inside the working hours, in their time zone."""
    import zoneinfo

    local = now.astimezone(zoneinfo.ZoneInfo(hours.get("timezone") or "UTC"))
    days = {str(d).upper()[:3] for d in hours.get("weekdays") or DEFAULT_WEEKDAYS}
    if CRON_DAYS[local.weekday()] not in days:
        return False
    minute = local.hour * 60 + local.minute
    return _minutes(hours["start"]) <= minute < _minutes(hours["stop"])


def _action_option(action: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": action["name"],
        "schedule": action["schedule"],
        "timezone": action.get("timezone") or "UTC",
        "min_capacity": action.get("min_capacity"),
        "max_capacity": action.get("max_capacity"),
    }


def scaling_desired(
    fleet_name: str,
    option: Mapping[str, Any] | None,
    current: Mapping[str, Any] | None,
    now: datetime.datetime | None = None,
) -> Any:
    """Comparable scaling configuration requested by the `scaling` option.

    None: not managed; REMOVE: `scaling: {}`. Unset cooldowns keep their current value, and
    with `purge_schedule: false` unlisted scheduled actions are kept. When a schedule exists,
    the target's min/max belong to it once registered: later runs change them through the
    scheduled actions only, so a run at night does not undo the night's capacity 0. A new
    target is registered with the capacity the schedule gives right now; so is an existing one
    with `capacity_now` (an operator changing the capacity or the hours now, not tomorrow).
    """
    if option is None:
        return None
    if scaling_is_empty(option):
        return REMOVE
    low, high = option["min_capacity"], option["max_capacity"]
    actions = [_action_option(a) for a in option.get("schedule") or []]
    hours = option.get("working_hours")
    if hours:
        actions.extend(working_hours_actions(fleet_name, hours, low, high))
    current = current or {}
    if not option.get("purge_schedule", True):
        listed = {a["name"] for a in actions}
        actions.extend(copy.deepcopy(a) for a in current.get("schedule") or [] if a["name"] not in listed)
    desired: dict[str, Any] = {
        "min_capacity": low,
        "max_capacity": high,
        "target_utilization": option.get("target_utilization"),
        "scale_in_cooldown": option.get("scale_in_cooldown"),
        "scale_out_cooldown": option.get("scale_out_cooldown"),
        "schedule": sorted(actions, key=lambda a: a["name"]),
    }
    if desired["target_utilization"] is not None:
        for key in ("scale_in_cooldown", "scale_out_cooldown"):
            if desired[key] is None:
                desired[key] = current.get(key)
    else:
        desired["scale_in_cooldown"] = desired["scale_out_cooldown"] = None
    if actions:
        if current.get("min_capacity") is not None and not option.get("capacity_now"):
            desired["min_capacity"], desired["max_capacity"] = current["min_capacity"], current["max_capacity"]
        elif hours and now is not None and not within_working_hours(hours, now):
            desired["min_capacity"] = desired["max_capacity"] = 0
    return desired


def scaling_comparable(
    target: Mapping[str, Any] | None, policy: Mapping[str, Any] | None, actions: Iterable[Mapping[str, Any]]
) -> dict[str, Any] | None:
    """The current scaling of a fleet from Describe{ScalableTargets,ScalingPolicies,ScheduledActions}."""
    if not target:
        return None
    config = (policy or {}).get("TargetTrackingScalingPolicyConfiguration") or {}
    schedule = []
    for action in actions:
        capacity = action.get("ScalableTargetAction") or {}
        schedule.append(
            {
                "name": action["ScheduledActionName"],
                "schedule": action.get("Schedule"),
                "timezone": action.get("Timezone") or "UTC",
                "min_capacity": capacity.get("MinCapacity"),
                "max_capacity": capacity.get("MaxCapacity"),
            }
        )
    return {
        "min_capacity": target.get("MinCapacity"),
        "max_capacity": target.get("MaxCapacity"),
        "target_utilization": config.get("TargetValue"),
        "scale_in_cooldown": config.get("ScaleInCooldown") if config else None,
        "scale_out_cooldown": config.get("ScaleOutCooldown") if config else None,
        "schedule": sorted(schedule, key=lambda a: a["name"]),
    }


@dataclass
class ScalingChanges:
    register_target: dict[str, int] | None = None
    put_policy: dict[str, Any] | None = None
    delete_policy: bool = False
    put_actions: list[dict[str, Any]] = field(default_factory=list)
    delete_actions: list[str] = field(default_factory=list)
    deregister_target: bool = False

    @property
    def changed(self) -> bool:
        return bool(
            self.register_target
            or self.put_policy
            or self.delete_policy
            or self.put_actions
            or self.delete_actions
            or self.deregister_target
        )


def scaling_changes(current: Mapping[str, Any] | None, desired: Any) -> ScalingChanges:
    """The Application Auto Scaling calls that turn `current` into `desired` (scaling_desired())."""
    changes = ScalingChanges()
    if desired is None:
        return changes
    current_actions = {a["name"]: a for a in (current or {}).get("schedule") or []}
    if desired == REMOVE:
        if current:
            changes.delete_actions = sorted(current_actions)
            changes.delete_policy = current.get("target_utilization") is not None
            changes.deregister_target = True
        return changes
    current = current or {}
    if (current.get("min_capacity"), current.get("max_capacity")) != (desired["min_capacity"], desired["max_capacity"]):
        changes.register_target = {"MinCapacity": desired["min_capacity"], "MaxCapacity": desired["max_capacity"]}
    policy_keys = ("target_utilization", "scale_in_cooldown", "scale_out_cooldown")
    if desired["target_utilization"] is None:
        changes.delete_policy = current.get("target_utilization") is not None
    elif any(normalise(current.get(k)) != normalise(desired.get(k)) for k in policy_keys):
        config: dict[str, Any] = {
            "TargetValue": float(desired["target_utilization"]),
            "PredefinedMetricSpecification": {"PredefinedMetricType": UTILIZATION_METRIC},
        }
        if desired.get("scale_in_cooldown") is not None:
            config["ScaleInCooldown"] = desired["scale_in_cooldown"]
        if desired.get("scale_out_cooldown") is not None:
            config["ScaleOutCooldown"] = desired["scale_out_cooldown"]
        changes.put_policy = config
    wanted = {a["name"]: a for a in desired["schedule"]}
    changes.put_actions = [
        a for name, a in sorted(wanted.items()) if normalise(current_actions.get(name)) != normalise(a)
    ]
    changes.delete_actions = sorted(set(current_actions) - set(wanted))
    return changes


def read_scaling(client: Any, fleet_name: str) -> dict[str, Any] | None:
    """Current scaling of a fleet: one read when no target is registered, three otherwise."""
    resource_id = scaling_resource_id(fleet_name)
    common = {"ServiceNamespace": SCALING_NAMESPACE, "ScalableDimension": SCALABLE_DIMENSION}
    targets = client.describe_scalable_targets(ResourceIds=[resource_id], aws_retry=True, **common)
    target = next((t for t in targets.get("ScalableTargets") or [] if t.get("ResourceId") == resource_id), None)
    if target is None:
        return None
    policies = client.describe_scaling_policies(
        ResourceId=resource_id, PolicyNames=[scaling_policy_name(fleet_name)], aws_retry=True, **common
    )
    policy = next(
        (
            p
            for p in policies.get("ScalingPolicies") or []
            if p.get("ResourceId") == resource_id and p.get("PolicyName") == scaling_policy_name(fleet_name)
        ),
        None,
    )
    scheduled = client.describe_scheduled_actions(ResourceId=resource_id, aws_retry=True, **common)
    actions = [a for a in scheduled.get("ScheduledActions") or [] if a.get("ResourceId") == resource_id]
    return scaling_comparable(target, policy, actions)


def apply_scaling(client: Any, fleet_name: str, changes: ScalingChanges) -> None:
    """Make the calls of `changes`, in an order AWS accepts (target before its policy and actions)."""
    resource_id = scaling_resource_id(fleet_name)
    common = {"ServiceNamespace": SCALING_NAMESPACE, "ResourceId": resource_id, "ScalableDimension": SCALABLE_DIMENSION}
    if changes.register_target:
        client.register_scalable_target(aws_retry=True, **common, **changes.register_target)
    for name in changes.delete_actions:
        client.delete_scheduled_action(ScheduledActionName=name, aws_retry=True, **common)
    if changes.delete_policy:
        client.delete_scaling_policy(PolicyName=scaling_policy_name(fleet_name), aws_retry=True, **common)
    if changes.put_policy:
        client.put_scaling_policy(
            PolicyName=scaling_policy_name(fleet_name),
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration=changes.put_policy,
            aws_retry=True,
            **common,
        )
    for action in changes.put_actions:
        client.put_scheduled_action(
            ScheduledActionName=action["name"],
            Schedule=action["schedule"],
            Timezone=action["timezone"],
            ScalableTargetAction={"MinCapacity": action["min_capacity"], "MaxCapacity": action["max_capacity"]},
            aws_retry=True,
            **common,
        )
    if changes.deregister_target:
        client.deregister_scalable_target(aws_retry=True, **common)
