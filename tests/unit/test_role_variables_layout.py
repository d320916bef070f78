"""The playbooks' side of role_variables_validate (plugins/action/role_variables_validate.py).

The tenant stages call their roles with `rolespec_validate: false` because playbooks/validate.yml checks the role
variables first: every stage of site.yml does so and only after its validate import, the runbooks and the teardown
leave the check to warn, a runbook that runs a stage gets the stage's check, and nothing set before validation is
named like a role variable (which the check would warn about).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.iconeus.tenant_toolkit.plugins.action import role_variables_validate as action

ROOT = Path(__file__).resolve().parents[2]


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
