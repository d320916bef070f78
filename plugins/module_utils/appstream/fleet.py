# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AppStream fleets: the desired and current shapes, which changes apply to a running fleet and which need
it stopped (facts.md, UpdateFleet), and the create and update requests.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.api import (
    domain_join_member,
    domain_join_of,
    domain_join_option,
    is_empty,
    s3_location_member,
    s3_location_of,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.scaling import (
    scaling_is_empty,
    scaling_option_errors,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import (
    LIVE,
    RECREATE,
    REMOVE,
    STOP,
)

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
    """Option combinations the module refuses before any call (AWS would refuse them too).

    Pairs that exclude each other outright are the module's ``mutually_exclusive``, not repeated here.
    """
    errors = []
    for name in FLEET_NOT_REMOVABLE:
        if params.get(name) == "":
            errors.append(f"{name}: the AppStream API cannot remove it; give a value or leave it unset")
    fleet_type = params.get("fleet_type")
    if fleet_type == "ELASTIC":
        for name in ("desired_instances", "desired_sessions", "domain_join_info", "image_name", "image_arn"):
            if params.get(name) not in (None, "", {}, []) and not is_empty(params.get(name)):
                errors.append(f"{name}: not allowed for ELASTIC fleets")
        if params.get("scaling") and not scaling_is_empty(params.get("scaling")):
            errors.append("scaling: ELASTIC fleets have no capacity to scale")
    elif fleet_type in ("ALWAYS_ON", "ON_DEMAND") and params.get("max_concurrent_sessions") is not None:
        errors.append("max_concurrent_sessions: only for ELASTIC fleets (use desired_sessions)")
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


def streaming_sessions(fleet: Mapping[str, Any]) -> int | None:
    """How many users stream from the fleet now (DescribeFleets ComputeCapacityStatus); None if it does not say.

    Multi-session and Elastic fleets count user sessions (ActiveUserSessions); a single-session fleet has one
    user per instance in use (InUse).
    """
    status = fleet.get("ComputeCapacityStatus") or {}
    if status.get("ActiveUserSessions") is not None:
        return status["ActiveUserSessions"]
    return status.get("InUse")


def restart_notice(name: str, fields: list[str], fleet: Mapping[str, Any]) -> str:
    """What a restart for `fields` does to the users of the running `fleet`, in words an operator reads in a plan."""
    sessions = streaming_sessions(fleet)
    count = "" if sessions is None else f" ({sessions} streaming session{'' if sessions == 1 else 's'} now)"
    return (
        f"fleet {name!r} is {fleet.get('State')}: changing {', '.join(fields)} needs it stopped, so the fleet "
        f"stops and its users are disconnected{count}; it is then updated and started again "
        "(when_running=restart)"
    )


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
