"""The roles that set share ACLs name the tenant's accounts by the SIDs ad_object returned, never by name.

A name made from tenant data (a username, `<tenant>-users`) given to smb_folders as a principal would be
resolved by name, where it could be read as a well-known principal (`Users`, `Everyone`) or another
account. The roles' ACL templates are rendered here with ad_object results of known SIDs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROOT = Path(__file__).resolve().parents[2]
GROUP_SID = "S-1-5-21-1-2-3-1100"
USERS_SID = "S-1-5-21-1-2-3-1101"
ADA_SID = "S-1-5-21-1-2-3-1102"
DATASYNC_SID = "S-1-5-21-1-2-3-1103"
# The toolkit's own principals, which the roles still give by name.
TOOLKIT_PRINCIPALS = {"SYSTEM", "Administrators", "AWS Delegated FSx Administrators"}


def _trusted(value: Any) -> Any:
    """Role variables as Ansible loads them: their strings may be templates."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: _trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_trusted(item) for item in value]
    return value


def _render(role: str, name: str, facts: dict[str, Any]) -> Any:
    variables: dict[str, Any] = {}
    for part in ("defaults", "vars"):
        variables |= _trusted(yaml.safe_load((ROOT / "roles" / role / part / "main.yml").read_text(encoding="utf-8")))
    variables |= facts
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(f"{{{{ {name} }}}}"))


def _aces(folders: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    return {folder["path"]: folder.get("acl", []) for folder in folders}


def test_file_share_folders_gives_the_users_and_their_group_by_sid() -> None:
    folders = _render(
        "file_share_folders",
        "file_share_folders_folders",
        {
            "tenant_spec": {
                "name": "lab",
                "auth": "saml",
                # "users" is refused by validation; were it not, it must still reach the ACL as a SID.
                "users": [{"email": "users@lab.example"}, {"email": "ada.l@lab.example", "username": "ada"}],
            },
            "tenant_directory": {"name": "corp.lab.example", "netbios": "LAB", "dns_ip_addrs": ["10.0.0.1"]},
            "tenant_file_system": {"dns_name": "fs.corp.lab.example"},
            "file_share_folders_accounts_result": {
                "results": [
                    {"item": {"type": "group", "name": "lab-users"}, "sid": GROUP_SID},
                    {"item": {"type": "user", "name": "users"}, "sid": USERS_SID},
                    {"item": {"type": "user", "name": "ada"}, "sid": ADA_SID},
                ]
            },
        },
    )
    aces = _aces(folders)
    tenant_aces = {
        path: [(ace.get("sid"), ace["rights"]) for ace in entries if ace["principal"] not in TOOLKIT_PRINCIPALS]
        for path, entries in aces.items()
    }
    assert tenant_aces == {
        "Users": [(GROUP_SID, "read_execute")],
        "Projects": [(GROUP_SID, "modify")],
        "Users\\users": [(USERS_SID, "modify")],
        "Users\\ada": [(ADA_SID, "modify")],
    }


def test_file_share_folders_reads_the_sids_of_the_accounts_it_names() -> None:
    accounts = _render(
        "file_share_folders",
        "file_share_folders_accounts",
        {"tenant_spec": {"name": "lab", "users": [{"email": "ada.l@lab.example", "username": "ada"}]}},
    )
    assert accounts == [{"type": "group", "name": "lab-users"}, {"type": "user", "name": "ada"}]
    tasks = yaml.safe_load((ROOT / "roles/file_share_folders/tasks/folders.yml").read_text(encoding="utf-8"))
    [read] = [task for task in tasks if task.get("register") == "file_share_folders_accounts_result"]
    assert "iconeus.tenant_toolkit.ad_object" in read
    assert read["check_mode"] is True, "the role only reads the accounts ad_structure owns"


def test_ingest_gives_the_users_group_and_the_datasync_account_by_sid() -> None:
    folders = _render(
        "ingest",
        "ingest_share_folders",
        {
            "tenant_spec": {"name": "lab"},
            "ingest_instruments": ["echo-01"],
            "ingest_users_group_result": {"sid": GROUP_SID},
            "ingest_datasync_account_result": {"sid": DATASYNC_SID},
        },
    )
    incoming = _aces(folders)["Projects\\Incoming"]
    tenant_aces = [(ace.get("sid"), ace["rights"]) for ace in incoming if ace["principal"] not in TOOLKIT_PRINCIPALS]
    assert tenant_aces == [(GROUP_SID, "read_execute"), (DATASYNC_SID, "modify")]
