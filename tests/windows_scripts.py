"""The Windows scripts the roles produce, rendered the way Ansible renders them and parsed by real grammars.

Windows cannot run here, so every in-guest script is at least proven well-formed: PowerShell is parsed by
the tree-sitter-powershell grammar, batch files by the tree-sitter-batch grammar (both pinned in
requirements.txt). Role task arguments and templates are rendered with Ansible's own templar, with the
role's defaults and vars, so what is checked is what a builder would receive.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tree_sitter_batch
import tree_sitter_powershell
import yaml
from tree_sitter import Language, Node, Parser

ROOT = Path(__file__).resolve().parent.parent
ROLES = ROOT / "roles"

# What must never survive rendering: Jinja that was not rendered, and the placeholder Ansible
# (before 2.19) passes for `omit` anywhere but at the top level of a module's options.
LEFTOVER_MARKERS = ("{{", "{%", "__omit_place_holder__")
POWERSHELL_MODULES = ("ansible.windows.win_powershell", "win_powershell")
BLOCK_KEYS = ("block", "rescue", "always")
TASK_KEYWORDS = frozenset(
    {
        "name",
        "when",
        "register",
        "loop",
        "loop_control",
        "vars",
        "tags",
        "check_mode",
        "changed_when",
        "failed_when",
        "no_log",
        "delegate_to",
        "environment",
        "become",
        "ignore_errors",
        "ignore_unreachable",
        "until",
        "retries",
        "delay",
        "notify",
        "run_once",
        "args",
        "diff",
        *BLOCK_KEYS,
    }
)


# --------------------------------------------------------------------------
# Grammars
# --------------------------------------------------------------------------


@functools.cache
def _parser(language: str) -> Parser:
    grammar = {"powershell": tree_sitter_powershell, "batch": tree_sitter_batch}[language]
    return Parser(Language(grammar.language()))


def parse(source: str, language: str) -> Node:
    """The syntax tree of ``source`` (``powershell`` or ``batch``)."""
    return _parser(language).parse(source.encode("utf-8")).root_node


def walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from walk(child)


def syntax_problems(source: str, language: str) -> list[str]:
    """Every ERROR or MISSING node of the grammar, and every leftover template or omit marker."""
    problems = [
        f"{language} {'missing ' + node.type if node.is_missing else 'syntax error'} at line "
        f"{node.start_point[0] + 1}, column {node.start_point[1] + 1}: {node.text.decode(errors='replace')[:60]!r}"
        for node in walk(parse(source, language))
        if node.type == "ERROR" or node.is_missing
    ]
    problems.extend(f"leftover {marker!r} in the rendered script" for marker in LEFTOVER_MARKERS if marker in source)
    return problems


@dataclass(frozen=True)
class Command:
    """One PowerShell command invocation: its name and its elements (parameters and arguments) in order."""

    name: str
    elements: tuple[tuple[str, str], ...]

    def argument_of(self, parameter: str) -> str | None:
        """The argument written after ``-Parameter`` (case-insensitive), or None."""
        for index, (kind, text) in enumerate(self.elements):
            if kind == "parameter" and text.rstrip(":").lower() == parameter.lower():
                following = self.elements[index + 1 : index + 2]
                return following[0][1] if following and following[0][0] == "argument" else None
        return None

    @property
    def splats(self) -> list[str]:
        return [text for kind, text in self.elements if kind == "argument" and text.startswith("@")]


def powershell_commands(source: str) -> list[Command]:
    """The commands a PowerShell script invokes, as the grammar reads them."""
    commands = []
    for node in walk(parse(source, "powershell")):
        if node.type != "command":
            continue
        name = node.child_by_field_name("command_name") or next(
            (child for child in node.children if child.type == "command_name"), None
        )
        elements_node = next((child for child in node.children if child.type == "command_elements"), None)
        elements: list[tuple[str, str]] = []
        for element in elements_node.children if elements_node else []:
            if element.type == "command_argument_sep":
                continue
            kind = "parameter" if element.type == "command_parameter" else "argument"
            elements.append((kind, element.text.decode()))
        commands.append(Command((name.text.decode() if name else ""), tuple(elements)))
    return commands


def powershell_variables(source: str) -> list[str]:
    """Every variable the script reads or writes, as written (``$env:AppStream_UserName``)."""
    return [node.text.decode() for node in walk(parse(source, "powershell")) if node.type == "variable"]


def powershell_strings(source: str) -> list[str]:
    """The text of every string literal of the script."""
    return [node.text.decode() for node in walk(parse(source, "powershell")) if node.type == "string_literal"]


def batch_variable_references(source: str) -> list[str]:
    """The names of the variables a batch file expands (``%NAME%``, ``!NAME!``, ``%NAME:x=y%``)."""
    names = []
    for node in walk(parse(source, "batch")):
        if node.type == "variable_reference":
            text = node.text.decode()
            names.append(re.sub(r"^[%!]~?|[%!]$", "", text).split(":", 1)[0])
    return names


# --------------------------------------------------------------------------
# Roles: tasks, variables, rendering
# --------------------------------------------------------------------------


def role_variables(role: str) -> dict[str, Any]:
    """The role's defaults, then its vars, as Ansible layers them."""
    variables: dict[str, Any] = {}
    for part in ("defaults", "vars"):
        path = ROLES / role / part / "main.yml"
        if path.is_file():
            variables.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    return variables


def flatten(tasks: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every task of a task list, blocks opened (block, rescue and always)."""
    for task in tasks or []:
        if any(key in task for key in BLOCK_KEYS):
            for key in BLOCK_KEYS:
                yield from flatten(task.get(key) or [])
        else:
            yield task


def role_tasks(role: str, filename: str = "main.yml") -> list[dict[str, Any]]:
    return list(flatten(yaml.safe_load((ROLES / role / "tasks" / filename).read_text(encoding="utf-8")) or []))


def all_role_task_files() -> Iterator[tuple[str, str]]:
    for path in sorted(ROLES.glob("*/tasks/*.yml")):
        yield path.parts[-3], path.name


def module_of(task: Mapping[str, Any]) -> tuple[str, Any]:
    """The module a task calls and its arguments."""
    modules = [key for key in task if key not in TASK_KEYWORDS]
    assert len(modules) == 1, f"cannot tell the module of task {task.get('name')!r}: {modules}"
    return modules[0], task[modules[0]]


def find_task(role: str, filename: str, name_fragment: str) -> dict[str, Any]:
    found = [task for task in role_tasks(role, filename) if name_fragment in str(task.get("name", ""))]
    assert len(found) == 1, f"{len(found)} tasks of roles/{role}/tasks/{filename} are named like {name_fragment!r}"
    return found[0]


def _trusted(value: Any) -> Any:
    from ansible.template import trust_as_template

    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, Mapping):
        return {key: _trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_trusted(item) for item in value]
    return value


def render(value: Any, variables: Mapping[str, Any], data: Mapping[str, Any] | None = None) -> Any:
    """``value`` rendered by Ansible's templar.

    ``variables`` are trusted templates (role defaults and vars, playbook values); ``data`` is
    plain data (tenant definitions, registered results), never evaluated as a template, as
    Ansible treats module results and facts. An omitted option disappears from a mapping.
    """
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    # The collection's filters (iconeus.tenant_toolkit.*) resolve through the plugin loader that
    # tests/conftest.py sets up as ansible-playbook does.
    scope = {key: _trusted(item) for key, item in variables.items()}
    scope.update(data or {})
    return Templar(loader=DataLoader(), variables=scope).template(_trusted(value))


def render_template(role: str, template: str, variables: Mapping[str, Any], data: Mapping[str, Any]) -> str:
    """A role's template rendered as ``ansible.windows.win_template`` renders it on the controller."""
    source = (ROLES / role / "templates" / template).read_text(encoding="utf-8")
    return str(render(source, variables, data))


def render_task(
    task: Mapping[str, Any], variables: Mapping[str, Any], data: Mapping[str, Any] | None = None
) -> tuple[str, Any]:
    """The module a task calls and its arguments rendered, the task's own ``vars`` over ``variables``."""
    module, arguments = module_of(task)
    return module, render(arguments, {**variables, **(task.get("vars") or {})}, data)
