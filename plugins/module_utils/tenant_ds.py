# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS Managed Microsoft AD: what can change in place, the admin password policy, waiting states.

Pure functions only (no AWS call), so the planning rules are unit-testable; the module
`directory_service` wires them to the Directory Service API.
"""

from __future__ import annotations

import re
from typing import Any

ADMIN_USER = "Admin"
ACTIVE = "Active"
#: stages a directory never leaves by itself: waiting for Active stops there with StageReason
FAILED_STAGES = ("Failed", "Inoperable", "RestoreFailed")
DELETING_STAGES = ("Deleting", "Deleted")
MIN_DOMAIN_CONTROLLERS = 2

#: attributes AWS cannot change on an existing directory (there is no API for them)
UNCHANGEABLE = ("name", "short_name", "edition", "vpc_id", "subnet_ids")
#: attributes AWS cannot change either, but whose difference is harmless: reported, not refused
COSMETIC = ("description",)

# AWS's rule for the Admin password (botocore ds Password): 8-64 characters and three of
# four character classes; AD also refuses a password that contains the account name.
PASSWORD_MIN = 8
PASSWORD_MAX = 64
PASSWORD_CLASSES = {
    "lower-case letter": re.compile(r"[a-z]"),
    "upper-case letter": re.compile(r"[A-Z]"),
    "digit": re.compile(r"\d"),
    "symbol": re.compile(r"[^A-Za-z0-9\s]"),
}


def comparable_directory(description: dict[str, Any]) -> dict[str, Any]:
    """The attributes the module manages, read from a DescribeDirectories entry.

    Names are compared case-insensitively (DNS and NetBIOS names are), so both sides
    are normalised here and in `desired_directory`.
    """
    vpc = description.get("VpcSettings") or {}
    return {
        "name": (description.get("Name") or "").lower() or None,
        "short_name": (description.get("ShortName") or "").upper() or None,
        "edition": description.get("Edition"),
        "description": description.get("Description"),
        "vpc_id": vpc.get("VpcId"),
        "subnet_ids": list(vpc.get("SubnetIds") or []),
        "domain_controllers": description.get("DesiredNumberOfDomainControllers") or MIN_DOMAIN_CONTROLLERS,
    }


def desired_directory(params: dict[str, Any]) -> dict[str, Any]:
    """The same attributes from the module options; None means "not managed by this run"."""
    return {
        "name": params["name"].lower() if params.get("name") else None,
        "short_name": params["short_name"].upper() if params.get("short_name") else None,
        "edition": params.get("edition"),
        "description": params.get("description"),
        "vpc_id": params.get("vpc_id"),
        "subnet_ids": params.get("subnet_ids"),
        "domain_controllers": params.get("domain_controllers"),
    }


def unchangeable_changes(changes: dict[str, tuple[Any, Any]]) -> dict[str, tuple[Any, Any]]:
    """The planned changes AWS cannot apply to an existing directory."""
    return {name: change for name, change in changes.items() if name in UNCHANGEABLE}


def refusal_message(directory: str, changes: dict[str, tuple[Any, Any]]) -> str:
    details = "; ".join(
        f"{name} is {before!r}, requested {after!r}" for name, (before, after) in sorted(changes.items())
    )
    return (
        f"directory {directory!r} cannot be changed in place: {details}. AWS Directory Service has no API to "
        "change a directory's name, short name, edition or VPC/subnets, and this module never replaces a "
        "directory (its users, groups, GPOs and joined computers would be lost). Keep the current values, or "
        "delete the directory explicitly (state=absent with confirm_name) and create it again."
    )


def password_policy_errors(password: str, user: str = ADMIN_USER, min_length: int = PASSWORD_MIN) -> list[str]:
    """Why `password` would be refused for `user`; never includes the password itself."""
    errors = []
    if len(password) < min_length:
        errors.append(f"it has {len(password)} characters, at least {min_length} are required")
    if len(password) > PASSWORD_MAX:
        errors.append(f"it has {len(password)} characters, at most {PASSWORD_MAX} are allowed")
    missing = [name for name, pattern in PASSWORD_CLASSES.items() if not pattern.search(password)]
    if len(missing) > 1:
        errors.append(f"it needs three of the four character classes, it lacks: {', '.join(missing)}")
    if len(user) >= 3 and user.lower() in password.lower():
        errors.append(f"it contains the account name {user!r}")
    return errors


def password_classes(password: str) -> list[str]:
    """The character classes present in `password` (the generator guarantees all four)."""
    return [name for name, pattern in PASSWORD_CLASSES.items() if pattern.search(password)]


def stage_reason(description: dict[str, Any] | None) -> str:
    if not description:
        return ""
    return description.get("StageReason") or ""


def controllers_state(controllers: list[dict[str, Any]], desired: int) -> tuple[str, str]:
    """("SETTLED" | "FAILED" | "UPDATING", reason) for the domain controllers after a count change."""
    failed = [c for c in controllers if c.get("Status") == "Failed"]
    if failed:
        reasons = "; ".join(
            f"{c.get('DomainControllerId')}: {c.get('StatusReason') or 'no reason given'}" for c in failed
        )
        return "FAILED", reasons
    serving = [c for c in controllers if c.get("Status") not in ("Deleting", "Deleted")]
    if len(serving) == desired and all(c.get("Status") == ACTIVE for c in serving):
        return "SETTLED", ""
    return "UPDATING", ""


def directory_summary(description: dict[str, Any] | None, tags: dict[str, str] | None = None) -> dict[str, Any]:
    """The module's `directory` result: snake_case, with the values later roles need at the top."""
    if not description:
        return {}
    vpc = description.get("VpcSettings") or {}
    summary = {
        "directory_id": description.get("DirectoryId"),
        "name": description.get("Name"),
        "short_name": description.get("ShortName"),
        "edition": description.get("Edition"),
        "description": description.get("Description"),
        "stage": description.get("Stage"),
        "stage_reason": description.get("StageReason"),
        "dns_ip_addrs": list(description.get("DnsIpAddrs") or []),
        "access_url": description.get("AccessUrl"),
        "vpc_id": vpc.get("VpcId"),
        "subnet_ids": list(vpc.get("SubnetIds") or []),
        "availability_zones": list(vpc.get("AvailabilityZones") or []),
        "security_group_id": vpc.get("SecurityGroupId"),
        "domain_controllers": description.get("DesiredNumberOfDomainControllers"),
        "tags": dict(tags or {}),
    }
    return summary
