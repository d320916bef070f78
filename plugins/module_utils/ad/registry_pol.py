# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry policy files ([MS-GPREG]): the PReg format of a GPO's C(Machine/Registry.pol), encoded and
decoded, and the client-side extension that applies it.

[MS-GPREG] 2.2.1 "Registry Policy Message Syntax"
(https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-gpreg/5c092c22-bf6b-4e7f-b180-b20743d368f5):

    PolicyFile = Header Body;  Header = Signature Version;  Signature = "PReg";  Version = 1
    Instruction = "[" KeyPath ";" Value ";" Type ";" Size ";" Data "]"

Strings (the brackets, semicolons, the key and the value name) are UTF-16LE, the key and the value
name each followed by a UTF-16 NUL; Signature, Version, Type and Size are 32-bit little-endian
integers ("Registry Policy File Format", learn.microsoft.com/previous-versions/windows/desktop/Policy/
registry-policy-file-format: REGFILE_SIGNATURE 0x67655250, REGISTRY_FILE_VERSION 1).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Any

# [MS-GPREG] 2.2.1: Signature = %x50.52.65.67 ("PReg"), then Version 1 as a DWORD.
SIGNATURE = b"PReg"
VERSION = 1
HEADER = SIGNATURE + struct.pack("<I", VERSION)

# [MS-GPREG] 1.9 "Standards Assignments"
# (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-gpreg/f0dba6b8-704f-45d5-999f-1a0a694a6df9):
# CSE GUID {35378EAC-683F-11D2-A89A-00C04FBBCFA2}; tool extension GUID for computer policy settings
# {0F6B957D-509E-11D1-A7CC-0000F87571E3} or {D02B1F72-3407-48AE-BA88-E8213C6761F1} ("implementation
# dependent"; current GPMC writes the latter).
REGISTRY_CSE = "{35378EAC-683F-11D2-A89A-00C04FBBCFA2}"
REGISTRY_MACHINE_TOOL = "{D02B1F72-3407-48AE-BA88-E8213C6761F1}"
REGISTRY_MACHINE_EXTENSIONS = f"[{REGISTRY_CSE}{REGISTRY_MACHINE_TOOL}]"

# [MS-GPREG] 2.2.1: Type = %x01 / %x02 / %x03 / %x04 / %x05 / %x07 / %x0B (the WinNT.h REG_* values).
REG_SZ = 1
REG_EXPAND_SZ = 2
REG_BINARY = 3
REG_DWORD = 4
REG_DWORD_BIG_ENDIAN = 5
REG_MULTI_SZ = 7
REG_QWORD = 11
TYPE_NAMES = {
    "string": REG_SZ,
    "expand_string": REG_EXPAND_SZ,
    "binary": REG_BINARY,
    "dword": REG_DWORD,
    "dword_big_endian": REG_DWORD_BIG_ENDIAN,
    "multi_string": REG_MULTI_SZ,
    "qword": REG_QWORD,
}
NAME_OF_TYPE = {number: name for name, number in TYPE_NAMES.items()}

# [MS-GPREG] 2.2.1: Key = 1*IdCharacter, IdCharacter = %x20-5B / %x5D-7E (printable ASCII but "\");
# Value = 1*259ValueCharacter (SP / VCHAR); Data = *65535OCTET.
_KEY_PART = re.compile(r"[\x20-\x5b\x5d-\x7e]+")
_VALUE_NAME = re.compile(r"[\x20-\x7e]{1,259}")
MAX_DATA = 65535


@dataclass(frozen=True)
class PolicyValue:
    """One instruction of a registry policy file: set `name` under `key` to `data` of `type`.

    `data` is a str (REG_SZ, REG_EXPAND_SZ), an int (REG_DWORD, REG_DWORD_BIG_ENDIAN, REG_QWORD),
    bytes (REG_BINARY) or a list of str (REG_MULTI_SZ).
    """

    key: str
    name: str
    type: int
    data: Any

    def as_dict(self) -> dict[str, Any]:
        data = list(self.data) if isinstance(self.data, list) else self.data
        if isinstance(data, bytes):
            data = data.hex()
        return {"key": self.key, "name": self.name, "type": NAME_OF_TYPE.get(self.type, str(self.type)), "data": data}


def check_key(key: str) -> str:
    parts = key.split("\\")
    if not key or not all(_KEY_PART.fullmatch(part) for part in parts):
        raise ValueError(
            f"registry key {key!r}: [MS-GPREG] keys are printable ASCII components separated by single backslashes"
        )
    return key


def check_value_name(name: str) -> str:
    if not _VALUE_NAME.fullmatch(name):
        raise ValueError(f"registry value name {name!r}: [MS-GPREG] allows 1 to 259 printable ASCII characters")
    return name


def _utf16z(text: str) -> bytes:
    return text.encode("utf-16-le") + b"\x00\x00"


def encode_data(value_type: int, data: Any) -> bytes:
    """The Data field of one instruction (strings NUL-terminated, integers little-endian but for 5)."""
    if value_type in (REG_SZ, REG_EXPAND_SZ):
        if not isinstance(data, str):
            raise ValueError(f"a string value needs a string, got {data!r}")
        return _utf16z(data)
    if value_type == REG_MULTI_SZ:
        if not isinstance(data, list) or not all(isinstance(item, str) and item for item in data):
            raise ValueError("a multi-string value needs a list of non-empty strings")
        return b"".join(_utf16z(item) for item in data) + b"\x00\x00"
    if value_type in (REG_DWORD, REG_DWORD_BIG_ENDIAN, REG_QWORD):
        if isinstance(data, bool) or not isinstance(data, int):
            raise ValueError(f"an integer value needs an integer, got {data!r}")
        fmt = {REG_DWORD: "<I", REG_DWORD_BIG_ENDIAN: ">I", REG_QWORD: "<Q"}[value_type]
        try:
            return struct.pack(fmt, data)
        except struct.error as exc:
            raise ValueError(f"{data} does not fit a {NAME_OF_TYPE[value_type]}") from exc
    if value_type == REG_BINARY:
        if not isinstance(data, (bytes, bytearray)):
            raise ValueError("a binary value needs bytes")
        return bytes(data)
    raise ValueError(f"registry value type {value_type} is not one [MS-GPREG] allows")


def decode_data(value_type: int, raw: bytes) -> Any:
    if value_type in (REG_SZ, REG_EXPAND_SZ):
        return raw.decode("utf-16-le").split("\x00", 1)[0]
    if value_type == REG_MULTI_SZ:
        text = raw.decode("utf-16-le")
        return [item for item in text.split("\x00") if item]
    if value_type == REG_DWORD and len(raw) == 4:
        return struct.unpack("<I", raw)[0]
    if value_type == REG_DWORD_BIG_ENDIAN and len(raw) == 4:
        return struct.unpack(">I", raw)[0]
    if value_type == REG_QWORD and len(raw) == 8:
        return struct.unpack("<Q", raw)[0]
    return bytes(raw)


def encode_instruction(value: PolicyValue) -> bytes:
    check_key(value.key)
    check_value_name(value.name)
    data = encode_data(value.type, value.data)
    if len(data) > MAX_DATA:
        raise ValueError(f"{value.key}\\{value.name}: {len(data)} bytes of data, [MS-GPREG] allows {MAX_DATA}")
    semicolon = ";".encode("utf-16-le")
    return b"".join(
        [
            "[".encode("utf-16-le"),
            _utf16z(value.key),
            semicolon,
            _utf16z(value.name),
            semicolon,
            struct.pack("<I", value.type),
            semicolon,
            struct.pack("<I", len(data)),
            semicolon,
            data,
            "]".encode("utf-16-le"),
        ]
    )


def encode_registry_pol(values: list[PolicyValue]) -> bytes:
    """A Registry.pol holding `values` in the given order."""
    return HEADER + b"".join(encode_instruction(value) for value in values)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def expect(self, char: str) -> None:
        wanted = char.encode("utf-16-le")
        if self.data[self.at : self.at + 2] != wanted:
            raise ValueError(f"Registry.pol: {char!r} expected at byte {self.at}")
        self.at += 2

    def string(self) -> str:
        end = self.at
        while True:
            if end + 2 > len(self.data):
                raise ValueError(f"Registry.pol: unterminated string at byte {self.at}")
            if self.data[end : end + 2] == b"\x00\x00":
                break
            end += 2
        text = self.data[self.at : end].decode("utf-16-le")
        self.at = end + 2
        return text

    def dword(self) -> int:
        if self.at + 4 > len(self.data):
            raise ValueError(f"Registry.pol: truncated at byte {self.at}")
        value = struct.unpack_from("<I", self.data, self.at)[0]
        self.at += 4
        return value

    def raw(self, size: int) -> bytes:
        if self.at + size > len(self.data):
            raise ValueError(f"Registry.pol: {size} bytes of data announced at byte {self.at}, file too short")
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk


def decode_registry_pol(data: bytes | None) -> list[PolicyValue]:
    """The instructions of a Registry.pol, in file order; an empty or missing file holds none."""
    if not data:
        return []
    if data[:4] != SIGNATURE:
        raise ValueError("Registry.pol: the file does not start with the PReg signature")
    if len(data) < 8 or struct.unpack_from("<I", data, 4)[0] != VERSION:
        raise ValueError("Registry.pol: only version 1 of the format exists")
    reader = _Reader(data)
    reader.at = 8
    values = []
    while reader.at < len(data):
        reader.expect("[")
        key = reader.string()
        reader.expect(";")
        name = reader.string()
        reader.expect(";")
        value_type = reader.dword()
        reader.expect(";")
        size = reader.dword()
        reader.expect(";")
        raw = reader.raw(size)
        reader.expect("]")
        values.append(PolicyValue(key, name, value_type, decode_data(value_type, raw)))
    return values


def canonical_order(values: list[PolicyValue]) -> list[PolicyValue]:
    """Values sorted by key then name (case-insensitive, as the registry compares them), so that the
    same settings always give the same file and an unchanged policy is recognised byte for byte."""
    return sorted(values, key=lambda value: (value.key.lower(), value.name.lower()))


def policy_value(key: str, name: str, type_name: str, data: Any) -> PolicyValue:
    """A PolicyValue from the module's vocabulary (type names such as V(dword)), validated."""
    if type_name not in TYPE_NAMES:
        raise ValueError(f"{key}\\{name}: type must be one of {', '.join(sorted(TYPE_NAMES))}, got {type_name!r}")
    value_type = TYPE_NAMES[type_name]
    if value_type in (REG_DWORD, REG_DWORD_BIG_ENDIAN, REG_QWORD) and isinstance(data, str) and data.strip().isdigit():
        data = int(data.strip())
    if value_type == REG_BINARY and isinstance(data, str):
        try:
            data = bytes.fromhex(data)
        except ValueError as exc:
            raise ValueError(f"{key}\\{name}: binary data is given as hexadecimal digits") from exc
    if value_type == REG_MULTI_SZ and isinstance(data, str):
        data = [data]
    value = PolicyValue(check_key(key), check_value_name(name), value_type, data)
    encode_data(value.type, value.data)  # type and range checks
    return value
