"""playbooks/image.yml on the sandbox, through its create-image hook (image_build_mode=sandbox_hook).

Each tenant here has its own name and network, so the tests share the session's sandbox safely.
The module builds one tenant's first image once; the tests after it read that state in file order.
"""

from __future__ import annotations

import copy
import json
import os
import re
import stat
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.catalogue import (
    catalogue_hash,
    image_name,
    resolve_catalogue,
)

from sandbox.client import SandboxClient
from tests.helpers import BIN, ROOT, PlaybookRun, run_playbook, write_inventory

PLAYBOOK = "playbooks/image.yml"
REGION = "eu-west-3"
DEMO_TENANT = yaml.safe_load((ROOT / "inventories/demo/host_vars/demo/tenant.yml").read_text())["tenant"]
CATALOGUE = yaml.safe_load((ROOT / "group_vars/all/catalogue.yml").read_text())["app_catalogue"]
BUILDER_ACTIONS = {"appstream:CreateImageBuilder", "appstream:StartImageBuilder"}


@dataclass
class Tenant:
    name: str
    definition: dict[str, Any]
    inventory: Path
    reports: Path | None = None


def new_tenant(prefix: str, cidr: str, auth: str = "userpool") -> dict[str, Any]:
    tenant = copy.deepcopy(DEMO_TENANT)
    tenant["name"] = f"{prefix}-{uuid.uuid4().hex[:6]}"
    tenant["auth"] = auth
    tenant["network"] = {"cidr": cidr, "availability_zones": 2, "nat_gateways": "none"}
    if auth == "userpool":
        tenant.pop("directory")
        tenant.pop("storage")
        tenant["users"] = [{k: v for k, v in user.items() if k != "username"} for user in tenant["users"]]
    else:
        tenant["directory"]["fqdn"] = f"corp.{tenant['name']}.example"
    return tenant


def expected_image_name(tenant: dict[str, Any], catalogue: dict[str, Any] = CATALOGUE) -> str:
    resolved = resolve_catalogue(catalogue, tenant["apps"])
    return image_name(tenant["name"], catalogue_hash(resolved, base_image=tenant["appstream"]["base_image"]))


def changed_catalogue(version: str) -> dict[str, Any]:
    catalogue = copy.deepcopy(CATALOGUE)
    catalogue["icostudio"]["version"] = version
    return catalogue


def appstream(sandbox: SandboxClient) -> Any:
    return sandbox.boto3("appstream", region=REGION)


def images_of(sandbox: SandboxClient, tenant: str) -> dict[str, dict[str, Any]]:
    images = appstream(sandbox).describe_images(Type="PRIVATE")["Images"]
    return {image["Name"]: image for image in images if image["Name"].startswith(f"{tenant}-suite-")}


def builder_of(sandbox: SandboxClient, name: str) -> dict[str, Any]:
    return appstream(sandbox).describe_image_builders(Names=[name])["ImageBuilders"][0]


def tags_of(sandbox: SandboxClient, arn: str) -> dict[str, str]:
    return appstream(sandbox).list_tags_for_resource(ResourceArn=arn)["Tags"]


def private_network(sandbox: SandboxClient, tenant: str) -> tuple[str, str]:
    ec2 = sandbox.boto3("ec2", region=REGION)
    subnets = ec2.describe_subnets(
        Filters=[{"Name": "tag:tenant", "Values": [tenant]}, {"Name": "tag:Name", "Values": [f"{tenant}-private-*"]}]
    )["Subnets"]
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "tag:tenant", "Values": [tenant]}, {"Name": "group-name", "Values": [f"{tenant}-streaming"]}]
    )["SecurityGroups"]
    return sorted(s["SubnetId"] for s in subnets)[0], groups[0]["GroupId"]


def security_group(sandbox: SandboxClient, tenant: str, role: str) -> dict[str, Any]:
    ec2 = sandbox.boto3("ec2", region=REGION)
    return ec2.describe_security_groups(
        Filters=[{"Name": "tag:tenant", "Values": [tenant]}, {"Name": "group-name", "Values": [f"{tenant}-{role}"]}]
    )["SecurityGroups"][0]


def ok(run: PlaybookRun) -> PlaybookRun:
    assert run.rc == 0, run.stdout[-6000:] + run.stderr[-3000:]
    return run


def prepared_tenant(sandbox: SandboxClient, directory: Path, definition: dict[str, Any], **host_vars: Any) -> Tenant:
    reports = directory / "reports"
    inventory = write_inventory(
        directory,
        definition,
        sandbox,
        {"image_build_mode": "sandbox_hook", "image_report_dir": str(reports), **host_vars},
    )
    ok(run_playbook("playbooks/network.yml", inventory, sandbox))
    return Tenant(definition["name"], definition, inventory, reports)


@pytest.fixture(scope="module")
def tenant(sandbox: SandboxClient, tmp_path_factory: pytest.TempPathFactory) -> Tenant:
    return prepared_tenant(
        sandbox, tmp_path_factory.mktemp("image-tenant"), new_tenant("img", "10.231.0.0/16"), image_keep=2
    )


def build_reports(tenant: Tenant) -> dict[str, Path]:
    """The evidence folders of the tenant's builds, by the image each one built."""
    assert tenant.reports is not None
    folders = sorted((tenant.reports / tenant.name).glob("image-build-*"))
    return {json.loads((folder / "create-image.json").read_text())["image_name"]: folder for folder in folders}


@pytest.fixture(scope="module")
def first_build(sandbox: SandboxClient, tenant: Tenant) -> PlaybookRun:
    return ok(run_playbook(PLAYBOOK, tenant.inventory, sandbox))


def test_first_run_makes_the_catalogue_image_and_leaves_the_builder_stopped(sandbox, tenant, first_build):
    name = expected_image_name(tenant.definition)
    image = images_of(sandbox, tenant.name)[name]
    assert image["State"] == "AVAILABLE"
    assert {app["Name"] for app in image["Applications"]} == {"IcoStudio", "IcoBatch"}
    assert image["DisplayName"] == f"{tenant.name} suite {name.rsplit('-', 1)[1]}"
    assert "icostudio 3.2.0" in image["Description"]
    tags = tags_of(sandbox, image["Arn"])
    assert tags["tenant"] == tenant.name and tags["managed-by"] == "appstream-tenant-toolkit"
    assert tags["catalogue-hash"] == name.rsplit("-", 1)[1]

    builder = builder_of(sandbox, f"{tenant.name}-builder")
    assert builder["State"] == "STOPPED"
    assert builder["ImageArn"].endswith(f"/{tenant.definition['appstream']['base_image']}")
    assert "DomainJoinInfo" not in builder
    assert tags_of(sandbox, builder["Arn"])["tenant"] == tenant.name
    assert first_build.stats()["by_operation"].get("appstream:CreateImageBuilder") == 1


def test_a_sandbox_build_leaves_the_evidence_of_what_it_did(tenant, first_build):
    name = expected_image_name(tenant.definition)
    folder = build_reports(tenant)[name]
    assert folder.parent == tenant.reports / tenant.name
    assert re.fullmatch(r"image-build-\d{8}T\d{6}Z", folder.name)
    files = {path.name: path for path in folder.iterdir()}
    assert set(files) == {"installs.json", "list-applications.json", "create-image.json", "summary.md"}
    assert stat.S_IMODE(folder.stat().st_mode) == 0o750
    assert {stat.S_IMODE(path.stat().st_mode) for path in files.values()} == {0o640}

    installs = json.loads(files["installs.json"].read_text())
    resolved = resolve_catalogue(CATALOGUE, tenant.definition["apps"])
    assert installs["mode"] == "sandbox_hook" and installs["tenant"] == tenant.name
    assert [app["key"] for app in installs["applications"]] == [entry["key"] for entry in resolved]
    assert {app["action"] for app in installs["applications"]} == {"not-run"}
    assert installs["applications"][0]["version"] == resolved[0]["version"]

    listed = json.loads(files["list-applications.json"].read_text())
    assert listed["source"] == "sandbox create-image hook"
    by_name = {app["name"]: app for app in listed["applications"]}
    assert set(by_name) == {"IcoStudio", "IcoBatch"}
    assert by_name["IcoStudio"]["absolute_app_path"] == CATALOGUE["icostudio"]["launch"]["absolute_app_path"]

    created = json.loads(files["create-image.json"].read_text())
    assert created["request"]["image_name"] == name and created["request"]["builder_name"] == f"{tenant.name}-builder"
    assert created["answer"]["status"] == 0
    assert created["image"]["name"] == name and created["image"]["state"] == "AVAILABLE"
    assert created["result"] == "AVAILABLE" and created["failure"] is None

    summary = files["summary.md"].read_text()
    assert summary.startswith(f"# Image build {name}\n")
    assert "| Result | AVAILABLE |" in summary and "| Mode | sandbox_hook |" in summary
    assert "| IcoStudio | IcoStudio |" in summary
    for path in files.values():
        assert "aws_secret_access_key" not in path.read_text() and "X-Amz-Signature" not in path.read_text()


def test_second_run_reuses_the_image_and_starts_no_builder(sandbox, tenant, first_build):
    before = build_reports(tenant)
    again = ok(run_playbook(PLAYBOOK, tenant.inventory, sandbox))
    assert build_reports(tenant) == before, "a reused image is no build: no new evidence"
    stats = again.stats()
    assert stats["mutating"] == 0, stats["mutating_operations"]
    assert not BUILDER_ACTIONS & set(stats["by_operation"])
    assert again.recap[tenant.name]["changed"] == 0
    assert builder_of(sandbox, f"{tenant.name}-builder")["State"] == "STOPPED"
    assert "reused, no image builder started" in again.stdout


def test_check_mode_plans_a_new_image_without_any_mutating_call(sandbox, tenant, first_build):
    catalogue = changed_catalogue("3.2.5")
    plan = ok(run_playbook(PLAYBOOK, tenant.inventory, sandbox, extra_vars={"app_catalogue": catalogue}, check=True))
    assert plan.stats()["mutating"] == 0, plan.stats()["mutating_operations"]
    assert expected_image_name(tenant.definition, catalogue) not in images_of(sandbox, tenant.name)
    assert plan.recap[tenant.name]["changed"] >= 1  # the builder would start
    # What the stage says is what a real run would do: check mode starts and awaits nothing.
    said = " ".join(plan.stdout.split())
    name = expected_image_name(tenant.definition, catalogue)
    assert f"{name} does not exist: a run without --check starts a builder to build it." in said
    assert "a builder starts to build it" not in said


def test_check_mode_says_that_a_run_would_wait_for_an_image_being_made(sandbox, tenant, first_build, time_scale):
    """The catalogue's image is being made (by another run, here a builder of the test's own): the plan says that a
    run without --check waits for it, and makes no mutating call."""
    catalogue = changed_catalogue("3.2.6-making")
    name = expected_image_name(tenant.definition, catalogue)
    builder = f"{tenant.name}-making"
    appstream(sandbox).create_image_builder(
        Name=builder, ImageName=tenant.definition["appstream"]["base_image"], InstanceType="stream.standard.medium"
    )
    assert wait_running(sandbox, builder)["State"] == "RUNNING"
    quick = sandbox.health()["time_scale"]
    # The image stays PENDING for 90 s (30 modelled minutes), longer than the plan takes; the plan's own waits are
    # none, and its timeout below fails the test early should it wait for the image.
    time_scale(0.05)
    sandbox.hook("appstream", "create-image", builder_name=builder, image_name=name, region=REGION)
    try:
        assert images_of(sandbox, tenant.name)[name]["State"] == "PENDING"
        plan = ok(
            run_playbook(
                PLAYBOOK, tenant.inventory, sandbox, extra_vars={"app_catalogue": catalogue}, check=True, timeout=80
            )
        )
        assert plan.stats()["mutating"] == 0, plan.stats()["mutating_operations"]
        said = " ".join(plan.stdout.split())
        assert f"{name} is not made yet: a run without --check waits for it." in said, plan.stdout[-3000:]
        assert "the run waits for it" not in said
        assert images_of(sandbox, tenant.name)[name]["State"] == "PENDING"  # nothing was awaited or changed
    finally:
        # Neither the image nor its builder stays for the tests after this one: both failed, then deleted, at the
        # quick scale again.
        time_scale(quick)
        sandbox.hook("appstream", "fail-image", name=name, region=REGION)
        appstream(sandbox).delete_image(Name=name)
        sandbox.hook("appstream", "fail-image-builder", name=builder, region=REGION)
        appstream(sandbox).delete_image_builder(Name=builder)

    def builders_named() -> list[str]:
        listed = appstream(sandbox).describe_image_builders()["ImageBuilders"]
        return [each["Name"] for each in listed if each["Name"] == builder]

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (name in images_of(sandbox, tenant.name) or builders_named()):
        time.sleep(0.2)
    assert name not in images_of(sandbox, tenant.name)
    assert builders_named() == []


def test_catalogue_changes_make_new_images_and_old_ones_follow_retention(sandbox, tenant, first_build):
    first = expected_image_name(tenant.definition)

    catalogue_b = changed_catalogue("3.2.1")
    second = expected_image_name(tenant.definition, catalogue_b)
    run_b = ok(run_playbook(PLAYBOOK, tenant.inventory, sandbox, extra_vars={"app_catalogue": catalogue_b}))
    images = images_of(sandbox, tenant.name)
    assert images[second]["State"] == "AVAILABLE"
    assert images[first]["State"] == "AVAILABLE", "image_keep=2 keeps the previous image"
    operations = run_b.stats()["by_operation"]
    assert operations.get("appstream:StartImageBuilder") == 1 and "appstream:CreateImageBuilder" not in operations
    assert builder_of(sandbox, f"{tenant.name}-builder")["State"] == "STOPPED"

    # A fleet still streams the first image: retention must not delete it.
    appstream(sandbox).create_fleet(
        Name=f"{tenant.name}-fleet",
        ImageName=first,
        InstanceType="stream.standard.medium",
        FleetType="ON_DEMAND",
        ComputeCapacity={"DesiredInstances": 1},
        Tags={"tenant": tenant.name},
    )
    catalogue_c = changed_catalogue("3.2.2")
    third = expected_image_name(tenant.definition, catalogue_c)
    run_c = ok(
        run_playbook(PLAYBOOK, tenant.inventory, sandbox, extra_vars={"app_catalogue": catalogue_c, "image_keep": 1})
    )
    images = images_of(sandbox, tenant.name)
    assert images[third]["State"] == "AVAILABLE"
    assert second not in images or images[second]["State"] == "DELETING"
    assert images[first]["State"] == "AVAILABLE"
    assert f"in use by fleet {tenant.name}-fleet" in run_c.stdout
    assert run_c.stats()["by_operation"].get("appstream:DeleteImage") == 1


def test_saml_tenant_builder_is_domain_joined_by_appstream_and_can_be_deleted_after(sandbox, tmp_path):
    definition = new_tenant("imgsaml", "10.232.0.0/16", auth="saml")
    fqdn, netbios = definition["directory"]["fqdn"], definition["directory"]["netbios"]
    domain = ",".join(f"DC={part}" for part in fqdn.split("."))
    fleet_ou, builders_ou = (
        f"OU=AppStream,OU=Computers,OU={netbios},{domain}",
        f"OU=ImageBuilders,OU={netbios},{domain}",
    )
    appstream(sandbox).create_directory_config(
        DirectoryName=fqdn,
        OrganizationalUnitDistinguishedNames=[fleet_ou, builders_ou],
        ServiceAccountCredentials={"AccountName": f"{netbios}\\svc-appstream", "AccountPassword": "Placeholder-1"},
    )
    saml = prepared_tenant(sandbox, tmp_path / "inventory", definition)
    ok(run_playbook(PLAYBOOK, saml.inventory, sandbox))
    builder = builder_of(sandbox, f"{saml.name}-builder")
    # The builders' own OU, where the builder access GPO applies; never the fleet's OU.
    assert builder["DomainJoinInfo"] == {"DirectoryName": fqdn, "OrganizationalUnitDistinguishedName": builders_ou}
    _subnet, streaming = private_network(sandbox, saml.name)
    assert streaming not in builder["VpcConfig"]["SecurityGroupIds"]
    assert builder["VpcConfig"]["SecurityGroupIds"] == [security_group(sandbox, saml.name, "builder")["GroupId"]]
    assert images_of(sandbox, saml.name)[expected_image_name(definition)]["State"] == "AVAILABLE"

    # The next image, with image_delete_builder: the stopped builder starts again, then is deleted.
    catalogue = changed_catalogue("3.3.0")
    rebuilt = ok(
        run_playbook(
            PLAYBOOK, saml.inventory, sandbox, extra_vars={"app_catalogue": catalogue, "image_delete_builder": True}
        )
    )
    assert images_of(sandbox, saml.name)[expected_image_name(definition, catalogue)]["State"] == "AVAILABLE"
    operations = rebuilt.stats()["by_operation"]
    assert operations.get("appstream:StartImageBuilder") == 1 and operations.get("appstream:DeleteImageBuilder") == 1
    remaining = {b["Name"] for b in appstream(sandbox).describe_image_builders()["ImageBuilders"]}
    assert f"{saml.name}-builder" not in remaining


def wait_running(sandbox: SandboxClient, name: str, seconds: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        builder = builder_of(sandbox, name)
        if builder["State"] == "RUNNING" or time.monotonic() > deadline:
            return builder
        time.sleep(0.2)


def plain(value: Any) -> Any:
    """ansible-inventory --list marks untrusted strings as {"__ansible_unsafe": ...}: the values."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def graph_members(graph: str) -> dict[str, list[str]]:
    """Group -> direct hosts, read from `ansible-inventory --graph` (three characters per level)."""
    members: dict[str, list[str]] = {}
    stack: list[tuple[int, str]] = []
    for line in graph.splitlines():
        depth = line.find("|--") if "|--" in line else line.find("@")
        label = line[depth:].removeprefix("|--")
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if label.startswith("@"):
            group = label[1:].rstrip(":")
            members.setdefault(group, [])
            stack.append((depth, group))
        elif stack:
            members[stack[-1][1]].append(label)
    return members


def test_inventory_plugin_lists_a_running_builder_under_its_tenant_group(sandbox, tenant, first_build, tmp_path):
    subnet, group = private_network(sandbox, tenant.name)
    name = f"{tenant.name}-inv"
    appstream(sandbox).create_image_builder(
        Name=name,
        ImageName=tenant.definition["appstream"]["base_image"],
        InstanceType="stream.standard.medium",
        VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": [group]},
        Tags={"tenant": tenant.name},
    )
    builder = wait_running(sandbox, name)
    assert builder["State"] == "RUNNING"
    address = builder["NetworkAccessConfiguration"]["EniPrivateIpAddress"]

    source = tmp_path / "x.appstream_image_builders.yml"
    source.write_text(
        yaml.safe_dump(
            {
                "plugin": "iconeus.tenant_toolkit.appstream_image_builders",
                "regions": [REGION],
                "endpoint_url": sandbox.endpoint,
                "access_key": "testing",
                "secret_key": "testing",
                "tenants": [tenant.name],
            }
        )
    )
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }
    command = [str(BIN / "ansible-inventory"), "-i", str(source)]
    graph = subprocess.run([*command, "--graph"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert graph.returncode == 0, graph.stderr
    members = graph_members(graph.stdout)
    assert name in members["tenant_" + tenant.name.replace("-", "_")]
    assert name in members["state_running"]

    listed = subprocess.run([*command, "--list"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert listed.returncode == 0, listed.stderr
    hostvars = plain(json.loads(listed.stdout))["_meta"]["hostvars"]
    assert hostvars[name]["ansible_host"] == address
    assert hostvars[name]["ansible_connection"] == "winrm" and hostvars[name]["ansible_port"] == 5985
    assert hostvars[name]["ansible_winrm_message_encryption"] == "always"
    assert hostvars[name]["appstream_tenant"] == tenant.name
    # The first image's builder (STOPPED) is listed too, in its state group.
    assert f"{tenant.name}-builder" in hostvars
    assert name in json.loads(listed.stdout)["state_running"]["hosts"]


def test_a_winrm_build_stopped_in_the_builder_still_leaves_its_evidence(tmp_path):
    """playbooks/tasks/image_build_report.yml fed what the builder play leaves on a WinRM builder host."""
    folder = tmp_path / "reports" / "demo" / "image-build-20261206T100000Z"
    vc_runtime = {
        "key": "vcredist_2015_2022_x64",
        "version": "14.40.33816.0",
        "action": "installed",
        "rc": 1638,
        "success_exit_codes": [0, 3010, 1638],
        "accepted": True,
        "reboot_required": False,
        "message": "",
        "log_tail": [],
    }
    studio = vc_runtime | {
        "key": "icostudio",
        "version": "3.2.0",
        "action": "failed",
        "rc": 1603,
        "success_exit_codes": [0, 3010],
        "accepted": False,
        "message": "unexpected rc from 'msiexec.exe /i ...': see rc, stdout, and stderr for more details",
        "log_tail": ["MSI (s) (A4:B8) Product: IcoStudio -- Installation failed.", "=== Logging stopped ==="],
    }
    failure = {"step": "Ensure the application is installed: icostudio 3.2.0", "message": studio["message"]}
    play = {
        "name": "Write the evidence of a WinRM build that stopped at an install",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {
            "ansible_python_interpreter": sys.executable,
            "tenant_spec": {"name": "demo", "environment": "dev"},
            "image_pipeline_mode": "winrm",
            "image_pipeline_builder_name": "demo-builder",
            "tenant_image_name": "demo-suite-0123456789ab",
            "tenant_catalogue_hash": "0123456789ab",
            "image_pipeline_started": "2026-12-06T10:00:00Z",
            "image_pipeline_report_dir": str(folder),
        },
        "tasks": [
            {
                "name": "The builder as the builder play leaves it",
                "ansible.builtin.add_host": {
                    "name": "demo-builder",
                    "win_app_install_report": [vc_runtime, studio],
                    "image_pipeline_guest_failure": failure,
                },
            },
            {
                "name": "Write the evidence",
                "ansible.builtin.include_tasks": str(ROOT / "playbooks" / "tasks" / "image_build_report.yml"),
            },
        ],
    }
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    ok(run_playbook(playbook, Path("localhost,")))

    assert sorted(path.name for path in folder.iterdir()) == [
        "create-image.json",
        "installs.json",
        "list-applications.json",
        "summary.md",
    ]
    installs = json.loads((folder / "installs.json").read_text())
    assert installs["mode"] == "winrm" and installs["builder"] == "demo-builder"
    assert [(app["key"], app["action"], app["rc"], app["accepted"]) for app in installs["applications"]] == [
        ("vcredist_2015_2022_x64", "installed", 1638, True),
        ("icostudio", "failed", 1603, False),
    ]
    assert installs["applications"][1]["log_tail"][-1] == "=== Logging stopped ==="
    created = json.loads((folder / "create-image.json").read_text())
    assert created["failure"] == failure and created["answer"] is None
    assert created["result"] == f"failed at {failure['step']}: {failure['message']}"
    assert json.loads((folder / "list-applications.json").read_text())["source"] == "not read"
    summary = (folder / "summary.md").read_text()
    assert f"| Result | failed at {failure['step']}: " in summary
    assert "| icostudio | 3.2.0 | failed | 1603 | 0, 3010 |  |" in summary


def test_winrm_mode_checks_its_variables_before_any_aws_call(sandbox, tmp_path):
    definition = new_tenant("imgvars", "10.234.0.0/16")
    inventory = write_inventory(tmp_path, definition, sandbox, {"image_build_mode": "winrm"})
    run = run_playbook(PLAYBOOK, inventory, sandbox)
    assert run.rc != 0
    assert "image_controller_cidr: is required but missing" in run.stdout
    assert "image_bootstrap_image: is required but missing" in run.stdout, "a user-pool builder needs it"
    assert run.calls() == [], "nothing reached AWS"

    inventory = write_inventory(
        tmp_path,
        definition,
        sandbox,
        {
            "image_build_mode": "winrm",
            "image_controller_cidr": "10.40.250.9/28",
            "image_bootstrap_image": "toolkit-bootstrap",
            "image_winrm_transport": "kerberos",
        },
    )
    run = run_playbook(PLAYBOOK, inventory, sandbox)
    assert run.rc != 0
    assert "image_controller_cidr: " in run.stdout and "has host bits set (did you mean 10.40.250.0/28?)" in run.stdout
    assert "image_winrm_transport: " in run.stdout
    assert run.calls() == []


def test_a_failed_catalogue_image_stops_the_stage_saying_how_to_build_it_anew(sandbox, tmp_path):
    """The stage says what it does with the catalogue image and refuses a FAILED one before any builder starts."""
    tenant = prepared_tenant(sandbox, tmp_path, new_tenant("imgfailed", "10.236.0.0/16"))
    name = expected_image_name(tenant.definition)
    first = ok(run_playbook(PLAYBOOK, tenant.inventory, sandbox))
    assert f"{name} does not exist: a builder starts to build it." in " ".join(first.stdout.split())
    assert images_of(sandbox, tenant.name)[name]["State"] == "AVAILABLE"

    sandbox.hook("appstream", "fail-image", name=name, message="Snapshot of the root volume failed.", region=REGION)
    mark = sandbox.log_mark()
    again = run_playbook(PLAYBOOK, tenant.inventory, sandbox)
    assert again.rc != 0
    text = " ".join(again.stdout.split())
    assert f"Image {name} is FAILED (Snapshot of the root volume failed.)." in text, again.stdout[-3000:]
    assert f"Delete it (appstream_image name={name} state=absent)" in text
    operations = {f"{call['service']}:{call['operation']}" for call in sandbox.log(mark)}
    assert not BUILDER_ACTIONS & operations, "no builder was started for a FAILED image"
    assert images_of(sandbox, tenant.name)[name]["State"] == "FAILED"


def test_image_keep_and_the_hook_endpoint_are_checked_before_any_aws_call(sandbox, tmp_path):
    """Checked with the other image variables (no assert of their own), each error naming its variable."""
    definition = new_tenant("imgkeep", "10.235.0.0/16")
    inventory = write_inventory(tmp_path, definition, sandbox, {"image_build_mode": "sandbox_hook", "image_keep": 0})
    run = run_playbook(PLAYBOOK, inventory, sandbox)
    assert run.rc != 0
    assert "image_keep: 0 is below the minimum of 1" in run.stdout, run.stdout[-3000:]
    assert run.calls() == [], "nothing reached AWS"

    # The hook is the sandbox's own API: sandbox_hook without an endpoint stops here, before the lock (whose
    # connection would otherwise be the controller's own, on AWS).
    inventory = write_inventory(tmp_path, definition, None, {"image_build_mode": "sandbox_hook"})
    run = run_playbook(PLAYBOOK, inventory, sandbox)
    assert run.rc != 0
    assert "aws_endpoint_url: is required but missing" in run.stdout, run.stdout[-3000:]
    assert "TASK [Ensure this run holds the tenant's lock" not in run.stdout


BOOTSTRAP = "playbooks/ops/builder_bootstrap.yml"


def test_the_account_bootstrap_makes_its_base_image_once_and_keeps_the_url_out_of_the_output(sandbox, tmp_path):
    controller = "10.235.250.0/28"
    definition = new_tenant("imgboot", "10.235.0.0/16")
    tenant = prepared_tenant(sandbox, tmp_path / "inventory", definition, image_controller_cidr=controller)
    suffix = uuid.uuid4().hex[:6]
    image, secret = f"toolkit-bootstrap-{suffix}", f"tenant-toolkit/builder-bootstrap-{suffix}"
    output = tmp_path / "bootstrap"
    extra = {
        "bootstrap_mode": "sandbox_hook",
        "image_controller_cidr": controller,
        "bootstrap_image_name": image,
        "bootstrap_secret_name": secret,
        "bootstrap_output_dir": str(output),
    }
    first = ok(run_playbook(BOOTSTRAP, tenant.inventory, sandbox, extra_vars=extra))

    made = appstream(sandbox).describe_images(Names=[image])["Images"][0]
    assert made["State"] == "AVAILABLE"
    assert made["BaseImageArn"].endswith(f"/{definition['appstream']['base_image']}")
    assert tags_of(sandbox, made["Arn"])["tenant"] == "_account", "the image belongs to no tenant"
    builders = {b["Name"] for b in appstream(sandbox).describe_image_builders()["ImageBuilders"]}
    assert "toolkit-bootstrap-builder" not in builders, "the bootstrap builder is deleted once the image exists"
    started = [c for c in first.calls() if c.get("operation") == "CreateImageBuilder"]
    assert len(started) == 1

    secrets = sandbox.boto3("secretsmanager", region=REGION)
    described = secrets.describe_secret(SecretId=secret)
    assert {t["Key"]: t["Value"] for t in described["Tags"]}["tenant"] == "_account"
    password = json.loads(secrets.get_secret_value(SecretId=secret)["SecretString"])["password"]
    assert len(password) >= 20

    url_file = output / "streaming-url.txt"
    assert stat.S_IMODE(url_file.stat().st_mode) == 0o600 and stat.S_IMODE(output.stat().st_mode) == 0o700
    url = url_file.read_text().strip()
    assert url.startswith("https://")
    assert url not in first.stdout and url not in first.stderr, "the URL is a credential: only in the file"
    assert password not in first.stdout and password not in (output / "builder-bootstrap.ps1").read_text()
    script = (output / "builder-bootstrap.ps1").read_text()
    assert json.dumps(controller) in script and json.dumps(secret) in script

    again = ok(run_playbook(BOOTSTRAP, tenant.inventory, sandbox, extra_vars=extra))
    assert again.stats()["mutating"] == 0, again.stats()["mutating_operations"]
    said = " ".join(again.stdout.split())  # the callback wraps long messages
    assert f"{image} is AVAILABLE: the account and region are bootstrapped, nothing started" in said
