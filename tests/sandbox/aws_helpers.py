"""Small helpers shared by the sandbox's Directory Service and FSx tests (boto3 against the sandbox)."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

PASSWORD = "Sandbox-Adm1n-Secret"


def wait_for(
    fetch: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 15.0, interval: float = 0.05
) -> Any:
    """Poll `fetch` until `done(value)`; fail with the last value after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    value = fetch()
    while not done(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout}s; last value: {value!r}")
        time.sleep(interval)
        value = fetch()
    return value


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return excinfo.value.response["Error"]["Code"]


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def make_network(ec2: Any, region_zones: tuple[str, str] = ("eu-west-3a", "eu-west-3b")) -> dict[str, Any]:
    """A VPC with two subnets in different AZs and a third one in the first AZ."""
    octet = random.randint(0, 255)
    vpc_id = ec2.create_vpc(CidrBlock=f"10.{octet}.0.0/16")["Vpc"]["VpcId"]
    cidrs = [f"10.{octet}.1.0/24", f"10.{octet}.2.0/24", f"10.{octet}.3.0/24"]
    zones = [region_zones[0], region_zones[1], region_zones[0]]
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for cidr, zone in zip(cidrs, zones, strict=True)
    ]
    return {"vpc": vpc_id, "subnets": subnets, "cidrs": dict(zip(subnets, cidrs, strict=True)), "zones": zones}


def create_directory(ds: Any, network: dict[str, Any], **overrides: Any) -> str:
    params: dict[str, Any] = {
        "Name": f"{unique('corp')}.example.com",
        "Password": PASSWORD,
        "VpcSettings": {"VpcId": network["vpc"], "SubnetIds": network["subnets"][:2]},
    }
    params.update(overrides)
    return ds.create_microsoft_ad(**params)["DirectoryId"]
