"""Directory content over LDAP and SMB on a real AD: Samba AD DCs standing in for AWS Managed Microsoft AD.

- The sandbox, with Samba enabled, backs a directory created through the DS API with a real DC:
  LDAPS as the delegated Admin works at DnsIpAddrs[0], with certificate validation.
- The AD modules against that DC: check mode writes nothing, a run creates, a second run changes nothing.
- `molecule test -s directory`: the three roles converge, are idempotent, and Samba's own tools verify
  the result (GPO, links, ACEs, Drives.xml, home folder ACLs, user access).

Needs root and the Samba AD DC packages (see .ci/run); skipped with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from sandbox.client import SandboxClient
from sandbox.samba import SambaDcProvider
from tests.sandboxes import running_sandbox

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ADMIN_PASSWORD = "Lab-Adm1n-Passw0rd!"
REGION = "eu-west-3"

pytestmark = pytest.mark.samba


@pytest.fixture(scope="module", autouse=True)
def samba_installed() -> None:
    if shutil.which("samba-tool") is None:
        pytest.skip(
            "samba-tool is missing: apt-get install samba samba-ad-dc samba-ad-provision smbclient winbind "
            "krb5-user ldb-tools"
        )
    if not SambaDcProvider.available():
        pytest.skip("a Samba AD DC needs root (privileged ports, loopback addresses) and Samba's Python bindings")


@pytest.fixture(scope="module")
def samba_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxClient]:
    """A sandbox of its own with Samba-backed directories (the shared one keeps them off)."""
    with running_sandbox(tmp_path_factory.mktemp("samba-sandbox"), 0.001, samba=True) as client:
        yield client


def _client(sandbox: SandboxClient, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=sandbox.endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def directory(samba_sandbox: SandboxClient) -> Iterator[dict[str, Any]]:
    """An Active directory created through the DS API, backed by a Samba DC."""
    ec2, ds = _client(samba_sandbox, "ec2"), _client(samba_sandbox, "ds")
    vpc = ec2.create_vpc(CidrBlock="10.90.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.90.{index}.0/24", AvailabilityZone=f"{REGION}{zone}")["Subnet"][
            "SubnetId"
        ]
        for index, zone in ((1, "a"), (2, "b"))
    ]
    directory_id = ds.create_microsoft_ad(
        Name="corp.samba-flow.example",
        ShortName="SAMBAFLOW",
        Password=ADMIN_PASSWORD,
        Edition="Standard",
        VpcSettings={"VpcId": vpc, "SubnetIds": subnets},
    )["DirectoryId"]
    deadline = time.monotonic() + 300  # provisioning a DC takes 10-40 s depending on the machine's load
    while True:
        found = ds.describe_directories(DirectoryIds=[directory_id])["DirectoryDescriptions"][0]
        if found["Stage"] in ("Active", "Failed") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert found["Stage"] == "Active", found.get("StageReason")
    state_dir = Path(samba_sandbox.state_dir)  # type: ignore[attr-defined]
    yield {
        "id": directory_id,
        "name": "corp.samba-flow.example",
        "netbios": "SAMBAFLOW",
        "dns_ip_addrs": found["DnsIpAddrs"],
        "ca_file": str(state_dir / "samba" / directory_id / "private" / "tls" / "ca.pem"),
        "state_dir": state_dir,
    }
    ds.delete_directory(DirectoryId=directory_id)
    # The backend drops a deleted directory the next time it reads its state after the modelled deletion,
    # and has its DC destroyed (files and all) by its background worker right after.
    deadline = time.monotonic() + 60
    while ds.describe_directories()["DirectoryDescriptions"] and time.monotonic() < deadline:
        time.sleep(0.5)
    while (state_dir / "samba" / directory_id).exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not (state_dir / "samba" / directory_id).exists(), "the DC's files outlived the directory"


def _ldap(directory: dict[str, Any], password: str = ADMIN_PASSWORD) -> Any:
    from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.ldap import Directory

    return Directory(
        {
            "server": directory["dns_ip_addrs"][0],
            "port": 636,
            "username": f"Admin@{directory['name']}",
            "password": password,
            "domain": directory["name"],
            "ca_file": directory["ca_file"],
            "validate_certs": True,
            "connect_timeout": 10,
        }
    )


def test_a_sandbox_directory_is_a_reachable_dc_with_the_aws_layout(directory: dict[str, Any]) -> None:
    assert len(directory["dns_ip_addrs"]) == 2
    assert all(address.startswith("127.0.1.") for address in directory["dns_ip_addrs"])
    ldap = _ldap(directory)
    try:
        base = "DC=corp,DC=samba-flow,DC=example"
        admin = ldap.find_principal("Admin", ["memberOf", "distinguishedName"])
        assert admin is not None and admin["dn"] == f"CN=Admin,OU=Users,OU=SAMBAFLOW,{base}"
        groups = {str(group).split(",")[0] for group in admin["attributes"]["memberOf"]}
        assert {"CN=AWS Delegated Administrators", "CN=Group Policy Creator Owners"} <= groups
        assert "CN=Domain Admins" not in groups, "AWS never makes Admin a Domain Admin"
        for ou in ("OU=Computers,OU=SAMBAFLOW", "OU=Users,OU=SAMBAFLOW", "OU=AWS Delegated Groups", "OU=AWS Reserved"):
            assert ldap.get(f"{ou},{base}", ["distinguishedName"]) is not None, ou
        assert ldap.get(f"CN=AWS Delegated FSx Administrators,OU=AWS Delegated Groups,{base}", ["cn"]) is not None
    finally:
        ldap.close()


def test_reset_user_password_reaches_the_dc(samba_sandbox: SandboxClient, directory: dict[str, Any]) -> None:
    ds = _client(samba_sandbox, "ds")
    ds.reset_user_password(DirectoryId=directory["id"], UserName="Admin", NewPassword="Lab-Adm1n-Rotated!")
    try:
        _ldap(directory, "Lab-Adm1n-Rotated!").close()
    finally:
        ds.reset_user_password(DirectoryId=directory["id"], UserName="Admin", NewPassword=ADMIN_PASSWORD)
    with pytest.raises(ds.exceptions.UserDoesNotExistException):
        ds.reset_user_password(DirectoryId=directory["id"], UserName="nobody", NewPassword="Lab-Adm1n-Rotated!")


def _run_play(tmp_path: Path, tasks: list[dict[str, Any]], check: bool = False) -> subprocess.CompletedProcess[str]:
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
    command = [
        str(BIN / "ansible-playbook"),
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        json.dumps({"ansible_python_interpreter": sys.executable}),
        str(playbook),
    ]
    if check:
        command.append("--check")
    environment = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600, check=False)


def _recap(run: subprocess.CompletedProcess[str]) -> dict[str, int]:
    line = next(line for line in run.stdout.splitlines() if line.startswith("localhost") and "ok=" in line)
    return {key: int(value) for key, value in (item.split("=") for item in line.split(":", 1)[1].split())}


def test_modules_plan_in_check_mode_then_converge_once(tmp_path: Path, directory: dict[str, Any]) -> None:
    base = "DC=corp,DC=samba-flow,DC=example"
    connection = {
        "server": directory["dns_ip_addrs"][0],
        "domain": directory["name"],
        "username": f"Admin@{directory['name']}",
        "password": ADMIN_PASSWORD,
        "ca_file": directory["ca_file"],
    }
    tasks = [
        {
            "name": "OU",
            "iconeus.tenant_toolkit.ad_object": {
                **connection,
                "type": "ou",
                "name": "AppStream",
                "path": f"OU=Computers,OU=SAMBAFLOW,{base}",
            },
        },
        {
            "name": "service account",
            "iconeus.tenant_toolkit.ad_object": {
                **connection,
                "type": "user",
                "name": "svc-appstream",
                "path": f"OU=Users,OU=SAMBAFLOW,{base}",
                "user_password": "Svc-Passw0rd-Lab!",
                "password_never_expires": True,
                "delegations": [
                    {
                        "target": f"OU=AppStream,OU=Computers,OU=SAMBAFLOW,{base}",
                        "rights": ["create_computer", "change_password", "reset_password", "write_description"],
                    }
                ],
            },
        },
        {
            "name": "GPO",
            "iconeus.tenant_toolkit.gpo_drive_maps": {
                **connection,
                "name": "flow drive maps",
                "drives": [{"letter": "H", "path": "\\\\fs-1.corp.samba-flow.example\\share\\Users\\%LogonUser%"}],
                "links": [{"target": f"OU=Users,OU=SAMBAFLOW,{base}"}],
            },
        },
    ]
    planned = _run_play(tmp_path, tasks, check=True)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert _recap(planned)["changed"] == 3
    ldap = _ldap(directory)
    try:
        assert ldap.get(f"OU=AppStream,OU=Computers,OU=SAMBAFLOW,{base}", ["ou"]) is None, "check mode created the OU"
        assert ldap.find_principal("svc-appstream") is None, "check mode created the account"
        policies = ldap.search(f"CN=Policies,CN=System,{base}", "(displayName=flow drive maps)", ["cn"], scope="LEVEL")
        assert policies == [], "check mode created the GPO"
    finally:
        ldap.close()

    first = _run_play(tmp_path, tasks)
    assert first.returncode == 0, first.stdout + first.stderr
    assert _recap(first)["changed"] == 3
    second = _run_play(tmp_path, tasks)
    assert second.returncode == 0, second.stdout + second.stderr
    assert _recap(second)["changed"] == 0

    ldap = _ldap(directory)
    try:
        gplink = ldap.get(f"OU=Users,OU=SAMBAFLOW,{base}", ["gPLink"])["attributes"]["gPLink"]
        gpo = ldap.search(
            f"CN=Policies,CN=System,{base}", "(displayName=flow drive maps)", ["cn", "versionNumber"], scope="LEVEL"
        )[0]
        assert gpo["attributes"]["cn"][0].upper() in str(gplink).upper()
        assert int(gpo["attributes"]["versionNumber"][0]) == 65536, "one change, one user-side bump"
    finally:
        ldap.close()


def test_molecule_directory_scenario_converges_idempotently_and_verifies() -> None:
    environment = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}", "ANSIBLE_NOCOLOR": "1", "NO_COLOR": "1"}
    environment.pop("ANSIBLE_CONFIG", None)
    done = subprocess.run(
        [str(BIN / "molecule"), "test", "-s", "directory"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    for action in ("converge", "idempotence", "verify"):
        assert f"{action}: Executed: Successful" in output.replace("➜ ", ""), action


def test_ldaps_by_address_learns_the_dcs_own_name_from_the_domains_dns(directory: dict[str, Any]) -> None:
    from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.ldap import dc_names_for_address

    names = dc_names_for_address(directory["dns_ip_addrs"][0], directory["name"])
    assert names and all(name.endswith("." + directory["name"]) for name in names)
    assert _ldap(directory).domain == directory["name"]  # the certificate names that DC: the check passes


def test_a_ca_file_that_does_not_exist_is_an_error_not_a_fallback(directory: dict[str, Any], tmp_path: Path) -> None:
    from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.errors import AdError

    with pytest.raises(AdError, match="does not exist") as raised:
        _ldap({**directory, "ca_file": str(tmp_path / "missing-ca.pem")})
    assert raised.value.kind == "tls"


def test_smb_to_the_dc_is_encrypted_when_the_server_offers_it(directory: dict[str, Any]) -> None:
    from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.smb import FileShare

    share = FileShare(
        directory["dns_ip_addrs"][0], "sysvol", f"Admin@{directory['name']}", ADMIN_PASSWORD, encrypt=False
    )
    try:
        assert share.encrypted, "Samba 4 offers SMB 3 encryption: the session must use it"
        assert share.exists(directory["name"])
        conf = directory["state_dir"] / "samba" / directory["id"] / "etc" / "smb.conf"
        # Samba's own view of the connection: the session (smbstatus -b) and its tree connect to sysvol
        # (smbstatus -S) both name the AES cipher that protects them.
        sessions = subprocess.run(["smbstatus", "-s", str(conf), "-b"], capture_output=True, text=True, check=False)
        shares = subprocess.run(["smbstatus", "-s", str(conf), "-S"], capture_output=True, text=True, check=False)
        session_lines = [line for line in sessions.stdout.splitlines() if "SMB3" in line]
        sysvol_lines = [line for line in shares.stdout.splitlines() if line.lower().startswith("sysvol")]
        assert session_lines and all("AES" in line for line in session_lines), sessions.stdout
        assert sysvol_lines and all("AES" in line for line in sysvol_lines), shares.stdout
    finally:
        share.close()
