# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows security descriptors: SIDs and GUIDs in their binary forms, ACEs, the self-relative binary
codec ([MS-DTYP] 2.4), SDDL rendering and parsing, and a trustee's explicit ACEs.
"""

from __future__ import annotations

import re
import struct
import uuid
from dataclasses import dataclass, field, replace

WELL_KNOWN_SIDS: dict[str, str] = {
    "WD": "S-1-1-0",  # Everyone
    "CO": "S-1-3-0",  # CREATOR OWNER
    "CG": "S-1-3-1",  # CREATOR GROUP
    "NU": "S-1-5-2",  # NETWORK
    "IU": "S-1-5-4",  # INTERACTIVE
    "AN": "S-1-5-7",  # ANONYMOUS LOGON
    "ED": "S-1-5-9",  # ENTERPRISE DOMAIN CONTROLLERS
    "PS": "S-1-5-10",  # PRINCIPAL SELF
    "AU": "S-1-5-11",  # Authenticated Users
    "SY": "S-1-5-18",  # SYSTEM
    "LS": "S-1-5-19",  # LOCAL SERVICE
    "NS": "S-1-5-20",  # NETWORK SERVICE
    "BA": "S-1-5-32-544",  # BUILTIN\Administrators
    "BU": "S-1-5-32-545",  # BUILTIN\Users
    "BG": "S-1-5-32-546",  # BUILTIN\Guests
    "PU": "S-1-5-32-547",  # Power Users
    "AO": "S-1-5-32-548",  # Account Operators
    "SO": "S-1-5-32-549",  # Server Operators
    "PO": "S-1-5-32-550",  # Print Operators
    "BO": "S-1-5-32-551",  # Backup Operators
    "RU": "S-1-5-32-554",  # Pre-Windows 2000 Compatible Access
}


DOMAIN_RID_ALIASES: dict[str, int] = {
    "LA": 500,  # Administrator
    "LG": 501,  # Guest
    "DA": 512,  # Domain Admins
    "DU": 513,  # Domain Users
    "DG": 514,  # Domain Guests
    "DC": 515,  # Domain Computers
    "DD": 516,  # Domain Controllers
    "CA": 517,  # Cert Publishers
    "SA": 518,  # Schema Admins
    "EA": 519,  # Enterprise Admins
    "PA": 520,  # Group Policy Creator Owners
    "RS": 553,  # RAS and IAS Servers
}


# Names an operator writes in a playbook for principals that need no directory lookup.
WELL_KNOWN_NAMES: dict[str, str] = {
    "everyone": "S-1-1-0",
    "creator owner": "S-1-3-0",
    "authenticated users": "S-1-5-11",
    "system": "S-1-5-18",
    "nt authority\\system": "S-1-5-18",
    "administrators": "S-1-5-32-544",
    "builtin\\administrators": "S-1-5-32-544",
    "users": "S-1-5-32-545",
    "builtin\\users": "S-1-5-32-545",
}


SID_PATTERN = re.compile(r"^S-1-\d+(-\d+)+$", re.IGNORECASE)


def sid_from_bytes(data: bytes) -> str:
    revision, count = data[0], data[1]
    authority = int.from_bytes(data[2:8], "big")
    subs = struct.unpack_from(f"<{count}I", data, 8)
    return "S-{}-{}".format(revision, "-".join(str(part) for part in (authority, *subs)))


def sid_to_bytes(sid: str) -> bytes:
    parts = sid.upper().split("-")
    if len(parts) < 3 or parts[0] != "S":
        raise ValueError(f"not a SID: {sid!r}")
    revision, authority, subs = int(parts[1]), int(parts[2]), [int(part) for part in parts[3:]]
    return bytes([revision, len(subs)]) + authority.to_bytes(6, "big") + struct.pack(f"<{len(subs)}I", *subs)


def guid_from_bytes(data: bytes) -> str:
    return str(uuid.UUID(bytes_le=bytes(data)))


def guid_to_bytes(guid: str) -> bytes:
    return uuid.UUID(guid.strip("{}")).bytes_le


ACCESS_ALLOWED = 0x00
ACCESS_DENIED = 0x01
SYSTEM_AUDIT = 0x02
ACCESS_ALLOWED_OBJECT = 0x05
ACCESS_DENIED_OBJECT = 0x06
SYSTEM_AUDIT_OBJECT = 0x07
OBJECT_ACE_TYPES = {ACCESS_ALLOWED_OBJECT, ACCESS_DENIED_OBJECT, SYSTEM_AUDIT_OBJECT}
BASIC_ACE_TYPES = {ACCESS_ALLOWED, ACCESS_DENIED, SYSTEM_AUDIT}
OBJECT_INHERIT = 0x01
CONTAINER_INHERIT = 0x02
NO_PROPAGATE_INHERIT = 0x04
INHERIT_ONLY = 0x08
INHERITED = 0x10
ACE_OBJECT_TYPE_PRESENT = 0x1
ACE_INHERITED_OBJECT_TYPE_PRESENT = 0x2
SE_DACL_PRESENT = 0x0004
SE_SACL_PRESENT = 0x0010
SE_DACL_AUTO_INHERIT_REQ = 0x0100
SE_DACL_AUTO_INHERITED = 0x0400
SE_DACL_PROTECTED = 0x1000
SE_SELF_RELATIVE = 0x8000


# LDAP_SERVER_SD_FLAGS_OID / SMB2 AdditionalInformation bits
OWNER_SECURITY_INFORMATION = 0x1
GROUP_SECURITY_INFORMATION = 0x2
DACL_SECURITY_INFORMATION = 0x4
PROTECTED_DACL_SECURITY_INFORMATION = 0x80000000
UNPROTECTED_DACL_SECURITY_INFORMATION = 0x20000000
ACE_TYPE_SDDL = {
    ACCESS_ALLOWED: "A",
    ACCESS_DENIED: "D",
    SYSTEM_AUDIT: "AU",
    ACCESS_ALLOWED_OBJECT: "OA",
    ACCESS_DENIED_OBJECT: "OD",
    SYSTEM_AUDIT_OBJECT: "OU",
}


ACE_FLAG_SDDL = [
    ("OI", OBJECT_INHERIT),
    ("CI", CONTAINER_INHERIT),
    ("NP", NO_PROPAGATE_INHERIT),
    ("IO", INHERIT_ONLY),
    ("ID", INHERITED),
    ("SA", 0x40),
    ("FA", 0x80),
]


# Directory-service rights, in the order Samba and Windows print them.
DS_RIGHTS_SDDL = [
    ("GA", 0x10000000),
    ("GR", 0x80000000),
    ("GW", 0x40000000),
    ("GX", 0x20000000),
    ("RP", 0x10),
    ("WP", 0x20),
    ("CR", 0x100),
    ("CC", 0x1),
    ("DC", 0x2),
    ("LC", 0x4),
    ("LO", 0x80),
    ("RC", 0x20000),
    ("WO", 0x80000),
    ("WD", 0x40000),
    ("SD", 0x10000),
    ("DT", 0x40),
    ("SW", 0x8),
]


FILE_RIGHTS_SDDL = {"FA": 0x1F01FF, "FR": 0x120089, "FW": 0x120116, "FX": 0x1200A0}


# File-system rights for folders (what Explorer's permission names mean).
FILE_RIGHTS: dict[str, int] = {
    "full_control": 0x001F01FF,
    "modify": 0x001301BF,
    "read_execute": 0x001200A9,
    "read": 0x00120089,
    "write": 0x00100116,
}


APPLIES_TO_FLAGS: dict[str, int] = {
    "this_folder_subfolders_files": OBJECT_INHERIT | CONTAINER_INHERIT,
    "this_folder_only": 0,
    "this_folder_subfolders": CONTAINER_INHERIT,
    "this_folder_files": OBJECT_INHERIT,
    "subfolders_files_only": OBJECT_INHERIT | CONTAINER_INHERIT | INHERIT_ONLY,
}


@dataclass(frozen=True)
class Ace:
    type: int
    flags: int
    mask: int
    sid: str
    object_type: str | None = None
    inherited_object_type: str | None = None
    raw: bytes | None = field(default=None, compare=False)  # ACE types this codec does not model

    @property
    def inherited(self) -> bool:
        return bool(self.flags & INHERITED)

    @property
    def is_deny(self) -> bool:
        return self.type in (ACCESS_DENIED, ACCESS_DENIED_OBJECT)


@dataclass
class SecurityDescriptor:
    owner: str | None = None
    group: str | None = None
    dacl: list[Ace] | None = None
    control: int = SE_SELF_RELATIVE
    sacl_raw: bytes | None = None  # kept verbatim, never interpreted

    @property
    def protected(self) -> bool:
        return bool(self.control & SE_DACL_PROTECTED)

    def explicit_aces(self) -> list[Ace]:
        return [ace for ace in self.dacl or [] if not ace.inherited]


def _parse_ace(data: bytes, offset: int) -> tuple[Ace, int]:
    ace_type, flags, size = struct.unpack_from("<BBH", data, offset)
    body = data[offset : offset + size]
    if ace_type in BASIC_ACE_TYPES:
        (mask,) = struct.unpack_from("<I", body, 4)
        return Ace(ace_type, flags, mask, sid_from_bytes(body[8:])), size
    if ace_type in OBJECT_ACE_TYPES:
        mask, present = struct.unpack_from("<II", body, 4)
        cursor = 12
        object_type = inherited_type = None
        if present & ACE_OBJECT_TYPE_PRESENT:
            object_type = guid_from_bytes(body[cursor : cursor + 16])
            cursor += 16
        if present & ACE_INHERITED_OBJECT_TYPE_PRESENT:
            inherited_type = guid_from_bytes(body[cursor : cursor + 16])
            cursor += 16
        return Ace(ace_type, flags, mask, sid_from_bytes(body[cursor:]), object_type, inherited_type), size
    (mask,) = struct.unpack_from("<I", body, 4) if size >= 8 else (0,)
    return Ace(ace_type, flags, mask, "", raw=bytes(body)), size


def _pack_ace(ace: Ace) -> bytes:
    if ace.raw is not None:
        return ace.raw
    sid = sid_to_bytes(ace.sid)
    if ace.type in OBJECT_ACE_TYPES:
        present = (ACE_OBJECT_TYPE_PRESENT if ace.object_type else 0) | (
            ACE_INHERITED_OBJECT_TYPE_PRESENT if ace.inherited_object_type else 0
        )
        body = struct.pack("<II", ace.mask, present)
        if ace.object_type:
            body += guid_to_bytes(ace.object_type)
        if ace.inherited_object_type:
            body += guid_to_bytes(ace.inherited_object_type)
        body += sid
    else:
        body = struct.pack("<I", ace.mask) + sid
    return struct.pack("<BBH", ace.type, ace.flags, 4 + len(body)) + body


def parse_acl(data: bytes, offset: int = 0) -> list[Ace]:
    _revision, _sbz, _size, count, _sbz2 = struct.unpack_from("<BBHHH", data, offset)
    cursor = offset + 8
    aces = []
    for _attempt in range(count):
        ace, size = _parse_ace(data, cursor)
        aces.append(ace)
        cursor += size
    return aces


def pack_acl(aces: list[Ace]) -> bytes:
    body = b"".join(_pack_ace(ace) for ace in aces)
    revision = 4 if any(ace.type in OBJECT_ACE_TYPES for ace in aces) else 2
    return struct.pack("<BBHHH", revision, 0, 8 + len(body), len(aces), 0) + body


def parse_security_descriptor(data: bytes) -> SecurityDescriptor:
    _revision, _sbz, control, owner_at, group_at, sacl_at, dacl_at = struct.unpack_from("<BBHIIII", data, 0)
    sd = SecurityDescriptor(control=control)
    if owner_at:
        sd.owner = sid_from_bytes(data[owner_at:])
    if group_at:
        sd.group = sid_from_bytes(data[group_at:])
    if dacl_at and control & SE_DACL_PRESENT:
        sd.dacl = parse_acl(data, dacl_at)
    if sacl_at and control & SE_SACL_PRESENT:
        (size,) = struct.unpack_from("<H", data, sacl_at + 2)
        sd.sacl_raw = bytes(data[sacl_at : sacl_at + size])
    return sd


def pack_security_descriptor(sd: SecurityDescriptor) -> bytes:
    """Self-relative form, laid out as Windows does: SACL, DACL, owner, group."""
    control = sd.control | SE_SELF_RELATIVE
    parts: list[bytes] = []
    cursor = 20
    sacl_at = dacl_at = owner_at = group_at = 0
    if sd.sacl_raw is not None:
        sacl_at, cursor = cursor, cursor + len(sd.sacl_raw)
        parts.append(sd.sacl_raw)
        control |= SE_SACL_PRESENT
    if sd.dacl is not None:
        acl = pack_acl(sd.dacl)
        dacl_at, cursor = cursor, cursor + len(acl)
        parts.append(acl)
        control |= SE_DACL_PRESENT
    else:
        control &= ~SE_DACL_PRESENT
    if sd.owner:
        owner = sid_to_bytes(sd.owner)
        owner_at, cursor = cursor, cursor + len(owner)
        parts.append(owner)
    if sd.group:
        group = sid_to_bytes(sd.group)
        group_at, cursor = cursor, cursor + len(group)
        parts.append(group)
    header = struct.pack("<BBHIIII", 1, 0, control, owner_at, group_at, sacl_at, dacl_at)
    return header + b"".join(parts)


def sid_to_sddl(sid: str, domain_sid: str | None = None) -> str:
    for alias, value in WELL_KNOWN_SIDS.items():
        if sid.upper() == value:
            return alias
    if domain_sid and sid.upper().startswith(domain_sid.upper() + "-"):
        rid = int(sid.rsplit("-", 1)[1])
        if sid.count("-") == domain_sid.count("-") + 1:
            for alias, value in DOMAIN_RID_ALIASES.items():
                if value == rid:
                    return alias
    return sid.upper()


def sid_from_sddl(text: str, domain_sid: str | None = None) -> str:
    text = text.strip()
    if text.upper() in WELL_KNOWN_SIDS:
        return WELL_KNOWN_SIDS[text.upper()]
    if text.upper() in DOMAIN_RID_ALIASES:
        if not domain_sid:
            raise ValueError(f"SID alias {text} needs the domain SID")
        return f"{domain_sid.upper()}-{DOMAIN_RID_ALIASES[text.upper()]}"
    if SID_PATTERN.match(text):
        return text.upper()
    raise ValueError(f"unknown SID or alias in SDDL: {text!r}")


def mask_to_sddl(mask: int) -> str:
    letters, rest = [], mask
    for alias, bit in DS_RIGHTS_SDDL:
        if rest & bit:
            letters.append(alias)
            rest &= ~bit
    if rest or mask == 0:
        return "" if mask == 0 else f"0x{mask:08x}"
    return "".join(letters)


def mask_from_sddl(text: str) -> int:
    if not text:
        return 0
    if text.lower().startswith("0x"):
        return int(text, 16)
    if text.isdigit():
        return int(text)
    mask = 0
    table = {**dict(DS_RIGHTS_SDDL), **FILE_RIGHTS_SDDL}
    for index in range(0, len(text), 2):
        alias = text[index : index + 2].upper()
        if alias not in table:
            raise ValueError(f"unknown access right in SDDL: {alias!r}")
        mask |= table[alias]
    return mask


def ace_to_sddl(ace: Ace, domain_sid: str | None = None) -> str:
    if ace.raw is not None:
        return f"(unsupported ACE type 0x{ace.type:02x})"
    kind = ACE_TYPE_SDDL[ace.type]
    flags = "".join(alias for alias, bit in ACE_FLAG_SDDL if ace.flags & bit)
    return "({};{};{};{};{};{})".format(
        kind,
        flags,
        mask_to_sddl(ace.mask),
        ace.object_type or "",
        ace.inherited_object_type or "",
        sid_to_sddl(ace.sid, domain_sid),
    )


def ace_from_sddl(text: str, domain_sid: str | None = None) -> Ace:
    fields = text.strip().strip("()").split(";")
    if len(fields) != 6:
        raise ValueError(f"an ACE has six fields: {text!r}")
    kind, flags_text, rights, object_type, inherited_type, trustee = fields
    types = {alias: value for value, alias in ACE_TYPE_SDDL.items()}
    if kind.upper() not in types:
        raise ValueError(f"unknown ACE type in SDDL: {kind!r}")
    flags = 0
    for index in range(0, len(flags_text), 2):
        alias = flags_text[index : index + 2].upper()
        bits = dict(ACE_FLAG_SDDL)
        if alias not in bits:
            raise ValueError(f"unknown ACE flag in SDDL: {alias!r}")
        flags |= bits[alias]
    return Ace(
        types[kind.upper()],
        flags,
        mask_from_sddl(rights),
        sid_from_sddl(trustee, domain_sid),
        object_type.lower() or None,
        inherited_type.lower() or None,
    )


def _control_to_sddl(control: int) -> str:
    return (
        ("P" if control & SE_DACL_PROTECTED else "")
        + ("AR" if control & SE_DACL_AUTO_INHERIT_REQ else "")
        + ("AI" if control & SE_DACL_AUTO_INHERITED else "")
    )


def sd_to_sddl(sd: SecurityDescriptor, domain_sid: str | None = None) -> str:
    text = ""
    if sd.owner:
        text += "O:" + sid_to_sddl(sd.owner, domain_sid)
    if sd.group:
        text += "G:" + sid_to_sddl(sd.group, domain_sid)
    if sd.dacl is not None:
        text += "D:" + _control_to_sddl(sd.control) + "".join(ace_to_sddl(ace, domain_sid) for ace in sd.dacl)
    return text


def sd_from_sddl(text: str, domain_sid: str | None = None) -> SecurityDescriptor:
    sd = SecurityDescriptor()
    for tag, value in re.findall(r"([OGDS]):((?:\([^)]*\)|[^:()])*?)(?=[OGDS]:|$)", text.strip()):
        if tag == "O":
            sd.owner = sid_from_sddl(value, domain_sid)
        elif tag == "G":
            sd.group = sid_from_sddl(value, domain_sid)
        elif tag == "D":
            head = value.split("(", 1)[0]
            if "P" in head.replace("AR", "").replace("AI", ""):
                sd.control |= SE_DACL_PROTECTED
            if "AI" in head:
                sd.control |= SE_DACL_AUTO_INHERITED
            if "AR" in head:
                sd.control |= SE_DACL_AUTO_INHERIT_REQ
            sd.dacl = [ace_from_sddl(item, domain_sid) for item in re.findall(r"\([^)]*\)", value)]
            sd.control |= SE_DACL_PRESENT
    return sd


def explicit_aces_of(sd: SecurityDescriptor, sid: str) -> list[Ace]:
    return [ace for ace in sd.explicit_aces() if ace.sid.upper() == sid.upper()]


def set_explicit_aces_of(sd: SecurityDescriptor, sid: str, wanted: list[Ace]) -> tuple[SecurityDescriptor, bool]:
    """Make the trustee's explicit ACEs exactly `wanted`; other trustees' ACEs are untouched.

    Kept ACEs keep their position; new ones go in canonical order (explicit deny, explicit
    allow, then inherited), so a Windows ACL editor shows the result without a warning.
    """
    current = sd.dacl or []
    keep = [ace for ace in current if ace.inherited or ace.sid.upper() != sid.upper() or ace in wanted]
    missing = [ace for ace in wanted if ace not in keep]
    result = list(keep)
    for ace in missing:
        if ace.is_deny:
            position = next((i for i, item in enumerate(result) if not item.is_deny or item.inherited), len(result))
        else:
            position = next((i for i, item in enumerate(result) if item.inherited), len(result))
        result.insert(position, ace)
    changed = result != current
    return replace(sd, dacl=result), changed


def folder_ace(
    sid: str, rights: str | int, applies_to: str = "this_folder_subfolders_files", deny: bool = False
) -> Ace:
    mask = rights if isinstance(rights, int) else FILE_RIGHTS[rights]
    return Ace(ACCESS_DENIED if deny else ACCESS_ALLOWED, APPLIES_TO_FLAGS[applies_to], mask, sid.upper())


def canonical_aces(aces: list[Ace]) -> list[Ace]:
    """Explicit deny before explicit allow before inherited; stable otherwise."""
    return sorted(aces, key=lambda ace: (ace.inherited, not ace.is_deny))
