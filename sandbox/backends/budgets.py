"""AWS Budgets: moto's lacks UpdateBudget, subscribers and resource tags, which the toolkit needs.

Budgets are global (the API lives in us-east-1) and keyed by account and name; ARNs are
`arn:aws:budgets::<account>:budget/<name>`.
"""

from __future__ import annotations

import copy
import datetime
from typing import Any

from sandbox.errors import AwsError
from sandbox.jsonproto import Context, JsonService, paginate

_MAX_NOTIFICATIONS = 5  # per budget (AWS quota)
_MAX_SUBSCRIBERS = 10  # per notification (AWS quota)


def _not_found(message: str) -> AwsError:
    return AwsError("NotFoundException", message)


def _key(notification: dict[str, Any]) -> tuple:
    return (
        notification["NotificationType"],
        notification["ComparisonOperator"],
        float(notification["Threshold"]),
        notification.get("ThresholdType", "PERCENTAGE"),
    )


class BudgetsService(JsonService):
    service_name = "budgets"

    def new_region_state(self, region: str) -> dict[str, Any]:
        return {}

    def _budgets(self) -> dict[str, dict[str, Any]]:
        # One global store whatever the region the client names.
        with self._lock:
            return self._regions.setdefault("global", {})

    def _get(self, account_id: str, name: str) -> dict[str, Any]:
        budget = self._budgets().get(f"{account_id}/{name}")
        if budget is None:
            raise _not_found(f"Unable to get budget: {name} - the budget doesn't exist.")
        return budget

    @staticmethod
    def _arn(account_id: str, name: str) -> str:
        return f"arn:aws:budgets::{account_id}:budget/{name}"

    def _by_arn(self, arn: str) -> dict[str, Any]:
        prefix = "arn:aws:budgets::"
        if not arn.startswith(prefix) or ":budget/" not in arn:
            raise AwsError("InvalidParameterException", f"Invalid ARN {arn}")
        account, name = arn[len(prefix) :].split(":budget/", 1)
        return self._get(account, name)

    @staticmethod
    def _normalise(budget: dict[str, Any]) -> dict[str, Any]:
        budget = copy.deepcopy(budget)
        if "BudgetLimit" not in budget and "PlannedBudgetLimits" not in budget:
            raise AwsError("InvalidParameterException", "BudgetLimit must be present for a COST budget")
        now = datetime.datetime.now(datetime.UTC)
        budget.setdefault(
            "TimePeriod",
            {
                "Start": now.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp(),
                "End": 3706473600,
            },
        )
        budget["LastUpdatedTime"] = now.timestamp()
        budget.setdefault(
            "CalculatedSpend",
            {"ActualSpend": {"Amount": "0", "Unit": "USD"}, "ForecastedSpend": {"Amount": "0", "Unit": "USD"}},
        )
        return budget

    # -- budgets ------------------------------------------------------------------------
    def create_budget(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        budget = params["Budget"]
        key = f"{params['AccountId']}/{budget['BudgetName']}"
        if key in self._budgets():
            raise AwsError(
                "DuplicateRecordException", f"Error creating budget: {budget['BudgetName']} - already exists."
            )
        record = {"budget": self._normalise(budget), "notifications": [], "tags": {}}
        for item in params.get("NotificationsWithSubscribers", []):
            record["notifications"].append(
                {"notification": dict(item["Notification"]), "subscribers": list(item["Subscribers"])}
            )
        if len(record["notifications"]) > _MAX_NOTIFICATIONS:
            raise AwsError("CreationLimitExceededException", "A budget has at most 5 notifications")
        record["tags"] = {t["Key"]: t["Value"] for t in params.get("ResourceTags", [])}
        self._budgets()[key] = record
        return {}

    def describe_budget(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        return {"Budget": copy.deepcopy(self._get(params["AccountId"], params["BudgetName"])["budget"])}

    def describe_budgets(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        prefix = params["AccountId"] + "/"
        budgets = [copy.deepcopy(r["budget"]) for k, r in sorted(self._budgets().items()) if k.startswith(prefix)]
        page, token = paginate(budgets, params, default_limit=100)
        return {"Budgets": page, **({"NextToken": token} if token else {})}

    def update_budget(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        new = params["NewBudget"]
        record = self._get(params["AccountId"], new["BudgetName"])
        record["budget"] = self._normalise(new)
        return {}

    def delete_budget(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        self._get(params["AccountId"], params["BudgetName"])
        del self._budgets()[f"{params['AccountId']}/{params['BudgetName']}"]
        return {}

    # -- notifications and subscribers ---------------------------------------------------
    def _notification(self, record: dict[str, Any], notification: dict[str, Any]) -> dict[str, Any]:
        for item in record["notifications"]:
            if _key(item["notification"]) == _key(notification):
                return item
        raise _not_found("Unable to find the notification")

    def create_notification(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        record = self._get(params["AccountId"], params["BudgetName"])
        keys = {_key(i["notification"]) for i in record["notifications"]}
        if _key(params["Notification"]) in keys:
            raise AwsError("DuplicateRecordException", "The notification already exists")
        if len(record["notifications"]) >= _MAX_NOTIFICATIONS:
            raise AwsError("CreationLimitExceededException", "A budget has at most 5 notifications")
        record["notifications"].append(
            {"notification": dict(params["Notification"]), "subscribers": list(params["Subscribers"])}
        )
        return {}

    def delete_notification(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        record = self._get(params["AccountId"], params["BudgetName"])
        record["notifications"].remove(self._notification(record, params["Notification"]))
        return {}

    def update_notification(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        record = self._get(params["AccountId"], params["BudgetName"])
        self._notification(record, params["OldNotification"])["notification"] = dict(params["NewNotification"])
        return {}

    def describe_notifications_for_budget(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        record = self._get(params["AccountId"], params["BudgetName"])
        items = [copy.deepcopy(i["notification"]) for i in record["notifications"]]
        page, token = paginate(items, params, default_limit=100)
        return {"Notifications": page, **({"NextToken": token} if token else {})}

    def describe_subscribers_for_notification(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        record = self._get(params["AccountId"], params["BudgetName"])
        items = copy.deepcopy(self._notification(record, params["Notification"])["subscribers"])
        page, token = paginate(items, params, default_limit=100)
        return {"Subscribers": page, **({"NextToken": token} if token else {})}

    def create_subscriber(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        record = self._get(params["AccountId"], params["BudgetName"])
        item = self._notification(record, params["Notification"])
        if params["Subscriber"] in item["subscribers"]:
            raise AwsError("DuplicateRecordException", "The subscriber already exists")
        if len(item["subscribers"]) >= _MAX_SUBSCRIBERS:
            raise AwsError("CreationLimitExceededException", "A notification has at most 10 subscribers")
        item["subscribers"].append(dict(params["Subscriber"]))
        return {}

    def delete_subscriber(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        record = self._get(params["AccountId"], params["BudgetName"])
        item = self._notification(record, params["Notification"])
        if params["Subscriber"] not in item["subscribers"]:
            raise _not_found("Unable to find the subscriber")
        item["subscribers"].remove(params["Subscriber"])
        return {}

    # -- tags -----------------------------------------------------------------------------
    def list_tags_for_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        tags = self._by_arn(params["ResourceARN"])["tags"]
        return {"ResourceTags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}

    def tag_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        record = self._by_arn(params["ResourceARN"])
        record["tags"].update({t["Key"]: t["Value"] for t in params["ResourceTags"]})
        return {}

    def untag_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        record = self._by_arn(params["ResourceARN"])
        for key in params["ResourceTagKeys"]:
            record["tags"].pop(key, None)
        return {}

    def admin_inventory(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "budgets": {
                key: {
                    "limit": r["budget"].get("BudgetLimit"),
                    "notifications": len(r["notifications"]),
                    "tags": dict(r["tags"]),
                }
                for key, r in sorted(self._budgets().items())
            }
        }
