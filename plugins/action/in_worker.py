# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run the collection's modules in the worker process when the module's host is the controller itself.

Every tenant is a host with the `local` connection and `ansible_python_interpreter` set to the controller's
own Python (`group_vars/tenants/connection.yml`): a module's "remote" process is a second Python process on the
controller, started for every task and tenant. It costs about 0.3 s of CPU before the module's first line
runs: an interpreter, the AnsiballZ payload unpacked, its module_utils compiled, boto3 and botocore imported.
Eleven module runs per tenant and no-op run made that about half of a tenant's CPU time.

`meta/runtime.yml` routes the collection's Python modules to this action plugin. When the module would run
on the controller under the controller's own Python, it runs it in the worker process Ansible forked for
this task and host, the way the AnsiballZ wrapper runs it in its own process:

- the module gets the same arguments, internal `_ansible_*` options included (`_update_module_args`), encoded
  with the serialisation profile AnsiballZ uses, and runs as `__main__` (`runpy`) with module_utils in their
  target-side behaviour (warnings and deprecations go into the result, as in a module process);
- the task's `environment` (the tenant's AWS profile, credentials file, region and endpoint) is set in the
  worker's environment while the module runs; the worker is forked for this one task and host and exits
  after it, so nothing is shared between tenants or tasks;
- its output is parsed by the same `_parse_returned_data` as a module process's output; an exception the
  module does not handle is reported as AnsiballZ reports it.

Anything else runs the normal way, as a module process: another connection, `become`, `async`, another
interpreter, another collection's module, or the variable `tenant_toolkit_modules_in_worker` set to false
(a switch for troubleshooting, documented in docs/operator-guide.md).
"""

from __future__ import annotations

import io
import json
import os
import runpy
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from typing import Any

from ansible import constants as C
from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils import basic
from ansible.module_utils.common.json import Direction, get_module_encoder
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible.utils.display import Display
from ansible.vars.clean import remove_internal_keys

try:  # how the AnsiballZ wrapper reports a module's unhandled exception (ansible-core 2.19)
    from ansible.module_utils._internal._ansiballz._loader import _handle_exception
except ImportError:  # another ansible-core: every module runs the normal way
    _handle_exception = None

display = Display()

# The collection whose modules may run here, and the Python package of its modules.
COLLECTION = "iconeus.tenant_toolkit"
MODULES_PACKAGE = "ansible_collections.iconeus.tenant_toolkit.plugins.modules"
# The serialisation profile AnsiballZ uses for a module that declares none; the collection's modules declare none.
PROFILE = "legacy"
SWITCH = "tenant_toolkit_modules_in_worker"


class ActionModule(NormalAction):
    """The `normal` action plugin, whose module runs in the worker when its host is this controller's Python."""

    def _in_worker_reason(self, module_name: str | None, task_vars: dict[str, Any], wrap_async: Any) -> str | None:
        """None when the module can run in the worker, else why it runs as a module process."""
        if _handle_exception is None:
            return "this ansible-core does not have the AnsiballZ loader this plugin follows"
        if module_name not in (None, self._task.action):
            return "another module than the task's"
        resolved = self._task.resolved_action or ""
        if resolved.rpartition(".")[0] != COLLECTION:
            return f"{resolved or self._task.action} is not a module of {COLLECTION}"
        if wrap_async or self._task.async_val:
            return "async"
        if getattr(self._connection, "transport", None) != "local":
            return "the connection is not local"
        if self._play_context.become:
            return "become"
        switch = task_vars.get(SWITCH, True)
        if not boolean(self._templar.template(switch), strict=False):
            return f"{SWITCH} is false"
        interpreter = C.config.get_config_value("INTERPRETER_PYTHON", variables=task_vars)
        interpreter = to_text(self._templar.template(interpreter)).strip()
        if os.path.normpath(interpreter) != os.path.normpath(sys.executable):
            return f"the module's interpreter ({interpreter}) is not the controller's ({sys.executable})"
        return None

    def _execute_module(
        self,
        module_name=None,
        module_args=None,
        tmp=None,
        task_vars=None,
        persist_files=False,
        delete_remote_tmp=None,
        wrap_async=False,
        ignore_unknown_opts: bool = False,
    ):
        task_vars = task_vars if task_vars is not None else {}
        reason = self._in_worker_reason(module_name, task_vars, wrap_async)
        if reason is not None:
            display.vvv(f"{self._task.action} runs as a module process: {reason}")
            return super()._execute_module(
                module_name=module_name,
                module_args=module_args,
                tmp=tmp,
                task_vars=task_vars,
                persist_files=persist_files,
                delete_remote_tmp=delete_remote_tmp,
                wrap_async=wrap_async,
                ignore_unknown_opts=ignore_unknown_opts,
            )
        return self._execute_in_worker(task_vars, ignore_unknown_opts)

    def _execute_in_worker(self, task_vars: dict[str, Any], ignore_unknown_opts: bool) -> dict[str, Any]:
        module_name = self._task.action
        module_args = self._task.args
        self._update_module_args(module_name, module_args, task_vars, ignore_unknown_opts=ignore_unknown_opts)
        environment: dict[str, Any] = {}
        # As on a module process's command line at -vvv (the task's environment holds no secret: group_vars).
        shown = self._compute_environment_string(environment)
        module_fqn = f"{MODULES_PACKAGE}.{self._task.resolved_action.rpartition('.')[2]}"
        display.vvv(f"Running {module_fqn} in the worker process (pid {os.getpid()}) with the environment: {shown}")

        with self._module_tmpdir(module_args) as tmpdir:
            module_args["_ansible_tmpdir"] = tmpdir
            encoded = json.dumps(
                {"ANSIBLE_MODULE_ARGS": module_args}, cls=get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
            )
            with _environment(environment):
                res = _run_module(module_fqn, encoded.encode())

        data = self._parse_returned_data(res, PROFILE)
        # As _execute_module does with a module process's result.
        data.pop("_ansible_suppress_tmpdir_delete", None)
        if "results" in data and (not isinstance(data["results"], Sequence) or isinstance(data["results"], str)):
            data["ansible_module_results"] = data.pop("results")
            display.warning("Found internal 'results' key in module return, renamed to 'ansible_module_results'.")
        remove_internal_keys(data)
        for stream in ("stdout", "stderr"):
            if stream in data and f"{stream}_lines" not in data:
                data[f"{stream}_lines"] = (data.get(stream) or "").splitlines()
        return data

    @contextmanager
    def _module_tmpdir(self, module_args: dict[str, Any]) -> Iterator[str]:
        """The module's temporary directory (AnsibleModule.tmpdir), removed after it unless keep_remote_files.

        A module process removes a directory it made itself at exit; the worker exits without running exit
        handlers, so the directory is made and removed here, under the remote_tmp a module process would use.
        """
        base = os.path.expanduser(os.path.expandvars(module_args.get("_ansible_remote_tmp") or "~/.ansible/tmp"))
        os.makedirs(base, mode=0o700, exist_ok=True)
        tmpdir = tempfile.mkdtemp(prefix="ansible-moduletmp-", dir=base)
        try:
            yield tmpdir
        finally:
            if not module_args.get("_ansible_keep_remote_files"):
                shutil.rmtree(tmpdir, ignore_errors=True)


@contextmanager
def _environment(environment: dict[str, Any]) -> Iterator[None]:
    """The task's environment set in this (worker) process while the module runs, then restored."""
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update({name: to_text(value) for name, value in environment.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run_module(module_fqn: str, params: bytes) -> dict[str, Any]:
    """Run the module as `__main__` the way the AnsiballZ wrapper does; its exit status and output."""
    if module_fqn.rpartition(".")[0] != MODULES_PACKAGE:
        raise ValueError(f"{module_fqn} is not a module of {COLLECTION}")
    stdout, stderr = io.StringIO(), io.StringIO()
    saved_args = (basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE)
    saved_controller = module_utils_internal.is_controller
    basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE = params, PROFILE
    # module_utils behave as in a module process: warnings and deprecations go into the result, which is
    # encoded with the module-side profile, instead of going to the controller's display.
    module_utils_internal.is_controller = False
    rc = 0
    try:
        with redirect_stdout(stdout), redirect_stderr(stderr):
            try:
                runpy.run_module(
                    module_fqn,
                    init_globals={"_module_fqn": module_fqn, "_modlib_path": None},
                    run_name="__main__",
                    alter_sys=True,
                )
                raise RuntimeError("New-style module did not handle its own exit.")
            except SystemExit as ex:
                rc = _exit_status(ex.code)
            except Exception as ex:  # noqa: BLE001 - reported as AnsiballZ reports it (SystemExit follows)
                try:
                    _handle_exception(ex, PROFILE)
                except SystemExit as reported:
                    rc = _exit_status(reported.code)
    finally:
        module_utils_internal.is_controller = saved_controller
        basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE = saved_args
    return {"rc": rc, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}


def _exit_status(code: Any) -> int:
    """A process's exit status for sys.exit(code)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    return 1
