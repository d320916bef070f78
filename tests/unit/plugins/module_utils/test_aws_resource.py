"""The shared resource state machine: ownership, planning, check mode, idempotence, recreation."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import (
    LIVE,
    RECREATE,
    REMOVE,
    STOP,
    NotOwned,
    ReplacementRequired,
    ResourceKind,
    converge,
    field_changes,
    normalise,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import (
    desired_tags,
    is_owned,
    tag_changes,
)


class FakeKind(ResourceKind):
    kind = "widget"
    field_kinds = {"colour": LIVE, "size": STOP, "shape": RECREATE}

    def __init__(self, params: dict[str, Any], existing: dict[str, Any] | None = None) -> None:
        module = SimpleNamespace(params={"name": "w1", "tags": None, "purge_tags": True, **params})
        super().__init__(module, tenant="acme", environment="prod")
        self.existing = existing
        self.calls: list[str] = []

    def find(self):
        self.calls.append("find")
        return self.existing

    def current_tags(self, resource):
        return dict(resource.get("tags", {}))

    def desired(self):
        return {k: self.params.get(k) for k in ("colour", "size", "shape", "note")}

    def comparable(self, resource):
        return dict(resource)

    def create(self, desired, tags):
        self.calls.append("create")
        self.existing = {**{k: v for k, v in desired.items() if v is not None}, "tags": tags}
        return self.existing

    def update(self, resource, plan):
        self.calls.append("update:" + ",".join(sorted(plan.changes)))
        for name, (_unused, after) in plan.changes.items():
            if after == REMOVE:
                self.existing.pop(name, None)
            else:
                self.existing[name] = after
        return self.existing

    def delete(self, resource):
        self.calls.append("delete")
        self.existing = None

    def set_tags(self, resource, to_set, to_remove):
        self.calls.append("tags")
        tags = self.existing.setdefault("tags", {})
        tags.update(to_set)
        for key in to_remove:
            tags.pop(key, None)


OWNED = {"tenant": "acme", "managed-by": "appstream-tenant-toolkit", "environment": "prod"}


def test_create_when_missing_and_result_is_owned():
    kind = FakeKind({"colour": "red"})
    result = converge(kind, "present", check_mode=False)
    assert result["changed"] and result["plan"]["action"] == "create"
    assert kind.calls == ["find", "create"]
    assert is_owned(kind.existing["tags"], "acme")


def test_check_mode_makes_no_write_but_reports_the_plan():
    kind = FakeKind({"colour": "red"})
    result = converge(kind, "present", check_mode=True)
    assert result["changed"] and result["diff"]["after"]["colour"] == "red"
    assert result["diff"]["after"]["tags"]["tenant"] == "acme"
    assert kind.calls == ["find"]


def test_matching_resource_costs_one_read():
    kind = FakeKind({"colour": "red"}, existing={"colour": "red", "tags": dict(OWNED)})
    result = converge(kind, "present", check_mode=False)
    assert result["changed"] is False
    assert kind.calls == ["find"]


def test_live_change_is_applied_in_place():
    kind = FakeKind({"colour": "blue"}, existing={"colour": "red", "tags": dict(OWNED)})
    result = converge(kind, "present", check_mode=False)
    assert result["plan"]["live"] == ["colour"]
    assert kind.existing["colour"] == "blue"
    assert result["diff"] == {"before": {"colour": "red"}, "after": {"colour": "blue"}}


def test_stop_fields_are_reported_separately():
    kind = FakeKind({"size": 3}, existing={"size": 2, "tags": dict(OWNED)})
    result = converge(kind, "present", check_mode=True)
    assert result["plan"]["requires_stop"] == ["size"]


def test_recreate_fields_are_refused_without_permission():
    kind = FakeKind({"shape": "round"}, existing={"shape": "square", "tags": dict(OWNED)})
    with pytest.raises(ReplacementRequired, match="shape"):
        converge(kind, "present", check_mode=False)
    assert "delete" not in kind.calls


def test_recreate_replaces_when_allowed():
    kind = FakeKind({"shape": "round"}, existing={"shape": "square", "tags": dict(OWNED)})
    converge(kind, "present", check_mode=False, allow_recreate=True)
    assert kind.calls[:3] == ["find", "delete", "create"]
    assert kind.existing["shape"] == "round"


def test_unowned_resource_is_never_changed():
    kind = FakeKind({"colour": "blue"}, existing={"colour": "red", "tags": {"tenant": "other"}})
    with pytest.raises(NotOwned, match="'other'"):
        converge(kind, "present", check_mode=False)
    assert kind.calls == ["find"]


def test_untagged_resource_is_never_deleted():
    kind = FakeKind({}, existing={"colour": "red"})
    result = converge(kind, "absent", check_mode=False)
    assert result["changed"] is False and result["not_owned"] is True
    assert kind.existing == {"colour": "red"}


def test_absent_deletes_an_owned_resource_and_is_then_a_no_op():
    kind = FakeKind({}, existing={"colour": "red", "tags": dict(OWNED)})
    assert converge(kind, "absent", check_mode=False)["changed"] is True
    assert kind.existing is None
    assert converge(kind, "absent", check_mode=False)["changed"] is False


def test_removal_of_a_setting():
    kind = FakeKind({"note": REMOVE}, existing={"note": "old", "tags": dict(OWNED)})
    result = converge(kind, "present", check_mode=False)
    assert result["plan"]["removals"] == ["note"]
    assert "note" not in kind.existing


def test_user_tags_are_added_and_purged_but_ownership_tags_kept():
    existing = {"tags": {**OWNED, "cost-centre": "old", "stale": "x"}}
    kind = FakeKind({"tags": {"cost-centre": "new"}}, existing=existing)
    result = converge(kind, "present", check_mode=False)
    assert result["changed"]
    assert kind.existing["tags"] == {**OWNED, "cost-centre": "new"}


def test_unset_tags_leave_user_tags_alone():
    kind = FakeKind({}, existing={"tags": {**OWNED, "keep": "me"}})
    assert converge(kind, "present", check_mode=False)["changed"] is False


def test_field_changes_ignore_unmanaged_fields_and_list_order():
    assert field_changes({"a": [1, 2], "b": 1}, {"a": [2, 1], "b": None}) == {}
    assert field_changes({"a": 1}, {"a": 2}) == {"a": (1, 2)}
    assert field_changes({}, {"a": REMOVE}) == {}


def test_normalise_drops_none_in_dicts():
    assert normalise({"x": None, "y": ["b", "a"]}) == {"y": ["a", "b"]}


def test_tag_changes_never_remove_ownership_or_aws_tags():
    current = {"tenant": "acme", "managed-by": "x", "aws:cloudformation:stack": "s", "old": "1"}
    to_set, to_remove = tag_changes(current, desired_tags({}, "acme"), purge=True)
    assert to_remove == ["old"]
    assert to_set == {"managed-by": "appstream-tenant-toolkit"}
