"""The tenant definition contract (design.md section 4), one rule per test.

Each rule is shown with values it accepts and values it rejects; a rejection must
name the offending field by its full dotted path.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.checks import (
    SAM_ACCOUNT_NAME_PATTERN,
    TOOLKIT_ACCOUNTS,
    TOOLKIT_GROUP_SUFFIXES,
    WELL_KNOWN_ACCOUNT_NAMES,
    derive_username,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.ops import (
    normalise_ops_vars,
    validate_ops_vars,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.tenant import (
    normalise_tenant,
    validate_run_tenants,
    validate_tenant,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.vault import (
    VAULT_VARIABLES,
    validate_vault_variables,
)

ROOT = Path(__file__).resolve().parents[2]

CATALOGUE: dict[str, Any] = {
    "icostudio": {"dependencies": ["vcredist"]},
    "icobatch": {"dependencies": ["vcredist"]},
    "vcredist": {},
}

BASE: dict[str, Any] = {
    "name": "acme-neuro",
    "environment": "prod",
    "region": "eu-west-3",
    "auth": "saml",
    "network": {"cidr": "10.40.0.0/16", "availability_zones": 2, "nat_gateways": "single"},
    "directory": {"fqdn": "corp.acme-neuro.example", "netbios": "ACMENEURO", "edition": "Standard"},
    "storage": {
        "deployment_type": "SINGLE_AZ_2",
        "storage_type": "SSD",
        "storage_gib": 64,
        "throughput_mbps": 32,
        "backup_retention_days": 7,
        "home_drive": "H",
        "project_drive": "P",
    },
    "appstream": {
        "builder_instance_type": "stream.standard.medium",
        "base_image": "AppStream-WinServer2019-07-16-2024",
        "fleet": {
            "type": "ON_DEMAND",
            "instance_type": "stream.standard.medium",
            "min_capacity": 1,
            "max_capacity": 4,
            "idle_disconnect_seconds": 900,
            "disconnect_timeout_seconds": 900,
            "max_user_duration_seconds": 28800,
            "schedule": {
                "timezone": "Europe/Paris",
                "start": "07:30",
                "stop": "20:00",
                "weekdays": ["mon", "tue", "wed", "thu", "fri"],
            },
        },
        "stack": {
            "clipboard_copy_from_local": True,
            "clipboard_copy_to_local": False,
            "file_upload": True,
            "file_download": False,
            "printing": False,
            "persist_app_settings": True,
        },
    },
    "apps": ["icostudio", "icobatch"],
    "users": [
        {"email": "ada@lab.example", "first_name": "Ada", "last_name": "Lovelace"},
        {"email": "alan@lab.example", "first_name": "Alan", "last_name": "Turing"},
    ],
    "budget": {"monthly_usd": 800, "notify": ["ops@example.com"]},
}

USERPOOL_BASE: dict[str, Any] = {
    key: value for key, value in copy.deepcopy(BASE).items() if key not in ("directory", "storage")
} | {"auth": "userpool"}


def tenant_with(changes: dict[str, Any], base: dict[str, Any] = BASE) -> dict[str, Any]:
    """A copy of ``base`` with dotted paths set (``DELETE`` removes the key)."""
    tenant = copy.deepcopy(base)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node: Any = tenant
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return tenant


DELETE = object()


def errors_of(changes: dict[str, Any], base: dict[str, Any] = BASE) -> list[str]:
    return validate_tenant(tenant_with(changes, base), CATALOGUE)


def assert_rejected(changes: dict[str, Any], path: str, fragment: str = "", base: dict[str, Any] = BASE) -> None:
    errors = errors_of(changes, base)
    matching = [error for error in errors if error.startswith(f"{path}: ")]
    assert matching, f"no error for {path} in {errors}"
    assert any(fragment in error for error in matching), f"{fragment!r} not in {matching}"


def assert_accepted(changes: dict[str, Any], base: dict[str, Any] = BASE) -> None:
    assert errors_of(changes, base) == []


# --------------------------------------------------------------------------
# Whole definition
# --------------------------------------------------------------------------


def test_the_reference_definitions_are_valid() -> None:
    assert validate_tenant(BASE, CATALOGUE) == []
    assert validate_tenant(USERPOOL_BASE, CATALOGUE) == []


def test_every_error_is_reported_at_once() -> None:
    errors = errors_of(
        {
            "name": "Acme",
            "environment": "staging",
            "network.nat_gatway": "single",
            "storage.storage_gib": 16,
            "appstream.fleet.min_capacity": 9,
            "users.1.email": "ADA@lab.example",
            "budget.notify": [],
        }
    )
    paths = {error.split(": ", 1)[0] for error in errors}
    assert paths >= {
        "tenant.name",
        "tenant.environment",
        "tenant.network.nat_gatway",
        "tenant.storage.storage_gib",
        "tenant.appstream.fleet.min_capacity",
        "tenant.users[1].email",
        "tenant.budget.notify",
    }


def test_the_design_example_message_is_exact() -> None:
    assert "tenant.storage.storage_gib: 16 is below the SSD minimum of 32" in errors_of({"storage.storage_gib": 16})


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"users.0.first_name": "{{ lookup('pipe', 'id') }}"}, "tenant.users[0].first_name"),
        ({"directory.netbios": "{% if true %}X{% endif %}"}, "tenant.directory.netbios"),
        ({"budget.notify": ["ops@example.com", "{# a comment #}"]}, "tenant.budget.notify[1]"),
        ({"appstream.fleet.schedule.timezone": "Europe/{{ city }}"}, "tenant.appstream.fleet.schedule.timezone"),
    ],
)
def test_template_syntax_anywhere_refuses_the_whole_definition_naming_the_field(changes, path) -> None:
    """Tenant data is data: a Jinja marker in any value is refused before any other rule reads it."""
    errors = errors_of(changes)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{path}: contains ") and "template syntax is not allowed" in errors[0]


def test_template_syntax_in_a_key_is_refused() -> None:
    tenant = copy.deepcopy(BASE)
    tenant["network"]["{{ x }}"] = 1
    errors = validate_tenant(tenant, CATALOGUE)
    assert errors == ['tenant.network: key "{{ x }}" contains template syntax, which is not allowed']


def test_braces_that_are_not_template_markers_are_data() -> None:
    assert_accepted({"users.0.first_name": "Ada {Lovelace}"})


def test_a_tenant_that_is_not_a_mapping_is_rejected() -> None:
    assert validate_tenant("demo", CATALOGUE) == ['tenant: must be a mapping, got string "demo"']
    assert validate_tenant(None, CATALOGUE)[0].startswith("tenant: is required")


def test_a_catalogue_that_is_not_a_mapping_is_rejected() -> None:
    assert any(error.startswith("app_catalogue: ") for error in validate_tenant(BASE, ["icostudio"]))  # type: ignore[arg-type]


@pytest.mark.parametrize("key", ["name", "environment", "region", "auth", "network", "appstream", "apps", "budget"])
def test_required_top_level_keys(key: str) -> None:
    assert_rejected({key: DELETE}, f"tenant.{key}", "is required but missing")


@pytest.mark.parametrize(
    "path",
    ["network.cidr", "directory.fqdn", "directory.netbios", "appstream.base_image", "budget.monthly_usd"],
)
def test_required_nested_keys(path: str) -> None:
    assert_rejected({path: DELETE}, f"tenant.{path}", "is required but missing")


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("network.availability_zones", "2", "must be an integer"),
        ("network", ["10.0.0.0/16"], "must be a mapping"),
        ("appstream.fleet.max_capacity", True, "must be an integer"),
        ("appstream.stack.printing", "no", "must be a boolean"),
        ("budget.monthly_usd", "800", "must be a number"),
        ("apps", "icostudio", "must be a list"),
        ("users.0", "ada@lab.example", "must be a mapping"),
        ("directory.netbios", 1234, "quote the value in YAML"),
    ],
)
def test_types_are_checked_at_every_level(path: str, value: Any, expected: str) -> None:
    assert_rejected({path: value}, "tenant." + path.replace(".0", "[0]"), expected)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("network.nat_gatway", "unknown key (did you mean nat_gateways?)"),
        ("netwrok", "unknown key (did you mean network?)"),
        ("appstream.fleet.idle_disconect_seconds", "did you mean idle_disconnect_seconds?"),
        ("storage.zzz", "unknown key (allowed: backup_retention_days,"),
    ],
)
def test_unknown_keys_are_reported_with_a_suggestion(path: str, expected: str) -> None:
    assert_rejected({path: 1}, f"tenant.{path}", expected)


# --------------------------------------------------------------------------
# Identity
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["abc", "acme-neuro", "lab2", "a" * 24])
def test_name_pattern_accepts(name: str) -> None:
    assert_accepted({"name": name})


@pytest.mark.parametrize("name", ["ab", "a" * 25, "Acme", "1lab", "acme_neuro", "acme.neuro", ""])
def test_name_pattern_rejects(name: str) -> None:
    assert_rejected({"name": name}, "tenant.name", "does not match ^[a-z][a-z0-9-]{2,23}$")


@pytest.mark.parametrize("name", ["awslab", "amazon-lab", "appstream-lab"])
def test_name_must_not_start_like_an_aws_reserved_image_name(name: str) -> None:
    assert_rejected({"name": name}, "tenant.name", "cannot start with aws, amazon, appstream")


@pytest.mark.parametrize(("value", "valid"), [("dev", True), ("test", True), ("prod", True), ("staging", False)])
def test_environment_choices(value: str, valid: bool) -> None:
    if valid:
        assert_accepted({"environment": value})
    else:
        assert_rejected({"environment": value}, "tenant.environment", '"staging" is not one of dev, test, prod')


@pytest.mark.parametrize("region", ["eu-west-3", "us-east-1", "ap-southeast-2", "us-gov-west-1"])
def test_region_pattern_accepts(region: str) -> None:
    assert_accepted({"region": region})


@pytest.mark.parametrize("region", ["eu-west", "EU-WEST-3", "euwest3", "eu-west-3a", "paris"])
def test_region_pattern_rejects(region: str) -> None:
    assert_rejected({"region": region}, "tenant.region", "an AWS region name")


def test_auth_choices() -> None:
    assert_rejected({"auth": "ldap"}, "tenant.auth", "is not one of saml, userpool")


# --------------------------------------------------------------------------
# Network
# --------------------------------------------------------------------------


@pytest.mark.parametrize("cidr", ["10.40.0.0/16", "172.16.0.0/16", "192.168.0.0/22", "10.255.252.0/22"])
def test_cidr_accepts_private_networks_from_16_to_22(cidr: str) -> None:
    assert_accepted({"network.cidr": cidr})


@pytest.mark.parametrize(
    ("cidr", "expected"),
    [
        ("10.40.0.0/15", "prefix /15 is outside /16 to /22"),
        ("10.40.0.0/23", "prefix /23 is outside /16 to /22"),
        ("10.40.0.1/16", "has host bits set (did you mean 10.40.0.0/16?)"),
        ("8.8.0.0/16", "not inside an RFC 1918 private range"),
        ("172.32.0.0/16", "not inside an RFC 1918 private range"),
        ("10.40.0.0", "has no prefix length"),
        ("10.400.0.0/16", "is not an IPv4 network"),
        ("fd00::/16", "is not an IPv4 network"),
    ],
)
def test_cidr_rejects(cidr: str, expected: str) -> None:
    assert_rejected({"network.cidr": cidr}, "tenant.network.cidr", expected)


@pytest.mark.parametrize(("count", "valid"), [(2, True), (3, True), (1, False), (4, False)])
def test_availability_zones_are_two_or_three(count: int, valid: bool) -> None:
    if valid:
        assert_accepted({"network.availability_zones": count})
    else:
        assert_rejected({"network.availability_zones": count}, "tenant.network.availability_zones", "not one of 2, 3")


@pytest.mark.parametrize(("mode", "valid"), [("single", True), ("per_az", True), ("none", True), ("per-az", False)])
def test_nat_gateway_modes(mode: str, valid: bool) -> None:
    if valid:
        assert_accepted({"network.nat_gateways": mode})
    else:
        assert_rejected(
            {"network.nat_gateways": mode}, "tenant.network.nat_gateways", "not one of single, per_az, none"
        )


# --------------------------------------------------------------------------
# Sign-in mode
# --------------------------------------------------------------------------


@pytest.mark.parametrize("section", ["directory", "storage"])
def test_saml_requires_directory_and_storage(section: str) -> None:
    assert_rejected({section: DELETE}, f"tenant.{section}", "is required when tenant.auth is saml")
    assert_rejected({section: None}, f"tenant.{section}", "is required when tenant.auth is saml")


@pytest.mark.parametrize("section", ["directory", "storage"])
def test_userpool_forbids_directory_and_storage(section: str) -> None:
    assert_rejected(
        {section: copy.deepcopy(BASE[section])},
        f"tenant.{section}",
        "is not allowed when tenant.auth is userpool",
        base=USERPOOL_BASE,
    )


# --------------------------------------------------------------------------
# Directory
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fqdn", ["corp.example.com", "ad.lab-7.example", "a.b"])
def test_directory_fqdn_accepts(fqdn: str) -> None:
    assert_accepted({"directory.fqdn": fqdn})


@pytest.mark.parametrize(
    ("fqdn", "expected"),
    [
        ("corp", "at least two DNS labels"),
        ("corp..example", "is not a DNS label"),
        ("-corp.example", "is not a DNS label"),
        ("corp_ad.example", "is not a DNS label"),
        ("corp.example.123", "must not be all digits"),
        ("a" * 40 + "." + "b" * 30, "longer than the 64 allowed for an Active Directory domain name"),
    ],
)
def test_directory_fqdn_rejects(fqdn: str, expected: str) -> None:
    assert_rejected(
        {"directory.fqdn": fqdn, "storage.deployment_type": "SINGLE_AZ_1"}, "tenant.directory.fqdn", expected
    )


@pytest.mark.parametrize("netbios", ["DEMO", "ACME-NEURO", "LAB2", "A", "A" * 15])
def test_directory_netbios_accepts(netbios: str) -> None:
    assert_accepted({"directory.netbios": netbios})


@pytest.mark.parametrize(
    ("netbios", "expected"),
    [
        ("A" * 16, "1-15 upper-case letters"),
        ("demo", "1-15 upper-case letters"),
        ("DE MO", "1-15 upper-case letters"),
        ("DEMO.LAB", "1-15 upper-case letters"),
        ("", "1-15 upper-case letters"),
        ("12345", "must not be all digits"),
    ],
)
def test_directory_netbios_rejects(netbios: str, expected: str) -> None:
    assert_rejected({"directory.netbios": netbios}, "tenant.directory.netbios", expected)


def test_directory_edition_choices() -> None:
    assert_accepted({"directory.edition": "Enterprise"})
    assert_rejected({"directory.edition": "standard"}, "tenant.directory.edition", "not one of Standard, Enterprise")


@pytest.mark.parametrize(("ou", "expected"), [("AppStream Computers", "contains a space"), ("Apps,Lab", '","')])
def test_appstream_ou_name_is_ad_safe_without_spaces(ou: str, expected: str) -> None:
    assert_accepted({"directory.appstream_ou": "AppStreamComputers"})
    assert_rejected({"directory.appstream_ou": ou}, "tenant.directory.appstream_ou", expected)


@pytest.mark.parametrize(
    ("ou", "expected"),
    [
        ("Image Builders", "contains a space"),
        ("Builders;x", '";"'),
        ("Computers", "an OU AWS creates for every directory"),
        ("users", "an OU AWS creates for every directory"),
    ],
)
def test_builders_ou_is_an_ou_of_its_own(ou: str, expected: str) -> None:
    assert_accepted({"directory.builders_ou": "Builders"})
    assert_rejected({"directory.builders_ou": ou}, "tenant.directory.builders_ou", expected)


# --------------------------------------------------------------------------
# Storage (FSx for Windows File Server)
# --------------------------------------------------------------------------


def test_storage_choices() -> None:
    assert_rejected({"storage.deployment_type": "MULTI_AZ_2"}, "tenant.storage.deployment_type", "is not one of")
    assert_rejected({"storage.storage_type": "INTELLIGENT_TIERING"}, "tenant.storage.storage_type", "is not one of")


@pytest.mark.parametrize("size", [32, 1024, 65536])
def test_ssd_size_accepts_32_to_65536(size: int) -> None:
    assert_accepted({"storage.storage_gib": size})


@pytest.mark.parametrize(
    ("size", "expected"),
    [(31, "31 is below the SSD minimum of 32"), (65537, "65537 is above the SSD maximum of 65536")],
)
def test_ssd_size_rejects(size: int, expected: str) -> None:
    assert_rejected({"storage.storage_gib": size}, "tenant.storage.storage_gib", expected)


def test_ssd_minimum_applies_when_storage_type_is_left_to_its_default() -> None:
    assert_rejected({"storage.storage_type": DELETE, "storage.storage_gib": 16}, "tenant.storage.storage_gib", "SSD")


def test_hdd_size_starts_at_2000() -> None:
    assert_accepted({"storage.storage_type": "HDD", "storage.storage_gib": 2000})
    assert_rejected(
        {"storage.storage_type": "HDD", "storage.storage_gib": 1999},
        "tenant.storage.storage_gib",
        "1999 is below the HDD minimum of 2000",
    )


def test_hdd_is_not_available_on_single_az_1() -> None:
    assert_accepted(
        {"storage.storage_type": "HDD", "storage.storage_gib": 2000, "storage.deployment_type": "MULTI_AZ_1"}
    )
    assert_rejected(
        {"storage.storage_type": "HDD", "storage.storage_gib": 2000, "storage.deployment_type": "SINGLE_AZ_1"},
        "tenant.storage.storage_type",
        "HDD is not available with SINGLE_AZ_1",
    )


@pytest.mark.parametrize("throughput", [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3072, 4608, 6144, 9216, 12288])
def test_throughput_accepts_the_fsx_levels(throughput: int) -> None:
    assert_accepted({"storage.throughput_mbps": throughput})


@pytest.mark.parametrize("throughput", [0, 4, 30, 100, 4096, 24576])
def test_throughput_rejects_other_values(throughput: int) -> None:
    assert_rejected({"storage.throughput_mbps": throughput}, "tenant.storage.throughput_mbps", "is not one of 8, 16")


def test_throughput_above_2048_needs_a_second_generation_file_system() -> None:
    assert_accepted({"storage.throughput_mbps": 2048, "storage.deployment_type": "SINGLE_AZ_1"})
    assert_rejected(
        {"storage.throughput_mbps": 3072, "storage.deployment_type": "SINGLE_AZ_1"},
        "tenant.storage.throughput_mbps",
        "above the SINGLE_AZ_1 maximum of 2048",
    )


@pytest.mark.parametrize(("days", "valid"), [(0, True), (90, True), (-1, False), (91, False)])
def test_backup_retention_is_0_to_90_days(days: int, valid: bool) -> None:
    if valid:
        assert_accepted({"storage.backup_retention_days": days})
    else:
        assert_rejected({"storage.backup_retention_days": days}, "tenant.storage.backup_retention_days", "the m")


@pytest.mark.parametrize("deployment", ["SINGLE_AZ_2", "MULTI_AZ_1"])
def test_domain_name_is_limited_to_47_characters_for_second_generation_fsx(deployment: str) -> None:
    long_name = "d" * 40 + ".example"  # 48 characters
    assert_accepted({"directory.fqdn": long_name, "storage.deployment_type": "SINGLE_AZ_1"})
    assert_accepted({"directory.fqdn": long_name[1:], "storage.deployment_type": deployment})
    assert_rejected(
        {"directory.fqdn": long_name, "storage.deployment_type": deployment},
        "tenant.directory.fqdn",
        f"48 characters is longer than the 47 that FSx allows with tenant.storage.deployment_type {deployment}",
    )


@pytest.mark.parametrize("letter", ["C", "D", "h", "HH", "1"])
def test_drive_letters_are_single_letters_e_to_z(letter: str) -> None:
    assert_accepted({"storage.home_drive": "E", "storage.project_drive": "Z"})
    assert_rejected({"storage.home_drive": letter}, "tenant.storage.home_drive", "drive letter from E to Z")


def test_drive_letters_are_distinct() -> None:
    assert_rejected(
        {"storage.home_drive": "P"}, "tenant.storage.project_drive", "same letter as tenant.storage.home_drive"
    )


# --------------------------------------------------------------------------
# AppStream
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "instance_type",
    [
        "stream.standard.small",
        "stream.standard.medium",
        "stream.compute.8xlarge",
        "stream.memory.xlarge",
        "stream.memory.z1d.12xlarge",
        "stream.graphics.g4dn.xlarge",
        "stream.graphics.g5.24xlarge",
        "stream.graphics.g6f.large",
        "stream.graphics.gr6.4xlarge",
    ],
)
def test_instance_types_of_the_appstream_families_are_accepted(instance_type: str) -> None:
    assert_accepted({"appstream.fleet.instance_type": instance_type, "appstream.builder_instance_type": instance_type})


@pytest.mark.parametrize("field", ["appstream.fleet.instance_type", "appstream.builder_instance_type"])
@pytest.mark.parametrize(
    ("instance_type", "closest"),
    [
        ("stream.bogus.medium", "stream.standard.medium"),
        ("stream.standard.meduim", "stream.standard.medium"),
        ("Stream.Compute.Large", "stream.compute.large"),
        ("stream.memory.z1d.4xlarge", "stream.memory.z1d.xlarge"),
        ("stream.graphics.g4dn.large", "stream.graphics.g4dn.xlarge"),
    ],
)
def test_instance_types_outside_the_families_are_rejected_with_the_closest(
    field: str, instance_type: str, closest: str
) -> None:
    assert_rejected({field: instance_type}, f"tenant.{field}", f"did you mean {closest}?")


@pytest.mark.parametrize("field", ["appstream.fleet.instance_type", "appstream.builder_instance_type"])
@pytest.mark.parametrize("instance_type", ["t3.medium", "m5.large", "medium"])
def test_instance_types_of_another_shape_name_the_shape(field: str, instance_type: str) -> None:
    errors = errors_of({field: instance_type})
    assert errors == [
        f'tenant.{field}: "{instance_type}" is not an instance type AppStream offers for '
        f"{'image builders' if 'builder' in field else 'fleets'} "
        "(stream.<family>.<size>, e.g. stream.standard.medium)"
    ]


@pytest.mark.parametrize(
    "instance_type", ["stream.graphics-design.large", "stream.graphics-desktop.2xlarge", "stream.graphics-pro.4xlarge"]
)
def test_retired_graphics_families_are_rejected(instance_type: str) -> None:
    # Gone from the API Reference's InstanceType list (Graphics Pro: end of life 10/31/2025).
    assert_rejected({"appstream.fleet.instance_type": instance_type}, "tenant.appstream.fleet.instance_type", "not an")


@pytest.mark.parametrize("size", ["xlarge", "2xlarge"])
def test_the_largest_general_purpose_sizes_are_for_fleets_not_builders(size: str) -> None:
    assert_accepted({"appstream.fleet.instance_type": f"stream.standard.{size}"})
    assert_rejected(
        {"appstream.builder_instance_type": f"stream.standard.{size}"},
        "tenant.appstream.builder_instance_type",
        "is not an instance type AppStream offers for image builders (did you mean stream.standard.",
    )


def test_elastic_fleets_take_general_purpose_instances_only() -> None:
    elastic = {"appstream.fleet.type": "ELASTIC", "appstream.fleet.schedule": DELETE}
    assert_accepted(elastic | {"appstream.fleet.instance_type": "stream.standard.2xlarge"}, USERPOOL_BASE)
    errors = errors_of(elastic | {"appstream.fleet.instance_type": "stream.compute.large"}, USERPOOL_BASE)
    assert errors == [
        'tenant.appstream.fleet.instance_type: "stream.compute.large" is not an instance type AppStream offers '
        "for ELASTIC fleets (did you mean stream.standard.large?)"
    ]


def test_an_unknown_elastic_instance_type_is_reported_once() -> None:
    elastic = {"appstream.fleet.type": "ELASTIC", "appstream.fleet.schedule": DELETE}
    errors = errors_of(elastic | {"appstream.fleet.instance_type": "stream.bogus.medium"}, USERPOOL_BASE)
    assert errors == [
        'tenant.appstream.fleet.instance_type: "stream.bogus.medium" is not an instance type AppStream offers '
        "for fleets (did you mean stream.standard.medium?)"
    ]


@pytest.mark.parametrize(
    ("image", "valid"),
    [("AppStream-WinServer2022-01-01-2025", True), ("-image", False), ("my image", False), ("i" * 102, False)],
)
def test_base_image_follows_the_appstream_name_rules(image: str, valid: bool) -> None:
    if valid:
        assert_accepted({"appstream.base_image": image})
    else:
        assert_rejected({"appstream.base_image": image}, "tenant.appstream.base_image", "an AppStream image name")


def test_fleet_type_choices() -> None:
    assert_accepted({"appstream.fleet.type": "ALWAYS_ON"})
    assert_rejected({"appstream.fleet.type": "SPOT"}, "tenant.appstream.fleet.type", "is not one of ALWAYS_ON")


def test_elastic_fleets_only_with_userpool() -> None:
    elastic = {"appstream.fleet.type": "ELASTIC", "appstream.fleet.schedule": None}
    assert_accepted(elastic, base=USERPOOL_BASE)
    assert_rejected(elastic, "tenant.appstream.fleet.type", "ELASTIC fleets cannot be domain-joined")


def test_elastic_fleets_cannot_be_scheduled() -> None:
    assert_rejected(
        {"appstream.fleet.type": "ELASTIC"}, "tenant.appstream.fleet.schedule", "ELASTIC", base=USERPOOL_BASE
    )


@pytest.mark.parametrize(
    ("low", "high", "path", "expected"),
    [
        (5, 4, "min_capacity", "5 is above tenant.appstream.fleet.max_capacity (4)"),
        (-1, 4, "min_capacity", "below the minimum of 0"),
        (0, 0, "max_capacity", "below the minimum of 1"),
    ],
)
def test_capacity_bounds(low: int, high: int, path: str, expected: str) -> None:
    assert_accepted({"appstream.fleet.min_capacity": 0, "appstream.fleet.max_capacity": 1})
    assert_accepted({"appstream.fleet.min_capacity": 4, "appstream.fleet.max_capacity": 4})
    changes = {"appstream.fleet.min_capacity": low, "appstream.fleet.max_capacity": high}
    assert_rejected(changes, f"tenant.appstream.fleet.{path}", expected)


@pytest.mark.parametrize(("seconds", "valid"), [(0, True), (60, True), (36000, True), (59, False), (36001, False)])
def test_idle_disconnect_is_0_or_60_to_36000(seconds: int, valid: bool) -> None:
    changes = {"appstream.fleet.idle_disconnect_seconds": seconds}
    if valid:
        assert_accepted(changes)
    else:
        assert_rejected(changes, "tenant.appstream.fleet.idle_disconnect_seconds", "0 (never) or between 60 and 36000")


@pytest.mark.parametrize(("seconds", "valid"), [(60, True), (36000, True), (59, False), (36001, False)])
def test_disconnect_timeout_is_60_to_36000(seconds: int, valid: bool) -> None:
    changes = {"appstream.fleet.disconnect_timeout_seconds": seconds}
    if valid:
        assert_accepted(changes)
    else:
        assert_rejected(changes, "tenant.appstream.fleet.disconnect_timeout_seconds", "the m")


@pytest.mark.parametrize(("seconds", "valid"), [(600, True), (432000, True), (599, False), (432001, False)])
def test_max_user_duration_is_600_to_432000(seconds: int, valid: bool) -> None:
    changes = {"appstream.fleet.max_user_duration_seconds": seconds}
    if valid:
        assert_accepted(changes)
    else:
        assert_rejected(changes, "tenant.appstream.fleet.max_user_duration_seconds", "the m")


def test_schedule_is_optional() -> None:
    assert_accepted({"appstream.fleet.schedule": DELETE})
    assert_accepted({"appstream.fleet.schedule": None})


@pytest.mark.parametrize(("zone", "expected"), [("Europe/Pari", "(did you mean Europe/Paris?)"), ("CET+1", "IANA")])
def test_schedule_timezone_is_an_iana_name(zone: str, expected: str) -> None:
    assert_accepted({"appstream.fleet.schedule.timezone": "America/New_York"})
    assert_rejected({"appstream.fleet.schedule.timezone": zone}, "tenant.appstream.fleet.schedule.timezone", expected)


@pytest.mark.parametrize("time", ["7:30", "24:00", "07:60", "0730", "07:30:00"])
def test_schedule_times_are_hh_mm(time: str) -> None:
    assert_accepted({"appstream.fleet.schedule.start": "00:00", "appstream.fleet.schedule.stop": "23:59"})
    assert_rejected({"appstream.fleet.schedule.start": time}, "tenant.appstream.fleet.schedule.start", '"HH:MM"')


def test_schedule_unquoted_yaml_time_gets_a_hint() -> None:
    tenant = tenant_with({"appstream.fleet.schedule.stop": yaml.safe_load("stop: 20:00")["stop"]})
    assert "tenant.appstream.fleet.schedule.stop: must be a string, got integer 1200 (quote the value in YAML)" in (
        validate_tenant(tenant, CATALOGUE)
    )


@pytest.mark.parametrize(("start", "stop"), [("20:00", "07:30"), ("08:00", "08:00")])
def test_schedule_start_is_before_stop(start: str, stop: str) -> None:
    changes = {"appstream.fleet.schedule.start": start, "appstream.fleet.schedule.stop": stop}
    assert_rejected(changes, "tenant.appstream.fleet.schedule.stop", "must be later than start")


@pytest.mark.parametrize(
    ("weekdays", "path", "expected"),
    [
        ([], "weekdays", "must not be empty"),
        (["mon", "funday"], "weekdays[1]", '"funday" is not one of mon, tue'),
        (["mon", "Mon"], "weekdays[1]", "duplicate of tenant.appstream.fleet.schedule.weekdays[0]"),
        (["Monday"], "weekdays[0]", "is not one of"),
    ],
)
def test_schedule_weekdays(weekdays: list[str], path: str, expected: str) -> None:
    assert_accepted({"appstream.fleet.schedule.weekdays": ["sat", "sun"]})
    assert_rejected(
        {"appstream.fleet.schedule.weekdays": weekdays}, f"tenant.appstream.fleet.schedule.{path}", expected
    )


@pytest.mark.parametrize(
    "setting",
    [
        "clipboard_copy_from_local",
        "clipboard_copy_to_local",
        "file_upload",
        "file_download",
        "printing",
        "persist_app_settings",
    ],
)
def test_stack_settings_are_booleans(setting: str) -> None:
    assert_accepted({f"appstream.stack.{setting}": True})
    assert_rejected({f"appstream.stack.{setting}": "yes"}, f"tenant.appstream.stack.{setting}", "must be a boolean")


# --------------------------------------------------------------------------
# Applications
# --------------------------------------------------------------------------


def test_apps_must_exist_in_the_catalogue() -> None:
    assert_accepted({"apps": ["vcredist"]})
    assert_rejected(
        {"apps": ["icostudio", "icostudo"]},
        "tenant.apps[1]",
        '"icostudo" is not in app_catalogue (did you mean icostudio?)',
    )


@pytest.mark.parametrize(
    ("apps", "path", "expected"),
    [
        ([], "tenant.apps", "must not be empty"),
        (["icostudio", "icostudio"], "tenant.apps[1]", "duplicate of tenant.apps[0]"),
        (["icostudio", 3], "tenant.apps[1]", "must be a string"),
    ],
)
def test_apps_are_a_non_empty_list_of_unique_keys(apps: list[Any], path: str, expected: str) -> None:
    assert_rejected({"apps": apps}, path, expected)


# --------------------------------------------------------------------------
# Users
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email", ["ada", "ada@", "@lab.example", "ada@lab", "ada lovelace@lab.example", "ada@lab..example"]
)
def test_user_email_format(email: str) -> None:
    assert_accepted({"users.0.email": "ada.lovelace+lab@sub.lab-1.example"})
    assert_rejected({"users.0.email": email}, "tenant.users[0].email", "is not an e-mail address")


def test_user_emails_are_unique_ignoring_case() -> None:
    assert_rejected({"users.1.email": "ADA@lab.example"}, "tenant.users[1].email", "duplicate of tenant.users[0].email")


@pytest.mark.parametrize("key", ["email", "first_name", "last_name"])
def test_user_fields_are_required(key: str) -> None:
    assert_rejected({f"users.0.{key}": DELETE}, f"tenant.users[0].{key}", "is required but missing")


@pytest.mark.parametrize(
    "name", ["Lovelace, Ada", "A+B", 'Ada "Countess"', "Back\\slash", "<Ada>", "a;b", "a=b", "A/B", "#Ada"]
)
def test_saml_user_names_are_safe_in_a_distinguished_name(name: str) -> None:
    assert_accepted({"users.0.last_name": "King-Noel O'Brien Hélène"})
    assert_rejected({"users.0.last_name": name}, "tenant.users[0].last_name", "would break an AD distinguished name")


@pytest.mark.parametrize("name", [" Ada", "Ada "])
def test_user_names_have_no_leading_or_trailing_spaces(name: str) -> None:
    assert_rejected({"users.0.first_name": name}, "tenant.users[0].first_name", "leading or trailing spaces")
    assert_rejected({"users.0.first_name": name}, "tenant.users[0].first_name", "", base=USERPOOL_BASE)


def test_userpool_user_names_follow_the_appstream_pattern() -> None:
    assert_accepted({"users.0.last_name": "King-Noel Byron"}, base=USERPOOL_BASE)
    assert_rejected(
        {"users.0.last_name": "Hélène"},
        "tenant.users[0].last_name",
        "may only contain ASCII letters",
        base=USERPOOL_BASE,
    )


def test_saml_common_names_are_unique() -> None:
    assert_rejected(
        {"users.1.first_name": "ada", "users.1.last_name": "LOVELACE"},
        "tenant.users[1]",
        "same AD common name as tenant.users[0]",
    )


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("a" * 21, "1-20 letters"),
        ("ada lovelace", "1-20 letters"),
        ("ada@lab", "1-20 letters"),
        ("ada.", "must not end with a period"),
        ("Administrator", "reserved account name"),
    ],
)
def test_saml_username_is_a_valid_sam_account_name(username: str, expected: str) -> None:
    assert_accepted({"users.0.username": "ada.lovelace"})
    assert_rejected({"users.0.username": username}, "tenant.users[0].username", expected)


def test_usernames_are_unique_including_derived_ones() -> None:
    assert_rejected({"users.1.username": "ADA"}, "tenant.users[1].username", "already the username of tenant.users[0]")
    assert_rejected(
        {"users.1.email": "ada@other.example"}, "tenant.users[1].email", 'derives the username "ada", which is already'
    )
    assert_accepted({"users.1.email": "ada@other.example", "users.1.username": "ada2"})


def test_a_derived_reserved_username_asks_for_an_explicit_one() -> None:
    assert_rejected({"users.0.email": "admin@lab.example"}, "tenant.users[0].email", "set tenant.users[0].username")
    assert_accepted({"users.0.email": "admin@lab.example", "users.0.username": "lab-admin"})


# The names the issue lists, written as a tenant might, plus every reserved name a username can take.
LISTED_RESERVED_NAMES = ["everyone", "SYSTEM", "Users", "administrators", "Guests", "krbtgt", "Admin", "ADMINISTRATOR"]
RESERVED_USERNAMES = sorted(
    {name for name in WELL_KNOWN_ACCOUNT_NAMES if re.fullmatch(SAM_ACCOUNT_NAME_PATTERN, name)}
    | set(TOOLKIT_ACCOUNTS.values())
)


def test_the_reserved_names_include_the_issue_list_and_the_domain_groups() -> None:
    # Names with a space cannot be a username; they must still be in the documented list.
    assert {"domain admins", "domain users", "enterprise admins", "authenticated users"} <= WELL_KNOWN_ACCOUNT_NAMES
    assert {name.lower() for name in LISTED_RESERVED_NAMES} <= WELL_KNOWN_ACCOUNT_NAMES
    assert {"svc-appstream", "svc-imagebuild", "svc-datasync"} == set(TOOLKIT_ACCOUNTS.values())


@pytest.mark.parametrize("username", LISTED_RESERVED_NAMES + RESERVED_USERNAMES)
def test_a_reserved_username_is_refused_in_any_case(username: str) -> None:
    for written in {username, username.upper(), username.lower(), username.title()}:
        assert_rejected({"users.1.username": written}, "tenant.users[1].username", "reserved account name")


@pytest.mark.parametrize("username", LISTED_RESERVED_NAMES + RESERVED_USERNAMES)
def test_an_email_deriving_a_reserved_username_is_refused(username: str) -> None:
    # The local part is normalised as for the account name (lower case, only [a-z0-9._-]): Sys!tem -> system.
    email = f"{username.title()}@lab.example"
    assert derive_username(email).casefold() == username.casefold()
    assert_rejected({"users.1.email": email}, "tenant.users[1].email", "reserved account name")
    assert_rejected({"users.1.email": email}, "tenant.users[1].email", "set tenant.users[1].username")
    assert_accepted({"users.1.email": email, "users.1.username": "alan"})


def test_the_toolkit_accounts_are_refused_naming_why() -> None:
    assert_rejected(
        {"users.0.username": "SVC-ImageBuild"}, "tenant.users[0].username", "the toolkit creates an account"
    )
    assert_rejected({"users.0.email": "svc-appstream@lab.example"}, "tenant.users[0].email", "the toolkit creates")


@pytest.mark.parametrize("suffix", list(TOOLKIT_GROUP_SUFFIXES.values()))
def test_a_username_that_is_a_toolkit_group_of_the_tenant_is_refused(suffix: str) -> None:
    # A short tenant name, so that the group name fits in a username.
    base = tenant_with({"name": "lab"})
    group = f"lab{suffix}"
    assert_rejected({"users.0.username": group.upper()}, "tenant.users[0].username", "a group the toolkit", base=base)
    assert_rejected(
        {"users.0.email": f"{group}@lab.example"}, "tenant.users[0].email", "a group the toolkit", base=base
    )
    assert_accepted({"users.0.username": f"{group}x"}, base=base)


@pytest.mark.parametrize("sid", ["S-1-5-18", "s-1-5-32-544", "S-1-5-21-1-2-3-500", "S-1-1-0", "s-1-x"])
def test_a_sid_shaped_username_is_refused(sid: str) -> None:
    assert_rejected({"users.0.username": sid}, "tenant.users[0].username", "shaped like a security identifier")
    assert_rejected({"users.0.email": f"{sid}@lab.example"}, "tenant.users[0].email", "security identifier")


@pytest.mark.parametrize("username", ["system1", "admins", "sysadmin", "s1-5-18", "users.lab", "svc-lab"])
def test_names_close_to_reserved_ones_are_accepted(username: str) -> None:
    assert_accepted({"users.0.username": username})


# Characters RFC 5322 admits in a local part (and the former rule with it) that cmd or PowerShell read.
@pytest.mark.parametrize("char", list("&|^%='!$`{}#*?~/"))
def test_an_email_local_part_with_a_shell_character_is_refused(char: str) -> None:
    email = f"ada{char}x@lab.example"
    for base in (BASE, USERPOOL_BASE):
        assert_rejected({"users.0.email": email}, "tenant.users[0].email", "treats specially", base=base)
    assert_rejected({"budget.notify": [email]}, "tenant.budget.notify[0]", "treats specially")
    assert_rejected({"users.0.email": email}, "tenant.users[0].email", json.dumps(char))


# Never a dot-atom character: refused as not an address at all.
@pytest.mark.parametrize("char", list('<>"();:,[]\\ '))
def test_an_email_local_part_outside_the_dot_atom_is_refused(char: str) -> None:
    assert_rejected({"users.0.email": f"ada{char}x@lab.example"}, "tenant.users[0].email", "is not an e-mail address")


def test_an_email_local_part_keeps_letters_digits_dot_underscore_plus_hyphen() -> None:
    assert_accepted({"users.0.email": "Ada.Lovelace_1+lab-x@lab.example"})
    assert_accepted({"users.0.email": "Ada.Lovelace_1+lab-x@lab.example"}, base=USERPOOL_BASE)


def _argument_spec_default(role: str, option: str) -> Any:
    specs = _load(f"roles/{role}/meta/argument_specs.yml")["argument_specs"]
    defaults = {entry["options"][option]["default"] for entry in specs.values() if option in entry.get("options", {})}
    assert len(defaults) == 1, f"{role} {option}: {defaults}"
    return defaults.pop()


def test_the_reserved_toolkit_accounts_are_the_names_the_roles_create() -> None:
    # schema.checks TOOLKIT_ACCOUNTS is where validation learns the names; the roles' defaults must agree.
    variables = {
        "ad_structure": "ad_structure_service_account",
        "image_builder_access": "image_builder_access_account",
        "ingest": "ingest_datasync_account",
    }
    assert set(variables) == set(TOOLKIT_ACCOUNTS)
    for role, variable in variables.items():
        assert _load(f"roles/{role}/defaults/main.yml")[variable] == TOOLKIT_ACCOUNTS[role]
        assert _argument_spec_default(role, variable) == TOOLKIT_ACCOUNTS[role]
    plays = _load("playbooks/ops/builder_bootstrap.yml")
    spec = next(
        task for play in plays for task in play.get("tasks", []) if "iconeus.tenant_toolkit.ops_vars_validate" in task
    )
    local_account = spec["iconeus.tenant_toolkit.ops_vars_validate"]["spec"]["bootstrap_account"]["default"]
    assert local_account == TOOLKIT_ACCOUNTS["image_builder_access"]
    groups = {"ad_structure": "ad_structure_users_group", "image_builder_access": "image_builder_access_group"}
    assert set(groups) == set(TOOLKIT_GROUP_SUFFIXES)
    for role, variable in groups.items():
        suffix = TOOLKIT_GROUP_SUFFIXES[role]
        assert _load(f"roles/{role}/defaults/main.yml")[variable] == "{{ tenant_spec.name }}" + suffix
        assert _argument_spec_default(role, variable) == f"<tenant>{suffix}"


def test_username_is_only_for_saml() -> None:
    assert_rejected(
        {"users.0.username": "ada"},
        "tenant.users[0].username",
        "only allowed when tenant.auth is saml",
        base=USERPOOL_BASE,
    )


def test_user_enabled_is_a_boolean() -> None:
    assert_accepted({"users.0.enabled": False})
    assert_rejected({"users.0.enabled": "no"}, "tenant.users[0].enabled", "must be a boolean")


def test_users_may_be_omitted() -> None:
    assert_accepted({"users": DELETE})
    assert_accepted({"users": []})


@pytest.mark.parametrize(
    ("email", "username"),
    [
        ("Ada.Lovelace@lab.example", "ada.lovelace"),
        ("o'brien+x@lab.example", "obrienx"),
        ("a" * 30 + "@x.example", "a" * 20),
    ],
)
def test_derive_username(email: str, username: str) -> None:
    assert derive_username(email) == username


# --------------------------------------------------------------------------
# Budget
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "valid"), [(0.5, True), (800, True), (0, False), (-10, False), (float("nan"), False)]
)
def test_budget_amount_is_a_positive_number(amount: float, valid: bool) -> None:
    if valid:
        assert_accepted({"budget.monthly_usd": amount})
    else:
        assert_rejected({"budget.monthly_usd": amount}, "tenant.budget.monthly_usd", "greater than 0")


@pytest.mark.parametrize(
    ("notify", "path", "expected"),
    [
        ([], "tenant.budget.notify", "must not be empty"),
        (["ops"], "tenant.budget.notify[0]", "is not an e-mail address"),
        (["ops@x.example", "OPS@x.example"], "tenant.budget.notify[1]", "duplicate of tenant.budget.notify[0]"),
        ([f"ops{n}@x.example" for n in range(11)], "tenant.budget.notify", "at most 10 allowed"),
    ],
)
def test_budget_notify_is_a_non_empty_list_of_emails(notify: list[str], path: str, expected: str) -> None:
    assert_accepted({"budget.notify": [f"ops{n}@x.example" for n in range(10)]})
    assert_rejected({"budget.notify": notify}, path, expected)


# --------------------------------------------------------------------------
# Ingest (optional)
# --------------------------------------------------------------------------

INGEST = {"instruments": [{"name": "ECHO-01"}, {"name": "iconeus_one.2"}], "retention_days": 14, "schedule": "daily"}


def test_ingest_is_optional_and_accepted_for_a_saml_tenant() -> None:
    assert_accepted({"ingest": INGEST})
    assert normalise_tenant(BASE)["ingest"] is None


def test_ingest_defaults_to_seven_days_and_hourly() -> None:
    spec = normalise_tenant(tenant_with({"ingest": {"instruments": [{"name": "ECHO-01"}]}}))
    assert spec["ingest"] == {"instruments": [{"name": "ECHO-01"}], "retention_days": 7, "schedule": "hourly"}


def test_ingest_is_refused_for_a_user_pool_tenant_saying_why() -> None:
    errors = errors_of({"ingest": INGEST}, USERPOOL_BASE)
    assert errors == [
        "tenant.ingest: is not allowed when tenant.auth is userpool (ingest delivers acquisitions to the "
        "tenant's FSx file share, <project drive>\\Incoming, and user-pool tenants have no file system)"
    ]


@pytest.mark.parametrize("name", ["ECHO-01", "a", "iconeus_one.2", "X" * 32, "9lab", "COM10", "CONSOLE", "lpt0"])
def test_instrument_names_accept_what_the_uploader_and_iam_accept(name: str) -> None:
    assert_accepted({"ingest": {"instruments": [{"name": name}]}})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("", "does not match 1-32 letters, digits"),
        ("X" * 33, "does not match 1-32 letters, digits"),
        (".hidden", "does not match 1-32 letters, digits"),
        ("-dash", "does not match 1-32 letters, digits"),
        ("ECHO 01", "does not match 1-32 letters, digits"),
        ("ECHO/01", "does not match 1-32 letters, digits"),
        ("ECHO\\01", "does not match 1-32 letters, digits"),
        ("écho", "does not match 1-32 letters, digits"),
        ("ECHO.", "must not end with a period"),
        ("NUL", "reserved device name on Windows"),
        ("com1.scanner", "reserved device name on Windows"),
        ("Aux", "reserved device name on Windows"),
    ],
)
def test_instrument_names_reject(name: str, expected: str) -> None:
    assert_rejected({"ingest": {"instruments": [{"name": name}]}}, "tenant.ingest.instruments[0].name", expected)


def test_instrument_names_are_unique_ignoring_case() -> None:
    assert_rejected(
        {"ingest": {"instruments": [{"name": "ECHO-01"}, {"name": "echo-01"}]}},
        "tenant.ingest.instruments[1].name",
        "is the same instrument as tenant.ingest.instruments[0].name",
    )


@pytest.mark.parametrize(
    ("changes", "path", "expected"),
    [
        ({"ingest": {}}, "tenant.ingest.instruments", "is required but missing"),
        ({"ingest": {"instruments": []}}, "tenant.ingest.instruments", "must not be empty"),
        ({"ingest": {"instruments": ["ECHO-01"]}}, "tenant.ingest.instruments[0]", "must be a mapping"),
        ({"ingest": {"instruments": [{"name": "A", "serial": 1}]}}, "tenant.ingest.instruments[0].serial", "unknown"),
        (
            {"ingest": {"instruments": [{"name": f"I{n}"} for n in range(51)]}},
            "tenant.ingest.instruments",
            "at most 50 allowed",
        ),
        ({"ingest": {"instruments": [{"name": "A"}], "retention_days": 0}}, "tenant.ingest.retention_days", "minimum"),
        (
            {"ingest": {"instruments": [{"name": "A"}], "retention_days": "7"}},
            "tenant.ingest.retention_days",
            "must be an integer",
        ),
        ({"ingest": {"instruments": [{"name": "A"}], "schedule": "weekly"}}, "tenant.ingest.schedule", "hourly, daily"),
        ({"ingest": {"instrument": [{"name": "A"}]}}, "tenant.ingest.instrument", "did you mean instruments?"),
    ],
)
def test_ingest_fields_are_checked(changes: dict[str, Any], path: str, expected: str) -> None:
    assert_rejected(changes, path, expected)


# --------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------

MINIMAL_SAML: dict[str, Any] = {
    "name": "lab",
    "environment": "dev",
    "region": "eu-west-3",
    "auth": "saml",
    "network": {"cidr": "10.40.0.0/16"},
    "directory": {"fqdn": "corp.lab.example", "netbios": "LAB"},
    "storage": {},
    "appstream": {"base_image": "AppStream-WinServer2019-07-16-2024"},
    "apps": ["icostudio"],
    "users": [{"email": "Ada@lab.example", "first_name": "Ada", "last_name": "Lovelace"}],
    "budget": {"monthly_usd": 100, "notify": ["ops@lab.example"]},
}


def test_normalise_fills_every_documented_default() -> None:
    assert validate_tenant(MINIMAL_SAML, CATALOGUE) == []
    spec = normalise_tenant(MINIMAL_SAML)
    assert spec["network"] == {"cidr": "10.40.0.0/16", "availability_zones": 2, "nat_gateways": "single"}
    assert spec["directory"]["edition"] == "Standard"
    assert spec["directory"]["appstream_ou"] == "AppStream"
    assert spec["directory"]["builders_ou"] == "ImageBuilders"
    assert spec["storage"] == {
        "deployment_type": "SINGLE_AZ_2",
        "storage_type": "SSD",
        "storage_gib": 32,
        "throughput_mbps": 32,
        "backup_retention_days": 7,
        "home_drive": "H",
        "project_drive": "P",
    }
    assert spec["appstream"]["builder_instance_type"] == "stream.standard.medium"
    assert spec["appstream"]["fleet"] == {
        "type": "ON_DEMAND",
        "instance_type": "stream.standard.medium",
        "min_capacity": 1,
        "max_capacity": 2,
        "idle_disconnect_seconds": 900,
        "disconnect_timeout_seconds": 900,
        "max_user_duration_seconds": 28800,
        "schedule": None,
    }
    assert spec["appstream"]["stack"] == {
        "clipboard_copy_from_local": True,
        "clipboard_copy_to_local": False,
        "file_upload": True,
        "file_download": False,
        "printing": False,
        "persist_app_settings": True,
    }
    assert spec["users"] == [
        {"email": "Ada@lab.example", "first_name": "Ada", "last_name": "Lovelace", "enabled": True, "username": "ada"}
    ]


def test_normalise_keeps_given_values_and_does_not_touch_its_input() -> None:
    before = copy.deepcopy(BASE)
    spec = normalise_tenant(BASE)
    assert before == BASE
    assert spec["storage"]["storage_gib"] == 64
    assert spec["appstream"]["fleet"]["schedule"]["weekdays"] == ["mon", "tue", "wed", "thu", "fri"]
    spec["storage"]["storage_gib"] = 1
    assert BASE["storage"]["storage_gib"] == 64


def test_normalise_schedule_weekdays_default_to_working_days() -> None:
    tenant = tenant_with({"appstream.fleet.schedule.weekdays": DELETE})
    assert normalise_tenant(tenant)["appstream"]["fleet"]["schedule"]["weekdays"] == ["mon", "tue", "wed", "thu", "fri"]


def test_normalise_userpool_has_no_directory_storage_or_usernames() -> None:
    spec = normalise_tenant(USERPOOL_BASE)
    assert spec["directory"] is None
    assert spec["storage"] is None
    assert {user["username"] for user in spec["users"]} == {None}


# --------------------------------------------------------------------------
# tenant.alerts (design.md section 2, item 7)
# --------------------------------------------------------------------------


def test_alerts_are_optional_and_notify_the_budget_recipients_by_default() -> None:
    spec = normalise_tenant(BASE)
    assert spec["alerts"] == {
        "notify": ["ops@example.com"],
        "capacity_utilization_percent": 90,
        "capacity_utilization_minutes": 15,
        "no_available_capacity_minutes": 15,
        "storage_free_percent": 10,
    }


def test_alerts_notify_of_their_own_are_kept() -> None:
    tenant = tenant_with({"alerts": {"notify": ["oncall@lab.example"], "storage_free_percent": 20}})
    assert_accepted({"alerts": {"notify": ["oncall@lab.example"], "storage_free_percent": 20}})
    spec = normalise_tenant(tenant)
    assert spec["alerts"]["notify"] == ["oncall@lab.example"]
    assert spec["alerts"]["storage_free_percent"] == 20
    assert spec["budget"]["notify"] == ["ops@example.com"]


def test_normalised_alerts_do_not_share_the_budget_list() -> None:
    spec = normalise_tenant(BASE)
    spec["alerts"]["notify"].append("x@lab.example")
    assert spec["budget"]["notify"] == ["ops@example.com"]


@pytest.mark.parametrize(
    ("changes", "path", "fragment"),
    [
        ({"alerts": {"notify": []}}, "tenant.alerts.notify", ""),
        ({"alerts": {"notify": ["not-an-address"]}}, "tenant.alerts.notify[0]", "is not an e-mail address"),
        ({"alerts": {"notify": ["a@lab.example", "a@lab.example"]}}, "tenant.alerts.notify[1]", "duplicate"),
        ({"alerts": {"capacity_utilization_percent": 0}}, "tenant.alerts.capacity_utilization_percent", ""),
        ({"alerts": {"capacity_utilization_percent": 150}}, "tenant.alerts.capacity_utilization_percent", ""),
        ({"alerts": {"capacity_utilization_minutes": 0}}, "tenant.alerts.capacity_utilization_minutes", ""),
        ({"alerts": {"no_available_capacity_minutes": 2000}}, "tenant.alerts.no_available_capacity_minutes", ""),
        ({"alerts": {"storage_free_percent": 100}}, "tenant.alerts.storage_free_percent", ""),
        ({"alerts": {"storage_free_percent": "ten"}}, "tenant.alerts.storage_free_percent", "must be a number"),
        ({"alerts": {"notfy": ["a@lab.example"]}}, "tenant.alerts.notfy", "did you mean notify?"),
        ({"alerts": ["a@lab.example"]}, "tenant.alerts", "must be a mapping"),
    ],
)
def test_alerts_rules_name_the_field(changes: dict[str, Any], path: str, fragment: str) -> None:
    assert_rejected(changes, path, fragment)


# --------------------------------------------------------------------------
# The shipped definitions
# --------------------------------------------------------------------------


def _load(relative: str) -> Any:
    return yaml.safe_load((ROOT / relative).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "relative",
    ["inventories/demo/host_vars/demo/tenant.yml", "inventories/example/host_vars/acme-neuro/tenant.yml"],
)
def test_shipped_tenant_definitions_are_valid(relative: str) -> None:
    catalogue = _load("group_vars/all/catalogue.yml")["app_catalogue"]
    tenant = _load(relative)["tenant"]
    assert validate_tenant(tenant, catalogue) == []


def test_demo_tenant_matches_the_brief() -> None:
    tenant = normalise_tenant(_load("inventories/demo/host_vars/demo/tenant.yml")["tenant"])
    assert (tenant["name"], tenant["environment"], tenant["region"], tenant["auth"]) == (
        "demo",
        "dev",
        "eu-west-3",
        "saml",
    )
    assert tenant["appstream"]["base_image"] == "AppStream-WinServer2019-07-16-2024"
    assert tenant["storage"]["deployment_type"] == "SINGLE_AZ_2"
    assert tenant["appstream"]["fleet"]["schedule"] is not None
    assert len(tenant["users"]) == 3


# --------------------------------------------------------------------------
# Ops playbook variables
# --------------------------------------------------------------------------

OPS_SPEC: dict[str, Any] = {
    "desired": {"type": "int", "required": True, "minimum": 0, "maximum": 50},
    "policy": {"type": "str", "choices": ("restart", "fail")},
    "image": {"type": "str", "pattern": r"[a-z0-9-]+", "pattern_hint": "lower-case words"},
    "dry_run": {"type": "bool"},
}


def test_ops_vars_accept_valid_values_and_ignore_unrelated_variables() -> None:
    values = {"desired": 3, "policy": "fail", "image": "demo-suite-abc", "dry_run": True, "inventory_hostname": "demo"}
    assert validate_ops_vars(OPS_SPEC, values, "ops") == []


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, "ops.desired: is required but missing (pass -e desired=...)"),
        ({"desired": None}, "ops.desired: is required but missing"),
        ({"desired": "three"}, 'ops.desired: must be an integer, got string "three"'),
        ({"desired": 51}, "ops.desired: 51 is above the maximum of 50"),
        ({"desired": 1, "policy": "stop"}, 'ops.policy: "stop" is not one of restart, fail'),
        ({"desired": 1, "image": "Demo"}, 'ops.image: "Demo" does not match lower-case words'),
        ({"desired": 1, "dry_run": "maybe"}, "ops.dry_run: must be a boolean"),
    ],
)
def test_ops_vars_report_the_broken_rule(values: dict[str, Any], expected: str) -> None:
    assert any(error.startswith(expected) for error in validate_ops_vars(OPS_SPEC, values, "ops"))


def test_ops_vars_can_refuse_unknown_variables() -> None:
    errors = validate_ops_vars(OPS_SPEC, {"desired": 1, "polcy": "fail"}, allow_unknown=False)
    assert errors == ["polcy: unknown key (did you mean policy?)"]


def test_ops_vars_report_every_error_at_once() -> None:
    errors = validate_ops_vars(OPS_SPEC, {"policy": "x", "dry_run": 1})
    assert len(errors) == 3


def test_ops_vars_accept_key_value_strings_of_the_right_type() -> None:
    values = {"desired": "3", "dry_run": "false", "policy": "fail"}
    assert validate_ops_vars(OPS_SPEC, values) == []
    assert normalise_ops_vars(OPS_SPEC | {"image": {"type": "str", "default": "latest"}}, values) == {
        "desired": 3,
        "policy": "fail",
        "image": "latest",
        "dry_run": False,
    }


def test_a_required_variable_with_few_choices_names_each_accepted_form() -> None:
    spec = {"schedule": {"type": "str", "required": True, "choices": ("on", "off")}}
    assert validate_ops_vars(spec, {}) == ["schedule: is required but missing (pass -e schedule=on or -e schedule=off)"]


# --------------------------------------------------------------------------
# Rules across the tenants of one run
# --------------------------------------------------------------------------


def test_tenants_of_one_run_with_their_own_names_and_ranges_pass() -> None:
    run = [["a", "lab-a", "10.40.0.0/16"], ["b", "lab-b", "10.41.0.0/16"]]
    assert validate_run_tenants("a", run) == ([], [])


def test_two_hosts_with_the_same_tenant_name_fail_naming_the_field_and_both_hosts() -> None:
    run = [["a", "lab", "10.40.0.0/16"], ["b", "lab", "10.41.0.0/16"], ["c", "other", "10.42.0.0/16"]]
    errors, _ = validate_run_tenants("b", run)
    assert len(errors) == 1
    assert errors[0].startswith('tenant.name: "lab" is also the tenant.name of host a in this run; hosts a and b ')
    assert validate_run_tenants("c", run) == ([], [])


def test_a_long_list_of_hosts_is_shortened() -> None:
    run = [[f"h{index}", "lab", f"10.{40 + index}.0.0/16"] for index in range(9)]
    errors, _ = validate_run_tenants("h0", run)
    assert "of hosts h1, h2, h3, h4, h5 and 3 more in this run" in errors[0]


def test_overlapping_vpc_ranges_of_one_run_are_a_warning_naming_both_hosts() -> None:
    run = [["a", "lab-a", "10.40.0.0/16"], ["b", "lab-b", "10.40.4.0/22"], ["c", "lab-c", "10.41.0.0/16"]]
    errors, warnings = validate_run_tenants("a", run)
    assert errors == []
    assert len(warnings) == 1
    assert warnings[0].startswith(
        "tenant.network.cidr: 10.40.0.0/16 of host a overlaps the VPC range of host b (10.40.4.0/22) in this run."
    )
    assert validate_run_tenants("c", run) == ([], [])


@pytest.mark.parametrize(
    "other",
    [
        ["b", "", ""],  # no definition
        ["b", 42, ["10.40.0.0/16"]],  # wrong types
        ["b", "lab-b", "10.40.0.0"],  # an invalid range: reported by that host itself
        ["b", "lab-b"],  # malformed entry
    ],
)
def test_missing_or_invalid_values_of_other_hosts_are_left_to_them(other: list[Any]) -> None:
    assert validate_run_tenants("a", [["a", "lab-a", "10.40.0.0/16"], other]) == ([], [])


def test_a_host_missing_from_the_run_list_fails_instead_of_going_unchecked() -> None:
    errors, warnings = validate_run_tenants("z", [["a", "lab", "10.40.0.0/16"], ["b", "lab", "10.40.0.0/16"]])
    assert warnings == [] and len(errors) == 1
    assert errors[0].startswith('run_tenants: the tenant hosts of the run do not include "z"'), errors
    assert validate_run_tenants("z", [])[0], "an empty list must not pass either"


# --------------------------------------------------------------------------
# Secrets supplied through ansible-vault
# --------------------------------------------------------------------------

ADMIN = "vault_directory_admin_password"


def vault_errors(name: str, value: Any) -> list[str]:
    errors, _ = validate_vault_variables({name: value}, [name], "saml")
    return errors


@pytest.mark.parametrize(
    "password",
    [
        "Lab-Vault-2024",  # upper, lower, digit, other
        "labvault2024!",  # lower, digit, other
        "LABVAULT2024!",  # upper, digit, other
        "LabVault2024",  # upper, lower, digit
        "Lab Vault #",  # upper, lower, other (a space alone is no "other" character)
        "Ab1!" * 16,  # 64 characters
    ],
)
def test_a_directory_admin_password_of_the_createmicrosoftad_policy_passes(password: str) -> None:
    assert vault_errors(ADMIN, password) == []


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Ab1!xyz", "must be 8 to 64 characters long (CreateMicrosoftAD password policy)"),
        ("Ab1!" * 16 + "x", "must be 8 to 64 characters long"),
        ("labvault2024", "must contain characters of at least three of these four kinds"),
        ("lab vault 2024", "must contain characters of at least three of these four kinds"),
        ("Lab-aDmIn-2024", 'must not contain the account name "Admin" in any case'),
        ("Lab-Vault\n2024", "must not contain a line break"),
    ],
)
def test_a_directory_admin_password_breaking_the_policy_fails_naming_the_rule_not_the_value(
    password: str, rule: str
) -> None:
    errors = vault_errors(ADMIN, password)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{ADMIN}: {rule}"), errors
    assert password not in errors[0]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (ADMIN, None, f"{ADMIN}: is set but resolves to nothing"),
        (ADMIN, 12345678, f"{ADMIN}: must be a string, got integer"),
        ("vault_appstream_service_password", "", "vault_appstream_service_password: must be 1 to 127 characters"),
        ("vault_appstream_service_password", "x" * 128, "vault_appstream_service_password: must be 1 to 127"),
        ("vault_domain_join_password", "", "vault_domain_join_password: must not be empty"),
        ("vault_image_winrm_password", None, "vault_image_winrm_password: is set but resolves to nothing"),
        ("vault_image_winrm_password", ["a"], "vault_image_winrm_password: must be a string, got list"),
    ],
)
def test_an_unusable_vault_variable_fails_naming_it(name: str, value: Any, message: str) -> None:
    errors = vault_errors(name, value)
    assert len(errors) == 1, errors
    assert errors[0].startswith(message), errors


def test_an_unresolvable_secret_says_what_the_run_would_do_instead() -> None:
    (error,) = vault_errors(ADMIN, None)
    assert "is the vault file that defines it loaded?" in error
    assert "would generate a new Admin password" in error


@pytest.mark.parametrize("value", ["x", "Svc-Passw0rd", "x" * 127])
def test_any_service_password_appstream_accepts_passes(value: str) -> None:
    assert vault_errors("vault_appstream_service_password", value) == []


def test_a_misspelt_vault_variable_is_pointed_out() -> None:
    errors, warnings = validate_vault_variables({}, ["vault_directory_admin_pasword", "vault_aws_notes"], "saml")
    assert errors == []
    assert warnings == [
        "vault_directory_admin_pasword: is not a variable the toolkit reads "
        "(did you mean vault_directory_admin_password?); it is ignored"
    ]


def test_directory_secrets_of_a_user_pool_tenant_are_checked_and_said_unused() -> None:
    errors, warnings = validate_vault_variables({ADMIN: "short", "vault_image_winrm_password": "x"}, [], "userpool")
    assert [error.split(":")[0] for error in errors] == [ADMIN, ADMIN]
    assert warnings == [f"{ADMIN}: is not used: user-pool tenants have no directory"]


def _vault_variables_read_by(paths: list[Path]) -> set[str]:
    found: set[str] = set()
    for root in paths:
        for path in root.rglob("*.yml"):
            found.update(re.findall(r"\bvault_[a-z0-9_]+", path.read_text(encoding="utf-8")))
    return found


def test_every_vault_variable_the_roles_and_playbooks_read_has_a_rule() -> None:
    read = _vault_variables_read_by([ROOT / "roles", ROOT / "playbooks"])
    # validate.yml names them itself; "vault_file_not_loaded"-like examples never appear in YAML.
    assert read - {"vault_variables"} == set(VAULT_VARIABLES)


def test_the_validate_playbook_passes_every_vault_variable_with_a_rule() -> None:
    plays = yaml.safe_load((ROOT / "playbooks" / "validate.yml").read_text(encoding="utf-8"))
    block = plays[0]["tasks"][0]
    assert block["vars"]["validate_vault_known"] == list(VAULT_VARIABLES)
