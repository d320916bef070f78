# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation and normalisation of the tenant definition (design.md section 4).

Every rule about the tenant definition lives here, so that the playbooks, the
roles and the tests agree on one contract. The module is pure standard-library
Python, imported by its FQCN by the modules, the filter plugins and the unit
tests.

Public API:

* ``validate_tenant(tenant, catalogue)`` returns every error at once, each one
  starting with the dotted path of the offending field and stating the rule.
* ``normalise_tenant(tenant)`` returns a copy with every documented default
  filled in, so later roles read one complete structure.
* ``validate_run_tenants(host, run_tenants)`` checks one host's tenant against
  the other tenant hosts of the run (one tenant name per host; VPC ranges).
* ``validate_vault_variables(secrets, set_names, auth)`` checks the secrets an
  operator supplies through ansible-vault (``VAULT_VARIABLES``), naming the
  variable and the rule, never the value.
* ``validate_ops_vars(spec, values, prefix)`` checks the extra variables of the
  ops playbooks with the same vocabulary (type, required, choices, pattern,
  minimum/maximum, ...).

Limits taken from AWS are quoted with their source. "botocore" means the
service model shipped with the pinned botocore
(``botocore/data/<service>/<version>/service-2.json``), the final word on API
shapes for this project.
"""

from __future__ import annotations

import copy
import difflib
import functools
import ipaddress
import json
import math
import re
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FSX_THROUGHPUT_LEVELS",
    "TENANT_SCHEMA",
    "VAULT_VARIABLES",
    "Field",
    "check_value",
    "coerce_scalar",
    "derive_username",
    "normalise_ops_vars",
    "normalise_tenant",
    "validate_ops_vars",
    "validate_run_tenants",
    "validate_tenant",
    "validate_vault_variables",
]

MISSING: Any = object()
"""Marks a ``Field`` without a default (distinct from a default of ``None``)."""

# A rule check receives a value of the right type and returns the broken rules
# as messages without the field path (the walker prefixes it).
Check = Callable[[Any], list[str]]


# --------------------------------------------------------------------------
# Generic schema walker
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """Describe one value of a definition: its type and its own rules.

    ``type`` is one of ``str``, ``int``, ``number``, ``bool``, ``list``,
    ``dict`` or ``any``. Rules that involve several fields are not expressed
    here but in the cross-field checks of ``validate_tenant``.
    """

    type: str
    required: bool = False
    default: Any = MISSING
    nullable: bool = False
    choices: tuple[Any, ...] = ()
    pattern: str | None = None
    pattern_hint: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    unique: bool = False
    items: Field | None = None
    fields: Mapping[str, Field] | None = None
    check: Check | None = None
    description: str = ""


_TYPE_NAMES = {
    "str": "a string",
    "int": "an integer",
    "number": "a number",
    "bool": "a boolean (true or false)",
    "list": "a list",
    "dict": "a mapping",
}


def show(value: Any) -> str:
    """Render a value the way it would be written in YAML/JSON."""
    if isinstance(value, str | bool | int | float) or value is None:
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def _type_label(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, list | tuple):
        return "list"
    return type(value).__name__


def _describe(value: Any) -> str:
    label = _type_label(value)
    if value is None:
        return label
    text = show(value)
    return f"{label} {text if len(text) <= 60 else text[:57] + '...'}"


def _has_type(value: Any, type_name: str) -> bool:
    # bool is a subclass of int in Python, but `true` is never a valid count.
    if type_name == "any":
        return True
    if type_name == "str":
        return isinstance(value, str)
    if type_name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "bool":
        return isinstance(value, bool)
    if type_name == "list":
        return isinstance(value, list | tuple)
    if type_name == "dict":
        return isinstance(value, Mapping)
    raise ValueError(f"unknown schema type {type_name!r}")


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """Return the closest candidate to a probably mistyped word, if any."""
    matches = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_key_message(key: str, allowed: Iterable[str]) -> str:
    allowed = sorted(allowed)
    close = suggest(key, allowed)
    if close:
        return f"unknown key (did you mean {close}?)"
    return "unknown key (allowed: " + ", ".join(allowed) + ")"


def join_path(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _unique_key(value: Any) -> str:
    # E-mail addresses, app keys, weekdays: duplicates differing only in case
    # are still duplicates for every consumer of this definition.
    if isinstance(value, str):
        return value.casefold()
    return json.dumps(value, sort_keys=True, default=str)


def check_value(spec: Field, value: Any, path: str) -> list[str]:
    """Check ``value`` against ``spec``; return ``"<path>: <rule>"`` messages."""
    if value is None and spec.nullable:
        return []
    if not _has_type(value, spec.type):
        message = f"{path}: must be {_TYPE_NAMES[spec.type]}, got {_describe(value)}"
        if spec.type == "str" and _has_type(value, "number"):
            # YAML 1.1 reads unquoted 20:00 as 1200 and 9.10 as 9.1.
            message += " (quote the value in YAML)"
        return [message]
    errors: list[str] = []
    if spec.choices and value not in spec.choices:
        allowed = ", ".join(str(choice) for choice in spec.choices)
        errors.append(f"{path}: {show(value)} is not one of {allowed}")
    if spec.pattern is not None and not re.fullmatch(spec.pattern, value):
        hint = spec.pattern_hint or f"the pattern {spec.pattern}"
        errors.append(f"{path}: {show(value)} does not match {hint}")
    if spec.min_length is not None and len(value) < spec.min_length:
        errors.append(f"{path}: {show(value)} is shorter than {spec.min_length} characters")
    if spec.max_length is not None and len(value) > spec.max_length:
        errors.append(f"{path}: {len(value)} characters is longer than the maximum of {spec.max_length}")
    if spec.minimum is not None and value < spec.minimum:
        errors.append(f"{path}: {show(value)} is below the minimum of {spec.minimum:g}")
    if spec.maximum is not None and value > spec.maximum:
        errors.append(f"{path}: {show(value)} is above the maximum of {spec.maximum:g}")
    if spec.type == "list":
        errors.extend(_check_list(spec, value, path))
    if spec.type == "dict" and spec.fields is not None:
        errors.extend(check_mapping(spec.fields, value, path))
    # Custom checks only see values that passed the generic rules, so they can
    # rely on the shape (e.g. a pattern-checked "HH:MM" string).
    if spec.check is not None and not errors:
        errors.extend(f"{path}: {message}" for message in spec.check(value))
    return errors


def _check_list(spec: Field, value: list[Any] | tuple[Any, ...], path: str) -> list[str]:
    errors: list[str] = []
    if spec.min_items is not None and len(value) < spec.min_items:
        if spec.min_items == 1:
            errors.append(f"{path}: must not be empty")
        else:
            errors.append(f"{path}: has {len(value)} items, at least {spec.min_items} required")
    if spec.max_items is not None and len(value) > spec.max_items:
        errors.append(f"{path}: has {len(value)} items, at most {spec.max_items} allowed")
    if spec.items is not None:
        for index, item in enumerate(value):
            errors.extend(check_value(spec.items, item, f"{path}[{index}]"))
    if spec.unique:
        first_seen: dict[str, int] = {}
        for index, item in enumerate(value):
            key = _unique_key(item)
            if key in first_seen:
                errors.append(f"{path}[{index}]: duplicate of {path}[{first_seen[key]}]")
            else:
                first_seen[key] = index
    return errors


def check_mapping(fields: Mapping[str, Field], value: Mapping[Any, Any], path: str) -> list[str]:
    """Check keys (unknown, missing) and every known value of a mapping."""
    errors: list[str] = []
    for key in value:
        if not isinstance(key, str):
            errors.append(f"{join_path(path, str(key))}: keys must be strings, got {_type_label(key)}")
        elif key not in fields:
            errors.append(f"{join_path(path, key)}: {unknown_key_message(key, fields)}")
    for key, spec in fields.items():
        if key in value:
            errors.extend(check_value(spec, value[key], join_path(path, key)))
        elif spec.required:
            errors.append(f"{join_path(path, key)}: is required but missing")
    return errors


def apply_defaults(spec: Field, value: Any) -> Any:
    """Return a deep copy of ``value`` with every missing default filled in.

    Values of the wrong type are copied unchanged, so this is safe to run on a
    definition that has not been validated yet (the cross-field checks do).
    """
    value = copy.deepcopy(value)
    _fill_defaults(spec, value)
    return value


def _fill_defaults(spec: Field, value: Any) -> None:
    if spec.type == "dict" and spec.fields is not None and isinstance(value, dict):
        for key, child in spec.fields.items():
            if key not in value and child.default is not MISSING:
                value[key] = copy.deepcopy(child.default)
            if key in value:
                _fill_defaults(child, value[key])
    elif spec.type == "list" and spec.items is not None and isinstance(value, list):
        for item in value:
            _fill_defaults(spec.items, item)


# --------------------------------------------------------------------------
# Field-level rules (each returns messages without the field path)
# --------------------------------------------------------------------------

# RFC 1918 private ranges: the tenant VPC must never collide with public space.
PRIVATE_NETWORKS = tuple(ipaddress.IPv4Network(cidr) for cidr in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
# design.md section 4: a tenant VPC is /16 to /22 (a /22 still gives six /25
# subnets: public and private in up to three AZs).
VPC_PREFIX_MIN = 16
VPC_PREFIX_MAX = 22


def check_vpc_cidr(value: str) -> list[str]:
    try:
        network = ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        return [f"{show(value)} is not an IPv4 network in CIDR notation (e.g. 10.40.0.0/16)"]
    if "/" not in value:
        return [f"{show(value)} has no prefix length (e.g. {network.network_address}/16)"]
    errors: list[str] = []
    if str(network) != value:
        errors.append(f"{show(value)} has host bits set (did you mean {network}?)")
    if not VPC_PREFIX_MIN <= network.prefixlen <= VPC_PREFIX_MAX:
        errors.append(f"prefix /{network.prefixlen} is outside /{VPC_PREFIX_MIN} to /{VPC_PREFIX_MAX}")
    if not any(network.subnet_of(private) for private in PRIVATE_NETWORKS):
        errors.append(f"{network} is not inside an RFC 1918 private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)")
    return errors


# Microsoft, "Naming conventions in Active Directory for computers, domains,
# sites, and OUs": the FQDN of an AD domain is limited to 64 characters; DNS
# labels are 1-63 characters (RFC 1035). botocore ds CreateMicrosoftAD.Name
# pattern: labels of letters/digits joined by "." or "-".
AD_FQDN_MAX_LENGTH = 64
_DNS_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def check_domain_name(value: str) -> list[str]:
    errors: list[str] = []
    labels = value.split(".")
    if len(labels) < 2:
        errors.append(f"{show(value)} needs at least two DNS labels (e.g. corp.example.com)")
    if len(value) > AD_FQDN_MAX_LENGTH:
        errors.append(
            f"{len(value)} characters is longer than the {AD_FQDN_MAX_LENGTH} "
            "allowed for an Active Directory domain name"
        )
    bad = [label for label in labels if not _DNS_LABEL.fullmatch(label)]
    if bad:
        errors.append(f"label {show(bad[0])} is not a DNS label (1-63 letters, digits or inner hyphens)")
    elif labels[-1].isdigit():
        errors.append(f"the top-level label {show(labels[-1])} must not be all digits")
    return errors


def check_netbios(value: str) -> list[str]:
    # NetBIOS names of all digits are read as addresses by Windows clients.
    if value.isdigit():
        return [f"{show(value)} must not be all digits"]
    return []


# Characters that must be escaped in an LDAP distinguished name (RFC 4514) or
# that AD rejects in an OU name: the toolkit refuses them instead of escaping,
# so a name reads the same in AD, in GPO links and in AppStream's OU setting.
_DN_UNSAFE = frozenset(',+"\\<>;=/#')


def dn_unsafe_characters(value: str) -> list[str]:
    return sorted({char for char in value if char in _DN_UNSAFE})


def check_ad_name(value: str) -> list[str]:
    """Rules for a name written into an AD object (given name, surname, CN)."""
    errors: list[str] = []
    if value != value.strip():
        errors.append(f"{show(value)} has leading or trailing spaces")
    unsafe = dn_unsafe_characters(value)
    if unsafe:
        errors.append(
            f"{show(value)} contains {' '.join(show(char) for char in unsafe)}, "
            "which would break an AD distinguished name"
        )
    return errors


def check_ou_name(value: str) -> list[str]:
    # facts.md: AppStream rejects OU distinguished names containing spaces.
    errors = check_ad_name(value)
    if " " in value.strip():
        errors.append(f"{show(value)} contains a space; AppStream cannot use such an OU")
    return errors


# Pre-Windows 2000 logon name (sAMAccountName): at most 20 characters for user
# objects; this toolkit keeps to letters, digits, ".", "_" and "-", which every
# tool (SAML NameID DOMAIN\user, GPO %LogonUser%, SMB paths) handles unquoted.
SAM_ACCOUNT_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,19}"
# Accounts that exist in every AWS Managed Microsoft AD (facts.md: Admin lives
# in OU=Users,OU=<NetBIOS>) or in every Windows domain.
RESERVED_USERNAMES = frozenset({"admin", "administrator", "guest", "krbtgt", "defaultaccount"})


def check_username(value: str) -> list[str]:
    errors: list[str] = []
    if value.endswith("."):
        errors.append(f"{show(value)} must not end with a period")
    if value.casefold() in RESERVED_USERNAMES:
        errors.append(f"{show(value)} is a reserved account name in the directory")
    return errors


def derive_username(email: str) -> str:
    """Default sAMAccountName for a SAML user: the cleaned local part of the e-mail."""
    local = email.split("@", 1)[0].lower()
    cleaned = re.sub(r"[^a-z0-9._-]", "", local)[:20]
    return cleaned.strip(".")


# Pragmatic address check (RFC 5321 lengths, dot-atom local part, DNS domain);
# AppStream CreateUser.UserName is at most 128 characters (botocore appstream).
EMAIL_MAX_LENGTH = 128
_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+)"
)


def check_email(value: str) -> list[str]:
    match = _EMAIL.fullmatch(value)
    if not match:
        return [f"{show(value)} is not an e-mail address"]
    if len(match["local"]) > 64:
        return [f"{show(value)} has a local part longer than 64 characters"]
    if len(value) > EMAIL_MAX_LENGTH:
        return [f"{len(value)} characters is longer than the maximum of {EMAIL_MAX_LENGTH}"]
    if match["domain"].rsplit(".", 1)[-1].isdigit():
        return [f"{show(value)} does not end with a domain name"]
    return []


# available_timezones() walks the tz database on every call.
_known_timezones = functools.cache(zoneinfo.available_timezones)


def check_timezone(value: str) -> list[str]:
    # Application Auto Scaling scheduled actions take a canonical IANA name;
    # available_timezones() leaves out file names such as "localtime".
    known = _known_timezones()
    if value in known:
        return []
    if not known:  # no tz database listing on this controller: try loading it
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return []
    close = suggest(value, known)
    hint = f" (did you mean {close}?)" if close else ""
    return [f"{show(value)} is not an IANA time zone name{hint}"]


def check_positive(value: float) -> list[str]:
    if not math.isfinite(value) or value <= 0:
        return [f"{show(value)} must be a finite number greater than 0"]
    return []


IDLE_DISCONNECT_MIN = 60
IDLE_DISCONNECT_MAX = 36000
# botocore appstream CreateFleet.DisconnectTimeoutInSeconds: "between 60 and 36000".
DISCONNECT_TIMEOUT_MIN = 60
DISCONNECT_TIMEOUT_MAX = 36000
# botocore appstream CreateFleet.MaxUserDurationInSeconds: "between 600 and 432000".
MAX_USER_DURATION_MIN = 600
MAX_USER_DURATION_MAX = 432000


def check_idle_disconnect(value: int) -> list[str]:
    # botocore appstream CreateFleet/UpdateFleet.IdleDisconnectTimeoutInSeconds:
    # "specify a value of 0. Otherwise, specify a value between 60 and 36000".
    if value == 0 or IDLE_DISCONNECT_MIN <= value <= IDLE_DISCONNECT_MAX:
        return []
    return [f"{value} must be 0 (never) or between {IDLE_DISCONNECT_MIN} and {IDLE_DISCONNECT_MAX}"]


# FSx for Windows File Server throughput capacities (MB/s): the power-of-two
# steps 8..2048 of botocore fsx CreateFileSystemWindowsConfiguration
# ThroughputCapacity, plus the larger levels of the FSx Windows User Guide
# ("Managing throughput capacity"), which only SINGLE_AZ_2 and MULTI_AZ_1 offer.
FSX_THROUGHPUT_LEVELS = (8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3072, 4608, 6144, 9216, 12288)
FSX_SINGLE_AZ_1_MAX_THROUGHPUT = 2048
# botocore fsx StorageCapacity documentation for Windows file systems.
FSX_SSD_MIN_GIB = 32
FSX_HDD_MIN_GIB = 2000
FSX_MAX_GIB = 65536
# facts.md (FSx): SINGLE_AZ_2 and MULTI_AZ_1 need an AD domain name of at most
# 47 characters.
FSX_DOMAIN_NAME_MAX = {"SINGLE_AZ_2": 47, "MULTI_AZ_1": 47}

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HH_MM = r"([01][0-9]|2[0-3]):[0-5][0-9]"

# Image Assistant create-image (facts.md): an image name must not start with
# these prefixes. Image names are "<tenant>-suite-<hash>", so the tenant name
# inherits the rule.
RESERVED_IMAGE_PREFIXES = ("aws", "amazon", "appstream")


def check_tenant_name(value: str) -> list[str]:
    for prefix in RESERVED_IMAGE_PREFIXES:
        if value.casefold().startswith(prefix):
            return [
                f"{show(value)} starts with {prefix!r}; AppStream image names "
                f"(<tenant>-suite-<hash>) cannot start with {', '.join(RESERVED_IMAGE_PREFIXES)}"
            ]
    return []


# --------------------------------------------------------------------------
# The tenant schema (design.md section 4)
# --------------------------------------------------------------------------

# botocore appstream CreateFleet.InstanceType lists stream.<family>.<size> and
# stream.<family>.<generation>.<size> (stream.memory.z1d.large,
# stream.graphics.g4dn.xlarge): checked by shape, not by a list that ages.
INSTANCE_TYPE = Field(
    "str",
    default="stream.standard.medium",
    pattern=r"stream\.[a-z]+(\.[a-z0-9]+)?\.[a-z0-9]+",
    pattern_hint="stream.<family>.<size> (e.g. stream.standard.medium)",
)
# botocore appstream CreateFleet.ImageName / CreateImageBuilder.Name pattern.
APPSTREAM_NAME_PATTERN = r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,100}"
# Drive letters for the GPO drive maps: A/B are floppy letters, C is the
# system volume and D holds user data on AppStream Windows instances.
DRIVE_LETTER = r"[E-Z]"


def _drive(default: str) -> Field:
    return Field(
        "str",
        default=default,
        pattern=DRIVE_LETTER,
        pattern_hint="a single upper-case drive letter from E to Z",
    )


def _bool(default: bool, description: str) -> Field:
    return Field("bool", default=default, description=description)


SCHEDULE_SCHEMA = Field(
    "dict",
    nullable=True,
    default=None,
    description="Capacity 0 outside working hours (Application Auto Scaling).",
    fields={
        "timezone": Field("str", required=True, check=check_timezone),
        "start": Field("str", required=True, pattern=_HH_MM, pattern_hint='"HH:MM" (24 h)'),
        "stop": Field("str", required=True, pattern=_HH_MM, pattern_hint='"HH:MM" (24 h)'),
        "weekdays": Field(
            "list",
            default=["mon", "tue", "wed", "thu", "fri"],
            min_items=1,
            unique=True,
            items=Field("str", choices=WEEKDAYS),
        ),
    },
)

FLEET_SCHEMA = Field(
    "dict",
    default={},
    fields={
        "type": Field("str", default="ON_DEMAND", choices=("ALWAYS_ON", "ON_DEMAND", "ELASTIC")),
        "instance_type": INSTANCE_TYPE,
        "min_capacity": Field("int", default=1, minimum=0),
        "max_capacity": Field("int", default=2, minimum=1),
        "idle_disconnect_seconds": Field("int", default=900, check=check_idle_disconnect),
        "disconnect_timeout_seconds": Field(
            "int", default=900, minimum=DISCONNECT_TIMEOUT_MIN, maximum=DISCONNECT_TIMEOUT_MAX
        ),
        "max_user_duration_seconds": Field(
            "int", default=28800, minimum=MAX_USER_DURATION_MIN, maximum=MAX_USER_DURATION_MAX
        ),
        "schedule": SCHEDULE_SCHEMA,
    },
)

# design.md section 4: secure defaults; the AppStream API enables every user
# setting that is left unset, so the toolkit always sends all of them.
STACK_SCHEMA = Field(
    "dict",
    default={},
    fields={
        "clipboard_copy_from_local": _bool(True, "CLIPBOARD_COPY_FROM_LOCAL_DEVICE"),
        "clipboard_copy_to_local": _bool(False, "CLIPBOARD_COPY_TO_LOCAL_DEVICE"),
        "file_upload": _bool(True, "FILE_UPLOAD"),
        "file_download": _bool(False, "FILE_DOWNLOAD"),
        "printing": _bool(False, "PRINTING_TO_LOCAL_DEVICE"),
        "persist_app_settings": _bool(True, "ApplicationSettings persistence"),
    },
)

USER_SCHEMA = Field(
    "dict",
    fields={
        "email": Field("str", required=True, check=check_email),
        # AD: givenName and sn are at most 64 characters (AD schema range-upper).
        "first_name": Field("str", required=True, min_length=1, max_length=64),
        "last_name": Field("str", required=True, min_length=1, max_length=64),
        # SAML only: the sAMAccountName; defaults to the cleaned e-mail local part.
        "username": Field(
            "str",
            pattern=SAM_ACCOUNT_NAME_PATTERN,
            pattern_hint="1-20 letters, digits, '.', '_' or '-' starting with a letter or digit",
            check=check_username,
        ),
        "enabled": Field("bool", default=True),
    },
)

TENANT_SCHEMA = Field(
    "dict",
    required=True,
    fields={
        "name": Field(
            "str",
            required=True,
            pattern=r"[a-z][a-z0-9-]{2,23}",
            pattern_hint=(
                "^[a-z][a-z0-9-]{2,23}$ (3-24 characters: a lower-case letter, "
                "then lower-case letters, digits or hyphens)"
            ),
            check=check_tenant_name,
        ),
        "environment": Field("str", required=True, choices=("dev", "test", "prod")),
        "region": Field(
            "str",
            required=True,
            pattern=r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[1-9][0-9]?",
            pattern_hint="an AWS region name (e.g. eu-west-3)",
        ),
        "auth": Field("str", required=True, choices=("saml", "userpool")),
        "network": Field(
            "dict",
            required=True,
            fields={
                "cidr": Field("str", required=True, check=check_vpc_cidr),
                "availability_zones": Field("int", default=2, choices=(2, 3)),
                "nat_gateways": Field("str", default="single", choices=("single", "per_az", "none")),
            },
        ),
        "directory": Field(
            "dict",
            nullable=True,
            default=None,
            fields={
                "fqdn": Field("str", required=True, check=check_domain_name),
                # botocore ds CreateMicrosoftAD.ShortName; NetBIOS names are at
                # most 15 characters. Upper case only: the NetBIOS name is also
                # the OU AWS creates under the domain root (facts.md).
                "netbios": Field(
                    "str",
                    required=True,
                    pattern=r"[A-Z0-9-]{1,15}",
                    pattern_hint="1-15 upper-case letters, digits or hyphens",
                    check=check_netbios,
                ),
                # design.md: Standard is set explicitly, the API default is Enterprise.
                "edition": Field("str", default="Standard", choices=("Standard", "Enterprise")),
                # OU (under OU=<NetBIOS>) that receives AppStream computer objects.
                "appstream_ou": Field("str", default="AppStream", min_length=1, max_length=64, check=check_ou_name),
            },
        ),
        "storage": Field(
            "dict",
            nullable=True,
            default=None,
            fields={
                "deployment_type": Field(
                    "str", default="SINGLE_AZ_2", choices=("SINGLE_AZ_1", "SINGLE_AZ_2", "MULTI_AZ_1")
                ),
                "storage_type": Field("str", default="SSD", choices=("SSD", "HDD")),
                "storage_gib": Field("int", default=FSX_SSD_MIN_GIB),
                "throughput_mbps": Field("int", default=32, choices=FSX_THROUGHPUT_LEVELS),
                # botocore fsx AutomaticBackupRetentionDays: 0 (off) to 90.
                "backup_retention_days": Field("int", default=7, minimum=0, maximum=90),
                "home_drive": _drive("H"),
                "project_drive": _drive("P"),
            },
        ),
        "appstream": Field(
            "dict",
            required=True,
            fields={
                "builder_instance_type": INSTANCE_TYPE,
                "base_image": Field(
                    "str",
                    required=True,
                    pattern=APPSTREAM_NAME_PATTERN,
                    pattern_hint=(
                        "an AppStream image name (1-101 letters, digits, '_', '.' or '-', "
                        "starting with a letter or digit)"
                    ),
                ),
                "fleet": FLEET_SCHEMA,
                "stack": STACK_SCHEMA,
            },
        ),
        "apps": Field("list", required=True, min_items=1, unique=True, items=Field("str")),
        "users": Field("list", default=[], items=USER_SCHEMA),
        "budget": Field(
            "dict",
            required=True,
            fields={
                "monthly_usd": Field("number", required=True, check=check_positive),
                # botocore budgets: at most 11 subscribers per notification; AWS
                # Budgets documents 10 e-mail addresses (plus one SNS topic).
                "notify": Field(
                    "list",
                    required=True,
                    min_items=1,
                    max_items=10,
                    unique=True,
                    items=Field("str", check=check_email),
                ),
            },
        ),
    },
)


# --------------------------------------------------------------------------
# Cross-field rules
# --------------------------------------------------------------------------


def _dig(value: Any, *keys: str) -> Any:
    """Follow mapping keys; ``None`` when a hop is missing or not a mapping."""
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _auth_rules(tenant: Mapping[str, Any]) -> list[str]:
    auth = tenant.get("auth")
    errors: list[str] = []
    for section, what in (("directory", "Managed Microsoft AD"), ("storage", "FSx file system")):
        present = tenant.get(section) is not None
        if auth == "saml" and not present:
            errors.append(f"tenant.{section}: is required when tenant.auth is saml ({what})")
        if auth == "userpool" and present:
            errors.append(
                f"tenant.{section}: is not allowed when tenant.auth is userpool (user-pool tenants have no {what})"
            )
    if auth == "userpool":
        for index, user in enumerate(_list(tenant.get("users"))):
            if isinstance(user, Mapping) and user.get("username") is not None:
                errors.append(
                    f"tenant.users[{index}].username: is only allowed when tenant.auth is saml "
                    "(user-pool users sign in with their e-mail address)"
                )
    return errors


def _storage_rules(tenant: Mapping[str, Any]) -> list[str]:
    storage = tenant.get("storage")
    if not isinstance(storage, Mapping):
        return []
    errors: list[str] = []
    deployment = storage.get("deployment_type")
    storage_type = storage.get("storage_type")
    size = storage.get("storage_gib")
    throughput = storage.get("throughput_mbps")
    if storage_type == "HDD" and deployment == "SINGLE_AZ_1":
        errors.append(
            "tenant.storage.storage_type: HDD is not available with SINGLE_AZ_1 (use SINGLE_AZ_2 or MULTI_AZ_1)"
        )
    minimum = {"SSD": FSX_SSD_MIN_GIB, "HDD": FSX_HDD_MIN_GIB}.get(storage_type)
    if _is_int(size) and minimum is not None:
        if size < minimum:
            errors.append(f"tenant.storage.storage_gib: {size} is below the {storage_type} minimum of {minimum}")
        elif size > FSX_MAX_GIB:
            errors.append(f"tenant.storage.storage_gib: {size} is above the {storage_type} maximum of {FSX_MAX_GIB}")
    if _is_int(throughput) and deployment == "SINGLE_AZ_1" and throughput > FSX_SINGLE_AZ_1_MAX_THROUGHPUT:
        errors.append(
            f"tenant.storage.throughput_mbps: {throughput} is above the SINGLE_AZ_1 maximum "
            f"of {FSX_SINGLE_AZ_1_MAX_THROUGHPUT}"
        )
    home, project = storage.get("home_drive"), storage.get("project_drive")
    if isinstance(home, str) and home == project:
        errors.append(f"tenant.storage.project_drive: {show(project)} is the same letter as tenant.storage.home_drive")
    fqdn = _dig(tenant, "directory", "fqdn")
    limit = FSX_DOMAIN_NAME_MAX.get(deployment)
    if isinstance(fqdn, str) and limit is not None and len(fqdn) > limit:
        errors.append(
            f"tenant.directory.fqdn: {len(fqdn)} characters is longer than the {limit} "
            f"that FSx allows with tenant.storage.deployment_type {deployment}"
        )
    return errors


def _fleet_rules(tenant: Mapping[str, Any]) -> list[str]:
    fleet = _dig(tenant, "appstream", "fleet")
    if not isinstance(fleet, Mapping):
        return []
    errors: list[str] = []
    path = "tenant.appstream.fleet"
    if fleet.get("type") == "ELASTIC":
        if tenant.get("auth") == "saml":
            errors.append(f"{path}.type: ELASTIC fleets cannot be domain-joined; they need tenant.auth userpool")
        if fleet.get("schedule") is not None:
            errors.append(f"{path}.schedule: ELASTIC fleets have no capacity to schedule; remove the schedule")
    low, high = fleet.get("min_capacity"), fleet.get("max_capacity")
    if _is_int(low) and _is_int(high) and low > high:
        errors.append(f"{path}.min_capacity: {low} is above {path}.max_capacity ({high})")
    schedule = fleet.get("schedule")
    start, stop = _dig(schedule, "start"), _dig(schedule, "stop")
    if (
        isinstance(start, str)
        and isinstance(stop, str)
        and re.fullmatch(_HH_MM, start)
        and re.fullmatch(_HH_MM, stop)
        and start >= stop
    ):
        errors.append(f'{path}.schedule.stop: "{stop}" must be later than start "{start}"')
    return errors


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _user_rules(tenant: Mapping[str, Any]) -> list[str]:
    users = _list(tenant.get("users"))
    saml = tenant.get("auth") == "saml"
    errors: list[str] = []
    seen_email: dict[str, int] = {}
    seen_username: dict[str, int] = {}
    seen_cn: dict[str, int] = {}
    for index, user in enumerate(users):
        if not isinstance(user, Mapping):
            continue
        path = f"tenant.users[{index}]"
        email = user.get("email")
        duplicate_email = False
        if isinstance(email, str):
            key = email.casefold()
            duplicate_email = key in seen_email
            if duplicate_email:
                errors.append(f"{path}.email: duplicate of tenant.users[{seen_email[key]}].email")
            seen_email.setdefault(key, index)
        for name_key in ("first_name", "last_name"):
            name = user.get(name_key)
            if not isinstance(name, str) or not name:
                continue
            if saml:
                errors.extend(f"{path}.{name_key}: {message}" for message in check_ad_name(name))
            elif not re.fullmatch(r"[A-Za-z0-9_\-\s]+", name) or name != name.strip():
                # botocore appstream CreateUser.FirstName/LastName pattern.
                errors.append(
                    f"{path}.{name_key}: {show(name)} may only contain ASCII letters, "
                    "digits, spaces, '_' and '-' for AppStream user-pool users"
                )
        if not saml:
            continue
        first, last = user.get("first_name"), user.get("last_name")
        if isinstance(first, str) and isinstance(last, str):
            common_name = f"{first} {last}"
            key = common_name.casefold()
            if len(common_name) > 64:
                errors.append(f"{path}: the AD common name {show(common_name)} is longer than 64 characters")
            if key in seen_cn:
                errors.append(
                    f"{path}: {show(common_name)} has the same AD common name as "
                    f"tenant.users[{seen_cn[key]}] (names must be unique in the users OU)"
                )
            seen_cn.setdefault(key, index)
        if not duplicate_email:  # a duplicate e-mail would also repeat its username
            errors.extend(_username_rules(user, path, seen_username, index))
    return errors


def _username_rules(user: Mapping[str, Any], path: str, seen: dict[str, int], index: int) -> list[str]:
    """sAMAccountName rules for one SAML user, explicit or derived from the e-mail."""
    username = user.get("username")
    email = user.get("email")
    if username is None:
        if not isinstance(email, str) or not _EMAIL.fullmatch(email):
            return []  # the e-mail error is already reported
        username = derive_username(email)
        problems = [] if re.fullmatch(SAM_ACCOUNT_NAME_PATTERN, username) else ["is not usable"]
        problems += check_username(username)
        if problems:
            return [
                f"{path}.email: the username derived from it, {show(username)}, "
                f"{'; '.join(problems)}; set {path}.username"
            ]
        origin = f"{path}.email: derives the username {show(username)}, which"
        remedy = f"; set {path}.username"
    elif isinstance(username, str):
        origin = f"{path}.username: {show(username)}"
        remedy = ""
    else:
        return []
    key = username.casefold()
    if key in seen:
        return [f"{origin} is already the username of tenant.users[{seen[key]}]{remedy}"]
    seen[key] = index
    return []


def _apps_rules(tenant: Mapping[str, Any], catalogue: Any) -> list[str]:
    if not isinstance(catalogue, Mapping):
        return [f"app_catalogue: must be a mapping of application keys, got {_type_label(catalogue)}"]
    errors: list[str] = []
    for index, key in enumerate(_list(tenant.get("apps"))):
        if isinstance(key, str) and key not in catalogue:
            close = suggest(key, (str(k) for k in catalogue))
            hint = f" (did you mean {close}?)" if close else ""
            errors.append(f"tenant.apps[{index}]: {show(key)} is not in app_catalogue{hint}")
    return errors


CROSS_FIELD_RULES: tuple[Callable[[Mapping[str, Any]], list[str]], ...] = (
    _auth_rules,
    _storage_rules,
    _fleet_rules,
    _user_rules,
)


# --------------------------------------------------------------------------
# Rules across the tenants of one run
# --------------------------------------------------------------------------

# How many other hosts a message names before it says "and N more".
RUN_HOSTS_SHOWN = 5


def _hosts_phrase(hosts: list[str]) -> str:
    """Hosts in a sentence: "host a", "hosts a and b", "hosts a, b, c, d, e and 3 more"."""
    if len(hosts) == 1:
        return f"host {hosts[0]}"
    shown = hosts[:RUN_HOSTS_SHOWN]
    rest = len(hosts) - len(shown)
    if rest:
        return f"hosts {', '.join(shown)} and {rest} more"
    return f"hosts {', '.join(shown[:-1])} and {shown[-1]}"


def _vpc_network(value: Any) -> ipaddress.IPv4Network | None:
    """The network of a valid tenant.network.cidr, else ``None`` (its errors are reported on its own)."""
    if not isinstance(value, str) or check_vpc_cidr(value):
        return None
    return ipaddress.IPv4Network(value)


# --------------------------------------------------------------------------
# Secrets supplied through ansible-vault (design.md section 4)
# --------------------------------------------------------------------------

# botocore ds CreateMicrosoftAD.Password (shape Password): 8-64 characters and
# characters of at least three of four classes; whitespace is no "special"
# character there ([^A-Za-z0-9\s]), and "." matches no line break.
AD_ADMIN_PASSWORD_MIN = 8
AD_ADMIN_PASSWORD_MAX = 64
_PASSWORD_CLASSES = (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9\s]")
# Microsoft, "Password must meet complexity requirements": a password must not
# contain the account's whole sAMAccountName (case-insensitive) when that name
# has three characters or more; the Managed AD account is "Admin" (facts.md).
AD_ADMIN_ACCOUNT = "Admin"
# botocore appstream ServiceAccountCredentials.AccountPassword: 1-127 characters.
APPSTREAM_SERVICE_PASSWORD_MAX = 127
AD_ADMIN_RULE_SOURCE = "CreateMicrosoftAD password policy"


def check_directory_admin_password(value: str) -> list[str]:
    """The Admin password of a Managed Microsoft AD; messages state rules, never the value."""
    errors: list[str] = []
    if "\n" in value or "\r" in value:
        errors.append(f"must not contain a line break ({AD_ADMIN_RULE_SOURCE})")
    if not AD_ADMIN_PASSWORD_MIN <= len(value) <= AD_ADMIN_PASSWORD_MAX:
        errors.append(
            f"must be {AD_ADMIN_PASSWORD_MIN} to {AD_ADMIN_PASSWORD_MAX} characters long ({AD_ADMIN_RULE_SOURCE})"
        )
    if sum(1 for pattern in _PASSWORD_CLASSES if re.search(pattern, value)) < 3:
        errors.append(
            "must contain characters of at least three of these four kinds: lower-case letters, "
            f"upper-case letters, digits, other characters such as !-_#% ({AD_ADMIN_RULE_SOURCE})"
        )
    if AD_ADMIN_ACCOUNT.casefold() in value.casefold():
        errors.append(
            f'must not contain the account name "{AD_ADMIN_ACCOUNT}" in any case (Active Directory password complexity)'
        )
    return errors


def check_appstream_service_password(value: str) -> list[str]:
    if not 1 <= len(value) <= APPSTREAM_SERVICE_PASSWORD_MAX:
        return [
            f"must be 1 to {APPSTREAM_SERVICE_PASSWORD_MAX} characters long "
            "(AppStream ServiceAccountCredentials.AccountPassword)"
        ]
    return []


def check_not_empty(value: str) -> list[str]:
    return [] if value else ["must not be empty"]


@dataclass(frozen=True)
class VaultVariable:
    """A secret the roles read from an ansible-vault variable when the operator supplies it."""

    check: Check
    # What the run does when the variable is unset, i.e. what a variable that
    # cannot be resolved would silently turn into.
    fallback: str
    # Only SAML tenants use it (they have the directory it belongs to).
    saml_only: bool


VAULT_VARIABLES: dict[str, VaultVariable] = {
    # roles aws_directory, ad_structure, gpo_drive_mapping, file_share_folders; domain_join's fallback.
    "vault_directory_admin_password": VaultVariable(
        check_directory_admin_password,
        "the directory stage would generate a new Admin password and keep it in Secrets Manager",
        saml_only=True,
    ),
    # role appstream_directory (directory config of AppStream).
    "vault_appstream_service_password": VaultVariable(
        check_appstream_service_password,
        "AppStream would get the service account password kept in Secrets Manager",
        saml_only=True,
    ),
    # role domain_join.
    "vault_domain_join_password": VaultVariable(
        check_not_empty,
        "domain joins would use vault_directory_admin_password",
        saml_only=True,
    ),
    # playbooks/image.yml with image_build_mode=winrm.
    "vault_image_winrm_password": VaultVariable(
        check_not_empty,
        "the image stage would stop, after the network was built, for want of a WinRM password",
        saml_only=False,
    ),
}


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def validate_tenant(tenant: object, catalogue: Mapping[str, Any]) -> list[str]:
    """Return every error of a tenant definition (empty when it is valid).

    Structural rules (types, required and unknown keys, single-field limits)
    run first on the definition as written; cross-field rules then run on the
    definition with its defaults filled in, so that a rule involving an
    omitted field uses the value the toolkit would apply.
    """
    if tenant is None:
        return ["tenant: is required but missing (define it in host_vars/<tenant>/tenant.yml)"]
    errors = check_value(TENANT_SCHEMA, tenant, "tenant")
    if not isinstance(tenant, Mapping):
        return errors
    effective = apply_defaults(TENANT_SCHEMA, dict(tenant))
    for rule in CROSS_FIELD_RULES:
        errors.extend(rule(effective))
    errors.extend(_apps_rules(effective, catalogue))
    return errors


def normalise_tenant(tenant: Mapping[str, Any]) -> dict[str, Any]:
    """Return a deep copy of a valid tenant with every documented default set.

    Optional sections that are absent become ``None`` (``directory``,
    ``storage``, ``appstream.fleet.schedule``), SAML users get their derived
    ``username``, user-pool users ``username: None``. Call it only on a
    definition for which ``validate_tenant`` returned no error.
    """
    normalised = apply_defaults(TENANT_SCHEMA, dict(tenant))
    saml = normalised["auth"] == "saml"
    for user in normalised["users"]:
        if not saml:
            user["username"] = None
        elif user.get("username") is None:
            user["username"] = derive_username(user["email"])
    return normalised


def validate_run_tenants(host: str, run_tenants: Iterable[Iterable[Any]]) -> tuple[list[str], list[str]]:
    """Rules across the tenant hosts of one run, seen from ``host``: ``(errors, warnings)``.

    ``run_tenants`` holds ``(host, tenant.name, tenant.network.cidr)`` for every
    tenant host of the run, ``host`` included; values that are missing or
    invalid are skipped (each host reports its own). Two hosts naming the same
    tenant would converge one tenant's resources twice, concurrently: an error.
    Overlapping VPC ranges are legal in AWS, since every tenant has a VPC of its
    own, but a controller cannot route to both at once, nor can the VPCs ever be
    peered or share a transit gateway: a warning (operator-guide, section 1,
    "Network reach from the controller into the tenant VPC").
    """
    entries = [tuple(entry) for entry in run_tenants]
    mine = [entry for entry in entries if len(entry) == 3 and entry[0] == host]
    if not mine:
        return [], []
    name, cidr = mine[0][1:]
    others = [entry for entry in entries if len(entry) == 3 and entry[0] != host]
    errors: list[str] = []
    warnings: list[str] = []
    if isinstance(name, str) and name:
        twins = sorted({str(entry[0]) for entry in others if entry[1] == name})
        if twins:
            errors.append(
                f"tenant.name: {show(name)} is also the tenant.name of {_hosts_phrase(twins)} in this run; "
                f"{_hosts_phrase(sorted([host, *twins]))} would converge the same tenant's resources at "
                "once (they are named after tenant.name): give each tenant host a name of its own, or drop the "
                "duplicate inventory"
            )
    network = _vpc_network(cidr)
    if network is not None:
        overlapping = []
        for other, other_name, other_cidr in others:
            other_network = _vpc_network(other_cidr)
            # A host of the same tenant name already fails; its range says nothing more.
            if other_name != name and other_network is not None and network.overlaps(other_network):
                overlapping.append(f"{other} ({other_network})")
        overlapping.sort()
        if overlapping:
            warnings.append(
                f"tenant.network.cidr: {network} of host {host} overlaps the VPC range of "
                f"{_hosts_phrase(overlapping)} in this run. AWS accepts it, since each tenant has a VPC of its own, "
                "but one controller cannot reach both VPCs at once (bastion and sshuttle, Client VPN, peering or a "
                "transit gateway) and the two can never be peered: give each tenant its own range unless the "
                "overlap is deliberate"
            )
    return errors, warnings


def validate_vault_variables(
    secrets: Mapping[str, Any],
    set_names: Iterable[str] = (),
    auth: str | None = None,
) -> tuple[list[str], list[str]]:
    """Check the secrets supplied through ansible-vault: ``(errors, warnings)``.

    ``secrets`` maps each variable of ``VAULT_VARIABLES`` that is set for the
    tenant host to its value; ``None`` stands for a variable that is set but
    resolves to nothing (null, or a reference to an undefined variable such as
    one of a vault file that was not loaded), which the roles would take for
    unset. ``set_names`` lists every ``vault_*`` variable set, to point out
    misspelt ones. ``auth`` is the tenant's sign-in mode. Messages name the
    variable and the rule, never the value.
    """
    errors: list[str] = []
    warnings: list[str] = []
    for name, value in secrets.items():
        rule = VAULT_VARIABLES.get(name)
        if rule is None:
            continue
        if value is None:
            errors.append(
                f"{name}: is set but resolves to nothing (null, or a reference to an undefined variable: "
                f"is the vault file that defines it loaded?); without it {rule.fallback}"
            )
        elif not isinstance(value, str):
            errors.append(f"{name}: must be a string, got {_type_label(value)}")
        else:
            errors.extend(f"{name}: {message}" for message in rule.check(value))
        if rule.saml_only and auth == "userpool":
            warnings.append(f"{name}: is not used: user-pool tenants have no directory")
    for name in sorted(set(set_names) - set(VAULT_VARIABLES)):
        close = suggest(name, VAULT_VARIABLES)
        if close:
            warnings.append(f"{name}: is not a variable the toolkit reads (did you mean {close}?); it is ignored")
    return errors, warnings


# The union is quoted: module_utils are also checked against the oldest Python a module
# target may have (ansible-test's pylint), where `|` between types fails at import time.
OpsSpec = Mapping[str, "Mapping[str, Any] | Field"]

_TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
_FALSE_WORDS = frozenset({"false", "no", "off", "0"})


def _ops_fields(spec: OpsSpec) -> dict[str, Field]:
    return {name: rule if isinstance(rule, Field) else Field(**rule) for name, rule in spec.items()}


def coerce_scalar(rule: Field, value: Any) -> Any:
    """Convert a ``-e name=value`` string to the rule's scalar type when it reads as one.

    Extra variables given as ``key=value`` always reach a play as strings;
    values that do not convert are returned unchanged and then fail the type
    check with a clear message.
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    if rule.type == "int" and re.fullmatch(r"[+-]?[0-9]+", text):
        return int(text)
    if rule.type == "number" and re.fullmatch(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)", text):
        return float(text) if "." in text else int(text)
    if rule.type == "bool" and text.lower() in _TRUE_WORDS | _FALSE_WORDS:
        return text.lower() in _TRUE_WORDS
    return value


def validate_ops_vars(
    spec: OpsSpec,
    values: Mapping[str, Any],
    prefix: str = "",
    *,
    allow_unknown: bool = True,
) -> list[str]:
    """Check an ops playbook's extra variables; return every error at once.

    ``spec`` maps a variable name to a ``Field`` or to a dict of ``Field``
    arguments, e.g. ``{"fleet_desired": {"type": "int", "required": True,
    "minimum": 0}}``. ``values`` are the playbook's variables (unrelated
    variables are ignored unless ``allow_unknown`` is false). A variable set
    to ``None`` counts as absent; ``key=value`` strings that read as the
    expected scalar type are accepted (see ``normalise_ops_vars``).
    """
    fields = _ops_fields(spec)
    errors: list[str] = []
    if not allow_unknown:
        for name in values:
            if name not in fields:
                errors.append(f"{join_path(prefix, name)}: {unknown_key_message(name, fields)}")
    for name, rule in fields.items():
        path = join_path(prefix, name)
        value = values.get(name)
        if value is None:
            if rule.required:
                # A short list of choices is spelt out: the operator sees every accepted form.
                forms = [f"-e {name}={choice}" for choice in rule.choices] if 0 < len(rule.choices) <= 4 else []
                errors.append(f"{path}: is required but missing (pass {' or '.join(forms or [f'-e {name}=...'])})")
            continue
        errors.extend(check_value(rule, coerce_scalar(rule, value), path))
    return errors


def normalise_ops_vars(spec: OpsSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the specified variables converted to their types, defaults filled in.

    Call it after ``validate_ops_vars`` returned no error; variables without
    a value or a default are ``None``.
    """
    result: dict[str, Any] = {}
    for name, rule in _ops_fields(spec).items():
        value = values.get(name)
        if value is None:
            value = None if rule.default is MISSING else copy.deepcopy(rule.default)
        result[name] = apply_defaults(rule, coerce_scalar(rule, value))
    return result
