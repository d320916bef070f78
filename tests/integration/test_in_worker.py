"""The collection's modules run in the worker process when their host is the controller (plugins/action/in_worker.py)
and return what a module process returns.

One playbook is run three times against the sandbox: modules in the worker (the default), as module processes
(`tenant_toolkit_modules_in_worker=false`), and with an interpreter given by another path than the controller's
(a module process again: the plugin never runs a module under a Python it was not asked for). Each run
names its resources with its own suffix. The results are compared, the sandbox's request log shows what each
run did, and `-vvv` shows which way each module ran."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import boto3
import pytest

from tests.helpers import run_tasks

MODES = {
    "worker": [],
    "process": ["-e", "tenant_toolkit_modules_in_worker=false"],
    "interpreter": [],  # the interpreter is a link to this Python under another name (fixture)
}
PASSWORD = "in-worker-test-password-7"
TOKEN = "in-worker-token-value-3"
LOG_GROUP = "/iconeus/in-worker-{{ suffix }}"
CASES = [
    # (register name, task body without name/register)
    (
        "created",
        {"iconeus.tenant_toolkit.tenant_log_group": {"name": LOG_GROUP, "retention_days": 30, "tenant": "in-worker"}},
    ),
    (
        "again",
        {
            "iconeus.tenant_toolkit.tenant_log_group": {"name": LOG_GROUP, "retention_days": 30, "tenant": "in-worker"},
            # Not an AWS connection setting: -vvv shows its name only (a module process's command line shows it).
            "environment": {"IN_WORKER_TOKEN": TOKEN},
        },
    ),
    (
        "changed_in_check_mode",
        {
            "iconeus.tenant_toolkit.tenant_log_group": {"name": LOG_GROUP, "retention_days": 90, "tenant": "in-worker"},
            "check_mode": True,
            "diff": True,
        },
    ),
    (
        "other_region",
        {
            "iconeus.tenant_toolkit.tenant_log_group": {
                "name": LOG_GROUP + "-east",
                "retention_days": 7,
                "tenant": "in-worker",
            },
            "environment": {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"},
        },
    ),
    (
        "back_in_the_play_region",
        {"iconeus.tenant_toolkit.tenant_log_group": {"name": LOG_GROUP + "-back", "tenant": "in-worker"}},
    ),
    (
        "unknown_option",
        {"iconeus.tenant_toolkit.tenant_log_group": {"name": LOG_GROUP, "colour": "red", "tenant": "in-worker"}},
    ),
    ("missing_option", {"iconeus.tenant_toolkit.tenant_log_group": {"retention_days": 30, "tenant": "in-worker"}}),
    ("warning", {"iconeus.tenant_toolkit.cost_allocation_tag": {"tag_key": "in-worker-never-seen-{{ suffix }}"}}),
    (
        "no_log",
        {
            "iconeus.tenant_toolkit.appstream_directory_config": {
                "directory_name": "corp.absent-{{ suffix }}.example",
                "organizational_unit_distinguished_names": ["OU=AppStream,DC=corp,DC=example"],
                "service_account_name": "svc-appstream",
                "service_account_password": PASSWORD,
                "tenant": "in-worker",
            },
            "check_mode": True,
        },
    ),
    (
        "client_error",
        {
            "iconeus.tenant_toolkit.tenant_log_group": {"name": LOG_GROUP + "-x", "tenant": "in-worker"},
            "environment": {"AWS_MAX_ATTEMPTS": "many"},
        },
    ),
    (
        "loop_regions",
        {
            "iconeus.tenant_toolkit.tenant_log_group": {"name": LOG_GROUP + "-loop-{{ item }}", "tenant": "in-worker"},
            "loop": ["us-west-2", "eu-west-3"],
            "environment": {"AWS_REGION": "{{ item }}", "AWS_DEFAULT_REGION": "{{ item }}"},
        },
    ),
    (
        "loop_warnings",
        {
            "iconeus.tenant_toolkit.cost_allocation_tag": {"tag_key": "in-worker-{{ item }}-{{ suffix }}"},
            "loop": ["first", "second"],
        },
    ),
    # As module processes even in the worker mode (IN_A_PROCESS below): a task timeout, a start-up variable.
    (
        "timeout",
        {
            "iconeus.tenant_toolkit.tenant_log_group": {"name": LOG_GROUP + "-timeout", "tenant": "in-worker"},
            "timeout": 300,
        },
    ),
    (
        "startup_variable",
        {
            "iconeus.tenant_toolkit.tenant_log_group": {"name": LOG_GROUP + "-tz", "tenant": "in-worker"},
            "environment": {"TZ": "UTC"},
        },
    ),
]


# Cases that run as module processes in every mode, with the reason -vvv gives.
IN_A_PROCESS = {"timeout": "the task has a timeout", "startup_variable": "the environment sets TZ"}
# Module runs per mode: one per case, one per loop item.
MODULE_RUNS = len(CASES) + 2


def comparable(result: dict[str, Any], suffix: str) -> Any:
    """A result with the run's suffix taken out, without what differs between any two runs (times, tracebacks)."""
    kept = {key: value for key, value in result.items() if key not in {"exception", "module_stderr"}}
    return json.loads(json.dumps(kept).replace(suffix, "SUFFIX"))


@pytest.fixture(scope="module")
def runs(sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    work = tmp_path_factory.mktemp("in-worker")
    # This Python under another path: a script that runs it (a symbolic link out of the virtualenv would be
    # another Python, with the system's libraries).
    link = work / "bin" / "python-by-another-name"
    link.parent.mkdir()
    link.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    link.chmod(0o755)
    got: dict[str, dict[str, Any]] = {}
    for mode, extra in MODES.items():
        suffix = f"{mode}-{os.getpid()}"
        tasks: list[dict[str, Any]] = [
            {"name": f"case {name}", **body, "register": name, "ignore_errors": True} for name, body in CASES
        ]
        registered = ", ".join(f"'{name}': {name}" for name, _ in CASES)
        tasks.append(
            {
                "name": "Write the results",
                "ansible.builtin.copy": {
                    "content": "{{ {" + registered + "} | to_json }}",
                    "dest": str(work / f"results-{mode}.json"),
                    "mode": "0600",
                },
            }
        )
        args = ["-vvv", "-e", f"suffix={suffix}", *extra]
        if mode == "interpreter":
            args += ["-e", f"ansible_python_interpreter={link}"]
        done = run_tasks(work / mode, tasks, sandbox, args=args, timeout=600)
        assert done.rc == 0, done.stdout[-3000:] + done.stderr[-2000:]
        results = json.loads((work / f"results-{mode}.json").read_text())
        got[mode] = {"suffix": suffix, "results": results, "run": done, "output": done.stdout + done.stderr}
    return got


def test_each_module_ran_where_it_should(runs: dict[str, dict[str, Any]]) -> None:
    worker = runs["worker"]["output"]
    assert worker.count("in the worker process (pid") == MODULE_RUNS - len(IN_A_PROCESS)
    for reason in IN_A_PROCESS.values():
        assert worker.count(f"runs as a module process: {reason}") == 1, reason
    process = runs["process"]["output"]
    assert "in the worker process (pid" not in process
    # The timeout is the first reason found for its case; the start-up variable is looked at last.
    assert process.count("runs as a module process: tenant_toolkit_modules_in_worker is false") == MODULE_RUNS - 1
    other = runs["interpreter"]["output"]
    assert "in the worker process (pid" not in other
    assert other.count("runs as a module process: the module's interpreter") == MODULE_RUNS - 1


@pytest.mark.parametrize("case", [name for name, _ in CASES])
def test_the_worker_returns_what_a_module_process_returns(case: str, runs: dict[str, dict[str, Any]]) -> None:
    worker = comparable(runs["worker"]["results"][case], runs["worker"]["suffix"])
    for mode in ("process", "interpreter"):
        assert worker == comparable(runs[mode]["results"][case], runs[mode]["suffix"]), mode


def test_the_results_are_the_modules_results(runs: dict[str, dict[str, Any]]) -> None:
    results = runs["worker"]["results"]
    suffix = runs["worker"]["suffix"]
    assert results["created"]["changed"] is True and results["again"]["changed"] is False
    assert results["changed_in_check_mode"]["changed"] is True
    assert results["changed_in_check_mode"]["diff"]
    assert results["unknown_option"]["failed"] and "colour" in results["unknown_option"]["msg"]
    assert results["missing_option"]["msg"] == "missing required arguments: name"
    warnings = json.dumps(results["warning"].get("warnings"))
    assert f"in-worker-never-seen-{suffix}" in warnings and "cannot be activated now" in warnings
    assert results["no_log"]["diff"]["after"]["service_account_password"] == "(sent)"
    assert results["client_error"]["failed"] is True
    assert results["client_error"]["msg"].startswith("Couldn't connect to AWS: invalid literal for int()")
    # A loop runs its items one after the other in the same worker and each warns of its own key. (That an item
    # does not repeat an earlier item's warnings is a unit test: Ansible shows a repeated warning only once.)
    output = runs["worker"]["output"]
    for item in ("first", "second"):
        assert f"AWS does not know the tag key 'in-worker-{item}-{suffix}'" in output, item
    assert [item["changed"] for item in results["loop_regions"]["results"]] == [True, True]


def test_the_password_never_shows(runs: dict[str, dict[str, Any]]) -> None:
    worker = runs["worker"]["output"]
    assert TOKEN not in worker and "IN_WORKER_TOKEN=(value not shown)" in worker
    assert "AWS_REGION=us-east-1" in worker  # the connection settings are shown, as on a command line
    for mode, run in runs.items():
        assert PASSWORD not in run["output"], mode
        assert PASSWORD not in json.dumps(run["results"]), mode


def test_the_sandbox_saw_the_same_calls_in_the_regions_the_tasks_named(
    runs: dict[str, dict[str, Any]], sandbox: Any
) -> None:
    modes = list(runs)

    def calls(mode: str) -> list[dict[str, Any]]:
        """The calls of this mode's run only (the runs share the sandbox, one after the other)."""
        later = modes[modes.index(mode) + 1 :]
        end = runs[later[0]]["run"].log_mark if later else None
        return [call for call in runs[mode]["run"].calls() if end is None or call["seq"] < end]

    def shape(mode: str) -> list[tuple[str, str, str, int, bool]]:
        return [
            (call["service"], call["operation"], call["region"], call["status"], call["mutating"])
            for call in calls(mode)
        ]

    worker = shape("worker")
    assert worker == shape("process") == shape("interpreter")
    creations = [
        region for _, operation, region, status, _ in worker if operation == "CreateLogGroup" and status == 200
    ]
    # created, other_region, back_in_the_play_region, the loop's two items (each its own region), timeout, tz
    assert creations == ["eu-west-3", "us-east-1", "eu-west-3", "us-west-2", "eu-west-3", "eu-west-3", "eu-west-3"]
    # The check-mode task changed nothing: the group keeps the 30 days it was created with, not 90.
    logs = boto3.client(
        "logs",
        endpoint_url=sandbox.endpoint,
        region_name="eu-west-3",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for mode, run in runs.items():
        name = f"/iconeus/in-worker-{run['suffix']}"
        groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        assert [
            (group["logGroupName"], group.get("retentionInDays")) for group in groups if group["logGroupName"] == name
        ] == [(name, 30)], mode
