#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tenant_cost_estimate
version_added: 0.1.0
short_description: Estimate the monthly AWS cost of one tenant from a dated price table
description:
  - Prices what a tenant definition will run for a month (AppStream fleet, stopped-instance fees, user fees,
    image builder hours, FSx for Windows storage, throughput and backups, Managed Microsoft AD, NAT gateways
    and their public IPv4 addresses) with the indicative list prices of C(data/prices.yml).
  - Returns the priced lines, the total, every assumption in words with the figures used, and warnings
    (region priced with the default region, provisional prices, demand above the fleet's capacity, estimate
    above C(tenant.budget.monthly_usd)).
  - Makes no AWS call and changes nothing; the rules live in C(plugins/module_utils/cost.py).
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  tenant:
    description:
      - The normalised tenant definition (C(tenant_spec), set by C(playbooks/validate.yml)). Missing optional
        fields take the documented defaults.
    type: dict
    required: true
  prices:
    description:
      - The price table, normally C(data/prices.yml) loaded with M(ansible.builtin.include_vars)
        (keys C(currency), C(price_date), C(default_region), C(sources), C(regions)).
      - A tenant region without an entry under C(regions) is priced with C(default_region) and a warning.
    type: dict
    required: true
  build_hours:
    description: Hours per month the image builder runs for image builds.
    type: float
    default: 10
  streaming_hours_per_user_day:
    description:
      - Assumed streaming hours of each enabled user per working day; drives the running hours of On-Demand
        and Elastic fleets (and Always-On fleets when the demand exceeds the minimum capacity).
    type: float
    default: 4
  domain_controllers:
    description: Domain controllers of the directory (two are included in the directory price).
    type: int
    default: 2
notes:
  - The prices are indicative on-demand list prices; re-check them on the AWS pricing pages (C(sources) in the
    table) before quoting a customer.
  - Warnings are also shown as Ansible warnings.
extends_documentation_fragment:
  - iconeus.tenant_toolkit.attributes.read_only
  - iconeus.tenant_toolkit.attributes.action
"""

EXAMPLES = r"""
- name: Load the price table
  ansible.builtin.include_vars:
    file: "{{ playbook_dir }}/../data/prices.yml"
    name: tenant_prices

- name: Estimate the tenant's monthly cost
  iconeus.tenant_toolkit.tenant_cost_estimate:
    tenant: "{{ tenant_spec }}"
    prices: "{{ tenant_prices }}"
    build_hours: 10
  register: cost

- name: Show the total
  ansible.builtin.debug:
    msg: "{{ cost.estimate.total_monthly }} {{ cost.estimate.currency }} per month"
"""

RETURN = r"""
estimate:
  description: The monthly estimate.
  type: dict
  returned: success
  contains:
    currency:
      description: Currency of every amount.
      type: str
      sample: USD
    region:
      description: Region of the tenant.
      type: str
      sample: eu-west-3
    priced_region:
      description: Region whose prices were used (the default region when the tenant's has no entry).
      type: str
      sample: eu-west-3
    price_date:
      description: Date of the price table.
      type: str
      sample: "2026-11-28"
    total_monthly:
      description: Sum of the monthly amounts of the lines.
      type: float
      sample: 308.7
    lines:
      description: Priced items; C(monthly) is C(quantity) x C(unit_price) rounded to the cent.
      type: list
      elements: dict
      sample:
        - service: AppStream 2.0
          item: AppStream fleet stream.standard.medium, On-Demand streaming
          quantity: 260.7
          unit: instance-hour
          unit_price: 0.23
          monthly: 59.96
    assumptions:
      description: Every assumption of the estimate, in words, with the figures used.
      type: list
      elements: str
      sample: ["Streaming demand: 3 enabled user(s) x 4 h per working day x 21.7 working days = 260.7 instance-hours"]
    warnings:
      description: What makes the estimate less reliable or needs attention (also shown as Ansible warnings).
      type: list
      elements: str
      sample: ["No prices for region ap-south-2 in the price table: us-east-1 prices are used instead"]
    budget_monthly:
      description: C(tenant.budget.monthly_usd), or null when the tenant has no budget.
      type: float
      sample: 300.0
    over_budget:
      description: Whether the estimate exceeds the budget.
      type: bool
      sample: true
    summary:
      description: The total and one line per item, for a terminal.
      type: list
      elements: str
      sample: ["Estimated monthly cost in eu-west-3: 308.70 USD; budget 300.00 USD, OVER BUDGET",
               " 59.96  AppStream fleet stream.standard.medium, On-Demand streaming (260.7 instance-hour x 0.23)"]
    sources:
      description: Pricing pages the figures come from, by service.
      type: dict
      sample: {appstream: "https://aws.amazon.com/appstream2/pricing/"}
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.cost import CostError, estimate
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.outcome import exit_with

ARGUMENT_SPEC = {
    "tenant": {"type": "dict", "required": True},
    "prices": {"type": "dict", "required": True},
    "build_hours": {"type": "float", "default": 10},
    "streaming_hours_per_user_day": {"type": "float", "default": 4},
    "domain_controllers": {"type": "int", "default": 2},
}


def outcome(params: dict[str, Any]) -> dict[str, Any]:
    """The module's result from its validated parameters (``main`` and the action plugin both return it)."""
    try:
        result = estimate(
            params["tenant"],
            params["prices"],
            build_hours=params["build_hours"],
            streaming_hours_per_user_day=params["streaming_hours_per_user_day"],
            domain_controllers=params["domain_controllers"],
        )
    except CostError as err:
        return {"failed": True, "msg": f"Cannot estimate the cost of the tenant: {err}"}
    return {"estimate": result, "warnings": list(result["warnings"])}


def main() -> None:
    # Playbooks run plugins/action/tenant_cost_estimate.py (same spec, same outcome, no Python process of its own).
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    exit_with(module, outcome(module.params))


if __name__ == "__main__":
    main()
