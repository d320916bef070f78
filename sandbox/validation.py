"""Server-side validation of request parameters against botocore's service model.

botocore's client checks required members and types before sending; AWS itself also
enforces enums, length and value ranges and patterns. The sandbox applies all of them
so that a caller that bypasses botocore's checks (or a constraint botocore skips) gets
the same ValidationException AWS would send.
"""

from __future__ import annotations

import datetime
import functools
import re
from typing import Any

from botocore.model import Shape

from sandbox.errors import AwsError


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        # A few model patterns use Java-only syntax; AWS still checks them, the sandbox cannot.
        return None


def validate(shape: Shape | None, value: Any, path: str = "") -> list[str]:
    """Return every constraint violation of `value` against `shape`."""
    if shape is None:
        return []
    errors: list[str] = []
    _check(shape, value, path, errors)
    return errors


def raise_for(shape: Shape | None, value: Any) -> None:
    errors = validate(shape, value, "")
    if errors:
        count = len(errors)
        raise AwsError(
            "ValidationException",
            f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(errors),
        )


def _check(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            errors.append(f"Value at '{path}' failed to satisfy constraint: Member must be a structure")
            return
        for name in shape.required_members:
            if value.get(name) is None:
                errors.append(
                    f"Value null at '{_join(path, name)}' failed to satisfy constraint: Member must not be null"
                )
        for name, member_value in value.items():
            member = shape.members.get(name)
            if member is None:
                errors.append(f"Unknown parameter '{_join(path, name)}'")
                continue
            if member_value is not None:
                _check(member, member_value, _join(path, name), errors)
        return
    if kind == "list":
        if not isinstance(value, list):
            errors.append(f"Value at '{path}' failed to satisfy constraint: Member must be a list")
            return
        _length(meta, len(value), value, path, errors)
        for index, item in enumerate(value):
            _check(shape.member, item, f"{path}.{index + 1}", errors)
        return
    if kind == "map":
        if not isinstance(value, dict):
            errors.append(f"Value at '{path}' failed to satisfy constraint: Member must be a map")
            return
        _length(meta, len(value), value, path, errors)
        for key, item in value.items():
            _check(shape.key, key, f"{path}.key", errors)
            _check(shape.value, item, f"{path}.{key}", errors)
        return
    if kind == "string":
        if not isinstance(value, str):
            errors.append(f"Value at '{path}' failed to satisfy constraint: Member must be a string")
            return
        if "enum" in meta and value not in meta["enum"]:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(meta['enum'])}]"
            )
        _length(meta, len(value), value, path, errors)
        pattern = meta.get("pattern")
        if pattern and (compiled := _compiled(pattern)) is not None and not compiled.search(value):
            errors.append(
                f"{_shown(meta, value)}at '{path}' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {pattern}"
            )
        return
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"Value at '{path}' failed to satisfy constraint: Member must be an integer")
            return
        _range(meta, value, path, errors)
        return
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(f"Value at '{path}' failed to satisfy constraint: Member must be a number")
            return
        _range(meta, value, path, errors)
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            errors.append(f"Value at '{path}' failed to satisfy constraint: Member must be a boolean")
        return
    if kind == "timestamp":
        if not isinstance(value, (int, float, str, datetime.datetime)):
            errors.append(f"Value at '{path}' failed to satisfy constraint: Member must be a timestamp")
        return


def _shown(meta: dict[str, Any], value: Any) -> str:
    # AWS never echoes a value whose shape is marked sensitive (passwords): "Value at 'x' failed ..."
    if meta.get("sensitive"):
        return "Value "
    return f"Value '{value if isinstance(value, str) else '[...]'}' "


def _length(meta: dict[str, Any], length: int, value: Any, path: str, errors: list[str]) -> None:
    shown = _shown(meta, value)
    if "min" in meta and length < meta["min"]:
        errors.append(
            f"{shown}at '{path}' failed to satisfy constraint: "
            f"Member must have length greater than or equal to {meta['min']}"
        )
    if "max" in meta and length > meta["max"]:
        errors.append(
            f"{shown}at '{path}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {meta['max']}"
        )


def _range(meta: dict[str, Any], value: float, path: str, errors: list[str]) -> None:
    if "min" in meta and value < meta["min"]:
        errors.append(
            f"Value '{value}' at '{path}' failed to satisfy constraint: "
            f"Member must have value greater than or equal to {meta['min']}"
        )
    if "max" in meta and value > meta["max"]:
        errors.append(
            f"Value '{value}' at '{path}' failed to satisfy constraint: "
            f"Member must have value less than or equal to {meta['max']}"
        )


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
