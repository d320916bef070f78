"""tenant_budget against the sandbox's Budgets backend: lifecycle, idempotence, check mode, ownership."""

from __future__ import annotations

import pytest

from tests.helpers import run_tasks

ACCOUNT = "123456789012"


def budget_task(**options):
    return {"name": "Budget", "iconeus.tenant_toolkit.tenant_budget": options, "register": "budget_result"}


def describe(sandbox, name):
    client = sandbox.boto3("budgets", region="us-east-1")
    budget = client.describe_budget(AccountId=ACCOUNT, BudgetName=name)["Budget"]
    notifications = client.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName=name)["Notifications"]
    subscribers = {
        n["NotificationType"]: sorted(
            s["Address"]
            for s in client.describe_subscribers_for_notification(AccountId=ACCOUNT, BudgetName=name, Notification=n)[
                "Subscribers"
            ]
        )
        for n in notifications
    }
    tags = client.list_tags_for_resource(ResourceARN=f"arn:aws:budgets::{ACCOUNT}:budget/{name}")["ResourceTags"]
    return budget, notifications, subscribers, {t["Key"]: t["Value"] for t in tags}


def test_budget_lifecycle(sandbox, tmp_path):
    options = {"tenant": "budgetlab", "environment": "dev", "monthly_usd": 800, "notify": ["ops@lab.example"]}

    plan = run_tasks(tmp_path / "plan", [budget_task(**options)], sandbox, check=True)
    assert plan.rc == 0, plan.stdout
    assert plan.recap["localhost"]["changed"] == 1
    assert plan.stats()["mutating"] == 0

    created = run_tasks(tmp_path / "create", [budget_task(**options)], sandbox)
    assert created.rc == 0, created.stdout
    budget, notifications, subscribers, tags = describe(sandbox, "budgetlab-monthly")
    assert budget["BudgetLimit"] == {"Amount": "800.00", "Unit": "USD"}
    assert budget["CostFilters"] == {"TagKeyValue": ["user:tenant$budgetlab"]}
    assert {(n["NotificationType"], n["Threshold"]) for n in notifications} == {("ACTUAL", 80.0), ("FORECASTED", 100.0)}
    assert subscribers == {"ACTUAL": ["ops@lab.example"], "FORECASTED": ["ops@lab.example"]}
    assert tags["tenant"] == "budgetlab" and tags["managed-by"] == "appstream-tenant-toolkit"

    again = run_tasks(tmp_path / "again", [budget_task(**options)], sandbox)
    assert again.recap["localhost"]["changed"] == 0
    assert again.stats()["mutating"] == 0

    options.update(monthly_usd=1200, notify=["ops@lab.example", "finance@lab.example"])
    updated = run_tasks(tmp_path / "update", [budget_task(**options)], sandbox)
    assert updated.rc == 0, updated.stdout
    budget, _, subscribers, _ = describe(sandbox, "budgetlab-monthly")
    assert budget["BudgetLimit"]["Amount"] == "1200.00"
    assert subscribers["ACTUAL"] == ["finance@lab.example", "ops@lab.example"]

    removed = run_tasks(tmp_path / "remove", [budget_task(tenant="budgetlab", state="absent")], sandbox)
    assert removed.rc == 0 and removed.recap["localhost"]["changed"] == 1
    client = sandbox.boto3("budgets", region="us-east-1")
    names = [b["BudgetName"] for b in client.describe_budgets(AccountId=ACCOUNT).get("Budgets", [])]
    assert "budgetlab-monthly" not in names


def test_a_budget_of_another_tenant_is_left_alone(sandbox, tmp_path):
    client = sandbox.boto3("budgets", region="us-east-1")
    client.create_budget(
        AccountId=ACCOUNT,
        Budget={
            "BudgetName": "decoy-monthly",
            "BudgetLimit": {"Amount": "5.00", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        },
        ResourceTags=[{"Key": "tenant", "Value": "someone-else"}],
    )
    changed = run_tasks(
        tmp_path / "adopt",
        [budget_task(tenant="decoy", name="decoy-monthly", monthly_usd=10, notify=["a@b.example"])],
        sandbox,
    )
    assert changed.rc != 0 and "not owned" in changed.stdout
    deleted = run_tasks(
        tmp_path / "delete", [budget_task(tenant="decoy", name="decoy-monthly", state="absent")], sandbox
    )
    assert deleted.rc == 0 and deleted.recap["localhost"]["changed"] == 0
    assert (
        client.describe_budget(AccountId=ACCOUNT, BudgetName="decoy-monthly")["Budget"]["BudgetLimit"]["Amount"]
        == "5.00"
    )


@pytest.mark.parametrize("amount", [0, -5])
def test_a_non_positive_limit_is_refused_before_any_call(sandbox, tmp_path, amount):
    run = run_tasks(tmp_path, [budget_task(tenant="x", monthly_usd=amount, notify=["a@b.example"])], sandbox)
    assert run.rc != 0 and "monthly_usd" in run.stdout
    assert run.stats()["total"] == 0
