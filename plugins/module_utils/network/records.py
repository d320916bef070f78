# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network as it is: records of the EC2 resources discovered for a tenant, built from the Describe
calls' answers, with their ownership.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import (
    is_owned,
    list_to_dict,
    owner_of,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.layout import (
    COMPONENT,
    COMPONENT_TAG,
    DEFAULT_ROUTE,
    RESOURCE_TAG,
    SubnetLayout,
)

# Lifecycle states that no longer count as an existing resource.
NAT_GONE = ("deleting", "deleted", "failed")
ENDPOINT_GONE = ("deleting", "deleted", "rejected", "failed", "expired")


# What discovery found (normalised from the Describe* responses)
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
    owner_id: str | None = None  # the account, as DescribeVpcs gives it: later stages need no sts call


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
    # Of its Elastic IP, as NatGatewayAddresses gives them (the association id is not always given).
    association_id: str | None = None
    network_interface_id: str | None = None


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
    # The Elastic IPs came from the run's tag listing, not DescribeAddresses (addresses_from_listing).
    addresses_listed: bool = False


def _tags(item: dict[str, Any]) -> dict[str, str]:
    return list_to_dict(item.get("Tags"))


def vpc_from_aws(item: dict[str, Any]) -> Vpc:
    return Vpc(
        id=item["VpcId"],
        tags=_tags(item),
        cidr=item.get("CidrBlock", ""),
        dhcp_options_id=item.get("DhcpOptionsId"),
        owner_id=item.get("OwnerId"),
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
        association_id=address.get("AssociationId") or None,
        network_interface_id=address.get("NetworkInterfaceId") or None,
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


def zones_from_existing(layout: SubnetLayout, subnets: Iterable[Subnet], tenant: str) -> list[str | None]:
    """For each layout index, the AZ its owned subnets already use (None: not created yet)."""
    zone_of_cidr = {s.cidr: s.zone for s in subnets if s.owned_by(tenant)}
    return [
        zone_of_cidr.get(public) or zone_of_cidr.get(private)
        for public, private in zip(layout.public, layout.private, strict=True)
    ]


def addresses_from_listing(
    listed: dict[str, dict[str, str]], nat_gateways: Iterable[NatGateway], tenant: str
) -> list[Address] | None:
    """The tenant's Elastic IPs from the run's tag listing (allocation id -> tags, `ec2:elastic-ip`) and the NAT
    gateways just described, when the two agree; None when they do not, and DescribeAddresses is needed.

    They agree when at least one owned NAT gateway is not gone, every such one is available and holds a listed
    Elastic IP, and the listing's owned Elastic IPs are exactly those. Then, as far as the listing knows, there
    is no free one to reuse or release, which is all DescribeAddresses would add. Anything else (a NAT gateway
    missing, pending or failed, an Elastic IP listed but held by none, none listed at all, which may also mean
    the listing did not include the type) is read.

    The listing is taken under the tenant's lock, so no other run of the toolkit allocates one meanwhile, but
    the tagging index may not show yet one that a failed run allocated a moment before: a plan that would
    allocate an Elastic IP therefore describes them first (tenant_network's ensure_present), and a free one
    that the index does not show is otherwise released by the next run that describes them. Their tags are the
    listing's.
    """
    nats = [nat for nat in nat_gateways if nat.owned_by(tenant) and nat.state not in NAT_GONE]
    if not nats or any(nat.state != "available" or nat.allocation_id not in listed for nat in nats):
        return None
    owned = {allocation for allocation, tags in listed.items() if Address(id=allocation, tags=tags).owned_by(tenant)}
    if owned != {nat.allocation_id for nat in nats}:
        return None
    return [
        Address(
            id=str(nat.allocation_id),
            tags=dict(listed[str(nat.allocation_id)]),
            public_ip=nat.public_ip,
            # Only ever tested for None (held, so neither reused nor released): the association AWS names, else
            # the NAT gateway that holds the address (moto gives no association id in NatGatewayAddresses).
            association_id=nat.association_id or nat.id,
            network_interface_id=nat.network_interface_id,
        )
        for nat in nats
    ]
