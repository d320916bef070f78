# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: tenant_secret
short_description: Read a tenant's secret from AWS Secrets Manager, only if it is the tenant's
version_added: 0.1.0
description:
  - Returns the value of each named secret, or one field of its JSON document, after checking that the
    secret carries the tenant's C(tenant) tag. A secret of that name owned by another tenant, or untagged,
    fails the lookup with a message naming the secret and its owner; its value is never read.
  - Two calls per secret (DescribeSecret, then GetSecretValue by ARN); one (GetSecretValue) for a secret that
    O(known_tags) lists as the tenant's.
  - A refused secret is also reported as an C([ERROR]) line naming the host, because the tasks that read
    secrets are C(no_log) and Ansible censors their whole failure.
  - Unlike C(amazon.aws.secretsmanager_secret), which reads any secret that has the name.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  _terms:
    description: Names (or ARNs) of the secrets.
    required: true
  tenant:
    description: The tenant whose C(tenant) tag each secret must carry.
    type: str
    required: true
  field:
    description:
      - Return this key of the secret's JSON document instead of the whole string. With C(password), a
        secret that is a plain string is returned as it is.
    type: str
  on_missing:
    description: What to do when a secret does not exist. C(skip) returns an empty string for it.
    type: str
    choices: [error, skip]
    default: error
  known_tags:
    description:
      - Tags of the tenant's resources read once in this run by module C(iconeus.tenant_toolkit.tenant_tags_info)
        (the C(tenant_known_tags) fact of playbooks/lock.yml), ARN to tags.
      - A secret listed there with the tenant's C(tenant) tag is read by its ARN without C(DescribeSecret). One not
        listed (created since, another tenant's), or deleted or scheduled for deletion since, is described first
        as without it, so a foreign secret is still refused before its value is read.
    type: dict
    default: {}
  shared_credentials_file:
    description:
      - A credentials file holding the profile given as O(profile), for a tenant session written by the
        C(iconeus.tenant_toolkit.tenant_session) lookup. A lookup runs in the controller, where a play's
        C(AWS_SHARED_CREDENTIALS_FILE) is not set.
    type: path
extends_documentation_fragment:
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
"""

EXAMPLES = r"""
- name: Read the directory admin password of the tenant
  ansible.builtin.set_fact:
    admin_password: >-
      {{ lookup('iconeus.tenant_toolkit.tenant_secret', 'acme-neuro/directory/admin',
                tenant='acme-neuro', field='password') }}
  no_log: true
"""

RETURN = r"""
_raw:
  description: The value (or field) of each secret, an empty string for a missing one with I(on_missing=skip).
  type: list
  elements: str
"""

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.utils.display import Display
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.plugin_utils.lookup import AWSLookupBase
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws import secrets

_CREDENTIALS_FILE = "AWS_SHARED_CREDENTIALS_FILE"


@contextlib.contextmanager
def credentials_file(path: str | None) -> Iterator[None]:
    """botocore reads AWS_SHARED_CREDENTIALS_FILE when it resolves a profile: set it for this lookup only
    (each task's lookups run in a worker process of their own)."""
    if not path:
        yield
        return
    before = os.environ.get(_CREDENTIALS_FILE)
    os.environ[_CREDENTIALS_FILE] = path
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(_CREDENTIALS_FILE, None)
        else:
            os.environ[_CREDENTIALS_FILE] = before


class LookupModule(AWSLookupBase):
    def run(self, terms: list[str], variables: Any = None, **kwargs: Any) -> list[str]:
        super().run(terms, variables, **kwargs)
        tenant = self.get_option("tenant")
        known = self.get_option("known_tags") or {}
        field = self.get_option("field")
        on_missing = self.get_option("on_missing")
        retry = AWSRetry.jittered_backoff(
            retries=10, delay=1, max_delay=30, catch_extra_error_codes=secrets.RETRY_CODES
        )
        with credentials_file(self.get_option("shared_credentials_file")):
            return self._read(terms, variables, tenant, field, on_missing, retry, known)

    def _read(
        self, terms: list[str], variables: Any, tenant: str, field: str, on_missing: str, retry: Any, known: Any
    ) -> list[str]:
        client = self.client("secretsmanager", retry)
        values = []
        for term in terms:
            try:
                value = secrets.read_owned_secret(client, term, tenant, field, known)
            except secrets.SecretError as err:
                # Secrets are read in no_log tasks, whose failure Ansible censors whole: say why first.
                # The message names the secret and its owner, never a value.
                host = (variables or {}).get("inventory_hostname", "")
                Display().error(f"{host}: {err}" if host else str(err), wrap_text=False)
                raise AnsibleLookupError(str(err)) from None
            except Exception as err:  # noqa: BLE001 - botocore errors carry the AWS message
                raise AnsibleLookupError(f"secret {term!r}: {err}") from None
            if value is None:
                if on_missing == "error":
                    raise AnsibleLookupError(f"secret {term!r} does not exist")
                value = ""
            values.append(value)
        return values
