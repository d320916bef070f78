# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Adopting an existing VPC: which of its resources become which logical keys of the tenant's network.

tenant_network finds a network by tags (the ownership tags, `toolkit:component=network` and
`toolkit:resource=<logical key>`), never by name. Adopting a VPC made in the console or by another tool
is therefore giving each of its resources the tags the toolkit would have given it, mapped by what it is:

- subnets by their CIDR against the tenant's layout (network.layout: public and private subnet i of
  availability zone i), in the zone they are in;
- the internet gateway attached to the VPC; the NAT gateways of the layout's public subnets in the zones
  `nat_gateways` wants, with their Elastic IPs;
- route tables by the subnets associated with them (only public ones: the public table; only private
  ones: the private table, or the zone's with `per_az`);
- the S3 gateway endpoint of the region; security groups named as the toolkit names them
  (`<tenant>-<role>`), else a group used by the fleet only (streaming) or by the file system only (fsx).

What maps to nothing is left as it is, untagged, and listed with the reason; what would make a converge
refuse (another VPC range, a subnet in the way of the layout) is a blocker, and nothing is tagged while
there is one. A resource that carries another tenant's tag is never adopted. After adoption a converge
shows only the real differences (missing subnets, rules, routes), which `notes` lists beforehand.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import TENANT_TAG, owner_of
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.layout import (
    IGW_KEY,
    PRIVATE,
    PUBLIC,
    PUBLIC_RT_KEY,
    RESOURCE_TAG,
    S3_ENDPOINT_KEY,
    SECURITY_GROUP_ROLES,
    VPC_KEY,
    NetworkSpec,
    SubnetLayout,
    eip_key,
    nat_key,
    private_rt_key,
    s3_service_name,
    security_group_name,
    sg_key,
    subnet_key,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.records import (
    ENDPOINT_GONE,
    NAT_GONE,
    Discovered,
    Record,
    Subnet,
)


@dataclass
class Claim:
    """A resource the tenant's network takes over, under its logical key, with the tags it lacks."""

    id: str
    kind: str
    key: str
    name: str = ""
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class NetworkAdoption:
    claims: list[Claim] = field(default_factory=list)
    kept: list[dict[str, str]] = field(default_factory=list)  # left as it is: {kind, id, reason}
    refused: list[dict[str, str]] = field(default_factory=list)  # another owner's: {kind, id, owner}
    blockers: list[str] = field(default_factory=list)  # what a converge would refuse: nothing is tagged
    notes: list[str] = field(default_factory=list)  # what the next converge changes

    def claimed(self, key: str) -> Claim | None:
        return next((claim for claim in self.claims if claim.key == key), None)

    def key_of(self, resource_id: str) -> str | None:
        return next((claim.key for claim in self.claims if claim.id == resource_id), None)


def layout_zones(layout: SubnetLayout, subnets: list[Subnet]) -> list[str | None]:
    """For each layout index, the zone its existing subnets are in (None: neither exists yet)."""
    zone_of_cidr = {subnet.cidr: subnet.zone for subnet in subnets}
    return [
        zone_of_cidr.get(public) or zone_of_cidr.get(private)
        for public, private in zip(layout.public, layout.private, strict=True)
    ]


class _Adopter:
    def __init__(self, spec: NetworkSpec, found: Discovered, group_uses: dict[str, set[str]]) -> None:
        self.spec = spec
        self.found = found
        self.group_uses = group_uses
        self.result = NetworkAdoption()

    def claim(self, record: Record, kind: str, key: str) -> bool:
        owner = owner_of(record.tags)
        if owner is not None and owner != self.spec.tenant:
            self.result.refused.append({"kind": kind, "id": record.id, "owner": owner})
            return False
        current_key = record.tags.get(RESOURCE_TAG)
        if owner == self.spec.tenant and current_key and current_key != key:
            self.result.blockers.append(
                f"{kind} {record.id} is already the tenant's {current_key}, and would be its {key}: "
                "two resources of the network are confused; fix their toolkit:resource tags by hand"
            )
            return False
        wanted = self.spec.tags_for(key)
        missing = {k: v for k, v in wanted.items() if record.tags.get(k) != v}
        self.result.claims.append(Claim(record.id, kind, key, record.tags.get("Name", ""), missing))
        return True

    def keep(self, kind: str, record: Record, reason: str) -> None:
        if owner_of(record.tags) not in (None, self.spec.tenant):
            self.result.refused.append({"kind": kind, "id": record.id, "owner": str(record.tags[TENANT_TAG])})
            return
        self.result.kept.append({"kind": kind, "id": record.id, "reason": reason})

    # -- each kind ---------------------------------------------------------------------------------
    def vpc(self) -> None:
        vpc = self.found.vpc
        if vpc is None:  # adopt_network refuses it first
            raise ValueError("no VPC to adopt")
        if vpc.cidr != self.spec.cidr:
            self.result.blockers.append(
                f"VPC {vpc.id} has the range {vpc.cidr}, tenant.network.cidr is {self.spec.cidr}; a VPC range cannot "
                f"change: set tenant.network.cidr to {vpc.cidr} (and check availability_zones) before adopting it"
            )
        self.claim(vpc, "vpc", VPC_KEY)
        if vpc.dns_support is False or vpc.dns_hostnames is False:
            self.result.notes.append(f"the converge turns DNS support and DNS hostnames on in VPC {vpc.id}")

    def subnets(self) -> None:
        layout_of: dict[str, tuple[str, int]] = {}
        for index, (public, private) in enumerate(zip(self.spec.layout.public, self.spec.layout.private, strict=True)):
            layout_of[public], layout_of[private] = (PUBLIC, index), (PRIVATE, index)
        present = set()
        existing = {subnet.cidr for subnet in self.found.subnets}
        for subnet in sorted(self.found.subnets, key=lambda s: s.id):
            place = layout_of.get(subnet.cidr)
            if place is None:
                clash = [
                    cidr
                    for cidr in layout_of
                    if cidr not in existing and ipaddress.IPv4Network(cidr).overlaps(ipaddress.IPv4Network(subnet.cidr))
                ]
                if clash:
                    self.result.blockers.append(
                        f"subnet {subnet.id} ({subnet.cidr}) overlaps the layout's subnet {clash[0]} of "
                        f"tenant.network.cidr {self.spec.cidr} without being it: the converge could not create that "
                        "subnet; move what runs in it, or choose a VPC whose subnets follow the layout"
                    )
                else:
                    self.keep("subnet", subnet, f"{subnet.cidr} is outside the tenant's subnet layout: left as it is")
                continue
            role, index = place
            zone = self.spec.zones[index]
            if subnet.zone != zone:
                self.result.blockers.append(
                    f"subnet {subnet.id} ({subnet.cidr}) is in {subnet.zone}, but the {role} and private subnets "
                    f"{index + 1} of the layout share one zone ({zone}): a subnet cannot move"
                )
                continue
            if self.claim(subnet, "subnet", subnet_key(role, zone)):
                present.add(subnet.cidr)
        for role, zone, cidr in self.spec.subnets():
            if cidr not in present:
                self.result.notes.append(f"the converge creates the {role} subnet {cidr} in {zone}")

    def internet_gateway(self) -> None:
        vpc_id = self.found.vpc.id if self.found.vpc else ""
        attached = sorted((g for g in self.found.internet_gateways if vpc_id in g.vpc_ids), key=lambda g: g.id)
        if attached:
            self.claim(attached[0], "internet-gateway", IGW_KEY)
        else:
            self.result.notes.append("the converge creates and attaches an internet gateway")

    def nat_gateways(self) -> None:
        wanted = set(self.spec.nat_zones())
        addresses = {address.id: address for address in self.found.addresses}
        live = sorted((n for n in self.found.nat_gateways if n.state not in NAT_GONE), key=lambda n: n.id)
        taken: set[str] = set()
        for nat in live:
            key = self.result.key_of(nat.subnet_id) or ""
            zone = key[len("public-subnet-") :] if key.startswith("public-subnet-") else None
            if zone is None:
                self.keep("nat-gateway", nat, "not in a public subnet of the tenant's layout: left as it is")
            elif zone not in wanted or zone in taken:
                self.keep(
                    "nat-gateway",
                    nat,
                    f"a NAT gateway in {zone} is not what nat_gateways: {self.spec.nat_mode} asks for: left as it is, "
                    "untagged (set nat_gateways to per_az to adopt it)",
                )
            elif self.claim(nat, "nat-gateway", nat_key(zone)):
                taken.add(zone)
                if nat.allocation_id in addresses:
                    self.claim(addresses[nat.allocation_id], "elastic-ip", eip_key(zone))
        for zone in sorted(wanted - taken):
            self.result.notes.append(f"the converge creates a NAT gateway (and its Elastic IP) in {zone}")

    def route_tables(self) -> None:
        subnet_keys = {claim.id: claim.key for claim in self.result.claims if claim.kind == "subnet"}
        taken: set[str] = set()
        for table in sorted((t for t in self.found.route_tables if not t.main), key=lambda t: t.id):
            keys = [subnet_keys.get(subnet_id) for _association, subnet_id in table.associations]
            roles = {(key or "").split("-subnet-")[0] for key in keys}
            zones = {(key or "").split("-subnet-")[-1] for key in keys}
            if not keys or None in keys or len(roles) != 1:
                self.keep(
                    "route-table", table, "not associated with public or private layout subnets only: left as it is"
                )
                continue
            if roles == {PUBLIC}:
                key = PUBLIC_RT_KEY
            elif self.spec.nat_mode == "per_az":
                key = private_rt_key(next(iter(zones))) if len(zones) == 1 else ""
            else:
                key = private_rt_key(None)
            if not key or key in taken:
                self.keep("route-table", table, "the converge moves its subnets to the tenant's own route table")
                continue
            if self.claim(table, "route-table", key):
                taken.add(key)
        for key in [PUBLIC_RT_KEY, *self.spec.private_route_tables()]:
            if key not in taken:
                self.result.notes.append(f"the converge creates the route table {key} and associates its subnets")
        self.result.notes.append(
            "the converge points the 0.0.0.0/0 route of the public table at the internet gateway and of the private "
            "tables at their NAT gateway, and associates each subnet with its table"
        )

    def endpoints(self) -> None:
        service = s3_service_name(self.spec.region)
        chosen = False
        for endpoint in sorted(self.found.endpoints, key=lambda e: e.id):
            if endpoint.state in ENDPOINT_GONE:
                continue
            if self.spec.s3_endpoint and not chosen and endpoint.service_name == service:
                chosen = self.claim(endpoint, "vpc-endpoint", S3_ENDPOINT_KEY)
            else:
                self.keep("vpc-endpoint", endpoint, f"{endpoint.service_name}: not the tenant's S3 gateway endpoint")
        if self.spec.s3_endpoint and not chosen:
            self.result.notes.append("the converge creates the S3 gateway endpoint on the private route tables")

    def security_groups(self) -> None:
        groups = sorted(self.found.security_groups, key=lambda g: g.id)
        by_name = {g.name: g for g in groups}
        taken: dict[str, str] = {}  # role -> group id
        for role in SECURITY_GROUP_ROLES:
            group = by_name.get(security_group_name(self.spec.tenant, role))
            if group is not None and self.claim(group, "security-group", sg_key(role)):
                taken[role] = group.id
        for group in groups:
            if group.id in taken.values():
                continue
            roles = self.group_uses.get(group.id, set())
            if group.name == "default":
                continue  # the VPC's own group: never the toolkit's
            if len(roles) == 1 and next(iter(roles)) not in taken:
                role = next(iter(roles))
                if self.claim(group, "security-group", sg_key(role)):
                    taken[role] = group.id
                    continue
            elif len(roles) > 1:
                self.keep("security-group", group, f"used as {' and '.join(sorted(roles))} at once: left as it is")
                continue
            self.keep("security-group", group, "neither named nor used as one of the tenant's groups: left as it is")
        for role in SECURITY_GROUP_ROLES:
            if role not in taken:
                self.result.notes.append(
                    f"the converge creates the security group {security_group_name(self.spec.tenant, role)}"
                )
        if taken:
            self.result.notes.append(
                "the rules of the adopted security groups converge to the toolkit's exact set: rules added by hand "
                "are revoked"
            )


def adopt_network(
    spec: NetworkSpec, found: Discovered, group_uses: dict[str, set[str]] | None = None
) -> NetworkAdoption:
    """Map every resource of `found` (one VPC and what is in it) to the tenant's logical keys."""
    if found.vpc is None:
        raise ValueError("no VPC to adopt")
    adopter = _Adopter(spec, found, group_uses or {})
    adopter.vpc()
    adopter.subnets()
    adopter.internet_gateway()
    adopter.nat_gateways()
    adopter.route_tables()
    adopter.endpoints()
    adopter.security_groups()
    return adopter.result


def summary(adoption: NetworkAdoption) -> dict[str, Any]:
    """The adoption as module results show it."""
    return {
        "claims": [
            {"kind": c.kind, "id": c.id, "key": c.key, "name": c.name, "tags_to_set": dict(sorted(c.tags.items()))}
            for c in adoption.claims
        ],
        "kept": adoption.kept,
        "refused": adoption.refused,
        "blockers": adoption.blockers,
        "notes": adoption.notes,
    }
