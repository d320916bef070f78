# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows Defender Firewall rules in Group Policy ([MS-GPFAS]): the rule string grammar, rendered and
parsed, and the registry policy values that carry the rules.

[MS-GPFAS] 2.2.2.19 "Firewall Rule and the Firewall Rule Grammar Rule"
(https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-gpfas/2efe0b76-7b4a-41ff-9050-1023f8196d16):
firewall rules are stored under the C(Software\\Policies\\Microsoft\\WindowsFirewall\\FirewallRules) key,
one REG_SZ value per rule whose name is the rule id and whose data is

    RULE = "v" VERSION "|" 1*FIELD ;  FIELD = TYPE-VALUE "|"
    TYPE-VALUE = "Action=" ACTION-VAL / "Dir=" DIR-VAL / "Profile=" PROFILE-VAL / "Protocol=" 1*3DIGIT
               / "LPort=" PORT-VAL / "RA4=" (ADDRESSV4-RANGE-VAL / ADDRESSV4-SUBNET-VAL / ...)
               / "Name=" STR-VAL / "Desc=" STR-VAL / "EmbedCtxt=" STR-VAL / "Active=" BOOL-VAL / ...

A field may repeat (one C(Profile=), C(LPort=) or C(RA4=) per value); an absent C(Profile) means every
profile, an absent C(RA4) any remote address. The values follow [MS-FASP] 2.2.37 FW_RULE (action
Allow/Block, direction In/Out, IPv4 subnets as address and mask, FW_IPV4_SUBNET). The settings travel
in Registry.pol, so the GPO registers the registry client-side extension ([MS-GPFAS] 1 "uses the
Group Policy: Registry Extension Encoding protocol [MS-GPREG]").
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.registry_pol import (
    REG_SZ,
    PolicyValue,
    check_value_name,
)

# [MS-GPFAS] 2.2.2.19: the key every rule value lives under.
FIREWALL_RULES_KEY = "Software\\Policies\\Microsoft\\WindowsFirewall\\FirewallRules"
# The grammar version written: 2.10 is the rule schema of Windows 7 / Server 2008 R2, read by every later
# release; the fields used here (Action, Active, Dir, Protocol, Profile, LPort, RA4, Name, Desc,
# EmbedCtxt) all belong to it.
RULE_VERSION = "2.10"

ACTIONS = {"allow": "Allow", "block": "Block"}
DIRECTIONS = {"in": "In", "out": "Out"}
PROFILES = {"domain": "Domain", "private": "Private", "public": "Public"}
PROTOCOLS = {"tcp": 6, "udp": 17}
_BOOL = {True: "TRUE", False: "FALSE"}
# STR-VAL ends at the next "|": a text holding one would change the rule's meaning.
_FORBIDDEN_IN_TEXT = re.compile(r"[|\x00-\x1f]")


@dataclass(frozen=True)
class FirewallRule:
    """One inbound or outbound rule, in the vocabulary of the module."""

    rule_id: str
    name: str
    action: str = "allow"
    direction: str = "in"
    protocol: int = 6
    local_ports: tuple[int, ...] = ()
    remote_addresses: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    description: str = ""
    group: str = ""
    enabled: bool = True
    extra: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.rule_id,
            "name": self.name,
            "action": self.action,
            "direction": self.direction,
            "protocol": self.protocol,
            "local_ports": list(self.local_ports),
            "remote_addresses": list(self.remote_addresses),
            "profiles": list(self.profiles),
            "description": self.description,
            "group": self.group,
            "enabled": self.enabled,
        }


def _text(label: str, value: str) -> str:
    if _FORBIDDEN_IN_TEXT.search(value or ""):
        raise ValueError(f"firewall rule {label} {value!r}: '|' and control characters cannot appear in a rule string")
    return value or ""


def remote_address_value(address: str) -> str:
    """ADDRESSV4-SUBNET-VAL: a host as its address, a network as address/mask (FW_IPV4_SUBNET)."""
    try:
        network = ipaddress.IPv4Network(str(address).strip(), strict=True)
    except ValueError as exc:
        raise ValueError(f"firewall rule remote address {address!r}: an IPv4 address or network (CIDR)") from exc
    if network.prefixlen == 0:
        raise ValueError("firewall rule remote address 0.0.0.0/0: give the controller's range, not every address")
    if network.prefixlen == 32:
        return str(network.network_address)
    return f"{network.network_address}/{network.netmask}"


def network_from_value(value: str) -> str:
    """The CIDR form of an RA4 address or subnet (address/mask or address/prefix)."""
    if "-" in value:
        return value  # an address range is kept as written
    return str(ipaddress.IPv4Network(value, strict=False))


def normalise_rule(item: dict[str, Any]) -> FirewallRule:
    """A FirewallRule from the module's options, validated."""
    rule_id = check_value_name(str(item.get("id") or ""))
    _text("id", rule_id)
    action = str(item.get("action") or "allow").lower()
    direction = str(item.get("direction") or "in").lower()
    if action not in ACTIONS:
        raise ValueError(f"firewall rule {rule_id}: action must be allow or block")
    if direction not in DIRECTIONS:
        raise ValueError(f"firewall rule {rule_id}: direction must be in or out")
    protocol_option = item.get("protocol", "tcp")
    if str(protocol_option).isdigit():
        protocol: int | None = int(protocol_option)
    else:
        protocol = PROTOCOLS.get(str(protocol_option).lower())
    if protocol is None or not 0 <= protocol <= 255:
        raise ValueError(f"firewall rule {rule_id}: protocol must be tcp, udp or a number 0-255")
    ports = []
    for port in item.get("local_ports") or []:
        if isinstance(port, bool) or not str(port).isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(f"firewall rule {rule_id}: local port {port!r} is not a port number 1-65535")
        ports.append(int(port))
    if ports and protocol not in (6, 17):
        raise ValueError(f"firewall rule {rule_id}: ports need protocol tcp or udp")
    profiles = []
    for profile in item.get("profiles") or []:
        if str(profile).lower() not in PROFILES:
            raise ValueError(f"firewall rule {rule_id}: profile {profile!r} is not domain, private or public")
        profiles.append(str(profile).lower())
    addresses = []
    for address in item.get("remote_addresses") or []:
        remote_address_value(address)  # names the offending address
        addresses.append(str(ipaddress.IPv4Network(str(address).strip())))
    return FirewallRule(
        rule_id=rule_id,
        name=_text("name", str(item.get("name") or rule_id)),
        action=action,
        direction=direction,
        protocol=protocol,
        local_ports=tuple(sorted(set(ports))),
        remote_addresses=tuple(sorted(set(addresses), key=ipaddress.IPv4Network)),
        profiles=tuple(sorted(set(profiles), key=list(PROFILES).index)),
        description=_text("description", str(item.get("description") or "")),
        group=_text("group", str(item.get("group") or "")),
        enabled=bool(item.get("enabled", True)),
    )


def render_rule(rule: FirewallRule) -> str:
    """The rule string of [MS-GPFAS] 2.2.2.19 for `rule` (fields in the order Windows writes them)."""
    fields = [
        ("Action", ACTIONS[rule.action]),
        ("Active", _BOOL[rule.enabled]),
        ("Dir", DIRECTIONS[rule.direction]),
        ("Protocol", str(rule.protocol)),
    ]
    fields += [("Profile", PROFILES[profile]) for profile in rule.profiles]
    fields += [("LPort", str(port)) for port in rule.local_ports]
    fields += [("RA4", remote_address_value(address)) for address in rule.remote_addresses]
    fields.append(("Name", _text("name", rule.name)))
    if rule.description:
        fields.append(("Desc", _text("description", rule.description)))
    if rule.group:
        fields.append(("EmbedCtxt", _text("group", rule.group)))
    return f"v{RULE_VERSION}|" + "".join(f"{key}={value}|" for key, value in fields)


def parse_rule(rule_id: str, text: str) -> FirewallRule:
    """A rule string read back (the fields this module writes; others are kept in `extra`)."""
    parts = text.split("|")
    if not parts or not re.fullmatch(r"v\d+\.\d+", parts[0]) or parts[-1] != "":
        raise ValueError(f"firewall rule {rule_id}: {text!r} is not a [MS-GPFAS] rule string")
    values: dict[str, list[str]] = {}
    for part in parts[1:-1]:
        key, separator, value = part.partition("=")
        if not separator:
            raise ValueError(f"firewall rule {rule_id}: field {part!r} has no '='")
        values.setdefault(key, []).append(value)
    actions = {value: key for key, value in ACTIONS.items()}
    directions = {value: key for key, value in DIRECTIONS.items()}
    profiles = {value: key for key, value in PROFILES.items()}
    known = {"Action", "Active", "Dir", "Protocol", "Profile", "LPort", "RA4", "Name", "Desc", "EmbedCtxt"}
    return FirewallRule(
        rule_id=rule_id,
        name=values.get("Name", [""])[0],
        action=actions.get(values.get("Action", ["Allow"])[0], values.get("Action", ["?"])[0].lower()),
        direction=directions.get(values.get("Dir", ["In"])[0], values.get("Dir", ["?"])[0].lower()),
        protocol=int(values.get("Protocol", ["256"])[0]) if values.get("Protocol", [""])[0].isdigit() else 256,
        local_ports=tuple(int(port) for port in values.get("LPort", []) if port.isdigit()),
        remote_addresses=tuple(network_from_value(value) for value in values.get("RA4", [])),
        profiles=tuple(profiles.get(value, value.lower()) for value in values.get("Profile", [])),
        description=values.get("Desc", [""])[0],
        group=values.get("EmbedCtxt", [""])[0],
        enabled=values.get("Active", ["TRUE"])[0].upper() == "TRUE",
        extra=tuple((key, value) for key, items in values.items() if key not in known for value in items),
    )


def firewall_policy_values(rules: list[FirewallRule]) -> list[PolicyValue]:
    """The Registry.pol values that carry `rules`, one REG_SZ per rule under FIREWALL_RULES_KEY."""
    ids = [rule.rule_id.lower() for rule in rules]
    duplicates = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
    if duplicates:
        raise ValueError(f"firewall rule ids must be unique, repeated: {', '.join(duplicates)}")
    return [PolicyValue(FIREWALL_RULES_KEY, rule.rule_id, REG_SZ, render_rule(rule)) for rule in rules]


def rules_from_policy_values(values: list[PolicyValue]) -> tuple[list[FirewallRule], list[PolicyValue]]:
    """Split the values of a Registry.pol into firewall rules and the other values."""
    rules, others = [], []
    for value in values:
        if value.key.lower() == FIREWALL_RULES_KEY.lower() and value.type == REG_SZ and isinstance(value.data, str):
            rules.append(parse_rule(value.name, value.data))
        else:
            others.append(value)
    return rules, others
