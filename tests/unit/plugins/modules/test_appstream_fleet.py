"""appstream_fleet: what its plan says about a running fleet that a change would stop (check mode warns,
the diff shows the stop; with when_running=fail only an apply refuses)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.fleet import restart_notice
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import (
    STOP,
    Plan,
    PlanRefused,
    diff_of,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.modules import appstream_fleet


def running_fleet_kind(check_mode: bool, when_running: str) -> tuple[object, list[str]]:
    """appstream_fleet's Fleet over a fake module: a RUNNING fleet with one user streaming."""
    warnings: list[str] = []
    module = SimpleNamespace(
        params={"name": "lab-fleet", "tenant": "lab", "state": "running", "when_running": when_running},
        check_mode=check_mode,
        warn=warnings.append,
    )
    kind = appstream_fleet.Fleet(module, client=None, scaling_client=None)
    kind.current = {"State": "RUNNING", "FleetType": "ON_DEMAND", "ComputeCapacityStatus": {"InUse": 1}}
    return kind, warnings


def stop_plan() -> tuple[Plan, dict]:
    plan = Plan(action="update", changes={"instance_type": ("stream.standard.medium", "stream.standard.large")})
    plan.by_kind[STOP].append("instance_type")
    return plan, {"changed": True, "diff": diff_of(plan, "lab-fleet")}


def test_check_mode_with_restart_warns_and_the_diff_shows_the_stop():
    kind, warnings = running_fleet_kind(check_mode=True, when_running="restart")
    plan, result = stop_plan()
    kind.annotate(result, plan)
    assert warnings == [restart_notice("lab-fleet", ["instance_type"], kind.current)]
    assert "its users are disconnected (1 streaming session now)" in warnings[0]
    assert result["diff"]["before"] == {"instance_type": "stream.standard.medium", "state": "RUNNING"}
    assert result["diff"]["after"] == {
        "instance_type": "stream.standard.large",
        "state": "STOPPED, users disconnected, then RUNNING",
    }
    assert result["requires_restart"] is True and result["restart_fields"] == ["instance_type"]


def test_apply_with_restart_shows_the_stop_in_the_diff_without_a_warning():
    kind, warnings = running_fleet_kind(check_mode=False, when_running="restart")
    plan, result = stop_plan()
    kind.annotate(result, plan)
    assert warnings == []
    assert result["diff"]["after"]["state"] == "STOPPED, users disconnected, then RUNNING"


def test_check_mode_with_fail_reports_the_refusal_as_a_warning_and_goes_on():
    kind, warnings = running_fleet_kind(check_mode=True, when_running="fail")
    plan, result = stop_plan()
    kind.annotate(result, plan)  # no PlanRefused: the rest of the plan still runs
    assert result["refused_on_apply"].startswith("fleet 'lab-fleet' is RUNNING; instance_type can only change")
    assert warnings == [result["refused_on_apply"] + ". An apply refuses this change and leaves the fleet as it is."]
    assert result["changed"] is True and result["requires_restart"] is True


def test_apply_with_fail_still_refuses():
    kind, warnings = running_fleet_kind(check_mode=False, when_running="fail")
    plan, result = stop_plan()
    with pytest.raises(PlanRefused, match="instance_type can only change while it is stopped"):
        kind.annotate(result, plan)
    assert warnings == []
