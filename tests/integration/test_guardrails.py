"""playbooks/guardrails.yml on the sandbox: the budget from the tenant definition, then the estimate."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import ROOT, demo_tenant, run_playbook, write_inventory

PLAYBOOK = ROOT / "playbooks" / "guardrails.yml"
ACCOUNT = "123456789012"


def flat(text: str) -> str:
    return " ".join(text.split())


def test_guardrails_converge_the_budget_and_show_the_estimate(sandbox, tmp_path: Path) -> None:
    tenant = demo_tenant()
    tenant.update(name="guardlab")
    tenant["budget"] = {"monthly_usd": 250, "notify": ["finance@guardlab.example"]}
    inventory = write_inventory(tmp_path / "inventory", tenant, sandbox)

    plan = run_playbook(PLAYBOOK, inventory, sandbox, check=True, diff=True)
    assert plan.rc == 0, plan.stdout
    assert plan.stats()["mutating"] == 0
    assert "Estimated monthly cost in eu-west-3" in flat(plan.stdout)

    first = run_playbook(PLAYBOOK, inventory, sandbox)
    assert first.rc == 0, first.stdout
    assert first.recap["guardlab"]["changed"] == 1
    budgets = sandbox.boto3("budgets", region="us-east-1")
    budget = budgets.describe_budget(AccountId=ACCOUNT, BudgetName="guardlab-monthly")["Budget"]
    assert budget["BudgetLimit"] == {"Amount": "250.00", "Unit": "USD"}
    assert budget["CostFilters"] == {"TagKeyValue": ["user:tenant$guardlab"]}
    notifications = budgets.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName="guardlab-monthly")
    assert {(n["NotificationType"], n["Threshold"]) for n in notifications["Notifications"]} == {
        ("ACTUAL", 80.0),
        ("FORECASTED", 100.0),
    }
    output = flat(first.stdout)
    assert "OVER BUDGET" in output and "exceeds tenant.budget.monthly_usd (250.00 USD)" in output

    again = run_playbook(PLAYBOOK, inventory, sandbox)
    assert again.rc == 0 and again.recap["guardlab"]["changed"] == 0
    assert again.stats()["mutating"] == 0


def test_guardrails_absent_removes_only_the_budget(sandbox, tmp_path: Path) -> None:
    tenant = demo_tenant()
    tenant.update(name="guardgone")
    inventory = write_inventory(tmp_path / "inventory", tenant, sandbox)
    assert run_playbook(PLAYBOOK, inventory, sandbox).rc == 0
    removed = run_playbook(PLAYBOOK, inventory, sandbox, extra_vars={"tenant_guardrails_state": "absent"})
    assert removed.rc == 0, removed.stdout
    assert removed.recap["guardgone"]["changed"] == 1
    names = [
        b["BudgetName"]
        for b in sandbox.boto3("budgets", region="us-east-1").describe_budgets(AccountId=ACCOUNT)["Budgets"]
    ]
    assert "guardgone-monthly" not in names
    assert "Estimated monthly cost" not in flat(removed.stdout)
