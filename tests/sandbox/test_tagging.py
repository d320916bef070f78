"""Resource Groups Tagging API GetResources: moto's resources and the project's backends' in one listing,
filtered by tag and type, in pages (sandbox/backends/tagging.py)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.client import SandboxClient
from tests.sandbox.aws_helpers import create_directory, error_code, make_network, unique

REGION = "eu-west-3"
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def tenant(sandbox: SandboxClient) -> dict[str, Any]:
    """One tenant's resources in four services (two of moto, two of the project), another tenant's
    and untagged ones beside them."""
    name = unique("tg")
    other = unique("tgo")
    mine = [{"Key": "tenant", "Value": name}, {"Key": "team", "Value": "neuro"}]
    appstream = sandbox.boto3("appstream")
    stack = appstream.create_stack(Name=f"{name}-stack", Tags={"tenant": name})["Stack"]["Arn"]
    foreign_stack = appstream.create_stack(Name=f"{other}-stack", Tags={"tenant": other})["Stack"]["Arn"]
    untagged_stack = appstream.create_stack(Name=f"{name}-untagged")["Stack"]["Arn"]
    ds = sandbox.boto3("ds")
    directory = create_directory(ds, make_network(sandbox.boto3("ec2")), Tags=mine)
    sns = sandbox.boto3("sns")
    topic = sns.create_topic(Name=f"{name}-alerts", Tags=mine)["TopicArn"]
    sns.create_topic(Name=f"{other}-alerts", Tags=[{"Key": "tenant", "Value": other}])
    sns.create_topic(Name=f"{name}-untagged")
    cloudwatch = sandbox.boto3("cloudwatch")
    alarms = []
    for index in range(3):
        cloudwatch.put_metric_alarm(
            AlarmName=f"{name}-alarm-{index}",
            Namespace="AWS/AppStream",
            MetricName="CapacityUtilization",
            Statistic="Average",
            Period=300,
            EvaluationPeriods=1,
            Threshold=80,
            ComparisonOperator="GreaterThanThreshold",
            Tags=mine,
        )
        alarms.append(f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}-alarm-{index}")
    return {
        "name": name,
        "stack": stack,
        "foreign_stack": foreign_stack,
        "untagged_stack": untagged_stack,
        "directory": f"arn:aws:ds:{REGION}:{ACCOUNT}:directory/{directory}",
        "topic": topic,
        "alarms": alarms,
    }


def listing(client: Any, **params: Any) -> tuple[dict[str, dict[str, str]], list[str]]:
    """ARN -> tags over every page, and the tokens the pages gave."""
    found: dict[str, dict[str, str]] = {}
    tokens: list[str] = []
    while True:
        page = client.get_resources(**params)
        for item in page["ResourceTagMappingList"]:
            found[item["ResourceARN"]] = {tag["Key"]: tag["Value"] for tag in item["Tags"]}
        tokens.append(page.get("PaginationToken", ""))
        if not page.get("PaginationToken"):
            return found, tokens
        params["PaginationToken"] = page["PaginationToken"]


def of_tenant(name: str) -> list[dict[str, Any]]:
    return [{"Key": "tenant", "Values": [name]}]


def test_the_tenant_tag_lists_its_resources_of_moto_and_of_the_project_with_all_their_tags(
    sandbox: SandboxClient, tenant: dict[str, Any]
) -> None:
    found, _ = listing(sandbox.boto3("resourcegroupstaggingapi"), TagFilters=of_tenant(tenant["name"]))
    expected = {tenant["stack"], tenant["directory"], tenant["topic"], *tenant["alarms"]}
    assert set(found) == expected  # neither the other tenant's nor the untagged ones
    assert found[tenant["directory"]] == {"tenant": tenant["name"], "team": "neuro"}
    assert found[tenant["topic"]] == {"tenant": tenant["name"], "team": "neuro"}
    assert found[tenant["stack"]] == {"tenant": tenant["name"]}


def test_resource_types_select_by_service_or_by_service_and_type(
    sandbox: SandboxClient, tenant: dict[str, Any]
) -> None:
    client = sandbox.boto3("resourcegroupstaggingapi")
    types = ["appstream:stack", "ds:directory", "sns"]
    found, _ = listing(client, TagFilters=of_tenant(tenant["name"]), ResourceTypeFilters=types)
    assert set(found) == {tenant["stack"], tenant["directory"], tenant["topic"]}
    found, _ = listing(client, TagFilters=of_tenant(tenant["name"]), ResourceTypeFilters=["appstream:fleet"])
    assert found == {}


def test_a_tag_key_without_values_matches_any_value_and_filters_must_all_match(
    sandbox: SandboxClient, tenant: dict[str, Any]
) -> None:
    client = sandbox.boto3("resourcegroupstaggingapi")
    both = [*of_tenant(tenant["name"]), {"Key": "team"}]
    found, _ = listing(client, TagFilters=both)
    assert set(found) == {tenant["directory"], tenant["topic"], *tenant["alarms"]}  # the stack has no team tag
    found, _ = listing(client, TagFilters=[*of_tenant(tenant["name"]), {"Key": "team", "Values": ["other"]}])
    assert found == {}


def test_pages_follow_the_token_to_an_empty_one(sandbox: SandboxClient, tenant: dict[str, Any]) -> None:
    client = sandbox.boto3("resourcegroupstaggingapi")
    found, tokens = listing(client, TagFilters=of_tenant(tenant["name"]), ResourcesPerPage=2)
    assert len(found) == 6 and len(tokens) == 3
    assert all(tokens[:2]) and tokens[2] == ""
    with pytest.raises(ClientError) as excinfo:
        client.get_resources(TagFilters=of_tenant(tenant["name"]), PaginationToken="not-a-token")
    assert error_code(excinfo) == "InvalidParameterException"


def test_out_of_range_pages_and_arns_with_paging_are_refused(sandbox: SandboxClient, tenant: dict[str, Any]) -> None:
    client = sandbox.boto3("resourcegroupstaggingapi")
    for params in (
        {"ResourcesPerPage": 101},
        {"ResourcesPerPage": 0},
        {"TagsPerPage": 99},
        {"ResourceARNList": [tenant["stack"]], "ResourcesPerPage": 10},
    ):
        with pytest.raises(ClientError) as excinfo:
            client.get_resources(**params)
        assert error_code(excinfo) == "InvalidParameterException", params


def test_an_arn_list_reads_those_resources_only(sandbox: SandboxClient, tenant: dict[str, Any]) -> None:
    client = sandbox.boto3("resourcegroupstaggingapi")
    arns = [tenant["stack"], tenant["foreign_stack"], tenant["untagged_stack"]]
    found, _ = listing(client, ResourceARNList=arns)
    assert set(found) == {tenant["stack"], tenant["foreign_stack"]}  # an untagged resource is never listed


@pytest.mark.parametrize("protocol", ["smithy-rpc-v2-cbor", "json"])
def test_both_protocols_of_the_model_are_answered(
    sandbox: SandboxClient, tenant: dict[str, Any], protocol: str
) -> None:
    mark = sandbox.log_mark()
    client = sandbox.boto3("resourcegroupstaggingapi", protocol=protocol)
    found, _ = listing(client, TagFilters=of_tenant(tenant["name"]), ResourceTypeFilters=["ds:directory"])
    assert set(found) == {tenant["directory"]}
    [entry] = [e for e in sandbox.log(mark) if e["operation"] == "GetResources"]
    assert entry["service"] == "tagging" and entry["status"] == 200 and not entry["mutating"]
    assert entry.get("protocol") == ("rpc-v2-cbor" if protocol == "smithy-rpc-v2-cbor" else None)


def test_elastic_ips_are_listed_as_ec2_elastic_ip_with_their_tags(sandbox: SandboxClient) -> None:
    """moto's EC2 backend leaves Elastic IPs out of its list; GetResources lists every resource type."""
    name, other = unique("tge"), unique("tgf")
    ec2 = sandbox.boto3("ec2")

    def allocate(tags: dict[str, str]) -> str:
        specification = [{"ResourceType": "elastic-ip", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
        return ec2.allocate_address(Domain="vpc", **({"TagSpecifications": specification} if tags else {}))[
            "AllocationId"
        ]

    mine = allocate({"tenant": name, "component": "network"})
    allocate({"tenant": other})
    allocate({})
    tagged_later = allocate({})
    ec2.create_tags(Resources=[tagged_later], Tags=[{"Key": "tenant", "Value": name}])
    client = sandbox.boto3("resourcegroupstaggingapi")
    found, _ = listing(client, TagFilters=of_tenant(name), ResourceTypeFilters=["ec2:elastic-ip"])
    arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:elastic-ip/"
    assert found == {arn + mine: {"tenant": name, "component": "network"}, arn + tagged_later: {"tenant": name}}
    found, _ = listing(client, TagFilters=of_tenant(name), ResourceTypeFilters=["ec2:natgateway"])
    assert found == {}
    ec2.release_address(AllocationId=mine)
    found, _ = listing(client, TagFilters=of_tenant(name), ResourceTypeFilters=["ec2"])
    assert set(found) == {arn + tagged_later}
