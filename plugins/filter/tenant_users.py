# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The directory account name (sAMAccountName) of a tenant user, as the tenant contract defines it.

The filters are called by their FQCN, ``iconeus.tenant_toolkit.<name>``; short names below.

    {{ user | tenant_username }}   -> user.username when given, else the cleaned e-mail local part

One definition for validation (``tenant_validate`` checks that these names are unique and allowed),
the directory content (ad_structure), the home folders (file_share_folders) and the secrets
``<tenant>/users/<name>``: the rule lives in ``plugins/module_utils/schema/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.checks import derive_username


def tenant_username(user: Mapping[str, Any]) -> str:
    """The user's sAMAccountName: `username` when the definition gives one, else derived from `email`."""
    if not isinstance(user, Mapping) or not user.get("email"):
        raise AnsibleFilterError(f"tenant_username expects a tenant user with an email, got {user!r}")
    if user.get("username"):
        return str(user["username"])
    return derive_username(str(user["email"]))


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"tenant_username": tenant_username}
