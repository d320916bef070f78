"""The pure parts of the AD modules: security descriptors and SDDL, delegations, GPT.INI versions,
gPLink, gPCUserExtensionNames and Drives.xml ([MS-GPPREF])."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad import (
    delegation,
    dn,
    gpo,
    gpp_drives,
    ldap,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad import security_descriptor as sddl
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.errors import AdError

DOMAIN_SID = "S-1-5-21-879202128-1980320757-513276899"
ADMIN = f"{DOMAIN_SID}-1127"
SERVICE = f"{DOMAIN_SID}-1128"
GPO_DN = "CN={31B2F340-016D-11D2-945F-00C04FB984F9},CN=Policies,CN=System,DC=corp,DC=example,DC=com"
OTHER_DN = "CN={6AC1786C-016F-11D2-945F-00C04FB984F9},CN=Policies,CN=System,DC=corp,DC=example,DC=com"
NEW_DN = "CN={2B8E6C1A-3D1F-4C55-9F0B-1E6A7C2D9B10},CN=Policies,CN=System,DC=corp,DC=example,DC=com"
NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)


def xml(text: str) -> ET.Element:
    return ET.fromstring(text.encode())  # noqa: S314 - parses the module's own output


LATER = datetime.datetime(2026, 2, 3, 4, 5, 6, tzinfo=datetime.UTC)


# -- SIDs, GUIDs, descriptors ----------------------------------------------------------------------------
def test_sid_round_trips_through_its_binary_form() -> None:
    assert sddl.sid_from_bytes(sddl.sid_to_bytes(ADMIN)) == ADMIN
    assert sddl.sid_to_bytes("S-1-5-32-544") == bytes.fromhex("01020000000000052000000020020000")


def test_guid_uses_ad_mixed_endian_layout() -> None:
    raw = sddl.guid_to_bytes("bf967a86-0de6-11d0-a285-00aa003049e2")
    assert raw[:4] == bytes.fromhex("867a96bf")
    assert sddl.guid_from_bytes(raw) == "bf967a86-0de6-11d0-a285-00aa003049e2"


def test_security_descriptor_round_trips_with_object_aces() -> None:
    text = (
        f"O:{ADMIN}G:DUD:PAI(A;CI;GA;;;DA)(OA;CIIO;CR;ab721a53-1e2f-11d0-9819-00aa0040529b;"
        f"bf967a86-0de6-11d0-a285-00aa003049e2;{SERVICE})(OA;CIID;RP;4c164200-20c0-11d0-a768-00aa006e0529;;RU)"
    )
    sd = sddl.sd_from_sddl(text, DOMAIN_SID)
    parsed = sddl.parse_security_descriptor(sddl.pack_security_descriptor(sd))
    assert parsed.owner == ADMIN
    assert parsed.group == f"{DOMAIN_SID}-513"
    assert parsed.dacl == sd.dacl
    assert parsed.protected
    assert sddl.sd_to_sddl(parsed, DOMAIN_SID) == text


def test_sddl_renders_like_samba_for_file_and_ds_masks() -> None:
    # Samba's own rendering of a GPO folder ACL (samba-tool ntacl get --as-sddl).
    samba = (
        "O:DAG:DAD:P(A;OICI;0x001f01ff;;;DA)(A;OICI;0x001f01ff;;;EA)(A;OICIIO;0x001f01ff;;;CO)"
        "(A;OICI;0x001f01ff;;;SY)(A;OICI;0x001200a9;;;AU)(OA;OICI;;edacfd8f-ffb3-11d1-b41d-00a0c968f939;;AU)"
        "(A;OICI;0x001200a9;;;ED)"
    )
    assert sddl.sd_to_sddl(sddl.sd_from_sddl(samba, DOMAIN_SID), DOMAIN_SID) == samba
    assert sddl.mask_to_sddl(0x000F01FF) == "RPWPCRCCDCLCLORCWOWDSDDTSW"


def test_sddl_rejects_unknown_rights_and_aliases() -> None:
    with pytest.raises(ValueError, match="unknown access right"):
        sddl.ace_from_sddl("(A;;ZZ;;;SY)")
    with pytest.raises(ValueError, match="needs the domain SID"):
        sddl.sid_from_sddl("DA")


# -- delegations ---------------------------------------------------------------------------------------------
APPSTREAM_SDDL = [
    f"(OA;CI;CC;bf967a86-0de6-11d0-a285-00aa003049e2;;{SERVICE})",
    f"(OA;CIIO;CR;ab721a53-1e2f-11d0-9819-00aa0040529b;bf967a86-0de6-11d0-a285-00aa003049e2;{SERVICE})",
    f"(OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967a86-0de6-11d0-a285-00aa003049e2;{SERVICE})",
    f"(OA;CIIO;WP;bf967950-0de6-11d0-a285-00aa003049e2;bf967a86-0de6-11d0-a285-00aa003049e2;{SERVICE})",
]


def ou_sd() -> sddl.SecurityDescriptor:
    return sddl.sd_from_sddl(
        "O:DAG:DAD:AI(A;;RPWPCRCCDCLCLORCWOWDSDDTSW;;;DA)(A;;RPLCLORC;;;AU)"
        "(A;CIID;GA;;;S-1-5-21-879202128-1980320757-513276899-1106)",
        DOMAIN_SID,
    )


def test_appstream_rights_are_the_four_aces_appstream_needs() -> None:
    aces = delegation.delegation_aces(SERVICE, delegation.APPSTREAM_RIGHTS)
    assert [sddl.ace_to_sddl(ace, DOMAIN_SID) for ace in aces] == APPSTREAM_SDDL


def test_granting_adds_explicit_aces_before_inherited_ones() -> None:
    updated, changed = sddl.set_explicit_aces_of(
        ou_sd(), SERVICE, delegation.delegation_aces(SERVICE, delegation.APPSTREAM_RIGHTS)
    )
    assert changed
    assert [sddl.ace_to_sddl(ace, DOMAIN_SID) for ace in sddl.explicit_aces_of(updated, SERVICE)] == APPSTREAM_SDDL
    assert updated.dacl[-1].inherited, "inherited ACEs stay last (canonical order)"
    assert updated.dacl[:2] == ou_sd().dacl[:2], "other trustees' ACEs are untouched"


def test_granting_the_same_rights_twice_changes_nothing() -> None:
    wanted = delegation.delegation_aces(SERVICE, delegation.APPSTREAM_RIGHTS)
    once, _unused = sddl.set_explicit_aces_of(ou_sd(), SERVICE, wanted)
    again, changed = sddl.set_explicit_aces_of(once, SERVICE, list(reversed(wanted)))
    assert not changed
    assert again.dacl == once.dacl


def test_a_right_dropped_from_the_list_is_revoked() -> None:
    granted, _unused = sddl.set_explicit_aces_of(
        ou_sd(), SERVICE, delegation.delegation_aces(SERVICE, delegation.APPSTREAM_RIGHTS)
    )
    fewer, changed = sddl.set_explicit_aces_of(
        granted, SERVICE, delegation.delegation_aces(SERVICE, ["create_computer"])
    )
    assert changed
    assert [sddl.ace_to_sddl(ace, DOMAIN_SID) for ace in sddl.explicit_aces_of(fewer, SERVICE)] == APPSTREAM_SDDL[:1]


def test_gpo_folder_acl_is_samba_dsacl2fsacl() -> None:
    # A GPO created by the delegated Admin: its AD ACL and the folder ACL samba-tool gpo create wrote.
    ds = sddl.sd_from_sddl(
        f"O:{ADMIN}G:DUD:P(A;CI;RPWPCCDCLCLORCWOWDSDDTSW;;;DA)(A;CI;RPWPCCDCLCLORCWOWDSDDTSW;;;EA)"
        f"(A;CIIO;RPWPCCDCLCLORCWOWDSDDTSW;;;CO)(A;;RPWPCCDCLCLORCWOWDSDDTSW;;;{ADMIN})"
        "(A;CI;RPWPCCDCLCLORCWOWDSDDTSW;;;SY)(A;CI;RPLCLORC;;;AU)(OA;CI;CR;edacfd8f-ffb3-11d1-b41d-00a0c968f939;;AU)"
        "(A;CI;RPLCLORC;;;ED)(A;CI;RPLCLORC;;;RU)",
        DOMAIN_SID,
    )
    expected = (
        f"O:{ADMIN}G:DUD:P(A;OICI;0x001f01ff;;;DA)(A;OICI;0x001f01ff;;;EA)(A;OICIIO;0x001f01ff;;;CO)"
        f"(A;OICI;0x001f01ff;;;{ADMIN})(A;OICI;0x001f01ff;;;SY)(A;OICI;0x001200a9;;;AU)"
        "(OA;OICI;;edacfd8f-ffb3-11d1-b41d-00a0c968f939;;AU)(A;OICI;0x001200a9;;;ED)"
    )
    assert sddl.sd_to_sddl(gpo.gpo_folder_sd(ds), DOMAIN_SID) == expected


def test_home_folder_aces_use_explorer_rights() -> None:
    ace = sddl.folder_ace(SERVICE, "modify")
    assert sddl.ace_to_sddl(ace, DOMAIN_SID) == f"(A;OICI;0x001301bf;;;{SERVICE})"
    only_here = sddl.folder_ace("S-1-5-18", "read_execute", "this_folder_only")
    assert sddl.ace_to_sddl(only_here) == "(A;;0x001200a9;;;SY)"


# -- GPT.INI and versions ------------------------------------------------------------------------------------
def test_user_version_is_the_upper_16_bits() -> None:
    assert gpo.bump_user_version(0) == 65536
    assert gpo.bump_user_version(65536 + 7) == 131072 + 7, "the machine side is untouched"
    assert gpo.split_version(131079) == {"user": 2, "machine": 7}


def test_gpt_ini_version_is_replaced_and_other_lines_kept() -> None:
    text = "[General]\r\nVersion=65536\r\ndisplayName=New Group Policy Object\r\n"
    assert gpo.gpt_version(text) == 65536
    bumped = gpo.with_gpt_version(text, 131072)
    assert bumped == "[General]\r\nVersion=131072\r\ndisplayName=New Group Policy Object\r\n"


def test_gpt_ini_is_created_when_missing_or_without_version() -> None:
    assert gpo.with_gpt_version("", 0) == "[General]\r\nVersion=0\r\n"
    assert gpo.gpt_version(gpo.with_gpt_version("[General]\r\ndisplayName=x\r\n", 65536)) == 65536


# -- gPLink ------------------------------------------------------------------------------------------------------
def test_gplink_lists_links_with_link_order_one_last() -> None:
    links = gpo.parse_gplink(f"[LDAP://{OTHER_DN};0][LDAP://{GPO_DN};2]")
    assert [link.dn for link in links] == [GPO_DN, OTHER_DN]
    assert links[0].enforced and links[0].enabled
    assert gpo.render_gplink(links) == f"[LDAP://{OTHER_DN};0][LDAP://{GPO_DN};2]"


def test_badly_formed_gplink_is_an_error() -> None:
    with pytest.raises(ValueError, match="badly formed"):
        gpo.parse_gplink("[LDAP://cn=x;0]garbage")


def test_new_link_is_added_with_the_lowest_precedence_and_others_kept() -> None:
    links = gpo.parse_gplink(f"[LDAP://{GPO_DN};2]")
    merged = gpo.merge_gplink(links, NEW_DN)
    assert gpo.render_gplink(merged) == f"[LDAP://{NEW_DN};0][LDAP://{GPO_DN};2]"


def test_link_order_one_makes_the_link_win() -> None:
    links = gpo.parse_gplink(f"[LDAP://{OTHER_DN};0][LDAP://{GPO_DN};0]")
    merged = gpo.merge_gplink(links, NEW_DN, enforced=True, order=1)
    assert merged[0] == gpo.GpLink(NEW_DN, 2)
    assert gpo.render_gplink(merged).endswith(f"[LDAP://{NEW_DN};2]")


def test_merging_an_existing_link_keeps_its_place_and_changes_only_options() -> None:
    links = gpo.parse_gplink(f"[LDAP://{OTHER_DN};0][LDAP://{NEW_DN};0][LDAP://{GPO_DN};0]")
    assert gpo.merge_gplink(links, NEW_DN.lower()) == links, "same link, any DN case: no change"
    disabled = gpo.merge_gplink(links, NEW_DN, enabled=False)
    assert [link.options for link in disabled] == [0, 1, 0]


def test_unlinking_removes_only_that_gpo() -> None:
    links = gpo.parse_gplink(f"[LDAP://{OTHER_DN};0][LDAP://{NEW_DN};0]")
    assert gpo.remove_gplink(links, "{2B8E6C1A-3D1F-4C55-9F0B-1E6A7C2D9B10}") == [gpo.GpLink(OTHER_DN, 0)]


# -- gPCUserExtensionNames ----------------------------------------------------------------------------------------
def test_drive_maps_extension_names_are_exactly_the_documented_value() -> None:
    assert gpo.merge_extension_names("", gpp_drives.DRIVE_MAPS_EXTENSIONS) == (
        "[{00000000-0000-0000-0000-000000000000}{2EA1A81B-48E5-45E9-8BB7-A6E3AC170006}]"
        "[{5794DAFD-BE60-433F-88A2-1A31939AC01F}{2EA1A81B-48E5-45E9-8BB7-A6E3AC170006}]"
    )


def test_other_extensions_are_kept_and_sorted() -> None:
    printers = (
        "[{00000000-0000-0000-0000-000000000000}{A8C42CEA-CDB8-4388-97F4-5831F933DA84}]"
        "[{BC75B1ED-5833-4858-9BB8-CBF0B166DF9D}{A8C42CEA-CDB8-4388-97F4-5831F933DA84}]"
    )
    merged = gpo.merge_extension_names(printers, gpp_drives.DRIVE_MAPS_EXTENSIONS)
    assert merged.startswith(
        "[{00000000-0000-0000-0000-000000000000}{2EA1A81B-48E5-45E9-8BB7-A6E3AC170006}"
        "{A8C42CEA-CDB8-4388-97F4-5831F933DA84}]"
    )
    assert gpo.merge_extension_names(merged, gpp_drives.DRIVE_MAPS_EXTENSIONS, present=False) == printers


# -- Drives.xml ------------------------------------------------------------------------------------------------------
HOME = {"letter": "H", "path": r"\\fs-1.corp.example.com\share\Users\%LogonUser%", "label": "Home"}
PROJECTS = {
    "letter": "P:",
    "path": r"\\fs-1.corp.example.com\share\Projects",
    "label": "Projects",
    "group_sid": f"{DOMAIN_SID}-1200",
    "group_name": "CORP\\acme-users",
}


def test_drives_xml_has_the_ms_gppref_shape() -> None:
    root = xml(gpp_drives.render_drives_xml("acme drive maps", [HOME, PROJECTS], now=NOW))
    assert root.tag == "Drives" and root.get("clsid") == "{8FDDCC1A-0C3C-43cd-A6B4-71A6DF20DA8C}"
    home, projects = root.findall("Drive")
    assert home.get("clsid") == "{935D1B74-9CB8-4e3c-9914-7DD559B7A417}"
    assert (home.get("name"), home.get("status"), home.get("image"), home.get("changed")) == (
        "H:",
        "H:",
        "2",
        "2026-01-02 03:04:05",
    )
    props = home.find("Properties").attrib
    assert props == {
        "action": "U",
        "thisDrive": "NOCHANGE",
        "allDrives": "NOCHANGE",
        "userName": "",
        "path": r"\\fs-1.corp.example.com\share\Users\%LogonUser%",
        "label": "Home",
        "persistent": "1",
        "useLetter": "1",
        "letter": "H",
    }
    group = projects.find("Filters/FilterGroup").attrib
    assert group["sid"] == f"{DOMAIN_SID}-1200" and group["userContext"] == "1" and group["not"] == "0"


def test_drive_uids_are_stable_per_gpo_and_letter() -> None:
    first = xml(gpp_drives.render_drives_xml("acme", [HOME], now=NOW)).find("Drive").get("uid")
    again = xml(gpp_drives.render_drives_xml("ACME", [HOME], now=LATER)).find("Drive").get("uid")
    other = xml(gpp_drives.render_drives_xml("other", [HOME], now=NOW)).find("Drive").get("uid")
    assert first == again != other
    assert first.startswith("{") and first.endswith("}") and first == first.upper()


def test_an_unchanged_configuration_renders_the_same_bytes() -> None:
    existing = gpp_drives.render_drives_xml("acme", [HOME, PROJECTS], now=NOW)
    assert gpp_drives.render_drives_xml("acme", [PROJECTS, HOME], existing=existing, now=LATER) == existing


def test_only_the_changed_item_gets_a_new_stamp() -> None:
    existing = gpp_drives.render_drives_xml("acme", [HOME, PROJECTS], now=NOW)
    relabelled = gpp_drives.render_drives_xml(
        "acme", [HOME, {**PROJECTS, "label": "Shared"}], existing=existing, now=LATER
    )
    stamps = {drive.get("name"): drive.get("changed") for drive in xml(relabelled)}
    assert stamps == {"H:": "2026-01-02 03:04:05", "P:": "2026-02-03 04:05:06"}


def test_special_characters_are_escaped() -> None:
    text = gpp_drives.render_drives_xml("acme", [{**HOME, "label": 'R&D "lab" <1>'}], now=NOW)
    assert xml(text).find("Drive/Properties").get("label") == 'R&D "lab" <1>'
    assert gpp_drives.drives_from_xml(text)[0]["label"] == 'R&D "lab" <1>'


def test_drives_read_back_in_the_module_vocabulary() -> None:
    text = gpp_drives.render_drives_xml("acme", [HOME, {**PROJECTS, "action": "replace", "reconnect": False}], now=NOW)
    home, projects = gpp_drives.drives_from_xml(text)
    assert home == {
        "letter": "H",
        "path": HOME["path"],
        "label": "Home",
        "action": "update",
        "reconnect": True,
        "this_drive": "nochange",
        "all_drives": "nochange",
    }
    assert projects["action"] == "replace" and projects["reconnect"] is False
    assert projects["group_sid"] == f"{DOMAIN_SID}-1200"


@pytest.mark.parametrize(
    ("drive", "message"),
    [
        ({"letter": "HH", "path": r"\\s\x"}, "one letter"),
        ({"letter": "H", "path": "/mnt/x"}, "UNC path"),
        ({"letter": "H", "path": r"\\s\x", "action": "mount"}, "action must be"),
    ],
)
def test_invalid_drive_maps_are_refused(drive: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        gpp_drives.render_drives_xml("acme", [drive], now=NOW)


# -- names and certificates -----------------------------------------------------------------------------------------
def test_domain_dn_conversions() -> None:
    assert dn.domain_to_dn("corp.example.com") == "DC=corp,DC=example,DC=com"
    assert dn.dn_to_domain("OU=Users,DC=corp,DC=example,DC=com") == "corp.example.com"
    assert dn.same_dn("ou=Users, dc=Corp,DC=example", "OU=users,DC=corp,DC=example")


DC_CERT = {"subject": ((("organizationName", "Samba Administration"),), (("commonName", "DC1.corp.example.com"),))}


def test_certificate_must_name_the_host_or_for_an_address_the_dcs_own_name() -> None:
    assert ldap.certificate_matches(DC_CERT, "dc1.corp.example.com")
    # By address: only the DC's own name (as the domain's DNS gives it for that address) counts.
    assert ldap.certificate_matches(DC_CERT, "127.0.1.5", ["dc1.corp.example.com"])
    assert not ldap.certificate_matches(DC_CERT, "127.0.1.5", ["dc2.corp.example.com"])
    assert not ldap.certificate_matches(DC_CERT, "127.0.1.5", [])
    assert not ldap.certificate_matches(DC_CERT, "evil.example.net", ["dc1.corp.example.com"])


def test_a_domain_members_certificate_does_not_pass_for_the_dc_at_an_address() -> None:
    """Any host of the domain can get a certificate from the domain's CA: that is not the DC's."""
    member = {"subject": ((("commonName", "ws7.corp.example.com"),),)}
    assert not ldap.certificate_matches(member, "127.0.1.5", ["dc1.corp.example.com"])


def test_only_hosts_of_the_domain_are_taken_as_a_dc_s_own_name() -> None:
    targets = [
        "DC1.Corp.Example.com.",
        "evil.attacker.net.",
        "corp.example.com.",
        "xcorp.example.com.",
        "dc2.corp.example.com",
    ]
    assert ldap.names_in_domain(targets, "corp.example.com") == ["dc1.corp.example.com", "dc2.corp.example.com"]


def test_ldaps_by_address_without_the_directory_ca_is_refused_before_connecting() -> None:
    params = {"server": "10.0.0.10", "validate_certs": True, "ca_file": None}
    directory = ldap.Directory.__new__(ldap.Directory)
    directory.params = params
    with pytest.raises(AdError, match="by address needs ca_file") as raised:
        directory._tls()
    assert raised.value.kind == "tls"
    directory.params = {**params, "server": "dc1.corp.example.com"}
    assert directory._tls() is not None  # by name the system's trust store may vouch for the name


def test_smb_sessions_require_encryption_unless_told_not_to(monkeypatch: pytest.MonkeyPatch) -> None:
    """No unauthenticated probe decides: encryption is asked for on the authenticated session itself."""
    import smbclient
    from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad import smb

    sessions: list[dict] = []
    monkeypatch.setattr(smbclient, "register_session", lambda server, **kwargs: sessions.append(kwargs))

    def no_probe(*args: object) -> bool:
        raise AssertionError("the unauthenticated probe was used")

    monkeypatch.setattr(smb, "encryption_offered", no_probe)
    share = smb.FileShare("fs.corp.example.com", "share", "Admin@corp.example.com", "secret")
    assert share.encrypted and sessions[-1]["encrypt"] is True

    monkeypatch.setattr(smb, "encryption_offered", lambda *args: False)
    opted_out = smb.FileShare("lab", "share", "Admin@lab", "secret", encrypt=False)
    assert not opted_out.encrypted and sessions[-1]["encrypt"] is False
