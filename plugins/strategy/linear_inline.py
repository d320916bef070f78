# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: linear_inline
short_description: The linear strategy, with the tasks that only compute on the controller run in its own process
version_added: 0.9.0
description:
  - "Runs plays exactly as C(ansible.builtin.linear) does (lock step per task, the same order, handlers, C(serial),
    C(any_errors_fatal), the same callbacks and results), with one difference: a task whose action only computes on
    the controller (the list below) runs in the controller's own process, by the same C(TaskExecutor) a worker
    would run, instead of in a worker process forked for it. Every other task (a module, an action that may run
    one, anything with C(async), C(timeout), C(delegate_to), C(until) or a prompt) goes to a worker as with
    C(linear)."
  - "Why: C(ansible-playbook) forks a worker for every task and host. For a task that sets a fact, checks a
    condition or prints a message, the fork costs more than the task (the copy-on-write faults of the worker and
    of the controller, the worker's start and exit): 25 to 35 ms of CPU each, about a third of a tenant's CPU in a
    no-op run of C(site.yml). Run in place, such a task costs what its templating costs."
  - "The actions run in place: C(ansible.builtin) C(set_fact), C(assert), C(fail), C(debug), C(group_by),
    C(include_tasks), C(include_role), C(validate_argument_spec), and this collection's C(tenant_validate),
    C(role_variables_validate), C(ops_vars_validate) and C(tenant_cost_estimate), which read only their arguments
    and local files. None of them runs a module, so the play's C(environment) (the tenant's AWS connection) is not
    templated for them: it applies to modules only, and the next module task templates it and checks it as
    before."
  - "A task run in place is a copy of the play's task (as a worker's is a copy in its own memory): what its
    execution writes on the task does not reach the play."
  - "With C(TENANT_TOOLKIT_INLINE_TASKS=false) in the controller's environment, every task forks its worker again
    (the plays that name this strategy included); nothing else changes."
  - "The strategy reaches into ansible-core's task execution, which ansible-core does not keep stable for
    strategy plugins (it prints a deprecation warning for any strategy outside C(ansible.builtin)). It runs tasks in
    place only under the ansible-core minor version it was verified with (the one C(requirements.txt) pins), and
    under any other it warns once and behaves as C(linear)."
notes:
  - "These tasks run one after the other in the controller's process, not side by side in workers. What they cost
    is their templating, a few milliseconds each, against a fork per task and host: with many tenants the run is
    still faster (tenants_scale in bench/README.md)."
  - "A lookup in such a task's arguments or condition runs in the controller's process as well. The collection's
    tasks of this kind read local data only; a lookup that waits on the network would hold up the other hosts'
    turn of that task."
author: Tenant toolkit maintainers (@tenant-toolkit)
"""

import os
import typing as t

from ansible import constants as C
from ansible._internal import _task
from ansible._internal._errors import _error_utils
from ansible.executor.task_executor import TaskExecutor
from ansible.executor.task_result import _RawTaskResult
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins import loader as plugin_loader
from ansible.plugins.strategy.linear import StrategyModule as LinearStrategyModule
from ansible.release import __version__ as ansible_core_version
from ansible.utils.display import Display

display = Display()

COLLECTION = "iconeus.tenant_toolkit"

# The ansible-core minor version whose task execution this strategy was verified against (requirements.txt pins
# it; tests/unit/test_strategy_linear_inline.py compares a run with ansible.builtin.linear's).
VERIFIED_CORE = "2.19"
SWITCH = "TENANT_TOOLKIT_INLINE_TASKS"


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
    return True


# Actions that compute on the controller only: no module, no connection used, no prompt, no sleep.
INLINE_ACTIONS = frozenset(
    (
        *C._ACTION_SET_FACT,
        *C._ACTION_DEBUG,
        *C._ACTION_ALL_INCLUDE_ROLE_TASKS,
        *C.add_internal_fqcns(("assert", "fail", "group_by", "validate_argument_spec")),
        *(
            f"{COLLECTION}.{name}"
            for name in ("tenant_validate", "role_variables_validate", "ops_vars_validate", "tenant_cost_estimate")
        ),
    )
)


def runs_inline(task: t.Any) -> bool:
    """Whether the strategy runs `task` in the controller's process (see DOCUMENTATION)."""
    action = getattr(task, "resolved_action", None) or task.action
    if action not in INLINE_ACTIONS:
        return False
    # Anything that waits, retries, delegates or runs in the background keeps its worker.
    return not (task.async_val or task.timeout or task.delegate_to or task.until or task.debugger)


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

    def _queue_task(self, host: t.Any, task: t.Any, task_vars: dict[str, t.Any], play_context: t.Any) -> None:
        if not (self._inline and runs_inline(task)):
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
            # A worker post-validates its own copy (the fork's); so does this run: the play's task keeps its
            # templates for the next host.
            copy = task.copy(exclude_parent=False, exclude_tasks=True)
            copy.__class__ = inline_class(type(task))
            with _task.TaskContext(copy):
                result = TaskExecutor(
                    host,
                    copy,
                    task_vars,
                    play_context,
                    self._loader,
                    plugin_loader.get_plugin_loader_namespace(),
                    self._final_q,
                    self._variable_manager,
                ).run()
            fields = copy.dump_attrs()
        except Exception as err:  # noqa: BLE001 - a worker reports it as the task's failure too (WorkerProcess)
            result, fields = _error_utils.result_dict_from_exception(err), {}
        # Only the host's name and the task's id cross the queue: the strategy finds its own objects by them.
        self._final_q.send_task_result(_RawTaskResult(host=host, task=copy, return_data=result, task_fields=fields))
        self._pending_results += 1
