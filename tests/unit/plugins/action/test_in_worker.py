"""plugins/action/in_worker.py: a module run in the worker process the way AnsiballZ runs it in its own.

The end-to-end comparison with module processes is tests/integration/test_in_worker.py; here, the paths a real
module of the collection cannot be made to take: an exception the module does not handle, a module that does not
exit, and what the worker must get back after the run (its environment, module_utils' controller mode)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils import basic
from ansible_collections.iconeus.tenant_toolkit.plugins.action import in_worker

MODULES = {
    "exits": (
        "from ansible.module_utils.basic import AnsibleModule\n"
        "module = AnsibleModule(argument_spec={'name': {'type': 'str', 'required': True}})\n"
        "module.warn('careful with ' + module.params['name'])\n"
        "module.exit_json(changed=True, name=module.params['name'])\n"
    ),
    "raises": "raise KeyError('no such key in the module')\n",
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


def test_the_worker_gets_its_state_back(package: str) -> None:
    before = (module_utils_internal.is_controller, basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE)
    for module in MODULES:
        in_worker._run_module(f"{package}.{module}", params(name="x"))
        assert (module_utils_internal.is_controller, basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE) == before


def test_a_module_outside_the_collection_is_refused(package: str) -> None:
    with pytest.raises(ValueError, match=r"is not a module of iconeus\.tenant_toolkit"):
        in_worker._run_module("os.path", params())


def test_the_task_environment_is_set_for_the_run_and_then_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IN_WORKER_KEPT", "controller")
    monkeypatch.delenv("IN_WORKER_ADDED", raising=False)
    with in_worker._environment({"IN_WORKER_KEPT": "task", "IN_WORKER_ADDED": 3}):
        assert os.environ["IN_WORKER_KEPT"] == "task" and os.environ["IN_WORKER_ADDED"] == "3"
    assert os.environ["IN_WORKER_KEPT"] == "controller" and "IN_WORKER_ADDED" not in os.environ


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (1, 1), (3, 3), ("message", 1)])
def test_exit_status(code: Any, status: int) -> None:
    assert in_worker._exit_status(code) == status
