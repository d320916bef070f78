"""The pure formats of a GPO's computer side: Registry.pol ([MS-GPREG]), firewall rule strings
([MS-GPFAS]), Groups.xml ([MS-GPPREF] Local Users and Groups), GptTmpl.inf service settings
([MS-GPSB]) and the machine half of the GPO version ([MS-GPOL])."""

from __future__ import annotations

import datetime
import struct
import xml.etree.ElementTree as ET

import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad import (
    firewall_rule,
    gpo,
    gpp_groups,
    registry_pol,
    security_template,
)

NOW = datetime.datetime(2026, 12, 6, 10, 0, 0, tzinfo=datetime.UTC)
LATER = datetime.datetime(2026, 12, 7, 11, 0, 0, tzinfo=datetime.UTC)
WINRM_KEY = "Software\\Policies\\Microsoft\\Windows\\WinRM\\Service"
DOMAIN_GROUP = "S-1-5-21-879202128-1980320757-513276899-1131"


def utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


# -- Registry.pol ------------------------------------------------------------------------------------------
def test_an_empty_policy_file_is_the_preg_header_alone() -> None:
    # [MS-GPREG] 2.2.1: Signature %x50.52.65.67 then Version 1 (a little-endian DWORD, REGISTRY_FILE_VERSION).
    assert registry_pol.encode_registry_pol([]) == bytes.fromhex("5052656701000000")


def test_a_dword_instruction_is_encoded_byte_for_byte_as_the_grammar_says() -> None:
    value = registry_pol.PolicyValue(WINRM_KEY, "AllowAutoConfig", registry_pol.REG_DWORD, 1)
    expected = (
        b"PReg\x01\x00\x00\x00"
        + utf16("[")
        + utf16(WINRM_KEY)
        + b"\x00\x00"
        + utf16(";")
        + utf16("AllowAutoConfig")
        + b"\x00\x00"
        + utf16(";")
        + b"\x04\x00\x00\x00"  # REG_DWORD
        + utf16(";")
        + b"\x04\x00\x00\x00"  # four bytes of data
        + utf16(";")
        + b"\x01\x00\x00\x00"
        + utf16("]")
    )
    assert registry_pol.encode_registry_pol([value]) == expected


def test_a_string_is_nul_terminated_and_its_size_counts_the_terminator() -> None:
    encoded = registry_pol.encode_registry_pol(
        [registry_pol.PolicyValue(WINRM_KEY, "IPv4Filter", registry_pol.REG_SZ, "10.0.0.1-10.0.0.9")]
    )
    data = utf16("10.0.0.1-10.0.0.9") + b"\x00\x00"
    assert struct.pack("<I", len(data)) + utf16(";") + data + utf16("]") in encoded
    assert encoded.endswith(data + utf16("]"))


@pytest.mark.parametrize(
    ("type_name", "data"),
    [
        ("string", "*"),
        ("string", ""),
        ("expand_string", "%SystemRoot%\\system32"),
        ("dword", 0),
        ("dword", 0xFFFFFFFF),
        ("dword_big_endian", 0x01020304),
        ("qword", 2**40 + 5),
        ("multi_string", ["a", "b c", "ünïcode"]),
        ("binary", b"\x00\x01\xfe\xff"),
    ],
)
def test_every_value_type_round_trips(type_name: str, data: object) -> None:
    value = registry_pol.policy_value(WINRM_KEY, "Value", type_name, data)
    assert registry_pol.decode_registry_pol(registry_pol.encode_registry_pol([value])) == [value]


def test_several_instructions_round_trip_in_their_order() -> None:
    values = [
        registry_pol.policy_value(WINRM_KEY, "AllowAutoConfig", "dword", 1),
        registry_pol.policy_value(WINRM_KEY, "IPv4Filter", "string", "*"),
        registry_pol.policy_value("Software\\Policies\\Other", "Name with spaces", "string", "x;y]z["),
    ]
    assert registry_pol.decode_registry_pol(registry_pol.encode_registry_pol(values)) == values


def test_canonical_order_makes_the_file_independent_of_the_input_order() -> None:
    first = registry_pol.policy_value(WINRM_KEY, "b", "dword", 1)
    second = registry_pol.policy_value(WINRM_KEY.upper(), "A", "dword", 2)
    assert registry_pol.canonical_order([first, second]) == registry_pol.canonical_order([second, first])
    assert registry_pol.canonical_order([first, second])[0] is second


@pytest.mark.parametrize(
    "key",
    ["", "Software\\\\Policies", "Software\\Policies\\", "Software\\Pölicies", "Software\\Policies\x00", "Soft\tware"],
)
def test_keys_outside_the_grammar_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match=r"MS-GPREG"):
        registry_pol.policy_value(key, "Value", "dword", 1)


@pytest.mark.parametrize("name", ["", "x" * 260, "tab\there", "é"])
def test_value_names_outside_the_grammar_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match=r"MS-GPREG"):
        registry_pol.policy_value(WINRM_KEY, name, "dword", 1)


@pytest.mark.parametrize(
    ("type_name", "data"),
    [("dword", -1), ("dword", 2**32), ("dword", "1x"), ("dword", True), ("multi_string", ["", "x"]), ("kind", 1)],
)
def test_data_that_does_not_fit_its_type_is_refused(type_name: str, data: object) -> None:
    with pytest.raises(ValueError):
        registry_pol.policy_value(WINRM_KEY, "Value", type_name, data)


@pytest.mark.parametrize(
    "damaged",
    [
        b"PRex\x01\x00\x00\x00",
        b"PReg\x02\x00\x00\x00",
        b"PReg\x01\x00\x00\x00" + utf16("[") + utf16("Key"),  # unterminated key
        registry_pol.encode_registry_pol([registry_pol.policy_value(WINRM_KEY, "v", "dword", 1)])[:-4],
    ],
)
def test_a_damaged_file_is_reported_not_misread(damaged: bytes) -> None:
    with pytest.raises(ValueError, match=r"Registry\.pol"):
        registry_pol.decode_registry_pol(damaged)


def test_a_missing_file_holds_no_values() -> None:
    assert registry_pol.decode_registry_pol(None) == []
    assert registry_pol.decode_registry_pol(b"") == []


# -- firewall rules ----------------------------------------------------------------------------------------
WINRM_RULE = {
    "id": "TenantToolkit-WinRM-In",
    "name": "WinRM from the image controller",
    "description": "Image pipeline (managed by the tenant toolkit)",
    "group": "Tenant toolkit",
    "protocol": "tcp",
    "local_ports": [5986, 5985, 5985],
    "remote_addresses": ["10.9.0.0/24", "192.168.4.7/32"],
    "profiles": ["public", "domain"],
}


def test_a_winrm_rule_renders_as_the_rule_grammar_says() -> None:
    rule = firewall_rule.normalise_rule(WINRM_RULE)
    assert firewall_rule.render_rule(rule) == (
        "v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|Profile=Domain|Profile=Public|LPort=5985|LPort=5986|"
        "RA4=10.9.0.0/255.255.255.0|RA4=192.168.4.7|Name=WinRM from the image controller|"
        "Desc=Image pipeline (managed by the tenant toolkit)|EmbedCtxt=Tenant toolkit|"
    )


def test_a_rule_string_round_trips() -> None:
    rule = firewall_rule.normalise_rule(WINRM_RULE)
    assert firewall_rule.parse_rule(rule.rule_id, firewall_rule.render_rule(rule)) == rule


def test_a_rule_written_by_windows_is_read_with_its_unknown_fields_kept() -> None:
    # The Remote Desktop rule as Windows stores it (Microsoft troubleshooting article on the RDP firewall
    # rule, FirewallRules\RemoteDesktop-UserMode-In-TCP): repeated Profile fields, App and Svc.
    text = (
        "v2.22|Action=Allow|Active=TRUE|Dir=In|Protocol=6|Profile=Domain|Profile=Private|Profile=Public|"
        "LPort=3389|App=%SystemRoot%\\system32\\svchost.exe|Svc=termservice|Name=@FirewallAPI.dll,-28775|"
        "Desc=@FirewallAPI.dll,-28756|EmbedCtxt=@FirewallAPI.dll,-28752|"
    )
    rule = firewall_rule.parse_rule("RemoteDesktop-UserMode-In-TCP", text)
    assert rule.action == "allow" and rule.direction == "in" and rule.protocol == 6
    assert rule.profiles == ("domain", "private", "public") and rule.local_ports == (3389,)
    assert rule.group == "@FirewallAPI.dll,-28752"
    assert ("Svc", "termservice") in rule.extra and ("App", "%SystemRoot%\\system32\\svchost.exe") in rule.extra


def test_rules_travel_as_reg_sz_values_under_the_firewall_rules_key() -> None:
    values = firewall_rule.firewall_policy_values([firewall_rule.normalise_rule(WINRM_RULE)])
    assert [(v.key, v.name, v.type) for v in values] == [
        ("Software\\Policies\\Microsoft\\WindowsFirewall\\FirewallRules", "TenantToolkit-WinRM-In", 1)
    ]
    rules, others = firewall_rule.rules_from_policy_values(
        [*values, registry_pol.policy_value(WINRM_KEY, "AllowAutoConfig", "dword", 1)]
    )
    assert [rule.rule_id for rule in rules] == ["TenantToolkit-WinRM-In"] and len(others) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "WinRM|Action=Block"}, "cannot appear"),
        ({"description": "line\nbreak"}, "cannot appear"),
        ({"group": "a|b"}, "cannot appear"),
        ({"remote_addresses": ["0.0.0.0/0"]}, "not every address"),
        ({"remote_addresses": ["10.9.0.1/24"]}, "IPv4 address or network"),
        ({"remote_addresses": ["fe80::/64"]}, "IPv4 address or network"),
        ({"local_ports": [0]}, "port number"),
        ({"local_ports": ["5985; drop"]}, "port number"),
        ({"protocol": "icmp"}, "protocol"),
        ({"protocol": 1}, "ports need protocol"),
        ({"profiles": ["home"]}, "profile"),
        ({"action": "bypass"}, "action"),
        ({"direction": "both"}, "direction"),
        ({"id": ""}, "MS-GPREG"),
    ],
)
def test_rule_values_that_would_change_its_meaning_are_refused(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        firewall_rule.normalise_rule({**WINRM_RULE, **change})


def test_rule_ids_are_unique() -> None:
    rule = firewall_rule.normalise_rule(WINRM_RULE)
    with pytest.raises(ValueError, match="unique"):
        firewall_rule.firewall_policy_values([rule, rule])


# -- Groups.xml --------------------------------------------------------------------------------------------
ADMINISTRATORS = {
    "group": "Administrators (built-in)",
    "group_sid": "S-1-5-32-544",
    "members": [{"name": "CORP\\acme-image-build", "sid": DOMAIN_GROUP}],
}


def parsed(text: str) -> ET.Element:
    return ET.fromstring(text.encode())  # noqa: S314 - the module's own output


def test_groups_xml_adds_the_domain_group_to_the_builtin_administrators_and_undoes_it_when_unapplied() -> None:
    root = parsed(gpp_groups.render_groups_xml("acme builder access", [ADMINISTRATORS], now=NOW))
    assert root.tag == "Groups" and root.get("clsid") == "{3125E937-EB16-4b4c-9934-544FC6D24D26}"
    (group,) = root.findall("Group")
    assert group.get("clsid") == "{6D4A79E4-529C-4481-ABD0-F5BD7EA93BA7}"
    assert group.get("removePolicy") == "1" and group.get("changed") == "2026-12-06 10:00:00"
    props = group.find("Properties")
    assert props is not None
    assert props.get("action") == "U" and props.get("groupSid") == "S-1-5-32-544"
    assert (props.get("deleteAllUsers"), props.get("deleteAllGroups"), props.get("removeAccounts")) == ("0", "0", "0")
    members = props.findall("Members/Member")
    assert [(m.get("name"), m.get("action"), m.get("sid")) for m in members] == [
        ("CORP\\acme-image-build", "ADD", DOMAIN_GROUP)
    ]


def test_groups_xml_is_stable_and_keeps_its_stamp_until_the_item_changes() -> None:
    first = gpp_groups.render_groups_xml("acme builder access", [ADMINISTRATORS], now=NOW)
    assert gpp_groups.render_groups_xml("acme builder access", [ADMINISTRATORS], existing=first, now=LATER) == first
    changed = {**ADMINISTRATORS, "members": [*ADMINISTRATORS["members"], {"name": "CORP\\ops", "sid": "S-1-5-32-545"}]}
    second = gpp_groups.render_groups_xml("acme builder access", [changed], existing=first, now=LATER)
    assert 'changed="2026-12-07 11:00:00"' in second
    assert parsed(first).find("Group").get("uid") == parsed(second).find("Group").get("uid")


def test_groups_xml_round_trips_to_the_module_vocabulary() -> None:
    text = gpp_groups.render_groups_xml("acme builder access", [ADMINISTRATORS], now=NOW)
    assert gpp_groups.groups_from_xml(text) == [
        {
            "group": "Administrators (built-in)",
            "group_sid": "S-1-5-32-544",
            "action": "update",
            "members": [{"name": "CORP\\acme-image-build", "sid": DOMAIN_GROUP}],
            "remove_when_not_applied": True,
            "description": "",
        }
    ]


def test_the_documented_local_group_example_is_read() -> None:
    # The Group item of [MS-GPPREF] 4.2.10 "Local Users and Groups Example".
    example = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<Groups clsid="{3125E937-EB16-4b4c-9934-544FC6D24D26}" disabled="1">'
        '<Group clsid="{6D4A79E4-529C-4481-ABD0-F5BD7EA93BA7}" name="Database Admins" image="2" '
        'changed="2007-07-06 20:46:21" uid="{C5FB3901-508A-4A9E-9171-60D4FC2B404B}">'
        '<Properties action="U" newName="" description="Local Database Admins" userAction="REMOVE" '
        'deleteAllUsers="1" deleteAllGroups="1" removeAccounts="0" groupName="Database Admins">'
        '<Members><Member name="domain\\sampleuser" action="ADD" sid=""/></Members>'
        "</Properties></Group></Groups>"
    )
    (group,) = gpp_groups.groups_from_xml(example)
    assert group["group"] == "Database Admins" and group["action"] == "update"
    assert group["members"] == [{"name": "domain\\sampleuser", "sid": ""}]
    assert group["remove_when_not_applied"] is False


def test_hostile_names_are_escaped_in_groups_xml() -> None:
    hostile = {**ADMINISTRATORS, "members": [{"name": 'CORP\\"><Member sid="S-1-1-0"/>&', "sid": DOMAIN_GROUP}]}
    root = parsed(gpp_groups.render_groups_xml("a & b <gpo>", [hostile], now=NOW))
    members = root.findall("Group/Properties/Members/Member")
    assert len(members) == 1 and members[0].get("name") == 'CORP\\"><Member sid="S-1-1-0"/>&'


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"group": "Administrators", "members": [{"name": "x", "sid": ""}]}, "no SID"),
        ({"group_sid": "S-1-5-x"}, "not a SID"),
        ({}, "group or group_sid"),
        ({**ADMINISTRATORS, "action": "replace"}, "only action update"),
    ],
)
def test_incomplete_group_items_are_refused(item: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        gpp_groups.render_groups_xml("gpo", [item], now=NOW)


def test_groups_xml_extension_pairs_name_the_documented_guids() -> None:
    found = gpo.parse_extension_names(gpp_groups.LOCAL_GROUPS_EXTENSIONS)
    assert found == {
        "{00000000-0000-0000-0000-000000000000}": ["{79F92669-4224-476C-9C5C-6EFB4D87DF4A}"],
        "{17D89FEC-5C44-4972-B12D-241CAEF74509}": ["{79F92669-4224-476C-9C5C-6EFB4D87DF4A}"],
    }


# -- GptTmpl.inf -------------------------------------------------------------------------------------------
def test_a_service_start_mode_is_a_service_general_setting_in_utf16_with_its_bom() -> None:
    text = security_template.render_template([{"name": "WinRM", "start_mode": "automatic"}])
    assert text == (
        '[Unicode]\r\nUnicode=yes\r\n[Version]\r\nsignature="$CHICAGO$"\r\nRevision=1\r\n'
        '[Service General Setting]\r\n"WinRM",2,""\r\n'
    )
    data = security_template.encode_template(text)
    assert data.startswith(b"\xff\xfe") and security_template.decode_template(data) == text


def test_service_settings_round_trip_sorted_by_name() -> None:
    services = [{"name": "wuauserv", "start_mode": "disabled"}, {"name": "WinRM", "start_mode": "automatic"}]
    text = security_template.render_template(services)
    assert security_template.services_from_template(text) == [
        {"name": "WinRM", "start_mode": "automatic"},
        {"name": "wuauserv", "start_mode": "disabled"},
    ]
    assert security_template.other_sections(text) == []


def test_a_template_with_other_settings_is_recognised() -> None:
    text = (
        "[Unicode]\r\nUnicode=yes\r\n[System Access]\r\nMinimumPasswordAge = 1\r\n"
        '[Service General Setting]\r\nW32Time,4,""\r\n'
    )
    assert security_template.services_from_template(text) == [{"name": "W32Time", "start_mode": "disabled"}]
    assert security_template.other_sections(text) == ["System Access"]


@pytest.mark.parametrize(
    ("service", "message"),
    [
        ({"name": 'Win"RM', "start_mode": "automatic"}, "MS-GPSB"),
        ({"name": "a,b", "start_mode": "manual"}, "MS-GPSB"),
        ({"name": "WinRM", "start_mode": "boot"}, "start_mode"),
    ],
)
def test_service_settings_outside_the_grammar_are_refused(service: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        security_template.render_template([service])


# -- versions ----------------------------------------------------------------------------------------------
def test_machine_version_is_the_lower_16_bits() -> None:
    assert gpo.bump_machine_version(0) == 1
    assert gpo.bump_machine_version(65536 * 3 + 4) == 65536 * 3 + 5, "the user side is untouched"
    assert gpo.split_version(gpo.bump_machine_version(65536)) == {"user": 1, "machine": 1}


def test_a_version_half_never_wraps_to_zero() -> None:
    # [MS-GPOL] 3.3.4.5: "If, after the increment, the user GPO version or machine GPO version is 0, the value
    # MUST be set to 1."
    assert gpo.bump_machine_version(0xFFFF) == 1
    assert gpo.bump_user_version(0xFFFF0000) == 0x10000


def test_machine_extension_names_merge_into_one_sorted_list() -> None:
    value = ""
    for required in (
        registry_pol.REGISTRY_MACHINE_EXTENSIONS,
        gpp_groups.LOCAL_GROUPS_EXTENSIONS,
        security_template.SECURITY_MACHINE_EXTENSIONS,
    ):
        value = gpo.merge_extension_names(value, required)
    assert value == (
        "[{00000000-0000-0000-0000-000000000000}{79F92669-4224-476C-9C5C-6EFB4D87DF4A}]"
        "[{17D89FEC-5C44-4972-B12D-241CAEF74509}{79F92669-4224-476C-9C5C-6EFB4D87DF4A}]"
        "[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}{D02B1F72-3407-48AE-BA88-E8213C6761F1}]"
        "[{827D319E-6EAC-11D2-A4EA-00C04F79F83A}{803E14A0-B4FB-11D0-A0D0-00A0C90F574B}]"
    )
    removed = gpo.merge_extension_names(value, gpp_groups.LOCAL_GROUPS_EXTENSIONS, present=False)
    assert "17D89FEC" not in removed and "35378EAC" in removed


def test_other_security_settings_of_the_template_are_kept() -> None:
    existing = (
        "[Unicode]\r\nUnicode=yes\r\n[System Access]\r\nMinimumPasswordAge = 1\r\n"
        '[Service General Setting]\r\n"W32Time",4,""\r\n'
    )
    text = security_template.render_template([{"name": "WinRM", "start_mode": "automatic"}], existing)
    assert security_template.sections(text)["System Access"] == ["MinimumPasswordAge = 1"]
    assert security_template.services_from_template(text) == [{"name": "WinRM", "start_mode": "automatic"}]
