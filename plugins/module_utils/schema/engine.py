# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The validation engine: a schema of Fields walked over untrusted data, every error at once with the
field's dotted path and a suggestion for unknown keys, defaults applied to what passed.

Pure standard-library Python, shared by the tenant definition (schema.tenant), the vault secrets
(schema.vault) and the runbooks' extra variables (schema.ops).
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MISSING: Any = object()
"""Marks a ``Field`` without a default (distinct from a default of ``None``)."""


# A rule check receives a value of the right type and returns the broken rules
# as messages without the field path (the walker prefixes it).
Check = Callable[[Any], list[str]]


@dataclass(frozen=True)
class Field:
    """Describe one value of a definition: its type and its own rules.

    ``type`` is one of ``str``, ``int``, ``number``, ``bool``, ``list``,
    ``dict`` or ``any``. Rules that involve several fields are not expressed
    here but in the cross-field checks of ``validate_tenant``.
    """

    type: str
    required: bool = False
    default: Any = MISSING
    nullable: bool = False
    choices: tuple[Any, ...] = ()
    pattern: str | None = None
    pattern_hint: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    unique: bool = False
    items: Field | None = None
    fields: Mapping[str, Field] | None = None
    check: Check | None = None
    description: str = ""


_TYPE_NAMES = {
    "str": "a string",
    "int": "an integer",
    "number": "a number",
    "bool": "a boolean (true or false)",
    "list": "a list",
    "dict": "a mapping",
}


def show(value: Any) -> str:
    """Render a value the way it would be written in YAML/JSON."""
    if isinstance(value, str | bool | int | float) or value is None:
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def type_label(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, list | tuple):
        return "list"
    return type(value).__name__


def _describe(value: Any) -> str:
    label = type_label(value)
    if value is None:
        return label
    text = show(value)
    return f"{label} {text if len(text) <= 60 else text[:57] + '...'}"


def _has_type(value: Any, type_name: str) -> bool:
    # bool is a subclass of int in Python, but `true` is never a valid count.
    if type_name == "any":
        return True
    if type_name == "str":
        return isinstance(value, str)
    if type_name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "bool":
        return isinstance(value, bool)
    if type_name == "list":
        return isinstance(value, list | tuple)
    if type_name == "dict":
        return isinstance(value, Mapping)
    raise ValueError(f"unknown schema type {type_name!r}")


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """Return the closest candidate to a probably mistyped word, if any."""
    matches = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_key_message(key: str, allowed: Iterable[str]) -> str:
    allowed = sorted(allowed)
    close = suggest(key, allowed)
    if close:
        return f"unknown key (did you mean {close}?)"
    return "unknown key (allowed: " + ", ".join(allowed) + ")"


def join_path(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _unique_key(value: Any) -> str:
    # E-mail addresses, app keys, weekdays: duplicates differing only in case
    # are still duplicates for every consumer of this definition.
    if isinstance(value, str):
        return value.casefold()
    return json.dumps(value, sort_keys=True, default=str)


def check_value(spec: Field, value: Any, path: str) -> list[str]:
    """Check ``value`` against ``spec``; return ``"<path>: <rule>"`` messages."""
    if value is None and spec.nullable:
        return []
    if not _has_type(value, spec.type):
        message = f"{path}: must be {_TYPE_NAMES[spec.type]}, got {_describe(value)}"
        if spec.type == "str" and _has_type(value, "number"):
            # YAML 1.1 reads unquoted 20:00 as 1200 and 9.10 as 9.1.
            message += " (quote the value in YAML)"
        return [message]
    errors: list[str] = []
    if spec.choices and value not in spec.choices:
        allowed = ", ".join(str(choice) for choice in spec.choices)
        errors.append(f"{path}: {show(value)} is not one of {allowed}")
    if spec.pattern is not None and not re.fullmatch(spec.pattern, value):
        hint = spec.pattern_hint or f"the pattern {spec.pattern}"
        errors.append(f"{path}: {show(value)} does not match {hint}")
    if spec.min_length is not None and len(value) < spec.min_length:
        errors.append(f"{path}: {show(value)} is shorter than {spec.min_length} characters")
    if spec.max_length is not None and len(value) > spec.max_length:
        errors.append(f"{path}: {len(value)} characters is longer than the maximum of {spec.max_length}")
    if spec.minimum is not None and value < spec.minimum:
        errors.append(f"{path}: {show(value)} is below the minimum of {spec.minimum:g}")
    if spec.maximum is not None and value > spec.maximum:
        errors.append(f"{path}: {show(value)} is above the maximum of {spec.maximum:g}")
    if spec.type == "list":
        errors.extend(_check_list(spec, value, path))
    if spec.type == "dict" and spec.fields is not None:
        errors.extend(check_mapping(spec.fields, value, path))
    # Custom checks only see values that passed the generic rules, so they can
    # rely on the shape (e.g. a pattern-checked "HH:MM" string).
    if spec.check is not None and not errors:
        errors.extend(f"{path}: {message}" for message in spec.check(value))
    return errors


def _check_list(spec: Field, value: list[Any] | tuple[Any, ...], path: str) -> list[str]:
    errors: list[str] = []
    if spec.min_items is not None and len(value) < spec.min_items:
        if spec.min_items == 1:
            errors.append(f"{path}: must not be empty")
        else:
            errors.append(f"{path}: has {len(value)} items, at least {spec.min_items} required")
    if spec.max_items is not None and len(value) > spec.max_items:
        errors.append(f"{path}: has {len(value)} items, at most {spec.max_items} allowed")
    if spec.items is not None:
        for index, item in enumerate(value):
            errors.extend(check_value(spec.items, item, f"{path}[{index}]"))
    if spec.unique:
        first_seen: dict[str, int] = {}
        for index, item in enumerate(value):
            key = _unique_key(item)
            if key in first_seen:
                errors.append(f"{path}[{index}]: duplicate of {path}[{first_seen[key]}]")
            else:
                first_seen[key] = index
    return errors


def check_mapping(fields: Mapping[str, Field], value: Mapping[Any, Any], path: str) -> list[str]:
    """Check keys (unknown, missing) and every known value of a mapping."""
    errors: list[str] = []
    for key in value:
        if not isinstance(key, str):
            errors.append(f"{join_path(path, str(key))}: keys must be strings, got {type_label(key)}")
        elif key not in fields:
            errors.append(f"{join_path(path, key)}: {unknown_key_message(key, fields)}")
    for key, spec in fields.items():
        if key in value:
            errors.extend(check_value(spec, value[key], join_path(path, key)))
        elif spec.required:
            errors.append(f"{join_path(path, key)}: is required but missing")
    return errors


def apply_defaults(spec: Field, value: Any) -> Any:
    """Return a deep copy of ``value`` with every missing default filled in.

    Values of the wrong type are copied unchanged, so this is safe to run on a
    definition that has not been validated yet (the cross-field checks do).
    """
    value = copy.deepcopy(value)
    _fill_defaults(spec, value)
    return value


def _fill_defaults(spec: Field, value: Any) -> None:
    if spec.type == "dict" and spec.fields is not None and isinstance(value, dict):
        for key, child in spec.fields.items():
            if key not in value and child.default is not MISSING:
                value[key] = copy.deepcopy(child.default)
            if key in value:
                _fill_defaults(child, value[key])
    elif spec.type == "list" and spec.items is not None and isinstance(value, list):
        for item in value:
            _fill_defaults(spec.items, item)


def dig(value: Any, *keys: str) -> Any:
    """Follow mapping keys; ``None`` when a hop is missing or not a mapping."""
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


_TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
_FALSE_WORDS = frozenset({"false", "no", "off", "0"})


def coerce_scalar(rule: Field, value: Any) -> Any:
    """Convert a ``-e name=value`` string to the rule's scalar type when it reads as one.

    Extra variables given as ``key=value`` always reach a play as strings;
    values that do not convert are returned unchanged and then fail the type
    check with a clear message.
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    if rule.type == "int" and re.fullmatch(r"[+-]?[0-9]+", text):
        return int(text)
    if rule.type == "number" and re.fullmatch(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)", text):
        return float(text) if "." in text else int(text)
    if rule.type == "bool" and text.lower() in _TRUE_WORDS | _FALSE_WORDS:
        return text.lower() in _TRUE_WORDS
    return value


# Jinja's statement, expression and comment openers: in data that comes from a customer, any of them
# is refused outright (design: tenant data is never code), wherever it appears, keys included.
TEMPLATE_MARKERS = ("{{", "{%", "{#")


def template_marker_errors(value: Any, path: str) -> list[str]:
    """Template syntax (every value and key of the definition)

    - No string and no key holds a Jinja opener ({TEMPLATE_MARKERS}): the definition is data and is never
      evaluated. A definition that holds one is refused whole, before any other rule.

    Returns every string (or mapping key) under `value` that holds a template marker, by its dotted path.
    The first line and the "- " items above are the rule's text in docs/tenant-definition.md.
    """
    errors: list[str] = []
    if isinstance(value, str):
        found = [marker for marker in TEMPLATE_MARKERS if marker in value]
        if found:
            errors.append(
                f"{path}: contains {' and '.join(repr(m) for m in found)}; template syntax is not allowed in a "
                "tenant definition (its values are data, never evaluated)"
            )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and any(marker in key for marker in TEMPLATE_MARKERS):
                errors.append(f"{path}: key {show(key)} contains template syntax, which is not allowed")
                continue
            errors.extend(template_marker_errors(item, join_path(path, str(key))))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            errors.extend(template_marker_errors(item, f"{path}[{index}]"))
    return errors
