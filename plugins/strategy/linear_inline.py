# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: linear_inline
short_description: The linear strategy, with the tasks that only compute on the controller run in its own process
version_added: 0.2.0
description:
  - "Runs plays as C(ansible.builtin.linear) does (lock step per task, the same order, handlers, C(serial),
    C(any_errors_fatal), the same results), with one difference: a task whose action only computes on the
    controller runs in the controller's own process, by the same C(TaskExecutor) a worker would run, instead of
    in a worker process forked for it."
  - "Why: C(ansible-playbook) forks a worker for every task and host. For a task that sets a fact, checks a
    condition or prints a message, the fork costs more than the task (the copy-on-write faults of the worker and
    of the controller, the worker's start and exit): 25 to 35 ms of CPU each, about a third of a tenant's CPU in a
    no-op run of C(site.yml). Run in place, such a task costs what its templating costs, 5 to 20 ms."
  - "Run in place: a task whose resolved action is C(ansible.builtin) C(set_fact), C(assert), C(fail), C(debug),
    C(group_by), C(include_tasks), C(include_role) or C(validate_argument_spec), or this collection's
    C(tenant_validate), C(ops_vars_validate) or C(tenant_cost_estimate) (these read only their arguments and local
    files), unless it has C(async), C(timeout), C(delegate_to), C(until), C(retries), a loop C(pause) or a
    C(debugger) (or the task debugger is enabled), or its keywords, variables or loop controls call a lookup outside
    a short list of lookups that read the controller's own data (LOCAL_LOOKUPS, by their full names:
    C(ansible.builtin) C(file), C(env), C(varnames), C(fileglob), C(first_found) and the loop lookups, this
    collection's C(run_id) and C(known_tags)), or a variable they name does, in its value as written or through the
    variables that value names (followed for each host; a task that names C(hostvars) or C(vars) is followed into
    all of the host's variables). The collection's variables of that kind: C(tenant_aws_environment), whose lookup
    assumes the tenant's role, and the roles' stored and generated passwords (Secrets Manager, the C(password)
    lookup). Those, and every module, keep their worker: a lookup that waits on AWS holds up no other host, and one
    that changes the process's environment (C(tenant_secret)) does it in a process of its own. A template made at
    run time (by a filter, or read from a file) is not seen."
  - "None of the actions run in place runs a module, so the play's C(environment) (the tenant's AWS connection)
    is not templated for them: it applies to modules only. A task run in place therefore reports an empty
    C(environment) to callbacks, and an environment that cannot be templated (for a tenant that
    C(playbooks/validate.yml) did not validate in this run) fails the next module task rather than the first task
    of the play."
  - "A task run in place is a copy of the play's task (and of its blocks), with a copy of the host's variables,
    as a worker has them in its own memory: what its execution writes on them does not reach the play. Its result
    is put on the results queue once every host has been given the task: each host's turn starts from the
    variables and groups the task found (with workers, a result can come back before the next host is given the
    task)."
  - "With C(TENANT_TOOLKIT_INLINE_TASKS=false) in the controller's environment, every task forks its worker again
    (the plays that name this strategy included); nothing else changes."
  - "The strategy reaches into ansible-core's task execution, which ansible-core does not keep stable for
    strategy plugins (it prints a deprecation warning for any strategy outside C(ansible.builtin)). It runs tasks in
    place only under the ansible-core minor version it was verified with (the one C(requirements.txt) pins); under
    any other, or when the ansible-core internals it uses cannot be imported, it warns once and behaves as
    C(linear)."
notes:
  - "The tasks run in place run one after the other in the controller's process, not side by side in workers;
    with many tenants the run is still faster (tenants_scale in bench/README.md)."
  - "Callbacks that recognise a lock-step strategy by its name (C(ansible.posix.json) and C(jsonl) look for
    C(linear)) list each task once per host; the results are the same."
author: Tenant toolkit maintainers (@tenant-toolkit)
"""

import os
import re
import typing as t

from ansible import constants as C
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins import loader as plugin_loader
from ansible.plugins.strategy.linear import StrategyModule as LinearStrategyModule
from ansible.release import __version__ as ansible_core_version
from ansible.utils.display import Display

try:  # ansible-core's internals, as its WorkerProcess uses them: without them, every task has its worker
    from ansible._internal import _task
    from ansible._internal._errors import _error_utils
    from ansible.executor.task_executor import TaskExecutor
    from ansible.executor.task_result import _RawTaskResult
except (ImportError, AttributeError) as err:  # pragma: no cover - another ansible-core
    INTERNALS_ERROR: Exception | None = err
else:
    INTERNALS_ERROR = None

display = Display()

COLLECTION = "iconeus.tenant_toolkit"

# The ansible-core minor version whose task execution this strategy was verified against (requirements.txt pins
# it; tests/unit/test_strategy_linear_inline.py compares a run with ansible.builtin.linear's).
VERIFIED_CORE = "2.19"
SWITCH = "TENANT_TOOLKIT_INLINE_TASKS"

# Actions that compute on the controller only: no module, no connection used, no prompt, no sleep. By their
# resolved name: a short name a local action plugin overrides resolves to ansible.legacy.*, not listed.
INLINE_ACTIONS = frozenset(
    (
        *(
            f"ansible.builtin.{name}"
            for name in (
                "set_fact",
                "debug",
                "assert",
                "fail",
                "group_by",
                "include_tasks",
                "include_role",
                "validate_argument_spec",
            )
        ),
        *(f"{COLLECTION}.{name}" for name in ("tenant_validate", "ops_vars_validate", "tenant_cost_estimate")),
    )
)

ASSERTS = frozenset(("ansible.builtin.assert",))
SPEC_CHECKS = frozenset(("ansible.builtin.validate_argument_spec",))

# Lookups that read the controller's own data (files, variables, its environment) and change nothing: a task
# that calls any other (or a lookup named by a variable) keeps its worker.
LOOP_LOOKUPS = ("items", "list", "dict", "indexed_items", "together", "nested", "sequence", "subelements")
LOCAL_LOOKUPS = frozenset(
    (
        *(f"ansible.builtin.{name}" for name in ("file", "env", "varnames", "fileglob", "first_found")),
        *(f"ansible.builtin.{name}" for name in LOOP_LOOKUPS),
        f"{COLLECTION}.run_id",
        f"{COLLECTION}.known_tags",
    )
)
LOOKUP_CALL = re.compile(r"\b(?:lookup|query|q)\s*\(\s*(?:(['\"])([\w.]+)\1)?")
# The Jinja parts of a template; a name one reads (not an attribute, `.name`, of something else).
JINJA = re.compile(r"\{\{(.*?)\}\}|\{%(.*?)%\}", re.DOTALL)
NAME = re.compile(r"(?<![\w.])[A-Za-z_][A-Za-z0-9_]*")
# Names that stand for many variables at once: a task that uses one is followed into all of the host's.
ALL_VARIABLES = frozenset(("hostvars", "vars"))
# The keywords that are Jinja expressions whole, without delimiters.
CONDITIONALS = frozenset(("when", "changed_when", "failed_when", "until", "break_when"))


def strings(value: t.Any) -> list[str]:
    """The strings of a value (a template, or a structure of them), keys apart."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings(item)]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [text for item in value for text in strings(item)]
    return []


def expressions(value: t.Any, whole: bool = False) -> list[str]:
    """The Jinja expressions of a value: what its templates hold between delimiters, or each string whole when
    the value is a conditional."""
    found: list[str] = []
    for text in strings(value):
        parts = [first or second for first, second in JINJA.findall(text)]
        found.extend(parts if parts or not whole else [text])
    return found


def calls_outside(expression: str) -> bool:
    """Whether an expression calls a lookup outside LOCAL_LOOKUPS (or one named by a variable)."""
    return any(call.group(2) not in LOCAL_LOOKUPS for call in LOOKUP_CALL.finditer(expression))


def names_call_out(names: t.Iterable[str], variables: t.Mapping[str, t.Any]) -> bool:
    """Whether the values of these variables of a host (as written) call a lookup outside LOCAL_LOOKUPS, directly
    or through the variables they name. Followed for each host: a value may name a variable another host does not
    have, or has with a lookup."""
    known: dict[int, bool] = {}

    def follow(names: set[str]) -> bool:
        if names & ALL_VARIABLES:
            names = {name for name in variables if isinstance(name, str)}
        for name in names:
            if name not in variables:
                continue
            value = variables[name]
            if id(value) in known:
                if known[id(value)]:
                    return True
                continue
            known[id(value)] = False  # while it is followed: a cycle ends here
            parts = expressions(value)
            if any(calls_outside(part) for part in parts) or follow({n for part in parts for n in NAME.findall(part)}):
                known[id(value)] = True
                return True
        return False

    return follow(set(names))


def task_expressions(task: t.Any) -> list[str]:
    """The Jinja expressions of every keyword the task's execution templates (all but the environment, never
    templated for a task run in place), of its variables and of its loop's controls, before templating."""
    found: list[str] = []
    for name in task.fattributes:
        if name == "environment":
            continue
        value = getattr(task, name, None)
        if name == "args" and isinstance(value, dict) and getattr(task, "resolved_action", None) in ASSERTS:
            found.extend(expressions({k: v for k, v in value.items() if k != "that"}))
            found.extend(expressions(value.get("that"), whole=True))
        else:
            found.extend(expressions(value, whole=name in CONDITIONALS))
    found.extend(expressions(task.get_vars()))
    control = task.loop_control
    if control is not None:
        for name in control.fattributes:
            found.extend(expressions(getattr(control, name, None), whole=name in CONDITIONALS))
    return found


def inline_enabled(environ: t.Mapping[str, str] | None = None, core_version: str = ansible_core_version) -> bool:
    """Whether tasks may run in place in this run: not switched off, and the verified ansible-core."""
    environ = os.environ if environ is None else environ
    if not boolean(environ.get(SWITCH, "true"), strict=False):
        return False
    if core_version.split(".")[:2] != VERIFIED_CORE.split("."):
        display.warning(
            f"linear_inline: verified with ansible-core {VERIFIED_CORE} only, this is {core_version}: every task "
            "runs in a worker of its own, as with ansible.builtin.linear"
        )
        return False
    if INTERNALS_ERROR is not None:
        display.warning(
            f"linear_inline: ansible-core's task execution cannot be reached ({INTERNALS_ERROR}): every task runs "
            "in a worker of its own, as with ansible.builtin.linear"
        )
        return False
    return True


class Decision:
    """What decides whether a task runs in place, read once from its keywords: whether it may at all, and the
    names its expressions read (followed into each host's variables)."""

    def __init__(self, task: t.Any) -> None:
        self.names: frozenset[str] = frozenset()
        self.eligible = eligible(task)
        if self.eligible:
            found = task_expressions(task)
            self.eligible = not any(calls_outside(part) for part in found)
            names = {name for part in found for name in NAME.findall(part)}
            if task.resolved_action in SPEC_CHECKS and isinstance(task.args, dict):
                # Without provided_arguments, it templates the host's variables named like the spec's options.
                names.update(str(name) for name in (task.args.get("argument_spec") or {}))
            self.names = frozenset(names)

    def runs_inline(self, variables: t.Mapping[str, t.Any]) -> bool:
        return self.eligible and not names_call_out(self.names, variables)


def eligible(task: t.Any) -> bool:
    """Whether the task's action and keywords let it run in place (see DOCUMENTATION)."""
    if getattr(task, "resolved_action", None) not in INLINE_ACTIONS:
        return False
    # Anything that waits, retries, delegates or runs in the background keeps its worker.
    if task.async_val or task.timeout or task.delegate_to or task.until or task.debugger or C.ENABLE_TASK_DEBUGGER:
        return False
    if task.retries is not None or getattr(task.loop_control, "pause", 0):
        return False
    loop_with = task.loop_with
    return not loop_with or (loop_with if "." in loop_with else f"ansible.builtin.{loop_with}") in LOCAL_LOOKUPS


def runs_inline(task: t.Any, variables: t.Mapping[str, t.Any] | None = None) -> bool:
    """Whether the strategy runs `task` in the controller's process for a host with these `variables`."""
    return Decision(task).runs_inline(variables or {})


def _no_environment(self: t.Any, attribute: t.Any, value: t.Any, templar: t.Any) -> dict[str, str]:
    """The environment of a task that runs no module: never templated (see DOCUMENTATION)."""
    return {}


# One subclass per task class (Task, TaskInclude, IncludeRole, Handler...), made once: a copy of the task takes it,
# and so does every copy TaskExecutor makes of that copy (one per loop item: Base.copy keeps the class).
_INLINE_CLASSES: dict[type, type] = {}


def inline_class(cls: type) -> type:
    made = _INLINE_CLASSES.get(cls)
    if made is None:
        made = type(cls.__name__, (cls,), {"_post_validate_environment": _no_environment, "__module__": __name__})
        _INLINE_CLASSES[cls] = made
    return made


class StrategyModule(LinearStrategyModule):
    """ansible.builtin.linear, with the controller-only tasks run in the controller's process."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._inline = inline_enabled()
        # What decides for each task (by its id), read once from its keywords; the variables are followed for
        # each host.
        self._decisions: dict[str, Decision] = {}
        # Results of tasks run in place, put on the queue when the strategy waits for the task's results.
        self._inline_results: list[t.Any] = []

    def _runs_inline(self, task: t.Any, task_vars: t.Mapping[str, t.Any]) -> bool:
        try:
            decision = self._decisions.get(task._uuid)
            if decision is None:
                decision = self._decisions[task._uuid] = Decision(task)
            return decision.runs_inline(task_vars)
        except Exception as err:  # noqa: BLE001 - undecided: the worker, as with linear
            display.vvv(f"linear_inline: {task.get_name()} runs in a worker ({err})")
            return False

    def _queue_task(self, host: t.Any, task: t.Any, task_vars: dict[str, t.Any], play_context: t.Any) -> None:
        if not (self._inline and self._runs_inline(task, task_vars)):
            super()._queue_task(host, task, task_vars, play_context)
            return
        # The bookkeeping of StrategyBase._queue_task, without a worker: the result comes back through the
        # same queue, read by the same thread, and is processed as a worker's is.
        self._queued_task_cache[(host.name, task._uuid)] = {
            "host": host,
            "task": task,
            "task_vars": task_vars,
            "play_context": play_context,
        }
        self._tqm.send_callback("v2_runner_on_start", host, task)
        copy = task
        try:
            # A worker post-validates its own copy (the fork's) with its own copy of the variables; so does this
            # run: the play's task keeps its templates for the next host.
            copy = task.copy(exclude_parent=False, exclude_tasks=True)
            copy.__class__ = inline_class(type(task))
            with _task.TaskContext(copy):
                result = TaskExecutor(
                    host,
                    copy,
                    dict(task_vars),
                    play_context,
                    self._loader,
                    plugin_loader.get_plugin_loader_namespace(),
                    self._final_q,
                    self._variable_manager,
                ).run()
            fields = copy.dump_attrs()
        except Exception as err:  # noqa: BLE001 - the task's failure, not the run's
            result, fields = _error_utils.result_dict_from_exception(err), {}
        self._inline_results.append(_RawTaskResult(host=host, task=copy, return_data=result, task_fields=fields))
        self._pending_results += 1

    def _send_inline_results(self) -> None:
        """Put the results of the tasks run in place on the queue (only the host's name and the task's id cross
        it: the strategy finds its own objects by them); one that cannot be sent is the task's failure, as a
        worker reports it (WorkerProcess._run)."""
        pending, self._inline_results = self._inline_results, []
        for raw in pending:
            try:
                self._final_q.send_task_result(raw)
            except Exception as err:  # noqa: BLE001
                wrapped = RuntimeError("Task result omitted due to queue send failure.")
                wrapped.__cause__ = err
                failure = _error_utils.result_dict_from_exception(wrapped)
                self._final_q.send_task_result(
                    _RawTaskResult(host=raw.host, task=raw.task, return_data=failure, task_fields={})
                )

    def _wait_on_pending_results(self, iterator: t.Any) -> list[t.Any]:
        self._send_inline_results()
        return super()._wait_on_pending_results(iterator)
