# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The tags a run read once for the whole tenant (module tenant_tags_info, one GetResources call), handed
    # to the modules that would otherwise read each resource's tags (module_utils.aws.tags.known_or_read).
    DOCUMENTATION = r"""
options:
  known_tags:
    description:
      - Tags of the tenant's resources read earlier in this run by M(iconeus.tenant_toolkit.tenant_tags_info)
        (ARN to tags). A resource listed here is not read again; one not listed (created since, or not the
        tenant's) is read with C(ListTagsForResource) as before.
      - Only resources whose C(tenant) tag names the tenant are ever listed, so a resource of another tenant
        is always read, and refused, as without this option.
      - Pass it only in the run that read it (the roles check the run id); a resource whose tags this run
        changed since would be planned against its old tags.
    type: dict
"""
