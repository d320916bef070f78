# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Security templates in Group Policy ([MS-GPSB]): the C(Machine/Microsoft/Windows NT/SecEdit/GptTmpl.inf)
file, here its C([Service General Setting]) section (the start mode of system services), rendered and
parsed, and the client-side extension that applies it.

[MS-GPSB] 2.2 "Message Syntax"
(https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-gpsb/fa15485d-ae9f-456e-a08f-81f2e5725a7e):
"All security policy files ... MUST be encoded in UTF-16LE with Byte Order Mark (0xFFFE)";

    InfFile = UnicodePreamble VersionPreamble Sections
    UnicodePreamble = *("[Unicode]" LineBreak "Unicode=yes" LineBreak)
    VersionPreamble = "[Version]" LineBreak "signature=" DQUOTE "$CHICAGO$" DQUOTE LineBreak "Revision=1" LineBreak
    LineBreak = CRLF

[MS-GPSB] 2.2.8 "Service General Setting"
(https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-gpsb/32deea3e-3fa4-414b-ba25-4121ad8c055c):

    Setting = ServiceName "," StartupMode "," AclString LineBreak
    ServiceName = 1*256IdCharacter / DQUOTE 1*256IdCharacter DQUOTE
    StartupMode = DIGIT   ; 2 Automatic, 3 Manual, 4 Disabled
    AclString = SDDL / DQUOTE SDDL DQUOTE

An empty SDDL (C("")) is a valid [MS-DTYP] 2.5.1.1 SDDL string, every part of which is optional: the
setting then defines the start mode and leaves the service's permissions as they are.
"""

from __future__ import annotations

import re
from typing import Any

# [MS-GPSB] 1.9 "Standards Assignments"
# (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-gpsb/55bb803e-b35f-4ce8-b558-4c1e92ad77a4):
# CSE {827D319E-6EAC-11D2-A4EA-00C04F79F83A}, tool extension (computer policy settings)
# {803E14A0-B4FB-11D0-A0D0-00A0C90F574B}.
SECURITY_CSE = "{827D319E-6EAC-11D2-A4EA-00C04F79F83A}"
SECURITY_MACHINE_TOOL = "{803E14A0-B4FB-11D0-A0D0-00A0C90F574B}"
SECURITY_MACHINE_EXTENSIONS = f"[{SECURITY_CSE}{SECURITY_MACHINE_TOOL}]"

# The security template of a GPO's computer side, where the Security CSE reads it (the path Samba's
# Group Policy client reads too: samba/gp/gp_sec_ext.py, 'MACHINE/Microsoft/Windows NT/SecEdit/GptTmpl.inf').
TEMPLATE_PATH = "Machine\\Microsoft\\Windows NT\\SecEdit\\GptTmpl.inf"
SERVICE_SECTION = "Service General Setting"

# [MS-GPSB] 2.2.8 StartupMode, mapped to [MS-SCMR] 2.2.15 dwStartType ("2" SERVICE_AUTO_START, "3"
# SERVICE_DEMAND_START, "4" SERVICE_DISABLED) by the client's processing rules
# (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-gpsb/40024ae3-c3b8-45db-9081-c4dc3684f9f7).
START_MODES = {"automatic": 2, "manual": 3, "disabled": 4}
_MODE_NAMES = {number: name for name, number in START_MODES.items()}
# [MS-GPSB] 2.2.8: IdCharacter = ALPHANUM / %d33 / %d35-43 / %d45-46 / %d58-64 / %d91 / %d93-96 / %d123-126
_SERVICE_NAME = re.compile(r"[A-Za-z0-9!#-+\-.:-@\[\]-`{-~]{1,256}")
_SETTING = re.compile(r'^\s*("?)([^",]+)\1\s*,\s*(\d)\s*,\s*"?(.*?)"?\s*$')


def check_service_name(name: str) -> str:
    if not _SERVICE_NAME.fullmatch(name):
        raise ValueError(
            f"service name {name!r}: [MS-GPSB] 2.2.8 allows 1 to 256 letters, digits and punctuation other than "
            "'\"', ',' and '/'"
        )
    return name


def normalise_services(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    services: dict[str, dict[str, str]] = {}
    for item in items:
        name = check_service_name(str(item.get("name") or ""))
        mode = str(item.get("start_mode") or "").lower()
        if mode not in START_MODES:
            raise ValueError(f"service {name}: start_mode must be one of {', '.join(START_MODES)}")
        if name.lower() in services:
            raise ValueError(f"service {name} is listed twice")
        services[name.lower()] = {"name": name, "start_mode": mode}
    return sorted(services.values(), key=lambda service: service["name"].lower())


def render_template(services: list[dict[str, Any]], existing: str | None = None) -> str:
    """The text of a GptTmpl.inf that sets the start mode of `services` (CRLF line breaks).

    Sections of `existing` other than the service settings (settings someone added in GPMC) are kept
    as they are, before the service section.
    """
    lines = ["[Unicode]", "Unicode=yes", "[Version]", 'signature="$CHICAGO$"', "Revision=1"]
    found = sections(existing)
    for name in other_sections(existing):
        lines.append(f"[{name}]")
        lines.extend(found[name])
    lines.append(f"[{SERVICE_SECTION}]")
    for service in normalise_services(services):
        lines.append(f'"{service["name"]}",{START_MODES[service["start_mode"]]},""')
    return "\r\n".join(lines) + "\r\n"


def encode_template(text: str) -> bytes:
    """UTF-16LE with its byte order mark, as [MS-GPSB] 2.2 requires."""
    return b"\xff\xfe" + text.encode("utf-16-le")


def decode_template(data: bytes | None) -> str | None:
    if data is None:
        return None
    if data.startswith(b"\xff\xfe"):
        return data[2:].decode("utf-16-le")
    return data.decode("utf-8-sig", errors="replace")


def sections(text: str | None) -> dict[str, list[str]]:
    """The lines of each [section] of an .inf text (section names as written)."""
    found: dict[str, list[str]] = {}
    current = None
    for line in (text or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stripped[1:-1]
            found.setdefault(current, [])
        elif current is not None and stripped and not stripped.startswith(";"):
            found[current].append(stripped)
    return found


def services_from_template(text: str | None) -> list[dict[str, str]]:
    """The service start modes a GptTmpl.inf sets, in the module's vocabulary (for diffs)."""
    services = []
    for line in sections(text).get(SERVICE_SECTION, []):
        match = _SETTING.match(line)
        if not match:
            raise ValueError(f"GptTmpl.inf: {line!r} is not a [MS-GPSB] 2.2.8 service setting")
        mode = int(match.group(3))
        services.append({"name": match.group(2), "start_mode": _MODE_NAMES.get(mode, str(mode))})
    return sorted(services, key=lambda service: service["name"].lower())


def other_sections(text: str | None) -> list[str]:
    """Sections the module does not write (their presence means the file holds more than services)."""
    return [name for name in sections(text) if name not in ("Unicode", "Version", SERVICE_SECTION)]
