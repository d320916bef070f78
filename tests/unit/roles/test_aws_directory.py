"""The aws_directory role's password generator, rendered the way Ansible renders it."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
import yaml
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.password import (
    password_classes,
    password_policy_errors,
)

ROOT = Path(__file__).resolve().parents[3]


def render_generated_passwords(length: int, count: int) -> list[str]:
    """Render the role's own generator (roles/aws_directory/vars/main.yml) the way Ansible does."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    role_vars = yaml.safe_load((ROOT / "roles" / "aws_directory" / "vars" / "main.yml").read_text())
    variables = {k: trust_as_template(v) if isinstance(v, str) else v for k, v in role_vars.items()}
    variables["aws_directory_admin_password_length"] = length
    templar = Templar(loader=DataLoader(), variables=variables)
    return [
        str(templar.template(trust_as_template("{{ aws_directory_generated_password }}"))) for _unused in range(count)
    ]


@pytest.mark.parametrize("length", [16, 24, 64])
def test_generated_passwords_have_every_character_class_and_ad_length(length):
    symbols = set(
        yaml.safe_load((ROOT / "roles/aws_directory/vars/main.yml").read_text())["aws_directory_password_symbols"]
    )
    allowed = set(string.ascii_letters + string.digits) | symbols
    passwords = render_generated_passwords(length, 25)
    for password in passwords:
        assert len(password) >= 16
        assert len(password) <= 64
        assert len(password_classes(password)) == 4
        assert set(password) <= allowed
        assert password_policy_errors(password, min_length=16) == []
    assert len(set(passwords)) == len(passwords)
