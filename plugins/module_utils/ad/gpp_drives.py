# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Group Policy Preferences drive maps: [MS-GPPREF] 2.2.1.4 Drives.xml rendering and parsing with stable
item ids, and the client-side extension that applies them.
"""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

DRIVE_MAPS_EXTENSIONS = (
    "[{00000000-0000-0000-0000-000000000000}{2EA1A81B-48E5-45E9-8BB7-A6E3AC170006}]"
    "[{5794DAFD-BE60-433F-88A2-1A31939AC01F}{2EA1A81B-48E5-45E9-8BB7-A6E3AC170006}]"
)


DRIVES_CLSID = "{8FDDCC1A-0C3C-43cd-A6B4-71A6DF20DA8C}"
DRIVE_CLSID = "{935D1B74-9CB8-4e3c-9914-7DD559B7A417}"
DRIVE_ACTIONS = {"create": "C", "replace": "R", "update": "U", "delete": "D"}
ACTION_IMAGES = {"C": 0, "R": 1, "U": 2, "D": 3}
SHOW_CHOICES = {"nochange": "NOCHANGE", "show": "SHOW", "hide": "HIDE"}
_UID_NAMESPACE = uuid.UUID("6f1e3a4c-2b7d-4a53-9a59-6a1c1f0c2d10")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def drive_uid(gpo_name: str, letter: str) -> str:
    """A stable item id: the same GPO and letter always give the same uid, so reruns rewrite nothing."""
    return "{" + str(uuid.uuid5(_UID_NAMESPACE, f"{gpo_name.lower()}|{letter.upper()}")).upper() + "}"


def normalise_drive(drive: dict[str, Any]) -> dict[str, Any]:
    """A drive map with every field explicit, in the vocabulary the module documents."""
    letter = str(drive["letter"]).strip().rstrip(":").upper()
    if not re.fullmatch(r"[A-Z]", letter):
        raise ValueError(f"drive letter must be one letter A-Z, got {drive['letter']!r}")
    action = str(drive.get("action") or "update").lower()
    if action not in DRIVE_ACTIONS:
        action = {value.lower(): key for key, value in DRIVE_ACTIONS.items()}.get(action, action)
    if action not in DRIVE_ACTIONS:
        raise ValueError(f"drive {letter}: action must be one of {sorted(DRIVE_ACTIONS)}")
    path = str(drive.get("path") or "")
    if action != "delete" and not path.startswith("\\\\"):
        raise ValueError(f"drive {letter}: path must be a UNC path (\\\\server\\share\\...), got {path!r}")
    return {
        "letter": letter,
        "path": path,
        "label": str(drive.get("label") or ""),
        "action": action,
        "reconnect": bool(drive.get("reconnect", True)),
        "this_drive": str(drive.get("this_drive") or "nochange").lower(),
        "all_drives": str(drive.get("all_drives") or "nochange").lower(),
        "group_sid": (drive.get("group_sid") or None),
        "group_name": (drive.get("group_name") or drive.get("group") or None),
    }


def quoteattr(value: str) -> str:
    """An XML attribute value, always double-quoted (saxutils.quoteattr switches to single quotes)."""
    return '"' + escape(value, {'"': "&quot;"}) + '"'


def _drive_element(gpo_name: str, drive: dict[str, Any], changed: str) -> str:
    action = DRIVE_ACTIONS[drive["action"]]
    name = f"{drive['letter']}:"
    attributes = " ".join(
        f"{key}={quoteattr(value)}"
        for key, value in [
            ("clsid", DRIVE_CLSID),
            ("name", name),
            ("status", name),
            ("image", str(ACTION_IMAGES[action])),
            ("changed", changed),
            ("uid", drive_uid(gpo_name, drive["letter"])),
            ("bypassErrors", "1"),
        ]
    )
    properties = " ".join(
        f"{key}={quoteattr(value)}"
        for key, value in [
            ("action", action),
            ("thisDrive", SHOW_CHOICES[drive["this_drive"]]),
            ("allDrives", SHOW_CHOICES[drive["all_drives"]]),
            ("userName", ""),
            ("path", drive["path"]),
            ("label", drive["label"]),
            ("persistent", "1" if drive["reconnect"] else "0"),
            ("useLetter", "1"),
            ("letter", drive["letter"]),
        ]
    )
    filters = ""
    if drive.get("group_sid"):
        group = " ".join(
            f"{key}={quoteattr(value)}"
            for key, value in [
                ("bool", "AND"),
                ("not", "0"),
                ("name", drive.get("group_name") or drive["group_sid"]),
                ("sid", drive["group_sid"]),
                ("userContext", "1"),
                ("primaryGroup", "0"),
                ("localGroup", "0"),
            ]
        )
        filters = f"<Filters><FilterGroup {group}/></Filters>"
    return f"<Drive {attributes}><Properties {properties}/>{filters}</Drive>"


def item_stamps(xml_text: str | None, tag: str) -> dict[str, tuple[str, str]]:
    """{uid: (changed stamp, element text with the stamp blanked)} of the `tag` items (C(Drive),
    C(Group)) of an existing Group Policy Preferences file (Drives.xml, Groups.xml)."""
    stamps: dict[str, tuple[str, str]] = {}
    for element in re.findall(rf"<{re.escape(tag)}\s.*?</{re.escape(tag)}>", xml_text or "", re.DOTALL):
        uid = re.search(r'\suid="([^"]*)"', element)
        changed = re.search(r'\schanged="([^"]*)"', element)
        if uid and changed:
            stamps[uid.group(1).upper()] = (changed.group(1), element.replace(changed.group(0), ' changed=""'))
    return stamps


def reused_stamp(stamps: dict[str, tuple[str, str]], uid: str, blank: str, fresh: str) -> str:
    """The item's previous `changed` stamp when the item (`blank`: rendered with an empty stamp) is the
    same as before, else `fresh`: an unchanged item keeps its bytes, so an unchanged file is not rewritten."""
    previous = stamps.get(uid.upper())
    return previous[0] if previous and previous[1] == blank else fresh


def render_drives_xml(
    gpo_name: str, drives: list[dict[str, Any]], existing: str | None = None, now: datetime.datetime | None = None
) -> str:
    """Drives.xml for `drives`, reusing each unchanged item's `changed` stamp from `existing`.

    Deterministic: the same input and existing file give the same bytes, so an unchanged
    configuration is recognised by comparing text and nothing is rewritten.
    """
    stamps = item_stamps(existing, "Drive")
    fresh = (now or datetime.datetime.now(datetime.UTC)).strftime(TIMESTAMP_FORMAT)
    elements = []
    for drive in sorted((normalise_drive(item) for item in drives), key=lambda item: item["letter"]):
        blank = _drive_element(gpo_name, drive, "")
        changed = reused_stamp(stamps, drive_uid(gpo_name, drive["letter"]), blank, fresh)
        elements.append(_drive_element(gpo_name, drive, changed))
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\r\n<Drives clsid="{DRIVES_CLSID}">'
        + "".join(elements)
        + "</Drives>\r\n"
    )


def drives_from_xml(xml_text: str | None) -> list[dict[str, Any]]:
    """The drive maps an existing Drives.xml holds, in the module's vocabulary (for diffs)."""
    if not xml_text or not xml_text.strip():
        return []
    try:
        # The GPO's own file on SYSVOL; expat refuses external entities and entity expansion bombs.
        root = ElementTree.fromstring(xml_text.lstrip("\ufeff").encode("utf-8"))  # noqa: S314
    except ElementTree.ParseError as exc:
        raise ValueError(f"the existing Drives.xml is not well-formed XML: {exc}") from exc
    actions = {value: key for key, value in DRIVE_ACTIONS.items()}
    shows = {value: key for key, value in SHOW_CHOICES.items()}
    drives = []
    for element in root.findall("Drive"):
        props = element.find("Properties")
        attributes = props.attrib if props is not None else {}
        drive: dict[str, Any] = {
            "letter": attributes.get("letter", ""),
            "path": attributes.get("path", ""),
            "label": attributes.get("label", ""),
            "action": actions.get(attributes.get("action", "U"), "update"),
            "reconnect": attributes.get("persistent", "0") == "1",
            "this_drive": shows.get(attributes.get("thisDrive", "NOCHANGE"), "nochange"),
            "all_drives": shows.get(attributes.get("allDrives", "NOCHANGE"), "nochange"),
        }
        group = element.find("Filters/FilterGroup")
        if group is not None and group.get("sid"):
            drive["group_sid"] = group.get("sid")
            drive["group_name"] = group.get("name", "")
        drives.append(drive)
    return drives
