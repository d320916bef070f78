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
- every no_log value is masked anywhere in the result, warnings included (AnsibleModule leaves its warnings
  unmasked in ansible-core 2.19), and an unexpected exception is reported in one masked line, without a
  traceback.

What the action plugin does not do that the module did: `async` (refused), `invocation` in the result (the
module's masked arguments, shown at -vvv), and `delegate_to` or `become`, which have no effect: the code runs
on the controller in any case.
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

# The serialisation profile Ansible uses for a module that declares none (AnsiballZ's "legacy"); the three
# modules declare none. One that declared another would need it here too.
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

    # Nothing runs on the host: no connection is needed (persistent connections are not started for it).
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    argument_spec: ClassVar[dict[str, Any]] = {}
    validator_options: ClassVar[dict[str, Any]] = {}
    outcome: ClassVar[Callable[[dict[str, Any]], dict[str, Any]]]

    def _name(self) -> str:
        """The module's name as the task gave it, resolved (`iconeus.tenant_toolkit.tenant_validate`)."""
        return self._task.resolved_action or self._task.action

    def run(self, tmp: Any = None, task_vars: Mapping[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        validation = ArgumentSpecValidator(self.argument_spec, **self.validator_options).validate(
            as_module_sees(dict(self._task.args), Direction.CONTROLLER_TO_MODULE)
        )
        # The values of the no_log options (a private attribute, as AnsibleModule reads it in ansible-core 2.19).
        no_log_values = validation._no_log_values
        if validation.error_messages:
            message = validation.errors.msg
            if isinstance(validation.errors[0], UnsupportedError):  # worded as AnsibleModule words it
                message = f"Unsupported parameters for ({self._name()}) module: {message}"
            return remove_values({**result, "failed": True, "msg": message}, no_log_values)
        try:
            outcome = self.outcome(validation.validated_parameters)
        except Exception as err:  # noqa: BLE001 - reported, masked, without the traceback (which could show values)
            message = f"{self._name()}: unexpected error: {type(err).__name__}: {err}"
            return remove_values({**result, "failed": True, "msg": message}, no_log_values)
        outcome = as_module_sees(outcome, Direction.MODULE_TO_CONTROLLER)
        # Masked everywhere, warnings included (a module's warnings are not: this path masks more, never less).
        result.update(remove_values(outcome, no_log_values))
        result["changed"] = False
        if not result.get("warnings"):
            result.pop("warnings", None)
        return result
