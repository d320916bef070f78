"""records.addresses_from_listing: the tenant's Elastic IPs from the run's tag listing and the NAT gateways,
or None when the two do not agree and DescribeAddresses is needed."""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.records import (
    NatGateway,
    addresses_from_listing,
)

TENANT = "acme"
OWNED = {"tenant": TENANT, "toolkit:component": "network", "toolkit:resource": "eip-a"}


def nat(ident: str, allocation: str | None, state: str = "available", tenant: str = TENANT, **extra: Any) -> NatGateway:
    tags = {"tenant": tenant, "toolkit:component": "network", "toolkit:resource": f"nat-{ident}"}
    return NatGateway(
        id=f"nat-{ident}", tags=tags, state=state, allocation_id=allocation, public_ip="198.51.100.7", **extra
    )


def test_agreeing_listing_and_nat_gateways_give_the_addresses_with_the_listed_tags() -> None:
    [address] = addresses_from_listing(
        {"eipalloc-1": OWNED}, [nat("a", "eipalloc-1", association_id="eipassoc-9")], TENANT
    )
    assert address.id == "eipalloc-1" and address.tags == OWNED and address.public_ip == "198.51.100.7"
    assert address.association_id == "eipassoc-9" and address.owned_by(TENANT)


def test_without_an_association_id_the_nat_gateway_stands_for_it() -> None:
    [address] = addresses_from_listing({"eipalloc-1": OWNED}, [nat("a", "eipalloc-1")], TENANT)
    assert address.association_id == "nat-a"


@pytest.mark.parametrize(
    ("listed", "nats"),
    [
        pytest.param({}, [nat("a", "eipalloc-1")], id="nothing listed (or the type was not)"),
        pytest.param({"eipalloc-1": OWNED}, [], id="no nat gateway"),
        pytest.param({"eipalloc-1": OWNED}, [nat("a", "eipalloc-1", state="pending")], id="nat pending"),
        pytest.param({"eipalloc-2": OWNED}, [nat("a", "eipalloc-1")], id="nat address not listed"),
        pytest.param({"eipalloc-1": OWNED, "eipalloc-2": OWNED}, [nat("a", "eipalloc-1")], id="a free one listed"),
        pytest.param({"eipalloc-1": OWNED}, [nat("a", None)], id="nat without address"),
    ],
)
def test_anything_else_asks_for_describe_addresses(listed: dict[str, Any], nats: list[NatGateway]) -> None:
    assert addresses_from_listing(listed, nats, TENANT) is None


def test_gone_and_foreign_nat_gateways_and_unowned_listed_addresses_do_not_count() -> None:
    listed = {"eipalloc-1": OWNED, "eipalloc-3": {"tenant": TENANT}}  # no component tag: not the network's
    nats = [nat("a", "eipalloc-1"), nat("b", "eipalloc-2", state="deleted"), nat("c", "eipalloc-4", tenant="other")]
    assert [a.id for a in addresses_from_listing(listed, nats, TENANT) or []] == ["eipalloc-1"]
