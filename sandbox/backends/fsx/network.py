"""The network a file system asks for, checked against moto's EC2 state."""

from __future__ import annotations

from typing import Any

from sandbox import moto_state
from sandbox.backends.fsx.rules import bad_request
from sandbox.errors import AwsError


def check_fsx_network(
    region: str, params: dict[str, Any], deployment: str, preferred: str | None
) -> tuple[str, list[str], str]:
    """(VPC, subnets, preferred subnet) of a valid network for the deployment type."""
    subnet_ids = list(params["SubnetIds"])
    expected = 2 if deployment == "MULTI_AZ_1" else 1
    if len(subnet_ids) != expected or len(set(subnet_ids)) != expected:
        raise AwsError(
            "InvalidNetworkSettings",
            f"{deployment} file systems need exactly {expected} subnet"
            f"{'s in different Availability Zones' if expected == 2 else ''}.",
        )
    vpc_id, zones = moto_state.check_network(
        region, subnet_ids, params.get("SecurityGroupIds") or [], code="InvalidNetworkSettings"
    )
    if expected == 2 and zones[0] == zones[1]:
        raise AwsError(
            "InvalidNetworkSettings",
            "The two subnets of a MULTI_AZ_1 file system must be in different Availability Zones.",
        )
    if expected == 2 and not preferred:
        raise bad_request("PreferredSubnetId is required for MULTI_AZ_1 file systems.")
    preferred = preferred or subnet_ids[0]
    if preferred not in subnet_ids:
        raise AwsError("InvalidNetworkSettings", f"PreferredSubnetId {preferred} is not one of the SubnetIds.")
    return str(vpc_id), subnet_ids, preferred


def default_security_group(region: str, vpc_id: str) -> list[str]:
    group = moto_state.ec2(region).get_security_group_by_name_or_id("default", vpc_id)
    return [group.id] if group is not None else []
