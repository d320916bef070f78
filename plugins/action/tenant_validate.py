# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The tenant_validate module run in the worker: its own spec and outcome (plugin_utils/pure_module.py)."""

from __future__ import annotations

from ansible_collections.iconeus.tenant_toolkit.plugins.modules import tenant_validate
from ansible_collections.iconeus.tenant_toolkit.plugins.plugin_utils.pure_module import PureModuleAction


class ActionModule(PureModuleAction):
    argument_spec = tenant_validate.ARGUMENT_SPEC
    validator_options = tenant_validate.VALIDATOR_OPTIONS
    outcome = staticmethod(tenant_validate.outcome)
