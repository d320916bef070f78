"""Directory content over LDAP and SMB on a real AD: Samba AD DCs standing in for AWS Managed Microsoft AD.

- The sandbox, with Samba enabled, backs a directory created through the DS API with a real DC:
  LDAPS as the delegated Admin works at DnsIpAddrs[0], with certificate validation.
- The AD modules against that DC: check mode writes nothing, a run creates, a second run changes nothing.
- gpo_machine_policy against that DC: check mode writes nothing, a run writes the GPO's computer side, a second
  run changes nothing; Samba's own tools (samba-tool, ldbsearch, smbclient and Samba's PReg parser) read it back.
- A SAML tenant's site.yml converge on the Samba-backed sandbox: the builders' OU, the image build account and
  group, the builder access GPO linked to that OU only, the builder joined to it with its own security group, the
  fleet in its own OU with a group admitting no WinRM; a second converge changes nothing.
- `molecule test -s directory`: the three roles converge, are idempotent, and Samba's own tools verify
  the result (GPO, links, ACEs, Drives.xml, home folder ACLs, user access).

Needs root and the Samba AD DC packages (see .ci/run); skipped with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import re
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
from sandbox.samba import SAMBA_PYTHON, SambaDcProvider
from tests.helpers import run_playbook, write_inventory
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
    while (
        any(d["DirectoryId"] == directory_id for d in ds.describe_directories()["DirectoryDescriptions"])
        and time.monotonic() < deadline
    ):
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


# -- the computer side of a GPO, read back with Samba's tools ----------------------------------------------
WINRM_KEY = "Software\\Policies\\Microsoft\\Windows\\WinRM\\Service"
FIREWALL_KEY = "Software\\Policies\\Microsoft\\WindowsFirewall\\FirewallRules"
REGISTRY_CSE = "{35378EAC-683F-11D2-A89A-00C04FBBCFA2}"
GROUPS_CSE = "{17D89FEC-5C44-4972-B12D-241CAEF74509}"
SECURITY_CSE = "{827D319E-6EAC-11D2-A4EA-00C04F79F83A}"


def dc_paths(state_dir: Path, directory_id: str) -> dict[str, Path]:
    root = state_dir / "samba" / directory_id
    return {
        "sam_ldb": root / "private" / "sam.ldb",
        "smb_conf": root / "etc" / "smb.conf",
        "ca": root / "private" / "tls" / "ca.pem",
    }


def samba_tool(*args: str) -> str:
    done = subprocess.run(["samba-tool", *args], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def ldbsearch(sam_ldb: Path, base: str, *attributes: str) -> str:
    done = subprocess.run(
        ["ldbsearch", "-H", str(sam_ldb), "-b", base, "-s", "base", *attributes],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.replace("\n ", "")  # ldif folds long lines


def gpo_guid(sam_ldb: Path, name: str) -> str:
    listed = samba_tool("gpo", "listall", "-H", str(sam_ldb))
    found = re.findall(r"GPO\s+:\s+(\{[0-9A-F-]+\})\s*\ndisplay name\s+:\s+" + re.escape(name) + r"\s*\n", listed)
    assert len(found) == 1, listed
    return found[0]


def fetch_from_sysvol(
    address: str, smb_conf: Path, user: str, password: str, folder: str, files: list[str], into: Path
) -> dict[str, bytes]:
    """Files of a GPO folder fetched with Samba's smbclient, as the given account."""
    into.mkdir(parents=True, exist_ok=True)
    gets = "; ".join(f'get "{name}" "{into / name.replace("/", "_")}"' for name in files)
    done = subprocess.run(
        [
            "smbclient",
            f"//{address}/sysvol",
            f"--user={user}",
            f"--configfile={smb_conf}",
            f"--command=cd {folder}; {gets}",
        ],
        env={**os.environ, "PASSWD": password},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return {name: (into / name.replace("/", "_")).read_bytes() for name in files}


def samba_preg(data: bytes) -> list[tuple[str, str, int, Any]]:
    """Registry.pol as Samba's own PReg implementation (samba.dcerpc.preg, NDR) reads it."""
    code = (
        "import json, sys\n"
        "from samba.dcerpc import preg\n"
        "from samba.ndr import ndr_unpack\n"
        "parsed = ndr_unpack(preg.file, sys.stdin.buffer.read())\n"
        "assert parsed.header.signature == 'PReg' and parsed.header.version == 1\n"
        "print(json.dumps([[e.keyname, e.valuename, e.type, e.data if isinstance(e.data, (int, str)) else list(e.data)]"
        " for e in parsed.entries]))\n"
    )
    done = subprocess.run([SAMBA_PYTHON, "-c", code], input=data, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return [tuple(entry) for entry in json.loads(done.stdout)]


def test_a_machine_policy_gpo_is_what_samba_reads_back(tmp_path: Path, directory: dict[str, Any]) -> None:
    from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad import (
        gpp_groups,
        registry_pol,
        security_template,
    )

    base = "DC=corp,DC=samba-flow,DC=example"
    builders_ou, fleet_ou = f"OU=FlowBuilders,OU=SAMBAFLOW,{base}", f"OU=FlowFleet,OU=Computers,OU=SAMBAFLOW,{base}"
    connection = {
        "server": directory["dns_ip_addrs"][0],
        "domain": directory["name"],
        "username": f"Admin@{directory['name']}",
        "password": ADMIN_PASSWORD,
        "ca_file": directory["ca_file"],
    }
    policy = {
        **connection,
        "name": "flow builder access",
        "local_groups": [
            {
                "group": "Administrators (built-in)",
                "group_sid": "S-1-5-32-544",
                "members": ["SAMBAFLOW\\flow-image-build"],
            }
        ],
        "registry_values": [
            {"key": WINRM_KEY, "name": "AllowAutoConfig", "type": "dword", "data": 1},
            {"key": WINRM_KEY, "name": "IPv4Filter", "type": "string", "data": "*"},
        ],
        "firewall_rules": [
            {
                "id": "Flow-WinRM-In",
                "name": "WinRM from the controller",
                "local_ports": [5985, 5986],
                "remote_addresses": ["10.77.0.0/28"],
            }
        ],
        "services": [{"name": "WinRM", "start_mode": "automatic"}],
        "links": [{"target": builders_ou}],
        "purge_links": True,
    }
    tasks = [
        {
            "name": "builders OU",
            "iconeus.tenant_toolkit.ad_object": {
                **connection,
                "type": "ou",
                "name": "FlowBuilders",
                "path": f"OU=SAMBAFLOW,{base}",
            },
        },
        {
            "name": "fleet OU",
            "iconeus.tenant_toolkit.ad_object": {
                **connection,
                "type": "ou",
                "name": "FlowFleet",
                "path": f"OU=Computers,OU=SAMBAFLOW,{base}",
            },
        },
        {
            "name": "group",
            "iconeus.tenant_toolkit.ad_object": {
                **connection,
                "type": "group",
                "name": "flow-image-build",
                "path": f"OU=Users,OU=SAMBAFLOW,{base}",
                "scope": "global",
                "category": "security",
            },
        },
        {"name": "GPO", "iconeus.tenant_toolkit.gpo_machine_policy": policy},
    ]
    planned = _run_play(tmp_path, tasks, check=True)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert _recap(planned)["changed"] == 4
    paths = dc_paths(directory["state_dir"], directory["id"])
    assert "flow builder access" not in samba_tool("gpo", "listall", "-H", str(paths["sam_ldb"])), (
        "check mode made the GPO"
    )

    first = _run_play(tmp_path, tasks)
    assert first.returncode == 0, first.stdout + first.stderr
    second = _run_play(tmp_path, tasks)
    assert second.returncode == 0, second.stdout + second.stderr
    assert _recap(second)["changed"] == 0, second.stdout

    guid = gpo_guid(paths["sam_ldb"], "flow builder access")
    gpc = ldbsearch(
        paths["sam_ldb"], f"CN={guid},CN=Policies,CN=System,{base}", "gPCMachineExtensionNames", "versionNumber"
    )
    assert re.search(r"versionNumber: 1\b", gpc), "one computer-side change, one machine bump"
    extensions = re.search(r"gPCMachineExtensionNames: (.*)", gpc).group(1)
    for cse in (REGISTRY_CSE, GROUPS_CSE, SECURITY_CSE):
        assert cse in extensions.upper()
    assert guid in ldbsearch(paths["sam_ldb"], builders_ou, "gPLink").upper()
    assert guid not in ldbsearch(paths["sam_ldb"], fleet_ou, "gPLink").upper(), "never linked to the fleet's OU"
    shown = samba_tool("gpo", "show", guid, "-H", str(paths["sam_ldb"]))
    assert re.search(r"version\s+:\s+1\b", shown), shown

    files = fetch_from_sysvol(
        directory["dns_ip_addrs"][0],
        paths["smb_conf"],
        "SAMBAFLOW\\Admin",
        ADMIN_PASSWORD,
        f"{directory['name']}/Policies/{guid}",
        [
            "GPT.INI",
            "Machine/Registry.pol",
            "Machine/Preferences/Groups/Groups.xml",
            "Machine/Microsoft/Windows NT/SecEdit/GptTmpl.inf",
        ],
        tmp_path / "sysvol",
    )
    assert b"Version=1" in files["GPT.INI"]
    pol = files["Machine/Registry.pol"]
    by_samba = samba_preg(pol)
    assert (WINRM_KEY, "AllowAutoConfig", 4, 1) in by_samba
    assert (WINRM_KEY, "IPv4Filter", 1, "*") in by_samba
    (rule,) = [entry for entry in by_samba if entry[0] == FIREWALL_KEY]
    assert rule[1] == "Flow-WinRM-In" and rule[2] == 1
    assert "|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=5985|LPort=5986|RA4=10.77.0.0/255.255.255.240|" in rule[3]
    assert [(v.key, v.name, v.type, v.data) for v in registry_pol.decode_registry_pol(pol)] == by_samba
    assert registry_pol.encode_registry_pol(registry_pol.decode_registry_pol(pol)) == pol, "PReg round trip"

    ldap = _ldap(directory)
    try:
        group_sid = ldap.resolve_sid("flow-image-build")
    finally:
        ldap.close()
    (group,) = gpp_groups.groups_from_xml(files["Machine/Preferences/Groups/Groups.xml"].decode("utf-8"))
    assert group["group_sid"] == "S-1-5-32-544" and group["remove_when_not_applied"] is True
    assert group["members"] == [{"name": "SAMBAFLOW\\flow-image-build", "sid": group_sid}]
    template = files["Machine/Microsoft/Windows NT/SecEdit/GptTmpl.inf"]
    assert template.startswith(b"\xff\xfe")
    assert security_template.services_from_template(security_template.decode_template(template)) == [
        {"name": "WinRM", "start_mode": "automatic"}
    ]
    done = subprocess.run(
        [
            "samba-tool",
            "gpo",
            "aclcheck",
            "-H",
            f"ldap://{directory['dns_ip_addrs'][0]}",
            "-U",
            "Administrator",
            "-s",
            str(paths["smb_conf"]),
        ],
        env={**os.environ, "PASSWD": (paths["sam_ldb"].parent / "sandbox-administrator").read_text().strip()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# -- a SAML tenant's converge ------------------------------------------------------------------------------
CONTROLLER_CIDR = "10.236.250.0/28"


def saml_site_tenant(name: str) -> dict[str, Any]:
    tenant = yaml.safe_load((ROOT / "inventories/demo/host_vars/demo/tenant.yml").read_text())["tenant"]
    tenant["name"] = name
    tenant["network"] = {"cidr": "10.236.0.0/16", "availability_zones": 2, "nat_gateways": "none"}
    tenant["directory"]["fqdn"] = f"corp.{name}.example"
    tenant["directory"]["netbios"] = "SAMBASITE"
    return tenant


@pytest.fixture(scope="module")
def saml_site(samba_sandbox: SandboxClient, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """site.yml converges a SAML tenant on the Samba-backed sandbox, twice."""
    tenant = saml_site_tenant("samba-site")
    inventory = write_inventory(
        tmp_path_factory.mktemp("samba-site"), tenant, samba_sandbox, {"image_controller_cidr": CONTROLLER_CIDR}
    )
    first = run_playbook("site.yml", inventory, samba_sandbox, timeout=2400)
    assert first.rc == 0, first.stdout[-8000:] + first.stderr[-3000:]
    second = run_playbook("site.yml", inventory, samba_sandbox, timeout=2400)
    assert second.rc == 0, second.stdout[-8000:] + second.stderr[-3000:]
    ds = _client(samba_sandbox, "ds")
    (found,) = [
        d for d in ds.describe_directories()["DirectoryDescriptions"] if d["Name"] == tenant["directory"]["fqdn"]
    ]
    paths = dc_paths(Path(samba_sandbox.state_dir), found["DirectoryId"])  # type: ignore[attr-defined]
    admin = json.loads(
        _client(samba_sandbox, "secretsmanager").get_secret_value(SecretId=f"{tenant['name']}/directory/admin")[
            "SecretString"
        ]
    )
    return {
        "tenant": tenant,
        "first": first,
        "second": second,
        "stats": second.stats(),
        "directory": found,
        "paths": paths,
        "admin_password": admin["password"] if isinstance(admin, dict) else admin,
    }


def test_a_saml_converge_creates_the_builders_ou_account_group_and_gpo_linked_there_only(
    saml_site: dict[str, Any], tmp_path: Path
) -> None:
    tenant, paths = saml_site["tenant"], saml_site["paths"]
    name, netbios = tenant["name"], tenant["directory"]["netbios"]
    base = ",".join(f"DC={part}" for part in tenant["directory"]["fqdn"].split("."))
    builders_ou, fleet_ou = f"OU=ImageBuilders,OU={netbios},{base}", f"OU=AppStream,OU=Computers,OU={netbios},{base}"
    users_ou = f"OU=Users,OU={netbios},{base}"
    assert "objectClass: organizationalUnit" in ldbsearch(paths["sam_ldb"], builders_ou, "objectClass")
    account = ldbsearch(paths["sam_ldb"], f"CN=svc-imagebuild,{users_ou}", "objectSid", "userAccountControl")
    assert "userAccountControl: 66048" in account, "enabled, password never expires"
    group = ldbsearch(paths["sam_ldb"], f"CN={name}-image-build,{users_ou}", "member", "objectSid")
    assert f"member: CN=svc-imagebuild,{users_ou}" in group

    guid = gpo_guid(paths["sam_ldb"], f"{name} builder access")
    assert guid in ldbsearch(paths["sam_ldb"], builders_ou, "gPLink").upper()
    assert guid not in ldbsearch(paths["sam_ldb"], fleet_ou, "gPLink").upper(), "the fleet's OU never gets it"
    linked = subprocess.run(
        ["ldbsearch", "-H", str(paths["sam_ldb"]), "-b", base, f"(gPLink=*{guid}*)", "dn"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout
    assert re.findall(r"^dn: (.*)$", linked, re.MULTILINE) == [builders_ou]

    files = fetch_from_sysvol(
        saml_site["directory"]["DnsIpAddrs"][0],
        paths["smb_conf"],
        f"{netbios}\\Admin",
        saml_site["admin_password"],
        f"{tenant['directory']['fqdn']}/Policies/{guid}",
        ["Machine/Registry.pol", "Machine/Preferences/Groups/Groups.xml"],
        tmp_path / "sysvol",
    )
    by_samba = samba_preg(files["Machine/Registry.pol"])
    assert (WINRM_KEY, "AllowAutoConfig", 4, 1) in by_samba
    assert (WINRM_KEY, "AllowUnencryptedTraffic", 4, 0) in by_samba and (WINRM_KEY, "AllowBasic", 4, 0) in by_samba
    (rule,) = [entry for entry in by_samba if entry[0] == FIREWALL_KEY]
    assert "|LPort=5985|LPort=5986|RA4=10.236.250.0/255.255.255.240|" in rule[3]
    group_sid = re.search(r"objectSid: (S-[0-9-]+)", group).group(1)
    groups_xml = files["Machine/Preferences/Groups/Groups.xml"].decode("utf-8")
    assert (
        f'sid="{group_sid}"' in groups_xml
        and 'groupSid="S-1-5-32-544"' in groups_xml
        and 'removePolicy="1"' in groups_xml
    )

    secret = _client(saml_site_client(saml_site), "secretsmanager").describe_secret(SecretId=f"{name}/image-build")
    assert {t["Key"]: t["Value"] for t in secret["Tags"]}.items() >= {
        "tenant": name,
        "environment": tenant["environment"],
        "managed-by": "appstream-tenant-toolkit",
    }.items()


def saml_site_client(saml_site: dict[str, Any]) -> SandboxClient:
    return saml_site["first"].client


def test_a_saml_converge_puts_the_builder_in_the_builders_ou_and_the_fleet_apart(saml_site: dict[str, Any]) -> None:
    tenant = saml_site["tenant"]
    name, netbios, fqdn = tenant["name"], tenant["directory"]["netbios"], tenant["directory"]["fqdn"]
    base = ",".join(f"DC={part}" for part in fqdn.split("."))
    builders_ou, fleet_ou = f"OU=ImageBuilders,OU={netbios},{base}", f"OU=AppStream,OU=Computers,OU={netbios},{base}"
    client = saml_site_client(saml_site)
    appstream, ec2 = _client(client, "appstream"), _client(client, "ec2")
    (config,) = appstream.describe_directory_configs(DirectoryNames=[fqdn])["DirectoryConfigs"]
    assert sorted(config["OrganizationalUnitDistinguishedNames"]) == sorted([fleet_ou, builders_ou])
    groups = {
        g["GroupName"].removeprefix(f"{name}-"): g
        for g in ec2.describe_security_groups(Filters=[{"Name": "tag:tenant", "Values": [name]}])["SecurityGroups"]
    }
    (builder,) = appstream.describe_image_builders(Names=[f"{name}-builder"])["ImageBuilders"]
    assert builder["DomainJoinInfo"] == {"DirectoryName": fqdn, "OrganizationalUnitDistinguishedName": builders_ou}
    assert builder["VpcConfig"]["SecurityGroupIds"] == [groups["builder"]["GroupId"]]
    (fleet,) = appstream.describe_fleets(Names=[f"{name}-fleet"])["Fleets"]
    assert fleet["DomainJoinInfo"]["OrganizationalUnitDistinguishedName"] == fleet_ou
    assert groups["builder"]["GroupId"] not in fleet["VpcConfig"]["SecurityGroupIds"]
    assert groups["streaming"]["IpPermissions"] == [], "the fleet's group admits nothing, WinRM included"
    assert [
        (p["FromPort"], p["ToPort"], [r["CidrIp"] for r in p["IpRanges"]]) for p in groups["builder"]["IpPermissions"]
    ] == [(5985, 5986, [CONTROLLER_CIDR])]


def test_a_second_saml_converge_changes_nothing(saml_site: dict[str, Any]) -> None:
    second = saml_site["second"]
    assert second.recap[saml_site["tenant"]["name"]]["changed"] == 0, second.stdout[-6000:]
    assert saml_site["stats"]["mutating"] == 0, saml_site["stats"]["mutating_operations"]


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


def test_smb_folders_puts_the_sid_ad_object_returned_in_the_acl_never_a_name(
    tmp_path: Path, directory: dict[str, Any]
) -> None:
    """An ACE given by SID carries that SID: the principal's name (here "Users", a well-known name that would
    resolve to BUILTIN\\Users) is never looked up, and no directory_server is needed for it."""
    from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.security_descriptor import sid_from_bytes
    from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.smb import FileShare

    base = "DC=corp,DC=samba-flow,DC=example"
    # Admin may create folders under Policies (AWS delegates GPO creation to it), nowhere else in sysvol.
    folder = f"{directory['name']}\\Policies\\sid-proof"
    tasks = [
        {
            "name": "account",
            "iconeus.tenant_toolkit.ad_object": {
                "server": directory["dns_ip_addrs"][0],
                "domain": directory["name"],
                "username": f"Admin@{directory['name']}",
                "password": ADMIN_PASSWORD,
                "ca_file": directory["ca_file"],
                "type": "user",
                "name": "sid-proof",
                "path": f"OU=Users,OU=SAMBAFLOW,{base}",
                "user_password": "Sid-Pr00f-Passw0rd!",
            },
            "register": "account",
        },
        {
            "name": "folder",
            "iconeus.tenant_toolkit.smb_folders": {
                "server": directory["dns_ip_addrs"][0],
                "share": "sysvol",
                "username": f"Admin@{directory['name']}",
                "password": ADMIN_PASSWORD,
                "folders": [
                    {
                        "path": folder,
                        # Inheriting: Admin keeps the rights Policies gives it (the folder goes with the DC).
                        "inherit": True,
                        "acl": [
                            {"sid": "{{ account.sid }}", "principal": "Users", "rights": "modify"},
                            {"principal": "SYSTEM", "rights": "full_control"},
                            {"principal": "Administrators", "rights": "full_control"},
                        ],
                    }
                ],
            },
        },
    ]
    first = _run_play(tmp_path, tasks)
    assert first.returncode == 0, first.stdout + first.stderr
    second = _run_play(tmp_path, tasks)
    assert second.returncode == 0, second.stdout + second.stderr
    assert _recap(second)["changed"] == 0, second.stdout

    ldap = _ldap(directory)
    share = FileShare(directory["dns_ip_addrs"][0], "sysvol", f"Admin@{directory['name']}", ADMIN_PASSWORD)
    try:
        account_sid = sid_from_bytes(ldap.find_principal("sid-proof")["raw"]["objectSid"][0])
        explicit = {ace.sid.upper(): ace for ace in share.get_sd(folder).explicit_aces()}
        assert set(explicit) == {account_sid, "S-1-5-18", "S-1-5-32-544"}, explicit
        assert "S-1-5-32-545" not in explicit, "the name Users was looked up instead of taking the SID"
        assert explicit[account_sid].mask & 0x00010000, "Modify includes DELETE"
    finally:
        share.close()
        ldap.close()


# -- the stage playbooks, each run alone, and site.yml: the same tenant ------------------------------
STAGES = (
    "validate",
    "network",
    "directory",
    "storage",
    "directory_content",
    "image",
    "share",
    "fleet",
    "stack",
    "users",
    "guardrails",
    "alerts",
    "ingest",
)


def _lean_saml_tenant(name: str, octet: int) -> dict[str, Any]:
    """A SAML tenant that writes out only what the schema requires: the roles must get every default
    from the normalised definition (tenant_spec)."""
    return {
        "name": name,
        "environment": "dev",
        "region": REGION,
        "auth": "saml",
        "network": {"cidr": f"10.{octet}.0.0/16"},
        "directory": {"fqdn": f"corp.{name}.example", "netbios": name.upper().replace("-", "")[:15]},
        "storage": {},
        "appstream": {"base_image": "AppStream-WinServer2019-07-16-2024"},
        "apps": ["icostudio"],
        "users": [
            {"email": "ada@lab.example", "first_name": "Ada", "last_name": "Lovelace"},
            {"email": "grace.hopper@lab.example", "first_name": "Grace", "last_name": "Hopper", "username": "ghopper"},
        ],
        "budget": {"monthly_usd": 300, "notify": ["ops@lab.example"]},
    }


def _tenant_state(sandbox: SandboxClient, tenant: dict[str, Any]) -> dict[str, Any]:
    """What a converged SAML tenant is made of, read from AWS (the sandbox), its DC and its share, with the
    tenant's own name replaced by <tenant> so that two tenants compare equal."""
    from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.smb import FileShare

    name, fqdn, netbios = tenant["name"], tenant["directory"]["fqdn"], tenant["directory"]["netbios"]
    base = ",".join(f"DC={label}" for label in fqdn.split("."))
    state_dir = Path(sandbox.state_dir)  # type: ignore[attr-defined]
    [described] = [
        d for d in _client(sandbox, "ds").describe_directories()["DirectoryDescriptions"] if d["Name"] == fqdn
    ]
    secrets = _client(sandbox, "secretsmanager")
    admin = json.loads(secrets.get_secret_value(SecretId=f"{name}/directory/admin")["SecretString"])["password"]
    directory = {
        "name": fqdn,
        "dns_ip_addrs": described["DnsIpAddrs"],
        "ca_file": str(state_dir / "samba" / described["DirectoryId"] / "private" / "tls" / "ca.pem"),
    }
    ldap = _ldap(directory, admin)
    try:
        group = ldap.get(f"CN={name}-users,OU=Users,OU={netbios},{base}", ["member"])
        members = sorted(str(dn).split(",")[0] for dn in group["attributes"].get("member", [])) if group else None
        sams = sorted(
            (ldap.find_principal(sam) or {}).get("dn", "").split(",", 1)[-1].replace(base, "<base>") + ":" + sam
            for sam in ("ada", "ghopper", "svc-appstream")
        )
        appstream_ou = ldap.get(f"OU=AppStream,OU=Computers,OU={netbios},{base}", ["ou"]) is not None
        gpos = ldap.search(f"CN=Policies,CN=System,{base}", f"(displayName={name} drive maps)", ["cn"], scope="LEVEL")
        gplink = ldap.get(f"OU=Users,OU={netbios},{base}", ["gPLink"])["attributes"].get("gPLink", [""])
        linked = bool(gpos) and gpos[0]["attributes"]["cn"][0].upper() in str(gplink).upper()
        # Who the share's ACEs name, read back by SID: the accounts ad_object made, never a namesake.
        named = {
            ldap.resolve_sid(account): account.replace(name, "<tenant>")
            for account in ("ada", "ghopper", f"{name}-users", "AWS Delegated FSx Administrators")
        }
    finally:
        ldap.close()

    fsx = _client(sandbox, "fsx")
    [file_system] = [
        fs
        for fs in fsx.describe_file_systems()["FileSystems"]
        if {"Key": "tenant", "Value": name} in fs.get("Tags", [])
    ]
    share = FileShare(file_system["WindowsConfiguration"]["PreferredFileServerIp"], "share", f"Admin@{fqdn}", admin)
    try:
        folders = {"top": sorted(share.listdir("")), "homes": sorted(share.listdir("Users"))}
        folders["acl"] = {
            path: sorted(named.get(ace.sid.upper(), ace.sid.upper()) for ace in share.get_sd(path).explicit_aces())
            for path in ("Projects", "Users", "Users\\ada", "Users\\ghopper")
        }
    finally:
        share.close()

    appstream = _client(sandbox, "appstream")
    [fleet] = appstream.describe_fleets(Names=[f"{name}-fleet"])["Fleets"]
    [config] = appstream.describe_directory_configs(DirectoryNames=[fqdn])["DirectoryConfigs"]
    return {
        "directory": {"stage": described["Stage"], "edition": described["Edition"]},
        "ldap": {"appstream_ou": appstream_ou, "accounts": sams, "group_members": members, "gpo_linked": linked},
        "share": folders,
        "file_system": {
            "lifecycle": file_system["Lifecycle"],
            "deployment_type": file_system["WindowsConfiguration"]["DeploymentType"],
            "storage_gib": file_system["StorageCapacity"],
        },
        "fleet": {
            "state": fleet["State"],
            "type": fleet["FleetType"],
            "instance_type": fleet["InstanceType"],
            "image": fleet["ImageName"].replace(name, "<tenant>")[: len("<tenant>-suite-")],
            "domain": fleet.get("DomainJoinInfo", {}).get("DirectoryName", "").replace(name, "<tenant>"),
            "stacks": [
                s.replace(name, "<tenant>") for s in appstream.list_associated_stacks(FleetName=fleet["Name"])["Names"]
            ],
        },
        "directory_config_ous": [ou.replace(base, "<base>") for ou in config["OrganizationalUnitDistinguishedNames"]],
    }


EXPECTED_STATE = {
    "directory": {"stage": "Active", "edition": "Standard"},
    "ldap": {
        "appstream_ou": True,
        "accounts": [
            "OU=Users,OU={netbios},<base>:ada",
            "OU=Users,OU={netbios},<base>:ghopper",
            "OU=Users,OU={netbios},<base>:svc-appstream",
        ],
        "group_members": ["CN=ada", "CN=ghopper"],
        "gpo_linked": True,
    },
    "share": {
        "top": ["Projects", "Users"],
        "homes": ["ada", "ghopper"],
        "acl": {
            folder: sorted(["AWS Delegated FSx Administrators", "S-1-5-18", "S-1-5-32-544", principal])
            for folder, principal in (
                ("Projects", "<tenant>-users"),
                ("Users", "<tenant>-users"),
                ("Users\\ada", "ada"),
                ("Users\\ghopper", "ghopper"),
            )
        },
    },
    "file_system": {"lifecycle": "AVAILABLE", "deployment_type": "SINGLE_AZ_2", "storage_gib": 32},
    "fleet": {
        "state": "RUNNING",
        "type": "ON_DEMAND",
        "instance_type": "stream.standard.medium",
        "image": "<tenant>-suite-",
        "domain": "corp.<tenant>.example",
        "stacks": ["<tenant>-stack"],
    },
    "directory_config_ous": ["OU=AppStream,OU=Computers,OU={netbios},<base>", "OU=ImageBuilders,OU={netbios},<base>"],
}


def _expected(tenant: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(EXPECTED_STATE).replace("{netbios}", tenant["directory"]["netbios"]))


def test_each_stage_playbook_alone_in_order_converges_a_saml_tenant_as_site_does(
    samba_sandbox: SandboxClient, tmp_path: Path
) -> None:
    from tests.helpers import run_playbook, write_inventory

    staged = _lean_saml_tenant("stage-lab", 92)
    inventory = write_inventory(tmp_path / "stage-lab", staged, samba_sandbox)
    for stage in STAGES:
        run = run_playbook(f"playbooks/{stage}.yml", inventory, samba_sandbox, timeout=900)
        assert run.rc == 0, f"playbooks/{stage}.yml alone:\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}"
        assert run.recap["stage-lab"]["failed"] == 0, stage
        assert "SKIPPED directory content" not in run.stdout, f"{stage}: the Samba-backed directory was not used"
    assert _tenant_state(samba_sandbox, staged) == _expected(staged)

    whole = _lean_saml_tenant("site-lab", 93)
    inventory = write_inventory(tmp_path / "site-lab", whole, samba_sandbox)
    site = run_playbook("site.yml", inventory, samba_sandbox, timeout=1200)
    assert site.rc == 0, site.stdout[-6000:] + site.stderr[-2000:]
    assert "SKIPPED directory content" not in site.stdout
    assert _tenant_state(samba_sandbox, whole) == _expected(whole)

    # Converged: a stage run alone again changes nothing (directory content and share included).
    for stage in ("directory_content", "share"):
        again = run_playbook(f"playbooks/{stage}.yml", inventory, samba_sandbox, timeout=900)
        assert again.rc == 0 and again.recap["site-lab"]["changed"] == 0, f"{stage}:\n{again.stdout[-4000:]}"
