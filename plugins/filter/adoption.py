# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the plan of an adoption (module tenant_adopt) reads, one line per resource or difference.

The filters are called by their FQCN, ``iconeus.tenant_toolkit.<name>``; short names below.

    {{ resource | adoption_line }}                   -> "  subnet subnet-0a1b (lab-a) as private-subnet-...: set ..."
    {{ kept | adoption_line(kept=true) }}            -> "  left as it is: subnet subnet-0f0e: <reason>"
    {{ difference | adoption_line(difference=true) }} -> "  fleet demo-fleet: image is 'A', the definition wants 'B'"

Used by playbooks/ops/adopt.yml.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError


def adoption_line(item: Mapping[str, Any], kept: bool = False, difference: bool = False) -> str:
    if not isinstance(item, Mapping):
        raise AnsibleFilterError(f"adoption_line expects an entry of tenant_adopt's adoption, got {item!r}")
    if difference:
        line = f"  {item.get('resource')}: {item.get('field')} is {item.get('current')!r}"
        line += f", the definition wants {item.get('wanted')!r}"
        return line + (f" ({item['note']})" if item.get("note") else "")
    if kept:
        return f"  left as it is: {item.get('kind')} {item.get('id')}: {item.get('reason')}"
    name = f" ({item['name']})" if item.get("name") and item.get("name") != item.get("id") else ""
    key = f" as {item['key']}" if item.get("key") else ""
    tags = item.get("tags_to_set") or {}
    todo = f"set {', '.join(f'{k}={v}' for k, v in sorted(tags.items()))}" if tags else "already tagged"
    return f"  {item.get('kind')} {item.get('id')}{name}{key}: {todo}"


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"adoption_line": adoption_line}
