"""linear_inline: which tasks run in the controller's process, and when the strategy runs none there.

The runs themselves (the same results as ansible.builtin.linear, the play's task left as it was, the environment
templated for modules only) are in tests/unit/test_strategy_linear_inline.py: they need ansible-playbook.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from ansible.playbook.task import Task
from ansible.plugins.loader import init_plugin_loader
from ansible_collections.iconeus.tenant_toolkit.plugins.strategy import linear_inline as strategy

with warnings.catch_warnings():  # configured already when another test module did it first
    warnings.simplefilter("ignore")
    init_plugin_loader()


def task(action: str, args: Any = None, **keywords: Any) -> Task:
    return Task.load({"name": "t", action: {} if args is None else args, **keywords})


@pytest.mark.parametrize(
    "action",
    [
        "ansible.builtin.set_fact",
        "set_fact",
        "debug",
        "ansible.builtin.assert",
        "ansible.builtin.fail",
        "ansible.builtin.group_by",
        "ansible.builtin.include_tasks",
        "ansible.builtin.include_role",
        "ansible.builtin.validate_argument_spec",
        "iconeus.tenant_toolkit.tenant_validate",
        "iconeus.tenant_toolkit.ops_vars_validate",
        "iconeus.tenant_toolkit.tenant_cost_estimate",
    ],
)
def test_a_controller_only_action_runs_in_place(action: str) -> None:
    assert strategy.runs_inline(task(action))


@pytest.mark.parametrize(
    "action",
    [
        # Modules, and actions that run one, wait or prompt.
        "ansible.builtin.command",
        "ansible.builtin.uri",
        "ansible.builtin.pause",
        "ansible.builtin.wait_for",
        "ansible.builtin.add_host",
        "ansible.builtin.include_vars",
        "iconeus.tenant_toolkit.tenant_lock",
        "iconeus.tenant_toolkit.appstream_fleet",
        "amazon.aws.ec2_vpc_net",
        "ansible.builtin.set_stats",
        # It templates every variable named like a role's option, whatever names them.
        "iconeus.tenant_toolkit.role_variables_validate",
    ],
)
def test_anything_else_keeps_its_worker(action: str) -> None:
    assert not strategy.runs_inline(task(action))


@pytest.mark.parametrize(
    "keywords",
    [
        {"async": 30, "poll": 1},
        {"timeout": 5},
        {"delegate_to": "localhost"},
        {"until": "x is defined"},
        {"retries": 3},
        {"debugger": "on_failed"},
        {"loop": [1, 2], "loop_control": {"pause": 1}},
        {"with_pipe": "date"},
    ],
)
def test_a_task_that_waits_retries_or_delegates_keeps_its_worker(keywords: dict[str, Any]) -> None:
    assert strategy.runs_inline(task("ansible.builtin.set_fact", {"a": 1}))
    assert not strategy.runs_inline(task("ansible.builtin.set_fact", {"a": 1}, **keywords))


def test_a_loop_over_data_runs_in_place() -> None:
    assert strategy.runs_inline(task("ansible.builtin.set_fact", {"a": "{{ item }}"}, loop=[1, 2]))
    assert strategy.runs_inline(task("ansible.builtin.set_fact", {"a": "{{ item }}"}, with_items=[1, 2]))


@pytest.mark.parametrize(
    "template",
    [
        "{{ lookup('ansible.builtin.file', 'x') }}",
        "{{ query('ansible.builtin.varnames', '^a') }}",
        "{{ lookup('iconeus.tenant_toolkit.run_id') }}",
        "{{ q('iconeus.tenant_toolkit.known_tags') }}",
        "{{ seq(1) }}",  # not a lookup
    ],
)
def test_a_local_lookup_runs_in_place(template: str) -> None:
    assert strategy.runs_inline(task("ansible.builtin.set_fact", {"a": template}))


@pytest.mark.parametrize(
    "where",
    [
        {"args": {"a": "{{ lookup('iconeus.tenant_toolkit.tenant_secret', 'x') }}"}},
        {"args": {"a": "{{ query(\"amazon.aws.aws_ssm\", 'x') }}"}},
        {"args": {"a": "{{ lookup(name_in_a_variable) }}"}},
        {"args": {"a": "{{ lookup('file', 'x') }}"}},  # a short name another plugin may override
        {"args": {"a": "{{ lookup('ansible.builtin.pipe', 'date') }}"}},
        {"keywords": {"when": "lookup('iconeus.tenant_toolkit.tenant_secret', 'x') | length > 0"}},
        {"keywords": {"loop": "{{ query('iconeus.tenant_toolkit.tenant_secret', 'x') }}"}},
        {"keywords": {"vars": {"v": "{{ lookup('iconeus.tenant_toolkit.sandbox_health') }}"}}},
        {"keywords": {"changed_when": "lookup('iconeus.tenant_toolkit.tenant_secret', 'x') is defined"}},
    ],
)
def test_a_task_that_calls_out_keeps_its_worker(where: dict[str, Any]) -> None:
    action = where.get("action", "ansible.builtin.set_fact")
    assert not strategy.runs_inline(task(action, where.get("args", {"a": 1}), **where.get("keywords", {})))


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
    monkeypatch.setattr(strategy, "INTERNALS_ERROR", ImportError("no module named ansible._internal._task"))
    assert not strategy.inline_enabled({}, verified)
    assert "cannot be reached" in warned[-1]


# Variables as a host has them before templating: a task naming one is followed into its value.
VARIABLES = {
    "connection": "{{ lookup('iconeus.tenant_toolkit.tenant_environment', tenant='t', region='r') }}",
    "through": "{{ connection | default({}) }}",
    "deeper": ["{{ [through] }}"],
    "stored": {"password": "{{ query('iconeus.tenant_toolkit.tenant_secret', 'n') }}"},
    "run": "{{ lookup('iconeus.tenant_toolkit.run_id') }}",
    "plain": {"name": "acme", "text": "lookup('x') in data is not a template"},
    "secret_var": "{{ lookup('amazon.aws.secretsmanager_secret', 'n') }}",
    "loop_a": "{{ loop_b }}",
    "loop_b": "{{ loop_a }}",
}


@pytest.mark.parametrize(
    ("template", "inline"),
    [
        ("{{ connection }}", False),
        ("{{ through.AWS_REGION }}", False),
        ("{{ deeper | first }}", False),
        ("{{ stored.password }}", False),
        ("{{ hostvars[inventory_hostname].through }}", False),
        ("{{ run }}-{{ plain.name }}", True),
        ("{{ plain.text }}", True),
        ("{{ loop_a }}", True),  # a cycle ends
        ("{{ undefined_here }}", True),
        # An escaped character before the name (a literal block) hides neither the call nor the name.
        ("{{\nlookup('amazon.aws.aws_secret', 'y') }}", False),
        ("{{ x if y else\nsecret_var }}", False),
        ("{%\tif secret_var %}x{% endif %}", False),
        # A name in the text around the template, or an attribute of something else, is not followed.
        ("connection: {{ run }}", True),
        ("{{ plain.connection }}", True),
    ],
)
def test_the_variables_a_task_names_are_followed(template: str, inline: bool) -> None:
    assert strategy.runs_inline(task("ansible.builtin.set_fact", {"a": template}), VARIABLES) is inline


class FakeQueue:
    """The strategy's results queue; the first result sent cannot be (a value that does not pickle)."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send_task_result(self, raw: Any) -> None:
        if not self.sent and raw.task_fields:
            self.sent.append(None)
            raise TypeError("cannot pickle 'generator' object")
        self.sent.append(raw)


def test_a_result_that_cannot_be_sent_is_the_task_failure_not_the_run() -> None:
    from types import SimpleNamespace

    from ansible.executor.task_result import _RawTaskResult

    module = object.__new__(strategy.StrategyModule)
    module._final_q = FakeQueue()
    host, fact = SimpleNamespace(name="h1"), task("ansible.builtin.set_fact", {"a": 1})
    module._inline_results = [_RawTaskResult(host=host, task=fact, return_data={"a": 1}, task_fields={"x": 1})]
    module._send_inline_results()
    (failure,) = [raw for raw in module._final_q.sent if raw is not None]
    assert failure.host is host and failure.task is fact and failure.task_fields == {}
    assert failure._return_data["failed"] is True
    assert (
        failure._return_data["msg"] == "Task result omitted due to queue send failure: cannot pickle 'generator' object"
    )
    assert module._inline_results == []


def test_the_variables_are_followed_for_each_host() -> None:
    fact = task("ansible.builtin.set_fact", {"a": "{{ password }}"})
    decision = strategy.Decision(fact)
    assert decision.runs_inline({"password": "plain"})
    assert not decision.runs_inline({"password": "{{ lookup('amazon.aws.secretsmanager_secret', 'n') }}"})


@pytest.mark.parametrize(
    "keywords",
    [
        {"name": "{{ lookup('iconeus.tenant_toolkit.tenant_secret', 'x') }}"},
        {"loop": [1], "loop_control": {"label": "{{ lookup('iconeus.tenant_toolkit.tenant_secret', 'x') }}"}},
        {"ignore_errors": "{{ lookup('iconeus.tenant_toolkit.tenant_secret', 'x') | bool }}"},
        {"vars": {"v": "{{ connection }}"}},
    ],
)
def test_every_keyword_is_looked_at(keywords: dict[str, Any]) -> None:
    assert not strategy.runs_inline(task("ansible.builtin.set_fact", {"a": 1}, **keywords), VARIABLES)


def test_an_assertion_is_read_as_expressions() -> None:
    assert not strategy.runs_inline(task("ansible.builtin.assert", {"that": ["connection | length > 0"]}), VARIABLES)
    assert strategy.runs_inline(task("ansible.builtin.assert", {"that": ["plain | length > 0"]}), VARIABLES)
    # A plain message is not an expression.
    assert strategy.runs_inline(task("ansible.builtin.debug", {"msg": "the connection is set"}), VARIABLES)


def test_a_spec_check_is_followed_into_the_variables_its_options_name() -> None:
    spec = {"argument_spec": {"connection": {"type": "dict"}}}
    assert not strategy.runs_inline(task("ansible.builtin.validate_argument_spec", spec), VARIABLES)
    plain = {"argument_spec": {"plain": {"type": "dict"}}}
    assert strategy.runs_inline(task("ansible.builtin.validate_argument_spec", plain), VARIABLES)
