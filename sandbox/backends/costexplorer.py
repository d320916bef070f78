"""AWS Cost Explorer (service id `ce`): moto's answers GetCostAndUsage from a queue set through its own API
and has no cost allocation tags; the toolkit needs the tenant's month-to-date cost by its `tenant` tag and
the account bootstrap activates that tag.

- ListCostAllocationTags, UpdateCostAllocationTagsStatus (batches of at most 20; a key AWS does not know
  is an entry of `Errors`, not a failure of the call: Billing and Cost Management API reference,
  UpdateCostAllocationTagsStatus). The sandbox knows the toolkit's ownership tags (`tenant`, `environment`,
  `managed-by`) as user-defined tags, Inactive until activated, plus the keys of recorded costs.
- GetCostAndUsage: DAILY or MONTHLY results between TimePeriod.Start (inclusive) and End (exclusive),
  one Total per requested metric (UnblendedCost, BlendedCost, AmortizedCost, NetUnblendedCost), filtered by
  `Tags` (Key, Values, MatchOptions EQUALS or ABSENT) or `Dimensions` SERVICE, alone or under `And`. As in
  AWS, a user-defined tag shows in cost data only once it is an active cost allocation tag. Amounts are
  strings with USD as unit; the current month's results are `Estimated`.
- Costs come from the admin hook `ce/record-cost` {"date", "amount", "tags", "service"}.
"""

from __future__ import annotations

import datetime
from typing import Any

from sandbox.errors import AwsError
from sandbox.jsonproto import Context, JsonService, paginate

KNOWN_TAG_KEYS = ("tenant", "environment", "managed-by")
METRICS = ("UnblendedCost", "BlendedCost", "AmortizedCost", "NetUnblendedCost", "NetAmortizedCost")
MAX_TAG_UPDATES = 20


def _day(value: str, what: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as err:
        raise AwsError("ValidationException", f"{what} {value!r} is not a date (YYYY-MM-DD)") from err


def _month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


def _amount(value: float) -> str:
    return f"{value:.10f}".rstrip("0").rstrip(".") or "0"


class CostExplorerService(JsonService):
    service_name = "ce"

    def new_region_state(self, region: str) -> dict[str, Any]:
        return {}

    def _store(self) -> dict[str, Any]:
        # Cost Explorer is global (its endpoint is us-east-1): one store whatever the region named.
        with self._lock:
            store = self._regions.setdefault("global", {"tags": {}, "costs": []})
            for key in KNOWN_TAG_KEYS:
                store["tags"].setdefault(key, {"TagKey": key, "Type": "UserDefined", "Status": "Inactive"})
            return store

    # -- cost allocation tags -------------------------------------------------------------------
    def list_cost_allocation_tags(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        tags = list(self._store()["tags"].values())
        if params.get("TagKeys"):
            tags = [tag for tag in tags if tag["TagKey"] in params["TagKeys"]]
        if params.get("Status"):
            tags = [tag for tag in tags if tag["Status"] == params["Status"]]
        if params.get("Type"):
            tags = [tag for tag in tags if tag["Type"] == params["Type"]]
        tags = sorted(tags, key=lambda tag: tag["TagKey"])
        page, token = paginate([dict(tag) for tag in tags], params, default_limit=100)
        return {"CostAllocationTags": page, **({"NextToken": token} if token else {})}

    def update_cost_allocation_tags_status(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        entries = params["CostAllocationTagsStatus"]
        if len(entries) > MAX_TAG_UPDATES:
            raise AwsError("ValidationException", f"At most {MAX_TAG_UPDATES} tags can be updated in one request.")
        known = self._store()["tags"]
        errors = []
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for entry in entries:
            tag = known.get(entry["TagKey"])
            if tag is None:
                errors.append(
                    {
                        "TagKey": entry["TagKey"],
                        # AWS documents no code for this entry: the sandbox names it.
                        "Code": "TagKeysNotFoundException",
                        "Message": f"The tag key {entry['TagKey']} was not found on any resource of the account.",
                    }
                )
                continue
            if tag["Status"] != entry["Status"]:
                tag.update(Status=entry["Status"], LastUpdatedDate=now)
        return {"Errors": errors}

    # -- costs ----------------------------------------------------------------------------------
    def _active(self, key: str) -> bool:
        tag = self._store()["tags"].get(key)
        return tag is not None and tag["Status"] == "Active"

    def _matches(self, cost: dict[str, Any], expression: dict[str, Any] | None) -> bool:
        if not expression:
            return True
        if "And" in expression:
            return all(self._matches(cost, part) for part in expression["And"])
        if "Or" in expression:
            return any(self._matches(cost, part) for part in expression["Or"])
        if "Not" in expression:
            return not self._matches(cost, expression["Not"])
        if "Tags" in expression:
            rule = expression["Tags"]
            key = rule.get("Key", "")
            # Cost data carries a user-defined tag only once it is an active cost allocation tag.
            value = cost["tags"].get(key) if self._active(key) else None
            if "ABSENT" in (rule.get("MatchOptions") or []):
                return value is None
            return value is not None and value in (rule.get("Values") or [])
        if "Dimensions" in expression:
            rule = expression["Dimensions"]
            if rule.get("Key") != "SERVICE":
                raise AwsError(
                    "ValidationException", f"The sandbox filters on the SERVICE dimension only, not {rule.get('Key')}."
                )
            return cost["service"] in (rule.get("Values") or [])
        raise AwsError("ValidationException", "The sandbox filters on Tags, Dimensions (SERVICE), And, Or and Not.")

    def get_cost_and_usage(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        period = params["TimePeriod"]
        start, end = _day(period["Start"], "TimePeriod.Start"), _day(period["End"], "TimePeriod.End")
        if start >= end:
            raise AwsError("ValidationException", "Start date (inclusive) must be before the end date (exclusive).")
        granularity = params.get("Granularity", "MONTHLY")
        if granularity not in ("DAILY", "MONTHLY"):
            raise AwsError("ValidationException", f"The sandbox answers DAILY or MONTHLY, not {granularity}.")
        metrics = params.get("Metrics") or []
        if not metrics:
            raise AwsError("ValidationException", "Metrics is required.")
        unknown = [metric for metric in metrics if metric not in METRICS]
        if unknown:
            raise AwsError("ValidationException", f"Unsupported metric(s) {', '.join(unknown)}.")
        if params.get("GroupBy"):
            raise AwsError("ValidationException", "The sandbox does not group results (GroupBy).")
        costs = [cost for cost in self._store()["costs"] if self._matches(cost, params.get("Filter"))]
        today = datetime.datetime.now(datetime.UTC).date()
        results = []
        cursor = start
        while cursor < end:
            following = cursor + datetime.timedelta(days=1) if granularity == "DAILY" else min(_next_month(cursor), end)
            amount = sum(cost["amount"] for cost in costs if cursor <= cost["date"] < following)
            results.append(
                {
                    "TimePeriod": {"Start": cursor.isoformat(), "End": following.isoformat()},
                    "Total": {metric: {"Amount": _amount(amount), "Unit": "USD"} for metric in metrics},
                    "Groups": [],
                    "Estimated": following > _month_start(today),
                }
            )
            cursor = following
        return {"ResultsByTime": results, "GroupDefinitions": [], "DimensionValueAttributes": []}

    # -- admin hooks ----------------------------------------------------------------------------
    def admin_record_cost(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        """What the bill says: `amount` USD spent on `date` by resources with `tags` (of `service`)."""
        if payload.get("date") in (None, "") or payload.get("amount") is None:
            raise ValueError("the payload needs 'date' (YYYY-MM-DD) and 'amount'")
        tags = {str(k): str(v) for k, v in (payload.get("tags") or {}).items()}
        with self._lock:
            store = self._store()
            for key in tags:
                store["tags"].setdefault(key, {"TagKey": key, "Type": "UserDefined", "Status": "Inactive"})
            store["costs"].append(
                {
                    "date": datetime.date.fromisoformat(str(payload["date"])),
                    "amount": float(payload["amount"]),
                    "tags": tags,
                    "service": str(payload.get("service") or "Amazon AppStream"),
                }
            )
            return {"costs": len(store["costs"])}

    def admin_inventory(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        store = self._store()
        return {"tags": sorted(store["tags"].values(), key=lambda tag: tag["TagKey"]), "costs": len(store["costs"])}
