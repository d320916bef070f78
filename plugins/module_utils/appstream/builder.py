# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AppStream image builders: the desired and current shapes, the states a builder settles in, which
changes need a stopped builder, and the create request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.api import (
    domain_join_member,
    domain_join_of,
    domain_join_option,
    image_name_of_arn,
    is_empty,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import (
    LIVE,
    RECREATE,
    REMOVE,
    STOP,
)

# Image builders
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
