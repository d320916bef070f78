"""What roles and playbooks read: the normalised definition `tenant_spec` only, schema defaults never
repeated, and every role input documented in its argument spec (shown by `ansible-doc -t role`).

The raw host variable `tenant` is untrusted customer data with no defaults applied; playbooks/validate.yml
is the one reader: it checks it and sets `tenant_spec` (plugins/module_utils/schema/tenant.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.engine import MISSING, Field
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.tenant import TENANT_SCHEMA
from jinja2 import nodes

from tests.helpers import JINJA_PARSER as JINJA

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(path.name for path in (ROOT / "roles").iterdir() if (path / "tasks").is_dir())
ANSIBLE_DOC = Path(sys.executable).parent / "ansible-doc"
COLLECTION = "iconeus.tenant_toolkit"
# The one file allowed to read the raw definition.
RAW_READER = ROOT / "playbooks" / "validate.yml"
# Keys whose string values Ansible evaluates as bare Jinja expressions.
CONDITIONAL_KEYS = {"when", "changed_when", "failed_when", "until", "that"}
# Windows paths in Jinja string literals ('\\s' in a regex) make Jinja's lexer warn; Ansible parses them the same.
pytestmark = pytest.mark.filterwarnings("ignore:invalid escape sequence:DeprecationWarning")


def _sources() -> list[Path]:
    """Every YAML and Jinja file of the roles, the playbooks (ops and task files too) and the group vars.

    playbooks/group_vars and playbooks/ops/group_vars are links to group_vars/: read once, there."""
    files = [ROOT / "site.yml"]
    for top in ("roles", "playbooks", "group_vars"):
        for path in sorted((ROOT / top).rglob("*")):
            if any(part == "group_vars" for part in path.relative_to(ROOT).parts[1:]) and top != "group_vars":
                continue
            if path.is_file() and path.suffix in (".yml", ".yaml", ".j2"):
                files.append(path)
    return files


def _strings(value: Any, key: str | None = None) -> Iterator[tuple[str, bool]]:
    """(text, is_bare_expression) of every string in a YAML document."""
    if isinstance(value, dict):
        for child_key, child in value.items():
            yield from _strings(child, str(child_key))
    elif isinstance(value, list):
        for child in value:
            yield from _strings(child, key)
    elif isinstance(value, str):
        yield value, key in CONDITIONAL_KEYS


def _templates(path: Path) -> Iterator[nodes.Template]:
    """The Jinja ASTs of a file: the whole file for .j2, each templated or conditional string for YAML."""
    if path.suffix == ".j2":
        yield JINJA.parse(path.read_text(encoding="utf-8"))
        return
    for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        for text, bare in _strings(document):
            if bare:
                yield JINJA.parse("{{ (" + text + ") }}")
            elif "{{" in text or "{%" in text:
                yield JINJA.parse(text)


def _on_hostvars(node: nodes.Node) -> bool:
    """`hostvars` or `hostvars[host]`: where another host's raw `tenant` would be read."""
    if isinstance(node, nodes.Getitem):
        node = node.node
    return isinstance(node, nodes.Name) and node.name == "hostvars"


def _raw_tenant_reads(tree: nodes.Template) -> list[str]:
    found = []
    for node in tree.find_all((nodes.Name, nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Name) and node.name == "tenant" and node.ctx == "load":
            found.append("tenant")
        elif isinstance(node, nodes.Getattr) and node.attr == "tenant" and _on_hostvars(node.node):
            found.append(".tenant")
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and node.arg.value == "tenant"
            and _on_hostvars(node.node)
        ):
            found.append("['tenant']")
    return found


def _spec_path(node: nodes.Node) -> list[str] | None:
    """`tenant_spec.a.b` (also through `(tenant_spec | default({}))`) as ['a', 'b']; None for anything else."""
    path: list[str] = []
    while True:
        if isinstance(node, nodes.Getattr):
            path.insert(0, node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            path.insert(0, node.arg.value)
            node = node.node
        elif isinstance(node, nodes.Filter) and node.name == "default":
            node = node.node
        elif isinstance(node, nodes.Name) and node.name == "tenant_spec":
            return path
        else:
            return None


def _schema_default(path: list[str]) -> Any:
    """The schema's default for a path of the definition, MISSING when it has none."""
    field: Field | None = TENANT_SCHEMA
    for key in path:
        if field is None or field.fields is None or key not in field.fields:
            return MISSING
        field = field.fields[key]
    return field.default if field is not None else MISSING


def _schema_defaults_repeated(tree: nodes.Template) -> list[str]:
    found = []
    for node in tree.find_all(nodes.Filter):
        if node.name != "default":
            continue
        path = _spec_path(node.node)
        default = _schema_default(path) if path else MISSING
        if default is MISSING:
            continue
        # A nullable section (None by default) may be read through `| default({}, true)`; only
        # `| default(none)` repeats its default.
        given = node.args[0] if node.args else None
        repeats_none = (isinstance(given, nodes.Const) and given.value is None) or (
            isinstance(given, nodes.Name) and given.name == "none"
        )
        if default is None and not repeats_none:
            continue
        found.append(f"tenant_spec.{'.'.join(path)} | default(...) (the schema's default is {default!r})")
    return found


def test_the_sources_scanned_include_roles_playbooks_and_group_vars() -> None:
    scanned = {path.relative_to(ROOT).as_posix() for path in _sources()}
    assert {
        "site.yml",
        "roles/appstream_fleet/defaults/main.yml",
        "playbooks/fleet.yml",
        "group_vars/tenants/aws.yml",
    } <= scanned
    assert any(name.startswith("roles/") and name.endswith(".j2") for name in scanned), "role templates"
    assert not any(name.startswith("playbooks/group_vars/") for name in scanned)


def test_the_raw_definition_is_read_by_validate_yml_alone() -> None:
    offenders = {}
    for path in _sources():
        if path == RAW_READER:
            continue
        reads = [read for tree in _templates(path) for read in _raw_tenant_reads(tree)]
        if reads:
            offenders[path.relative_to(ROOT).as_posix()] = sorted(set(reads))
    assert offenders == {}, f"read tenant_spec (the normalised definition), not the raw `tenant`: {offenders}"


def test_the_raw_reader_check_finds_a_raw_read() -> None:
    """The check above can fail: each way of reading the raw variable is caught, tenant_spec is not."""
    assert _raw_tenant_reads(JINJA.parse("{{ tenant.appstream.fleet.type | default('ON_DEMAND') }}")) == ["tenant"]
    assert _raw_tenant_reads(JINJA.parse("{{ hostvars[item].tenant.name }}")) == [".tenant"]
    assert _raw_tenant_reads(JINJA.parse("{{ hostvars[item]['tenant'] }}")) == ["['tenant']"]
    assert _raw_tenant_reads(JINJA.parse("{{ tenant_spec.name ~ tenant_spec['region'] }}")) == []
    assert _raw_tenant_reads(JINJA.parse("{{ row.tenant ~ tags['tenant'] }}")) == []  # a tag or a report row


def test_schema_defaults_are_not_repeated_in_roles_or_playbooks() -> None:
    offenders = {}
    for path in _sources():
        repeated = [found for tree in _templates(path) for found in _schema_defaults_repeated(tree)]
        if repeated:
            offenders[path.relative_to(ROOT).as_posix()] = repeated
    assert offenders == {}, (
        f"the schema applies these defaults already (plugins/module_utils/schema/tenant.py): {offenders}"
    )


def test_the_repeated_default_check_finds_one() -> None:
    repeated = _schema_defaults_repeated(JINJA.parse("{{ tenant_spec.appstream.fleet.type | default('ON_DEMAND') }}"))
    assert repeated == ["tenant_spec.appstream.fleet.type | default(...) (the schema's default is 'ON_DEMAND')"]
    # A field without a schema default (a required one) may be guarded.
    assert _schema_defaults_repeated(JINJA.parse("{{ (tenant_spec | default({})).name | default('x') }}")) == []


def _argument_specs(role: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))[
        "argument_specs"
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_default_is_documented_with_type_description_and_default(role: str) -> None:
    defaults = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8")) or {}
    options = _argument_specs(role)["main"].get("options") or {}
    assert sorted(set(defaults) - set(options)) == [], f"roles/{role}: defaults missing from meta/argument_specs.yml"
    assert sorted(set(options) - set(defaults)) == [], f"roles/{role}: documented options without a default value"
    for name, option in options.items():
        missing = [key for key in ("type", "description", "default") if key not in option]
        assert not missing, f"roles/{role} {name}: no {', '.join(missing)}"


def _tasks_from_used() -> set[tuple[str, str]]:
    used = set()
    pattern = re.compile(r"name:\s*(?:iconeus\.tenant_toolkit\.)?(\w+)\s*\n\s*tasks_from:\s*(\w+)")
    for path in _sources():
        if path.suffix != ".j2":
            used.update(pattern.findall(path.read_text(encoding="utf-8")))
    return used


def test_tasks_from_entry_points_used_by_the_playbooks_are_found() -> None:
    assert {
        ("aws_directory", "wait"),
        ("aws_network", "dhcp"),
        ("ad_structure", "service_secret"),
    } <= _tasks_from_used()


@pytest.mark.parametrize(("role", "entry_point"), sorted(_tasks_from_used()))
def test_every_tasks_from_entry_point_in_use_has_an_argument_spec(role: str, entry_point: str) -> None:
    specs = _argument_specs(role)
    assert entry_point in specs, f"roles/{role}: tasks_from {entry_point} has no entry in meta/argument_specs.yml"
    for name, option in (specs[entry_point].get("options") or {}).items():
        assert option.get("type") and option.get("description"), f"roles/{role} {entry_point}: {name}"


@pytest.fixture(scope="module")
def role_docs() -> dict[str, Any]:
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    names = [f"{COLLECTION}.{role}" for role in ROLES]
    text = subprocess.run(
        [str(ANSIBLE_DOC), "-t", "role", *names],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert text.returncode == 0, text.stderr
    listed = subprocess.run(
        [str(ANSIBLE_DOC), "-t", "role", "--json", *names],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    return {"text": text.stdout, "json": json.loads(listed.stdout)}


@pytest.mark.parametrize("role", ROLES)
def test_ansible_doc_shows_each_entry_point_with_its_options(role: str, role_docs: dict[str, Any]) -> None:
    assert f"{COLLECTION}.{role}" in role_docs["text"]
    documented = role_docs["json"][f"{COLLECTION}.{role}"]["entry_points"]
    assert set(documented) == set(_argument_specs(role))
    for entry_point, spec in _argument_specs(role).items():
        assert set(documented[entry_point].get("options") or {}) == set(spec.get("options") or {}), entry_point


def _lookups(tree: nodes.Template) -> Iterator[nodes.Call]:
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "lookup" and call.args:
            first = call.args[0]
            if isinstance(first, nodes.Const) and first.value == f"{COLLECTION}.tenant_secret":
                yield call


def test_every_secret_lookup_of_the_roles_takes_the_one_shared_connection() -> None:
    """The lookup connection is built once (roles/tenant_secrets) and passed as **tenant_secret_connection."""
    lookups = 0
    for path in _sources():
        for tree in _templates(path):
            for call in _lookups(tree):
                lookups += 1
                where = path.relative_to(ROOT).as_posix()
                assert isinstance(call.dyn_kwargs, nodes.Name), (
                    f"{where}: a tenant_secret lookup without its connection"
                )
                assert call.dyn_kwargs.name == "tenant_secret_connection", where
    assert lookups >= 6  # aws_directory, tenant_secrets, ad_structure (service account and users, read and read back)


def test_the_lookup_connection_and_the_vault_choice_are_written_once() -> None:
    builds = sorted(
        path.relative_to(ROOT).as_posix()
        for path in _sources()
        if "'AWS_ACCESS_KEY_ID' in" in path.read_text(encoding="utf-8")
    )
    assert builds == ["roles/tenant_secrets/vars/main.yml"]
    # The Admin password: the vault variable or the secret, chosen in tenant_secrets; the other roles include it.
    choosers = sorted(
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "roles").rglob("tasks/*.yml")
        if "{{ vault_directory_admin_password" in path.read_text(encoding="utf-8")
    )
    assert choosers == ["roles/tenant_secrets/tasks/directory_admin.yml"]
    for role, tasks in (
        ("aws_directory", "converge.yml"),
        ("ad_structure", "credentials.yml"),
        ("file_share_folders", "folders.yml"),
        ("gpo_drive_mapping", "gpo.yml"),
        ("image_builder_access", "credentials.yml"),
        ("ingest", "share.yml"),
    ):
        included = yaml.safe_load((ROOT / "roles" / role / "tasks" / tasks).read_text(encoding="utf-8"))
        tasks = [*included, *(child for task in included for child in task.get("block", []))]
        assert {"name": "tenant_secrets", "tasks_from": "directory_admin"} in [
            task.get("ansible.builtin.include_role") for task in tasks
        ], role
