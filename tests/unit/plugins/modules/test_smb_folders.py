"""smb_folders: an ACE given by SID carries that SID, and no name is looked up for it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.errors import AdError
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.security_descriptor import (
    SecurityDescriptor,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.modules import smb_folders as SMB

ACCOUNT_SID = "S-1-5-21-1004336348-1177238915-682003330-1105"


class FakeShare:
    """Folders and their security descriptors in memory, as FileShare reads and writes them."""

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        self.sds: dict[str, SecurityDescriptor] = {}

    def exists(self, path: str) -> bool:
        return path in self.sds

    def makedirs(self, path: str) -> None:
        self.sds.setdefault(path, SecurityDescriptor(owner="S-1-5-32-544", dacl=[]))

    def get_sd(self, path: str) -> SecurityDescriptor:
        return self.sds[path]

    def set_sd(self, path: str, sd: SecurityDescriptor, set_owner: bool = False, set_dacl: bool = True) -> None:
        current = self.sds[path]
        self.sds[path] = SecurityDescriptor(
            owner=sd.owner if set_owner else current.owner,
            dacl=sd.dacl if set_dacl else current.dacl,
            control=sd.control if set_dacl else current.control,
        )

    def listdir(self, _path: str) -> list[str]:
        return []

    def close(self) -> None:
        pass


class FakeModule:
    def __init__(self, folders: list[dict[str, Any]], check_mode: bool = False) -> None:
        self.check_mode = check_mode
        self.params: dict[str, Any] = {
            "server": "fs.example",
            "share": "share",
            "username": "Admin@corp.example",
            "password": "not-a-password",
            "auth_protocol": "negotiate",
            "encrypt": False,
            "connect_timeout": 1,
            # No directory: any name looked up in the directory fails the run.
            "directory_server": None,
            "port": 636,
            "domain": None,
            "ca_file": None,
            "validate_certs": True,
            "folders": folders,
            "managed_parents": [],
            "purge": False,
        }

    def warn(self, _message: str) -> None:
        pass


def ace(rights: str = "modify", **principal: Any) -> dict[str, Any]:
    return {"sid": None, "principal": None, "rights": rights, "applies_to": "this_folder_subfolders_files",
            "type": "allow", **principal}  # fmt: skip


def run(acl: list[dict[str, Any]], check_mode: bool = False) -> tuple[dict[str, Any], FakeShare]:
    folders = [{"path": "Users\\users", "owner": None, "inherit": False, "acl": acl}]
    runner = None
    original = SMB.FileShare
    SMB.FileShare = FakeShare  # type: ignore[misc,assignment]
    try:
        runner = SMB.SmbFolders(FakeModule(folders, check_mode))  # type: ignore[arg-type]
        return runner.run(), runner.share  # type: ignore[return-value]
    finally:
        SMB.FileShare = original  # type: ignore[misc]


def test_an_ace_given_by_sid_carries_that_sid_even_when_its_name_is_well_known() -> None:
    # "Users" alone would be BUILTIN\Users (S-1-5-32-545); given with the account's SID, it is only a label.
    result, share = run([ace(sid=ACCOUNT_SID, principal="Users"), ace("full_control", principal="SYSTEM")])
    explicit = {entry.sid for entry in share.sds["Users\\users"].explicit_aces()}
    assert explicit == {ACCOUNT_SID, "S-1-5-18"}
    assert result["folders"][0]["acl"] == sorted(result["folders"][0]["acl"])  # SDDL shown, in canonical order
    assert any(ACCOUNT_SID in text for text in result["folders"][0]["acl"])


def test_an_ace_given_by_sid_needs_no_directory() -> None:
    _result, share = run([ace(sid=ACCOUNT_SID.lower())])
    assert [entry.sid for entry in share.sds["Users\\users"].explicit_aces()] == [ACCOUNT_SID]


def test_a_sid_that_is_not_one_is_refused() -> None:
    with pytest.raises(AdError, match="not a security identifier"):
        run([ace(sid="Everyone")])


def test_without_a_sid_a_domain_name_is_looked_up_in_the_directory() -> None:
    with pytest.raises(AdError, match="directory_server is required"):
        run([ace(principal="ada")])


def test_an_entry_needs_a_sid_or_a_principal() -> None:
    with pytest.raises(AdError, match="needs a sid or a principal"):
        run([ace()])


def run_main(acl: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    args = {"server": "fs.example", "username": "Admin@corp.example", "password": "not-a-password",
            "folders": [{"path": "Users/users", "inherit": False, "acl": acl}]}  # fmt: skip
    original = SMB.FileShare
    SMB.FileShare = FakeShare  # type: ignore[misc,assignment]
    try:
        with patch_module_args(args), pytest.raises(SystemExit):
            SMB.main()
    finally:
        SMB.FileShare = original  # type: ignore[misc]
    return json.loads(capsys.readouterr().out)


def test_the_module_takes_an_ace_by_sid(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_main([{"sid": ACCOUNT_SID, "principal": "Users", "rights": "modify"}], capsys)
    assert not result.get("failed"), result
    assert result["folders"][0]["acl"] == [f"(A;OICI;0x001301bf;;;{ACCOUNT_SID})"]


def test_the_module_wants_a_sid_or_a_principal_for_each_ace(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_main([{"rights": "modify"}], capsys)
    assert result["failed"] is True
    assert "one of the following is required: sid, principal" in result["msg"]
