"""Helpers the project's own backends share: the service-managed network interfaces AWS services put
in a customer's subnets (Directory Service's domain controllers, FSx's file servers), and pages of
resources that come and go."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import ipaddress
import json
from collections.abc import Callable
from typing import Any, NamedTuple

from sandbox import moto_state
from sandbox.errors import AwsError


class TaggedResource(NamedTuple):
    """One resource as the Resource Groups Tagging API lists it (sandbox/backends/tagging.py): its ARN, its
    type as ResourceTypeFilters name it (`service:type`, the ARN's own strings) and its tags."""

    arn: str
    resource_type: str
    tags: dict[str, str]


# -- EC2 side effects of a service in a customer subnet ---------------------------------------------
def pick_address(region: str, subnet_id: str, seed: str) -> str:
    """A free address of the subnet, chosen deterministically from `seed` (AWS reserves .0-.3 and the last)."""
    subnet = moto_state.subnet(region, subnet_id)
    network = ipaddress.ip_network(subnet.cidr_block, strict=False)
    used = {
        eni.private_ip_address
        for eni in list(moto_state.ec2(region).enis.values())
        if getattr(eni.subnet, "id", None) == subnet_id
    }
    span = network.num_addresses - 5
    start = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big") % span
    for probe in range(span):
        candidate = str(network.network_address + 4 + (start + probe) % span)
        if candidate not in used:
            return candidate
    raise AwsError("InsufficientFreeAddressesInSubnet", f"No free address left in subnet {subnet_id}")


def create_service_interface(
    region: str, subnet_id: str, group_ids: list[str], description: str, seed: str
) -> tuple[str, str]:
    """Create the requester-managed ENI an AWS service puts in a customer subnet; return (id, address)."""
    address = pick_address(region, subnet_id, seed)
    eni = moto_state.ec2(region).create_network_interface(
        subnet=subnet_id, private_ip_address=address, group_ids=group_ids, description=description
    )
    eni.requester_managed = True
    return eni.id, address


def delete_interfaces(region: str, eni_ids: list[str]) -> None:
    from moto.core.exceptions import ServiceException

    for eni_id in eni_ids:
        with contextlib.suppress(ServiceException):  # already gone: someone cleaned the VPC by hand
            moto_state.ec2(region).delete_network_interface(eni_id)


# -- pagination ------------------------------------------------------------------------------------
def cursor_page(
    items: list[Any], sort_key: Callable[[Any], tuple[float, str]], token: str | None, limit: int
) -> tuple[list[Any], str | None]:
    """One page of `items` in `sort_key` order, resuming after the cursor carried by `token`.

    Unlike an offset, the cursor stays right when resources appear or disappear between
    pages (directories finishing their deletion, say). Raises ValueError for a bad token.
    """
    ordered = sorted(items, key=sort_key)
    if token:
        try:
            stamp, identifier = json.loads(base64.b64decode(token, validate=True))
            cursor = (float(stamp), str(identifier))
        except (binascii.Error, TypeError, ValueError) as exc:
            raise ValueError(f"invalid pagination token {token!r}") from exc
        ordered = [item for item in ordered if sort_key(item) > cursor]
    page = ordered[:limit]
    if len(ordered) <= limit:
        return page, None
    return page, base64.b64encode(json.dumps(list(sort_key(page[-1]))).encode()).decode()
