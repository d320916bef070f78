"""known_secret_arn: the run's tag listing shows a secret by its exact name and region."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.iconeus.tenant_toolkit.plugins.filter.known_tags import known_secret_arn

ARN = "arn:aws:secretsmanager:eu-west-3:111122223333:secret:acme/directory/appstream-service-AbCdEf"
KNOWN = {
    ARN: {"tenant": "acme"},
    "arn:aws:secretsmanager:eu-west-3:111122223333:secret:acme/directory/appstream-service-x-AbCdEf": {},
    "arn:aws:secretsmanager:eu-west-1:111122223333:secret:acme/other-AbCdEf": {"tenant": "acme"},
    "arn:aws:secretsmanager:eu-west-3:111122223333:secret:acme/foreign-AbCdEf": {"tenant": "someone-else"},
}


def test_the_listed_secret_of_that_name_and_region_is_found() -> None:
    assert known_secret_arn(KNOWN, "acme/directory/appstream-service", "eu-west-3", "acme") == ARN


@pytest.mark.parametrize(
    ("known", "name", "region", "tenant"),
    [
        (KNOWN, "acme/directory/appstream", "eu-west-3", "acme"),  # a prefix of a listed name
        (KNOWN, "acme/other", "eu-west-3", "acme"),  # listed in another region
        (KNOWN, "acme/directory/appstream-service", None, "acme"),
        (KNOWN, "acme/directory/appstream-service", "eu-west-3", "other"),  # the tenant tag names acme
        (KNOWN, "acme/foreign", "eu-west-3", "acme"),  # listed, but tagged for someone else
        ({}, "acme/directory/appstream-service", "eu-west-3", "acme"),
        (None, "acme/directory/appstream-service", "eu-west-3", "acme"),
    ],
)
def test_anything_else_is_not_listed(known: dict | None, name: str, region: str | None, tenant: str) -> None:
    assert known_secret_arn(known, name, region, tenant) == ""


def test_a_wrong_listing_or_name_is_an_error() -> None:
    with pytest.raises(AnsibleFilterError):
        known_secret_arn(["not", "a", "mapping"], "acme/x", "eu-west-3", "acme")
    with pytest.raises(AnsibleFilterError):
        known_secret_arn(KNOWN, "", "eu-west-3", "acme")
    with pytest.raises(AnsibleFilterError):
        known_secret_arn(KNOWN, "acme/x", "eu-west-3", "")
