"""The network a directory asks for, checked against moto's EC2 state."""

from __future__ import annotations

from sandbox import moto_state
from sandbox.errors import AwsError


def check_directory_network(region: str, vpc_id: str, subnet_ids: list[str]) -> list[str]:
    """Two existing subnets of `vpc_id` in different AZs (AWS's own messages); returns their AZs."""
    invalid = "Invalid subnet ID(s). They must correspond to two subnets in different Availability Zones."
    if len(subnet_ids) != 2 or len(set(subnet_ids)) != 2:
        raise AwsError("InvalidParameterException", invalid)
    subnets = [moto_state.subnet(region, subnet_id) for subnet_id in subnet_ids]
    if any(subnet is None for subnet in subnets):
        raise AwsError("InvalidParameterException", invalid)
    zones = [subnet.availability_zone for subnet in subnets]
    if zones[0] == zones[1]:
        raise AwsError(
            "ClientException", "Invalid subnet ID(s). The two subnets must be in different Availability Zones."
        )
    if vpc_id not in moto_state.ec2(region).vpcs:
        raise AwsError("ClientException", "Invalid VPC ID.")
    strays = [subnet.id for subnet in subnets if subnet.vpc_id != vpc_id]
    if strays:
        raise AwsError("ClientException", f"Invalid subnet ID(s) {strays}: the subnets must belong to VPC {vpc_id}.")
    return zones
