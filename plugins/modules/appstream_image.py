#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: appstream_image
version_added: 0.1.0
short_description: Manage a tenant's AppStream 2.0 image, its copies and its sharing
description:
  - "Works on an image that exists (images are made by Image Assistant's C(create-image) on an image
    builder): waits for it to become C(AVAILABLE), failing at once with the service's reason when it
    reaches C(FAILED); copies it to another region; shares it with other accounts; sets its tags; deletes it."
  - "Sharing: O(shared_accounts) lists the accounts and what each may do with the image; with
    O(purge_shared_accounts=true) (the default) accounts not listed lose their access."
  - "Copying: the copy is made once (a copy that already exists in the destination region is left as it is)
    and tagged with the tenant's ownership tags there, since AWS does not copy tags."
  - Deleting refuses, naming them, while a fleet or an image builder of the region uses the image.
  - "Ownership: the module only changes or deletes an image whose C(tenant) tag is O(tenant); AWS base images
    and images of other tenants are never touched."
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  name:
    description: Name of the image.
    type: str
    required: true
  state:
    description:
      - V(present) requires the image to exist and applies sharing, copies and tags.
      - V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  shared_accounts:
    description: AWS accounts the image is shared with.
    type: list
    elements: dict
    suboptions:
      account_id:
        description: 12-digit AWS account id.
        type: str
        required: true
      allow_fleet:
        description: Whether the account may create fleets from the image.
        type: bool
        default: true
      allow_image_builder:
        description: Whether the account may create image builders from the image.
        type: bool
        default: false
  purge_shared_accounts:
    description: Remove the access of accounts not listed in O(shared_accounts) (only when it is given).
    type: bool
    default: true
  destination_region:
    description: Region to copy the image to.
    type: str
  destination_image_name:
    description: Name of the copy; defaults to O(name).
    type: str
  destination_image_description:
    description: Description of the copy.
    type: str
  wait:
    description: Wait for the image (and a new copy) to become C(AVAILABLE), and a deleted image to disappear.
  wait_timeout:
    default: 3600
attributes:
  check_mode:
    details: Read calls only.
  diff_mode:
    details: Before and after values of the changed options.
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
- name: Wait for the catalogue image and share it with the test account
  iconeus.tenant_toolkit.appstream_image:
    name: acme-neuro-suite-3f9c0a1b2c4d
    tenant: acme-neuro
    shared_accounts:
      - account_id: "210987654321"
        allow_fleet: true
        allow_image_builder: false

- name: Copy the image to a second region
  iconeus.tenant_toolkit.appstream_image:
    name: acme-neuro-suite-3f9c0a1b2c4d
    tenant: acme-neuro
    destination_region: eu-central-1

- name: Delete an old image
  iconeus.tenant_toolkit.appstream_image:
    name: acme-neuro-suite-0ld0ld0ld0ld
    tenant: acme-neuro
    state: absent
"""

RETURN = r"""
image:
  description: The image as DescribeImages reports it (snake_case), with tags and sharing.
  type: dict
  returned: when the image exists
  contains:
    name:
      description: Image name.
      type: str
      sample: acme-neuro-suite-3f9c0a1b2c4d
    arn:
      description: Image ARN.
      type: str
      sample: arn:aws:appstream:eu-west-3:123456789012:image/acme-neuro-suite-3f9c0a1b2c4d
    state:
      description: Image state.
      type: str
      sample: AVAILABLE
    tags:
      description: Tags of the image.
      type: dict
      sample: {tenant: acme-neuro}
    shared_accounts:
      description: Accounts the image is shared with.
      type: list
      elements: dict
      sample: [{account_id: "210987654321", allow_fleet: true, allow_image_builder: false}]
    copy:
      description: The copy in O(destination_region), when requested.
      type: dict
      sample: {region: eu-central-1, name: acme-neuro-suite-3f9c0a1b2c4d, state: AVAILABLE}
plan:
  description: What the run changes (or, in check mode, would change).
  type: dict
  returned: always
  sample: {action: update, fields: [shared_accounts], live: [shared_accounts], requires_stop: [],
           requires_recreate: [], removals: []}
diff:
  description: Before and after values.
  type: dict
  returned: always
  sample: {before: {shared_accounts: []}, after: {shared_accounts: [{account_id: "210987654321"}]}}
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.transformation import camel_dict_to_snake_dict
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.api import (
    describe_all,
    describe_one,
    get_tags,
    reason_text,
    set_tags,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import (
    retry_decorator,
    run,
    tenant_argument_spec,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import (
    Plan,
    PlanRefused,
    ResourceKind,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import desired_tags, is_owned
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.waiters import ABSENT, wait_for

IN_PROGRESS = ("PENDING", "CREATING", "COPYING", "IMPORTING", "VALIDATING")


def argument_spec() -> dict[str, Any]:
    spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        shared_accounts=dict(
            type="list",
            elements="dict",
            options=dict(
                account_id=dict(type="str", required=True),
                allow_fleet=dict(type="bool", default=True),
                allow_image_builder=dict(type="bool", default=False),
            ),
        ),
        purge_shared_accounts=dict(type="bool", default=True),
        destination_region=dict(type="str"),
        destination_image_name=dict(type="str"),
        destination_image_description=dict(type="str"),
    )
    spec.update(tenant_argument_spec(wait_timeout=3600))
    return spec


def permissions_of(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        (
            {
                "account_id": entry["sharedAccountId"],
                "allow_fleet": bool((entry.get("imagePermissions") or {}).get("allowFleet")),
                "allow_image_builder": bool((entry.get("imagePermissions") or {}).get("allowImageBuilder")),
            }
            for entry in entries
        ),
        key=lambda p: p["account_id"],
    )


def desired_permissions(
    requested: list[dict[str, Any]] | None, current: list[dict[str, Any]], purge: bool
) -> list[dict[str, Any]] | None:
    if requested is None:
        return None
    wanted = {str(p["account_id"]): {**p, "account_id": str(p["account_id"])} for p in requested}
    if not purge:
        for entry in current:
            wanted.setdefault(entry["account_id"], entry)
    return sorted(wanted.values(), key=lambda p: p["account_id"])


class Image(ResourceKind):
    kind = "image"

    def __init__(self, module: AnsibleAWSModule, client: Any) -> None:
        super().__init__(module, module.params["tenant"], module.params.get("environment"))
        self.client = client
        self.requested_state = module.params["state"]
        self.permissions: list[dict[str, Any]] = []
        self.copy: dict[str, Any] | None = None
        self.current_resource: dict[str, Any] = {}
        self._copy_client: Any = None

    # -- reading ------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any] | None:
        return describe_one(self.client, "describe_images", "Images", Names=[self.name])

    @property
    def copy_client(self) -> Any:
        if self._copy_client is None:
            self._copy_client = self.module.client(
                "appstream", retry_decorator=retry_decorator(), region=self.params["destination_region"]
            )
        return self._copy_client

    @property
    def copy_name(self) -> str:
        return self.params.get("destination_image_name") or self.name

    def find_copy(self) -> dict[str, Any] | None:
        copy = describe_one(self.copy_client, "describe_images", "Images", Names=[self.copy_name])
        if copy is None:
            return None
        return {"region": self.params["destination_region"], "name": copy["Name"], "state": copy.get("State")}

    def find(self) -> dict[str, Any] | None:
        image = self.describe()
        if image is None:
            if self.requested_state == "present":
                self.module.fail_json(
                    msg=f"image {self.name!r} does not exist; images are created by Image Assistant's "
                    "create-image on an image builder"
                )
            return None
        image["Tags"] = get_tags(self.client, image["Arn"]) if image.get("Visibility") == "PRIVATE" else {}
        owned = is_owned(image["Tags"], self.tenant)
        if owned and self.requested_state == "present":
            if image.get("State") in IN_PROGRESS and self.params["wait"] and not self.module.check_mode:
                image = {**(self.wait_available(self.describe, self.name) or image), "Tags": image["Tags"]}
            if image.get("State") == "FAILED":
                self.module.fail_json(
                    msg=f"image {self.name!r} is FAILED: {reason_text(image, 'ImageErrors')}", image=self.result(image)
                )
            if self.params.get("shared_accounts") is not None:
                self.permissions = permissions_of(
                    describe_all(
                        self.client, "describe_image_permissions", "SharedImagePermissionsList", Name=self.name
                    )
                )
            if self.params.get("destination_region"):
                self.copy = self.find_copy()
        return image

    def current_tags(self, resource: dict[str, Any]) -> dict[str, str]:
        return resource.get("Tags") or {}

    # -- planning ----------------------------------------------------------------------------
    def desired(self) -> dict[str, Any]:
        wanted: dict[str, Any] = {
            "shared_accounts": desired_permissions(
                self.params.get("shared_accounts"), self.permissions, self.params["purge_shared_accounts"]
            ),
            "copy": None,
        }
        if self.params.get("destination_region"):
            wanted["copy"] = {"region": self.params["destination_region"], "name": self.copy_name}
        return wanted

    def comparable(self, resource: dict[str, Any]) -> dict[str, Any]:
        copy = None
        if self.copy is not None:
            copy = {"region": self.copy["region"], "name": self.copy["name"]}
        return {"shared_accounts": self.permissions, "copy": copy}

    def in_use_by(self, resource: dict[str, Any]) -> list[str]:
        fleets = describe_all(self.client, "describe_fleets", "Fleets")
        builders = describe_all(self.client, "describe_image_builders", "ImageBuilders")
        users = [
            f"fleet {f['Name']}"
            for f in fleets
            if f.get("ImageName") == self.name or f.get("ImageArn") == resource["Arn"]
        ]
        users += [f"image builder {b['Name']}" for b in builders if b.get("ImageArn") == resource["Arn"]]
        return sorted(users)

    def annotate(self, result: dict[str, Any], plan: Plan) -> None:
        if plan.action == "delete":
            users = self.in_use_by(self.current_resource)
            if users:
                raise PlanRefused(f"image {self.name!r} is in use by {', '.join(users)}; it is not deleted", result)

    def plan(self, resource: dict[str, Any] | None, state: str) -> Plan:
        self.current_resource = resource or {}
        return super().plan(resource, state)

    # -- waiting -----------------------------------------------------------------------------
    def wait_available(self, fetch: Any, name: str) -> dict[str, Any] | None:
        return wait_for(
            fetch,
            lambda image: ABSENT if image is None else image["State"],
            targets=["AVAILABLE"],
            failures=["FAILED"],
            failure_reason=lambda image: reason_text(image, "ImageErrors"),
            timeout=self.params["wait_timeout"],
            kind="image",
            tenant=self.tenant,
            name=name,
            expected=30 * 60,
        )

    def wait_absent(self) -> None:
        if self.params["wait"]:
            wait_for(
                lambda: describe_one(self.client, "describe_images", "Images", Names=[self.name]),
                lambda image: ABSENT if image is None else image["State"],
                targets=[ABSENT],
                timeout=self.params["wait_timeout"],
                kind="image",
                tenant=self.tenant,
                name=self.name,
                expected=60,
            )

    # -- changing ----------------------------------------------------------------------------
    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any] | None:
        raise AssertionError("find() fails before an image would be created")

    def update(self, resource: dict[str, Any], plan: Plan) -> dict[str, Any] | None:
        if "shared_accounts" in plan.changes:
            wanted = {p["account_id"]: p for p in plan.changes["shared_accounts"][1]}
            current = {p["account_id"]: p for p in self.permissions}
            for account in sorted(set(current) - set(wanted)):
                self.client.delete_image_permissions(Name=self.name, SharedAccountId=account, aws_retry=True)
            for account, entry in sorted(wanted.items()):
                if current.get(account) != entry:
                    self.client.update_image_permissions(
                        Name=self.name,
                        SharedAccountId=account,
                        ImagePermissions={
                            "allowFleet": entry["allow_fleet"],
                            "allowImageBuilder": entry["allow_image_builder"],
                        },
                        aws_retry=True,
                    )
        if "copy" in plan.changes:
            self.make_copy()
        return resource

    def make_copy(self) -> None:
        request = {
            "SourceImageName": self.name,
            "DestinationImageName": self.copy_name,
            "DestinationRegion": self.params["destination_region"],
        }
        if self.params.get("destination_image_description"):
            request["DestinationImageDescription"] = self.params["destination_image_description"]
        self.client.copy_image(aws_retry=True, **request)

        def fetch() -> dict[str, Any] | None:
            return describe_one(self.copy_client, "describe_images", "Images", Names=[self.copy_name])

        copied = fetch()
        if copied is not None:
            # AWS does not copy tags: the copy gets the tenant's ownership tags in its region.
            set_tags(
                self.copy_client,
                copied["Arn"],
                desired_tags(self.params.get("tags"), self.tenant, self.environment),
                [],
            )
        if self.params["wait"]:
            self.wait_available(fetch, f"{self.copy_name} ({self.params['destination_region']})")

    def set_tags(self, resource: dict[str, Any], to_set: dict[str, str], to_remove: list[str]) -> None:
        set_tags(self.client, resource["Arn"], to_set, to_remove)

    def delete(self, resource: dict[str, Any]) -> None:
        if resource.get("State") != "DELETING":
            self.client.delete_image(Name=self.name, aws_retry=True)

    # -- result ------------------------------------------------------------------------------
    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        if not resource:
            return {}
        image = camel_dict_to_snake_dict({k: v for k, v in resource.items() if k != "Tags"})
        image["tags"] = dict(resource.get("Tags") or {})
        if self.params.get("shared_accounts") is not None:
            image["shared_accounts"] = self.permissions
        if self.params.get("destination_region"):
            image["copy"] = self.copy
        return image


def main() -> None:
    module = AnsibleAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    client = module.client("appstream", retry_decorator=retry_decorator(["ConcurrentModificationException"]))
    run(module, Image(module, client), module.params["state"])


if __name__ == "__main__":
    main()
