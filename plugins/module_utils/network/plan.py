# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan from the network as it is to the network a tenant wants (or to none: teardown), as ordered
actions that reference resources by logical key, resolved to ids when they run.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import (
    tag_changes,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.layout import (
    DEFAULT_ROUTE,
    DHCP_KEY,
    IGW_KEY,
    PRIVATE,
    PUBLIC,
    PUBLIC_RT_KEY,
    S3_ENDPOINT_KEY,
    SECURITY_GROUP_ROLES,
    VPC_KEY,
    NetworkSpec,
    PlanError,
    eip_key,
    nat_key,
    resource_name,
    s3_service_name,
    security_group_name,
    sg_key,
    subnet_key,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.records import (
    ENDPOINT_GONE,
    NAT_GONE,
    Address,
    DhcpOptions,
    Discovered,
    Endpoint,
    InternetGateway,
    NatGateway,
    Record,
    RouteTable,
    SecurityGroup,
    Subnet,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.rules import (
    SECURITY_GROUP_DESCRIPTIONS,
    current_rules,
    rules_from_permissions,
    security_group_rules,
)


# Actions
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


class ResourceIndex:
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
    index = ResourceIndex(discovered, spec.tenant)
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


def _plan_dhcp(plan: NetworkPlan, spec: NetworkSpec, index: ResourceIndex, existing: list[tuple[str, Record]]) -> None:
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


def _plan_subnets(
    plan: NetworkPlan, spec: NetworkSpec, index: ResourceIndex, existing: list[tuple[str, Record]]
) -> None:
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
    plan: NetworkPlan, spec: NetworkSpec, index: ResourceIndex, existing: list[tuple[str, Record]]
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


def _association_of(index: ResourceIndex, subnet_id: str | None) -> tuple[str, str] | None:
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


def _ensure_association(plan: NetworkPlan, index: ResourceIndex, subnet_key_: str, table_key: str) -> None:
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


def _plan_public_routing(plan: NetworkPlan, spec: NetworkSpec, index: ResourceIndex, existing: list) -> None:
    tables = ResourceIndex.by_key(index.route_tables)
    table = _ensure_table(plan, spec, tables, PUBLIC_RT_KEY, existing)
    _ensure_default_route(plan, table, PUBLIC_RT_KEY, IGW_KEY)
    for zone in spec.zones:
        _ensure_association(plan, index, subnet_key(PUBLIC, zone), PUBLIC_RT_KEY)


def _plan_nat_gateways(plan: NetworkPlan, spec: NetworkSpec, index: ResourceIndex, existing: list) -> list[NatGateway]:
    """Create the missing NAT gateways; return the owned ones no longer wanted."""
    wanted = spec.nat_zones()
    nats = ResourceIndex.by_key(index.nats)
    addresses = ResourceIndex.by_key(index.addresses)
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


def _plan_private_routing(
    plan: NetworkPlan, spec: NetworkSpec, index: ResourceIndex, existing: list
) -> list[RouteTable]:
    """Private tables, their default routes and associations; return the owned tables no longer wanted."""
    tables = ResourceIndex.by_key(index.route_tables)
    for key, nat_zone in spec.private_route_tables().items():
        table = _ensure_table(plan, spec, tables, key, existing)
        _ensure_default_route(plan, table, key, nat_key(nat_zone) if nat_zone else None)
    for zone in spec.zones:
        _ensure_association(plan, index, subnet_key(PRIVATE, zone), spec.private_rt_of_zone(zone))
    wanted = {PUBLIC_RT_KEY, *spec.private_route_tables()}
    kept_ids = {plan.ids[k] for k in wanted if k in plan.ids}
    return [t for t in index.route_tables if t.id not in kept_ids and not t.main]


def _plan_surplus_nats(plan: NetworkPlan, index: ResourceIndex, surplus: list[NatGateway], spec: NetworkSpec) -> None:
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


def _plan_s3_endpoint(plan: NetworkPlan, spec: NetworkSpec, index: ResourceIndex, existing: list) -> None:
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


def _plan_security_groups(plan: NetworkPlan, spec: NetworkSpec, index: ResourceIndex, existing: list) -> None:
    vpc_id = plan.ids.get(VPC_KEY)
    by_name = {g.name: g for g in index.found.security_groups}
    # A group is the toolkit's by its toolkit:resource tag (an adopted group keeps the name it was made with,
    # which EC2 cannot change), else by the name the toolkit gives the groups it creates.
    by_key = ResourceIndex.by_key(index.groups)
    groups: dict[str, SecurityGroup | None] = {}
    for role in SECURITY_GROUP_ROLES:
        name = security_group_name(spec.tenant, role)
        key = sg_key(role)
        group = by_key.get(key) or by_name.get(name)
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
    wanted_rules = security_group_rules(spec.cidr, spec.builder_winrm_cidrs)
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


# Teardown
def plan_teardown(tenant: str, discovered: Discovered) -> NetworkPlan:
    """Delete what this tenant's network owns, in dependency order; report what is left and why."""
    plan = NetworkPlan()
    index = ResourceIndex(discovered, tenant)
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
