# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tenant definition contract (design.md section 4): its schema with defaults, the rules across
fields, the rules across the tenants of one run, and the normalised definition the roles read
(tenant_spec).

This module is where the contract is described: each Field's description, and for the rules across
fields the docstring of their function (its first line names what they cover, its "- " lines are the
rules; ``{NAME}`` stands for the value of the constant NAME), make docs/tenant-definition.md
(scripts/tenant_definition_doc.py).
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
    INSTRUMENT_NAME_HINT,
    INSTRUMENT_NAME_PATTERN,
    MAX_USER_DURATION_MAX,
    MAX_USER_DURATION_MIN,
    SAM_ACCOUNT_NAME_PATTERN,
    TOOLKIT_GROUP_NAME_SUFFIXES,
    WEEKDAYS,
    account_name_problems,
    check_ad_name,
    check_builder_instance_type,
    check_builders_ou_name,
    check_domain_name,
    check_email,
    check_fleet_instance_type,
    check_idle_disconnect,
    check_instrument_name,
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
    Check,
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


# Instance types AppStream offers (schema.checks INSTANCE_FAMILY_SIZES, from the AppStream instance
# families and the API Reference): a name of the right shape such as stream.bogus.medium would
# otherwise pass and fail at CreateFleet or CreateImageBuilder, after the network and directory
# stages ran.
def _instance_type(description: str, check: Check) -> Field:
    return Field("str", default="stream.standard.medium", check=check, description=description)


# botocore appstream CreateFleet.ImageName / CreateImageBuilder.Name pattern.
APPSTREAM_NAME_PATTERN = r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,100}"


# Drive letters for the GPO drive maps: A/B are floppy letters, C is the
# system volume and D holds user data on AppStream Windows instances.
DRIVE_LETTER = r"[E-Z]"


def _drive(default: str, description: str) -> Field:
    return Field(
        "str",
        default=default,
        pattern=DRIVE_LETTER,
        pattern_hint="a single upper-case drive letter from E to Z",
        description=description,
    )


def _bool(default: bool, description: str) -> Field:
    return Field("bool", default=default, description=description)


SCHEDULE_SCHEMA = Field(
    "dict",
    nullable=True,
    default=None,
    description=(
        "Working hours of the fleet: outside them its capacity is 0 (two Application Auto Scaling scheduled "
        "actions). Without a schedule the capacity never drops to 0."
    ),
    fields={
        "timezone": Field("str", required=True, check=check_timezone, description="Time zone of `start` and `stop`."),
        "start": Field(
            "str",
            required=True,
            pattern=_HH_MM,
            pattern_hint='"HH:MM" (24 h)',
            description="Time the capacity returns to `min_capacity`..`max_capacity` (quote it in YAML).",
        ),
        "stop": Field(
            "str",
            required=True,
            pattern=_HH_MM,
            pattern_hint='"HH:MM" (24 h)',
            description="Time the capacity drops to 0 (quote it in YAML).",
        ),
        "weekdays": Field(
            "list",
            default=["mon", "tue", "wed", "thu", "fri"],
            min_items=1,
            unique=True,
            items=Field("str", choices=WEEKDAYS),
            description="Days on which the capacity returns at `start` and drops at `stop`.",
        ),
    },
)


FLEET_SCHEMA = Field(
    "dict",
    default={},
    description="The fleet users stream from, `<name>-fleet`.",
    fields={
        "type": Field(
            "str",
            default="ON_DEMAND",
            choices=("ALWAYS_ON", "ON_DEMAND", "ELASTIC"),
            description=(
                "Fleet type: `ALWAYS_ON` instances run all the time, `ON_DEMAND` instances are stopped until a "
                "user connects, `ELASTIC` sessions run on a pool AWS manages (user-pool tenants only)."
            ),
        ),
        "instance_type": _instance_type("Instance type of the streaming instances.", check_fleet_instance_type),
        "min_capacity": Field(
            "int",
            default=1,
            minimum=0,
            description="Minimum number of instances (Application Auto Scaling); the capacity of a new fleet.",
        ),
        "max_capacity": Field(
            "int",
            default=2,
            minimum=1,
            description="Maximum number of instances; for an `ELASTIC` fleet, of concurrent sessions.",
        ),
        "idle_disconnect_seconds": Field(
            "int",
            default=900,
            check=check_idle_disconnect,
            description="Seconds without user input after which a user is disconnected.",
        ),
        "disconnect_timeout_seconds": Field(
            "int",
            default=900,
            minimum=DISCONNECT_TIMEOUT_MIN,
            maximum=DISCONNECT_TIMEOUT_MAX,
            description="Seconds a disconnected session is kept for the user to reconnect to.",
        ),
        "max_user_duration_seconds": Field(
            "int",
            default=28800,
            minimum=MAX_USER_DURATION_MIN,
            maximum=MAX_USER_DURATION_MAX,
            description="Longest a streaming session may last, in seconds.",
        ),
        "schedule": SCHEDULE_SCHEMA,
    },
)


# design.md section 2, item 7: the tenant's SNS topic and CloudWatch alarms (roles/tenant_alerts).
# Every threshold has a default; `notify` defaults to tenant.budget.notify (normalise_tenant).
ALERTS_SCHEMA = Field(
    "dict",
    default={},
    description=(
        "Who is told about the tenant's alarms, and the alarms' thresholds (playbooks/alerts.yml, roles/tenant_alerts)."
    ),
    fields={
        "notify": Field(
            "list",
            nullable=True,
            default=None,
            min_items=1,
            max_items=10,
            unique=True,
            items=Field("str", check=check_email, description="An e-mail address."),
            description=(
                "E-mail addresses subscribed to the tenant's SNS topic `<tenant>-alerts`; each confirms SNS's "
                "message. Default: `tenant.budget.notify`."
            ),
        ),
        "capacity_utilization_percent": Field(
            "number",
            default=90,
            minimum=1,
            maximum=100,
            description="Alarm when the fleet's CapacityUtilization (percent of instances in use) is at least this...",
        ),
        "capacity_utilization_minutes": Field(
            "int",
            default=15,
            minimum=1,
            maximum=1440,
            description="...for this many consecutive minutes (AppStream publishes its fleet metrics every minute).",
        ),
        "no_available_capacity_minutes": Field(
            "int",
            default=15,
            minimum=1,
            maximum=1440,
            description=(
                "Alarm when no instance is idle (AvailableCapacity 0) this many minutes while the fleet is meant to "
                "be up (DesiredCapacity above 0, i.e. within its working hours)."
            ),
        ),
        "storage_free_percent": Field(
            "number",
            default=10,
            minimum=1,
            maximum=99,
            description="Alarm when the file system's free storage is below this share of its size.",
        ),
    },
)


# design.md section 4: secure defaults; the AppStream API enables every user
# setting that is left unset, so the toolkit always sends all of them.
STACK_SCHEMA = Field(
    "dict",
    default={},
    description=(
        "What users may do in a session, on the stack `<name>-stack`. The AppStream API allows every action a "
        "stack does not set; the toolkit always sets them all, to these defaults unless given."
    ),
    fields={
        "clipboard_copy_from_local": _bool(
            True, "Users may paste from their computer into the session (`CLIPBOARD_COPY_FROM_LOCAL_DEVICE`)."
        ),
        "clipboard_copy_to_local": _bool(
            False, "Users may copy from the session to their computer (`CLIPBOARD_COPY_TO_LOCAL_DEVICE`)."
        ),
        "file_upload": _bool(True, "Users may upload files into the session (`FILE_UPLOAD`)."),
        "file_download": _bool(False, "Users may download files from the session (`FILE_DOWNLOAD`)."),
        "printing": _bool(False, "Users may print to a printer of their computer (`PRINTING_TO_LOCAL_DEVICE`)."),
        "persist_app_settings": _bool(
            True, "Users' application settings (their Windows profile) are kept between sessions."
        ),
    },
)


USER_SCHEMA = Field(
    "dict",
    fields={
        "email": Field(
            "str",
            required=True,
            check=check_email,
            description=(
                "E-mail address: the sign-in name and invitation address of a user-pool user; the `mail` and the "
                "default username of a SAML user's AD account."
            ),
        ),
        # AD: givenName and sn are at most 64 characters (AD schema range-upper).
        "first_name": Field("str", required=True, min_length=1, max_length=64, description="Given name."),
        "last_name": Field("str", required=True, min_length=1, max_length=64, description="Surname."),
        "username": Field(
            "str",
            pattern=SAM_ACCOUNT_NAME_PATTERN,
            pattern_hint="1-20 letters, digits, '.', '_' or '-' starting with a letter or digit",
            check=check_username,
            description=(
                "SAML tenants only: the logon name (`sAMAccountName`) of the user's AD account, also the name of "
                "the home folder. Defaults to the e-mail's local part, lower-cased, without other characters than "
                "letters, digits, `.`, `_` and `-`, cut to 20 characters."
            ),
        ),
        "enabled": Field(
            "bool",
            default=True,
            description="Whether a user-pool user may sign in (SAML users' sign-in is the identity provider's).",
        ),
    },
)


# Optional instrument data ingest (design.md section 2 item 8, roles/ingest/README.md): a landing bucket,
# one write-only IAM user per instrument, DataSync moving complete acquisitions to
# <project drive>\Incoming\<instrument> on the tenant's file system.
INGEST_SCHEDULES = ("hourly", "daily", "manual")
# IAM: 5,000 users per account; a tenant's instruments stay far below, and a list of this size is a typo.
INGEST_MAX_INSTRUMENTS = 50
# S3 lifecycle expiration takes whole days from 1; ten years is the toolkit's own bound.
INGEST_RETENTION_MAX_DAYS = 3650

INGEST_SCHEMA = Field(
    "dict",
    nullable=True,
    default=None,
    description=(
        "Instrument data ingest (SAML tenants): a landing bucket the instruments' PCs upload acquisitions to "
        "with `ingest-upload`, one write-only IAM user per instrument (its key in the secret "
        "`<tenant>/ingest/<instrument>`), and AWS DataSync moving complete acquisitions to "
        "`<project drive>\\Incoming\\<instrument>` on the file share (roles/ingest/README.md). Omitted: no ingest."
    ),
    fields={
        "instruments": Field(
            "list",
            required=True,
            min_items=1,
            max_items=INGEST_MAX_INSTRUMENTS,
            description="The instruments that send acquisitions; each gets its IAM user, key and Incoming folder.",
            items=Field(
                "dict",
                description="One instrument.",
                fields={
                    "name": Field(
                        "str",
                        required=True,
                        pattern=INSTRUMENT_NAME_PATTERN,
                        pattern_hint=INSTRUMENT_NAME_HINT,
                        check=check_instrument_name,
                        description=(
                            "The instrument's name: the uploader's `--instrument`, the folder "
                            "`Incoming\\<name>` of the share and part of its IAM user's name; unique in the tenant "
                            "(ignoring case)."
                        ),
                    ),
                },
            ),
        ),
        "retention_days": Field(
            "int",
            default=7,
            minimum=1,
            maximum=INGEST_RETENTION_MAX_DAYS,
            description="Days a transferred acquisition stays in the landing bucket before S3 expires it.",
        ),
        "schedule": Field(
            "str",
            default="hourly",
            choices=INGEST_SCHEDULES,
            description=(
                "How often the scheduled `playbooks/ops/ingest_sync.yml` run (hourly, from Jenkins or AWX) transfers "
                "the tenant's complete acquisitions; `manual`: only when run by hand."
            ),
        ),
    },
)


TENANT_SCHEMA = Field(
    "dict",
    required=True,
    description="The tenant definition: the `tenant` host variable of the tenant host.",
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
            description=(
                "Name of the tenant: it prefixes every resource name (`<name>-fleet`, `<name>-stack`, ...) and is "
                "the value of the `tenant` ownership tag of everything the toolkit creates."
            ),
        ),
        "environment": Field(
            "str",
            required=True,
            choices=("dev", "test", "prod"),
            description="Environment of the tenant, the value of the `environment` tag.",
        ),
        "region": Field(
            "str",
            required=True,
            pattern=r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[1-9][0-9]?",
            pattern_hint="an AWS region name (e.g. eu-west-3)",
            description=(
                "AWS region of the whole footprint; it must offer AppStream 2.0, AWS Managed Microsoft AD and FSx "
                "for Windows File Server."
            ),
        ),
        "auth": Field(
            "str",
            required=True,
            choices=("saml", "userpool"),
            description=(
                "Sign-in mode. `saml`: a domain-joined fleet; users sign in through the customer's SAML 2.0 identity "
                "provider and work as their AD identity, with drive maps to their home and project folders on FSx. "
                "`userpool`: no directory and no file system; users are AppStream user-pool users invited by "
                "e-mail, with home folders on S3."
            ),
        ),
        "network": Field(
            "dict",
            required=True,
            description="The tenant's VPC.",
            fields={
                "cidr": Field(
                    "str",
                    required=True,
                    check=check_vpc_cidr,
                    description=(
                        "IPv4 range of the VPC. It is cut into a private subnet per availability zone (a quarter "
                        "each) and a public one per zone (in the last quarter)."
                    ),
                ),
                "availability_zones": Field(
                    "int",
                    default=2,
                    choices=(2, 3),
                    description="Number of availability zones the subnets span.",
                ),
                "nat_gateways": Field(
                    "str",
                    default="single",
                    choices=("single", "per_az", "none"),
                    description=(
                        "NAT gateways of the private subnets: `single` (one, in the first zone), `per_az` (one per "
                        "zone: losing a zone does not cut the others' outbound traffic) or `none` (no outbound "
                        "internet access)."
                    ),
                ),
            },
        ),
        "directory": Field(
            "dict",
            nullable=True,
            default=None,
            description="The tenant's AWS Managed Microsoft AD, with two domain controllers in the private subnets.",
            fields={
                "fqdn": Field(
                    "str",
                    required=True,
                    check=check_domain_name,
                    description="Fully qualified DNS name of the Active Directory domain.",
                ),
                # botocore ds CreateMicrosoftAD.ShortName; NetBIOS names are at
                # most 15 characters. Upper case only: the NetBIOS name is also
                # the OU AWS creates under the domain root (facts.md).
                "netbios": Field(
                    "str",
                    required=True,
                    pattern=r"[A-Z0-9-]{1,15}",
                    pattern_hint="1-15 upper-case letters, digits or hyphens",
                    check=check_netbios,
                    description=(
                        "NetBIOS (short) name of the domain, the `DOMAIN` of `DOMAIN\\user`; AWS also names the "
                        "directory's own OU after it."
                    ),
                ),
                # design.md: Standard is set explicitly, the API default is Enterprise.
                "edition": Field(
                    "str",
                    default="Standard",
                    choices=("Standard", "Enterprise"),
                    description="Directory edition; the toolkit sets it explicitly, since AWS defaults to Enterprise.",
                ),
                "appstream_ou": Field(
                    "str",
                    default="AppStream",
                    min_length=1,
                    max_length=64,
                    check=check_ou_name,
                    description=(
                        "OU, under `OU=Computers,OU=<netbios>`, of the computer objects of the fleet's instances "
                        "(the image builders have their own OU, `builders_ou`)."
                    ),
                ),
                # OU (under OU=<NetBIOS>, beside Computers and Users) of the image builders alone: the
                # builder access GPO is linked there and nowhere else.
                "builders_ou": Field(
                    "str",
                    default="ImageBuilders",
                    min_length=1,
                    max_length=64,
                    check=check_builders_ou_name,
                    description=(
                        "OU, under `OU=<netbios>` beside `Computers` and `Users`, of the image builders' computer "
                        "objects alone: the builder access GPO (image build account as local administrator, WinRM "
                        "from `image_controller_cidr`) is linked there and nowhere else."
                    ),
                ),
            },
        ),
        "storage": Field(
            "dict",
            nullable=True,
            default=None,
            description=(
                "The tenant's FSx for Windows File Server file system, joined to the directory. Its share `share` "
                "holds a private home folder per user (`Users\\<username>`) and the tenant's `Projects` folder."
            ),
            fields={
                "deployment_type": Field(
                    "str",
                    default="SINGLE_AZ_2",
                    choices=("SINGLE_AZ_1", "SINGLE_AZ_2", "MULTI_AZ_1"),
                    description="FSx deployment type; `MULTI_AZ_1` keeps a standby file server in a second zone.",
                ),
                "storage_type": Field(
                    "str", default="SSD", choices=("SSD", "HDD"), description="Storage type of the file system."
                ),
                "storage_gib": Field(
                    "int",
                    default=FSX_SSD_MIN_GIB,
                    description="Storage capacity in GiB; it can grow in place later, never shrink.",
                ),
                "throughput_mbps": Field(
                    "int",
                    default=32,
                    choices=FSX_THROUGHPUT_LEVELS,
                    description="Throughput capacity in MB/s.",
                ),
                # botocore fsx AutomaticBackupRetentionDays: 0 (off) to 90.
                "backup_retention_days": Field(
                    "int",
                    default=7,
                    minimum=0,
                    maximum=90,
                    description="Days the daily automatic backups are kept; 0 turns them off.",
                ),
                "home_drive": _drive("H", "Drive letter of each user's home folder (a Group Policy drive map)."),
                "project_drive": _drive("P", "Drive letter of the tenant's shared `Projects` folder."),
            },
        ),
        "appstream": Field(
            "dict",
            required=True,
            description="The AppStream 2.0 part: the image, the fleet and the stack.",
            fields={
                "builder_instance_type": _instance_type(
                    "Instance type of the image builder that installs the catalogue applications.",
                    check_builder_instance_type,
                ),
                "base_image": Field(
                    "str",
                    required=True,
                    pattern=APPSTREAM_NAME_PATTERN,
                    pattern_hint=(
                        "an AppStream image name (1-101 letters, digits, '_', '.' or '-', "
                        "starting with a letter or digit)"
                    ),
                    description=(
                        "The AWS base image (`AppStream-WinServer2019-<MM-DD-YYYY>`) the tenant's image is built "
                        "from. It is part of the image's hash: a new base image makes a new image."
                    ),
                ),
                "fleet": FLEET_SCHEMA,
                "stack": STACK_SCHEMA,
            },
        ),
        "apps": Field(
            "list",
            required=True,
            min_items=1,
            unique=True,
            items=Field("str"),
            description=(
                "Applications of the tenant's image, keys of the application catalogue (`app_catalogue` in "
                "`group_vars/all/catalogue.yml`); their dependencies are installed first."
            ),
        ),
        "users": Field(
            "list",
            default=[],
            items=USER_SCHEMA,
            description=(
                "The tenant's users: for a SAML tenant an AD account each, with a home folder; for a user-pool "
                "tenant an AppStream user-pool user each, invited by e-mail. Both can open the tenant's stack."
            ),
        ),
        "ingest": INGEST_SCHEMA,
        "budget": Field(
            "dict",
            required=True,
            description="The tenant's monthly AWS Budget, on the spend its `tenant` cost allocation tag filters.",
            fields={
                "monthly_usd": Field(
                    "number", required=True, check=check_positive, description="Monthly limit in US dollars."
                ),
                # botocore budgets: at most 11 subscribers per notification; AWS
                # Budgets documents 10 e-mail addresses (plus one SNS topic).
                "notify": Field(
                    "list",
                    required=True,
                    min_items=1,
                    max_items=10,
                    unique=True,
                    items=Field("str", check=check_email),
                    description="E-mail addresses alerted when the actual or the forecast spend passes a threshold.",
                ),
            },
        ),
        "alerts": ALERTS_SCHEMA,
    },
)


def _auth_rules(tenant: Mapping[str, Any]) -> list[str]:
    """Sign-in mode (`tenant.auth`)

    - `tenant.directory` and `tenant.storage` are required when `tenant.auth` is `saml`, and not allowed when it
      is `userpool`.
    - `tenant.users[].username` is only allowed when `tenant.auth` is `saml` (user-pool users sign in with their
      e-mail address).
    """
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
    """File system (`tenant.storage`)

    - `storage_type` `HDD` is not available with `deployment_type` `SINGLE_AZ_1`.
    - `storage_gib` is at least {FSX_SSD_MIN_GIB} with `SSD`, at least {FSX_HDD_MIN_GIB} with `HDD`, and at most
      {FSX_MAX_GIB}.
    - `throughput_mbps` is at most {FSX_SINGLE_AZ_1_MAX_THROUGHPUT} with `SINGLE_AZ_1`.
    - `project_drive` is not the letter of `home_drive`.
    - `tenant.directory.fqdn` is not longer than FSx allows for the deployment type (in characters:
      {FSX_DOMAIN_NAME_MAX}).
    """
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
    """Fleet (`tenant.appstream.fleet`)

    - An `ELASTIC` fleet cannot be domain-joined: it needs `tenant.auth` `userpool`. It has no capacity to
      schedule: no `schedule`.
    - `min_capacity` is not above `max_capacity`.
    - `schedule.stop` is later than `schedule.start`.
    """
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
    """Users (`tenant.users`)

    - No two users have the same `email` (in any case).
    - SAML tenants: `first_name` and `last_name` have no leading or trailing space and none of the characters
      that would break an AD distinguished name; `first_name last_name`, the AD common name, is at most 64
      characters long and no other user's (in any case).
    - SAML tenants: each `username`, given or derived from the e-mail, is a valid logon name and no other user's
      (in any case), nor the name of a group the toolkit creates for the tenant (`tenant.name` followed by one
      of {TOOLKIT_GROUP_NAME_SUFFIXES}).
    - User-pool tenants: `first_name` and `last_name` hold only ASCII letters, digits, spaces, `_` and `-`
      (AppStream's rule).
    """
    users = as_list(tenant.get("users"))
    saml = tenant.get("auth") == "saml"
    errors: list[str] = []
    seen_email: dict[str, int] = {}
    seen_username: dict[str, int] = {}
    seen_cn: dict[str, int] = {}
    groups = _toolkit_group_names(tenant.get("name"))
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
            errors.extend(_username_rules(user, path, seen_username, index, groups))
    return errors


def _toolkit_group_names(tenant_name: Any) -> frozenset[str]:
    """The sAMAccountNames, case-folded, of the groups the toolkit creates in the tenant's directory."""
    if not isinstance(tenant_name, str):
        return frozenset()
    return frozenset(f"{tenant_name}{suffix}".casefold() for suffix in TOOLKIT_GROUP_NAME_SUFFIXES)


def _username_rules(
    user: Mapping[str, Any], path: str, seen: dict[str, int], index: int, groups: frozenset[str]
) -> list[str]:
    """sAMAccountName rules for one SAML user, explicit or derived from the e-mail."""
    username = user.get("username")
    email = user.get("email")
    if username is None:
        if not isinstance(email, str) or not _EMAIL.fullmatch(email):
            return []  # the e-mail error is already reported
        username = derive_username(email)
        problems = [] if re.fullmatch(SAM_ACCOUNT_NAME_PATTERN, username) else ["is not usable"]
        problems += account_name_problems(username)  # derived names never end with a period
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
    if key in groups:
        return [f"{origin} is the name of a group the toolkit creates in the tenant's directory{remedy}"]
    if key in seen:
        return [f"{origin} is already the username of tenant.users[{seen[key]}]{remedy}"]
    seen[key] = index
    return []


def _ingest_rules(tenant: Mapping[str, Any]) -> list[str]:
    """Instrument data (`tenant.ingest`)

    - `tenant.ingest` is not allowed when `tenant.auth` is `userpool`: DataSync delivers to the tenant's FSx share,
      and user-pool tenants have no file system.
    - Instrument names are unique, ignoring case (IAM user names and Windows folder names ignore it).
    """
    ingest = tenant.get("ingest")
    if not isinstance(ingest, Mapping):
        return []
    errors: list[str] = []
    if tenant.get("auth") == "userpool":
        # DataSync delivers to the FSx share; user-pool tenants have none (their users' files live in
        # per-user AppStream home folders in S3, which no shared Incoming folder maps to).
        errors.append(
            "tenant.ingest: is not allowed when tenant.auth is userpool (ingest delivers acquisitions to the "
            "tenant's FSx file share, <project drive>\\Incoming, and user-pool tenants have no file system)"
        )
    seen: dict[str, int] = {}
    for index, instrument in enumerate(as_list(ingest.get("instruments"))):
        name = instrument.get("name") if isinstance(instrument, Mapping) else None
        if not isinstance(name, str):
            continue
        # IAM user names and Windows folder names ignore case: ECHO-01 and echo-01 are one instrument.
        key = name.casefold()
        if key in seen:
            errors.append(
                f"tenant.ingest.instruments[{index}].name: {show(name)} is the same instrument as "
                f"tenant.ingest.instruments[{seen[key]}].name (names ignore case)"
            )
        seen.setdefault(key, index)
    return errors


def _apps_rules(tenant: Mapping[str, Any], catalogue: Any) -> list[str]:
    """Applications (`tenant.apps`)

    - Each key names an application of the catalogue (`app_catalogue`).
    """
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
    _ingest_rules,
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
    ``storage``, ``appstream.fleet.schedule``, ``ingest``), ``alerts.notify`` defaults to
    ``budget.notify``, SAML users get their derived
    ``username``, user-pool users ``username: None``. Call it only on a
    definition for which ``validate_tenant`` returned no error.
    """
    normalised = apply_defaults(TENANT_SCHEMA, dict(tenant))
    if normalised["alerts"]["notify"] is None:
        # The budget's recipients are the tenant's operators: they hear about its alarms too.
        normalised["alerts"]["notify"] = list(normalised["budget"]["notify"])
    saml = normalised["auth"] == "saml"
    for user in normalised["users"]:
        if not saml:
            user["username"] = None
        elif user.get("username") is None:
            user["username"] = derive_username(user["email"])
    return normalised


def validate_run_tenants(host: str, run_tenants: Iterable[Iterable[Any]]) -> tuple[list[str], list[str]]:
    """Tenant hosts of one run (several inventories given to one command)

    - No two tenant hosts have the same `tenant.name`: they would converge the same resources at once.
    - A warning when two tenant hosts' `tenant.network.cidr` overlap: AWS accepts it, but one controller cannot
      reach both VPCs at once, and the two can never be peered.

    Seen from ``host``: returns ``(errors, warnings)``. ``run_tenants`` holds
    ``(host, tenant.name, tenant.network.cidr)`` for every tenant host of the run, ``host`` included; values
    that are missing or invalid are skipped (each host reports its own). Overlapping VPC ranges are legal in
    AWS, since every tenant has a VPC of its own, but a controller cannot route to both at once, nor can the
    VPCs ever be peered or share a transit gateway (operator-guide, section 1, "Network reach from the
    controller into the tenant VPC").
    """
    entries = [tuple(entry) for entry in run_tenants]
    mine = [entry for entry in entries if len(entry) == 3 and entry[0] == host]
    if not mine:
        # Never passed over: a list that leaves the host out cannot show that it shares a name.
        return [
            f"run_tenants: the tenant hosts of the run do not include {show(host)}, so its tenant.name cannot be "
            "checked against theirs (playbooks/validate.yml reads them once per play: run the play whole)"
        ], []
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


# The rules beyond single fields, in the order they are checked, for docs/tenant-definition.md.
DOCUMENTED_RULES: tuple[Callable[..., Any], ...] = (
    template_marker_errors,
    *CROSS_FIELD_RULES,
    _apps_rules,
    validate_run_tenants,
)
