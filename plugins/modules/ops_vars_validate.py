#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ops_vars_validate
version_added: 0.1.0
short_description: Validate the extra variables of a runbook before any AWS call
description:
  - "Checks the variables an ops runbook (C(playbooks/ops/*.yml)) takes from the operator, usually
    given with C(-e), against a small schema, and reports B(every) error at once, each starting with
    the name of the offending variable (for example C(desired: 51 is above the maximum of 50))."
  - On success returns the variables converted to their types, with their defaults filled in, so
    the rest of the runbook reads one typed structure.
  - The rules are those of the tenant definition (C(plugins/module_utils/schema/)), namely
    type, required, choices, pattern, minimum/maximum, lengths and list items, plus the cross-variable
    rules O(required_one_of), O(mutually_exclusive), O(only_if) and O(ordered).
  - Runs on the controller; it never contacts AWS and never changes anything.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  spec:
    description:
      - Maps each variable name to its rule, a dict of C(type) (V(str), V(int), V(number), V(bool),
        V(list), V(dict) or V(any)) and optionally C(required), C(default), C(nullable), C(choices),
        C(pattern) (a full match) with C(pattern_hint) (how the error describes it), C(minimum),
        C(maximum), C(min_length), C(max_length), C(min_items), C(max_items), C(unique), C(items)
        (the rule of list items), C(fields) (rules of a dict's keys), C(description) and C(format).
      - "C(format) adds a check the other keys cannot express: V(timezone) (a canonical IANA time
        zone, as Application Auto Scaling takes), V(email) (an e-mail address, at most 128
        characters, as AppStream user names), V(date) (a calendar date, C(YYYY-MM-DD)), V(time) (C(HH:MM),
        24 h) or V(cidr) (an IPv4 range in CIDR notation without host bits, at most /8 wide: a source of traffic
        such as a controller's range)."
      - "C(-e name=value) always gives a string: a string that reads as the rule's type is accepted
        (V(3) for an V(int), V(yes)/V(no) for a V(bool)), and a comma-separated string is accepted
        for a list (C(-e weekdays=mon,tue))."
    type: dict
    required: true
  variables:
    description:
      - The variables to check, by name. A variable that is not set is passed as V(null)
        (C("{{ desired | default(none) }}")) and counts as absent.
    type: dict
    required: true
  required_one_of:
    description: Groups of variables of which at least one must be given.
    type: list
    elements: list
    default: []
  mutually_exclusive:
    description: Groups of variables of which at most one may be given.
    type: list
    elements: list
    default: []
  only_if:
    description:
      - Entries C([name, value, [others]]); the others may only be given when the variable C(name)
        has the value C(value).
    type: list
    elements: list
    default: []
  ordered:
    description:
      - Groups of numeric, C(HH:MM) or C(YYYY-MM-DD) variables whose given values must not decrease in
        the listed order, for example C([min_capacity, desired, max_capacity]).
    type: list
    elements: list
    default: []
  context:
    description: What the variables belong to, named in the failure message (the runbook's path).
    type: str
    default: extra variables
notes:
  - The module runs where the task runs; the runbooks run it on the tenant hosts, whose connection
    is local, with C(run_once) since extra variables are the same for every tenant.
  - Misspelt variable names cannot be detected, since extra variables share one namespace with
    every other variable; each runbook's header and C(playbooks/ops/README.md) list its variables.
extends_documentation_fragment:
  - iconeus.tenant_toolkit.attributes.read_only
  - iconeus.tenant_toolkit.attributes.action
"""

EXAMPLES = r"""
- name: Ensure the extra variables of the runbook are valid
  iconeus.tenant_toolkit.ops_vars_validate:
    context: playbooks/ops/fleet_scale.yml
    spec:
      desired: {type: int, minimum: 0, description: instances to run now}
      min_capacity: {type: int, minimum: 0}
      max_capacity: {type: int, minimum: 1}
    variables:
      desired: "{{ desired | default(none) }}"
      min_capacity: "{{ min_capacity | default(none) }}"
      max_capacity: "{{ max_capacity | default(none) }}"
    required_one_of: [[desired, min_capacity, max_capacity]]
    ordered: [[min_capacity, desired, max_capacity]]
  run_once: true
  register: fleet_scale_vars

- name: Ensure the schedule variables are valid
  iconeus.tenant_toolkit.ops_vars_validate:
    context: playbooks/ops/fleet_schedule.yml
    spec:
      schedule: {type: str, required: true, choices: ["on", "off"]}
      start: {type: str, format: time}
      timezone: {type: str, format: timezone}
      weekdays:
        type: list
        min_items: 1
        unique: true
        items: {type: str, choices: [mon, tue, wed, thu, fri, sat, sun]}
    variables:
      schedule: "{{ schedule | default(none) }}"
      start: "{{ start | default(none) }}"
      timezone: "{{ timezone | default(none) }}"
      weekdays: "{{ weekdays | default(none) }}"
    only_if: [[schedule, "on", [start, timezone, weekdays]]]
"""

RETURN = r"""
variables:
  description: Every variable of O(spec), converted to its type, defaults filled in; V(null) when unset without default.
  type: dict
  returned: success
  sample: {desired: 3, min_capacity: null, max_capacity: 6}
errors:
  description: Every error, each starting with the name of the variable.
  type: list
  elements: str
  returned: failure
  sample:
    - "desired: must be an integer, got string \"three\""
    - "min_capacity: 5 is above max_capacity (2)"
"""

import re
from collections.abc import Mapping
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.outcome import exit_with
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.checks import (
    check_date,
    check_email,
    check_source_range,
    check_timezone,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.engine import Field, coerce_scalar, show
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.ops import (
    normalise_ops_vars,
    validate_ops_vars,
)

ARGUMENT_SPEC: dict[str, Any] = {
    "spec": {"type": "dict", "required": True},
    "variables": {"type": "dict", "required": True},
    "required_one_of": {"type": "list", "elements": "list", "default": []},
    "mutually_exclusive": {"type": "list", "elements": "list", "default": []},
    "only_if": {"type": "list", "elements": "list", "default": []},
    "ordered": {"type": "list", "elements": "list", "default": []},
    "context": {"type": "str", "default": "extra variables"},
}

TYPES = ("str", "int", "number", "bool", "list", "dict", "any")
TIME_PATTERN = r"([01][0-9]|2[0-3]):[0-5][0-9]"
RULE_KEYS = frozenset(
    {
        "type",
        "required",
        "default",
        "nullable",
        "choices",
        "pattern",
        "pattern_hint",
        "minimum",
        "maximum",
        "min_length",
        "max_length",
        "min_items",
        "max_items",
        "unique",
        "items",
        "fields",
        "description",
        "format",
    }
)
# Checks a Field cannot express as data; each receives a value of the right type.
FORMATS = {
    "timezone": check_timezone,
    "email": check_email,
    "cidr": check_source_range,
    "date": check_date,
}


class SpecError(ValueError):
    """The runbook's own spec is wrong: a bug in the playbook, not in the operator's input."""


def field_of(rule: Any, path: str) -> Field:
    """Build a schema engine Field from a rule given as YAML data."""
    if not isinstance(rule, Mapping):
        raise SpecError(f"spec.{path}: a rule must be a mapping, got {show(rule)}")
    unknown = sorted(set(rule) - RULE_KEYS)
    if unknown:
        raise SpecError(f"spec.{path}: unknown rule key(s) {', '.join(unknown)}")
    if rule.get("type") not in TYPES:
        raise SpecError(f"spec.{path}.type: must be one of {', '.join(TYPES)}, got {show(rule.get('type'))}")
    arguments = {key: value for key, value in rule.items() if key != "format"}
    if "choices" in arguments:
        arguments["choices"] = tuple(arguments["choices"])
    if "items" in arguments:
        arguments["items"] = field_of(arguments["items"], f"{path}.items")
    if "fields" in arguments:
        arguments["fields"] = {
            key: field_of(value, f"{path}.fields.{key}") for key, value in arguments["fields"].items()
        }
    form = rule.get("format")
    if form == "time":
        arguments.setdefault("pattern", TIME_PATTERN)
        arguments.setdefault("pattern_hint", '"HH:MM" (24 h)')
    elif form is not None:
        if form not in FORMATS:
            raise SpecError(f"spec.{path}.format: must be one of time, {', '.join(FORMATS)}, got {show(form)}")
        arguments["check"] = FORMATS[form]
    return Field(**arguments)


def coerce(rule: Field, value: Any) -> Any:
    """Read `-e name=value` strings as the rule's type (lists from comma-separated strings)."""
    if rule.type == "list" and isinstance(value, str):
        parts = [part.strip() for part in value.split(",")]
        value = [part for part in parts if part]
        if rule.items is not None:
            value = [coerce_scalar(rule.items, item) for item in value]
        return value
    return coerce_scalar(rule, value)


def is_given(values: Mapping[str, Any], name: str) -> bool:
    return values.get(name) is not None


def group_errors(
    values: Mapping[str, Any],
    required_one_of: list[list[str]],
    mutually_exclusive: list[list[str]],
    only_if: list[list[Any]],
) -> list[str]:
    """The rules that involve several variables, on the presence of each."""
    errors: list[str] = []
    for group in required_one_of:
        if not any(is_given(values, name) for name in group):
            example = f"-e {group[0]}=..."
            errors.append(f"{', '.join(group)}: at least one of them is required (pass {example})")
    for group in mutually_exclusive:
        given = [name for name in group if is_given(values, name)]
        if len(given) > 1:
            errors.append(f"{', '.join(given)}: give only one of {', '.join(group)}")
    for name, wanted, others in only_if:
        if values.get(name) != wanted:
            for other in others:
                if is_given(values, other):
                    errors.append(f"{other}: only used with {name}={wanted} (got {name}={show(values.get(name))})")
    return errors


def order_errors(values: Mapping[str, Any], ordered: list[list[str]], invalid: set[str]) -> list[str]:
    """Given values of each group must not decrease; invalid values were reported already."""
    errors: list[str] = []
    for group in ordered:
        given = [name for name in group if is_given(values, name) and name not in invalid]
        for index, low in enumerate(given):
            for high in given[index + 1 :]:
                if values[low] > values[high]:
                    errors.append(f"{low}: {show(values[low])} is above {high} ({show(values[high])})")
    return errors


def evaluate(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return ``(variables, errors)``; the variables are only meaningful without errors."""
    fields = {name: field_of(rule, name) for name, rule in params["spec"].items()}
    names = set(fields)
    for option in ("required_one_of", "mutually_exclusive", "ordered"):
        for group in params[option]:
            missing = sorted(set(group) - names)
            if missing:
                raise SpecError(f"{option}: {', '.join(map(str, missing))} not in spec")
    for entry in params["only_if"]:
        if len(entry) != 3 or not isinstance(entry[2], list) or not {entry[0], *entry[2]} <= names:
            raise SpecError(f"only_if: {show(entry)} must be [name, value, [names]] of variables in spec")
    raw = params["variables"]
    values = {name: coerce(rule, raw.get(name)) for name, rule in fields.items()}
    errors = validate_ops_vars(fields, values)
    invalid = {error.split(":", 1)[0] for error in errors}
    errors += group_errors(values, params["required_one_of"], params["mutually_exclusive"], params["only_if"])
    errors += order_errors(values, params["ordered"], invalid)
    if errors:
        return {}, errors
    return normalise_ops_vars(fields, values), []


def format_errors(context: str, errors: list[str]) -> str:
    count = len(errors)
    header = f"Invalid {context}: {count} error{'s' if count != 1 else ''}, nothing was done:"
    return "\n".join([header, *(f"- {error}" for error in errors)])


def outcome(params: dict[str, Any]) -> dict[str, Any]:
    """The module's result from its validated parameters (``main`` and the action plugin both return it)."""
    try:
        variables, errors = evaluate(params)
    except (SpecError, TypeError, re.error) as err:
        return {"failed": True, "msg": f"ops_vars_validate: the runbook's spec is wrong: {err}"}
    if errors:
        return {"failed": True, "msg": format_errors(params["context"], errors), "errors": errors}
    return {"variables": variables}


def main() -> None:
    # Playbooks run plugins/action/ops_vars_validate.py (same spec, same outcome, no Python process of its own).
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    exit_with(module, outcome(module.params))


if __name__ == "__main__":
    main()
