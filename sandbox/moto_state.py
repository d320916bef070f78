"""Read access to moto's in-process state, for rules that cross services.

The sandbox's own backends run in the same process as moto, so AppStream can check
that a subnet exists in EC2 and which VPC and AZ it belongs to, as AWS does.
"""

from __future__ import annotations

from typing import Any

from sandbox.errors import AwsError
from sandbox.jsonproto import ACCOUNT_ID


def ec2(region: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[ACCOUNT_ID][region]


def subnet(region: str, subnet_id: str) -> Any | None:
    backend = ec2(region)
    try:
        return backend.get_subnet(subnet_id)
    except Exception:  # noqa: BLE001 - moto raises its own InvalidSubnetIdError
        return None


def security_group(region: str, group_id: str) -> Any | None:
    backend = ec2(region)
    try:
        return backend.get_security_group_from_id(group_id)
    except Exception:  # noqa: BLE001 - moto's lookup errors vary by version
        return None


def check_network(
    region: str,
    subnet_ids: list[str],
    security_group_ids: list[str],
    code: str = "InvalidParameterCombinationException",
) -> tuple[str | None, list[str]]:
    """Verify subnets and security groups exist and share one VPC; return (vpc id, AZs of the subnets)."""
    vpcs: set[str] = set()
    zones: list[str] = []
    for subnet_id in subnet_ids:
        found = subnet(region, subnet_id)
        if found is None:
            raise AwsError(code, f"The subnet ID '{subnet_id}' does not exist")
        vpcs.add(found.vpc_id)
        zones.append(found.availability_zone)
    for group_id in security_group_ids:
        found = security_group(region, group_id)
        if found is None:
            raise AwsError(code, f"The security group '{group_id}' does not exist")
        vpcs.add(found.vpc_id)
    if len(vpcs) > 1:
        raise AwsError(code, f"Subnets and security groups must belong to the same VPC, found {sorted(vpcs)}")
    return (next(iter(vpcs)) if vpcs else None), zones
