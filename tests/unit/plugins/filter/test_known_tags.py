"""known_secret_arn: the run's tag listing shows a secret by its exact name and region."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.iconeus.tenant_toolkit.plugins.filter.known_tags import known_secret_arn

ARN = "arn:aws:secretsmanager:eu-west-3:111122223333:secret:acme/directory/appstream-service-AbCdEf"
KNOWN = {
    ARN: {"tenant": "acme"},
    "arn:aws:secretsmanager:eu-west-3:111122223333:secret:acme/directory/appstream-service-x-AbCdEf": {},
    "arn:aws:secretsmanager:eu-west-1:111122223333:secret:acme/other-AbCdEf": {},
}


def test_the_listed_secret_of_that_name_and_region_is_found() -> None:
    assert known_secret_arn(KNOWN, "acme/directory/appstream-service", "eu-west-3") == ARN


@pytest.mark.parametrize(
    ("known", "name", "region"),
    [
        (KNOWN, "acme/directory/appstream", "eu-west-3"),  # a prefix of a listed name
        (KNOWN, "acme/other", "eu-west-3"),  # listed in another region
        (KNOWN, "acme/directory/appstream-service", None),
        ({}, "acme/directory/appstream-service", "eu-west-3"),
        (None, "acme/directory/appstream-service", "eu-west-3"),
    ],
)
def test_anything_else_is_not_listed(known: dict | None, name: str, region: str | None) -> None:
    assert known_secret_arn(known, name, region) == ""


def test_a_wrong_listing_or_name_is_an_error() -> None:
    with pytest.raises(AnsibleFilterError):
        known_secret_arn(["not", "a", "mapping"], "acme/x", "eu-west-3")
    with pytest.raises(AnsibleFilterError):
        known_secret_arn(KNOWN, "", "eu-west-3")
