# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

_CHECK_MODE = "Can run in check mode and then reports what would change, without changing anything."
_DIFF_MODE = "Reports the changes it makes, or would make in check mode, as a before and after diff."


class ModuleDocFragment:
    # Every module of the toolkit supports check mode, and every module that changes something reports a
    # diff. A module adds its own `details` (what check mode reads, what the diff shows) and keeps the
    # description and the support level from here.
    DOCUMENTATION = f"""
attributes:
  check_mode:
    description: {_CHECK_MODE}
    support: full
  diff_mode:
    description: {_DIFF_MODE}
    support: full
"""

    # Modules that never change anything (validation, information, estimates):
    #   extends_documentation_fragment: [iconeus.tenant_toolkit.attributes.read_only]
    READ_ONLY = f"""
attributes:
  check_mode:
    description: {_CHECK_MODE}
    support: full
    details: The module never changes anything; check mode returns the same result.
  diff_mode:
    description: {_DIFF_MODE}
    support: none
    details: Nothing is changed, so there is no diff.
"""
