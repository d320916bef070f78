# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The options of a module that works on an SMB share of a file server (module_utils.ad.smb.FileShare).
    DOCUMENTATION = r"""
options:
  server:
    description: File server (name or address), for example the DNS name of an FSx file system.
    type: str
    required: true
  share:
    description: Name of the share.
    type: str
    default: share
  username:
    description: Domain account, as C(user@domain) or C(DOMAIN\user).
    type: str
    required: true
  password:
    description: Password of O(username).
    type: str
    required: true
  auth_protocol:
    description: SMB authentication (V(kerberos) needs a ticket and the server's DNS name).
    type: str
    default: negotiate
    choices: [negotiate, ntlm, kerberos]
  encrypt:
    description:
      - Require SMB 3 encryption, and fail against a server that does not offer it (FSx for Windows File
        Server and the domain controllers of AWS Managed Microsoft AD do).
      - V(false) still encrypts whenever the server offers it, but learns that from a connection that is not
        authenticated, which a machine in the middle could answer with an older dialect. Only for a lab
        server without SMB 3.
    type: bool
    default: true
  connect_timeout:
    description: Seconds to wait for each connection to a server.
    type: int
    default: 10
"""
