"""role_variables_validate: the one check of the role variables given for a tenant (playbooks/validate.yml).

The stage playbooks call the roles with `rolespec_validate: false`; these tests hold the assumptions that make
that safe: the action finds every role option by its role's prefix, and only playbooks that run validate.yml
first skip a role's own check. The runs are in tests/unit/test_validate_playbook.py.
"""

from __future__ import annotations

from collections.abc import Iterator
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


def _role_calls(path: Path) -> list[tuple[str, bool]]:
    """(role, rolespec_validate is false) of every include_role / import_role / roles: entry of a playbook."""
    calls = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("ansible.builtin.include_role", "ansible.builtin.import_role", "include_role", "import_role"):
                if isinstance(node.get(key), dict):
                    calls.append((node[key]["name"], node[key].get("rolespec_validate") is False))
            for entry in node.get("roles") or []:
                name = entry.get("role") if isinstance(entry, dict) else entry
                calls.append((name, False))
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return calls


BUILDER_ROLES = {"win_image_base", "win_app_install", "appstream_session_scripts", "image_assistant"}


def _validate_import(path: Path) -> dict[str, Any] | None:
    """The playbook's entry importing validate.yml, if any (the first one)."""
    for entry in yaml.safe_load(path.read_text(encoding="utf-8")):
        if entry.get("ansible.builtin.import_playbook", "").rsplit("/", 1)[-1] == "validate.yml":
            return entry
    return None


def test_only_playbooks_whose_validation_checks_role_variables_skip_a_roles_own_check() -> None:
    playbooks = [ROOT / "site.yml", *(ROOT / "playbooks").glob("*.yml"), *(ROOT / "playbooks" / "ops").glob("*.yml")]
    skipping = {}
    for path in sorted(playbooks):
        unchecked = [role for role, skipped in _role_calls(path) if skipped]
        if unchecked:
            skipping[str(path.relative_to(ROOT))] = unchecked
            first = yaml.safe_load(path.read_text(encoding="utf-8"))[0]
            assert first == _validate_import(path), f"{path.name} calls {unchecked} unchecked, not after validate.yml"
            assert (first.get("vars") or {}).get("validate_role_variables", True) is True, path
    # The tenant stages only. The image builder's roles run on builder hosts, whose variables validate.yml does not
    # see: they keep their own check, as the runbooks' and the teardown's roles do.
    assert set(skipping) >= {f"playbooks/{stage}.yml" for stage in ("network", "directory", "storage", "fleet")}
    assert not BUILDER_ROLES & {role for roles in skipping.values() for role in roles}
    assert not [name for name in skipping if name.startswith("playbooks/ops/") or name == "playbooks/teardown.yml"]


# The tenant stages site.yml imports (validation, the lock and the summary call no role).
STAGES = [
    entry["ansible.builtin.import_playbook"].removeprefix("playbooks/").removesuffix(".yml")
    for entry in yaml.safe_load((ROOT / "site.yml").read_text(encoding="utf-8"))
    if entry["ansible.builtin.import_playbook"]
    not in {"playbooks/validate.yml", "playbooks/lock.yml", "playbooks/summary.yml"}
]


@pytest.mark.parametrize("stage", STAGES)
def test_a_tenant_stage_calls_every_tenant_role_without_its_own_check(stage: str) -> None:
    """Each role's own check was a task per tenant (7 per user-pool tenant and 14 per SAML tenant in site.yml)."""
    assert len(STAGES) >= 10
    path = ROOT / "playbooks" / f"{stage}.yml"
    calls = [(role, skipped) for role, skipped in _role_calls(path) if role not in BUILDER_ROLES]
    assert calls, path
    assert all(skipped for _role, skipped in calls), calls
    assert (_validate_import(path) or {}).get("vars") is None, "a stage's validation checks the role variables"


def test_the_runbooks_and_the_teardown_leave_the_role_variables_to_their_roles() -> None:
    importing = 0
    for path in [*sorted((ROOT / "playbooks" / "ops").glob("*.yml")), ROOT / "playbooks" / "teardown.yml"]:
        entry = _validate_import(path)
        if entry is not None:
            importing += 1
            assert entry["vars"]["validate_role_variables"] is False, path
    assert importing >= 15


def test_no_runbook_runs_a_stage_that_skips_its_roles_checks_without_their_variables_checked() -> None:
    """A runbook importing a stage playbook (image_rotate.yml runs image.yml) gets that stage's own validation."""
    found = []
    for path in sorted((ROOT / "playbooks" / "ops").glob("*.yml")):
        own_validation = False  # a runbook's own warn-only validation before the stage would count the tenants done
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")):
            imported = entry.get("ansible.builtin.import_playbook", "")
            own_validation = own_validation or imported == "../validate.yml"
            target = (path.parent / imported).resolve()
            if imported.startswith("../") and any(skipped for _role, skipped in _role_calls(target)):
                own = _validate_import(target)
                assert own is not None and "vars" not in own, f"{path.name} -> {imported}"
                assert not own_validation, f"{path.name} validates before {imported}, which then checks nothing"
                found.append(imported)
    assert found == ["../image.yml"]


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


def _set_names(node: Any) -> Iterator[str]:
    """The names a playbook part registers or sets as facts."""
    if isinstance(node, dict):
        if isinstance(node.get("register"), str):
            yield node["register"]
        for key in ("ansible.builtin.set_fact", "set_fact"):
            if isinstance(node.get(key), dict):
                yield from (name for name in node[key] if name != "cacheable")
        for child in node.values():
            yield from _set_names(child)
    elif isinstance(node, list):
        for child in node:
            yield from _set_names(child)


def test_nothing_a_playbook_sets_before_its_validation_is_named_like_a_role_variable() -> None:
    """Validation warns about a variable named like a role's options that is none of them (a misspelling): a runbook
    registering `ingest_sync_vars` before it warned for every tenant on every run."""
    roles = action.collection_roles()
    for path in sorted([*(ROOT / "playbooks").glob("*.yml"), *(ROOT / "playbooks" / "ops").glob("*.yml")]):
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
        before = []
        for entry in entries:
            if entry.get("ansible.builtin.import_playbook", "").rsplit("/", 1)[-1] == "validate.yml":
                break
            before.append(entry)
        named = [name for name in _set_names(before) if action.role_of(name, roles)]
        assert named == [], f"{path.relative_to(ROOT)} sets {named} before validate.yml"
