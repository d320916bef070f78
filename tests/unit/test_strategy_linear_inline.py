"""linear_inline runs a play as ansible.builtin.linear does, the controller-only tasks in the controller's process.

One local play (no AWS) over four hosts, run with each strategy and read back with the ansible.posix.json
callback: every task gives every host the same result with both, a task run in place is templated for each host
(the play's task is not changed by the first host's run), the tasks run in place share one process (the
controller's) while each module task and every task under ansible.builtin.linear has a process of its own, and
the play's environment is templated for the module tasks only.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.iconeus.tenant_toolkit.plugins.strategy import linear_inline

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
INLINE = "iconeus.tenant_toolkit.linear_inline"
HOSTS = ["h1", "h2", "h3", "h4"]

# What differs from run to run whatever the strategy.
VOLATILE = {"start", "end", "delta", "duration", "invocation", "_ansible_no_log", "pid"}

PLAY = [
    {
        "name": "Strategy probe",
        "hosts": "all",
        "gather_facts": False,
        # Each templating of the environment appends a line to a file (counted by the test).
        "environment": {"PROBE": "{{ lookup('ansible.builtin.pipe', 'echo x >> ' ~ environment_log) }}"},
        "tasks": [
            {
                "name": "Set facts from the host's own variables",
                "ansible.builtin.set_fact": {
                    "own_name": "{{ inventory_hostname }}",
                    "doubled": "{{ n * 2 }}",
                    "fact_pid": "{{ lookup('ansible.builtin.pipe', 'echo $PPID') }}",
                },
            },
            {
                "name": "Check them",
                "ansible.builtin.assert": {"that": ["own_name == inventory_hostname", "doubled | int == n * 2"]},
            },
            {
                "name": "Say the host's number",
                "ansible.builtin.debug": {"msg": "host {{ inventory_hostname }}: {{ n }}"},
            },
            {
                "name": "Group the hosts by parity",
                "ansible.builtin.group_by": {"key": "{{ item }}_{{ n % 2 }}"},
                "loop": ["parity", "again"],
            },
            {
                "name": "Skipped for the odd hosts",
                "ansible.builtin.set_fact": {"even": True},
                "when": "n % 2 == 0",
            },
            {
                "name": "Fail for one host, ignored",
                "ansible.builtin.assert": {"that": "n != 3", "fail_msg": "three is refused"},
                "ignore_errors": True,
            },
            {"name": "Include tasks by name", "ansible.builtin.include_tasks": "included.yml"},
            {
                "name": "Check the arguments of a spec",
                "ansible.builtin.validate_argument_spec": {
                    "argument_spec": {"n": {"type": "int", "required": True}},
                    "provided_arguments": {"n": "{{ n }}"},
                },
            },
            {
                "name": "Once for the play",
                "ansible.builtin.set_fact": {"first": "{{ inventory_hostname }}"},
                "run_once": True,
            },
            {
                "name": "Run a module",
                "ansible.builtin.command": "sh -c 'echo $PPID'",
                "register": "module_run",
                "changed_when": False,
            },
            {
                "name": "A fact from a template after the module",
                "ansible.builtin.set_fact": {"after_pid": "{{ lookup('ansible.builtin.pipe', 'echo $PPID') }}"},
            },
        ],
    }
]
INCLUDED = [{"name": "Included fact", "ansible.builtin.set_fact": {"included": "{{ own_name }}-{{ n }}"}}]


def run(tmp_path: Path, strategy: str, **environ: str) -> tuple[dict[str, Any], int, subprocess.CompletedProcess]:
    work = tmp_path / strategy.rsplit(".", 1)[-1]
    work.mkdir()
    log = work / "environment.log"
    hosts = {
        name: {"n": number, "ansible_connection": "local", "ansible_python_interpreter": sys.executable}
        for number, name in enumerate(HOSTS, start=1)
    }
    (work / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts, "vars": {"environment_log": str(log)}}}))
    (work / "play.yml").write_text(yaml.safe_dump(PLAY, sort_keys=False))
    (work / "included.yml").write_text(yaml.safe_dump(INCLUDED, sort_keys=False))
    env = os.environ | {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_STRATEGY": strategy,
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.junit",
        "JUNIT_OUTPUT_DIR": str(work / "junit"),
        "ANSIBLE_DEPRECATION_WARNINGS": "false",
        "ANSIBLE_NOCOLOR": "1",
        **environ,
    }
    done = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), str(work / "play.yml"), "-i", str(work / "hosts.yml")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report, _end = json.JSONDecoder().raw_decode(done.stdout, done.stdout.index("{"))
    templatings = len(log.read_text().splitlines()) if log.exists() else 0
    return report, templatings, done


def results(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{task name: {host: result without what varies between runs}}."""
    out = {}
    for play in report["plays"]:
        for task in play["tasks"]:
            # The json callback lists a task once for all hosts under a strategy it knows to be lock step
            # (by its name: linear or debug), else once per host: merged here.
            out.setdefault(task["task"]["name"], {}).update(
                {
                    host: {k: copy.deepcopy(v) for k, v in result.items() if k not in VOLATILE}
                    for host, result in task["hosts"].items()
                }
            )
    return out


def pids(report: dict[str, Any], task: str, field: str) -> dict[str, str]:
    return {host: r["ansible_facts"][field] for host, r in results(report)[task].items()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("strategies")
    return {name: run(tmp, name) for name in ("linear", INLINE)}


def test_every_host_gets_the_same_result_from_every_task(runs: dict[str, Any]) -> None:
    linear, inline = results(runs["linear"][0]), results(runs[INLINE][0])
    assert list(linear) == list(inline)
    for task in linear:
        a, b = linear[task], inline[task]
        for result in (*a.values(), *b.values()):
            result.get("ansible_facts", {}).pop("fact_pid", None)
            result.get("ansible_facts", {}).pop("after_pid", None)
            result.pop("stdout", None), result.pop("stdout_lines", None)
        assert a == b, task
    assert runs["linear"][0]["stats"] == runs[INLINE][0]["stats"]


def test_a_task_run_in_place_is_templated_for_each_host(runs: dict[str, Any]) -> None:
    report = runs[INLINE][0]
    assert pids(report, "Set facts from the host's own variables", "own_name") == {h: h for h in HOSTS}
    assert pids(report, "Included fact", "included") == {h: f"{h}-{n}" for n, h in enumerate(HOSTS, 1)}
    failed = results(report)["Fail for one host, ignored"]
    assert [h for h, r in failed.items() if r.get("failed")] == ["h3"]
    assert failed["h3"]["msg"] == "three is refused"
    assert set(results(report)["Skipped for the odd hosts"]) == set(HOSTS)
    assert [h for h, r in results(report)["Skipped for the odd hosts"].items() if r.get("skipped")] == ["h1", "h3"]


def test_the_tasks_run_in_place_share_the_controller_process(runs: dict[str, Any]) -> None:
    report = runs[INLINE][0]
    before = pids(report, "Set facts from the host's own variables", "fact_pid")
    after = pids(report, "A fact from a template after the module", "after_pid")
    assert len(set(before.values()) | set(after.values())) == 1
    controller = next(iter(before.values()))
    # Each module run is a process of its own, forked from the controller for its host.
    modules = {h: r["stdout"] for h, r in results(report)["Run a module"].items()}
    assert len(set(modules.values())) == len(HOSTS) and controller not in modules.values()


def test_under_builtin_linear_each_task_and_host_has_a_worker(runs: dict[str, Any]) -> None:
    report = runs["linear"][0]
    before = pids(report, "Set facts from the host's own variables", "fact_pid")
    after = pids(report, "A fact from a template after the module", "after_pid")
    assert len(set(before.values()) | set(after.values())) == 2 * len(HOSTS)


def test_the_environment_is_templated_for_module_tasks_only(runs: dict[str, Any]) -> None:
    # One module task per host; under linear, every task that is not skipped templates it (at least the
    # nine other tasks per host, and once per loop item for the loop).
    assert runs[INLINE][1] == len(HOSTS)
    assert runs["linear"][1] >= 10 * len(HOSTS)


def test_switched_off_every_task_has_a_worker_again(tmp_path: Path) -> None:
    report, templatings, _ = run(tmp_path, INLINE, **{linear_inline.SWITCH: "false"})
    before = pids(report, "Set facts from the host's own variables", "fact_pid")
    assert len(set(before.values())) == len(HOSTS)
    assert templatings >= 10 * len(HOSTS)


def test_the_verified_core_version_is_the_pinned_one() -> None:
    pins = [
        line
        for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.startswith("ansible-core==")
    ]
    assert len(pins) == 1
    assert pins[0].removeprefix("ansible-core==").startswith(linear_inline.VERIFIED_CORE + ".")


def test_the_project_runs_its_plays_with_it() -> None:
    import configparser

    config = configparser.ConfigParser()
    config.read(ROOT / "ansible.cfg")
    assert config["defaults"]["strategy"] == INLINE
    validate = yaml.safe_load((ROOT / "playbooks" / "validate.yml").read_text(encoding="utf-8"))
    assert validate[0]["strategy"] == INLINE
