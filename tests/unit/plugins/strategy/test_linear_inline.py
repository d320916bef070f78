"""linear_inline: which tasks run in the controller's process, and when the strategy runs none there.

The runs themselves (the same results as ansible.builtin.linear, the play's task left as it was, the environment
templated for modules only) are in tests/unit/test_strategy_linear_inline.py: they need ansible-playbook.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from ansible.playbook.task import Task
from ansible_collections.iconeus.tenant_toolkit.plugins.strategy import linear_inline as strategy


def task(action: str, **keywords: Any) -> Any:
    fields = {"async_val": 0, "timeout": 0, "delegate_to": None, "until": [], "debugger": None}
    return SimpleNamespace(action=action, resolved_action=action, **(fields | keywords))


@pytest.mark.parametrize(
    "action",
    [
        "ansible.builtin.set_fact",
        "set_fact",
        "ansible.legacy.debug",
        "ansible.builtin.assert",
        "ansible.builtin.fail",
        "ansible.builtin.group_by",
        "ansible.builtin.include_tasks",
        "ansible.builtin.include_role",
        "ansible.builtin.validate_argument_spec",
        "iconeus.tenant_toolkit.tenant_validate",
        "iconeus.tenant_toolkit.role_variables_validate",
        "iconeus.tenant_toolkit.ops_vars_validate",
        "iconeus.tenant_toolkit.tenant_cost_estimate",
    ],
)
def test_a_controller_only_action_runs_in_place(action: str) -> None:
    assert strategy.runs_inline(task(action))


@pytest.mark.parametrize(
    "action",
    [
        # Modules, and actions that run one or wait.
        "ansible.builtin.command",
        "ansible.builtin.uri",
        "ansible.builtin.pause",
        "ansible.builtin.wait_for",
        "ansible.builtin.add_host",
        "ansible.builtin.include_vars",
        "ansible.builtin.import_tasks",
        "iconeus.tenant_toolkit.tenant_lock",
        "iconeus.tenant_toolkit.aws_network",
        "iconeus.tenant_toolkit.in_worker",
        "amazon.aws.ec2_vpc_net",
        # A name that only ends like a listed one.
        "community.general.set_fact",
    ],
)
def test_anything_else_keeps_its_worker(action: str) -> None:
    assert not strategy.runs_inline(task(action))


@pytest.mark.parametrize(
    "keywords",
    [{"async_val": 30}, {"timeout": 5}, {"delegate_to": "localhost"}, {"until": ["x"]}, {"debugger": "on_failed"}],
)
def test_a_task_that_waits_retries_or_delegates_keeps_its_worker(keywords: dict[str, Any]) -> None:
    assert strategy.runs_inline(task("ansible.builtin.set_fact"))
    assert not strategy.runs_inline(task("ansible.builtin.set_fact", **keywords))


def test_the_resolved_action_decides_over_the_name_written() -> None:
    written_short = SimpleNamespace(**vars(task("set_fact")) | {"resolved_action": "ansible.builtin.set_fact"})
    assert strategy.runs_inline(written_short)
    # A short name another collection's routing resolves elsewhere is not ours to run in place.
    rerouted = SimpleNamespace(**vars(task("set_fact")) | {"resolved_action": "community.general.set_fact"})
    assert not strategy.runs_inline(rerouted)


def test_a_real_task_object_is_classified_by_its_fields() -> None:
    fact = Task.load({"name": "x", "ansible.builtin.set_fact": {"a": 1}})
    assert strategy.runs_inline(fact)
    background = Task.load({"name": "x", "ansible.builtin.set_fact": {"a": 1}, "async": 10, "poll": 1})
    assert not strategy.runs_inline(background)
    module = Task.load({"name": "x", "ansible.builtin.command": "true"})
    assert not strategy.runs_inline(module)


def test_the_switch_and_the_verified_core_version(monkeypatch: pytest.MonkeyPatch) -> None:
    warned: list[str] = []
    monkeypatch.setattr(strategy.display, "warning", warned.append)
    verified = f"{strategy.VERIFIED_CORE}.14"
    assert strategy.inline_enabled({}, verified)
    assert strategy.inline_enabled({strategy.SWITCH: "yes"}, verified)
    assert not strategy.inline_enabled({strategy.SWITCH: "false"}, verified)
    assert not strategy.inline_enabled({strategy.SWITCH: "0"}, verified)
    assert warned == []
    assert not strategy.inline_enabled({}, "2.20.1")
    assert len(warned) == 1 and "2.20.1" in warned[0] and strategy.VERIFIED_CORE in warned[0]
