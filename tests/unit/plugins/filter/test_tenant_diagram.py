"""Architecture diagrams drawn from a tenant's resources (plugins/filter/tenant_diagram.py)."""

from __future__ import annotations

import copy
import random
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.filter import tenant_diagram as diagram

ROOT = Path(__file__).resolve().parents[4]
SVG = "{http://www.w3.org/2000/svg}"


MALICIOUS = '<script>alert("x")</script>&'


def sample_resources(zones: int = 2) -> dict[str, Any]:
    """What tenant_inventory_info returns for a SAML tenant with one NAT gateway."""
    letters = "abc"[:zones]
    subnets, dcs = [], []
    for index, letter in enumerate(letters):
        zone = f"eu-west-3{letter}"
        subnets.append(
            {
                "id": f"subnet-priv{letter}",
                "name": f"demo-private-{zone}",
                "cidr": f"10.40.{index * 64}.0/18",
                "availability_zone": zone,
                "tier": "private",
                "state": "available",
            }
        )
        subnets.append(
            {
                "id": f"subnet-pub{letter}",
                "name": f"demo-public-{zone}",
                "cidr": f"10.40.{192 + index * 16}.0/20",
                "availability_zone": zone,
                "tier": "public",
                "state": "available",
            }
        )
        if index < 2:
            dcs.append(
                {"ip": f"10.40.{index * 64 + 10}.5", "subnet_id": f"subnet-priv{letter}", "availability_zone": zone}
            )
    private = [f"subnet-priv{letter}" for letter in letters]
    return {
        "tenant": "demo",
        "region": "eu-west-3",
        "read_at": "2026-11-28T17:00:00+00:00",
        "vpc": {"id": "vpc-0demo", "name": "demo-vpc", "cidr": "10.40.0.0/16", "state": "available"},
        "vpcs": [{"id": "vpc-0demo", "name": "demo-vpc", "cidr": "10.40.0.0/16", "state": "available"}],
        "subnets": subnets,
        "internet_gateways": [{"id": "igw-0demo", "name": "demo-igw", "state": "available"}],
        "nat_gateways": [
            {
                "id": "nat-0demo",
                "name": "demo-nat-eu-west-3a",
                "subnet_id": "subnet-puba",
                "availability_zone": "eu-west-3a",
                "state": "available",
                "public_ips": ["198.51.100.7"],
            }
        ],
        "route_tables": [
            {
                "id": "rtb-priv",
                "name": "demo-rt-private",
                "main": False,
                "subnet_ids": private,
                "routes": ["10.40.0.0/16 -> local", "0.0.0.0/0 -> nat-0demo"],
            }
        ],
        "security_groups": [{"id": "sg-0stream", "name": "demo-streaming", "description": "streaming"}],
        "vpc_endpoints": [
            {"id": "vpce-0s3", "service_name": "com.amazonaws.eu-west-3.s3", "type": "Gateway", "state": "available"}
        ],
        "directories": [
            {
                "id": "d-0demo",
                "name": "corp.demo.example",
                "edition": "Standard",
                "stage": "Active",
                "domain_controllers": dcs,
            }
        ],
        "file_systems": [
            {
                "id": "fs-0demo",
                "name": "demo-fsx",
                "lifecycle": "AVAILABLE",
                "deployment_type": "SINGLE_AZ_2",
                "subnet_ids": ["subnet-priva"],
                "preferred_subnet_id": "subnet-priva",
            }
        ],
        "backups": [],
        "directory_configs": [],
        "image_builders": [
            {
                "name": "demo-builder",
                "state": "STOPPED",
                "instance_type": "stream.standard.medium",
                "subnet_ids": ["subnet-priva"],
                "owned": True,
            }
        ],
        "images": [],
        "fleets": [
            {
                "name": "demo-fleet",
                "state": "RUNNING",
                "fleet_type": "ON_DEMAND",
                "instance_type": "stream.standard.medium",
                "subnet_ids": private,
                "capacity": {"running": 1, "desired": 1},
                "stacks": ["demo-stack"],
                "owned": True,
            }
        ],
        "stacks": [{"name": "demo-stack", "fleets": ["demo-fleet"], "owned": True}],
        "users": [],
        "budget": None,
    }


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - parses the filter's own output


def texts(svg: str) -> list[str]:
    root = parse(svg)
    return [element.text or "" for element in root.iter() if element.tag in (f"{SVG}text", f"{SVG}title")]


def mentions(svg: str, value: str) -> bool:
    return any(value in text for text in texts(svg))


def test_the_svg_is_well_formed_xml() -> None:
    svg = diagram.tenant_diagram_svg(sample_resources(), users=3)
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox", "").startswith("0 0 ")
    assert root.find(f"{SVG}title") is not None


def test_the_svg_names_every_subnet_fleet_nat_directory_and_file_system() -> None:
    resources = sample_resources()
    svg = diagram.tenant_diagram_svg(resources, users=3)
    for subnet in resources["subnets"]:
        assert mentions(svg, subnet["id"]) and mentions(svg, subnet["name"]), subnet["id"]
    for value in (
        "demo-fleet",
        "demo-fsx",
        "fs-0demo",
        "nat-0demo",
        "corp.demo.example",
        "demo-builder",
        "demo-stack",
        "igw-0demo",
        "vpc-0demo",
        "3 users",
    ):
        assert mentions(svg, value), value


def test_the_fleet_is_drawn_in_every_private_subnet_it_uses_with_an_edge_from_the_stack() -> None:
    svg = diagram.tenant_diagram_svg(sample_resources(), users=3)
    root = parse(svg)
    fleets = [g for g in root.iter(f"{SVG}g") if g.get("class") == "chip chip-fleet"]
    assert len(fleets) == 2
    edges = [
        p for p in root.iter(f"{SVG}path") if (p.findtext(f"{SVG}title") or "").startswith("stack streams from fleet")
    ]
    assert len(edges) == 2
    assert any("map the FSx share in eu-west-3a" in (p.findtext(f"{SVG}title") or "") for p in root.iter(f"{SVG}path"))
    assert any("reaches the internet through" in (p.findtext(f"{SVG}title") or "") for p in root.iter(f"{SVG}path"))


def test_a_malicious_name_is_escaped() -> None:
    resources = sample_resources()
    resources["fleets"][0]["name"] = MALICIOUS
    resources["subnets"][0]["name"] = MALICIOUS
    resources["tenant"] = MALICIOUS
    svg = diagram.tenant_diagram_svg(resources, users=3)
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg
    root = parse(svg)  # still well-formed
    assert not [element for element in root.iter() if element.tag.endswith("script")]
    assert mentions(svg, MALICIOUS)  # the full name survives in a tooltip, as text
    assert MALICIOUS in (root.get("aria-label") or "")


def test_the_svg_is_deterministic() -> None:
    resources = sample_resources()
    first = diagram.tenant_diagram_svg(resources, users=3)
    shuffled = copy.deepcopy(resources)
    random.Random(7).shuffle(shuffled["subnets"])
    assert diagram.tenant_diagram_svg(copy.deepcopy(resources), users=3) == first
    assert diagram.tenant_diagram_svg(shuffled, users=3) == first


def test_three_zones_widen_the_drawing_and_keep_every_subnet() -> None:
    resources = sample_resources(zones=3)
    svg = diagram.tenant_diagram_svg(resources, users=1)
    width = int(parse(svg).get("viewBox", "").split()[2])
    assert width > diagram.WIDTH
    assert all(mentions(svg, subnet["id"]) for subnet in resources["subnets"])
    assert mentions(svg, "Availability zone eu-west-3c")


def test_a_tenant_without_network_still_draws_what_exists() -> None:
    resources = sample_resources()
    for key in ("vpcs", "subnets", "internet_gateways", "nat_gateways", "route_tables", "vpc_endpoints"):
        resources[key] = []
    resources["vpc"] = None
    svg = diagram.tenant_diagram_svg(resources, users=0)
    parse(svg)
    assert mentions(svg, "No VPC tagged tenant=demo found")
    assert mentions(svg, "demo-fleet") and mentions(svg, "demo-fsx")
    assert mentions(svg, "Resources not placed in a subnet of the tenant VPC")


def test_an_empty_structure_draws_a_placeholder() -> None:
    svg = diagram.tenant_diagram_svg({"tenant": "newcomer", "region": "eu-west-3"})
    parse(svg)
    assert mentions(svg, "No VPC tagged tenant=newcomer found")
    assert mentions(svg, "0 users")


def test_anything_but_a_mapping_is_refused() -> None:
    from ansible.errors import AnsibleFilterError

    with pytest.raises(AnsibleFilterError, match="tenant_inventory_info"):
        diagram.tenant_diagram_svg(["not", "resources"])


def test_the_mermaid_flowchart_has_every_resource_and_its_edges() -> None:
    text = diagram.tenant_diagram_mermaid(sample_resources(), users=3)
    assert text.startswith("flowchart TB\n")
    for value in ("subnet-priva", "subnet-pubb", "demo-fleet", "fs-0demo", "nat-0demo", "corp.demo.example"):
        assert value in text
    assert "-->|streaming|" in text and "-->|SMB|" in text and "-.->|domain join|" in text and "-.->|egress|" in text
    assert text.count("subgraph") == text.count("\n  end") + text.count("\n    end") + text.count("\n      end")
    assert diagram.tenant_diagram_mermaid(sample_resources(), users=3) == text


def test_mermaid_labels_encode_quotes_and_angle_brackets() -> None:
    resources = sample_resources()
    resources["fleets"][0]["name"] = MALICIOUS + "#1"
    text = diagram.tenant_diagram_mermaid(resources, users=3)
    assert "<script" not in text and '"x"' not in text
    assert "#60;script#62;alert(#34;x#34;)#60;/script#62;#38;#35;1" in text
