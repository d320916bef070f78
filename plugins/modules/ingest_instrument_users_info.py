#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ingest_instrument_users_info
version_added: 0.2.0
short_description: The IAM users of a tenant's instruments, by name, with one ListUsers call
description:
  - Lists the IAM users under the toolkit's ingest path (C(/tenant-toolkit/ingest/)) whose name is the tenant's
    instrument user name (C(<tenant>-ingest-<instrument>)), and returns their names and instruments.
  - Only ListUsers is called (names and paths, no tags and no call per user), so a per-tenant deployer session that
    may read nothing of another tenant's users can run it. Whether a user really is the tenant's is checked by the
    module that changes it (M(iconeus.tenant_toolkit.tenant_iam_principal) reads its C(tenant) tag).
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  tenant:
    description: The tenant whose instrument users are listed.
    type: str
    required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.attributes.read_only
"""

EXAMPLES = r"""
- name: Read the instrument users of the tenant
  iconeus.tenant_toolkit.ingest_instrument_users_info:
    tenant: acme-neuro
  register: instrument_users
"""

RETURN = r"""
users:
  description: The users found, sorted by name.
  type: list
  elements: dict
  returned: always
  contains:
    user_name:
      description: The IAM user's name.
      type: str
    instrument:
      description: The instrument the name stands for.
      type: str
  sample: [{user_name: acme-neuro-ingest-ECHO-01, instrument: ECHO-01}]
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest.layout import (
    INSTRUMENT_USER_PATH,
    instrument_user_name,
)

try:  # noqa: SIM105 - the amazon.aws idiom: AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass


def instrument_users(listed: list[dict[str, Any]], tenant: str) -> list[dict[str, str]]:
    """The listed users named as `tenant`'s instrument users, with their instrument."""
    prefix = instrument_user_name(tenant, "")
    found = []
    for user in listed:
        name = user.get("UserName", "")
        if user.get("Path") == INSTRUMENT_USER_PATH and name.startswith(prefix) and len(name) > len(prefix):
            found.append({"user_name": name, "instrument": name[len(prefix) :]})
    return sorted(found, key=lambda item: item["user_name"])


def main() -> None:
    module = AnsibleAWSModule(argument_spec=dict(tenant=dict(type="str", required=True)), supports_check_mode=True)
    iam = module.client("iam", retry_decorator=retry_decorator())
    try:
        pages = iam.get_paginator("list_users").paginate(PathPrefix=INSTRUMENT_USER_PATH)
        listed = [user for page in pages for user in page.get("Users", [])]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as err:
        module.fail_json_aws(err, msg=f"tenant {module.params['tenant']}: cannot list the instrument users")
    module.exit_json(changed=False, users=instrument_users(listed, module.params["tenant"]))


if __name__ == "__main__":
    main()
