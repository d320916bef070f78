# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Check the role variables given for a tenant (inventory, group_vars, host_vars, -e) against the roles'
argument specs, once, before any AWS call (plugins/modules/role_variables_validate.py documents it).

Ansible checks a role's variables when the role starts (a `validate_argument_spec` task it prepends), so a bad
variable of the fleet role failed a run after the network, directory and file system were converged, and each
check cost every tenant a forked worker per role and entry point: 7 per user-pool tenant and 14 per SAML
tenant in a `site.yml` run (tenants_scale, bench/README.md). The stage playbooks call the roles with
`rolespec_validate: false` and playbooks/validate.yml runs this action instead, in one task per tenant:

- every variable of the inventory or `-e` whose name is an option of one of the collection's roles is checked
  against that option's spec, with Ansible's own validator (`ArgumentSpecValidator`, as the role's check does);
- a role option's name starts with its role's name (tests/unit/plugins/action/test_role_variables_validate.py),
  so only the roles with a variable given have their specs read; most runs read none;
- the other inputs of a role are its defaults (made from `tenant_spec`, the definition validate.yml checked with a
  stricter schema, from what an earlier stage returned, or from a few toolkit variables such as
  `directory_validate_certs`) and the playbooks' `vars:`; the modules check their own arguments in any case.

A value that cannot be known yet is not checked, and a warning names it: one that refers to a variable the run has
not set yet (`"{{ tenant_network.vpc_id }}"`, or a misspelt name, which fails where the role uses it), and one
written with a lookup call (not run here, in validation, which makes no AWS call; a lookup reached through another
variable does run, as it did in the role's own check). A value that templates to `omit` counts as not given, as in
the role's own check. `on_invalid=warn` (the runbooks, whose roles keep their own checks) reports the errors as a
warning instead of failing.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleError, AnsibleUndefinedVariable, AnsibleValueOmittedError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.json import Direction
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible_collections.iconeus.tenant_toolkit.plugins.modules.role_variables_validate import ARGUMENT_SPEC
from ansible_collections.iconeus.tenant_toolkit.plugins.plugin_utils.pure_module import as_module_sees

display = Display()

# The collection's roles, next to plugins/ (the same layout in the source tree and the installed collection).
ROLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))), "roles")
ROLE_NAME = re.compile(r"[a-z][a-z0-9_]*")
# A lookup call in a template (lookup, query or q): not run before the stage that would run it. A string that only
# looks like one is left unchecked too, never failed.
LOOKUP_CALL = re.compile(r"\b(?:lookup|query|q)\s*\(")


def calls_a_lookup(value: Any) -> bool:
    """Whether a template string anywhere in `value` (as the inventory gave it, not rendered) calls a lookup."""
    if isinstance(value, str):
        return ("{{" in value or "{%" in value) and LOOKUP_CALL.search(value) is not None
    if isinstance(value, Mapping):
        return any(calls_a_lookup(key) or calls_a_lookup(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return any(calls_a_lookup(item) for item in value)
    return False


def collection_roles(roles_dir: str = ROLES_DIR) -> list[str]:
    """The roles of the collection that have an argument spec, longest name first (the first prefix to match)."""
    try:
        names = os.listdir(roles_dir)
    except OSError:
        return []
    found = [
        name
        for name in names
        if ROLE_NAME.fullmatch(name) and os.path.isfile(os.path.join(roles_dir, name, "meta", "argument_specs.yml"))
    ]
    return sorted(found, key=lambda name: (-len(name), name))


def role_of(variable: str, roles: list[str]) -> str | None:
    """The role whose name prefixes `variable` (`aws_network_cidr` -> `aws_network`), if any."""
    for role in roles:
        if variable.startswith(role + "_"):
            return role
    return None


def option_specs(argument_specs: Mapping[str, Any], variable: str) -> list[tuple[str, dict[str, Any]]]:
    """(entry point, spec) of each entry point of a role whose options include `variable`."""
    found = []
    for entry_point, spec in sorted((argument_specs or {}).items()):
        options = (spec or {}).get("options") or {}
        if variable in options:
            found.append((entry_point, options[variable]))
    return found


def role_options(argument_specs: Mapping[str, Any]) -> list[str]:
    """Every option of every entry point of a role, sorted."""
    return sorted({option for spec in (argument_specs or {}).values() for option in (spec or {}).get("options") or {}})


def unknown_variable(role: str, variable: str, options: list[str]) -> str:
    """What to say of a variable named like the role's options that is none of them (a misspelling, most often)."""
    close = difflib.get_close_matches(variable, options, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"{variable} is not a variable of role {role}{hint}: it is not used"


def check_values(role: str, entry_point: str, specs: dict[str, Any], values: dict[str, Any]) -> tuple[list[str], set]:
    """Ansible's role argument check of `values` against the options `specs` of one role entry point.

    Only the options given are passed: an absent one takes its role default when the role runs, and the
    entry point's own cross-option rules are not applied to a part of its options. Returns the error messages,
    each naming the role, and the values to mask (no_log options).
    """
    # As plain data (a module's view of it): a message shows `int`, not the controller's tagged int class.
    plain = as_module_sees(values, Direction.CONTROLLER_TO_MODULE)
    result = ArgumentSpecValidator(specs).validate(plain, validate_role_argument_spec=True)
    where = f"role {role}" if entry_point == "main" else f"role {role} (tasks_from: {entry_point})"
    return [f"{where}: {message}" for message in result.error_messages], set(result._no_log_values)


class ActionModule(ActionBase):
    """Checks the role variables given for the host; changes nothing and calls nothing."""

    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False
    _VALID_ARGS = frozenset(("on_invalid",))

    def run(self, tmp: Any = None, task_vars: Mapping[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        arguments = ArgumentSpecValidator(ARGUMENT_SPEC).validate(dict(self._task.args))
        if arguments.error_messages:
            return {**result, "failed": True, "msg": "; ".join(arguments.error_messages)}
        on_invalid = arguments.validated_parameters["on_invalid"]
        roles = collection_roles()
        given: dict[str, list[str]] = {}
        for variable in task_vars:
            role = role_of(str(variable), roles)
            if role is not None:
                given.setdefault(role, []).append(str(variable))
        errors: list[str] = []
        no_log_values: set = set()
        checked: list[str] = []
        deferred: list[str] = []
        unknown: list[str] = []
        unused: list[str] = []
        for role in sorted(given):
            path = os.path.join(ROLES_DIR, role, "meta", "argument_specs.yml")
            argument_specs = (self._loader.load_from_file(path, unsafe=True) or {}).get("argument_specs") or {}
            per_entry_point: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
            for variable in sorted(given[role]):
                specs = option_specs(argument_specs, variable)
                if not specs:
                    # Named like the role's inputs but none of them. In validation nothing the roles register or
                    # set exists yet: it comes from the inventory or -e, and the role never reads it.
                    unused.append(variable)
                    unknown.append(unknown_variable(role, variable, role_options(argument_specs)))
                    continue
                if calls_a_lookup(task_vars[variable]):
                    deferred.append(variable)
                    continue
                try:
                    value = self._templar.template(task_vars[variable])
                except AnsibleValueOmittedError:
                    continue  # `omit`: not given, the role default applies
                except AnsibleUndefinedVariable:
                    deferred.append(variable)
                    continue
                except AnsibleError as err:  # a template that cannot be rendered at all: the role would fail on it too
                    errors.append(f"role {role}: {variable} cannot be templated: {err.message}")
                    continue
                checked.append(variable)
                for entry_point, spec in specs:
                    options, values = per_entry_point.setdefault(entry_point, ({}, {}))
                    options[variable] = spec
                    values[variable] = value
            for entry_point, (options, values) in sorted(per_entry_point.items()):
                messages, masked = check_values(role, entry_point, options, values)
                errors.extend(messages)
                no_log_values |= masked
        # Each message names the host: Ansible shows a warning text once per run, and tenants often share a value.
        host = task_vars.get("inventory_hostname", "?")
        if deferred:
            display.warning(
                f"[{host}] {', '.join(deferred)}: not checked against the role's argument spec before the run (the "
                "value calls a lookup or refers to a variable not set yet); it is used as it resolves when its "
                "role runs"
            )
        for message in unknown:
            display.warning(f"[{host}] {message}")
        result.update(changed=False, checked=checked, deferred=deferred, unused=unused)
        if errors:
            # One message per role and entry point (a variable shared by two entry points fails in both), or per
            # template that cannot be rendered: none repeats another.
            message = "Role variables given in the inventory or with -e are not valid"
            if on_invalid == "fail":
                result.update(failed=True, errors=errors, msg=f"{message} (nothing was changed): " + "; ".join(errors))
            else:
                result["errors"] = errors
                result["warnings"] = [
                    f"[{host}] {message}, left to the roles' own checks in this run: " + "; ".join(errors)
                ]
        return remove_values(result, no_log_values)
