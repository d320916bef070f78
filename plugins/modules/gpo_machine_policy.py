#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gpo_machine_policy
version_added: 0.2.0
short_description: "Ensure a GPO's computer policy: local group members, registry values, firewall rules, services"
description:
  - Ensures a Group Policy Object, found by its display name, whose computer side holds exactly the given
    settings, and links it to the given containers. Created, repaired, versioned and linked like the
    GPOs of M(iconeus.tenant_toolkit.gpo_drive_maps) (same code).
  - O(local_groups) become Group Policy Preferences Local Users and Groups items in
    C(Machine\Preferences\Groups\Groups.xml) ([MS-GPPREF] 2.2.1.11), domain users or groups added to a
    local group of the computers, by default removed again when the GPO no longer applies to them.
  - O(registry_values) and O(firewall_rules) are written to C(Machine\Registry.pol) in the PReg format
    ([MS-GPREG] 2.2.1); each firewall rule is a value under
    C(Software\Policies\Microsoft\WindowsFirewall\FirewallRules) in the rule grammar of [MS-GPFAS] 2.2.2.19.
  - O(services) set the start mode of system services in the security template
    C(Machine\Microsoft\Windows NT\SecEdit\GptTmpl.inf) ([MS-GPSB] 2.2.8 C([Service General Setting])).
  - When a file changes, the module writes it, registers or removes the matching client-side extensions
    in C(gPCMachineExtensionNames) and bumps the computer half (lower 16 bits) of the GPO version in
    C(GPT.INI) and C(versionNumber), files first ([MS-GPOL] 3.3.4.5 and 3.3.5.4). Nothing is written when
    nothing changes; every file is deterministic (stable item ids and change stamps, values sorted).
  - Each option owns its part of the GPO exactly (items not listed are removed); an omitted option leaves
    that part as it is; an empty list removes it.
  - Works against any AD DC with LDAPS and SMB (AWS Managed Microsoft AD with its delegated C(Admin), a
    Samba AD DC). Pure Python on the controller (ldap3, smbprotocol); needs TCP 636 and 445 to the DC.
author: Tenant toolkit maintainers (@tenant-toolkit)
requirements:
  - ldap3
  - smbprotocol
options:
  state:
    description:
      - V(present) ensures the GPO, its computer-side settings and its links.
      - V(absent) removes every link to the GPO, then the GPO and its SYSVOL folder.
    type: str
    default: present
    choices: [present, absent]
  local_groups:
    description:
      - Local groups of the computers and the domain principals the GPO adds to them (GPP Update action,
        members not listed here are left alone on the computer).
      - Omit to leave C(Groups.xml) as it is; an empty list removes it.
    type: list
    elements: dict
    suboptions:
      group:
        description: Name of the local group, as GPMC shows it (C(Administrators (built-in))).
        type: str
        required: true
      group_sid:
        description:
          - SID of the local group; it wins over the name on the client, so localised names do not matter.
          - V(S-1-5-32-544) is the built-in Administrators group.
        type: str
      members:
        description:
          - Domain users or groups added to the local group, as C(DOMAIN\name), a sAMAccountName, a UPN or a
            SID. Each is resolved to its SID in the directory (it must exist, except in check mode).
        type: list
        elements: str
        default: []
      remove_when_not_applied:
        description:
          - GPMC's C(Remove this item when it is no longer applied) (C(removePolicy)), the client undoes the
            membership once the GPO stops applying to the computer (unlinked, computer moved out of the OU).
        type: bool
        default: true
      description:
        description: Description of the item.
        type: str
        default: ""
  registry_values:
    description:
      - Registry policy values of the computers (HKLM), in C(Registry.pol) next to the firewall rules.
      - Omit to leave the non-firewall values of C(Registry.pol) as they are; an empty list removes them.
    type: list
    elements: dict
    suboptions:
      key:
        description: Key under HKLM, without the hive, e.g. C(Software\Policies\Microsoft\Windows\WinRM\Service).
        type: str
        required: true
      name:
        description: Value name (1 to 259 printable ASCII characters).
        type: str
        required: true
      type:
        description: Registry type of the value.
        type: str
        default: dword
        choices: [string, expand_string, binary, dword, dword_big_endian, multi_string, qword]
      data:
        description:
          - The value; an integer for the integer types, a string, a list of strings for V(multi_string),
            hexadecimal digits for V(binary).
        type: raw
        required: true
  firewall_rules:
    description:
      - Windows Defender Firewall rules of the computers, in C(Registry.pol).
      - Omit to leave the GPO's firewall rules as they are; an empty list removes them.
    type: list
    elements: dict
    suboptions:
      id:
        description: Rule id (the registry value name), unique in the GPO.
        type: str
        required: true
      name:
        description: Rule name shown in the firewall console; defaults to O(firewall_rules[].id).
        type: str
      description:
        description: Rule description.
        type: str
        default: ""
      group:
        description: Rule group shown in the firewall console (the rule's C(EmbedCtxt)).
        type: str
        default: ""
      action:
        description: Allow or block the matching traffic.
        type: str
        default: allow
        choices: [allow, block]
      direction:
        description: Inbound or outbound traffic.
        type: str
        default: in
        choices: [in, out]
      protocol:
        description: V(tcp), V(udp) or an IP protocol number.
        type: str
        default: tcp
      local_ports:
        description: Local ports of the rule (TCP or UDP); empty means every port.
        type: list
        elements: int
        default: []
      remote_addresses:
        description:
          - IPv4 hosts or networks (CIDR) the rule admits; empty means any address. V(0.0.0.0/0) is refused.
        type: list
        elements: str
        default: []
      profiles:
        description: Firewall profiles the rule applies in; empty means every profile.
        type: list
        elements: str
        choices: [domain, private, public]
        default: []
      enabled:
        description: Whether the rule is active.
        type: bool
        default: true
  services:
    description:
      - Start mode of system services, in the GPO's security template. Other security settings of the
        template (added in GPMC) are kept.
      - Omit to leave the service settings as they are; an empty list removes them.
    type: list
    elements: dict
    suboptions:
      name:
        description: Service name (C(WinRM)), not its display name.
        type: str
        required: true
      start_mode:
        description: Start mode the computers give the service.
        type: str
        required: true
        choices: [automatic, manual, disabled]
attributes:
  check_mode:
    details: Reads only; reports the planned GPO, files, version and links.
  diff_mode:
    details: Shows the local groups, registry values, firewall rules, services, version and links before and after.
notes:
  - The computer version only moves when a file changes, so computers reprocess the policy only then.
  - A failure half way is repaired by the next run (missing SYSVOL folder, ACL, C(GPT.INI)).
  - Computers apply the GPO at their next policy refresh (start, then every 90 minutes or so, or C(gpupdate)).
seealso:
  - module: iconeus.tenant_toolkit.gpo_drive_maps
  - name: "[MS-GPREG] Registry Policy Message Syntax"
    description: The Registry.pol format.
    link: https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-gpreg/5c092c22-bf6b-4e7f-b180-b20743d368f5
  - name: "[MS-GPFAS] Firewall Rule Grammar"
    description: The firewall rule strings.
    link: https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-gpfas/2efe0b76-7b4a-41ff-9050-1023f8196d16
extends_documentation_fragment:
  - iconeus.tenant_toolkit.gpo
  - iconeus.tenant_toolkit.ldap_connection
  - iconeus.tenant_toolkit.ldap_connection.ldaps
  - iconeus.tenant_toolkit.attributes
"""

EXAMPLES = r"""
- name: Ensure the image builders' access GPO, linked to their OU only
  iconeus.tenant_toolkit.gpo_machine_policy:
    server: "{{ tenant_directory.dns_ip_addrs[0] }}"
    domain: corp.acme-neuro.example
    username: Admin@corp.acme-neuro.example
    password: "{{ directory_admin_password }}"
    ca_file: files/directory-ca.pem
    name: acme-neuro builder access
    local_groups:
      - group: Administrators (built-in)
        group_sid: S-1-5-32-544
        members: ['ACMENEURO\acme-neuro-image-build']
    registry_values:
      - {key: 'Software\Policies\Microsoft\Windows\WinRM\Service', name: AllowAutoConfig, type: dword, data: 1}
      - {key: 'Software\Policies\Microsoft\Windows\WinRM\Service', name: IPv4Filter, type: string, data: '*'}
    firewall_rules:
      - id: TenantToolkit-WinRM-HTTP-In
        name: WinRM from the image controller
        local_ports: [5985]
        remote_addresses: [10.9.0.0/24]
    services:
      - {name: WinRM, start_mode: automatic}
    links:
      - target: OU=ImageBuilders,OU=ACMENEURO,DC=corp,DC=acme-neuro,DC=example
    purge_links: true

- name: Remove the GPO and its links
  iconeus.tenant_toolkit.gpo_machine_policy:
    server: 10.40.1.10
    username: Admin@corp.acme-neuro.example
    password: "{{ directory_admin_password }}"
    name: acme-neuro builder access
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
  sample: {number: 1, user: 0, machine: 1}
local_groups:
  description: The local group items after the run, members with their SIDs.
  type: list
  elements: dict
  returned: always
  sample:
    - group: Administrators (built-in)
      group_sid: S-1-5-32-544
      action: update
      members: [{name: 'CORP\acme-image-build', sid: S-1-5-21-1-2-3-1131}]
      remove_when_not_applied: true
      description: ""
registry_values:
  description: The registry policy values after the run (firewall rules apart).
  type: list
  elements: dict
  returned: always
  sample: [{key: 'Software\Policies\Microsoft\Windows\WinRM\Service', name: AllowAutoConfig, type: dword, data: 1}]
firewall_rules:
  description: The firewall rules after the run.
  type: list
  elements: dict
  returned: always
  sample:
    - id: TenantToolkit-WinRM-HTTP-In
      name: WinRM from the image controller
      action: allow
      direction: in
      protocol: 6
      local_ports: [5985]
      remote_addresses: [10.9.0.0/24]
      profiles: []
      description: ""
      group: ""
      enabled: true
services:
  description: The service start modes after the run.
  type: list
  elements: dict
  returned: always
  sample: [{name: WinRM, start_mode: automatic}]
links:
  description: The containers the GPO is linked to after the run.
  type: list
  elements: dict
  returned: always
  sample:
    - {target: "OU=ImageBuilders,OU=CORP,DC=corp,DC=example,DC=com", enabled: true, enforced: false, order: 1}
actions:
  description: What was (or in check mode would be) done.
  type: list
  elements: str
  returned: always
  sample:
    - create GPO
    - write Machine\Registry.pol
    - bump version to 1
    - link to OU=ImageBuilders,OU=CORP,DC=corp,DC=example,DC=com
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.connection import (
    ad_argument_spec,
    directory_params,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.errors import AdError
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.firewall_rule import (
    firewall_policy_values,
    normalise_rule,
    rules_from_policy_values,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.gpo import (
    bump_machine_version,
    gpt_version,
    merge_extension_names,
    split_version,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.gpo_object import (
    GpoLocation,
    GroupPolicyObject,
    gpo_argument_spec,
    run_gpo_module,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.gpp_groups import (
    LOCAL_GROUPS_EXTENSIONS,
    groups_from_xml,
    normalise_group,
    render_groups_xml,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.registry_pol import (
    REGISTRY_MACHINE_EXTENSIONS,
    canonical_order,
    decode_registry_pol,
    encode_registry_pol,
    policy_value,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ad.security_template import (
    SECURITY_MACHINE_EXTENSIONS,
    TEMPLATE_PATH,
    decode_template,
    encode_template,
    normalise_services,
    other_sections,
    render_template,
    services_from_template,
)

# [MS-GPPREF] 2.1 (ms-gppref/d315342d-41c0-47e3-ab96-7039eb91f5b4): "<gpo path>\Preferences\Groups\Groups.xml",
# the computer-scoped GPO path ending in "\Machine".
GROUPS_PATH = "Machine\\Preferences\\Groups\\Groups.xml"
# [MS-GPREG] 2.2.1: "<gpo path>\registry.pol" with the computer-scoped GPO path.
REGISTRY_PATH = "Machine\\Registry.pol"
# The Null SID ([MS-DTYP] 2.4.2.4, S-1-0-0) stands for a member that does not exist yet, in check mode only.
UNRESOLVED_SID = "S-1-0-0"


class Content:
    """One file of the GPO's computer side: what is there, what is wanted, and its extension."""

    def __init__(self, path: str, extensions: str, current: bytes | None, wanted: bytes | None, keep: bool) -> None:
        self.path = path
        self.extensions = extensions
        self.current = current
        self.wanted = current if keep else wanted
        self.managed = not keep

    @property
    def changed(self) -> bool:
        return self.managed and (self.current or None) != (self.wanted or None)

    @property
    def present(self) -> bool:
        return bool(self.wanted)


class GpoMachinePolicy:
    def __init__(self, module: AnsibleModule) -> None:
        self.params = module.params
        self.check = module.check_mode
        self.actions: list[str] = []
        self.gpo = GroupPolicyObject(
            directory_params(self.params), self.params["smb_auth_protocol"], self.check, self.actions
        )

    def close(self) -> None:
        self.gpo.close()

    # -- what the GPO holds, in the module's vocabulary --
    @staticmethod
    def view(groups_xml: bytes | None, registry: bytes | None, template: bytes | None) -> dict[str, Any]:
        rules, others = rules_from_policy_values(decode_registry_pol(registry))
        return {
            "local_groups": groups_from_xml(groups_xml.decode("utf-8-sig") if groups_xml else None),
            "registry_values": [value.as_dict() for value in canonical_order(others)],
            "firewall_rules": [rule.as_dict() for rule in sorted(rules, key=lambda rule: rule.rule_id.lower())],
            "services": services_from_template(decode_template(template)),
        }

    # -- wanted content --
    def groups_content(self, current: bytes | None) -> Content:
        items = self.params["local_groups"]
        if items is None:
            return Content(GROUPS_PATH, LOCAL_GROUPS_EXTENSIONS, current, None, keep=True)
        groups = []
        for item in items:
            members = [{"name": member, "sid": self.resolve(member)} for member in item["members"]]
            groups.append({**item, "members": members})
        existing = current.decode("utf-8-sig") if current else None
        xml = render_groups_xml(self.params["name"], groups, existing) if groups else None
        return Content(GROUPS_PATH, LOCAL_GROUPS_EXTENSIONS, current, xml.encode("utf-8") if xml else None, keep=False)

    def registry_content(self, current: bytes | None) -> Content:
        if self.params["registry_values"] is None and self.params["firewall_rules"] is None:
            return Content(REGISTRY_PATH, REGISTRY_MACHINE_EXTENSIONS, current, None, keep=True)
        rules, others = rules_from_policy_values(decode_registry_pol(current))
        if self.params["registry_values"] is not None:
            others = [
                policy_value(item["key"], item["name"], item["type"], item["data"])
                for item in self.params["registry_values"]
            ]
        if self.params["firewall_rules"] is not None:
            rules = [normalise_rule(item) for item in self.params["firewall_rules"]]
        keys = [(value.key.lower(), value.name.lower()) for value in others]
        repeated = sorted({f"{key}\\{name}" for key, name in keys if keys.count((key, name)) > 1})
        if repeated:
            raise ValueError(f"registry_values: each value may appear once, repeated: {', '.join(repeated)}")
        wanted_values = canonical_order(others + firewall_policy_values(rules))
        if current is not None and canonical_order(decode_registry_pol(current)) == wanted_values:
            return Content(REGISTRY_PATH, REGISTRY_MACHINE_EXTENSIONS, current, current, keep=False)
        data = encode_registry_pol(wanted_values) if wanted_values else None
        return Content(REGISTRY_PATH, REGISTRY_MACHINE_EXTENSIONS, current, data, keep=False)

    def template_content(self, current: bytes | None) -> Content:
        items = self.params["services"]
        if items is None:
            return Content(TEMPLATE_PATH, SECURITY_MACHINE_EXTENSIONS, current, None, keep=True)
        services = normalise_services(items)
        existing = decode_template(current)
        if not services and not existing:
            return Content(TEMPLATE_PATH, SECURITY_MACHINE_EXTENSIONS, current, None, keep=False)
        text = render_template(services, existing)
        # Without services the file stays only for the settings someone else put in it.
        data = encode_template(text) if services or other_sections(existing) else None
        return Content(TEMPLATE_PATH, SECURITY_MACHINE_EXTENSIONS, current, data, keep=False)

    def resolve(self, member: str) -> str:
        try:
            return self.gpo.directory.resolve_sid(member)
        except AdError as err:
            if self.check and err.kind == "missing":
                return UNRESOLVED_SID  # an earlier task of the same run would create it
            raise

    def validate(self) -> None:
        """Every option checked against its format before anything is read or written."""
        for item in self.params["local_groups"] or []:
            normalise_group({**item, "members": []})
        for item in self.params["registry_values"] or []:
            policy_value(item["key"], item["name"], item["type"], item["data"])
        firewall_policy_values([normalise_rule(item) for item in self.params["firewall_rules"] or []])
        normalise_services(self.params["services"] or [])

    # -- present --
    def present(self) -> dict[str, Any]:
        self.validate()
        gpo = self.gpo
        where, gpt_text = gpo.ensure(self.params["name"])
        read = not where.created
        current = {
            GROUPS_PATH: gpo.read_bytes(where, GROUPS_PATH) if read else None,
            REGISTRY_PATH: gpo.read_bytes(where, REGISTRY_PATH) if read else None,
            TEMPLATE_PATH: gpo.read_bytes(where, TEMPLATE_PATH) if read else None,
        }
        links_before = gpo.link_view(where.guid) if read else []
        before = {
            "exists": read,
            **self.view(current[GROUPS_PATH], current[REGISTRY_PATH], current[TEMPLATE_PATH]),
            "links": links_before,
            "version": where.version,
        }
        contents = [
            self.groups_content(current[GROUPS_PATH]),
            self.registry_content(current[REGISTRY_PATH]),
            self.template_content(current[TEMPLATE_PATH]),
        ]
        extensions = where.attribute("gPCMachineExtensionNames")
        wanted_extensions = extensions
        for content in contents:
            if content.managed:
                wanted_extensions = merge_extension_names(wanted_extensions, content.extensions, content.present)
        version = where.version
        if any(content.changed for content in contents):
            version = bump_machine_version(max(where.version, gpt_version(gpt_text or "")))
            for content in contents:
                if content.changed:
                    self.actions.append(f"{'write' if content.present else 'remove'} {content.path}")
            self.actions.append(f"bump version to {version}")
            if not self.check:
                self.write(where, contents, version, wanted_extensions)
        elif wanted_extensions != extensions:
            self.actions.append("register the client-side extensions of the computer settings")
            if not self.check:
                replacement = [wanted_extensions] if wanted_extensions else []
                gpo.directory.modify(where.dn, {"gPCMachineExtensionNames": [("MODIFY_REPLACE", replacement)]})
        links_after = gpo.ensure_links(where, links_before, self.params["links"], self.params["purge_links"])
        after_view = self.view(*(content.wanted for content in contents))
        after = {"exists": True, **after_view, "links": links_after, "version": version}
        return {
            "changed": bool(self.actions),
            "guid": where.guid,
            "dn": where.dn,
            "path": where.file_sys_path,
            "version": {"number": version, **split_version(version)},
            **after_view,
            "links": links_after,
            "actions": self.actions,
            "diff": {"before": before, "after": after},
        }

    def write(self, where: GpoLocation, contents: list[Content], version: int, extensions: str) -> None:
        for content in contents:
            if content.changed:
                self.gpo.write_file(where, content.path, content.wanted)
        self.gpo.publish(where, version, {"gPCMachineExtensionNames": extensions})

    # -- absent --
    def absent(self) -> dict[str, Any]:
        entry = self.gpo.find(self.params["name"])
        empty = {"exists": False, **self.view(None, None, None), "links": [], "version": 0}
        if entry is None:
            return {"changed": False, "guid": None, **self.view(None, None, None), "links": [], "actions": []}
        where = self.gpo.locate(entry)
        before = {
            "exists": True,
            **self.view(
                self.gpo.read_bytes(where, GROUPS_PATH),
                self.gpo.read_bytes(where, REGISTRY_PATH),
                self.gpo.read_bytes(where, TEMPLATE_PATH),
            ),
            "links": self.gpo.link_view(where.guid),
            "version": where.version,
        }
        self.gpo.delete(entry)
        return {
            "changed": True,
            "guid": where.guid,
            **self.view(None, None, None),
            "links": [],
            "actions": self.actions,
            "diff": {"before": before, "after": empty},
        }


def main() -> None:
    group_spec = dict(
        group=dict(type="str", required=True),
        group_sid=dict(type="str"),
        members=dict(type="list", elements="str", default=[]),
        remove_when_not_applied=dict(type="bool", default=True),
        description=dict(type="str", default=""),
    )
    registry_spec = dict(
        key=dict(type="str", required=True, no_log=False),
        name=dict(type="str", required=True),
        type=dict(
            type="str",
            default="dword",
            choices=["string", "expand_string", "binary", "dword", "dword_big_endian", "multi_string", "qword"],
        ),
        data=dict(type="raw", required=True),
    )
    rule_spec = dict(
        id=dict(type="str", required=True),
        name=dict(type="str"),
        description=dict(type="str", default=""),
        group=dict(type="str", default=""),
        action=dict(type="str", default="allow", choices=["allow", "block"]),
        direction=dict(type="str", default="in", choices=["in", "out"]),
        protocol=dict(type="str", default="tcp"),
        local_ports=dict(type="list", elements="int", default=[]),
        remote_addresses=dict(type="list", elements="str", default=[]),
        profiles=dict(type="list", elements="str", default=[], choices=["domain", "private", "public"]),
        enabled=dict(type="bool", default=True),
    )
    service_spec = dict(
        name=dict(type="str", required=True),
        start_mode=dict(type="str", required=True, choices=["automatic", "manual", "disabled"]),
    )
    argument_spec = dict(
        **ad_argument_spec(),
        **gpo_argument_spec(),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        local_groups=dict(type="list", elements="dict", options=group_spec),
        registry_values=dict(type="list", elements="dict", options=registry_spec),
        firewall_rules=dict(type="list", elements="dict", options=rule_spec),
        services=dict(type="list", elements="dict", options=service_spec),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_gpo_module(module, GpoMachinePolicy, error_prefix=f"gpo_machine_policy {module.params['name']}: ")


if __name__ == "__main__":
    main()
