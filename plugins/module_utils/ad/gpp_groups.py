# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Group Policy Preferences Local Users and Groups ([MS-GPPREF]): C(Machine/Preferences/Groups/Groups.xml)
items that add domain principals to a local group, rendered and parsed with stable item ids, and the
client-side extension that applies them.

[MS-GPPREF] 2.2.1.11.1 "Group Inner Element"
(https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-gppref/4b6788a7-c106-4e55-9cfc-1a52bb786e86):
a C(Group) item's C(Properties) carry C(action) (C/R/U/D, U "MUST update the settings defined within the
preference item; all other settings MUST remain as previously configured"), C(groupName), C(groupSid)
("MUST take precedence over the groupName"), C(deleteAllUsers), C(deleteAllGroups), C(removeAccounts)
and a C(Members) list of C(Member) elements (C(name), C(action) ADD or REMOVE, C(sid)). The element and
attribute names and the two clsids below are those of the example in [MS-GPPREF] 4.2.10 "Local Users and
Groups Example" (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-gppref/37722b69-41dd-4813-8bcd-7a1b4d44a13d).

C(removePolicy="1") on the item is the Common tab's "Remove this item when it is no longer applied": the
client keeps a history of what the item did and undoes it once the GPO no longer applies to the computer
(Microsoft KB 3060859, "Remove this item if it is no longer applied option behavior in Group Policy
preferences"; the history lives in C:\\ProgramData\\Microsoft\\Group Policy\\History).
"""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any
from xml.etree import ElementTree

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.gpp_drives import (
    TIMESTAMP_FORMAT,
    item_stamps,
    quoteattr,
    reused_stamp,
)

# [MS-GPPREF] 1.9 "Standards Assignments"
# (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-gppref/a00e597a-cd21-4a97-9277-f53fae251acf):
# Local users and groups: CSE {17D89FEC-5C44-4972-B12D-241CAEF74509}, tool extension
# {79F92669-4224-476c-9C5C-6EFB4D87DF4A}. GPMC also lists the tool under the null CSE GUID ([MS-GPOL]
# 1.8 allows a NULL GUID), exactly as for drive maps (gpp_drives.DRIVE_MAPS_EXTENSIONS, facts.md).
LOCAL_GROUPS_CSE = "{17D89FEC-5C44-4972-B12D-241CAEF74509}"
LOCAL_GROUPS_TOOL = "{79F92669-4224-476C-9C5C-6EFB4D87DF4A}"
LOCAL_GROUPS_EXTENSIONS = (
    f"[{{00000000-0000-0000-0000-000000000000}}{LOCAL_GROUPS_TOOL}][{LOCAL_GROUPS_CSE}{LOCAL_GROUPS_TOOL}]"
)

# [MS-GPPREF] 4.2.10: the clsids of the Groups collection and of a Group item.
GROUPS_CLSID = "{3125E937-EB16-4b4c-9934-544FC6D24D26}"
GROUP_CLSID = "{6D4A79E4-529C-4481-ABD0-F5BD7EA93BA7}"
# [MS-GPPREF] 2.2.1.11.1: action letters; the item's image follows it as for drive maps (C0 R1 U2 D3).
ACTIONS = {"update": "U"}
ACTION_IMAGES = {"C": 0, "R": 1, "U": 2, "D": 3}

# Well-known SID of the built-in Administrators group ([MS-DTYP] 2.4.2.4: S-1-5-32-544, BUILTIN_ADMINISTRATORS).
BUILTIN_ADMINISTRATORS = "S-1-5-32-544"
_SID = re.compile(r"S-1-\d+(-\d+)+", re.IGNORECASE)
_UID_NAMESPACE = uuid.UUID("0b6f0c8e-7c7d-4a43-9c35-6b9d3f2a51e4")


def group_uid(gpo_name: str, group_key: str) -> str:
    """A stable item id: the same GPO and local group always give the same uid."""
    return "{" + str(uuid.uuid5(_UID_NAMESPACE, f"{gpo_name.lower()}|{group_key.upper()}")).upper() + "}"


def normalise_group(item: dict[str, Any]) -> dict[str, Any]:
    """A local group item with every field explicit. Members are {name, sid} with resolved SIDs."""
    group_sid = str(item.get("group_sid") or "").upper()
    group_name = str(item.get("group") or "").strip()
    if group_sid and not _SID.fullmatch(group_sid):
        raise ValueError(f"local group {group_name or group_sid}: group_sid {group_sid!r} is not a SID")
    if not group_sid and not group_name:
        raise ValueError("a local group item needs group or group_sid")
    action = str(item.get("action") or "update").lower()
    if action not in ACTIONS:
        raise ValueError(f"local group {group_name or group_sid}: only action update is supported")
    members = []
    for member in item.get("members") or []:
        sid = str(member.get("sid") or "").upper()
        if not _SID.fullmatch(sid):
            raise ValueError(f"local group {group_name or group_sid}: member {member.get('name')!r} has no SID")
        members.append({"name": str(member.get("name") or sid), "sid": sid})
    members.sort(key=lambda member: member["sid"])
    return {
        "group": group_name or group_sid,
        "group_sid": group_sid or None,
        "action": action,
        "members": members,
        "remove_when_not_applied": bool(item.get("remove_when_not_applied", True)),
        "description": str(item.get("description") or ""),
    }


def _attributes(pairs: list[tuple[str, str]]) -> str:
    return " ".join(f"{key}={quoteattr(value)}" for key, value in pairs)


def _group_element(gpo_name: str, group: dict[str, Any], changed: str) -> str:
    action = ACTIONS[group["action"]]
    key = group["group_sid"] or group["group"]
    item = [
        ("clsid", GROUP_CLSID),
        ("name", group["group"]),
        ("image", str(ACTION_IMAGES[action])),
        ("changed", changed),
        ("uid", group_uid(gpo_name, key)),
    ]
    if group["remove_when_not_applied"]:
        item.append(("removePolicy", "1"))
    properties = [
        ("action", action),
        ("newName", ""),
        ("description", group["description"]),
        ("deleteAllUsers", "0"),
        ("deleteAllGroups", "0"),
        ("removeAccounts", "0"),
    ]
    if group["group_sid"]:
        properties.append(("groupSid", group["group_sid"]))
    properties.append(("groupName", group["group"]))
    members = "".join(
        f"<Member {_attributes([('name', member['name']), ('action', 'ADD'), ('sid', member['sid'])])}/>"
        for member in group["members"]
    )
    return (
        f"<Group {_attributes(item)}><Properties {_attributes(properties)}>"
        f"<Members>{members}</Members></Properties></Group>"
    )


def render_groups_xml(
    gpo_name: str, groups: list[dict[str, Any]], existing: str | None = None, now: datetime.datetime | None = None
) -> str:
    """Groups.xml for `groups`, reusing each unchanged item's `changed` stamp from `existing`.

    Deterministic, like Drives.xml: the same input and existing file give the same text.
    """
    stamps = item_stamps(existing, "Group")
    fresh = (now or datetime.datetime.now(datetime.UTC)).strftime(TIMESTAMP_FORMAT)
    normalised = [normalise_group(item) for item in groups]
    keys = [(group["group_sid"] or group["group"]).upper() for group in normalised]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"each local group may appear once, repeated: {', '.join(duplicates)}")
    elements = []
    for group in sorted(normalised, key=lambda item: (item["group_sid"] or item["group"]).upper()):
        blank = _group_element(gpo_name, group, "")
        changed = reused_stamp(stamps, group_uid(gpo_name, group["group_sid"] or group["group"]), blank, fresh)
        elements.append(_group_element(gpo_name, group, changed))
    header = f'<?xml version="1.0" encoding="utf-8"?>\r\n<Groups clsid="{GROUPS_CLSID}">'
    return header + "".join(elements) + "</Groups>\r\n"


def groups_from_xml(xml_text: str | None) -> list[dict[str, Any]]:
    """The local group items an existing Groups.xml holds, in the module's vocabulary (for diffs)."""
    if not xml_text or not xml_text.strip():
        return []
    try:
        # The GPO's own file on SYSVOL; expat refuses external entities and entity expansion bombs.
        root = ElementTree.fromstring(xml_text.lstrip("\ufeff").encode("utf-8"))  # noqa: S314
    except ElementTree.ParseError as exc:
        raise ValueError(f"the existing Groups.xml is not well-formed XML: {exc}") from exc
    actions = {value: key for key, value in ACTIONS.items()}
    groups = []
    for element in root.findall("Group"):
        props = element.find("Properties")
        attributes = props.attrib if props is not None else {}
        members = []
        for member in props.findall("Members/Member") if props is not None else []:
            entry = {"name": member.get("name", ""), "sid": (member.get("sid") or "").upper()}
            if (member.get("action") or "ADD").upper() != "ADD":
                entry["action"] = member.get("action")  # not written by this module: shown as found
            members.append(entry)
        groups.append(
            {
                "group": attributes.get("groupName", element.get("name", "")),
                "group_sid": (attributes.get("groupSid") or "").upper() or None,
                "action": actions.get(attributes.get("action", "U"), attributes.get("action", "U")),
                "members": members,
                "remove_when_not_applied": element.get("removePolicy") == "1",
                "description": attributes.get("description", ""),
            }
        )
    return groups
