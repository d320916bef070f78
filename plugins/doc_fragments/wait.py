# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Waiting for a resource with a lifecycle (module_utils.aws.module.tenant_argument_spec,
    # aws.waiters). Ansible merges a module's own definition of an option over the fragment's, key by
    # key: a module whose timeout differs from tenant_argument_spec's 1800 s redefines only the
    # default (wait_timeout: {default: 3600}), and says what it waits for in its own description of wait.
    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Wait for the resource to reach the requested state before returning.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait before the module fails.
    type: int
    default: 1800
"""
