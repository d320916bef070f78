#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: smb_folders
version_added: 0.1.0
short_description: Ensure folders on an SMB share with their owner and Windows ACL
description:
  - Ensures folders on an SMB share (FSx for Windows File Server, a Windows or Samba file server)
    exist with the given owner and explicit access control entries, from the controller in pure
    Python (smbprotocol, SMB2 QUERY_INFO/SET_INFO of the security descriptor); no Windows host needed.
  - For each folder the explicit ACEs become exactly O(folders[].acl); O(folders[].inherit=false)
    breaks inheritance (a protected DACL), which is how a private home folder keeps other users out.
  - Existing data is never deleted. Folders found directly under O(managed_parents) but not listed
    (a removed user's home) are kept and reported in RV(orphans); only O(purge=true) deletes them.
  - An ACE's principal is given by its SID (O(folders[].acl[].sid)), as M(iconeus.tenant_toolkit.ad_object)
    returns it for the accounts and groups it ensures, and then used as is, never looked up; or by a name
    (O(folders[].acl[].principal)), which is a user or group C(sAMAccountName), C(DOMAIN\name), UPN, a SID, or
    one of the well-known names C(SYSTEM), C(Administrators), C(CREATOR OWNER), C(Everyone), C(Authenticated Users).
    Domain names are resolved to SIDs over LDAPS on O(directory_server). Give accounts named after
    customer data by SID, since a name can be mistaken for a well-known principal or another account.
  - Setting an owner other than yourself needs the restore or take-ownership privilege, which FSx grants to
    its file system administrators group (AWS Delegated FSx Administrators for AWS Managed Microsoft AD).
author: Tenant toolkit maintainers (@tenant-toolkit)
requirements:
  - smbprotocol
  - ldap3 (when principals are domain names)
options:
  username:
    description:
      - Domain account, as C(user@domain) or C(DOMAIN\user); with FSx, a member of its file system
        administrators group.
  directory_server:
    description:
      - Domain controller used to resolve principal names to SIDs over LDAPS (O(port), O(domain),
        O(ca_file), O(validate_certs)), with O(username) and O(password).
      - Needed only when O(folders[].owner) or O(folders[].acl[].principal) name domain principals; never for
        entries given by O(folders[].acl[].sid).
    type: str
  folders:
    description: The folders to ensure, parents before children (the module sorts them by depth).
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Path inside the share, C(Users\ada) or C(Users/ada).
        type: str
        required: true
      owner:
        description: Owner of the folder. Omitted, the owner is left alone.
        type: str
      inherit:
        description: Whether the folder inherits its parent's ACEs; V(false) protects the DACL.
        type: bool
        default: true
      acl:
        description:
          - The folder's explicit ACEs, exactly. Omitted, explicit ACEs are left alone.
        type: list
        elements: dict
        suboptions:
          principal:
            description:
              - User, group or well-known principal, or a SID, resolved to a SID unless O(folders[].acl[].sid)
                is given.
              - Ignored when O(folders[].acl[].sid) is given.
              - One of O(folders[].acl[].principal) and O(folders[].acl[].sid) is required.
            type: str
          sid:
            description:
              - SID of the principal (C(S-1-...)), used as is; no name is looked up for this entry.
              - Null or empty, the entry is O(folders[].acl[].principal)'s, resolved by name (in check mode, a
                principal that does not exist yet is planned as C(<SID of name>)).
            type: str
          rights:
            description: What the principal may do.
            type: str
            required: true
            choices: [full_control, modify, read_execute, read, write]
          applies_to:
            description: Where the entry applies, as in Explorer's advanced security dialog.
            type: str
            default: this_folder_subfolders_files
            choices: [this_folder_subfolders_files, this_folder_only, this_folder_subfolders, this_folder_files,
                      subfolders_files_only]
          type:
            description: Allow or deny.
            type: str
            default: allow
            choices: [allow, deny]
  managed_parents:
    description:
      - Folders whose direct subfolders must all be listed in O(folders); any other subfolder is an orphan.
    type: list
    elements: str
    default: []
  purge:
    description: Delete orphans with everything in them. Off by default so that no data is ever lost by accident.
    type: bool
    default: false
attributes:
  check_mode:
    details: Reads only; reports the folders to create, the owners and ACEs to change, and the orphans.
  diff_mode:
    details: Each folder's existence, owner, inheritance and explicit ACEs (SDDL) before and after.
notes:
  - Fallback when an SMB server refuses SET_INFO of security descriptors from this client - none was needed for
    Samba or Windows - is Samba's C(smbcacls) tool, which speaks the same protocol.
extends_documentation_fragment:
  - iconeus.tenant_toolkit.smb_connection
  - iconeus.tenant_toolkit.ldap_connection.ldaps
  - iconeus.tenant_toolkit.attributes
"""

EXAMPLES = r"""
- name: Ensure Ada's private home folder on the tenant share
  iconeus.tenant_toolkit.smb_folders:
    server: fs-0123456789abcdef0.corp.example.com
    username: Admin@corp.example.com
    password: "{{ directory_admin_password }}"
    directory_server: "{{ tenant_directory.dns_ip_addrs[0] }}"
    domain: corp.example.com
    ca_file: files/directory-ca.pem
    folders:
      - path: Users
        owner: AWS Delegated FSx Administrators
        inherit: false
        acl:
          - {principal: SYSTEM, rights: full_control}
          - {principal: AWS Delegated FSx Administrators, rights: full_control}
          - {principal: acme-users, rights: read_execute, applies_to: this_folder_only}
      - path: Users\ada
        owner: AWS Delegated FSx Administrators
        inherit: false
        acl:
          # The SID ad_object returned for Ada's account (register: ada_account): never looked up by name.
          - {sid: "{{ ada_account.sid }}", rights: modify}
          - {principal: SYSTEM, rights: full_control}
          - {principal: Administrators, rights: full_control}
          - {principal: AWS Delegated FSx Administrators, rights: full_control}
    managed_parents: [Users]
  register: folders_result

- name: Show the homes of users who left (kept until purge is set)
  ansible.builtin.debug:
    var: folders_result.orphans
"""

RETURN = r"""
folders:
  description: Each folder after the run.
  type: list
  elements: dict
  returned: always
  sample:
    - path: Users\ada
      created: false
      changed: true
      owner: S-1-5-21-1-2-3-1115
      inherit: false
      acl: ["(A;OICI;0x001301bf;;;S-1-5-21-1-2-3-1105)", "(A;OICI;0x001f01ff;;;SY)"]
orphans:
  description: Subfolders of O(managed_parents) not listed in O(folders) (kept unless O(purge)).
  type: list
  elements: str
  returned: always
  sample: [Users\\grace]
removed:
  description: Orphans deleted because O(purge) is set.
  type: list
  elements: str
  returned: always
  sample: []
actions:
  description: What was (or in check mode would be) done.
  type: list
  elements: str
  returned: always
  sample: ["create Users\\ada", "set the ACL of Users\\ada", "set the owner of Users\\ada"]
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.connection import fail
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.errors import AdError
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.ldap import Directory
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.security_descriptor import (
    SID_PATTERN,
    WELL_KNOWN_NAMES,
    Ace,
    SecurityDescriptor,
    ace_to_sddl,
    canonical_aces,
    folder_ace,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.smb import FileShare


def normalise_path(path: str) -> str:
    return "\\".join(part for part in path.replace("/", "\\").split("\\") if part)


def aces_equal(current: list[Ace], wanted: list[Ace]) -> bool:
    def key(ace: Ace) -> tuple[Any, ...]:
        return (ace.type, ace.flags, ace.mask, ace.sid.upper(), ace.object_type or "")

    return sorted(map(key, current)) == sorted(map(key, wanted))


class SmbFolders:
    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.params = module.params
        self.check = module.check_mode
        self.actions: list[str] = []
        self._directory: Directory | None = None
        self._sids: dict[str, str] = {}
        self.share = FileShare(
            self.params["server"],
            self.params["share"],
            self.params["username"],
            self.params["password"],
            auth_protocol=self.params["auth_protocol"],
            encrypt=self.params["encrypt"],
            connect_timeout=self.params["connect_timeout"],
        )

    def directory(self) -> Directory:
        if self._directory is None:
            if not self.params["directory_server"]:
                raise AdError(
                    "directory_server is required to resolve principal names to SIDs "
                    "(or give SIDs and well-known names only)",
                    "invalid",
                )
            self._directory = Directory(
                {
                    "server": self.params["directory_server"],
                    "port": self.params["port"],
                    "username": self.params["username"],
                    "password": self.params["password"],
                    "domain": self.params["domain"],
                    "ca_file": self.params["ca_file"],
                    "validate_certs": self.params["validate_certs"],
                    "connect_timeout": self.params["connect_timeout"],
                }
            )
        return self._directory

    def sid(self, principal: str) -> str:
        key = principal.strip().lower()
        if key not in self._sids:
            if SID_PATTERN.match(principal.strip()):
                self._sids[key] = principal.strip().upper()
            elif key in WELL_KNOWN_NAMES:
                self._sids[key] = WELL_KNOWN_NAMES[key]
            else:
                try:
                    self._sids[key] = self.directory().resolve_sid(principal)
                except AdError as err:
                    if not (self.check and err.kind == "missing"):
                        raise
                    # Check mode: an earlier task (ad_structure) would create it; plan with its name.
                    self._sids[key] = f"<SID of {principal}>"
        return self._sids[key]

    def entry_sid(self, entry: dict[str, Any]) -> str:
        """The SID of an ACE's principal: the SID given, as is (never looked up), else the principal's name
        resolved."""
        given = entry.get("sid")
        if given:
            if not SID_PATTERN.match(given.strip()):
                raise AdError(f"acl sid {given!r} is not a security identifier (S-1-...)", "invalid")
            return given.strip().upper()
        if not entry.get("principal"):
            raise AdError("an acl entry needs a sid or a principal", "invalid")
        return self.sid(entry["principal"])

    def domain_sid(self) -> str | None:
        return self._directory.domain_sid if self._directory is not None else None

    def describe(self, sd: SecurityDescriptor | None) -> dict[str, Any]:
        if sd is None:
            return {"exists": False}
        domain_sid = self.domain_sid()
        return {
            "exists": True,
            "owner": sd.owner,
            "inherit": not sd.protected,
            "acl": [ace_to_sddl(ace, domain_sid) for ace in canonical_aces(sd.explicit_aces())],
        }

    def ensure(self, spec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        path = normalise_path(spec["path"])
        exists = self.share.exists(path)
        current = self.share.get_sd(path) if exists else None
        wanted_owner = self.sid(spec["owner"]) if spec.get("owner") else None
        wanted_aces = None
        if spec.get("acl") is not None:
            wanted_aces = canonical_aces(
                [
                    folder_ace(
                        self.entry_sid(entry), entry["rights"], entry["applies_to"], deny=entry["type"] == "deny"
                    )
                    for entry in spec["acl"]
                ]
            )
        created = not exists
        if created:
            self.actions.append(f"create {path}")
            if not self.check:
                self.share.makedirs(path)
                current = self.share.get_sd(path)
        inherited = [ace for ace in (current.dacl or []) if ace.inherited] if current else []
        explicit = current.explicit_aces() if current else []
        protected = current.protected if current else False
        acl_changes = (wanted_aces is not None and not aces_equal(explicit, wanted_aces)) or protected != (
            not spec["inherit"]
        )
        owner_change = wanted_owner is not None and (current is None or (current.owner or "").upper() != wanted_owner)
        final_aces = wanted_aces if wanted_aces is not None else explicit
        if acl_changes:
            self.actions.append(f"set the ACL of {path}")
            if not self.check:
                control = 0x1000 if not spec["inherit"] else 0
                # A protected DACL drops what was inherited; an inheriting one lets the server re-add it.
                self.share.set_sd(path, SecurityDescriptor(dacl=list(final_aces), control=control))
        if owner_change:
            self.actions.append(f"set the owner of {path}")
            if not self.check:
                self.share.set_sd(path, SecurityDescriptor(owner=wanted_owner), set_owner=True, set_dacl=False)
        planned = SecurityDescriptor(
            owner=wanted_owner or (current.owner if current else None),
            dacl=list(final_aces) + ([] if not spec["inherit"] else inherited),
            control=0x1000 if not spec["inherit"] else 0,
        )
        after_sd = planned if self.check or not (acl_changes or owner_change or created) else self.share.get_sd(path)
        before = self.describe(current if exists else None)
        after = self.describe(after_sd)
        summary = {
            "path": path,
            "created": created,
            "changed": created or acl_changes or owner_change,
            **{key: value for key, value in after.items() if key != "exists"},
        }
        return summary, before, after

    def orphans(self, listed: set[str]) -> list[str]:
        found = []
        for parent in self.params["managed_parents"]:
            parent = normalise_path(parent)
            for name in self.share.listdir(parent):
                child = f"{parent}\\{name}" if parent else name
                if child.lower() not in listed and self.share.is_dir(child):
                    found.append(child)
        return sorted(found)

    def run(self) -> dict[str, Any]:
        specs = sorted(self.params["folders"], key=lambda item: normalise_path(item["path"]).count("\\"))
        results, before, after = [], {}, {}
        for spec in specs:
            summary, old, new = self.ensure(spec)
            results.append(summary)
            before[summary["path"]] = old
            after[summary["path"]] = new
        listed = {normalise_path(spec["path"]).lower() for spec in specs}
        orphans = self.orphans(listed)
        removed = []
        if orphans and self.params["purge"]:
            for orphan in orphans:
                self.actions.append(f"delete {orphan} and its content")
                removed.append(orphan)
                before[orphan] = {"exists": True}
                after[orphan] = {"exists": False}
                if not self.check:
                    self.share.remove_tree(orphan)
        elif orphans:
            self.module.warn(
                f"kept {len(orphans)} folder(s) not in the list (set purge to delete them): " + ", ".join(orphans)
            )
        return {
            "changed": bool(self.actions),
            "folders": results,
            "orphans": orphans,
            "removed": removed,
            "actions": self.actions,
            "diff": {"before": before, "after": after},
        }

    def close(self) -> None:
        self.share.close()
        if self._directory is not None:
            self._directory.close()


def main() -> None:
    ace_spec = dict(
        principal=dict(type="str"),
        sid=dict(type="str"),
        rights=dict(type="str", required=True, choices=["full_control", "modify", "read_execute", "read", "write"]),
        applies_to=dict(
            type="str",
            default="this_folder_subfolders_files",
            choices=[
                "this_folder_subfolders_files",
                "this_folder_only",
                "this_folder_subfolders",
                "this_folder_files",
                "subfolders_files_only",
            ],
        ),
        type=dict(type="str", default="allow", choices=["allow", "deny"]),
    )
    folder_spec = dict(
        path=dict(type="str", required=True),
        owner=dict(type="str"),
        inherit=dict(type="bool", default=True),
        acl=dict(type="list", elements="dict", options=ace_spec, required_one_of=[("sid", "principal")]),
    )
    argument_spec = dict(
        server=dict(type="str", required=True),
        share=dict(type="str", default="share"),
        username=dict(type="str", required=True),
        password=dict(type="str", required=True, no_log=True),
        auth_protocol=dict(type="str", default="negotiate", choices=["negotiate", "ntlm", "kerberos"]),
        encrypt=dict(type="bool", default=True),
        directory_server=dict(type="str"),
        port=dict(type="int", default=636),
        domain=dict(type="str"),
        ca_file=dict(type="path"),
        validate_certs=dict(type="bool", default=True),
        connect_timeout=dict(type="int", default=10),
        folders=dict(type="list", elements="dict", required=True, options=folder_spec),
        managed_parents=dict(type="list", elements="str", default=[]),
        purge=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    runner = None
    try:
        runner = SmbFolders(module)
        result = runner.run()
    except AdError as err:
        fail(module, err)
    finally:
        if runner is not None:
            runner.close()
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
