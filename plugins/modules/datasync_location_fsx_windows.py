#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: datasync_location_fsx_windows
version_added: 0.1.0
short_description: Manage an AWS DataSync location for a tenant's FSx for Windows File Server file system
description:
  - Ensures a DataSync location for an FSx for Windows File Server file system - the subdirectory (the share, then
    folders - C(/share/Projects/Incoming/)), the Windows user DataSync mounts the share as, and the security groups
    of the network interfaces DataSync puts in the file system's preferred subnet (they must reach the file system
    on SMB, TCP 445).
  - DataSync locations have no name; the toolkit's carry a C(Name) tag, by which it finds them among the locations
    of the file system, and the ownership tags.
  - The subdirectory, user, domain and password change in place (UpdateLocationFsxWindows); the security groups
    cannot (C(recreate=true) replaces the location).
  - DataSync never returns the password, so a changed password cannot be seen - O(password_update=always) sends it
    on every run (and reports a change), V(on_create) only when the location is created.
  - Only a location tagged for the tenant is changed or deleted.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  name:
    description: Value of the location's C(Name) tag, which identifies it.
    type: str
    required: true
  file_system_arn:
    description:
      - ARN of the FSx for Windows File Server file system. Required with O(state=present).
      - With O(state=absent) and no ARN, the location is looked for among every FSx for Windows location of the Region.
    type: str
  subdirectory:
    description: The share, then the folders, with forward slashes.
    type: str
    default: /share/
  user:
    description: Windows user DataSync mounts the share as. Required with O(state=present).
    type: str
  domain:
    description: Its Active Directory domain.
    type: str
  password:
    description: Its password. Required with O(state=present).
    type: str
  password_update:
    description: Send the password on every run (V(always)), or only when the location is created.
    type: str
    choices: [always, on_create]
    default: on_create
  security_group_arns:
    description: Security groups of DataSync's network interfaces (1 to 5). Required with O(state=present).
    type: list
    elements: str
  recreate:
    description: Replace the location when its security groups change (the API cannot change them).
    type: bool
    default: false
  state:
    description: Whether the location should exist.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description: Locations are ready at once; accepted for consistency with the other tenant modules.
  wait_timeout:
    default: 60
attributes:
  check_mode:
    details: Read calls only; C(changed), the plan and the diff show what would be done.
  diff_mode:
    details: Before and after values of the settings that would change (never the password).
notes:
  - Like the ownership tags, the C(Name) tag is always set and never removed, even with O(purge_tags=true).
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
- name: Ensure the DataSync destination location on the tenant's share
  iconeus.tenant_toolkit.datasync_location_fsx_windows:
    name: acme-neuro-ingest-destination
    file_system_arn: arn:aws:fsx:eu-west-3:123456789012:file-system/fs-0123456789abcdef0
    subdirectory: /share/Projects/Incoming/
    user: svc-datasync
    domain: corp.acme-neuro.example
    password: "{{ ingest_datasync_password }}"
    security_group_arns: [arn:aws:ec2:eu-west-3:123456789012:security-group/sg-0123456789abcdef0]
    tenant: acme-neuro
  no_log: true
"""

RETURN = r"""
location:
  description: The location as it is after the run (empty when absent). Never the password.
  type: dict
  returned: always
  contains:
    arn:
      description: Location ARN.
      type: str
      sample: arn:aws:datasync:eu-west-3:123456789012:location/loc-0123456789abcdef0
    uri:
      description: Location URI.
      type: str
      sample: fsxw://eu-west-3.fs-0123456789abcdef0/share/Projects/Incoming/
    subdirectory:
      description: Subdirectory, with leading and trailing slashes.
      type: str
      sample: /share/Projects/Incoming/
    user:
      description: Windows user.
      type: str
      sample: svc-datasync
    domain:
      description: Its domain.
      type: str
      sample: corp.acme-neuro.example
    security_group_arns:
      description: Security groups.
      type: list
      elements: str
    tags:
      description: Tags.
      type: dict
      sample: {Name: acme-neuro-ingest-destination, tenant: acme-neuro}
plan:
  description: What the run changed or, in check mode, would change.
  type: dict
  returned: always
  sample: {action: create}
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import (
    run,
    tenant_argument_spec,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import RECREATE, Plan
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.datasync import (
    AmbiguousName,
    DataSyncLocation,
    normalise_subdirectory,
    subdirectory_of,
)

# Compared as a value that never matches, so that password_update=always re-sends the password each run.
SEND_AGAIN = "(sent again)"


class FsxWindowsLocation(DataSyncLocation):
    field_kinds = {"security_group_arns": RECREATE}

    def __init__(self, module: AnsibleAWSModule) -> None:
        super().__init__(module)
        arn = self.params["file_system_arn"]
        self.region = arn.split(":")[3] if arn else module.region
        self.file_system_id = arn.rsplit("/", 1)[-1] if arn else ""

    def uri_prefix(self) -> str:
        # Without the file system's ARN (state=absent), every FSx for Windows location of the Region.
        return f"fsxw://{self.region}.{self.file_system_id}/" if self.file_system_id else f"fsxw://{self.region}."

    def describe(self, arn: str) -> dict[str, Any]:
        return self.client.describe_location_fsx_windows(LocationArn=arn, aws_retry=True)

    def desired(self) -> dict[str, Any]:
        if self.params["state"] == "absent":
            return {}
        wanted = {
            "subdirectory": normalise_subdirectory(self.params["subdirectory"]),
            "user": self.params["user"],
            "domain": self.params["domain"],
            "security_group_arns": sorted(self.params["security_group_arns"]),
        }
        if self.params["password_update"] == "always":  # noqa: S105 - a choice, not a password
            wanted["password"] = SEND_AGAIN
        return wanted

    def comparable(self, resource: dict[str, Any]) -> dict[str, Any]:
        return {
            "subdirectory": subdirectory_of(resource["LocationUri"]),
            "user": resource.get("User"),
            "domain": resource.get("Domain"),
            "security_group_arns": sorted(resource.get("SecurityGroupArns", [])),
            "password": "(not readable)",
        }

    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any] | None:
        params: dict[str, Any] = {
            "FsxFilesystemArn": self.params["file_system_arn"],
            "SecurityGroupArns": desired["security_group_arns"],
            "Subdirectory": desired["subdirectory"],
            "User": desired["user"],
            "Password": self.params["password"],
            "Tags": self.named_tags(tags),
        }
        if desired.get("domain"):
            params["Domain"] = desired["domain"]
        self.client.create_location_fsx_windows(aws_retry=True, **params)
        return self.find()

    def update(self, resource: dict[str, Any], plan: Plan) -> dict[str, Any] | None:
        wanted = self.desired()
        params: dict[str, Any] = {
            "LocationArn": resource["LocationArn"],
            "Subdirectory": wanted["subdirectory"],
            "User": wanted["user"],
        }
        if wanted.get("domain"):
            params["Domain"] = wanted["domain"]
        # DataSync keeps the password it has unless one is sent; a new user needs its own.
        if "password" in plan.changes or "user" in plan.changes or "domain" in plan.changes:
            params["Password"] = self.params["password"]
        self.client.update_location_fsx_windows(aws_retry=True, **params)
        return None

    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        if not resource:
            return {}
        current = self.comparable(resource)
        return {
            "arn": resource["LocationArn"],
            "uri": resource["LocationUri"],
            "subdirectory": current["subdirectory"],
            "user": current["user"],
            "domain": current["domain"],
            "security_group_arns": current["security_group_arns"],
            "tags": resource.get("Tags", {}),
        }


def main() -> None:
    argument_spec = dict(
        name=dict(type="str", required=True),
        file_system_arn=dict(type="str"),
        subdirectory=dict(type="str", default="/share/"),
        user=dict(type="str"),
        domain=dict(type="str"),
        password=dict(type="str", no_log=True),
        password_update=dict(type="str", choices=["always", "on_create"], default="on_create", no_log=False),
        security_group_arns=dict(type="list", elements="str"),
        recreate=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        **tenant_argument_spec(wait_timeout=60),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["file_system_arn", "user", "password", "security_group_arns"])],
        supports_check_mode=True,
    )
    try:
        run(module, FsxWindowsLocation(module), module.params["state"], allow_recreate=module.params["recreate"])
    except AmbiguousName as err:
        module.fail_json(msg=str(err))


if __name__ == "__main__":
    main()
