"""The tenant network plan: subnet layout, security-group rules, and planning from a discovered state.

`FakeEc2` applies a plan's actions to an in-memory `Discovered`, the way the module's writer applies
them to EC2, so convergence is checked as a property: plan, apply, plan again -> nothing to do.
"""

from __future__ import annotations

import copy
import ipaddress
import itertools
from typing import Any

import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import (
    MANAGED_BY_TAG,
    MANAGED_BY_VALUE,
    TENANT_TAG,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.layout import (
    ANYWHERE,
    COMPONENT,
    COMPONENT_TAG,
    RESOURCE_TAG,
    DhcpSpec,
    NetworkSpec,
    PlanError,
    derive_subnet_layout,
    fill_zones,
    sg_key,
    subnet_layout,
    vpc_cidr_errors,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.plan import (
    NetworkPlan,
    plan_network,
    plan_teardown,
    resolve,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.records import (
    Address,
    DhcpOptions,
    Discovered,
    Endpoint,
    InternetGateway,
    NatGateway,
    Route,
    RouteTable,
    SecurityGroup,
    Subnet,
    Vpc,
    addresses_from_listing,
    route_table_from_aws,
    zones_from_existing,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.report import network_diff, network_result
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.rules import (
    DOMAIN_CONTROLLER_PORTS,
    Rule,
    ip_permission,
    rules_from_permissions,
    security_group_rules,
)

TENANT = "acme"
ZONES = ["eu-west-3a", "eu-west-3b", "eu-west-3c"]


def spec(
    cidr: str = "10.40.0.0/16",
    zones: int = 2,
    nat: str = "single",
    s3: bool = True,
    dhcp: DhcpSpec | None = None,
    tags: dict[str, str] | None = None,
    **extra: Any,
) -> NetworkSpec:
    return NetworkSpec(
        tenant=TENANT,
        region="eu-west-3",
        cidr=cidr,
        zones=ZONES[:zones],
        layout=subnet_layout(cidr, zones),
        nat_mode=nat,
        s3_endpoint=s3,
        dhcp=dhcp,
        environment="prod",
        user_tags=tags,
        **extra,
    )


def owned_tags(key: str, **extra: str) -> dict[str, str]:
    return {TENANT_TAG: TENANT, MANAGED_BY_TAG: MANAGED_BY_VALUE, COMPONENT_TAG: COMPONENT, RESOURCE_TAG: key, **extra}


class FakeEc2:
    """Applies plan actions to a Discovered, as EC2 would (new groups get the default egress rule)."""

    def __init__(self, state: Discovered | None = None) -> None:
        self.state = state or Discovered()
        self.counter = itertools.count(1)
        self.ids: dict[str, str] = {}
        self.calls: list[str] = []

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self.counter):04d}"

    def apply(self, plan: NetworkPlan) -> None:
        self.ids = dict(plan.ids)
        for action in plan.actions:
            self.calls.append(action.op)
            produced = getattr(self, action.op)(**resolve(action.params, self.ids))
            if action.produces:
                self.ids[action.produces] = produced

    def records(self) -> list[Any]:
        s = self.state
        return [
            *([s.vpc] if s.vpc else []),
            *s.subnets,
            *s.route_tables,
            *s.internet_gateways,
            *s.nat_gateways,
            *s.addresses,
            *s.endpoints,
            *s.security_groups,
            *s.dhcp_options,
        ]

    def find(self, resource_id: str) -> Any:
        return next(r for r in self.records() if r.id == resource_id)

    # -- operations (same names and parameters as the module's writer) --------------------
    def create_vpc(self, cidr: str, tags: dict) -> str:
        self.state.vpc = Vpc(self.new_id("vpc"), dict(tags), cidr, "default", True, False)
        return self.state.vpc.id

    def set_vpc_attribute(self, vpc: str, attribute: str) -> None:
        setattr(
            self.state.vpc, {"EnableDnsSupport": "dns_support", "EnableDnsHostnames": "dns_hostnames"}[attribute], True
        )

    def create_dhcp_options(self, config: dict, tags: dict) -> str:
        options = DhcpOptions(self.new_id("dopt"), dict(tags), {k: list(v) for k, v in config.items()})
        self.state.dhcp_options.append(options)
        return options.id

    def associate_dhcp_options(self, dhcp_options: str, vpc: str) -> None:
        self.state.vpc.dhcp_options_id = dhcp_options

    def delete_dhcp_options(self, dhcp_options: str) -> None:
        self.state.dhcp_options = [d for d in self.state.dhcp_options if d.id != dhcp_options]

    def delete_vpc(self, vpc: str) -> None:
        self.state.vpc = None

    def create_subnet(self, vpc: str, cidr: str, zone: str, tags: dict) -> str:
        self.state.subnets.append(Subnet(self.new_id("subnet"), dict(tags), cidr, zone, vpc))
        return self.state.subnets[-1].id

    def delete_subnet(self, subnet: str) -> None:
        self.state.subnets = [s for s in self.state.subnets if s.id != subnet]

    def create_internet_gateway(self, tags: dict) -> str:
        self.state.internet_gateways.append(InternetGateway(self.new_id("igw"), dict(tags)))
        return self.state.internet_gateways[-1].id

    def attach_internet_gateway(self, internet_gateway: str, vpc: str) -> None:
        self.find(internet_gateway).vpc_ids.append(vpc)

    def detach_internet_gateway(self, internet_gateway: str, vpc: str) -> None:
        self.find(internet_gateway).vpc_ids.remove(vpc)

    def delete_internet_gateway(self, internet_gateway: str) -> None:
        self.state.internet_gateways = [g for g in self.state.internet_gateways if g.id != internet_gateway]

    def allocate_address(self, tags: dict) -> str:
        address = Address(self.new_id("eipalloc"), dict(tags), public_ip=f"203.0.113.{next(self.counter) % 250}")
        self.state.addresses.append(address)
        return address.id

    def release_address(self, allocation: str) -> None:
        assert self.find(allocation).association_id is None, "released an Elastic IP still in use"
        self.state.addresses = [a for a in self.state.addresses if a.id != allocation]

    def create_nat_gateway(self, subnet: str, allocation: str, token_parts: list, tags: dict) -> str:
        assert all(isinstance(part, str) for part in token_parts), "token parts must be resolved ids"
        nat = NatGateway(self.new_id("nat"), dict(tags), subnet, "pending", allocation, self.find(allocation).public_ip)
        self.find(allocation).association_id = self.new_id("eipassoc")
        self.state.nat_gateways.append(nat)
        return nat.id

    def wait_nat_gateways(self, nat_gateways: list[str]) -> None:
        for nat_id in nat_gateways:
            self.find(nat_id).state = "available"

    def delete_nat_gateway(self, nat_gateway: str) -> None:
        nat = self.find(nat_gateway)
        nat.state = "deleted"
        if nat.allocation_id:
            self.find(nat.allocation_id).association_id = None

    def wait_nat_gateways_deleted(self, nat_gateways: list[str]) -> None:
        assert all(self.find(n).state == "deleted" for n in nat_gateways)

    def create_route_table(self, vpc: str, tags: dict) -> str:
        table = RouteTable(self.new_id("rtb"), dict(tags), routes=[Route(self.state.vpc.cidr, "local")])
        self.state.route_tables.append(table)
        return table.id

    def delete_route_table(self, route_table: str) -> None:
        table = self.find(route_table)
        assert not table.associations, "deleted a route table that still has associations"
        self.state.route_tables.remove(table)

    def create_route(self, route_table: str, target: str, target_kind: str) -> None:
        table = self.find(route_table)
        assert table.default_route() is None
        table.routes.append(Route(ANYWHERE, target))

    def replace_route(self, route_table: str, target: str, target_kind: str) -> None:
        self.find(route_table).default_route().target = target

    def delete_route(self, route_table: str) -> None:
        table = self.find(route_table)
        table.routes = [r for r in table.routes if r.destination != ANYWHERE]

    def _association(self, association_id: str) -> RouteTable:
        return next(t for t in self.state.route_tables if any(a == association_id for a, _unused in t.associations))

    def associate_route_table(self, route_table: str, subnet: str) -> None:
        assert not any(s == subnet for t in self.state.route_tables for _unused, s in t.associations)
        self.find(route_table).associations.append((self.new_id("rtbassoc"), subnet))

    def replace_route_table_association(self, association_id: str, route_table: str) -> None:
        old = self._association(association_id)
        subnet = dict(old.associations)[association_id]
        old.associations = [a for a in old.associations if a[0] != association_id]
        self.find(route_table).associations.append((self.new_id("rtbassoc"), subnet))

    def disassociate_route_table(self, association_id: str) -> None:
        table = self._association(association_id)
        table.associations = [a for a in table.associations if a[0] != association_id]

    def create_vpc_endpoint(self, vpc: str, service_name: str, route_tables: list, tags: dict) -> str:
        endpoint = Endpoint(self.new_id("vpce"), dict(tags), service_name, route_table_ids=list(route_tables))
        self.state.endpoints.append(endpoint)
        return endpoint.id

    def modify_vpc_endpoint(self, endpoint: str, add_route_tables: list, remove_route_tables: list) -> None:
        found = self.find(endpoint)
        found.route_table_ids = [t for t in found.route_table_ids if t not in remove_route_tables] + add_route_tables

    def delete_vpc_endpoint(self, endpoint: str) -> None:
        self.find(endpoint).state = "deleted"

    def create_security_group(self, vpc: str, name: str, description: str, tags: dict) -> str:
        group = SecurityGroup(
            self.new_id("sg"),
            dict(tags),
            name,
            [],
            [ip_permission(Rule("egress", "-1", -1, -1, "cidr", ANYWHERE), str)],
        )
        self.state.security_groups.append(group)
        return group.id

    def delete_security_group(self, group: str) -> None:
        self.state.security_groups = [g for g in self.state.security_groups if g.id != group]

    def _attribute(self, direction: str) -> str:
        return "permissions" if direction == "ingress" else "permissions_egress"

    def authorize(self, group: str, direction: str, rules: list[Rule]) -> None:
        permissions = getattr(self.find(group), self._attribute(direction))
        permissions.extend(ip_permission(r, lambda role: self.ids[sg_key(role)]) for r in rules)

    def revoke(self, group: str, direction: str, rules: list[Rule]) -> None:
        found = self.find(group)
        resolved = [ip_permission(r, lambda role: self.ids[sg_key(role)]) for r in rules]
        remaining = [
            p
            for p in getattr(found, self._attribute(direction))
            if rules_from_permissions([p], direction, {}) - rules_from_permissions(resolved, direction, {})
        ]
        setattr(found, self._attribute(direction), remaining)

    def tag(self, resources: list[str], tags: dict) -> None:
        for resource in resources:
            self.find(resource).tags.update(tags)

    def untag(self, resources: list[str], keys: list[str]) -> None:
        for resource in resources:
            for key in keys:
                self.find(resource).tags.pop(key, None)


def converge(wanted: NetworkSpec, fake: FakeEc2 | None = None) -> FakeEc2:
    fake = fake or FakeEc2()
    fake.apply(plan_network(wanted, fake.state))
    return fake


def ops(plan: NetworkPlan) -> list[str]:
    return [a.op for a in plan.actions]


# ---------------------------------------------------------------------------------------
# Subnet layout
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("prefix", range(16, 23))
@pytest.mark.parametrize("count", [2, 3])
def test_derived_subnets_fit_inside_the_vpc_without_overlap(prefix: int, count: int) -> None:
    vpc = ipaddress.IPv4Network(f"10.0.0.0/{prefix}")
    layout = derive_subnet_layout(str(vpc), count)
    subnets = [ipaddress.IPv4Network(c) for c in layout.public + layout.private]
    assert len(layout.public) == len(layout.private) == count
    assert all(s.subnet_of(vpc) for s in subnets)
    assert not any(a.overlaps(b) for a, b in itertools.combinations(subnets, 2))


@pytest.mark.parametrize("prefix", range(16, 23))
def test_private_subnets_are_four_times_the_public_ones(prefix: int) -> None:
    layout = derive_subnet_layout(f"10.0.0.0/{prefix}", 3)
    assert {ipaddress.IPv4Network(c).prefixlen for c in layout.private} == {prefix + 2}
    assert {ipaddress.IPv4Network(c).prefixlen for c in layout.public} == {prefix + 4}


def test_derived_subnets_of_a_16_are_the_documented_ones() -> None:
    layout = derive_subnet_layout("10.40.0.0/16", 3)
    assert layout.private == ["10.40.0.0/18", "10.40.64.0/18", "10.40.128.0/18"]
    assert layout.public == ["10.40.192.0/20", "10.40.208.0/20", "10.40.224.0/20"]


def test_derived_subnets_of_a_22_are_the_documented_ones() -> None:
    layout = derive_subnet_layout("10.40.0.0/22", 2)
    assert layout.private == ["10.40.0.0/24", "10.40.1.0/24"]
    assert layout.public == ["10.40.3.0/26", "10.40.3.64/26"]


def test_derivation_is_deterministic_and_a_third_zone_keeps_the_first_two() -> None:
    two, three = derive_subnet_layout("172.20.0.0/18", 2), derive_subnet_layout("172.20.0.0/18", 3)
    assert two == derive_subnet_layout("172.20.0.0/18", 2)
    assert three.public[:2] == two.public and three.private[:2] == two.private


@pytest.mark.parametrize("cidr", ["10.0.0.0/15", "10.0.0.0/25", "10.0.0.1/16", "not-a-cidr"])
def test_vpc_cidrs_outside_the_supported_range_are_rejected(cidr: str) -> None:
    assert vpc_cidr_errors(cidr)
    with pytest.raises(PlanError):
        subnet_layout(cidr, 2)


def test_explicit_subnets_are_used_as_given() -> None:
    layout = subnet_layout("10.1.0.0/20", 2, ["10.1.0.0/26", "10.1.0.64/26"], ["10.1.4.0/22", "10.1.8.0/22"])
    assert layout.public == ["10.1.0.0/26", "10.1.0.64/26"]
    assert layout.private == ["10.1.4.0/22", "10.1.8.0/22"]


def test_only_private_subnets_given_derives_the_public_ones() -> None:
    layout = subnet_layout("10.1.0.0/16", 2, None, ["10.1.0.0/20", "10.1.16.0/20"])
    assert layout.public == derive_subnet_layout("10.1.0.0/16", 2).public


@pytest.mark.parametrize(
    ("public", "private", "message"),
    [
        (["10.1.0.0/26"], ["10.1.4.0/22", "10.1.8.0/22"], "1 given for 2 availability zones"),
        (["10.2.0.0/26", "10.1.0.64/26"], ["10.1.4.0/22", "10.1.8.0/22"], "not inside the VPC"),
        (["10.1.0.0/26", "10.1.0.32/27"], ["10.1.4.0/22", "10.1.8.0/22"], "overlap"),
        (["10.1.0.1/26", "10.1.0.64/26"], ["10.1.4.0/22", "10.1.8.0/22"], "host bits"),
        (["10.1.0.0/29", "10.1.0.64/26"], ["10.1.4.0/22", "10.1.8.0/22"], "/16 to /28"),
    ],
)
def test_explicit_subnets_are_validated(public: list[str], private: list[str], message: str) -> None:
    with pytest.raises(PlanError, match=message):
        subnet_layout("10.1.0.0/20", 2, public, private)


def test_zones_of_existing_subnets_are_kept_and_missing_ones_filled_in_name_order() -> None:
    layout = derive_subnet_layout("10.40.0.0/16", 3)
    existing = [Subnet("subnet-1", owned_tags("public-subnet-eu-west-3c"), layout.public[0], "eu-west-3c")]
    partial = zones_from_existing(layout, existing, TENANT)
    assert partial == ["eu-west-3c", None, None]
    assert fill_zones(partial, ["eu-west-3b", "eu-west-3a", "eu-west-3c"]) == ["eu-west-3c", "eu-west-3a", "eu-west-3b"]


def test_zones_of_subnets_not_owned_are_ignored() -> None:
    layout = derive_subnet_layout("10.40.0.0/16", 2)
    foreign = [Subnet("subnet-1", {TENANT_TAG: "other"}, layout.public[0], "eu-west-3c")]
    assert zones_from_existing(layout, foreign, TENANT) == [None, None]


def test_too_few_zones_in_the_region_is_an_error() -> None:
    with pytest.raises(PlanError, match="too few"):
        fill_zones([None, None, None], ["eu-west-3a", "eu-west-3b"])


# ---------------------------------------------------------------------------------------
# Security-group rules
# ---------------------------------------------------------------------------------------
VPC_CIDR = "10.40.0.0/16"
DC_PORTS = {(protocol, low, high) for protocol, low, high, _unused in DOMAIN_CONTROLLER_PORTS}


def ports(rules: frozenset[Rule], direction: str, peer: str) -> set[tuple[str, int, int]]:
    return {(r.protocol, r.from_port, r.to_port) for r in rules if r.direction == direction and r.peer == peer}


def test_domain_controller_ports_are_exactly_those_of_facts_md() -> None:
    tcp = {53, 88, 135, 389, 445, 464, 636, (3268, 3269), 9389, (49152, 65535)}
    udp = {53, 88, 123, 389, 464}
    expected = {("tcp", *(p if isinstance(p, tuple) else (p, p))) for p in tcp}
    expected |= {("udp", p, p) for p in udp}
    assert expected == DC_PORTS


def test_no_group_accepts_anything_from_anywhere() -> None:
    for rules in security_group_rules(VPC_CIDR, [CONTROLLER_CIDR]).values():
        assert not [r for r in rules if r.direction == "ingress" and r.peer in (ANYWHERE, "::/0")]


CONTROLLER_CIDR = "10.200.7.0/24"


def test_streaming_group_accepts_nothing_not_even_winrm() -> None:
    streaming = security_group_rules(VPC_CIDR, [CONTROLLER_CIDR])["streaming"]
    assert {r for r in streaming if r.direction == "ingress"} == set()


def test_builder_group_accepts_winrm_from_the_controller_range_only() -> None:
    builder = security_group_rules(VPC_CIDR, [CONTROLLER_CIDR])["builder"]
    assert {r for r in builder if r.direction == "ingress"} == {
        Rule("ingress", "tcp", 5985, 5986, "cidr", CONTROLLER_CIDR)
    }


def test_builder_group_accepts_nothing_without_a_controller_range() -> None:
    builder = security_group_rules(VPC_CIDR)["builder"]
    assert {r for r in builder if r.direction == "ingress"} == set()


def test_builder_group_sends_what_streaming_instances_send() -> None:
    rules = security_group_rules(VPC_CIDR, [CONTROLLER_CIDR])
    assert {r for r in rules["builder"] if r.direction == "egress"} == rules["streaming"]


def test_streaming_group_sends_https_anywhere_and_domain_traffic_to_the_vpc() -> None:
    streaming = security_group_rules(VPC_CIDR)["streaming"]
    assert ports(streaming, "egress", ANYWHERE) == {("tcp", 443, 443)}
    assert ports(streaming, "egress", VPC_CIDR) == DC_PORTS
    assert len([r for r in streaming if r.direction == "egress"]) == 1 + len(DC_PORTS)


def test_directory_group_accepts_the_domain_ports_from_streaming_builders_and_fsx_only() -> None:
    directory = security_group_rules(VPC_CIDR)["directory"]
    ingress = [r for r in directory if r.direction == "ingress"]
    assert {r.peer_kind for r in ingress} == {"role"}
    assert ports(directory, "ingress", "streaming") == DC_PORTS
    assert ports(directory, "ingress", "builder") == DC_PORTS
    assert ports(directory, "ingress", "fsx") == DC_PORTS
    assert len(ingress) == 3 * len(DC_PORTS)
    assert {r for r in directory if r.direction == "egress"} == {Rule("egress", "-1", -1, -1, "cidr", VPC_CIDR)}


def test_fsx_group_accepts_smb_from_streaming_and_winrm_from_the_vpc() -> None:
    fsx = security_group_rules(VPC_CIDR)["fsx"]
    assert {r for r in fsx if r.direction == "ingress"} == {
        Rule("ingress", "tcp", 445, 445, "role", "streaming"),
        Rule("ingress", "tcp", 5985, 5985, "cidr", VPC_CIDR),
    }
    assert ports(fsx, "egress", VPC_CIDR) == DC_PORTS
    assert len([r for r in fsx if r.direction == "egress"]) == len(DC_PORTS)


def test_rules_survive_the_round_trip_through_ec2_permissions() -> None:
    ids = {"streaming": "sg-s", "builder": "sg-b", "directory": "sg-d", "fsx": "sg-f"}
    for rules in security_group_rules(VPC_CIDR, [CONTROLLER_CIDR]).values():
        for direction in ("ingress", "egress"):
            mine = {r for r in rules if r.direction == direction}
            permissions = [ip_permission(r, ids.__getitem__) for r in mine]
            assert rules_from_permissions(permissions, direction, {v: k for k, v in ids.items()}) == mine


def test_permissions_with_several_peers_become_one_rule_each() -> None:
    permission = {
        "IpProtocol": "6",
        "FromPort": 22,
        "ToPort": 22,
        "IpRanges": [{"CidrIp": "0.0.0.0/0"}, {"CidrIp": "10.0.0.0/8"}],
        "UserIdGroupPairs": [{"GroupId": "sg-x"}],
    }
    rules = rules_from_permissions([permission], "ingress", {})
    assert {(r.protocol, r.peer_kind, r.peer) for r in rules} == {
        ("tcp", "cidr", "0.0.0.0/0"),
        ("tcp", "cidr", "10.0.0.0/8"),
        ("tcp", "group", "sg-x"),
    }


# ---------------------------------------------------------------------------------------
# Planning a new network
# ---------------------------------------------------------------------------------------
def test_a_new_network_is_planned_in_dependency_order() -> None:
    plan = plan_network(spec(), Discovered())
    order = ops(plan)
    assert order[0] == "create_vpc"
    assert order.count("create_subnet") == 4
    assert order.count("create_nat_gateway") == order.count("allocate_address") == 1
    assert order.count("create_route_table") == 2
    assert order.count("create_security_group") == 4  # streaming, builder, directory, fsx
    assert order.index("allocate_address") < order.index("create_nat_gateway") < order.index("wait_nat_gateways")
    last_subnet = max(i for i, op in enumerate(order) if op == "create_subnet")
    assert last_subnet < order.index("create_nat_gateway")
    assert order.index("attach_internet_gateway") < order.index("create_route")
    last_group = max(i for i, op in enumerate(order) if op == "create_security_group")
    assert last_group < order.index("authorize")
    assert "tag" not in order  # everything is tagged at creation


def test_every_created_resource_carries_ownership_and_name_tags() -> None:
    plan = plan_network(spec(tags={"cost-centre": "lab"}), Discovered())
    created = [a for a in plan.actions if a.produces]
    assert created
    for action in created:
        tags = action.params["tags"]
        assert tags[TENANT_TAG] == TENANT and tags["environment"] == "prod"
        assert tags[MANAGED_BY_TAG] == MANAGED_BY_VALUE and tags[COMPONENT_TAG] == COMPONENT
        assert tags[RESOURCE_TAG] == action.produces
        assert tags["Name"].startswith(f"{TENANT}-") and tags["cost-centre"] == "lab"


def test_new_security_groups_lose_the_default_egress_rule() -> None:
    plan = plan_network(spec(), Discovered())
    revokes = [a for a in plan.actions if a.op == "revoke"]
    assert len(revokes) == 4
    assert all(a.params["rules"] == [Rule("egress", "-1", -1, -1, "cidr", ANYWHERE)] for a in revokes)


def test_nat_gateway_client_token_depends_on_the_zone_subnet_and_address() -> None:
    plan = plan_network(spec(nat="per_az"), Discovered())
    tokens = [a.params["token_parts"] for a in plan.actions if a.op == "create_nat_gateway"]
    assert len(tokens) == 2
    assert [t[2] for t in tokens] == ZONES[:2]
    assert all(t[0] == TENANT for t in tokens)


@pytest.mark.parametrize("nat", ["single", "per_az", "none"])
@pytest.mark.parametrize("zones", [2, 3])
def test_a_created_network_needs_nothing_more(nat: str, zones: int) -> None:
    wanted = spec(zones=zones, nat=nat, dhcp=DhcpSpec(["10.40.0.10"], "corp.acme.example"))
    fake = converge(wanted)
    again = plan_network(wanted, fake.state)
    assert again.actions == []
    assert not again.changed


@pytest.mark.parametrize("nat", ["single", "per_az", "none"])
def test_the_built_network_routes_as_requested(nat: str) -> None:
    wanted = spec(zones=3, nat=nat)
    state = converge(wanted).state
    result = network_result(state, TENANT, wanted.zones)
    tables = {t.id: t for t in state.route_tables}
    public = tables[result["route_tables"]["public"]]
    assert public.default_route().target == result["internet_gateway_id"]
    assert {s for _unused, s in public.associations} == {s["id"] for s in result["public_subnets"]}
    expected_tables = {"per_az": 3, "single": 1, "none": 1}[nat]
    assert len(result["route_tables"]["private"]) == expected_tables
    nat_of_zone = {n["az"]: n["id"] for n in result["nat_gateways"]}
    for subnet in result["private_subnets"]:
        table = next(t for t in state.route_tables if any(s == subnet["id"] for _unused, s in t.associations))
        route = table.default_route()
        if nat == "none":
            assert route is None
        else:
            assert route.target == nat_of_zone[subnet["az"] if nat == "per_az" else "eu-west-3a"]
    endpoint = next(e for e in state.endpoints if e.id == result["s3_endpoint_id"])
    assert sorted(endpoint.route_table_ids) == sorted(result["route_tables"]["private"])


def test_the_controller_range_is_the_builder_groups_only_winrm_peer_and_follows_the_spec() -> None:
    fake = converge(spec(builder_winrm_cidrs=(CONTROLLER_CIDR,)))
    builder = next(g for g in fake.state.security_groups if g.name == f"{TENANT}-builder")
    streaming = next(g for g in fake.state.security_groups if g.name == f"{TENANT}-streaming")
    assert [(p["FromPort"], p["ToPort"], p["IpRanges"][0]["CidrIp"]) for p in builder.permissions] == [
        (5985, 5986, CONTROLLER_CIDR)
    ]
    assert streaming.permissions == []
    moved = plan_network(spec(builder_winrm_cidrs=("10.201.0.0/28",)), fake.state)
    assert [a.summary for a in moved.actions] == [
        f"revoke from {TENANT}-builder: ingress tcp 5985-5986 from cidr:{CONTROLLER_CIDR}",
        f"authorize on {TENANT}-builder: 1 ingress rule(s)",
    ]
    assert not plan_network(spec(builder_winrm_cidrs=(CONTROLLER_CIDR,)), fake.state).changed


def test_the_built_security_groups_hold_exactly_the_rule_set() -> None:
    state = converge(spec()).state
    result = network_result(state, TENANT)
    role_of = {v: k for k, v in result["security_groups"].items()}
    wanted = security_group_rules(VPC_CIDR)
    for group in state.security_groups:
        role = role_of[group.id]
        have = rules_from_permissions(group.permissions, "ingress", role_of) | rules_from_permissions(
            group.permissions_egress, "egress", role_of
        )
        assert have == wanted[role]


# ---------------------------------------------------------------------------------------
# Changes in place
# ---------------------------------------------------------------------------------------
TRANSITIONS = [(a, b) for a in ("single", "per_az", "none") for b in ("single", "per_az", "none") if a != b]


@pytest.mark.parametrize(("before", "after"), TRANSITIONS)
def test_every_nat_mode_change_converges_in_place(before: str, after: str) -> None:
    fake = converge(spec(zones=3, nat=before))
    vpc_id = fake.state.vpc.id
    subnets = sorted(s.id for s in fake.state.subnets)
    converge(spec(zones=3, nat=after), fake)
    assert plan_network(spec(zones=3, nat=after), fake.state).actions == []
    assert fake.state.vpc.id == vpc_id
    assert sorted(s.id for s in fake.state.subnets) == subnets
    live = [n for n in fake.state.nat_gateways if n.state != "deleted"]
    assert len(live) == {"single": 1, "per_az": 3, "none": 0}[after]
    assert len(fake.state.addresses) == len(live)  # surplus Elastic IPs released


def test_switching_from_single_to_none_removes_the_route_then_the_nat_gateway() -> None:
    fake = converge(spec(nat="single"))
    plan = plan_network(spec(nat="none"), fake.state)
    assert ops(plan) == ["delete_route", "delete_nat_gateway", "wait_nat_gateways_deleted", "release_address"]


def test_adding_a_third_zone_only_adds() -> None:
    fake = converge(spec(zones=2, nat="per_az"))
    plan = plan_network(spec(zones=3, nat="per_az"), fake.state)
    assert not {op for op in ops(plan) if op.startswith(("delete", "release", "revoke"))}
    assert ops(plan).count("create_subnet") == 2
    assert ops(plan).count("create_nat_gateway") == 1
    assert "modify_vpc_endpoint" in ops(plan)


def test_a_tag_change_is_one_call_for_every_resource() -> None:
    fake = converge(spec(tags={"team": "a"}))
    plan = plan_network(spec(tags={"team": "b"}), fake.state)
    assert ops(plan) == ["tag"]
    assert len(plan.actions[0].params["resources"]) == len(fake.records())
    assert plan.actions[0].params["tags"] == {"team": "b"}


def test_purge_removes_extra_tags_but_never_ownership_tags() -> None:
    fake = converge(spec(tags={"team": "a", "old": "x"}))
    plan = plan_network(spec(tags={"team": "a"}), fake.state)
    assert ops(plan) == ["untag"]
    assert plan.actions[0].params["keys"] == ["old"]


def test_without_tags_extra_tags_are_left_alone() -> None:
    fake = converge(spec(tags={"old": "x"}))
    assert plan_network(spec(tags=None), fake.state).actions == []


def test_a_rule_added_by_hand_is_revoked() -> None:
    fake = converge(spec())
    group = next(g for g in fake.state.security_groups if g.name == f"{TENANT}-streaming")
    group.permissions.append(
        {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "IpRanges": [{"CidrIp": ANYWHERE}]}
    )
    plan = plan_network(spec(), fake.state)
    assert ops(plan) == ["revoke"]
    assert plan.actions[0].params["rules"] == [Rule("ingress", "tcp", 3389, 3389, "cidr", ANYWHERE)]


def test_a_default_route_pointing_elsewhere_is_replaced() -> None:
    fake = converge(spec())
    public = next(t for t in fake.state.route_tables if t.key == "public-route-table")
    public.default_route().target = "igw-someone-else"
    assert ops(plan_network(spec(), fake.state)) == ["replace_route"]


def test_dns_attributes_switched_off_are_switched_on_again() -> None:
    fake = converge(spec())
    fake.state.vpc.dns_hostnames = False
    plan = plan_network(spec(), fake.state)
    assert [(a.op, a.params["attribute"]) for a in plan.actions] == [("set_vpc_attribute", "EnableDnsHostnames")]


def test_s3_endpoint_off_detaches_then_deletes_it() -> None:
    fake = converge(spec())
    assert ops(plan_network(spec(s3=False), fake.state)) == ["modify_vpc_endpoint", "delete_vpc_endpoint"]


def test_new_dhcp_servers_replace_the_options_and_delete_the_old_set() -> None:
    fake = converge(spec(dhcp=DhcpSpec(["10.40.0.10"], "corp.acme.example")))
    old = fake.state.vpc.dhcp_options_id
    plan = plan_network(spec(dhcp=DhcpSpec(["10.40.0.10", "10.40.64.10"], "corp.acme.example")), fake.state)
    assert ops(plan) == ["create_dhcp_options", "associate_dhcp_options", "delete_dhcp_options"]
    assert plan.actions[2].params["dhcp_options"] == old


def test_without_dhcp_servers_the_dhcp_options_are_left_alone() -> None:
    fake = converge(spec(dhcp=DhcpSpec(["10.40.0.10"], "corp.acme.example")))
    assert plan_network(spec(dhcp=None), fake.state).actions == []


def test_a_different_cidr_for_an_existing_vpc_is_refused() -> None:
    fake = converge(spec())
    with pytest.raises(PlanError, match="cannot change in place"):
        plan_network(spec(cidr="10.41.0.0/16"), fake.state)


def test_removing_a_zone_is_refused() -> None:
    fake = converge(spec(zones=3))
    with pytest.raises(PlanError, match="not done in place"):
        plan_network(spec(zones=2), fake.state)


def test_a_subnet_cannot_move_to_another_zone() -> None:
    fake = converge(spec())
    moved = NetworkSpec(**{**spec().__dict__, "zones": ["eu-west-3b", "eu-west-3a"]})
    with pytest.raises(PlanError, match="cannot move"):
        plan_network(moved, fake.state)


def test_a_foreign_subnet_overlapping_the_layout_is_refused() -> None:
    fake = converge(spec(zones=2))
    third = spec(zones=3).layout.private[2]
    fake.state.subnets.append(Subnet("subnet-foreign", {}, third, "eu-west-3c"))
    with pytest.raises(PlanError, match="overlaps subnet subnet-foreign"):
        plan_network(spec(zones=3), fake.state)


def test_a_security_group_with_the_same_name_but_not_owned_is_never_adopted() -> None:
    state = Discovered(vpc=Vpc("vpc-1", owned_tags("vpc"), VPC_CIDR, "default", True, True))
    state.security_groups.append(SecurityGroup("sg-foreign", {}, f"{TENANT}-fsx"))
    with pytest.raises(PlanError, match="never adopts"):
        plan_network(spec(), state)


# ---------------------------------------------------------------------------------------
# Interrupted runs
# ---------------------------------------------------------------------------------------
def interrupted_after(op: str, wanted: NetworkSpec) -> FakeEc2:
    """Apply a plan up to and including the first `op` action, as a run killed right after it."""
    fake = FakeEc2()
    plan = plan_network(wanted, fake.state)
    stop = ops(plan).index(op)
    fake.apply(NetworkPlan(actions=plan.actions[: stop + 1], ids=plan.ids))
    return fake


@pytest.mark.parametrize(
    "op", ["create_vpc", "create_subnet", "create_internet_gateway", "allocate_address", "create_nat_gateway"]
)
def test_a_rerun_after_an_interruption_creates_no_duplicates(op: str) -> None:
    wanted = spec(nat="per_az")
    fake = interrupted_after(op, wanted)
    converge(wanted, fake)
    state = fake.state
    assert len(state.subnets) == 4
    assert len(state.internet_gateways) == 1
    assert len([n for n in state.nat_gateways if n.state != "deleted"]) == 2
    assert len(state.addresses) == 2
    assert plan_network(wanted, state).actions == []


def test_an_elastic_ip_left_by_an_interrupted_run_is_reused() -> None:
    fake = interrupted_after("allocate_address", spec())
    orphan = fake.state.addresses[0].id
    plan = plan_network(spec(), fake.state)
    assert "allocate_address" not in ops(plan)
    create = next(a for a in plan.actions if a.op == "create_nat_gateway")
    assert resolve(create.params["allocation"], plan.ids) == orphan


def test_a_detached_internet_gateway_of_the_tenant_is_attached_not_duplicated() -> None:
    fake = interrupted_after("create_internet_gateway", spec())
    plan = plan_network(spec(), fake.state)
    assert "create_internet_gateway" not in ops(plan)
    assert "attach_internet_gateway" in ops(plan)


def test_a_nat_gateway_still_pending_is_waited_for_without_counting_as_a_change() -> None:
    fake = converge(spec())
    fake.state.nat_gateways[0].state = "pending"
    plan = plan_network(spec(), fake.state)
    assert ops(plan) == ["wait_nat_gateways"]
    assert not plan.changed


# ---------------------------------------------------------------------------------------
# Teardown
# ---------------------------------------------------------------------------------------
def test_teardown_deletes_everything_owned_in_dependency_order() -> None:
    fake = converge(spec(nat="per_az", dhcp=DhcpSpec(["10.40.0.10"], "corp.acme.example")))
    plan = plan_teardown(TENANT, fake.state)
    order = ops(plan)
    first = {op: order.index(op) for op in reversed(order)}
    assert first["delete_nat_gateway"] < first["wait_nat_gateways_deleted"] < first["release_address"]
    assert first["release_address"] < first["delete_vpc_endpoint"] < first["delete_route_table"]
    assert first["delete_route_table"] < first["delete_subnet"] < first["detach_internet_gateway"]
    assert first["revoke"] < first["delete_security_group"] < first["delete_vpc"] < first["delete_dhcp_options"]
    fake.apply(plan)
    assert fake.state.vpc is None
    assert not fake.state.subnets and not fake.state.route_tables and not fake.state.addresses
    assert not fake.state.security_groups and not fake.state.internet_gateways and not fake.state.dhcp_options
    assert plan.kept == []


def test_teardown_keeps_what_is_not_owned_and_the_vpc_that_holds_it() -> None:
    fake = converge(spec())
    fake.state.subnets.append(Subnet("subnet-hand-made", {"Name": "ops"}, "10.40.250.0/24", "eu-west-3a"))
    fake.state.security_groups.append(SecurityGroup("sg-other", {TENANT_TAG: "other"}, "other-sg"))
    plan = plan_teardown(TENANT, fake.state)
    assert "delete_vpc" not in ops(plan)
    kept = {k["id"]: k for k in plan.kept}
    assert set(kept) == {"subnet-hand-made", "sg-other", fake.state.vpc.id}
    assert "untagged" in kept["subnet-hand-made"]["reason"]
    assert "'other'" in kept["sg-other"]["reason"]
    deleted = {a.params.get("subnet") for a in plan.actions} | {a.params.get("group") for a in plan.actions}
    assert "subnet-hand-made" not in deleted and "sg-other" not in deleted


def test_teardown_leaves_resources_of_another_component_of_the_same_tenant() -> None:
    fake = converge(spec())
    directory_group = SecurityGroup("sg-dir", {TENANT_TAG: TENANT, COMPONENT_TAG: "directory"}, "d-123_controllers")
    fake.state.security_groups.append(directory_group)
    plan = plan_teardown(TENANT, fake.state)
    assert "sg-dir" in {k["id"] for k in plan.kept}
    assert "component 'directory'" in next(k["reason"] for k in plan.kept if k["id"] == "sg-dir")


def test_teardown_reports_same_name_vpcs_without_touching_them() -> None:
    decoys = [
        Vpc("vpc-untagged", {"Name": f"{TENANT}-vpc"}),
        Vpc("vpc-other", {"Name": f"{TENANT}-vpc", TENANT_TAG: "b"}),
    ]
    plan = plan_teardown(TENANT, Discovered(same_name_vpcs=decoys))
    assert plan.actions == []
    assert [k["id"] for k in plan.kept] == ["vpc-untagged", "vpc-other"]


def test_teardown_of_nothing_is_no_change() -> None:
    assert not plan_teardown(TENANT, Discovered()).changed


# ---------------------------------------------------------------------------------------
# Results and diffs
# ---------------------------------------------------------------------------------------
def test_the_result_lists_every_id_in_zone_order() -> None:
    wanted = spec(zones=3, nat="per_az")
    state = converge(wanted).state
    result = network_result(state, TENANT, wanted.zones)
    assert [s["az"] for s in result["public_subnets"]] == wanted.zones
    assert [s["az"] for s in result["private_subnets"]] == wanted.zones
    assert [n["az"] for n in result["nat_gateways"]] == wanted.zones
    assert all(n["eip_allocation_id"] and n["public_ip"] for n in result["nat_gateways"])
    assert set(result["security_groups"]) == {"streaming", "builder", "directory", "fsx"}
    assert all(result["security_groups"].values())
    assert result["vpc_id"] and result["internet_gateway_id"] and result["s3_endpoint_id"]


def test_the_diff_of_a_converged_network_is_empty_and_of_a_change_shows_it() -> None:
    fake = converge(spec(nat="single"))
    same = network_diff(spec(nat="single"), fake.state, plan_network(spec(nat="single"), fake.state))
    assert same["before"] == same["after"]
    changed = network_diff(spec(nat="per_az"), fake.state, plan_network(spec(nat="per_az"), fake.state))
    assert changed["before"]["nat_gateways"] == ["nat-gateway-eu-west-3a"]
    assert changed["after"]["nat_gateways"] == ["nat-gateway-eu-west-3a", "nat-gateway-eu-west-3b"]


def test_route_tables_are_read_without_endpoint_routes_or_the_main_association() -> None:
    table = route_table_from_aws(
        {
            "RouteTableId": "rtb-1",
            "Associations": [
                {"Main": True, "RouteTableAssociationId": "a0"},
                {
                    "Main": False,
                    "RouteTableAssociationId": "a1",
                    "SubnetId": "subnet-1",
                    "AssociationState": {"State": "associated"},
                },
            ],
            "Routes": [
                {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"},
                {"DestinationPrefixListId": "pl-1", "GatewayId": "vpce-1"},
                {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1", "State": "blackhole"},
            ],
        }
    )
    assert table.main and table.associations == [("a1", "subnet-1")]
    assert [(r.destination, r.target, r.state) for r in table.routes] == [
        ("10.0.0.0/16", "local", "active"),
        ("0.0.0.0/0", "nat-1", "blackhole"),
    ]


# ---------------------------------------------------------------------------------------
# Elastic IPs from the run's tag listing (records.addresses_from_listing) instead of DescribeAddresses
# ---------------------------------------------------------------------------------------
def listing_of(state: Discovered) -> dict[str, dict[str, str]]:
    """What GetResources lists of the state's Elastic IPs (every tagged one, with its tags)."""
    return {a.id: dict(a.tags) for a in state.addresses if a.tags}


def with_listed_addresses(state: Discovered, listing: dict[str, dict[str, str]]) -> Discovered | None:
    """The state as tenant_network reads it with the listing, or None when it would describe the addresses."""
    listed = addresses_from_listing(listing, state.nat_gateways, TENANT)
    if listed is None:
        return None
    read = copy.deepcopy(state)
    read.addresses, read.addresses_listed = listed, True
    return read


@pytest.mark.parametrize(
    ("built", "wanted"),
    [
        (spec(), spec()),
        (spec(nat="per_az"), spec(nat="per_az")),
        (spec(nat="per_az", zones=3), spec(nat="single", zones=3)),
        (spec(nat="per_az"), spec(nat="none")),
        (spec(), spec(tags={"cost-centre": "lab"})),
        (spec(tags={"cost-centre": "lab"}), spec(tags={}, purge_tags=True)),
    ],
)
def test_where_the_listing_and_the_nat_gateways_agree_the_plan_is_the_described_one(
    built: NetworkSpec, wanted: NetworkSpec
) -> None:
    state = converge(built).state
    read = with_listed_addresses(state, listing_of(state))
    assert read is not None
    described, listed = plan_network(wanted, state), plan_network(wanted, read)
    assert ops(listed) == ops(described)
    assert listed.summaries() == described.summaries()


def test_a_free_elastic_ip_the_index_does_not_show_yet_makes_the_plan_allocate_so_the_module_describes() -> None:
    """A failed run allocated the second zone's Elastic IP, then failed to create its NAT gateway; the listing of
    the next run does not show it yet. Planned on the listing, a new one would be allocated: tenant_network then
    describes the addresses and plans again, which reuses it."""
    fake = converge(spec())
    listing = listing_of(fake.state)
    spare = fake.allocate_address(owned_tags(f"eip-{ZONES[1]}"))
    read = with_listed_addresses(fake.state, listing)
    assert read is not None  # the listing agrees with the NAT gateway: the spare is not seen
    assert "allocate_address" in ops(plan_network(spec(nat="per_az"), read))  # the module's cue to describe
    described = plan_network(spec(nat="per_az"), fake.state)
    assert "allocate_address" not in ops(described)
    assert described.ids[f"eip-{ZONES[1]}"] == spare
