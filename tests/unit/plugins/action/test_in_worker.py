"""plugins/action/in_worker.py: a module run in the worker process the way AnsiballZ runs it in its own.

The end-to-end comparison with module processes is tests/integration/test_in_worker.py; here, the paths a real
module of the collection cannot be made to take: an exception the module does not handle, a module that does not
exit, and what the worker must get back after the run (its environment, module_utils' controller mode)."""

from __future__ import annotations

import json
import locale
import os
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import botocore.session
import pytest
import yaml
from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils import basic
from ansible.module_utils.common import warnings as module_warnings
from ansible.template import Templar
from ansible_collections.iconeus.tenant_toolkit.plugins.action import in_worker

MODULES = {
    "exits": (
        "from ansible.module_utils.basic import AnsibleModule\n"
        "module = AnsibleModule(argument_spec={'name': {'type': 'str', 'required': True}})\n"
        "module.warn('careful with ' + module.params['name'])\n"
        "module.exit_json(changed=True, name=module.params['name'])\n"
    ),
    "raises": "raise KeyError('no such key in the module')\n",
    "uses_botocore": (
        "import os, boto3\n"
        "from ansible.module_utils.basic import AnsibleModule\n"
        "from ansible_collections.iconeus.tenant_toolkit.plugins.plugin_utils import botocore_models\n"
        "module = AnsibleModule(argument_spec={'name': {'type': 'str'}})\n"
        "loader = boto3.session.Session(region_name='eu-west-3')._session.get_component('data_loader')\n"
        "module.exit_json(shared=loader is botocore_models.shared_loader(os.environ.get('AWS_DATA_PATH')))\n"
    ),
    "falls_through": "x = 1\n",
    "fails": (
        "from ansible.module_utils.basic import AnsibleModule\n"
        "AnsibleModule(argument_spec={}).fail_json(msg='refused')\n"
    ),
}


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A package of small modules standing for the collection's modules package."""
    name = f"in_worker_fake_{os.getpid()}"
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("")
    for module, source in MODULES.items():
        (tmp_path / name / f"{module}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(in_worker, "MODULES_PACKAGE", name)
    return name


def params(**args: Any) -> bytes:
    return json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()


def result_of(res: dict[str, Any]) -> dict[str, Any]:
    return json.loads(res["stdout"].strip().splitlines()[-1])


def test_a_module_that_exits_returns_its_result_and_warnings(package: str) -> None:
    res = in_worker._run_module(f"{package}.exits", params(name="tenant-a"))
    assert res["rc"] == 0
    result = result_of(res)
    assert result["changed"] is True and result["name"] == "tenant-a"
    # module_utils ran as in a module process: the warning is in the result, not sent to a display
    assert [warning["event"]["msg"] for warning in result["warnings"]] == ["careful with tenant-a"]


def test_a_module_that_fails_exits_1_with_its_message(package: str) -> None:
    res = in_worker._run_module(f"{package}.fails", params())
    assert res["rc"] == 1 and result_of(res)["msg"] == "refused" and result_of(res)["failed"] is True


def test_an_unhandled_exception_is_reported_as_ansiballz_reports_it(package: str) -> None:
    res = in_worker._run_module(f"{package}.raises", params())
    assert res["rc"] == 1
    result = result_of(res)
    assert result["failed"] is True
    assert "no such key in the module" in json.dumps(result["exception"])


def test_a_module_that_does_not_exit_is_a_failure(package: str) -> None:
    res = in_worker._run_module(f"{package}.falls_through", params())
    assert res["rc"] == 1
    assert "did not handle its own exit" in json.dumps(result_of(res))


def test_the_worker_gets_its_state_back(package: str, tmp_path: Path) -> None:
    module_warnings._global_warnings["the worker's own"] = None

    def state() -> tuple[Any, ...]:
        return (
            module_utils_internal.is_controller,
            basic._ANSIBLE_ARGS,
            basic._ANSIBLE_PROFILE,
            basic._PARSED_MODULE_ARGS,
            dict(module_warnings._global_warnings),
            dict(module_warnings._global_deprecations),
            os.getcwd(),
            locale.setlocale(locale.LC_ALL),
            list(sys.argv),
            sys.modules["__main__"],
            botocore.session.create_loader,
        )

    before = state()
    try:
        for module in MODULES:
            in_worker._run_module(f"{package}.{module}", params(name="x"))
            assert state() == before, module
    finally:
        module_warnings._global_warnings.pop("the worker's own", None)


def test_a_modules_botocore_sessions_use_the_process_shared_loader(package: str) -> None:
    # plugin_utils/botocore_models.py: the loader the controller fills once before the tenants' tasks (its
    # own tests) and the worker inherits; a session the module makes gets it instead of parsing every model again.
    result = result_of(in_worker._run_module(f"{package}.uses_botocore", params()))
    assert result["shared"] is True
    assert boto3_loader_outside() is not in_worker.botocore_models.shared_loader(None)


def boto3_loader_outside() -> Any:
    import boto3

    return boto3.session.Session(region_name="eu-west-3")._session.get_component("data_loader")


def test_each_run_starts_with_no_warning_of_an_earlier_run(package: str) -> None:
    """The items of a loop run one after the other in the same worker: each result has its own warnings only."""
    for item in ("item-1", "item-2", "item-3"):
        result = result_of(in_worker._run_module(f"{package}.exits", params(name=item)))
        assert [warning["event"]["msg"] for warning in result["warnings"]] == [f"careful with {item}"]


def test_a_module_outside_the_collection_is_refused(package: str) -> None:
    with pytest.raises(ValueError, match=r"is not a module of iconeus\.tenant_toolkit"):
        in_worker._run_module("os.path", params())


def test_the_task_environment_is_set_for_the_run_and_then_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IN_WORKER_KEPT", "controller")
    monkeypatch.delenv("IN_WORKER_ADDED", raising=False)
    monkeypatch.delenv("IN_WORKER_BY_THE_MODULE", raising=False)
    before = dict(os.environ)
    with in_worker._environment({"IN_WORKER_KEPT": "task", "IN_WORKER_ADDED": 3}):
        assert os.environ["IN_WORKER_KEPT"] == "task" and os.environ["IN_WORKER_ADDED"] == "3"
        os.environ["IN_WORKER_BY_THE_MODULE"] = "set by the module"  # as AnsibleModule sets LANG and LC_*
    assert dict(os.environ) == before
    # A value that cannot be set fails the run and leaves nothing behind.
    with pytest.raises(ValueError), in_worker._environment({"IN_WORKER_ADDED": "a\0b"}):
        pass
    assert dict(os.environ) == before


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (1, 1), (3, 3), (True, 1), ("message", 1)])
def test_exit_status(code: Any, status: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert in_worker._exit_status(code) == status and not isinstance(in_worker._exit_status(code), bool)
    if isinstance(code, str):
        assert code in capsys.readouterr().err


# --- when a module runs in the worker, and when as a process -------------------------------------------------
def action(
    *,
    resolved: str = "iconeus.tenant_toolkit.tenant_log_group",
    transport: str = "local",
    become: bool = False,
    connection_become: Any = None,
    async_val: int = 0,
    timeout: int = 0,
    variables: dict[str, Any] | None = None,
) -> Any:
    task = SimpleNamespace(
        action=resolved, resolved_action=resolved, async_val=async_val, timeout=timeout, args={}, environment=[]
    )
    connection = SimpleNamespace(transport=transport, become=connection_become)
    task_vars = {"ansible_python_interpreter": sys.executable, **(variables or {})}
    return in_worker.ActionModule(
        task, connection, SimpleNamespace(become=become), None, Templar(loader=None, variables=task_vars), None
    ), task_vars


def test_a_tenant_host_module_runs_in_the_worker() -> None:
    plugin, task_vars = action()
    assert plugin._in_worker_reason(None, None, task_vars, False) is None


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"resolved": "amazon.aws.s3_bucket"}, "amazon.aws.s3_bucket is not a module of iconeus.tenant_toolkit"),
        ({"transport": "ssh"}, "the connection is not local"),
        ({"become": True}, "become"),
        ({"connection_become": object()}, "become"),
        ({"async_val": 30}, "async"),
        ({"timeout": 60}, "the task has a timeout"),
        ({"variables": {"tenant_toolkit_modules_in_worker": "false"}}, "tenant_toolkit_modules_in_worker is false"),
        (
            {"variables": {"ansible_python_interpreter": "/usr/bin/python3"}},
            "the module's interpreter (/usr/bin/python3)",
        ),
    ],
)
def test_anything_else_runs_as_a_module_process(settings: dict[str, Any], reason: str) -> None:
    plugin, task_vars = action(**settings)
    assert (plugin._in_worker_reason(None, None, task_vars, False) or "").startswith(reason)


def test_another_ansible_core_runs_modules_as_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(in_worker, "ansible_core_version", "2.20.0")
    plugin, task_vars = action()
    assert "2.20.0" in (plugin._in_worker_reason(None, None, task_vars, False) or "")


def test_keep_remote_files_runs_modules_as_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(in_worker.C, "DEFAULT_KEEP_REMOTE_FILES", True)
    plugin, task_vars = action()
    assert plugin._in_worker_reason(None, None, task_vars, False) == "keep_remote_files"


def test_a_call_with_other_arguments_than_the_tasks_runs_as_a_module_process() -> None:
    plugin, task_vars = action()
    assert plugin._in_worker_reason(None, {"name": "x"}, task_vars, False) == (
        "another module or other arguments than the task's"
    )
    assert plugin._in_worker_reason("ansible.legacy.ping", None, task_vars, False) == (
        "another module or other arguments than the task's"
    )


def test_every_module_but_the_pure_ones_is_routed_to_the_plugin() -> None:
    root = Path(__file__).resolve().parents[4]
    routing = yaml.safe_load((root / "meta" / "runtime.yml").read_text())["plugin_routing"]["modules"]
    routed = {
        name for name, entry in routing.items() if entry.get("action_plugin") == "iconeus.tenant_toolkit.in_worker"
    }
    modules = {path.stem for path in (root / "plugins" / "modules").glob("*.py") if not path.stem.startswith("_")}
    # The modules with an action plugin of their own: the pure ones and role_variables_validate (the host's variables).
    own = {path.stem for path in (root / "plugins" / "action").glob("*.py")} - {"in_worker", "__init__"}
    assert own == {"tenant_validate", "ops_vars_validate", "tenant_cost_estimate", "role_variables_validate"}
    assert routed == modules - own
