"""The pure modules run in the worker (plugins/action/, plugin_utils/pure_module.py) and return what the module
returns. One playbook runs every case twice: through the action plugin, with a Python interpreter that does not
exist (so no module process could have run), and through a copy of the module under another name from a
library folder (`ANSIBLE_LIBRARY`), which Ansible runs the way it ran these modules before: AnsiballZ, a Python
process. The two results are compared."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import run_tasks

ROOT = Path(__file__).resolve().parents[2]
PRICES = yaml.safe_load((ROOT / "data" / "prices.yml").read_text())
DEMO = yaml.safe_load((ROOT / "inventories" / "demo" / "host_vars" / "demo" / "tenant.yml").read_text())["tenant"]
CATALOGUE = yaml.safe_load((ROOT / "group_vars" / "all" / "catalogue.yml").read_text())["app_catalogue"]
# no_log values that the results contain: the failure message of the first names the variable (the variable's
# name is used as its value so that it shows), the warning of the second says "user-pool tenants".
SECRET = "vault_directory_admin_password:"
IN_WARNING = "user-pool tenants"
OPS, COST, VALIDATE = "ops_vars_validate", "tenant_cost_estimate", "tenant_validate"
NEIGHBOUR = ["other", "other-lab", DEMO["network"]["cidr"]]

CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "ops_ok": (OPS, {"spec": {"n": {"type": "int", "minimum": 1}, "w": {"type": "bool"}}, "variables": {"n": "3"}}),
    "ops_errors": (OPS, {"spec": {"n": {"type": "int", "minimum": 1}}, "variables": {"n": "zero"}, "context": "x"}),
    "ops_bad_spec": (OPS, {"spec": {"n": {"type": "integer"}}, "variables": {}}),
    "ops_bad_pattern": (OPS, {"spec": {"n": {"type": "str", "pattern": "("}}, "variables": {"n": "a"}}),
    "ops_unknown_option": (OPS, {"spec": {}, "variables": {}, "colour": "red"}),
    "ops_missing_option": (OPS, {"variables": {}}),
    "cost": (COST, {"tenant": {**DEMO, "budget": {"monthly_usd": 1}}, "prices": PRICES}),
    "cost_error": (COST, {"tenant": DEMO, "prices": {"currency": "USD"}}),
    "validate_ok": (
        VALIDATE,
        {"tenant": DEMO, "catalogue": CATALOGUE, "host": "demo", "run_tenants": [["demo", "demo", "10.40.0.0/16"]]},
    ),
    "validate_overlap_warning": (
        VALIDATE,
        {
            "tenant": DEMO,
            "catalogue": CATALOGUE,
            "host": "demo",
            "run_tenants": [["demo", "demo", DEMO["network"]["cidr"]], NEIGHBOUR],
        },
    ),
    "validate_errors": (VALIDATE, {"tenant": {"name": "Not A Name", "region": 3}}),
    "validate_warning": (
        VALIDATE,
        {"tenant": {"auth": "saml"}, "secrets": {"vault_domain_join_pasword": "x"}, "vault_variables": []},
    ),
    "validate_required_by": (VALIDATE, {"tenant": DEMO, "run_tenants": [["demo", "demo"]]}),
    "validate_secrets": (
        VALIDATE,
        {"tenant": {"auth": "saml"}, "secrets": {"vault_directory_admin_password": SECRET}, "vault_variables": []},
    ),
    "validate_secret_in_warning": (
        VALIDATE,
        {"tenant": {"auth": "userpool"}, "secrets": {"vault_domain_join_password": IN_WARNING}, "vault_variables": []},
    ),
}
# The module path leaves its warnings unmasked (ansible-core 2.19); the action plugin masks them.
UNMASKED_BY_THE_MODULE = {"validate_secret_in_warning"}


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """A task result without what only one side adds (the module's invocation, Ansible's bookkeeping)."""
    dropped = {"invocation", "changed", "failed", "warnings", "deprecations", "exception"}
    kept = {key: value for key, value in result.items() if key not in dropped and not key.startswith("_ansible")}
    if "msg" in kept:  # each names itself
        kept["msg"] = kept["msg"].replace("(mod_", "(iconeus.tenant_toolkit.")
    return kept


def warnings_of(result: dict[str, Any]) -> list[str]:
    return [str(w.get("msg", w) if isinstance(w, dict) else w) for w in result.get("warnings", [])]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict[str, Any]]]:
    """Every case through its action plugin and through the module, in one playbook run."""
    work = tmp_path_factory.mktemp("pure")
    library = work / "library"
    library.mkdir()
    for name in (OPS, COST, VALIDATE):
        shutil.copy(ROOT / "plugins" / "modules" / f"{name}.py", library / f"mod_{name}.py")
    tasks: list[dict[str, Any]] = []
    for case, (name, args) in CASES.items():
        common = {"ignore_errors": True}
        tasks.append(
            {
                "name": f"{case} (action)",
                f"iconeus.tenant_toolkit.{name}": args,
                # A module process would fail here: the action plugin starts none.
                "vars": {"ansible_python_interpreter": "/nonexistent/python"},
                "register": f"action_{case}",
                **common,
            }
        )
        tasks.append({"name": f"{case} (module)", f"mod_{name}": args, "register": f"module_{case}", **common})
    tasks.append(
        {
            "name": "ops_ok in check mode (action)",
            f"iconeus.tenant_toolkit.{OPS}": CASES["ops_ok"][1],
            "check_mode": True,
            "vars": {"ansible_python_interpreter": "/nonexistent/python"},
            "register": "action_ops_ok_check",
        }
    )
    registered = [f"'{side}_{case}': {side}_{case}" for case in CASES for side in ("action", "module")]
    tasks.append(
        {
            "name": "Write the results",
            "ansible.builtin.copy": {
                "content": "{{ {"
                + ", ".join([*registered, "'action_ops_ok_check': action_ops_ok_check"])
                + "} | to_json }}",
                "dest": str(work / "results.json"),
                "mode": "0600",
            },
        }
    )
    done = run_tasks(work, tasks, None, env={"ANSIBLE_LIBRARY": str(library)}, timeout=300)
    assert done.rc == 0, done.stdout[-3000:] + done.stderr[-2000:]
    raw = json.loads((work / "results.json").read_text())
    got: dict[str, dict[str, dict[str, Any]]] = {}
    for key, value in raw.items():
        side, case = key.split("_", 1)
        got.setdefault(case, {})[side] = value
    got["_output"] = {"stdout": {"text": done.stdout + done.stderr}}
    return got


@pytest.mark.parametrize("case", list(CASES))
def test_the_action_plugin_returns_what_the_module_returns(
    case: str, results: dict[str, dict[str, dict[str, Any]]]
) -> None:
    action, module = results[case]["action"], results[case]["module"]
    assert bool(action.get("failed")) == bool(module.get("failed")), action
    assert action["changed"] is False and module["changed"] is False
    assert comparable(action) == comparable(module)
    if case not in UNMASKED_BY_THE_MODULE:
        assert warnings_of(action) == warnings_of(module)


def test_the_cases_cover_success_failure_warnings_and_masking(results: dict[str, dict[str, dict[str, Any]]]) -> None:
    action = {case: sides["action"] for case, sides in results.items() if "action" in sides}
    assert action["ops_ok"]["variables"] == {"n": 3, "w": None}
    assert action["ops_ok_check"]["variables"] == {"n": 3, "w": None}
    assert action["ops_errors"]["errors"] == ['n: must be an integer, got string "zero"']
    assert "the runbook's spec is wrong" in action["ops_bad_spec"]["msg"]
    assert "the runbook's spec is wrong" in action["ops_bad_pattern"]["msg"]
    assert action["ops_unknown_option"]["msg"].startswith(
        "Unsupported parameters for (iconeus.tenant_toolkit.ops_vars_validate) module: colour."
    )
    assert action["ops_missing_option"]["msg"] == "missing required arguments: spec"
    assert action["cost"]["estimate"]["total_monthly"] > 1
    assert any("budget" in w for w in warnings_of(action["cost"]))
    assert action["cost_error"]["msg"].startswith("Cannot estimate the cost of the tenant:")
    assert action["validate_ok"]["image_name"] == f"demo-suite-{action['validate_ok']['catalogue_hash']}"
    assert action["validate_ok"]["tenant"]["name"] == "demo" and "warnings" not in action["validate_ok"]
    assert any("overlaps the VPC range of host other (" in w for w in warnings_of(action["validate_overlap_warning"]))
    assert "tenant.name" in action["validate_errors"]["msg"]
    assert not action["validate_warning"].get("failed")
    assert "did you mean vault_domain_join_password?" in str(warnings_of(action["validate_warning"]))
    assert action["validate_required_by"]["msg"] == "missing parameter(s) required by 'run_tenants': host"
    masked = action["validate_secrets"]
    assert masked["failed"] and SECRET not in json.dumps(masked) and "********" in masked["msg"]
    in_warning = warnings_of(action["validate_secret_in_warning"])
    assert in_warning and IN_WARNING not in str(in_warning) and "********" in str(in_warning)
    assert SECRET not in results["_output"]["stdout"]["text"]
