# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Group Policy objects: GPT.INI versions ([MS-GPOL]), gPLink parsing and merging, client-side extension
names, and the SYSVOL folder's ACL derived from the AD object's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.security_descriptor import (
    ACCESS_ALLOWED,
    ACCESS_ALLOWED_OBJECT,
    CONTAINER_INHERIT,
    INHERIT_ONLY,
    OBJECT_INHERIT,
    WELL_KNOWN_SIDS,
    SecurityDescriptor,
)


def ldap_mask_to_file_mask(mask: int) -> int:
    """Samba's ldapmask2filemask: the file rights a GPO folder gets for a DS ACE's rights."""
    file_mask = mask & 0x001F0000
    if mask & 0x10 and mask & 0x4:  # read property + list contents
        file_mask |= 0x00100000 | 0x0001 | 0x0080 | 0x0008 | 0x0020
    if mask & 0x20:  # write property
        file_mask |= 0x00100000 | 0x0002 | 0x0004 | 0x0010 | 0x0100
    if mask & 0x1:  # create child
        file_mask |= 0x0004 | 0x0002
    if mask & 0x2:  # delete child
        file_mask |= 0x0040
    return file_mask


def gpo_folder_sd(ds_sd: SecurityDescriptor) -> SecurityDescriptor:
    """The SYSVOL folder ACL of a GPO from its AD object's ACL (Samba's dsacl2fsacl).

    `samba-tool gpo create` writes this ACL and `samba-tool gpo aclcheck` expects it, so a
    GPO made here is indistinguishable from one Samba's tools made.
    """
    aces = []
    for ace in ds_sd.dacl or []:
        if ace.type not in (ACCESS_ALLOWED, ACCESS_ALLOWED_OBJECT) or ace.sid == WELL_KNOWN_SIDS["RU"]:
            continue
        flags = ace.flags | OBJECT_INHERIT | CONTAINER_INHERIT
        if ace.sid == WELL_KNOWN_SIDS["CO"]:
            flags |= INHERIT_ONLY
        aces.append(replace(ace, flags=flags, mask=ldap_mask_to_file_mask(ace.mask)))
    return SecurityDescriptor(owner=ds_sd.owner, group=ds_sd.group, dacl=aces, control=ds_sd.control)


_VERSION_LINE = re.compile(r"^([ \t]*Version[ \t]*=[ \t]*)(-?\d+)(?=[ \t]*\r?$)", re.IGNORECASE | re.MULTILINE)


def gpt_version(text: str) -> int:
    found = _VERSION_LINE.search(text or "")
    return int(found.group(2)) & 0xFFFFFFFF if found else 0


def with_gpt_version(text: str, version: int) -> str:
    """GPT.INI with `Version=` set, other lines kept; a fresh file when `text` is empty."""
    if not text or not text.strip():
        return f"[General]\r\nVersion={version}\r\n"
    if _VERSION_LINE.search(text):
        return _VERSION_LINE.sub(lambda match: f"{match.group(1)}{version}", text, count=1)
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    for index, line in enumerate(lines):
        if line.strip().lower() == "[general]":
            lines.insert(index + 1, f"Version={version}")
            return newline.join(lines)
    return text.rstrip(newline) + f"{newline}[General]{newline}Version={version}{newline}"


def bump_user_version(version: int) -> int:
    """+1 on the user side (upper 16 bits) of a GPO version, machine side untouched ([MS-GPOL])."""
    user, machine = (version >> 16) & 0xFFFF, version & 0xFFFF
    return ((((user + 1) & 0xFFFF) or 1) << 16) | machine  # [MS-GPOL] 3.3.4.5: never wraps to 0


def bump_machine_version(version: int) -> int:
    """+1 on the computer side (lower 16 bits) of a GPO version, user side untouched.

    [MS-GPOL] 3.3.5.4 "GPO File System Version Update" (ms-gpol/59bb540a-64f4-4c52-9c55-5ca2fd2c0270):
    "For computer policy mode, increment the lower 16-bit version" of GPT.INI's C(Version); 3.3.4.5
    "Version Number Update" (ms-gpol/70fd86b1-926a-4dcf-9ce7-6f9d2149c20d) does the same to the
    C(versionNumber) attribute, and "if, after the increment, the ... machine GPO version is 0, the value
    MUST be set to 1".
    """
    user, machine = (version >> 16) & 0xFFFF, version & 0xFFFF
    return (user << 16) | (((machine + 1) & 0xFFFF) or 1)


def split_version(version: int) -> dict[str, int]:
    return {"user": (version >> 16) & 0xFFFF, "machine": version & 0xFFFF}


GPLINK_DISABLED = 1
GPLINK_ENFORCED = 2
_GPLINK_ENTRY = re.compile(r"\[LDAP://([^;\]]+);(\d+)\]", re.IGNORECASE)


@dataclass(frozen=True)
class GpLink:
    dn: str
    options: int = 0

    @property
    def guid(self) -> str:
        found = re.search(r"\{[0-9A-Fa-f-]{36}\}", self.dn)
        return found.group(0).upper() if found else self.dn.upper()

    @property
    def enabled(self) -> bool:
        return not self.options & GPLINK_DISABLED

    @property
    def enforced(self) -> bool:
        return bool(self.options & GPLINK_ENFORCED)


def parse_gplink(value: str | None) -> list[GpLink]:
    """Links in precedence order: link order 1 first.

    The attribute lists them the other way round: its last entry has link order 1 (what
    GPMC shows as 1 and what applies last, winning conflicts).
    """
    if not value or not value.strip():
        return []
    entries = _GPLINK_ENTRY.findall(value)
    if _GPLINK_ENTRY.sub("", value).strip():
        raise ValueError(f"badly formed gPLink: {value!r}")
    return [GpLink(dn, int(options)) for dn, options in reversed(entries)]


def render_gplink(links: list[GpLink]) -> str:
    """The attribute value for links given in precedence order (link order 1 first)."""
    return "".join(f"[LDAP://{link.dn};{link.options}]" for link in reversed(links))


def merge_gplink(
    links: list[GpLink], gpo_dn: str, enabled: bool = True, enforced: bool = False, order: int | None = None
) -> list[GpLink]:
    """Ensure one link to `gpo_dn` with these options; other links keep their options and relative order.

    `order` is the 1-based link order (1 = highest precedence); None keeps the link where it is,
    or adds a new one last (lowest precedence), as GPMC does.
    """
    guid = GpLink(gpo_dn).guid
    options = (0 if enabled else GPLINK_DISABLED) | (GPLINK_ENFORCED if enforced else 0)
    position = next((index for index, link in enumerate(links) if link.guid == guid), None)
    others = [link for link in links if link.guid != guid]
    existing_dn = links[position].dn if position is not None else gpo_dn
    wanted = GpLink(existing_dn, options)
    if order is None:
        index = position if position is not None else len(others)
    else:
        index = max(0, min(order - 1, len(others)))
    return [*others[:index], wanted, *others[index:]]


def remove_gplink(links: list[GpLink], gpo_guid: str) -> list[GpLink]:
    guid = gpo_guid.upper() if gpo_guid.startswith("{") else "{" + gpo_guid.upper() + "}"
    return [link for link in links if link.guid != guid]


def parse_extension_names(value: str | None) -> dict[str, list[str]]:
    """{CSE GUID: [tool GUIDs]} from a gPC*ExtensionNames value."""
    result: dict[str, list[str]] = {}
    for group in re.findall(r"\[([^\]]*)\]", value or ""):
        guids = [guid.upper() for guid in re.findall(r"\{[0-9A-Fa-f-]{36}\}", group)]
        if guids:
            result.setdefault(guids[0], [])
            result[guids[0]] = sorted(set(result[guids[0]]) | set(guids[1:]))
    return result


def render_extension_names(extensions: dict[str, list[str]]) -> str:
    # Clients expect the groups sorted by CSE GUID and the tools sorted inside each group.
    return "".join("[" + cse + "".join(sorted(tools)) + "]" for cse, tools in sorted(extensions.items()) if tools)


def merge_extension_names(value: str | None, required: str, present: bool = True) -> str:
    """Add (or with present=False remove) the tool GUIDs of `required` in `value`; others stay."""
    current = parse_extension_names(value)
    for cse, tools in parse_extension_names(required).items():
        existing = set(current.get(cse, []))
        current[cse] = sorted(existing | set(tools)) if present else sorted(existing - set(tools))
    return render_extension_names(current)
