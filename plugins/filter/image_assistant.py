# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image Assistant command lines, answers and plans, as pure functions.

The filters are called by their FQCN, ``iconeus.tenant_toolkit.<name>``; short names below.

Image Assistant (``Image-Assistant.exe`` on AppStream image builders, facts.md) is driven
through ``ansible.windows.win_command`` with ``argv``: win_command quotes each element by
the Windows (MSVC ``CommandLineToArgvW``) rules, so a path with spaces or launch parameters
holding quotes reach Image Assistant exactly as written here. These filters only build the
argv lists, never a command string, so no quoting is done by hand in YAML.

    {{ 'add-application' | image_assistant_argv(launch) }}
    {{ image_assistant_list | image_assistant_status }}           -> {ok, status, message, data}
    {{ image_assistant_list | image_assistant_status | image_assistant_registered }}
    {{ registered | image_assistant_plan(desired) }}              -> {add, remove, keep}
    {{ app_catalogue | image_assistant_launchable(tenant_apps) }} -> launch entries
    {{ tenant_spec | image_assistant_image(tenant_image_name, tenant_catalogue_hash,
                                           app_catalogue, tenant_apps) }}
    {{ argv | windows_command_line }}                             -> the line win_command runs
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils import catalogue

DEFAULT_EXECUTABLE = "Image-Assistant.exe"
# facts.md: at most 50 applications per image.
MAX_APPLICATIONS = 50
# botocore appstream: Image.Description and Image.DisplayName lengths.
DESCRIPTION_MAX_LENGTH = 256
DISPLAY_NAME_MAX_LENGTH = 100
# botocore appstream TagValue: letters, digits, spaces and _ . : / = + - @, at most 256.
TAG_VALUE_UNSAFE = re.compile(r"[^\w .:/=+\-@]")
TAG_KEY_PATTERN = re.compile(r"[\w .:/=+\-@]{1,128}")

LAUNCH_FIELDS = (
    "name",
    "display_name",
    "absolute_app_path",
    "absolute_icon_path",
    "working_directory",
    "launch_parameters",
)
# Fields compared case-insensitively: Windows paths.
PATH_FIELDS = ("absolute_app_path", "absolute_icon_path", "working_directory")

# command -> (required options, optional options, flags). Option names are the
# snake_case forms of the CLI's --kebab-case options, as the AppStream admin guide documents them
# ("Create Your AppStream 2.0 Image Programmatically by Using the Image Assistant CLI Operations":
# add-application, remove-application, list-applications, update-default-profile [--profile],
# reset-user-profile [--profile], create-image).
COMMANDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "add-application": (
        ("name", "absolute_app_path"),
        ("display_name", "absolute_icon_path", "working_directory", "launch_parameters", "absolute_manifest_path"),
        (),
    ),
    "remove-application": (("name",), (), ()),
    "list-applications": ((), (), ()),
    # --profile "<domain>\\<username>" ("." as the domain of a builder outside a domain); without it
    # Image Assistant copies the Template User's profile.
    "update-default-profile": ((), ("profile",), ()),
    "reset-user-profile": ((), ("profile",), ()),
    "create-image": (
        ("name",),
        ("description", "display_name", "tags"),
        ("use_latest_agent_version", "enable_dynamic_app_catalog", "dry_run"),
    ),
}
# Order of the options on the command line (stable, so command lines can be compared).
OPTION_ORDER = (
    "name",
    "absolute_app_path",
    "display_name",
    "absolute_icon_path",
    "working_directory",
    "launch_parameters",
    "absolute_manifest_path",
    "profile",
    "description",
    "tags",
    "use_latest_agent_version",
    "enable_dynamic_app_catalog",
    "dry_run",
)


def _flag(option: str) -> str:
    return "--" + option.replace("_", "-")


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "")


# --------------------------------------------------------------------------
# Command lines
# --------------------------------------------------------------------------


def image_assistant_argv(
    command: str, options: Mapping[str, Any] | None = None, executable: str = DEFAULT_EXECUTABLE
) -> list[str]:
    """The argv list of one Image Assistant command.

    ``options`` uses the snake_case names of the CLI options (``absolute_app_path`` for
    ``--absolute-app-path``); unset (``None`` or empty) options are left out, unknown ones
    are refused. ``tags`` is a mapping, given as ``--tags k1 v1 k2 v2`` in key order;
    flags (``dry_run``, ``use_latest_agent_version``, ...) are given when true.
    """
    if command not in COMMANDS:
        raise AnsibleFilterError(f"image_assistant_argv: unknown command {command!r} (known: {', '.join(COMMANDS)})")
    required, optional, flags = COMMANDS[command]
    given = {key: value for key, value in (options or {}).items() if not _is_blank(value)}
    unknown = sorted(set(given) - set(required) - set(optional) - set(flags))
    if unknown:
        raise AnsibleFilterError(f"image_assistant_argv: {command} does not take {', '.join(unknown)}")
    missing = [key for key in required if key not in given]
    if missing:
        raise AnsibleFilterError(f"image_assistant_argv: {command} needs {', '.join(missing)}")
    argv = [str(executable), command]
    for option in OPTION_ORDER:
        if option not in given:
            continue
        value = given[option]
        if option in flags:
            if _truthy(value):
                argv.append(_flag(option))
        elif option == "tags":
            argv.extend(_tags_argv(value))
        else:
            argv.extend([_flag(option), str(value)])
    return argv


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _tags_argv(tags: Any) -> list[str]:
    if not isinstance(tags, Mapping):
        raise AnsibleFilterError(f"image_assistant_argv: tags must be a mapping, got {tags!r}")
    if not tags:
        return []
    argv = ["--tags"]
    for key in sorted(tags):
        argv.extend([str(key), "" if tags[key] is None else str(tags[key])])
    return argv


def windows_command_line(argv: Iterable[Any]) -> str:
    """The command line ``ansible.windows.win_command`` builds from ``argv``.

    Mirrors ``ConvertTo-EscapedArgument`` (ansible.windows Process.psm1): an argument with
    whitespace or a double quote is wrapped in quotes, its quotes become ``\\"`` and the
    backslashes before a quote or at the end are doubled; an empty argument is ``""``.
    The Windows C runtime (``CommandLineToArgvW``) reads the same list back.
    """
    return " ".join(_escape_argument("" if item is None else str(item)) for item in argv)


def _escape_argument(argument: str) -> str:
    if argument == "":
        return '""'
    if not re.search(r'[\s"]', argument):
        return argument
    escaped = argument.replace('"', '\\"')
    escaped = re.sub(r'(\\+)\\"', lambda m: m.group(1) * 2 + '\\"', escaped)
    escaped = re.sub(r"(\\+)$", lambda m: m.group(1) * 2, escaped)
    return f'"{escaped}"'


# --------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------


def _json_object(text: str) -> dict[str, Any] | None:
    """The JSON object Image Assistant printed, even with other lines around it."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = json.loads(text)
        return value if isinstance(value, dict) else None
    except ValueError:
        pass
    start, end = text.find("{"), text.rfind("}")
    if start == -1 or end <= start:
        return None
    try:
        value = json.loads(text[start : end + 1])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def image_assistant_status(result: Mapping[str, Any]) -> dict[str, Any]:
    """Read a registered win_command result of Image Assistant.

    Image Assistant prints ``{"status": N, "message": ...}`` and exits 0 on success, 1 on
    an error and 255 on an unexpected failure (facts.md). Returns ``ok`` (exit code and
    status both 0), ``status``, ``message`` (Image Assistant's own text, or what explains
    the failure), ``rc`` and ``data`` (the whole JSON answer). A task skipped in check mode
    is ``ok`` with ``skipped``.
    """
    if not isinstance(result, Mapping):
        raise AnsibleFilterError(f"image_assistant_status expects a registered result, got {result!r}")
    if result.get("skipped"):
        return {"ok": True, "skipped": True, "status": None, "message": "skipped", "rc": None, "data": {}}
    rc = result.get("rc")
    stdout = str(result.get("stdout") or "")
    stderr = str(result.get("stderr") or "")
    answer = _json_object(stdout)
    if answer is None:
        detail = stderr.strip() or stdout.strip() or str(result.get("msg") or "no output")
        return {
            "ok": False,
            "skipped": False,
            "status": None,
            "message": f"Image Assistant gave no JSON answer (exit code {rc}): {detail}",
            "rc": rc,
            "data": {},
        }
    status = answer.get("status", answer.get("Status"))
    message = answer.get("message", answer.get("Message"))
    try:
        status_code = int(status) if status is not None else None
    except (TypeError, ValueError):
        status_code = None
    ok = status_code == 0 and rc in (0, None)
    if not ok and not message:
        message = stderr.strip() or f"Image Assistant failed (exit code {rc}, status {status})"
    return {
        "ok": ok,
        "skipped": False,
        "status": status_code,
        "message": "" if message is None else str(message),
        "rc": rc,
        "data": answer,
    }


_FIELD_ALIASES = {
    "name": "name",
    "displayname": "display_name",
    "absoluteapppath": "absolute_app_path",
    "apppath": "absolute_app_path",
    "launchpath": "absolute_app_path",
    "path": "absolute_app_path",
    "absoluteiconpath": "absolute_icon_path",
    "iconpath": "absolute_icon_path",
    "workingdirectory": "working_directory",
    "launchparameters": "launch_parameters",
}


def _normalise_application(raw: Mapping[str, Any]) -> dict[str, Any]:
    app: dict[str, Any] = dict.fromkeys(LAUNCH_FIELDS)
    for key, value in raw.items():
        field = _FIELD_ALIASES.get(re.sub(r"[^a-z]", "", str(key).lower()))
        if field is not None and not _is_blank(value):
            app[field] = str(value)
    return app


def image_assistant_registered(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The applications of a ``list-applications`` answer, with the catalogue's field names.

    Accepts the output of ``image_assistant_status`` or the raw JSON answer; field names
    are matched whatever their case or separators (``AbsoluteAppPath``, ``absolute_app_path``).
    """
    if not isinstance(answer, Mapping):
        raise AnsibleFilterError(f"image_assistant_registered expects a mapping, got {answer!r}")
    data = answer.get("data", answer) if "ok" in answer else answer
    applications = None
    for key, value in (data or {}).items():
        if str(key).lower() == "applications":
            applications = value
    if applications is None:
        return []
    if not isinstance(applications, list):
        raise AnsibleFilterError(f"image_assistant_registered: 'applications' is not a list: {applications!r}")
    return [_normalise_application(app) for app in applications if isinstance(app, Mapping)]


# --------------------------------------------------------------------------
# Desired state and plan
# --------------------------------------------------------------------------


def image_assistant_launchable(catalogue: Mapping[str, Any], app_keys: Iterable[str]) -> list[dict[str, Any]]:
    """The Image Assistant data (``launch``) of the launchable apps among ``app_keys``, in that order."""
    if not isinstance(catalogue, Mapping):
        raise AnsibleFilterError("image_assistant_launchable expects the catalogue mapping as input")
    launchable = []
    for key in app_keys:
        if key not in catalogue:
            raise AnsibleFilterError(f"image_assistant_launchable: {key!r} is not in the catalogue")
        launch = (catalogue[key] or {}).get("launch")
        if launch:
            launchable.append({field: launch.get(field) for field in LAUNCH_FIELDS})
    if len(launchable) > MAX_APPLICATIONS:
        raise AnsibleFilterError(
            f"image_assistant_launchable: {len(launchable)} applications, Image Assistant takes at most "
            f"{MAX_APPLICATIONS}"
        )
    return launchable


def _same_application(registered: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    for field in LAUNCH_FIELDS:
        wanted = desired.get(field)
        if _is_blank(wanted):
            # Not requested: Image Assistant fills some (display name, icon) itself.
            if field in ("launch_parameters", "working_directory") and not _is_blank(registered.get(field)):
                return False
            continue
        current = registered.get(field)
        if _is_blank(current):
            return False
        if field in PATH_FIELDS:
            if str(current).rstrip("\\").casefold() != str(wanted).rstrip("\\").casefold():
                return False
        elif str(current) != str(wanted):
            return False
    return True


def image_assistant_plan(
    registered: Iterable[Mapping[str, Any]], desired: Iterable[Mapping[str, Any]]
) -> dict[str, list[Any]]:
    """What makes the registered set equal the desired one.

    ``remove``: names to unregister (not desired, or registered with other settings: Image
    Assistant has no update, an application is removed and added again). ``add``: launch
    entries to register, in the desired order. ``keep``: names already right.
    """
    registered_by_name = {str(app["name"]).casefold(): app for app in registered if app.get("name")}
    desired_list = list(desired)
    desired_names = {str(app["name"]).casefold() for app in desired_list}
    remove, add, keep = [], [], []
    for folded, app in registered_by_name.items():
        if folded not in desired_names:
            remove.append(app["name"])
    for app in desired_list:
        current = registered_by_name.get(str(app["name"]).casefold())
        if current is None:
            add.append(dict(app))
        elif _same_application(current, app):
            keep.append(app["name"])
        else:
            remove.append(current["name"])
            add.append(dict(app))
    return {"remove": remove, "add": add, "keep": keep}


# --------------------------------------------------------------------------
# The image: name, description, display name, tags
# --------------------------------------------------------------------------


def image_name_errors(name: str) -> list[str]:
    """The create-image name rules (facts.md) that ``name`` breaks."""
    return catalogue.image_name_errors(name, path="image name")


def _tag_value(value: Any) -> str:
    return TAG_VALUE_UNSAFE.sub("-", str(value))[:256]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip(" ,") + "..."


def image_assistant_image(
    tenant: Mapping[str, Any],
    image_name: str,
    catalogue_hash: str,
    catalogue: Mapping[str, Any],
    app_keys: Iterable[str],
    extra_tags: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Name, display name, description and tags of the tenant's catalogue image.

    The same values go to Image Assistant's ``create-image`` on a builder and to the
    sandbox's create-image hook, so both paths make the same image. Tags carry the
    ownership tags (tenant, environment, managed-by) the toolkit's modules check, plus the
    catalogue hash and the base image.
    """
    errors = image_name_errors(str(image_name))
    if errors:
        raise AnsibleFilterError(f"image_assistant_image: {'; '.join(errors)}")
    name = str(tenant["name"])
    base_image = str((tenant.get("appstream") or {}).get("base_image") or "")
    keys = list(app_keys)
    versions = ", ".join(f"{key} {(catalogue.get(key) or {}).get('version', '?')}" for key in keys)
    description = _shorten(
        f"Analysis suite of tenant {name}, catalogue {catalogue_hash}: {versions}", DESCRIPTION_MAX_LENGTH
    )
    display_name = _shorten(f"{name} suite {catalogue_hash}", DISPLAY_NAME_MAX_LENGTH)
    tags: dict[str, str] = {str(k): _tag_value(v) for k, v in (extra_tags or {}).items()}
    tags.update(
        {
            "tenant": name,
            "managed-by": "appstream-tenant-toolkit",
            "catalogue-hash": str(catalogue_hash),
        }
    )
    if tenant.get("environment"):
        tags["environment"] = str(tenant["environment"])
    if base_image:
        tags["base-image"] = _tag_value(base_image)
    bad_keys = sorted(key for key in tags if not TAG_KEY_PATTERN.fullmatch(key) or key.lower().startswith("aws:"))
    if bad_keys:
        raise AnsibleFilterError(f"image_assistant_image: invalid tag keys {', '.join(bad_keys)}")
    return {
        "name": str(image_name),
        "display_name": display_name,
        "description": description,
        "tags": dict(sorted(tags.items())),
    }


def image_assistant_hook_payload(
    image: Mapping[str, Any],
    builder_name: str,
    region: str,
    applications: Iterable[Mapping[str, Any]] = (),
    use_latest_agent_version: bool = False,
) -> dict[str, Any]:
    """The sandbox's ``POST /_sandbox/appstream/create-image`` body for the same image.

    The sandbox records what Image Assistant registered; it takes the launch fields under
    Image Assistant's option names, without the icon path (AWS serves icons by URL).
    """
    apps = [
        {
            field: app[field]
            for field in ("name", "display_name", "absolute_app_path", "working_directory", "launch_parameters")
            if not _is_blank(app.get(field))
        }
        for app in applications
    ]
    payload: dict[str, Any] = {
        "region": region,
        "builder_name": builder_name,
        "image_name": image["name"],
        "description": image.get("description"),
        "display_name": image.get("display_name"),
        "tags": dict(image.get("tags") or {}),
        "applications": apps,
    }
    if use_latest_agent_version:
        payload["use_latest_agent_version"] = True
    return payload


class FilterModule:
    """Image Assistant filters."""

    def filters(self) -> dict[str, Any]:
        return {
            "image_assistant_argv": image_assistant_argv,
            "image_assistant_status": image_assistant_status,
            "image_assistant_registered": image_assistant_registered,
            "image_assistant_launchable": image_assistant_launchable,
            "image_assistant_plan": image_assistant_plan,
            "image_assistant_image": image_assistant_image,
            "image_assistant_hook_payload": image_assistant_hook_payload,
            "windows_command_line": windows_command_line,
        }
