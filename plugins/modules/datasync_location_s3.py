#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: datasync_location_s3
version_added: 0.1.0
short_description: Manage an AWS DataSync location for an S3 bucket of a tenant
description:
  - Ensures a DataSync S3 location (a bucket, a subdirectory, the IAM role DataSync assumes to access it).
    DataSync locations have no name; the toolkit's carry a C(Name) tag, by which it finds them among the
    locations of the bucket, and the ownership tags.
  - The subdirectory, the role and the storage class change in place (UpdateLocationS3); another bucket is
    another location.
  - Only a location tagged for the tenant is changed or deleted.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  name:
    description: Value of the location's C(Name) tag, which identifies it.
    type: str
    required: true
  bucket:
    description: Bucket name.
    type: str
    required: true
  subdirectory:
    description: Prefix DataSync reads from or writes to (C(/incoming/)).
    type: str
    default: /
  bucket_access_role_arn:
    description: The IAM role DataSync assumes to access the bucket. Required with O(state=present).
    type: str
  storage_class:
    description: Storage class of objects DataSync writes (unused for a source location).
    type: str
    default: STANDARD
    choices: [STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER, DEEP_ARCHIVE, GLACIER_INSTANT_RETRIEVAL]
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
    details: Before and after values of the settings that would change.
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
- name: Ensure the DataSync source location of the landing bucket
  iconeus.tenant_toolkit.datasync_location_s3:
    name: acme-neuro-ingest-source
    bucket: acme-neuro-ingest-123456789012-eu-west-3
    subdirectory: /incoming/
    bucket_access_role_arn: arn:aws:iam::123456789012:role/tenant-toolkit/ingest/acme-neuro-ingest-datasync
    tenant: acme-neuro
"""

RETURN = r"""
location:
  description: The location as it is after the run (empty when absent).
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
      sample: s3://acme-neuro-ingest-123456789012-eu-west-3/incoming/
    subdirectory:
      description: Subdirectory, with leading and trailing slashes.
      type: str
      sample: /incoming/
    bucket_access_role_arn:
      description: Role DataSync assumes.
      type: str
      sample: arn:aws:iam::123456789012:role/tenant-toolkit/ingest/acme-neuro-ingest-datasync
    tags:
      description: Tags.
      type: dict
      sample: {Name: acme-neuro-ingest-source, tenant: acme-neuro}
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
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import Plan
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.datasync import (
    AmbiguousName,
    DataSyncLocation,
    normalise_subdirectory,
    subdirectory_of,
)


class S3Location(DataSyncLocation):
    def uri_prefix(self) -> str:
        return f"s3://{self.params['bucket']}/"

    def describe(self, arn: str) -> dict[str, Any]:
        return self.client.describe_location_s3(LocationArn=arn, aws_retry=True)

    def desired(self) -> dict[str, Any]:
        if self.params["state"] == "absent":
            return {}
        return {
            "subdirectory": normalise_subdirectory(self.params["subdirectory"]),
            "bucket_access_role_arn": self.params["bucket_access_role_arn"],
            "storage_class": self.params["storage_class"],
        }

    def comparable(self, resource: dict[str, Any]) -> dict[str, Any]:
        return {
            "subdirectory": subdirectory_of(resource["LocationUri"]),
            "bucket_access_role_arn": resource.get("S3Config", {}).get("BucketAccessRoleArn"),
            "storage_class": resource.get("S3StorageClass", "STANDARD"),
        }

    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any] | None:
        self.client.create_location_s3(
            S3BucketArn=f"arn:aws:s3:::{self.params['bucket']}",
            Subdirectory=desired["subdirectory"],
            S3StorageClass=desired["storage_class"],
            S3Config={"BucketAccessRoleArn": desired["bucket_access_role_arn"]},
            Tags=self.named_tags(tags),
            aws_retry=True,
        )
        return self.find()

    def update(self, resource: dict[str, Any], plan: Plan) -> dict[str, Any] | None:
        wanted = self.desired()
        self.client.update_location_s3(
            LocationArn=resource["LocationArn"],
            Subdirectory=wanted["subdirectory"],
            S3StorageClass=wanted["storage_class"],
            S3Config={"BucketAccessRoleArn": wanted["bucket_access_role_arn"]},
            aws_retry=True,
        )
        return None

    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        if not resource:
            return {}
        current = self.comparable(resource)
        return {
            "arn": resource["LocationArn"],
            "uri": resource["LocationUri"],
            "subdirectory": current["subdirectory"],
            "bucket_access_role_arn": current["bucket_access_role_arn"],
            "storage_class": current["storage_class"],
            "tags": resource.get("Tags", {}),
        }


def main() -> None:
    argument_spec = dict(
        name=dict(type="str", required=True),
        bucket=dict(type="str", required=True),
        subdirectory=dict(type="str", default="/"),
        bucket_access_role_arn=dict(type="str"),
        storage_class=dict(
            type="str",
            default="STANDARD",
            choices=[
                "STANDARD",
                "STANDARD_IA",
                "ONEZONE_IA",
                "INTELLIGENT_TIERING",
                "GLACIER",
                "DEEP_ARCHIVE",
                "GLACIER_INSTANT_RETRIEVAL",
            ],
        ),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        **tenant_argument_spec(wait_timeout=60),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["bucket_access_role_arn"])],
        supports_check_mode=True,
    )
    try:
        kind = S3Location(module)
        run(module, kind, module.params["state"])
    except AmbiguousName as err:
        module.fail_json(msg=str(err))


if __name__ == "__main__":
    main()
