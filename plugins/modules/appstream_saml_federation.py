#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: appstream_saml_federation
version_added: 0.1.0
short_description: Manage the SAML federation of one AppStream tenant (IAM identity provider and streaming role)
description:
  - Ensures the IAM SAML identity provider holding the customer IdP's metadata, and the IAM role the IdP's
    users assume to stream from the tenant's stack, with a trust policy for that provider only
    (C(sts:AssumeRoleWithSAML), C(sts:TagSession), persistent NameID, the AWS sign-in endpoint as SAML
    audience) and an inline policy allowing C(appstream:Stream) on the tenant stack only, for the
    signed-in user only.
  - The role is created within a permissions boundary (O(permissions_boundary)), and a role found without
    it is put back within it. The boundary allows nothing but C(appstream:Stream) of a signed-in SAML user
    (C(policies/saml-role-boundary.json)), so whatever the role's trust or inline policy become, it can
    never be used for more; the deployer policy refuses any streaming role outside it.
  - Both carry the tenant's ownership tags. A provider or role of that name owned by another tenant, or
    untagged, is never changed or deleted (C(amazon.aws.iam_role) and C(community.aws.iam_saml_federation)
    adopt whatever has the name, which is why the toolkit has its own module).
  - A no-op run costs four read calls (caller identity, provider, role, inline policy).
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  account_id:
    description:
      - The AWS account the run works in, when the caller knows it (the roles pass the C(account_id) that
        M(iconeus.tenant_toolkit.tenant_network) read from the tenant's VPC).
      - Spares the C(sts:GetCallerIdentity) call the module makes without it.
    type: str
  provider_name:
    description: Name of the IAM SAML identity provider. Defaults to C(<tenant>-idp).
    type: str
  metadata_document:
    description:
      - The customer IdP's SAML 2.0 metadata (XML). Required with I(state=present).
      - Compared with the stored document after trimming surrounding white space.
    type: str
  role_name:
    description: Name of the federated streaming role. Defaults to C(<tenant>-appstream-saml).
    type: str
  role_description:
    description: Description of the role. Defaults to a sentence naming the tenant.
    type: str
  max_session_duration:
    description: Maximum session duration of the role, in seconds (1 to 12 hours).
    type: int
    default: 3600
  stack_name:
    description: The AppStream stack the role may stream from. Required with I(state=present).
    type: str
  policy_name:
    description: Name of the role's inline streaming policy.
    type: str
    default: appstream-stream
  permissions_boundary:
    description:
      - ARN of the managed policy that is the role's permissions boundary.
      - Defaults to C(arn:<partition>:iam::<account>:policy/appstream-tenant-toolkit/saml-role-boundary), the
        policy the operator creates once per account from C(policies/saml-role-boundary.json) (the deployer
        cannot create or change policies). AWS refuses to create the role while it does not exist.
    type: str
  saml_audience:
    description:
      - The SAML audience (C(SAML:aud)) the IdP's assertions must name.
      - The AWS sign-in endpoint for SAML; a regional endpoint when the IdP posts to one.
    type: str
    default: https://signin.aws.amazon.com/saml
  state:
    description:
      - C(present) creates or updates the provider and the role; C(absent) deletes the role (its inline and
        attached policies first) and then the provider, each only when owned by the tenant.
      - The deployer needs C(iam:DetachRolePolicy) on the role only if someone attached managed policies to it.
      - A role found without the permissions boundary is put within it before its policies are deleted.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description: IAM is synchronous; accepted for consistency with the other tenant modules.
  wait_timeout:
    default: 60
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.tenant
  - iconeus.tenant_toolkit.wait
  - iconeus.tenant_toolkit.attributes
attributes:
  check_mode:
    details: Read calls only; C(changed) and the diff show what would be done.
  diff_mode:
    details: Before and after values of the settings that would change, for the provider and the role.
notes:
  - The region is that of the tenant's stack; IAM itself is global.
"""

EXAMPLES = r"""
- name: Ensure the tenant's SAML federation
  iconeus.tenant_toolkit.appstream_saml_federation:
    tenant: acme-neuro
    environment: prod
    metadata_document: "{{ lookup('ansible.builtin.file', inventory_dir ~ '/files/saml-metadata.xml') }}"
    stack_name: acme-neuro-stack
    region: eu-west-3

- name: Remove the tenant's SAML federation
  iconeus.tenant_toolkit.appstream_saml_federation:
    tenant: acme-neuro
    state: absent
"""

RETURN = r"""
account_id:
  description: The AWS account hosting the tenant.
  type: str
  returned: always
  sample: "123456789012"
partition:
  description: The AWS partition of the account.
  type: str
  returned: always
  sample: aws
provider_arn:
  description: ARN of the SAML identity provider (also when it does not exist yet).
  type: str
  returned: always
  sample: arn:aws:iam::123456789012:saml-provider/acme-neuro-idp
role_arn:
  description: ARN of the federated role (also when it does not exist yet).
  type: str
  returned: always
  sample: arn:aws:iam::123456789012:role/acme-neuro-appstream-saml
saml_provider:
  description: The provider after the run (empty when absent); C(valid_until) and C(tags).
  type: dict
  returned: always
role:
  description:
    - The role after the run (empty when absent); C(arn), C(max_session_duration), C(permissions_boundary),
      C(tags).
  type: dict
  returned: always
plan:
  description: What the run changed or, in check mode, would change, for C(saml_provider) and C(role).
  type: dict
  returned: always
  sample: {saml_provider: {action: none, fields: []}, role: {action: update, fields: [trust_policy]}}
kept:
  description: With I(state=absent), what was left because another owner holds it.
  type: list
  elements: str
  returned: always
"""

import contextlib
import json
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import (
    account_id_of,
    converge_or_fail,
    retry_decorator,
    tenant_argument_spec,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import Plan, ResourceKind
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import (
    dict_to_list,
    is_owned,
    list_to_dict,
    owner_of,
)


def as_document(value: Any) -> Any:
    """IAM policy documents come back decoded by botocore, or as JSON text from some endpoints."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class Account:
    """The caller's account and partition, read once (one sts:GetCallerIdentity)."""

    def __init__(self, module: AnsibleAWSModule, iam: Any) -> None:
        if module.params["account_id"]:
            # Given by the caller (tenant_network's account_id): no STS call; the partition is the IAM
            # client's, which botocore resolves from the region (aws, aws-cn, aws-us-gov).
            self.id = account_id_of(module)
            self.partition = iam.meta.partition
            return
        identity = module.client("sts", retry_decorator=retry_decorator()).get_caller_identity(aws_retry=True)
        self.id = identity["Account"]
        self.partition = identity["Arn"].split(":")[1]

    def iam_arn(self, kind: str, name: str) -> str:
        return f"arn:{self.partition}:iam::{self.id}:{kind}/{name}"


# The boundary's path and name in the account (scripts/deployer_policy_parts.py BOUNDARY_PATH/BOUNDARY_NAME).
BOUNDARY_POLICY = "appstream-tenant-toolkit/saml-role-boundary"


class Found(ResourceKind):
    """A kind whose first find() may already have been made (ownership is checked for both first)."""

    _unset = object()
    found: Any = _unset

    def find(self) -> dict[str, Any] | None:
        if self.found is not Found._unset:
            found, self.found = self.found, Found._unset
            return found
        return self.read()

    def read(self) -> dict[str, Any] | None:
        raise NotImplementedError


class SamlProvider(Found):
    kind = "saml_provider"

    def __init__(self, module: AnsibleAWSModule, iam: Any, account: Account) -> None:
        super().__init__(module, module.params["tenant"], module.params["environment"])
        self.iam = iam
        self.arn = account.iam_arn("saml-provider", self.name)

    @property
    def name(self) -> str:
        return self.params["provider_name"] or f"{self.tenant}-idp"

    def read(self) -> dict[str, Any] | None:
        try:
            return self.iam.get_saml_provider(SAMLProviderArn=self.arn, aws_retry=True)
        except is_boto3_error_code("NoSuchEntity"):
            return None

    def current_tags(self, resource: dict[str, Any]) -> dict[str, str]:
        return list_to_dict(resource.get("Tags"))

    def desired(self) -> dict[str, Any]:
        if self.params["state"] == "absent":
            return {}
        return {"metadata_document": self.params["metadata_document"].strip()}

    def comparable(self, resource: dict[str, Any]) -> dict[str, Any]:
        return {"metadata_document": (resource.get("SAMLMetadataDocument") or "").strip()}

    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any] | None:
        self.iam.create_saml_provider(
            Name=self.name, SAMLMetadataDocument=desired["metadata_document"], Tags=dict_to_list(tags), aws_retry=True
        )
        return self.find()

    def update(self, resource: dict[str, Any], plan: Plan) -> dict[str, Any] | None:
        self.iam.update_saml_provider(
            SAMLProviderArn=self.arn, SAMLMetadataDocument=self.desired()["metadata_document"], aws_retry=True
        )
        return None

    def set_tags(self, resource: dict[str, Any], to_set: dict[str, str], to_remove: list[str]) -> None:
        if to_remove:
            self.iam.untag_saml_provider(SAMLProviderArn=self.arn, TagKeys=to_remove, aws_retry=True)
        if to_set:
            self.iam.tag_saml_provider(SAMLProviderArn=self.arn, Tags=dict_to_list(to_set), aws_retry=True)

    def delete(self, resource: dict[str, Any]) -> None:
        self.iam.delete_saml_provider(SAMLProviderArn=self.arn, aws_retry=True)

    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        if not resource:
            return {}
        return {
            "arn": self.arn,
            "valid_until": str(resource.get("ValidUntil", "")),
            "tags": self.current_tags(resource),
        }


class FederatedRole(Found):
    kind = "role"

    def __init__(self, module: AnsibleAWSModule, iam: Any, account: Account, provider_arn: str) -> None:
        super().__init__(module, module.params["tenant"], module.params["environment"])
        self.iam = iam
        self.arn = account.iam_arn("role", self.name)
        self.provider_arn = provider_arn
        stack = self.params["stack_name"] or ""
        self.stack_arn = f"arn:{account.partition}:appstream:{module.region}:{account.id}:stack/{stack}"
        self.boundary = self.params["permissions_boundary"] or account.iam_arn("policy", BOUNDARY_POLICY)

    @property
    def name(self) -> str:
        return self.params["role_name"] or f"{self.tenant}-appstream-saml"

    @property
    def policy_name(self) -> str:
        return self.params["policy_name"]

    def read(self) -> dict[str, Any] | None:
        try:
            role = self.iam.get_role(RoleName=self.name, aws_retry=True)["Role"]
        except is_boto3_error_code("NoSuchEntity"):
            return None
        try:
            document = self.iam.get_role_policy(RoleName=self.name, PolicyName=self.policy_name, aws_retry=True)
            role["StreamPolicy"] = as_document(document["PolicyDocument"])
        except is_boto3_error_code("NoSuchEntity"):
            role["StreamPolicy"] = None
        return role

    def current_tags(self, resource: dict[str, Any]) -> dict[str, str]:
        return list_to_dict(resource.get("Tags"))

    def trust_policy(self) -> dict[str, Any]:
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": self.provider_arn},
                    # sts:TagSession lets the IdP pass session tags (AppStream entitlements, session context).
                    "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
                    # Only assertions for the AWS sign-in endpoint (IAM User Guide, "Create a role for SAML
                    # 2.0 federation": a StringEquals condition on saml:aud).
                    "Condition": {
                        "StringEquals": {"SAML:sub_type": "persistent", "SAML:aud": self.params["saml_audience"]}
                    },
                }
            ],
        }

    def stream_policy(self) -> dict[str, Any]:
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "appstream:Stream",
                    "Resource": self.stack_arn,
                    "Condition": {"StringEquals": {"appstream:userId": "${saml:sub}"}},
                }
            ],
        }

    def desired(self) -> dict[str, Any]:
        if self.params["state"] == "absent":
            return {}
        return {
            "description": self.params["role_description"]
            or f"AppStream streaming role of tenant {self.tenant} (SAML federation)",
            "max_session_duration": self.params["max_session_duration"],
            "permissions_boundary": self.boundary,
            "trust_policy": self.trust_policy(),
            "stream_policy": self.stream_policy(),
        }

    def comparable(self, resource: dict[str, Any]) -> dict[str, Any]:
        return {
            "description": resource.get("Description", ""),
            "max_session_duration": resource.get("MaxSessionDuration"),
            "permissions_boundary": boundary_of(resource),
            "trust_policy": as_document(resource.get("AssumeRolePolicyDocument")),
            "stream_policy": resource.get("StreamPolicy"),
        }

    def _put_stream_policy(self) -> None:
        self.iam.put_role_policy(
            RoleName=self.name,
            PolicyName=self.policy_name,
            PolicyDocument=json.dumps(self.stream_policy()),
            aws_retry=True,
        )

    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any] | None:
        with self._boundary_must_exist():
            self.iam.create_role(
                RoleName=self.name,
                AssumeRolePolicyDocument=json.dumps(desired["trust_policy"]),
                Description=desired["description"],
                MaxSessionDuration=desired["max_session_duration"],
                PermissionsBoundary=self.boundary,
                Tags=dict_to_list(tags),
                aws_retry=True,
            )
        self._put_stream_policy()
        return self.find()

    @contextlib.contextmanager
    def _boundary_must_exist(self) -> Any:
        """AWS answers NoSuchEntity for a boundary policy that does not exist: say what to do about it."""
        try:
            yield
        except botocore.exceptions.ClientError as err:
            if err.response.get("Error", {}).get("Code") != "NoSuchEntity":
                raise
            self.module.fail_json(
                msg=f"permissions_boundary: the policy {self.boundary} does not exist. Create it once per account "
                "from policies/saml-role-boundary.json (docs/operator-guide.md, IAM permissions of the deployer)"
            )

    def _put_boundary(self) -> None:
        with self._boundary_must_exist():
            self.iam.put_role_permissions_boundary(
                RoleName=self.name, PermissionsBoundary=self.boundary, aws_retry=True
            )

    def update(self, resource: dict[str, Any], plan: Plan) -> dict[str, Any] | None:
        wanted = self.desired()
        # The boundary first: the deployer may change the role's policies only once it is within it.
        if "permissions_boundary" in plan.changes:
            self._put_boundary()
        if "trust_policy" in plan.changes:
            self.iam.update_assume_role_policy(
                RoleName=self.name, PolicyDocument=json.dumps(wanted["trust_policy"]), aws_retry=True
            )
        if "description" in plan.changes or "max_session_duration" in plan.changes:
            self.iam.update_role(
                RoleName=self.name,
                Description=wanted["description"],
                MaxSessionDuration=wanted["max_session_duration"],
                aws_retry=True,
            )
        if "stream_policy" in plan.changes:
            self._put_stream_policy()
        return None

    def set_tags(self, resource: dict[str, Any], to_set: dict[str, str], to_remove: list[str]) -> None:
        if to_remove:
            self.iam.untag_role(RoleName=self.name, TagKeys=to_remove, aws_retry=True)
        if to_set:
            self.iam.tag_role(RoleName=self.name, Tags=dict_to_list(to_set), aws_retry=True)

    def delete(self, resource: dict[str, Any]) -> None:
        # IAM refuses to delete a role that still has policies: the role is the tenant's own, so the
        # policies attached to it go with it. (A federated role has no instance profile.) The deployer may
        # delete the policies of a role within the boundary only: a role made before it is put within it.
        if boundary_of(resource) != self.boundary:
            self._put_boundary()
        for page in self.iam.get_paginator("list_role_policies").paginate(RoleName=self.name):
            for policy in page["PolicyNames"]:
                self.iam.delete_role_policy(RoleName=self.name, PolicyName=policy, aws_retry=True)
        for page in self.iam.get_paginator("list_attached_role_policies").paginate(RoleName=self.name):
            for policy in page["AttachedPolicies"]:
                self.iam.detach_role_policy(RoleName=self.name, PolicyArn=policy["PolicyArn"], aws_retry=True)
        self.iam.delete_role(RoleName=self.name, aws_retry=True)

    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        if not resource:
            return {}
        return {
            "arn": resource.get("Arn", self.arn),
            "max_session_duration": resource.get("MaxSessionDuration"),
            "permissions_boundary": boundary_of(resource),
            "tags": self.current_tags(resource),
        }


def boundary_of(role: dict[str, Any]) -> str | None:
    """The ARN of a role's permissions boundary, as GetRole returns it."""
    return (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")


def main() -> None:
    argument_spec = dict(
        provider_name=dict(type="str"),
        metadata_document=dict(type="str"),
        role_name=dict(type="str"),
        role_description=dict(type="str"),
        max_session_duration=dict(type="int", default=3600),
        stack_name=dict(type="str"),
        policy_name=dict(type="str", default="appstream-stream"),
        permissions_boundary=dict(type="str"),
        saml_audience=dict(type="str", default="https://signin.aws.amazon.com/saml"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        account_id=dict(type="str"),
        **tenant_argument_spec(wait_timeout=60),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["metadata_document", "stack_name"])],
        supports_check_mode=True,
    )
    state = module.params["state"]
    if state == "present":
        if not 3600 <= module.params["max_session_duration"] <= 43200:
            module.fail_json(msg="max_session_duration: must be between 3600 and 43200 seconds (1 to 12 hours)")
        if "EntityDescriptor" not in module.params["metadata_document"]:
            module.fail_json(msg="metadata_document: is not SAML 2.0 metadata (no EntityDescriptor element)")

    iam = module.client("iam", retry_decorator=retry_decorator())
    account = Account(module, iam)
    provider = SamlProvider(module, iam, account)
    role = FederatedRole(module, iam, account, provider.arn)

    # The role trusts the provider: create the provider first, delete it last.
    order: list[Found] = [provider, role] if state == "present" else [role, provider]
    for kind in order:
        kind.found = kind.find()
    if state == "present":
        # Both are checked before either is touched: a role of another owner also stops the provider.
        for kind in order:
            if kind.found is not None and not is_owned(kind.current_tags(kind.found), kind.tenant):
                module.fail_json(
                    msg=f"{kind.kind} {kind.name!r} exists but is not owned by tenant {kind.tenant!r} (its tenant "
                    f"tag is {owner_of(kind.current_tags(kind.found))!r}); the toolkit never adopts or changes it"
                )
    results = {kind.kind: converge_or_fail(module, kind, state) for kind in order}
    kept = [f"{kind.kind} {kind.name}" for kind in order if results[kind.kind].get("not_owned")]
    unplanned = {"action": "none", "fields": []}
    module.exit_json(
        changed=any(result["changed"] for result in results.values()),
        diff=[results[kind.kind].get("diff", {}) for kind in order],
        plan={
            name: {key: r.get("plan", unplanned)[key] for key in ("action", "fields")} for name, r in results.items()
        },
        account_id=account.id,
        partition=account.partition,
        provider_arn=provider.arn,
        role_arn=role.arn,
        saml_provider=results["saml_provider"].get("saml_provider", {}),
        role=results["role"].get("role", {}),
        kept=kept,
        msg="; ".join(results[kind.kind]["msg"] for kind in order if results[kind.kind].get("msg")) or None,
    )


if __name__ == "__main__":
    main()
