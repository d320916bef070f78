"""tenant_tags_info: one GetResources call (every page) filtered on the tenant tag, ARN -> tags."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator
from ansible_collections.iconeus.tenant_toolkit.plugins.modules.tenant_tags_info import tenant_resources
from botocore.stub import Stubber

TYPES = ["appstream:fleet", "appstream:stack", "ds:directory", "cloudwatch:alarm", "sns"]
FLEET = "arn:aws:appstream:eu-west-3:123456789012:fleet/acme-fleet"
TOPIC = "arn:aws:sns:eu-west-3:123456789012:acme-alerts"


@pytest.fixture
def tagging() -> Any:
    client = boto3.client(
        "resourcegroupstaggingapi", region_name="eu-west-3", aws_access_key_id="x", aws_secret_access_key="y"
    )
    with Stubber(client) as stubber:
        yield RetryingBotoClientWrapper(client, retry_decorator()), stubber


def request(token: str | None = None) -> dict[str, Any]:
    expected = {
        "TagFilters": [{"Key": "tenant", "Values": ["acme"]}],
        "ResourceTypeFilters": TYPES,
        "ResourcesPerPage": 100,
    }
    return {**expected, "PaginationToken": token} if token else expected


def test_every_page_is_read_and_only_the_tenant_s_resources_are_kept(tagging: Any) -> None:
    client, stubber = tagging
    stubber.add_response(
        "get_resources",
        {
            "ResourceTagMappingList": [
                {"ResourceARN": FLEET, "Tags": [{"Key": "tenant", "Value": "acme"}, {"Key": "team", "Value": "x"}]}
            ],
            "PaginationToken": "page-2",
        },
        request(),
    )
    stubber.add_response(
        "get_resources",
        {
            "ResourceTagMappingList": [
                {"ResourceARN": TOPIC, "Tags": [{"Key": "tenant", "Value": "acme"}]},
                # Never handed on, whatever the API answered: it is not the tenant's.
                {"ResourceARN": "arn:aws:sns:eu-west-3:123456789012:other", "Tags": [{"Key": "tenant", "Value": "b"}]},
            ],
            "PaginationToken": "",
        },
        request("page-2"),
    )
    assert tenant_resources(client, "acme", TYPES) == {
        FLEET: {"tenant": "acme", "team": "x"},
        TOPIC: {"tenant": "acme"},
    }
    stubber.assert_no_pending_responses()
