#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ad_object
version_added: 0.1.0
short_description: Ensure an Active Directory OU, group or user over LDAPS, with delegated rights on OUs
description:
  - Ensures one organizational unit, group or user account in Active Directory, talking LDAP over
    TLS to a domain controller from the controller (pure Python, ldap3); no Windows host or
    PowerShell module is needed.
  - Groups take their members (added, and with O(purge_members) removed); users take their names,
    e-mail, UPN, enabled state and password (set on creation, then according to O(update_password)).
  - O(delegations) grants this user or group rights on OUs as access control entries in the OU's
    security descriptor (C(nTSecurityDescriptor) written with the LDAP_SERVER_SD_FLAGS control, DACL
    only). The trustee's explicit ACEs on each listed OU are made exactly those of the listed rights,
    so a right removed from the list is revoked; other trustees' entries and inherited entries are
    never touched. The AppStream 2.0 service account needs V(create_computer), V(change_password),
    V(reset_password) and V(write_description) on the OU of its computer objects.
  - Works with the delegated C(Admin) account of AWS Managed Microsoft AD inside the directory's own OU.
author: Tenant toolkit maintainers (@tenant-toolkit)
requirements:
  - ldap3
options:
  type:
    description: Kind of object.
    type: str
    required: true
    choices: [ou, group, user]
  name:
    description:
      - Name of the object, its C(OU=) or C(CN=) relative name.
      - OU names used by AppStream 2.0 must not contain spaces.
    type: str
    required: true
  path:
    description:
      - DN of the container the object lives in.
      - Defaults to the domain root for OUs and to C(CN=Users,<domain>) for groups and users (which
        the delegated Admin of AWS Managed Microsoft AD cannot write; give its OU instead).
      - A group or user found elsewhere by O(sam_account_name) is moved here.
    type: str
  state:
    description: Whether the object exists. Deleting an OU fails while it has children.
    type: str
    default: present
    choices: [present, absent]
  description:
    description: The object's description; an empty string clears it, omitted leaves it.
    type: str
  sam_account_name:
    description:
      - Pre-Windows 2000 logon name of a group or user (at most 20 characters for a user); the
        object's identity when looking it up. Defaults to O(name).
    type: str
  scope:
    description: Group scope.
    type: str
    default: global
    choices: [domainlocal, global, universal]
  category:
    description: Group category.
    type: str
    default: security
    choices: [security, distribution]
  members:
    description:
      - Members of a group, by sAMAccountName, UPN, C(DOMAIN\name), DN or SID.
      - Omitted, membership is left alone.
    type: list
    elements: str
  purge_members:
    description: Remove members not listed in O(members).
    type: bool
    default: false
  user_password:
    description:
      - Password of a user (O(password) is the password of the account the module binds with).
      - Never logged nor returned.
    type: str
  update_password:
    description:
      - V(always) sets the password when it differs (checked by binding as the user); V(on_create) only
        sets it when the user is created, so a password the user changed is kept.
    type: str
    default: always
    choices: [always, on_create]
  enabled:
    description: Whether a user account is enabled.
    type: bool
    default: true
  upn:
    description: userPrincipalName of a user, e.g. C(ada@corp.example.com). Defaults to C(<sam>@<domain>) on creation.
    type: str
  email:
    description: E-mail address (C(mail)) of a user.
    type: str
  first_name:
    description: Given name of a user.
    type: str
  last_name:
    description: Surname of a user.
    type: str
  display_name:
    description: Display name of a user.
    type: str
  password_never_expires:
    description: Whether the user's password never expires (service accounts). Omitted, left alone.
    type: bool
  delegations:
    description:
      - Rights this user or group holds on OUs, written as ACEs on each OU.
      - Omitted, delegations are left alone; with O(state=absent), the listed delegations are revoked first.
    type: list
    elements: dict
    suboptions:
      target:
        description: DN of the OU.
        type: str
        required: true
      rights:
        description:
          - The rights, exactly. V(create_computer) and V(delete_computer) cover computer objects in the
            OU and its sub-OUs; V(change_password), V(reset_password) and V(write_description) apply to
            the computer objects below the OU; V(full_control) to everything in it.
        type: list
        elements: str
        required: true
        choices: [create_computer, delete_computer, change_password, reset_password, write_description, full_control]
attributes:
  check_mode:
    details: Reads only; reports the planned creation, changes, membership and ACEs.
  diff_mode:
    details: Attributes, members and the trustee's ACEs (SDDL) before and after; never the password.
notes:
  - Password changes need LDAPS (AD refuses unicodePwd over plain LDAP), which is the only transport used.
  - With O(update_password=always) the check is a bind as the user; a wrong guess counts as a failed
    logon for the account lockout policy.
extends_documentation_fragment:
  - iconeus.tenant_toolkit.ldap_connection
  - iconeus.tenant_toolkit.ldap_connection.ldaps
  - iconeus.tenant_toolkit.attributes
"""

EXAMPLES = r"""
- name: Ensure the OU for AppStream computer objects
  iconeus.tenant_toolkit.ad_object:
    server: "{{ tenant_directory.dns_ip_addrs[0] }}"
    username: Admin@corp.example.com
    password: "{{ directory_admin_password }}"
    ca_file: files/directory-ca.pem
    type: ou
    name: AppStream
    path: OU=Computers,OU=CORP,DC=corp,DC=example,DC=com

- name: Ensure the AppStream service account with exactly the rights AppStream needs on that OU
  iconeus.tenant_toolkit.ad_object:
    server: "{{ tenant_directory.dns_ip_addrs[0] }}"
    username: Admin@corp.example.com
    password: "{{ directory_admin_password }}"
    type: user
    name: svc-appstream
    path: OU=Users,OU=CORP,DC=corp,DC=example,DC=com
    user_password: "{{ appstream_service_password }}"
    password_never_expires: true
    delegations:
      - target: OU=AppStream,OU=Computers,OU=CORP,DC=corp,DC=example,DC=com
        rights: [create_computer, change_password, reset_password, write_description]
  no_log: true

- name: Ensure the tenant's users group has exactly these members
  iconeus.tenant_toolkit.ad_object:
    server: 10.40.1.10
    username: Admin@corp.example.com
    password: "{{ directory_admin_password }}"
    type: group
    name: acme-users
    path: OU=Users,OU=CORP,DC=corp,DC=example,DC=com
    members: [ada, grace]
    purge_members: true
"""

RETURN = r"""
dn:
  description: DN of the object (planned DN in check mode when it would be created).
  type: str
  returned: always
  sample: CN=svc-appstream,OU=Users,OU=CORP,DC=corp,DC=example,DC=com
sid:
  description: objectSid of a group or user; null for OUs and for objects not created yet.
  type: str
  returned: always
  sample: S-1-5-21-1004336348-1177238915-682003330-1105
guid:
  description: objectGUID of the object; null when it does not exist (yet).
  type: str
  returned: always
  sample: 8d3bd6e1-8f0d-4d5d-9c43-7a7d2a1e7b51
created:
  description: Whether the object was (or in check mode would be) created.
  type: bool
  returned: always
  sample: false
object:
  description: The managed attributes after the run (no password).
  type: dict
  returned: always
  sample: {name: svc-appstream, sam_account_name: svc-appstream, enabled: true, upn: svc-appstream@corp.example.com}
delegations:
  description: For each managed OU, the trustee's explicit ACEs after the run, in SDDL.
  type: list
  elements: dict
  returned: when O(delegations) is given
  sample:
    - target: OU=AppStream,OU=Computers,OU=CORP,DC=corp,DC=example,DC=com
      aces: ["(OA;CI;CC;bf967a86-0de6-11d0-a285-00aa003049e2;;S-1-5-21-1-2-3-1105)"]
actions:
  description: What was (or in check mode would be) done.
  type: list
  elements: str
  returned: always
  sample: [create, set password, grant rights on OU=AppStream,OU=Computers,OU=CORP,DC=corp,DC=example,DC=com]
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.connection import (
    ad_argument_spec,
    directory_params,
    fail,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.delegation import delegation_aces
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.dn import escape_filter, escape_rdn, same_dn
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.errors import AdError
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.ldap import Directory, first_value
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.security_descriptor import (
    SecurityDescriptor,
    ace_to_sddl,
    explicit_aces_of,
    guid_from_bytes,
    set_explicit_aces_of,
    sid_from_bytes,
)

UAC_ACCOUNTDISABLE = 0x0002
UAC_NORMAL_ACCOUNT = 0x0200
UAC_DONT_EXPIRE_PASSWORD = 0x10000
GROUP_SCOPES = {"global": 0x2, "domainlocal": 0x4, "universal": 0x8}
GROUP_SECURITY = 0x80000000
USER_ATTRIBUTES = {
    "first_name": "givenName",
    "last_name": "sn",
    "display_name": "displayName",
    "email": "mail",
    "upn": "userPrincipalName",
    "description": "description",
}
READ_ATTRIBUTES = [
    "objectGUID",
    "objectSid",
    "sAMAccountName",
    "userAccountControl",
    "groupType",
    "member",
    "description",
    "givenName",
    "sn",
    "displayName",
    "mail",
    "userPrincipalName",
    "name",
]


def group_type(scope: str, category: str) -> int:
    value = GROUP_SCOPES[scope] | (GROUP_SECURITY if category == "security" else 0)
    return value - (1 << 32) if value & 0x80000000 else value  # AD stores a signed 32-bit integer


def describe_group_type(value: int) -> dict[str, str]:
    value &= 0xFFFFFFFF
    scope = next((name for name, bit in GROUP_SCOPES.items() if value & bit), "global")
    return {"scope": scope, "category": "security" if value & GROUP_SECURITY else "distribution"}


class AdObject:
    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.params = module.params
        self.check = module.check_mode
        self.actions: list[str] = []
        self.directory = Directory(directory_params(self.params))
        self.kind = self.params["type"]
        default_path = self.directory.domain_dn if self.kind == "ou" else f"CN=Users,{self.directory.domain_dn}"
        self.path = self.params["path"] or default_path
        rdn = "OU" if self.kind == "ou" else "CN"
        self.rdn = f"{rdn}={escape_rdn(self.params['name'])}"
        self.dn = f"{self.rdn},{self.path}"
        self.sam = self.params["sam_account_name"] or self.params["name"]
        if self.kind == "user" and len(self.sam) > 20:
            raise AdError(f"sam_account_name {self.sam!r} is longer than 20 characters", "invalid")

    # -- reading --
    def find(self) -> dict[str, Any] | None:
        if self.kind == "ou":
            return self.directory.get(self.dn, READ_ATTRIBUTES)
        object_class = "group" if self.kind == "group" else "user"
        found = self.directory.search(
            self.directory.domain_dn,
            f"(&(objectCategory={'group' if self.kind == 'group' else 'person'})(objectClass={object_class})"
            f"(sAMAccountName={escape_filter(self.sam)}))",
            READ_ATTRIBUTES,
        )
        return found[0] if found else None

    def view(self, entry: dict[str, Any] | None) -> dict[str, Any]:
        """The managed attributes of an entry, in the module's vocabulary."""
        if entry is None:
            return {}
        attributes = entry["attributes"]
        view: dict[str, Any] = {
            "name": first_value(attributes.get("name")),
            "dn": entry["dn"],
            "description": first_value(attributes.get("description")),
        }
        if self.kind == "group":
            view.update(describe_group_type(int(first_value(attributes.get("groupType")) or 0)))
            view["sam_account_name"] = first_value(attributes.get("sAMAccountName"))
            view["members"] = sorted(str(member) for member in attributes.get("member") or [])
        elif self.kind == "user":
            uac = int(first_value(attributes.get("userAccountControl")) or 0)
            view["sam_account_name"] = first_value(attributes.get("sAMAccountName"))
            view["enabled"] = not uac & UAC_ACCOUNTDISABLE
            view["password_never_expires"] = bool(uac & UAC_DONT_EXPIRE_PASSWORD)
            for option, attribute in USER_ATTRIBUTES.items():
                view[option] = first_value(attributes.get(attribute))
        return view

    # -- present --
    def present(self) -> dict[str, Any]:
        entry = self.find()
        before = self.view(entry)
        created = entry is None
        if created:
            self.create()
            entry = None if self.check else self.find()
        else:
            entry = self.move_if_needed(entry)
            self.update_attributes(entry)
            if self.kind == "user":
                self.update_user(entry)
        if self.kind == "group" and self.params["members"] is not None:
            self.update_members(entry)
        sid = self.sid_of(entry)
        delegations = self.update_delegations(sid) if self.params["delegations"] is not None else None
        after_entry = entry if self.check or not self.actions else self.find()
        after = self.view(after_entry) if after_entry else self.planned_view()
        if self.check and entry is not None:
            after = self.planned_view(before)
        result: dict[str, Any] = {
            "changed": bool(self.actions),
            "created": created,
            "dn": after.get("dn", self.dn),
            "sid": sid,
            "guid": self.guid_of(after_entry),
            "object": after,
            "actions": self.actions,
            "diff": {"before": before, "after": after},
        }
        if delegations is not None:
            result["delegations"] = delegations["after"]
            result["diff"]["before"]["delegations"] = delegations["before"]
            result["diff"]["after"]["delegations"] = delegations["after"]
        return result

    def planned_view(self, before: dict[str, Any] | None = None) -> dict[str, Any]:
        """What the object will look like (check mode)."""
        view = dict(before or {"name": self.params["name"], "dn": self.dn})
        view["dn"] = self.dn
        if self.params["description"] is not None:
            view["description"] = self.params["description"] or None
        if self.kind == "group":
            view.update(scope=self.params["scope"], category=self.params["category"], sam_account_name=self.sam)
            if self.params["members"] is not None:
                wanted = [self.member_dn(member) or member for member in self.params["members"]]
                current = view.get("members") or []
                kept = current if not self.params["purge_members"] else []
                merged = {item.lower(): item for item in [*kept, *wanted]}
                view["members"] = sorted(merged.values())
        elif self.kind == "user":
            view.update(sam_account_name=self.sam, enabled=self.params["enabled"])
            if self.params["password_never_expires"] is not None:
                view["password_never_expires"] = self.params["password_never_expires"]
            for option in USER_ATTRIBUTES:
                if self.params[option] is not None:
                    view[option] = self.params[option] or None
            if not before and not view.get("upn"):
                view["upn"] = f"{self.sam}@{self.directory.domain}"
        return view

    def create(self) -> None:
        self.actions.append("create")
        if self.check:
            return
        if self.kind == "ou":
            attributes = {"description": self.params["description"]} if self.params["description"] else {}
            self.directory.add(self.dn, ["top", "organizationalUnit"], attributes)
            return
        if self.kind == "group":
            attributes = {
                "sAMAccountName": self.sam,
                "groupType": str(group_type(self.params["scope"], self.params["category"])),
            }
            if self.params["description"]:
                attributes["description"] = self.params["description"]
            self.directory.add(self.dn, ["top", "group"], attributes)
            return
        attributes = {
            "sAMAccountName": self.sam,
            "userPrincipalName": self.params["upn"] or f"{self.sam}@{self.directory.domain}",
            "userAccountControl": str(UAC_NORMAL_ACCOUNT | UAC_ACCOUNTDISABLE),
        }
        for option, attribute in USER_ATTRIBUTES.items():
            if self.params[option] and attribute != "userPrincipalName":
                attributes[attribute] = self.params[option]
        self.directory.add(self.dn, ["top", "person", "organizationalPerson", "user"], attributes)
        if self.params["user_password"]:
            self.set_password(self.dn)
        uac = UAC_NORMAL_ACCOUNT | (0 if self.params["enabled"] else UAC_ACCOUNTDISABLE)
        if self.params["password_never_expires"]:
            uac |= UAC_DONT_EXPIRE_PASSWORD
        if uac != UAC_NORMAL_ACCOUNT | UAC_ACCOUNTDISABLE:
            self.directory.modify(self.dn, {"userAccountControl": [("MODIFY_REPLACE", [str(uac)])]})

    def move_if_needed(self, entry: dict[str, Any]) -> dict[str, Any]:
        if same_dn(entry["dn"], self.dn):
            return entry
        self.actions.append(f"move from {entry['dn']}")
        if not self.check:
            self.directory.move(entry["dn"], self.rdn, self.path)
            moved = self.find()
            return moved or entry
        return entry

    def update_attributes(self, entry: dict[str, Any]) -> None:
        wanted: dict[str, str | None] = {}
        if self.params["description"] is not None:
            wanted["description"] = self.params["description"] or None
        if self.kind == "user":
            for option, attribute in USER_ATTRIBUTES.items():
                if self.params[option] is not None and option != "description":
                    wanted[attribute] = self.params[option] or None
        changes: dict[str, Any] = {}
        for attribute, value in wanted.items():
            current = first_value(entry["attributes"].get(attribute))
            if (current or None) != value:
                changes[attribute] = [("MODIFY_REPLACE", [value] if value else [])]
        if self.kind == "group":
            current_type = int(first_value(entry["attributes"].get("groupType")) or 0)
            wanted_type = group_type(self.params["scope"], self.params["category"])
            if current_type != wanted_type:
                changes["groupType"] = [("MODIFY_REPLACE", [str(wanted_type)])]
        if changes:
            self.actions.append("update " + ", ".join(sorted(changes)))
            if not self.check:
                self.directory.modify(entry["dn"], changes)

    def update_user(self, entry: dict[str, Any]) -> None:
        uac = int(first_value(entry["attributes"].get("userAccountControl")) or UAC_NORMAL_ACCOUNT)
        wanted = uac & ~UAC_ACCOUNTDISABLE if self.params["enabled"] else uac | UAC_ACCOUNTDISABLE
        if self.params["password_never_expires"] is not None:
            wanted = (
                wanted | UAC_DONT_EXPIRE_PASSWORD
                if self.params["password_never_expires"]
                else wanted & ~UAC_DONT_EXPIRE_PASSWORD
            )
        password = self.params["user_password"]
        if (
            password
            and self.params["update_password"] == "always"  # noqa: S105 - an option value, not a secret
            and not self.directory.check_password(entry["dn"], password)
        ):
            self.actions.append("set password")
            if not self.check:
                self.set_password(entry["dn"])
        if wanted != uac:
            self.actions.append(
                "enable"
                if uac & UAC_ACCOUNTDISABLE and not wanted & UAC_ACCOUNTDISABLE
                else "update userAccountControl"
            )
            if not self.check:
                self.directory.modify(entry["dn"], {"userAccountControl": [("MODIFY_REPLACE", [str(wanted)])]})

    def set_password(self, dn: str) -> None:
        encoded = f'"{self.params["user_password"]}"'.encode("utf-16-le")
        self.directory.modify(dn, {"unicodePwd": [("MODIFY_REPLACE", [encoded])]})

    # -- group members --
    def member_dn(self, identity: str) -> str | None:
        found = self.directory.find_principal(identity, ["distinguishedName"])
        return found["dn"] if found else None

    def update_members(self, entry: dict[str, Any] | None) -> None:
        wanted: dict[str, str] = {}
        for identity in self.params["members"]:
            dn = self.member_dn(identity)
            if dn is None and self.check:
                dn = identity  # check mode: an earlier task would create it
            if dn is None:
                raise AdError(
                    f"member {identity!r} of {self.params['name']} does not exist in {self.directory.domain}", "missing"
                )
            wanted[dn.lower()] = dn
        current = {str(dn).lower(): str(dn) for dn in ((entry or {}).get("attributes", {}).get("member") or [])}
        add = [dn for key, dn in wanted.items() if key not in current]
        remove = [dn for key, dn in current.items() if key not in wanted] if self.params["purge_members"] else []
        target = entry["dn"] if entry else self.dn
        if add:
            self.actions.append(f"add members {', '.join(add)}")
        if remove:
            self.actions.append(f"remove members {', '.join(remove)}")
        if self.check or not (add or remove):
            return
        changes: dict[str, Any] = {"member": []}
        if add:
            changes["member"].append(("MODIFY_ADD", add))
        if remove:
            changes["member"].append(("MODIFY_DELETE", remove))
        self.directory.modify(target, changes)

    # -- delegations --
    @staticmethod
    def sid_of(entry: dict[str, Any] | None) -> str | None:
        raw = (entry or {}).get("raw", {}).get("objectSid")
        return sid_from_bytes(raw[0]) if raw else None

    @staticmethod
    def guid_of(entry: dict[str, Any] | None) -> str | None:
        raw = (entry or {}).get("raw", {}).get("objectGUID")
        return guid_from_bytes(raw[0]) if raw else None

    def update_delegations(self, sid: str | None, revoke: bool = False) -> dict[str, list[dict[str, Any]]]:
        if self.kind == "ou":
            raise AdError("delegations are granted to users and groups, not to OUs", "invalid")
        before, after = [], []
        trustee = sid or f"<SID of {self.sam}>"
        domain_sid = self.directory.domain_sid
        for delegation in self.params["delegations"]:
            target = delegation["target"]
            try:
                sd = self.directory.read_sd(target)
            except AdError as err:
                if not (self.check and err.kind == "missing"):
                    raise
                sd = SecurityDescriptor(dacl=[])  # check mode: an earlier task would create the OU
            current = explicit_aces_of(sd, sid) if sid else []
            wanted = [] if revoke else delegation_aces(sid or "S-1-0-0", delegation["rights"])
            before.append({"target": target, "aces": [ace_to_sddl(ace, domain_sid) for ace in current]})
            if sid is None:
                # Check mode for an object that does not exist yet: show the ACEs with a placeholder.
                shown = [ace_to_sddl(ace, domain_sid).replace("S-1-0-0", trustee) for ace in wanted]
                after.append({"target": target, "aces": shown})
                if wanted:
                    self.actions.append(f"grant {', '.join(delegation['rights'])} on {target}")
                continue
            updated, changed = set_explicit_aces_of(sd, sid, wanted)
            after.append(
                {"target": target, "aces": [ace_to_sddl(ace, domain_sid) for ace in explicit_aces_of(updated, sid)]}
            )
            if changed:
                verb = "revoke rights on" if revoke else f"grant exactly {', '.join(delegation['rights'])} on"
                self.actions.append(f"{verb} {target}")
                if not self.check:
                    self.directory.write_dacl(target, updated)
        return {"before": before, "after": after}

    # -- absent --
    def absent(self) -> dict[str, Any]:
        entry = self.find()
        if entry is None:
            return {
                "changed": False,
                "created": False,
                "dn": self.dn,
                "sid": None,
                "guid": None,
                "object": {},
                "actions": [],
                "diff": {"before": {}, "after": {}},
            }
        before = self.view(entry)
        sid = self.sid_of(entry)
        result: dict[str, Any] = {}
        if self.params["delegations"] and sid:
            revoked = self.update_delegations(sid, revoke=True)
            result["delegations"] = revoked["after"]
        if self.kind == "ou":
            children = self.directory.search(entry["dn"], "(objectClass=*)", ["distinguishedName"], scope="LEVEL")
            if children:
                raise AdError(f"{entry['dn']} is not empty ({len(children)} objects); remove them first", "not_empty")
        self.actions.append("delete")
        if not self.check:
            self.directory.delete(entry["dn"])
        return {
            "changed": True,
            "created": False,
            "dn": entry["dn"],
            "sid": sid,
            "guid": self.guid_of(entry),
            "object": {},
            "actions": self.actions,
            "diff": {"before": before, "after": {}},
            **result,
        }

    def close(self) -> None:
        self.directory.close()


def main() -> None:
    delegation_spec = dict(
        target=dict(type="str", required=True),
        rights=dict(
            type="list",
            elements="str",
            required=True,
            choices=[
                "create_computer",
                "delete_computer",
                "change_password",
                "reset_password",
                "write_description",
                "full_control",
            ],
        ),
    )
    argument_spec = dict(
        **ad_argument_spec(),
        user_password=dict(type="str", no_log=True),
        type=dict(type="str", required=True, choices=["ou", "group", "user"]),
        name=dict(type="str", required=True),
        path=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        description=dict(type="str"),
        sam_account_name=dict(type="str"),
        scope=dict(type="str", default="global", choices=["domainlocal", "global", "universal"]),
        category=dict(type="str", default="security", choices=["security", "distribution"]),
        members=dict(type="list", elements="str"),
        purge_members=dict(type="bool", default=False),
        update_password=dict(type="str", default="always", choices=["always", "on_create"], no_log=False),
        enabled=dict(type="bool", default=True),
        upn=dict(type="str"),
        email=dict(type="str"),
        first_name=dict(type="str"),
        last_name=dict(type="str"),
        display_name=dict(type="str"),
        password_never_expires=dict(type="bool", no_log=False),
        delegations=dict(type="list", elements="dict", options=delegation_spec),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    runner = None
    try:
        runner = AdObject(module)
        result = runner.present() if module.params["state"] == "present" else runner.absent()
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
