# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The application catalogue: entry checks, dependency order, image identity.

The catalogue (``app_catalogue`` in ``group_vars/all/catalogue.yml``, design.md
section 4) maps an application key to the data needed to install it on an
image builder and to register it with Image Assistant. Pure standard-library
Python, imported by its FQCN by the modules, the ``catalogue`` filter plugin and
the unit tests.

The image name carries a short hash of the resolved catalogue, so an unchanged
catalogue maps to the existing image and no builder is started (design.md
section 8).
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import heapq
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "HASH_LENGTH",
    "MAX_LAUNCHABLE_APPS",
    "CatalogueError",
    "catalogue_hash",
    "detection_rules",
    "image_name",
    "image_name_errors",
    "resolve_catalogue",
    "validate_catalogue",
    "validate_resolved",
]

HASH_LENGTH = 12
# facts.md (Image Assistant): at most 50 applications in an image.
MAX_LAUNCHABLE_APPS = 50
# facts.md (Image Assistant create-image): at most 100 characters from
# [A-Za-z0-9_.-], not starting with aws/appstream/amazon; botocore appstream
# also requires the first character to be a letter or digit.
IMAGE_NAME_MAX_LENGTH = 100
IMAGE_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
RESERVED_IMAGE_PREFIXES = ("aws", "amazon", "appstream")

APP_KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
# MSI ProductCode, e.g. {23170F69-40C1-2702-2201-000001000000}.
MSI_PRODUCT_CODE = re.compile(r"\{[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\}")
# An Uninstall registry key name is a single key: no path separator.
UNINSTALL_KEY_PATTERN = re.compile(r"[^\\/\x00-\x1f]{1,255}")
INSTALLER_SUFFIXES = (".exe", ".msi", ".zip")
# ansible.windows.win_package reads an installer's exit code as a signed 32-bit integer
# (expected_return_code: "4294967295 is -1"), so success_exit_codes are written that way.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
# A key of HKEY_LOCAL_MACHINE, names separated by single backslashes (each name holds no
# backslash, so a near-miss cannot backtrack); written HKLM\..., HKLM:\... or HKEY_LOCAL_MACHINE\....
REGISTRY_KEY_PATTERN = re.compile(
    r"(HKLM:?|HKEY_LOCAL_MACHINE)\\([^\\/\x00-\x1f]+(?:\\[^\\/\x00-\x1f]+)*)", re.IGNORECASE
)
# System.Version, which the probe compares with: 2 to 4 numbers.
VERSION_PATTERN = re.compile(r"\d{1,9}(?:\.\d{1,9}){1,3}")
# botocore appstream ApplicationConfig (Image Assistant application data).
LAUNCH_NAME_PATTERN = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,99}")
LAUNCH_DISPLAY_NAME_PATTERN = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_. -]{0,99}")
LAUNCH_PARAMETERS_MAX_LENGTH = 1024
# Drive-letter absolute Windows path; no characters Windows forbids in names.
# Segments separated by single backslashes; written so that a near-miss cannot backtrack exponentially.
WINDOWS_ABSOLUTE_PATH = re.compile(r'[A-Za-z]:\\(?:[^<>:"/\\|?*\x00-\x1f]+\\)*[^<>:"/\\|?*\x00-\x1f]*')

ENTRY_FIELDS = (
    "description",
    "version",
    "installer_s3_key",
    "installer_in_archive",
    "sha256",
    "install_args",
    "product_id",
    "detect",
    "success_exit_codes",
    "dependencies",
    "launch",
)
# product_id is required unless detect replaces it (checked in validate_entry).
REQUIRED_ENTRY_FIELDS = ("version", "installer_s3_key", "sha256", "install_args")
DETECT_RULES = ("registry",)
REGISTRY_RULE_FIELDS = ("key", "value", "minimum_version")
REQUIRED_REGISTRY_RULE_FIELDS = ("key", "value")
LAUNCH_FIELDS = (
    "name",
    "display_name",
    "absolute_app_path",
    "absolute_icon_path",
    "working_directory",
    "launch_parameters",
)
REQUIRED_LAUNCH_FIELDS = ("name", "display_name", "absolute_app_path")


class CatalogueError(ValueError):
    """An application request the catalogue cannot satisfy."""


# --------------------------------------------------------------------------
# Entry checks
# --------------------------------------------------------------------------


def _show(value: Any) -> str:
    if isinstance(value, str | bool | int | float) or value is None:
        return json.dumps(value)
    return repr(value)


def _unknown_key(path: str, key: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
    if close:
        return f"{path}.{key}: unknown key (did you mean {close[0]}?)"
    return f"{path}.{key}: unknown key (allowed: {', '.join(allowed)})"


def _keys_errors(value: Mapping[str, Any], path: str, allowed: tuple[str, ...], required: tuple[str, ...]) -> list[str]:
    errors = [_unknown_key(path, str(key), allowed) for key in value if key not in allowed]
    errors.extend(f"{path}.{key}: is required but missing" for key in required if key not in value)
    return errors


def _string_errors(value: Any, path: str) -> list[str]:
    if not isinstance(value, str):
        hint = " (quote the value in YAML)" if isinstance(value, int | float) else ""
        return [f"{path}: must be a string, got {_show(value)}{hint}"]
    if not value.strip():
        return [f"{path}: must not be empty"]
    return []


def _windows_path_errors(value: Any, path: str, suffixes: tuple[str, ...] = ()) -> list[str]:
    errors = _string_errors(value, path)
    if errors:
        return errors
    if not WINDOWS_ABSOLUTE_PATH.fullmatch(value):
        return [f"{path}: {_show(value)} is not an absolute Windows path (e.g. C:\\Program Files\\…)"]
    if suffixes and not value.lower().endswith(suffixes):
        return [f"{path}: {_show(value)} must end with {' or '.join(suffixes)}"]
    return []


def _installer_errors(entry: Mapping[str, Any], path: str) -> list[str]:
    key = entry.get("installer_s3_key")
    errors = _string_errors(key, f"{path}.installer_s3_key") if key is not None else []
    if key is None or errors:
        return errors
    # S3 object keys are at most 1024 bytes; "..", a leading "/" and
    # backslashes are refused so a key maps to one object on every client.
    if key.startswith("/") or "\\" in key or ".." in key.split("/"):
        errors.append(
            f"{path}.installer_s3_key: {_show(key)} must be a relative S3 key without '..' segments or backslashes"
        )
    if len(key.encode()) > 1024:
        errors.append(f"{path}.installer_s3_key: is longer than the 1024 bytes S3 allows")
    if not key.lower().endswith(INSTALLER_SUFFIXES):
        errors.append(f"{path}.installer_s3_key: {_show(key)} must end with {', '.join(INSTALLER_SUFFIXES)}")
    inner = entry.get("installer_in_archive")
    if key.lower().endswith(".zip"):
        if inner is None:
            errors.append(
                f"{path}.installer_in_archive: is required when the installer is a .zip "
                "(the setup program to run inside the archive)"
            )
        else:
            inner_errors = _string_errors(inner, f"{path}.installer_in_archive")
            if not inner_errors and (
                inner.startswith(("/", "\\")) or ":" in inner or ".." in re.split(r"[/\\]", inner)
            ):
                inner_errors.append(
                    f"{path}.installer_in_archive: {_show(inner)} must be a relative path inside the archive"
                )
            if not inner_errors and not inner.lower().endswith((".exe", ".msi")):
                inner_errors.append(f"{path}.installer_in_archive: {_show(inner)} must end with .exe or .msi")
            errors.extend(inner_errors)
    elif inner is not None:
        errors.append(f"{path}.installer_in_archive: is only allowed when installer_s3_key is a .zip")
    return errors


def _sha256_errors(value: Any, path: str) -> list[str]:
    errors = _string_errors(value, path)
    if errors:
        return errors
    if not SHA256_PATTERN.fullmatch(value):
        return [f"{path}: {_show(value)} is not a sha256 digest (64 lower-case hex digits)"]
    if len(set(value)) == 1:
        return [f"{path}: {_show(value)} is a filler value, not the installer's digest"]
    return []


def _product_id_errors(value: Any, path: str) -> list[str]:
    errors = _string_errors(value, path)
    if errors:
        return errors
    if value.startswith("{") and not MSI_PRODUCT_CODE.fullmatch(value):
        return [f"{path}: {_show(value)} is not an MSI ProductCode ({{XXXXXXXX-XXXX-...}})"]
    if not UNINSTALL_KEY_PATTERN.fullmatch(value):
        return [f"{path}: {_show(value)} must be an MSI ProductCode or one Uninstall registry key name"]
    return []


def _exit_codes_errors(value: Any, path: str) -> list[str]:
    if not isinstance(value, list | tuple) or not value:
        return [f"{path}: must be a non-empty list of exit codes (e.g. [0, 3010]), got {_show(value)}"]
    errors: list[str] = []
    seen: set[int] = set()
    for index, code in enumerate(value):
        if isinstance(code, bool) or not isinstance(code, int):
            errors.append(f"{path}[{index}]: must be a whole number, got {_show(code)}")
            continue
        if not INT32_MIN <= code <= INT32_MAX:
            hint = f" (write {code - 2**32})" if INT32_MAX < code < 2**32 else ""
            errors.append(
                f"{path}[{index}]: {code} is outside the signed 32-bit range win_package reads exit codes in{hint}"
            )
        elif code in seen:
            errors.append(f"{path}: lists {code} twice")
        seen.add(code)
    return errors


def _registry_rule_errors(rule: Any, path: str) -> list[str]:
    if not isinstance(rule, Mapping):
        return [f"{path}: must be a mapping (key, value, minimum_version), got {_show(rule)}"]
    errors = _keys_errors(rule, path, REGISTRY_RULE_FIELDS, REQUIRED_REGISTRY_RULE_FIELDS)
    if "key" in rule:
        key_errors = _string_errors(rule["key"], f"{path}.key")
        if not key_errors and not REGISTRY_KEY_PATTERN.fullmatch(rule["key"]):
            key_errors.append(
                f"{path}.key: {_show(rule['key'])} must be a key under HKLM, written HKLM\\SOFTWARE\\... "
                "with single backslashes"
            )
        errors.extend(key_errors)
    if "value" in rule:
        errors.extend(_string_errors(rule["value"], f"{path}.value"))
    if "minimum_version" in rule:
        version_errors = _string_errors(rule["minimum_version"], f"{path}.minimum_version")
        if not version_errors and not VERSION_PATTERN.fullmatch(rule["minimum_version"]):
            version_errors.append(
                f"{path}.minimum_version: {_show(rule['minimum_version'])} must be 2 to 4 numbers separated by "
                "dots (e.g. 14.40.33816.0)"
            )
        errors.extend(version_errors)
    return errors


def _detect_errors(detect: Any, path: str) -> list[str]:
    if not isinstance(detect, Mapping):
        return [f"{path}: must be a mapping with one rule ({', '.join(DETECT_RULES)}), got {_show(detect)}"]
    errors = [_unknown_key(path, str(key), DETECT_RULES) for key in detect if key not in DETECT_RULES]
    rules = [rule for rule in DETECT_RULES if rule in detect]
    if not rules and not errors:
        errors.append(f"{path}: needs one rule: {', '.join(DETECT_RULES)}")
    if "registry" in detect:
        errors.extend(_registry_rule_errors(detect["registry"], f"{path}.registry"))
    return errors


def _string_list_errors(value: Any, path: str) -> list[str]:
    if not isinstance(value, list | tuple):
        return [f"{path}: must be a list of strings, got {_show(value)}"]
    errors: list[str] = []
    for index, item in enumerate(value):
        errors.extend(_string_errors(item, f"{path}[{index}]"))
    return errors


def _launch_errors(launch: Any, path: str) -> list[str]:
    if not isinstance(launch, Mapping):
        return [f"{path}: must be a mapping, got {_show(launch)}"]
    errors = _keys_errors(launch, path, LAUNCH_FIELDS, REQUIRED_LAUNCH_FIELDS)
    name = launch.get("name")
    if name is not None:
        errors.extend(
            _string_errors(name, f"{path}.name")
            or _pattern_errors(
                name, f"{path}.name", LAUNCH_NAME_PATTERN, "1-100 letters, digits, '_', '.' or '-', no spaces"
            )
        )
    display = launch.get("display_name")
    if display is not None:
        errors.extend(
            _string_errors(display, f"{path}.display_name")
            or _pattern_errors(
                display,
                f"{path}.display_name",
                LAUNCH_DISPLAY_NAME_PATTERN,
                "1-100 letters, digits, spaces, '_', '.' or '-'",
            )
        )
    if launch.get("absolute_app_path") is not None:
        errors.extend(_windows_path_errors(launch["absolute_app_path"], f"{path}.absolute_app_path", (".exe", ".bat")))
    for key in ("absolute_icon_path", "working_directory"):
        if launch.get(key) is not None:
            errors.extend(_windows_path_errors(launch[key], f"{path}.{key}"))
    parameters = launch.get("launch_parameters")
    if parameters is not None:
        param_errors = _string_errors(parameters, f"{path}.launch_parameters")
        if not param_errors and len(parameters) > LAUNCH_PARAMETERS_MAX_LENGTH:
            param_errors.append(
                f"{path}.launch_parameters: {len(parameters)} characters is longer than "
                f"the maximum of {LAUNCH_PARAMETERS_MAX_LENGTH}"
            )
        errors.extend(param_errors)
    return errors


def _pattern_errors(value: str, path: str, pattern: re.Pattern[str], hint: str) -> list[str]:
    if pattern.fullmatch(value):
        return []
    return [f"{path}: {_show(value)} does not match {hint}"]


def validate_entry(key: str, entry: Any, path: str) -> list[str]:
    """Return the errors of one catalogue entry (its own fields only)."""
    if not isinstance(entry, Mapping):
        return [f"{path}: must be a mapping, got {_show(entry)}"]
    errors = _keys_errors(entry, path, ENTRY_FIELDS, REQUIRED_ENTRY_FIELDS)
    if "description" in entry:
        errors.extend(_string_errors(entry["description"], f"{path}.description"))
    if "version" in entry:
        errors.extend(_string_errors(entry["version"], f"{path}.version"))
    if "sha256" in entry:
        errors.extend(_sha256_errors(entry["sha256"], f"{path}.sha256"))
    if "install_args" in entry:
        errors.extend(_string_list_errors(entry["install_args"], f"{path}.install_args"))
    if "product_id" in entry:
        errors.extend(_product_id_errors(entry["product_id"], f"{path}.product_id"))
    if "detect" in entry:
        errors.extend(_detect_errors(entry["detect"], f"{path}.detect"))
        if "product_id" in entry:
            errors.append(f"{path}.detect: product_id or detect, not both (detect replaces the product id)")
    elif "product_id" not in entry:
        errors.append(f"{path}.product_id: is required but missing (or give detect)")
    if "success_exit_codes" in entry:
        errors.extend(_exit_codes_errors(entry["success_exit_codes"], f"{path}.success_exit_codes"))
    if "dependencies" in entry:
        dependencies = entry["dependencies"]
        errors.extend(_string_list_errors(dependencies, f"{path}.dependencies"))
        if isinstance(dependencies, list | tuple) and key in dependencies:
            errors.append(f"{path}.dependencies: {_show(key)} cannot depend on itself")
    errors.extend(_installer_errors(entry, path))
    if entry.get("launch") is not None:
        errors.extend(_launch_errors(entry["launch"], f"{path}.launch"))
    return errors


def validate_catalogue(catalogue: Any, prefix: str = "app_catalogue") -> list[str]:
    """Return every error of the catalogue: entries, dependencies, cycles, launch names."""
    if not isinstance(catalogue, Mapping):
        return [f"{prefix}: must be a mapping of application keys, got {_show(catalogue)}"]
    if not catalogue:
        return [f"{prefix}: must not be empty"]
    errors: list[str] = []
    launch_names: dict[str, str] = {}
    for key, entry in catalogue.items():
        path = f"{prefix}.{key}"
        if not isinstance(key, str) or not APP_KEY_PATTERN.fullmatch(key):
            errors.append(f"{path}: the key must be 1-64 lower-case letters, digits or '_' starting with a letter")
        errors.extend(validate_entry(str(key), entry, path))
        for index, dependency in enumerate(_dependencies(entry)):
            if dependency not in catalogue:
                close = difflib.get_close_matches(dependency, sorted(str(k) for k in catalogue), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                errors.append(f"{path}.dependencies[{index}]: {_show(dependency)} is not in {prefix}{hint}")
        name = _launch_name(entry)
        if name is not None:
            if name.casefold() in launch_names:
                errors.append(
                    f"{path}.launch.name: {_show(name)} is already the launch name of "
                    f"{prefix}.{launch_names[name.casefold()]}"
                )
            launch_names.setdefault(name.casefold(), str(key))
    cycle = find_cycle(catalogue)
    if cycle:
        errors.append(f"{prefix}: dependency cycle {' -> '.join(cycle)}")
    return errors


def _dependencies(entry: Any) -> list[str]:
    dependencies = entry.get("dependencies") if isinstance(entry, Mapping) else None
    if not isinstance(dependencies, list | tuple):
        return []
    return [item for item in dependencies if isinstance(item, str)]


def _launch_name(entry: Any) -> str | None:
    launch = entry.get("launch") if isinstance(entry, Mapping) else None
    name = launch.get("name") if isinstance(launch, Mapping) else None
    return name if isinstance(name, str) else None


def find_cycle(catalogue: Mapping[str, Any]) -> list[str] | None:
    """Return one dependency cycle as ``[a, b, ..., a]``, or ``None``.

    Iterative depth-first search in key order, so the reported cycle is
    deterministic; unknown dependencies are ignored here (reported elsewhere).
    """
    done: set[str] = set()
    for root in sorted(str(key) for key in catalogue):
        if root in done:
            continue
        path: list[str] = [root]
        on_path = {root}
        stack = [iter(sorted(_dependencies(catalogue.get(root))))]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                continue
            if child not in catalogue or child in done:
                continue
            if child in on_path:
                return [*path[path.index(child) :], child]
            path.append(child)
            on_path.add(child)
            stack.append(iter(sorted(_dependencies(catalogue.get(child)))))
    return None


# --------------------------------------------------------------------------
# Resolution, hash and image name
# --------------------------------------------------------------------------


def resolve_catalogue(catalogue: Mapping[str, Any], app_keys: Iterable[str]) -> list[dict[str, Any]]:
    """Return the requested apps and their transitive dependencies, dependencies first.

    Each returned entry is a deep copy of the catalogue entry with its ``key``
    added. Among entries whose dependencies are all placed, the smallest key
    comes first, so the order depends only on the catalogue and the set of
    requested keys. Raises ``CatalogueError`` for an unknown key or a cycle.
    """
    needed: set[str] = set()
    pending = [(key, None) for key in app_keys]
    while pending:
        key, required_by = pending.pop()
        if key in needed:
            continue
        if key not in catalogue:
            origin = f"a dependency of {required_by!r}" if required_by else "requested"
            raise CatalogueError(f"unknown application {key!r} ({origin}) in the catalogue")
        needed.add(key)
        pending.extend((dependency, key) for dependency in _dependencies(catalogue[key]))

    cycle = find_cycle({key: catalogue[key] for key in needed})
    if cycle:
        raise CatalogueError(f"dependency cycle {' -> '.join(cycle)}")

    # Kahn's algorithm with a heap of ready keys: deterministic topological order.
    waiting_on = {key: set(_dependencies(catalogue[key])) for key in needed}
    dependents: dict[str, list[str]] = {key: [] for key in needed}
    for key, dependencies in waiting_on.items():
        for dependency in dependencies:
            dependents[dependency].append(key)
    ready = [key for key, dependencies in waiting_on.items() if not dependencies]
    heapq.heapify(ready)
    ordered: list[dict[str, Any]] = []
    while ready:
        key = heapq.heappop(ready)
        ordered.append({"key": key, **copy.deepcopy(dict(catalogue[key]))})
        for dependent in dependents[key]:
            waiting_on[dependent].discard(key)
            if not waiting_on[dependent]:
                heapq.heappush(ready, dependent)
    return ordered


def _provider_path(key: str) -> str:
    """``HKLM\\SOFTWARE\\X`` as PowerShell's registry provider path ``HKLM:\\SOFTWARE\\X``."""
    match = REGISTRY_KEY_PATTERN.fullmatch(key)
    return f"HKLM:\\{match.group(2)}" if match else key


def detection_rules(catalogue: Mapping[str, Any], app_keys: Iterable[str]) -> list[dict[str, Any]]:
    """How the builder tells whether each of ``app_keys`` is installed, in that order.

    ``{"key", "product_id"}`` (an Uninstall key, as win_package checks) or ``{"key", "registry":
    {"key", "value"[, "minimum_version"]}}`` with the key as a PowerShell provider path.
    """
    rules: list[dict[str, Any]] = []
    for key in app_keys:
        entry = catalogue[key]
        registry = (entry.get("detect") or {}).get("registry")
        if registry:
            rule = {"key": _provider_path(registry["key"]), "value": registry["value"]}
            if registry.get("minimum_version"):
                rule["minimum_version"] = registry["minimum_version"]
            rules.append({"key": key, "registry": rule})
        else:
            rules.append({"key": key, "product_id": entry.get("product_id")})
    return rules


def validate_resolved(resolved: Iterable[Mapping[str, Any]]) -> list[str]:
    """Return the Image Assistant limits broken by one image's set of apps."""
    launchable = [entry["key"] for entry in resolved if entry.get("launch")]
    if len(launchable) > MAX_LAUNCHABLE_APPS:
        return [
            f"tenant.apps: the image would hold {len(launchable)} launchable applications, "
            f"more than the {MAX_LAUNCHABLE_APPS} Image Assistant allows"
        ]
    return []


def _image_identity(entry: Mapping[str, Any]) -> dict[str, Any]:
    # Only what ends up on the image; `description` is documentation. Absent
    # optional fields and their empty values hash alike.
    # `detect` and `success_exit_codes` are left out: they decide whether the
    # installer runs and whether its exit code counts as a success, not what it
    # installs (the same installer, digest and arguments make the same image), so
    # correcting a detection rule or accepting an exit code rebuilds no image.
    # `product_id` predates that rule and stays, so that the names of existing
    # images do not change.
    launch = entry.get("launch") or None
    return {
        "key": entry["key"],
        "version": entry.get("version"),
        "sha256": entry.get("sha256"),
        "installer_s3_key": entry.get("installer_s3_key"),
        "installer_in_archive": entry.get("installer_in_archive"),
        "install_args": list(entry.get("install_args") or []),
        "product_id": entry.get("product_id"),
        "dependencies": sorted(entry.get("dependencies") or []),
        "launch": ({field: launch.get(field) for field in LAUNCH_FIELDS} if launch is not None else None),
    }


def catalogue_hash(resolved: Iterable[Mapping[str, Any]], base_image: str | None = None) -> str:
    """Return a short, stable digest of what defines the installed image.

    The digest covers every resolved entry's installed identity (key, version,
    sha256, installer key, install arguments, product id, dependencies,
    Image Assistant data) in key order, independent of mapping order. When
    ``base_image`` is given it is covered too, so a new AWS base image yields
    a new image name.
    """
    document: dict[str, Any] = {"apps": sorted((_image_identity(entry) for entry in resolved), key=lambda e: e["key"])}
    if base_image is not None:
        document["base_image"] = base_image
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:HASH_LENGTH]


def image_name_errors(name: Any, path: str = "image_name") -> list[str]:
    """Return the Image Assistant create-image rules that ``name`` breaks."""
    if not isinstance(name, str) or not name:
        return [f"{path}: must be a non-empty string"]
    errors: list[str] = []
    if len(name) > IMAGE_NAME_MAX_LENGTH:
        errors.append(f"{path}: {len(name)} characters is longer than {IMAGE_NAME_MAX_LENGTH}")
    if not IMAGE_NAME_PATTERN.fullmatch(name):
        errors.append(
            f"{path}: {_show(name)} may only contain letters, digits, '_', '.' and '-' "
            "and must start with a letter or digit"
        )
    for prefix in RESERVED_IMAGE_PREFIXES:
        if name.casefold().startswith(prefix):
            errors.append(f"{path}: {_show(name)} must not start with {prefix!r}")
    return errors


def image_name(tenant_name: str, digest: str) -> str:
    """Return ``<tenant>-suite-<hash>``; raise ``ValueError`` if AWS would refuse it."""
    name = f"{tenant_name}-suite-{digest}"
    errors = image_name_errors(name)
    if errors:
        raise ValueError("; ".join(errors))
    return name
