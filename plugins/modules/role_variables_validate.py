#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: role_variables_validate
version_added: 0.2.0
short_description: Check the role variables given for a tenant against the roles' argument specs, before any AWS call
description:
  - "Checks every variable of the host whose name is an option of one of the collection's roles (C(aws_network_cidr),
    C(appstream_fleet_image_name), ...), as set in the inventory, C(group_vars), C(host_vars) or with C(-e), against
    that option in the role's C(meta/argument_specs.yml), with the validator Ansible uses for a role's own argument
    check, and reports every error at once, each naming the role and the variable."
  - C(playbooks/validate.yml) runs it once per tenant before any AWS call; the stage playbooks then call the roles
    with C(rolespec_validate=false). Without it, a bad variable of a later role failed the run only when that role
    started, after the earlier stages had changed AWS, and each role's check cost every tenant a task.
  - The roles' other inputs are not checked here; they are their defaults, made from C(tenant_spec) (the definition
    C(tenant_validate) checked) or from what an earlier stage returned, and the modules check their own arguments.
  - Runs on the controller as an action plugin; it never contacts AWS and never changes anything.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  on_invalid:
    description:
      - V(fail) fails the tenant, listing every error. V(warn) reports them in one warning and passes, for a run
        whose roles check their own variables (the runbooks of C(playbooks/ops/) and the teardown).
    type: str
    choices: [fail, warn]
    default: fail
notes:
  - "A value that cannot be known before the run is not checked, and a warning names it: one that refers to a
    variable not set yet (a fact made by a stage, C({{ tenant_network.vpc_id }}), or a misspelt name, which then
    fails where the role uses it) and one written with a lookup call (not run in validation, which makes no AWS
    call; a lookup reached through another variable is run, as the role's own check ran it). It is used as it
    resolves when its role runs. A value that templates to C(omit) counts as not given."
  - An entry point's rules across its options (C(required_if), C(mutually_exclusive)) are not applied, since only
    the options given are checked; an absent option takes its role default when the role runs.
  - C(playbooks/validate.yml) runs it with O(on_invalid=warn) when imported with C(validate_role_variables=false), as
    the runbooks and the teardown import it (their roles, if any, keep their own checks); a stale role variable does
    not stop an emergency runbook, and the warning still names it. A runbook that runs a stage playbook
    (C(image_rotate.yml) runs C(image.yml)) checks as the stage does.
  - Used on its own (a playbook of yours that includes the collection's roles), the roles check their variables
    themselves, as usual; this module is only needed where C(rolespec_validate=false) is given.
extends_documentation_fragment:
  - iconeus.tenant_toolkit.attributes.read_only
  - iconeus.tenant_toolkit.attributes.action
attributes:
  action:
    # The fragment's description and support; its details are those of a pure module, which this is not.
    details: >-
      It runs only as its action plugin, in Ansible's worker on the controller: it needs the host's variables and the
      collection's roles. As a module it fails, saying so.
"""

EXAMPLES = r"""
- name: Ensure the role variables given for the tenant match the roles' argument specs (no AWS call)
  iconeus.tenant_toolkit.role_variables_validate:

- name: Say which role variables are not valid, without failing (the roles check their own)
  iconeus.tenant_toolkit.role_variables_validate:
    on_invalid: warn

- name: Converge the network without checking its variables again
  ansible.builtin.import_role:
    name: iconeus.tenant_toolkit.aws_network
    rolespec_validate: false
"""

RETURN = r"""
checked:
  description: The role variables given for the host and checked, by name.
  returned: always
  type: list
  elements: str
  sample: [appstream_fleet_image_name]
deferred:
  description: The role variables given whose value refers to a variable not set yet, not checked.
  returned: always
  type: list
  elements: str
  sample: []
unused:
  description:
    - The variables named like a role's options (its name and C(_)) that are none of them, most often a misspelling
      (C(appstream_fleet_max_capcity)); the role never reads them. A warning names each one, with the closest option.
  returned: always
  type: list
  elements: str
  sample: [aws_network_nat_gatways]
errors:
  description: One message per role and entry point that refused a variable.
  returned: when a variable is not valid
  type: list
  elements: str
  sample: ["role aws_network: value of aws_network_nat_gateways must be one of: single, per_az, none, got: two"]
"""

from ansible.module_utils.basic import AnsibleModule

# The action plugin checks its arguments against this spec too.
ARGUMENT_SPEC = {"on_invalid": {"type": "str", "choices": ["fail", "warn"], "default": "fail"}}


def main() -> None:
    # The checks need the controller's variables and the collection's roles: plugins/action/role_variables_validate.py.
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg="role_variables_validate runs on the controller (its action plugin), not as a module")


if __name__ == "__main__":
    main()
