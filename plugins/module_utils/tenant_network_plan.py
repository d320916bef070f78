# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tenant network as a composite plan: layout, security-group rules, discovery records, actions.

Everything here is pure (no AWS call), so the whole planning of a network is unit-tested
without an endpoint. `plugins/modules/tenant_network.py` only reads the current state,
hands it to `plan_network` / `plan_teardown`, and performs the returned actions in order.

Identity of the resources of one network
- Every resource carries the ownership tags (`tenant_tags`), `toolkit:component=network`
  and `toolkit:resource=<logical key>` (for example `nat-gateway-eu-west-3a`), plus a Name
  `<tenant>-<role>[-<az>]`. Subnets are identified by their CIDR (which cannot change),
  security groups by their group name inside the VPC.
- A resource is *owned* when its `tenant` tag is the module's tenant and its component is
  `network`. Only owned resources are changed or deleted; anything else is reported.

Actions reference resources through `Ref(<logical key>)`, resolved at execution time to
the id discovered or just created, so one plan covers a network that does not exist yet.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.tenant_tags import (
    desired_tags,
    is_owned,
    list_to_dict,
    owner_of,
    tag_changes,
)

COMPONENT_TAG = "toolkit:component"
COMPONENT = "network"
RESOURCE_TAG = "toolkit:resource"

PUBLIC = "public"
PRIVATE = "private"
NAT_MODES = ("single", "per_az", "none")
SECURITY_GROUP_ROLES = ("streaming", "directory", "fsx")
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

# Lifecycle states that no longer count as an existing resource.
NAT_GONE = ("deleting", "deleted", "failed")
ENDPOINT_GONE = ("deleting", "deleted", "rejected", "failed", "expired")


class PlanError(Exception):
    """The request cannot be met in place; the message says why and what to do."""


# ---------------------------------------------------------------------------------------
# Logical keys and names
# ---------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------
# Subnet layout
# ---------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------
# Security-group rules
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, order=True)
class Rule:
    """One permission with one peer. `peer_kind` is cidr, ipv6, prefix-list, group (an id) or
    role (one of this network's groups, by role). Descriptions are informative only."""

    direction: str  # ingress | egress
    protocol: str  # tcp | udp | icmp | -1
    from_port: int
    to_port: int
    peer_kind: str
    peer: str
    description: str = field(default="", compare=False)

    def text(self) -> str:
        ports = "all" if self.protocol == "-1" else str(self.from_port)
        if self.protocol != "-1" and self.to_port != self.from_port:
            ports = f"{self.from_port}-{self.to_port}"
        protocol = "all" if self.protocol == "-1" else self.protocol
        way = "from" if self.direction == "ingress" else "to"
        return f"{self.direction} {protocol} {ports} {way} {self.peer_kind}:{self.peer}"


# facts.md (FSx for Windows File Server): what a domain member needs from the domain
# controllers. Streaming instances and the file system are both domain members.
DOMAIN_CONTROLLER_PORTS: tuple[tuple[str, int, int, str], ...] = (
    ("tcp", 53, 53, "DNS"),
    ("udp", 53, 53, "DNS"),
    ("tcp", 88, 88, "Kerberos"),
    ("udp", 88, 88, "Kerberos"),
    ("udp", 123, 123, "NTP"),
    ("tcp", 135, 135, "RPC endpoint mapper"),
    ("tcp", 389, 389, "LDAP"),
    ("udp", 389, 389, "LDAP"),
    ("tcp", 445, 445, "SMB (SYSVOL, NETLOGON)"),
    ("tcp", 464, 464, "Kerberos password change"),
    ("udp", 464, 464, "Kerberos password change"),
    ("tcp", 636, 636, "LDAPS"),
    ("tcp", 3268, 3269, "Global catalog"),
    ("tcp", 9389, 9389, "AD Web Services"),
    ("tcp", 49152, 65535, "RPC dynamic ports"),
)
SMB = ("tcp", 445, 445)
# Image builders are configured over WinRM on HTTPS only (5986); FSx's remote PowerShell endpoint is
# the AWS-defined 5985 (facts.md), reached only from inside the VPC.
WINRM_HTTPS = ("tcp", 5986, 5986)
FSX_REMOTE_POWERSHELL = ("tcp", 5985, 5985)
HTTPS = ("tcp", 443, 443)


def security_group_rules(vpc_cidr: str) -> dict[str, frozenset[Rule]]:
    """The exact rule set of each of the network's security groups. No ingress from anywhere.

    - streaming (AppStream fleet and image builder instances): no ingress but WinRM from
      inside the VPC (in-guest image setup, facts.md); egress HTTPS for AWS endpoints, S3
      (through the gateway endpoint) and licence checks, and the domain controller ports to
      the VPC (TCP 445 among them, which also reaches the file system).
    - directory (directory-side ENIs): the domain controller ports from the streaming and
      file-system groups; egress only inside the VPC.
    - fsx (FSx for Windows): SMB from the streaming group, WinRM (remote PowerShell
      administration) from inside the VPC; egress the domain controller ports to the VPC.

    Domain members reach the controllers by the VPC range rather than by group: AWS Managed
    Microsoft AD puts its own security group on its controllers, so a group peer would not
    match them.
    """

    def rule(direction: str, ports: tuple[str, int, int], kind: str, peer: str, description: str) -> Rule:
        protocol, low, high = ports
        return Rule(direction, protocol, low, high, kind, peer, description)

    def dc_rules(direction: str, kind: str, peer: str, who: str) -> list[Rule]:
        return [
            rule(direction, (protocol, low, high), kind, peer, f"{label} {who}")
            for protocol, low, high, label in DOMAIN_CONTROLLER_PORTS
        ]

    streaming = [
        rule("ingress", WINRM_HTTPS, "cidr", vpc_cidr, "WinRM over HTTPS for image setup from inside the VPC"),
        rule("egress", HTTPS, "cidr", ANYWHERE, "HTTPS to AWS endpoints, S3 and licence servers"),
        *dc_rules("egress", "cidr", vpc_cidr, "to the domain controllers"),
    ]
    directory = [
        *dc_rules("ingress", "role", "streaming", "from streaming instances"),
        *dc_rules("ingress", "role", "fsx", "from the file system"),
        Rule("egress", "-1", -1, -1, "cidr", vpc_cidr, "Replies and lookups inside the VPC"),
    ]
    fsx = [
        rule("ingress", SMB, "role", "streaming", "SMB from streaming instances"),
        rule(
            "ingress", FSX_REMOTE_POWERSHELL, "cidr", vpc_cidr, "Remote PowerShell administration from inside the VPC"
        ),
        *dc_rules("egress", "cidr", vpc_cidr, "to the domain controllers"),
    ]
    return {"streaming": frozenset(streaming), "directory": frozenset(directory), "fsx": frozenset(fsx)}


SECURITY_GROUP_DESCRIPTIONS = {
    "streaming": "AppStream streaming and image builder instances of tenant {tenant}",
    "directory": "Directory service of tenant {tenant}",
    "fsx": "FSx for Windows File Server of tenant {tenant}",
}

# What AWS gives a new security group: the rule the plan must remove to reach the exact set.
DEFAULT_EGRESS = Rule("egress", "-1", -1, -1, "cidr", ANYWHERE)

_PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "all": "-1"}


def rules_from_permissions(
    permissions: Iterable[dict[str, Any]], direction: str, role_of_group: dict[str, str]
) -> set[Rule]:
    """EC2 IpPermissions (one entry may hold many peers) as one Rule per peer."""
    rules: set[Rule] = set()
    for permission in permissions:
        protocol = _PROTOCOL_NAMES.get(str(permission.get("IpProtocol")), str(permission.get("IpProtocol")))
        low = -1 if protocol == "-1" else int(permission.get("FromPort", -1))
        high = -1 if protocol == "-1" else int(permission.get("ToPort", -1))
        for item in permission.get("IpRanges", []):
            rules.add(Rule(direction, protocol, low, high, "cidr", item["CidrIp"], item.get("Description", "")))
        for item in permission.get("Ipv6Ranges", []):
            rules.add(Rule(direction, protocol, low, high, "ipv6", item["CidrIpv6"], item.get("Description", "")))
        for item in permission.get("PrefixListIds", []):
            rules.add(
                Rule(direction, protocol, low, high, "prefix-list", item["PrefixListId"], item.get("Description", ""))
            )
        for item in permission.get("UserIdGroupPairs", []):
            group = item["GroupId"]
            kind, peer = ("role", role_of_group[group]) if group in role_of_group else ("group", group)
            rules.add(Rule(direction, protocol, low, high, kind, peer, item.get("Description", "")))
    return rules


def ip_permission(rule: Rule, group_id_of_role: Callable[[str], str]) -> dict[str, Any]:
    """The EC2 IpPermission carrying one rule (role peers resolved to group ids)."""
    permission: dict[str, Any] = {"IpProtocol": rule.protocol}
    if rule.protocol != "-1":
        permission["FromPort"], permission["ToPort"] = rule.from_port, rule.to_port
    described = {"Description": rule.description} if rule.description else {}
    if rule.peer_kind == "cidr":
        permission["IpRanges"] = [{"CidrIp": rule.peer, **described}]
    elif rule.peer_kind == "ipv6":
        permission["Ipv6Ranges"] = [{"CidrIpv6": rule.peer, **described}]
    elif rule.peer_kind == "prefix-list":
        permission["PrefixListIds"] = [{"PrefixListId": rule.peer, **described}]
    else:
        group = group_id_of_role(rule.peer) if rule.peer_kind == "role" else rule.peer
        permission["UserIdGroupPairs"] = [{"GroupId": group, **described}]
    return permission


# ---------------------------------------------------------------------------------------
# What discovery found (normalised from the Describe* responses)
# ---------------------------------------------------------------------------------------
@dataclass
class Record:
    id: str
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str | None:
        return self.tags.get(RESOURCE_TAG)

    def owned_by(self, tenant: str) -> bool:
        return is_owned(self.tags, tenant) and self.tags.get(COMPONENT_TAG) == COMPONENT

    def why_not_owned(self, tenant: str) -> str:
        if is_owned(self.tags, tenant):
            return f"tagged for tenant {tenant!r} but by component {self.tags.get(COMPONENT_TAG)!r}, not {COMPONENT!r}"
        owner = owner_of(self.tags)
        return f"not owned by tenant {tenant!r} (tenant tag: {owner!r})" if owner else "untagged (no tenant tag)"


@dataclass
class Vpc(Record):
    cidr: str = ""
    dhcp_options_id: str | None = None
    dns_support: bool | None = None
    dns_hostnames: bool | None = None


@dataclass
class Subnet(Record):
    cidr: str = ""
    zone: str = ""
    vpc_id: str = ""


@dataclass
class Route:
    destination: str
    target: str | None
    state: str = "active"
    origin: str = "CreateRoute"


@dataclass
class RouteTable(Record):
    main: bool = False
    associations: list[tuple[str, str]] = field(default_factory=list)  # (association id, subnet id)
    routes: list[Route] = field(default_factory=list)

    def default_route(self) -> Route | None:
        return next((r for r in self.routes if r.destination == DEFAULT_ROUTE), None)


@dataclass
class InternetGateway(Record):
    vpc_ids: list[str] = field(default_factory=list)


@dataclass
class NatGateway(Record):
    subnet_id: str = ""
    state: str = "available"
    allocation_id: str | None = None
    public_ip: str | None = None
    failure: str | None = None


@dataclass
class Address(Record):
    public_ip: str | None = None
    association_id: str | None = None
    network_interface_id: str | None = None


@dataclass
class Endpoint(Record):
    service_name: str = ""
    endpoint_type: str = "Gateway"
    state: str = "available"
    route_table_ids: list[str] = field(default_factory=list)


@dataclass
class SecurityGroup(Record):
    name: str = ""
    permissions: list[dict[str, Any]] = field(default_factory=list)
    permissions_egress: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class DhcpOptions(Record):
    config: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Discovered:
    vpc: Vpc | None = None
    same_name_vpcs: list[Vpc] = field(default_factory=list)  # same Name, not owned (reported, never touched)
    subnets: list[Subnet] = field(default_factory=list)
    route_tables: list[RouteTable] = field(default_factory=list)
    internet_gateways: list[InternetGateway] = field(default_factory=list)
    nat_gateways: list[NatGateway] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)
    security_groups: list[SecurityGroup] = field(default_factory=list)
    dhcp_options: list[DhcpOptions] = field(default_factory=list)


def _tags(item: dict[str, Any]) -> dict[str, str]:
    return list_to_dict(item.get("Tags"))


def vpc_from_aws(item: dict[str, Any]) -> Vpc:
    return Vpc(
        id=item["VpcId"],
        tags=_tags(item),
        cidr=item.get("CidrBlock", ""),
        dhcp_options_id=item.get("DhcpOptionsId"),
    )


def subnet_from_aws(item: dict[str, Any]) -> Subnet:
    return Subnet(
        id=item["SubnetId"],
        tags=_tags(item),
        cidr=item.get("CidrBlock", ""),
        zone=item.get("AvailabilityZone", ""),
        vpc_id=item.get("VpcId", ""),
    )


_ROUTE_TARGETS = (
    "GatewayId",
    "NatGatewayId",
    "TransitGatewayId",
    "VpcPeeringConnectionId",
    "NetworkInterfaceId",
    "InstanceId",
    "EgressOnlyInternetGatewayId",
    "CarrierGatewayId",
    "LocalGatewayId",
)


def route_table_from_aws(item: dict[str, Any]) -> RouteTable:
    associations = []
    main = False
    for association in item.get("Associations", []):
        if association.get("Main"):
            main = True
            continue
        state = association.get("AssociationState", {}).get("State", "associated")
        if association.get("SubnetId") and state in ("associated", "associating"):
            associations.append((association["RouteTableAssociationId"], association["SubnetId"]))
    routes = []
    for route in item.get("Routes", []):
        destination = route.get("DestinationCidrBlock") or route.get("DestinationIpv6CidrBlock")
        if not destination:  # gateway-endpoint routes (prefix lists) belong to the endpoint
            continue
        target = next((route[name] for name in _ROUTE_TARGETS if route.get(name)), None)
        routes.append(Route(destination, target, route.get("State", "active"), route.get("Origin", "CreateRoute")))
    return RouteTable(id=item["RouteTableId"], tags=_tags(item), main=main, associations=associations, routes=routes)


def internet_gateway_from_aws(item: dict[str, Any]) -> InternetGateway:
    attached = [a["VpcId"] for a in item.get("Attachments", []) if a.get("State", "available") != "detached"]
    return InternetGateway(id=item["InternetGatewayId"], tags=_tags(item), vpc_ids=attached)


def nat_gateway_from_aws(item: dict[str, Any]) -> NatGateway:
    address = next(iter(item.get("NatGatewayAddresses") or []), {})
    return NatGateway(
        id=item["NatGatewayId"],
        tags=_tags(item),
        subnet_id=item.get("SubnetId", ""),
        state=item.get("State", "available"),
        allocation_id=address.get("AllocationId") or None,
        public_ip=address.get("PublicIp") or None,
        failure=item.get("FailureMessage"),
    )


def address_from_aws(item: dict[str, Any]) -> Address:
    return Address(
        id=item["AllocationId"],
        tags=_tags(item),
        public_ip=item.get("PublicIp"),
        association_id=item.get("AssociationId") or None,
        network_interface_id=item.get("NetworkInterfaceId") or None,
    )


def endpoint_from_aws(item: dict[str, Any]) -> Endpoint:
    return Endpoint(
        id=item["VpcEndpointId"],
        tags=_tags(item),
        service_name=item.get("ServiceName", ""),
        endpoint_type=item.get("VpcEndpointType", "Gateway"),
        state=str(item.get("State", "available")).lower(),
        route_table_ids=list(item.get("RouteTableIds", [])),
    )


def security_group_from_aws(item: dict[str, Any]) -> SecurityGroup:
    return SecurityGroup(
        id=item["GroupId"],
        tags=_tags(item),
        name=item.get("GroupName", ""),
        permissions=list(item.get("IpPermissions", [])),
        permissions_egress=list(item.get("IpPermissionsEgress", [])),
    )


def dhcp_options_from_aws(item: dict[str, Any]) -> DhcpOptions:
    config = {
        entry["Key"]: [value["Value"] for value in entry.get("Values", [])]
        for entry in item.get("DhcpConfigurations", [])
    }
    return DhcpOptions(id=item["DhcpOptionsId"], tags=_tags(item), config=config)


# ---------------------------------------------------------------------------------------
# The desired network
# ---------------------------------------------------------------------------------------
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


def zones_from_existing(layout: SubnetLayout, subnets: Iterable[Subnet], tenant: str) -> list[str | None]:
    """For each layout index, the AZ its owned subnets already use (None: not created yet)."""
    zone_of_cidr = {s.cidr: s.zone for s in subnets if s.owned_by(tenant)}
    return [
        zone_of_cidr.get(public) or zone_of_cidr.get(private)
        for public, private in zip(layout.public, layout.private, strict=True)
    ]


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


# ---------------------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ref:
    """A resource by logical key; resolved to its id (discovered or created) when performed."""

    key: str

    def __str__(self) -> str:
        return f"<{self.key}>"


@dataclass
class Action:
    op: str
    summary: str
    params: dict[str, Any] = field(default_factory=dict)
    produces: str | None = None  # logical key of the id this action creates


def resolve(value: Any, ids: dict[str, str]) -> Any:
    """Replace every Ref in `value` by the id it names (KeyError: not created)."""
    if isinstance(value, Ref):
        return ids[value.key]
    if isinstance(value, dict):
        return {k: resolve(v, ids) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [resolve(v, ids) for v in value]
    return value


def shown(value: Any, ids: dict[str, str]) -> str:
    if isinstance(value, Ref):
        return ids.get(value.key, str(value))
    return str(value)


WAIT_OPS = ("wait_nat_gateways", "wait_nat_gateways_deleted")


@dataclass
class NetworkPlan:
    actions: list[Action] = field(default_factory=list)
    kept: list[dict[str, str]] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)  # logical key -> id of what exists
    tag_drift: dict[str, tuple[dict[str, str], dict[str, str]]] = field(default_factory=dict)
    moved_associations: set[str] = field(default_factory=set)  # replaced: their old ids no longer exist

    @property
    def changed(self) -> bool:
        """Whether any action changes something (waiting for a resource already in progress does not)."""
        return any(action.op not in WAIT_OPS for action in self.actions)

    def add(self, op: str, summary: str, produces: str | None = None, **params: Any) -> None:
        self.actions.append(Action(op=op, summary=summary, params=params, produces=produces))

    def keep(self, kind: str, resource_id: str, reason: str, name: str | None = None) -> None:
        entry = {"type": kind, "id": resource_id, "reason": reason}
        if name:
            entry["name"] = name
        self.kept.append(entry)

    def summaries(self) -> list[str]:
        return [action.summary for action in self.actions]


class _Index:
    """Owned resources of one tenant's network by logical key, plus what is foreign."""

    def __init__(self, discovered: Discovered, tenant: str) -> None:
        self.tenant = tenant
        self.found = discovered

        def owned(records: Iterable[Record]) -> list[Any]:
            return sorted((r for r in records if r.owned_by(tenant)), key=lambda r: r.id)

        self.subnets: list[Subnet] = owned(discovered.subnets)
        self.route_tables: list[RouteTable] = owned(discovered.route_tables)
        self.igws: list[InternetGateway] = owned(discovered.internet_gateways)
        self.nats: list[NatGateway] = owned(n for n in discovered.nat_gateways if n.state not in NAT_GONE)
        self.addresses: list[Address] = owned(discovered.addresses)
        self.endpoints: list[Endpoint] = owned(e for e in discovered.endpoints if e.state not in ENDPOINT_GONE)
        self.groups: list[SecurityGroup] = owned(discovered.security_groups)
        self.dhcp: list[DhcpOptions] = owned(discovered.dhcp_options)

    @staticmethod
    def by_key(records: Iterable[Record]) -> dict[str, Any]:
        """First record (by id) for each logical key; later duplicates are surplus."""
        keyed: dict[str, Any] = {}
        for record in records:
            if record.key and record.key not in keyed:
                keyed[record.key] = record
        return keyed


def _tag_actions(plan: NetworkPlan, spec: NetworkSpec, existing: list[tuple[str, Record]]) -> None:
    """Converge the tags of existing owned resources in as few CreateTags/DeleteTags calls as possible."""
    to_set: dict[tuple[tuple[str, str], ...], list[str]] = {}
    to_remove: dict[tuple[str, ...], list[str]] = {}
    for key, record in existing:
        wanted = spec.tags_for(key)
        setting, removing = tag_changes(record.tags, wanted, spec.purge)
        if setting or removing:
            after = {k: v for k, v in record.tags.items() if k not in removing}
            after.update(setting)
            plan.tag_drift[key] = (dict(record.tags), after)
        if setting:
            to_set.setdefault(tuple(sorted(setting.items())), []).append(record.id)
        if removing:
            to_remove.setdefault(tuple(removing), []).append(record.id)
    for items, ids in to_set.items():
        tags = dict(items)
        plan.add("tag", f"tag {len(ids)} resource(s) {', '.join(ids)}: set {tags}", resources=ids, tags=tags)
    for keys, ids in to_remove.items():
        plan.add(
            "untag",
            f"untag {len(ids)} resource(s) {', '.join(ids)}: remove {list(keys)}",
            resources=ids,
            keys=list(keys),
        )


def plan_network(spec: NetworkSpec, discovered: Discovered) -> NetworkPlan:
    """Every action, in dependency order, that turns `discovered` into `spec` (empty: nothing to do)."""
    plan = NetworkPlan()
    index = _Index(discovered, spec.tenant)
    ids = plan.ids
    existing: list[tuple[str, Record]] = []  # (key, record) whose tags must converge
    tenant = spec.tenant

    # -- VPC ---------------------------------------------------------------------------
    vpc = discovered.vpc
    if vpc is not None:
        if vpc.cidr != spec.cidr:
            raise PlanError(
                f"the VPC {vpc.id} of tenant {tenant!r} has CIDR {vpc.cidr}, {spec.cidr} was requested; "
                "a VPC CIDR cannot change in place: set cidr back to "
                f"{vpc.cidr}, or remove the network (state=absent) and create it again"
            )
        ids[VPC_KEY] = vpc.id
        existing.append((VPC_KEY, vpc))
        if vpc.dns_support is False:
            plan.add(
                "set_vpc_attribute", f"enable DNS support on {vpc.id}", vpc=Ref(VPC_KEY), attribute="EnableDnsSupport"
            )
        if vpc.dns_hostnames is False:
            plan.add(
                "set_vpc_attribute",
                f"enable DNS hostnames on {vpc.id}",
                vpc=Ref(VPC_KEY),
                attribute="EnableDnsHostnames",
            )
    else:
        plan.add(
            "create_vpc",
            f"create VPC {resource_name(tenant, VPC_KEY)} ({spec.cidr})",
            produces=VPC_KEY,
            cidr=spec.cidr,
            tags=spec.tags_for(VPC_KEY),
        )
        # A new VPC has DNS support on and DNS hostnames off.
        plan.add(
            "set_vpc_attribute", "enable DNS hostnames on the new VPC", vpc=Ref(VPC_KEY), attribute="EnableDnsHostnames"
        )

    _plan_dhcp(plan, spec, index, existing)
    _plan_subnets(plan, spec, index, existing)
    _plan_internet_gateway(plan, spec, index, existing)
    _plan_public_routing(plan, spec, index, existing)
    surplus_nats = _plan_nat_gateways(plan, spec, index, existing)
    surplus_tables = _plan_private_routing(plan, spec, index, existing)
    _plan_s3_endpoint(plan, spec, index, existing)
    for table in surplus_tables:
        for association_id, subnet_id in table.associations:
            if association_id in plan.moved_associations:
                continue
            plan.add(
                "disassociate_route_table", f"disassociate {subnet_id} from {table.id}", association_id=association_id
            )
        plan.add("delete_route_table", f"delete route table {table.id} ({table.key})", route_table=table.id)
    _plan_surplus_nats(plan, index, surplus_nats, spec)
    _plan_security_groups(plan, spec, index, existing)
    _tag_actions(plan, spec, existing)
    return plan


def _plan_dhcp(plan: NetworkPlan, spec: NetworkSpec, index: _Index, existing: list[tuple[str, Record]]) -> None:
    if spec.dhcp is None:
        return
    wanted = spec.dhcp.config()
    vpc = index.found.vpc
    current_id = vpc.dhcp_options_id if vpc else None
    matching = [d for d in index.dhcp if d.config == wanted]
    in_use = next((d for d in matching if d.id == current_id), None)
    if in_use is not None:
        plan.ids[DHCP_KEY] = in_use.id
        existing.append((DHCP_KEY, in_use))
    else:
        reusable = matching[0] if matching else None
        if reusable is not None:
            plan.ids[DHCP_KEY] = reusable.id
            existing.append((DHCP_KEY, reusable))
        else:
            plan.add(
                "create_dhcp_options",
                f"create DHCP options {resource_name(spec.tenant, DHCP_KEY)} "
                f"(DNS {', '.join(spec.dhcp.dns_servers)}; domain {spec.dhcp.domain_name})",
                produces=DHCP_KEY,
                config=wanted,
                tags=spec.tags_for(DHCP_KEY),
            )
        plan.add(
            "associate_dhcp_options",
            f"associate DHCP options {shown(Ref(DHCP_KEY), plan.ids)} with the VPC",
            dhcp_options=Ref(DHCP_KEY),
            vpc=Ref(VPC_KEY),
        )
    for options in index.dhcp:
        if options.id != plan.ids.get(DHCP_KEY):
            plan.add("delete_dhcp_options", f"delete unused DHCP options {options.id}", dhcp_options=options.id)


def _plan_subnets(plan: NetworkPlan, spec: NetworkSpec, index: _Index, existing: list[tuple[str, Record]]) -> None:
    by_cidr = {s.cidr: s for s in index.subnets}
    wanted_cidrs = set()
    for role, zone, cidr in spec.subnets():
        key = subnet_key(role, zone)
        wanted_cidrs.add(cidr)
        found = by_cidr.get(cidr)
        if found is not None:
            if found.zone != zone or (found.key and found.key != key):
                raise PlanError(
                    f"subnet {found.id} ({cidr}) is {found.key or 'a subnet'} in {found.zone}, the request makes it "
                    f"{key}; a subnet cannot move or change role in place"
                )
            plan.ids[key] = found.id
            existing.append((key, found))
            continue
        wanted = ipaddress.IPv4Network(cidr)
        for other in index.found.subnets:
            if ipaddress.IPv4Network(other.cidr).overlaps(wanted):
                raise PlanError(
                    f"subnet {key} ({cidr}) overlaps subnet {other.id} ({other.cidr}), which is "
                    f"{'part of this network' if other.owned_by(spec.tenant) else other.why_not_owned(spec.tenant)}"
                )
        plan.add(
            "create_subnet",
            f"create subnet {resource_name(spec.tenant, key)} ({cidr}, {zone})",
            produces=key,
            vpc=Ref(VPC_KEY),
            cidr=cidr,
            zone=zone,
            tags=spec.tags_for(key),
        )
    stale = [s for s in index.subnets if s.cidr not in wanted_cidrs]
    if stale:
        listed = ", ".join(f"{s.id} ({s.cidr}, {s.zone})" for s in stale)
        raise PlanError(
            f"subnets {listed} of this network are not in the requested layout; removing an availability zone "
            "or changing subnet CIDRs is not done in place (restore the previous settings, or remove the "
            "network with state=absent)"
        )


def _plan_internet_gateway(
    plan: NetworkPlan, spec: NetworkSpec, index: _Index, existing: list[tuple[str, Record]]
) -> None:
    vpc_id = plan.ids.get(VPC_KEY)
    attached = [g for g in index.igws if vpc_id and vpc_id in g.vpc_ids]
    detached = [g for g in index.igws if not g.vpc_ids]
    if attached:
        plan.ids[IGW_KEY] = attached[0].id
        existing.append((IGW_KEY, attached[0]))
        return
    if detached:  # left by an interrupted run: attach it rather than create a second one
        plan.ids[IGW_KEY] = detached[0].id
        existing.append((IGW_KEY, detached[0]))
    else:
        plan.add(
            "create_internet_gateway",
            f"create internet gateway {resource_name(spec.tenant, IGW_KEY)}",
            produces=IGW_KEY,
            tags=spec.tags_for(IGW_KEY),
        )
    plan.add(
        "attach_internet_gateway",
        f"attach internet gateway {shown(Ref(IGW_KEY), plan.ids)} to the VPC",
        internet_gateway=Ref(IGW_KEY),
        vpc=Ref(VPC_KEY),
    )


def _association_of(index: _Index, subnet_id: str | None) -> tuple[str, str] | None:
    """(association id, route table id) of a subnet's explicit association, if any."""
    if subnet_id is None:
        return None
    for table in index.found.route_tables:
        for association_id, associated in table.associations:
            if associated == subnet_id:
                return association_id, table.id
    return None


def _ensure_table(
    plan: NetworkPlan, spec: NetworkSpec, tables: dict[str, RouteTable], key: str, existing: list
) -> RouteTable | None:
    table = tables.get(key)
    if table is not None:
        plan.ids[key] = table.id
        existing.append((key, table))
        return table
    plan.add(
        "create_route_table",
        f"create route table {resource_name(spec.tenant, key)}",
        produces=key,
        vpc=Ref(VPC_KEY),
        tags=spec.tags_for(key),
    )
    return None


def _ensure_default_route(plan: NetworkPlan, table: RouteTable | None, key: str, target_key: str | None) -> None:
    """Make the table's 0.0.0.0/0 route point at `target_key` (None: no default route)."""
    current = table.default_route() if table is not None else None
    name = shown(Ref(key), plan.ids)
    if target_key is None:
        if current is not None:
            plan.add("delete_route", f"delete route {DEFAULT_ROUTE} from {name}", route_table=Ref(key))
        return
    target_id = plan.ids.get(target_key)
    if current is not None and current.target == target_id and target_id and current.state == "active":
        return
    op = "replace_route" if current is not None else "create_route"
    verb = "point" if current is not None else "add"
    plan.add(
        op,
        f"{verb} route {DEFAULT_ROUTE} in {name} to {shown(Ref(target_key), plan.ids)}",
        route_table=Ref(key),
        target=Ref(target_key),
        target_kind="nat" if target_key.startswith("nat-gateway-") else "gateway",
    )


def _ensure_association(plan: NetworkPlan, index: _Index, subnet_key_: str, table_key: str) -> None:
    subnet_id = plan.ids.get(subnet_key_)
    current = _association_of(index, subnet_id)
    table_id = plan.ids.get(table_key)
    if current is not None and table_id is not None and current[1] == table_id:
        return
    subnet = shown(Ref(subnet_key_), plan.ids)
    table = shown(Ref(table_key), plan.ids)
    if current is not None:
        plan.moved_associations.add(current[0])
        plan.add(
            "replace_route_table_association",
            f"move subnet {subnet} from {current[1]} to {table}",
            association_id=current[0],
            route_table=Ref(table_key),
        )
    else:
        plan.add(
            "associate_route_table",
            f"associate subnet {subnet} with {table}",
            route_table=Ref(table_key),
            subnet=Ref(subnet_key_),
        )


def _plan_public_routing(plan: NetworkPlan, spec: NetworkSpec, index: _Index, existing: list) -> None:
    tables = _Index.by_key(index.route_tables)
    table = _ensure_table(plan, spec, tables, PUBLIC_RT_KEY, existing)
    _ensure_default_route(plan, table, PUBLIC_RT_KEY, IGW_KEY)
    for zone in spec.zones:
        _ensure_association(plan, index, subnet_key(PUBLIC, zone), PUBLIC_RT_KEY)


def _plan_nat_gateways(plan: NetworkPlan, spec: NetworkSpec, index: _Index, existing: list) -> list[NatGateway]:
    """Create the missing NAT gateways; return the owned ones no longer wanted."""
    wanted = spec.nat_zones()
    nats = _Index.by_key(index.nats)
    addresses = _Index.by_key(index.addresses)
    used_allocations = {n.allocation_id for n in index.nats}
    to_wait: list[Ref] = []
    for zone in wanted:
        key, address_key = nat_key(zone), eip_key(zone)
        nat = nats.get(key)
        if nat is not None:
            plan.ids[key] = nat.id
            existing.append((key, nat))
            address = next((a for a in index.addresses if a.id == nat.allocation_id), None)
            if address is not None:
                plan.ids[address_key] = address.id
                existing.append((address_key, address))
            if nat.state == "pending":
                to_wait.append(Ref(key))
            continue
        address = addresses.get(address_key)
        if address is not None and address.association_id is None and address.id not in used_allocations:
            plan.ids[address_key] = address.id  # allocated by an interrupted run: reuse it
            existing.append((address_key, address))
        else:
            plan.add(
                "allocate_address",
                f"allocate Elastic IP {resource_name(spec.tenant, address_key)}",
                produces=address_key,
                tags=spec.tags_for(address_key),
            )
        public_subnet = Ref(subnet_key(PUBLIC, zone))
        plan.add(
            "create_nat_gateway",
            f"create NAT gateway {resource_name(spec.tenant, key)} in {shown(public_subnet, plan.ids)}",
            produces=key,
            subnet=public_subnet,
            allocation=Ref(address_key),
            # Same request after an interruption -> same token -> no second NAT gateway.
            token_parts=[spec.tenant, "nat-gateway", zone, public_subnet, Ref(address_key)],
            tags=spec.tags_for(key),
        )
        to_wait.append(Ref(key))
    if to_wait:
        plan.add("wait_nat_gateways", f"wait for NAT gateway(s) {', '.join(map(str, to_wait))}", nat_gateways=to_wait)
    wanted_keys = {nat_key(zone) for zone in wanted}
    kept_ids = {plan.ids[k] for k in wanted_keys if k in plan.ids}
    return [n for n in index.nats if n.id not in kept_ids]


def _plan_private_routing(plan: NetworkPlan, spec: NetworkSpec, index: _Index, existing: list) -> list[RouteTable]:
    """Private tables, their default routes and associations; return the owned tables no longer wanted."""
    tables = _Index.by_key(index.route_tables)
    for key, nat_zone in spec.private_route_tables().items():
        table = _ensure_table(plan, spec, tables, key, existing)
        _ensure_default_route(plan, table, key, nat_key(nat_zone) if nat_zone else None)
    for zone in spec.zones:
        _ensure_association(plan, index, subnet_key(PRIVATE, zone), spec.private_rt_of_zone(zone))
    wanted = {PUBLIC_RT_KEY, *spec.private_route_tables()}
    kept_ids = {plan.ids[k] for k in wanted if k in plan.ids}
    return [t for t in index.route_tables if t.id not in kept_ids and not t.main]


def _plan_surplus_nats(plan: NetworkPlan, index: _Index, surplus: list[NatGateway], spec: NetworkSpec) -> None:
    if surplus:
        for nat in surplus:
            plan.add("delete_nat_gateway", f"delete NAT gateway {nat.id} ({nat.key})", nat_gateway=nat.id)
        plan.add(
            "wait_nat_gateways_deleted",
            f"wait for NAT gateway(s) {', '.join(n.id for n in surplus)} to be deleted",
            nat_gateways=[n.id for n in surplus],
        )
    in_use = {plan.ids[k] for k in plan.ids if k.startswith("eip-")}
    freed = {n.allocation_id for n in surplus}
    for address in index.addresses:
        if address.id in in_use:
            continue
        if address.association_id is None or address.id in freed:
            plan.add("release_address", f"release Elastic IP {address.public_ip} ({address.id})", allocation=address.id)


def _plan_s3_endpoint(plan: NetworkPlan, spec: NetworkSpec, index: _Index, existing: list) -> None:
    service = s3_service_name(spec.region)
    endpoints = [e for e in index.endpoints if e.key == S3_ENDPOINT_KEY]
    endpoint = next((e for e in endpoints if e.service_name == service), None)
    for other in endpoints:
        if other is not endpoint or not spec.s3_endpoint:
            _delete_endpoint(plan, other)
    if not spec.s3_endpoint:
        return
    tables = [Ref(key) for key in spec.private_route_tables()]
    if endpoint is None:
        plan.add(
            "create_vpc_endpoint",
            f"create S3 gateway endpoint {resource_name(spec.tenant, S3_ENDPOINT_KEY)} on the private route tables",
            produces=S3_ENDPOINT_KEY,
            vpc=Ref(VPC_KEY),
            service_name=service,
            route_tables=tables,
            tags=spec.tags_for(S3_ENDPOINT_KEY),
        )
        return
    plan.ids[S3_ENDPOINT_KEY] = endpoint.id
    existing.append((S3_ENDPOINT_KEY, endpoint))
    add = [t for t in tables if plan.ids.get(t.key) not in endpoint.route_table_ids]
    wanted_ids = {plan.ids.get(t.key) for t in tables}
    remove = [t for t in endpoint.route_table_ids if t not in wanted_ids]
    if add or remove:
        plan.add(
            "modify_vpc_endpoint",
            f"set the route tables of {endpoint.id}: add {[shown(t, plan.ids) for t in add]}, remove {remove}",
            endpoint=endpoint.id,
            add_route_tables=add,
            remove_route_tables=remove,
        )


def _delete_endpoint(plan: NetworkPlan, endpoint: Endpoint) -> None:
    # Detaching the route tables first removes the endpoint's routes explicitly, so the
    # deletion does not depend on their state (moto, behind the sandbox, needs it too).
    if endpoint.route_table_ids:
        plan.add(
            "modify_vpc_endpoint",
            f"detach VPC endpoint {endpoint.id} from {', '.join(endpoint.route_table_ids)}",
            endpoint=endpoint.id,
            add_route_tables=[],
            remove_route_tables=list(endpoint.route_table_ids),
        )
    plan.add(
        "delete_vpc_endpoint", f"delete VPC endpoint {endpoint.id} ({endpoint.service_name})", endpoint=endpoint.id
    )


def _plan_security_groups(plan: NetworkPlan, spec: NetworkSpec, index: _Index, existing: list) -> None:
    vpc_id = plan.ids.get(VPC_KEY)
    by_name = {g.name: g for g in index.found.security_groups}
    groups: dict[str, SecurityGroup | None] = {}
    for role in SECURITY_GROUP_ROLES:
        name = security_group_name(spec.tenant, role)
        key = sg_key(role)
        group = by_name.get(name)
        if group is not None and not group.owned_by(spec.tenant):
            raise PlanError(
                f"security group {name} ({group.id}) exists in VPC {vpc_id} but is {group.why_not_owned(spec.tenant)}; "
                "the toolkit never adopts it: rename or remove it"
            )
        groups[role] = group
        if group is not None:
            plan.ids[key] = group.id
            existing.append((key, group))
            continue
        plan.add(
            "create_security_group",
            f"create security group {name}",
            produces=key,
            vpc=Ref(VPC_KEY),
            name=name,
            description=SECURITY_GROUP_DESCRIPTIONS[role].format(tenant=spec.tenant),
            tags=spec.tags_for(key),
        )
    role_of_group = {plan.ids[sg_key(role)]: role for role in SECURITY_GROUP_ROLES if sg_key(role) in plan.ids}
    wanted_rules = security_group_rules(spec.cidr)
    for role in SECURITY_GROUP_ROLES:
        current = current_rules(groups[role], role_of_group)
        wanted = wanted_rules[role]
        name = security_group_name(spec.tenant, role)
        for direction in ("ingress", "egress"):
            revoke = sorted(r for r in current - wanted if r.direction == direction)
            if revoke:
                plan.add(
                    "revoke",
                    f"revoke from {name}: {'; '.join(r.text() for r in revoke)}",
                    group=Ref(sg_key(role)),
                    direction=direction,
                    rules=revoke,
                )
        for direction in ("ingress", "egress"):
            authorize = sorted(r for r in wanted - current if r.direction == direction)
            if authorize:
                plan.add(
                    "authorize",
                    f"authorize on {name}: {len(authorize)} {direction} rule(s)",
                    group=Ref(sg_key(role)),
                    direction=direction,
                    rules=authorize,
                )


def current_rules(group: SecurityGroup | None, role_of_group: dict[str, str]) -> frozenset[Rule]:
    """The rules a group has now; a group still to be created has AWS's default egress rule."""
    if group is None:
        return frozenset({DEFAULT_EGRESS})
    return frozenset(
        rules_from_permissions(group.permissions, "ingress", role_of_group)
        | rules_from_permissions(group.permissions_egress, "egress", role_of_group)
    )


# ---------------------------------------------------------------------------------------
# Teardown
# ---------------------------------------------------------------------------------------
def plan_teardown(tenant: str, discovered: Discovered) -> NetworkPlan:
    """Delete what this tenant's network owns, in dependency order; report what is left and why."""
    plan = NetworkPlan()
    index = _Index(discovered, tenant)
    vpc = discovered.vpc
    blockers: list[str] = []  # foreign resources that keep the VPC alive

    for other in discovered.same_name_vpcs:
        plan.keep(
            "vpc", other.id, f"same Name as this tenant's VPC but {other.why_not_owned(tenant)}", other.tags.get("Name")
        )

    def foreign(kind: str, records: Iterable[Record], skip: Callable[[Any], bool] = lambda r: False) -> None:
        for record in records:
            if not record.owned_by(tenant) and not skip(record):
                plan.keep(kind, record.id, record.why_not_owned(tenant), record.tags.get("Name"))
                blockers.append(record.id)

    live_nats = [n for n in discovered.nat_gateways if n.state not in NAT_GONE]
    foreign("nat-gateway", live_nats)
    if index.nats:
        for nat in index.nats:
            plan.add("delete_nat_gateway", f"delete NAT gateway {nat.id} ({nat.key})", nat_gateway=nat.id)
        plan.add(
            "wait_nat_gateways_deleted",
            f"wait for NAT gateway(s) {', '.join(n.id for n in index.nats)} to be deleted",
            nat_gateways=[n.id for n in index.nats],
        )
    freed = {n.allocation_id for n in index.nats}
    for address in index.addresses:
        if address.association_id is None or address.id in freed:
            plan.add("release_address", f"release Elastic IP {address.public_ip} ({address.id})", allocation=address.id)
        else:
            plan.keep(
                "elastic-ip", address.id, f"still associated ({address.association_id}) with a resource not owned"
            )

    live_endpoints = [e for e in discovered.endpoints if e.state not in ENDPOINT_GONE]
    foreign("vpc-endpoint", live_endpoints)
    for endpoint in index.endpoints:
        _delete_endpoint(plan, endpoint)

    foreign("route-table", discovered.route_tables, skip=lambda t: t.main)
    for table in index.route_tables:
        for association_id, subnet_id in table.associations:
            plan.add(
                "disassociate_route_table", f"disassociate {subnet_id} from {table.id}", association_id=association_id
            )
        plan.add("delete_route_table", f"delete route table {table.id} ({table.key})", route_table=table.id)

    foreign("subnet", discovered.subnets)
    for subnet in index.subnets:
        plan.add("delete_subnet", f"delete subnet {subnet.id} ({subnet.cidr}, {subnet.zone})", subnet=subnet.id)

    foreign("internet-gateway", discovered.internet_gateways, skip=lambda g: not (vpc and vpc.id in g.vpc_ids))
    for gateway in index.igws:
        for attached in gateway.vpc_ids:
            plan.add(
                "detach_internet_gateway",
                f"detach {gateway.id} from {attached}",
                internet_gateway=gateway.id,
                vpc=attached,
            )
        plan.add("delete_internet_gateway", f"delete internet gateway {gateway.id}", internet_gateway=gateway.id)

    foreign("security-group", discovered.security_groups, skip=lambda g: g.name == "default")
    owned_ids = {g.id for g in index.groups}
    for group in index.groups:
        # Groups that name each other cannot be deleted until those references are gone.
        for direction, permissions in (("ingress", group.permissions), ("egress", group.permissions_egress)):
            referencing = sorted(
                r
                for r in rules_from_permissions(permissions, direction, {})
                if r.peer_kind == "group" and r.peer in owned_ids
            )
            if referencing:
                plan.add(
                    "revoke",
                    f"revoke {len(referencing)} {direction} rule(s) naming other groups from {group.name}",
                    group=group.id,
                    direction=direction,
                    rules=referencing,
                )
    for group in index.groups:
        plan.add("delete_security_group", f"delete security group {group.name} ({group.id})", group=group.id)

    vpc_deleted = False
    if vpc is not None:
        if blockers:
            plan.keep(
                "vpc",
                vpc.id,
                f"still holds resources this network does not own: {', '.join(blockers)}",
                vpc.tags.get("Name"),
            )
        else:
            plan.add("delete_vpc", f"delete VPC {vpc.id} ({vpc.cidr})", vpc=vpc.id)
            vpc_deleted = True
    for options in index.dhcp:
        if vpc is not None and not vpc_deleted and vpc.dhcp_options_id == options.id:
            plan.keep("dhcp-options", options.id, f"in use by the VPC {vpc.id}, which is kept")
            continue
        plan.add("delete_dhcp_options", f"delete DHCP options {options.id}", dhcp_options=options.id)
    return plan


# ---------------------------------------------------------------------------------------
# Results and diffs
# ---------------------------------------------------------------------------------------
def network_result(discovered: Discovered, tenant: str, zones: list[str] | None = None) -> dict[str, Any]:
    """Every id of the network in one structure (what later stages read)."""
    index = _Index(discovered, tenant)
    vpc = discovered.vpc
    zone_order = {zone: position for position, zone in enumerate(zones or [])}

    def subnets(role: str) -> list[dict[str, str]]:
        chosen = [s for s in index.subnets if (s.key or "").startswith(f"{role}-subnet-")]
        chosen.sort(key=lambda s: (zone_order.get(s.zone, len(zone_order)), s.zone, s.cidr))
        return [{"id": s.id, "cidr": s.cidr, "az": s.zone} for s in chosen]

    subnet_zone = {s.id: s.zone for s in index.subnets}
    tables = _Index.by_key(index.route_tables)
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
            role: [r.text() for r in sorted(rules)] for role, rules in security_group_rules(spec.cidr).items()
        },
    }
    if spec.dhcp is not None:
        summary["dhcp_options"] = spec.dhcp.config()
    return summary


def summary_of_discovered(spec: NetworkSpec, discovered: Discovered) -> dict[str, Any]:
    """What exists now, in the symbolic form of `summary_of_spec` (ids replaced by logical keys)."""
    if discovered.vpc is None:
        return {}
    index = _Index(discovered, spec.tenant)
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
