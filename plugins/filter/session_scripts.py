# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AppStream session scripts: the checked content of ``C:\\AppStream\\SessionScripts\\config.json``.

The filters are called by their FQCN, ``iconeus.tenant_toolkit.<name>``; short names below.

    {{ appstream_session_scripts_events | session_scripts_config }}  -> the config, checked
    {{ config | to_nice_json(indent=2) }}                            -> the file (backslashes doubled)

AppStream's limits (facts.md): events ``SessionStart`` and ``SessionTermination``, each
``{"executables": [...], "waitingTime": <= 60}``; at most one ``system`` and one ``user``
executable per event; ``filename`` an ``.exe`` or ``.bat`` (PowerShell runs through
``powershell.exe``); JSON with backslashes escaped, which ``to_json`` does.

The input is the file's own shape. An event left out gets AWS's default (both contexts
with an empty ``filename``, ``waitingTime`` 30), as in the file a new builder ships with;
an executable's ``arguments`` defaults to ``""`` and ``s3LogEnabled`` to true.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

EVENTS = ("SessionStart", "SessionTermination")
CONTEXTS = ("system", "user")
EXECUTABLE_SUFFIXES = (".exe", ".bat")
MAX_WAITING_TIME = 60
DEFAULT_WAITING_TIME = 30
EXECUTABLE_KEYS = ("context", "filename", "arguments", "s3LogEnabled")
EVENT_KEYS = ("executables", "waitingTime")
# Drive-letter path, one backslash between names; written so that a failing match is linear
# (each name is followed by exactly one backslash, except the last).
WINDOWS_ABSOLUTE_PATH = re.compile(r'[A-Za-z]:\\(?:[^<>:"/\\|?*\x00-\x1f]+\\)*[^<>:"/\\|?*\x00-\x1f]*')


def _placeholder(context: str) -> dict[str, Any]:
    return {"context": context, "filename": "", "arguments": "", "s3LogEnabled": True}


def default_event() -> dict[str, Any]:
    """An event as AWS ships it: one empty executable per context, 30 seconds."""
    return {"executables": [_placeholder(context) for context in CONTEXTS], "waitingTime": DEFAULT_WAITING_TIME}


def _executable_errors(executable: Any, path: str) -> list[str]:
    if not isinstance(executable, Mapping):
        return [f"{path}: must be a mapping, got {executable!r}"]
    errors = [
        f"{path}.{key}: unknown key (allowed: {', '.join(EXECUTABLE_KEYS)})"
        for key in executable
        if key not in EXECUTABLE_KEYS
    ]
    context = executable.get("context")
    if context not in CONTEXTS:
        errors.append(f"{path}.context: must be one of {', '.join(CONTEXTS)}, got {context!r}")
    filename = executable.get("filename", "")
    if not isinstance(filename, str):
        errors.append(f"{path}.filename: must be a string, got {filename!r}")
    elif filename:
        if not WINDOWS_ABSOLUTE_PATH.fullmatch(filename):
            errors.append(f"{path}.filename: {filename!r} is not an absolute Windows path")
        if not filename.lower().endswith(EXECUTABLE_SUFFIXES):
            errors.append(
                f"{path}.filename: {filename!r} must be an .exe or a .bat "
                "(run a PowerShell script through powershell.exe or a .bat)"
            )
    arguments = executable.get("arguments", "")
    if not isinstance(arguments, str):
        errors.append(f"{path}.arguments: must be a string, got {arguments!r}")
    s3_log = executable.get("s3LogEnabled", True)
    if not isinstance(s3_log, bool):
        errors.append(f"{path}.s3LogEnabled: must be true or false, got {s3_log!r}")
    return errors


def _event_errors(event: Any, path: str) -> list[str]:
    if not isinstance(event, Mapping):
        return [f"{path}: must be a mapping, got {event!r}"]
    errors = [f"{path}.{key}: unknown key (allowed: {', '.join(EVENT_KEYS)})" for key in event if key not in EVENT_KEYS]
    waiting = event.get("waitingTime", DEFAULT_WAITING_TIME)
    if isinstance(waiting, bool) or not isinstance(waiting, int):
        errors.append(f"{path}.waitingTime: must be a whole number of seconds, got {waiting!r}")
    elif not 1 <= waiting <= MAX_WAITING_TIME:
        errors.append(f"{path}.waitingTime: {waiting} is outside 1..{MAX_WAITING_TIME} seconds")
    executables = event.get("executables", [])
    if not isinstance(executables, list):
        return [*errors, f"{path}.executables: must be a list, got {executables!r}"]
    for index, executable in enumerate(executables):
        errors.extend(_executable_errors(executable, f"{path}.executables[{index}]"))
    for context in CONTEXTS:
        count = sum(1 for e in executables if isinstance(e, Mapping) and e.get("context") == context)
        if count > 1:
            errors.append(f"{path}.executables: {count} {context} executables, AppStream runs at most one per event")
    return errors


def session_scripts_errors(config: Any) -> list[str]:
    """Every rule of AppStream's session-script configuration that ``config`` breaks."""
    if not isinstance(config, Mapping):
        return [f"session scripts: must be a mapping of events, got {config!r}"]
    errors = [f"{key}: unknown event (allowed: {', '.join(EVENTS)})" for key in config if key not in EVENTS]
    for event in EVENTS:
        if event in config:
            errors.extend(_event_errors(config[event], event))
    return errors


def session_scripts_config(config: Any) -> dict[str, Any]:
    """The complete, checked configuration; fails naming every broken rule."""
    errors = session_scripts_errors(config)
    if errors:
        raise AnsibleFilterError("invalid AppStream session scripts: " + "; ".join(errors))
    normalised: dict[str, Any] = {}
    for event in EVENTS:
        if event not in config:
            normalised[event] = default_event()
            continue
        given = config[event]
        normalised[event] = {
            "executables": [
                {
                    "context": executable["context"],
                    "filename": executable.get("filename", ""),
                    "arguments": executable.get("arguments", ""),
                    "s3LogEnabled": executable.get("s3LogEnabled", True),
                }
                for executable in given.get("executables", [])
            ],
            "waitingTime": given.get("waitingTime", DEFAULT_WAITING_TIME),
        }
    return normalised


class FilterModule:
    """AppStream session script filters."""

    def filters(self) -> dict[str, Any]:
        return {"session_scripts_config": session_scripts_config}
