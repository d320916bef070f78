# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The evidence of one image build: what was installed, registered and created, as files.

``playbooks/image.yml`` writes them on the controller under
``reports/<tenant>/image-build-<UTC timestamp>/`` (docs/first-image-build.md):

    installs.json           each catalogue application: action (installed, already-installed,
                            failed, not-run), exit code and the codes accepted, reboot, detection
                            after the install, the tail of the installer's log
    list-applications.json  what Image Assistant had registered when the image was created
    create-image.json       the create-image request, the dry run's and the real answer, the image
    summary.md              the same for a person, with the result of the build

    {{ build | image_build_report_files }}                         -> {file name: content}
    {{ app_catalogue | image_build_install_entries(keys, action) }} -> installs.json entries
    {{ win_package_result | image_build_install_entry(key, entry, codes, log_tail) }}

A WinRM build and a sandbox build (its create-image hook, no Windows) give the same files.
Nothing secret reaches them: no URL, credential or password is part of ``build``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

REPORT_FILES = ("installs.json", "list-applications.json", "create-image.json", "summary.md")
LOG_TAIL_LINES = 40
# The install actions an entry can report.
ACTIONS = ("installed", "already-installed", "failed", "not-run")


def _plain(value: Any) -> Any:
    """Ansible's tagged strings and lazy containers as plain JSON-able values."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return value
    return str(value)


def _json(document: Mapping[str, Any]) -> str:
    return json.dumps(_plain(document), indent=2, ensure_ascii=False) + "\n"


def _tail(lines: Any, limit: int = LOG_TAIL_LINES) -> list[str]:
    if lines is None:
        return []
    if isinstance(lines, str):
        lines = lines.splitlines()
    return [str(line).rstrip("\r\n") for line in list(lines)[-limit:]]


# --------------------------------------------------------------------------
# installs.json entries
# --------------------------------------------------------------------------


def image_build_install_entries(
    catalogue: Mapping[str, Any], app_keys: Iterable[str], action: str, message: str = ""
) -> list[dict[str, Any]]:
    """One entry per application that ran no installer (already installed, or a sandbox build)."""
    if action not in ACTIONS:
        raise AnsibleFilterError(f"image_build_install_entries: action must be one of {', '.join(ACTIONS)}")
    return [
        {
            "key": str(key),
            "version": (catalogue.get(key) or {}).get("version"),
            "action": action,
            "rc": None,
            "message": message,
        }
        for key in app_keys
    ]


def image_build_install_entry(
    result: Mapping[str, Any],
    key: str,
    entry: Mapping[str, Any],
    default_codes: Iterable[int] = (0, 3010),
    log_tail: Any = None,
) -> dict[str, Any]:
    """The installs.json entry of one ``ansible.windows.win_package`` run (registered ``result``).

    win_package returns ``rc`` when it ran the installer, ``reboot_required`` always, and
    ``stdout``/``stderr`` (with the MSI ``log``) only when the exit code was not accepted; the
    tail is the installer's log when one was read, else that output.
    """
    if not isinstance(result, Mapping):
        raise AnsibleFilterError(f"image_build_install_entry expects a registered win_package result, got {result!r}")
    codes = [int(code) for code in (entry.get("success_exit_codes") or default_codes)]
    rc = result.get("rc")
    tail = _tail(log_tail)
    if not tail:
        output = "\n".join(str(result.get(part) or "") for part in ("log", "stdout", "stderr")).strip()
        tail = _tail(output)
    return {
        "key": str(key),
        "version": entry.get("version"),
        "action": "failed" if result.get("failed") else "installed",
        "rc": rc,
        "success_exit_codes": codes,
        "accepted": None if rc is None else int(rc) in codes,
        "reboot_required": bool(result.get("reboot_required", False)),
        "message": str(result.get("msg") or ""),
        "log_tail": tail,
    }


# --------------------------------------------------------------------------
# The files
# --------------------------------------------------------------------------


def _result(build: Mapping[str, Any]) -> str:
    failure = build.get("failure")
    if failure:
        return f"failed at {failure.get('step') or 'an unnamed step'}: {failure.get('message') or 'no message'}"
    image = build.get("image") or {}
    state = image.get("state")
    if state == "AVAILABLE":
        return "AVAILABLE"
    return f"image {state}" if state else "no image"


def _cell(value: Any) -> str:
    # A table cell holds no line break, and a | of the value is escaped (GitHub-flavoured Markdown).
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(_cell(value) for value in row) + " |" for row in rows)
    return lines


def _summary(build: Mapping[str, Any], installs: list[Mapping[str, Any]], detected: set[str] | None) -> str:
    listed = build.get("list_applications") or {}
    create = build.get("create_image") or {}
    answer = create.get("answer") or {}
    lines = [
        f"# Image build {build.get('image_name')}",
        "",
        *_table(
            ["Build", ""],
            [
                ["Tenant", f"{build.get('tenant')} ({build.get('environment') or 'no environment'})"],
                ["Mode", build.get("mode")],
                ["Builder", build.get("builder")],
                ["Catalogue hash", build.get("catalogue_hash")],
                ["Started", build.get("started")],
                ["Finished", build.get("finished")],
                ["Result", _result(build)],
            ],
        ),
        "",
        "## Installs",
        "",
        *_table(
            ["Application", "Version", "Action", "Exit code", "Accepted codes", "Detected after"],
            [
                [
                    entry.get("key"),
                    entry.get("version"),
                    entry.get("action"),
                    entry.get("rc"),
                    ", ".join(str(code) for code in entry.get("success_exit_codes") or []),
                    "" if detected is None else ("yes" if entry.get("key") in detected else "no"),
                ]
                for entry in installs
            ],
        ),
        "",
        "## Registered applications",
        "",
        f"{listed.get('source') or 'not read'}: {listed.get('message') or ''}".rstrip(": "),
        "",
        *_table(
            ["Name", "Display name", "Path"],
            [
                [app.get("name"), app.get("display_name"), app.get("absolute_app_path")]
                for app in listed.get("applications") or []
            ],
        ),
        "",
        "## create-image",
        "",
        f"Answer: {answer.get('message') or ('unreachable' if answer.get('unreachable') else 'none')}",
        "",
        "## Files",
        "",
        "- `installs.json`: each application's action, exit code, accepted codes and log tail",
        "- `list-applications.json`: the applications registered with Image Assistant",
        "- `create-image.json`: the create-image request and answers, the image's state",
        "",
    ]
    return "\n".join(lines)


def image_build_report_files(build: Mapping[str, Any]) -> dict[str, str]:
    """The report files of one build, by file name.

    ``build`` holds ``tenant``, ``environment``, ``mode`` (winrm or sandbox_hook), ``builder``,
    ``image_name``, ``catalogue_hash``, ``started``, ``finished``, ``installs`` (entries),
    ``detected_after`` (keys found by the probe after the installs, or None),
    ``list_applications`` ({source, status, message, applications, answer}),
    ``create_image`` ({request, dry_run, answer}), ``image`` (its state, or None) and
    ``failure`` ({step, message}, or None).
    """
    if not isinstance(build, Mapping):
        raise AnsibleFilterError(f"image_build_report_files expects a mapping, got {build!r}")
    detected_after = build.get("detected_after")
    detected = None if detected_after is None else {str(key) for key in detected_after}
    installs = [
        {**entry, "detected_after_install": None if detected is None else entry.get("key") in detected}
        for entry in build.get("installs") or []
    ]
    header = {
        "tenant": build.get("tenant"),
        "mode": build.get("mode"),
        "builder": build.get("builder"),
        "image_name": build.get("image_name"),
    }
    create = build.get("create_image") or {}
    return {
        "installs.json": _json({**header, "applications": installs}),
        "list-applications.json": _json({**header, **(build.get("list_applications") or {"source": "not read"})}),
        "create-image.json": _json(
            {
                **header,
                "request": create.get("request"),
                "dry_run": create.get("dry_run"),
                "answer": create.get("answer"),
                "image": build.get("image"),
                "result": _result(build),
                "failure": build.get("failure"),
            }
        ),
        "summary.md": _summary(build, installs, detected),
    }


class FilterModule:
    """Image build report filters."""

    def filters(self) -> dict[str, Any]:
        return {
            "image_build_report_files": image_build_report_files,
            "image_build_install_entries": image_build_install_entries,
            "image_build_install_entry": image_build_install_entry,
        }
