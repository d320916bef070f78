#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tenant_inventory_info
version_added: 0.1.0
short_description: Read every AWS resource of one tenant, read-only, in few calls
description:
  - Finds the resources of one tenant footprint (docs/design.md, section 2) with read calls only and returns them
    as one structure, for reports and diagrams. Nothing is created, changed or deleted.
  - "Network: the VPCs tagged C(tenant=<tenant>), then in one call each by VPC id their subnets, internet
    gateways, NAT gateways, route tables, security groups and VPC endpoints."
  - "Directory Service: directories whose C(tenant) tag names the tenant (tags are read only for
    directories of the tenant's VPC or with O(directory_name)). FSx: Windows file systems tagged for the
    tenant and their backups."
  - "AppStream 2.0: the directory config of the tenant's directory, the image builder, the images named
    C(<tenant>-suite-*) (newest first; an image tagged for another tenant is left out), the fleet, the stack,
    their associations and the users associated with the stack. Budgets: the tenant's monthly budget."
  - A tenant part-way built is normal; missing resources are empty lists or null, never an error. Access
    denied on one service is reported in RV(unreadable) and the rest is still read.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  tenant:
    description: Name of the tenant (value of the C(tenant) tag, prefix of the resource names).
    type: str
    required: true
  directory_name:
    description:
      - Fully qualified name of the tenant's directory (C(tenant.directory.fqdn)); finds the AppStream
        directory config and narrows the Directory Service search. When omitted, the name of the directory
        found by tag is used.
    type: str
  fleet_name:
    description: Name of the fleet. Defaults to C(<tenant>-fleet).
    type: str
  stack_name:
    description: Name of the stack. Defaults to C(<tenant>-stack).
    type: str
  builder_name:
    description: Name of the image builder. Defaults to C(<tenant>-builder).
    type: str
  image_prefix:
    description: Name prefix of the tenant's images. Defaults to C(<tenant>-suite-).
    type: str
  budget_name:
    description: Name of the budget. Defaults to C(<tenant>-monthly).
    type: str
  user_pool:
    description:
      - Also read the AppStream user-pool users associated with the stack (status, enabled), for user-pool
        tenants. SAML users are not AppStream users; their stack associations are still listed.
    type: bool
    default: false
  secrets:
    description:
      - Also list the tenant's secrets in Secrets Manager (names starting with C(<tenant>/)) with their tags and
        scheduled deletion, in one paged C(ListSecrets) call. Secret values are never read.
    type: bool
    default: false
  retained_backups:
    description:
      - Also list the FSx backups tagged for the tenant that outlive their file system (the final backup taken
        when it was deleted, user-initiated backups), in one paged C(DescribeBackups) call over the region's
        backups.
    type: bool
    default: false
  alerts:
    description:
      - Also read the tenant's alert topic C(<tenant>-alerts) (its tags and e-mail subscriptions) and its
        CloudWatch metric alarms (names starting with C(<tenant>-), one C(DescribeAlarms) call, then their tags),
        with each alarm's state.
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.attributes.read_only
notes:
  - About 25 calls for a whole tenant, plus one per image and per directory of the tenant's VPC (their
    tags); about 10 when the tenant has nothing yet. Calls that depend on a missing resource (subnets of
    a missing VPC, backups of a missing file system, users of a missing stack) are not made.
"""

EXAMPLES = r"""
- name: Read the tenant's resources
  iconeus.tenant_toolkit.tenant_inventory_info:
    tenant: "{{ tenant_spec.name }}"
    directory_name: "{{ (tenant_spec.directory or {}).fqdn | default(omit) }}"
    user_pool: "{{ tenant_spec.auth == 'userpool' }}"
  register: inventory

- name: Show the fleet state
  ansible.builtin.debug:
    msg: "{{ inventory.resources.fleets | map(attribute='state') | list }}"
"""

RETURN = r"""
resources:
  description: The tenant's resources by kind; lists are empty and single resources null when absent.
  type: dict
  returned: success
  contains:
    tenant:
      description: Tenant name.
      type: str
      sample: demo
    region:
      description: Region read.
      type: str
      sample: eu-west-3
    read_at:
      description: UTC time of the reading (ISO 8601).
      type: str
      sample: "2026-11-28T17:20:00+00:00"
    vpc:
      description: The tenant's VPC (the first one when several carry the tag), or null.
      type: dict
      sample: {id: vpc-0abc, name: demo-vpc, cidr: 10.40.0.0/16, state: available}
    vpcs:
      description: Every VPC tagged for the tenant.
      type: list
      elements: dict
      sample: [{id: vpc-0abc, name: demo-vpc, cidr: 10.40.0.0/16, state: available}]
    subnets:
      description: Subnets of the VPC with their tier (C(public), C(private) or C(other)).
      type: list
      elements: dict
      sample: [{id: subnet-1, name: demo-private-eu-west-3a, cidr: 10.40.0.0/18, availability_zone: eu-west-3a,
                tier: private, state: available}]
    internet_gateways:
      description: Internet gateways attached to the VPC.
      type: list
      elements: dict
      sample: [{id: igw-1, name: demo-igw, state: available}]
    nat_gateways:
      description: NAT gateways of the VPC (deleted ones left out).
      type: list
      elements: dict
      sample: [{id: nat-1, name: demo-nat-eu-west-3a, subnet_id: subnet-2, availability_zone: eu-west-3a,
                state: available, public_ips: [198.51.100.7]}]
    route_tables:
      description: Route tables of the VPC.
      type: list
      elements: dict
      sample: [{id: rtb-1, name: demo-rt-private, main: false, subnet_ids: [subnet-1], routes: ["0.0.0.0/0 -> nat-1"]}]
    security_groups:
      description: Security groups of the VPC.
      type: list
      elements: dict
      sample: [{id: sg-1, name: demo-streaming, description: Streaming instances}]
    vpc_endpoints:
      description: VPC endpoints of the VPC.
      type: list
      elements: dict
      sample: [{id: vpce-1, service_name: com.amazonaws.eu-west-3.s3, type: Gateway, state: available}]
    directories:
      description: Managed Microsoft AD directories tagged for the tenant, each with its domain controllers.
      type: list
      elements: dict
      sample: [{id: d-1, name: corp.demo.example, edition: Standard, stage: Active,
                domain_controllers: [{ip: 10.40.1.10, subnet_id: subnet-1, availability_zone: eu-west-3a}]}]
    file_systems:
      description: FSx for Windows file systems tagged for the tenant.
      type: list
      elements: dict
      sample: [{id: fs-1, name: demo-fsx, lifecycle: AVAILABLE, deployment_type: SINGLE_AZ_2, storage_type: SSD,
                storage_capacity: 32, throughput_capacity: 32, subnet_ids: [subnet-1]}]
    backups:
      description: Backups of those file systems, newest first.
      type: list
      elements: dict
      sample: [{id: backup-1, file_system_id: fs-1, lifecycle: AVAILABLE, type: AUTOMATIC}]
    directory_configs:
      description: AppStream directory configs of the tenant's directory.
      type: list
      elements: dict
      sample: [{directory_name: corp.demo.example, organizational_units: ["OU=AppStream,OU=Computers,..."]}]
    image_builders:
      description: The tenant's image builder.
      type: list
      elements: dict
      sample: [{name: demo-builder, state: STOPPED, instance_type: stream.standard.medium, owned: true}]
    images:
      description: The tenant's images, newest first (C(owned) false when the image has no tenant tag).
      type: list
      elements: dict
      sample: [{name: demo-suite-3f9c0a1b2c4d, state: AVAILABLE, created: "2026-11-28T16:49:12+00:00", owned: true}]
    fleets:
      description: The tenant's fleet with its capacity and associated stacks.
      type: list
      elements: dict
      sample: [{name: demo-fleet, state: RUNNING, fleet_type: ON_DEMAND, instance_type: stream.standard.medium,
                capacity: {desired: 1, running: 1, in_use: 0, available: 1}, stacks: [demo-stack], owned: true}]
    stacks:
      description: The tenant's stack with its associated fleets.
      type: list
      elements: dict
      sample: [{name: demo-stack, fleets: [demo-fleet], owned: true}]
    users:
      description: Users associated with the stack (user-pool details with O(user_pool)).
      type: list
      elements: dict
      sample: [{user_name: ada@lab.example, authentication_type: USERPOOL, stack: demo-stack, enabled: true,
                status: CONFIRMED}]
    budget:
      description: The tenant's budget, or null.
      type: dict
      sample: {name: demo-monthly, limit: 300.0, unit: USD, actual_spend: 12.5, forecasted_spend: 250.0}
    secrets:
      description:
        - Secrets named C(<tenant>/...) (with O(secrets); empty otherwise). C(owned) is false when the secret's
          C(tenant) tag does not name the tenant; C(deletion_date) is set once a deletion is scheduled.
      type: list
      elements: dict
      sample: [{name: demo/directory/admin, tags: {tenant: demo}, owned: true, deletion_date: null,
                arn: "arn:aws:secretsmanager:eu-west-3:123456789012:secret:demo/directory/admin-AbCdEf"}]
    topic:
      description: The tenant's alert topic (with O(alerts)), or null; C(owned) false when not tagged for it.
      type: dict
      sample: {name: demo-alerts, arn: "arn:aws:sns:eu-west-3:123456789012:demo-alerts", owned: true,
               subscriptions: [{endpoint: ops@demo.example, status: confirmed}]}
    alarms:
      description: The tenant's CloudWatch metric alarms (with O(alerts)), C(owned) false when not tagged for it.
      type: list
      elements: dict
      sample: [{name: demo-fleet-insufficient-capacity, state: OK, owned: true, reason: "..."}]
    retained_backups:
      description:
        - Backups tagged for the tenant whose file system no longer exists, newest first (with
          O(retained_backups); empty otherwise).
      type: list
      elements: dict
      sample: [{id: backup-1, file_system_id: fs-1, lifecycle: AVAILABLE, type: USER_INITIATED,
                created: "2026-11-28T18:02:11+00:00", tags: {tenant: demo, Name: demo-fsx-final}}]
calls:
  description: Number of AWS API calls made (retries not counted).
  type: int
  returned: success
  sample: 21
calls_by_operation:
  description: The calls by C(service:Operation).
  type: dict
  returned: success
  sample: {"ec2:DescribeVpcs": 1, "appstream:DescribeFleets": 1}
unreadable:
  description: Reads refused by AWS (access denied), which left part of the structure empty.
  type: list
  elements: dict
  returned: success
  sample: [{call: "budgets:DescribeBudget", error: AccessDeniedException}]
"""

import contextlib
import datetime
import ipaddress
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.errors import error_code
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import list_to_dict

NOT_FOUND_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "EntityDoesNotExistException",
        "FileSystemNotFound",
        "BackupNotFound",
        "NotFoundException",
        "NotFound",  # SNS: GetTopicAttributes of a topic that does not exist
        "InvalidVpcID.NotFound",
        "InvalidSubnetID.NotFound",
    }
)
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException"})
NAT_GONE = frozenset({"deleted"})


class Unreadable(Exception):
    """AWS refused a read (access denied); recorded and the reading goes on."""


def iso(value: Any) -> str | None:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        return value.astimezone(datetime.UTC).replace(microsecond=0).isoformat()
    return None if value in (None, "") else str(value)


def ec2_tags(item: Mapping[str, Any]) -> dict[str, str]:
    return list_to_dict(item.get("Tags"))


def subnet_tier(tags: Mapping[str, str], public_ip_on_launch: bool) -> str:
    """public/private from the network module's logical key or Name, else from the subnet's setting."""
    for value in (tags.get("toolkit:resource", ""), tags.get("Name", "")):
        for tier in ("public", "private"):
            if value.startswith(f"{tier}-") or f"-{tier}-" in value or value.endswith(f"-{tier}"):
                return tier
    return "public" if public_ip_on_launch else "other"


def subnet_of_address(address: str, subnets: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    for subnet in subnets:
        try:
            if ip in ipaddress.ip_network(subnet["cidr"], strict=False):
                return subnet
        except (KeyError, ValueError):
            continue
    return None


def newest_first(items: list[dict[str, Any]], key: str = "created") -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: (item.get(key) or "", item.get("name") or item.get("id") or ""), reverse=True)


class Reader:
    """Counts calls, pages through results, and turns NotFound into "nothing there"."""

    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.clients: dict[str, Any] = {}
        self.calls: Counter[str] = Counter()
        self.unreadable: list[dict[str, str]] = []

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = self.module.client(service, retry_decorator=retry_decorator())
        return self.clients[service]

    def call(self, service: str, operation: str, **kwargs: Any) -> dict[str, Any] | None:
        """One API call; None when the resource does not exist."""
        method = getattr(self.client(service), operation)
        name = "".join(part.capitalize() for part in operation.split("_"))
        self.calls[f"{service}:{name}"] += 1
        try:
            return method(aws_retry=True, **kwargs)
        except Exception as err:
            code = error_code(err)
            if code in NOT_FOUND_CODES:
                return None
            if code in DENIED_CODES:
                self.unreadable.append({"call": f"{service}:{name}", "error": code})
                raise Unreadable(code) from err
            if hasattr(err, "response"):
                self.module.fail_json_aws(err, msg=f"Could not read {service}:{name}")
            raise

    def pages(self, service: str, operation: str, key: str, **kwargs: Any) -> list[Any]:
        """Every item of a paged call (NextToken); empty when the resource does not exist."""
        items: list[Any] = []
        request = dict(kwargs)
        while True:
            response = self.call(service, operation, **request)
            if response is None:
                return items
            items.extend(response.get(key) or [])
            following = response.get("NextToken")
            if not following:
                return items
            request["NextToken"] = following

    def section(self, read: Callable[[], None]) -> None:
        """Run one service's reads; access denied leaves that part empty."""
        with contextlib.suppress(Unreadable):
            read()


# --------------------------------------------------------------------------
# Shaping (AWS descriptions -> report structure)
# --------------------------------------------------------------------------


def shape_vpc(vpc: Mapping[str, Any]) -> dict[str, Any]:
    tags = ec2_tags(vpc)
    return {
        "id": vpc["VpcId"],
        "name": tags.get("Name", ""),
        "cidr": vpc.get("CidrBlock", ""),
        "state": vpc.get("State", ""),
        "tags": tags,
    }


def shape_subnet(subnet: Mapping[str, Any]) -> dict[str, Any]:
    tags = ec2_tags(subnet)
    return {
        "id": subnet["SubnetId"],
        "name": tags.get("Name", ""),
        "cidr": subnet.get("CidrBlock", ""),
        "availability_zone": subnet.get("AvailabilityZone", ""),
        "tier": subnet_tier(tags, bool(subnet.get("MapPublicIpOnLaunch"))),
        "state": subnet.get("State", ""),
        "vpc_id": subnet.get("VpcId", ""),
    }


def shape_nat(nat: Mapping[str, Any], zone_of_subnet: Mapping[str, str]) -> dict[str, Any]:
    tags = ec2_tags(nat)
    return {
        "id": nat["NatGatewayId"],
        "name": tags.get("Name", ""),
        "subnet_id": nat.get("SubnetId", ""),
        "availability_zone": zone_of_subnet.get(nat.get("SubnetId", ""), ""),
        "state": nat.get("State", ""),
        "public_ips": [a["PublicIp"] for a in nat.get("NatGatewayAddresses") or [] if a.get("PublicIp")],
    }


def route_text(route: Mapping[str, Any]) -> str:
    destination = route.get("DestinationCidrBlock") or route.get("DestinationPrefixListId") or "?"
    target = next(
        (
            route[key]
            for key in ("GatewayId", "NatGatewayId", "VpcPeeringConnectionId", "TransitGatewayId", "NetworkInterfaceId")
            if route.get(key)
        ),
        "?",
    )
    return f"{destination} -> {target}"


def shape_route_table(table: Mapping[str, Any]) -> dict[str, Any]:
    associations = table.get("Associations") or []
    return {
        "id": table["RouteTableId"],
        "name": ec2_tags(table).get("Name", ""),
        "main": any(a.get("Main") for a in associations),
        "subnet_ids": sorted(a["SubnetId"] for a in associations if a.get("SubnetId")),
        "routes": [route_text(r) for r in table.get("Routes") or []],
    }


def shape_directory(
    directory: Mapping[str, Any], tags: Mapping[str, str], subnets: list[dict[str, Any]]
) -> dict[str, Any]:
    settings = directory.get("VpcSettings") or {}
    controllers = []
    for address in directory.get("DnsIpAddrs") or []:
        subnet = subnet_of_address(address, subnets) or {}
        controllers.append(
            {"ip": address, "subnet_id": subnet.get("id", ""), "availability_zone": subnet.get("availability_zone", "")}
        )
    if not controllers:
        # Still creating: no address yet, but the directory's two subnets are known.
        zone_of = {s["id"]: s["availability_zone"] for s in subnets}
        controllers = [
            {"ip": "", "subnet_id": subnet_id, "availability_zone": zone_of.get(subnet_id, "")}
            for subnet_id in settings.get("SubnetIds") or []
        ]
    return {
        "id": directory["DirectoryId"],
        "name": directory.get("Name", ""),
        "short_name": directory.get("ShortName", ""),
        "edition": directory.get("Edition", ""),
        "type": directory.get("Type", ""),
        "stage": directory.get("Stage", ""),
        "vpc_id": settings.get("VpcId", ""),
        "subnet_ids": list(settings.get("SubnetIds") or []),
        "dns_ips": list(directory.get("DnsIpAddrs") or []),
        "domain_controllers": controllers,
        "desired_domain_controllers": directory.get("DesiredNumberOfDomainControllers"),
        "launched": iso(directory.get("LaunchTime")),
        "tags": dict(tags),
    }


def shape_file_system(fs: Mapping[str, Any]) -> dict[str, Any]:
    tags = ec2_tags(fs)
    windows = fs.get("WindowsConfiguration") or {}
    return {
        "id": fs["FileSystemId"],
        "name": tags.get("Name", ""),
        "lifecycle": fs.get("Lifecycle", ""),
        "deployment_type": windows.get("DeploymentType", ""),
        "storage_type": fs.get("StorageType", ""),
        "storage_capacity": fs.get("StorageCapacity"),
        "throughput_capacity": windows.get("ThroughputCapacity"),
        "subnet_ids": list(fs.get("SubnetIds") or []),
        "preferred_subnet_id": windows.get("PreferredSubnetId") or (fs.get("SubnetIds") or [""])[0],
        "dns_name": fs.get("DNSName", ""),
        "directory_id": windows.get("ActiveDirectoryId", ""),
        "backup_retention_days": windows.get("AutomaticBackupRetentionDays"),
        "created": iso(fs.get("CreationTime")),
        "tags": tags,
    }


def shape_backup(backup: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": backup["BackupId"],
        "file_system_id": (backup.get("FileSystem") or {}).get("FileSystemId", ""),
        "lifecycle": backup.get("Lifecycle", ""),
        "type": backup.get("Type", ""),
        "created": iso(backup.get("CreationTime")),
    }


def shape_secret(secret: Mapping[str, Any], tenant: str) -> dict[str, Any]:
    tags = ec2_tags(secret)
    return {
        "name": secret["Name"],
        "arn": secret.get("ARN", ""),
        "tags": tags,
        "owned": tags.get("tenant") == tenant,
        "deletion_date": iso(secret.get("DeletedDate")),
    }


def vpc_subnets(resource: Mapping[str, Any]) -> list[str]:
    return list((resource.get("VpcConfig") or {}).get("SubnetIds") or [])


def shape_builder(builder: Mapping[str, Any], tags: Mapping[str, str], tenant: str) -> dict[str, Any]:
    return {
        "name": builder["Name"],
        "state": builder.get("State", ""),
        "instance_type": builder.get("InstanceType", ""),
        "image_arn": builder.get("ImageArn", ""),
        "subnet_ids": vpc_subnets(builder),
        "created": iso(builder.get("CreatedTime")),
        "owned": tags.get("tenant") == tenant,
    }


def shape_image(image: Mapping[str, Any], tags: Mapping[str, str], tenant: str) -> dict[str, Any]:
    return {
        "name": image["Name"],
        "state": image.get("State", ""),
        "platform": image.get("Platform", ""),
        "base_image_arn": image.get("BaseImageArn", ""),
        "builder_name": image.get("ImageBuilderName", ""),
        "created": iso(image.get("CreatedTime")),
        "applications": sorted(a.get("Name", "") for a in image.get("Applications") or []),
        "owned": tags.get("tenant") == tenant,
    }


def shape_fleet(fleet: Mapping[str, Any], tags: Mapping[str, str], tenant: str) -> dict[str, Any]:
    capacity = fleet.get("ComputeCapacityStatus") or {}
    return {
        "name": fleet["Name"],
        "state": fleet.get("State", ""),
        "fleet_type": fleet.get("FleetType", ""),
        "instance_type": fleet.get("InstanceType", ""),
        "image_name": fleet.get("ImageName", ""),
        "subnet_ids": vpc_subnets(fleet),
        "capacity": {
            "desired": capacity.get("Desired"),
            "running": capacity.get("Running"),
            "in_use": capacity.get("InUse"),
            "available": capacity.get("Available"),
        },
        "max_concurrent_sessions": fleet.get("MaxConcurrentSessions"),
        "domain": (fleet.get("DomainJoinInfo") or {}).get("DirectoryName", ""),
        "errors": [f"{e.get('ErrorCode', '')}: {e.get('ErrorMessage', '')}" for e in fleet.get("FleetErrors") or []],
        "created": iso(fleet.get("CreatedTime")),
        "stacks": [],
        "owned": tags.get("tenant") == tenant,
    }


def shape_stack(stack: Mapping[str, Any], tags: Mapping[str, str], tenant: str) -> dict[str, Any]:
    return {
        "name": stack["Name"],
        "display_name": stack.get("DisplayName", ""),
        "created": iso(stack.get("CreatedTime")),
        "fleets": [],
        "owned": tags.get("tenant") == tenant,
    }


def shape_budget(budget: Mapping[str, Any]) -> dict[str, Any]:
    limit = budget.get("BudgetLimit") or {}
    spend = budget.get("CalculatedSpend") or {}

    def amount(value: Mapping[str, Any] | None) -> float | None:
        try:
            return float((value or {}).get("Amount"))
        except (TypeError, ValueError):
            return None

    return {
        "name": budget.get("BudgetName", ""),
        "limit": amount(limit),
        "unit": limit.get("Unit", "USD"),
        "actual_spend": amount(spend.get("ActualSpend")),
        "forecasted_spend": amount(spend.get("ForecastedSpend")),
    }


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


class TenantInventory:
    def __init__(self, module: AnsibleAWSModule) -> None:
        params = module.params
        self.tenant: str = params["tenant"]
        self.params = params
        self.reader = Reader(module)
        self.resources: dict[str, Any] = {
            "tenant": self.tenant,
            "region": module.region or "",
            "read_at": datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat(),
            "vpc": None,
            "vpcs": [],
            "subnets": [],
            "internet_gateways": [],
            "nat_gateways": [],
            "route_tables": [],
            "security_groups": [],
            "vpc_endpoints": [],
            "directories": [],
            "file_systems": [],
            "backups": [],
            "directory_configs": [],
            "image_builders": [],
            "images": [],
            "fleets": [],
            "stacks": [],
            "users": [],
            "budget": None,
            "secrets": [],
            "retained_backups": [],
            "topic": None,
            "alarms": [],
        }

    def name(self, option: str, suffix: str) -> str:
        return self.params.get(option) or f"{self.tenant}{suffix}"

    def read(self) -> dict[str, Any]:
        section = self.reader.section
        section(self.read_network)
        section(self.read_directories)
        section(self.read_file_systems)
        section(self.read_appstream)
        section(self.read_budget)
        if self.params["secrets"]:
            section(self.read_secrets)
        if self.params["retained_backups"]:
            section(self.read_retained_backups)
        if self.params["alerts"]:
            section(self.read_alerts)
        return self.resources

    # -- network ------------------------------------------------------------------------------
    def read_network(self) -> None:
        r = self.resources
        vpcs = self.reader.pages(
            "ec2", "describe_vpcs", "Vpcs", Filters=[{"Name": "tag:tenant", "Values": [self.tenant]}]
        )
        r["vpcs"] = sorted((shape_vpc(v) for v in vpcs), key=lambda v: v["id"])
        if not r["vpcs"]:
            return  # nothing else of the network can exist without a VPC
        r["vpc"] = r["vpcs"][0]
        by_vpc = [{"Name": "vpc-id", "Values": [v["id"] for v in r["vpcs"]]}]
        subnets = self.reader.pages("ec2", "describe_subnets", "Subnets", Filters=by_vpc)
        r["subnets"] = sorted(
            (shape_subnet(s) for s in subnets), key=lambda s: (s["availability_zone"], s["tier"], s["cidr"], s["id"])
        )
        zone_of = {s["id"]: s["availability_zone"] for s in r["subnets"]}
        gateways = self.reader.pages(
            "ec2",
            "describe_internet_gateways",
            "InternetGateways",
            Filters=[{"Name": "attachment.vpc-id", "Values": [v["id"] for v in r["vpcs"]]}],
        )
        r["internet_gateways"] = sorted(
            (
                {
                    "id": g["InternetGatewayId"],
                    "name": ec2_tags(g).get("Name", ""),
                    "state": ",".join(a.get("State", "") for a in g.get("Attachments") or []),
                }
                for g in gateways
            ),
            key=lambda g: g["id"],
        )
        nats = self.reader.pages("ec2", "describe_nat_gateways", "NatGateways", Filters=by_vpc)
        r["nat_gateways"] = sorted(
            (shape_nat(n, zone_of) for n in nats if n.get("State") not in NAT_GONE),
            key=lambda n: (n["availability_zone"], n["id"]),
        )
        tables = self.reader.pages("ec2", "describe_route_tables", "RouteTables", Filters=by_vpc)
        r["route_tables"] = sorted(
            (shape_route_table(t) for t in tables), key=lambda t: (not t["main"], t["name"], t["id"])
        )
        groups = self.reader.pages("ec2", "describe_security_groups", "SecurityGroups", Filters=by_vpc)
        r["security_groups"] = sorted(
            (
                {"id": g["GroupId"], "name": g.get("GroupName", ""), "description": g.get("Description", "")}
                for g in groups
            ),
            key=lambda g: (g["name"], g["id"]),
        )
        endpoints = self.reader.pages("ec2", "describe_vpc_endpoints", "VpcEndpoints", Filters=by_vpc)
        r["vpc_endpoints"] = sorted(
            (
                {
                    "id": e["VpcEndpointId"],
                    "service_name": e.get("ServiceName", ""),
                    "type": e.get("VpcEndpointType", ""),
                    "state": e.get("State", ""),
                    "route_table_ids": sorted(e.get("RouteTableIds") or []),
                }
                for e in endpoints
            ),
            key=lambda e: e["id"],
        )

    # -- Directory Service ----------------------------------------------------------------------
    def read_directories(self) -> None:
        wanted_name = self.params.get("directory_name")
        vpc_ids = {v["id"] for v in self.resources["vpcs"]}
        descriptions = self.reader.pages("ds", "describe_directories", "DirectoryDescriptions")
        found = []
        for description in descriptions:
            in_vpc = (description.get("VpcSettings") or {}).get("VpcId") in vpc_ids
            named = wanted_name and description.get("Name", "").lower() == wanted_name.lower()
            # Reading tags costs a call per directory: only for the tenant's candidates,
            # unless nothing narrows the search.
            if not (in_vpc or named or (not wanted_name and not vpc_ids)):
                continue
            response = self.reader.pages("ds", "list_tags_for_resource", "Tags", ResourceId=description["DirectoryId"])
            tags = list_to_dict(response)
            if tags.get("tenant") == self.tenant:
                found.append(shape_directory(description, tags, self.resources["subnets"]))
        self.resources["directories"] = sorted(found, key=lambda d: d["id"])

    # -- FSx --------------------------------------------------------------------------------------
    def read_file_systems(self) -> None:
        systems = self.reader.pages("fsx", "describe_file_systems", "FileSystems")
        owned = [
            shape_file_system(fs)
            for fs in systems
            if fs.get("FileSystemType") == "WINDOWS" and ec2_tags(fs).get("tenant") == self.tenant
        ]
        self.resources["file_systems"] = sorted(owned, key=lambda f: f["id"])
        if not owned:
            return
        backups = self.reader.pages(
            "fsx",
            "describe_backups",
            "Backups",
            Filters=[{"Name": "file-system-id", "Values": [f["id"] for f in owned]}],
        )
        self.resources["backups"] = newest_first([shape_backup(b) for b in backups])

    # -- AppStream --------------------------------------------------------------------------------
    def appstream_tags(self, arn: str | None) -> dict[str, str]:
        if not arn:
            return {}
        response = self.reader.call("appstream", "list_tags_for_resource", ResourceArn=arn)
        return dict((response or {}).get("Tags") or {})

    def read_appstream(self) -> None:
        r = self.resources
        directory_name = self.params.get("directory_name") or next((d["name"] for d in r["directories"]), None)
        if directory_name:
            configs = self.reader.pages(
                "appstream", "describe_directory_configs", "DirectoryConfigs", DirectoryNames=[directory_name]
            )
            r["directory_configs"] = [
                {
                    "directory_name": c.get("DirectoryName", ""),
                    "organizational_units": list(c.get("OrganizationalUnitDistinguishedNames") or []),
                    "created": iso(c.get("CreatedTime")),
                }
                for c in configs
            ]

        builders = self.reader.pages(
            "appstream", "describe_image_builders", "ImageBuilders", Names=[self.name("builder_name", "-builder")]
        )
        r["image_builders"] = [shape_builder(b, self.appstream_tags(b.get("Arn")), self.tenant) for b in builders]

        prefix = self.name("image_prefix", "-suite-")
        images = []
        for image in self.reader.pages("appstream", "describe_images", "Images", Type="PRIVATE"):
            if not image.get("Name", "").startswith(prefix):
                continue
            tags = self.appstream_tags(image.get("Arn"))
            if tags.get("tenant") not in (None, self.tenant):
                continue  # another tenant's image whose name happens to share the prefix
            images.append(shape_image(image, tags, self.tenant))
        r["images"] = newest_first(images)

        fleets = self.reader.pages("appstream", "describe_fleets", "Fleets", Names=[self.name("fleet_name", "-fleet")])
        r["fleets"] = [shape_fleet(f, self.appstream_tags(f.get("Arn")), self.tenant) for f in fleets]
        stacks = self.reader.pages("appstream", "describe_stacks", "Stacks", Names=[self.name("stack_name", "-stack")])
        r["stacks"] = [shape_stack(s, self.appstream_tags(s.get("Arn")), self.tenant) for s in stacks]

        for fleet in r["fleets"]:
            fleet["stacks"] = sorted(
                self.reader.pages("appstream", "list_associated_stacks", "Names", FleetName=fleet["name"])
            )
        for stack in r["stacks"]:
            # An association seen from the fleet saves the reverse call.
            stack["fleets"] = sorted(f["name"] for f in r["fleets"] if stack["name"] in f["stacks"])
            if not stack["fleets"]:
                stack["fleets"] = sorted(
                    self.reader.pages("appstream", "list_associated_fleets", "Names", StackName=stack["name"])
                )
            associations = self.reader.pages(
                "appstream", "describe_user_stack_associations", "UserStackAssociations", StackName=stack["name"]
            )
            r["users"].extend(
                {
                    "user_name": a.get("UserName", ""),
                    "authentication_type": a.get("AuthenticationType", ""),
                    "stack": stack["name"],
                }
                for a in associations
            )
        r["users"].sort(key=lambda u: (u["stack"], u["user_name"].lower()))
        if self.params["user_pool"] and any(u["authentication_type"] == "USERPOOL" for u in r["users"]):
            pool = {
                u["UserName"].lower(): u
                for u in self.reader.pages("appstream", "describe_users", "Users", AuthenticationType="USERPOOL")
            }
            for user in r["users"]:
                detail = pool.get(user["user_name"].lower())
                if detail:
                    user.update(
                        enabled=detail.get("Enabled"),
                        status=detail.get("Status", ""),
                        first_name=detail.get("FirstName", ""),
                        last_name=detail.get("LastName", ""),
                    )

    # -- Budgets ------------------------------------------------------------------------------------
    def account(self) -> str | None:
        if "_account" not in self.__dict__:
            identity = self.reader.call("sts", "get_caller_identity") or {}
            self.__dict__["_account"] = identity.get("Account")
        return self.__dict__["_account"]

    def read_budget(self) -> None:
        account = self.account()
        if not account:
            return
        response = self.reader.call(
            "budgets", "describe_budget", AccountId=account, BudgetName=self.name("budget_name", "-monthly")
        )
        if response and response.get("Budget"):
            self.resources["budget"] = shape_budget(response["Budget"])

    # -- Secrets Manager ----------------------------------------------------------------------------
    def read_secrets(self) -> None:
        prefix = f"{self.tenant}/"
        listed = self.reader.pages(
            "secretsmanager",
            "list_secrets",
            "SecretList",
            Filters=[{"Key": "name", "Values": [prefix]}],
            IncludePlannedDeletion=True,
        )
        # The name filter also matches words inside names: keep only the tenant's own prefix.
        secrets = [shape_secret(s, self.tenant) for s in listed if s.get("Name", "").startswith(prefix)]
        self.resources["secrets"] = sorted(secrets, key=lambda s: s["name"])

    # -- SNS and CloudWatch -----------------------------------------------------------------------------
    def read_alerts(self) -> None:
        account = self.account()
        region = self.resources["region"]
        if account:
            arn = f"arn:aws:sns:{region}:{account}:{self.tenant}-alerts"
            if self.reader.call("sns", "get_topic_attributes", TopicArn=arn) is not None:
                tags = list_to_dict(
                    (self.reader.call("sns", "list_tags_for_resource", ResourceArn=arn) or {}).get("Tags")
                )
                subscriptions = self.reader.pages("sns", "list_subscriptions_by_topic", "Subscriptions", TopicArn=arn)
                self.resources["topic"] = {
                    "name": f"{self.tenant}-alerts",
                    "arn": arn,
                    "owned": tags.get("tenant") == self.tenant,
                    "subscriptions": [
                        {
                            "endpoint": item.get("Endpoint", ""),
                            "status": "confirmed"
                            if str(item.get("SubscriptionArn", "")).startswith("arn:")
                            else "pending",
                        }
                        for item in subscriptions
                        if item.get("Protocol") in ("email", "email-json")
                    ],
                }
        alarms = []
        for alarm in self.reader.pages(
            "cloudwatch",
            "describe_alarms",
            "MetricAlarms",
            AlarmNamePrefix=f"{self.tenant}-",
            AlarmTypes=["MetricAlarm"],
        ):
            tags = list_to_dict(
                (self.reader.call("cloudwatch", "list_tags_for_resource", ResourceARN=alarm["AlarmArn"]) or {}).get(
                    "Tags"
                )
            )
            if tags.get("tenant") not in (None, self.tenant):
                continue  # another tenant's alarm whose name shares the prefix
            alarms.append(
                {
                    "name": alarm["AlarmName"],
                    "state": alarm.get("StateValue", ""),
                    "reason": alarm.get("StateReason", ""),
                    "updated": iso(alarm.get("StateUpdatedTimestamp")),
                    "owned": tags.get("tenant") == self.tenant,
                }
            )
        self.resources["alarms"] = sorted(alarms, key=lambda a: a["name"])

    def read_retained_backups(self) -> None:
        # DescribeBackups cannot filter by tag, and the file system of such a backup is gone.
        live = {fs["id"] for fs in self.resources["file_systems"]}
        retained = [
            {**shape_backup(backup), "tags": ec2_tags(backup)}
            for backup in self.reader.pages("fsx", "describe_backups", "Backups")
            if ec2_tags(backup).get("tenant") == self.tenant
            and (backup.get("FileSystem") or {}).get("FileSystemId") not in live
        ]
        self.resources["retained_backups"] = newest_first(retained)


def main() -> None:
    argument_spec = dict(
        tenant=dict(type="str", required=True),
        directory_name=dict(type="str"),
        fleet_name=dict(type="str"),
        stack_name=dict(type="str"),
        builder_name=dict(type="str"),
        image_prefix=dict(type="str"),
        budget_name=dict(type="str"),
        user_pool=dict(type="bool", default=False),
        secrets=dict(type="bool", default=False),
        retained_backups=dict(type="bool", default=False),
        alerts=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    inventory = TenantInventory(module)
    resources = inventory.read()
    module.exit_json(
        changed=False,
        resources=resources,
        calls=sum(inventory.reader.calls.values()),
        calls_by_operation=dict(sorted(inventory.reader.calls.items())),
        unreadable=inventory.reader.unreadable,
    )


if __name__ == "__main__":
    main()
