"""The deployer's IAM policy (policies/deployer.json) read as data: which actions it allows, on what.

The sandbox does not enforce IAM, so the policy is checked two ways: its shape (no action or resource
left open, tag conditions on everything that creates, changes or deletes) and its coverage (every call
that site.yml and teardown.yml made on the sandbox maps to an action some statement allows).
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

from tests.helpers import ROOT

POLICY = ROOT / "policies" / "deployer.json"

# API operations whose IAM action has another name (AWS Budgets' permissions are coarser than its API).
ACTION_OF_OPERATION = {
    "budgets:CreateBudget": "budgets:ModifyBudget",
    "budgets:UpdateBudget": "budgets:ModifyBudget",
    "budgets:DeleteBudget": "budgets:ModifyBudget",
    "budgets:CreateNotification": "budgets:ModifyBudget",
    "budgets:UpdateNotification": "budgets:ModifyBudget",
    "budgets:DeleteNotification": "budgets:ModifyBudget",
    "budgets:CreateSubscriber": "budgets:ModifyBudget",
    "budgets:UpdateSubscriber": "budgets:ModifyBudget",
    "budgets:DeleteSubscriber": "budgets:ModifyBudget",
    "budgets:DescribeBudget": "budgets:ViewBudget",
    "budgets:DescribeBudgets": "budgets:ViewBudget",
    "budgets:DescribeNotificationsForBudget": "budgets:ViewBudget",
    "budgets:DescribeSubscribersForNotification": "budgets:ViewBudget",
}
# Calls that need no permission at all.
UNAUTHORISED_CALLS = {"sts:GetCallerIdentity"}


def load(path: Path = POLICY) -> dict[str, Any]:
    return json.loads(path.read_text())


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def action_of(service: str, operation: str) -> str | None:
    """The IAM action a logged call needs (None when it needs none)."""
    call = f"{service}:{operation}"
    if call in UNAUTHORISED_CALLS:
        return None
    return ACTION_OF_OPERATION.get(call, call)


def allowing_statements(policy: dict[str, Any], action: str) -> list[str]:
    """Sids of the Allow statements whose Action matches `action` (IAM matches case-insensitively)."""
    return [
        statement["Sid"]
        for statement in policy["Statement"]
        if statement["Effect"] == "Allow"
        and any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in as_list(statement["Action"]))
    ]


def is_read_only(action: str) -> bool:
    verb = action.split(":", 1)[1]
    return verb.startswith(("Describe", "List", "Get", "View"))
