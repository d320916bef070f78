"""The network stage on the sandbox: playbooks/network.yml, checked through EC2 describe calls.

Each test uses its own tenant name and VPC CIDR, so the tests share one sandbox safely.
"""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import itertools
import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandbox.client import SandboxClient
from tests.helpers import BIN, ROOT, PlaybookRun, demo_tenant, run_playbook, run_tasks, write_inventory

PLAYBOOK = "playbooks/network.yml"
CONTROLLER_CIDR = "10.199.3.0/24"  # the image pipeline controller's range (image_controller_cidr)
SECOND_OCTETS = itertools.count(100)
DC_PORTS = {
    ("tcp", 53, 53),
    ("udp", 53, 53),
    ("tcp", 88, 88),
    ("udp", 88, 88),
    ("udp", 123, 123),
    ("tcp", 135, 135),
    ("tcp", 389, 389),
    ("udp", 389, 389),
    ("tcp", 445, 445),
    ("tcp", 464, 464),
    ("udp", 464, 464),
    ("tcp", 636, 636),
    ("tcp", 3268, 3269),
    ("tcp", 9389, 9389),
    ("tcp", 49152, 65535),
}


def new_tenant(prefix: str, **network: Any) -> dict[str, Any]:
    """A full, valid tenant definition (validate.yml runs first) with a unique name and CIDR."""
    tenant = demo_tenant()
    tenant["name"] = f"{prefix}-{uuid.uuid4().hex[:6]}"
    tenant["network"] = {
        "cidr": f"10.{next(SECOND_OCTETS)}.0.0/16",
        "availability_zones": 2,
        "nat_gateways": "single",
        **network,
    }
    return tenant


def by_tenant_subnets(ec2: Any, name: str) -> list[dict[str, Any]]:
    return ec2.describe_subnets(Filters=[{"Name": "tag:tenant", "Values": [name]}])["Subnets"]


def by_tenant(name: str) -> list[dict[str, Any]]:
    return [{"Name": "tag:tenant", "Values": [name]}]


@dataclass
class Owned:
    """Everything in the sandbox that carries one tenant's tag (deleted NAT gateways excluded)."""

    vpcs: list[dict[str, Any]]
    subnets: list[dict[str, Any]]
    nat_gateways: list[dict[str, Any]]
    addresses: list[dict[str, Any]]
    internet_gateways: list[dict[str, Any]]
    route_tables: list[dict[str, Any]]
    endpoints: list[dict[str, Any]]
    security_groups: list[dict[str, Any]]

    @classmethod
    def read(cls, ec2: Any, tenant: str) -> Owned:
        nats = [
            n
            for n in ec2.describe_nat_gateways()["NatGateways"]
            if {"Key": "tenant", "Value": tenant} in n.get("Tags", []) and n["State"] not in ("deleted", "deleting")
        ]
        endpoints = [
            e
            for e in ec2.describe_vpc_endpoints(Filters=by_tenant(tenant))["VpcEndpoints"]
            if e["State"].lower() not in ("deleted", "deleting")
        ]
        return cls(
            vpcs=ec2.describe_vpcs(Filters=by_tenant(tenant))["Vpcs"],
            subnets=ec2.describe_subnets(Filters=by_tenant(tenant))["Subnets"],
            nat_gateways=nats,
            addresses=ec2.describe_addresses(Filters=by_tenant(tenant))["Addresses"],
            internet_gateways=ec2.describe_internet_gateways(Filters=by_tenant(tenant))["InternetGateways"],
            route_tables=ec2.describe_route_tables(Filters=by_tenant(tenant))["RouteTables"],
            endpoints=endpoints,
            security_groups=ec2.describe_security_groups(Filters=by_tenant(tenant))["SecurityGroups"],
        )

    def counts(self) -> dict[str, int]:
        return {name: len(items) for name, items in self.__dict__.items()}


def tags_of(item: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in item.get("Tags", [])}


def role_of(subnet: dict[str, Any]) -> str:
    return tags_of(subnet)["toolkit:resource"].split("-subnet-")[0]


def default_route(table: dict[str, Any]) -> dict[str, Any] | None:
    return next((r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"), None)


def table_of(owned: Owned, subnet_id: str) -> dict[str, Any]:
    return next(t for t in owned.route_tables if any(a.get("SubnetId") == subnet_id for a in t.get("Associations", [])))


def assert_ok(run: PlaybookRun) -> None:
    assert run.rc == 0, f"playbook failed (rc {run.rc}):\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"


def changed(run: PlaybookRun) -> int:
    return sum(host["changed"] for host in run.recap.values())


@dataclass
class Network:
    tenant: dict[str, Any]
    inventory: Path
    first: PlaybookRun
    second: PlaybookRun
    second_stats: dict[str, Any]  # read right after the run: later describe calls are the tests' own
    owned: Owned


@pytest.fixture(scope="module")
def ec2(sandbox: SandboxClient) -> Any:
    return sandbox.boto3("ec2")


@pytest.fixture(scope="module")
def network(sandbox: SandboxClient, ec2: Any, tmp_path_factory: pytest.TempPathFactory) -> Network:
    """One network built by the playbook, then converged a second time."""
    tenant = new_tenant("net")
    inventory = write_inventory(
        tmp_path_factory.mktemp("network"), tenant, sandbox, {"image_controller_cidr": CONTROLLER_CIDR}
    )
    first = run_playbook(PLAYBOOK, inventory, sandbox)
    assert_ok(first)
    second = run_playbook(PLAYBOOK, inventory, sandbox)
    assert_ok(second)
    return Network(tenant, inventory, first, second, second.stats(), Owned.read(ec2, tenant["name"]))


# ---------------------------------------------------------------------------------------
# A new network
# ---------------------------------------------------------------------------------------
def test_first_run_creates_one_of_everything(network: Network) -> None:
    assert changed(network.first) >= 1
    assert network.owned.counts() == {
        "vpcs": 1,
        "subnets": 4,
        "nat_gateways": 1,
        "addresses": 1,
        "internet_gateways": 1,
        "route_tables": 2,
        "endpoints": 1,
        "security_groups": 4,
    }


def test_vpc_has_the_requested_cidr_and_dns(network: Network, ec2: Any) -> None:
    vpc = network.owned.vpcs[0]
    assert vpc["CidrBlock"] == network.tenant["network"]["cidr"]
    for attribute, key in (("enableDnsSupport", "EnableDnsSupport"), ("enableDnsHostnames", "EnableDnsHostnames")):
        assert ec2.describe_vpc_attribute(VpcId=vpc["VpcId"], Attribute=attribute)[key]["Value"] is True


def test_public_and_private_subnets_are_in_two_distinct_zones(network: Network) -> None:
    vpc_cidr = ipaddress.IPv4Network(network.tenant["network"]["cidr"])
    zones = {"public": set(), "private": set()}
    for subnet in network.owned.subnets:
        zones[role_of(subnet)].add(subnet["AvailabilityZone"])
        assert ipaddress.IPv4Network(subnet["CidrBlock"]).subnet_of(vpc_cidr)
    assert len(zones["public"]) == 2
    assert zones["public"] == zones["private"]


def test_public_subnets_route_to_the_internet_gateway(network: Network) -> None:
    gateway = network.owned.internet_gateways[0]
    assert [a["VpcId"] for a in gateway["Attachments"]] == [network.owned.vpcs[0]["VpcId"]]
    for subnet in (s for s in network.owned.subnets if role_of(s) == "public"):
        assert default_route(table_of(network.owned, subnet["SubnetId"]))["GatewayId"] == gateway["InternetGatewayId"]


def test_private_subnets_route_to_the_nat_gateway_in_a_public_subnet(network: Network) -> None:
    nat = network.owned.nat_gateways[0]
    assert nat["State"] == "available"
    public = {s["SubnetId"] for s in network.owned.subnets if role_of(s) == "public"}
    assert nat["SubnetId"] in public
    assert nat["NatGatewayAddresses"][0]["AllocationId"] == network.owned.addresses[0]["AllocationId"]
    for subnet in (s for s in network.owned.subnets if role_of(s) == "private"):
        assert default_route(table_of(network.owned, subnet["SubnetId"]))["NatGatewayId"] == nat["NatGatewayId"]


def test_s3_endpoint_serves_exactly_the_private_route_tables(network: Network) -> None:
    endpoint = network.owned.endpoints[0]
    private = {
        table_of(network.owned, s["SubnetId"])["RouteTableId"] for s in network.owned.subnets if role_of(s) == "private"
    }
    assert endpoint["ServiceName"] == "com.amazonaws.eu-west-3.s3"
    assert endpoint["VpcEndpointType"] == "Gateway"
    assert set(endpoint["RouteTableIds"]) == private


def test_security_groups_hold_only_the_needed_rules(network: Network) -> None:
    groups = {g["GroupName"].rsplit("-", 1)[1]: g for g in network.owned.security_groups}
    assert set(groups) == {"streaming", "builder", "directory", "fsx"}
    ids = {name: g["GroupId"] for name, g in groups.items()}
    vpc_cidr = network.tenant["network"]["cidr"]

    def rules(group: dict[str, Any], direction: str) -> set[tuple[Any, ...]]:
        key = "IpPermissions" if direction == "ingress" else "IpPermissionsEgress"
        found = set()
        for permission in group[key]:
            ports = (permission["IpProtocol"], permission.get("FromPort", -1), permission.get("ToPort", -1))
            found |= {(*ports, r["CidrIp"]) for r in permission.get("IpRanges", [])}
            found |= {(*ports, p["GroupId"]) for p in permission.get("UserIdGroupPairs", [])}
        return found

    member_egress = {("tcp", 443, 443, "0.0.0.0/0")} | {(*p, vpc_cidr) for p in DC_PORTS}
    for group in groups.values():
        assert not any(rule[3] == "0.0.0.0/0" for rule in rules(group, "ingress"))
    # Fleet instances accept nothing, WinRM included; only the builders' own group admits WinRM, from
    # the controller's range alone.
    assert rules(groups["streaming"], "ingress") == set()
    assert rules(groups["streaming"], "egress") == member_egress
    assert rules(groups["builder"], "ingress") == {("tcp", 5985, 5986, CONTROLLER_CIDR)}
    assert rules(groups["builder"], "egress") == member_egress
    assert rules(groups["directory"], "ingress") == {
        (*p, ids[peer]) for p in DC_PORTS for peer in ("streaming", "builder", "fsx")
    }
    assert rules(groups["fsx"], "ingress") == {("tcp", 445, 445, ids["streaming"]), ("tcp", 5985, 5985, vpc_cidr)}
    assert rules(groups["fsx"], "egress") == {(*p, vpc_cidr) for p in DC_PORTS}


def test_every_resource_carries_the_ownership_tags_and_a_name(network: Network) -> None:
    name = network.tenant["name"]
    items = [item for items in network.owned.__dict__.values() for item in items]
    assert len(items) == 15
    for item in items:
        tags = tags_of(item)
        assert tags["environment"] == network.tenant["environment"]
        assert tags["managed-by"] == "appstream-tenant-toolkit"
        assert tags["toolkit:component"] == "network"
        assert tags["Name"].startswith(f"{name}-")


def test_second_run_changes_nothing_and_only_reads(network: Network, record_property: Any) -> None:
    stats = network.second_stats
    assert changed(network.second) == 0
    assert stats["mutating"] == 0, stats["mutating_operations"]
    # The run's one read of the tenant's tags (lock.yml, for the stages that check ownership), apart.
    operations = dict(stats["by_operation"])
    assert operations.pop("tagging:GetResources") == 1, stats["by_operation"]
    record_property("noop_api_calls", sum(operations.values()))
    assert all(op.split(":")[1].startswith("Describe") for op in operations)
    # One Describe per resource kind (DHCP options included: the result says what the VPC hands out, so
    # the directory stage needs no call to know it) plus the two VPC DNS attributes. The Elastic IP comes
    # from the tag listing, which agrees with the NAT gateway: no DescribeAddresses.
    assert sum(operations.values()) <= 10, stats["by_operation"]
    assert stats["by_operation"].get("ec2:DescribeDhcpOptions") == 1
    assert "ec2:DescribeAddresses" not in operations


def test_an_elastic_ip_the_nat_gateway_does_not_hold_is_described_and_released(
    network: Network, sandbox: SandboxClient, ec2: Any
) -> None:
    """The tag listing shows an owned Elastic IP no NAT gateway holds (left by an interrupted run): the
    addresses are described, as without the listing, and the free one released; the NAT gateway's is kept."""
    name = network.tenant["name"]
    ownership = [{"Key": "tenant", "Value": name}, {"Key": "toolkit:component", "Value": "network"}]
    spare = ec2.allocate_address(Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": ownership}])[
        "AllocationId"
    ]
    # The NAT gateway is settled, so only the spare, listed by the run's GetResources, breaks the agreement.
    vpc = network.owned.nat_gateways[0]["VpcId"]
    settled = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NatGateways"]
    assert [n["State"] for n in settled] == ["available"]
    listed = sandbox.boto3("resourcegroupstaggingapi").get_resources(
        TagFilters=[{"Key": "tenant", "Values": [name]}], ResourceTypeFilters=["ec2:elastic-ip"]
    )["ResourceTagMappingList"]
    assert any(item["ResourceARN"].endswith(f"/{spare}") for item in listed)
    run = run_playbook(PLAYBOOK, network.inventory, sandbox)
    assert_ok(run)
    operations = run.stats()["by_operation"]
    # Described in the first read (the listing and the NAT gateway disagree) and in the read after the release.
    assert operations.get("ec2:DescribeAddresses") == 2, operations
    assert operations.get("ec2:ReleaseAddress") == 1, operations
    left = ec2.describe_addresses(Filters=[{"Name": "tag:tenant", "Values": [name]}])["Addresses"]
    held = {nat["NatGatewayAddresses"][0]["AllocationId"] for nat in network.owned.nat_gateways}
    assert spare not in {a["AllocationId"] for a in left}
    assert {a["AllocationId"] for a in left} == held
    again = run_playbook(PLAYBOOK, network.inventory, sandbox)
    assert_ok(again)
    assert "ec2:DescribeAddresses" not in again.stats()["by_operation"]


def test_a_free_elastic_ip_the_listing_misses_is_reused_when_a_nat_gateway_is_added(
    sandbox: SandboxClient, ec2: Any, tmp_path: Path
) -> None:
    """A failed run allocated the second zone's Elastic IP and then failed to create its NAT gateway; the next
    run's tag listing does not show it yet (AWS's tagging index lags; the sandbox's does not, so the listing
    is given by hand without it). The listing agrees with the one NAT gateway, but the plan wants a new Elastic
    IP: tenant_network describes the addresses, plans again and reuses the free one instead of allocating."""
    tenant = new_tenant("neip")
    name = tenant["name"]
    assert_ok(run_playbook(PLAYBOOK, write_inventory(tmp_path / "inventory", tenant, sandbox), sandbox))
    tagging = sandbox.boto3("resourcegroupstaggingapi")
    pages = tagging.get_resources(
        TagFilters=[{"Key": "tenant", "Values": [name]}], ResourceTypeFilters=["ec2:elastic-ip"]
    )["ResourceTagMappingList"]
    listing = {item["ResourceARN"]: {t["Key"]: t["Value"] for t in item["Tags"]} for item in pages}
    assert len(listing) == 1  # the NAT gateway's
    zones = sorted({s["AvailabilityZone"] for s in by_tenant_subnets(ec2, name)})
    spare_tags = {
        **next(iter(listing.values())),
        "toolkit:resource": f"eip-{zones[1]}",
        "Name": f"{name}-eip-{zones[1]}",
    }
    spare = ec2.allocate_address(
        Domain="vpc",
        TagSpecifications=[
            {"ResourceType": "elastic-ip", "Tags": [{"Key": k, "Value": v} for k, v in spare_tags.items()]}
        ],
    )["AllocationId"]
    task = {
        "iconeus.tenant_toolkit.tenant_network": {
            "tenant": name,
            "environment": tenant["environment"],
            "cidr": tenant["network"]["cidr"],
            "availability_zones": zones,
            "nat_gateways": "per_az",
            "known_tags": listing,
            "state": "present",
        }
    }
    run = run_tasks(tmp_path / "rerun", [task], sandbox)
    assert run.rc == 0, run.stdout[-3000:]
    operations = run.stats()["by_operation"]
    assert "ec2:AllocateAddress" not in operations, operations
    # Skipped in the first read (the listing agreed with the NAT gateway), then read for the plan that allocates.
    assert operations.get("ec2:DescribeAddresses") == 2, operations  # and once more after the changes
    vpc = by_tenant_subnets(ec2, name)[0]["VpcId"]
    nats = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NatGateways"]
    held = {n["NatGatewayAddresses"][0]["AllocationId"] for n in nats if n["State"] in ("pending", "available")}
    assert spare in held and len(held) == 2, [
        (n["NatGatewayId"], n["State"], n["SubnetId"], n.get("Tags")) for n in nats
    ]


def test_a_different_cidr_for_the_existing_vpc_fails_without_changes(
    network: Network, sandbox: SandboxClient, tmp_path: Path
) -> None:
    tenant = copy.deepcopy(network.tenant)
    tenant["network"]["cidr"] = "10.250.0.0/16"
    run = run_playbook(PLAYBOOK, write_inventory(tmp_path, tenant, sandbox), sandbox)
    assert run.rc != 0
    assert "cannot change in place" in run.stdout
    assert run.stats()["mutating"] == 0


# ---------------------------------------------------------------------------------------
# Check mode, updates, teardown
# ---------------------------------------------------------------------------------------
def test_check_mode_from_nothing_plans_without_a_single_write(sandbox: SandboxClient, ec2: Any, tmp_path: Path) -> None:
    tenant = new_tenant("plan")
    run = run_playbook(PLAYBOOK, write_inventory(tmp_path, tenant, sandbox), sandbox, check=True, diff=True)
    assert_ok(run)
    assert changed(run) >= 1
    assert run.stats()["mutating"] == 0
    assert "nat-gateway-eu-west-3a" in run.stdout  # the diff shows the planned network
    assert Owned.read(ec2, tenant["name"]).counts() == dict.fromkeys(Owned.__dataclass_fields__, 0)


def test_nat_tags_and_dhcp_options_change_in_place(sandbox: SandboxClient, ec2: Any, tmp_path: Path) -> None:
    tenant = new_tenant("upd", nat_gateways="none")
    inventory = write_inventory(tmp_path, tenant, sandbox)
    assert_ok(run_playbook(PLAYBOOK, inventory, sandbox))
    before = Owned.read(ec2, tenant["name"])
    assert before.nat_gateways == [] and before.addresses == []
    private = [s for s in before.subnets if role_of(s) == "private"]
    assert all(default_route(table_of(before, s["SubnetId"])) is None for s in private)

    tenant["network"]["nat_gateways"] = "single"
    write_inventory(tmp_path, tenant, sandbox)
    dns = ["10.1.0.10", "10.1.64.10"]
    update_vars = {"aws_network_tags": {"cost-centre": "lab-42"}, "aws_network_dhcp_dns_servers": dns}
    update = run_playbook(PLAYBOOK, inventory, sandbox, extra_vars=update_vars)
    assert_ok(update)
    assert changed(update) == 1
    after = Owned.read(ec2, tenant["name"])
    assert after.vpcs[0]["VpcId"] == before.vpcs[0]["VpcId"]
    assert len(after.nat_gateways) == 1
    nat_id = after.nat_gateways[0]["NatGatewayId"]
    assert all(default_route(table_of(after, s["SubnetId"]))["NatGatewayId"] == nat_id for s in private)
    items = [item for items in after.__dict__.values() for item in items]
    assert all(tags_of(item)["cost-centre"] == "lab-42" for item in items)
    options = ec2.describe_dhcp_options(DhcpOptionsIds=[after.vpcs[0]["DhcpOptionsId"]])["DhcpOptions"][0]
    config = {c["Key"]: [v["Value"] for v in c["Values"]] for c in options["DhcpConfigurations"]}
    assert config == {"domain-name-servers": dns, "domain-name": [tenant["directory"]["fqdn"]]}
    assert tags_of(options)["tenant"] == tenant["name"]

    again = run_playbook(PLAYBOOK, inventory, sandbox, extra_vars=update_vars)
    assert_ok(again)
    assert changed(again) == 0
    assert again.stats()["mutating"] == 0

    # Without DNS servers the network stage leaves the directory's DHCP options in place.
    alone = run_playbook(PLAYBOOK, inventory, sandbox, extra_vars={"aws_network_tags": {"cost-centre": "lab-42"}})
    assert_ok(alone)
    assert changed(alone) == 0
    assert Owned.read(ec2, tenant["name"]).vpcs[0]["DhcpOptionsId"] == options["DhcpOptionsId"]


def test_teardown_removes_what_the_tenant_owns_and_spares_same_name_vpcs(
    sandbox: SandboxClient, ec2: Any, tmp_path: Path
) -> None:
    tenant = new_tenant("gone")
    name = tenant["name"]
    inventory = write_inventory(tmp_path, tenant, sandbox)
    assert_ok(run_playbook(PLAYBOOK, inventory, sandbox))
    cidr = tenant["network"]["cidr"]
    decoys = {}
    for label, tags in (
        ("untagged", {"Name": f"{name}-vpc"}),
        ("other", {"Name": f"{name}-vpc", "tenant": "someone-else", "toolkit:component": "network"}),
    ):
        spec = [{"ResourceType": "vpc", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
        vpc = ec2.create_vpc(CidrBlock=cidr, TagSpecifications=spec)["Vpc"]
        subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=cidr)
        decoys[label] = (vpc["VpcId"], subnet["Subnet"]["SubnetId"], tags)

    teardown = run_playbook(PLAYBOOK, inventory, sandbox, extra_vars={"aws_network_state": "absent"})
    assert_ok(teardown)
    assert changed(teardown) == 1
    assert Owned.read(ec2, name).counts() == dict.fromkeys(Owned.__dataclass_fields__, 0)
    for vpc_id, subnet_id, tags in decoys.values():
        vpc = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
        assert tags_of(vpc) == tags
        assert ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"]
        assert vpc_id in teardown.stdout  # reported as kept

    again = run_playbook(PLAYBOOK, inventory, sandbox, extra_vars={"aws_network_state": "absent"})
    assert_ok(again)
    assert changed(again) == 0
    assert again.stats()["mutating"] == 0


# ---------------------------------------------------------------------------------------
# Interrupted creation
# ---------------------------------------------------------------------------------------
def interrupt_at(operation: str, inventory: Path, sandbox: SandboxClient, timeout: float = 120) -> None:
    """Run the playbook until `operation` is attempted (and refused), then kill the whole run.

    The injected server error would be retried for a long while; killing the process group is
    the interruption an operator's Ctrl-C or a lost CI runner produces.
    """
    mark = sandbox.log_mark()
    command = [str(BIN / "ansible-playbook"), PLAYBOOK, "-i", str(inventory)]
    environment = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "PATH": f"{BIN}:{os.environ['PATH']}"}
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while not any(e["operation"] == operation for e in sandbox.log(mark)):
            assert process.poll() is None, f"the run ended before calling {operation}"
            assert time.monotonic() < deadline, f"{operation} was not called within {timeout} s"
            time.sleep(0.1)
    finally:
        # The module runs in a session of its own, so the process group is not enough: stop
        # every process this run started, by id, the playbook itself last.
        for pid in [*reversed(descendants(process.pid)), process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=30)


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, parents before children (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


@pytest.mark.parametrize("operation", ["CreateNatGateway", "CreateVpcEndpoint"])
def test_a_rerun_after_an_interrupted_creation_leaves_no_duplicates(
    operation: str, sandbox: SandboxClient, ec2: Any, tmp_path: Path
) -> None:
    tenant = new_tenant("intr")
    inventory = write_inventory(tmp_path, tenant, sandbox)
    sandbox.add_fault(service="ec2", operation=operation, error_rate=1.0)
    try:
        interrupt_at(operation, inventory, sandbox)
    finally:
        sandbox.clear_faults()
    partial = Owned.read(ec2, tenant["name"])
    assert len(partial.vpcs) == 1 and len(partial.subnets) == 4 and len(partial.addresses) == 1
    assert len(partial.nat_gateways) == (1 if operation == "CreateVpcEndpoint" else 0)
    assert partial.endpoints == []

    rerun = run_playbook(PLAYBOOK, inventory, sandbox)
    assert_ok(rerun)
    owned = Owned.read(ec2, tenant["name"])
    assert owned.counts() == {
        "vpcs": 1,
        "subnets": 4,
        "nat_gateways": 1,
        "addresses": 1,
        "internet_gateways": 1,
        "route_tables": 2,
        "endpoints": 1,
        "security_groups": 4,
    }
    assert owned.vpcs[0]["VpcId"] == partial.vpcs[0]["VpcId"]
    assert owned.addresses[0]["AllocationId"] == partial.addresses[0]["AllocationId"]
    assert run_playbook(PLAYBOOK, inventory, sandbox).stats()["mutating"] == 0
