# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The generic find / plan / simulate / create / update / delete cycle of one AWS resource.

Modelled on openstack.cloud's StateMachine: a module describes only what differs for its
resource kind (how to find it, its comparable attributes, its API calls, which fields can
change in place and which need a stop or a replacement) in a `ResourceKind` subclass and
calls `converge()`. The cycle is the same for every kind:

- ownership: a resource found with another tenant's tag, or none, is never changed;
- check mode: the plan is computed from read calls only and returned with a diff;
- idempotence: a resource that matches the request costs only the read that found it;
- changes that need a replacement are refused unless the module allows recreation.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import (
    desired_tags,
    is_owned,
    owner_of,
    tag_changes,
)

LIVE = "live"  # applied to the running resource
STOP = "stop"  # the API accepts it only while the resource is stopped
RECREATE = "recreate"  # the API cannot change it: the resource must be replaced


class Remove:
    """Desired value meaning "this setting must be removed" (AppStream's AttributesToDelete)."""

    def __repr__(self) -> str:
        return "REMOVE"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Remove)

    def __hash__(self) -> int:
        return hash("REMOVE")


REMOVE = Remove()


@dataclass
class Plan:
    action: str = "none"  # none | create | update | delete | recreate
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    by_kind: dict[str, list[str]] = field(default_factory=lambda: {LIVE: [], STOP: [], RECREATE: []})
    tags_to_set: dict[str, str] = field(default_factory=dict)
    tags_to_remove: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.action != "none"

    @property
    def removals(self) -> list[str]:
        return sorted(k for k, (_before, after) in self.changes.items() if after == REMOVE)

    @property
    def tags_changed(self) -> bool:
        return bool(self.tags_to_set or self.tags_to_remove)


def normalise(value: Any) -> Any:
    """A canonical form for comparison: lists of scalars are compared as sets, dicts recursively."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in sorted(value.items()) if v is not None}
    if isinstance(value, list):
        items = [normalise(v) for v in value]
        if all(isinstance(i, (str, int, float, bool)) for i in items):
            return sorted(items, key=lambda i: (type(i).__name__, i))
        return items
    return value


def field_changes(current: dict[str, Any], desired: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Fields whose desired value differs from the current one. None means "not managed here"."""
    changes = {}
    for name, wanted in desired.items():
        if wanted is None:
            continue
        have = current.get(name)
        if wanted == REMOVE:
            if have not in (None, [], {}, ""):
                changes[name] = (have, REMOVE)
            continue
        if normalise(have) != normalise(wanted):
            changes[name] = (have, wanted)
    return changes


class NotOwned(Exception):
    pass


class PlanRefused(Exception):
    """The plan cannot be carried out under the module's policy; `result` still reports it."""

    def __init__(self, message: str, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.result = result or {}


class ReplacementRequired(PlanRefused):
    pass


def unchangeable_changes(
    changes: dict[str, tuple[Any, Any]], unchangeable: tuple[str, ...] | frozenset[str]
) -> dict[str, tuple[Any, Any]]:
    """The planned changes to fields AWS cannot change on an existing resource."""
    return {name: change for name, change in changes.items() if name in unchangeable}


def refusal_message(what: str, changes: dict[str, tuple[Any, Any]], why: str) -> str:
    """Why `what` (\"directory 'corp.example'\") cannot be changed in place: each field, then `why`."""
    details = "; ".join(
        f"{name} is {before!r}, requested {after!r}" for name, (before, after) in sorted(changes.items())
    )
    return f"{what} cannot be changed in place: {details}. {why}"


class ResourceKind:
    """What one resource kind does differently. Subclasses override the hooks they need."""

    kind = "resource"
    #: field name -> LIVE / STOP / RECREATE; fields not listed are LIVE.
    field_kinds: dict[str, str] = {}
    #: whether the resource carries tags the toolkit can read (ownership check)
    taggable = True

    def __init__(self, module: Any, tenant: str, environment: str | None = None) -> None:
        self.module = module
        self.params = module.params
        self.tenant = tenant
        self.environment = environment
        # Tags read earlier in the run (option known_tags, module tenant_tags_info): ARN -> tags. A kind that
        # changes a resource's tags forgets its entry, so that a later find() reads the tags it set.
        self.known_tags: dict[str, Any] = dict(self.params.get("known_tags") or {})

    # -- hooks --------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.params.get("name") or ""

    def find(self) -> dict[str, Any] | None:
        raise NotImplementedError

    def current_tags(self, resource: dict[str, Any]) -> dict[str, str]:
        return {}

    def desired(self) -> dict[str, Any]:
        """Comparable attributes requested by the module's options (None = leave as is)."""
        return {}

    def comparable(self, resource: dict[str, Any]) -> dict[str, Any]:
        """The same attributes read from an existing resource."""
        return {}

    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any] | None:
        raise NotImplementedError

    def update(self, resource: dict[str, Any], plan: Plan) -> dict[str, Any] | None:
        raise NotImplementedError

    def delete(self, resource: dict[str, Any]) -> None:
        raise NotImplementedError

    def set_tags(self, resource: dict[str, Any], to_set: dict[str, str], to_remove: list[str]) -> None:
        raise NotImplementedError

    def wait_present(self, resource: dict[str, Any] | None) -> dict[str, Any] | None:
        return resource

    def wait_absent(self) -> None:
        return None

    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        return resource or {}

    def finish(self, result: dict[str, Any], state: str, check_mode: bool) -> dict[str, Any]:
        """Last word on the module result: extra outputs (a final backup id), or waiting for a
        resource that an earlier run only started (a no-op converge returns before any wait)."""
        return result

    def classify(self, name: str) -> str:
        return self.field_kinds.get(name, LIVE)

    def annotate(self, result: dict[str, Any], plan: Plan) -> None:
        """Add kind-specific keys to the result (check mode too); raise PlanRefused to refuse the plan."""
        return None

    # -- the cycle ----------------------------------------------------------------------
    def plan(self, resource: dict[str, Any] | None, state: str) -> Plan:
        wanted = self.desired()
        if state == "absent":
            return Plan(action="delete" if resource else "none")
        tags = desired_tags(self.params.get("tags"), self.tenant, self.environment)
        if resource is None:
            after = {k: v for k, v in wanted.items() if v is not None and v != REMOVE}
            return Plan(action="create", changes={k: (None, v) for k, v in after.items()}, tags_to_set=tags)
        plan = Plan()
        plan.changes = field_changes(self.comparable(resource), wanted)
        for name in plan.changes:
            plan.by_kind[self.classify(name)].append(name)
        if self.taggable:
            purge = self.params.get("purge_tags", True) if self.params.get("tags") is not None else False
            plan.tags_to_set, plan.tags_to_remove = tag_changes(self.current_tags(resource), tags, purge)
        if plan.by_kind[RECREATE]:
            plan.action = "recreate"
        elif plan.changes or plan.tags_changed:
            plan.action = "update"
        return plan


def diff_of(plan: Plan, resource_name: str, current_tags: dict[str, str] | None = None) -> dict[str, Any]:
    before = {k: b for k, (b, _after) in plan.changes.items()}
    after = {k: (None if a == REMOVE else a) for k, (_before, a) in plan.changes.items()}
    if plan.action == "delete":
        return {
            "before": {"name": resource_name, "state": "present"},
            "after": {"name": resource_name, "state": "absent"},
        }
    if plan.tags_changed:
        old = dict(current_tags or {})
        new = {k: v for k, v in old.items() if k not in plan.tags_to_remove}
        new.update(plan.tags_to_set)
        before["tags"], after["tags"] = old, new
    return {"before": copy.deepcopy(before), "after": copy.deepcopy(after)}


def converge(kind: ResourceKind, state: str, check_mode: bool, allow_recreate: bool = False) -> dict[str, Any]:
    """Bring one resource to `state`; returns the module result (changed, diff, plan, resource)."""
    resource = kind.find()
    if resource is not None and kind.taggable and not is_owned(kind.current_tags(resource), kind.tenant):
        owner = owner_of(kind.current_tags(resource))
        message = (
            f"{kind.kind} {kind.name!r} exists but is not owned by tenant {kind.tenant!r} "
            f"(its tenant tag is {owner!r}); the toolkit never adopts or changes it"
        )
        if state == "absent":
            return {"changed": False, "not_owned": True, "msg": message, kind.kind: kind.result(resource)}
        raise NotOwned(message)

    plan = kind.plan(resource, state)
    current_tags = kind.current_tags(resource) if resource is not None and kind.taggable else {}
    result: dict[str, Any] = {
        "changed": plan.changed,
        "diff": diff_of(plan, kind.name, current_tags),
        "plan": {
            "action": plan.action,
            "fields": sorted(plan.changes),
            "live": sorted(plan.by_kind[LIVE]),
            "requires_stop": sorted(plan.by_kind[STOP]),
            "requires_recreate": sorted(plan.by_kind[RECREATE]),
            "removals": plan.removals,
        },
    }
    kind.annotate(result, plan)
    if plan.action == "recreate" and not allow_recreate:
        fields = ", ".join(sorted(plan.by_kind[RECREATE]))
        raise ReplacementRequired(
            f"{kind.kind} {kind.name!r} cannot change {fields} in place; set recreate=true to replace it", result
        )
    if check_mode or not plan.changed:
        result[kind.kind] = kind.result(resource)
        return result

    if plan.action == "delete":
        kind.delete(resource)
        kind.wait_absent()
        result[kind.kind] = {}
        return result
    if plan.action == "recreate":
        kind.delete(resource)
        kind.wait_absent()
        resource = None
    if resource is None:
        created = kind.create(kind.desired(), desired_tags(kind.params.get("tags"), kind.tenant, kind.environment))
        resource = kind.wait_present(created)
    else:
        if plan.changes:
            resource = kind.update(resource, plan) or resource
        if plan.tags_changed:
            kind.set_tags(resource, plan.tags_to_set, plan.tags_to_remove)
        resource = kind.wait_present(kind.find())
    result[kind.kind] = kind.result(resource)
    return result
