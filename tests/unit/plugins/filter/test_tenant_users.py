"""The tenant_username filter: the directory account name the roles use is the one validation checked."""

from __future__ import annotations

import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.filter.tenant_users import tenant_username


@pytest.mark.parametrize(
    ("user", "sam"),
    [
        ({"email": "ada@lab.example"}, "ada"),
        ({"email": "Grace.Hopper@lab.example"}, "grace.hopper"),
        ({"email": "Grace.Hopper@lab.example", "username": "ghopper"}, "ghopper"),
        ({"email": "a.very.long.first.name.last@lab.example"}, "a.very.long.first.na"),
        ({"email": "o'brien+lab@x.example"}, "obrienlab"),
        ({"email": ".dot.first.@x.example"}, "dot.first"),
    ],
)
def test_the_account_name_is_the_username_or_comes_from_the_email_local_part(user: dict, sam: str) -> None:
    """The filter the directory and share roles use gives the name validation checked (schema.checks)."""
    assert tenant_username(user) == sam
    assert len(tenant_username(user)) <= 20
