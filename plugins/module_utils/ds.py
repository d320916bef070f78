# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS Managed Microsoft AD: what can change in place, the admin password policy, waiting states.

Pure functions only (no AWS call), so the planning rules are unit-testable; the module
`directory_service` wires them to the Directory Service API.
"""

from __future__ import annotations

from typing import Any

ACTIVE = "Active"
#: stages a directory never leaves by itself: waiting for Active stops there with StageReason
FAILED_STAGES = ("Failed", "Inoperable", "RestoreFailed")
DELETING_STAGES = ("Deleting", "Deleted")
MIN_DOMAIN_CONTROLLERS = 2

#: attributes AWS cannot change on an existing directory (there is no API for them)
UNCHANGEABLE = ("name", "short_name", "edition", "vpc_id", "subnet_ids")
#: why a change to an UNCHANGEABLE attribute is refused (aws.resource.refusal_message)
IN_PLACE_LIMITS = (
    "AWS Directory Service has no API to change a directory's name, short name, edition or VPC/subnets, and "
    "this module never replaces a directory (its users, groups, GPOs and joined computers would be lost). Keep "
    "the current values, or delete the directory explicitly (state=absent with confirm_name) and create it again."
)
#: attributes AWS cannot change either, but whose difference is harmless: reported, not refused
COSMETIC = ("description",)


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
