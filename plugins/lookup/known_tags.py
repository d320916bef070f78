# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: known_tags
short_description: This run's listing of the tenant's resources with their tags, else an empty dict
version_added: 0.2.0
description:
  - Returns the C(resources) of the host's C(tenant_known_tags) fact (ARN to tags, what module
    M(iconeus.tenant_toolkit.tenant_tags_info) listed right after the run took the tenant's lock,
    playbooks/lock.yml) when that fact was made by this very run, else C({}).
  - The roles give it to their modules' C(known_tags) option, so that a listing is never used by another run (a
    fact kept by a fact cache, or given as an extra variable, which validation refuses anyway). Such a listing
    may predate changes, and the modules would plan against old tags.
  - An empty result only means that the modules read each resource's tags themselves, as without a listing.
author: Tenant toolkit maintainers (@tenant-toolkit)
notes:
  - The run is told by the C(iconeus.tenant_toolkit.run_id) lookup, so the C(tenant_state) callback must be enabled
    when the fact is set; without the fact no run id is needed.
"""

EXAMPLES = r"""
- name: Converge the fleet with this run's listing
  iconeus.tenant_toolkit.appstream_fleet:
    name: acme-fleet
    known_tags: "{{ lookup('iconeus.tenant_toolkit.known_tags') or omit }}"
"""

RETURN = r"""
_raw:
  description: One dict, ARN to tags (empty without a listing of this run).
  type: list
  elements: dict
"""

import os
from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.iconeus.tenant_toolkit.plugins.lookup.run_id import run_of_this_process

FACT = "tenant_known_tags"


def listing_of_this_run(fact: Any, run_id: str) -> dict[str, Any]:
    """`fact`'s resources when it is a listing made by run `run_id`, else an empty dict."""
    if not isinstance(fact, Mapping) or fact.get("run") != run_id:
        return {}
    resources = fact.get("resources")
    return dict(resources) if isinstance(resources, Mapping) else {}


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: Any = None, **kwargs: Any) -> list[Any]:
        if terms or kwargs:
            raise AnsibleLookupError("known_tags takes no term and no option")
        fact = (variables or {}).get(FACT)
        if fact is None:
            return [{}]
        run_id, _controller = run_of_this_process(dict(os.environ), os.getpid(), os.getppid())
        return [listing_of_this_run(fact, run_id)]
