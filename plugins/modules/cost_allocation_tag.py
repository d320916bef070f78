#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cost_allocation_tag
version_added: 0.1.0
short_description: Activate (or deactivate) a user-defined cost allocation tag of the account
description:
  - Reads the tag's status with C(ListCostAllocationTags) and, when it differs, sets it with
    C(UpdateCostAllocationTagsStatus) (Billing and Cost Management API reference). An active C(tenant) tag is what
    lets AWS Budgets' filter and Cost Explorer attribute spend to a tenant.
  - "AWS only knows a tag key once a resource of the account has carried it (up to 24 hours after); a key it does
    not know yet cannot be activated: the module then changes nothing, says so, and a later run activates it."
  - An account-wide setting (Cost Explorer's endpoint is us-east-1), part of the account bootstrap
    (playbooks/bootstrap.yml); no tenant owns it and no teardown changes it.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  tag_key:
    description: The tag key.
    type: str
    default: tenant
  status:
    description: The wanted status.
    type: str
    choices: [Active, Inactive]
    default: Active
attributes:
  check_mode:
    details: Read calls only.
  diff_mode:
    details: The status before and after.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.attributes
"""

EXAMPLES = r"""
- name: Ensure the tenant tag is an active cost allocation tag
  iconeus.tenant_toolkit.cost_allocation_tag:
    tag_key: tenant
"""

RETURN = r"""
tag:
  description: The tag as AWS knows it after the run (empty when AWS does not know the key yet).
  type: dict
  returned: always
  sample: {tag_key: tenant, status: Active, type: UserDefined}
known:
  description: Whether AWS knows the tag key (a resource has carried it).
  type: bool
  returned: always
  sample: true
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            tag_key=dict(type="str", default="tenant", no_log=False),
            status=dict(type="str", choices=["Active", "Inactive"], default="Active"),
        ),
        supports_check_mode=True,
    )
    key, wanted = module.params["tag_key"], module.params["status"]
    client = module.client("ce", region="us-east-1", retry_decorator=retry_decorator())

    def read() -> dict[str, Any] | None:
        tags = client.list_cost_allocation_tags(TagKeys=[key], aws_retry=True).get("CostAllocationTags") or []
        return next((tag for tag in tags if tag.get("TagKey") == key), None)

    def shaped(tag: dict[str, Any] | None) -> dict[str, Any]:
        return {"tag_key": tag["TagKey"], "status": tag["Status"], "type": tag.get("Type", "")} if tag else {}

    try:
        tag = read()
        if tag is None:
            module.warn(
                f"AWS does not know the tag key {key!r} yet (no resource has carried it, or for less than 24 hours): "
                "it cannot be activated now; run this again later"
            )
            module.exit_json(changed=False, known=False, tag={})
        changed = tag["Status"] != wanted
        diff = {"before": {"status": tag["Status"]}, "after": {"status": wanted}}
        if changed and not module.check_mode:
            errors = (
                client.update_cost_allocation_tags_status(
                    CostAllocationTagsStatus=[{"TagKey": key, "Status": wanted}], aws_retry=True
                ).get("Errors")
                or []
            )
            if errors:
                module.fail_json(
                    msg=f"AWS refused to set {key} {wanted}: {errors[0].get('Code')}: {errors[0].get('Message')}"
                )
            tag = read()
    except Exception as err:  # botocore errors end as a module failure naming the tag
        if hasattr(err, "response"):
            module.fail_json_aws(err, msg=f"Could not read or set the cost allocation tag {key}")
        raise
    module.exit_json(changed=changed, known=True, tag=shaped(tag), diff=diff)


if __name__ == "__main__":
    main()
