#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tenant_network
version_added: 0.1.0
short_description: Manage the whole network of one AppStream tenant as a single declarative resource
description:
  - Creates, converges or removes the network of one tenant in one task; a VPC with DNS support
    and DNS hostnames, one public and one private subnet in each of two or three availability
    zones, an internet gateway, Elastic IPs and NAT gateways (one, one per zone, or none), a
    public route table and one or more private route tables, an S3 gateway endpoint on the
    private route tables, the security groups C(<tenant>-streaming), C(<tenant>-directory) and
    C(<tenant>-fsx) with exactly the rules the tenant needs, and optional DHCP options that make
    the VPC resolve the tenant's Active Directory domain.
  - Discovers what exists through tags (the C(tenant) ownership tag and C(toolkit:component=network)),
    reading each resource kind once; a converged network costs about ten Describe calls and no write.
  - Only resources tagged for O(tenant) are changed or deleted. A VPC with the same Name but
    another tenant's tag, or none, is never adopted or touched.
  - Every resource is tagged with the ownership tags (C(tenant), C(environment), C(managed-by)),
    C(toolkit:component=network), C(toolkit:resource) (its logical key, for example
    C(nat-gateway-eu-west-3a)) and a Name such as C(<tenant>-private-eu-west-3a).
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  state:
    description:
      - V(present) creates or converges the network, V(absent) deletes what this tenant owns.
    type: str
    choices: [present, absent]
    default: present
  cidr:
    description:
      - IPv4 CIDR block of the VPC, /16 to /24 (the tenant definition narrows this to /16 to /22).
      - Required when O(state=present). The CIDR of an existing VPC cannot change; a different
        value fails with an explanation and changes nothing.
    type: str
  availability_zones:
    description:
      - Either the number of availability zones (V(2) or V(3)), or the list of their names.
      - With a number, zones already used by the network are kept and missing ones are the first
        available zones of the region in name order.
      - Adding a zone is done in place; removing one is refused.
    type: raw
    default: 2
  nat_gateways:
    description:
      - V(single) puts one NAT gateway in the first zone, used by every private subnet.
      - V(per_az) puts one in each zone, each private route table using the NAT gateway of its zone.
      - V(none) creates no NAT gateway and no default route for the private subnets.
    type: str
    choices: [single, per_az, none]
    default: single
  public_subnets:
    description:
      - CIDR blocks of the public subnets, one per availability zone, in zone order.
      - When omitted they are derived from O(cidr). The VPC (prefix /p) is cut into four quarters
        (/p+2); private subnet i is quarter i and public subnet i is the i-th /p+4 block of the last
        quarter. For C(10.40.0.0/16) this gives private C(10.40.0.0/18), C(10.40.64.0/18),
        C(10.40.128.0/18) and public C(10.40.192.0/20), C(10.40.208.0/20), C(10.40.224.0/20).
      - Subnets cannot change in place.
    type: list
    elements: str
  private_subnets:
    description:
      - CIDR blocks of the private subnets, one per availability zone, in zone order.
      - When omitted they are derived from O(cidr) as described for O(public_subnets).
    type: list
    elements: str
  s3_endpoint:
    description:
      - Whether an S3 gateway endpoint serves the private route tables, so that installers and
        home-folder traffic stay off the NAT gateways.
    type: bool
    default: true
  dhcp_dns_servers:
    description:
      - DNS servers handed out by DHCP, normally the addresses of the tenant's domain controllers.
      - When empty or omitted the DHCP options of the VPC are left as they are.
      - V(AmazonProvidedDNS) returns the VPC to the Amazon resolver through options the toolkit owns.
      - DHCP options cannot be modified, so a change creates a new set, associates it and deletes
        the previous set if this tenant owns it.
    type: list
    elements: str
    default: []
  dhcp_domain_name:
    description:
      - Domain name handed out by DHCP, normally the FQDN of the tenant's directory.
      - Only used with O(dhcp_dns_servers); defaults to the region's internal domain
        (C(<region>.compute.internal), C(ec2.internal) in us-east-1).
    type: str
  builder_winrm_cidrs:
    description:
      - IPv4 ranges (CIDR) allowed to reach the tenant's image builders over WinRM (TCP 5985-5986), through
        the builders' own security group C(<tenant>-builder); normally the range of the controller that
        runs the image pipeline (C(image_controller_cidr)).
      - Empty, the builder group accepts nothing. The fleet's C(<tenant>-streaming) group never accepts
        WinRM, whatever this option says.
    type: list
    elements: str
    default: []
  known_tags:
    description:
      - Tags of the tenant's resources read earlier in this run by M(iconeus.tenant_toolkit.tenant_tags_info)
        (ARN to tags). Its Elastic IPs (C(ec2:elastic-ip)) stand for C(DescribeAddresses) in the first read when
        they are exactly those the NAT gateways hold (see the notes); nothing else is taken from it.
      - Pass it only in the run that read it (the aws_network role checks the run id), and not after this run
        changed the network's tags (the role's C(dhcp) entry point passes none).
    type: dict
  wait:
    description:
      - Wait for new NAT gateways to become available. Deleted NAT gateways are always waited for,
        because their Elastic IPs cannot be released before.
  wait_timeout:
    default: 900
attributes:
  check_mode:
    details: Only Describe calls are made; C(changed), C(diff) and C(actions) describe the plan.
  diff_mode:
    details: The diff shows the network before and after, with ids replaced by logical keys.
notes:
  - Security group rules are converged to the exact set; rules added by hand are revoked.
    C(<tenant>-streaming) (fleet instances) accepts nothing and sends HTTPS anywhere and the domain controller
    ports (SMB included) to the VPC; C(<tenant>-builder) (image builders) sends the same and accepts only
    WinRM (TCP 5985-5986) from O(builder_winrm_cidrs); C(<tenant>-directory) accepts the
    domain controller ports from the streaming, builder and file-system groups; C(<tenant>-fsx) accepts SMB
    from the streaming group and WinRM from the VPC and sends the domain controller ports to the VPC.
    No group accepts anything from C(0.0.0.0/0).
  - Only the C(0.0.0.0/0) route of the toolkit's route tables is managed; other routes are left alone.
  - NAT gateways are created with a client token derived from the tenant, zone, subnet and Elastic
    IP, so a run interrupted during creation does not leave a second NAT gateway behind.
  - With O(state=absent) everything owned is deleted in dependency order (NAT gateways, Elastic IPs,
    VPC endpoint, route tables, subnets, internet gateway, security groups, VPC, DHCP options);
    resources that are not owned are listed in RV(kept), and the VPC is kept while it holds any.
  - With O(known_tags), the first read of O(state=present) makes no C(DescribeAddresses) call when the run's
    listing and the NAT gateways agree, that is when the tenant has at least one NAT gateway, every owned one
    is available and holds a listed Elastic IP (C(ec2:elastic-ip), listed by
    M(iconeus.tenant_toolkit.tenant_tags_info) by default), and no other owned Elastic IP is listed. The
    listing then gives their tags (as the tagging index had them when the run took its lock) and the NAT
    gateways their addresses. In every other case, when the plan would allocate an Elastic IP, in the read
    after changes, and with O(state=absent), the Elastic IPs are described as without the option. So they are
    described once no NAT gateway remains (C(nat_gateways=none)), and a free one that a failed run allocated
    just before the listing, which the tagging index may not show yet, is reused when the NAT gateway of its
    zone is created, and otherwise released by the next run that describes them.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.tenant
  - iconeus.tenant_toolkit.wait
  - iconeus.tenant_toolkit.attributes
"""

EXAMPLES = r"""
- name: Ensure the network of the tenant exists
  iconeus.tenant_toolkit.tenant_network:
    tenant: acme-neuro
    environment: prod
    cidr: 10.40.0.0/16
    availability_zones: 2
    nat_gateways: single
  register: network

- name: Point the VPC's DHCP options at the directory's DNS servers
  iconeus.tenant_toolkit.tenant_network:
    tenant: acme-neuro
    environment: prod
    cidr: 10.40.0.0/16
    dhcp_dns_servers: "{{ directory.dns_ip_addrs }}"
    dhcp_domain_name: corp.acme-neuro.example

- name: One NAT gateway per zone in three named zones, with explicit subnets
  iconeus.tenant_toolkit.tenant_network:
    tenant: acme-neuro
    environment: prod
    cidr: 10.40.0.0/20
    availability_zones: [eu-west-3a, eu-west-3b, eu-west-3c]
    nat_gateways: per_az
    public_subnets: [10.40.0.0/26, 10.40.0.64/26, 10.40.0.128/26]
    private_subnets: [10.40.4.0/22, 10.40.8.0/22, 10.40.12.0/22]
    tags:
      cost-centre: research

- name: Remove everything the tenant's network owns
  iconeus.tenant_toolkit.tenant_network:
    tenant: acme-neuro
    state: absent
  register: removed

- name: Show what was left because it is not owned by the tenant
  ansible.builtin.debug:
    var: removed.kept
"""

RETURN = r"""
network:
  description: Every id of the network; C(null) or empty for what does not exist (check mode, O(state=absent)).
  type: dict
  returned: always
  contains:
    vpc_id:
      description: Id of the VPC.
      type: str
      sample: vpc-0a1b2c3d4e5f60718
    cidr:
      description: CIDR block of the VPC.
      type: str
      sample: 10.40.0.0/16
    availability_zones:
      description: The zones of the network, in subnet order.
      type: list
      elements: str
      sample: [eu-west-3a, eu-west-3b]
    public_subnets:
      description: Public subnets in zone order.
      type: list
      elements: dict
      sample: [{id: subnet-0a1b2c3d, cidr: 10.40.192.0/20, az: eu-west-3a}]
    private_subnets:
      description: Private subnets in zone order.
      type: list
      elements: dict
      sample: [{id: subnet-0e1f2a3b, cidr: 10.40.0.0/18, az: eu-west-3a}]
    internet_gateway_id:
      description: Id of the internet gateway attached to the VPC.
      type: str
      sample: igw-0a1b2c3d4e5f60718
    nat_gateways:
      description: NAT gateways with their subnet, zone, state and Elastic IP.
      type: list
      elements: dict
      sample:
        - id: nat-0a1b2c3d4e5f60718
          subnet_id: subnet-0a1b2c3d
          az: eu-west-3a
          state: available
          eip_allocation_id: eipalloc-0a1b2c3d
          public_ip: 203.0.113.10
    route_tables:
      description: Id of the public route table and ids of the private ones.
      type: dict
      sample: {public: rtb-0a1b2c3d, private: [rtb-0e1f2a3b]}
    s3_endpoint_id:
      description: Id of the S3 gateway endpoint.
      type: str
      sample: vpce-0a1b2c3d4e5f60718
    security_groups:
      description: Ids of the security groups by role.
      type: dict
      sample: {streaming: sg-0a1b2c3d, builder: sg-0b2c3d4e, directory: sg-0e1f2a3b, fsx: sg-0c4d5e6f}
    dhcp_options_id:
      description: Id of the DHCP options set associated with the VPC (C(default) for AWS's).
      type: str
      sample: dopt-0a1b2c3d4e5f60718
    dhcp_options:
      description: Settings of that set when it is one the toolkit made for the tenant, else null.
      type: dict
      sample: {domain-name: [corp.acme-neuro.example], domain-name-servers: [10.40.1.10, 10.40.2.10]}
    tags:
      description: Tags of the VPC.
      type: dict
      sample: {tenant: acme-neuro, environment: prod, managed-by: appstream-tenant-toolkit, Name: acme-neuro-vpc}
    account_id:
      description:
        - The AWS account that owns the VPC (the C(OwnerId) of C(DescribeVpcs)), null when there is no VPC.
        - Later stages pass it on as O(iconeus.tenant_toolkit.tenant_budget#module:account_id) and the like,
          which spares each of them an C(sts:GetCallerIdentity) call.
      type: str
      sample: "123456789012"
actions:
  description: What was done, or in check mode what would be done, one line per API action, in order.
  type: list
  elements: str
  returned: always
  sample:
    - create VPC acme-neuro-vpc (10.40.0.0/16)
    - create subnet acme-neuro-public-eu-west-3a (10.40.192.0/20, eu-west-3a)
kept:
  description: Resources left in place by O(state=absent), with the reason (not owned, or still in use).
  type: list
  elements: dict
  returned: when O(state=absent)
  sample:
    - type: vpc
      id: vpc-0f0e0d0c0b0a09080
      name: acme-neuro-vpc
      reason: "same Name as this tenant's VPC but untagged (no tenant tag)"
diff:
  description: The network before and after, with ids replaced by logical keys so that only real changes show.
  type: dict
  returned: always
  sample:
    before: {}
    after: {vpc: {cidr: 10.40.0.0/16, dns_support: true, dns_hostnames: true}}
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

try:  # noqa: SIM105 - the amazon.aws idiom: AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import (
    client_token,
    retry_decorator,
    tenant_argument_spec,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.pagination import paginate
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import (
    TENANT_TAG,
    dict_to_list,
    known_of_type,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.waiters import (
    WaitFailed,
    WaitTimeout,
    wait_for,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.layout import (
    COMPONENT,
    COMPONENT_TAG,
    DEFAULT_ROUTE,
    VPC_KEY,
    DhcpSpec,
    NetworkSpec,
    PlanError,
    default_domain_name,
    fill_zones,
    resource_name,
    sg_key,
    subnet_layout,
    winrm_peer_errors,
    zone_errors,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.plan import (
    NetworkPlan,
    plan_network,
    plan_teardown,
    resolve,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.records import (
    Address,
    Discovered,
    address_from_aws,
    addresses_from_listing,
    dhcp_options_from_aws,
    endpoint_from_aws,
    internet_gateway_from_aws,
    nat_gateway_from_aws,
    route_table_from_aws,
    security_group_from_aws,
    subnet_from_aws,
    vpc_from_aws,
    zones_from_existing,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.report import network_diff, network_result
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.rules import Rule, ip_permission

# Right after a creation EC2 may not know the new id yet (eventual consistency): writes retry these.
EVENTUAL_CONSISTENCY = [
    "InvalidVpcID.NotFound",
    "InvalidSubnetID.NotFound",
    "InvalidRouteTableID.NotFound",
    "InvalidInternetGatewayID.NotFound",
    "InvalidAllocationID.NotFound",
    "InvalidNatGatewayID.NotFound",
    "NatGatewayNotFound",
    "InvalidGroup.NotFound",
    "InvalidDhcpOptionID.NotFound",
    "InvalidVpcEndpointId.NotFound",
]
# Teardown: a deleted NAT gateway frees its Elastic IP and network interface a little later.
SETTLING = ["DependencyViolation", "InvalidIPAddress.InUse"]
GONE = [
    *EVENTUAL_CONSISTENCY,
    "InvalidGroupId.NotFound",
    "InvalidAssociationID.NotFound",
    "InvalidVpcEndpoint.NotFound",
]

TAG_RESOURCE_TYPES = {
    "vpc": "vpc",
    "subnet": "subnet",
    "internet_gateway": "internet-gateway",
    "route_table": "route-table",
    "address": "elastic-ip",
    "nat_gateway": "natgateway",
    "vpc_endpoint": "vpc-endpoint",
    "security_group": "security-group",
    "dhcp_options": "dhcp-options",
}


def tag_specifications(kind: str, tags: dict[str, str]) -> list[dict[str, Any]]:
    return [{"ResourceType": TAG_RESOURCE_TYPES[kind], "Tags": dict_to_list(tags)}]


class NetworkReader:
    """Reads one tenant's network with one Describe call per resource kind, in two parallel rounds."""

    def __init__(self, client: Any, tenant: str) -> None:
        self.client = client
        self.tenant = tenant
        self.owned_filters = [
            {"Name": f"tag:{TENANT_TAG}", "Values": [tenant]},
            {"Name": f"tag:{COMPONENT_TAG}", "Values": [COMPONENT]},
        ]

    def _all(self, method: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
        """Every item of a Describe call; a single request unless the service pages."""
        return paginate(getattr(self.client, method), key, aws_retry=True, **kwargs)

    def _in_vpc(self, vpc_id: str) -> list[dict[str, Any]]:
        return [{"Name": "vpc-id", "Values": [vpc_id]}]

    def _dns_attribute(self, vpc_id: str, attribute: str) -> bool:
        response = self.client.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute, aws_retry=True)
        return bool(response[attribute[0].upper() + attribute[1:]]["Value"])

    def discover(
        self, dhcp: bool, teardown: bool, listed_addresses: dict[str, dict[str, str]] | None = None
    ) -> Discovered:
        """The tenant's network. With `listed_addresses` (the Elastic IPs of the run's tag listing), the Elastic
        IPs come from it and the NAT gateways when they agree (records.addresses_from_listing), else from
        DescribeAddresses after the NAT gateways are read."""
        found = Discovered()
        with ThreadPoolExecutor(max_workers=8) as pool:
            first: dict[str, Any] = {
                "vpcs": pool.submit(self._all, "describe_vpcs", "Vpcs", Filters=self.owned_filters),
                "igws": pool.submit(
                    self._all, "describe_internet_gateways", "InternetGateways", Filters=self.owned_filters
                ),
            }
            if listed_addresses is None or teardown:
                first["addresses"] = pool.submit(
                    self._all, "describe_addresses", "Addresses", Filters=self.owned_filters
                )
            if dhcp or teardown:
                first["dhcp"] = pool.submit(
                    self._all, "describe_dhcp_options", "DhcpOptions", Filters=self.owned_filters
                )
            if teardown:
                name = resource_name(self.tenant, VPC_KEY)
                first["named"] = pool.submit(
                    self._all, "describe_vpcs", "Vpcs", Filters=[{"Name": "tag:Name", "Values": [name]}]
                )
            vpcs = [vpc_from_aws(item) for item in first["vpcs"].result()]
            if len(vpcs) > 1:
                listed = ", ".join(v.id for v in vpcs)
                raise PlanError(
                    f"tenant {self.tenant!r} owns {len(vpcs)} network VPCs ({listed}); one is expected: "
                    "remove the extra ones"
                )
            found.vpc = vpcs[0] if vpcs else None
            second: dict[str, Any] = {}
            if found.vpc is not None:
                vpc_id = found.vpc.id
                in_vpc = self._in_vpc(vpc_id)
                second = {
                    "subnets": pool.submit(self._all, "describe_subnets", "Subnets", Filters=in_vpc),
                    "tables": pool.submit(self._all, "describe_route_tables", "RouteTables", Filters=in_vpc),
                    "nats": pool.submit(self._all, "describe_nat_gateways", "NatGateways", Filter=in_vpc),
                    "endpoints": pool.submit(self._all, "describe_vpc_endpoints", "VpcEndpoints", Filters=in_vpc),
                    "groups": pool.submit(self._all, "describe_security_groups", "SecurityGroups", Filters=in_vpc),
                }
                if teardown:
                    # Gateways attached by someone else keep the VPC alive: report them.
                    second["attached"] = pool.submit(
                        self._all,
                        "describe_internet_gateways",
                        "InternetGateways",
                        Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}],
                    )
                else:
                    second["dns_support"] = pool.submit(self._dns_attribute, vpc_id, "enableDnsSupport")
                    second["dns_hostnames"] = pool.submit(self._dns_attribute, vpc_id, "enableDnsHostnames")
            gateways = {g["InternetGatewayId"]: g for g in first["igws"].result()}
            if "attached" in second:
                gateways.update({g["InternetGatewayId"]: g for g in second["attached"].result()})
            found.internet_gateways = [internet_gateway_from_aws(g) for g in gateways.values()]
            if "addresses" in first:
                found.addresses = [address_from_aws(a) for a in first["addresses"].result()]
            if "dhcp" in first:
                found.dhcp_options = [dhcp_options_from_aws(d) for d in first["dhcp"].result()]
            if "named" in first:
                owned = {found.vpc.id} if found.vpc else set()
                found.same_name_vpcs = [vpc_from_aws(v) for v in first["named"].result() if v["VpcId"] not in owned]
            if found.vpc is not None:
                found.subnets = [subnet_from_aws(s) for s in second["subnets"].result()]
                found.route_tables = [route_table_from_aws(t) for t in second["tables"].result()]
                found.nat_gateways = [nat_gateway_from_aws(n) for n in second["nats"].result()]
                found.endpoints = [endpoint_from_aws(e) for e in second["endpoints"].result()]
                found.security_groups = [security_group_from_aws(g) for g in second["groups"].result()]
                if "dns_support" in second:
                    found.vpc.dns_support = second["dns_support"].result()
                    found.vpc.dns_hostnames = second["dns_hostnames"].result()
        if "addresses" not in first:
            from_listing = addresses_from_listing(listed_addresses, found.nat_gateways, self.tenant)
            if from_listing is None:
                found.addresses = self.addresses()
            else:
                found.addresses, found.addresses_listed = from_listing, True
        return found

    def addresses(self) -> list[Address]:
        """The tenant's Elastic IPs, described (one DescribeAddresses)."""
        return [address_from_aws(a) for a in self._all("describe_addresses", "Addresses", Filters=self.owned_filters)]

    def available_zones(self) -> list[str]:
        zones = self._all(
            "describe_availability_zones",
            "AvailabilityZones",
            Filters=[{"Name": "state", "Values": ["available"]}],
        )
        return [z["ZoneName"] for z in zones if z.get("ZoneType", "availability-zone") == "availability-zone"]


class NetworkWriter:
    """Performs the actions of a plan; each `op` of the planner is one method here."""

    def __init__(self, client: Any, fresh_client: Any, wait: bool, wait_timeout: int, tenant: str) -> None:
        self.tenant = tenant  # named in the progress lines of the NAT gateway waits
        self.client = client  # reads and deletes
        self.fresh = fresh_client  # writes naming resources that may have just been created
        self.wait = wait
        self.wait_timeout = wait_timeout
        self.ids: dict[str, str] = {}

    def perform(self, plan: NetworkPlan, on_error: Callable[[str, Exception], bool] | None = None) -> list[str]:
        """Run every action in order; `on_error` may absorb a failure (teardown) by returning True."""
        self.ids = dict(plan.ids)
        done = []
        for action in plan.actions:
            try:
                produced = getattr(self, action.op)(**resolve(action.params, self.ids))
            except botocore.exceptions.ClientError as err:
                if on_error is not None and on_error(action.summary, err):
                    continue
                raise ActionFailed(action.summary, done, err) from err
            if action.produces:
                self.ids[action.produces] = produced
            done.append(action.summary)
        return done

    # -- VPC and DHCP --------------------------------------------------------------------
    def create_vpc(self, cidr: str, tags: dict[str, str]) -> str:
        response = self.fresh.create_vpc(
            CidrBlock=cidr, TagSpecifications=tag_specifications("vpc", tags), aws_retry=True
        )
        return response["Vpc"]["VpcId"]

    def set_vpc_attribute(self, vpc: str, attribute: str) -> None:
        self.fresh.modify_vpc_attribute(VpcId=vpc, **{attribute: {"Value": True}}, aws_retry=True)

    def create_dhcp_options(self, config: dict[str, list[str]], tags: dict[str, str]) -> str:
        response = self.fresh.create_dhcp_options(
            DhcpConfigurations=[{"Key": key, "Values": values} for key, values in sorted(config.items())],
            TagSpecifications=tag_specifications("dhcp_options", tags),
            aws_retry=True,
        )
        return response["DhcpOptions"]["DhcpOptionsId"]

    def associate_dhcp_options(self, dhcp_options: str, vpc: str) -> None:
        self.fresh.associate_dhcp_options(DhcpOptionsId=dhcp_options, VpcId=vpc, aws_retry=True)

    def delete_dhcp_options(self, dhcp_options: str) -> None:
        self.client.delete_dhcp_options(DhcpOptionsId=dhcp_options, aws_retry=True)

    def delete_vpc(self, vpc: str) -> None:
        self.client.delete_vpc(VpcId=vpc, aws_retry=True)

    # -- subnets and gateways ------------------------------------------------------------
    def create_subnet(self, vpc: str, cidr: str, zone: str, tags: dict[str, str]) -> str:
        response = self.fresh.create_subnet(
            VpcId=vpc,
            CidrBlock=cidr,
            AvailabilityZone=zone,
            TagSpecifications=tag_specifications("subnet", tags),
            aws_retry=True,
        )
        return response["Subnet"]["SubnetId"]

    def delete_subnet(self, subnet: str) -> None:
        self.client.delete_subnet(SubnetId=subnet, aws_retry=True)

    def create_internet_gateway(self, tags: dict[str, str]) -> str:
        response = self.fresh.create_internet_gateway(
            TagSpecifications=tag_specifications("internet_gateway", tags), aws_retry=True
        )
        return response["InternetGateway"]["InternetGatewayId"]

    def attach_internet_gateway(self, internet_gateway: str, vpc: str) -> None:
        self.fresh.attach_internet_gateway(InternetGatewayId=internet_gateway, VpcId=vpc, aws_retry=True)

    def detach_internet_gateway(self, internet_gateway: str, vpc: str) -> None:
        self.client.detach_internet_gateway(InternetGatewayId=internet_gateway, VpcId=vpc, aws_retry=True)

    def delete_internet_gateway(self, internet_gateway: str) -> None:
        self.client.delete_internet_gateway(InternetGatewayId=internet_gateway, aws_retry=True)

    def allocate_address(self, tags: dict[str, str]) -> str:
        response = self.fresh.allocate_address(
            Domain="vpc", TagSpecifications=tag_specifications("address", tags), aws_retry=True
        )
        return response["AllocationId"]

    def release_address(self, allocation: str) -> None:
        self.client.release_address(AllocationId=allocation, aws_retry=True)

    def create_nat_gateway(self, subnet: str, allocation: str, token_parts: list[str], tags: dict[str, str]) -> str:
        response = self.fresh.create_nat_gateway(
            SubnetId=subnet,
            AllocationId=allocation,
            ClientToken=client_token(*token_parts),
            TagSpecifications=tag_specifications("nat_gateway", tags),
            aws_retry=True,
        )
        return response["NatGateway"]["NatGatewayId"]

    def delete_nat_gateway(self, nat_gateway: str) -> None:
        self.client.delete_nat_gateway(NatGatewayId=nat_gateway, aws_retry=True)

    def _nat_gateway(self, nat_id: str) -> dict[str, Any] | None:
        try:
            response = self.client.describe_nat_gateways(NatGatewayIds=[nat_id], aws_retry=True)
        except is_boto3_error_code(["NatGatewayNotFound", "InvalidNatGatewayID.NotFound"]):
            return None
        return next(iter(response.get("NatGateways", [])), None)

    def wait_nat_gateways(self, nat_gateways: list[str]) -> None:
        if not self.wait:
            return
        for nat_id in nat_gateways:
            wait_for(
                lambda nat_id=nat_id: self._nat_gateway(nat_id),
                lambda nat: nat["State"] if nat else "pending",  # not visible yet right after creation
                targets=["available"],
                failures=["failed", "deleting", "deleted"],
                failure_reason=lambda nat: nat.get("FailureMessage", ""),
                timeout=self.wait_timeout,
                kind="NAT gateway",
                tenant=self.tenant,
                name=nat_id,
                expected=120,
            )

    def wait_nat_gateways_deleted(self, nat_gateways: list[str]) -> None:
        for nat_id in nat_gateways:
            wait_for(
                lambda nat_id=nat_id: self._nat_gateway(nat_id),
                lambda nat: nat["State"] if nat else "deleted",
                targets=["deleted"],
                timeout=self.wait_timeout,
                kind="NAT gateway",
                tenant=self.tenant,
                name=nat_id,
                expected=60,
            )

    # -- routing -------------------------------------------------------------------------
    def create_route_table(self, vpc: str, tags: dict[str, str]) -> str:
        response = self.fresh.create_route_table(
            VpcId=vpc, TagSpecifications=tag_specifications("route_table", tags), aws_retry=True
        )
        return response["RouteTable"]["RouteTableId"]

    def delete_route_table(self, route_table: str) -> None:
        self.client.delete_route_table(RouteTableId=route_table, aws_retry=True)

    @staticmethod
    def _target(target: str, target_kind: str) -> dict[str, str]:
        return {"NatGatewayId": target} if target_kind == "nat" else {"GatewayId": target}

    def create_route(self, route_table: str, target: str, target_kind: str) -> None:
        self.fresh.create_route(
            RouteTableId=route_table,
            DestinationCidrBlock=DEFAULT_ROUTE,
            **self._target(target, target_kind),
            aws_retry=True,
        )

    def replace_route(self, route_table: str, target: str, target_kind: str) -> None:
        self.fresh.replace_route(
            RouteTableId=route_table,
            DestinationCidrBlock=DEFAULT_ROUTE,
            **self._target(target, target_kind),
            aws_retry=True,
        )

    def delete_route(self, route_table: str) -> None:
        self.fresh.delete_route(RouteTableId=route_table, DestinationCidrBlock=DEFAULT_ROUTE, aws_retry=True)

    def associate_route_table(self, route_table: str, subnet: str) -> None:
        self.fresh.associate_route_table(RouteTableId=route_table, SubnetId=subnet, aws_retry=True)

    def replace_route_table_association(self, association_id: str, route_table: str) -> None:
        self.fresh.replace_route_table_association(
            AssociationId=association_id, RouteTableId=route_table, aws_retry=True
        )

    def disassociate_route_table(self, association_id: str) -> None:
        self.client.disassociate_route_table(AssociationId=association_id, aws_retry=True)

    # -- S3 endpoint ---------------------------------------------------------------------
    def create_vpc_endpoint(self, vpc: str, service_name: str, route_tables: list[str], tags: dict[str, str]) -> str:
        # No ClientToken: a fixed token would make a deliberate re-creation (s3_endpoint off,
        # then on) return the deleted endpoint; the tags find one left by an interrupted run.
        response = self.fresh.create_vpc_endpoint(
            VpcId=vpc,
            ServiceName=service_name,
            VpcEndpointType="Gateway",
            RouteTableIds=route_tables,
            TagSpecifications=tag_specifications("vpc_endpoint", tags),
            aws_retry=True,
        )
        return response["VpcEndpoint"]["VpcEndpointId"]

    def modify_vpc_endpoint(self, endpoint: str, add_route_tables: list[str], remove_route_tables: list[str]) -> None:
        changes: dict[str, Any] = {}
        if add_route_tables:
            changes["AddRouteTableIds"] = add_route_tables
        if remove_route_tables:
            changes["RemoveRouteTableIds"] = remove_route_tables
        self.fresh.modify_vpc_endpoint(VpcEndpointId=endpoint, **changes, aws_retry=True)

    def delete_vpc_endpoint(self, endpoint: str) -> None:
        response = self.client.delete_vpc_endpoints(VpcEndpointIds=[endpoint], aws_retry=True)
        for failure in response.get("Unsuccessful", []):
            error = failure.get("Error", {})
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": error.get("Code", "Unsuccessful"), "Message": error.get("Message", "")}},
                "DeleteVpcEndpoints",
            )

    # -- security groups -----------------------------------------------------------------
    def create_security_group(self, vpc: str, name: str, description: str, tags: dict[str, str]) -> str:
        response = self.fresh.create_security_group(
            VpcId=vpc,
            GroupName=name,
            Description=description,
            TagSpecifications=tag_specifications("security_group", tags),
            aws_retry=True,
        )
        return response["GroupId"]

    def delete_security_group(self, group: str) -> None:
        self.client.delete_security_group(GroupId=group, aws_retry=True)

    def _permissions(self, rules: list[Rule]) -> list[dict[str, Any]]:
        return [ip_permission(rule, lambda role: self.ids[sg_key(role)]) for rule in rules]

    def authorize(self, group: str, direction: str, rules: list[Rule]) -> None:
        method = "authorize_security_group_ingress" if direction == "ingress" else "authorize_security_group_egress"
        getattr(self.fresh, method)(GroupId=group, IpPermissions=self._permissions(rules), aws_retry=True)

    def revoke(self, group: str, direction: str, rules: list[Rule]) -> None:
        method = "revoke_security_group_ingress" if direction == "ingress" else "revoke_security_group_egress"
        getattr(self.fresh, method)(GroupId=group, IpPermissions=self._permissions(rules), aws_retry=True)

    # -- tags ----------------------------------------------------------------------------
    def tag(self, resources: list[str], tags: dict[str, str]) -> None:
        self.fresh.create_tags(Resources=resources, Tags=dict_to_list(tags), aws_retry=True)

    def untag(self, resources: list[str], keys: list[str]) -> None:
        self.fresh.delete_tags(Resources=resources, Tags=[{"Key": key} for key in keys], aws_retry=True)


class ActionFailed(Exception):
    def __init__(self, summary: str, done: list[str], error: Exception) -> None:
        super().__init__(summary)
        self.summary = summary
        self.done = done
        self.error = error


def requested_zones(value: Any) -> int | list[str]:
    """`availability_zones` as a count or a list of names; PlanError with the reason otherwise."""
    if isinstance(value, list):
        zones = [str(zone) for zone in value]
        errors = zone_errors(zones)
        if errors:
            raise PlanError("; ".join(errors))
        return zones
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise PlanError(f"availability_zones: {value!r} is neither a count (2 or 3) nor a list of zone names") from None
    if count not in (2, 3):
        raise PlanError(f"availability_zones: {count} is not supported (2 or 3)")
    return count


def build_spec(module: AnsibleAWSModule, reader: NetworkReader, discovered: Discovered) -> NetworkSpec:
    params = module.params
    requested = requested_zones(params["availability_zones"])
    count = len(requested) if isinstance(requested, list) else requested
    layout = subnet_layout(params["cidr"], count, params["public_subnets"], params["private_subnets"])
    if isinstance(requested, list):
        zones = requested
    else:
        partial = zones_from_existing(layout, discovered.subnets, params["tenant"])
        zones = fill_zones(partial, reader.available_zones()) if None in partial else [z for z in partial if z]
    dhcp = None
    if params["dhcp_dns_servers"]:
        domain = params["dhcp_domain_name"] or default_domain_name(module.region)
        dhcp = DhcpSpec(dns_servers=list(params["dhcp_dns_servers"]), domain_name=domain)
    return NetworkSpec(
        tenant=params["tenant"],
        region=module.region,
        cidr=params["cidr"],
        zones=zones,
        layout=layout,
        nat_mode=params["nat_gateways"],
        s3_endpoint=params["s3_endpoint"],
        dhcp=dhcp,
        builder_winrm_cidrs=tuple(params["builder_winrm_cidrs"]),
        environment=params["environment"],
        user_tags=params["tags"],
        purge_tags=params["purge_tags"],
    )


def ensure_present(module: AnsibleAWSModule, reader: NetworkReader, writer: NetworkWriter) -> dict[str, Any]:
    # DHCP options are always read (one call, in parallel with the others): the result says what the VPC
    # hands out, so a later stage knows without another call whether it still has to point it at the directory.
    # The run's tag listing stands for DescribeAddresses in this first read only: after changes it is stale.
    # Without a listed Elastic IP (none listed in the region, nat_gateways none) they are described at once.
    listed = known_of_type(module.params["known_tags"], "ec2", module.region, "elastic-ip")
    discovered = reader.discover(dhcp=True, teardown=False, listed_addresses=listed or None)
    spec = build_spec(module, reader, discovered)
    plan = plan_network(spec, discovered)
    if discovered.addresses_listed and any(action.op == "allocate_address" for action in plan.actions):
        # A new Elastic IP is wanted: one a failed run allocated a moment ago may be missing from the tagging
        # index, so the addresses are described and the plan made again (it then reuses that one).
        discovered.addresses, discovered.addresses_listed = reader.addresses(), False
        plan = plan_network(spec, discovered)
    result: dict[str, Any] = {
        "changed": plan.changed,
        "actions": plan.summaries(),
        "diff": network_diff(spec, discovered, plan),
    }
    if module.check_mode or not plan.actions:
        result["network"] = network_result(discovered, spec.tenant, spec.zones)
        return result
    done = writer.perform(plan)
    after = reader.discover(dhcp=True, teardown=False)
    result.update(actions=done, network=network_result(after, spec.tenant, spec.zones))
    return result


def ensure_absent(module: AnsibleAWSModule, reader: NetworkReader, writer: NetworkWriter) -> dict[str, Any]:
    tenant = module.params["tenant"]
    discovered = reader.discover(dhcp=True, teardown=True)
    plan = plan_teardown(tenant, discovered)
    before = network_result(discovered, tenant)
    result: dict[str, Any] = {
        "changed": plan.changed,
        "actions": plan.summaries(),
        "kept": plan.kept,
        "diff": {"before": before if discovered.vpc else {}, "after": {}},
        "network": before,
    }
    if module.check_mode or not plan.actions:
        return result
    failures: list[str] = []

    def absorb(summary: str, err: botocore.exceptions.ClientError) -> bool:
        code = err.response.get("Error", {}).get("Code", "")
        if code in GONE:
            return True  # already gone: the goal is reached
        message = err.response.get("Error", {}).get("Message", "")
        failures.append(f"{summary}: {code} {message}".strip())
        return True

    done = writer.perform(plan, on_error=absorb)
    kept = plan.kept + [{"type": "action", "id": "", "reason": failure} for failure in failures]
    result.update(changed=bool(done), actions=done, kept=kept, network=network_result(Discovered(), tenant))
    if kept:
        result["msg"] = f"{len(kept)} resource(s) or action(s) left in place; see kept"
    return result


def main() -> None:
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        cidr=dict(type="str"),
        availability_zones=dict(type="raw", default=2),
        nat_gateways=dict(type="str", choices=["single", "per_az", "none"], default="single"),
        public_subnets=dict(type="list", elements="str"),
        private_subnets=dict(type="list", elements="str"),
        s3_endpoint=dict(type="bool", default=True),
        dhcp_dns_servers=dict(type="list", elements="str", default=[]),
        dhcp_domain_name=dict(type="str"),
        builder_winrm_cidrs=dict(type="list", elements="str", default=[]),
        known_tags=dict(type="dict"),
        **tenant_argument_spec(wait_timeout=900),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["cidr"])],
        supports_check_mode=True,
    )
    errors = winrm_peer_errors(module.params["builder_winrm_cidrs"])
    if errors:
        module.fail_json(msg=f"tenant_network {module.params['tenant']}: {'; '.join(errors)}")
    client = module.client("ec2", retry_decorator=retry_decorator())
    if module.params["state"] == "present":
        fresh = RetryingBotoClientWrapper(client.client, retry_decorator(EVENTUAL_CONSISTENCY))
    else:
        fresh = RetryingBotoClientWrapper(
            client.client,
            AWSRetry.jittered_backoff(retries=5, delay=1, max_delay=8, catch_extra_error_codes=SETTLING),
        )
        client = fresh
    reader = NetworkReader(client, module.params["tenant"])
    writer = NetworkWriter(client, fresh, module.params["wait"], module.params["wait_timeout"], module.params["tenant"])
    try:
        if module.params["state"] == "present":
            result = ensure_present(module, reader, writer)
        else:
            result = ensure_absent(module, reader, writer)
    except PlanError as err:
        module.fail_json(msg=f"tenant_network {module.params['tenant']}: {err}")
    except ActionFailed as err:
        module.fail_json_aws(
            err.error,
            msg=f"tenant_network {module.params['tenant']}: {err.summary} failed",
            actions=err.done,
        )
    except (WaitFailed, WaitTimeout) as err:
        module.fail_json(msg=f"tenant_network {module.params['tenant']}: {err}")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as err:
        module.fail_json_aws(err, msg=f"tenant_network {module.params['tenant']}: reading the network failed")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
