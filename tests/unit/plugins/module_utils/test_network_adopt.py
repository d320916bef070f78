"""Adopting a VPC made without the toolkit: every resource mapped to its logical key, so that the plan afterwards
holds only the real differences; nothing foreign adopted; blockers before anything is tagged."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.adopt import adopt_network, layout_zones
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.layout import SECURITY_GROUP_ROLES
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.plan import plan_network
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.records import Subnet

from .test_network_plan import FakeEc2, converge, spec


def console_made(nat: str = "single", zones: int = 2, rename_groups: bool = True) -> FakeEc2:
    """The network a person built by hand: the toolkit's shape, no tag at all, groups named their way."""
    fake = converge(spec(nat=nat, zones=zones))
    for record in fake.records():
        record.tags = {}
    if rename_groups:
        for group in fake.state.security_groups:
            group.name = f"lab-{group.name.rsplit('-', 1)[-1]}-sg"
    return fake


def uses(fake: FakeEc2, *roles: str) -> dict[str, set[str]]:
    """Which group each role's user uses (the fleet: streaming, the file system: fsx), as the module reads it."""
    by_role = {g.name.split("-")[1]: g.id for g in fake.state.security_groups}
    return {by_role[role]: {role} for role in roles}


def apply(fake: FakeEc2, adoption: Any) -> None:
    for claim in adoption.claims:
        fake.find(claim.id).tags.update(claim.tags)


def test_an_adopted_network_plans_no_change_at_all() -> None:
    fake = console_made()
    adoption = adopt_network(spec(), fake.state, uses(fake, *SECURITY_GROUP_ROLES))
    assert adoption.blockers == [] and adoption.refused == []
    assert {c.key for c in adoption.claims} >= {
        "vpc",
        "public-subnet-eu-west-3a",
        "private-subnet-eu-west-3b",
        "internet-gateway",
        "nat-gateway-eu-west-3a",
        "eip-eu-west-3a",
        "public-route-table",
        "private-route-table",
        "s3-endpoint",
        "security-group-streaming",
        "security-group-fsx",
    }
    apply(fake, adoption)
    plan = plan_network(spec(), fake.state)
    assert plan.actions == [], plan.summaries()  # found by tags, names kept, nothing created twice


def test_groups_named_as_the_toolkit_names_them_are_adopted_by_name() -> None:
    fake = console_made(rename_groups=False)
    adoption = adopt_network(spec(), fake.state)
    assert {c.key for c in adoption.claims if c.kind == "security-group"} == {
        f"security-group-{role}" for role in SECURITY_GROUP_ROLES
    }


def test_what_the_network_lacks_is_what_the_next_converge_creates_and_nothing_else() -> None:
    fake = console_made()
    missing = next(s for s in fake.state.subnets if s.cidr == spec().layout.private[1])
    fake.state.subnets.remove(missing)
    for table in fake.state.route_tables:
        table.associations = [a for a in table.associations if a[1] != missing.id]
    adoption = adopt_network(spec(), fake.state, uses(fake, "streaming", "fsx"))
    assert f"the converge creates the private subnet {missing.cidr} in eu-west-3b" in adoption.notes
    unused = [role for role in SECURITY_GROUP_ROLES if role not in ("streaming", "fsx")]  # nothing uses them
    assert all(f"the converge creates the security group acme-{role}" in adoption.notes for role in unused)
    apply(fake, adoption)
    planned = [a.op for a in plan_network(spec(), fake.state).actions]
    assert planned.count("create_subnet") == 1 and planned.count("create_security_group") == len(unused)
    assert "create_vpc" not in planned and "create_nat_gateway" not in planned and "create_route_table" not in planned


def test_a_nat_gateway_the_definition_does_not_want_is_left_untagged_and_so_never_deleted() -> None:
    fake = console_made(nat="per_az")
    adoption = adopt_network(spec(nat="single"), fake.state)
    kept = [k for k in adoption.kept if k["kind"] == "nat-gateway"]
    assert len(kept) == 1 and "nat_gateways: single" in kept[0]["reason"]
    apply(fake, adoption)
    assert "delete_nat_gateway" not in [a.op for a in plan_network(spec(nat="single"), fake.state).actions]


def test_another_tenant_s_resource_in_the_vpc_is_refused_by_name() -> None:
    fake = console_made()
    fake.state.subnets[0].tags = {"tenant": "other-lab"}
    adoption = adopt_network(spec(), fake.state)
    assert adoption.refused == [{"kind": "subnet", "id": fake.state.subnets[0].id, "owner": "other-lab"}]
    assert fake.state.subnets[0].id not in {c.id for c in adoption.claims}


def test_another_vpc_range_is_a_blocker() -> None:
    fake = console_made()
    adoption = adopt_network(spec(cidr="10.41.0.0/16"), fake.state)
    assert any("tenant.network.cidr is 10.41.0.0/16" in b for b in adoption.blockers)


def test_a_subnet_in_the_way_of_the_layout_is_a_blocker_and_one_beside_it_is_left_alone() -> None:
    fake = console_made()
    vpc = fake.state.vpc.id
    fake.state.subnets.append(
        Subnet("subnet-beside", {}, "10.40.130.0/24", "eu-west-3a", vpc)
    )  # no layout subnet there
    adoption = adopt_network(spec(), fake.state)
    assert adoption.blockers == []
    assert {
        "kind": "subnet",
        "id": "subnet-beside",
        "reason": "10.40.130.0/24 is outside the tenant's subnet layout: left as it is",
    } in adoption.kept
    fake = console_made()
    gone = next(s for s in fake.state.subnets if s.cidr == "10.40.0.0/18")
    fake.state.subnets.remove(gone)
    fake.state.subnets.append(Subnet("subnet-clash", {}, "10.40.1.0/24", "eu-west-3a", vpc))
    adoption = adopt_network(spec(), fake.state)
    assert any("subnet-clash" in b and "10.40.0.0/18" in b for b in adoption.blockers)


def test_a_subnet_in_the_other_zone_than_its_layout_partner_is_a_blocker() -> None:
    fake = console_made()
    public_a = next(s for s in fake.state.subnets if s.cidr == spec().layout.public[0])
    public_a.zone = "eu-west-3c"
    adoption = adopt_network(spec(), fake.state)
    assert any(public_a.id in b and "share one zone" in b for b in adoption.blockers)


def test_adopting_twice_sets_nothing_the_second_time() -> None:
    fake = console_made()
    adoption = adopt_network(spec(), fake.state, uses(fake, "streaming"))
    apply(fake, adoption)
    again = adopt_network(spec(), copy.deepcopy(fake.state), uses(fake, "streaming"))
    assert [c.tags for c in again.claims] == [{}] * len(again.claims)


@pytest.mark.parametrize("zones", [2, 3])
def test_the_layout_zones_come_from_the_subnets_that_exist(zones: int) -> None:
    fake = console_made(zones=zones)
    assert (
        layout_zones(spec(zones=zones).layout, fake.state.subnets) == ["eu-west-3a", "eu-west-3b", "eu-west-3c"][:zones]
    )
    assert layout_zones(spec().layout, []) == [None, None]
