# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The options of every module that talks LDAP over TLS to a domain controller
    # (module_utils.ad.connection.ad_argument_spec), in two parts, each written once:
    #   extends_documentation_fragment:
    #     - iconeus.tenant_toolkit.ldap_connection          the domain controller and the account
    #     - iconeus.tenant_toolkit.ldap_connection.ldaps    how its LDAPS endpoint is reached and trusted
    # smb_folders takes only the second part: its domain controller is `directory_server` and its account
    # the SMB one (iconeus.tenant_toolkit.smb_connection). ansible-test wants each part a plain string.
    DOCUMENTATION = r"""
options:
  server:
    description:
      - Domain controller (address or name); with AWS Managed Microsoft AD, one of the directory's C(DnsIpAddrs).
    type: str
    required: true
  username:
    description:
      - Account to bind with, as C(user@domain), C(DOMAIN\user) or a DN.
      - With AWS Managed Microsoft AD, the delegated C(Admin) account or one with the same rights.
    type: str
    required: true
  password:
    description: Password of O(username).
    type: str
    required: true
  connect_timeout:
    description: Seconds to wait for each connection to a server.
    type: int
    default: 10
"""

    LDAPS = r"""
options:
  port:
    description: LDAPS port of the domain controller.
    type: int
    default: 636
  domain:
    description:
      - DNS name of the domain. Defaults to the one the domain controller publishes.
      - When the domain controller is given by its IP address, its certificate must name that address or the
        DC's own host name, a host of this domain as the domain's DNS (asked at that address) gives it.
    type: str
  ca_file:
    description:
      - PEM file of the CA that issued the domain controller's LDAPS certificate (a Samba DC's
        C(private/tls/ca.pem); for AWS Managed Microsoft AD, the root CA of the certificate its LDAPS uses).
      - Required when O(server) is an IP address and O(validate_certs=true); a file that does not exist is an
        error. Given by name without it, the system's CAs are trusted.
    type: path
  validate_certs:
    description: Validate the domain controller's certificate (chain and name). Only disable for throw-away labs.
    type: bool
    default: true
"""
