"""The drift verdict of each tenant from a plan file, and its HTML page; the history's one-line records."""

from __future__ import annotations

from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.filter.drift_report import drift_html, drift_summary
from ansible_collections.iconeus.tenant_toolkit.plugins.filter.history import history_line

CHANGE = {
    "task": "appstream_fleet : Ensure the fleet",
    "action": "iconeus.tenant_toolkit.appstream_fleet",
    "diff": {"before": {"idle": 1800}, "after": {"idle": 900}},
}


def host(changes: list[Any] | None = None, failed: list[Any] | None = None, **recap: int) -> dict[str, Any]:
    return {"changes": changes or [], "failures": failed or [], "unreachable": [], "recap": recap}


def plan(**hosts: dict[str, Any]) -> dict[str, Any]:
    return {"run_id": "r-0123456789ab", "started": "2026-12-06T02:00:00Z", "hosts": hosts}


def test_every_tenant_in_sync_exits_0() -> None:
    report = drift_summary(plan(a=host(ok=40), b=host(ok=30)), ["a", "b"])
    assert report["exit_status"] == 0 and report["summary"]["status"] == "in_sync"
    assert {name: v["status"] for name, v in report["tenants"].items()} == {"a": "in_sync", "b": "in_sync"}


def test_a_planned_change_is_drift_with_its_diff_and_exits_2() -> None:
    report = drift_summary(plan(a=host([CHANGE], changed=1), b=host(ok=30)), ["a", "b"])
    assert report["exit_status"] == 2 and report["summary"]["status"] == "drifted"
    assert report["tenants"]["a"] == {"status": "drifted", "changes": [CHANGE], "errors": [], "recap": {"changed": 1}}
    assert report["summary"]["changes"] == 1


def test_a_failed_plan_is_an_error_even_with_changes_and_wins_over_drift() -> None:
    failure = {"task": "Ensure the fleet", "action": "x", "msg": "AccessDeniedException"}
    report = drift_summary(plan(a=host([CHANGE], [failure], failures=1), b=host([CHANGE])), ["a", "b"])
    assert report["tenants"]["a"]["status"] == "error"
    assert report["tenants"]["a"]["errors"] == ["Ensure the fleet: AccessDeniedException"]
    assert report["summary"]["status"] == "error" and report["exit_status"] == 2


def test_an_ignored_failure_is_no_error() -> None:
    ignored = {"task": "Probe", "action": "x", "msg": "not found", "ignored": True}
    assert drift_summary(plan(a=host(failed=[ignored], ok=3)), ["a"])["tenants"]["a"]["status"] == "in_sync"


def test_a_plan_that_never_ran_to_its_end_is_an_error_for_every_tenant() -> None:
    report = drift_summary(None, ["a", "b"], run_rc=4, output_tail="ERROR! the inventory could not be parsed")
    assert [v["status"] for v in report["tenants"].values()] == ["error", "error"]
    assert (
        "exit status 4" in report["tenants"]["a"]["errors"][0]
        and "could not be parsed" in report["tenants"]["a"]["errors"][0]
    )


def test_a_tenant_the_plan_never_reached_is_an_error() -> None:
    report = drift_summary(plan(a=host(ok=3)), ["a", "z"])
    assert report["tenants"]["z"] == {
        "status": "error",
        "changes": [],
        "errors": ["the plan never reached this tenant"],
        "recap": {},
    }


def test_the_page_escapes_every_value() -> None:
    hostile = {**CHANGE, "task": "<script>alert(1)</script>", "diff": {"before": "<b>", "after": "</pre><img src=x>"}}
    page = drift_html(drift_summary(plan(a=host([hostile])), ["a"]))
    assert "<script>" not in page and "<img" not in page and "&lt;script&gt;" in page
    assert page.startswith("<!DOCTYPE html>") and "drifted" in page


def test_a_history_record_reads_as_one_line() -> None:
    record = {
        "time": "2026-12-06T10:15:03Z",
        "run_id": "r-0123456789ab",
        "status": "failed",
        "operator": "alice",
        "caller_arn": "arn:aws:sts::123456789012:assumed-role/deployer/alice",
        "controller": "ctl1",
        "playbook": "site.yml",
        "tags": ["fleet"],
        "changed_tasks": 7,
        "tasks": [f"task {i}" for i in range(7)],
        "failures": ["Start the fleet: no capacity"],
        "toolkit": "0.2.0",
        "commit": "3f9c2a7d41b0c1d2e3f4",
    }
    assert history_line(record) == (
        "2026-12-06T10:15:03Z r-0123456789ab failed: alice (arn:aws:sts::123456789012:assumed-role/deployer/alice) "
        "on ctl1, site.yml --tags fleet, toolkit 0.2.0 (3f9c2a7d41b0), 7 changed task(s): task 0; task 1; task 2; "
        "task 3; task 4; and 2 more; FAILED Start the fleet: no capacity"
    )
