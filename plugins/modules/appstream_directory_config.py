#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: appstream_directory_config
version_added: 0.1.0
short_description: Manage the AppStream 2.0 directory config of a tenant's Active Directory
description:
  - Creates, updates and deletes the AppStream 2.0 directory config that lets fleets and image builders
    join an Active Directory domain (OUs, service account, certificate-based authentication).
  - One directory config exists per directory name and region; it is identified by O(directory_name).
  - "AWS never returns the service account password, so the module cannot tell whether it changed.
    With O(update_password=on_create) (the default) it is sent only when the config is created or when
    the account name changes; O(update_password=always) sends it on every run, which then always reports
    a change."
  - "Ownership: directory configs cannot be tagged. The module therefore proves ownership through the
    directory itself: before it creates, changes or deletes a config it looks up the AWS Directory
    Service directory of that name in the region and requires its C(tenant) tag to be O(tenant)
    (the toolkit's directory role tags it). A config for a directory another tenant owns, or for a
    name no tagged directory carries, is never changed or deleted. O(verify_directory_owner=false)
    turns the check off for directories the toolkit does not manage (for example an AD Connector of
    the customer's own domain); the config name then has to be passed explicitly, as it always is."
  - A config still used by a fleet or an image builder (C(DomainJoinInfo)) is not deleted; the module names
    the users, in check mode too.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  directory_name:
    description: Fully qualified domain name of the directory, for example C(corp.acme-neuro.example).
    type: str
    required: true
  state:
    description: Whether the directory config exists.
    type: str
    choices: [present, absent]
    default: present
  organizational_unit_distinguished_names:
    description:
      - Distinguished names of the OUs computer objects may be created in (no spaces in OU names; the default
        C(CN=Computers) container is not an OU). Required to create the config.
    type: list
    elements: str
  service_account_name:
    description:
      - Service account in C(DOMAIN\user) form. It needs, on the OUs, the rights to create computer objects,
        change and reset passwords and write descriptions.
      - When unset and O(service_account_secret_id) is given, the secret's C(username) is used.
    type: str
  service_account_password:
    description: Password of the service account. Mutually exclusive with O(service_account_secret_id).
    type: str
  service_account_secret_id:
    description:
      - "Secrets Manager secret (name or ARN) holding the service account as JSON,
        C({\"username\": \"DOMAIN\\\\\\\\user\", \"password\": \"...\"}) (C(username) is optional)."
      - The module reads it itself, so the password never passes through Ansible variables.
    type: str
  update_password:
    description:
      - V(on_create) sends the password only when the config is created or the account name changes.
      - V(always) sends it on every run (reported as a change, since AWS never returns it to compare).
    type: str
    choices: [always, on_create]
    default: on_create
  certificate_based_auth:
    description: Certificate-based authentication through an AWS Private CA.
    type: dict
    suboptions:
      status:
        description: Whether it is enabled.
        type: str
        choices: [DISABLED, ENABLED, ENABLED_NO_DIRECTORY_LOGIN_FALLBACK]
      certificate_authority_arn:
        description: ARN of the AWS Private CA.
        type: str
  verify_directory_owner:
    description:
      - Require a Directory Service directory named O(directory_name), tagged C(tenant=<tenant>), before any change.
    type: bool
    default: true
  tenant:
    description: The tenant whose directory the config serves.
    type: str
    required: true
attributes:
  check_mode:
    details: Read calls only.
  diff_mode:
    details: The password is shown only as a placeholder.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.attributes
"""

EXAMPLES = r"""
- name: Ensure AppStream can join computers to the tenant's directory
  iconeus.tenant_toolkit.appstream_directory_config:
    tenant: acme-neuro
    directory_name: corp.acme-neuro.example
    organizational_unit_distinguished_names:
      - OU=AppStream,OU=Computers,OU=ACMENEURO,DC=corp,DC=acme-neuro,DC=example
    service_account_name: ACMENEURO\appstream-svc
    service_account_secret_id: acme-neuro/directory/appstream-service

- name: Rotate the service account password
  iconeus.tenant_toolkit.appstream_directory_config:
    tenant: acme-neuro
    directory_name: corp.acme-neuro.example
    service_account_name: ACMENEURO\appstream-svc
    service_account_password: "{{ vault_appstream_service_password }}"
    update_password: always

- name: Remove the directory config
  iconeus.tenant_toolkit.appstream_directory_config:
    tenant: acme-neuro
    directory_name: corp.acme-neuro.example
    state: absent
"""

RETURN = r"""
directory_config:
  description: The directory config as DescribeDirectoryConfigs reports it (never with a password).
  type: dict
  returned: when the config exists
  contains:
    directory_name:
      description: Directory name.
      type: str
      sample: corp.acme-neuro.example
    organizational_unit_distinguished_names:
      description: OUs computer objects are created in.
      type: list
      elements: str
      sample: [OU=AppStream,OU=Computers,OU=ACMENEURO,DC=corp,DC=acme-neuro,DC=example]
    service_account_credentials:
      description: The service account name.
      type: dict
      sample: {account_name: ACMENEURO\appstream-svc}
    certificate_based_auth_properties:
      description: Certificate-based authentication settings.
      type: dict
      sample: {status: DISABLED}
plan:
  description: What the run changes (or, in check mode, would change).
  type: dict
  returned: always
  sample:
    action: update
    fields: [organizational_unit_distinguished_names]
    live: [organizational_unit_distinguished_names]
    requires_stop: []
    requires_recreate: []
    removals: []
not_owned:
  description: Set when O(state=absent) found a config the tenant cannot prove it owns; nothing was deleted.
  type: bool
  returned: when relevant
  sample: true
diff:
  description: Before and after values of the changed options (the password as a placeholder).
  type: dict
  returned: always
  sample: {before: {service_account_password: (not returned by AWS)}, after: {service_account_password: (sent)}}
"""

import json
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.transformation import camel_dict_to_snake_dict
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.api import describe_all, describe_one
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator, run
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import (
    NotOwned,
    Plan,
    PlanRefused,
    ResourceKind,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.secrets import (
    SecretError,
    read_owned_secret,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import is_owned, list_to_dict, owner_of

# Placeholders shown in plans and diffs instead of the password, which AWS never returns.
PASSWORD_UNKNOWN = "(not returned by AWS)"  # noqa: S105
PASSWORD_SENT = "(sent)"  # noqa: S105


def argument_spec() -> dict[str, Any]:
    return dict(
        directory_name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        organizational_unit_distinguished_names=dict(type="list", elements="str"),
        service_account_name=dict(type="str"),
        service_account_password=dict(type="str", no_log=True),
        service_account_secret_id=dict(type="str"),
        update_password=dict(type="str", default="on_create", choices=["always", "on_create"], no_log=False),
        certificate_based_auth=dict(
            type="dict",
            options=dict(
                status=dict(type="str", choices=["DISABLED", "ENABLED", "ENABLED_NO_DIRECTORY_LOGIN_FALLBACK"]),
                certificate_authority_arn=dict(type="str"),
            ),
        ),
        verify_directory_owner=dict(type="bool", default=True),
        tenant=dict(type="str", required=True),
    )


class DirectoryConfig(ResourceKind):
    kind = "directory_config"
    taggable = False  # ownership is proven through the directory (see verify_owner)

    def __init__(self, module: AnsibleAWSModule, client: Any) -> None:
        super().__init__(module, module.params["tenant"])
        self.client = client
        self.current: dict[str, Any] | None = None
        self._secret: dict[str, str] | None = None

    @property
    def name(self) -> str:
        return self.params["directory_name"]

    # -- credentials ---------------------------------------------------------------------------
    def secret(self) -> dict[str, str]:
        """The service account from Secrets Manager, read once and masked in every output."""
        if self._secret is None:
            secret_id = self.params["service_account_secret_id"]
            client = self.module.client("secretsmanager", retry_decorator=retry_decorator())
            try:
                raw = read_owned_secret(client, secret_id, self.tenant)
            except SecretError as err:
                self.module.fail_json(msg=str(err))
            if raw is None:
                self.module.fail_json(msg=f"service_account_secret_id: secret {secret_id!r} does not exist")
            try:
                document = json.loads(raw)
            except ValueError:
                document = {"password": raw}
            if not isinstance(document, dict):
                document = {"password": raw}
            password = document.get("password") or document.get("Password") or ""
            if not password:
                self.module.fail_json(msg=f"secret {secret_id!r} has no 'password' key")
            self.module.no_log_values.add(password)
            username = document.get("username") or document.get("account_name") or ""
            self._secret = {"username": username, "password": password}
        return self._secret

    def account_name(self) -> str | None:
        if self.params.get("service_account_name"):
            return self.params["service_account_name"]
        if self.params.get("service_account_secret_id"):
            return self.secret()["username"] or None
        return None

    def password(self) -> str | None:
        if self.params.get("service_account_password"):
            return self.params["service_account_password"]
        if self.params.get("service_account_secret_id"):
            return self.secret()["password"]
        return None

    def has_password(self) -> bool:
        return bool(self.params.get("service_account_password") or self.params.get("service_account_secret_id"))

    # -- ownership -----------------------------------------------------------------------------
    def directory_owner(self) -> tuple[bool, str]:
        """Whether the tenant owns the Directory Service directory named like the config, and why not."""
        ds = self.module.client("ds", retry_decorator=retry_decorator())
        directories = describe_all(ds, "describe_directories", "DirectoryDescriptions")
        wanted = self.name.lower()
        matching = [d for d in directories if str(d.get("Name", "")).lower() == wanted]
        if not matching:
            return False, f"no Directory Service directory named {self.name!r} exists in this region"
        for directory in matching:
            tags = list_to_dict(describe_all(ds, "list_tags_for_resource", "Tags", ResourceId=directory["DirectoryId"]))
            if is_owned(tags, self.tenant):
                return True, ""
            owner = owner_of(tags)
        return False, f"directory {self.name!r} has tenant tag {owner!r}, not {self.tenant!r}"

    # -- the cycle -------------------------------------------------------------------------------
    def find(self) -> dict[str, Any] | None:
        config = describe_one(self.client, "describe_directory_configs", "DirectoryConfigs", DirectoryNames=[self.name])
        if config is not None:
            credentials = config.get("ServiceAccountCredentials") or {}
            credentials.pop("AccountPassword", None)
        self.current = config
        return config

    def desired(self) -> dict[str, Any]:
        cba = self.params.get("certificate_based_auth")
        wanted: dict[str, Any] = {
            "organizational_unit_distinguished_names": self.params.get("organizational_unit_distinguished_names"),
            "service_account_name": self.params.get("service_account_name"),
            "certificate_based_auth": None if cba is None else {k: v for k, v in cba.items() if v is not None},
            "service_account_password": None,
        }
        sends_password = self.current is None or self.params["update_password"] == "always"  # noqa: S105
        if self.has_password() and sends_password:
            wanted["service_account_password"] = PASSWORD_SENT
        if wanted["service_account_name"] is None and self.params.get("service_account_secret_id") and sends_password:
            wanted["service_account_name"] = self.account_name()
        return wanted

    def comparable(self, resource: dict[str, Any]) -> dict[str, Any]:
        cba = resource.get("CertificateBasedAuthProperties")
        return {
            "organizational_unit_distinguished_names": resource.get("OrganizationalUnitDistinguishedNames") or [],
            "service_account_name": (resource.get("ServiceAccountCredentials") or {}).get("AccountName"),
            "certificate_based_auth": None
            if not cba
            else {
                k: v
                for k, v in (
                    ("status", cba.get("Status")),
                    ("certificate_authority_arn", cba.get("CertificateAuthorityArn")),
                )
                if v is not None
            },
            "service_account_password": PASSWORD_UNKNOWN,
        }

    def users(self) -> list[str]:
        """Fleets and image builders joined to this directory (the service refuses the deletion)."""
        fleets = describe_all(self.client, "describe_fleets", "Fleets")
        builders = describe_all(self.client, "describe_image_builders", "ImageBuilders")
        return sorted(
            f"{kind} {item['Name']}"
            for kind, items in (("fleet", fleets), ("image builder", builders))
            for item in items
            if (item.get("DomainJoinInfo") or {}).get("DirectoryName", "").lower() == self.name.lower()
        )

    def annotate(self, result: dict[str, Any], plan: Plan) -> None:
        if not plan.changed:
            return
        if self.params["verify_directory_owner"]:
            owned, why = self.directory_owner()
            if not owned and self.module.check_mode and plan.action == "create" and why.startswith("no Directory"):
                # The plan of a new tenant: its directory is itself still to be created by an earlier stage.
                result["msg"] = f"directory config {self.name!r} would be created once its directory exists"
                owned = True
            if not owned:
                message = (
                    f"directory config {self.name!r} is not provably owned by tenant {self.tenant!r}: {why}; the "
                    "toolkit never changes or deletes it (verify_directory_owner=false for unmanaged directories)"
                )
                if plan.action != "delete":
                    raise NotOwned(message)
                plan.action = "none"
                result.update(changed=False, not_owned=True, msg=message, diff={"before": {}, "after": {}})
                result["plan"]["action"] = "none"
                return
        if plan.action == "delete":
            users = self.users()
            if users:
                raise PlanRefused(
                    f"directory config {self.name!r} is still used by {', '.join(users)}; remove their domain join "
                    "or delete them first",
                    result,
                )
        if plan.action == "create":
            missing = []
            if not self.params.get("organizational_unit_distinguished_names"):
                missing.append("organizational_unit_distinguished_names")
            if self.has_password() and not self.account_name():
                missing.append("service_account_name")
            if missing:
                raise PlanRefused(f"creating directory config {self.name!r} needs {', '.join(missing)}", result)
        if plan.action == "update" and "service_account_name" in plan.changes and not self.has_password():
            raise PlanRefused(
                "changing the service account needs its password (service_account_password or "
                "service_account_secret_id)",
                result,
            )

    def credentials(self) -> dict[str, str]:
        return {"AccountName": self.account_name() or "", "AccountPassword": self.password() or ""}

    def cba_member(self, value: dict[str, Any]) -> dict[str, Any]:
        member = {"Status": value.get("status")} if value.get("status") else {}
        if value.get("certificate_authority_arn"):
            member["CertificateAuthorityArn"] = value["certificate_authority_arn"]
        return member

    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any] | None:
        request: dict[str, Any] = {
            "DirectoryName": self.name,
            "OrganizationalUnitDistinguishedNames": list(desired["organizational_unit_distinguished_names"]),
        }
        if self.has_password():
            request["ServiceAccountCredentials"] = self.credentials()
        if desired.get("certificate_based_auth"):
            request["CertificateBasedAuthProperties"] = self.cba_member(desired["certificate_based_auth"])
        return self.client.create_directory_config(aws_retry=True, **request).get("DirectoryConfig")

    def update(self, resource: dict[str, Any], plan: Plan) -> dict[str, Any] | None:
        request: dict[str, Any] = {"DirectoryName": self.name}
        if "organizational_unit_distinguished_names" in plan.changes:
            request["OrganizationalUnitDistinguishedNames"] = list(
                plan.changes["organizational_unit_distinguished_names"][1]
            )
        if "service_account_name" in plan.changes or "service_account_password" in plan.changes:
            request["ServiceAccountCredentials"] = self.credentials()
        if "certificate_based_auth" in plan.changes:
            request["CertificateBasedAuthProperties"] = self.cba_member(plan.changes["certificate_based_auth"][1])
        return self.client.update_directory_config(aws_retry=True, **request).get("DirectoryConfig")

    def delete(self, resource: dict[str, Any]) -> None:
        self.client.delete_directory_config(DirectoryName=self.name, aws_retry=True)

    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        if not resource:
            return {}
        config = dict(resource)
        credentials = dict(config.get("ServiceAccountCredentials") or {})
        credentials.pop("AccountPassword", None)
        if credentials:
            config["ServiceAccountCredentials"] = credentials
        return camel_dict_to_snake_dict(config)


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        mutually_exclusive=[("service_account_password", "service_account_secret_id")],
    )
    client = module.client("appstream", retry_decorator=retry_decorator())
    run(module, DirectoryConfig(module, client), module.params["state"])


if __name__ == "__main__":
    main()
