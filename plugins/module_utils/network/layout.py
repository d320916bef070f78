# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network a tenant wants: the identity of its resources, the subnet layout derived from the VPC
range, the Availability Zones, and the desired network as a whole (NetworkSpec).

Identity of the resources of one network
- Every resource carries the ownership tags (aws.tags), ``toolkit:component=network`` and
  ``toolkit:resource=<logical key>`` (for example ``nat-gateway-eu-west-3a``), plus a Name
  ``<tenant>-<role>[-<az>]``. Subnets are identified by their CIDR (which cannot change), security
  groups by their group name inside the VPC.
- A resource is *owned* when its ``tenant`` tag is the module's tenant and its component is
  ``network``. Only owned resources are changed or deleted; anything else is reported.

Everything in network/ is pure (no AWS call): ``plugins/modules/tenant_network.py`` reads the current
state (network.records), hands it to ``plan_network`` / ``plan_teardown`` (network.plan) and performs
the returned actions in order.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import (
    desired_tags,
)

COMPONENT_TAG = "toolkit:component"
COMPONENT = "network"
RESOURCE_TAG = "toolkit:resource"
PUBLIC = "public"
PRIVATE = "private"
SECURITY_GROUP_ROLES = ("streaming", "builder", "directory", "fsx")
ANYWHERE = "0.0.0.0/0"
DEFAULT_ROUTE = ANYWHERE


# AWS: a VPC or subnet is /16 to /28. The derived layout carves /(p+4) public subnets, so a
# VPC narrower than /24 would leave public subnets below the /28 minimum.
VPC_PREFIX_MIN = 16
VPC_PREFIX_MAX = 24
SUBNET_PREFIX_MIN = 16
SUBNET_PREFIX_MAX = 28
MAX_ZONES = 3
MIN_ZONES = 2


class PlanError(Exception):
    """The request cannot be met in place; the message says why and what to do."""


# Logical keys and names
VPC_KEY = "vpc"
IGW_KEY = "internet-gateway"
PUBLIC_RT_KEY = "public-route-table"
S3_ENDPOINT_KEY = "s3-endpoint"
DHCP_KEY = "dhcp-options"


def subnet_key(role: str, zone: str) -> str:
    return f"{role}-subnet-{zone}"


def nat_key(zone: str) -> str:
    return f"nat-gateway-{zone}"


def eip_key(zone: str) -> str:
    return f"eip-{zone}"


def private_rt_key(zone: str | None) -> str:
    return f"private-route-table-{zone}" if zone else "private-route-table"


def winrm_peer_errors(cidrs: Iterable[str]) -> list[str]:
    """What is wrong with the ranges allowed to reach image builders over WinRM (none: they are fine)."""
    errors = []
    for cidr in cidrs:
        try:
            network = ipaddress.IPv4Network(str(cidr), strict=True)
        except ValueError:
            errors.append(f"builder_winrm_cidrs: {cidr!r} is not an IPv4 network in CIDR notation without host bits")
            continue
        if network.prefixlen < 8:
            errors.append(f"builder_winrm_cidrs: {cidr} is wider than /8; give the controller's own range")
    return errors


def sg_key(role: str) -> str:
    return f"security-group-{role}"


def resource_name(tenant: str, key: str) -> str:
    """The Name tag for a logical key: `<tenant>-<role>-<az>` style."""
    names = {
        VPC_KEY: "vpc",
        IGW_KEY: "igw",
        PUBLIC_RT_KEY: "rt-public",
        S3_ENDPOINT_KEY: "s3-endpoint",
        DHCP_KEY: "dhcp",
    }
    if key in names:
        return f"{tenant}-{names[key]}"
    for prefix, short in (
        ("public-subnet-", "public-"),
        ("private-subnet-", "private-"),
        ("nat-gateway-", "nat-"),
        ("eip-", "eip-"),
        ("private-route-table-", "rt-private-"),
        ("security-group-", ""),
    ):
        if key.startswith(prefix):
            return f"{tenant}-{short}{key[len(prefix) :]}"
    if key == private_rt_key(None):
        return f"{tenant}-rt-private"
    return f"{tenant}-{key}"


def security_group_name(tenant: str, role: str) -> str:
    return f"{tenant}-{role}"


def s3_service_name(region: str) -> str:
    return f"com.amazonaws.{region}.s3"


def default_domain_name(region: str) -> str:
    """The domain name AWS's default DHCP options give instances in `region`."""
    return "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"


# Subnet layout
@dataclass(frozen=True)
class SubnetLayout:
    public: list[str]
    private: list[str]


def derive_subnet_layout(vpc_cidr: str, count: int) -> SubnetLayout:
    """Deterministic subnets for `count` AZs (at most three) of a VPC of prefix /p.

    The VPC is cut into four quarters (/p+2). Private subnet i is quarter i (large: domain
    controllers, file system and streaming instances live there). The last quarter is cut
    into four /p+4 blocks and public subnet i is block i (small: only NAT gateways). The
    position of a subnet depends on its index only, so adding a third AZ adds subnets
    without moving the first two. For a /16: private /18s, public /20s; for a /22: private
    /24s, public /26s.
    """
    if not 1 <= count <= MAX_ZONES:
        raise PlanError(f"availability zones: {count} requested, the layout has room for 1 to {MAX_ZONES}")
    vpc = ipaddress.IPv4Network(vpc_cidr)
    quarters = list(vpc.subnets(new_prefix=vpc.prefixlen + 2))
    public_blocks = list(quarters[3].subnets(new_prefix=vpc.prefixlen + 4))
    return SubnetLayout(
        public=[str(block) for block in public_blocks[:count]],
        private=[str(block) for block in quarters[:count]],
    )


def vpc_cidr_errors(cidr: str) -> list[str]:
    try:
        network = ipaddress.IPv4Network(cidr)
    except ValueError as err:
        return [f"cidr: {cidr!r} is not an IPv4 network without host bits ({err})"]
    if not VPC_PREFIX_MIN <= network.prefixlen <= VPC_PREFIX_MAX:
        return [f"cidr: prefix /{network.prefixlen} is outside /{VPC_PREFIX_MIN} to /{VPC_PREFIX_MAX}"]
    return []


def subnet_errors(vpc_cidr: str, public: list[str], private: list[str], count: int) -> list[str]:
    """Problems with explicit subnet lists: format, size, inside the VPC, one per AZ, no overlap."""
    errors: list[str] = []
    vpc = ipaddress.IPv4Network(vpc_cidr)
    parsed: list[tuple[str, ipaddress.IPv4Network]] = []
    for option, cidrs in (("public_subnets", public), ("private_subnets", private)):
        if len(cidrs) != count:
            errors.append(f"{option}: {len(cidrs)} given for {count} availability zones (one per zone)")
        for cidr in cidrs:
            try:
                network = ipaddress.IPv4Network(cidr)
            except ValueError as err:
                errors.append(f"{option}: {cidr!r} is not an IPv4 network without host bits ({err})")
                continue
            if not SUBNET_PREFIX_MIN <= network.prefixlen <= SUBNET_PREFIX_MAX:
                errors.append(
                    f"{option}: {cidr} has prefix /{network.prefixlen}; "
                    f"AWS subnets are /{SUBNET_PREFIX_MIN} to /{SUBNET_PREFIX_MAX}"
                )
            if not network.subnet_of(vpc):
                errors.append(f"{option}: {cidr} is not inside the VPC {vpc_cidr}")
            parsed.append((cidr, network))
    for index, (cidr, network) in enumerate(parsed):
        for other, other_network in parsed[index + 1 :]:
            if network.overlaps(other_network):
                errors.append(f"subnets {cidr} and {other} overlap")
    return errors


def subnet_layout(
    vpc_cidr: str, count: int, public: list[str] | None = None, private: list[str] | None = None
) -> SubnetLayout:
    """Explicit subnets where given, derived ones otherwise; raises PlanError on any problem."""
    errors = vpc_cidr_errors(vpc_cidr)
    if errors:
        raise PlanError("; ".join(errors))
    derived = derive_subnet_layout(vpc_cidr, count)
    layout = SubnetLayout(public=list(public or derived.public), private=list(private or derived.private))
    errors = subnet_errors(vpc_cidr, layout.public, layout.private, count)
    if errors:
        raise PlanError("; ".join(errors))
    return layout


# The desired network
@dataclass
class DhcpSpec:
    dns_servers: list[str]
    domain_name: str

    def config(self) -> dict[str, list[str]]:
        return {"domain-name": [self.domain_name], "domain-name-servers": list(self.dns_servers)}


@dataclass
class NetworkSpec:
    tenant: str
    region: str
    cidr: str
    zones: list[str]
    layout: SubnetLayout
    nat_mode: str = "single"
    s3_endpoint: bool = True
    dhcp: DhcpSpec | None = None  # None: DHCP options are left as they are
    builder_winrm_cidrs: tuple[str, ...] = ()  # who may reach the image builders over WinRM
    environment: str | None = None
    user_tags: dict[str, Any] | None = None
    purge_tags: bool = True

    def tags_for(self, key: str) -> dict[str, str]:
        tags = desired_tags(self.user_tags, self.tenant, self.environment)
        tags.update({COMPONENT_TAG: COMPONENT, RESOURCE_TAG: key, "Name": resource_name(self.tenant, key)})
        return tags

    @property
    def purge(self) -> bool:
        # amazon.aws semantics: without `tags`, existing extra tags are left alone.
        return self.purge_tags and self.user_tags is not None

    def subnets(self) -> list[tuple[str, str, str]]:
        """(role, zone, cidr) of every desired subnet, public first, in zone order."""
        return [(PUBLIC, zone, cidr) for zone, cidr in zip(self.zones, self.layout.public, strict=True)] + [
            (PRIVATE, zone, cidr) for zone, cidr in zip(self.zones, self.layout.private, strict=True)
        ]

    def nat_zones(self) -> list[str]:
        return {"per_az": list(self.zones), "single": self.zones[:1], "none": []}[self.nat_mode]

    def private_route_tables(self) -> dict[str, str | None]:
        """Private route table key -> the zone whose NAT its default route uses (None: no route)."""
        if self.nat_mode == "per_az":
            return {private_rt_key(zone): zone for zone in self.zones}
        return {private_rt_key(None): self.zones[0] if self.nat_mode == "single" else None}

    def private_rt_of_zone(self, zone: str) -> str:
        return private_rt_key(zone) if self.nat_mode == "per_az" else private_rt_key(None)


def fill_zones(partial: list[str | None], available: Iterable[str]) -> list[str]:
    """Complete `partial` with the first available zones (sorted by name) not used yet."""
    free = [zone for zone in sorted(set(available)) if zone not in partial]
    zones: list[str] = []
    for zone in partial:
        if zone is None:
            if not free:
                raise PlanError(f"the region has too few availability zones for {len(partial)}")
            zone = free.pop(0)
        zones.append(zone)
    return zones


def zone_errors(zones: list[str]) -> list[str]:
    errors = []
    if not MIN_ZONES <= len(zones) <= MAX_ZONES:
        errors.append(f"availability_zones: {len(zones)} given, {MIN_ZONES} or {MAX_ZONES} are supported")
    if len(set(zones)) != len(zones):
        errors.append(f"availability_zones: {zones} names a zone twice")
    return errors
