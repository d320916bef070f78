# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: tenant_session
short_description: A tenant's session of the per-tenant deployer role, as a credentials file
version_added: 0.1.0
description:
  - Assumes the deployer role named by the term with STS C(AssumeRole), passing the session tag
    C(tenant=<tenant>), writes the temporary credentials to a credentials file of the tenant's own (mode 0600
    in a directory of mode 0700) under the profile C(tenant-session-<tenant>), and returns the file's path.
  - The credentials never leave the file, so a play's C(environment) holds a path and a profile name
    (C(AWS_SHARED_CREDENTIALS_FILE), C(AWS_PROFILE)), which Ansible may show at C(-vvv), and no key.
  - Ansible templates a play's C(environment) for every task; a session is reused for O(reuse_for) seconds,
    so there is about one C(AssumeRole) per tenant every O(reuse_for) seconds, and every module starts with
    credentials valid for at least O(duration) minus O(reuse_for) seconds.
  - The role must trust the caller for C(sts:AssumeRole) and C(sts:TagSession) (IAM User Guide, "Pass session
    tags in AWS STS"); the caller is whoever the AWS options or the controller's environment name.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  _terms:
    description: ARN of the per-tenant deployer role.
    required: true
  tenant:
    description: The tenant (the session tag's value, part of the session name and of the file name).
    type: str
    required: true
  duration:
    description:
      - Lifetime of a session, in seconds (900 to the role's maximum session duration; 1 hour when the
        caller is itself a role session, STS's limit on role chaining).
    type: int
    default: 3600
  reuse_for:
    description: Seconds a session is reused before a new one is assumed.
    type: int
    default: 900
  session_dir:
    description: Directory of the credentials files.
    type: path
    default: ~/.cache/appstream-tenant-toolkit/sessions
    env:
      - name: TENANT_TOOLKIT_SESSION_DIR
extends_documentation_fragment:
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
"""

EXAMPLES = r"""
- name: Run the tenant's tasks as its own session of the deployer role
  ansible.builtin.command: aws sts get-caller-identity
  environment:
    AWS_SHARED_CREDENTIALS_FILE: >-
      {{ lookup('iconeus.tenant_toolkit.tenant_session', 'arn:aws:iam::123456789012:role/tenant-deployer',
                tenant='acme-neuro', region='eu-west-3') }}
    AWS_PROFILE: tenant-session-acme-neuro
  changed_when: false
"""

RETURN = r"""
_raw:
  description: The path of the credentials file holding the profile C(tenant-session-<tenant>).
  type: list
  elements: path
"""

import hashlib
import re
import time
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleLookupError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.plugin_utils.lookup import AWSLookupBase
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.credentials_file import (
    private_directory,
    write_private,
)

TENANT = re.compile(r"^[a-z][a-z0-9-]{2,23}$")  # the tenant contract's name rule (design.md section 4)
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_STAMP = re.compile(r"^# (assumed|expires): (\d+)$", re.MULTILINE)


def profile_name(tenant: str) -> str:
    return f"tenant-session-{tenant}"


def session_file(directory: Path, role_arn: str, tenant: str) -> Path:
    """One file per tenant and role (a tenant aimed at another role gets a session of that role)."""
    digest = hashlib.sha256(role_arn.encode()).hexdigest()[:12]
    return directory / f"{tenant}-{digest}.credentials"


def still_usable(text: str, now: float, reuse_for: int) -> bool:
    """Whether a written session was assumed less than `reuse_for` seconds ago and is not about to expire."""
    stamps = {name: int(value) for name, value in _STAMP.findall(text)}
    if set(stamps) != {"assumed", "expires"}:
        return False
    return now - stamps["assumed"] < reuse_for and stamps["expires"] - now > 60


def credentials_text(role_arn: str, tenant: str, credentials: dict[str, Any], now: float) -> str:
    expires = credentials["Expiration"]
    expiry = int(expires.timestamp()) if hasattr(expires, "timestamp") else int(now) + 900
    return (
        f"# A session of {role_arn} for tenant {tenant}, written by iconeus.tenant_toolkit.tenant_session.\n"
        f"# assumed: {int(now)}\n"
        f"# expires: {expiry}\n"
        f"[{profile_name(tenant)}]\n"
        f"aws_access_key_id = {credentials['AccessKeyId']}\n"
        f"aws_secret_access_key = {credentials['SecretAccessKey']}\n"
        f"aws_session_token = {credentials['SessionToken']}\n"
    )


class LookupModule(AWSLookupBase):
    def run(self, terms: list[str], variables: Any = None, **kwargs: Any) -> list[str]:
        super().run(terms, variables, **kwargs)
        tenant = self.get_option("tenant")
        if not isinstance(tenant, str) or not TENANT.match(tenant):
            raise AnsibleLookupError("tenant: must be a tenant name (^[a-z][a-z0-9-]{2,23}$)")
        if len(terms) != 1 or not isinstance(terms[0], str) or not ROLE_ARN.match(terms[0]):
            raise AnsibleLookupError("tenant_session: give the ARN of one IAM role (aws_assume_role_arn)")
        role_arn = terms[0]
        duration, reuse_for = int(self.get_option("duration")), int(self.get_option("reuse_for"))
        if not 900 <= duration <= 43200 or not 0 < reuse_for < duration:
            raise AnsibleLookupError("duration: 900 to 43200 seconds, and reuse_for between 0 and duration")
        path = session_file(private_directory(Path(self.get_option("session_dir")).expanduser()), role_arn, tenant)
        now = time.time()
        if path.exists() and still_usable(path.read_text(), now, reuse_for):
            return [str(path)]
        client = self.client("sts", AWSRetry.jittered_backoff(retries=5, delay=1, max_delay=10))
        try:
            answer = client.assume_role(
                RoleArn=role_arn,
                RoleSessionName=f"toolkit-{tenant}",
                DurationSeconds=duration,
                Tags=[{"Key": "tenant", "Value": tenant}],
                aws_retry=True,
            )
        except Exception as err:  # noqa: BLE001 - botocore's message names the refusal, never a key
            raise AnsibleLookupError(f"tenant {tenant}: could not assume {role_arn}: {err}") from None
        write_private(path, credentials_text(role_arn, tenant, answer["Credentials"], now))
        return [str(path)]
