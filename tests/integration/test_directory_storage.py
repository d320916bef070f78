"""The directory and file-storage stages on the sandbox: playbooks/directory.yml and storage.yml.

Results are checked through Directory Service, FSx and Secrets Manager describe calls and the
sandbox's request log. Each scenario has its own tenant (name, VPC) in its own region, so the
scenarios share one sandbox safely and keep clear of other tests' directory quota.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError

from sandbox.client import SandboxClient
from tests.helpers import ROOT, PlaybookRun, run_playbook, write_inventory

REGION = "eu-west-1"
DEMO_TENANT = yaml.safe_load((ROOT / "inventories/demo/host_vars/demo/tenant.yml").read_text())["tenant"]
SECOND_OCTETS = itertools.count(160)
JSON_OUTPUT = {"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}
CLASSES = (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9\s]")


# -- tenants -------------------------------------------------------------------------------------------
def new_tenant(prefix: str, auth: str = "saml") -> dict[str, Any]:
    """A full, valid tenant definition (validate.yml runs first) with a unique name, domain and CIDR."""
    tenant = copy.deepcopy(DEMO_TENANT)
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    tenant.update(name=name, region=REGION, auth=auth)
    tenant["network"] = {"cidr": f"10.{next(SECOND_OCTETS)}.0.0/16", "availability_zones": 2, "nat_gateways": "single"}
    if auth == "saml":
        tenant["directory"] = {
            "fqdn": f"corp.{name}.example",
            "netbios": re.sub(r"[^A-Z0-9]", "", name.upper())[:15],
            "edition": "Standard",
        }
    else:
        tenant.pop("directory", None)
        tenant.pop("storage", None)
        tenant["users"] = [{k: v for k, v in user.items() if k != "username"} for user in tenant["users"]]
        tenant["appstream"]["fleet"]["type"] = "ON_DEMAND"
    return tenant


@dataclass
class Tenant:
    definition: dict[str, Any]
    inventory: Path
    runs: dict[str, PlaybookRun]
    facts: dict[str, Any]

    @property
    def name(self) -> str:
        return self.definition["name"]

    @property
    def fqdn(self) -> str:
        return self.definition["directory"]["fqdn"]

    def play(self, playbook: str, sandbox: SandboxClient, **kwargs: Any) -> PlaybookRun:
        return run_playbook(f"playbooks/{playbook}.yml", self.inventory, sandbox, **kwargs)


def facts_of(run: PlaybookRun) -> dict[str, Any]:
    """Facts set during a run made with the ansible.posix.json callback."""
    found: dict[str, Any] = {}
    # Other callbacks (ansible.posix.timer) may print after the JSON document.
    document, _ = json.JSONDecoder().raw_decode(run.stdout[run.stdout.index("{") :])
    for play in document["plays"]:
        for task in play["tasks"]:
            for result in task["hosts"].values():
                found.update(result.get("ansible_facts") or {})
    return found


def changed_of(run: PlaybookRun, host: str) -> int:
    return run.recap[host]["changed"]


def build(sandbox: SandboxClient, directory: Path, prefix: str, wait_for_directory: bool = True) -> Tenant:
    """Create a tenant's network, directory and file system through the stage playbooks."""
    definition = new_tenant(prefix)
    inventory = write_inventory(directory, definition, sandbox)
    # -v on the run that generates and stores the admin password: it must not show it either.
    first = run_playbook(
        "playbooks/directory.yml",
        inventory,
        sandbox,
        extra_vars={"aws_directory_wait": wait_for_directory},
        args=["-v"],
    )
    assert first.rc == 0, first.stdout[-4000:]
    storage = run_playbook("playbooks/storage.yml", inventory, sandbox, env=JSON_OUTPUT)
    assert storage.rc == 0, storage.stdout[-4000:]
    return Tenant(definition, inventory, {"directory": first, "storage": storage}, facts_of(storage))


# -- AWS state -----------------------------------------------------------------------------------------
def ds(sandbox: SandboxClient) -> Any:
    return sandbox.boto3("ds", region=REGION)


def fsx(sandbox: SandboxClient) -> Any:
    return sandbox.boto3("fsx", region=REGION)


def directories_named(sandbox: SandboxClient, fqdn: str) -> list[dict[str, Any]]:
    found = ds(sandbox).describe_directories()["DirectoryDescriptions"]
    return [d for d in found if d["Name"] == fqdn]


def directory_tags(sandbox: SandboxClient, directory_id: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in ds(sandbox).list_tags_for_resource(ResourceId=directory_id)["Tags"]}


def owned_directory(sandbox: SandboxClient, tenant: Tenant) -> dict[str, Any]:
    (found,) = [
        d
        for d in directories_named(sandbox, tenant.fqdn)
        if directory_tags(sandbox, d["DirectoryId"]).get("tenant") == tenant.name
    ]
    return found


def tags_of(resource: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def file_systems_named(sandbox: SandboxClient, name: str) -> list[dict[str, Any]]:
    return [f for f in fsx(sandbox).describe_file_systems()["FileSystems"] if tags_of(f).get("Name") == name]


def owned_file_system(sandbox: SandboxClient, tenant: Tenant, name: str | None = None) -> dict[str, Any]:
    (found,) = [
        f for f in file_systems_named(sandbox, name or f"{tenant.name}-fsx") if tags_of(f).get("tenant") == tenant.name
    ]
    return found


def stored_password(sandbox: SandboxClient, tenant: Tenant) -> str:
    secret = sandbox.boto3("secretsmanager", region=REGION).get_secret_value(SecretId=f"{tenant.name}/directory/admin")
    return json.loads(secret["SecretString"])["password"]


def password_matches(sandbox: SandboxClient, directory_id: str, password: str) -> bool:
    return sandbox.hook("ds", "check-password", region=REGION, directory_id=directory_id, password=password)["matches"]


def request_log_text(sandbox: SandboxClient) -> str | None:
    state_dir = getattr(sandbox, "state_dir", None)
    return (Path(state_dir) / "requests.jsonl").read_text() if state_dir else None


def wait_until(predicate: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def in_background(function: Any, *args: Any, **kwargs: Any) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}

    def target() -> None:
        started = time.monotonic()
        box["run"] = function(*args, **kwargs)
        box["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


# -- fixtures ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def base(sandbox: SandboxClient, tmp_path_factory: pytest.TempPathFactory) -> Tenant:
    """A converged tenant that the tests below read but do not change."""
    return build(sandbox, tmp_path_factory.mktemp("base"), "dsfx-base")


# -- creation --------------------------------------------------------------------------------------------
def test_first_run_creates_a_standard_directory_in_two_private_subnets(sandbox, base):
    directory = owned_directory(sandbox, base)
    assert directory["Edition"] == "Standard"
    assert directory["Stage"] == "Active"
    assert directory["ShortName"] == base.definition["directory"]["netbios"]
    assert directory["DesiredNumberOfDomainControllers"] == 2
    private = [subnet["id"] for subnet in base.facts["tenant_network"]["private_subnets"]]
    assert directory["VpcSettings"]["VpcId"] == base.facts["tenant_network"]["vpc_id"]
    assert directory["VpcSettings"]["SubnetIds"] == private[:2]
    assert len(set(directory["VpcSettings"]["AvailabilityZones"])) == 2
    tags = directory_tags(sandbox, directory["DirectoryId"])
    assert tags["tenant"] == base.name and tags["managed-by"] == "appstream-tenant-toolkit"
    assert tags["environment"] == base.definition["environment"]


def test_first_run_joins_the_file_system_to_the_directory(sandbox, base):
    directory = owned_directory(sandbox, base)
    file_system = owned_file_system(sandbox, base)
    windows = file_system["WindowsConfiguration"]
    assert file_system["Lifecycle"] == "AVAILABLE"
    assert windows["ActiveDirectoryId"] == directory["DirectoryId"]
    assert windows["DeploymentType"] == "SINGLE_AZ_2"
    assert file_system["StorageCapacity"] == 32 and file_system["StorageType"] == "SSD"
    assert windows["ThroughputCapacity"] == 32
    assert windows["AutomaticBackupRetentionDays"] == 7
    assert windows["CopyTagsToBackups"] is True
    assert file_system["SubnetIds"] == [base.facts["tenant_network"]["private_subnets"][0]["id"]]
    assert tags_of(file_system)["tenant"] == base.name


def test_facts_give_later_roles_the_directory_and_the_share(sandbox, base):
    directory = owned_directory(sandbox, base)
    file_system = owned_file_system(sandbox, base)
    recorded = base.facts["tenant_directory"]
    assert recorded["id"] == directory["DirectoryId"]
    assert recorded["dns_ip_addrs"] == directory["DnsIpAddrs"] and recorded["dns_ip_addrs"]
    assert recorded["name"] == base.fqdn and recorded["netbios"] == directory["ShortName"]
    assert recorded["admin_secret_name"] == f"{base.name}/directory/admin"
    share = base.facts["tenant_file_system"]
    assert share["id"] == file_system["FileSystemId"]
    assert share["dns_name"] == file_system["DNSName"]
    assert share["share_path"] == f"\\\\{file_system['DNSName']}\\share"


def test_admin_password_is_generated_and_kept_in_secrets_manager(sandbox, base):
    password = stored_password(sandbox, base)
    assert len(password) >= 16
    assert all(re.search(pattern, password) for pattern in CLASSES)
    secret = sandbox.boto3("secretsmanager", region=REGION).describe_secret(SecretId=f"{base.name}/directory/admin")
    assert {t["Key"]: t["Value"] for t in secret["Tags"]}["tenant"] == base.name
    # The directory was created with exactly that password.
    assert password_matches(sandbox, owned_directory(sandbox, base)["DirectoryId"], password)


def test_admin_password_never_appears_in_output_or_request_log(sandbox, base):
    password = stored_password(sandbox, base)
    again = base.play("directory", sandbox, args=["-vvv"])
    assert again.rc == 0
    for run in [*base.runs.values(), again]:
        assert password not in run.stdout and password not in run.stderr
    log = request_log_text(sandbox)
    if log is not None:
        assert password not in log


# -- idempotence and check mode ---------------------------------------------------------------------------------
def test_second_run_changes_nothing_and_only_reads(sandbox, base):
    for playbook in ("directory", "storage"):
        run = base.play(playbook, sandbox)
        assert run.rc == 0, run.stdout[-3000:]
        assert changed_of(run, base.name) == 0
        stats = run.stats()
        assert stats["mutating"] == 0, stats["mutating_operations"]
        assert stats["by_service"].get("ds", 0) >= 1
        if playbook == "directory":
            # An existing directory needs no Admin password: the role reads no secret (two calls fewer).
            assert "secretsmanager" not in stats["by_service"], stats["by_operation"]


def test_check_mode_shows_the_changes_and_makes_no_mutating_call(sandbox, base):
    wanted = {
        "aws_directory_domain_controllers": 3,
        "aws_file_storage_throughput_mbps": 64,
        "aws_file_storage_storage_gib": 64,
        "aws_file_storage_aliases": [f"files.{base.fqdn}"],
    }
    for playbook in ("directory", "storage"):
        run = base.play(playbook, sandbox, extra_vars=wanted, check=True, diff=True)
        assert run.rc == 0, run.stdout[-3000:]
        assert changed_of(run, base.name) >= 1
        assert run.stats()["mutating"] == 0
    assert "+    throughput_capacity: 64" in run.stdout
    assert owned_directory(sandbox, base)["DesiredNumberOfDomainControllers"] == 2
    file_system = owned_file_system(sandbox, base)
    assert file_system["WindowsConfiguration"]["ThroughputCapacity"] == 32
    assert file_system["StorageCapacity"] == 32
    assert file_system["WindowsConfiguration"]["Aliases"] == []


def test_changes_aws_cannot_make_fail_clearly_and_change_nothing(sandbox, base):
    run = base.play("directory", sandbox, extra_vars={"aws_directory_edition": "Enterprise"})
    assert run.rc != 0
    assert "edition is 'Standard', requested 'Enterprise'" in run.stdout
    assert run.stats()["mutating"] == 0
    run = base.play("storage", sandbox, extra_vars={"aws_file_storage_deployment_type": "SINGLE_AZ_1"})
    assert run.rc != 0
    assert "deployment_type is 'SINGLE_AZ_2', requested 'SINGLE_AZ_1'" in run.stdout and "never replaces" in run.stdout
    assert run.stats()["mutating"] == 0
    assert owned_directory(sandbox, base)["Edition"] == "Standard"
    assert owned_file_system(sandbox, base)["WindowsConfiguration"]["DeploymentType"] == "SINGLE_AZ_2"


def test_check_mode_on_a_new_tenant_makes_no_mutating_call(sandbox, tmp_path):
    definition = new_tenant("dsfx-plan")
    inventory = write_inventory(tmp_path / "inventory", definition, sandbox)
    for playbook in ("directory", "storage"):
        run = run_playbook(f"playbooks/{playbook}.yml", inventory, sandbox, check=True, diff=True)
        assert run.rc == 0, run.stdout[-3000:]
        assert "would be created" in run.stdout
        assert run.stats()["mutating"] == 0
    assert directories_named(sandbox, definition["directory"]["fqdn"]) == []


def test_user_pool_tenant_gets_no_directory_and_no_file_system(sandbox, tmp_path):
    definition = new_tenant("dsfx-pool", auth="userpool")
    inventory = write_inventory(tmp_path / "inventory", definition, sandbox)
    for playbook in ("directory", "storage"):
        run = run_playbook(f"playbooks/{playbook}.yml", inventory, sandbox)
        assert run.rc == 0, run.stdout[-3000:]
        assert not {"ds", "fsx", "secretsmanager"} & set(run.stats()["by_service"])


# -- in-place updates --------------------------------------------------------------------------------------------
def test_updates_are_made_in_place_and_shrinking_is_refused(sandbox, tmp_path):
    tenant = build(sandbox, tmp_path / "inventory", "dsfx-upd")
    directory_id = owned_directory(sandbox, tenant)["DirectoryId"]
    file_system_id = owned_file_system(sandbox, tenant)["FileSystemId"]

    three = {"aws_directory_domain_controllers": 3}
    run = tenant.play("directory", sandbox, extra_vars=three)
    assert run.rc == 0, run.stdout[-3000:]
    assert run.stats()["mutating_operations"] == ["ds:UpdateNumberOfDomainControllers"]
    assert owned_directory(sandbox, tenant)["DirectoryId"] == directory_id
    # The third DC is created (Creating, then Active) after UpdateNumberOfDomainControllers returns, as on AWS;
    # the sandbox's scaled clock makes that seconds, longer on a loaded machine.
    deadline = time.monotonic() + 120
    while True:
        controllers = ds(sandbox).describe_domain_controllers(DirectoryId=directory_id)["DomainControllers"]
        statuses = [c["Status"] for c in controllers]
        if statuses == ["Active"] * 3 or time.monotonic() > deadline:
            break
        assert len(statuses) == 3 and set(statuses) <= {"Creating", "Active"}, statuses
        time.sleep(1)
    assert statuses == ["Active"] * 3

    alias = f"files.{tenant.fqdn}"
    bigger = {
        **three,
        "aws_file_storage_throughput_mbps": 64,
        "aws_file_storage_storage_gib": 64,
        "aws_file_storage_backup_retention_days": 14,
        "aws_file_storage_aliases": [alias],
    }
    run = tenant.play("storage", sandbox, extra_vars=bigger)
    assert run.rc == 0, run.stdout[-3000:]
    assert run.stats()["mutating_operations"] == ["fsx:AssociateFileSystemAliases", "fsx:UpdateFileSystem"]
    file_system = owned_file_system(sandbox, tenant)
    assert file_system["FileSystemId"] == file_system_id
    assert file_system["StorageCapacity"] == 64
    assert file_system["WindowsConfiguration"]["ThroughputCapacity"] == 64
    assert file_system["WindowsConfiguration"]["AutomaticBackupRetentionDays"] == 14
    assert file_system["WindowsConfiguration"]["Aliases"] == [{"Name": alias, "Lifecycle": "AVAILABLE"}]

    again = tenant.play("storage", sandbox, extra_vars=bigger)
    assert changed_of(again, tenant.name) == 0 and again.stats()["mutating"] == 0

    run = tenant.play("storage", sandbox, extra_vars={**bigger, "aws_file_storage_aliases": []})
    assert run.rc == 0, run.stdout[-3000:]
    assert run.stats()["mutating_operations"] == ["fsx:DisassociateFileSystemAliases"]
    assert owned_file_system(sandbox, tenant)["WindowsConfiguration"]["Aliases"] == []

    # FSx only grows storage: asking for less fails, naming both sizes, before any call.
    run = tenant.play("storage", sandbox, extra_vars={**bigger, "aws_file_storage_storage_gib": 32})
    assert run.rc != 0
    assert "storage_capacity cannot shrink from 64 GiB to 32 GiB" in run.stdout
    assert run.stats()["mutating"] == 0
    assert owned_file_system(sandbox, tenant)["StorageCapacity"] == 64


def test_vault_password_is_used_and_reset_only_when_asked(sandbox, tmp_path):
    definition = new_tenant("dsfx-vlt")
    inventory = write_inventory(tmp_path / "inventory", definition, sandbox)
    tenant = Tenant(definition, inventory, {}, {})
    first_password = "Vault-Given-Passw0rd"
    run = tenant.play("directory", sandbox, extra_vars={"vault_directory_admin_password": first_password}, args=["-v"])
    assert run.rc == 0, run.stdout[-3000:]
    assert first_password not in run.stdout
    directory_id = owned_directory(sandbox, tenant)["DirectoryId"]
    assert password_matches(sandbox, directory_id, first_password)
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        sandbox.boto3("secretsmanager", region=REGION).describe_secret(SecretId=f"{tenant.name}/directory/admin")

    rotated = {"vault_directory_admin_password": "Rotated-Passw0rd-2", "aws_directory_update_password": "always"}
    run = tenant.play("directory", sandbox, extra_vars=rotated, args=["-v"])
    assert run.rc == 0, run.stdout[-3000:]
    assert changed_of(run, tenant.name) == 1
    assert run.stats()["mutating_operations"] == ["ds:ResetUserPassword"]
    assert "Rotated-Passw0rd-2" not in run.stdout
    assert password_matches(sandbox, directory_id, "Rotated-Passw0rd-2")


# -- failures ------------------------------------------------------------------------------------------------
def test_directory_failure_stops_the_wait_with_the_reason(sandbox, tmp_path, time_scale):
    definition = new_tenant("dsfx-dsf")
    inventory = write_inventory(tmp_path / "inventory", definition, sandbox)
    assert run_playbook("playbooks/network.yml", inventory, sandbox).rc == 0
    fast = sandbox.health()["time_scale"]
    time_scale(0.05)  # a directory now takes 75 s to create: long enough to fail it while the wait runs
    thread, box = in_background(run_playbook, "playbooks/directory.yml", inventory, sandbox)
    fqdn = definition["directory"]["fqdn"]
    created = wait_until(lambda: directories_named(sandbox, fqdn), timeout=60)
    reason = "The domain controllers could not reach each other (sandbox-injected)"
    sandbox.hook("ds", "fail-directory", region=REGION, directory_id=created[0]["DirectoryId"], reason=reason)
    thread.join(timeout=120)
    run = box["run"]
    assert run.rc != 0
    assert reason in run.stdout and "Failed" in run.stdout
    assert box["seconds"] < 60  # well before the 75 s the creation would have taken

    # A later run finds the failed directory and says why, instead of waiting again.
    time_scale(fast)
    again = run_playbook("playbooks/directory.yml", inventory, sandbox)
    assert again.rc != 0 and reason in again.stdout
    assert again.stats()["mutating"] == 0


def test_file_system_failure_stops_the_wait_with_failure_details(sandbox, base, time_scale):
    name = f"{base.name}-fsx-doomed"
    fast = sandbox.health()["time_scale"]
    time_scale(0.05)  # a file system now takes 90 s to create
    thread, box = in_background(base.play, "storage", sandbox, extra_vars={"aws_file_storage_name": name})
    created = wait_until(lambda: file_systems_named(sandbox, name), timeout=60)
    message = "The file system could not join the directory (sandbox-injected)"
    sandbox.hook("fsx", "fail-file-system", region=REGION, file_system_id=created[0]["FileSystemId"], message=message)
    thread.join(timeout=120)
    run = box["run"]
    assert run.rc != 0
    assert message in run.stdout and "FAILED" in run.stdout
    assert box["seconds"] < 60  # well before the 90 s the creation would have taken
    time_scale(fast)
    cleanup = base.play(
        "storage",
        sandbox,
        extra_vars={
            "aws_file_storage_name": name,
            "aws_file_storage_state": "absent",
            "aws_file_storage_skip_final_backup": True,
        },
    )
    assert cleanup.rc == 0, cleanup.stdout[-3000:]
    assert file_systems_named(sandbox, name) == []


# -- deletion ------------------------------------------------------------------------------------------------
def make_decoys(sandbox: SandboxClient, tenant: Tenant) -> dict[str, str]:
    """A directory and a file system with the tenant's names, owned by another tenant, and untagged twins."""
    subnets = [subnet["id"] for subnet in tenant.facts["tenant_network"]["private_subnets"]][:2]
    vpc = {"VpcId": tenant.facts["tenant_network"]["vpc_id"], "SubnetIds": subnets}
    client = ds(sandbox)
    common = {"Name": tenant.fqdn, "Password": "Decoy-Passw0rd!", "Edition": "Standard", "VpcSettings": vpc}
    other = client.create_microsoft_ad(**common, Tags=[{"Key": "tenant", "Value": "someone-else"}])["DirectoryId"]
    untagged = client.create_microsoft_ad(**common)["DirectoryId"]
    wait_until(
        lambda: client.describe_directories(DirectoryIds=[other])["DirectoryDescriptions"][0]["Stage"] == "Active"
    )
    file_system_name = f"{tenant.name}-fsx"
    fs_common = {
        "FileSystemType": "WINDOWS",
        "StorageCapacity": 32,
        "SubnetIds": subnets[:1],
        "WindowsConfiguration": {"ActiveDirectoryId": other, "DeploymentType": "SINGLE_AZ_2", "ThroughputCapacity": 32},
    }
    other_fs = fsx(sandbox).create_file_system(
        **fs_common, Tags=[{"Key": "Name", "Value": file_system_name}, {"Key": "tenant", "Value": "someone-else"}]
    )["FileSystem"]["FileSystemId"]
    untagged_fs = fsx(sandbox).create_file_system(**fs_common, Tags=[{"Key": "Name", "Value": file_system_name}])[
        "FileSystem"
    ]["FileSystemId"]
    return {"directory": other, "untagged directory": untagged, "fs": other_fs, "untagged fs": untagged_fs}


def test_teardown_keeps_a_final_backup_confirms_the_directory_and_spares_decoys(sandbox, tmp_path):
    # Built the non-blocking way: directory creation started, storage.yml waits for it.
    tenant = build(sandbox, tmp_path / "inventory", "dsfx-del", wait_for_directory=False)
    directory_id = owned_directory(sandbox, tenant)["DirectoryId"]
    file_system_id = owned_file_system(sandbox, tenant)["FileSystemId"]
    decoys = make_decoys(sandbox, tenant)

    run = tenant.play("storage", sandbox, extra_vars={"aws_file_storage_state": "absent"})
    assert run.rc == 0, run.stdout[-3000:]
    assert run.stats()["mutating_operations"] == ["fsx:DeleteFileSystem"]
    with pytest.raises(ClientError, match="FileSystemNotFound"):
        fsx(sandbox).describe_file_systems(FileSystemIds=[file_system_id])
    filters = [{"Name": "file-system-id", "Values": [file_system_id]}]
    (backup,) = fsx(sandbox).describe_backups(Filters=filters)["Backups"]
    assert backup["Type"] == "USER_INITIATED"
    backup_tags = tags_of(backup)
    assert backup_tags["tenant"] == tenant.name and backup_tags["managed-by"] == "appstream-tenant-toolkit"
    assert backup_tags["Name"] == f"{tenant.name}-fsx-final"

    again = tenant.play("storage", sandbox, extra_vars={"aws_file_storage_state": "absent"})
    assert again.rc == 0 and changed_of(again, tenant.name) == 0 and again.stats()["mutating"] == 0

    unconfirmed = tenant.play("directory", sandbox, extra_vars={"aws_directory_state": "absent"})
    assert unconfirmed.rc != 0 and "set confirm_name to its name to confirm" in unconfirmed.stdout
    assert unconfirmed.stats()["mutating"] == 0
    assert (
        ds(sandbox).describe_directories(DirectoryIds=[directory_id])["DirectoryDescriptions"][0]["Stage"] == "Active"
    )

    confirmed = {"aws_directory_state": "absent", "aws_directory_confirm_name": tenant.fqdn}
    run = tenant.play("directory", sandbox, extra_vars=confirmed)
    assert run.rc == 0, run.stdout[-3000:]
    assert run.stats()["mutating_operations"] == ["ds:DeleteDirectory"]
    with pytest.raises(ClientError, match="EntityDoesNotExistException"):
        ds(sandbox).describe_directories(DirectoryIds=[directory_id])

    # The decoys are all still there, unchanged.
    for key in ("directory", "untagged directory"):
        (decoy,) = ds(sandbox).describe_directories(DirectoryIds=[decoys[key]])["DirectoryDescriptions"]
        assert decoy["Stage"] in ("Creating", "Requested", "Active")
    assert directory_tags(sandbox, decoys["directory"]) == {"tenant": "someone-else"}
    assert directory_tags(sandbox, decoys["untagged directory"]) == {}
    for key in ("fs", "untagged fs"):
        (decoy,) = fsx(sandbox).describe_file_systems(FileSystemIds=[decoys[key]])["FileSystems"]
        assert decoy["Lifecycle"] in ("CREATING", "AVAILABLE")

    # With only other owners' directories of that name left, the tenant's run refuses to adopt one.
    adopt = tenant.play("directory", sandbox)
    assert adopt.rc != 0 and "not owned by tenant" in adopt.stdout
    assert adopt.stats()["mutating"] == 0
