"""validate.yml cannot be skipped by a pre-set `tenant_spec` (issue 16, section 4).

The roles read the normalised definition `tenant_spec`, which playbooks/validate.yml makes from the
`tenant` definition. A `tenant_spec` given by the inventory, or by `-e` (extra vars win even over
set_fact), would hand them a definition nobody validated. Each way is tried on the network stage
against the sandbox: the run is refused, naming the variable, and the sandbox sees no request at all
(no tenant call, not even the lock). A run that skips the validation play (`--skip-tags always`) gets no
AWS environment from group_vars/tenants/aws.yml either.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from sandbox.client import SandboxClient
from tests.helpers import PlaybookRun, demo_tenant, run_playbook, write_inventory

PLAYBOOK = "playbooks/network.yml"
REFUSAL = "set outside playbooks/validate.yml"


def tenant(name: str) -> dict[str, Any]:
    definition = demo_tenant()
    definition["name"] = name
    definition["network"]["cidr"] = "10.198.0.0/16"
    return definition


def refused(run: PlaybookRun, *variables: str) -> str:
    output = run.stdout + run.stderr
    assert run.rc != 0, output
    assert run.client is not None
    assert run.client.log(run.log_mark) == [], "the refused run called AWS"
    for variable in variables:
        assert variable in output, output
    return output


@pytest.fixture
def name() -> str:
    return f"gate-{uuid.uuid4().hex[:6]}"


def test_a_tenant_spec_given_as_an_extra_var_is_refused_before_any_aws_call(
    sandbox: SandboxClient, tmp_path: Path, name: str
) -> None:
    inventory = write_inventory(tmp_path, tenant(name), sandbox)
    run = run_playbook(PLAYBOOK, inventory, sandbox, extra_vars={"tenant_spec": tenant(name)})
    output = refused(run, REFUSAL)
    assert f"tenant_spec {REFUSAL}" in output, output


def test_a_tenant_spec_given_as_a_host_var_is_refused_before_any_aws_call(
    sandbox: SandboxClient, tmp_path: Path, name: str
) -> None:
    inventory = write_inventory(tmp_path, tenant(name), sandbox, {"tenant_spec": tenant(name)})
    output = refused(run_playbook(PLAYBOOK, inventory, sandbox), REFUSAL)
    assert f"tenant_spec {REFUSAL}" in output, output


def test_a_forged_proof_of_validation_is_refused(sandbox: SandboxClient, tmp_path: Path, name: str) -> None:
    spec = tenant(name)
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    forged = {"tenant_spec": spec, "tenant_validated": {"run": "r-000000000000", "digest": digest}}
    inventory = write_inventory(tmp_path, tenant(name), sandbox)
    refused(run_playbook(PLAYBOOK, inventory, sandbox, extra_vars=forged), REFUSAL, "tenant_spec, tenant_validated")


def test_a_lock_given_as_an_extra_var_is_refused(sandbox: SandboxClient, tmp_path: Path, name: str) -> None:
    # lock.yml takes a tenant's lock once per run, when `tenant_lock` is not defined yet.
    inventory = write_inventory(tmp_path, tenant(name), sandbox)
    run = run_playbook(PLAYBOOK, inventory, sandbox, extra_vars={"tenant_lock": {"held": True}})
    assert f"tenant_lock {REFUSAL}" in refused(run, REFUSAL)


def test_a_run_that_skips_validation_gets_no_aws_environment(sandbox: SandboxClient, tmp_path: Path, name: str) -> None:
    inventory = write_inventory(tmp_path, tenant(name), sandbox)
    run = run_playbook(
        PLAYBOOK, inventory, sandbox, extra_vars={"tenant_spec": tenant(name)}, args=["--skip-tags", "always"]
    )
    output = refused(run, "tenant_spec was not made by playbooks/validate.yml in this run")
    assert REFUSAL not in output  # the validation play did not run: the AWS environment refused


def test_a_bad_role_variable_is_refused_before_any_aws_call(sandbox: SandboxClient, tmp_path: Path, name: str) -> None:
    # The fleet role comes after the network, directory and file system stages in site.yml; its variables are
    # checked with the definition (validate.yml, role_variables_validate), not when the fleet stage starts.
    inventory = write_inventory(tmp_path, tenant(name), sandbox, {"appstream_fleet_when_running": "reboot"})
    run = run_playbook("site.yml", inventory, sandbox, extra_vars={"aws_network_nat_gateways": "two"})
    output = refused(run, "appstream_fleet_when_running", "aws_network_nat_gateways")
    assert "role appstream_fleet: value of appstream_fleet_when_running must be one of: fail, restart" in output
