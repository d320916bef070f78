# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The options of every module that manages one Group Policy Object over LDAP and the DC's SYSVOL share
    # (module_utils.ad.gpo_object: gpo_argument_spec, GroupPolicyObject). List it before the LDAP fragments:
    # its server and username descriptions (LDAP and SMB) are kept over theirs, their type and required
    # flag come from iconeus.tenant_toolkit.ldap_connection. Each module documents its own state.
    #   extends_documentation_fragment:
    #     - iconeus.tenant_toolkit.gpo
    #     - iconeus.tenant_toolkit.ldap_connection
    #     - iconeus.tenant_toolkit.ldap_connection.ldaps
    DOCUMENTATION = r"""
options:
  server:
    description:
      - Domain controller (address or name), for LDAPS and for its C(SYSVOL) share.
      - With AWS Managed Microsoft AD, one of the directory's C(DnsIpAddrs).
  username:
    description:
      - Account used for LDAP and SMB, as C(user@domain), C(DOMAIN\user) or a DN (LDAP only).
      - With AWS Managed Microsoft AD, the delegated C(Admin) account.
  smb_auth_protocol:
    description: SMB authentication to the DC's C(SYSVOL) share.
    type: str
    default: negotiate
    choices: [negotiate, ntlm, kerberos]
  name:
    description: Display name of the GPO (what GPMC shows). Must be unique in the domain.
    type: str
    required: true
  links:
    description:
      - Containers (OU or domain DNs) the GPO is linked to. Other GPOs' links on them are kept.
      - Omit it to leave the links as they are.
    type: list
    elements: dict
    suboptions:
      target:
        description: DN of the OU (or of the domain).
        type: str
        required: true
      enabled:
        description: Whether the link is enabled.
        type: bool
        default: true
      enforced:
        description: Whether the link is enforced (applies even below a container that blocks inheritance).
        type: bool
        default: false
      order:
        description:
          - Link order on the container, 1 being the highest precedence (GPMC's C(Link Order)).
          - Omitted, an existing link keeps its place and a new one is added last.
        type: int
  purge_links:
    description: Remove this GPO's links from containers not listed in O(links), so it applies only there.
    type: bool
    default: false
"""
