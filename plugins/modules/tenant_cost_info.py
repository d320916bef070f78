#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tenant_cost_info
version_added: 0.1.0
short_description: Read a tenant's actual cost of a month from Cost Explorer
description:
  - "Reads the month-to-date (or a past month's) unblended cost of the resources tagged C(tenant=<tenant>)
    with one Cost Explorer C(GetCostAndUsage) call (MONTHLY, filtered by the tag), and whether C(tenant) is
    an active cost allocation tag (C(ListCostAllocationTags)): until it is (playbooks/bootstrap.yml activates
    it), Cost Explorer attributes no cost to any tenant and the amount is reported as unknown."
  - Cost Explorer charges each C(GetCostAndUsage) request (USD 0.01 at the time of writing); its data lags the
    bill by up to a day. Read-only.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  tenant:
    description: Value of the C(tenant) tag.
    type: str
    required: true
  month:
    description: The month, C(YYYY-MM). Defaults to the current month (UTC), to date.
    type: str
  tag_key:
    description: The cost allocation tag that names the tenant.
    type: str
    default: tenant
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.attributes.read_only
"""

EXAMPLES = r"""
- name: Read the tenant's cost of this month
  iconeus.tenant_toolkit.tenant_cost_info:
    tenant: acme-neuro
  register: actual_cost
"""

RETURN = r"""
cost:
  description: The tenant's cost of the month.
  type: dict
  returned: success
  contains:
    amount:
      description: Unblended cost in USD, null when the tag is not an active cost allocation tag.
      type: float
      sample: 123.45
    currency:
      description: Unit of the amount.
      type: str
      sample: USD
    start:
      description: First day read (inclusive).
      type: str
      sample: "2026-12-01"
    end:
      description: Day after the last day read (exclusive).
      type: str
      sample: "2026-12-07"
    estimated:
      description: Whether Cost Explorer marks the amount as an estimate (the month is not closed).
      type: bool
      sample: true
    tag_active:
      description: Whether the tag is an active cost allocation tag.
      type: bool
      sample: true
    note:
      description: Why there is no amount, when there is none.
      type: str
      sample: ""
"""

import datetime

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.usage import parse_month
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator


def period(month: str, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """[start, end) of the month, to date for the current one (Cost Explorer's End is exclusive)."""
    year, number = parse_month(month)
    start = datetime.date(year, number, 1)
    following = (start + datetime.timedelta(days=32)).replace(day=1)
    return start, min(following, today + datetime.timedelta(days=1))


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            tenant=dict(type="str", required=True),
            month=dict(type="str"),
            tag_key=dict(type="str", default="tenant", no_log=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    today = datetime.datetime.now(datetime.UTC).date()
    month = params["month"] or f"{today:%Y-%m}"
    try:
        start, end = period(month, today)
    except ValueError as err:
        module.fail_json(msg=str(err))
    if start > today:
        module.fail_json(msg=f"month: {month} has not started")
    # Cost Explorer has one endpoint, in us-east-1.
    client = module.client("ce", region="us-east-1", retry_decorator=retry_decorator())
    key = params["tag_key"]
    try:
        tags = client.list_cost_allocation_tags(TagKeys=[key], aws_retry=True).get("CostAllocationTags") or []
        active = any(tag.get("TagKey") == key and tag.get("Status") == "Active" for tag in tags)
        cost = {"amount": None, "currency": "USD", "start": start.isoformat(), "end": end.isoformat()}
        cost.update(estimated=True, tag_active=active, note="")
        if not active:
            cost["note"] = (
                f"{key} is not an active cost allocation tag: Cost Explorer attributes no cost to tenants "
                "(run playbooks/bootstrap.yml; activation takes up to 24 hours)"
            )
        else:
            results = client.get_cost_and_usage(
                TimePeriod={"Start": start.isoformat(), "End": end.isoformat()},
                Granularity="MONTHLY",
                Metrics=["UnblendedCost"],
                Filter={"Tags": {"Key": key, "Values": [params["tenant"]], "MatchOptions": ["EQUALS"]}},
                aws_retry=True,
            )["ResultsByTime"]
            totals = [result["Total"]["UnblendedCost"] for result in results if result.get("Total")]
            cost["amount"] = round(sum(float(total["Amount"]) for total in totals), 2)
            cost["currency"] = totals[0]["Unit"] if totals else "USD"
            cost["estimated"] = any(result.get("Estimated") for result in results)
    except Exception as err:  # botocore errors end as a module failure naming the read
        if hasattr(err, "response"):
            module.fail_json_aws(err, msg=f"Could not read the cost of tenant {params['tenant']} for {month}")
        raise
    module.exit_json(changed=False, cost=cost)


if __name__ == "__main__":
    main()
