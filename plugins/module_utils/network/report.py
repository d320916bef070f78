# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the network module reports: the network's resources and ids, and the diff of a plan."""

from __future__ import annotations

from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.layout import (
    DEFAULT_ROUTE,
    IGW_KEY,
    PRIVATE,
    PUBLIC,
    PUBLIC_RT_KEY,
    S3_ENDPOINT_KEY,
    SECURITY_GROUP_ROLES,
    NetworkSpec,
    nat_key,
    sg_key,
    subnet_key,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.plan import NetworkPlan, ResourceIndex
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.records import Discovered
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.rules import (
    current_rules,
    security_group_rules,
)


# Results and diffs
def network_result(discovered: Discovered, tenant: str, zones: list[str] | None = None) -> dict[str, Any]:
    """Every id of the network in one structure (what later stages read)."""
    index = ResourceIndex(discovered, tenant)
    vpc = discovered.vpc
    zone_order = {zone: position for position, zone in enumerate(zones or [])}

    def subnets(role: str) -> list[dict[str, str]]:
        chosen = [s for s in index.subnets if (s.key or "").startswith(f"{role}-subnet-")]
        chosen.sort(key=lambda s: (zone_order.get(s.zone, len(zone_order)), s.zone, s.cidr))
        return [{"id": s.id, "cidr": s.cidr, "az": s.zone} for s in chosen]

    subnet_zone = {s.id: s.zone for s in index.subnets}
    tables = ResourceIndex.by_key(index.route_tables)
    private_tables = [t for key, t in sorted(tables.items()) if key.startswith("private-route-table")]
    endpoint = next((e for e in index.endpoints if e.key == S3_ENDPOINT_KEY), None)
    groups = {role: next((g.id for g in index.groups if g.key == sg_key(role)), None) for role in SECURITY_GROUP_ROLES}
    addresses = {a.id: a for a in index.addresses}
    nats = []
    for nat in sorted(index.nats, key=lambda n: (zone_order.get(subnet_zone.get(n.subnet_id, ""), 9), n.id)):
        public_ip = nat.public_ip or (
            addresses[nat.allocation_id].public_ip if nat.allocation_id in addresses else None
        )
        nats.append(
            {
                "id": nat.id,
                "subnet_id": nat.subnet_id,
                "az": subnet_zone.get(nat.subnet_id),
                "state": nat.state,
                "eip_allocation_id": nat.allocation_id,
                "public_ip": public_ip,
            }
        )
    attached = [g for g in index.igws if vpc is not None and vpc.id in g.vpc_ids]
    dhcp_id = vpc.dhcp_options_id if vpc is not None else None
    return {
        "vpc_id": vpc.id if vpc else None,
        "cidr": vpc.cidr if vpc else None,
        "availability_zones": list(zones or sorted({s.zone for s in index.subnets})),
        "public_subnets": subnets(PUBLIC),
        "private_subnets": subnets(PRIVATE),
        "internet_gateway_id": attached[0].id if attached else None,
        "nat_gateways": nats,
        "route_tables": {
            "public": tables[PUBLIC_RT_KEY].id if PUBLIC_RT_KEY in tables else None,
            "private": [t.id for t in private_tables],
        },
        "s3_endpoint_id": endpoint.id if endpoint else None,
        "security_groups": groups,
        "dhcp_options_id": dhcp_id,
        # The settings of that set when it is the toolkit's (read only when DHCP options were looked up).
        "dhcp_options": next((dict(d.config) for d in index.dhcp if d.id == dhcp_id), None),
        "tags": dict(vpc.tags) if vpc else {},
        # The VPC's owner is the account the run works in (DescribeVpcs's OwnerId): the later stages that
        # build ARNs (budget, alert topic, SAML provider) take it from here instead of asking STS each.
        "account_id": vpc.owner_id if vpc else None,
    }


def summary_of_spec(spec: NetworkSpec) -> dict[str, Any]:
    """The desired network in the same symbolic form as `summary_of_discovered` (for diffs)."""
    routes: dict[str, Any] = {PUBLIC_RT_KEY: {DEFAULT_ROUTE: IGW_KEY}}
    for key, zone in spec.private_route_tables().items():
        routes[key] = {DEFAULT_ROUTE: nat_key(zone)} if zone else {}
    summary: dict[str, Any] = {
        "vpc": {"cidr": spec.cidr, "dns_support": True, "dns_hostnames": True},
        "subnets": {subnet_key(role, zone): cidr for role, zone, cidr in spec.subnets()},
        "internet_gateway": "attached",
        "nat_gateways": sorted(nat_key(zone) for zone in spec.nat_zones()),
        "route_tables": routes,
        "s3_endpoint": sorted(spec.private_route_tables()) if spec.s3_endpoint else None,
        "security_groups": {
            role: [r.text() for r in sorted(rules)]
            for role, rules in security_group_rules(spec.cidr, spec.builder_winrm_cidrs).items()
        },
    }
    if spec.dhcp is not None:
        summary["dhcp_options"] = spec.dhcp.config()
    return summary


def summary_of_discovered(spec: NetworkSpec, discovered: Discovered) -> dict[str, Any]:
    """What exists now, in the symbolic form of `summary_of_spec` (ids replaced by logical keys)."""
    if discovered.vpc is None:
        return {}
    index = ResourceIndex(discovered, spec.tenant)
    vpc = discovered.vpc
    key_of = {r.id: r.key for r in [*index.igws, *index.nats, *index.route_tables, *index.groups] if r.key}
    routes: dict[str, Any] = {}
    for table in index.route_tables:
        if table.key:
            route = table.default_route()
            routes[table.key] = {DEFAULT_ROUTE: key_of.get(route.target or "", route.target)} if route else {}
    endpoint = next((e for e in index.endpoints if e.key == S3_ENDPOINT_KEY), None)
    role_of_group = {g.id: g.key[len("security-group-") :] for g in index.groups if g.key}
    summary: dict[str, Any] = {
        "vpc": {"cidr": vpc.cidr, "dns_support": vpc.dns_support, "dns_hostnames": vpc.dns_hostnames},
        "subnets": {s.key: s.cidr for s in index.subnets if s.key},
        "internet_gateway": "attached" if any(vpc.id in g.vpc_ids for g in index.igws) else None,
        "nat_gateways": sorted(n.key for n in index.nats if n.key),
        "route_tables": routes,
        "s3_endpoint": sorted(key_of.get(t, t) for t in endpoint.route_table_ids) if endpoint else None,
        "security_groups": {
            role: [r.text() for r in sorted(current_rules(g, role_of_group))]
            for g in index.groups
            if (role := role_of_group.get(g.id))
        },
    }
    if spec.dhcp is not None:
        in_use = next((d for d in discovered.dhcp_options if d.id == vpc.dhcp_options_id), None)
        summary["dhcp_options"] = in_use.config if in_use else vpc.dhcp_options_id
    return summary


def network_diff(spec: NetworkSpec, discovered: Discovered, plan: NetworkPlan) -> dict[str, Any]:
    """before/after of the network in symbolic form; identical when the plan changes nothing."""
    before = summary_of_discovered(spec, discovered)
    after = summary_of_spec(spec) if plan.changed else dict(before)
    if plan.tag_drift:
        before["tags"] = {key: old for key, (old, _new) in sorted(plan.tag_drift.items())}
        after = {**after, "tags": {key: new for key, (_old, new) in sorted(plan.tag_drift.items())}}
    return {"before": before, "after": after}
