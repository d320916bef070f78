# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: tenant_environment
short_description: A tenant's AWS connection as the environment of its tasks, no key in it
version_added: 0.2.0
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
    description:
      - An endpoint for every service (the local sandbox); unset on AWS.
      - Default, the host's C(aws_endpoint_url).
    type: str
  assume_role_arn:
    description: The per-tenant deployer role the modules run as. Default, the host's C(aws_assume_role_arn).
    type: str
  assume_role_duration:
    description:
      - Lifetime of a session of O(assume_role_arn), in seconds; by default the host's C(aws_assume_role_duration),
        else 3600.
    type: raw
  access_key:
    description:
      - AWS access key id, with O(secret_key); with O(assume_role_arn), the credentials the role is assumed with.
      - Default, the host's C(aws_access_key_id).
    type: raw
  secret_key:
    description: AWS secret access key. Default, the host's C(aws_secret_access_key).
    type: raw
  session_token:
    description: AWS STS session token of temporary keys. Default, the host's C(aws_session_token).
    type: raw
  profile:
    description:
      - A profile of the controller's AWS configuration; with O(assume_role_arn), the one the role is assumed with.
      - Default, the host's C(aws_profile).
    type: str
notes:
  - "An option not given to the lookup is the host's variable of the same meaning (C(aws_endpoint_url),
    C(aws_assume_role_arn), C(aws_assume_role_duration), C(aws_access_key_id), C(aws_secret_access_key),
    C(aws_session_token), C(aws_profile)), templated as any variable is (a C(vault_*) indirection, a vault-encrypted
    value), as C(group_vars/tenants/aws.yml) used them. What decides is whether the variable is defined, as
    there: C(aws_assume_role_arn) set to null or empty fails naming it, it does not fall back to a profile."
  - The access key, secret key and token are never shown in an error (their checks name the variable only).
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
# The options an inventory gives as host variables, and their names there.
HOST_VARIABLES = {
    "endpoint_url": "aws_endpoint_url",
    "assume_role_arn": "aws_assume_role_arn",
    "assume_role_duration": "aws_assume_role_duration",
    "access_key": "aws_access_key_id",
    "secret_key": "aws_secret_access_key",
    "session_token": "aws_session_token",
    "profile": "aws_profile",
}


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: Any = None, **kwargs: Any) -> list[dict[str, str]]:
        self.set_options(var_options=variables, direct=kwargs)
        if terms:
            raise AnsibleLookupError("tenant_environment takes no terms, only options")
        tenant, region = self.get_option("tenant"), self.get_option("region")
        if not isinstance(region, str) or not region:
            raise AnsibleLookupError("region: the tenant's region is required")
        settings = self._settings(variables or {}, kwargs)
        environment = {"AWS_DEFAULT_REGION": region, "AWS_REGION": region}
        if "endpoint_url" in settings:
            environment["AWS_ENDPOINT_URL"] = _text(settings, "endpoint_url")
        if "assume_role_arn" in settings:
            # Defined, even null or empty: the role decides (tenant_session refuses what is not a role ARN).
            source = {name: settings[name] for name in ("endpoint_url", "profile") if name in settings}
            if "session_token" in settings:
                source["session_token"] = _secret(settings, "session_token", optional=True)
            if "access_key" in settings:
                source.update(_key_pair(settings))
            path = self._delegate(
                "tenant_session",
                [settings["assume_role_arn"]],
                variables,
                tenant=tenant,
                duration=settings.get("assume_role_duration", 3600),
                region=region,
                **source,
            )
            environment.update(_credentials_file(path, f"tenant-session-{tenant}"))
        elif "access_key" in settings:
            path = self._delegate(
                "tenant_credentials",
                [],
                variables,
                tenant=tenant,
                **_key_pair(settings),
                session_token=_secret(settings, "session_token", optional=True) or "",
            )
            environment.update(_credentials_file(path, f"tenant-keys-{tenant}"))
        elif "profile" in settings:
            environment["AWS_PROFILE"] = _text(settings, "profile")
        return [environment]

    def _settings(self, variables: Any, given: dict[str, Any]) -> dict[str, Any]:
        """The options given to the lookup, else the host variables that are defined, templated."""
        settings = {}
        for option, variable in HOST_VARIABLES.items():
            if option in given:
                settings[option] = given[option]
            elif variable in variables:
                value = variables[variable]
                settings[option] = self._templar.template(value) if self._templar is not None else value
        return settings

    def _delegate(self, name: str, terms: list[Any], variables: Any, **options: Any) -> str:
        """The credentials file the collection's lookup `name` writes (it checks its options itself)."""
        lookup = lookup_loader.get(f"{COLLECTION}.{name}", loader=self._loader, templar=self._templar)
        if lookup is None:
            raise AnsibleLookupError(f"tenant_environment: the lookup {COLLECTION}.{name} could not be loaded")
        (path,) = lookup.run(terms, variables, **options)
        return path


def _text(settings: dict[str, Any], option: str) -> str:
    value = settings[option]
    if not isinstance(value, str) or not value:
        raise AnsibleLookupError(f"{HOST_VARIABLES[option]}: must be a non-empty string")
    return value


def _secret(settings: dict[str, Any], option: str, optional: bool = False) -> str | None:
    """A key, secret or token: a non-empty string, never shown."""
    if option not in settings:
        if optional:
            return None
        raise AnsibleLookupError(f"{HOST_VARIABLES[option]}: required with {HOST_VARIABLES['access_key']}")
    value = settings[option]
    if optional and value in (None, ""):
        return None
    if not isinstance(value, str) or not value:
        raise AnsibleLookupError(f"{HOST_VARIABLES[option]}: must be a non-empty string (value not shown)")
    return value


def _key_pair(settings: dict[str, Any]) -> dict[str, str | None]:
    return {"access_key": _secret(settings, "access_key"), "secret_key": _secret(settings, "secret_key")}


def _credentials_file(path: str, profile: str) -> dict[str, str]:
    return {"AWS_SHARED_CREDENTIALS_FILE": path, "AWS_PROFILE": profile, **dict.fromkeys(BLANKED, "")}
