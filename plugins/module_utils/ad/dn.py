# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Distinguished names ([RFC 4514]) and LDAP filter values ([RFC 4515]): conversion, comparison, escaping."""

from __future__ import annotations

import re


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
