"""Rows of the tenant report (plugins/filter/tenant_report.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.filter import tenant_report as report

ROOT = Path(__file__).resolve().parents[4]


def tenant(auth: str = "saml") -> dict[str, Any]:
    return {
        "name": "demo",
        "auth": auth,
        "network": {"nat_gateways": "single"},
        "directory": {"fqdn": "corp.demo.example"} if auth == "saml" else None,
        "users": [
            {
                "email": "ada@lab.example",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "username": "ada",
                "enabled": True,
            },
            {
                "email": "alan@lab.example",
                "first_name": "Alan",
                "last_name": "Turing",
                "username": "alan",
                "enabled": False,
            },
        ],
    }


def test_resource_rows_carry_ids_states_and_details_in_dependency_order() -> None:
    resources = {
        "vpcs": [{"id": "vpc-1", "name": "demo-vpc", "state": "available", "cidr": "10.40.0.0/16"}],
        "subnets": [
            {
                "id": "subnet-1",
                "name": "demo-private-a",
                "state": "available",
                "tier": "private",
                "availability_zone": "eu-west-3a",
                "cidr": "10.40.0.0/18",
            }
        ],
        "file_systems": [
            {
                "id": "fs-1",
                "name": "demo-fsx",
                "lifecycle": "AVAILABLE",
                "storage_capacity": 32,
                "throughput_capacity": 32,
                "deployment_type": "SINGLE_AZ_2",
                "storage_type": "SSD",
            }
        ],
        "fleets": [
            {
                "name": "demo-fleet",
                "state": "RUNNING",
                "fleet_type": "ON_DEMAND",
                "capacity": {"running": 1},
                "stacks": [],
                "owned": False,
            }
        ],
        "budget": {
            "name": "demo-monthly",
            "limit": 300.0,
            "unit": "USD",
            "actual_spend": 12.5,
            "forecasted_spend": None,
        },
    }
    rows = report.tenant_report_resources(resources)
    assert [row["kind"] for row in rows] == ["VPC", "Subnet", "FSx file system", "Fleet", "Budget"]
    assert rows[1]["details"] == "private \u00b7 eu-west-3a \u00b7 10.40.0.0/18"
    assert "32 GiB" in rows[2]["details"] and "32 MB/s" in rows[2]["details"]
    assert "NOT tagged for this tenant" in rows[3]["details"] and "no stack" in rows[3]["details"]
    assert rows[4]["details"] == "limit 300.00 USD \u00b7 actual 12.50 USD"


def test_missing_resources_are_named_from_the_definition() -> None:
    missing = report.tenant_report_missing({"vpcs": [{"id": "vpc-1"}], "fleets": [{"name": "demo-fleet"}]}, tenant())
    assert missing == [
        "Stack demo-stack",
        "Budget demo-monthly",
        "Directory (Managed AD) corp.demo.example",
        "FSx file system tagged tenant=demo",
        "AppStream directory config corp.demo.example",
        "NAT gateway single",
    ]
    assert "Directory" not in " ".join(report.tenant_report_missing({}, tenant("userpool")))


def test_images_are_newest_first_with_the_fleet_that_streams_them_and_the_catalogue_image() -> None:
    resources = {
        "images": [
            {"name": "demo-suite-old", "state": "AVAILABLE", "created": "2026-01-01T00:00:00+00:00"},
            {"name": "demo-suite-new", "state": "PENDING", "created": "2026-02-01T00:00:00+00:00", "owned": False},
        ],
        "fleets": [{"name": "demo-fleet", "image_name": "demo-suite-old"}],
    }
    rows = report.tenant_report_images(resources, "demo-suite-new")
    assert [row["name"] for row in rows] == ["demo-suite-new", "demo-suite-old"]
    assert rows[0]["catalogue"] and not rows[0]["owned"] and rows[1]["in_use"] == "demo-fleet"


def test_saml_users_come_from_the_definition_with_their_ad_account() -> None:
    rows = report.tenant_report_users({"users": []}, tenant())
    assert [(r["name"], r["account"], r["enabled"]) for r in rows] == [
        ("Ada Lovelace", "ada", "yes"),
        ("Alan Turing", "alan", "no"),
    ]
    assert all("SAML" in r["appstream"] for r in rows)


def test_userpool_users_show_their_stack_association_and_unknown_users_are_listed() -> None:
    resources = {
        "users": [
            {"user_name": "ADA@lab.example", "stack": "demo-stack", "status": "CONFIRMED", "enabled": True},
            {"user_name": "intruder@else.example", "stack": "demo-stack", "status": "CONFIRMED"},
        ]
    }
    rows = report.tenant_report_users(resources, tenant("userpool"))
    assert rows[0]["appstream"] == "associated \u00b7 CONFIRMED"
    assert rows[1]["appstream"] == "not associated with the stack"
    assert rows[2]["email"] == "intruder@else.example" and "not in the tenant definition" in rows[2]["appstream"]


def test_markdown_cells_cannot_open_html_links_or_columns() -> None:
    cell = report.tenant_md("<script>x</script> | [a](javascript:1) `c` *d* &amp;\nline")
    assert "<" not in cell and "\n" not in cell
    assert cell == r"&lt;script>x&lt;/script> \| \[a\](javascript:1) \`c\` \*d\* &amp;amp; line"
    assert report.tenant_md(None) == ""
