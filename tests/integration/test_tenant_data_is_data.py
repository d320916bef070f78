"""A tenant definition comes from a customer: none of its values is ever evaluated on the controller."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import demo_tenant, run_playbook, write_inventory


def hostile_inventory(tmp_path: Path) -> tuple[Path, Path]:
    """A definition whose user's first name would create a file through a pipe lookup if rendered."""
    proof = tmp_path / "the-lookup-ran"
    tenant = demo_tenant()
    tenant["name"] = "hostile"
    tenant["users"][0]["first_name"] = "{{ lookup('pipe', 'touch " + str(proof) + " && echo Ada') }}"
    return write_inventory(tmp_path / "inventory", tenant), proof


def test_a_template_in_the_definition_is_refused_and_never_runs(tmp_path):
    inventory, proof = hostile_inventory(tmp_path)
    run = run_playbook("playbooks/validate.yml", inventory)
    assert run.rc != 0
    assert "tenant.users[0].first_name: contains '{{'" in run.stdout + run.stderr
    assert not proof.exists(), "the customer's template was evaluated on the controller"


def test_without_the_tenant_definition_vars_plugin_the_same_file_would_run_code(tmp_path):
    """The control case: Ansible's own host_vars loading trusts the file, which is why the plugin exists."""
    inventory, proof = hostile_inventory(tmp_path)
    run = run_playbook(
        "playbooks/validate.yml", inventory, env={"ANSIBLE_VARS_ENABLED": "host_group_vars"}, args=["--check"]
    )
    assert proof.exists(), run.stdout + run.stderr
