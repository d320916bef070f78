#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gpo_drive_maps
version_added: 0.1.0
short_description: Ensure a GPO with Group Policy Preferences drive maps, linked to OUs
description:
  - Ensures a Group Policy Object, found by its display name, whose user side maps network
    drives with Group Policy Preferences (C(User\Preferences\Drives\Drives.xml), [MS-GPPREF] 2.2.1.4),
    and links it to the given containers.
  - Creates the GPO the way C(samba-tool gpo create) and the Group Policy Management Console do,
    a C(groupPolicyContainer) under C(CN=Policies,CN=System) with its C(User) and C(Machine)
    containers, and the folder C(\\<dc>\SYSVOL\<domain>\Policies\{GUID}) with C(GPT.INI),
    C(User) and C(Machine), whose ACL is derived from the AD object's ACL
    (C(samba-tool gpo aclcheck) finds them consistent).
  - When the drive maps change, writes C(Drives.xml), adds the drive maps client-side extension to
    C(gPCUserExtensionNames) and bumps the user version (+65536) in both C(versionNumber) and
    C(GPT.INI), as [MS-GPOL] requires for clients to pick up the change. Nothing is written when
    they do not change; C(Drives.xml) is deterministic (each item has a uid derived from the GPO
    name and drive letter; its C(changed) stamp moves only when that item changes).
  - Links keep the container's other links and their options; C(order) follows GPMC's link order
    (1 = highest precedence).
  - Works against any AD DC with LDAPS and SMB, including AWS Managed Microsoft AD with its delegated
    C(Admin) account (member of AWS Delegated Group Policy Administrators, which may create and link
    GPOs in the directory's OU) and a Samba AD DC.
  - Pure Python on the controller (ldap3 and smbprotocol); the controller needs network access to
    the DC on TCP 636 and 445.
author: Tenant toolkit maintainers (@tenant-toolkit)
requirements:
  - ldap3
  - smbprotocol
options:
  state:
    description:
      - V(present) ensures the GPO, its drive maps and its links.
      - V(absent) removes every link to the GPO, then the GPO and its SYSVOL folder.
    type: str
    default: present
    choices: [present, absent]
  drives:
    description:
      - The drive maps the GPO holds, exactly (items not listed are removed from C(Drives.xml)).
      - An empty list removes C(Drives.xml) and the drive maps extension.
      - Omit it to leave the drive maps as they are.
    type: list
    elements: dict
    suboptions:
      letter:
        description: Drive letter, C(H) or C(H:).
        type: str
        required: true
      path:
        description:
          - UNC path; C(%LogonUser%) expands to the user name at logon,
            e.g. C(\\fs-0123.corp.example.com\share\Users\%LogonUser%).
        type: str
      label:
        description: Label shown in Explorer.
        type: str
        default: ""
      action:
        description: What the client does (GPP C(C)reate, C(R)eplace, C(U)pdate, C(D)elete).
        type: str
        default: update
        choices: [create, replace, update, delete]
      reconnect:
        description: Reconnect the drive at logon (GPP C(persistent)).
        type: bool
        default: true
      this_drive:
        description: Show or hide this drive in Explorer.
        type: str
        default: nochange
        choices: [nochange, show, hide]
      all_drives:
        description: Show or hide all drives in Explorer.
        type: str
        default: nochange
        choices: [nochange, show, hide]
      group:
        description:
          - Item-level targeting; only members of this group (name or SID) get the drive.
        type: str
attributes:
  check_mode:
    details: Reads only; reports the planned GPO, drive maps, version and links.
  diff_mode:
    details: Shows the drive maps, version and links before and after.
notes:
  - The GPO version only moves when the drive maps change, so clients reprocess the policy only then.
  - A failure half way (for example SYSVOL unreachable after the AD object was created) is repaired by the
    next run, which recreates the missing SYSVOL folder, ACL and C(GPT.INI).
  - Drive maps do not create the folders they point to; see the smb_folders module.
seealso:
  - module: microsoft.ad.ou
  - name: "[MS-GPPREF] Drive Maps"
    description: The Drives.xml format.
    link: https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-gppref/
extends_documentation_fragment:
  - iconeus.tenant_toolkit.gpo
  - iconeus.tenant_toolkit.ldap_connection
  - iconeus.tenant_toolkit.ldap_connection.ldaps
  - iconeus.tenant_toolkit.attributes
"""

EXAMPLES = r"""
- name: Ensure the tenant drive maps GPO is linked to the users' OU
  iconeus.tenant_toolkit.gpo_drive_maps:
    server: "{{ tenant_directory.dns_ip_addrs[0] }}"
    domain: corp.acme-neuro.example
    username: Admin@corp.acme-neuro.example
    password: "{{ directory_admin_password }}"
    ca_file: files/directory-ca.pem
    name: acme-neuro drive maps
    drives:
      - letter: H
        path: \\fs-0123.corp.acme-neuro.example\share\Users\%LogonUser%
        label: Home
      - letter: P
        path: \\fs-0123.corp.acme-neuro.example\share\Projects
        label: Projects
        group: acme-neuro-users
    links:
      - target: OU=Users,OU=ACMENEURO,DC=corp,DC=acme-neuro,DC=example
  no_log: false

- name: Remove the GPO and its links
  iconeus.tenant_toolkit.gpo_drive_maps:
    server: 10.40.1.10
    username: Admin@corp.acme-neuro.example
    password: "{{ directory_admin_password }}"
    name: acme-neuro drive maps
    state: absent
"""

RETURN = r"""
guid:
  description: GUID of the GPO (with braces), or null when it does not exist.
  type: str
  returned: always
  sample: "{2B8E6C1A-3D1F-4C55-9F0B-1E6A7C2D9B10}"
dn:
  description: DN of the GPO's groupPolicyContainer.
  type: str
  returned: when the GPO exists
  sample: CN={2B8E6C1A-3D1F-4C55-9F0B-1E6A7C2D9B10},CN=Policies,CN=System,DC=corp,DC=example,DC=com
path:
  description: UNC path of the GPO's SYSVOL folder (gPCFileSysPath).
  type: str
  returned: when the GPO exists
  sample: \\corp.example.com\SysVol\corp.example.com\Policies\{2B8E6C1A-3D1F-4C55-9F0B-1E6A7C2D9B10}
version:
  description: GPO version after the run, and its user and machine halves.
  type: dict
  returned: when the GPO exists
  sample: {number: 131072, user: 2, machine: 0}
drives:
  description: The drive maps the GPO holds after the run.
  type: list
  elements: dict
  returned: always
  sample:
    - letter: H
      path: \\fs-0123.corp.example.com\share\Users\%LogonUser%
      label: Home
      action: update
      reconnect: true
      this_drive: nochange
      all_drives: nochange
links:
  description: The containers the GPO is linked to after the run, with the link's options and order.
  type: list
  elements: dict
  returned: always
  sample:
    - {target: "OU=Users,OU=CORP,DC=corp,DC=example,DC=com", enabled: true, enforced: false, order: 1}
actions:
  description: What was (or in check mode would be) done.
  type: list
  elements: str
  returned: always
  sample: [create GPO, write Drives.xml, bump version to 65536, link to OU=Users,OU=CORP,DC=corp,DC=example,DC=com]
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.connection import (
    ad_argument_spec,
    directory_params,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.errors import AdError
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.gpo import (
    bump_user_version,
    gpt_version,
    merge_extension_names,
    split_version,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.gpo_object import (
    GroupPolicyObject,
    gpo_argument_spec,
    run_gpo_module,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.gpp_drives import (
    DRIVE_MAPS_EXTENSIONS,
    drives_from_xml,
    render_drives_xml,
)

DRIVES_PATH = "User\\Preferences\\Drives\\Drives.xml"


class GpoDriveMaps:
    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.params = module.params
        self.check = module.check_mode
        self.actions: list[str] = []
        self.gpo = GroupPolicyObject(
            directory_params(self.params), self.params["smb_auth_protocol"], self.check, self.actions
        )

    def close(self) -> None:
        self.gpo.close()

    # -- present --
    def present(self) -> dict[str, Any]:
        gpo = self.gpo
        name = self.params["name"]
        where, gpt_text = gpo.ensure(name)
        if not where.created:
            existing_xml = gpo.read_text(where, DRIVES_PATH)
            before: dict[str, Any] = {
                "exists": True,
                "drives": drives_from_xml(existing_xml),
                "links": gpo.link_view(where.guid),
                "version": where.version,
            }
        else:
            existing_xml = None
            before = {"exists": False, "drives": [], "links": [], "version": 0}
        version = where.version
        extensions = where.attribute("gPCUserExtensionNames")

        # Drive maps: compare the rendered file with what is there; version moves only on change.
        drives_after = before["drives"]
        new_version = version
        if self.params["drives"] is not None:
            drives = [self.drive_spec(item) for item in self.params["drives"]]
            wanted_xml = render_drives_xml(name, drives, existing_xml) if drives else None
            if (wanted_xml or None) != (existing_xml or None):
                new_version = bump_user_version(max(version, gpt_version(gpt_text or "")))
                self.actions.append("write Drives.xml" if wanted_xml else "remove Drives.xml")
                self.actions.append(f"bump version to {new_version}")
                new_extensions = merge_extension_names(extensions, DRIVE_MAPS_EXTENSIONS, present=bool(wanted_xml))
                if not self.check:
                    gpo.write_file(where, DRIVES_PATH, wanted_xml.encode("utf-8") if wanted_xml else None)
                    gpo.publish(where, new_version, {"gPCUserExtensionNames": new_extensions})
            elif wanted_xml and merge_extension_names(extensions, DRIVE_MAPS_EXTENSIONS) != extensions:
                self.actions.append("register the drive maps extension")
                if not self.check:
                    gpo.directory.modify(
                        where.dn,
                        {
                            "gPCUserExtensionNames": [
                                ("MODIFY_REPLACE", [merge_extension_names(extensions, DRIVE_MAPS_EXTENSIONS)])
                            ]
                        },
                    )
            drives_after = drives_from_xml(wanted_xml) if wanted_xml else []

        links_after = gpo.ensure_links(where, before["links"], self.params["links"], self.params["purge_links"])
        after = {"exists": True, "drives": drives_after, "links": links_after, "version": new_version}
        return {
            "changed": bool(self.actions),
            "guid": where.guid,
            "dn": where.dn,
            "path": where.file_sys_path,
            "version": {"number": new_version, **split_version(new_version)},
            "drives": drives_after,
            "links": links_after,
            "actions": self.actions,
            "diff": {"before": before, "after": after},
        }

    def drive_spec(self, item: dict[str, Any]) -> dict[str, Any]:
        drive = {key: value for key, value in item.items() if value is not None}
        group = drive.pop("group", None)
        if group:
            try:
                drive["group_sid"] = self.gpo.directory.resolve_sid(group)
            except AdError as err:
                if not (self.check and err.kind == "missing"):
                    raise
                drive["group_sid"] = f"<SID of {group}>"  # check mode: an earlier task would create the group
            drive["group_name"] = group
        return drive

    # -- absent --
    def absent(self) -> dict[str, Any]:
        entry = self.gpo.find(self.params["name"])
        if entry is None:
            empty = {"exists": False, "drives": [], "links": [], "version": 0}
            return {
                "changed": False,
                "guid": None,
                "drives": [],
                "links": [],
                "actions": [],
                "diff": {"before": empty, "after": empty},
            }
        where = self.gpo.locate(entry)
        before = {
            "exists": True,
            "drives": drives_from_xml(self.gpo.read_text(where, DRIVES_PATH)),
            "links": self.gpo.link_view(where.guid),
            "version": where.version,
        }
        self.gpo.delete(entry)
        after = {"exists": False, "drives": [], "links": [], "version": 0}
        return {
            "changed": True,
            "guid": where.guid,
            "drives": [],
            "links": [],
            "actions": self.actions,
            "diff": {"before": before, "after": after},
        }


def main() -> None:
    drive_spec = dict(
        letter=dict(type="str", required=True),
        path=dict(type="str"),
        label=dict(type="str", default=""),
        action=dict(type="str", default="update", choices=["create", "replace", "update", "delete"]),
        reconnect=dict(type="bool", default=True),
        this_drive=dict(type="str", default="nochange", choices=["nochange", "show", "hide"]),
        all_drives=dict(type="str", default="nochange", choices=["nochange", "show", "hide"]),
        group=dict(type="str"),
    )
    argument_spec = dict(
        **ad_argument_spec(),
        **gpo_argument_spec(),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        drives=dict(type="list", elements="dict", options=drive_spec),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    for drive in module.params["drives"] or []:
        if drive["action"] != "delete" and not drive.get("path"):
            module.fail_json(msg=f"drives: {drive['letter']}: path is required unless action is delete")
    run_gpo_module(module, GpoDriveMaps)


if __name__ == "__main__":
    main()
