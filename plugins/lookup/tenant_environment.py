# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: tenant_environment
short_description: A tenant's AWS connection as the environment of its tasks, no key in it
version_added: 0.9.0
description:
  - "Returns the environment variables boto3 reads for a tenant's modules, for a play's or a task's C(environment)
    keyword: the region (C(AWS_DEFAULT_REGION), C(AWS_REGION)), the endpoint when O(endpoint_url) is set, and who
    the modules are, the first that applies of the four below."
  - "With O(assume_role_arn): the tenant's own session of that role, tagged C(tenant=<tenant>), assumed with the
    other options (C(iconeus.tenant_toolkit.tenant_session)). C(AWS_SHARED_CREDENTIALS_FILE) names its credentials
    file, C(AWS_PROFILE) its profile C(tenant-session-<tenant>)."
  - "With O(access_key): the keys as a credentials file of the running run
    (C(iconeus.tenant_toolkit.tenant_credentials)), profile C(tenant-keys-<tenant>)."
  - "With O(profile): that profile of the controller's AWS configuration."
  - Else nothing, and the modules use the controller's own environment (AWX, Jenkins credentials).
  - "With a credentials file, C(AWS_ACCESS_KEY_ID), C(AWS_SECRET_ACCESS_KEY) and C(AWS_SESSION_TOKEN) are set
    empty, so that no module mixes in keys of the controller's environment (amazon.aws refuses a profile together
    with keys unless they are empty). No key or token is ever a value of the environment: Ansible shows a task's
    environment at C(-vvv)."
  - "One lookup instead of a chain of templated variables, because Ansible templates a play's C(environment) for
    every task of every tenant. The session is still asked for on every task, so that it is renewed as
    C(tenant_session) documents."
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  tenant:
    description: The tenant (the session tag's value, and part of the profile's and file's names).
    type: str
    required: true
  region:
    description: The tenant's region.
    type: str
    required: true
  endpoint_url:
    description: An endpoint for every service (the local sandbox); unset on AWS.
    type: str
    vars:
      - name: aws_endpoint_url
  assume_role_arn:
    description: The per-tenant deployer role the modules run as.
    type: str
    vars:
      - name: aws_assume_role_arn
  assume_role_duration:
    description: Lifetime of a session of O(assume_role_arn), in seconds.
    type: int
    default: 3600
    vars:
      - name: aws_assume_role_duration
  access_key:
    description:
      - AWS access key id, with O(secret_key).
      - With O(assume_role_arn), the credentials the role is assumed with.
    type: str
    vars:
      - name: aws_access_key_id
  secret_key:
    description: AWS secret access key.
    type: str
    vars:
      - name: aws_secret_access_key
  session_token:
    description: AWS STS session token of temporary keys.
    type: str
    vars:
      - name: aws_session_token
  profile:
    description:
      - A profile of the controller's AWS configuration.
      - With O(assume_role_arn), the profile the role is assumed with.
    type: str
    vars:
      - name: aws_profile
notes:
  - The options other than O(tenant) and O(region) are read from the host's variables of the same names as the
    inventory sets them (C(aws_endpoint_url), C(aws_access_key_id)...), as the toolkit's C(group_vars/tenants/aws.yml)
    does; given to the lookup, they win.
seealso:
  - plugin: iconeus.tenant_toolkit.tenant_session
    plugin_type: lookup
  - plugin: iconeus.tenant_toolkit.tenant_credentials
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Run a task as the tenant's connection (region, endpoint, credentials file) from the host's variables
  amazon.aws.aws_caller_info:
  environment: "{{ lookup('iconeus.tenant_toolkit.tenant_environment', tenant='acme-neuro', region='eu-west-3') }}"
"""

RETURN = r"""
_raw:
  description: The environment, one mapping of variable names to values.
  type: list
  elements: dict
"""

from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader
from ansible.plugins.lookup import LookupBase

COLLECTION = "iconeus.tenant_toolkit"
# Set empty beside a credentials file: boto3 would prefer keys of the controller's environment to the profile.
BLANKED = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: Any = None, **kwargs: Any) -> list[dict[str, str]]:
        self.set_options(var_options=variables, direct=kwargs)
        if terms:
            raise AnsibleLookupError("tenant_environment takes no terms, only options")
        tenant, region = self.get_option("tenant"), self.get_option("region")
        if not isinstance(region, str) or not region:
            raise AnsibleLookupError("region: the tenant's region is required")
        environment = {"AWS_DEFAULT_REGION": region, "AWS_REGION": region}
        endpoint_url = self.get_option("endpoint_url")
        if endpoint_url is not None:
            environment["AWS_ENDPOINT_URL"] = endpoint_url
        role_arn = self.get_option("assume_role_arn")
        access_key = self.get_option("access_key")
        if role_arn is not None:
            source = {"endpoint_url": endpoint_url, "session_token": self.get_option("session_token")}
            source["profile"] = self.get_option("profile")
            if access_key is not None:
                source.update(access_key=access_key, secret_key=self.get_option("secret_key"))
            path = self._delegate(
                "tenant_session",
                [role_arn],
                variables,
                tenant=tenant,
                duration=self.get_option("assume_role_duration"),
                region=region,
                **{name: value for name, value in source.items() if value is not None},
            )
            environment.update(_credentials_file(path, f"tenant-session-{tenant}"))
        elif access_key is not None:
            path = self._delegate(
                "tenant_credentials",
                [],
                variables,
                tenant=tenant,
                access_key=access_key,
                secret_key=self.get_option("secret_key"),
                session_token=self.get_option("session_token") or "",
            )
            environment.update(_credentials_file(path, f"tenant-keys-{tenant}"))
        elif self.get_option("profile") is not None:
            environment["AWS_PROFILE"] = self.get_option("profile")
        return [environment]

    def _delegate(self, name: str, terms: list[str], variables: Any, **options: Any) -> str:
        """The credentials file the collection's lookup `name` writes (it checks its options itself)."""
        lookup = lookup_loader.get(f"{COLLECTION}.{name}", loader=self._loader, templar=self._templar)
        if lookup is None:
            raise AnsibleLookupError(f"tenant_environment: the lookup {COLLECTION}.{name} could not be loaded")
        (path,) = lookup.run(terms, variables, **options)
        return path


def _credentials_file(path: str, profile: str) -> dict[str, str]:
    return {"AWS_SHARED_CREDENTIALS_FILE": path, "AWS_PROFILE": profile, **dict.fromkeys(BLANKED, "")}
