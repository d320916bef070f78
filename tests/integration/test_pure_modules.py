"""The pure modules run in the worker (plugins/action/, plugin_utils/pure_module.py) and return what the module
returns: one playbook runs every case through the action plugins, with a Python interpreter that does not
exist (so no module process could have run), and each result is compared with the module's own main() on
the same arguments."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args
from ansible_collections.iconeus.tenant_toolkit.plugins.modules import ops_vars_validate as OPS
from ansible_collections.iconeus.tenant_toolkit.plugins.modules import tenant_cost_estimate as COST
from ansible_collections.iconeus.tenant_toolkit.plugins.modules import tenant_validate as VALIDATE

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PRICES = yaml.safe_load((ROOT / "data" / "prices.yml").read_text())
DEMO = yaml.safe_load((ROOT / "inventories" / "demo" / "host_vars" / "demo" / "tenant.yml").read_text())
SECRET = "vault_directory_admin_password:"  # a no_log value the failure message contains: masked in both

CASES: dict[str, tuple[Any, dict[str, Any]]] = {
    "ops_ok": (OPS, {"spec": {"n": {"type": "int", "minimum": 1}, "w": {"type": "bool"}}, "variables": {"n": "3"}}),
    "ops_errors": (OPS, {"spec": {"n": {"type": "int", "minimum": 1}}, "variables": {"n": "zero"}, "context": "x"}),
    "ops_bad_spec": (OPS, {"spec": {"n": {"type": "integer"}}, "variables": {}}),
    "ops_unknown_option": (OPS, {"spec": {}, "variables": {}, "colour": "red"}),
    "ops_missing_option": (OPS, {"variables": {}}),
    "cost": (COST, {"tenant": {**DEMO["tenant"], "budget": {"monthly_usd": 1}}, "prices": PRICES}),
    "cost_error": (COST, {"tenant": DEMO["tenant"], "prices": {"currency": "USD"}}),
    "validate_errors": (VALIDATE, {"tenant": {"name": "Not A Name", "region": 3}}),
    "validate_warning": (
        VALIDATE,
        {"tenant": {"auth": "saml"}, "secrets": {"vault_domain_join_pasword": "x"}, "vault_variables": []},
    ),
    "validate_required_by": (VALIDATE, {"tenant": DEMO["tenant"], "run_tenants": [["demo", "demo"]]}),
    "validate_secrets": (
        VALIDATE,
        {"tenant": {"auth": "saml"}, "secrets": {"vault_directory_admin_password": SECRET}, "vault_variables": []},
    ),
}


def module_result(module: Any, args: dict[str, Any]) -> dict[str, Any]:
    """What the module's main() prints for `args` (AnsibleModule, in this process), with the warnings it
    shows (in this process Ansible displays them instead of returning them)."""
    out, err = io.StringIO(), io.StringIO()
    with patch_module_args(args), redirect_stdout(out), redirect_stderr(err), pytest.raises(SystemExit):
        module.main()
    result = json.loads(out.getvalue())
    shown = [line.split(": ", 1)[1] for line in err.getvalue().splitlines() if line.startswith("[WARNING]: ")]
    return {**result, "warnings": result.get("warnings") or shown}


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """A task result without what only one side adds (the module's invocation, Ansible's bookkeeping)."""
    dropped = {"invocation", "changed", "failed", "warnings", "deprecations", "exception"}
    kept = {key: value for key, value in result.items() if key not in dropped and not key.startswith("_ansible")}
    if "msg" in kept:  # the in-process module is named after the file that runs it
        kept["msg"] = re.sub(r"^Unsupported parameters for \([^)]*\) module", "Unsupported parameters", kept["msg"])
    return kept


@pytest.fixture(scope="module")
def action_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every case through its action plugin, in one playbook run."""
    work = tmp_path_factory.mktemp("pure")
    tasks: list[dict[str, Any]] = [
        {
            "name": name,
            f"iconeus.tenant_toolkit.{module.__name__.rsplit('.', 1)[-1]}": args,
            # A module process would fail here: the action plugin starts none.
            "vars": {"ansible_python_interpreter": "/nonexistent/python"},
            "register": f"result_{name}",
            "ignore_errors": True,
        }
        for name, (module, args) in CASES.items()
    ]
    tasks.append(
        {
            "name": "Write the results",
            "ansible.builtin.copy": {
                "content": "{{ {" + ", ".join(f"'{n}': result_{n}" for n in CASES) + "} | to_json }}",
                "dest": str(work / "results.json"),
                "mode": "0600",
            },
        }
    )
    play = {
        "name": "Pure modules",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": sys.executable},
        "tasks": tasks,
    }
    playbook = work / "pure.yml"
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    environment = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "PATH": f"{BIN}:{os.environ['PATH']}"}
    done = subprocess.run(
        [str(BIN / "ansible-playbook"), str(playbook), "-i", "localhost,"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert SECRET not in done.stdout + done.stderr
    return json.loads((work / "results.json").read_text())


@pytest.mark.parametrize("name", list(CASES))
def test_the_action_plugin_returns_what_the_module_returns(
    name: str, action_results: dict[str, dict[str, Any]]
) -> None:
    module, args = CASES[name]
    expected = module_result(module, args)
    got = action_results[name]
    assert bool(got.get("failed")) == bool(expected.get("failed")), got
    assert got["changed"] is False
    assert comparable(got) == comparable(expected)
    assert [str(w) for w in got.get("warnings", [])] == expected.get("warnings", [])


def test_the_cases_cover_success_failure_warnings_and_masking(action_results: dict[str, dict[str, Any]]) -> None:
    assert action_results["ops_ok"]["variables"] == {"n": 3, "w": None}
    assert action_results["ops_errors"]["errors"] == ['n: must be an integer, got string "zero"']
    assert "the runbook's spec is wrong" in action_results["ops_bad_spec"]["msg"]
    assert action_results["ops_unknown_option"]["msg"].startswith(
        "Unsupported parameters for (iconeus.tenant_toolkit.ops_vars_validate) module: colour."
    )
    assert action_results["ops_missing_option"]["msg"] == "missing required arguments: spec"
    assert action_results["cost"]["estimate"]["total_monthly"] > 1
    assert any("budget" in str(w) for w in action_results["cost"]["warnings"])
    assert action_results["cost_error"]["msg"].startswith("Cannot estimate the cost of the tenant:")
    assert "tenant.name" in action_results["validate_errors"]["msg"]
    assert not action_results["validate_warning"].get("failed")
    assert "did you mean vault_domain_join_password?" in str(action_results["validate_warning"]["warnings"])
    assert action_results["validate_required_by"]["msg"] == "missing parameter(s) required by 'run_tenants': host"
    masked = action_results["validate_secrets"]
    assert masked["failed"] and SECRET not in json.dumps(masked) and "********" in masked["msg"]
