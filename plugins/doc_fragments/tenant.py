# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The owner of a tenant resource (module_utils.aws.module.tenant_argument_spec, aws.tags). Its tags
    # and purge_tags are documented by amazon.aws.tags, which every module using this fragment extends.
    DOCUMENTATION = r"""
options:
  tenant:
    description:
      - Name of the tenant that owns the resource, the value of its C(tenant) tag.
      - The module changes or deletes only a resource whose C(tenant) tag is O(tenant); a resource with the
        same name and another owner, or no owner, is never adopted.
      - The ownership tags C(tenant), C(environment) and C(managed-by=appstream-tenant-toolkit) are always
        set, whatever O(tags) holds, and O(purge_tags) never removes them.
    type: str
    required: true
  environment:
    description:
      - Environment of the tenant (V(dev), V(test) or V(prod)), the value of the C(environment) tag.
    type: str
"""
