"""The key contract: which names may be sent, and the S3 keys they become.

Keys are `incoming/<instrument>/<acquisition>/<relative/posix/path>`, the manifest
`incoming/<instrument>/<acquisition>/_acquisition-manifest.json`. DataSync copies them to an FSx for Windows
share, so a name must be one both S3 and Windows can hold:

- S3: a key is UTF-8, at most 1,024 bytes (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html).
- Windows: no `< > : " / \\ | ? *`, no character 0-31, no name ending in a space or a period, none of the
  device names CON, PRN, AUX, NUL, COM1-9, LPT1-9 (alone or followed by an extension), and names that
  differ only by case are the same name
  (https://learn.microsoft.com/en-us/windows/win32/fileio/naming-a-file, "Naming Conventions").
"""

from __future__ import annotations

import re
import unicodedata

KEY_ROOT = "incoming"
MANIFEST_NAME = "_acquisition-manifest.json"
MAX_KEY_BYTES = 1024
MAX_COMPONENT_CHARS = 255  # NTFS's limit on one file or folder name

# Instrument and acquisition names: the contract's alphabet, then what Windows refuses of it.
_NAME = re.compile(r"[A-Za-z0-9._-]{1,128}")
_WINDOWS_FORBIDDEN = set('<>:"/\\|?*') | {chr(code) for code in range(32)}
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL"} | {f"{kind}{n}" for kind in ("COM", "LPT") for n in range(1, 10)}


def name_problem(value: str) -> str | None:
    """Why an instrument or acquisition name is refused, or None when it is valid."""
    if not _NAME.fullmatch(value):
        return "must be 1 to 128 characters among letters, digits, '.', '_' and '-'"
    if value.startswith("."):
        return "must not start with '.'"
    if value.endswith("."):
        return "must not end with '.' (Windows drops it)"
    if _is_device_name(value):
        return f"'{value.split('.')[0]}' is a reserved device name on Windows"
    return None


def component_problem(component: str) -> str | None:
    """Why one file or folder name of an acquisition cannot be sent, or None when it can."""
    try:
        component.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (S3 keys are UTF-8)"
    forbidden = sorted({char for char in component if char in _WINDOWS_FORBIDDEN or char == "\x7f"})
    if forbidden:
        shown = ", ".join(repr(char) for char in forbidden)
        return f"contains {shown}, which Windows does not allow in a file name"
    if component.endswith((" ", ".")):
        return "ends with a space or a period, which Windows drops"
    if _is_device_name(component):
        return f"'{component.split('.')[0]}' is a reserved device name on Windows"
    if len(component) > MAX_COMPONENT_CHARS:
        return f"is longer than {MAX_COMPONENT_CHARS} characters"
    return None


def _is_device_name(name: str) -> bool:
    return name.split(".")[0].rstrip(" ").upper() in _WINDOWS_DEVICES


def acquisition_prefix(instrument: str, acquisition: str) -> str:
    return f"{KEY_ROOT}/{instrument}/{acquisition}/"


def object_key(instrument: str, acquisition: str, relative: str) -> str:
    return acquisition_prefix(instrument, acquisition) + relative


def manifest_key(instrument: str, acquisition: str) -> str:
    return object_key(instrument, acquisition, MANIFEST_NAME)


def key_problem(instrument: str, acquisition: str, relative: str) -> str | None:
    """Why a file's key cannot be used: too long for S3, or the manifest's own name."""
    if relative == MANIFEST_NAME:
        return f"has the manifest's name ({MANIFEST_NAME}), which the uploader writes itself"
    length = len(object_key(instrument, acquisition, relative).encode("utf-8"))
    if length > MAX_KEY_BYTES:
        return f"makes a key of {length} bytes; S3 keys are at most {MAX_KEY_BYTES}"
    return None


def case_folded(relative: str) -> str:
    """The form under which Windows compares two paths (case-insensitive, composed Unicode)."""
    return unicodedata.normalize("NFC", relative).casefold()
