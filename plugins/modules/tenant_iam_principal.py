#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tenant_iam_principal
version_added: 0.1.0
short_description: Manage an IAM user or role of a tenant holding exactly the given inline policies
description:
  - Ensures an IAM user (an instrument's write-only principal) or role (the role DataSync assumes to read the
    landing bucket) whose permissions are exactly O(inline_policies). Other inline policies are deleted, managed
    policies detached and, for a user, group memberships removed, so a permission added by hand does not survive
    the next run.
  - Only a principal tagged for the tenant is changed or deleted; amazon.aws's iam_user and iam_role adopt
    whatever has the name.
  - Deleting a user deletes its access keys, inline policies and console password first; deleting a role removes
    its inline policies and managed policy attachments first.
  - With O(permissions_boundary), the principal is created within that boundary, and one made without it (or
    within another) is put within it before its inline policies change; a boundary is never removed.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  name:
    description: User or role name.
    type: str
    required: true
  type:
    description: Whether the principal is an IAM user or an IAM role.
    type: str
    choices: [user, role]
    required: true
  path:
    description: IAM path of the principal (changed in place for a user; a role's path cannot change).
    type: str
    default: /tenant-toolkit/
  inline_policies:
    description: Inline policies by name, each a policy document. Required with O(state=present).
    type: dict
  trust_policy:
    description: The role's trust policy document. Required for a role with O(state=present).
    type: dict
  permissions_boundary:
    description:
      - ARN of the managed policy that caps the principal's permissions (its permissions boundary).
      - Unset, the principal's boundary is left as it is.
    type: str
    version_added: 0.2.0
  description:
    description: Description of a role.
    type: str
  state:
    description: Whether the principal should exist.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description: IAM is synchronous; accepted for consistency with the other tenant modules.
  wait_timeout:
    default: 60
attributes:
  check_mode:
    details: Read calls only; C(changed), the plan and the diff show what would be done.
  diff_mode:
    details: Before and after values of the policies, path and tags that would change.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.tenant
  - iconeus.tenant_toolkit.wait
  - iconeus.tenant_toolkit.attributes
"""

EXAMPLES = r"""
- name: Ensure an instrument's write-only user
  iconeus.tenant_toolkit.tenant_iam_principal:
    name: acme-neuro-ingest-ECHO-01
    type: user
    path: /tenant-toolkit/ingest/
    permissions_boundary: arn:aws:iam::123456789012:policy/appstream-tenant-toolkit/ingest-boundary
    tenant: acme-neuro
    inline_policies:
      ingest-upload: "{{ lookup('ansible.builtin.template', 'instrument-policy.json.j2') }}"
"""

RETURN = r"""
principal:
  description: The principal as it is after the run (empty when absent).
  type: dict
  returned: always
  contains:
    name:
      description: User or role name.
      type: str
      sample: acme-neuro-ingest-ECHO-01
    arn:
      description: Its ARN.
      type: str
      sample: arn:aws:iam::123456789012:user/tenant-toolkit/ingest/acme-neuro-ingest-ECHO-01
    path:
      description: IAM path.
      type: str
      sample: /tenant-toolkit/ingest/
    permissions_boundary:
      description: ARN of its permissions boundary, null when it has none.
      type: str
      sample: arn:aws:iam::123456789012:policy/appstream-tenant-toolkit/ingest-boundary
    inline_policies:
      description: Inline policies by name.
      type: dict
      sample: {ingest-upload: {Version: "2012-10-17", Statement: []}}
    tags:
      description: Tags.
      type: dict
      sample: {tenant: acme-neuro}
plan:
  description: What the run changed or, in check mode, would change.
  type: dict
  returned: always
  sample: {action: update, fields: [inline_policies]}
"""

import json
from typing import Any
from urllib.parse import unquote

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.errors import error_code
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import (
    retry_decorator,
    run,
    tenant_argument_spec,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import RECREATE, Plan, ResourceKind
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import dict_to_list, list_to_dict


def _document(value: Any) -> Any:
    """A policy document as IAM returns it (URL-encoded JSON in the raw API, a dict through boto3)."""
    if isinstance(value, str):
        return json.loads(unquote(value))
    return value


def _marker_page(call: Any, key: str, **params: Any) -> list[Any]:
    """Every item of an IAM list call that pages with Marker/IsTruncated."""
    items: list[Any] = []
    while True:
        page = call(aws_retry=True, **params)
        items.extend(page.get(key) or [])
        if not page.get("IsTruncated"):
            return items
        params["Marker"] = page["Marker"]


class Principal(ResourceKind):
    kind = "principal"

    def __init__(self, module: AnsibleAWSModule) -> None:
        super().__init__(module, module.params["tenant"], module.params["environment"])
        self.iam = module.client("iam", retry_decorator=retry_decorator())
        self.is_user = module.params["type"] == "user"
        # A role's path is part of its identity; a user's can change (UpdateUser NewPath).
        self.field_kinds = {} if self.is_user else {"path": RECREATE}

    # -- reads ---------------------------------------------------------------------------------------
    def find(self) -> dict[str, Any] | None:
        name = self.name
        try:
            if self.is_user:
                found = self.iam.get_user(UserName=name, aws_retry=True)["User"]
            else:
                found = self.iam.get_role(RoleName=name, aws_retry=True)["Role"]
        except Exception as err:
            if error_code(err) == "NoSuchEntity":
                return None
            raise
        if self.is_user:
            names = _marker_page(self.iam.list_user_policies, "PolicyNames", UserName=name)
            policies = {p: self.iam.get_user_policy(UserName=name, PolicyName=p, aws_retry=True) for p in names}
            attached = _marker_page(self.iam.list_attached_user_policies, "AttachedPolicies", UserName=name)
            groups = [g["GroupName"] for g in _marker_page(self.iam.list_groups_for_user, "Groups", UserName=name)]
            tags = found.get("Tags") or _marker_page(self.iam.list_user_tags, "Tags", UserName=name)
        else:
            names = _marker_page(self.iam.list_role_policies, "PolicyNames", RoleName=name)
            policies = {p: self.iam.get_role_policy(RoleName=name, PolicyName=p, aws_retry=True) for p in names}
            attached = _marker_page(self.iam.list_attached_role_policies, "AttachedPolicies", RoleName=name)
            groups = []
            tags = found.get("Tags") or _marker_page(self.iam.list_role_tags, "Tags", RoleName=name)
        found["InlinePolicies"] = {p: _document(answer["PolicyDocument"]) for p, answer in policies.items()}
        found["AttachedPolicyArns"] = sorted(item["PolicyArn"] for item in attached)
        found["GroupNames"] = sorted(groups)
        found["TagMap"] = list_to_dict(tags)
        return found

    def current_tags(self, resource: dict[str, Any]) -> dict[str, str]:
        return resource.get("TagMap", {})

    def desired(self) -> dict[str, Any]:
        if self.params["state"] == "absent":
            return {}
        wanted: dict[str, Any] = {
            "path": self.params["path"],
            "inline_policies": self.params["inline_policies"],
            "attached_policies": [],
        }
        if self.params["permissions_boundary"]:
            wanted["permissions_boundary"] = self.params["permissions_boundary"]
        if self.is_user:
            wanted["groups"] = []
        else:
            wanted["trust_policy"] = self.params["trust_policy"]
            wanted["description"] = self.params["description"]
        return wanted

    def comparable(self, resource: dict[str, Any]) -> dict[str, Any]:
        current: dict[str, Any] = {
            "path": resource.get("Path"),
            "inline_policies": resource["InlinePolicies"],
            "attached_policies": resource["AttachedPolicyArns"],
        }
        if self.params["permissions_boundary"]:
            current["permissions_boundary"] = _boundary_of(resource)
        if self.is_user:
            current["groups"] = resource["GroupNames"]
        else:
            current["trust_policy"] = _document(resource.get("AssumeRolePolicyDocument"))
            current["description"] = resource.get("Description")
        return current

    # -- writes --------------------------------------------------------------------------------------
    def _who(self) -> dict[str, str]:
        return {"UserName": self.name} if self.is_user else {"RoleName": self.name}

    def _put_policies(self, current: dict[str, Any]) -> None:
        put = self.iam.put_user_policy if self.is_user else self.iam.put_role_policy
        remove = self.iam.delete_user_policy if self.is_user else self.iam.delete_role_policy
        wanted = self.params["inline_policies"] or {}
        for name, document in wanted.items():
            if current.get(name) != document:
                put(PolicyName=name, PolicyDocument=json.dumps(document), aws_retry=True, **self._who())
        for name in current:
            if name not in wanted:
                remove(PolicyName=name, aws_retry=True, **self._who())

    def _detach_all(self, resource: dict[str, Any]) -> None:
        detach = self.iam.detach_user_policy if self.is_user else self.iam.detach_role_policy
        for arn in resource.get("AttachedPolicyArns", []):
            detach(PolicyArn=arn, aws_retry=True, **self._who())
        for group in resource.get("GroupNames", []):
            self.iam.remove_user_from_group(GroupName=group, UserName=self.name, aws_retry=True)

    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any] | None:
        boundary = (
            {"PermissionsBoundary": self.params["permissions_boundary"]} if self.params["permissions_boundary"] else {}
        )
        if self.is_user:
            self.iam.create_user(
                UserName=self.name, Path=self.params["path"], Tags=dict_to_list(tags), aws_retry=True, **boundary
            )
        else:
            params: dict[str, Any] = {
                "RoleName": self.name,
                "Path": self.params["path"],
                "AssumeRolePolicyDocument": json.dumps(self.params["trust_policy"]),
                "Tags": dict_to_list(tags),
            }
            if self.params["description"]:
                params["Description"] = self.params["description"]
            self.iam.create_role(aws_retry=True, **params, **boundary)
        self._put_policies({})
        return self.find()

    def update(self, resource: dict[str, Any], plan: Plan) -> dict[str, Any] | None:
        if "permissions_boundary" in plan.changes:
            # First: a deployer may change a principal's policies only while it is within the boundary.
            put = self.iam.put_user_permissions_boundary if self.is_user else self.iam.put_role_permissions_boundary
            put(PermissionsBoundary=self.params["permissions_boundary"], aws_retry=True, **self._who())
        if "path" in plan.changes and self.is_user:
            self.iam.update_user(UserName=self.name, NewPath=self.params["path"], aws_retry=True)
        if "trust_policy" in plan.changes:
            self.iam.update_assume_role_policy(
                RoleName=self.name, PolicyDocument=json.dumps(self.params["trust_policy"]), aws_retry=True
            )
        if "description" in plan.changes:
            self.iam.update_role(RoleName=self.name, Description=self.params["description"], aws_retry=True)
        if "inline_policies" in plan.changes:
            self._put_policies(resource["InlinePolicies"])
        if "attached_policies" in plan.changes or "groups" in plan.changes:
            self._detach_all(resource)
        return None

    def set_tags(self, resource: dict[str, Any], to_set: dict[str, str], to_remove: list[str]) -> None:
        if self.is_user:
            if to_remove:
                self.iam.untag_user(UserName=self.name, TagKeys=to_remove, aws_retry=True)
            if to_set:
                self.iam.tag_user(UserName=self.name, Tags=dict_to_list(to_set), aws_retry=True)
        else:
            if to_remove:
                self.iam.untag_role(RoleName=self.name, TagKeys=to_remove, aws_retry=True)
            if to_set:
                self.iam.tag_role(RoleName=self.name, Tags=dict_to_list(to_set), aws_retry=True)

    def delete(self, resource: dict[str, Any]) -> None:
        if self.is_user:
            for key in paginate_keys(self.iam, self.name):
                self.iam.delete_access_key(UserName=self.name, AccessKeyId=key["AccessKeyId"], aws_retry=True)
            try:
                self.iam.delete_login_profile(UserName=self.name, aws_retry=True)
            except Exception as err:
                if error_code(err) != "NoSuchEntity":
                    raise
        self.module.params["inline_policies"] = {}
        self._put_policies(resource.get("InlinePolicies", {}))
        self._detach_all(resource)
        if self.is_user:
            self.iam.delete_user(UserName=self.name, aws_retry=True)
        else:
            self.iam.delete_role(RoleName=self.name, aws_retry=True)

    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        if not resource:
            return {}
        return {
            "name": self.name,
            "arn": resource.get("Arn"),
            "path": resource.get("Path"),
            "permissions_boundary": _boundary_of(resource),
            "inline_policies": resource.get("InlinePolicies", {}),
            "attached_policies": resource.get("AttachedPolicyArns", []),
            "tags": resource.get("TagMap", {}),
        }


def _boundary_of(resource: dict[str, Any]) -> str | None:
    return (resource.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")


def paginate_keys(iam: Any, user: str) -> list[dict[str, Any]]:
    return _marker_page(iam.list_access_keys, "AccessKeyMetadata", UserName=user)


def main() -> None:
    argument_spec = dict(
        name=dict(type="str", required=True),
        type=dict(type="str", choices=["user", "role"], required=True),
        path=dict(type="str", default="/tenant-toolkit/"),
        inline_policies=dict(type="dict"),
        trust_policy=dict(type="dict"),
        permissions_boundary=dict(type="str"),
        description=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        **tenant_argument_spec(wait_timeout=60),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["inline_policies"])],
        supports_check_mode=True,
    )
    if module.params["state"] == "present" and module.params["type"] == "role" and not module.params["trust_policy"]:
        module.fail_json(msg="trust_policy: is required for a role")
    run(module, Principal(module), module.params["state"])


if __name__ == "__main__":
    main()
