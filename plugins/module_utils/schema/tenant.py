# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tenant definition contract (design.md section 4): its schema with defaults, the rules across
fields, the rules across the tenants of one run, and the normalised definition the roles read
(tenant_spec).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.checks import (
    _EMAIL,
    _HH_MM,
    DISCONNECT_TIMEOUT_MAX,
    DISCONNECT_TIMEOUT_MIN,
    ELASTIC_FLEET_INSTANCE_TYPES,
    FSX_DOMAIN_NAME_MAX,
    FSX_HDD_MIN_GIB,
    FSX_MAX_GIB,
    FSX_SINGLE_AZ_1_MAX_THROUGHPUT,
    FSX_SSD_MIN_GIB,
    FSX_THROUGHPUT_LEVELS,
    MAX_USER_DURATION_MAX,
    MAX_USER_DURATION_MIN,
    SAM_ACCOUNT_NAME_PATTERN,
    WEEKDAYS,
    check_ad_name,
    check_builder_instance_type,
    check_domain_name,
    check_email,
    check_fleet_instance_type,
    check_idle_disconnect,
    check_netbios,
    check_ou_name,
    check_positive,
    check_tenant_name,
    check_timezone,
    check_username,
    check_vpc_cidr,
    derive_username,
    instance_type_problem,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.engine import (
    Field,
    apply_defaults,
    as_list,
    check_value,
    dig,
    is_int,
    show,
    suggest,
    template_marker_errors,
    type_label,
)

# Instance types AppStream offers (schema.checks INSTANCE_FAMILY_SIZES, from the
# AppStream instance families and the API Reference): a name of the right shape
# such as stream.bogus.medium would otherwise pass and fail at CreateFleet or
# CreateImageBuilder, after the network and directory stages ran.
FLEET_INSTANCE_TYPE = Field("str", default="stream.standard.medium", check=check_fleet_instance_type)
BUILDER_INSTANCE_TYPE = Field("str", default="stream.standard.medium", check=check_builder_instance_type)


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
        "instance_type": FLEET_INSTANCE_TYPE,
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
                "builder_instance_type": BUILDER_INSTANCE_TYPE,
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
        for index, user in enumerate(as_list(tenant.get("users"))):
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
    if is_int(size) and minimum is not None:
        if size < minimum:
            errors.append(f"tenant.storage.storage_gib: {size} is below the {storage_type} minimum of {minimum}")
        elif size > FSX_MAX_GIB:
            errors.append(f"tenant.storage.storage_gib: {size} is above the {storage_type} maximum of {FSX_MAX_GIB}")
    if is_int(throughput) and deployment == "SINGLE_AZ_1" and throughput > FSX_SINGLE_AZ_1_MAX_THROUGHPUT:
        errors.append(
            f"tenant.storage.throughput_mbps: {throughput} is above the SINGLE_AZ_1 maximum "
            f"of {FSX_SINGLE_AZ_1_MAX_THROUGHPUT}"
        )
    home, project = storage.get("home_drive"), storage.get("project_drive")
    if isinstance(home, str) and home == project:
        errors.append(f"tenant.storage.project_drive: {show(project)} is the same letter as tenant.storage.home_drive")
    fqdn = dig(tenant, "directory", "fqdn")
    limit = FSX_DOMAIN_NAME_MAX.get(deployment)
    if isinstance(fqdn, str) and limit is not None and len(fqdn) > limit:
        errors.append(
            f"tenant.directory.fqdn: {len(fqdn)} characters is longer than the {limit} "
            f"that FSx allows with tenant.storage.deployment_type {deployment}"
        )
    return errors


def _fleet_rules(tenant: Mapping[str, Any]) -> list[str]:
    fleet = dig(tenant, "appstream", "fleet")
    if not isinstance(fleet, Mapping):
        return []
    errors: list[str] = []
    path = "tenant.appstream.fleet"
    if fleet.get("type") == "ELASTIC":
        instance_type = fleet.get("instance_type")
        if isinstance(instance_type, str) and not check_fleet_instance_type(instance_type):
            problem = instance_type_problem(instance_type, ELASTIC_FLEET_INSTANCE_TYPES, "ELASTIC fleets")
            if problem:
                errors.append(f"{path}.instance_type: {problem}")
        if tenant.get("auth") == "saml":
            errors.append(f"{path}.type: ELASTIC fleets cannot be domain-joined; they need tenant.auth userpool")
        if fleet.get("schedule") is not None:
            errors.append(f"{path}.schedule: ELASTIC fleets have no capacity to schedule; remove the schedule")
    low, high = fleet.get("min_capacity"), fleet.get("max_capacity")
    if is_int(low) and is_int(high) and low > high:
        errors.append(f"{path}.min_capacity: {low} is above {path}.max_capacity ({high})")
    schedule = fleet.get("schedule")
    start, stop = dig(schedule, "start"), dig(schedule, "stop")
    if (
        isinstance(start, str)
        and isinstance(stop, str)
        and re.fullmatch(_HH_MM, start)
        and re.fullmatch(_HH_MM, stop)
        and start >= stop
    ):
        errors.append(f'{path}.schedule.stop: "{stop}" must be later than start "{start}"')
    return errors


def _user_rules(tenant: Mapping[str, Any]) -> list[str]:
    users = as_list(tenant.get("users"))
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
        return [f"app_catalogue: must be a mapping of application keys, got {type_label(catalogue)}"]
    errors: list[str] = []
    for index, key in enumerate(as_list(tenant.get("apps"))):
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


def validate_tenant(tenant: object, catalogue: Mapping[str, Any]) -> list[str]:
    """Return every error of a tenant definition (empty when it is valid).

    Structural rules (types, required and unknown keys, single-field limits)
    run first on the definition as written; cross-field rules then run on the
    definition with its defaults filled in, so that a rule involving an
    omitted field uses the value the toolkit would apply.
    """
    if tenant is None:
        return ["tenant: is required but missing (define it in host_vars/<tenant>/tenant.yml)"]
    # Before anything else looks at the values: a definition that carries template syntax is refused
    # whole, so that no later rule or message ever handles such a value.
    injected = template_marker_errors(tenant, "tenant")
    if injected:
        return injected
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
