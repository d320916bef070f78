#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tenant_adopt
version_added: 0.2.0
short_description: Bring existing untagged resources (VPC, directory, file system, fleet, stack) under a tenant
description:
  - The toolkit only changes what carries its ownership tags, and finds a tenant's resources by them. Resources
    made before the toolkit (in the console, by a script) are therefore invisible to it, and a converge would
    make a second copy of each. This module describes such resources, shows how each differs from the tenant
    definition, and with O(confirm=true) gives them the tags that make them the tenant's.
  - For the VPC, each of its resources gets the logical key C(tenant_network) finds it by
    (C(toolkit:component=network), C(toolkit:resource)), mapped by what it is (subnets by CIDR and zone
    against the tenant's layout, gateways, route tables by their subnets, the S3 endpoint, security groups by
    name or by what uses them). What maps to nothing is left as it is and listed. The file system also gets the
    C(Name) tag the toolkit finds it by.
  - A resource that carries another tenant's C(tenant) tag is never adopted, the module fails naming it. A
    difference AWS cannot change in place (a directory's name or subnets, a file system's deployment type, a
    fleet's type, an AppStream name, another VPC range) is a blocker; nothing is tagged while there is one,
    since the tenant could not converge afterwards.
  - Without O(confirm) (and in check mode) only Describe, List and Get calls are made.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  tenant:
    description: The normalised tenant definition (C(tenant_spec) of the validate play).
    type: dict
    required: true
  vpc_id:
    description: The VPC to adopt as the tenant's network.
    type: str
  directory_id:
    description: The AWS Managed Microsoft AD directory to adopt.
    type: str
  file_system_id:
    description: The FSx for Windows File Server file system to adopt.
    type: str
  fleet:
    description: The AppStream fleet to adopt (it must be named C(<tenant>-fleet)).
    type: str
  stack:
    description: The AppStream stack to adopt (it must be named C(<tenant>-stack)).
    type: str
  image_name:
    description: The catalogue image the fleet should stream (C(tenant_image_name)); shown as a difference.
    type: str
  confirm:
    description: Tag the resources. Without it the module only describes them and the plan.
    type: bool
    default: false
attributes:
  check_mode:
    details: Read calls only; with O(confirm=true), C(changed) says whether tags would be set.
  diff_mode:
    support: none
    details: The result lists the resources found and how each differs from the tenant definition instead.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.attributes
"""

EXAMPLES = r"""
- name: Describe what adopting the lab's console resources would do
  iconeus.tenant_toolkit.tenant_adopt:
    tenant: "{{ tenant_spec }}"
    image_name: "{{ tenant_image_name }}"
    vpc_id: vpc-0a1b2c3d4e5f60718
    directory_id: d-1234567890
    file_system_id: fs-0123456789abcdef0
    fleet: acme-neuro-fleet
    stack: acme-neuro-stack
  register: adoption

- name: Adopt them
  iconeus.tenant_toolkit.tenant_adopt:
    tenant: "{{ tenant_spec }}"
    vpc_id: vpc-0a1b2c3d4e5f60718
    confirm: true
"""

RETURN = r"""
adoption:
  description: The plan of the adoption (what was done, with O(confirm=true) outside check mode).
  returned: always
  type: dict
  contains:
    resources:
      description: Every resource the tenant takes over, with its logical key (network) and the tags it lacks.
      type: list
      elements: dict
      sample: [{kind: subnet, id: subnet-0a1b2c3d, key: private-subnet-eu-west-3a, name: lab-private-a,
                tags_to_set: {tenant: acme-neuro, toolkit:component: network, Name: acme-neuro-private-eu-west-3a}}]
    kept:
      description: Resources left as they are, untagged, with the reason.
      type: list
      elements: dict
      sample: [{kind: subnet, id: subnet-0f0e0d0c, reason: "10.40.130.0/24 is outside the tenant's subnet layout"}]
    refused:
      description: Resources that carry another tenant's tag (never adopted).
      type: list
      elements: dict
      sample: []
    differences:
      description: How each resource differs from the tenant definition; C(in_place) false for what AWS cannot change.
      type: list
      elements: dict
      sample:
        - resource: fleet acme-neuro-fleet
          field: image
          current: LabImage
          wanted: acme-neuro-suite-0a1b2c3d4e5f
          in_place: true
          note: the converge builds the catalogue image if it does not exist
    blockers:
      description: Why the tenant could not converge after adoption (nothing is tagged while there is one).
      type: list
      elements: str
      sample: []
    notes:
      description: What the next converge changes or creates in the network.
      type: list
      elements: str
      sample: [the converge creates the security group acme-neuro-directory]
tagged:
  description: Ids (or ARNs) of the resources tagged by this run.
  returned: always
  type: list
  elements: str
  sample: [vpc-0a1b2c3d4e5f60718]
"""

from typing import Any

try:  # noqa: SIM105 - the amazon.aws idiom: AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.adoption import (
    directory_differences,
    file_system_differences,
    fleet_differences,
    stack_differences,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.pagination import paginate
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import (
    dict_to_list,
    list_to_dict,
    owner_of,
    ownership_tags,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.adopt import (
    adopt_network,
    layout_zones,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.adopt import (
    summary as network_summary,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.layout import (
    NetworkSpec,
    PlanError,
    fill_zones,
    subnet_key,
    subnet_layout,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.records import (
    Discovered,
    address_from_aws,
    endpoint_from_aws,
    internet_gateway_from_aws,
    nat_gateway_from_aws,
    route_table_from_aws,
    security_group_from_aws,
    subnet_from_aws,
    vpc_from_aws,
)


class Missing(Exception):
    """A resource named by an option does not exist."""


class Adoption:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.params = module.params
        self.tenant = module.params["tenant"]
        self.name = str(self.tenant["name"])
        self.environment = self.tenant.get("environment")
        self.ec2 = module.client("ec2", retry_decorator=retry_decorator())
        self.resources: list[dict[str, Any]] = []
        self.kept: list[dict[str, str]] = []
        self.refused: list[dict[str, str]] = []
        self.differences: list[dict[str, Any]] = []
        self.blockers: list[str] = []
        self.notes: list[str] = []
        self.writers: list[Any] = []  # one function per resource to tag, run only when confirmed
        self.private_subnets: list[str] | None = None

    # -- bookkeeping ---------------------------------------------------------------------------------
    def take(self, kind: str, ident: str, name: str, tags: dict[str, str], wanted: dict[str, str], writer: Any) -> None:
        owner = owner_of(tags)
        if owner is not None and owner != self.name:
            self.refused.append({"kind": kind, "id": ident, "owner": owner})
            return
        missing = {k: v for k, v in wanted.items() if tags.get(k) != v}
        self.resources.append({"kind": kind, "id": ident, "key": None, "name": name, "tags_to_set": missing})
        if missing:
            self.writers.append(lambda: writer(missing))

    # -- network -------------------------------------------------------------------------------------
    def _all(self, method: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
        return paginate(getattr(self.ec2, method), key, aws_retry=True, **kwargs)

    def read_vpc(self, vpc_id: str) -> Discovered:
        try:
            vpcs = self.ec2.describe_vpcs(VpcIds=[vpc_id], aws_retry=True)["Vpcs"]
        except is_boto3_error_code("InvalidVpcID.NotFound"):
            raise Missing(f"vpc_id: there is no VPC {vpc_id} in {self.module.region}") from None
        found = Discovered(vpc=vpc_from_aws(vpcs[0]))
        in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
        for attribute, field in (("enableDnsSupport", "dns_support"), ("enableDnsHostnames", "dns_hostnames")):
            answer = self.ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute, aws_retry=True)
            setattr(found.vpc, field, bool(answer[attribute[0].upper() + attribute[1:]]["Value"]))
        found.subnets = [subnet_from_aws(s) for s in self._all("describe_subnets", "Subnets", Filters=in_vpc)]
        found.route_tables = [
            route_table_from_aws(t) for t in self._all("describe_route_tables", "RouteTables", Filters=in_vpc)
        ]
        found.nat_gateways = [
            nat_gateway_from_aws(n) for n in self._all("describe_nat_gateways", "NatGateways", Filter=in_vpc)
        ]
        found.endpoints = [
            endpoint_from_aws(e) for e in self._all("describe_vpc_endpoints", "VpcEndpoints", Filters=in_vpc)
        ]
        found.security_groups = [
            security_group_from_aws(g) for g in self._all("describe_security_groups", "SecurityGroups", Filters=in_vpc)
        ]
        attached = [{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
        found.internet_gateways = [
            internet_gateway_from_aws(g)
            for g in self._all("describe_internet_gateways", "InternetGateways", Filters=attached)
        ]
        allocations = [n.allocation_id for n in found.nat_gateways if n.allocation_id]
        if allocations:
            answer = self.ec2.describe_addresses(AllocationIds=allocations, aws_retry=True)
            found.addresses = [address_from_aws(a) for a in answer.get("Addresses", [])]
        return found

    def network_spec(self, found: Discovered) -> NetworkSpec:
        network = self.tenant["network"]
        count = int(network.get("availability_zones") or 2)
        layout = subnet_layout(network["cidr"], count)
        partial = layout_zones(layout, found.subnets)
        if None in partial:
            zones = self._all(
                "describe_availability_zones", "AvailabilityZones", Filters=[{"Name": "state", "Values": ["available"]}]
            )
            partial = fill_zones(
                partial, [z["ZoneName"] for z in zones if z.get("ZoneType", "availability-zone") == "availability-zone"]
            )
        return NetworkSpec(
            tenant=self.name,
            region=self.module.region,
            cidr=network["cidr"],
            zones=[str(zone) for zone in partial],
            layout=layout,
            nat_mode=network.get("nat_gateways") or "single",
            environment=self.environment,
        )

    def adopt_vpc(self, vpc_id: str, group_uses: dict[str, set[str]]) -> None:
        found = self.read_vpc(vpc_id)
        spec = self.network_spec(found)
        plan = adopt_network(spec, found, group_uses)
        shown = network_summary(plan)
        for claim in shown["claims"]:
            self.resources.append(claim)
            if claim["tags_to_set"]:
                self.writers.append(
                    lambda ident=claim["id"], tags=claim["tags_to_set"]: self.ec2.create_tags(
                        Resources=[ident], Tags=dict_to_list(tags), aws_retry=True
                    )
                )
        self.kept += shown["kept"]
        self.refused += shown["refused"]
        self.blockers += shown["blockers"]
        self.notes += shown["notes"]
        by_key = {claim.key: claim.id for claim in plan.claims}
        self.private_subnets = [
            by_key.get(subnet_key("private", zone), f"<private subnet {cidr} to be created>")
            for zone, cidr in zip(spec.zones, spec.layout.private, strict=True)
        ]

    # -- directory, file system, fleet, stack ----------------------------------------------------------------
    def read_directory(self, directory_id: str) -> tuple[Any, dict[str, Any]]:
        ds = self.module.client("ds", retry_decorator=retry_decorator())
        try:
            directory = ds.describe_directories(DirectoryIds=[directory_id], aws_retry=True)["DirectoryDescriptions"]
        except is_boto3_error_code("EntityDoesNotExistException"):
            directory = []
        if not directory:
            raise Missing(f"directory_id: there is no directory {directory_id} in {self.module.region}")
        return ds, directory[0]

    def adopt_directory(self, directory_id: str, vpc_id: str | None) -> None:
        ds, directory = self.read_directory(directory_id)
        tags = list_to_dict(ds.list_tags_for_resource(ResourceId=directory_id, aws_retry=True).get("Tags"))
        self.take(
            "directory",
            directory_id,
            str(directory.get("Name")),
            tags,
            ownership_tags(self.name, self.environment),
            lambda missing: ds.add_tags_to_resource(
                ResourceId=directory_id, Tags=dict_to_list(missing), aws_retry=True
            ),
        )
        expected = self.private_subnets[:2] if self.private_subnets else None
        self.differences += directory_differences(directory, self.tenant, vpc_id, expected)

    def adopt_file_system(self, file_system_id: str, directory_id: str | None, group_uses: dict[str, set[str]]) -> None:
        fsx = self.module.client("fsx", retry_decorator=retry_decorator())
        try:
            systems = fsx.describe_file_systems(FileSystemIds=[file_system_id], aws_retry=True)["FileSystems"]
        except is_boto3_error_code("FileSystemNotFound"):
            systems = []
        if not systems:
            raise Missing(f"file_system_id: there is no file system {file_system_id} in {self.module.region}")
        system = systems[0]
        wanted = {**ownership_tags(self.name, self.environment), "Name": f"{self.name}-fsx"}
        self.take(
            "file system",
            file_system_id,
            list_to_dict(system.get("Tags")).get("Name", ""),
            list_to_dict(system.get("Tags")),
            wanted,
            lambda missing: fsx.tag_resource(
                ResourceARN=system["ResourceARN"], Tags=dict_to_list(missing), aws_retry=True
            ),
        )
        count = 2 if (system.get("WindowsConfiguration") or {}).get("DeploymentType") == "MULTI_AZ_1" else 1
        expected = self.private_subnets[:count] if self.private_subnets else None
        self.differences += file_system_differences(system, self.tenant, directory_id, expected)

    def file_system_groups(self, file_system_id: str) -> set[str]:
        fsx = self.module.client("fsx", retry_decorator=retry_decorator())
        try:
            systems = fsx.describe_file_systems(FileSystemIds=[file_system_id], aws_retry=True)["FileSystems"]
        except is_boto3_error_code("FileSystemNotFound"):
            return set()
        interfaces = (systems[0] if systems else {}).get("NetworkInterfaceIds") or []
        if not interfaces:
            return set()
        answer = self.ec2.describe_network_interfaces(NetworkInterfaceIds=interfaces, aws_retry=True)
        return {group["GroupId"] for eni in answer.get("NetworkInterfaces", []) for group in eni.get("Groups", [])}

    def read_fleet(self, name: str) -> tuple[Any, dict[str, Any]]:
        appstream = self.module.client("appstream", retry_decorator=retry_decorator())
        fleets = appstream.describe_fleets(Names=[name], aws_retry=True).get("Fleets", []) if name else []
        if not fleets:
            raise Missing(f"fleet: there is no AppStream fleet {name} in {self.module.region}")
        return appstream, fleets[0]

    def adopt_appstream(self, kind: str, item: dict[str, Any], appstream: Any) -> None:
        arn = item["Arn"]
        tags = appstream.list_tags_for_resource(ResourceArn=arn, aws_retry=True).get("Tags") or {}
        self.take(
            kind,
            str(item["Name"]),
            str(item["Name"]),
            dict(tags),
            ownership_tags(self.name, self.environment),
            lambda missing: appstream.tag_resource(ResourceArn=arn, Tags=missing, aws_retry=True),
        )

    def adopt_stack(self, name: str) -> None:
        appstream = self.module.client("appstream", retry_decorator=retry_decorator())
        stacks = appstream.describe_stacks(Names=[name], aws_retry=True).get("Stacks", [])
        if not stacks:
            raise Missing(f"stack: there is no AppStream stack {name} in {self.module.region}")
        self.adopt_appstream("stack", stacks[0], appstream)
        fleets = appstream.list_associated_fleets(StackName=name, aws_retry=True).get("Names", [])
        self.differences += stack_differences(stacks[0], self.tenant, fleets)

    # -- the whole ---------------------------------------------------------------------------------------------
    def plan(self) -> None:
        params = self.params
        group_uses: dict[str, set[str]] = {}
        fleet = None
        if params["fleet"]:
            appstream, fleet = self.read_fleet(params["fleet"])
            for group in (fleet.get("VpcConfig") or {}).get("SecurityGroupIds") or []:
                group_uses.setdefault(group, set()).add("streaming")
        if params["file_system_id"]:
            for group in self.file_system_groups(params["file_system_id"]):
                group_uses.setdefault(group, set()).add("fsx")
        if params["vpc_id"]:
            self.adopt_vpc(params["vpc_id"], group_uses)
        if params["directory_id"]:
            self.adopt_directory(params["directory_id"], params["vpc_id"])
        if params["file_system_id"]:
            self.adopt_file_system(params["file_system_id"], params["directory_id"], group_uses)
        if fleet is not None:
            self.adopt_appstream("fleet", fleet, appstream)
            self.differences += fleet_differences(fleet, self.tenant, params["image_name"], self.private_subnets)
        if params["stack"]:
            self.adopt_stack(params["stack"])
        self.blockers += [
            f"{d['resource']}: {d['field']} is {d['current']!r}, the definition wants {d['wanted']!r}: {d['note']}"
            for d in self.differences
            if not d["in_place"]
        ]

    def result(self, tagged: list[str]) -> dict[str, Any]:
        return {
            "adoption": {
                "resources": self.resources,
                "kept": self.kept,
                "refused": self.refused,
                "differences": [d for d in self.differences if d["in_place"]],
                "blockers": self.blockers,
                "notes": self.notes,
            },
            "tagged": tagged,
        }


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            tenant=dict(type="dict", required=True),
            vpc_id=dict(type="str"),
            directory_id=dict(type="str"),
            file_system_id=dict(type="str"),
            fleet=dict(type="str"),
            stack=dict(type="str"),
            image_name=dict(type="str"),
            confirm=dict(type="bool", default=False),
        ),
        required_one_of=[["vpc_id", "directory_id", "file_system_id", "fleet", "stack"]],
        supports_check_mode=True,
    )
    tenant = module.params["tenant"]
    if not tenant.get("name") or not tenant.get("network"):
        module.fail_json(msg="tenant: give the normalised tenant definition (tenant_spec)")
    adoption = Adoption(module)
    try:
        adoption.plan()
    except Missing as err:
        module.fail_json(msg=str(err))
    except PlanError as err:
        module.fail_json(msg=f"tenant {adoption.name}: {err}")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as err:
        module.fail_json_aws(err, msg=f"tenant {adoption.name}: the resources to adopt could not be read")
    pending = [r for r in adoption.resources if r["tags_to_set"]]
    if adoption.refused:
        names = "; ".join(f"{r['kind']} {r['id']} (tenant tag {r['owner']!r})" for r in adoption.refused)
        module.fail_json(
            msg=(
                f"refusing to adopt for tenant {adoption.name}: these carry another owner's tag: {names}; "
                "nothing was tagged"
            ),
            **adoption.result([]),
        )
    if not module.params["confirm"]:
        module.exit_json(changed=False, **adoption.result([]))
    if adoption.blockers:
        module.fail_json(
            msg=(
                f"not adopting for tenant {adoption.name}: the tenant could not converge afterwards; nothing was tagged"
            ),
            **adoption.result([]),
        )
    if not module.check_mode:
        try:
            for write in adoption.writers:
                write()
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as err:
            module.fail_json_aws(err, msg=f"tenant {adoption.name}: tagging stopped part-way; run the adoption again")
    module.exit_json(changed=bool(pending), **adoption.result([] if module.check_mode else [r["id"] for r in pending]))


if __name__ == "__main__":
    main()
