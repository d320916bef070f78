"""playbooks/validate.yml end to end: real ansible-playbook runs, no AWS needed.

Every run points AWS_ENDPOINT_URL at a closed loopback port: a single AWS call
would fail the run, so a passing demo run shows validation makes none.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
CLOSED_ENDPOINT = "http://127.0.0.1:9"


def run_validate(
    inventory: Path, *extra: str, playbook: str = "playbooks/validate.yml"
) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "AWS_ENDPOINT_URL": CLOSED_ENDPOINT,
        "AWS_ACCESS_KEY_ID": "not-a-key",
        "AWS_SECRET_ACCESS_KEY": "not-a-secret",
        "AWS_MAX_ATTEMPTS": "1",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    }
    return subprocess.run(
        [str(ANSIBLE_PLAYBOOK), playbook, "-i", str(inventory), *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def write_inventory(directory: Path, tenants: dict[str, Any]) -> Path:
    """A tenant inventory laid out as design.md section 4 describes it.

    A value of ``None`` declares the host without any tenant definition.
    """
    hosts = {name: {} for name in tenants}
    (directory / "hosts.yml").write_text(yaml.safe_dump({"tenants": {"hosts": hosts}}), encoding="utf-8")
    for name, tenant in tenants.items():
        if tenant is None:
            continue
        host_vars = directory / "host_vars" / name
        host_vars.mkdir(parents=True)
        if isinstance(tenant, dict) and tenant.get("auth") == "saml":
            # SAML tenants need their IdP's metadata beside the inventory (checked by validation).
            (directory / "files").mkdir(exist_ok=True)
            shutil.copy(ROOT / "inventories" / "demo" / "files" / "saml-metadata.xml", directory / "files")
        (host_vars / "tenant.yml").write_text(yaml.safe_dump({"tenant": tenant}, sort_keys=False), encoding="utf-8")
    return directory / "hosts.yml"


def demo_tenant() -> dict[str, Any]:
    path = ROOT / "inventories" / "demo" / "host_vars" / "demo" / "tenant.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["tenant"]


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def assert_all_in(output: str, *expected: str) -> None:
    for line in expected:
        assert line in output, f"{line!r} missing from:\n{output}"


def demo_with_role_variables(tmp_path: Path, variables: dict[str, Any]) -> Path:
    """A copy of the demo inventory whose tenant host is given `variables` (host_vars/demo/roles.yml)."""
    inventory = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventories" / "demo", inventory)
    (inventory / "host_vars" / "demo" / "roles.yml").write_text(yaml.safe_dump(variables), encoding="utf-8")
    return inventory


@pytest.mark.parametrize(("inventory", "host"), [("demo", "demo"), ("example", "acme-neuro")])
def test_shipped_inventories_validate_without_aws(inventory: str, host: str) -> None:
    result = run_validate(ROOT / "inventories" / inventory, "-v")
    output = output_of(result)
    assert result.returncode == 0, output
    # The checks, the read of the run's tenant list (one host here) and the group of the tenants this run validated.
    assert re.search(rf"{host}\s+: ok=6\s+changed=0\s+unreachable=0\s+failed=0", output), output
    assert re.search(rf'"?image_name"?: "?{host}-suite-[0-9a-f]{{12}}"?', output), output


def test_a_broken_tenant_fails_listing_every_error(tmp_path: Path) -> None:
    broken = demo_tenant()
    broken["name"] = "Demo_Lab"
    broken["network"]["nat_gatway"] = broken["network"].pop("nat_gateways")
    broken["storage"]["storage_gib"] = 16
    broken["appstream"]["fleet"]["type"] = "ELASTIC"
    broken["apps"] = ["icostudio", "icostudo"]
    inventory = write_inventory(tmp_path, {"broken": broken, "good": demo_tenant() | {"name": "good"}})

    result = run_validate(inventory)
    output = output_of(result)

    assert result.returncode != 0, output
    assert "Tenant validation failed with 6 errors:" in output, output
    assert_all_in(
        output,
        "- tenant.name: ",
        "- tenant.network.nat_gatway: unknown key (did you mean nat_gateways?)",
        "- tenant.storage.storage_gib: 16 is below the SSD minimum of 32",
        "- tenant.appstream.fleet.type: ELASTIC fleets cannot be domain-joined",
        "- tenant.appstream.fleet.schedule: ELASTIC fleets have no capacity to schedule",
        '- tenant.apps[1]: "icostudo" is not in app_catalogue (did you mean icostudio?)',
    )
    # The other tenant of the same run is validated on its own. (`broken`, the first host, also ran the task that
    # reads the run's tenant list once for every host: one ok more.)
    assert re.search(r"good\s+: ok=5\s+changed=0\s+unreachable=0\s+failed=0", output), output
    assert re.search(r"broken\s+: ok=2\s+changed=0\s+unreachable=0\s+failed=1", output), output


@pytest.mark.parametrize(
    "forged",
    [[], ["-e", '{"_tenants": []}'], ["-e", '{"_names": [], "_cidrs": []}'], ["-e", '{"tenant_run_tenants": []}']],
    ids=["plain", "_tenants", "_names_cidrs", "tenant_run_tenants"],
)
def test_two_hosts_of_one_tenant_name_fail_naming_each_other_whatever_extra_vars_say(
    tmp_path: Path, forged: list[str]
) -> None:
    # The run's tenant list is read once, by the first host (`first`), for all: the twins come after it.
    first = demo_tenant() | {"name": "lab-a"}
    twin = demo_tenant() | {"name": "lab-b"}
    first["network"] = first["network"] | {"cidr": "10.41.0.0/16"}
    twin["network"] = twin["network"] | {"cidr": "10.41.0.0/16"}
    inventory = write_inventory(tmp_path, {"first": first, "second": twin, "third": twin})
    result = run_validate(inventory, *forged)
    output = output_of(result)
    assert result.returncode != 0, output
    if forged and "tenant_run_tenants" in forged[-1]:
        assert "tenant_run_tenants set outside playbooks/validate.yml" in output, output
        return
    assert 'tenant.name: "lab-b" is also the tenant.name of host third in this run' in output, output
    assert 'tenant.name: "lab-b" is also the tenant.name of host second in this run' in output, output
    assert re.search(r"second\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=1", output), output
    assert re.search(r"third\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=1", output), output
    # The first host's range overlaps theirs: a warning, not an error.
    assert re.search(r"first\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0", output), output
    assert "tenant.network.cidr: 10.41.0.0/16 of host first overlaps the VPC range of hosts second" in output


def test_a_missing_tenant_definition_names_the_tenant_variable(tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path, {"empty": None})
    result = run_validate(inventory)
    output = output_of(result)
    assert result.returncode != 0, output
    assert "missing required arguments: tenant" in output, output


def test_a_saml_tenant_without_idp_metadata_fails_validation(tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path, {"nometa": {**demo_tenant(), "name": "nometa"}})
    (tmp_path / "files" / "saml-metadata.xml").unlink()
    result = run_validate(inventory)
    output = output_of(result)
    assert result.returncode != 0
    expected = f"tenant.auth: saml needs the customer's SAML 2.0 IdP metadata in {tmp_path}/files/saml-metadata.xml"
    assert expected in output, output
    # Checked by the validation task itself: nothing is recorded for the tenant.
    assert re.search(r"nometa\s+: ok=2\s+changed=0\s+unreachable=0\s+failed=1", output), output


def test_the_saml_metadata_file_is_checked_for_saml_tenants_only(tmp_path: Path) -> None:
    from ansible_collections.iconeus.tenant_toolkit.plugins.modules.tenant_validate import saml_metadata_errors

    missing, present = tmp_path / "missing.xml", tmp_path / "present.xml"
    present.write_text("<EntityDescriptor/>", encoding="utf-8")
    assert saml_metadata_errors({"auth": "saml"}, str(present)) == []
    assert saml_metadata_errors({"auth": "userpool"}, str(missing)) == []
    (error,) = saml_metadata_errors({"auth": "saml"}, str(missing))
    assert error.startswith(f"tenant.auth: saml needs the customer's SAML 2.0 IdP metadata in {missing} ")
    assert saml_metadata_errors({"auth": "saml"}, str(tmp_path)) != [], "a directory is not the metadata file"


def test_reserved_usernames_and_shell_characters_fail_naming_the_field(tmp_path: Path) -> None:
    # Tenant data that would become a built-in account's name, a SID or a command-line metacharacter.
    tenant = demo_tenant() | {"name": "names"}
    tenant["users"] = [
        *tenant["users"],
        {"email": "everyone@lab.example", "first_name": "Every", "last_name": "One"},
        {"email": "x@lab.example", "first_name": "Sid", "last_name": "Shaped", "username": "S-1-5-18"},
        {"email": "bob&calc@lab.example", "first_name": "Bob", "last_name": "Calc"},
        {"email": "svc@lab.example", "first_name": "Image", "last_name": "Build", "username": "SVC-IMAGEBUILD"},
    ]
    inventory = write_inventory(tmp_path, {"names": tenant})

    result = run_validate(inventory)
    output = output_of(result)

    assert result.returncode != 0, output
    assert "Tenant validation failed with 4 errors:" in output, output
    assert_all_in(
        output,
        '- tenant.users[3].email: the username derived from it, "everyone", is a reserved account name',
        '- tenant.users[4].username: "S-1-5-18" is a reserved account name: it is shaped like a security identifier',
        '- tenant.users[5].email: "bob&calc@lab.example" has "&" in its local part',
        '- tenant.users[6].username: "SVC-IMAGEBUILD" is a reserved account name: the toolkit creates an account',
    )
    # Refused at validation (after the preset check and the read of the run's tenant list): no later task ran.
    assert re.search(r"names\s+: ok=2\s+changed=0\s+unreachable=0\s+failed=1", output), output


def run_twice_validated(directory: Path, inventory: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """validate.yml imported twice in one run, as site.yml's stages do, then the proof it leaves."""
    directory.mkdir()
    (directory / "group_vars").symlink_to(ROOT / "group_vars")  # the catalogue, as playbooks/group_vars does
    validate = str(ROOT / "playbooks" / "validate.yml")
    plays = [
        {"ansible.builtin.import_playbook": validate},
        {"ansible.builtin.import_playbook": validate},
        {
            "name": "Show the proof of validation",
            "hosts": "tenants",
            "gather_facts": False,
            "tasks": [
                {"name": "Show it", "ansible.builtin.debug": {"msg": "PROOF={{ tenant_validated | to_json }}"}},
                {
                    "name": "Show the groups",
                    "ansible.builtin.debug": {"msg": "GROUPS {{ inventory_hostname }} {{ group_names | join(',') }}"},
                },
            ],
        },
    ]
    playbook = directory / "play.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False), encoding="utf-8")
    env = os.environ | {"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    return subprocess.run(
        [str(ANSIBLE_PLAYBOOK), str(playbook), "-i", str(inventory), *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_tenant_is_validated_once_per_run_and_the_later_imports_keep_the_result(tmp_path: Path) -> None:
    result = run_twice_validated(tmp_path / "play", ROOT / "inventories" / "demo")
    output = output_of(result)
    assert result.returncode == 0, output
    # The first import validates and counts the tenant in this run's group of validated tenants; the second
    # leaves that group out of its hosts, so it runs no task at all (not even a skipped one).
    checks = re.findall(r"TASK \[Ensure nothing but validation set the normalised definition\][^\n]*\n(\w+):", output)
    assert checks == ["ok"], output
    plays = re.findall(r"PLAY \[Validate the tenant definitions\][^\n]*\n\n?([^\n]*)", output)
    assert len(plays) == 2 and plays[1] == "skipping: no hosts matched", output
    found = re.search(r"PROOF=(\{[^}]*\})", output)
    assert found, output
    proof = json.loads(found.group(1).replace('\\"', '"'))
    assert re.fullmatch(r"r-[0-9a-f]{12}", proof["run"]) and re.fullmatch(r"[0-9a-f]{64}", proof["digest"])


def test_no_inventory_group_or_extra_var_makes_a_later_import_skip_validation(tmp_path: Path) -> None:
    """Only the group this run makes (its name holds the run id, made after the inventory) leaves a tenant out."""
    inventory = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventories" / "demo", inventory)
    look_alikes = ["tenant_toolkit_validated_", "tenant_toolkit_validated_r_000000000000", "tenant_toolkit_locked_"]
    hosts = {"tenants": {"hosts": {"demo": {}}}} | {name: {"hosts": {"demo": {}}} for name in look_alikes}
    (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts), encoding="utf-8")
    forged = json.dumps({"groups": {name: ["demo"] for name in look_alikes}})
    result = run_twice_validated(tmp_path / "play", inventory, "-e", forged)
    output = output_of(result)
    assert result.returncode == 0, output
    # The first import validates the tenant whatever groups it is in; the second leaves it out.
    checks = re.findall(r"TASK \[Ensure nothing but validation set the normalised definition\][^\n]*\n(\w+):", output)
    assert checks == ["ok"], output
    assert re.search(r"demo\s+: ok=8\s+changed=0\s+unreachable=0\s+failed=0", output), output


@pytest.mark.parametrize(
    "variables",
    [
        {"tenant_spec": {"name": "demo"}},
        {"tenant_apps": ["icostudio"]},
        {"tenant_image_name": "demo-suite-000000000000"},
        {"tenant_secret_connection": {"region": "eu-west-3"}},
        # Would make the modules take another tenant's resource for the tenant's (their known_tags).
        {"tenant_known_tags": {"run": "r-000000000000", "resources": {"arn:aws:ds:eu-west-3:1:directory/d-1": {}}}},
        # Would hide the other tenants of the run from the name and VPC range checks.
        {"tenant_run_tenants": [["demo", "demo", "10.40.0.0/16"]]},
    ],
    ids=lambda variables: next(iter(variables)),
)
def test_a_value_validation_makes_given_as_an_extra_var_is_refused(tmp_path: Path, variables: dict[str, Any]) -> None:
    result = run_validate(ROOT / "inventories" / "demo", "-e", json.dumps(variables))
    output = output_of(result)
    assert result.returncode != 0, output
    assert f"{next(iter(variables))} set outside playbooks/validate.yml" in output, output
    assert "Tenant validation failed" not in output  # refused before the definition is even read


def test_validation_groups_the_saml_tenants_and_those_with_an_ingest_for_their_stages(tmp_path: Path) -> None:
    """The directory, storage, directory content and share plays take this run's SAML tenants, the ingest play
    the tenants with an ingest; inventory look-alikes of those groups give nothing."""
    example = yaml.safe_load((ROOT / "inventories/example/host_vars/acme-neuro/tenant.yml").read_text())["tenant"]
    pool = {**demo_tenant(), "name": "lab-pool", "auth": "userpool"}
    pool["network"] = {**pool["network"], "cidr": "10.62.0.0/16"}
    for key in ("directory", "storage"):
        pool.pop(key)
    pool["users"] = [{k: v for k, v in user.items() if k != "username"} for user in pool["users"]]
    (tmp_path / "inventory").mkdir()
    inventory = write_inventory(
        tmp_path / "inventory", {"acme-neuro": example, "demo": demo_tenant(), "lab-pool": pool}
    )
    hosts = yaml.safe_load(inventory.read_text())
    look_alikes = ["tenant_toolkit_saml_", "tenant_toolkit_saml_r_000000000000", "tenant_toolkit_ingest_r_000000000000"]
    hosts |= {name: {"hosts": {"lab-pool": {}}} for name in look_alikes}
    inventory.write_text(yaml.safe_dump(hosts), encoding="utf-8")
    for name in ("acme-neuro", "demo"):  # the vault secrets the shipped inventories keep beside their definition
        for extra in (ROOT / "inventories").glob(f"*/host_vars/{name}/*.yml"):
            if extra.name != "tenant.yml":
                shutil.copy(extra, tmp_path / "inventory" / "host_vars" / name)
    result = run_twice_validated(tmp_path / "play", inventory)
    output = output_of(result)
    assert result.returncode == 0, output
    run_id = re.search(r'PROOF=\{"run": "(r-[0-9a-f]{12})"', output.replace('\\"', '"'))
    assert run_id, output
    this_run = run_id.group(1).replace("-", "_")
    shown = dict(re.findall(r"msg: GROUPS (\S+) (\S*)", output))
    groups = {host: {name.replace(this_run, "<run>") for name in names.split(",")} for host, names in shown.items()}
    assert set(groups) == {"acme-neuro", "demo", "lab-pool"}, output
    run = "tenant_toolkit_{}_<run>"
    assert groups["acme-neuro"] >= {run.format("validated"), run.format("saml"), run.format("ingest")}, output
    assert (
        groups["demo"] >= {run.format("validated"), run.format("saml")} and run.format("ingest") not in groups["demo"]
    )
    assert run.format("saml") not in groups["lab-pool"] and run.format("ingest") not in groups["lab-pool"]
    assert run.format("validated") in groups["lab-pool"]


def test_a_bad_role_variable_fails_validation_naming_the_role_and_the_variable(tmp_path: Path) -> None:
    """The stage playbooks call the roles with rolespec_validate: false: validate.yml checks what the inventory and
    -e give the roles, before any AWS call (a bad fleet variable used to fail only once the fleet stage started)."""
    inventory = demo_with_role_variables(
        tmp_path,
        {
            "appstream_fleet_when_running": "reboot",
            "appstream_fleet_image_name": "ok-image",
            "tenant_guardrails_budget_name": "{{ 1 + }}",
        },
    )
    result = run_validate(inventory, "-e", json.dumps({"aws_network_nat_gateways": "two", "tenant_alerts_tags": 3}))
    output = output_of(result)
    assert result.returncode != 0, output
    assert "Role variables given in the inventory or with -e are not valid (nothing was changed)" in output, output
    assert_all_in(
        output,
        "role appstream_fleet: value of appstream_fleet_when_running must be one of: fail, restart, got: reboot",
        "role aws_network: value of aws_network_nat_gateways must be one of: single, per_az, none, got: two",
        "role aws_network (tasks_from: dhcp): value of aws_network_nat_gateways must be one of",
        "role tenant_alerts: argument 'tenant_alerts_tags' is of type int and we were unable to convert to dict",
        "role tenant_guardrails: tenant_guardrails_budget_name cannot be templated: ",
    )
    assert re.search(r"demo\s+: ok=4\s+changed=0\s+unreachable=0\s+failed=1", output), output


def test_good_role_variables_pass_and_a_value_made_from_a_later_fact_is_left_to_its_stage(tmp_path: Path) -> None:
    given = {
        "appstream_fleet_when_running": "restart",
        "aws_network_nat_gateways": "per_az",
        # Made from the validated definition: checked with its value.
        "appstream_fleet_image_name": "{{ tenant_spec.name }}-pinned",
        # Made from a fact of a later stage: left to that stage's module.
        "aws_network_dhcp_dns_servers": "{{ tenant_directory.dns_ip_addrs }}",
        # Named like the role's options, but none of them: a misspelling, which the role would never read.
        "aws_network_nat_gatways": "single",
    }
    inventory = demo_with_role_variables(tmp_path, given)
    result = run_validate(inventory, "-v")
    output = output_of(result)
    assert result.returncode == 0, output
    found = re.search(r"checked:\n((?:\s+- \w+\n)+)", output)
    assert found, output
    assert found.group(1).split() == [
        "-",
        "appstream_fleet_image_name",
        "-",
        "appstream_fleet_when_running",
        "-",
        "aws_network_nat_gateways",
    ], output
    assert re.search(r"deferred:\n\s+- aws_network_dhcp_dns_servers\n", output), output
    assert "[demo] aws_network_dhcp_dns_servers: not checked against the role's argument spec before the run" in output
    assert (
        "[demo] aws_network_nat_gatways is not a variable of role aws_network (did you mean aws_network_nat_gateways?)"
        in output
    ), output
    assert re.search(r"unused:\n\s+- aws_network_nat_gatways\n", output), output


def test_a_role_variable_that_templates_to_omit_or_calls_a_lookup_is_not_checked(tmp_path: Path) -> None:
    given = {
        # omit: not given, the role default applies (as in the role's own check).
        "appstream_fleet_image_name": "{{ no_such_variable | default(omit) }}",
        # A lookup is not run before its stage: this one would fail the run if it were.
        "appstream_fleet_tags": "{{ lookup('ansible.builtin.file', '/nonexistent/role-variables-validate') }}",
    }
    inventory = demo_with_role_variables(tmp_path, given)
    result = run_validate(inventory)
    output = output_of(result)
    assert result.returncode == 0, output
    assert "[demo] appstream_fleet_tags: not checked against the role's argument spec before the run" in output, output
    assert "appstream_fleet_image_name" not in output, output
    assert "/nonexistent/role-variables-validate" not in output, output


def test_a_runbook_warns_about_a_bad_role_variable_and_goes_on(tmp_path: Path) -> None:
    """The runbooks import validate.yml with validate_role_variables: false (their roles check their own)."""
    inventory = demo_with_role_variables(tmp_path, {"aws_network_nat_gateways": "two"})
    refused = run_validate(inventory)
    assert refused.returncode != 0 and "aws_network_nat_gateways must be one of" in output_of(refused)
    # playbooks/ops/catalogue.yml: validation, then the catalogue resolved with filters (no AWS call either).
    result = run_validate(inventory, playbook="playbooks/ops/catalogue.yml")
    output = output_of(result)
    assert result.returncode == 0, output
    assert (
        "[WARNING]: [demo] Role variables given in the inventory or with -e are not valid, left to the roles' own"
        in output
    ), output
    assert "role aws_network: value of aws_network_nat_gateways must be one of" in output, output
    assert "demo-suite-" in output, output  # the runbook went on
