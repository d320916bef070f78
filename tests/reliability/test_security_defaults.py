"""A converged tenant is secure by default, read back from the sandbox's describe calls.

The reference tenant is the demo tenant with its stack section left out, so what is checked here is
what the toolkit deploys when the definition says nothing: no ingress from the internet, encryption at
rest, the stack's user settings that keep data in the tenant (no clipboard to the local device, no file
download, no printing), WinRM never reaching fleet instances and reaching image builders only from the
image controller's range (none when it is not set) with encrypted messages, and no direct internet access for
streaming instances and image builders (they go out through the NAT).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.client import SandboxClient
from tests.helpers import BIN, ROOT
from tests.reliability.conftest import Converged
from tests.reliability.tenants import REGION

pytestmark = pytest.mark.slow

WORLD = {"0.0.0.0/0", "::/0"}


def _tenant_groups(sandbox: SandboxClient, tenant: str) -> dict[str, dict[str, Any]]:
    ec2 = sandbox.boto3("ec2", REGION)
    (vpc,) = ec2.describe_vpcs(Filters=[{"Name": "tag:tenant", "Values": [tenant]}])["Vpcs"]
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["SecurityGroups"]
    return {group["GroupName"]: group for group in groups}


def _sources(rule: dict[str, Any]) -> set[str]:
    return {r["CidrIp"] for r in rule.get("IpRanges", [])} | {r["CidrIpv6"] for r in rule.get("Ipv6Ranges", [])}


def test_no_security_group_of_the_tenant_accepts_traffic_from_the_internet(
    reliability_sandbox: SandboxClient, reference: Converged
) -> None:
    groups = _tenant_groups(reliability_sandbox, reference.name)
    assert {f"{reference.name}-streaming", f"{reference.name}-directory", f"{reference.name}-fsx"} <= set(groups)
    open_to_world = [
        (name, rule["IpProtocol"], rule.get("FromPort"), rule.get("ToPort"))
        for name, group in groups.items()
        for rule in group["IpPermissions"]
        if WORLD & _sources(rule)
    ]
    assert open_to_world == []


def test_winrm_never_reaches_fleet_instances_and_builders_only_from_the_controller_range(
    reliability_sandbox: SandboxClient, reference: Converged
) -> None:
    groups = _tenant_groups(reliability_sandbox, reference.name)
    assert groups[f"{reference.name}-streaming"]["IpPermissions"] == [], "fleet instances accept nothing"
    builder = groups[f"{reference.name}-builder"]
    # The demo sets no image_controller_cidr: nothing may reach its builders, not even from the VPC.
    assert builder["IpPermissions"] == []


def _plain(value: Any) -> Any:
    """A value of `ansible-inventory --list`, without the marking of values that came from AWS as unsafe."""
    if isinstance(value, dict) and set(value) == {"__ansible_unsafe"}:
        return value["__ansible_unsafe"]
    return value


def test_the_builder_inventory_plugin_connects_with_encrypted_winrm_messages(
    reliability_sandbox: SandboxClient, reference: Converged, tmp_path: Path
) -> None:
    source = tmp_path / "builders.appstream_image_builders.yml"
    source.write_text(
        yaml.safe_dump(
            {
                "plugin": "iconeus.tenant_toolkit.appstream_image_builders",
                "regions": [REGION],
                "tenants": [reference.name],
            }
        )
    )
    environment = {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "AWS_ENDPOINT_URL": reliability_sandbox.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "PATH": str(BIN),
    }
    listed = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(source), "--list"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    host_vars = json.loads(listed.stdout)["_meta"]["hostvars"]
    builder = {key: _plain(value) for key, value in host_vars[f"{reference.name}-builder"].items()}
    assert builder["ansible_connection"] == "winrm"
    assert builder["ansible_port"] == 5985
    assert builder["ansible_winrm_scheme"] == "http"
    assert builder["ansible_winrm_transport"] == "ntlm"
    assert builder["ansible_winrm_message_encryption"] == "always"


def test_the_file_system_is_encrypted_at_rest(reliability_sandbox: SandboxClient, reference: Converged) -> None:
    fsx = reliability_sandbox.boto3("fsx", REGION)
    systems = [
        system
        for system in fsx.describe_file_systems()["FileSystems"]
        if {"Key": "tenant", "Value": reference.name} in system.get("Tags", [])
    ]
    assert len(systems) == 1
    assert systems[0]["KmsKeyId"].startswith("arn:aws:kms:")


def test_the_stack_keeps_data_in_the_tenant_by_default(
    reliability_sandbox: SandboxClient, reference: Converged
) -> None:
    appstream = reliability_sandbox.boto3("appstream", REGION)
    (stack,) = appstream.describe_stacks(Names=[f"{reference.name}-stack"])["Stacks"]
    settings = {setting["Action"]: setting["Permission"] for setting in stack["UserSettings"]}
    # Each action must be present: AppStream enables an action left unset.
    expected = {
        "CLIPBOARD_COPY_FROM_LOCAL_DEVICE": "ENABLED",
        "CLIPBOARD_COPY_TO_LOCAL_DEVICE": "DISABLED",
        "FILE_UPLOAD": "ENABLED",
        "FILE_DOWNLOAD": "DISABLED",
        "PRINTING_TO_LOCAL_DEVICE": "DISABLED",
    }
    assert {action: settings.get(action) for action in expected} == expected


def test_streaming_instances_and_builders_have_no_direct_internet_access(
    reliability_sandbox: SandboxClient, reference: Converged
) -> None:
    appstream = reliability_sandbox.boto3("appstream", REGION)
    (fleet,) = appstream.describe_fleets(Names=[f"{reference.name}-fleet"])["Fleets"]
    (builder,) = appstream.describe_image_builders(Names=[f"{reference.name}-builder"])["ImageBuilders"]
    assert fleet["EnableDefaultInternetAccess"] is False
    assert builder["EnableDefaultInternetAccess"] is False
    # They live in the private subnets (outbound through the NAT gateway only).
    ec2 = reliability_sandbox.boto3("ec2", REGION)
    subnet_ids = sorted(set(fleet["VpcConfig"]["SubnetIds"]) | set(builder["VpcConfig"]["SubnetIds"]))
    names = {
        tag["Value"]
        for subnet in ec2.describe_subnets(SubnetIds=subnet_ids)["Subnets"]
        for tag in subnet["Tags"]
        if tag["Key"] == "Name"
    }
    assert names and all("-private-" in name for name in names), names
