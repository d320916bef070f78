"""docs/tenant-definition.md: every field of the tenant definition, the rules across fields, the vault
variables, and a complete example, all taken from where the contract is defined:

- the fields from TENANT_SCHEMA (plugins/module_utils/schema/tenant.py): type, default, description and
  the rules of each Field, a check's rule from the first paragraph of its docstring (schema/checks.py);
- the rules across fields from the docstrings of schema.tenant.DOCUMENTED_RULES;
- the secrets from schema.vault.VAULT_VARIABLES;
- the examples from the example inventory, which the tests validate.

Docstrings and descriptions are written as Markdown (backticks for names and values); ``{NAME}`` in a
docstring stands for the value of the constant NAME of the docstring's module.
"""

from __future__ import annotations

import inspect
import string
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema import vault
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.engine import MISSING, Field
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.tenant import (
    DOCUMENTED_RULES,
    TENANT_SCHEMA,
)

from scripts.docs.markdown import bullets, generated_notice, md_code, md_text, section, table

ROOT = Path(__file__).resolve().parents[2]
PAGE = Path("docs/tenant-definition.md")
EXAMPLE = Path("inventories/example/host_vars/acme-neuro/tenant.yml")

_TYPE_NAMES = {
    "str": "string",
    "int": "integer",
    "number": "number",
    "bool": "boolean",
    "list": "list",
    "dict": "mapping",
    "any": "any value",
}


# --- docstrings -----------------------------------------------------------------------------------
class _ConstantFormatter(string.Formatter):
    """`{NAME}` as its value; a collection of values as a list in words."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, Mapping):
            return ", ".join(f"{key}: {item}" for key, item in value.items())
        if isinstance(value, frozenset | set):
            return ", ".join(str(item) for item in sorted(value))
        if isinstance(value, tuple | list):
            return ", ".join(str(item) for item in value)
        return super().format_field(value, format_spec)


def _docstring_lines(function: Callable[..., Any]) -> list[str]:
    doc = inspect.getdoc(function)
    if not doc:
        raise ValueError(f"{function.__module__}.{function.__name__} has no docstring to document its rule")
    constants = vars(sys.modules[function.__module__])
    return _ConstantFormatter().vformat(doc, (), constants).splitlines()


def rule_of(check: Callable[..., Any]) -> str:
    """The rule a check enforces: the first paragraph of its docstring, on one line."""
    lines = _docstring_lines(check)
    paragraph = lines[: lines.index("")] if "" in lines else lines
    return " ".join(line.strip() for line in paragraph)


def rules_of(function: Callable[..., Any]) -> tuple[str, list[str]]:
    """What a cross-field rule function covers (its docstring's first line) and its rules (its "- " items)."""
    lines = _docstring_lines(function)
    items: list[str] = []
    for line in lines[1:]:
        if line.startswith("- "):
            items.append(line[2:].strip())
        elif line.startswith("  ") and items:
            items[-1] += " " + line.strip()
        elif items:
            break
    if not items:
        raise ValueError(f"{function.__name__}: its docstring lists no rule (- lines)")
    return lines[0].strip(), items


# --- fields ---------------------------------------------------------------------------------------
def walk(field: Field, path: str) -> Iterable[tuple[str, Field]]:
    """Every field of the definition with its dotted path (`tenant.users[].email`), parents first."""
    yield path, field
    if field.type == "dict" and field.fields is not None:
        for key, child in field.fields.items():
            yield from walk(child, f"{path}.{key}")
    elif field.type == "list" and field.items is not None and field.items.type == "dict" and field.items.fields:
        for key, child in field.items.fields.items():
            yield from walk(child, f"{path}[].{key}")


def type_text(field: Field) -> str:
    text = _TYPE_NAMES[field.type]
    if field.type == "list" and field.items is not None:
        text = f"list of {_TYPE_NAMES[field.items.type]}s"
    return text + " or null" if field.nullable else text


def yaml_value(value: Any) -> str:
    """A value as it is written in a tenant.yml, in one line."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def presence_text(field: Field) -> str:
    """Whether the field must be given, and what it is when it is not."""
    if field.required:
        return "Required."
    if field.default is MISSING:
        return "Optional, no default."
    if field.default is None:
        return "Optional, `null` (none) by default."
    if field.default == {}:
        return "Optional; when left out, each of its fields takes its default."
    return f"Default: {md_code(yaml_value(field.default))}."


def _range(low: float | None, high: float | None, unit: str = "") -> str | None:
    def counted(number: float) -> str:
        return f"{number:g} {unit if number != 1 else unit.removesuffix('s')}".rstrip()

    if low is not None and high is not None:
        return f"{low:g} to {counted(high)}"
    if low is not None:
        return f"at least {counted(low)}"
    if high is not None:
        return f"at most {counted(high)}"
    return None


def _clause(sentence: str) -> str:
    """A docstring's sentence as a clause of the rules' list: no final period, no capital but an acronym's."""
    sentence = sentence.rstrip(".")
    if len(sentence) > 1 and sentence[0].isupper() and sentence[1].islower():
        sentence = sentence[0].lower() + sentence[1:]
    return sentence


def rule_texts(field: Field) -> list[str]:
    """The rules of one field, in words: the Field's own attributes, then its check's docstring."""
    rules: list[str] = []
    if field.choices:
        rules.append("one of " + ", ".join(md_code(yaml_value(choice)) for choice in field.choices))
    if field.pattern is not None:
        rules.append(md_text(field.pattern_hint) if field.pattern_hint else f"matches {md_code(field.pattern)}")
    for text in (
        _range(field.minimum, field.maximum),
        _range(field.min_length, field.max_length, "characters"),
        _range(field.min_items, field.max_items, "items"),
    ):
        if text:
            rules.append(text)
    if field.unique:
        rules.append("no item twice (in any case)")
    if field.check is not None:
        rules.append(_clause(rule_of(field.check)))
    if field.type == "list" and field.items is not None and field.items.type != "dict":
        rules += [f"each item: {text}" for text in rule_texts(field.items)]
    return rules


def example_value(value: Any, keys: list[str]) -> Any:
    """The example's value at the path split in `keys` (in a list, the first item that has it), or MISSING."""
    if not keys:
        return value
    key, rest = keys[0], keys[1:]
    if key == "[]":
        found = (example_value(item, rest) for item in value) if isinstance(value, list) else iter(())
        return next((item for item in found if item is not MISSING), MISSING)
    if isinstance(value, Mapping) and key in value:
        return example_value(value[key], rest)
    return MISSING


def field_section(path: str, field: Field, example: Any) -> list[str]:
    lines = [f"### `{path}`", ""]
    if field.description:
        lines += [field.description, ""]
    lines += [f"- Type: {type_text(field)}", f"- {presence_text(field)}"]
    rules = rule_texts(field)
    if rules:
        lines.append("- Rules: " + "; ".join(rules) + ".")
    value = example_value({"tenant": example}, path.replace("[]", ".[]").split("."))
    if value is not MISSING and not isinstance(value, Mapping) and not _is_list_of_mappings(value):
        lines.append(f"- Example: {md_code(yaml_value(value))}")
    return [*lines, ""]


def _is_list_of_mappings(value: Any) -> bool:
    return isinstance(value, list) and any(isinstance(item, Mapping) for item in value)


# --- page -----------------------------------------------------------------------------------------
INTRO = """\
One inventory per tenant; the definition is the `tenant` variable of the tenant host, so that several
tenant inventories can be given to one run without overwriting each other:

```
inventories/<tenant>/hosts.yml                      tenants: {hosts: {<tenant>: {}}}
inventories/<tenant>/host_vars/<tenant>/tenant.yml  tenant: (this page)
inventories/<tenant>/host_vars/<tenant>/aws.yml     how to reach AWS (endpoint, profile)
inventories/<tenant>/host_vars/<tenant>/vault.yml   optional ansible-vault secrets (below)
```

`ansible-playbook playbooks/validate.yml -i inventories/<tenant>` checks the definition before any AWS
call (every stage runs it first) and reports every error at once, each with the path of its field:
`tenant.storage.storage_gib: 16 is below the SSD minimum of 32`. Fields left out take their default;
the roles read the completed definition, `tenant_spec`."""


def render(example: Any, example_text: str) -> str:
    lines = [
        generated_notice(
            f"plugins/module_utils/schema/ (tenant.py, checks.py, vault.py) and the example inventory ({EXAMPLE})"
        ),
        "",
        "# The tenant definition",
        "",
        INTRO,
    ]
    fields: list[str] = [
        "Rules that involve several fields are listed under [Rules across fields](#rules-across-fields).",
        "",
    ]
    for path, field in walk(TENANT_SCHEMA, "tenant"):
        fields += field_section(path, field, example)
    lines += section("Fields", fields[:-1])
    rules: list[str] = []
    for function in DOCUMENTED_RULES:
        title, items = rules_of(function)
        rules += [f"### {title}", "", *bullets(items), ""]
    lines += section("Rules across fields", rules[:-1])
    secrets = [
        "Secrets never go in the definition. The toolkit generates the ones it needs on the first run and keeps "
        "them in AWS Secrets Manager under `<tenant>/...`, unless the operator supplies them as these variables, "
        "normally in `host_vars/<tenant>/vault.yml` encrypted with ansible-vault. `playbooks/validate.yml` checks "
        "the ones that are set, in a task of their own; its messages name the variable and the rule, never the "
        "value.",
        "",
        *table(
            ["Variable", "Tenants", "What it is", "Rule", "When it is not set"],
            (
                [
                    md_code(name),
                    "SAML" if variable.saml_only else "all",
                    variable.description,
                    rule_of(variable.check),
                    md_text(variable.fallback),
                ]
                for name, variable in vault.VAULT_VARIABLES.items()
            ),
        ),
    ]
    lines += section("Secrets (ansible-vault variables)", secrets)
    lines += section(
        "A complete example",
        [f"`{EXAMPLE}`, a SAML tenant on real AWS:", "", "```yaml", example_text.rstrip("\n"), "```"],
    )
    return "\n".join(lines) + "\n"


def pages(root: Path = ROOT) -> dict[Path, str]:
    example_text = (root / EXAMPLE).read_text(encoding="utf-8")
    example = yaml.safe_load(example_text)["tenant"]
    return {PAGE: render(example, example_text)}


def description_gaps() -> list[str]:
    """Fields without a description (the doc would show only their type and rules)."""
    return [path for path, field in walk(TENANT_SCHEMA, "tenant") if not field.description]
