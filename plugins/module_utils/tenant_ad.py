# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Active Directory helpers shared by ad_object, gpo_drive_maps and smb_folders.

Pure parts (unit-tested without a DC):
- SIDs and GUIDs in their binary AD forms;
- security descriptors: a self-relative binary codec, SDDL rendering and parsing, the
  comparison of a trustee's explicit ACEs, and Samba's DS-to-file ACL mapping for GPO folders;
- Group Policy files: GPT.INI versions, gPLink parsing and merging, gPCUserExtensionNames,
  and [MS-GPPREF] Drives.xml rendering with stable item ids.

Clients (LDAP over TLS through ldap3, SMB through smbprotocol) with the connection options
every AD module takes, and errors that say what went wrong: the DC cannot be reached, the
certificate is not trusted, the credentials are wrong, or the account lacks a right.
"""

from __future__ import annotations

import datetime
import errno
import ipaddress
import re
import ssl
import struct
import uuid
import warnings
from dataclasses import dataclass, field, replace
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

# -- connection options --------------------------------------------------------------------------


def ad_argument_spec() -> dict[str, Any]:
    """Options of every module that talks LDAP to a domain controller."""
    return dict(
        server=dict(type="str", required=True),
        port=dict(type="int", default=636),
        username=dict(type="str", required=True),
        password=dict(type="str", required=True, no_log=True),
        domain=dict(type="str"),
        ca_file=dict(type="path"),
        validate_certs=dict(type="bool", default=True),
        connect_timeout=dict(type="int", default=10),
    )


class AdError(Exception):
    """A failure with a message meant for the operator (kind: unreachable, tls, credentials, rights, ...)."""

    def __init__(self, message: str, kind: str = "error", result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.result = result or {}


# -- SIDs and GUIDs -----------------------------------------------------------------------------------
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


def sid_length(data: bytes, offset: int = 0) -> int:
    return 8 + 4 * data[offset + 1]


def guid_from_bytes(data: bytes) -> str:
    return str(uuid.UUID(bytes_le=bytes(data)))


def guid_to_bytes(guid: str) -> bytes:
    return uuid.UUID(guid.strip("{}")).bytes_le


# -- ACEs and security descriptors -------------------------------------------------------------------
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

SE_OWNER_DEFAULTED = 0x0001
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


# -- SDDL ----------------------------------------------------------------------------------------------
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


# -- comparing and merging ACEs -------------------------------------------------------------------------
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


# -- delegations on OUs (DS rights) --------------------------------------------------------------------
COMPUTER_CLASS = "bf967a86-0de6-11d0-a285-00aa003049e2"
USER_CHANGE_PASSWORD = "ab721a53-1e2f-11d0-9819-00aa0040529b"  # noqa: S105 - a right's GUID
USER_FORCE_CHANGE_PASSWORD = "00299570-246d-11d0-a768-00aa006e0529"  # noqa: S105 - a right's GUID
DESCRIPTION_ATTRIBUTE = "bf967950-0de6-11d0-a285-00aa003049e2"
GROUP_POLICY_CONTAINER_CLASS = "f30e3bc2-9ff0-11d1-b603-0000f80367c1"

# Each right is the ACE the Delegation of Control wizard writes for it (CI: this OU and below;
# CI+IO with the computer class as inherited object type: computer objects below the OU).
DELEGATION_RIGHTS: dict[str, tuple[int, int, int, str | None, str | None]] = {
    "create_computer": (ACCESS_ALLOWED_OBJECT, CONTAINER_INHERIT, 0x1, COMPUTER_CLASS, None),
    "delete_computer": (ACCESS_ALLOWED_OBJECT, CONTAINER_INHERIT, 0x2, COMPUTER_CLASS, None),
    "change_password": (
        ACCESS_ALLOWED_OBJECT,
        CONTAINER_INHERIT | INHERIT_ONLY,
        0x100,
        USER_CHANGE_PASSWORD,
        COMPUTER_CLASS,
    ),
    "reset_password": (
        ACCESS_ALLOWED_OBJECT,
        CONTAINER_INHERIT | INHERIT_ONLY,
        0x100,
        USER_FORCE_CHANGE_PASSWORD,
        COMPUTER_CLASS,
    ),
    "write_description": (
        ACCESS_ALLOWED_OBJECT,
        CONTAINER_INHERIT | INHERIT_ONLY,
        0x20,
        DESCRIPTION_ATTRIBUTE,
        COMPUTER_CLASS,
    ),
    "full_control": (ACCESS_ALLOWED, CONTAINER_INHERIT, 0x000F01FF, None, None),
}
APPSTREAM_RIGHTS = ["create_computer", "change_password", "reset_password", "write_description"]


def delegation_aces(sid: str, rights: list[str]) -> list[Ace]:
    aces = []
    for right in rights:
        ace_type, flags, mask, object_type, inherited_type = DELEGATION_RIGHTS[right]
        aces.append(Ace(ace_type, flags, mask, sid.upper(), object_type, inherited_type))
    return aces


def folder_ace(
    sid: str, rights: str | int, applies_to: str = "this_folder_subfolders_files", deny: bool = False
) -> Ace:
    mask = rights if isinstance(rights, int) else FILE_RIGHTS[rights]
    return Ace(ACCESS_DENIED if deny else ACCESS_ALLOWED, APPLIES_TO_FLAGS[applies_to], mask, sid.upper())


def canonical_aces(aces: list[Ace]) -> list[Ace]:
    """Explicit deny before explicit allow before inherited; stable otherwise."""
    return sorted(aces, key=lambda ace: (ace.inherited, not ace.is_deny))


# -- GPT.INI and versions -------------------------------------------------------------------------------
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
    return (((user + 1) & 0xFFFF) << 16) | machine


def split_version(version: int) -> dict[str, int]:
    return {"user": (version >> 16) & 0xFFFF, "machine": version & 0xFFFF}


# -- gPLink -----------------------------------------------------------------------------------------------
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


# -- gPCUserExtensionNames --------------------------------------------------------------------------------
DRIVE_MAPS_EXTENSIONS = (
    "[{00000000-0000-0000-0000-000000000000}{2EA1A81B-48E5-45E9-8BB7-A6E3AC170006}]"
    "[{5794DAFD-BE60-433F-88A2-1A31939AC01F}{2EA1A81B-48E5-45E9-8BB7-A6E3AC170006}]"
)


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


# -- Drives.xml ([MS-GPPREF] 2.2.1.4) -----------------------------------------------------------------------
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


def parse_drive_stamps(xml_text: str | None) -> dict[str, tuple[str, str]]:
    """{uid: (changed stamp, element text with the stamp blanked)} of an existing Drives.xml."""
    stamps: dict[str, tuple[str, str]] = {}
    for element in re.findall(r"<Drive\s.*?</Drive>", xml_text or "", re.DOTALL):
        uid = re.search(r'\suid="([^"]*)"', element)
        changed = re.search(r'\schanged="([^"]*)"', element)
        if uid and changed:
            stamps[uid.group(1).upper()] = (changed.group(1), element.replace(changed.group(0), ' changed=""'))
    return stamps


def render_drives_xml(
    gpo_name: str, drives: list[dict[str, Any]], existing: str | None = None, now: datetime.datetime | None = None
) -> str:
    """Drives.xml for `drives`, reusing each unchanged item's `changed` stamp from `existing`.

    Deterministic: the same input and existing file give the same bytes, so an unchanged
    configuration is recognised by comparing text and nothing is rewritten.
    """
    stamps = parse_drive_stamps(existing)
    fresh = (now or datetime.datetime.now(datetime.UTC)).strftime(TIMESTAMP_FORMAT)
    elements = []
    for drive in sorted((normalise_drive(item) for item in drives), key=lambda item: item["letter"]):
        blank = _drive_element(gpo_name, drive, "")
        previous = stamps.get(drive_uid(gpo_name, drive["letter"]).upper())
        changed = previous[0] if previous and previous[1] == blank else fresh
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


# -- names and DNs -------------------------------------------------------------------------------------
def domain_to_dn(domain: str) -> str:
    return ",".join(f"DC={part}" for part in domain.strip(".").split("."))


def dn_to_domain(dn: str) -> str:
    return ".".join(value for key, value in (part.split("=", 1) for part in split_dn(dn)) if key.upper() == "DC")


def split_dn(dn: str) -> list[str]:
    """RDNs of a DN, honouring escaped commas."""
    return [part.strip() for part in re.split(r"(?<!\\),", dn) if part.strip()]


def normalise_dn(dn: str) -> str:
    parts = []
    for part in split_dn(dn):
        key, _separator, value = part.partition("=")
        parts.append(f"{key.strip().upper()}={value.strip()}")
    return ",".join(parts)


def same_dn(left: str, right: str) -> bool:
    return normalise_dn(left).lower() == normalise_dn(right).lower()


def escape_rdn(value: str) -> str:
    escaped = re.sub(r'([,+"\\<>;=])', r"\\\1", value)
    if escaped.startswith((" ", "#")):
        escaped = "\\" + escaped
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return escaped


def escape_filter(value: str) -> str:
    return "".join(f"\\{ord(char):02x}" if char in "*()\\\0" else char for char in value)


def _missing(exc: BaseException) -> bool:
    """smbprotocol reports a missing file as an OSError with errno ENOENT (SMBOSError), not FileNotFoundError."""
    return (
        getattr(exc, "errno", None) == errno.ENOENT
        or "STATUS_OBJECT_NAME_NOT_FOUND" in str(exc)
        or "STATUS_OBJECT_PATH_NOT_FOUND" in str(exc)
    )


def certificate_names(certificate: dict[str, Any]) -> list[str]:
    names = [value for kind, value in certificate.get("subjectAltName", ()) if kind in ("DNS", "IP Address")]
    for rdn in certificate.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                names.append(value)
    return names


def certificate_matches(certificate: dict[str, Any], server: str, domain: str | None) -> bool:
    """The name check behind validate_certs.

    Connecting by name: the certificate must name that host (wildcards allowed). Connecting by
    IP address (DnsIpAddrs): it must name that address, or a host of the directory's domain,
    since a DC certificate names the DC's FQDN, not an address clients cannot know in advance.
    """
    names = [name.lower().rstrip(".") for name in certificate_names(certificate)]
    target = server.lower().rstrip(".")
    if target in names:
        return True
    for name in names:
        if name.startswith("*.") and "." in target and target.split(".", 1)[1] == name[2:]:
            return True
    try:
        ipaddress.ip_address(target)
    except ValueError:
        return False
    suffix = "." + (domain or "").lower().strip(".")
    return bool(domain) and any(name.endswith(suffix) and not name.startswith("*") for name in names)


# -- LDAP client ------------------------------------------------------------------------------------------
class Directory:
    """An LDAPS connection to a DC with what the modules need on top of ldap3."""

    def __init__(self, params: dict[str, Any]) -> None:
        try:
            import ldap3  # noqa: F401
        except ImportError as exc:
            raise AdError(
                "the ldap3 Python library is required on the controller (pip install ldap3)", "missing_library"
            ) from exc
        self.params = params
        self.server_name = params["server"]
        self.conn = self._connect(params["username"], params["password"])
        root = self.conn.server.info
        naming = None
        if root is not None and root.other.get("defaultNamingContext"):
            naming = root.other["defaultNamingContext"][0]
        if not naming:
            self.conn.search("", "(objectClass=*)", search_scope="BASE", attributes=["defaultNamingContext"])
            naming = self.conn.entries[0]["defaultNamingContext"].value if self.conn.entries else None
        if not naming:
            raise AdError(
                f"{self.server_name} did not publish defaultNamingContext: is it a domain controller?", "protocol"
            )
        self.domain_dn: str = naming
        self.domain: str = params.get("domain") or dn_to_domain(naming)
        self._domain_sid: str | None = None

    # -- connection --
    def _tls(self) -> Any:
        from ldap3 import Tls

        if not self.params.get("validate_certs", True):
            return Tls(validate=ssl.CERT_NONE)
        return Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=self.params.get("ca_file"), valid_names=["*"])

    def _connect(self, user: str, password: str) -> Any:
        from ldap3 import DSA, SIMPLE, Connection, Server
        from ldap3.core.exceptions import LDAPException, LDAPSocketOpenError, LDAPSSLConfigurationError

        server = Server(
            self.params["server"],
            port=self.params.get("port") or 636,
            use_ssl=True,
            tls=self._tls(),
            get_info=DSA,
            connect_timeout=self.params.get("connect_timeout") or 10,
        )
        conn = Connection(
            server,
            user=user,
            password=password,
            authentication=SIMPLE,
            raise_exceptions=False,
            receive_timeout=max(30, self.params.get("connect_timeout") or 10),
            auto_referrals=False,
        )
        where = f"{self.params['server']}:{self.params.get('port') or 636}"
        try:
            with warnings.catch_warnings():
                # ldap3 tries ssl.match_hostname (deprecated) on the address before accepting "*";
                # the name check that counts is certificate_matches below.
                warnings.simplefilter("ignore", DeprecationWarning)
                conn.open()
        except LDAPSSLConfigurationError as exc:
            raise AdError(f"cannot set up TLS for {where}: {exc}", "tls") from exc
        except LDAPSocketOpenError as exc:
            text = str(exc)
            if "certificate" in text.lower() or "ssl" in text.lower():
                raise AdError(
                    f"the certificate of {where} is not trusted ({text}); give the directory's CA with "
                    "ca_file (validate_certs=false only for throw-away labs)",
                    "tls",
                ) from exc
            raise AdError(
                f"cannot reach the domain controller at {where} over LDAPS: {text}. The controller "
                "needs network access to the DCs (from inside the VPC or over a VPN)",
                "unreachable",
            ) from exc
        except LDAPException as exc:
            raise AdError(f"cannot open LDAPS to {where}: {exc}", "unreachable") from exc
        if self.params.get("validate_certs", True):
            certificate = conn.socket.getpeercert() if conn.socket is not None else None
            if not certificate or not certificate_matches(
                certificate, self.params["server"], self.params.get("domain")
            ):
                conn.unbind()
                names = certificate_names(certificate or {})
                raise AdError(
                    f"the certificate of {where} names {names}, not {self.params['server']}"
                    + (f" nor a host of {self.params.get('domain')}" if self.params.get("domain") else "")
                    + "; connect by the DC's name or set domain",
                    "tls",
                )
        try:
            bound = conn.bind()
        except LDAPException as exc:
            raise AdError(f"LDAP bind to {where} failed: {exc}", "credentials") from exc
        if not bound:
            result = conn.result or {}
            message = result.get("message") or ""
            if result.get("result") == 49:
                reason = {
                    "52e": "wrong user name or password",
                    "533": "account disabled",
                    "775": "account locked out",
                    "532": "password expired",
                    "773": "password must be changed",
                    "701": "account expired",
                }
                code = re.search(r"data ([0-9a-f]{3})", message)
                detail = reason.get(code.group(1), message) if code else message
                raise AdError(
                    f"bad credentials for {user} on {where}: {detail or 'invalid credentials'}",
                    "credentials",
                    {"ad_code": code.group(1) if code else None},
                )
            if result.get("result") == 8:
                raise AdError(f"{where} requires a stronger authentication: {message}", "credentials")
            raise AdError(f"LDAP bind to {where} failed: {result.get('description')} {message}", "credentials")
        return conn

    def check_password(self, user: str, password: str) -> bool:
        """True when `password` is `user`'s password (used by update_password=always).

        AD only reports a disabled, expired or must-change account once the password was right,
        so those refusals mean the password matches.
        """
        try:
            probe = self._connect(user, password)
        except AdError as err:
            if err.kind == "credentials":
                return err.result.get("ad_code") in ("533", "532", "773", "701")
            raise
        probe.unbind()
        return True

    def close(self) -> None:
        self.conn.unbind()

    # -- results --
    def _fail(self, action: str, target: str) -> AdError:
        result = self.conn.result or {}
        code = result.get("result")
        message = (result.get("message") or "").strip()
        description = result.get("description") or ""
        if code == 50:
            return AdError(
                f"{self.params['username']} lacks the right to {action} {target} (insufficientAccessRights: {message})",
                "rights",
            )
        if code == 32:
            return AdError(f"cannot {action} {target}: no such object ({message})", "missing")
        if code == 19 and "password" in message.lower():
            return AdError(
                f"cannot {action} {target}: the password does not meet the directory's policy ({message})", "policy"
            )
        return AdError(f"cannot {action} {target}: {description} {message}".strip(), description or "ldap")

    def search(
        self,
        base: str,
        search_filter: str,
        attributes: list[str],
        scope: str = "SUBTREE",
        controls: list[Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Entries as {'dn', 'attributes', 'raw'}; a missing base is an empty result."""
        ok = self.conn.search(
            base,
            search_filter,
            search_scope=scope,
            attributes=attributes,
            controls=controls,
            paged_size=500 if scope != "BASE" else None,
        )
        if not ok and (self.conn.result or {}).get("result") not in (0, 32):
            raise self._fail("read", base)
        found = []
        for entry in self.conn.response or []:
            if entry.get("type") != "searchResEntry":
                continue
            found.append(
                {"dn": entry["dn"], "attributes": entry.get("attributes", {}), "raw": entry.get("raw_attributes", {})}
            )
        return found

    def get(self, dn: str, attributes: list[str], controls: list[Any] | None = None) -> dict[str, Any] | None:
        found = self.search(dn, "(objectClass=*)", attributes, scope="BASE", controls=controls)
        return found[0] if found else None

    def add(self, dn: str, object_class: str | list[str], attributes: dict[str, Any]) -> None:
        if not self.conn.add(dn, object_class, attributes):
            raise self._fail("create", dn)

    def modify(self, dn: str, changes: dict[str, Any], controls: list[Any] | None = None) -> None:
        if not self.conn.modify(dn, changes, controls=controls):
            raise self._fail("modify", dn)

    def delete(self, dn: str, tree: bool = False) -> None:
        controls = [("1.2.840.113556.1.4.805", True, None)] if tree else None
        if not self.conn.delete(dn, controls=controls):
            raise self._fail("delete", dn)

    def move(self, dn: str, new_rdn: str, new_parent: str) -> None:
        if not self.conn.modify_dn(dn, new_rdn, new_superior=new_parent):
            raise self._fail("move", dn)

    # -- security descriptors --
    def read_sd(self, dn: str, flags: int = DACL_SECURITY_INFORMATION) -> SecurityDescriptor:
        from ldap3.protocol.microsoft import security_descriptor_control

        entry = self.get(dn, ["nTSecurityDescriptor"], controls=security_descriptor_control(sdflags=flags))
        if entry is None:
            raise AdError(f"{dn} does not exist", "missing")
        raw = entry["raw"].get("nTSecurityDescriptor") or entry["raw"].get("ntSecurityDescriptor")
        if not raw:
            raise AdError(f"{self.params['username']} cannot read the security descriptor of {dn}", "rights")
        return parse_security_descriptor(raw[0])

    def write_dacl(self, dn: str, sd: SecurityDescriptor) -> None:
        from ldap3 import MODIFY_REPLACE
        from ldap3.protocol.microsoft import security_descriptor_control

        only_dacl = SecurityDescriptor(dacl=sd.dacl, control=sd.control & (SE_DACL_PROTECTED | SE_DACL_AUTO_INHERITED))
        self.modify(
            dn,
            {"nTSecurityDescriptor": [(MODIFY_REPLACE, [pack_security_descriptor(only_dacl)])]},
            controls=security_descriptor_control(sdflags=DACL_SECURITY_INFORMATION),
        )

    # -- identities --
    @property
    def domain_sid(self) -> str:
        if self._domain_sid is None:
            entry = self.get(self.domain_dn, ["objectSid"])
            raw = (entry or {}).get("raw", {}).get("objectSid")
            if not raw:
                raise AdError(f"cannot read the domain SID from {self.domain_dn}", "rights")
            self._domain_sid = sid_from_bytes(raw[0])
        return self._domain_sid

    def find_principal(self, identity: str, attributes: list[str] | None = None) -> dict[str, Any] | None:
        """A user, group or computer by DN, SID, UPN, DOMAIN\\name or sAMAccountName."""
        attributes = attributes or ["objectSid", "sAMAccountName", "distinguishedName", "objectClass"]
        identity = identity.strip()
        if SID_PATTERN.match(identity):
            search_filter = "(objectSid={})".format("".join(f"\\{byte:02x}" for byte in sid_to_bytes(identity)))
        elif "=" in identity and "," in identity:
            return self.get(identity, attributes)
        elif "@" in identity:
            search_filter = f"(userPrincipalName={escape_filter(identity)})"
        else:
            name = identity.split("\\", 1)[1] if "\\" in identity else identity
            search_filter = f"(sAMAccountName={escape_filter(name)})"
        found = self.search(self.domain_dn, search_filter, attributes)
        return found[0] if found else None

    def resolve_sid(self, identity: str) -> str:
        """A SID for a principal name; well-known names and domain aliases need no lookup."""
        if SID_PATTERN.match(identity.strip()):
            return identity.strip().upper()
        known = WELL_KNOWN_NAMES.get(identity.strip().lower())
        if known:
            return known
        entry = self.find_principal(identity)
        if entry is None:
            raise AdError(f"no user or group named {identity!r} in {self.domain}", "missing")
        return sid_from_bytes(entry["raw"]["objectSid"][0])


# -- SMB client ---------------------------------------------------------------------------------------------
def smb_argument_spec() -> dict[str, Any]:
    return dict(
        smb_server=dict(type="str"),
        smb_username=dict(type="str"),
        smb_password=dict(type="str", no_log=True),
        smb_auth_protocol=dict(type="str", default="negotiate", choices=["negotiate", "ntlm", "kerberos"]),
        smb_encrypt=dict(type="bool", default=False),
    )


class FileShare:
    """Files, folders and security descriptors on one SMB share (smbprotocol's smbclient)."""

    READ_CONTROL = 0x00020000
    WRITE_DAC = 0x00040000
    WRITE_OWNER = 0x00080000
    FILE_READ_ATTRIBUTES = 0x0080

    def __init__(
        self,
        server: str,
        share: str,
        username: str,
        password: str,
        auth_protocol: str = "negotiate",
        encrypt: bool = False,
        port: int = 445,
        connect_timeout: int = 10,
    ) -> None:
        try:
            import smbclient
            import smbclient.shutil
        except ImportError as exc:
            raise AdError(
                "the smbprotocol Python library is required on the controller (pip install smbprotocol)",
                "missing_library",
            ) from exc
        from smbprotocol.exceptions import LogonFailure, NotFound, SMBAuthenticationError, SMBException

        self.smbclient = smbclient
        self.server = server
        self.share = share
        self.port = port
        try:
            smbclient.register_session(
                server,
                username=username,
                password=password,
                port=port,
                auth_protocol=auth_protocol,
                encrypt=encrypt,
                connection_timeout=connect_timeout,
            )
        except (LogonFailure, SMBAuthenticationError, NotFound) as exc:
            # Samba answers STATUS_NOT_FOUND instead of LOGON_FAILURE for a bad UPN logon.
            raise AdError(f"bad credentials for {username} on \\\\{server}: {exc}", "credentials") from exc
        except (OSError, SMBException, ValueError) as exc:
            raise AdError(
                f"cannot reach the file server \\\\{server} on port {port}: {exc}. The controller "
                "needs network access to it (from inside the VPC or over a VPN)",
                "unreachable",
            ) from exc

    def unc(self, path: str = "") -> str:
        path = path.replace("/", "\\").strip("\\")
        return f"\\\\{self.server}\\{self.share}" + (f"\\{path}" if path else "")

    def _wrap(self, action: str, path: str, exc: Exception) -> AdError:
        text = str(exc)
        if "STATUS_ACCESS_DENIED" in text or "0xc0000022" in text.lower() or "Access is denied" in text:
            return AdError(f"access denied to {action} {self.unc(path)}: {text}", "rights")
        if "STATUS_PRIVILEGE_NOT_HELD" in text or "0xc0000061" in text.lower():
            return AdError(
                f"{action} {self.unc(path)} needs a privilege the account lacks (take ownership or "
                f"restore, as the file system administrators group has): {text}",
                "rights",
            )
        if "STATUS_BAD_NETWORK_NAME" in text:
            return AdError(f"the file server has no share named {self.share!r}: {text}", "missing")
        return AdError(f"cannot {action} {self.unc(path)}: {text}", "smb")

    def exists(self, path: str) -> bool:
        from smbprotocol.exceptions import SMBException

        try:
            self.smbclient.stat(self.unc(path), port=self.port)
        except (OSError, SMBException) as exc:
            if _missing(exc):
                return False
            raise self._wrap("read", path, exc) from exc
        return True

    def is_dir(self, path: str) -> bool:
        from smbprotocol.exceptions import SMBException

        try:
            return self.smbclient.path.isdir(self.unc(path), port=self.port)
        except (OSError, SMBException) as exc:
            raise self._wrap("read", path, exc) from exc

    def listdir(self, path: str) -> list[str]:
        from smbprotocol.exceptions import SMBException

        try:
            return sorted(self.smbclient.listdir(self.unc(path), port=self.port))
        except (OSError, SMBException) as exc:
            if _missing(exc):
                return []
            raise self._wrap("list", path, exc) from exc

    def mkdir(self, path: str) -> None:
        from smbprotocol.exceptions import SMBException

        try:
            self.smbclient.mkdir(self.unc(path), port=self.port)
        except (OSError, SMBException) as exc:
            if getattr(exc, "errno", None) == errno.EEXIST:
                return
            raise self._wrap("create", path, exc) from exc

    def makedirs(self, path: str) -> None:
        parts = [part for part in path.replace("/", "\\").split("\\") if part]
        for index in range(1, len(parts) + 1):
            sub = "\\".join(parts[:index])
            if not self.exists(sub):
                self.mkdir(sub)

    def read_text(self, path: str, encoding: str = "utf-8") -> str | None:
        from smbprotocol.exceptions import SMBException

        try:
            with self.smbclient.open_file(self.unc(path), mode="rb", port=self.port) as handle:
                data = handle.read()
        except (OSError, SMBException) as exc:
            if _missing(exc):
                return None
            raise self._wrap("read", path, exc) from exc
        if data.startswith(b"\xff\xfe"):
            return data.decode("utf-16")
        return data.decode(encoding.replace("utf-8", "utf-8-sig"), errors="replace")

    def write_text(self, path: str, text: str, encoding: str = "utf-8") -> None:
        from smbprotocol.exceptions import SMBException

        try:
            with self.smbclient.open_file(self.unc(path), mode="wb", port=self.port) as handle:
                handle.write(text.encode(encoding))
        except (OSError, SMBException) as exc:
            raise self._wrap("write", path, exc) from exc

    def remove_tree(self, path: str) -> None:
        from smbprotocol.exceptions import SMBException

        try:
            self.smbclient.shutil.rmtree(self.unc(path), port=self.port)
        except (OSError, SMBException) as exc:
            if _missing(exc):
                return
            raise self._wrap("delete", path, exc) from exc

    # -- security descriptors over SMB2 QUERY_INFO / SET_INFO (InfoType SECURITY) --
    def _open(self, path: str, access: int) -> Any:
        from smbclient._io import SMBDirectoryIO, SMBFileIO

        cls = SMBDirectoryIO if self.is_dir(path) else SMBFileIO
        raw = cls(self.unc(path), mode="r", desired_access=access | self.FILE_READ_ATTRIBUTES, port=self.port)
        raw.open()
        return raw

    def get_sd(
        self, path: str, info: int = OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION
    ) -> SecurityDescriptor:
        from smbclient._io import SMBFileTransaction
        from smbprotocol.exceptions import SMBException
        from smbprotocol.open import SMB2QueryInfoRequest, SMB2QueryInfoResponse

        try:
            raw = self._open(path, self.READ_CONTROL)
            try:
                request = SMB2QueryInfoRequest()
                request["info_type"] = 3  # SMB2_0_INFO_SECURITY
                request["file_info_class"] = 0
                request["output_buffer_length"] = 65535
                request["additional_information"] = info
                request["file_id"] = raw.fd.file_id

                def receive(sent: Any) -> bytes:
                    response = raw.fd.connection.receive(sent)
                    parsed = SMB2QueryInfoResponse()
                    parsed.unpack(response["data"].get_value())
                    return parsed["buffer"].get_value()

                transaction = SMBFileTransaction(raw)
                transaction += (request, receive)
                transaction.commit()
                data = transaction.results[0]
            finally:
                raw.close()
        except (OSError, SMBException) as exc:
            raise self._wrap("read the ACL of", path, exc) from exc
        return parse_security_descriptor(data)

    def set_sd(
        self, path: str, sd: SecurityDescriptor, set_owner: bool = False, set_group: bool = False, set_dacl: bool = True
    ) -> None:
        """Write the parts of `sd` asked for; a DACL goes with its protection (inheritance) flag."""
        from smbclient._io import SMBFileTransaction
        from smbprotocol.exceptions import SMBException
        from smbprotocol.open import SMB2SetInfoRequest, SMB2SetInfoResponse

        info, access = 0, self.READ_CONTROL
        if set_dacl:
            info |= DACL_SECURITY_INFORMATION | (
                PROTECTED_DACL_SECURITY_INFORMATION if sd.protected else UNPROTECTED_DACL_SECURITY_INFORMATION
            )
            access |= self.WRITE_DAC
        if set_owner and sd.owner:
            info |= OWNER_SECURITY_INFORMATION
            access |= self.WRITE_OWNER
        if set_group and sd.group:
            info |= GROUP_SECURITY_INFORMATION
            access |= self.WRITE_OWNER
        payload = pack_security_descriptor(
            SecurityDescriptor(
                owner=sd.owner if set_owner else None,
                group=sd.group if set_group else None,
                dacl=sd.dacl if set_dacl else None,
                control=(sd.control & (SE_DACL_PROTECTED | SE_DACL_AUTO_INHERITED))
                | (SE_DACL_PRESENT if set_dacl else 0),
            )
        )
        try:
            raw = self._open(path, access)
            try:
                request = SMB2SetInfoRequest()
                request["info_type"] = 3
                request["file_info_class"] = 0
                # smbprotocol's flag enum lacks (UN)PROTECTED_DACL_SECURITY_INFORMATION ([MS-SMB2] 2.2.39).
                request["additional_information"].flag_strict = False
                request["additional_information"] = info
                request["file_id"] = raw.fd.file_id
                request["buffer"] = payload

                def receive(sent: Any) -> Any:
                    response = raw.fd.connection.receive(sent)
                    parsed = SMB2SetInfoResponse()
                    parsed.unpack(response["data"].get_value())
                    return parsed

                transaction = SMBFileTransaction(raw)
                transaction += (request, receive)
                transaction.commit()
            finally:
                raw.close()
        except (OSError, SMBException) as exc:
            raise self._wrap("set the ACL of", path, exc) from exc

    def close(self) -> None:
        self.smbclient.reset_connection_cache()


# -- module glue ------------------------------------------------------------------------------------------------
def fail(module: Any, err: AdError, **result: Any) -> None:
    """fail_json with the operator-facing message and the failure's kind (unreachable, tls, credentials, ...)."""
    module.fail_json(msg=str(err), failure=err.kind, **{**err.result, **result})


def directory_params(params: dict[str, Any]) -> dict[str, Any]:
    return {key: params.get(key) for key in ad_argument_spec()}
