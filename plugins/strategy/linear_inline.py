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
    C(tenant_validate), C(role_variables_validate), C(ops_vars_validate) or C(tenant_cost_estimate) (these read only
    their arguments and local files), unless it has C(async), C(timeout), C(delegate_to), C(until), C(retries), a
    loop C(pause) or a C(debugger) (or the task debugger is enabled), or it calls a lookup outside a short list of
    lookups that read the controller's own data (LOCAL_LOOKUPS: C(file), C(env), C(varnames), C(vars), the loop
    lookups, this collection's C(run_id) and C(known_tags)), in its arguments, conditions, loop or variables, or
    through the values of the variables they name, as written (C(tenant_aws_environment), whose lookup assumes the
    tenant's role, or a role's stored-password variable, whose lookup reads Secrets Manager). Those, and every
    module, keep their worker: a lookup that waits on AWS holds up no other host, and one that changes the process's
    environment (C(tenant_secret)) does it in a process of its own. The decision is made once per task, with the
    variables of the first host it is queued for."
  - "None of the actions run in place runs a module, so the play's C(environment) (the tenant's AWS connection)
    is not templated for them: it applies to modules only. A task run in place therefore reports an empty
    C(environment) to callbacks, and an environment that cannot be templated (for a tenant that
    C(playbooks/validate.yml) did not validate in this run) fails the next module task rather than the first task
    of the play."
  - "A task run in place is a copy of the play's task (and of its blocks), with a copy of the host's variables,
    as a worker has them in its own memory: what its execution writes on them does not reach the play. Its result
    is put on the results queue once every host has been given the task, as the results of workers come back
    after they were all started: each host's turn starts from the variables and groups the task found."
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
        *(
            f"{COLLECTION}.{name}"
            for name in ("tenant_validate", "role_variables_validate", "ops_vars_validate", "tenant_cost_estimate")
        ),
    )
)

# Lookups that read the controller's own data (files, variables, its environment) and change nothing: a task
# that calls any other (or a lookup named by a variable) keeps its worker.
LOOP_LOOKUPS = ("items", "list", "dict", "indexed_items", "together", "nested", "sequence", "subelements")
LOCAL_LOOKUPS = frozenset(
    (
        *(f"ansible.builtin.{name}" for name in ("file", "env", "varnames", "vars", "fileglob", "first_found")),
        *(f"ansible.builtin.{name}" for name in LOOP_LOOKUPS),
        f"{COLLECTION}.run_id",
        f"{COLLECTION}.known_tags",
    )
)
LOOKUP_CALL = re.compile(r"\b(?:lookup|query|q)\s*\(\s*(?:(['\"])([\w.]+)\1)?")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def calls_outside(text: str) -> bool:
    """Whether a template calls a lookup outside LOCAL_LOOKUPS (or one named by a variable)."""
    return any(call.group(2) not in LOCAL_LOOKUPS for call in LOOKUP_CALL.finditer(text))


def calls_out(text: str, variables: t.Mapping[str, t.Any], seen: set[str] | None = None) -> bool:
    """Whether a template calls a lookup outside LOCAL_LOOKUPS, itself or through the variables it names
    (their values as written: a template that names a variable whose value calls a lookup calls it too)."""
    if calls_outside(text):
        return True
    seen = set() if seen is None else seen
    for name in set(IDENTIFIER.findall(text)) - seen:
        seen.add(name)
        value = variables.get(name) if name in variables else None
        if isinstance(value, (str, list, tuple, dict)):
            written = repr(value)
            if ("{{" in written or "{%" in written) and calls_out(written, variables, seen):
                return True
    return False


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


def runs_inline(task: t.Any, variables: t.Mapping[str, t.Any] | None = None) -> bool:
    """Whether the strategy runs `task` in the controller's process (see DOCUMENTATION); `variables` are the
    host's, whose values, as written, are followed from the names the task's templates use."""
    if getattr(task, "resolved_action", None) not in INLINE_ACTIONS:
        return False
    # Anything that waits, retries, delegates or runs in the background keeps its worker.
    if task.async_val or task.timeout or task.delegate_to or task.until or task.debugger or C.ENABLE_TASK_DEBUGGER:
        return False
    if task.retries is not None or getattr(task.loop_control, "pause", 0):
        return False
    loop_with = task.loop_with
    if loop_with and f"ansible.builtin.{loop_with}" not in LOCAL_LOOKUPS:
        return False
    raw = (task.args, task.when, task.loop, task.get_vars(), task.changed_when, task.failed_when)
    return not calls_out(repr(raw), variables or {})


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
        # Whether each task (by its id) runs in place: decided once, from its raw fields and the variables of the
        # first host it is queued for.
        self._inline_tasks: dict[str, bool] = {}
        # Results of tasks run in place, put on the queue when the strategy waits for the task's results.
        self._inline_results: list[t.Any] = []

    def _runs_inline(self, task: t.Any, task_vars: t.Mapping[str, t.Any]) -> bool:
        decided = self._inline_tasks.get(task._uuid)
        if decided is None:
            decided = self._inline_tasks[task._uuid] = runs_inline(task, task_vars)
        return decided

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
