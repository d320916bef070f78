"""known_secret_arn: which secret of the run's tag listing a name stands for, and nothing else."""

from __future__ import annotations

import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.secrets import known_secret_arn

ACCOUNT = "123456789012"


def arn(name: str, region: str = "eu-west-3", suffix: str = "AbC123") -> str:
    return f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{name}-{suffix}"


def test_a_name_finds_its_own_secret_only() -> None:
    own, longer = arn("acme/directory/admin"), arn("acme/directory/admin-extra")
    known = {longer: {"tenant": "acme"}, own: {"tenant": "acme"}}
    assert known_secret_arn(known, "acme/directory/admin", "eu-west-3") == own
    assert known_secret_arn(known, "acme/directory/admin-extra", "eu-west-3") == longer
    # A prefix of a listed name, or the name with the random suffix cut short, is not that secret.
    assert known_secret_arn(known, "acme/directory/adm", "eu-west-3") is None
    assert known_secret_arn({arn("acme/x", suffix="AbC12"): {}}, "acme/x", "eu-west-3") is None


@pytest.mark.parametrize(
    "listed",
    [
        arn("acme/directory/admin", region="eu-west-1"),  # another region
        f"arn:aws:ssm:eu-west-3:{ACCOUNT}:parameter/acme/directory/admin-AbC123",  # another service
        f"arn:aws:secretsmanager:eu-west-3:{ACCOUNT}:other:acme/directory/admin-AbC123",  # another type
        "not-an-arn",
    ],
)
def test_a_secret_of_another_region_service_or_type_is_not_taken(listed: str) -> None:
    assert known_secret_arn({listed: {"tenant": "acme"}}, "acme/directory/admin", "eu-west-3") is None


def test_an_arn_must_be_listed_as_it_is_and_nothing_is_known_without_a_listing() -> None:
    own = arn("acme/directory/admin")
    assert known_secret_arn({own: {}}, own, "eu-west-3") == own
    assert known_secret_arn({own: {}}, arn("acme/directory/admin", suffix="ZzZ999"), "eu-west-3") is None
    assert known_secret_arn({}, "acme/directory/admin", "eu-west-3") is None
    assert known_secret_arn(None, "acme/directory/admin", "eu-west-3") is None
