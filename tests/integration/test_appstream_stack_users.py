"""appstream_stack, appstream_user, appstream_streaming_url and the stack/users roles on the sandbox.

Each test uses its own tenant name: the sandbox is shared by the whole test session. Assertions
read the resulting AWS state back with boto3 and count the calls in the sandbox's request log.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from sandbox.client import SandboxClient
from tests.helpers import ROOT, demo_tenant, run_playbook, run_tasks, write_inventory

REGION = "eu-west-3"
ACCOUNT = "123456789012"
IMAGE = "AppStream-WinServer2019-07-16-2024"
SAML_METADATA = ROOT / "inventories" / "demo" / "files" / "saml-metadata.xml"
SIGN_IN = "https://signin.aws.amazon.com/saml"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/appstream-tenant-toolkit/saml-role-boundary"


# -- helpers -----------------------------------------------------------------------------------
def tenant_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def tenant_definition(name: str, auth: str = "userpool", **changes: Any) -> dict[str, Any]:
    """A valid tenant definition (the demo's, renamed) for `auth`."""
    tenant = demo_tenant()
    tenant.update(name=name, auth=auth, environment="test")
    if auth == "userpool":
        tenant.pop("directory", None)
        tenant.pop("storage", None)
        tenant["users"] = [{k: v for k, v in u.items() if k != "username"} for u in tenant["users"]]
    tenant.update(changes)
    return tenant


def appstream(sandbox: SandboxClient) -> Any:
    return sandbox.boto3("appstream")


def stack_of(sandbox: SandboxClient, name: str) -> dict[str, Any]:
    return appstream(sandbox).describe_stacks(Names=[name])["Stacks"][0]


def names_of_stacks(sandbox: SandboxClient) -> set[str]:
    return {s["Name"] for s in appstream(sandbox).describe_stacks()["Stacks"]}


def fleets_of(sandbox: SandboxClient, stack: str) -> list[str]:
    return sorted(appstream(sandbox).list_associated_fleets(StackName=stack)["Names"])


def permissions(stack: dict[str, Any]) -> dict[str, str]:
    return {s["Action"]: s["Permission"] for s in stack["UserSettings"]}


def users_of(sandbox: SandboxClient) -> dict[str, dict[str, Any]]:
    return {u["UserName"]: u for u in appstream(sandbox).describe_users(AuthenticationType="USERPOOL")["Users"]}


def associations_of(sandbox: SandboxClient, stack: str) -> set[str]:
    found = appstream(sandbox).describe_user_stack_associations(StackName=stack)["UserStackAssociations"]
    return {a["UserName"] for a in found}


def subnets(sandbox: SandboxClient, octet: int) -> list[str]:
    ec2 = sandbox.boto3("ec2")
    vpc = ec2.create_vpc(CidrBlock=f"10.{octet}.0.0/16")["Vpc"]["VpcId"]
    return [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{octet}.{i}.0/24", AvailabilityZone=f"{REGION}{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in ((1, "a"), (2, "b"))
    ]


def make_fleet(
    sandbox: SandboxClient, name: str, tenant: str, subnet_ids: list[str], domain: dict[str, str] | None = None
) -> None:
    request: dict[str, Any] = {
        "Name": name,
        "InstanceType": "stream.standard.medium",
        "FleetType": "ON_DEMAND",
        "ComputeCapacity": {"DesiredInstances": 1},
        "ImageName": IMAGE,
        "VpcConfig": {"SubnetIds": subnet_ids},
        "Tags": {"tenant": tenant},
    }
    if domain:
        request["DomainJoinInfo"] = domain
    appstream(sandbox).create_fleet(**request)


def start_fleet(sandbox: SandboxClient, name: str) -> None:
    client = appstream(sandbox)
    client.start_fleet(Name=name)
    deadline = time.monotonic() + 30
    while client.describe_fleets(Names=[name])["Fleets"][0]["State"] != "RUNNING":
        assert time.monotonic() < deadline, f"fleet {name} did not start"
        time.sleep(0.1)


def domain_joined_fleet(sandbox: SandboxClient, tenant: str, octet: int) -> str:
    directory = f"corp.{tenant}.example"
    ou = f"OU=AppStream,OU=CORP,{','.join('DC=' + p for p in directory.split('.'))}"
    appstream(sandbox).create_directory_config(
        DirectoryName=directory,
        OrganizationalUnitDistinguishedNames=[ou],
        ServiceAccountCredentials={"AccountName": "CORP\\svc-appstream", "AccountPassword": "Sandbox-only-1"},
    )
    fleet = f"{tenant}-fleet"
    make_fleet(
        sandbox,
        fleet,
        tenant,
        subnets(sandbox, octet),
        domain={"DirectoryName": directory, "OrganizationalUnitDistinguishedName": ou},
    )
    return fleet


def stack_task(**options: Any) -> dict[str, Any]:
    return {"name": "Stack under test", "iconeus.tenant_toolkit.appstream_stack": options, "register": "stack_result"}


def user_task(**options: Any) -> dict[str, Any]:
    return {"name": "Users under test", "iconeus.tenant_toolkit.appstream_user": options, "register": "user_result"}


def url_task(**options: Any) -> dict[str, Any]:
    return {
        "name": "URL under test",
        "iconeus.tenant_toolkit.appstream_streaming_url": options,
        "register": "url_result",
    }


def show(register: str, directory: Path) -> dict[str, Any]:
    """A task writing a registered result to `directory`/result.json (also in check mode)."""
    return {
        "name": "Keep the result",
        "ansible.builtin.copy": {"content": f"{{{{ {register} | to_json }}}}", "dest": str(directory / "result.json")},
        "check_mode": False,
    }


def result_of(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "result.json").read_text())


def full_stack_options(tenant: str, fleets: list[str], vpce: str) -> dict[str, Any]:
    return {
        "name": f"{tenant}-stack",
        "tenant": tenant,
        "environment": "test",
        "display_name": "Every field",
        "description": "A stack with every setting the API accepts",
        "user_settings": {
            "clipboard_copy_from_local": True,
            "clipboard_copy_from_local_max_length": 4096,
            "file_download": True,
        },
        "storage_connectors": [
            {"connector_type": "HOMEFOLDERS"},
            {
                "connector_type": "ONE_DRIVE",
                "domains": ["lab.example"],
                "domains_require_admin_consent": ["lab.example"],
            },
            {"connector_type": "GOOGLE_DRIVE", "domains": ["lab.example"]},
        ],
        "storage_connector_authentication": "FORCE_REAUTHENTICATION",
        "application_settings": {"enabled": True, "settings_group": tenant},
        "access_endpoints": [{"endpoint_type": "STREAMING", "vpce_id": vpce}],
        "embed_host_domains": ["portal.lab.example"],
        "redirect_url": "https://lab.example/bye",
        "feedback_url": "https://lab.example/feedback",
        "streaming_experience_settings": {"preferred_protocol": "UDP"},
        "content_redirection": {"host_to_client": {"enabled": True, "allowed_urls": ["https://*.lab.example/*"]}},
        "webauthn_redirection": {"enabled": True, "process_compatibility_list": ["chrome.exe"]},
        "agent_access_config": {
            "settings": [
                {"action": "COMPUTER_VISION", "permission": "ENABLED"},
                {"action": "COMPUTER_INPUT", "permission": "DISABLED"},
            ],
            "screen_resolution": "W_1280xH_720",
            "screen_image_format": "PNG",
            "user_control_mode": "VIEW_STOP",
        },
        "fleets": fleets,
        "tags": {"team": "imaging"},
    }


# -- appstream_stack ----------------------------------------------------------------------------
def test_stack_lifecycle_with_every_field(sandbox: SandboxClient, tmp_path: Path) -> None:
    tenant = tenant_name("stk")
    stack = f"{tenant}-stack"
    subnet_ids = subnets(sandbox, 71)
    fleet, second = f"{tenant}-fleet", f"{tenant}-fleet2"
    make_fleet(sandbox, fleet, tenant, subnet_ids)
    make_fleet(sandbox, second, tenant, subnet_ids)
    vpce = sandbox.boto3("ec2").create_vpc_endpoint(
        VpcEndpointType="Interface",
        VpcId=sandbox.boto3("ec2").describe_subnets(SubnetIds=subnet_ids[:1])["Subnets"][0]["VpcId"],
        ServiceName=f"com.amazonaws.{REGION}.appstream.streaming",
        SubnetIds=subnet_ids[:1],
    )["VpcEndpoint"]["VpcEndpointId"]
    options = full_stack_options(tenant, [fleet], vpce)

    plan = run_tasks(tmp_path / "plan", [stack_task(**options)], sandbox, check=True, diff=True)
    assert plan.rc == 0, plan.stdout
    assert plan.recap["localhost"]["changed"] == 1
    assert plan.stats()["mutating"] == 0
    assert stack not in names_of_stacks(sandbox)

    created = run_tasks(tmp_path / "create", [stack_task(**options)], sandbox)
    assert created.rc == 0, created.stdout
    described = stack_of(sandbox, stack)
    assert described["DisplayName"] == "Every field"
    assert described["Description"] == "A stack with every setting the API accepts"
    assert permissions(described) == {
        "CLIPBOARD_COPY_FROM_LOCAL_DEVICE": "ENABLED",
        "CLIPBOARD_COPY_TO_LOCAL_DEVICE": "DISABLED",
        "FILE_UPLOAD": "ENABLED",
        "FILE_DOWNLOAD": "ENABLED",
        "PRINTING_TO_LOCAL_DEVICE": "DISABLED",
        "DOMAIN_PASSWORD_SIGNIN": "ENABLED",
        "DOMAIN_SMART_CARD_SIGNIN": "DISABLED",
        "AUTO_TIME_ZONE_REDIRECTION": "ENABLED",
        "SMART_CARD_REDIRECTION": "DISABLED",
    }
    clipboard = next(s for s in described["UserSettings"] if s["Action"] == "CLIPBOARD_COPY_FROM_LOCAL_DEVICE")
    assert clipboard["MaximumLength"] == 4096
    assert {c["ConnectorType"] for c in described["StorageConnectors"]} == {"HOMEFOLDERS", "ONE_DRIVE", "GOOGLE_DRIVE"}
    one_drive = next(c for c in described["StorageConnectors"] if c["ConnectorType"] == "ONE_DRIVE")
    assert one_drive["DomainsRequireAdminConsent"] == ["lab.example"]
    assert described["StorageConnectorAuthentication"] == "FORCE_REAUTHENTICATION"
    assert described["ApplicationSettings"]["Enabled"] is True
    assert described["ApplicationSettings"]["SettingsGroup"] == tenant
    assert described["AccessEndpoints"] == [{"EndpointType": "STREAMING", "VpceId": vpce}]
    assert described["EmbedHostDomains"] == ["portal.lab.example"]
    assert described["RedirectURL"] == "https://lab.example/bye"
    assert described["FeedbackURL"] == "https://lab.example/feedback"
    assert described["StreamingExperienceSettings"] == {"PreferredProtocol": "UDP"}
    assert described["ContentRedirection"]["HostToClient"]["AllowedUrls"] == ["https://*.lab.example/*"]
    assert described["WebAuthnRedirection"] == {"Enabled": True, "ProcessCompatibilityList": ["chrome.exe"]}
    assert described["AgentAccessConfig"]["UserControlMode"] == "VIEW_STOP"
    assert fleets_of(sandbox, stack) == [fleet]
    tags = appstream(sandbox).list_tags_for_resource(ResourceArn=described["Arn"])["Tags"]
    assert tags == {
        "team": "imaging",
        "tenant": tenant,
        "environment": "test",
        "managed-by": "appstream-tenant-toolkit",
    }

    again = run_tasks(tmp_path / "again", [stack_task(**options)], sandbox)
    assert again.rc == 0, again.stdout
    assert again.recap["localhost"]["changed"] == 0
    assert again.stats()["mutating"] == 0

    # Removal of settings (AttributesToDelete), a changed action, a purged fleet association.
    changed = dict(
        options,
        redirect_url="",
        feedback_url="",
        embed_host_domains=[],
        access_endpoints=[],
        storage_connectors=[{"connector_type": "HOMEFOLDERS"}],
        storage_connector_authentication="",
        streaming_experience_settings={},
        content_redirection={},
        webauthn_redirection={},
        agent_access_config={},
        user_settings={"printing": True},
        fleets=[second],  # AWS allows one fleet per stack: the old one is disassociated first
        tags={"team": "neuro"},
    )
    checked = run_tasks(
        tmp_path / "check", [stack_task(**changed), show("stack_result", tmp_path / "check")], sandbox, check=True
    )
    assert checked.rc == 0, checked.stdout
    assert checked.stats()["mutating"] == 0
    planned = result_of(tmp_path / "check")["plan"]
    assert planned["attributes_to_delete"] == sorted(
        [
            "ACCESS_ENDPOINTS",
            "AGENT_ACCESS_CONFIG",
            "CONTENT_REDIRECTION",
            "EMBED_HOST_DOMAINS",
            "FEEDBACK_URL",
            "REDIRECT_URL",
            "STORAGE_CONNECTOR_AUTHENTICATION",
            "STORAGE_CONNECTOR_GOOGLE_DRIVE",
            "STORAGE_CONNECTOR_ONE_DRIVE",
            "STREAMING_EXPERIENCE_SETTINGS",
            "WEB_AUTHN_REDIRECTION",
        ]
    )
    assert planned["fleets_to_disassociate"] == [fleet]
    assert planned["fleets_to_associate"] == [second]
    assert stack_of(sandbox, stack)["RedirectURL"] == "https://lab.example/bye"

    updated = run_tasks(tmp_path / "update", [stack_task(**changed)], sandbox)
    assert updated.rc == 0, updated.stdout
    assert updated.stats()["by_operation"].get("appstream:UpdateStack", 0) >= 1
    described = stack_of(sandbox, stack)
    for member in (
        "RedirectURL",
        "FeedbackURL",
        "EmbedHostDomains",
        "AccessEndpoints",
        "StorageConnectorAuthentication",
        "StreamingExperienceSettings",
        "ContentRedirection",
        "WebAuthnRedirection",
        "AgentAccessConfig",
    ):
        assert member not in described, member
    assert [c["ConnectorType"] for c in described["StorageConnectors"]] == ["HOMEFOLDERS"]
    assert permissions(described)["PRINTING_TO_LOCAL_DEVICE"] == "ENABLED"
    assert permissions(described)["FILE_DOWNLOAD"] == "DISABLED"  # back to the secure default
    assert fleets_of(sandbox, stack) == [second]
    tags = appstream(sandbox).list_tags_for_resource(ResourceArn=described["Arn"])["Tags"]
    assert tags["team"] == "neuro" and tags["tenant"] == tenant

    settled = run_tasks(tmp_path / "settled", [stack_task(**changed)], sandbox)
    assert settled.recap["localhost"]["changed"] == 0
    assert settled.stats()["mutating"] == 0

    removed = run_tasks(tmp_path / "absent", [stack_task(name=stack, tenant=tenant, state="absent")], sandbox)
    assert removed.rc == 0, removed.stdout
    assert stack not in names_of_stacks(sandbox)
    assert appstream(sandbox).list_associated_stacks(FleetName=second)["Names"] == []
    gone = run_tasks(tmp_path / "absent-again", [stack_task(name=stack, tenant=tenant, state="absent")], sandbox)
    assert gone.recap["localhost"]["changed"] == 0
    assert gone.stats()["mutating"] == 0


def test_stack_refuses_a_fleet_of_another_tenant(sandbox: SandboxClient, tmp_path: Path) -> None:
    tenant, other = tenant_name("own"), tenant_name("oth")
    make_fleet(sandbox, f"{other}-fleet", other, subnets(sandbox, 72))
    run = run_tasks(
        tmp_path / "foreign", [stack_task(name=f"{tenant}-stack", tenant=tenant, fleets=[f"{other}-fleet"])], sandbox
    )
    assert run.rc != 0
    assert f"fleet '{other}-fleet' is not owned by tenant '{tenant}'" in run.stdout
    assert run.stats()["mutating"] == 0
    assert f"{tenant}-stack" not in names_of_stacks(sandbox)


def test_stack_of_another_tenant_is_never_changed(sandbox: SandboxClient, tmp_path: Path) -> None:
    owner, intruder = tenant_name("own"), tenant_name("int")
    stack = f"{owner}-stack"
    appstream(sandbox).create_stack(Name=stack, RedirectURL="https://owner.example", Tags={"tenant": owner})
    run = run_tasks(tmp_path / "intrude", [stack_task(name=stack, tenant=intruder, redirect_url="")], sandbox)
    assert run.rc != 0
    assert "not owned by tenant" in run.stdout
    assert run.stats()["mutating"] == 0
    assert stack_of(sandbox, stack)["RedirectURL"] == "https://owner.example"


# -- the appstream_stack role ---------------------------------------------------------------------
def test_stack_role_applies_the_tenant_definition(sandbox: SandboxClient, tmp_path: Path) -> None:
    tenant = tenant_name("rol")
    make_fleet(sandbox, f"{tenant}-fleet", tenant, subnets(sandbox, 73))
    definition = tenant_definition(tenant)
    inventory = write_inventory(tmp_path / "inventory", definition, sandbox)

    plan = run_playbook("playbooks/stack.yml", inventory, sandbox, check=True, diff=True)
    assert plan.rc == 0, plan.stdout + plan.stderr
    assert plan.stats()["mutating"] == 0

    first = run_playbook("playbooks/stack.yml", inventory, sandbox)
    assert first.rc == 0, first.stdout + first.stderr
    described = stack_of(sandbox, f"{tenant}-stack")
    assert permissions(described)["CLIPBOARD_COPY_FROM_LOCAL_DEVICE"] == "ENABLED"
    assert permissions(described)["CLIPBOARD_COPY_TO_LOCAL_DEVICE"] == "DISABLED"
    assert permissions(described)["FILE_UPLOAD"] == "ENABLED"
    assert permissions(described)["FILE_DOWNLOAD"] == "DISABLED"
    assert permissions(described)["PRINTING_TO_LOCAL_DEVICE"] == "DISABLED"
    assert described["StorageConnectors"] == [{"ConnectorType": "HOMEFOLDERS"}]
    assert described["ApplicationSettings"]["Enabled"] is True
    assert fleets_of(sandbox, f"{tenant}-stack") == [f"{tenant}-fleet"]

    second = run_playbook("playbooks/stack.yml", inventory, sandbox)
    assert second.rc == 0
    assert second.recap[tenant]["changed"] == 0
    assert second.stats()["mutating"] == 0

    definition["appstream"]["stack"].update(file_download=True, persist_app_settings=False)
    write_inventory(tmp_path / "inventory", definition, sandbox)
    checked = run_playbook("playbooks/stack.yml", inventory, sandbox, check=True, diff=True)
    assert checked.rc == 0
    assert checked.recap[tenant]["changed"] == 1
    assert checked.stats()["mutating"] == 0
    assert "+        file_download: true" in checked.stdout
    applied = run_playbook("playbooks/stack.yml", inventory, sandbox)
    assert applied.rc == 0
    described = stack_of(sandbox, f"{tenant}-stack")
    assert permissions(described)["FILE_DOWNLOAD"] == "ENABLED"
    assert described["ApplicationSettings"]["Enabled"] is False


# -- appstream_user -------------------------------------------------------------------------------
def userpool_stack(sandbox: SandboxClient, tmp_path: Path, tenant: str, octet: int) -> str:
    make_fleet(sandbox, f"{tenant}-fleet", tenant, subnets(sandbox, octet))
    run = run_tasks(
        tmp_path / "stack", [stack_task(name=f"{tenant}-stack", tenant=tenant, fleets=[f"{tenant}-fleet"])], sandbox
    )
    assert run.rc == 0, run.stdout
    return f"{tenant}-stack"


def test_users_bulk_lifecycle(sandbox: SandboxClient, tmp_path: Path) -> None:
    tenant = tenant_name("usr")
    stack = userpool_stack(sandbox, tmp_path, tenant, 74)
    domain = f"{tenant}.example"
    users = [
        {"email": f"ada@{domain}", "first_name": "Ada", "last_name": "Lovelace"},
        {"email": f"alan@{domain}", "first_name": "Alan", "last_name": "Turing", "enabled": False},
        {"email": f"grace@{domain}", "first_name": "Grace", "last_name": "Hopper"},
    ]
    options = {"tenant": tenant, "stacks": [stack], "users": users, "purge_users": True, "send_welcome_email": False}

    plan = run_tasks(tmp_path / "plan", [user_task(**options)], sandbox, check=True, diff=True)
    assert plan.rc == 0, plan.stdout
    assert plan.stats()["mutating"] == 0
    assert f"ada@{domain}" not in users_of(sandbox)

    created = run_tasks(tmp_path / "create", [user_task(**options), show("user_result", tmp_path / "create")], sandbox)
    assert created.rc == 0, created.stdout
    pool = users_of(sandbox)
    assert pool[f"ada@{domain}"]["Enabled"] is True
    assert pool[f"alan@{domain}"]["Enabled"] is False
    assert pool[f"grace@{domain}"]["FirstName"] == "Grace"
    assert associations_of(sandbox, stack) == {u["email"] for u in users}
    result = result_of(tmp_path / "create")
    assert {u["user_name"]: u["stacks"] for u in result["users"]} == {u["email"]: [stack] for u in users}
    assert created.stats()["by_operation"]["appstream:BatchAssociateUserStack"] == 1

    again = run_tasks(tmp_path / "again", [user_task(**options)], sandbox)
    assert again.rc == 0
    assert again.recap["localhost"]["changed"] == 0
    stats = again.stats()
    assert stats["mutating"] == 0
    assert stats["by_operation"]["appstream:DescribeUsers"] == 1
    assert stats["by_operation"]["appstream:DescribeUserStackAssociations"] == 1

    # A user shared with another tenant's stack is only disassociated from ours when purged.
    other = tenant_name("shr")
    other_stack = f"{other}-stack"
    appstream(sandbox).create_stack(Name=other_stack, Tags={"tenant": other})
    appstream(sandbox).batch_associate_user_stack(
        UserStackAssociations=[
            {"StackName": other_stack, "UserName": f"grace@{domain}", "AuthenticationType": "USERPOOL"}
        ]
    )

    changed = dict(
        options,
        users=[
            {"email": f"ada@{domain}", "first_name": "Ada", "last_name": "Lovelace", "enabled": False},
            {"email": f"alan@{domain}", "first_name": "Alan", "last_name": "Turing", "enabled": True},
        ],
    )
    updated = run_tasks(tmp_path / "update", [user_task(**changed), show("user_result", tmp_path / "update")], sandbox)
    assert updated.rc == 0, updated.stdout
    pool = users_of(sandbox)
    assert pool[f"ada@{domain}"]["Enabled"] is False
    assert pool[f"alan@{domain}"]["Enabled"] is True
    assert f"grace@{domain}" in pool  # kept: another tenant's stack still uses it
    assert associations_of(sandbox, stack) == {f"ada@{domain}", f"alan@{domain}"}
    assert associations_of(sandbox, other_stack) == {f"grace@{domain}"}
    assert result_of(tmp_path / "update")["plan"]["kept_shared"] == [f"grace@{domain}"]

    settled = run_tasks(tmp_path / "settled", [user_task(**changed)], sandbox)
    assert settled.recap["localhost"]["changed"] == 0
    assert settled.stats()["mutating"] == 0

    removed = run_tasks(
        tmp_path / "absent",
        [user_task(tenant=tenant, stacks=[stack], users=[{"email": f"alan@{domain}"}], state="absent")],
        sandbox,
    )
    assert removed.rc == 0, removed.stdout
    assert f"alan@{domain}" not in users_of(sandbox)
    assert associations_of(sandbox, stack) == {f"ada@{domain}"}


def test_a_user_of_another_tenant_s_stack_is_never_enabled_disabled_or_deleted(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    """User-pool users belong to the whole account: tenant A's run leaves alone a user that tenant B's stack
    uses (its enabled state, its existence), says so, and still manages A's own association with it."""
    tenant, other = tenant_name("usc"), tenant_name("usd")
    stack = userpool_stack(sandbox, tmp_path, tenant, 80)
    other_stack = f"{other}-stack"
    appstream(sandbox).create_stack(Name=other_stack, Tags={"tenant": other, "managed-by": "appstream-tenant-toolkit"})
    shared, own = f"zoe@{other}.example", f"yan@{tenant}.example"
    for name in (shared, own):
        appstream(sandbox).create_user(UserName=name, AuthenticationType="USERPOOL", MessageAction="SUPPRESS")
    appstream(sandbox).batch_associate_user_stack(
        UserStackAssociations=[{"StackName": other_stack, "UserName": shared, "AuthenticationType": "USERPOOL"}]
    )
    users = [{"email": shared, "enabled": False}, {"email": own, "enabled": False}]
    options = {"tenant": tenant, "stacks": [stack], "users": users, "send_welcome_email": False}

    first = run_tasks(tmp_path / "disable", [user_task(**options), show("user_result", tmp_path / "disable")], sandbox)
    assert first.rc == 0, first.stdout
    pool = users_of(sandbox)
    assert pool[shared]["Enabled"] is True  # B's user: not disabled by A's run
    assert pool[own]["Enabled"] is False  # A's own user: disabled as asked
    assert associations_of(sandbox, stack) == {shared, own}
    assert associations_of(sandbox, other_stack) == {shared}
    result = result_of(tmp_path / "disable")
    assert result["plan"]["disable"] == [own]
    assert result["plan"]["skipped_shared"] == [shared]
    assert f"user {shared} is also on stack(s) {other_stack}" in first.stdout + first.stderr  # it says why
    assert first.stats()["by_operation"].get("appstream:DisableUser") == 1

    again = run_tasks(tmp_path / "again", [user_task(**options)], sandbox)
    assert again.rc == 0 and again.recap["localhost"]["changed"] == 0, again.stdout
    assert again.stats()["mutating"] == 0

    gone = run_tasks(
        tmp_path / "absent",
        [user_task(tenant=tenant, stacks=[stack], users=[{"email": shared}, {"email": own}], state="absent"),
         show("user_result", tmp_path / "absent")],
        sandbox,
    )  # fmt: skip
    assert gone.rc == 0, gone.stdout
    pool = users_of(sandbox)
    assert shared in pool and own not in pool
    assert associations_of(sandbox, other_stack) == {shared} and associations_of(sandbox, stack) == set()
    assert result_of(tmp_path / "absent")["plan"]["kept_shared"] == [shared]
    assert f"user {shared} is also on stack(s) {other_stack}" in gone.stdout + gone.stderr


def test_users_are_associated_in_batches_of_25(sandbox: SandboxClient, tmp_path: Path) -> None:
    tenant = tenant_name("bat")
    stack = userpool_stack(sandbox, tmp_path, tenant, 75)
    users = [{"email": f"user{i:02d}@{tenant}.example", "first_name": "User", "last_name": f"N{i}"} for i in range(30)]
    run = run_tasks(
        tmp_path / "bulk", [user_task(tenant=tenant, stacks=[stack], users=users, send_welcome_email=False)], sandbox
    )
    assert run.rc == 0, run.stdout
    assert run.stats()["by_operation"]["appstream:BatchAssociateUserStack"] == 2
    assert len(associations_of(sandbox, stack)) == 30
    purge = run_tasks(
        tmp_path / "purge", [user_task(tenant=tenant, stacks=[stack], users=[], purge_users=True)], sandbox
    )
    assert purge.rc == 0, purge.stdout
    assert purge.stats()["by_operation"]["appstream:BatchDisassociateUserStack"] == 2
    assert associations_of(sandbox, stack) == set()
    assert not any(name.endswith(f"@{tenant}.example") for name in users_of(sandbox))


def test_users_on_a_stack_of_another_tenant_are_refused(sandbox: SandboxClient, tmp_path: Path) -> None:
    tenant, other = tenant_name("usa"), tenant_name("usb")
    appstream(sandbox).create_stack(Name=f"{other}-stack", Tags={"tenant": other})
    run = run_tasks(
        tmp_path / "foreign",
        [user_task(tenant=tenant, stacks=[f"{other}-stack"], users=[{"email": f"eve@{tenant}.example"}])],
        sandbox,
    )
    assert run.rc != 0
    assert "not owned by tenant" in run.stdout
    assert run.stats()["mutating"] == 0


def test_userpool_users_on_a_domain_joined_stack_fail_naming_user_and_stack(
    sandbox: SandboxClient, tmp_path: Path
) -> None:
    tenant = tenant_name("dom")
    fleet = domain_joined_fleet(sandbox, tenant, 76)
    stack = f"{tenant}-stack"
    made = run_tasks(tmp_path / "stack", [stack_task(name=stack, tenant=tenant, fleets=[fleet])], sandbox)
    assert made.rc == 0, made.stdout
    email = f"ada@{tenant}.example"
    run = run_tasks(
        tmp_path / "users",
        [user_task(tenant=tenant, stacks=[stack], users=[{"email": email, "first_name": "Ada", "last_name": "L"}])],
        sandbox,
    )
    assert run.rc != 0
    assert f"user '{email}' could not be associated with stack '{stack}'" in run.stdout
    assert "DIRECTORY_NOT_FOUND" in run.stdout
    assert associations_of(sandbox, stack) == set()


# -- appstream_streaming_url ----------------------------------------------------------------------
def test_streaming_url_for_a_userpool_stack(sandbox: SandboxClient, tmp_path: Path) -> None:
    tenant = tenant_name("url")
    stack = userpool_stack(sandbox, tmp_path, tenant, 77)
    start_fleet(sandbox, f"{tenant}-fleet")
    options = {"stack_name": stack, "fleet_name": f"{tenant}-fleet", "user_id": "support-ada", "validity": 600}

    checked = run_tasks(
        tmp_path / "check", [url_task(**options), show("url_result", tmp_path / "check")], sandbox, check=True
    )
    assert checked.rc == 0, checked.stdout
    assert result_of(tmp_path / "check")["url"] is None
    assert "appstream:CreateStreamingURL" not in checked.stats()["by_operation"]

    run = run_tasks(tmp_path / "url", [url_task(**options), show("url_result", tmp_path / "url")], sandbox)
    assert run.rc == 0, run.stdout
    result = result_of(tmp_path / "url")
    assert result["changed"] is False
    assert result["url"].startswith("https://")
    assert result["expires"]
    assert run.stats()["by_operation"]["appstream:CreateStreamingURL"] == 1


def test_streaming_url_is_refused_for_a_domain_joined_fleet(sandbox: SandboxClient, tmp_path: Path) -> None:
    tenant = tenant_name("urd")
    fleet = domain_joined_fleet(sandbox, tenant, 78)
    stack = f"{tenant}-stack"
    assert run_tasks(tmp_path / "stack", [stack_task(name=stack, tenant=tenant, fleets=[fleet])], sandbox).rc == 0
    start_fleet(sandbox, fleet)
    run = run_tasks(tmp_path / "url", [url_task(stack_name=stack, fleet_name=fleet, user_id="support-ada")], sandbox)
    assert run.rc != 0
    assert f"fleet '{fleet}' is joined to the domain" in run.stdout
    assert "SAML" in run.stdout
    assert "appstream:CreateStreamingURL" not in run.stats()["by_operation"]
    # AWS itself refuses it too: the module's check only fails earlier and more clearly.
    with pytest.raises(appstream(sandbox).exceptions.OperationNotPermittedException):
        appstream(sandbox).create_streaming_url(StackName=stack, FleetName=fleet, UserId="support-ada")


# -- the appstream_users role ---------------------------------------------------------------------
def test_users_role_for_a_userpool_tenant(sandbox: SandboxClient, tmp_path: Path) -> None:
    tenant = tenant_name("upr")
    make_fleet(sandbox, f"{tenant}-fleet", tenant, subnets(sandbox, 79))
    users = [
        {"email": f"ada@{tenant}.example", "first_name": "Ada", "last_name": "Lovelace"},
        {"email": f"alan@{tenant}.example", "first_name": "Alan", "last_name": "Turing", "enabled": False},
    ]
    definition = tenant_definition(tenant, users=users)
    inventory = write_inventory(tmp_path / "inventory", definition, sandbox)
    assert run_playbook("playbooks/stack.yml", inventory, sandbox).rc == 0

    first = run_playbook(
        "playbooks/users.yml", inventory, sandbox, extra_vars={"appstream_users_send_welcome_email": False}
    )
    assert first.rc == 0, first.stdout + first.stderr
    pool = users_of(sandbox)
    assert pool[f"ada@{tenant}.example"]["Enabled"] is True
    assert pool[f"alan@{tenant}.example"]["Enabled"] is False
    assert associations_of(sandbox, f"{tenant}-stack") == {u["email"] for u in users}

    second = run_playbook("playbooks/users.yml", inventory, sandbox)
    assert second.recap[tenant]["changed"] == 0
    assert second.stats()["mutating"] == 0

    definition["users"] = users[:1]
    write_inventory(tmp_path / "inventory", definition, sandbox)
    checked = run_playbook("playbooks/users.yml", inventory, sandbox, check=True, diff=True)
    assert checked.rc == 0
    assert checked.stats()["mutating"] == 0
    assert f"alan@{tenant}.example" in users_of(sandbox)
    purged = run_playbook("playbooks/users.yml", inventory, sandbox)
    assert purged.rc == 0
    assert f"alan@{tenant}.example" not in users_of(sandbox)
    assert associations_of(sandbox, f"{tenant}-stack") == {f"ada@{tenant}.example"}

    # Teardown order: users, then the stack; a second teardown is a no-op even without the stack.
    users_gone = run_playbook("playbooks/users.yml", inventory, sandbox, extra_vars={"appstream_users_state": "absent"})
    assert users_gone.rc == 0, users_gone.stdout
    assert f"ada@{tenant}.example" not in users_of(sandbox)
    stack_gone = run_playbook("playbooks/stack.yml", inventory, sandbox, extra_vars={"appstream_stack_state": "absent"})
    assert stack_gone.rc == 0, stack_gone.stdout
    assert f"{tenant}-stack" not in names_of_stacks(sandbox)
    again = run_playbook("playbooks/users.yml", inventory, sandbox, extra_vars={"appstream_users_state": "absent"})
    assert again.rc == 0, again.stdout
    assert again.stats()["mutating"] == 0


def test_users_role_for_a_saml_tenant_sets_up_the_federation(sandbox: SandboxClient, tmp_path: Path) -> None:
    tenant = tenant_name("sml")
    definition = tenant_definition(tenant, auth="saml")
    inventory = write_inventory(tmp_path / "inventory", definition, sandbox)
    (inventory / "files").mkdir(exist_ok=True)  # write_inventory already adds it for SAML tenants
    shutil.copy(SAML_METADATA, inventory / "files" / "saml-metadata.xml")
    iam = sandbox.boto3("iam")

    plan = run_playbook("playbooks/users.yml", inventory, sandbox, check=True, diff=True)
    assert plan.rc == 0, plan.stdout + plan.stderr
    assert plan.stats()["mutating"] == 0

    first = run_playbook("playbooks/users.yml", inventory, sandbox)
    assert first.rc == 0, first.stdout + first.stderr
    provider_arn = f"arn:aws:iam::{ACCOUNT}:saml-provider/{tenant}-idp"
    provider = iam.get_saml_provider(SAMLProviderArn=provider_arn)
    assert "https://idp.demo.example/saml2/idp" in provider["SAMLMetadataDocument"]
    role = iam.get_role(RoleName=f"{tenant}-appstream-saml")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"Federated": provider_arn}
    assert "sts:AssumeRoleWithSAML" in statement["Action"]
    # Only the AWS sign-in endpoint's SAML audience (IAM User Guide, "Create a role for SAML 2.0 federation").
    assert statement["Condition"] == {"StringEquals": {"SAML:sub_type": "persistent", "SAML:aud": SIGN_IN}}
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == BOUNDARY
    tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=f"{tenant}-appstream-saml")["Tags"]}
    assert tags["tenant"] == tenant
    policy = iam.get_role_policy(RoleName=f"{tenant}-appstream-saml", PolicyName="appstream-stream")["PolicyDocument"]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    [allow] = policy["Statement"]
    assert allow["Action"] == "appstream:Stream"
    assert allow["Resource"] == f"arn:aws:appstream:{REGION}:{ACCOUNT}:stack/{tenant}-stack"
    assert allow["Condition"] == {"StringEquals": {"appstream:userId": "${saml:sub}"}}
    relay = f"https://appstream2.{REGION}.aws.amazon.com/saml?stack={tenant}-stack&accountId={ACCOUNT}"
    assert relay in first.stdout
    assert not any(name.endswith(f"@{tenant}.example") for name in users_of(sandbox))

    provider_tags = {t["Key"]: t["Value"] for t in provider["Tags"]}
    assert provider_tags["tenant"] == tenant and provider_tags["managed-by"] == "appstream-tenant-toolkit"

    second = run_playbook("playbooks/users.yml", inventory, sandbox)
    assert second.rc == 0
    assert second.recap[tenant]["changed"] == 0
    assert second.stats()["mutating"] == 0
    # The whole federation is read with four calls: who am I, the provider, the role, its stream policy
    # (the run's lock in the toolkit state store is its own bookkeeping, counted apart; the run's one read of
    # the tenant's tags, lock.yml's, is there too). users.yml alone has no network stage before it to tell the
    # account, so it asks STS.
    calls = sorted(f"{c['service']}:{c['operation']}" for c in second.calls())
    assert calls == [
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:GetSAMLProvider",
        "sts:GetCallerIdentity",
        "tagging:GetResources",
    ]
    # Told the account (site.yml passes the one the network stage read from the VPC), it asks STS nothing.
    told = run_playbook("playbooks/users.yml", inventory, sandbox, extra_vars={"appstream_users_account_id": ACCOUNT})
    assert told.rc == 0, told.stdout + told.stderr
    assert told.recap[tenant]["changed"] == 0
    calls = sorted(f"{c['service']}:{c['operation']}" for c in told.calls())
    assert calls == ["iam:GetRole", "iam:GetRolePolicy", "iam:GetSAMLProvider", "tagging:GetResources"]

    # Drift made by hand (a wider trust policy) is put back.
    iam.update_assume_role_policy(
        RoleName=f"{tenant}-appstream-saml",
        PolicyDocument=json.dumps({**trust, "Statement": [{**statement, "Condition": {}}]}),
    )
    repaired = run_playbook("playbooks/users.yml", inventory, sandbox)
    assert repaired.rc == 0 and repaired.recap[tenant]["changed"] == 1, repaired.stdout
    trust = iam.get_role(RoleName=f"{tenant}-appstream-saml")["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"SAML:sub_type": "persistent", "SAML:aud": SIGN_IN}}

    # So is a boundary removed by hand.
    iam.delete_role_permissions_boundary(RoleName=f"{tenant}-appstream-saml")
    bounded = run_playbook("playbooks/users.yml", inventory, sandbox)
    assert bounded.rc == 0 and bounded.recap[tenant]["changed"] == 1, bounded.stdout
    role = iam.get_role(RoleName=f"{tenant}-appstream-saml")["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == BOUNDARY

    gone = run_playbook("playbooks/users.yml", inventory, sandbox, extra_vars={"appstream_users_state": "absent"})
    assert gone.rc == 0, gone.stdout + gone.stderr
    assert f"{tenant}-appstream-saml" not in {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert provider_arn not in {p["Arn"] for p in iam.list_saml_providers()["SAMLProviderList"]}
