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


def test_the_definition_file_may_hold_nothing_but_the_definition(tmp_path):
    """Another key in the customer's file (here a pre-set tenant_spec carrying a lookup) would reach Ansible
    as a trusted template through host_group_vars: the inventory is refused before any play runs."""
    proof = tmp_path / "the-lookup-ran"
    inventory = write_inventory(tmp_path / "inventory", demo_tenant())
    definition = inventory / "host_vars" / "demo" / "tenant.yml"
    smuggled = "tenant_spec:\n  name: \"{{ lookup('pipe', 'touch " + str(proof) + "') }}\"\n"
    definition.write_text(definition.read_text() + smuggled)
    run = run_playbook("playbooks/validate.yml", inventory)
    assert run.rc != 0
    said = run.stdout + run.stderr
    assert "may hold nothing else; it also sets tenant_spec" in said and str(definition) in said
    assert not proof.exists(), "the smuggled template was evaluated on the controller"
