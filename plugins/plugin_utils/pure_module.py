# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run a pure module (no AWS call, no file, nothing on a host) in the worker, not in a Python process of its own.

`tenant_validate`, `ops_vars_validate` and `tenant_cost_estimate` compute a result from their arguments and
nothing else. As modules, each run cost a Python interpreter, the AnsiballZ payload and its module_utils
compiled from source (0.17 to 0.2 s of CPU per run, four runs per tenant and per `site.yml`). Their action
plugins call the same function the module's `main()` calls, so the result is the module's:

- the arguments are checked against the module's own argument spec (defaults, types, unknown keys, no_log);
- they are encoded and decoded as Ansible hands them to a module, and the outcome as a module hands its result
  back (`ansible.module_utils.common.json` module profiles), so the function sees the same plain data as the
  module would (no tagged strings, dates as text, vaulted values decrypted) and the playbook gets the same
  result (untrusted strings);
- every no_log value is masked anywhere in the result, as AnsibleModule does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.json import Direction, get_module_decoder, get_module_encoder
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase

# The serialisation profile Ansible uses for a module that declares none (AnsiballZ's "legacy").
PROFILE = "legacy"


def as_module_sees(value: Any, direction: Direction) -> Any:
    """`value` after the JSON trip between controller and module in `direction`."""
    text = json.dumps(value, cls=get_module_encoder(PROFILE, direction))
    return json.loads(text, cls=get_module_decoder(PROFILE, direction))


class PureModuleAction(ActionBase):
    """Base of the action plugins of pure modules; a subclass names the module's spec and outcome function.

    `outcome(params)` returns the module's result: `failed` and `msg` when it fails, `warnings` (a list of
    strings) and the other result keys otherwise.
    """

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    argument_spec: ClassVar[dict[str, Any]] = {}
    validator_options: ClassVar[dict[str, Any]] = {}
    outcome: ClassVar[Callable[[dict[str, Any]], dict[str, Any]]]

    def run(self, tmp: Any = None, task_vars: Mapping[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        validation = ArgumentSpecValidator(self.argument_spec, **self.validator_options).validate(
            as_module_sees(dict(self._task.args), Direction.CONTROLLER_TO_MODULE)
        )
        no_log_values = validation._no_log_values
        if validation.error_messages:
            first = validation.errors.errors[0]
            message = validation.errors.msg
            if isinstance(first, UnsupportedError):  # worded as AnsibleModule words it
                name = self._task.resolved_action or self._task.action
                message = f"Unsupported parameters for ({name}) module: {message}"
            result.update(failed=True, msg=message)
            return remove_values(result, no_log_values)
        outcome = self.outcome(validation.validated_parameters)
        outcome = as_module_sees(outcome, Direction.MODULE_TO_CONTROLLER)
        result.update(remove_values(outcome, no_log_values))
        result["changed"] = False
        result.setdefault("warnings", [])
        if not result["warnings"]:
            del result["warnings"]
        return result
