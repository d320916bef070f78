#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tenant_validate
version_added: 0.1.0
short_description: Validate and normalise a tenant definition before any AWS call
description:
  - "Checks a tenant definition (docs/tenant-definition.md) and the application catalogue, and reports
    B(every) error at once, each prefixed with the dotted path of the offending field
    (for example C(tenant.storage.storage_gib: 16 is below the SSD minimum of 32))."
  - On success returns the definition with every documented default filled in, the install
    order of the catalogue applications, the catalogue hash and the AppStream image name.
  - With O(host) and O(run_tenants) it also checks the tenant against the other tenant hosts of the
    run. Two hosts naming the same C(tenant.name) fail; overlapping C(tenant.network.cidr) ranges
    give a warning.
  - With O(secrets) it checks B(only) the secrets the operator supplies through ansible-vault,
    in a task of their own (see the notes); O(tenant) is then the normalised definition.
  - Runs entirely on the controller; it never contacts AWS and never changes anything.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  tenant:
    description:
      - The tenant definition, normally the C(tenant) host variable from
        C(inventories/<tenant>/host_vars/<tenant>/tenant.yml).
      - Any type is accepted so that a wrong type is reported as a validation error.
    type: raw
    required: true
  catalogue:
    description:
      - The application catalogue, normally the C(app_catalogue) variable of
        C(group_vars/all/catalogue.yml).
      - Maps an application key to its installer, checksum, version, silent-install arguments,
        product id, dependencies and optional Image Assistant launch data.
      - Needed to validate the definition; not used with O(secrets).
    type: dict
  host:
    description:
      - The tenant host being validated (C(inventory_hostname)), to find it in O(run_tenants).
      - Required with O(run_tenants).
    type: str
  run_tenants:
    description:
      - "C([host, tenant.name, tenant.network.cidr]) of every tenant host of the run, this one
        included, as written in their definitions; missing values are empty strings."
      - A C(tenant.name) given by another host too is an error naming both hosts; a VPC range
        overlapping another host's is a warning (AWS accepts it, but one controller cannot reach
        both VPCs at once and they can never be peered).
      - A list that does not include O(host) is an error, so that the check is never passed over.
    type: list
    elements: list
  saml_metadata_file:
    description:
      - Where the customer's SAML 2.0 identity provider metadata is, on the controller; playbooks pass
        C(saml_metadata_file) or else C(<inventory_dir>/files/saml-metadata.xml).
      - For a definition with C(auth=saml), a path that is not a file is an error (the metadata must be
        there before a converge). Not checked when unset, nor for a user-pool tenant.
    type: str
    version_added: 0.2.0
  secrets:
    description:
      - The vault variables the toolkit reads (V(vault_directory_admin_password),
        V(vault_appstream_service_password), V(vault_domain_join_password),
        V(vault_image_winrm_password)) that are set for the tenant host, by name.
      - "V(null) stands for a variable that is set but resolves to nothing (null, or a reference
        to an undefined variable, e.g. of a vault file that was not loaded): an error, since the
        roles would take it for unset and, for instance, generate a new directory password."
      - Each one present is checked against what AWS or Active Directory accepts (for the directory
        Admin password, the CreateMicrosoftAD password policy). Errors name the variable and the
        rule, never the value.
    type: dict
  vault_variables:
    description:
      - The names of every C(vault_*) variable set for the tenant host, with O(secrets); a name
        close to one the toolkit reads gives a warning (a misspelt secret is silently ignored
        otherwise).
    type: list
    elements: str
    default: []
notes:
  - Validation rules live in C(plugins/module_utils/schema/) and
    C(plugins/module_utils/catalogue.py); AWS limits there are quoted from the botocore
    service models.
  - The catalogue hash also covers C(tenant.appstream.base_image), so a new AWS base image
    yields a new image name.
  - O(secrets) is C(no_log). Ansible masks every occurrence of a C(no_log) value anywhere in a
    module's result, so the secrets are checked in a task of their own, whose result carries
    nothing but messages; given with the definition, a short secret could garble the normalised
    definition returned.
extends_documentation_fragment:
  - iconeus.tenant_toolkit.attributes.read_only
  - iconeus.tenant_toolkit.attributes.action
"""

EXAMPLES = r"""
- name: Ensure the tenant definition is valid
  iconeus.tenant_toolkit.tenant_validate:
    tenant: "{{ tenant | default(omit) }}"
    catalogue: "{{ app_catalogue }}"
  register: validate_result

- name: Ensure the tenant name is unique in the run
  iconeus.tenant_toolkit.tenant_validate:
    tenant: "{{ tenant | default(omit) }}"
    catalogue: "{{ app_catalogue }}"
    host: "{{ inventory_hostname }}"
    run_tenants: "{{ ansible_play_hosts_all | zip(names, cidrs) | list }}"
  vars:
    names: "{{ ansible_play_hosts_all | map('extract', hostvars) | map(attribute='tenant.name', default='') }}"
    cidrs: "{{ ansible_play_hosts_all | map('extract', hostvars) | map(attribute='tenant.network.cidr', default='') }}"

- name: Ensure the secrets supplied through ansible-vault are usable
  iconeus.tenant_toolkit.tenant_validate:
    tenant: "{{ validate_result.tenant }}"
    secrets:
      vault_directory_admin_password: "{{ vault_directory_admin_password | default(none) }}"
    vault_variables: [vault_directory_admin_password]

- name: Use the normalised definition from here on
  ansible.builtin.set_fact:
    tenant_spec: "{{ validate_result.tenant }}"
    tenant_image_name: "{{ validate_result.image_name }}"
"""

RETURN = r"""
tenant:
  description: The tenant definition with every documented default filled in.
  type: dict
  returned: success, without O(secrets)
  sample:
    name: demo
    environment: dev
    region: eu-west-3
    auth: saml
    network:
      cidr: 10.40.0.0/16
      availability_zones: 2
      nat_gateways: single
    storage:
      deployment_type: SINGLE_AZ_2
      home_drive: H
      project_drive: P
apps:
  description: Catalogue keys to install, dependencies first, in a deterministic order.
  type: list
  elements: str
  returned: success, without O(secrets)
  sample: [matlab_runtime_r2020b, matlab_runtime_r2021b, vcredist_2015_2022_x64, icobatch, icostudio]
catalogue_hash:
  description: Short sha256-based digest of the resolved catalogue entries and the base image.
  type: str
  returned: success, without O(secrets)
  sample: 3f9c0a1b2c4d
image_name:
  description: Name of the AppStream image for this catalogue, C(<tenant>-suite-<catalogue_hash>).
  type: str
  returned: success, without O(secrets)
  sample: demo-suite-3f9c0a1b2c4d
errors:
  description: Every validation error, each starting with the dotted path of the field or the variable name.
  type: list
  elements: str
  returned: failure
  sample:
    - "tenant.storage.storage_gib: 16 is below the SSD minimum of 32"
    - "tenant.network.nat_gatway: unknown key (did you mean nat_gateways?)"
"""

import os
from collections.abc import Mapping
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.catalogue import (
    CatalogueError,
    catalogue_hash,
    image_name_errors,
    resolve_catalogue,
    validate_catalogue,
    validate_resolved,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.outcome import exit_with
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.tenant import (
    normalise_tenant,
    validate_run_tenants,
    validate_tenant,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.vault import validate_vault_variables

ARGUMENT_SPEC = {
    "tenant": {"type": "raw", "required": True},
    "catalogue": {"type": "dict"},
    "host": {"type": "str"},
    "run_tenants": {"type": "list", "elements": "list"},
    "saml_metadata_file": {"type": "str"},
    "secrets": {"type": "dict", "no_log": True},
    "vault_variables": {"type": "list", "elements": "str", "default": []},
}


def evaluate(tenant: Any, catalogue: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """Return ``(result, errors)``; ``result`` is only meaningful without errors."""
    errors = validate_catalogue(catalogue) + validate_tenant(tenant, catalogue)
    if errors:
        return {}, errors
    spec = normalise_tenant(tenant)
    try:
        resolved = resolve_catalogue(catalogue, spec["apps"])
    except CatalogueError as exc:
        return {}, [f"tenant.apps: {exc}"]
    digest = catalogue_hash(resolved, base_image=spec["appstream"]["base_image"])
    name = f"{spec['name']}-suite-{digest}"
    errors = validate_resolved(resolved) + image_name_errors(name, "tenant.name")
    result = {
        "tenant": spec,
        "apps": [entry["key"] for entry in resolved],
        "catalogue_hash": digest,
        "image_name": name,
    }
    return result, errors


def evaluate_run(
    tenant: Any,
    catalogue: dict[str, Any] | None,
    host: str | None,
    run_tenants: list[list[Any]] | None,
    saml_metadata_file: str | None = None,
) -> tuple[dict[str, Any], list[str], list[str]]:
    """``evaluate`` plus the rules across the run's tenant hosts and the SAML metadata file: ``(result, errors,
    warnings)``."""
    result, errors = evaluate(tenant, catalogue)
    if not errors and saml_metadata_file is not None:
        errors = saml_metadata_errors(result["tenant"], saml_metadata_file)
    # Without a run list (a definition checked on its own) there is nothing across tenants to check.
    run_errors, warnings = validate_run_tenants(host or "", run_tenants) if run_tenants is not None else ([], [])
    errors = errors + run_errors
    # A host with errors of its own gets no warning about its neighbours' ranges.
    return result, errors, [] if errors else warnings


def saml_metadata_errors(spec: Mapping[str, Any], path: str) -> list[str]:
    """A SAML tenant needs its identity provider's metadata file before anything is converged."""
    if spec.get("auth") != "saml" or os.path.isfile(path):
        return []
    return [
        f"tenant.auth: saml needs the customer's SAML 2.0 IdP metadata in {path} (or the path in "
        "saml_metadata_file); ask the customer for it before converging."
    ]


def evaluate_secrets(tenant: Any, secrets: dict[str, Any], vault_variables: list[str]) -> tuple[list[str], list[str]]:
    """Return ``(errors, warnings)`` of the vault variables, given the (normalised) definition."""
    auth = tenant.get("auth") if isinstance(tenant, Mapping) else None
    return validate_vault_variables(secrets, [*vault_variables, *secrets], auth)


def format_errors(errors: list[str]) -> str:
    count = len(errors)
    header = f"Tenant validation failed with {count} error{'s' if count != 1 else ''}:"
    return "\n".join([header, *(f"- {error}" for error in errors)])


VALIDATOR_OPTIONS: dict[str, Any] = {"required_by": {"run_tenants": "host"}}


def outcome(params: dict[str, Any]) -> dict[str, Any]:
    """The module's result from its validated parameters (``main`` and the action plugin both return it)."""
    if params["secrets"] is not None:
        errors, warnings = evaluate_secrets(params["tenant"], params["secrets"], params["vault_variables"])
        result: dict[str, Any] = {}
    else:
        result, errors, warnings = evaluate_run(
            params["tenant"], params["catalogue"], params["host"], params["run_tenants"], params["saml_metadata_file"]
        )
    if errors:
        return {"failed": True, "msg": format_errors(errors), "errors": errors, "warnings": warnings}
    return {**result, "warnings": warnings}


def main() -> None:
    # Playbooks run plugins/action/tenant_validate.py (same spec, same outcome, no Python process of its own).
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, **VALIDATOR_OPTIONS)
    exit_with(module, outcome(module.params))


if __name__ == "__main__":
    main()
