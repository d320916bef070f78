# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet capacity through Application Auto Scaling (namespace appstream, dimension
appstream:fleet:DesiredCapacity): the target-tracking policy, working-hours scheduled actions, and the
plan between what exists and what is wanted.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.api import is_empty
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import (
    REMOVE,
    normalise,
)


def scaling_is_empty(option: Mapping[str, Any] | None) -> bool:
    """`scaling: {}`: every sub-option unset (purge_schedule and capacity_now have defaults, so they do not count)."""
    return option is not None and is_empty(
        {k: v for k, v in option.items() if k not in ("purge_schedule", "capacity_now")}
    )


# Fleet scaling (Application Auto Scaling)
SCALING_NAMESPACE = "appstream"
SCALABLE_DIMENSION = "appstream:fleet:DesiredCapacity"
UTILIZATION_METRIC = "AppStreamAverageCapacityUtilization"
CRON_DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def scaling_resource_id(fleet_name: str) -> str:
    return f"fleet/{fleet_name}"


def scaling_policy_name(fleet_name: str) -> str:
    return f"{fleet_name}-capacity-utilization"


def scaling_option_errors(option: Mapping[str, Any] | None) -> list[str]:
    if option is None or scaling_is_empty(option):
        return []
    errors = []
    low, high = option.get("min_capacity"), option.get("max_capacity")
    if low is None or high is None:
        errors.append("scaling: min_capacity and max_capacity are required (or scaling: {} to remove scaling)")
    elif low > high:
        errors.append(f"scaling: min_capacity {low} is above max_capacity {high}")
    target = option.get("target_utilization")
    if target is not None and not 0 < target <= 100:
        errors.append(f"scaling.target_utilization: {target} must be a percentage in (0, 100]")
    names = [a.get("name") for a in option.get("schedule") or []]
    if len(names) != len(set(names)):
        errors.append("scaling.schedule: action names must be unique")
    for action in option.get("schedule") or []:
        expression = action.get("schedule") or ""
        if not expression.startswith(("cron(", "at(", "rate(")):
            errors.append(
                f"scaling.schedule[{action.get('name')}]: {expression!r} is not cron(...), at(...) or rate(...)"
            )
    hours = option.get("working_hours")
    if hours:
        for key in ("timezone", "start", "stop"):
            if not hours.get(key):
                errors.append(f"scaling.working_hours.{key} is required")
        try:
            if hours.get("start") and hours.get("stop") and _minutes(hours["start"]) >= _minutes(hours["stop"]):
                errors.append("scaling.working_hours: stop must be later than start")
        except ValueError as err:
            errors.append(f"scaling.working_hours: {err}")
        bad = [d for d in hours.get("weekdays") or [] if str(d).upper()[:3] not in CRON_DAYS]
        if bad:
            errors.append(f"scaling.working_hours.weekdays: unknown day(s) {', '.join(map(str, bad))}")
    return errors


def _minutes(hhmm: str) -> int:
    hours, sep, minutes = str(hhmm).partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or int(hours) > 23 or int(minutes) > 59:
        raise ValueError(f'"{hhmm}" is not a time "HH:MM"')
    return int(hours) * 60 + int(minutes)


def weekdays_expression(days: Iterable[str]) -> str:
    """Day-of-week field of an Application Auto Scaling cron: runs become ranges (MON-FRI)."""
    indexes = sorted({CRON_DAYS.index(str(d).upper()[:3]) for d in days})
    if len(indexes) == 7:
        return "*"
    runs: list[list[int]] = []
    for index in indexes:
        if runs and index == runs[-1][-1] + 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{CRON_DAYS[run[0]]}-{CRON_DAYS[run[-1]]}")
        else:
            parts.extend(CRON_DAYS[i] for i in run)
    return ",".join(parts)


def cron_at(hhmm: str, days: Iterable[str]) -> str:
    """cron(Minutes Hours Day-of-month Month Day-of-week Year), evaluated in the action's time zone."""
    minutes = _minutes(hhmm)
    return f"cron({minutes % 60} {minutes // 60} ? * {weekdays_expression(days)} *)"


DEFAULT_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def working_hours_actions(
    fleet_name: str, hours: Mapping[str, Any], min_capacity: int, max_capacity: int
) -> list[dict[str, Any]]:
    """Two scheduled actions: capacity min..max at start, 0 at stop, on the given weekdays."""
    days = hours.get("weekdays") or DEFAULT_WEEKDAYS
    timezone = hours.get("timezone") or "UTC"
    return [
        {
            "name": f"{fleet_name}-working-hours-start",
            "schedule": cron_at(hours["start"], days),
            "timezone": timezone,
            "min_capacity": min_capacity,
            "max_capacity": max_capacity,
        },
        {
            "name": f"{fleet_name}-working-hours-stop",
            "schedule": cron_at(hours["stop"], days),
            "timezone": timezone,
            "min_capacity": 0,
            "max_capacity": 0,
        },
    ]


def within_working_hours(hours: Mapping[str, Any], now: datetime.datetime) -> bool:
    """Whether `now` (aware) falls inside the working hours, in their time zone."""
    import zoneinfo

    local = now.astimezone(zoneinfo.ZoneInfo(hours.get("timezone") or "UTC"))
    days = {str(d).upper()[:3] for d in hours.get("weekdays") or DEFAULT_WEEKDAYS}
    if CRON_DAYS[local.weekday()] not in days:
        return False
    minute = local.hour * 60 + local.minute
    return _minutes(hours["start"]) <= minute < _minutes(hours["stop"])


def _action_option(action: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": action["name"],
        "schedule": action["schedule"],
        "timezone": action.get("timezone") or "UTC",
        "min_capacity": action.get("min_capacity"),
        "max_capacity": action.get("max_capacity"),
    }


def scaling_desired(
    fleet_name: str,
    option: Mapping[str, Any] | None,
    current: Mapping[str, Any] | None,
    now: datetime.datetime | None = None,
) -> Any:
    """Comparable scaling configuration requested by the `scaling` option.

    None: not managed; REMOVE: `scaling: {}`. Unset cooldowns keep their current value, and
    with `purge_schedule: false` unlisted scheduled actions are kept. When a schedule exists,
    the target's min/max belong to it once registered: later runs change them through the
    scheduled actions only, so a run at night does not undo the night's capacity 0. A new
    target is registered with the capacity the schedule gives right now; so is an existing one
    with `capacity_now` (an operator changing the capacity or the hours now, not tomorrow).
    """
    if option is None:
        return None
    if scaling_is_empty(option):
        return REMOVE
    low, high = option["min_capacity"], option["max_capacity"]
    actions = [_action_option(a) for a in option.get("schedule") or []]
    hours = option.get("working_hours")
    if hours:
        actions.extend(working_hours_actions(fleet_name, hours, low, high))
    current = current or {}
    if not option.get("purge_schedule", True):
        listed = {a["name"] for a in actions}
        actions.extend(copy.deepcopy(a) for a in current.get("schedule") or [] if a["name"] not in listed)
    desired: dict[str, Any] = {
        "min_capacity": low,
        "max_capacity": high,
        "target_utilization": option.get("target_utilization"),
        "scale_in_cooldown": option.get("scale_in_cooldown"),
        "scale_out_cooldown": option.get("scale_out_cooldown"),
        "schedule": sorted(actions, key=lambda a: a["name"]),
    }
    if desired["target_utilization"] is not None:
        for key in ("scale_in_cooldown", "scale_out_cooldown"):
            if desired[key] is None:
                desired[key] = current.get(key)
    else:
        desired["scale_in_cooldown"] = desired["scale_out_cooldown"] = None
    if actions:
        if current.get("min_capacity") is not None and not option.get("capacity_now"):
            desired["min_capacity"], desired["max_capacity"] = current["min_capacity"], current["max_capacity"]
        elif hours and now is not None and not within_working_hours(hours, now):
            desired["min_capacity"] = desired["max_capacity"] = 0
    return desired


def scaling_comparable(
    target: Mapping[str, Any] | None, policy: Mapping[str, Any] | None, actions: Iterable[Mapping[str, Any]]
) -> dict[str, Any] | None:
    """The current scaling of a fleet from Describe{ScalableTargets,ScalingPolicies,ScheduledActions}."""
    if not target:
        return None
    config = (policy or {}).get("TargetTrackingScalingPolicyConfiguration") or {}
    schedule = []
    for action in actions:
        capacity = action.get("ScalableTargetAction") or {}
        schedule.append(
            {
                "name": action["ScheduledActionName"],
                "schedule": action.get("Schedule"),
                "timezone": action.get("Timezone") or "UTC",
                "min_capacity": capacity.get("MinCapacity"),
                "max_capacity": capacity.get("MaxCapacity"),
            }
        )
    return {
        "min_capacity": target.get("MinCapacity"),
        "max_capacity": target.get("MaxCapacity"),
        "target_utilization": config.get("TargetValue"),
        "scale_in_cooldown": config.get("ScaleInCooldown") if config else None,
        "scale_out_cooldown": config.get("ScaleOutCooldown") if config else None,
        "schedule": sorted(schedule, key=lambda a: a["name"]),
    }


@dataclass
class ScalingChanges:
    register_target: dict[str, int] | None = None
    put_policy: dict[str, Any] | None = None
    delete_policy: bool = False
    put_actions: list[dict[str, Any]] = field(default_factory=list)
    delete_actions: list[str] = field(default_factory=list)
    deregister_target: bool = False

    @property
    def changed(self) -> bool:
        return bool(
            self.register_target
            or self.put_policy
            or self.delete_policy
            or self.put_actions
            or self.delete_actions
            or self.deregister_target
        )


def scaling_changes(current: Mapping[str, Any] | None, desired: Any) -> ScalingChanges:
    """The Application Auto Scaling calls that turn `current` into `desired` (scaling_desired())."""
    changes = ScalingChanges()
    if desired is None:
        return changes
    current_actions = {a["name"]: a for a in (current or {}).get("schedule") or []}
    if desired == REMOVE:
        if current:
            changes.delete_actions = sorted(current_actions)
            changes.delete_policy = current.get("target_utilization") is not None
            changes.deregister_target = True
        return changes
    current = current or {}
    if (current.get("min_capacity"), current.get("max_capacity")) != (desired["min_capacity"], desired["max_capacity"]):
        changes.register_target = {"MinCapacity": desired["min_capacity"], "MaxCapacity": desired["max_capacity"]}
    policy_keys = ("target_utilization", "scale_in_cooldown", "scale_out_cooldown")
    if desired["target_utilization"] is None:
        changes.delete_policy = current.get("target_utilization") is not None
    elif any(normalise(current.get(k)) != normalise(desired.get(k)) for k in policy_keys):
        config: dict[str, Any] = {
            "TargetValue": float(desired["target_utilization"]),
            "PredefinedMetricSpecification": {"PredefinedMetricType": UTILIZATION_METRIC},
        }
        if desired.get("scale_in_cooldown") is not None:
            config["ScaleInCooldown"] = desired["scale_in_cooldown"]
        if desired.get("scale_out_cooldown") is not None:
            config["ScaleOutCooldown"] = desired["scale_out_cooldown"]
        changes.put_policy = config
    wanted = {a["name"]: a for a in desired["schedule"]}
    changes.put_actions = [
        a for name, a in sorted(wanted.items()) if normalise(current_actions.get(name)) != normalise(a)
    ]
    changes.delete_actions = sorted(set(current_actions) - set(wanted))
    return changes


def read_scaling(client: Any, fleet_name: str) -> dict[str, Any] | None:
    """Current scaling of a fleet: one read when no target is registered, three otherwise."""
    resource_id = scaling_resource_id(fleet_name)
    common = {"ServiceNamespace": SCALING_NAMESPACE, "ScalableDimension": SCALABLE_DIMENSION}
    targets = client.describe_scalable_targets(ResourceIds=[resource_id], aws_retry=True, **common)
    target = next((t for t in targets.get("ScalableTargets") or [] if t.get("ResourceId") == resource_id), None)
    if target is None:
        return None
    policies = client.describe_scaling_policies(
        ResourceId=resource_id, PolicyNames=[scaling_policy_name(fleet_name)], aws_retry=True, **common
    )
    policy = next(
        (
            p
            for p in policies.get("ScalingPolicies") or []
            if p.get("ResourceId") == resource_id and p.get("PolicyName") == scaling_policy_name(fleet_name)
        ),
        None,
    )
    scheduled = client.describe_scheduled_actions(ResourceId=resource_id, aws_retry=True, **common)
    actions = [a for a in scheduled.get("ScheduledActions") or [] if a.get("ResourceId") == resource_id]
    return scaling_comparable(target, policy, actions)


def apply_scaling(client: Any, fleet_name: str, changes: ScalingChanges) -> None:
    """Make the calls of `changes`, in an order AWS accepts (target before its policy and actions)."""
    resource_id = scaling_resource_id(fleet_name)
    common = {"ServiceNamespace": SCALING_NAMESPACE, "ResourceId": resource_id, "ScalableDimension": SCALABLE_DIMENSION}
    if changes.register_target:
        client.register_scalable_target(aws_retry=True, **common, **changes.register_target)
    for name in changes.delete_actions:
        client.delete_scheduled_action(ScheduledActionName=name, aws_retry=True, **common)
    if changes.delete_policy:
        client.delete_scaling_policy(PolicyName=scaling_policy_name(fleet_name), aws_retry=True, **common)
    if changes.put_policy:
        client.put_scaling_policy(
            PolicyName=scaling_policy_name(fleet_name),
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration=changes.put_policy,
            aws_retry=True,
            **common,
        )
    for action in changes.put_actions:
        client.put_scheduled_action(
            ScheduledActionName=action["name"],
            Schedule=action["schedule"],
            Timezone=action["timezone"],
            ScalableTargetAction={"MinCapacity": action["min_capacity"], "MaxCapacity": action["max_capacity"]},
            aws_retry=True,
            **common,
        )
    if changes.deregister_target:
        client.deregister_scalable_target(aws_retry=True, **common)
