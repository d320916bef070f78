"""Broken input never reaches AWS: runs stop in validation, naming the offending field or variable.

Tenant definitions: all broken tenants sit in one inventory, one host each, and go through one
`ansible-playbook site.yml` run against the shared sandbox. Every host must fail in the validation play
with a message naming the offending field, no later stage may run, and the sandbox's request log must
show no AWS call at all. Each case changes one thing in a copy of the demo tenant (a few need two, e.g.
a user-pool tenant), so the errors of a host are exactly the expected ones: one mistake, one message.

Vault variables and rules across the tenants of one run: a secret supplied through ansible-vault must be
usable (it fails naming the variable, never printing the value); one tenant name per run; overlapping VPC
ranges of one run are legal in AWS and only warned about.

Runbook variables (slow: one run per case): each ops runbook given broken extra variables, as an
operator types them, fails naming the variable before any AWS call.
"""

from __future__ import annotations

import copy
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandbox.client import SandboxClient
from tests.helpers import PlaybookRun, run_playbook
from tests.reliability.tenants import DEMO, DEMO_TENANT, demo_tenant, write_demo_inventory, write_tenants

DELETE = object()
DEMO_FILES = DEMO / "files"
VALIDATE_PLAY = "Validate the tenant definitions"


@dataclass(frozen=True)
class Case:
    """One broken definition: changes applied to the demo tenant and the errors they must cause."""

    id: str
    changes: dict[str, Any]
    expected: tuple[str, ...]

    def tenant(self, index: int) -> Any:
        """The broken definition; a change of the path "" replaces the whole `tenant` variable."""
        if "" in self.changes:
            return self.changes[""]
        tenant = copy.deepcopy(DEMO_TENANT)
        tenant["name"] = f"bad-input-{index:02d}"
        for path, value in self.changes.items():
            *parents, last = path.split(".")
            node = tenant
            for key in parents:
                node = node[int(key)] if isinstance(node, list) else node[key]
            if value is DELETE:
                del node[last]
            elif isinstance(node, list):
                node[int(last)] = value
            else:
                node[last] = value
        return tenant


ADA = {"email": "ada@lab.example", "first_name": "Ada", "last_name": "Lovelace"}
ALAN = {"email": "alan@lab.example", "first_name": "Alan", "last_name": "Turing"}
# A valid user-pool tenant: no directory, no storage, users without a username.
USERPOOL = {"auth": "userpool", "directory": DELETE, "storage": DELETE, "users": [ADA, ALAN]}

CASES = [
    # --- identity ----------------------------------------------------------------------------------
    Case("name-pattern", {"name": "Demo_Lab"}, ('tenant.name: "Demo_Lab" does not match ^[a-z][a-z0-9-]{2,23}$',)),
    Case("name-too-long", {"name": "a" * 25}, ("tenant.name: ",)),
    Case("name-reserved-prefix", {"name": "aws-lab"}, ("tenant.name: \"aws-lab\" starts with 'aws'",)),
    Case("name-missing", {"name": DELETE}, ("tenant.name: is required but missing",)),
    Case("environment-choice", {"environment": "staging"}, ('tenant.environment: "staging" is not one of dev',)),
    Case("region-pattern", {"region": "paris"}, ('tenant.region: "paris" does not match an AWS region name',)),
    Case("auth-choice", {"auth": "ldap"}, ('tenant.auth: "ldap" is not one of saml, userpool',)),
    Case("unknown-top-level-key", {"owner": "ops"}, ("tenant.owner: unknown key",)),
    Case("not-a-mapping", {"": "demo"}, ('tenant: must be a mapping, got string "demo"',)),
    Case("no-definition", {"": None}, ("missing required arguments: tenant",)),
    # --- network -----------------------------------------------------------------------------------
    Case("cidr-no-prefix", {"network.cidr": "10.40.0.0"}, ('tenant.network.cidr: "10.40.0.0" has no prefix length',)),
    Case("cidr-host-bits", {"network.cidr": "10.40.1.0/16"}, ('tenant.network.cidr: "10.40.1.0/16" has host bits',)),
    Case("cidr-too-large", {"network.cidr": "10.0.0.0/8"}, ("tenant.network.cidr: prefix /8 is outside /16 to /22",)),
    Case("cidr-too-small", {"network.cidr": "10.40.0.0/24"}, ("tenant.network.cidr: prefix /24 is outside",)),
    Case("cidr-public", {"network.cidr": "8.8.0.0/16"}, ("tenant.network.cidr: 8.8.0.0/16 is not inside an RFC 1918",)),
    Case("cidr-garbage", {"network.cidr": "ten.forty/16"}, ('tenant.network.cidr: "ten.forty/16" is not an IPv4',)),
    Case(
        "zones-choice", {"network.availability_zones": 4}, ("tenant.network.availability_zones: 4 is not one of 2, 3",)
    ),
    Case(
        "zones-boolean",
        {"network.availability_zones": True},
        ("tenant.network.availability_zones: must be an integer, got boolean",),
    ),
    Case("nat-choice", {"network.nat_gateways": "double"}, ('tenant.network.nat_gateways: "double" is not one of',)),
    Case(
        "network-key-typo",
        {"network.nat_gatway": "single", "network.nat_gateways": DELETE},
        ("tenant.network.nat_gatway: unknown key (did you mean nat_gateways?)",),
    ),
    # --- sign-in mode conflicts ----------------------------------------------------------------------
    Case("saml-without-directory", {"directory": DELETE}, ("tenant.directory: is required when tenant.auth is saml",)),
    Case("saml-without-storage", {"storage": DELETE}, ("tenant.storage: is required when tenant.auth is saml",)),
    Case(
        "userpool-with-storage",
        {**USERPOOL, "storage": DEMO_TENANT["storage"]},
        ("tenant.storage: is not allowed when tenant.auth is userpool",),
    ),
    Case(
        "userpool-with-directory",
        {**USERPOOL, "directory": DEMO_TENANT["directory"]},
        ("tenant.directory: is not allowed when tenant.auth is userpool",),
    ),
    Case(
        "elastic-with-saml",
        {"appstream.fleet.type": "ELASTIC", "appstream.fleet.schedule": DELETE},
        ("tenant.appstream.fleet.type: ELASTIC fleets cannot be domain-joined",),
    ),
    Case(
        "elastic-with-schedule",
        {**USERPOOL, "appstream.fleet.type": "ELASTIC"},
        ("tenant.appstream.fleet.schedule: ELASTIC fleets have no capacity to schedule",),
    ),
    Case(
        "userpool-username",
        {**USERPOOL, "users": [ADA, {**ALAN, "username": "aturing"}]},
        ("tenant.users[1].username: is only allowed when tenant.auth is saml",),
    ),
    # --- directory -----------------------------------------------------------------------------------
    Case("fqdn-single-label", {"directory.fqdn": "corp"}, ('tenant.directory.fqdn: "corp" needs at least two DNS',)),
    Case(
        "fqdn-too-long-for-fsx",
        {"directory.fqdn": "research-and-development.very-long-laboratory.example"},
        ("tenant.directory.fqdn: 53 characters is longer than the 47 that FSx allows",),
    ),
    Case("fqdn-bad-label", {"directory.fqdn": "corp.-demo.example"}, ('label "-demo" is not a DNS label',)),
    Case("netbios-too-long", {"directory.netbios": "DEMOLABORATORY01"}, ("tenant.directory.netbios: ",)),
    Case("netbios-lower-case", {"directory.netbios": "demo"}, ('tenant.directory.netbios: "demo" does not match',)),
    Case("netbios-digits", {"directory.netbios": "2024"}, ('tenant.directory.netbios: "2024" must not be all digits',)),
    Case("edition-choice", {"directory.edition": "Premium"}, ('tenant.directory.edition: "Premium" is not one of',)),
    Case("ou-with-space", {"directory.appstream_ou": "App Stream"}, ("tenant.directory.appstream_ou: ",)),
    Case("directory-fqdn-missing", {"directory.fqdn": DELETE}, ("tenant.directory.fqdn: is required but missing",)),
    # --- storage -------------------------------------------------------------------------------------
    Case(
        "ssd-too-small", {"storage.storage_gib": 16}, ("tenant.storage.storage_gib: 16 is below the SSD minimum of 32",)
    ),
    Case(
        "ssd-too-large", {"storage.storage_gib": 70000}, ("tenant.storage.storage_gib: 70000 is above the SSD maximum",)
    ),
    Case(
        "hdd-too-small",
        {"storage.storage_type": "HDD", "storage.storage_gib": 1000},
        ("tenant.storage.storage_gib: 1000 is below the HDD minimum of 2000",),
    ),
    Case(
        "hdd-on-single-az-1",
        {"storage.storage_type": "HDD", "storage.storage_gib": 2000, "storage.deployment_type": "SINGLE_AZ_1"},
        ("tenant.storage.storage_type: HDD is not available with SINGLE_AZ_1",),
    ),
    Case("storage-gib-string", {"storage.storage_gib": "64GiB"}, ("tenant.storage.storage_gib: must be an integer",)),
    Case("deployment-choice", {"storage.deployment_type": "MULTI_AZ_2"}, ("tenant.storage.deployment_type: ",)),
    Case(
        "throughput-step", {"storage.throughput_mbps": 48}, ("tenant.storage.throughput_mbps: 48 is not one of 8, 16,",)
    ),
    Case(
        "throughput-single-az-1",
        {"storage.throughput_mbps": 3072, "storage.deployment_type": "SINGLE_AZ_1"},
        ("tenant.storage.throughput_mbps: 3072 is above the SINGLE_AZ_1 maximum of 2048",),
    ),
    Case(
        "backup-retention-range",
        {"storage.backup_retention_days": 91},
        ("tenant.storage.backup_retention_days: 91 is above the maximum of 90",),
    ),
    Case(
        "drive-letter-system", {"storage.home_drive": "C"}, ('tenant.storage.home_drive: "C" does not match a single',)
    ),
    Case("drive-letter-lower", {"storage.project_drive": "p"}, ('tenant.storage.project_drive: "p" does not match',)),
    Case("drive-letter-colon", {"storage.home_drive": "H:"}, ('tenant.storage.home_drive: "H:" does not match',)),
    Case(
        "drive-letters-equal",
        {"storage.project_drive": "H"},
        ('tenant.storage.project_drive: "H" is the same letter as tenant.storage.home_drive',),
    ),
    # --- AppStream -----------------------------------------------------------------------------------
    Case("base-image-missing", {"appstream.base_image": DELETE}, ("tenant.appstream.base_image: is required",)),
    Case("base-image-pattern", {"appstream.base_image": "Windows 2019!"}, ("tenant.appstream.base_image: ",)),
    Case("builder-type-pattern", {"appstream.builder_instance_type": "m5.large"}, ('builder_instance_type: "m5',)),
    Case(
        "builder-type-unknown-family",
        {"appstream.builder_instance_type": "stream.bogus.medium"},
        (
            'tenant.appstream.builder_instance_type: "stream.bogus.medium" is not an instance type AppStream offers '
            "for image builders (did you mean stream.standard.medium?)",
        ),
    ),
    Case(
        "builder-type-fleet-only-size",
        {"appstream.builder_instance_type": "stream.standard.2xlarge"},
        ('tenant.appstream.builder_instance_type: "stream.standard.2xlarge" is not an instance type AppStream',),
    ),
    Case(
        "fleet-instance-type-unknown-family",
        {"appstream.fleet.instance_type": "stream.bogus.medium"},
        (
            'tenant.appstream.fleet.instance_type: "stream.bogus.medium" is not an instance type AppStream offers '
            "for fleets (did you mean stream.standard.medium?)",
        ),
    ),
    Case(
        "elastic-instance-type-not-general-purpose",
        {
            **USERPOOL,
            "appstream.fleet.type": "ELASTIC",
            "appstream.fleet.schedule": DELETE,
            "appstream.fleet.instance_type": "stream.compute.large",
        },
        (
            'tenant.appstream.fleet.instance_type: "stream.compute.large" is not an instance type AppStream offers '
            "for ELASTIC fleets (did you mean stream.standard.large?)",
        ),
    ),
    Case("fleet-type-choice", {"appstream.fleet.type": "SPOT"}, ('tenant.appstream.fleet.type: "SPOT" is not one of',)),
    Case(
        "fleet-min-above-max",
        {"appstream.fleet.min_capacity": 5},
        ("tenant.appstream.fleet.min_capacity: 5 is above tenant.appstream.fleet.max_capacity (2)",),
    ),
    Case(
        "fleet-max-zero",
        {"appstream.fleet.max_capacity": 0},
        ("tenant.appstream.fleet.max_capacity: 0 is below the minimum of 1", "min_capacity: 1 is above"),
    ),
    Case(
        "idle-disconnect-range",
        {"appstream.fleet.idle_disconnect_seconds": 30},
        ("tenant.appstream.fleet.idle_disconnect_seconds: 30 must be 0 (never) or between 60 and 36000",),
    ),
    Case(
        "max-duration-range",
        {"appstream.fleet.max_user_duration_seconds": 500000},
        ("tenant.appstream.fleet.max_user_duration_seconds: 500000 is above the maximum of 432000",),
    ),
    Case(
        "disconnect-timeout-string",
        {"appstream.fleet.disconnect_timeout_seconds": "15m"},
        ('tenant.appstream.fleet.disconnect_timeout_seconds: must be an integer, got string "15m"',),
    ),
    # YAML 1.1 reads an unquoted 07:30 as the sexagesimal integer 450.
    Case(
        "schedule-unquoted-time",
        {"appstream.fleet.schedule.start": 450},
        ("tenant.appstream.fleet.schedule.start: must be a string, got integer 450 (quote the value in YAML)",),
    ),
    Case(
        "schedule-hour-range",
        {"appstream.fleet.schedule.stop": "24:00"},
        ('tenant.appstream.fleet.schedule.stop: "24:00" does not match "HH:MM" (24 h)',),
    ),
    Case(
        "schedule-stop-before-start",
        {"appstream.fleet.schedule.start": "20:00", "appstream.fleet.schedule.stop": "07:30"},
        ('tenant.appstream.fleet.schedule.stop: "07:30" must be later than start "20:00"',),
    ),
    Case(
        "schedule-timezone",
        {"appstream.fleet.schedule.timezone": "Europe/Pariss"},
        ('tenant.appstream.fleet.schedule.timezone: "Europe/Pariss" is not an IANA time zone name (did you mean',),
    ),
    Case(
        "schedule-weekday-name",
        {"appstream.fleet.schedule.weekdays": ["monday"]},
        ('tenant.appstream.fleet.schedule.weekdays[0]: "monday" is not one of mon',),
    ),
    Case(
        "schedule-weekday-duplicate",
        {"appstream.fleet.schedule.weekdays": ["mon", "tue", "mon"]},
        ("tenant.appstream.fleet.schedule.weekdays[2]: duplicate of tenant.appstream.fleet.schedule.weekdays[0]",),
    ),
    Case(
        "schedule-weekdays-empty",
        {"appstream.fleet.schedule.weekdays": []},
        ("tenant.appstream.fleet.schedule.weekdays: must not be empty",),
    ),
    Case(
        "schedule-timezone-missing",
        {"appstream.fleet.schedule.timezone": DELETE},
        ("tenant.appstream.fleet.schedule.timezone: is required but missing",),
    ),
    Case(
        "stack-setting-string",
        {"appstream.stack.printing": "no"},
        ('tenant.appstream.stack.printing: must be a boolean (true or false), got string "no"',),
    ),
    Case(
        "stack-key-typo",
        {"appstream.stack.file_downloads": False},
        ("tenant.appstream.stack.file_downloads: unknown key (did you mean file_download?)",),
    ),
    # --- catalogue -----------------------------------------------------------------------------------
    Case(
        "app-unknown",
        {"apps": ["icostudio", "icostudo"]},
        ('tenant.apps[1]: "icostudo" is not in app_catalogue (did you mean icostudio?)',),
    ),
    Case("apps-empty", {"apps": []}, ("tenant.apps: must not be empty",)),
    Case("app-duplicate", {"apps": ["icostudio", "icostudio"]}, ("tenant.apps[1]: duplicate of tenant.apps[0]",)),
    # --- users ---------------------------------------------------------------------------------------
    Case(
        "user-email-duplicate",
        {"users": [ADA, {**ALAN, "email": "ADA@lab.example"}]},
        ("tenant.users[1].email: duplicate of tenant.users[0].email",),
    ),
    Case(
        "user-username-duplicate",
        {"users": [{**ADA, "username": "lab1"}, {**ALAN, "username": "LAB1"}]},
        ('tenant.users[1].username: "LAB1" is already the username of tenant.users[0]',),
    ),
    Case(
        "user-derived-username-duplicate",
        {"users": [ADA, {**ALAN, "email": "ada@other.example"}]},
        ('tenant.users[1].email: derives the username "ada", which is already the username of tenant.users[0]',),
    ),
    Case(
        "user-common-name-duplicate",
        {"users": [ADA, {**ADA, "email": "countess@lab.example"}]},
        ('tenant.users[1]: "Ada Lovelace" has the same AD common name as tenant.users[0]',),
    ),
    Case(
        "user-reserved-username",
        {"users": [{**ADA, "username": "Administrator"}]},
        ('tenant.users[0].username: "Administrator" is a reserved account name',),
    ),
    Case(
        "user-email-invalid",
        {"users": [{**ADA, "email": "ada-at-lab"}]},
        ('users[0].email: "ada-at-lab" is not an e-',),
    ),
    Case(
        "user-name-breaks-dn",
        {"users": [{**ADA, "last_name": "Lovelace, Countess"}]},
        ('tenant.users[0].last_name: "Lovelace, Countess" contains ",", which would break an AD distinguished',),
    ),
    Case("user-last-name-missing", {"users": [{"email": "x@lab.example", "first_name": "X"}]}, ("last_name: is req",)),
    Case("users-not-a-list", {"users": ADA}, ("tenant.users: must be a list, got mapping",)),
    # --- budget --------------------------------------------------------------------------------------
    Case("budget-negative", {"budget.monthly_usd": -5}, ("tenant.budget.monthly_usd: -5 must be a finite number",)),
    Case("budget-notify-empty", {"budget.notify": []}, ("tenant.budget.notify: must not be empty",)),
    Case(
        "budget-notify-invalid",
        {"budget.notify": ["ops@demo.example", "ops"]},
        ('tenant.budget.notify[1]: "ops" is not an e-mail address',),
    ),
    Case("budget-missing", {"budget": DELETE}, ("tenant.budget: is required but missing",)),
    # --- ingest ------------------------------------------------------------------------------------
    Case(
        "ingest-userpool",
        {**USERPOOL, "ingest": {"instruments": [{"name": "ECHO-01"}]}},
        ("tenant.ingest: is not allowed when tenant.auth is userpool",),
    ),
    Case(
        "ingest-instrument-name",
        {"ingest": {"instruments": [{"name": "ECHO 01"}]}},
        ('tenant.ingest.instruments[0].name: "ECHO 01" does not match 1-32 letters, digits',),
    ),
    Case(
        "ingest-instrument-device-name",
        {"ingest": {"instruments": [{"name": "LPT1"}]}},
        ('tenant.ingest.instruments[0].name: "LPT1" is a reserved device name on Windows',),
    ),
    Case(
        "ingest-instrument-twice",
        {"ingest": {"instruments": [{"name": "ECHO-01"}, {"name": "Echo-01"}]}},
        ('tenant.ingest.instruments[1].name: "Echo-01" is the same instrument as',),
    ),
    Case(
        "ingest-retention",
        {"ingest": {"instruments": [{"name": "ECHO-01"}], "retention_days": 0}},
        ("tenant.ingest.retention_days: 0 is below the minimum of 1",),
    ),
    Case(
        "ingest-schedule",
        {"ingest": {"instruments": [{"name": "ECHO-01"}], "schedule": "weekly"}},
        ('tenant.ingest.schedule: "weekly" is not one of hourly, daily, manual',),
    ),
    # --- the customer's files ----------------------------------------------------------------------
    # A valid SAML definition whose inventory lacks files/saml-metadata.xml (none of these has it).
    Case("saml-metadata-missing", {}, ("tenant.auth: saml needs the customer's SAML 2.0 IdP metadata",)),
]
CASE_IDS = [case.id for case in CASES]


@dataclass
class MatrixRun:
    run: PlaybookRun
    results: dict[str, list[dict[str, Any]]]  # host -> its task results, in order


def _host_results(document: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Per host, every task result of the json callback's document (play and task names added)."""
    results: dict[str, list[dict[str, Any]]] = {}
    for play in document["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                names = {"play": play["play"]["name"], "task": task["task"]["name"]}
                results.setdefault(host, []).append(names | result)
    return results


@pytest.fixture(scope="module")
def matrix(sandbox: SandboxClient, tmp_path_factory: pytest.TempPathFactory) -> MatrixRun:
    """One site.yml run over every broken tenant, with the json callback so each host's result is exact."""
    directory = tmp_path_factory.mktemp("bad-input")
    write_tenants(directory, {case.id: case.tenant(index) for index, case in enumerate(CASES)}, sandbox)
    run = run_playbook("site.yml", directory, sandbox, env={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"})
    # The json callback's document, followed by the timer callback's closing line.
    document, _ = json.JSONDecoder().raw_decode(run.stdout)
    return MatrixRun(run, _host_results(document))


def test_no_broken_tenant_makes_a_single_aws_call(matrix: MatrixRun) -> None:
    stats = matrix.run.stats()
    assert stats["total"] == 0, stats["by_operation"]


def test_the_run_fails_and_stops_after_validation(matrix: MatrixRun) -> None:
    assert matrix.run.rc != 0
    assert set(matrix.results) == set(CASE_IDS)
    for host, results in matrix.results.items():
        plays = {result["play"] for result in results}
        assert plays == {VALIDATE_PLAY}, f"{host} ran past validation: {results}"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_broken_definition_fails_validation_naming_the_field(case: Case, matrix: MatrixRun) -> None:
    result = matrix.results[case.id][-1]
    assert result.get("failed") is True, matrix.results[case.id]
    errors = result.get("errors") or [result["msg"]]
    for expected in case.expected:
        assert any(expected in error for error in errors), f"{expected!r} not in {errors}"
    # Exactly the errors this mistake causes: one message per expected error, no cascade.
    assert len(errors) == len(case.expected), errors


def test_the_matrix_covers_every_section_of_the_definition() -> None:
    assert len(CASES) >= 40
    assert len(set(CASE_IDS)) == len(CASE_IDS)
    touched = {path.split(".")[0] for case in CASES for path in case.changes}
    assert touched >= {"name", "environment", "region", "auth", "network", "directory", "storage"}
    assert touched >= {"appstream", "apps", "users", "budget", "ingest"}


# ---------------------------------------------------------------------------------------------------
# Secrets supplied through ansible-vault
# ---------------------------------------------------------------------------------------------------
# What validation can check without AWS: a vault variable that is set must be usable. Whether a secret
# exists in Secrets Manager is not checkable offline, and need not be: it is generated on the first run.
@dataclass(frozen=True)
class VaultCase:
    """Vault variables given to the demo tenant host and the errors they must cause, each a message's start."""

    id: str
    host_vars: dict[str, Any]
    expected: tuple[str, ...]


VAULT_CASES = [
    # CreateMicrosoftAD's password policy: 8-64 characters, three of four kinds of characters.
    VaultCase(
        "vault-weak-password",
        {"vault_directory_admin_password": "short"},
        (
            "vault_directory_admin_password: must be 8 to 64 characters long",
            "vault_directory_admin_password: must contain characters of at least three of these four kinds",
        ),
    ),
    VaultCase(
        "vault-two-kinds-of-characters",
        {"vault_directory_admin_password": "qwertyuiop1234"},
        ("vault_directory_admin_password: must contain characters of at least three of these four kinds",),
    ),
    # Active Directory's complexity rule: never the account name (Admin), in any case.
    VaultCase(
        "vault-account-name-in-password",
        {"vault_directory_admin_password": "Lab-ADMIN-2024!"},
        ('vault_directory_admin_password: must not contain the account name "Admin"',),
    ),
    # The vault file holding the value was not loaded: the variable exists but cannot be resolved.
    VaultCase(
        "vault-undefined-reference",
        {"vault_directory_admin_password": "{{ vault_file_not_loaded }}"},
        ("vault_directory_admin_password: is set but resolves to nothing",),
    ),
    VaultCase(
        "vault-service-password-not-a-string",
        {"vault_appstream_service_password": 12345678},
        ("vault_appstream_service_password: must be a string, got integer",),
    ),
    VaultCase(
        "vault-service-password-too-long",
        {"vault_appstream_service_password": "Svc-" + "x" * 124},
        ("vault_appstream_service_password: must be 1 to 127 characters long",),
    ),
    VaultCase(
        "vault-join-password-empty",
        {"vault_domain_join_password": ""},
        ("vault_domain_join_password: must not be empty",),
    ),
]
VAULT_CASE_IDS = [case.id for case in VAULT_CASES]


def _json_run(playbook: str, inventory: Path, sandbox: SandboxClient) -> tuple[PlaybookRun, dict[str, Any]]:
    """A run with the json callback: the run and every task result per host."""
    run = run_playbook(playbook, inventory, sandbox, env={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"})
    document, _ = json.JSONDecoder().raw_decode(run.stdout)
    return run, _host_results(document)


@pytest.mark.parametrize("case", VAULT_CASES, ids=VAULT_CASE_IDS)
def test_an_unusable_vault_secret_fails_validation_naming_the_variable(
    case: VaultCase, sandbox: SandboxClient, tmp_path: Path
) -> None:
    inventory = write_demo_inventory(tmp_path, demo_tenant("bad-vault"), sandbox, case.host_vars)
    run, results = _json_run("playbooks/validate.yml", inventory, sandbox)
    assert run.stats()["total"] == 0
    assert run.rc != 0
    failed = [result for result in results["bad-vault"] if result.get("failed")]
    assert [result["task"] for result in failed] == ["Ensure the secrets supplied through ansible-vault are usable"]
    errors = failed[0]["errors"]
    assert len(errors) == len(case.expected), errors
    for expected in case.expected:
        assert any(error.startswith(expected) for error in errors), f"{expected!r} not in {errors}"
    # The message names the variable and the rule; the value never shows, whatever the verbosity.
    for value in case.host_vars.values():
        if isinstance(value, str) and len(value) >= 5 and "{{" not in value:
            assert value not in run.stdout + run.stderr


def test_a_usable_vault_secret_passes_validation_unseen(sandbox: SandboxClient, tmp_path: Path) -> None:
    password = "Lab-Vault-Passw0rd!"
    inventory = write_demo_inventory(
        tmp_path, demo_tenant("good-vault"), sandbox, {"vault_directory_admin_password": password}
    )
    run = run_playbook("playbooks/validate.yml", inventory, sandbox, args=["-vvv"])
    assert run.rc == 0, run.stdout[-3000:]
    assert run.stats()["total"] == 0
    assert password not in run.stdout + run.stderr


# ---------------------------------------------------------------------------------------------------
# Extra variables of the ops runbooks (playbooks/ops/*.yml)
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OpsCase:
    """One runbook run with broken extra variables (given as an operator types them: -e name=value)."""

    id: str
    playbook: str
    extra: tuple[str | dict[str, Any], ...]  # "name=value" as typed, or a mapping given as JSON
    expected: tuple[str, ...]
    csv: str | None = None  # content of the file passed as users_csv

    def args(self, directory: Path) -> list[str]:
        args = []
        for assignment in self.extra:
            args += ["-e", assignment if isinstance(assignment, str) else json.dumps(assignment)]
        if self.csv is not None:
            path = directory / f"{self.id}.csv"
            path.write_text(self.csv)
            args += ["-e", f"users_csv={path}"]
        return args


CSV_HEADER = "email,first_name,last_name,action\n"
OPS_CASES = [
    OpsCase("scale-nothing", "fleet_scale", (), ("desired, min_capacity, max_capacity",)),
    OpsCase("scale-negative", "fleet_scale", ("desired=-1",), ("desired: -1 is below the minimum of 0",)),
    OpsCase(
        "scale-not-a-number", "fleet_scale", ("desired=lots",), ('desired: must be an integer, got string "lots"',)
    ),
    OpsCase("scale-min-above-max", "fleet_scale", ("min_capacity=5", "max_capacity=2"), ("min_capacity",)),
    # Without -e schedule the check names it (not a template error of the runbook's own expression).
    OpsCase(
        "schedule-missing",
        "fleet_schedule",
        (),
        ("schedule: is required but missing (pass -e schedule=on or -e schedule=off)",),
    ),
    OpsCase("schedule-choice", "fleet_schedule", ("schedule=maybe",), ('schedule: "maybe" is not one of on, off',)),
    OpsCase("schedule-hours-when-off", "fleet_schedule", ("schedule=off", "start=08:00"), ("start",)),
    OpsCase("schedule-bad-time", "fleet_schedule", ("schedule=on", "start=25:00"), ("start",)),
    OpsCase("schedule-stop-first", "fleet_schedule", ("schedule=on", "start=20:00", "stop=08:00"), ("stop",)),
    OpsCase("schedule-timezone", "fleet_schedule", ("schedule=on", "timezone=Mars/Olympus"), ("timezone",)),
    OpsCase("start-timeout-low", "fleet_start", ("wait_timeout=5",), ("wait_timeout: 5 is below the minimum of 60",)),
    OpsCase("rotate-keep-many", "image_rotate", ("keep=51",), ("keep: 51 is above the maximum of 50",)),
    OpsCase("url-user-pattern", "streaming_url", ({"user": "ada lovelace"},), ('user: "ada lovelace" does not match',)),
    OpsCase(
        "users-csv-bad-rows",
        "users",
        (),
        ("row 1.email", "row 2.action"),
        csv=CSV_HEADER + "ada-at-lab,Ada,Lovelace,add\nalan@lab.example,Alan,Turing,delete\n",
    ),
    OpsCase(
        "users-saml-tenant",
        "users",
        (),
        ("signs in through SAML",),
        csv=CSV_HEADER + "ada@lab.example,Ada,Lovelace,add\n",
    ),
]
OPS_CASE_IDS = [case.id for case in OPS_CASES]


@dataclass
class OpsMatrix:
    results: dict[str, PlaybookRun]
    failures: dict[str, list[dict[str, Any]]]  # case -> the failed task results of its run
    calls: int


@pytest.fixture(scope="module")
def ops_matrix(sandbox: SandboxClient, tmp_path_factory: pytest.TempPathFactory) -> OpsMatrix:
    """Every runbook case against one valid SAML tenant, a few runs at a time."""
    directory = tmp_path_factory.mktemp("bad-ops")
    inventory = write_demo_inventory(directory / "inventory", demo_tenant("bad-ops"), sandbox)
    mark = sandbox.log_mark()
    environment = {"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"}

    def run(case: OpsCase) -> PlaybookRun:
        playbook = f"playbooks/ops/{case.playbook}.yml"
        return run_playbook(playbook, inventory, sandbox, env=environment, args=case.args(directory))

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = dict(zip(OPS_CASE_IDS, pool.map(run, OPS_CASES), strict=True))
    failures = {}
    for case_id, result in results.items():
        document, _ = json.JSONDecoder().raw_decode(result.stdout)
        failures[case_id] = [
            r for host_results in _host_results(document).values() for r in host_results if r.get("failed")
        ]
    return OpsMatrix(results, failures, sandbox.stats(mark)["total"])


@pytest.mark.slow
def test_no_broken_runbook_variable_makes_a_single_aws_call(ops_matrix: OpsMatrix) -> None:
    assert ops_matrix.calls == 0


@pytest.mark.slow
@pytest.mark.parametrize("case", OPS_CASES, ids=OPS_CASE_IDS)
def test_broken_runbook_variables_fail_naming_the_variable(case: OpsCase, ops_matrix: OpsMatrix) -> None:
    run = ops_matrix.results[case.id]
    assert run.rc != 0, run.stdout[-3000:]
    failures = ops_matrix.failures[case.id]
    assert failures, run.stdout[-3000:]
    messages = [m for failure in failures for m in (failure.get("errors") or [failure.get("msg", "")])]
    for expected in case.expected:
        assert any(expected in message for message in messages), f"{expected!r} not in {messages}"


# ---------------------------------------------------------------------------------------------------
# Rules across the tenants of one run
# ---------------------------------------------------------------------------------------------------
def test_two_hosts_of_one_run_with_the_same_tenant_name_fail_validation(sandbox: SandboxClient, tmp_path: Path) -> None:
    tenant = demo_tenant("bad-twice")
    other = demo_tenant("bad-other") | {"network": {**tenant["network"], "cidr": "10.41.0.0/16"}}
    inventory = write_tenants(tmp_path, {"twice-a": tenant, "twice-b": tenant, "other": other}, sandbox)
    shutil.copytree(DEMO_FILES, tmp_path / "files")
    run, results = _json_run("playbooks/validate.yml", inventory, sandbox)
    assert run.stats()["total"] == 0
    assert run.rc != 0
    for host, twin in (("twice-a", "twice-b"), ("twice-b", "twice-a")):
        failed = [result for result in results[host] if result.get("failed")]
        assert len(failed) == 1, results[host]
        (error,) = failed[0]["errors"]
        assert error.startswith(f'tenant.name: "bad-twice" is also the tenant.name of host {twin} in this run')
        assert "hosts twice-a and twice-b" in error
    # A tenant of its own in the same run is validated on its own.
    assert not any(result.get("failed") for result in results["other"]), results["other"]


def test_overlapping_vpc_ranges_of_one_run_are_a_warning_naming_both_hosts(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    """Each tenant has a VPC of its own, so AWS accepts overlapping ranges; one controller cannot reach both."""
    network = DEMO_TENANT["network"]
    tenants = {
        "lab-a": demo_tenant("lab-a") | {"network": {**network, "cidr": "10.60.0.0/16"}},
        "lab-b": demo_tenant("lab-b") | {"network": {**network, "cidr": "10.60.128.0/22"}},
        "lab-c": demo_tenant("lab-c") | {"network": {**network, "cidr": "10.61.0.0/16"}},
    }
    inventory = write_tenants(tmp_path, tenants, sandbox)
    shutil.copytree(DEMO_FILES, tmp_path / "files")
    run, results = _json_run("playbooks/validate.yml", inventory, sandbox)
    assert run.stats()["total"] == 0
    assert run.rc == 0, run.stdout[-3000:]
    warnings = {host: [w for result in results[host] for w in result.get("warnings", [])] for host in tenants}
    (warning_a,) = warnings["lab-a"]
    assert warning_a.startswith(
        "tenant.network.cidr: 10.60.0.0/16 of host lab-a overlaps the VPC range of host lab-b (10.60.128.0/22)"
    )
    (warning_b,) = warnings["lab-b"]
    assert warning_b.startswith(
        "tenant.network.cidr: 10.60.128.0/22 of host lab-b overlaps the VPC range of host lab-a (10.60.0.0/16)"
    )
    assert warnings["lab-c"] == []
