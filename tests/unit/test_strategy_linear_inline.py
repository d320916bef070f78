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

# A filter next to the play: the process that templates (a filter, not a lookup: a task calling a lookup outside
# the strategy's local list keeps its worker).
PROBE_FILTER = """
import os


class FilterModule:
    def filters(self):
        return {"pid": lambda _value: str(os.getpid())}
"""

PLAY = [
    {
        "name": "Strategy probe",
        "hosts": "all",
        "gather_facts": False,
        # Each templating of the environment appends a line to a file (counted by the test); its value is "on".
        "environment": {"PROBE": "{{ lookup('ansible.builtin.pipe', 'echo x >> ' ~ environment_log) }}on"},
        "handlers": [
            {"name": "Note the handler", "ansible.builtin.debug": {"msg": "handled {{ inventory_hostname }}"}},
        ],
        "tasks": [
            {
                "name": "Set facts from the host's own variables",
                "ansible.builtin.set_fact": {
                    "own_name": "{{ inventory_hostname }}",
                    "doubled": "{{ n * 2 }}",
                    "fact_pid": "{{ 0 | pid }}",
                },
            },
            {
                "name": "Check them",
                "ansible.builtin.assert": {"that": ["own_name == inventory_hostname", "doubled | int == n * 2"]},
            },
            {"name": "Say the host's number", "ansible.builtin.debug": {"msg": "host {{ inventory_hostname }}"}},
            {
                "name": "Group the hosts by parity",
                "ansible.builtin.group_by": {"key": "{{ item }}_{{ n % 2 }}"},
                "loop": ["parity", "again"],
            },
            {
                # Every host's turn starts from the groups the task found (as with workers, whose results come
                # back after they were all started): the group is empty for all four.
                "name": "Group by what the task found",
                "ansible.builtin.group_by": {"key": "found_{{ groups['found_0'] | default([]) | length }}"},
            },
            {"name": "Skipped for the odd hosts", "ansible.builtin.set_fact": {"even": True}, "when": "n % 2 == 0"},
            {
                "name": "Fail for one host, ignored",
                "ansible.builtin.assert": {"that": "n != 3", "fail_msg": "three is refused"},
                "ignore_errors": True,
            },
            {
                "name": "A block with its own variables",
                "vars": {"block_word": "word-{{ n }}"},
                "when": "n > 1",
                "block": [
                    {"name": "Fact from the block", "ansible.builtin.set_fact": {"from_block": "{{ block_word }}"}},
                    {"name": "Fail in the block", "ansible.builtin.fail": {"msg": "failed {{ inventory_hostname }}"}},
                ],
                "rescue": [
                    {
                        "name": "Rescue with the failed task",
                        "ansible.builtin.set_fact": {"rescued": "{{ ansible_failed_task.name }}/{{ block_word }}"},
                    }
                ],
            },
            {
                "name": "Notify from a fact",
                "ansible.builtin.set_fact": {"notified": True},
                "changed_when": True,
                "notify": "Note the handler",
            },
            {
                "name": "Register a loop",
                "ansible.builtin.set_fact": {"looped": "{{ item * n }}"},
                "loop": [1, 2, 3],
                "register": "loop_result",
            },
            {
                "name": "Check the loop",
                "ansible.builtin.assert": {"that": ["loop_result.results | length == 3", "looped | int == 3 * n"]},
            },
            {"name": "A secret fact", "ansible.builtin.set_fact": {"hidden": "s3cr3t-{{ n }}"}, "no_log": True},
            {"name": "Include tasks by name", "ansible.builtin.include_tasks": "included.yml"},
            {"name": "Include a role", "ansible.builtin.include_role": {"name": "probe"}},
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
                "ansible.builtin.command": "printenv PROBE",
                "register": "module_run",
                "changed_when": False,
            },
            {
                "name": "A fact from a template after the module",
                "ansible.builtin.set_fact": {"after_pid": "{{ 0 | pid }}"},
            },
            {
                "name": "A fact from a lookup that is not local",
                "ansible.builtin.set_fact": {"piped_pid": "{{ lookup('ansible.builtin.pipe', 'echo $PPID') }}"},
            },
        ],
    }
]
INCLUDED = [
    {"name": "Included fact", "ansible.builtin.set_fact": {"included": "{{ own_name }}-{{ n }}"}},
    {"name": "Included module", "ansible.builtin.command": "printenv PROBE", "changed_when": False},
]
ROLE = [{"name": "Role fact", "ansible.builtin.set_fact": {"from_role": "role-{{ n }}"}}]
# Module runs: one in the play, one in the included file.
MODULE_TASKS = 2


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
    (work / "filter_plugins").mkdir()
    (work / "filter_plugins" / "probe.py").write_text(PROBE_FILTER)
    (work / "roles" / "probe" / "tasks").mkdir(parents=True)
    (work / "roles" / "probe" / "tasks" / "main.yml").write_text(yaml.safe_dump(ROLE, sort_keys=False))
    env = os.environ | {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_STRATEGY": strategy,
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        # The json document alone on stdout (the project's callbacks print after it).
        "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.json",
        "ANSIBLE_ROLES_PATH": str(work / "roles"),
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
    return {host: r["ansible_facts"][field] for host, r in results(report)[task].items() if not r.get("skipped")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("strategies")
    return {name: run(tmp, name) for name in ("linear", INLINE)}


def test_every_host_gets_the_same_result_from_every_task(runs: dict[str, Any]) -> None:
    linear, inline = results(runs["linear"][0]), results(runs[INLINE][0])
    assert list(linear) == list(inline)
    for task in linear:
        a, b = linear[task], inline[task]
        if task == "Group by what the task found":
            continue  # under linear, a worker that ends before the next host is queued can change it
        for result in (*a.values(), *b.values()):
            for pid in ("fact_pid", "after_pid", "piped_pid"):
                result.get("ansible_facts", {}).pop(pid, None)
        assert a == b, task
    assert runs["linear"][0]["stats"] == runs[INLINE][0]["stats"]


def test_a_task_run_in_place_is_templated_for_each_host(runs: dict[str, Any]) -> None:
    report = runs[INLINE][0]
    numbered = dict(zip(HOSTS, range(1, len(HOSTS) + 1), strict=True))
    assert pids(report, "Set facts from the host's own variables", "own_name") == {h: h for h in HOSTS}
    assert pids(report, "Included fact", "included") == {h: f"{h}-{n}" for h, n in numbered.items()}
    assert pids(report, "probe : Role fact", "from_role") == {h: f"role-{n}" for h, n in numbered.items()}
    failed = results(report)["Fail for one host, ignored"]
    assert [h for h, r in failed.items() if r.get("failed")] == ["h3"]
    assert failed["h3"]["msg"] == "three is refused"
    assert [h for h, r in results(report)["Skipped for the odd hosts"].items() if r.get("skipped")] == ["h1", "h3"]
    # The block's variables and condition, its failure and the rescue that names the failed task.
    assert pids(report, "Fact from the block", "from_block") == {h: f"word-{n}" for h, n in numbered.items() if n > 1}
    assert pids(report, "Rescue with the failed task", "rescued") == {
        h: f"Fail in the block/word-{n}" for h, n in numbered.items() if n > 1
    }
    assert {h: r["msg"] for h, r in results(report)["Note the handler"].items()} == {h: f"handled {h}" for h in HOSTS}
    assert [r["msg"] for r in results(report)["Check the loop"].values()] == ["All assertions passed"] * len(HOSTS)
    secret = results(report)["A secret fact"]
    assert set(secret) == set(HOSTS) and "s3cr3t" not in json.dumps(secret)
    # Each host's turn of a task starts from the groups the task found, not from the earlier hosts' results.
    assert set(results(report)["Group by what the task found"]) == set(HOSTS)
    assert "found_0" in runs[INLINE][2].stdout and "found_1" not in runs[INLINE][2].stdout


def test_the_tasks_run_in_place_share_the_controller_process(runs: dict[str, Any]) -> None:
    report = runs[INLINE][0]
    before = pids(report, "Set facts from the host's own variables", "fact_pid")
    after = pids(report, "A fact from a template after the module", "after_pid")
    assert len(set(before.values()) | set(after.values())) == 1
    controller = next(iter(before.values()))
    # A task calling a lookup that is not local keeps its worker: a process per host, not the controller.
    piped = pids(report, "A fact from a lookup that is not local", "piped_pid")
    assert len(set(piped.values())) == len(HOSTS) and controller not in piped.values()


def test_under_builtin_linear_each_task_and_host_has_a_worker(runs: dict[str, Any]) -> None:
    report = runs["linear"][0]
    before = pids(report, "Set facts from the host's own variables", "fact_pid")
    after = pids(report, "A fact from a template after the module", "after_pid")
    assert len(set(before.values()) | set(after.values())) == 2 * len(HOSTS)


def test_the_environment_is_templated_for_module_tasks_only(runs: dict[str, Any]) -> None:
    # The module tasks, in the play and in the included file, are given it.
    for name in ("Run a module", "Included module"):
        outputs = {h: r["stdout"] for h, r in results(runs[INLINE][0])[name].items()}
        assert outputs == dict.fromkeys(HOSTS, "on"), name
    # It is templated for them and for the task calling a lookup that is not local (a worker); under linear,
    # for every task that is not skipped (and once per loop item).
    assert runs[INLINE][1] == (MODULE_TASKS + 1) * len(HOSTS)
    assert runs["linear"][1] >= 15 * len(HOSTS)


def test_switched_off_every_task_has_a_worker_again(tmp_path: Path) -> None:
    report, templatings, _ = run(tmp_path, INLINE, **{linear_inline.SWITCH: "false"})
    before = pids(report, "Set facts from the host's own variables", "fact_pid")
    assert len(set(before.values())) == len(HOSTS)
    assert templatings >= 15 * len(HOSTS)


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


def variable_definitions() -> dict[str, Any]:
    """Every variable the project defines in group_vars and the roles' defaults and vars, as written."""
    found: dict[str, Any] = {}
    paths = [*ROOT.glob("group_vars/**/*.yml"), *ROOT.glob("roles/*/defaults/*.yml"), *ROOT.glob("roles/*/vars/*.yml")]
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for name, value in (data or {}).items():
            found[str(name)] = value
    return found


@pytest.mark.parametrize(
    ("template", "inline"),
    [
        # The tenant's AWS connection (its lookup assumes the tenant's role), directly or through a role's default.
        ("{{ tenant_aws_environment }}", False),
        ("{{ tenant_secrets_aws_environment }}", False),
        ("{{ win_app_install_aws_environment }}", False),
        # A stored password (a Secrets Manager read) and a generated one (the password lookup).
        ("{{ aws_directory_stored_password }}", False),
        ("{{ aws_directory_generated_password }}", False),
        # Local data only.
        ("{{ aws_network_known_tags }}", True),
        ("{{ sandbox_state_dir }}", True),
    ],
)
def test_the_project_variables_that_call_out_keep_a_task_in_its_worker(template: str, inline: bool) -> None:
    from ansible.playbook.task import Task

    variables = variable_definitions()
    assert len(variables) > 100
    fact = Task.load({"name": "t", "ansible.builtin.set_fact": {"a": template}})
    assert linear_inline.runs_inline(fact, variables) is inline
