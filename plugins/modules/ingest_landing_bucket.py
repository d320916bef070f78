#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ingest_landing_bucket
version_added: 0.1.0
short_description: Manage a tenant's S3 landing bucket for instrument data
description:
  - Ensures the S3 bucket instruments upload acquisitions to (uploader C(ingest-upload)), with every
    protection the toolkit requires, set and checked on each run. Default encryption (SSE-S3, or SSE-KMS
    with O(kms_key_id)), all four public access blocks, BucketOwnerEnforced object ownership (no ACLs).
  - It also ensures versioning (acquisitions are moved as they were when their manifest was written), a
    bucket policy refusing every request made without TLS (C(aws:SecureTransport)), ownership tags, and
    the lifecycle that expires transferred acquisitions after O(retention_days) and aborts abandoned
    multipart uploads after O(abort_incomplete_multipart_days).
  - Only a bucket tagged for the tenant is changed or deleted. A bucket holding data (any object version or
    unfinished multipart upload) is never deleted unless O(delete_data=true); otherwise the module refuses,
    naming the bucket and what it holds, in check mode too.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  name:
    description: Bucket name (S3 names are global; the ingest role derives it from the tenant, account and Region).
    type: str
    required: true
  retention_days:
    description: Days a transferred acquisition's objects stay before they expire (lifecycle on the transferred tag).
    type: int
    default: 7
  abort_incomplete_multipart_days:
    description:
      - Days after which S3 aborts an unfinished multipart upload. At least 7, longer than an instrument PC may
        stay off, or a resumed file starts over (uploader/README.md).
    type: int
    default: 7
  kms_key_id:
    description: A KMS key for SSE-KMS (with an S3 Bucket Key). Omitted, objects are encrypted with SSE-S3 (AES256).
    type: str
  delete_data:
    description:
      - With O(state=absent), delete every object version, delete marker and unfinished upload first. Without it a
        bucket that holds anything is not deleted.
    type: bool
    default: false
  state:
    description: Whether the bucket should exist.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description: S3 bucket settings apply at once; accepted for consistency with the other tenant modules.
  wait_timeout:
    default: 60
attributes:
  check_mode:
    details: Read calls only; C(changed), the plan and the diff show what would be done.
  diff_mode:
    details: Before and after values of the settings that would change.
notes:
  - The TLS-only policy is the bucket's only policy; a policy someone else put on the bucket is replaced.
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
- name: Ensure the tenant's landing bucket
  iconeus.tenant_toolkit.ingest_landing_bucket:
    name: acme-neuro-ingest-123456789012-eu-west-3
    tenant: acme-neuro
    environment: prod
    retention_days: 7

- name: Remove it with its data (the teardown, with -e purge_ingest_data=true)
  iconeus.tenant_toolkit.ingest_landing_bucket:
    name: acme-neuro-ingest-123456789012-eu-west-3
    tenant: acme-neuro
    state: absent
    delete_data: true
"""

RETURN = r"""
bucket:
  description: The bucket as it is after the run (empty when absent).
  type: dict
  returned: always
  contains:
    name:
      description: Bucket name.
      type: str
      sample: acme-neuro-ingest-123456789012-eu-west-3
    arn:
      description: Bucket ARN.
      type: str
      sample: arn:aws:s3:::acme-neuro-ingest-123456789012-eu-west-3
    encryption:
      description: Default encryption.
      type: dict
      sample: {algorithm: AES256, kms_key_id: null, bucket_key: false}
    versioning:
      description: Versioning status.
      type: str
      sample: Enabled
    public_access_block:
      description: The four public access blocks.
      type: dict
      sample: {BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
    lifecycle_rules:
      description: Lifecycle rules.
      type: list
      elements: dict
      sample: [{ID: expire-transferred-acquisitions, Status: Enabled}]
    policy:
      description: Bucket policy document.
      type: dict
      sample: {Version: "2012-10-17", Statement: []}
    tags:
      description: Tags of the bucket.
      type: dict
      sample: {tenant: acme-neuro, managed-by: appstream-tenant-toolkit}
held:
  description: With O(state=absent), what the bucket held (object versions and delete markers, unfinished uploads).
  type: dict
  returned: when state is absent and the bucket exists
  sample: {versions: 12, uploads: 0}
plan:
  description: What the run changed or, in check mode, would change.
  type: dict
  returned: always
  sample: {action: update, fields: [lifecycle_rules]}
"""

import json
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.errors import error_code
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import (
    retry_decorator,
    run,
    tenant_argument_spec,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import (
    Plan,
    PlanRefused,
    ResourceKind,
    normalise,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import dict_to_list, list_to_dict
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest.policies import (
    MIN_ABORT_INCOMPLETE_DAYS,
    bucket_policy,
    lifecycle_rules,
)

PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
OWNERSHIP = "BucketOwnerEnforced"
# S3 answers these for a setting that was never put on a bucket.
ABSENT_CODES = {
    "encryption": ("ServerSideEncryptionConfigurationNotFoundError",),
    "public_access_block": ("NoSuchPublicAccessBlockConfiguration",),
    "lifecycle": ("NoSuchLifecycleConfiguration",),
    "policy": ("NoSuchBucketPolicy",),
    "tags": ("NoSuchTagSet", "NoSuchTagSetError"),
    "ownership": ("OwnershipControlsNotFoundError",),
}
DELETE_BATCH = 1000  # DeleteObjects takes at most 1,000 keys


def comparable_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lifecycle rules as compared: by ID, without the empty members S3 adds or drops."""
    return sorted((normalise(rule) for rule in rules), key=lambda rule: str(rule.get("ID")))


class LandingBucket(ResourceKind):
    kind = "bucket"

    def __init__(self, module: AnsibleAWSModule) -> None:
        super().__init__(module, module.params["tenant"], module.params["environment"])
        self.s3 = module.client("s3", retry_decorator=retry_decorator(["SlowDown", "OperationAborted"]))
        self.region = module.region

    @property
    def name(self) -> str:
        return self.params["name"]

    def _read(self, call: Any, setting: str, **params: Any) -> dict[str, Any] | None:
        try:
            return call(Bucket=self.name, aws_retry=True, **params)
        except Exception as err:
            if error_code(err) in ABSENT_CODES[setting]:
                return None
            raise

    def find(self) -> dict[str, Any] | None:
        try:
            self.s3.head_bucket(Bucket=self.name, aws_retry=True)
        except Exception as err:
            code = error_code(err)
            if code in ("404", "NoSuchBucket", "NotFound"):
                return None
            if code in ("403", "AccessDenied", "Forbidden"):
                self.module.fail_json(
                    msg=f"bucket {self.name!r} exists and this account cannot read it: it belongs to another "
                    "account (S3 bucket names are global); the toolkit never uses it"
                )
            raise
        encryption = self._read(self.s3.get_bucket_encryption, "encryption")
        access = self._read(self.s3.get_public_access_block, "public_access_block")
        lifecycle = self._read(self.s3.get_bucket_lifecycle_configuration, "lifecycle")
        policy = self._read(self.s3.get_bucket_policy, "policy")
        tags = self._read(self.s3.get_bucket_tagging, "tags")
        ownership = self._read(self.s3.get_bucket_ownership_controls, "ownership")
        versioning = self.s3.get_bucket_versioning(Bucket=self.name, aws_retry=True)
        rule = ((encryption or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules") or [{}])[0]
        default = rule.get("ApplyServerSideEncryptionByDefault", {})
        return {
            "Name": self.name,
            "Encryption": {
                "algorithm": default.get("SSEAlgorithm"),
                "kms_key_id": default.get("KMSMasterKeyID"),
                "bucket_key": bool(rule.get("BucketKeyEnabled", False)),
            },
            "PublicAccessBlock": (access or {}).get("PublicAccessBlockConfiguration", {}),
            "Versioning": versioning.get("Status", "Disabled"),
            "Rules": (lifecycle or {}).get("Rules", []),
            "Policy": json.loads(policy["Policy"]) if policy else None,
            "Tags": list_to_dict((tags or {}).get("TagSet")),
            "Ownership": ((ownership or {}).get("OwnershipControls", {}).get("Rules") or [{}])[0].get(
                "ObjectOwnership"
            ),
        }

    def current_tags(self, resource: dict[str, Any]) -> dict[str, str]:
        return resource.get("Tags", {})

    def _encryption(self) -> dict[str, Any]:
        key = self.params["kms_key_id"]
        if key:
            return {"algorithm": "aws:kms", "kms_key_id": key, "bucket_key": True}
        return {"algorithm": "AES256", "kms_key_id": None, "bucket_key": False}

    def desired(self) -> dict[str, Any]:
        if self.params["state"] == "absent":
            return {}
        return {
            "encryption": self._encryption(),
            "public_access_block": dict(PUBLIC_ACCESS_BLOCK),
            "versioning": "Enabled",
            "lifecycle_rules": comparable_rules(
                lifecycle_rules(self.params["retention_days"], self.params["abort_incomplete_multipart_days"])
            ),
            "policy": bucket_policy(self.name),
            "object_ownership": OWNERSHIP,
        }

    def comparable(self, resource: dict[str, Any]) -> dict[str, Any]:
        return {
            "encryption": resource["Encryption"],
            "public_access_block": resource["PublicAccessBlock"],
            "versioning": resource["Versioning"],
            "lifecycle_rules": comparable_rules(resource["Rules"]),
            "policy": resource["Policy"],
            "object_ownership": resource["Ownership"],
        }

    # -- writes ----------------------------------------------------------------------------------------
    def _apply(self, name: str) -> None:
        bucket = {"Bucket": self.name, "aws_retry": True}
        if name == "encryption":
            wanted = self._encryption()
            default: dict[str, Any] = {"SSEAlgorithm": wanted["algorithm"]}
            if wanted["kms_key_id"]:
                default["KMSMasterKeyID"] = wanted["kms_key_id"]
            self.s3.put_bucket_encryption(
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": wanted["bucket_key"]}]
                },
                **bucket,
            )
        elif name == "public_access_block":
            self.s3.put_public_access_block(PublicAccessBlockConfiguration=dict(PUBLIC_ACCESS_BLOCK), **bucket)
        elif name == "versioning":
            self.s3.put_bucket_versioning(VersioningConfiguration={"Status": "Enabled"}, **bucket)
        elif name == "lifecycle_rules":
            rules = lifecycle_rules(self.params["retention_days"], self.params["abort_incomplete_multipart_days"])
            self.s3.put_bucket_lifecycle_configuration(LifecycleConfiguration={"Rules": rules}, **bucket)
        elif name == "policy":
            self.s3.put_bucket_policy(Policy=json.dumps(bucket_policy(self.name)), **bucket)
        elif name == "object_ownership":
            self.s3.put_bucket_ownership_controls(
                OwnershipControls={"Rules": [{"ObjectOwnership": OWNERSHIP}]}, **bucket
            )

    def create(self, desired: dict[str, Any], tags: dict[str, str]) -> dict[str, Any] | None:
        params: dict[str, Any] = {"Bucket": self.name, "ObjectOwnership": OWNERSHIP}
        if self.region and self.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        self.s3.create_bucket(aws_retry=True, **params)
        # Tags first: a run interrupted after this point finds a bucket it owns and completes it.
        self.s3.put_bucket_tagging(Bucket=self.name, Tagging={"TagSet": dict_to_list(tags)}, aws_retry=True)
        for name in ("public_access_block", "encryption", "versioning", "lifecycle_rules", "policy"):
            self._apply(name)
        return self.find()

    def update(self, resource: dict[str, Any], plan: Plan) -> dict[str, Any] | None:
        for name in (
            "public_access_block",
            "object_ownership",
            "encryption",
            "versioning",
            "lifecycle_rules",
            "policy",
        ):
            if name in plan.changes:
                self._apply(name)
        return None

    def set_tags(self, resource: dict[str, Any], to_set: dict[str, str], to_remove: list[str]) -> None:
        # PutBucketTagging replaces the whole set.
        tags = {key: value for key, value in resource.get("Tags", {}).items() if key not in to_remove}
        tags.update(to_set)
        self.s3.put_bucket_tagging(Bucket=self.name, Tagging={"TagSet": dict_to_list(tags)}, aws_retry=True)

    # -- deletion ------------------------------------------------------------------------------------
    def contents(self) -> dict[str, int]:
        """How much the bucket holds: at least the first page of versions and of unfinished uploads."""
        versions = self.s3.list_object_versions(Bucket=self.name, MaxKeys=1000, aws_retry=True)
        uploads = self.s3.list_multipart_uploads(Bucket=self.name, MaxUploads=1000, aws_retry=True)
        return {
            "versions": len(versions.get("Versions") or []) + len(versions.get("DeleteMarkers") or []),
            "uploads": len(uploads.get("Uploads") or []),
            "more": bool(versions.get("IsTruncated") or uploads.get("IsTruncated")),
        }

    def annotate(self, result: dict[str, Any], plan: Plan) -> None:
        if plan.action != "delete":
            return
        held = self.contents()
        result["held"] = {"versions": held["versions"], "uploads": held["uploads"]}
        if (held["versions"] or held["uploads"]) and not self.params["delete_data"]:
            more = "+" if held["more"] else ""
            count = f"{held['versions']}{more} object versions and {held['uploads']} unfinished uploads"
            raise PlanRefused(
                f"landing bucket {self.name!r} holds data ({count}): it is not deleted. Copy what is still needed "
                "(acquisitions not yet transferred), then confirm the deletion of its data (teardown: "
                "-e purge_ingest_data=true; module: delete_data=true)",
                result,
            )

    def delete(self, resource: dict[str, Any]) -> None:
        if self.params["delete_data"]:
            self._empty()
        self.s3.delete_bucket(Bucket=self.name, aws_retry=True)

    def _empty(self) -> None:
        while True:
            uploads = self.s3.list_multipart_uploads(Bucket=self.name, aws_retry=True).get("Uploads") or []
            for upload in uploads:
                self.s3.abort_multipart_upload(
                    Bucket=self.name, Key=upload["Key"], UploadId=upload["UploadId"], aws_retry=True
                )
            if not uploads:
                break
        while True:
            page = self.s3.list_object_versions(Bucket=self.name, MaxKeys=DELETE_BATCH, aws_retry=True)
            objects = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in (page.get("Versions") or []) + (page.get("DeleteMarkers") or [])
            ]
            if not objects:
                return
            self.s3.delete_objects(Bucket=self.name, Delete={"Objects": objects, "Quiet": True}, aws_retry=True)

    def result(self, resource: dict[str, Any] | None) -> dict[str, Any]:
        if not resource:
            return {}
        return {
            "name": self.name,
            "arn": f"arn:aws:s3:::{self.name}",
            "encryption": resource["Encryption"],
            "versioning": resource["Versioning"],
            "public_access_block": resource["PublicAccessBlock"],
            "object_ownership": resource["Ownership"],
            "lifecycle_rules": resource["Rules"],
            "policy": resource["Policy"],
            "tags": resource.get("Tags", {}),
        }


def main() -> None:
    argument_spec = dict(
        name=dict(type="str", required=True),
        retention_days=dict(type="int", default=7),
        abort_incomplete_multipart_days=dict(type="int", default=MIN_ABORT_INCOMPLETE_DAYS),
        kms_key_id=dict(type="str"),
        delete_data=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        **tenant_argument_spec(wait_timeout=60),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    if module.params["retention_days"] < 1:
        module.fail_json(msg="retention_days: must be at least 1")
    if module.params["abort_incomplete_multipart_days"] < MIN_ABORT_INCOMPLETE_DAYS:
        module.fail_json(
            msg=f"abort_incomplete_multipart_days: must be at least {MIN_ABORT_INCOMPLETE_DAYS} (an instrument PC "
            "may stay off for days; an aborted upload starts over)"
        )
    run(module, LandingBucket(module), module.params["state"])


if __name__ == "__main__":
    main()
