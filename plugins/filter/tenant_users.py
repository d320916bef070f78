# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The directory account name (sAMAccountName) of a tenant user, as the tenant contract defines it.

    {{ user | tenant_username }}   -> user.username when given, else the cleaned e-mail local part

One definition for validation (``tenant_validate`` checks that these names are unique and allowed),
the directory content (ad_structure), the home folders (file_share_folders) and the secrets
``<tenant>/users/<name>``: the rule lives in ``plugins/module_utils/tenant_schema.py``.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from ansible.errors import AnsibleFilterError

_MODULE_NAME = "appstream_tenant_toolkit_tenant_schema"


def _load_schema() -> ModuleType:
    # Controller-side plugins cannot import project module_utils as `ansible.module_utils.*`
    # (that path only feeds AnsiballZ): load the file by path, once per process.
    if _MODULE_NAME in sys.modules:
        return sys.modules[_MODULE_NAME]
    path = Path(__file__).resolve().parent.parent / "module_utils" / "tenant_schema.py"
    spec = importlib.util.spec_from_file_location(_MODULE_NAME, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the tenant schema from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_MODULE_NAME] = module
    spec.loader.exec_module(module)
    return module


def tenant_username(user: Mapping[str, Any]) -> str:
    """The user's sAMAccountName: `username` when the definition gives one, else derived from `email`."""
    if not isinstance(user, Mapping) or not user.get("email"):
        raise AnsibleFilterError(f"tenant_username expects a tenant user with an email, got {user!r}")
    if user.get("username"):
        return str(user["username"])
    return _load_schema().derive_username(str(user["email"]))


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"tenant_username": tenant_username}
