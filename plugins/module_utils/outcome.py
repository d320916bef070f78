# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Exit a pure module with the result its `outcome()` function computed.

The pure modules (`tenant_validate`, `ops_vars_validate`, `tenant_cost_estimate`) compute their result in one
function, `outcome(params)`, which their action plugins call too (plugins/plugin_utils/pure_module.py): a dict
with `failed` and `msg` when the module fails, `warnings` (strings) and the result keys.
"""

from __future__ import annotations

from typing import Any


def exit_with(module: Any, outcome: dict[str, Any]) -> None:
    """Warn, then fail or exit the AnsibleModule `module` with `outcome`; never returns."""
    rest = dict(outcome)
    for warning in rest.pop("warnings", []):
        module.warn(warning)
    if rest.pop("failed", False):
        module.fail_json(**rest)
    module.exit_json(changed=False, **rest)
