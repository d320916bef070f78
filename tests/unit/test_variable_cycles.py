"""No variable of the project is defined, through the templates of other variables, in terms of itself.

Ansible templates a variable when it is read, and Jinja evaluates a filter's arguments before the filter: a role
default such as `a: "{{ x.name | default(b, true) }}"` read where a task's `vars` say `b: "{{ a }}"` recurses to
Jinja's depth limit on every read, even when `x.name` is set (70 ms per evaluation, measured), and fails with
"Recursive loop detected" where it is not. The definitions looked at: role defaults and vars; the `vars` of plays,
blocks and tasks in roles and playbooks; the project's `group_vars/`; the inventories' group and host variables,
files and `hosts.yml`. A name defined in several places is one node whose references are all of its definitions'
(any of them may win), so a cycle across scopes that never meet would be reported too. Not seen: names read
through `vars[...]`, `hostvars[...]` or `lookup('vars', ...)`, and `set_fact` (evaluated once, when it runs).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jinja2 import meta

from tests.helpers import JINJA_PARSER

ROOT = Path(__file__).resolve().parents[2]
TASK_LISTS = ("block", "rescue", "always", "tasks", "pre_tasks", "post_tasks", "handlers")


# Windows paths in Jinja string literals ('\\share') make Jinja's lexer warn; Ansible parses them the same.
pytestmark = pytest.mark.filterwarnings("ignore:invalid escape sequence:DeprecationWarning")


def template_names(value: Any) -> set[str]:
    """The variable names the Jinja templates in `value` (strings, nested lists and mappings) read."""
    names: set[str] = set()
    if isinstance(value, str):
        if "{{" in value or "{%" in value:
            names |= meta.find_undeclared_variables(JINJA_PARSER.parse(value))
    elif isinstance(value, dict):
        for item in value.values():
            names |= template_names(item)
    elif isinstance(value, list):
        for item in value:
            names |= template_names(item)
    return names


def _vars_of(node: Any) -> Iterator[dict[str, Any]]:
    """The `vars` mappings of a play or task list, blocks and nested plays included."""
    if isinstance(node, list):
        for item in node:
            yield from _vars_of(item)
    elif isinstance(node, dict):
        if isinstance(node.get("vars"), dict):
            yield node["vars"]
        for key in TASK_LISTS:
            yield from _vars_of(node.get(key))


def _inventory_vars(node: Any) -> Iterator[dict[str, Any]]:
    """The `vars` of the groups and hosts of a YAML inventory (hosts.yml)."""
    if isinstance(node, dict):
        if isinstance(node.get("vars"), dict):
            yield node["vars"]
        for host in (node.get("hosts") or {}).values():
            if isinstance(host, dict):
                yield host
        for group in (node.get("children") or {}).values():
            yield from _inventory_vars(group)
        for key, group in node.items():
            if key not in ("vars", "hosts", "children") and isinstance(group, dict):
                yield from _inventory_vars(group)


def definitions(root: Path = ROOT) -> Iterator[tuple[str, str, Any]]:
    """(file, name, value) of every variable definition the project makes."""

    def files(*patterns: str) -> list[Path]:
        # playbooks/group_vars is a link to group_vars/: each file once, where it lives.
        found = {path.resolve() for pattern in patterns for path in root.glob(pattern)}
        return sorted(path for path in found if path.is_relative_to(root.resolve()))

    def relative(path: Path) -> str:
        return str(path.relative_to(root.resolve()))

    for path in files(
        "roles/*/defaults/*.yml",
        "roles/*/vars/*.yml",
        "group_vars/**/*.yml",
        "inventories/*/group_vars/**/*.yml",
        "inventories/*/host_vars/**/*.yml",
    ):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for name, value in (data or {}).items():
            yield relative(path), name, value
    for path in files("inventories/*/hosts.yml"):
        for mapping in _inventory_vars(yaml.safe_load(path.read_text(encoding="utf-8"))):
            for name, value in mapping.items():
                yield relative(path), name, value
    task_files = files("roles/*/tasks/*.yml", "roles/*/handlers/*.yml", "playbooks/**/*.yml", "*.yml")
    for path in task_files:
        if "group_vars" in path.parts or "host_vars" in path.parts:
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for mapping in _vars_of(data):
            for name, value in mapping.items():
                yield relative(path), name, value


def cycles(defined: Iterable[tuple[str, str, Any]]) -> list[list[str]]:
    """Cycles of names whose templates read one another, as paths that end where they start: at least one in each
    part of the graph that has any (a depth-first search with the names already finished left out)."""
    graph: dict[str, set[str]] = {}
    for _, name, value in defined:
        graph.setdefault(name, set()).update(template_names(value))
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        for read in sorted(graph.get(name, ())):
            if read in path:
                cycle = [*path[path.index(read) :], read]
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    found.append(cycle)
            elif read in graph and read not in done:
                visit(read, [*path, read])
        done.add(name)

    for name in sorted(graph):
        visit(name, [name])
    return found


def test_the_detector_finds_the_dhcp_domain_cycle_that_was() -> None:
    """What roles/aws_network/tasks/dhcp.yml did until the names were split: a cycle through a role default."""
    old = [
        (
            "roles/aws_network/defaults/main.yml",
            "aws_network_directory_domain_name",
            "{{ (tenant_directory | default({}, true)).name | default(aws_network_dhcp_domain_name, true) }}",
        ),
        ("roles/aws_network/tasks/dhcp.yml", "aws_network_dhcp_domain_name", "{{ aws_network_directory_domain_name }}"),
        ("roles/aws_network/defaults/main.yml", "tenant_directory", {"name": "{{ 'corp.example' }}"}),
    ]
    assert cycles(old) == [
        ["aws_network_dhcp_domain_name", "aws_network_directory_domain_name", "aws_network_dhcp_domain_name"]
    ]
    assert cycles([("f", "a", "{% if a is defined %}1{% endif %}")]) == [["a", "a"]]
    assert cycles([("f", "a", "{{ b }}"), ("f", "b", "{{ c }}"), ("f", "c", "plain")]) == []


def test_the_project_reads_every_kind_of_definition() -> None:
    """The walk sees the files that matter here: a role default, a task's vars, the demo inventory."""
    where = {(path, name) for path, name, _ in definitions()}
    assert ("roles/aws_network/defaults/main.yml", "aws_network_directory_domain_name") in where
    assert ("roles/aws_network/tasks/dhcp.yml", "aws_network_dhcp_domain_name") in where
    assert ("group_vars/tenants/aws.yml", "tenant_aws_environment") in where
    assert not any(path.startswith("playbooks/group_vars") for path, _ in where)
    assert any(path.startswith("inventories/demo/") for path, _ in where)
    assert any(path.startswith("playbooks/") for path, _ in where)


def test_no_variable_is_defined_in_terms_of_itself() -> None:
    found = cycles(definitions())
    assert found == [], "variables whose templates read one another in a cycle: " + "; ".join(
        " -> ".join(cycle) for cycle in found
    )
