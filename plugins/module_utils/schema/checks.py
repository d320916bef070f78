# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Field-level rules of the tenant definition: each check takes a value of the right type and returns the
rules it breaks, as messages without the field's path (the engine adds it). Each rule names its source.

The first paragraph of a check's docstring states its rule for docs/tenant-definition.md
(scripts/tenant_definition_doc.py); ``{NAME}`` there stands for the value of this module's constant NAME.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import math
import re
import zoneinfo

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.engine import show, suggest

# RFC 1918 private ranges: the tenant VPC must never collide with public space.
PRIVATE_NETWORKS = tuple(ipaddress.IPv4Network(cidr) for cidr in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


# design.md section 4: a tenant VPC is /16 to /22 (a /22 still gives six /25
# subnets: public and private in up to three AZs).
VPC_PREFIX_MIN = 16
VPC_PREFIX_MAX = 22


def check_vpc_cidr(value: str) -> list[str]:
    """An IPv4 network in CIDR notation without host bits (e.g. `10.40.0.0/16`), of prefix /{VPC_PREFIX_MIN} to
    /{VPC_PREFIX_MAX}, inside an RFC 1918 private range ({PRIVATE_NETWORKS})."""
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


def check_source_range(value: str) -> list[str]:
    """An IPv4 range in CIDR notation without host bits, at most /8 wide: a source of traffic a security group or
    firewall rule admits (the image controller's range)."""
    try:
        network = ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        return [f"{show(value)} is not an IPv4 network in CIDR notation (e.g. 10.40.250.0/28)"]
    if "/" not in value:
        return [f"{show(value)} has no prefix length (e.g. {network.network_address}/32 for one host)"]
    if str(network) != value:
        return [f"{show(value)} has host bits set (did you mean {network}?)"]
    if network.prefixlen < 8:
        return [f"{show(value)} is wider than /8: give the controller's own range, not the whole internet"]
    return []


# Microsoft, "Naming conventions in Active Directory for computers, domains,
# sites, and OUs": the FQDN of an AD domain is limited to 64 characters; DNS
# labels are 1-63 characters (RFC 1035). botocore ds CreateMicrosoftAD.Name
# pattern: labels of letters/digits joined by "." or "-".
AD_FQDN_MAX_LENGTH = 64
_DNS_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def check_domain_name(value: str) -> list[str]:
    """At least two DNS labels (1-63 letters, digits or inner hyphens each), the last not all digits, and at
    most {AD_FQDN_MAX_LENGTH} characters in all (Active Directory's limit)."""
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
    """Not all digits (Windows clients read such a name as an address)."""
    if value.isdigit():
        return [f"{show(value)} must not be all digits"]
    return []


# Characters that must be escaped in an LDAP distinguished name (RFC 4514) or
# that AD rejects in an OU name: the toolkit refuses them instead of escaping,
# so a name reads the same in AD, in GPO links and in AppStream's OU setting.
DN_UNSAFE_CHARACTERS = ',+"\\<>;=/#'
_DN_UNSAFE = frozenset(DN_UNSAFE_CHARACTERS)


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
    """No space (AppStream cannot use such an OU) and none of the characters `{DN_UNSAFE_CHARACTERS}`, which
    would break a distinguished name."""
    # facts.md: AppStream rejects OU distinguished names containing spaces.
    errors = check_ad_name(value)
    if " " in value.strip():
        errors.append(f"{show(value)} contains a space; AppStream cannot use such an OU")
    return errors


# facts.md (Managed Microsoft AD): AWS creates OU=Computers and OU=Users under OU=<NetBIOS>. The builders'
# OU sits beside them; a GPO linked to one of those would reach the fleet's computers or every user.
AWS_TENANT_OUS = ("computers", "users")


def check_builders_ou_name(value: str) -> list[str]:
    """An OU name as for `appstream_ou`, and none of the OUs AWS creates under `OU=<netbios>` ({AWS_TENANT_OUS}):
    the builder access GPO linked to the builders' OU must reach no fleet instance and no user."""
    errors = check_ou_name(value)
    if value.strip().lower() in AWS_TENANT_OUS:
        errors.append(
            f"{show(value)} is an OU AWS creates for every directory; the image builders need an OU of their "
            "own, so that their access policy reaches no fleet instance (e.g. ImageBuilders)"
        )
    return errors


# Pre-Windows 2000 logon name (sAMAccountName): at most 20 characters for user
# objects; this toolkit keeps to letters, digits, ".", "_" and "-", which every
# tool (SAML NameID DOMAIN\user, GPO %LogonUser%, SMB paths) handles unquoted.
SAM_ACCOUNT_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,19}"


# Names Windows and Active Directory already give to an account or a group, in lower case. A tenant
# user's account of such a name would collide with it, or be mistaken for it wherever a name is looked up
# (an ACL granting "users" or "system" access to a home folder). Sources: Microsoft, "Well-known SIDs"
# (learn.microsoft.com/en-us/windows/win32/secauthz/well-known-sids) and "Active Directory security
# groups" (learn.microsoft.com/en-us/windows-server/identity/ad-ds/manage/understand-security-groups);
# facts.md for AWS Managed Microsoft AD (its Admin account and the AWS Delegated groups). Names with a
# space cannot pass SAM_ACCOUNT_NAME_PATTERN today; they stay listed so that the list is the documented one.
WELL_KNOWN_ACCOUNT_NAMES = frozenset(
    {
        # Well-known SIDs: universal and NT AUTHORITY identities
        "nobody", "everyone", "world", "local", "console logon", "creator owner", "creator group",
        "owner rights", "nt authority", "dialup", "network", "batch", "interactive", "service", "anonymous",
        "anonymous logon", "proxy", "enterprise domain controllers", "self", "principal self",
        "authenticated users", "restricted", "terminal server user", "remote interactive logon",
        "this organization", "other organization", "iusr", "system", "local system", "local service",
        "network service", "builtin",
        # Well-known SIDs: accounts every domain or computer has
        "administrator", "guest", "krbtgt", "defaultaccount", "wdagutilityaccount",
        # Builtin container (domain local groups, S-1-5-32-*)
        "administrators", "users", "guests", "power users", "account operators", "server operators",
        "print operators", "backup operators", "replicator", "pre-windows 2000 compatible access",
        "remote desktop users", "network configuration operators", "incoming forest trust builders",
        "performance monitor users", "performance log users", "windows authorization access group",
        "terminal server license servers", "distributed com users", "iis_iusrs", "cryptographic operators",
        "event log readers", "certificate service dcom access", "rds remote access servers",
        "rds endpoint servers", "rds management servers", "hyper-v administrators",
        "access control assistance operators", "remote management users", "storage replica administrators",
        # Users container (domain groups)
        "domain admins", "domain users", "domain guests", "domain computers", "domain controllers",
        "cert publishers", "schema admins", "enterprise admins", "group policy creator owners",
        "read-only domain controllers", "enterprise read-only domain controllers",
        "cloneable domain controllers", "protected users", "key admins", "enterprise key admins",
        "ras and ias servers", "allowed rodc password replication group",
        "denied rodc password replication group", "dnsadmins", "dnsupdateproxy", "dhcp administrators",
        "dhcp users", "wins users",
        # AWS Managed Microsoft AD: the delegated administrator and the AWS Delegated groups
        "admin", "aws delegated administrators", "aws delegated fsx administrators",
        "aws delegated group policy administrators", "aws delegated server administrators",
    }
)  # fmt: skip


# The directory accounts the toolkit itself creates in every SAML tenant's directory, by role; the role
# defaults (ad_structure_service_account, image_builder_access_account, ingest_datasync_account) and
# playbooks/ops/builder_bootstrap.yml's local account take these names, and
# tests/unit/test_tenant_schema.py checks that they still do.
TOOLKIT_ACCOUNTS: dict[str, str] = {
    "ad_structure": "svc-appstream",  # AppStream service account (joins streaming instances to the domain)
    "image_builder_access": "svc-imagebuild",  # the controller signs in to image builders with it
    "ingest": "svc-datasync",  # DataSync writes instrument data to the share as it
}

# Groups the toolkit creates, named <tenant.name><suffix> (ad_structure_users_group,
# image_builder_access_group): a rule across fields, since it needs tenant.name.
TOOLKIT_GROUP_SUFFIXES: dict[str, str] = {"ad_structure": "-users", "image_builder_access": "-image-build"}
TOOLKIT_GROUP_NAME_SUFFIXES = tuple(TOOLKIT_GROUP_SUFFIXES.values())

TOOLKIT_ACCOUNT_NAMES = tuple(TOOLKIT_ACCOUNTS.values())

# A security identifier written as a string (MS-DTYP 2.4.2.1, "S-1-5-21-..."): a principal given as such a
# string is taken as that SID, never as a name.
SID_SHAPE = re.compile(r"s-\d+-", re.IGNORECASE)


def account_name_problems(value: str) -> list[str]:
    """Why ``value`` cannot be the name of a tenant's directory account: a name Windows, AD or the toolkit
    already gives to an account or group, or a name shaped like a SID (case-insensitive)."""
    key = value.casefold()
    if key in TOOLKIT_ACCOUNT_NAMES:
        return ["is a reserved account name: the toolkit creates an account of that name in every tenant directory"]
    if key in WELL_KNOWN_ACCOUNT_NAMES:
        return [
            "is a reserved account name: every Windows domain or AWS Managed Microsoft AD has an account or "
            "group of that name"
        ]
    if SID_SHAPE.match(value):
        return [
            "is a reserved account name: it is shaped like a security identifier (S-1-...), which Windows "
            "reads as a SID"
        ]
    return []


def check_username(value: str) -> list[str]:
    """Not ending with a period; not (in any case) a name Windows, Active Directory or AWS Managed Microsoft AD
    already gives to an account or group (`administrator`, `guest`, `krbtgt`, `admin`, `everyone`, `system`,
    `users`, `administrators`, `guests`, `domain admins`, ...: Microsoft's well-known SIDs and default security
    groups), nor one of the toolkit's own accounts ({TOOLKIT_ACCOUNT_NAMES}); not shaped like a security identifier
    (`S-1-...`)."""
    errors: list[str] = []
    if value.endswith("."):
        errors.append(f"{show(value)} must not end with a period")
    errors.extend(f"{show(value)} {problem}" for problem in account_name_problems(value))
    return errors


def derive_username(email: str) -> str:
    """Default sAMAccountName for a SAML user: the cleaned local part of the e-mail."""
    local = email.split("@", 1)[0].lower()
    cleaned = re.sub(r"[^a-z0-9._-]", "", local)[:20]
    return cleaned.strip(".")


# Pragmatic address check (RFC 5321 lengths, a dot-atom local part, a DNS domain); AppStream
# CreateUser.UserName is at most 128 characters (botocore appstream). The local part is narrower than
# RFC 5322's atext: an address is the AD account's mail and UPN source, a user-pool sign-in name and a
# notification recipient, and reaches scripts and command lines on Windows, where cmd reads & | ^ % < > !
# and " specially and PowerShell $ ` ' " { } # ; = * ? ~ and / may too (about_Special_Characters,
# about_Quoting_Rules, cmd /?). Only letters, digits and . _ + - remain, which no Windows shell treats
# specially.
EMAIL_MAX_LENGTH = 128
EMAIL_LOCAL_CHARACTERS = "letters, digits, '.', '_', '+' and '-'"
_EMAIL_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_EMAIL = re.compile(
    rf"(?P<local>{_EMAIL_ATOM}(?:\.{_EMAIL_ATOM})*)"
    r"@(?P<domain>[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+)"
)
_EMAIL_LOCAL_SAFE = re.compile(r"[A-Za-z0-9._+-]+")


def check_email(value: str) -> list[str]:
    """An e-mail address of at most {EMAIL_MAX_LENGTH} characters: a local part of at most 64 characters of
    letters, digits, `.`, `_`, `+` and `-` only (no character a Windows command line or PowerShell treats
    specially, such as `&`, `|`, `^`, `%`, `<`, `>`, `=`, `"`, `'`, `$` or a backtick), dots only between other
    characters; a DNS domain."""
    match = _EMAIL.fullmatch(value)
    if not match:
        return [f"{show(value)} is not an e-mail address"]
    local = match["local"]
    unsafe = sorted({char for char in local if not _EMAIL_LOCAL_SAFE.fullmatch(char)})
    if unsafe:
        return [
            f"{show(value)} has {' '.join(show(char) for char in unsafe)} in its local part, which a Windows "
            f"command line or PowerShell treats specially; the toolkit takes only {EMAIL_LOCAL_CHARACTERS} there"
        ]
    if len(local) > 64:
        return [f"{show(value)} has a local part longer than 64 characters"]
    if len(value) > EMAIL_MAX_LENGTH:
        return [f"{len(value)} characters is longer than the maximum of {EMAIL_MAX_LENGTH}"]
    if match["domain"].rsplit(".", 1)[-1].isdigit():
        return [f"{show(value)} does not end with a domain name"]
    return []


DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")


def check_date(value: str) -> list[str]:
    """A calendar date written YYYY-MM-DD (2026-02-30 is refused)."""
    if DATE_PATTERN.fullmatch(value) is None:
        return [f"{show(value)} is not a date written YYYY-MM-DD"]
    try:
        datetime.date.fromisoformat(value)
    except ValueError as err:
        return [f"{show(value)} is not a date ({err})"]
    return []


# available_timezones() walks the tz database on every call.
_known_timezones = functools.cache(zoneinfo.available_timezones)


def check_timezone(value: str) -> list[str]:
    """A canonical IANA time zone name (e.g. `Europe/Paris`)."""
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
    """A finite number greater than 0."""
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
    """0 (never) or {IDLE_DISCONNECT_MIN} to {IDLE_DISCONNECT_MAX}."""
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
    """Not starting with {RESERVED_IMAGE_PREFIXES} in any case: the tenant's image names
    (`<tenant>-suite-<hash>`) cannot."""
    for prefix in RESERVED_IMAGE_PREFIXES:
        if value.casefold().startswith(prefix):
            return [
                f"{show(value)} starts with {prefix!r}; AppStream image names "
                f"(<tenant>-suite-<hash>) cannot start with {', '.join(RESERVED_IMAGE_PREFIXES)}"
            ]
    return []


# AppStream instance types: stream.<family>.<size>, grouped in the instance
# families of the AppStream 2.0 Administration Guide ("AppStream 2.0 Instance
# Families", docs.aws.amazon.com/appstream2/latest/developerguide/instance-types.html).
# The sizes per family are those the API Reference lists for InstanceType
# (botocore 1.44 appstream CreateFleet, UpdateFleet and CreateImageBuilder):
# image builders have no stream.standard.xlarge/2xlarge, Elastic fleets take
# stream.standard only. The Graphics Design, Graphics Desktop and Graphics Pro
# families (stream.graphics-design.*, stream.graphics-desktop.*,
# stream.graphics-pro.*) are gone from that list: the Service Quotas page says
# Graphics Pro is unavailable after 10/31/2025, and AppStream refuses them at
# CreateFleet/CreateImageBuilder, so validation refuses them before anything
# is created.
INSTANCE_FAMILY_SIZES: dict[str, tuple[str, ...]] = {
    # General Purpose
    "stream.standard": ("small", "medium", "large", "xlarge", "2xlarge"),
    # Compute Optimized
    "stream.compute": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge"),
    # Memory Optimized (R5 based, then the z1d generation)
    "stream.memory": ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge"),
    "stream.memory.z1d": ("large", "xlarge", "2xlarge", "3xlarge", "6xlarge", "12xlarge"),
    # Graphics (NVIDIA T4, A10G, L4, L4 fractional and RTX generations)
    "stream.graphics.g4dn": ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "stream.graphics.g5": ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"),
    "stream.graphics.g6": ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"),
    "stream.graphics.gr6": ("4xlarge", "8xlarge"),
    "stream.graphics.g6f": ("large", "xlarge", "2xlarge", "4xlarge"),
    "stream.graphics.gr6f": ("4xlarge",),
    "stream.graphics.g7": ("2xlarge", "4xlarge", "8xlarge", "12xlarge", "24xlarge", "48xlarge"),
}

# Always-On and On-Demand fleets: every family and size.
FLEET_INSTANCE_TYPES = frozenset(
    f"{family}.{size}" for family, sizes in INSTANCE_FAMILY_SIZES.items() for size in sizes
)
# Image builders: as fleets, less stream.standard.xlarge and 2xlarge.
BUILDER_INSTANCE_TYPES = FLEET_INSTANCE_TYPES - {"stream.standard.xlarge", "stream.standard.2xlarge"}
# Elastic fleets: General Purpose only.
ELASTIC_FLEET_INSTANCE_TYPES = frozenset(f"stream.standard.{size}" for size in INSTANCE_FAMILY_SIZES["stream.standard"])


def instance_type_problem(value: str, offered: frozenset[str], what: str) -> str | None:
    """Why ``value`` is not an instance type AppStream offers for ``what``, with the closest one; ``None`` if it is."""
    if value in offered:
        return None
    close = suggest(value, offered) or suggest(value.lower(), offered)
    hint = f"did you mean {close}?" if close else "stream.<family>.<size>, e.g. stream.standard.medium"
    return f"{show(value)} is not an instance type AppStream offers for {what} ({hint})"


def check_fleet_instance_type(value: str) -> list[str]:
    """An instance type AppStream offers for Always-On and On-Demand fleets (`stream.<family>.<size>`, e.g.
    `stream.standard.medium`); Elastic fleets take General Purpose types only (a rule across fields)."""
    problem = instance_type_problem(value, FLEET_INSTANCE_TYPES, "fleets")
    return [problem] if problem else []


def check_builder_instance_type(value: str) -> list[str]:
    """An instance type AppStream offers for image builders: as for fleets, less `stream.standard.xlarge` and
    `stream.standard.2xlarge`."""
    problem = instance_type_problem(value, BUILDER_INSTANCE_TYPES, "image builders")
    return [problem] if problem else []


# tenant.ingest.instruments[].name: an instrument's name is a folder of the share
# (<project drive>\Incoming\<instrument>), the prefix incoming/<instrument>/ of the landing bucket,
# and part of its IAM user's name <tenant>-ingest-<instrument>. The uploader's own rules
# (uploader/src/ingest_uploader/naming.py: 1-128 of [A-Za-z0-9._-], not starting or ending with '.',
# not a Windows device name) narrowed so that the IAM user name stays within IAM's 64 characters
# (24 for the tenant + 8 for "-ingest-") and starts with a letter or a digit.
INSTRUMENT_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}"
INSTRUMENT_NAME_HINT = "1-32 letters, digits, '.', '_' or '-', starting with a letter or a digit"
# Microsoft, "Naming Files, Paths, and Namespaces": names Windows reserves for devices, alone or with
# an extension (CON, CON.txt).
WINDOWS_DEVICE_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{kind}{number}" for kind in ("COM", "LPT") for number in range(1, 10)}
)


def check_instrument_name(value: str) -> list[str]:
    """Not ending with a period, and not a Windows device name (CON, PRN, AUX, NUL, COM1-COM9, LPT1-LPT9, alone or
    before an extension): the name is a folder of the share."""
    errors: list[str] = []
    if value.endswith("."):
        errors.append(f"{show(value)} must not end with a period (Windows drops it from a folder name)")
    if value.split(".")[0].upper() in WINDOWS_DEVICE_NAMES:
        errors.append(f"{show(value)} is a reserved device name on Windows and cannot be a folder of the share")
    return errors
