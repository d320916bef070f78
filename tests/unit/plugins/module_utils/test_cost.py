"""The tenant cost estimate (plugins/module_utils/cost.py): one pricing rule per test."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.cost import (
    HOURS_PER_MONTH,
    WEEKS_PER_MONTH,
    CostError,
    estimate,
    fleet_usage,
    nat_gateway_count,
    schedule_hours_per_month,
    working_days_per_month,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.tenant import normalise_tenant

ROOT = Path(__file__).resolve().parents[4]

# A small, round price table: every expected amount below can be checked by hand.
PRICES: dict[str, Any] = {
    "currency": "USD",
    "price_date": "2026-01-01",
    "default_region": "us-east-1",
    "sources": {"appstream": "https://aws.amazon.com/appstream2/pricing/"},
    "regions": {
        "us-east-1": {
            "appstream": {
                "instance_hour": {"stream.standard.medium": 0.2, "stream.standard.large": 0.4},
                "stopped_instance_hour": 0.025,
                "user_month": 4.0,
            },
            "fsx_windows": {
                "storage_gb_month": {
                    "SSD": {"single_az": 0.1, "multi_az": 0.2},
                    "HDD": {"single_az": 0.01, "multi_az": 0.02},
                },
                "throughput_mbps_month": {"single_az": 2.0, "multi_az": 4.0},
                "backup_gb_month": 0.05,
            },
            "directory_service": {
                "managed_ad_hour": {"Standard": 0.1, "Enterprise": 0.4},
                "additional_dc_hour": {"Standard": 0.05, "Enterprise": 0.2},
            },
            "vpc": {"nat_gateway_hour": 0.05, "nat_gateway_gb_processed": 0.05, "public_ipv4_hour": 0.005},
        },
        "eu-west-3": {
            "caveat": "provisional figures",
            "appstream": {
                "instance_hour": {"stream.standard.medium": 0.25},
                "stopped_instance_hour": 0.03,
                "user_month": 4.0,
            },
            "fsx_windows": {
                "storage_gb_month": {"SSD": {"single_az": 0.1, "multi_az": 0.2}},
                "throughput_mbps_month": {"single_az": 2.0, "multi_az": 4.0},
                "backup_gb_month": 0.05,
            },
            "directory_service": {"managed_ad_hour": {"Standard": 0.1}, "additional_dc_hour": {"Standard": 0.05}},
            "vpc": {"nat_gateway_hour": 0.05, "public_ipv4_hour": 0.005},
        },
    },
}

SCHEDULE = {
    "timezone": "Europe/Paris",
    "start": "08:00",
    "stop": "18:00",
    "weekdays": ["mon", "tue", "wed", "thu", "fri"],
}


def users(count: int) -> list[dict[str, Any]]:
    return [{"email": f"user{i}@lab.example", "first_name": "User", "last_name": f"Number{i}"} for i in range(count)]


def saml_tenant(**fleet: Any) -> dict[str, Any]:
    tenant = {
        "name": "costlab",
        "environment": "dev",
        "region": "us-east-1",
        "auth": "saml",
        "network": {"cidr": "10.50.0.0/16", "availability_zones": 2, "nat_gateways": "single"},
        "directory": {"fqdn": "corp.costlab.example", "netbios": "COSTLAB", "edition": "Standard"},
        "storage": {"deployment_type": "SINGLE_AZ_2", "storage_type": "SSD", "storage_gib": 100, "throughput_mbps": 32},
        "appstream": {
            "base_image": "AppStream-WinServer2019-07-16-2024",
            "fleet": {
                "type": "ON_DEMAND",
                "instance_type": "stream.standard.medium",
                "min_capacity": 1,
                "max_capacity": 4,
                **fleet,
            },
        },
        "apps": ["icostudio"],
        "users": users(2),
        "budget": {"monthly_usd": 1000, "notify": ["ops@lab.example"]},
    }
    return normalise_tenant(tenant)


def userpool_tenant(**fleet: Any) -> dict[str, Any]:
    tenant = saml_tenant(**fleet)
    tenant.update(auth="userpool", directory=None, storage=None)
    for user in tenant["users"]:
        user["username"] = None
    return tenant


def line(result: dict[str, Any], fragment: str) -> dict[str, Any]:
    matches = [item for item in result["lines"] if fragment in item["item"]]
    assert len(matches) == 1, f"{fragment!r} in {[i['item'] for i in result['lines']]}"
    return matches[0]


def has_line(result: dict[str, Any], fragment: str) -> bool:
    return any(fragment in item["item"] for item in result["lines"])


# -- hours ----------------------------------------------------------------------------------


def test_a_schedule_gives_working_hours_on_its_weekdays_times_4_345_weeks() -> None:
    assert schedule_hours_per_month(SCHEDULE) == pytest.approx(10 * 5 * WEEKS_PER_MONTH)
    three_days = {**SCHEDULE, "start": "07:30", "stop": "20:00", "weekdays": ["mon", "wed", "fri"]}
    assert schedule_hours_per_month(three_days) == pytest.approx(12.5 * 3 * 4.345)


def test_without_a_schedule_an_instance_is_provisioned_730_hours() -> None:
    assert schedule_hours_per_month(None) == HOURS_PER_MONTH == 730


def test_working_days_follow_the_schedule_or_default_to_monday_to_friday() -> None:
    assert working_days_per_month({**SCHEDULE, "weekdays": ["sat", "sun"]}) == pytest.approx(2 * 4.345)
    assert working_days_per_month(None) == pytest.approx(5 * 4.345)


# -- fleet types ----------------------------------------------------------------------------


def test_on_demand_bills_streaming_at_the_running_rate_and_idle_provisioned_hours_at_the_stopped_fee() -> None:
    usage = fleet_usage("ON_DEMAND", 2, 4, SCHEDULE, users=1, hours_per_user_day=4)
    provisioned = 2 * 10 * 5 * WEEKS_PER_MONTH
    demand = 1 * 4 * 5 * WEEKS_PER_MONTH
    assert usage.running_hours == pytest.approx(demand)
    assert usage.stopped_hours == pytest.approx(provisioned - demand)

    result = estimate(saml_tenant(min_capacity=2, schedule=SCHEDULE), PRICES)
    running = line(result, "On-Demand streaming")
    stopped = line(result, "stopped-instance fee")
    assert running["unit_price"] == 0.2 and stopped["unit_price"] == 0.025
    assert running["quantity"] == pytest.approx(round(2 * 4 * 5 * WEEKS_PER_MONTH, 2))


def test_on_demand_has_no_stopped_fee_when_the_demand_uses_every_provisioned_hour() -> None:
    usage = fleet_usage("ON_DEMAND", 1, 10, SCHEDULE, users=5, hours_per_user_day=4)
    assert usage.stopped_hours == 0
    assert usage.running_hours == pytest.approx(5 * 4 * 5 * WEEKS_PER_MONTH)  # scaled above the minimum


def test_on_demand_without_schedule_keeps_the_minimum_provisioned_all_month() -> None:
    usage = fleet_usage("ON_DEMAND", 1, 2, None, users=0, hours_per_user_day=4)
    assert usage.running_hours == 0
    assert usage.stopped_hours == pytest.approx(730)


def test_always_on_bills_every_provisioned_hour_at_the_running_rate() -> None:
    usage = fleet_usage("ALWAYS_ON", 2, 4, None, users=1, hours_per_user_day=4)
    assert usage.running_hours == pytest.approx(2 * 730)
    assert usage.stopped_hours == 0

    result = estimate(saml_tenant(type="ALWAYS_ON", min_capacity=2), PRICES)
    always_on = line(result, "Always-On running")
    assert always_on["quantity"] == 1460 and always_on["monthly"] == pytest.approx(292.0)
    assert not has_line(result, "stopped-instance fee")


def test_always_on_counts_the_demand_when_it_needs_more_than_the_minimum() -> None:
    usage = fleet_usage("ALWAYS_ON", 1, 10, SCHEDULE, users=4, hours_per_user_day=8)
    assert usage.running_hours == pytest.approx(4 * 8 * 5 * WEEKS_PER_MONTH)


def test_elastic_bills_only_the_assumed_streaming_hours() -> None:
    result = estimate(
        userpool_tenant(type="ELASTIC", min_capacity=0, max_capacity=10), PRICES, streaming_hours_per_user_day=4
    )
    elastic = line(result, "Elastic streaming")
    assert elastic["quantity"] == pytest.approx(round(2 * 4 * 5 * WEEKS_PER_MONTH, 2))
    assert not has_line(result, "stopped-instance fee")
    assert any("ELASTIC" in a and "per second" in a for a in result["assumptions"])


def test_the_demand_is_capped_by_max_capacity_with_a_warning() -> None:
    usage = fleet_usage("ON_DEMAND", 1, 1, SCHEDULE, users=5, hours_per_user_day=8)
    assert usage.capped and usage.running_hours == pytest.approx(10 * 5 * WEEKS_PER_MONTH)
    tenant = saml_tenant(min_capacity=1, max_capacity=1, schedule=SCHEDULE)
    tenant["users"] = users(5)
    result = estimate(tenant, PRICES, streaming_hours_per_user_day=8)
    assert any("max_capacity" in w for w in result["warnings"])


# -- users, builder ---------------------------------------------------------------------------


@pytest.mark.parametrize("make", [saml_tenant, userpool_tenant])
def test_user_fees_count_every_enabled_user_of_the_definition(make: Any) -> None:
    tenant = make()
    tenant["users"] = users(3)
    tenant["users"][2]["enabled"] = False
    fees = line(estimate(tenant, PRICES), "user fees")
    assert fees["quantity"] == 2 and fees["monthly"] == 8.0


def test_builder_hours_are_configurable_and_priced_at_the_builder_instance_type() -> None:
    tenant = saml_tenant()
    tenant["appstream"]["builder_instance_type"] = "stream.standard.large"
    builder = line(estimate(tenant, PRICES, build_hours=25), "image builder")
    assert builder["quantity"] == 25 and builder["unit_price"] == 0.4 and builder["monthly"] == 10.0
    assert not has_line(estimate(tenant, PRICES, build_hours=0), "image builder")


# -- saml vs userpool: directory and storage --------------------------------------------------


def test_a_saml_tenant_pays_for_managed_ad_and_fsx() -> None:
    result = estimate(saml_tenant(), PRICES)
    assert line(result, "Managed Microsoft AD Standard")["monthly"] == pytest.approx(73.0)
    assert line(result, "FSx SSD storage (Single-AZ)")["monthly"] == pytest.approx(10.0)
    assert line(result, "FSx throughput capacity (Single-AZ)")["monthly"] == pytest.approx(64.0)
    assert line(result, "FSx backups")["monthly"] == pytest.approx(5.0)


def test_a_userpool_tenant_has_no_directory_and_no_file_system() -> None:
    result = estimate(userpool_tenant(), PRICES)
    assert not any(item["service"] in ("Directory Service", "FSx for Windows") for item in result["lines"])
    assert any("No Managed Microsoft AD" in a for a in result["assumptions"])
    assert any("No FSx" in a for a in result["assumptions"])


def test_multi_az_file_systems_and_enterprise_directories_use_their_own_rates() -> None:
    tenant = saml_tenant()
    tenant["storage"].update(
        deployment_type="MULTI_AZ_1", storage_type="HDD", storage_gib=2000, backup_retention_days=0
    )
    tenant["directory"]["edition"] = "Enterprise"
    result = estimate(tenant, PRICES, domain_controllers=3)
    assert line(result, "FSx HDD storage (Multi-AZ)")["monthly"] == pytest.approx(40.0)
    assert line(result, "FSx throughput capacity (Multi-AZ)")["unit_price"] == 4.0
    assert not has_line(result, "FSx backups")
    assert line(result, "Managed Microsoft AD Enterprise")["monthly"] == pytest.approx(292.0)
    assert line(result, "Additional domain controllers (1)")["monthly"] == pytest.approx(146.0)


# -- network ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "zones", "expected"), [("single", 3, 1), ("per_az", 2, 2), ("per_az", 3, 3), ("none", 2, 0)]
)
def test_nat_gateways_follow_the_nat_mode(mode: str, zones: int, expected: int) -> None:
    assert nat_gateway_count(mode, zones) == expected
    tenant = saml_tenant()
    tenant["network"].update(nat_gateways=mode, availability_zones=zones)
    result = estimate(tenant, PRICES)
    if expected:
        assert line(result, "NAT gateways")["quantity"] == expected * 730
        assert line(result, "Public IPv4")["quantity"] == expected * 730
        assert line(result, "Public IPv4")["monthly"] == pytest.approx(expected * 3.65)
    else:
        assert not has_line(result, "NAT gateways") and not has_line(result, "Public IPv4")
    assert any("data processed" in a or "No NAT gateway" in a for a in result["assumptions"])


# -- regions and errors ---------------------------------------------------------------------


def test_an_unknown_region_is_priced_with_the_default_region_and_a_warning() -> None:
    tenant = saml_tenant()
    tenant["region"] = "ap-south-2"
    result = estimate(tenant, PRICES)
    assert result["region"] == "ap-south-2" and result["priced_region"] == "us-east-1"
    assert any("ap-south-2" in w and "us-east-1" in w for w in result["warnings"])


def test_a_region_caveat_is_repeated_as_a_warning() -> None:
    tenant = saml_tenant()
    tenant["region"] = "eu-west-3"
    result = estimate(tenant, PRICES)
    assert result["priced_region"] == "eu-west-3"
    assert line(result, "On-Demand streaming")["unit_price"] == 0.25
    assert any("provisional figures" in w for w in result["warnings"])


def test_an_unknown_fleet_instance_type_fails_naming_the_field() -> None:
    with pytest.raises(CostError) as error:
        estimate(saml_tenant(instance_type="stream.compute.8xlarge"), PRICES)
    message = str(error.value)
    assert message.startswith("tenant.appstream.fleet.instance_type: 'stream.compute.8xlarge'")
    assert "stream.standard.medium" in message  # what is priced


def test_an_unknown_builder_instance_type_fails_naming_the_field() -> None:
    tenant = saml_tenant()
    tenant["appstream"]["builder_instance_type"] = "stream.graphics.g5.xlarge"
    with pytest.raises(CostError, match=r"^tenant\.appstream\.builder_instance_type: 'stream\.graphics\.g5\.xlarge'"):
        estimate(tenant, PRICES)


def test_a_missing_price_names_its_place_in_the_table() -> None:
    prices = copy.deepcopy(PRICES)
    del prices["regions"]["us-east-1"]["fsx_windows"]["backup_gb_month"]
    with pytest.raises(CostError, match=r"prices\.regions\.us-east-1\.fsx_windows\.backup_gb_month: missing"):
        estimate(saml_tenant(), prices)


def test_negative_build_hours_are_refused() -> None:
    with pytest.raises(CostError, match="build_hours"):
        estimate(saml_tenant(), PRICES, build_hours=-1)


# -- totals and budget ---------------------------------------------------------------------


@pytest.mark.parametrize("make", [saml_tenant, userpool_tenant])
def test_the_total_is_the_sum_of_the_lines_and_each_line_is_quantity_times_price(make: Any) -> None:
    result = estimate(make(schedule=SCHEDULE), PRICES)
    assert result["total_monthly"] == pytest.approx(sum(item["monthly"] for item in result["lines"]), abs=1e-9)
    for item in result["lines"]:
        assert item["monthly"] == pytest.approx(round(item["quantity"] * item["unit_price"], 2))
    assert result["summary"][0].endswith(f"{result['total_monthly']:,.2f} USD; budget 1,000.00 USD")


def test_the_estimate_is_flagged_over_budget_with_a_warning() -> None:
    tenant = saml_tenant(type="ALWAYS_ON", min_capacity=4, max_capacity=4)
    tenant["budget"]["monthly_usd"] = 100
    result = estimate(tenant, PRICES)
    assert result["over_budget"] is True and result["budget_monthly"] == 100.0
    assert any("exceeds tenant.budget.monthly_usd" in w for w in result["warnings"])
    assert "OVER BUDGET" in result["summary"][0]


def test_an_estimate_within_budget_is_not_flagged() -> None:
    result = estimate(userpool_tenant(), PRICES)
    assert result["over_budget"] is False
    assert not any("exceeds" in w for w in result["warnings"])


def test_every_assumption_is_stated() -> None:
    assumptions = " ".join(estimate(saml_tenant(schedule=SCHEDULE), PRICES)["assumptions"])
    for words in (
        "730 h",
        "Working hours",
        "Streaming demand",
        "ON_DEMAND",
        "User fees",
        "Image builder",
        "FSx backups",
        "NAT gateways",
    ):
        assert words in assumptions


# -- the repository's price table ----------------------------------------------------------


def test_the_repository_price_table_prices_every_required_item() -> None:
    prices = yaml.safe_load((ROOT / "data" / "prices.yml").read_text())
    assert {"us-east-1", "eu-west-3"} <= set(prices["regions"]) and prices["default_region"] == "us-east-1"
    assert prices["price_date"] and set(prices["sources"]) >= {
        "appstream",
        "fsx_windows",
        "directory_service",
        "nat_gateway",
        "public_ipv4",
    }
    for region in ("us-east-1", "eu-west-3"):
        types = prices["regions"][region]["appstream"]["instance_hour"]
        for required in (
            "stream.standard.small",
            "stream.standard.medium",
            "stream.standard.large",
            "stream.compute.large",
            "stream.memory.large",
            "stream.graphics.g4dn.xlarge",
        ):
            assert types[required] > 0, (region, required)
