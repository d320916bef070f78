# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Every module of the toolkit supports check mode, and every module that changes something reports a
    # diff. A module adds its own `details` (what check mode reads, what the diff shows) and keeps the
    # description and the support level from here.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check mode and then reports what would change, without changing anything.
    support: full
  diff_mode:
    description: Reports the changes it makes, or would make in check mode, as a before and after diff.
    support: full
"""

    # Modules that never change anything (validation, information, estimates):
    #   extends_documentation_fragment: [iconeus.tenant_toolkit.attributes.read_only]
    # The descriptions are those of DOCUMENTATION (ansible-test wants each fragment a plain string).
    READ_ONLY = r"""
attributes:
  check_mode:
    description: Can run in check mode and then reports what would change, without changing anything.
    support: full
    details: The module never changes anything; check mode returns the same result.
  diff_mode:
    description: Reports the changes it makes, or would make in check mode, as a before and after diff.
    support: none
    details: Nothing is changed, so there is no diff.
"""

    # Modules computed from their arguments alone, run by an action plugin of the same name in the worker
    # (plugins/plugin_utils/pure_module.py). Listed after read_only, whose attributes it adds to (Ansible merges
    # the attributes of every fragment):
    #   extends_documentation_fragment:
    #     - iconeus.tenant_toolkit.attributes.read_only
    #     - iconeus.tenant_toolkit.attributes.action
    ACTION = r"""
attributes:
  action:
    description: >-
      Indicates this has a corresponding action plugin, so some parts of the options can be executed on the
      controller.
    support: full
    details: >-
      The whole module runs in Ansible's worker on the controller, with the module's own argument spec and code:
      no Python process and no AnsiballZ payload. The result is the module's; C(no_log) values are masked in all
      of it, warnings included. C(delegate_to) and C(become) have no effect, and the result has no C(invocation).
  async:
    description: Supports being used with the C(async) keyword.
    support: none
"""
