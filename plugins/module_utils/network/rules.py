# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Security-group rules between streaming instances, the directory and the file system (design.md
section 2): the least-privilege rule set of a tenant, and conversions from and to EC2's IpPermissions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.layout import ANYWHERE
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.network.records import SecurityGroup


# Security-group rules
@dataclass(frozen=True, order=True)
class Rule:
    """One permission with one peer. `peer_kind` is cidr, ipv6, prefix-list, group (an id) or
    role (one of this network's groups, by role). Descriptions are informative only."""

    direction: str  # ingress | egress
    protocol: str  # tcp | udp | icmp | -1
    from_port: int
    to_port: int
    peer_kind: str
    peer: str
    description: str = field(default="", compare=False)

    def text(self) -> str:
        ports = "all" if self.protocol == "-1" else str(self.from_port)
        if self.protocol != "-1" and self.to_port != self.from_port:
            ports = f"{self.from_port}-{self.to_port}"
        protocol = "all" if self.protocol == "-1" else self.protocol
        way = "from" if self.direction == "ingress" else "to"
        return f"{self.direction} {protocol} {ports} {way} {self.peer_kind}:{self.peer}"


# facts.md (FSx for Windows File Server): what a domain member needs from the domain
# controllers. Streaming instances and the file system are both domain members.
DOMAIN_CONTROLLER_PORTS: tuple[tuple[str, int, int, str], ...] = (
    ("tcp", 53, 53, "DNS"),
    ("udp", 53, 53, "DNS"),
    ("tcp", 88, 88, "Kerberos"),
    ("udp", 88, 88, "Kerberos"),
    ("udp", 123, 123, "NTP"),
    ("tcp", 135, 135, "RPC endpoint mapper"),
    ("tcp", 389, 389, "LDAP"),
    ("udp", 389, 389, "LDAP"),
    ("tcp", 445, 445, "SMB (SYSVOL, NETLOGON)"),
    ("tcp", 464, 464, "Kerberos password change"),
    ("udp", 464, 464, "Kerberos password change"),
    ("tcp", 636, 636, "LDAPS"),
    ("tcp", 3268, 3269, "Global catalog"),
    ("tcp", 9389, 9389, "AD Web Services"),
    ("tcp", 49152, 65535, "RPC dynamic ports"),
)


SMB = ("tcp", 445, 445)


# WinRM (WS-Management): HTTP 5985 (the listener the "Allow remote server management through WinRM"
# policy creates; the toolkit's controller encrypts it with NTLM message encryption) and HTTPS 5986 (an
# operator's enterprise CA certificate). Only image builders accept it, and only from the controller's
# range. FSx's remote PowerShell endpoint is the AWS-defined 5985 (facts.md), reached only from the VPC.
WINRM = ("tcp", 5985, 5986)
FSX_REMOTE_POWERSHELL = ("tcp", 5985, 5985)
HTTPS = ("tcp", 443, 443)


def security_group_rules(vpc_cidr: str, builder_winrm_cidrs: Iterable[str] = ()) -> dict[str, frozenset[Rule]]:
    """The exact rule set of each of the network's security groups. No ingress from anywhere.

    - streaming (AppStream fleet instances): no ingress at all; egress HTTPS for AWS endpoints, S3
      (through the gateway endpoint) and licence checks, and the domain controller ports to the VPC
      (TCP 445 among them, which also reaches the file system).
    - builder (AppStream image builders): the streaming group's egress, and WinRM (5985-5986) from each
      of `builder_winrm_cidrs` only (the controller that runs the image pipeline); none when empty.
    - directory (directory-side ENIs): the domain controller ports from the streaming, builder and
      file-system groups; egress only inside the VPC.
    - fsx (FSx for Windows): SMB from the streaming group, WinRM (remote PowerShell
      administration) from inside the VPC; egress the domain controller ports to the VPC.

    Domain members reach the controllers by the VPC range rather than by group: AWS Managed
    Microsoft AD puts its own security group on its controllers, so a group peer would not
    match them.
    """

    def rule(direction: str, ports: tuple[str, int, int], kind: str, peer: str, description: str) -> Rule:
        protocol, low, high = ports
        return Rule(direction, protocol, low, high, kind, peer, description)

    def dc_rules(direction: str, kind: str, peer: str, who: str) -> list[Rule]:
        return [
            rule(direction, (protocol, low, high), kind, peer, f"{label} {who}")
            for protocol, low, high, label in DOMAIN_CONTROLLER_PORTS
        ]

    member_egress = [
        rule("egress", HTTPS, "cidr", ANYWHERE, "HTTPS to AWS endpoints, S3 and licence servers"),
        *dc_rules("egress", "cidr", vpc_cidr, "to the domain controllers"),
    ]
    builder = [
        *member_egress,
        *(
            rule("ingress", WINRM, "cidr", cidr, "WinRM from the image pipeline controller")
            for cidr in sorted(set(builder_winrm_cidrs))
        ),
    ]
    directory = [
        *dc_rules("ingress", "role", "streaming", "from streaming instances"),
        *dc_rules("ingress", "role", "builder", "from image builders"),
        *dc_rules("ingress", "role", "fsx", "from the file system"),
        Rule("egress", "-1", -1, -1, "cidr", vpc_cidr, "Replies and lookups inside the VPC"),
    ]
    fsx = [
        rule("ingress", SMB, "role", "streaming", "SMB from streaming instances"),
        rule(
            "ingress", FSX_REMOTE_POWERSHELL, "cidr", vpc_cidr, "Remote PowerShell administration from inside the VPC"
        ),
        *dc_rules("egress", "cidr", vpc_cidr, "to the domain controllers"),
    ]
    return {
        "streaming": frozenset(member_egress),
        "builder": frozenset(builder),
        "directory": frozenset(directory),
        "fsx": frozenset(fsx),
    }


SECURITY_GROUP_DESCRIPTIONS = {
    "streaming": "AppStream streaming (fleet) instances of tenant {tenant}",
    "builder": "AppStream image builders of tenant {tenant}",
    "directory": "Directory service of tenant {tenant}",
    "fsx": "FSx for Windows File Server of tenant {tenant}",
}


# What AWS gives a new security group: the rule the plan must remove to reach the exact set.
DEFAULT_EGRESS = Rule("egress", "-1", -1, -1, "cidr", ANYWHERE)
_PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "all": "-1"}


def rules_from_permissions(
    permissions: Iterable[dict[str, Any]], direction: str, role_of_group: dict[str, str]
) -> set[Rule]:
    """EC2 IpPermissions (one entry may hold many peers) as one Rule per peer."""
    rules: set[Rule] = set()
    for permission in permissions:
        protocol = _PROTOCOL_NAMES.get(str(permission.get("IpProtocol")), str(permission.get("IpProtocol")))
        low = -1 if protocol == "-1" else int(permission.get("FromPort", -1))
        high = -1 if protocol == "-1" else int(permission.get("ToPort", -1))
        for item in permission.get("IpRanges", []):
            rules.add(Rule(direction, protocol, low, high, "cidr", item["CidrIp"], item.get("Description", "")))
        for item in permission.get("Ipv6Ranges", []):
            rules.add(Rule(direction, protocol, low, high, "ipv6", item["CidrIpv6"], item.get("Description", "")))
        for item in permission.get("PrefixListIds", []):
            rules.add(
                Rule(direction, protocol, low, high, "prefix-list", item["PrefixListId"], item.get("Description", ""))
            )
        for item in permission.get("UserIdGroupPairs", []):
            group = item["GroupId"]
            kind, peer = ("role", role_of_group[group]) if group in role_of_group else ("group", group)
            rules.add(Rule(direction, protocol, low, high, kind, peer, item.get("Description", "")))
    return rules


def ip_permission(rule: Rule, group_id_of_role: Callable[[str], str]) -> dict[str, Any]:
    """The EC2 IpPermission carrying one rule (role peers resolved to group ids)."""
    permission: dict[str, Any] = {"IpProtocol": rule.protocol}
    if rule.protocol != "-1":
        permission["FromPort"], permission["ToPort"] = rule.from_port, rule.to_port
    described = {"Description": rule.description} if rule.description else {}
    if rule.peer_kind == "cidr":
        permission["IpRanges"] = [{"CidrIp": rule.peer, **described}]
    elif rule.peer_kind == "ipv6":
        permission["Ipv6Ranges"] = [{"CidrIpv6": rule.peer, **described}]
    elif rule.peer_kind == "prefix-list":
        permission["PrefixListIds"] = [{"PrefixListId": rule.peer, **described}]
    else:
        group = group_id_of_role(rule.peer) if rule.peer_kind == "role" else rule.peer
        permission["UserIdGroupPairs"] = [{"GroupId": group, **described}]
    return permission


def current_rules(group: SecurityGroup | None, role_of_group: dict[str, str]) -> frozenset[Rule]:
    """The rules a group has now; a group still to be created has AWS's default egress rule."""
    if group is None:
        return frozenset({DEFAULT_EGRESS})
    return frozenset(
        rules_from_permissions(group.permissions, "ingress", role_of_group)
        | rules_from_permissions(group.permissions_egress, "egress", role_of_group)
    )
