# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Monthly cost estimate of one tenant footprint from a dated price table (data/prices.yml).

Pure functions, no AWS call: ``estimate(tenant, prices)`` prices what the tenant definition
(design.md section 4) will run for a month and returns the lines, the total, every assumption
it made (in words, with the figures used) and warnings (unknown region, provisional prices,
demand capped by capacity, over budget).

The model, in short (each rule states its assumption in the result):

* A month is 730 hours. With a fleet schedule the working hours are
  ``(stop - start) x len(weekdays) x 4.345`` weeks; without one, capacity never drops and
  instances are provisioned 730 h.
* Streaming demand, in instance-hours, is ``enabled users x streaming hours per user per
  working day x working days`` (weekdays of the schedule, or Monday to Friday, x 4.345): one
  user session per instance (AppStream single-session fleets), never more than
  ``max_capacity`` instances at once.
* ALWAYS_ON: every provisioned hour is billed at the running rate: ``min_capacity`` instances
  for the provisioned hours, or the demand when it needs more instances.
* ON_DEMAND: ``min_capacity`` instances are provisioned for the provisioned hours; the
  streaming demand is billed at the running rate and the provisioned hours it leaves idle at
  the stopped-instance fee (sessions land on the provisioned minimum first; instances scaled
  above the minimum count only while they stream).
* ELASTIC: only the streaming demand, at the running rate (billed per second, 15-minute
  minimum per session, which the estimate ignores).
* User fees (Microsoft RDS SAL): one per enabled user per month, user-pool and SAML alike.
* Image builder: ``build_hours`` per month on ``appstream.builder_instance_type``.
* FSx (when ``tenant.storage`` is set): provisioned storage, throughput, and backups taken as
  one full copy of the provisioned storage while backups are retained.
* Managed Microsoft AD (when ``tenant.directory`` is set): the edition's hourly rate for 730 h
  (two domain controllers included), plus any extra domain controller.
* NAT gateways: single = 1, per_az = one per availability zone, none = 0, each 730 h with one
  public IPv4 address; data processing is not estimated.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.engine import apply_defaults
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.tenant import TENANT_SCHEMA

__all__ = [
    "DEFAULT_BUILD_HOURS",
    "DEFAULT_STREAMING_HOURS_PER_USER_DAY",
    "HOURS_PER_MONTH",
    "WEEKS_PER_MONTH",
    "CostError",
    "Line",
    "compare_with_budget",
    "estimate",
    "fleet_usage",
    "nat_gateway_count",
    "region_prices",
    "schedule_hours_per_month",
    "streaming_demand_hours",
    "working_days_per_month",
]

HOURS_PER_MONTH = 730.0
# 52.14 weeks / 12 months: the weeks in an average month.
WEEKS_PER_MONTH = 4.345
DEFAULT_STREAMING_HOURS_PER_USER_DAY = 4.0
DEFAULT_BUILD_HOURS = 10.0
# Managed Microsoft AD always starts with two domain controllers (facts.md).
INCLUDED_DOMAIN_CONTROLLERS = 2
WEEKDAYS_WITHOUT_SCHEDULE = ("mon", "tue", "wed", "thu", "fri")
MULTI_AZ_DEPLOYMENTS = frozenset({"MULTI_AZ_1"})


class CostError(ValueError):
    """The tenant or the price table cannot be priced; the message names the field."""


@dataclass(frozen=True)
class Line:
    """One priced item: ``quantity`` of ``unit`` at ``unit_price`` gives ``monthly``."""

    service: str
    item: str
    quantity: float
    unit: str
    unit_price: float
    monthly: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _line(service: str, item: str, quantity: float, unit: str, unit_price: float) -> Line:
    # Quantities are rounded first so that quantity x unit_price reads back as the monthly
    # amount, and the total is the sum of the monthly amounts as shown.
    quantity = round(quantity, 2)
    return Line(service, item, quantity, unit, unit_price, round(quantity * unit_price, 2))


def _num(value: float) -> str:
    """A figure for a sentence: at most one decimal, no trailing zero."""
    text = f"{value:,.1f}"
    return text[:-2] if text.endswith(".0") else text


def _quantity(value: float) -> str:
    """A quantity as priced: up to two decimals, no trailing zero."""
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text or "0"


def _money(value: float, currency: str) -> str:
    return f"{value:,.2f} {currency}"


# --------------------------------------------------------------------------
# Hours and demand
# --------------------------------------------------------------------------


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def schedule_hours_per_month(schedule: Mapping[str, Any] | None) -> float:
    """Provisioned hours per month of one instance: working hours, or 730 without a schedule."""
    if not schedule:
        return HOURS_PER_MONTH
    day_hours = max(_minutes(schedule["stop"]) - _minutes(schedule["start"]), 0) / 60
    weekdays = schedule.get("weekdays") or WEEKDAYS_WITHOUT_SCHEDULE
    return day_hours * len(weekdays) * WEEKS_PER_MONTH


def working_days_per_month(schedule: Mapping[str, Any] | None) -> float:
    """Days users stream in a month: the schedule's weekdays, or Monday to Friday."""
    weekdays = (schedule or {}).get("weekdays") or WEEKDAYS_WITHOUT_SCHEDULE
    return len(weekdays) * WEEKS_PER_MONTH


def streaming_demand_hours(users: int, hours_per_user_day: float, schedule: Mapping[str, Any] | None) -> float:
    """Instance-hours of streaming in a month (one session per instance)."""
    return users * hours_per_user_day * working_days_per_month(schedule)


@dataclass(frozen=True)
class FleetUsage:
    """Instance-hours of a fleet in a month, by billing rate."""

    provisioned_hours: float  # hours one instance of the minimum capacity is provisioned
    demand_hours: float  # streaming instance-hours the users ask for
    running_hours: float  # instance-hours billed at the running rate
    stopped_hours: float  # instance-hours billed at the stopped-instance fee
    capped: bool  # the demand needed more than max_capacity instances


def fleet_usage(
    fleet_type: str,
    min_capacity: int,
    max_capacity: int,
    schedule: Mapping[str, Any] | None,
    users: int,
    hours_per_user_day: float,
) -> FleetUsage:
    """Apply the fleet-type rule of the module docstring."""
    if fleet_type == "ELASTIC":
        # Elastic fleets have no capacity to provision and no schedule: max_capacity is the
        # maximum number of concurrent sessions.
        hours = HOURS_PER_MONTH
        demand = streaming_demand_hours(users, hours_per_user_day, None)
        running = min(demand, max_capacity * hours)
        return FleetUsage(0.0, demand, running, 0.0, demand > running)
    hours = schedule_hours_per_month(schedule)
    demand = streaming_demand_hours(users, hours_per_user_day, schedule)
    streaming = min(demand, max_capacity * hours)
    provisioned = min_capacity * hours
    if fleet_type == "ALWAYS_ON":
        return FleetUsage(hours, demand, max(provisioned, streaming), 0.0, demand > streaming)
    if fleet_type == "ON_DEMAND":
        return FleetUsage(hours, demand, streaming, max(provisioned - streaming, 0.0), demand > streaming)
    raise CostError(f"tenant.appstream.fleet.type: {fleet_type!r} is not ALWAYS_ON, ON_DEMAND or ELASTIC")


def nat_gateway_count(mode: str, availability_zones: int) -> int:
    """NAT gateways of a network: single = 1, per_az = one per zone, none = 0."""
    counts = {"single": 1, "per_az": availability_zones, "none": 0}
    if mode not in counts:
        raise CostError(f"tenant.network.nat_gateways: {mode!r} is not single, per_az or none")
    return counts[mode]


# --------------------------------------------------------------------------
# Price table
# --------------------------------------------------------------------------


def region_prices(prices: Mapping[str, Any], region: str) -> tuple[dict[str, Any], str, list[str]]:
    """The price block for ``region``, the region actually priced, and warnings.

    A region missing from the table is priced with ``default_region`` (us-east-1) and says so.
    """
    regions = prices.get("regions")
    if not isinstance(regions, Mapping) or not regions:
        raise CostError("prices.regions: the price table has no region (is data/prices.yml loaded?)")
    warnings: list[str] = []
    priced = region
    if region not in regions:
        priced = str(prices.get("default_region") or "us-east-1")
        if priced not in regions:
            raise CostError(f"prices.default_region: {priced!r} has no entry under prices.regions")
        warnings.append(
            f"No prices for region {region} in the price table: {priced} prices are used instead, "
            f"so the estimate may be off by the regional difference (add {region} to data/prices.yml)."
        )
    block = regions[priced]
    if not isinstance(block, Mapping):
        raise CostError(f"prices.regions.{priced}: must be a mapping of services")
    if block.get("caveat"):
        warnings.append(f"Prices for {priced}: {' '.join(str(block['caveat']).split())}")
    return dict(block), priced, warnings


def _price(block: Mapping[str, Any], region: str, *path: str) -> Any:
    value: Any = block
    for index, key in enumerate(path):
        if not isinstance(value, Mapping) or key not in value:
            where = ".".join(("prices.regions", region, *path[: index + 1]))
            raise CostError(f"{where}: missing from the price table (data/prices.yml)")
        value = value[key]
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise CostError(f"{where}: {value!r} is not a price (a number of at least 0)")
    return float(value)


def _rate(block: Mapping[str, Any], region: str, *path: str) -> float:
    return _number(_price(block, region, *path), ".".join(("prices.regions", region, *path)))


def instance_rate(block: Mapping[str, Any], region: str, instance_type: str, field: str) -> float:
    """Running rate of an AppStream instance type; unknown types fail naming the tenant field."""
    table = _price(block, region, "appstream", "instance_hour")
    if not isinstance(table, Mapping) or instance_type not in table:
        known = ", ".join(sorted(table)) if isinstance(table, Mapping) else "none"
        raise CostError(
            f"{field}: {instance_type!r} has no price for {region} in the price table (priced: {known}); "
            "add it to data/prices.yml"
        )
    return _number(table[instance_type], f"prices.regions.{region}.appstream.instance_hour.{instance_type}")


# --------------------------------------------------------------------------
# Lines by service
# --------------------------------------------------------------------------


@dataclass
class _Context:
    tenant: dict[str, Any]
    block: dict[str, Any]
    region: str
    currency: str
    lines: list[Line]
    assumptions: list[str]
    warnings: list[str]


def _enabled_users(tenant: Mapping[str, Any]) -> int:
    return sum(1 for user in tenant.get("users") or [] if isinstance(user, Mapping) and user.get("enabled", True))


def _fleet_lines(ctx: _Context, hours_per_user_day: float) -> None:
    appstream = ctx.tenant.get("appstream") or {}
    fleet = appstream.get("fleet") or {}
    fleet_type = fleet.get("type", "ON_DEMAND")
    instance_type = fleet.get("instance_type", "stream.standard.medium")
    rate = instance_rate(ctx.block, ctx.region, instance_type, "tenant.appstream.fleet.instance_type")
    min_capacity, max_capacity = int(fleet.get("min_capacity", 1)), int(fleet.get("max_capacity", 2))
    schedule = fleet.get("schedule") if fleet_type != "ELASTIC" else None
    users = _enabled_users(ctx.tenant)
    usage = fleet_usage(fleet_type, min_capacity, max_capacity, schedule, users, hours_per_user_day)

    if schedule:
        day_hours = schedule_hours_per_month(schedule) / len(schedule.get("weekdays") or []) / WEEKS_PER_MONTH
        ctx.assumptions.append(
            f"Working hours from tenant.appstream.fleet.schedule: {schedule['start']}-{schedule['stop']} "
            f"({_num(day_hours)} h) x {len(schedule['weekdays'])} weekdays x {WEEKS_PER_MONTH} weeks = "
            f"{_num(usage.provisioned_hours)} h per month; capacity is 0 outside them."
        )
    elif fleet_type != "ELASTIC":
        ctx.assumptions.append(
            f"No fleet schedule: the minimum capacity stays provisioned all month ({_num(HOURS_PER_MONTH)} h)."
        )
    days = working_days_per_month(schedule)
    ctx.assumptions.append(
        f"Streaming demand: {users} enabled user(s) x {_num(hours_per_user_day)} h per working day x "
        f"{_num(days)} working days = {_num(usage.demand_hours)} instance-hours per month "
        "(one session per instance)."
    )
    if usage.capped:
        ctx.warnings.append(
            f"The assumed demand ({_num(usage.demand_hours)} instance-hours) needs more than max_capacity "
            f"({max_capacity}) instances at once; the estimate counts at most {_num(usage.running_hours)} "
            "streaming instance-hours and some users would wait for capacity."
        )

    label = f"AppStream fleet {instance_type}"
    if fleet_type == "ALWAYS_ON":
        ctx.assumptions.append(
            f"ALWAYS_ON: every provisioned instance runs and is billed at the running rate: at least "
            f"min_capacity {min_capacity} x {_num(usage.provisioned_hours)} h, more when the demand needs it."
        )
        ctx.lines.append(
            _line("AppStream 2.0", f"{label}, Always-On running", usage.running_hours, "instance-hour", rate)
        )
    elif fleet_type == "ON_DEMAND":
        stopped_rate = _rate(ctx.block, ctx.region, "appstream", "stopped_instance_hour")
        ctx.assumptions.append(
            f"ON_DEMAND: min_capacity {min_capacity} instance(s) provisioned for {_num(usage.provisioned_hours)} h "
            f"= {_num(min_capacity * usage.provisioned_hours)} instance-hours; streaming hours are billed at the "
            "running rate and the provisioned hours they leave idle at the stopped-instance fee (sessions use the "
            "provisioned minimum first; instances scaled above it count only while they stream)."
        )
        ctx.lines.append(
            _line("AppStream 2.0", f"{label}, On-Demand streaming", usage.running_hours, "instance-hour", rate)
        )
        if usage.stopped_hours > 0:
            ctx.lines.append(
                _line(
                    "AppStream 2.0",
                    "AppStream On-Demand stopped-instance fee (provisioned, idle)",
                    usage.stopped_hours,
                    "instance-hour",
                    stopped_rate,
                )
            )
    else:
        ctx.assumptions.append(
            "ELASTIC: only streaming time is billed (per second, 15-minute minimum per session, ignored here), "
            f"at most max_capacity {max_capacity} concurrent sessions."
        )
        ctx.lines.append(
            _line("AppStream 2.0", f"{label}, Elastic streaming", usage.running_hours, "instance-hour", rate)
        )


def _user_lines(ctx: _Context) -> None:
    users = _enabled_users(ctx.tenant)
    rate = _rate(ctx.block, ctx.region, "appstream", "user_month")
    sign_in = "SAML" if ctx.tenant.get("auth") == "saml" else "user-pool"
    ctx.assumptions.append(
        f"User fees (Microsoft RDS SAL): each of the {users} enabled {sign_in} user(s) of tenant.users streams "
        "at least once a month (fees are per user per month, not pro-rated)."
    )
    if users:
        ctx.lines.append(_line("AppStream 2.0", "AppStream user fees (Microsoft RDS SAL)", users, "user-month", rate))


def _builder_lines(ctx: _Context, build_hours: float) -> None:
    appstream = ctx.tenant.get("appstream") or {}
    instance_type = appstream.get("builder_instance_type", "stream.standard.medium")
    rate = instance_rate(ctx.block, ctx.region, instance_type, "tenant.appstream.builder_instance_type")
    ctx.assumptions.append(
        f"Image builder: {_num(build_hours)} h per month of image builds on {instance_type} (build_hours); "
        "the builder is stopped between builds."
    )
    if build_hours > 0:
        ctx.lines.append(
            _line("AppStream 2.0", f"AppStream image builder {instance_type}", build_hours, "instance-hour", rate)
        )


def _fsx_lines(ctx: _Context) -> None:
    storage = ctx.tenant.get("storage")
    if not storage:
        ctx.assumptions.append("No FSx for Windows file system (tenant.storage is not set).")
        return
    deployment = storage.get("deployment_type", "SINGLE_AZ_2")
    availability = "multi_az" if deployment in MULTI_AZ_DEPLOYMENTS else "single_az"
    shown = "Multi-AZ" if availability == "multi_az" else "Single-AZ"
    storage_type = storage.get("storage_type", "SSD")
    size = float(storage.get("storage_gib", 32))
    throughput = float(storage.get("throughput_mbps", 32))
    retention = int(storage.get("backup_retention_days", 7))
    storage_rate = _rate(ctx.block, ctx.region, "fsx_windows", "storage_gb_month", storage_type, availability)
    throughput_rate = _rate(ctx.block, ctx.region, "fsx_windows", "throughput_mbps_month", availability)
    ctx.lines.append(_line("FSx for Windows", f"FSx {storage_type} storage ({shown})", size, "GB-month", storage_rate))
    ctx.lines.append(
        _line("FSx for Windows", f"FSx throughput capacity ({shown})", throughput, "MBps-month", throughput_rate)
    )
    if retention > 0:
        backup_rate = _rate(ctx.block, ctx.region, "fsx_windows", "backup_gb_month")
        ctx.lines.append(_line("FSx for Windows", "FSx backups", size, "GB-month", backup_rate))
        ctx.assumptions.append(
            f"FSx backups ({retention} days kept): backup storage taken as one full copy of the "
            f"{_num(size)} GiB provisioned (backups are incremental; a nearly empty share costs less)."
        )
    else:
        ctx.assumptions.append("FSx automatic backups are off (backup_retention_days 0).")


def _directory_lines(ctx: _Context, domain_controllers: int) -> None:
    directory = ctx.tenant.get("directory")
    if not directory:
        ctx.assumptions.append("No Managed Microsoft AD (tenant.directory is not set: user-pool sign-in).")
        return
    edition = directory.get("edition", "Standard")
    rate = _rate(ctx.block, ctx.region, "directory_service", "managed_ad_hour", edition)
    ctx.lines.append(
        _line(
            "Directory Service",
            f"Managed Microsoft AD {edition} ({INCLUDED_DOMAIN_CONTROLLERS} domain controllers)",
            HOURS_PER_MONTH,
            "directory-hour",
            rate,
        )
    )
    extra = max(domain_controllers - INCLUDED_DOMAIN_CONTROLLERS, 0)
    if extra:
        extra_rate = _rate(ctx.block, ctx.region, "directory_service", "additional_dc_hour", edition)
        ctx.lines.append(
            _line(
                "Directory Service",
                f"Additional domain controllers ({extra})",
                extra * HOURS_PER_MONTH,
                "DC-hour",
                extra_rate,
            )
        )
    ctx.assumptions.append(
        f"Managed Microsoft AD {edition} with {max(domain_controllers, INCLUDED_DOMAIN_CONTROLLERS)} domain "
        f"controllers, running all month ({_num(HOURS_PER_MONTH)} h)."
    )


def _network_lines(ctx: _Context) -> None:
    network = ctx.tenant.get("network") or {}
    mode = network.get("nat_gateways", "single")
    zones = int(network.get("availability_zones", 2))
    count = nat_gateway_count(mode, zones)
    if not count:
        ctx.assumptions.append("No NAT gateway (tenant.network.nat_gateways none): no NAT or public IPv4 charge.")
        return
    nat_rate = _rate(ctx.block, ctx.region, "vpc", "nat_gateway_hour")
    ipv4_rate = _rate(ctx.block, ctx.region, "vpc", "public_ipv4_hour")
    ctx.lines.append(_line("VPC", f"NAT gateways ({count}, {mode})", count * HOURS_PER_MONTH, "gateway-hour", nat_rate))
    ctx.lines.append(
        _line(
            "VPC",
            f"Public IPv4 addresses ({count}, one per NAT gateway)",
            count * HOURS_PER_MONTH,
            "address-hour",
            ipv4_rate,
        )
    )
    processed = _price(ctx.block, ctx.region, "vpc").get("nat_gateway_gb_processed")
    per_gb = f" ({processed} {ctx.currency}/GB)" if isinstance(processed, int | float) else ""
    ctx.assumptions.append(
        f"NAT gateways: {mode} with {zones} availability zones = {count} gateway(s) for {_num(HOURS_PER_MONTH)} h, "
        f"one public IPv4 address each; data processed by the NAT{per_gb} is not estimated."
    )


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def compare_with_budget(total: float, budget: float | None, currency: str) -> tuple[bool, str | None]:
    """``(over_budget, warning)`` for a monthly total against tenant.budget.monthly_usd."""
    if budget is None:
        return False, None
    if total > budget:
        return True, (
            f"The estimate ({_money(total, currency)} per month) exceeds tenant.budget.monthly_usd "
            f"({_money(budget, currency)}) by {_money(total - budget, currency)}: the budget alerts will fire."
        )
    return False, None


def summary_lines(
    total: float,
    currency: str,
    lines: list[Line],
    region: str,
    priced_region: str,
    budget: float | None,
    over_budget: bool,
) -> list[str]:
    """The estimate as short lines for a terminal: the total first, then one line per item."""
    priced = "" if priced_region == region else f" (priced with {priced_region} prices)"
    verdict = ""
    if budget is not None:
        verdict = f"; budget {_money(budget, currency)}" + (", OVER BUDGET" if over_budget else "")
    head = f"Estimated monthly cost in {region}{priced}: {_money(total, currency)}{verdict}"
    width = max((len(f"{line.monthly:,.2f}") for line in lines), default=4)
    return [
        head,
        *(
            f"{line.monthly:>{width},.2f}  {line.item} ({_quantity(line.quantity)} {line.unit} x {line.unit_price:g})"
            for line in lines
        ),
    ]


def estimate(
    tenant: Mapping[str, Any],
    prices: Mapping[str, Any],
    build_hours: float = DEFAULT_BUILD_HOURS,
    streaming_hours_per_user_day: float = DEFAULT_STREAMING_HOURS_PER_USER_DAY,
    domain_controllers: int = INCLUDED_DOMAIN_CONTROLLERS,
) -> dict[str, Any]:
    """Monthly cost of ``tenant`` (a normalised definition; missing defaults are filled in).

    Returns ``{currency, region, priced_region, price_date, total_monthly, lines, assumptions,
    warnings, budget_monthly, over_budget, sources, summary}``; raises ``CostError`` naming the field
    when an instance type, a region block or a price is missing.
    """
    if not isinstance(tenant, Mapping):
        raise CostError("tenant: must be a mapping (the normalised tenant definition)")
    if not isinstance(prices, Mapping):
        raise CostError("prices: must be a mapping (data/prices.yml)")
    for name, value in (("build_hours", build_hours), ("streaming_hours_per_user_day", streaming_hours_per_user_day)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise CostError(f"{name}: {value!r} must be a number of at least 0")
    if streaming_hours_per_user_day > 24:
        raise CostError(f"streaming_hours_per_user_day: {streaming_hours_per_user_day!r} is above 24")
    spec = apply_defaults(TENANT_SCHEMA, copy.deepcopy(dict(tenant)))
    region = str(spec.get("region") or "")
    if not region:
        raise CostError("tenant.region: is required to choose the prices")
    currency = str(prices.get("currency") or "USD")
    block, priced_region, warnings = region_prices(prices, region)
    ctx = _Context(spec, block, priced_region, currency, [], [], warnings)
    price_date = prices.get("price_date", "unknown")
    ctx.assumptions.append(
        f"Indicative on-demand list prices in {currency} for {priced_region} dated {price_date} "
        "(data/prices.yml); a month is 730 h and 4.345 weeks. Not included: data transfer out, NAT data processing, "
        "S3 (home folders, application settings), Secrets Manager, CloudWatch, support plans and taxes."
    )
    _fleet_lines(ctx, float(streaming_hours_per_user_day))
    _user_lines(ctx)
    _builder_lines(ctx, float(build_hours))
    _fsx_lines(ctx)
    _directory_lines(ctx, int(domain_controllers))
    _network_lines(ctx)

    total = round(sum(line.monthly for line in ctx.lines), 2)
    budget_value = (spec.get("budget") or {}).get("monthly_usd")
    budget = (
        float(budget_value) if isinstance(budget_value, int | float) and not isinstance(budget_value, bool) else None
    )
    over_budget, budget_warning = compare_with_budget(total, budget, currency)
    if budget_warning:
        ctx.warnings.append(budget_warning)
    return {
        "summary": summary_lines(total, currency, ctx.lines, region, priced_region, budget, over_budget),
        "currency": currency,
        "region": region,
        "priced_region": priced_region,
        "price_date": str(prices.get("price_date", "")),
        "total_monthly": total,
        "lines": [line.as_dict() for line in ctx.lines],
        "assumptions": ctx.assumptions,
        "warnings": ctx.warnings,
        "budget_monthly": budget,
        "over_budget": over_budget,
        "sources": dict(prices.get("sources") or {}),
    }
