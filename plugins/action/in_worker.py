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
this task and host (ansible-core forks one per task and host), the way the AnsiballZ wrapper runs it in its
own process:

- the module gets the same arguments, internal `_ansible_*` options included (`_update_module_args`), encoded
  with the serialisation profile AnsiballZ uses, and runs as `__main__` (`runpy`) with module_utils in their
  target-side behaviour (warnings and deprecations go into the result, as in a module process);
- the task's `environment` (the tenant's AWS profile, credentials file, region and endpoint) is set in the
  worker's environment while the module runs, then restored, as are the working directory, the locale and
  module_utils' per-run state (parsed arguments, warnings, deprecations). The worker serves one task of one
  host: nothing passes from one tenant to another. The items of a loop (and the attempts of `until`) run one
  after the other in that worker, each with its own arguments, environment and warnings;
- its output is parsed by the same `_parse_returned_data` as a module process's output; an exception the
  module does not handle is reported as AnsiballZ reports it;
- its botocore sessions read the AWS models through the loader the controller filled once for the run
  (plugin_utils/botocore_models.py), each session with its own credentials, region and configuration (a session
  with another data path gets a loader of its own).

Anything else runs the normal way, as a module process: another connection, `become`, `async`, a task
`timeout` (it would interrupt the module between two AWS calls instead of leaving the module process to
finish), another interpreter, an `environment` that sets what a process reads only when it starts
(`PYTHON*`, `LANG*`, `LC_*`, `TZ`, `LD_*`, and `TMP*`/`TEMP`, which `tempfile` reads once per process),
AnsiballZ's debugger or coverage extensions, `keep_remote_files`, another collection's module, another
ansible-core than 2.19 (this follows its AnsiballZ loader), or the variable `tenant_toolkit_modules_in_worker`
set to false (a switch for troubleshooting, docs/operator-guide.md). `-vvv` says which way each module ran
and why.
"""

from __future__ import annotations

import io
import json
import locale
import os
import runpy
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout, suppress
from typing import Any

from ansible import constants as C
from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils import basic
from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.common.json import Direction, get_module_encoder
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible.release import __version__ as ansible_core_version
from ansible.utils.display import Display
from ansible.vars.clean import remove_internal_keys
from ansible_collections.iconeus.tenant_toolkit.plugins.plugin_utils import botocore_models, plugin_preload

# What this plugin follows of ansible-core 2.19's AnsiballZ wrapper: how it reports a module's unhandled
# exception, its extensions (debuggers, coverage) and module_utils' per-run state. Another ansible-core runs
# every module the normal way.
FOLLOWED_CORE = "2.19."
try:
    from ansible._internal._ansiballz._builder import ExtensionManager
    from ansible._internal._errors._alarm_timeout import AnsibleTimeoutError
    from ansible.module_utils._internal._ansiballz._loader import _handle_exception
except ImportError:
    _handle_exception = None
    AnsibleTimeoutError = KeyboardInterrupt  # never raised as such: no module runs here without the loader

display = Display()

# The collection whose modules may run here, and the Python package of its modules.
COLLECTION = "iconeus.tenant_toolkit"
MODULES_PACKAGE = "ansible_collections.iconeus.tenant_toolkit.plugins.modules"
# The serialisation profile AnsiballZ uses for a module that declares none; the collection's modules declare none
# (plugin_preload imports it ahead of the workers).
PROFILE = plugin_preload.MODULE_PROFILE
SWITCH = "tenant_toolkit_modules_in_worker"
# Environment variables Python (or the C library) reads when a process starts: set in a running worker, they
# would not do what they do for a module process.
STARTUP_ENVIRONMENT = ("PYTHON", "LANG", "LC_", "TZ", "LD_", "TMPDIR", "TEMP", "TMP")
# Task environment values -vvv shows (a module process's command line shows every value): the AWS connection
# settings the toolkit's plays set. Any other variable is shown by name only.
SHOWN_VALUES = frozenset(
    {
        "AWS_PROFILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_CONFIG_FILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "TENANT_PROGRESS_FILE",
    }
)


class ActionModule(NormalAction):
    """The `normal` action plugin, whose module runs in the worker when its host is this controller's Python."""

    def _in_worker_reason(
        self, module_name: str | None, module_args: Any, task_vars: dict[str, Any], wrap_async: Any
    ) -> str | None:
        """None when the module can run in the worker, else why it runs as a module process."""
        if _handle_exception is None or not ansible_core_version.startswith(FOLLOWED_CORE):
            return (
                f"ansible-core {ansible_core_version} is not the {FOLLOWED_CORE}x whose AnsiballZ wrapper this follows"
            )
        if module_name not in (None, self._task.action) or module_args is not None:
            return "another module or other arguments than the task's"
        resolved = self._task.resolved_action or ""
        if resolved.rpartition(".")[0] != COLLECTION:
            return f"{resolved or self._task.action} is not a module of {COLLECTION}"
        if wrap_async or self._task.async_val:
            return "async"
        if self._task.timeout:
            return "the task has a timeout"
        if getattr(self._connection, "transport", None) != "local":
            return "the connection is not local"
        if self._play_context.become or getattr(self._connection, "become", None) is not None:
            return "become"
        if C.DEFAULT_KEEP_REMOTE_FILES:
            return "keep_remote_files"
        if ExtensionManager.create(task_vars).extension_names:
            return "an AnsiballZ extension (debugger or coverage) is configured"
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
        reason = self._in_worker_reason(module_name, module_args, task_vars, wrap_async)
        environment: dict[str, Any] = {}
        if reason is None:
            self._compute_environment_string(environment)
            startup = sorted(str(name) for name in environment if str(name).startswith(STARTUP_ENVIRONMENT))
            if startup:
                reason = f"the environment sets {', '.join(startup)}, which a process reads when it starts"
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
        return self._execute_in_worker(task_vars, environment, ignore_unknown_opts)

    def _execute_in_worker(
        self, task_vars: dict[str, Any], environment: dict[str, Any], ignore_unknown_opts: bool
    ) -> dict[str, Any]:
        module_name = self._task.action
        module_args = self._task.args
        self._update_module_args(module_name, module_args, task_vars, ignore_unknown_opts=ignore_unknown_opts)
        module_fqn = f"{MODULES_PACKAGE}.{self._task.resolved_action.rpartition('.')[2]}"
        shown = " ".join(
            f"{name}={value if name in SHOWN_VALUES else '(value not shown)'}" for name, value in environment.items()
        )
        display.vvv(f"Running {module_fqn} in the worker process (pid {os.getpid()}) with the environment: {shown}")

        tmpdir = self._module_tmpdir(module_args)
        module_args["_ansible_tmpdir"] = tmpdir
        try:
            encoded = json.dumps(
                {"ANSIBLE_MODULE_ARGS": module_args}, cls=get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
            )
            with _environment(environment):
                res = _run_module(module_fqn, encoded.encode())
            data = self._parse_returned_data(res, PROFILE)
        finally:
            # Removed as a module process's own directory is (nothing async runs here to keep it for).
            shutil.rmtree(tmpdir, ignore_errors=True)
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

    def _module_tmpdir(self, module_args: dict[str, Any]) -> str:
        """The module's temporary directory (AnsibleModule.tmpdir), under the remote_tmp a module process uses.

        A module process removes a directory it made itself when it exits; the worker exits without running exit
        handlers, so the directory is made here and removed after the run (keep_remote_files runs modules as
        processes).
        """
        base = os.path.expanduser(os.path.expandvars(module_args.get("_ansible_remote_tmp") or "~/.ansible/tmp"))
        os.makedirs(base, mode=0o700, exist_ok=True)
        return tempfile.mkdtemp(prefix="ansible-moduletmp-", dir=base)


@contextmanager
def _environment(environment: dict[str, Any]) -> Iterator[None]:
    """The task's environment set in this (worker) process while the module runs, then restored."""
    saved = os.environ.copy()
    try:
        # The whole environment is put back: the task's variables, and whatever the module set itself
        # (AnsibleModule sets LANG and LC_* when the locale is not usable).
        os.environ.update({to_text(name): to_text(value) for name, value in environment.items()})
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _run_module(module_fqn: str, params: bytes) -> dict[str, Any]:
    """Run the module as `__main__` the way the AnsiballZ wrapper does; its exit status and output.

    module_utils behave as in a module process (`is_controller` false: warnings and deprecations go into the
    result, encoded with the module-side profile, instead of to the controller's display). Their per-run state
    starts empty and, like the working directory, is put back afterwards, so that the next item of a loop, or
    the worker's own code, finds it as it was.
    """
    if module_fqn.rpartition(".")[0] != MODULES_PACKAGE:
        raise ValueError(f"{module_fqn} is not a module of {COLLECTION}")
    stdout, stderr = io.StringIO(), io.StringIO()
    # The module's botocore sessions use the models the controller read once for the run
    # (plugin_utils/botocore_models.py) instead of parsing a copy each.
    with _module_side_state(params), botocore_models.shared_by_sessions():
        rc = 0
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
            except (KeyboardInterrupt, AnsibleTimeoutError):
                raise  # the run is being stopped: as for a module process, the worker handles it
            except BaseException as ex:  # noqa: BLE001 - a failed result in AnsiballZ's form (SystemExit follows)
                try:
                    _handle_exception(ex, PROFILE)
                except SystemExit as reported:
                    rc = _exit_status(reported.code)
    return {"rc": rc, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}


@contextmanager
def _module_side_state(params: bytes) -> Iterator[None]:
    """module_utils' per-run state set for one module run, in their target-side mode, and restored after it."""
    saved_args = (basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, basic._PARSED_MODULE_ARGS)
    saved_warnings = dict(module_warnings._global_warnings), dict(module_warnings._global_deprecations)
    saved_controller = module_utils_internal.is_controller
    saved_cwd = os.getcwd()
    # AnsibleModule sets the process's locale from the environment (locale.setlocale(LC_ALL, "")).
    saved_locale = locale.setlocale(locale.LC_ALL)
    basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, basic._PARSED_MODULE_ARGS = params, PROFILE, None
    module_warnings._global_warnings.clear()
    module_warnings._global_deprecations.clear()
    module_utils_internal.is_controller = False
    try:
        yield
    finally:
        module_utils_internal.is_controller = saved_controller
        basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, basic._PARSED_MODULE_ARGS = saved_args
        for current, saved in zip(
            (module_warnings._global_warnings, module_warnings._global_deprecations), saved_warnings, strict=True
        ):
            current.clear()
            current.update(saved)
        with suppress(OSError, locale.Error):  # never in place of the module's own result or error
            locale.setlocale(locale.LC_ALL, saved_locale)
        with suppress(OSError):
            os.chdir(saved_cwd)


def _exit_status(code: Any) -> int:
    """A process's exit status for sys.exit(code); a message is written to stderr, as Python does."""
    if code is None:
        return 0
    if isinstance(code, int):
        return int(code)
    sys.stderr.write(f"{code}\n")
    return 1
