#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tenant_tags_info
version_added: 0.2.0
short_description: Read the tags of every resource of a tenant in one Resource Groups Tagging API call
description:
  - Lists the resources of the region whose C(tenant) tag is O(tenant), with all their tags, through the
    Resource Groups Tagging API C(GetResources) (100 resources a page, so one call for a tenant).
  - The roles hand the result to the modules that check ownership (option C(known_tags) of
    M(iconeus.tenant_toolkit.appstream_fleet), M(iconeus.tenant_toolkit.appstream_stack),
    M(iconeus.tenant_toolkit.appstream_user), M(iconeus.tenant_toolkit.directory_service),
    M(iconeus.tenant_toolkit.tenant_alarms) and M(iconeus.tenant_toolkit.tenant_alert_topic)), which then make
    no C(ListTagsForResource) call per resource for the resources listed here.
  - Read only.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  tenant:
    description: The tenant; only resources whose C(tenant) tag has this value are listed.
    type: str
    required: true
  resource_types:
    description:
      - The resource types to list, as C(GetResources) ResourceTypeFilters take them (C(service[:type]),
        the service and type strings of the resource's ARN).
      - The default is what the toolkit's modules read tags of; IAM resources are never listed by
        C(GetResources) and AWS Budgets are not regional, so their modules still read their own tags.
    type: list
    elements: str
    default: [appstream:fleet, appstream:stack, ds:directory, cloudwatch:alarm, sns, secretsmanager:secret,
              ec2:elastic-ip]
notes:
  - "API: U(https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html)
    (TagFilters, ResourceTypeFilters, ResourcesPerPage up to 100, PaginationToken; untagged resources are
    not returned). Needs the IAM action C(tag:GetResources), which has no resource-level permission."
  - The Resource Groups Tagging API answers from an index of the services' tags, which AWS does not promise
    to be up to date with a change made a moment earlier. A resource not listed is therefore never taken as
    absent or foreign; the modules read it directly. The roles call this module right after the run takes
    the tenant's lock, so no other run of the toolkit changes the tenant's tags while it uses the result.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.attributes.read_only
"""

EXAMPLES = r"""
- name: Read the tags of the tenant's resources once for the run
  iconeus.tenant_toolkit.tenant_tags_info:
    tenant: acme-neuro
  register: acme_tags

- name: Ensure the tenant's fleet, its tags read above
  iconeus.tenant_toolkit.appstream_fleet:
    name: acme-neuro-fleet
    tenant: acme-neuro
    known_tags: "{{ acme_tags.resources }}"
"""

RETURN = r"""
resources:
  description: The tenant's resources of O(resource_types), by ARN, each with all its tags.
  type: dict
  returned: always
  sample:
    "arn:aws:appstream:eu-west-3:123456789012:fleet/acme-neuro-fleet":
      tenant: acme-neuro
      managed-by: appstream-tenant-toolkit
      environment: prod
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.pagination import paginate
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import TENANT_TAG, list_to_dict

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # AnsibleAWSModule reports a missing botocore itself
    BotoCoreError = ClientError = ()  # type: ignore[assignment,misc]

RESOURCES_PER_PAGE = 100  # the API's maximum
# The Resource Groups Tagging API names its throttling and server errors apart from the other services.
RETRY_CODES = ["ThrottledException", "InternalServiceException"]


def tenant_resources(client: Any, tenant: str, resource_types: list[str]) -> dict[str, dict[str, str]]:
    """ARN -> tags of every resource of `resource_types` whose `tenant` tag is `tenant` (every page)."""
    mappings = paginate(
        client.get_resources,
        "ResourceTagMappingList",
        page_marker="PaginationToken",
        aws_retry=True,
        TagFilters=[{"Key": TENANT_TAG, "Values": [tenant]}],
        ResourceTypeFilters=list(resource_types),
        ResourcesPerPage=RESOURCES_PER_PAGE,
    )
    found = {item["ResourceARN"]: list_to_dict(item.get("Tags")) for item in mappings}
    # The filter is the API's; the ownership tag is checked here too, so that nothing else is ever handed on.
    return {arn: tags for arn, tags in found.items() if tags.get(TENANT_TAG) == tenant}


def main() -> None:
    argument_spec = dict(
        tenant=dict(type="str", required=True),
        resource_types=dict(
            type="list",
            elements="str",
            default=[
                "appstream:fleet",
                "appstream:stack",
                "ds:directory",
                "cloudwatch:alarm",
                "sns",
                "secretsmanager:secret",
                "ec2:elastic-ip",
            ],
        ),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    client = module.client("resourcegroupstaggingapi", retry_decorator=retry_decorator(RETRY_CODES))
    try:
        resources = tenant_resources(client, params["tenant"], params["resource_types"])
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"tags of tenant {params['tenant']!r}: AWS refused the request")
    module.exit_json(changed=False, resources=resources)


if __name__ == "__main__":
    main()
