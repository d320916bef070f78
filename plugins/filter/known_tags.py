# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the run's tag listing (module tenant_tags_info, the `tenant_known_tags` fact) says of one resource.

Called by its FQCN, ``iconeus.tenant_toolkit.<name>``:

    {{ known_tags | known_secret_arn('acme/directory/appstream-service', 'eu-west-3', 'acme') }}
        -> "arn:aws:secretsmanager:eu-west-3:111122223333:secret:acme/directory/appstream-service-AbCdEf", or ""

The listing holds the resources whose `tenant` tag named the tenant when the run took its lock, so a secret it
shows existed then and was the tenant's (the filter checks the tag again: the roles' listing is an input that
could be given). It may have been scheduled for deletion or deleted since: a caller that goes on without reading
the secret accepts that, and the next run that reads it finds out. One it does not show may still exist
(created since, or not yet in the tagging index), and the caller reads it as before. Used by
roles/ad_structure/tasks/service_secret.yml.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.secrets import known_owned_secret_arn


def known_secret_arn(known: Any, name: str, region: str | None, tenant: str) -> str:
    """The listed ARN of the secret named `name` in `region` (exact name match) whose `tenant` tag is `tenant`,
    else an empty string."""
    if known is not None and not isinstance(known, Mapping):
        raise AnsibleFilterError(f"known_secret_arn expects the listing (ARN to tags), got {type(known).__name__}")
    if not isinstance(name, str) or not name or not isinstance(tenant, str) or not tenant:
        raise AnsibleFilterError("known_secret_arn needs the secret's name and the tenant")
    return known_owned_secret_arn(known, name, region, tenant) or ""


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"known_secret_arn": known_secret_arn}
