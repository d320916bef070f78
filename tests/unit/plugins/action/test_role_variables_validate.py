"""role_variables_validate: the one check of the role variables given for a tenant (playbooks/validate.yml).

The stage playbooks call the roles with `rolespec_validate: false`; these tests hold one assumption that makes
that safe, on the collection's own roles: the action finds every role option by its role's prefix. The
playbooks' side (tests/unit/test_role_variables_layout.py: the playbook project is not collection content, and
ansible-test runs these from the built collection) and the runs (tests/unit/test_validate_playbook.py) are apart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.iconeus.tenant_toolkit.plugins.action import role_variables_validate as action

ROOT = Path(__file__).resolve().parents[4]


def argument_specs(role: str) -> dict[str, Any]:
    path = ROOT / "roles" / role / "meta" / "argument_specs.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["argument_specs"]


def test_the_roles_are_found_next_to_the_plugins_longest_name_first() -> None:
    roles = action.collection_roles()
    on_disk = {path.parent.parent.name for path in (ROOT / "roles").glob("*/meta/argument_specs.yml")}
    assert set(roles) == on_disk and len(roles) >= 15
    assert [len(name) for name in roles] == sorted((len(name) for name in roles), reverse=True)
    assert action.collection_roles(str(ROOT / "no-such-folder")) == []


@pytest.mark.parametrize("role", sorted(path.name for path in (ROOT / "roles").iterdir() if (path / "meta").is_dir()))
def test_every_role_option_is_found_by_its_role_prefix(role: str) -> None:
    """The action reads a role's specs only when a variable with the role's prefix is given: an option without
    it would never be checked, and one that another role's prefix claims would be checked against the wrong role."""
    roles = action.collection_roles()
    for entry_point, spec in argument_specs(role).items():
        for option in (spec or {}).get("options") or {}:
            assert action.role_of(option, roles) == role, f"roles/{role} {entry_point}: {option}"


def test_a_variable_belongs_to_the_role_with_the_longest_matching_name() -> None:
    roles = action.collection_roles()
    assert action.role_of("aws_network_cidr", roles) == "aws_network"
    assert action.role_of("appstream_users_state", roles) == "appstream_users"
    assert action.role_of("aws_region", roles) is None
    assert action.role_of("aws_network", roles) is None  # the role's name alone is no option
    assert action.role_of("x_y", ["x_y", "x"]) == "x"  # x_y alone is a name, not an option of x_y
    assert action.role_of("x_y_z", sorted(["x", "x_y"], key=len, reverse=True)) == "x_y"


def test_an_option_is_looked_up_in_every_entry_point_of_its_role() -> None:
    specs = argument_specs("aws_network")
    found = action.option_specs(specs, "aws_network_nat_gateways")
    assert [entry_point for entry_point, _spec in found] == ["dhcp", "main"]
    assert all(spec["choices"] == ["single", "per_az", "none"] for _entry_point, spec in found)
    assert action.option_specs(specs, "aws_network_result") == []
    assert action.option_specs({"main": None}, "x") == []


def test_the_check_names_the_role_and_entry_point_and_reports_each_error() -> None:
    specs = {
        "r_size": {"type": "int"},
        "r_mode": {"type": "str", "choices": ["a", "b"]},
        "r_list": {"type": "list", "elements": "str"},
    }
    errors, masked = action.check_values("r", "main", specs, {"r_size": "ten", "r_mode": "c", "r_list": ["x"]})
    assert masked == set()
    assert len(errors) == 2
    assert all(message.startswith("role r: ") for message in errors)
    assert any("r_size" in message and "int" in message for message in errors), errors
    assert any("r_mode must be one of: a, b, got: c" in message for message in errors), errors
    errors, _masked = action.check_values("r", "dhcp", specs, {"r_size": "12"})
    assert errors == []
    errors, _masked = action.check_values("r", "dhcp", specs, {"r_mode": "z"})
    assert errors and errors[0].startswith("role r (tasks_from: dhcp): ")


def test_a_no_log_option_value_is_returned_to_be_masked() -> None:
    specs = {"r_password": {"type": "str", "no_log": True, "choices": ["never-this"]}}
    errors, masked = action.check_values("r", "main", specs, {"r_password": "s3cr3t-value"})
    assert "s3cr3t-value" in masked
    assert errors  # the action masks every occurrence in its result (remove_values)


@pytest.mark.parametrize(
    ("value", "calls"),
    [
        ("{{ lookup('ansible.builtin.env', 'HOME') }}", True),
        ("{{ query('amazon.aws.aws_secret', 'x') | first }}", True),
        (["plain", {"k": "{{ q('ansible.builtin.items', [1]) }}"}], True),
        ({"{{ lookup('x') }}": "v"}, True),
        ("lookup(not a template)", False),
        ("{{ tenant_spec.name ~ '-lookup' }}", False),
        ("{{ x.lookup_table }}", False),
        (3, False),
    ],
)
def test_a_value_that_calls_a_lookup_is_recognised(value: Any, calls: bool) -> None:
    assert action.calls_a_lookup(value) is calls
