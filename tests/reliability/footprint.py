"""Everything a tenant owns on the sandbox, in a form two runs can be compared with.

`collect` reads every resource of the region (EC2/VPC through describe calls, the project's backends
through their `inventory` hooks, Secrets Manager, IAM, Application Auto Scaling, Budgets) and attributes
each one to a tenant: by its `tenant` tag, by the VPC it lives in, or, for the few kinds AWS does not tag,
by the tagged resource it belongs to. `normalised` then takes the ids, addresses and the tenant's own
name out of the descriptions, so the footprint of tenant A after an interrupted run can be compared with
the footprint of tenant B after a clean one. Anything created in the region that no tenant owns is an
orphan (`unattributed`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sandbox.client import SandboxClient

# Resource ids AWS generates: never equal between two runs.
_ID = re.compile(
    r"\b(vpc|subnet|rtb|rtbassoc|igw|nat|eipalloc|eipassoc|sg|sgr|vpce|dopt|acl|eni|pl|d|fs|backup)-[0-9a-f]{8,17}"
    r"(?![0-9a-f])"
)
_IPV4 = re.compile(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b(?!/)")


@dataclass(frozen=True)
class Resource:
    kind: str
    id: str
    owner: str | None  # the tenant it is attributed to; None for an orphan
    description: dict[str, Any] = field(hash=False, compare=False)


def _tags(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in items or []}


def _pages(client: Any, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    if client.can_paginate(operation):
        return [item for page in client.get_paginator(operation).paginate(**params) for item in page.get(key, [])]
    return getattr(client, operation)(**params).get(key, [])


def _ec2(sandbox: SandboxClient, region: str) -> list[Resource]:
    ec2 = sandbox.boto3("ec2", region)
    vpcs = _pages(ec2, "describe_vpcs", "Vpcs")
    vpc_owner = {vpc["VpcId"]: _tags(vpc.get("Tags")).get("tenant") for vpc in vpcs}
    # moto's default VPC and what comes with it are not the toolkit's.
    default_vpcs = {vpc["VpcId"] for vpc in vpcs if vpc.get("IsDefault")}
    subnets = _pages(ec2, "describe_subnets", "Subnets")
    subnet_name = {s["SubnetId"]: _tags(s.get("Tags")).get("Name", s["SubnetId"]) for s in subnets}
    groups = _pages(ec2, "describe_security_groups", "SecurityGroups")
    group_name = {g["GroupId"]: g["GroupName"] for g in groups}
    nats = [n for n in _pages(ec2, "describe_nat_gateways", "NatGateways") if n["State"] not in ("deleted", "failed")]
    nat_allocations = {a["AllocationId"] for n in nats for a in n.get("NatGatewayAddresses", [])}

    def owner(tags: dict[str, str], vpc_id: str | None = None) -> str | None:
        return tags.get("tenant") or (vpc_owner.get(vpc_id) if vpc_id else None)

    def rules(permissions: list[dict[str, Any]]) -> list[str]:
        rendered = []
        for rule in permissions:
            sources = [r["CidrIp"] for r in rule.get("IpRanges", [])]
            sources += [r["CidrIpv6"] for r in rule.get("Ipv6Ranges", [])]
            sources += [f"sg:{group_name.get(p['GroupId'], p['GroupId'])}" for p in rule.get("UserIdGroupPairs", [])]
            sources += [f"pl:{p['PrefixListId']}" for p in rule.get("PrefixListIds", [])]
            ports = f"{rule.get('FromPort', 'all')}-{rule.get('ToPort', 'all')}"
            rendered += [f"{rule['IpProtocol']}:{ports}:{source}" for source in sources]
        return sorted(rendered)

    found: list[Resource] = []
    for vpc in vpcs:
        if vpc.get("IsDefault"):
            continue
        tags = _tags(vpc.get("Tags"))
        found.append(Resource("vpc", vpc["VpcId"], tags.get("tenant"), {"cidr": vpc["CidrBlock"], "tags": tags}))
    for subnet in subnets:
        if subnet["VpcId"] in default_vpcs:
            continue
        tags = _tags(subnet.get("Tags"))
        description = {
            "cidr": subnet["CidrBlock"],
            "zone": subnet["AvailabilityZone"],
            "public_ip_on_launch": subnet.get("MapPublicIpOnLaunch", False),
            "tags": tags,
        }
        found.append(Resource("subnet", subnet["SubnetId"], owner(tags, subnet["VpcId"]), description))
    for table in _pages(ec2, "describe_route_tables", "RouteTables"):
        if table["VpcId"] in default_vpcs:
            continue
        tags = _tags(table.get("Tags"))
        routes = sorted(
            f"{r.get('DestinationCidrBlock') or r.get('DestinationPrefixListId')}->"
            f"{r.get('GatewayId') or r.get('NatGatewayId') or r.get('VpcEndpointId') or '?'}"
            for r in table.get("Routes", [])
        )
        associations = sorted(
            "main" if a.get("Main") else subnet_name.get(a.get("SubnetId", ""), "?") for a in table["Associations"]
        )
        description = {"routes": routes, "associations": associations, "tags": tags}
        found.append(Resource("route_table", table["RouteTableId"], owner(tags, table["VpcId"]), description))
    for gateway in _pages(ec2, "describe_internet_gateways", "InternetGateways"):
        tags = _tags(gateway.get("Tags"))
        attached = [a["VpcId"] for a in gateway.get("Attachments", [])]
        if default_vpcs.intersection(attached):
            continue
        description = {"attached": len(attached), "tags": tags}
        gateway_owner = owner(tags, next(iter(attached), None))
        found.append(Resource("internet_gateway", gateway["InternetGatewayId"], gateway_owner, description))
    for nat in nats:
        tags = _tags(nat.get("Tags"))
        description = {
            "state": nat["State"],
            "subnet": subnet_name.get(nat["SubnetId"], "?"),
            "addresses": len(nat.get("NatGatewayAddresses", [])),
            "tags": tags,
        }
        found.append(Resource("nat_gateway", nat["NatGatewayId"], owner(tags, nat["VpcId"]), description))
    for address in ec2.describe_addresses().get("Addresses", []):
        tags = _tags(address.get("Tags"))
        description = {"used_by_nat": address.get("AllocationId") in nat_allocations, "tags": tags}
        found.append(Resource("elastic_ip", address["AllocationId"], tags.get("tenant"), description))
    for group in groups:
        if group.get("VpcId") in default_vpcs:
            continue
        tags = _tags(group.get("Tags"))
        description = {
            "name": group["GroupName"],
            "description": group.get("Description", ""),
            "ingress": rules(group.get("IpPermissions", [])),
            "egress": rules(group.get("IpPermissionsEgress", [])),
            "tags": tags,
        }
        found.append(Resource("security_group", group["GroupId"], owner(tags, group.get("VpcId")), description))
    for endpoint in _pages(ec2, "describe_vpc_endpoints", "VpcEndpoints"):
        if endpoint["VpcId"] in default_vpcs or endpoint["State"].lower() in ("deleted", "deleting"):
            continue
        tags = _tags(endpoint.get("Tags"))
        description = {
            "service": endpoint["ServiceName"],
            "type": endpoint["VpcEndpointType"],
            "route_tables": len(endpoint.get("RouteTableIds", [])),
            "tags": tags,
        }
        found.append(Resource("vpc_endpoint", endpoint["VpcEndpointId"], owner(tags, endpoint["VpcId"]), description))
    for options in _pages(ec2, "describe_dhcp_options", "DhcpOptions"):
        tags = _tags(options.get("Tags"))
        if not tags:
            continue  # moto's default options set
        config = sorted(
            f"{c['Key']}={','.join(sorted(v['Value'] for v in c['Values']))}" for c in options["DhcpConfigurations"]
        )
        description = {"config": config, "tags": tags}
        found.append(Resource("dhcp_options", options["DhcpOptionsId"], tags.get("tenant"), description))
    return found


def _project_backends(sandbox: SandboxClient, region: str) -> tuple[list[Resource], dict[str, str | None]]:
    """The project's own backends (DS, FSx, AppStream, Budgets), and the owner of each fleet by name."""
    found: list[Resource] = []
    for directory in sandbox.hook("ds", "inventory", region=region)["directories"]:
        description = {
            key: directory[key] for key in ("name", "short_name", "edition", "stage", "domain_controllers", "tags")
        }
        found.append(Resource("directory", directory["id"], directory["tags"].get("tenant"), description))
    directory_owner = {d.id: d.owner for d in found}
    directory_by_name = {d.description["name"]: d.owner for d in found}

    fsx = sandbox.hook("fsx", "inventory", region=region)
    for system in fsx["file_systems"]:
        description = {
            key: system[key]
            for key in ("lifecycle", "deployment_type", "storage_type", "storage_capacity", "throughput_capacity")
        }
        description |= {"aliases": sorted(system["aliases"]), "tags": system["tags"]}
        description["joined_to_own_directory"] = directory_owner.get(system["directory_id"]) == system["tags"].get(
            "tenant"
        )
        found.append(Resource("file_system", system["id"], system["tags"].get("tenant"), description))
    for backup in fsx["backups"]:
        description = {"lifecycle": backup["lifecycle"], "type": backup["type"], "tags": backup["tags"]}
        found.append(Resource("fsx_backup", backup["id"], backup["tags"].get("tenant"), description))

    appstream = sandbox.hook("appstream", "inventory", region=region)
    fleet_owner: dict[str, str | None] = {}
    for kind, key in (("image", "images"), ("image_builder", "image_builders"), ("fleet", "fleets")):
        for name, item in appstream[key].items():
            description = {"name": name} | {k: v for k, v in item.items() if k != "image_arn"}
            if kind == "image_builder":
                description["base_image"] = item["image_arn"].rsplit("/", 1)[-1]
            found.append(Resource(kind, name, item["tags"].get("tenant"), description))
            if kind == "fleet":
                fleet_owner[name] = item["tags"].get("tenant")
    for name, stack in appstream["stacks"].items():
        found.append(Resource("stack", name, stack["tags"].get("tenant"), {"name": name} | stack))
    # AppStream directory configs carry no tags: they belong to the tenant of their directory.
    for name, config in appstream["directory_configs"].items():
        found.append(Resource("directory_config", name, directory_by_name.get(name), {"name": name} | config))
    for user in appstream["users"]:
        found.append(Resource("appstream_user", user, None, {"name": user}))

    for key, budget in sandbox.hook("budgets", "inventory", region=region)["budgets"].items():
        description = {"name": key.split("/", 1)[-1]} | budget
        found.append(Resource("budget", key, budget["tags"].get("tenant"), description))
    return found, fleet_owner


def _global_services(sandbox: SandboxClient, region: str, fleet_owner: dict[str, str | None]) -> list[Resource]:
    found: list[Resource] = []
    secrets = sandbox.boto3("secretsmanager", region)
    for secret in _pages(secrets, "list_secrets", "SecretList"):
        tags = _tags(secret.get("Tags"))
        found.append(Resource("secret", secret["Name"], tags.get("tenant"), {"name": secret["Name"], "tags": tags}))

    iam = sandbox.boto3("iam", region)
    for role in _pages(iam, "list_roles", "Roles"):
        tags = _tags(iam.list_role_tags(RoleName=role["RoleName"]).get("Tags"))
        policies = sorted(iam.list_role_policies(RoleName=role["RoleName"]).get("PolicyNames", []))
        description = {"name": role["RoleName"], "inline_policies": policies, "tags": tags}
        found.append(Resource("iam_role", role["RoleName"], tags.get("tenant"), description))
    for provider in iam.list_saml_providers().get("SAMLProviderList", []):
        # community.aws.iam_saml_federation does not tag providers (and moto cannot list their tags).
        name = provider["Arn"].rsplit("/", 1)[-1]
        found.append(Resource("saml_provider", name, None, {"name": name}))

    # Application Auto Scaling objects carry no tenant tag: they belong to the tenant of their fleet.
    scaling = sandbox.boto3("application-autoscaling", region)
    namespace = {"ServiceNamespace": "appstream"}
    for target in _pages(scaling, "describe_scalable_targets", "ScalableTargets", **namespace):
        fleet = target["ResourceId"].split("/", 1)[-1]
        # Its min/max are left out: with working hours, the first run registers the capacity of the moment.
        description = {"resource": target["ResourceId"]}
        found.append(Resource("scalable_target", target["ResourceId"], fleet_owner.get(fleet), description))
    for policy in _pages(scaling, "describe_scaling_policies", "ScalingPolicies", **namespace):
        fleet = policy["ResourceId"].split("/", 1)[-1]
        description = {"resource": policy["ResourceId"], "name": policy["PolicyName"], "type": policy["PolicyType"]}
        found.append(Resource("scaling_policy", policy["PolicyARN"], fleet_owner.get(fleet), description))
    for action in _pages(scaling, "describe_scheduled_actions", "ScheduledActions", **namespace):
        fleet = action["ResourceId"].split("/", 1)[-1]
        description = {
            "resource": action["ResourceId"],
            "name": action["ScheduledActionName"],
            "schedule": action["Schedule"],
            "timezone": action.get("Timezone"),
            "capacity": action.get("ScalableTargetAction"),
        }
        found.append(Resource("scheduled_action", action["ScheduledActionARN"], fleet_owner.get(fleet), description))
    return found


def collect(sandbox: SandboxClient, region: str) -> list[Resource]:
    """Every resource of the region that a tenant converge creates, attributed to its tenant."""
    backends, fleet_owner = _project_backends(sandbox, region)
    resources = _ec2(sandbox, region) + backends + _global_services(sandbox, region, fleet_owner)
    # The SAML provider and the IAM role of a tenant are named after it; IAM tags are optional there.
    tenants = {r.owner for r in resources if r.owner}
    attributed = []
    for resource in resources:
        if resource.owner is None and resource.kind in ("saml_provider", "iam_role"):
            owner = next((t for t in tenants if resource.id.startswith(f"{t}-")), None)
            resource = Resource(resource.kind, resource.id, owner, resource.description)
        attributed.append(resource)
    return attributed


# ---------------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------------
def _scrub(value: Any, replacements: list[tuple[str, str]]) -> Any:
    if isinstance(value, dict):
        return {_scrub(k, replacements): _scrub(v, replacements) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, replacements) for v in value]
    if isinstance(value, str):
        for old, new in replacements:
            value = value.replace(old, new)
        value = _ID.sub(lambda match: f"<{match.group(1)}>", value)
        return _IPV4.sub("<ip>", value)
    return value


def normalised(resources: list[Resource], tenant: str, netbios: str) -> dict[str, list[str]]:
    """The tenant's resources by kind, each a canonical JSON text without ids or the tenant's name."""
    replacements = [(tenant, "<tenant>"), (netbios, "<NETBIOS>")]
    by_kind: dict[str, list[str]] = {}
    for resource in resources:
        if resource.owner != tenant:
            continue
        text = json.dumps(_scrub(resource.description, replacements), sort_keys=True)
        by_kind.setdefault(resource.kind, []).append(text)
    return {kind: sorted(items) for kind, items in sorted(by_kind.items())}


def counts(resources: list[Resource], tenant: str) -> dict[str, int]:
    return dict(sorted(Counter(r.kind for r in resources if r.owner == tenant).items()))


def unattributed(resources: list[Resource], known_ids: set[tuple[str, str]]) -> list[Resource]:
    """Resources that no tenant owns and that were not there before (`known_ids`): orphans."""
    return [r for r in resources if r.owner is None and (r.kind, r.id) not in known_ids]


def difference(actual: dict[str, list[str]], expected: dict[str, list[str]]) -> dict[str, dict[str, list[str]]]:
    """Per kind, what `actual` has in excess of `expected` and what it lacks (empty when equal)."""
    report = {}
    for kind in sorted(set(actual) | set(expected)):
        extra = list((Counter(actual.get(kind, [])) - Counter(expected.get(kind, []))).elements())
        missing = list((Counter(expected.get(kind, [])) - Counter(actual.get(kind, []))).elements())
        if extra or missing:
            report[kind] = {"extra": extra, "missing": missing}
    return report
