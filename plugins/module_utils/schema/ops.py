# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The extra variables of a runbook (playbooks/ops/), checked with the same engine as the tenant
definition before any AWS call (module ops_vars_validate).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.engine import (
    MISSING,
    Field,
    apply_defaults,
    check_value,
    coerce_scalar,
    join_path,
    unknown_key_message,
)

# The union is quoted: module_utils are also checked against the oldest Python a module
# target may have (ansible-test's pylint), where `|` between types fails at import time.
OpsSpec = Mapping[str, "Mapping[str, Any] | Field"]


def _ops_fields(spec: OpsSpec) -> dict[str, Field]:
    return {name: rule if isinstance(rule, Field) else Field(**rule) for name, rule in spec.items()}


def validate_ops_vars(
    spec: OpsSpec,
    values: Mapping[str, Any],
    prefix: str = "",
    *,
    allow_unknown: bool = True,
) -> list[str]:
    """Check an ops playbook's extra variables; return every error at once.

    ``spec`` maps a variable name to a ``Field`` or to a dict of ``Field``
    arguments, e.g. ``{"fleet_desired": {"type": "int", "required": True,
    "minimum": 0}}``. ``values`` are the playbook's variables (unrelated
    variables are ignored unless ``allow_unknown`` is false). A variable set
    to ``None`` counts as absent; ``key=value`` strings that read as the
    expected scalar type are accepted (see ``normalise_ops_vars``).
    """
    fields = _ops_fields(spec)
    errors: list[str] = []
    if not allow_unknown:
        for name in values:
            if name not in fields:
                errors.append(f"{join_path(prefix, name)}: {unknown_key_message(name, fields)}")
    for name, rule in fields.items():
        path = join_path(prefix, name)
        value = values.get(name)
        if value is None:
            if rule.required:
                # A short list of choices is spelt out: the operator sees every accepted form.
                forms = [f"-e {name}={choice}" for choice in rule.choices] if 0 < len(rule.choices) <= 4 else []
                errors.append(f"{path}: is required but missing (pass {' or '.join(forms or [f'-e {name}=...'])})")
            continue
        errors.extend(check_value(rule, coerce_scalar(rule, value), path))
    return errors


def normalise_ops_vars(spec: OpsSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the specified variables converted to their types, defaults filled in.

    Call it after ``validate_ops_vars`` returned no error; variables without
    a value or a default are ``None``.
    """
    result: dict[str, Any] = {}
    for name, rule in _ops_fields(spec).items():
        value = values.get(name)
        if value is None:
            value = None if rule.default is MISSING else copy.deepcopy(rule.default)
        result[name] = apply_defaults(rule, coerce_scalar(rule, value))
    return result
