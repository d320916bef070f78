#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: toolkit_state_store
version_added: 0.2.0
short_description: Ensure the toolkit state store of an AWS account and region (tenant locks, change history)
description:
  - Creates, once per account and region, what C(playbooks/lock.yml), the C(tenant_state) callback and
    C(playbooks/ops/history.yml) use. Part of the account bootstrap, C(playbooks/bootstrap.yml).
  - A DynamoDB table (on-demand capacity, string key C(pk)) for the tenant locks. Locks need conditional
    writes that decide in one request, also on an expired lease, and whose condition names the holder, so a
    retried renewal or release stays correct; DynamoDB's ConditionExpression gives both.
  - A versioned, encrypted S3 bucket closed to public access for the history records, one JSON document per
    run and tenant, with diffs that can exceed DynamoDB's 400 KB item limit.
  - Both carry C(managed-by=appstream-tenant-toolkit) and C(toolkit:component=state-store). Settings that
    differ are put right; nothing is ever deleted (the history outlives every tenant).
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  table:
    description: Name of the lock table (per account and region).
    type: str
    default: tenant-toolkit-state
  bucket:
    description: Name of the history bucket (S3 names are global; default C(tenant-toolkit-state-<account>-<region>)).
    type: str
  wait_timeout:
    description: Seconds to wait for a new table to become C(ACTIVE).
    type: int
    default: 300
attributes:
  check_mode:
    details: Describe and Get calls only; C(actions) lists what would be done.
  diff_mode:
    support: none
    details: C(actions) lists what was done, or would be done in check mode.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.attributes
"""

EXAMPLES = r"""
- name: Ensure the toolkit state store of the tenant's account and region
  iconeus.tenant_toolkit.toolkit_state_store:
  register: state_store

- name: Show where the history lives
  ansible.builtin.debug:
    msg: "history in s3://{{ state_store.bucket.name }}/history/"
"""

RETURN = r"""
account:
  description: The AWS account.
  returned: always
  type: str
  sample: "123456789012"
region:
  description: The region.
  returned: always
  type: str
  sample: eu-west-3
table:
  description: The lock table.
  returned: always
  type: dict
  sample:
    name: tenant-toolkit-state
    status: ACTIVE
    arn: arn:aws:dynamodb:eu-west-3:123456789012:table/tenant-toolkit-state
bucket:
  description: The history bucket.
  returned: always
  type: dict
  sample: {name: tenant-toolkit-state-123456789012-eu-west-3}
actions:
  description: What was done (in check mode, what would be done).
  returned: always
  type: list
  elements: str
  sample: [create table tenant-toolkit-state, create bucket tenant-toolkit-state-123456789012-eu-west-3]
"""

from typing import Any

try:  # noqa: SIM105 - the amazon.aws idiom: AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import list_to_dict
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state.store import (
    PARTITION_KEY,
    STORE_TAGS,
    TABLE_NAME,
    bucket_name,
    bucket_settings,
    table_definition,
)


def ensure_table(module: AnsibleAWSModule, client: Any, name: str, actions: list[str]) -> dict[str, Any]:
    try:
        table = client.describe_table(TableName=name, aws_retry=True)["Table"]
    except is_boto3_error_code("ResourceNotFoundException"):
        actions.append(f"create table {name}")
        if module.check_mode:
            return {"name": name, "status": None, "arn": None}
        client.create_table(**table_definition(name), aws_retry=True)
        client.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 2, "MaxAttempts": max(1, module.params["wait_timeout"] // 2)}
        )
        table = client.describe_table(TableName=name, aws_retry=True)["Table"]
        return {"name": name, "status": table.get("TableStatus"), "arn": table.get("TableArn")}
    keys = [(k["AttributeName"], k["KeyType"]) for k in table.get("KeySchema", [])]
    if keys != [(PARTITION_KEY, "HASH")]:
        module.fail_json(
            msg=f"DynamoDB table {name} exists with the key {keys}, not the state store's ({PARTITION_KEY}, HASH): "
            "it is not the toolkit's; give another name with the table option"
        )
    tags = list_to_dict(client.list_tags_of_resource(ResourceArn=table["TableArn"], aws_retry=True).get("Tags"))
    missing = {key: value for key, value in STORE_TAGS.items() if tags.get(key) != value}
    if missing:
        actions.append(f"tag table {name}: {missing}")
        if not module.check_mode:
            client.tag_resource(
                ResourceArn=table["TableArn"],
                Tags=[{"Key": k, "Value": v} for k, v in sorted(missing.items())],
                aws_retry=True,
            )
    return {"name": name, "status": table.get("TableStatus"), "arn": table.get("TableArn")}


def _read(call: Any, missing_codes: list[str], **kwargs: Any) -> Any:
    """A Get call whose "not configured" error means None."""
    try:
        return call(**kwargs, aws_retry=True)
    except is_boto3_error_code(missing_codes):
        return None


def ensure_bucket(module: AnsibleAWSModule, client: Any, name: str, region: str, actions: list[str]) -> dict[str, Any]:
    wanted = bucket_settings(region)
    try:
        client.head_bucket(Bucket=name, aws_retry=True)
        exists = True
    except is_boto3_error_code(["404", "NoSuchBucket", "NotFound"]):
        exists = False
    except is_boto3_error_code(["403", "AccessDenied", "Forbidden"]):
        module.fail_json(
            msg=f"S3 bucket {name} exists but this identity cannot use it (bucket names are global: another account "
            "may own it); give another name with the bucket option"
        )
    if not exists:
        actions.append(f"create bucket {name}")
        if module.check_mode:
            return {"name": name}
        client.create_bucket(Bucket=name, **wanted["create"], aws_retry=True)
        client.get_waiter("bucket_exists").wait(Bucket=name)
    block = (
        _read(client.get_public_access_block, ["NoSuchPublicAccessBlockConfiguration"], Bucket=name) if exists else None
    )
    if (block or {}).get("PublicAccessBlockConfiguration") != wanted["public_access_block"]:
        actions.append(f"block public access to bucket {name}")
        if not module.check_mode:
            client.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=wanted["public_access_block"], aws_retry=True
            )
    encryption = (
        _read(client.get_bucket_encryption, ["ServerSideEncryptionConfigurationNotFoundError"], Bucket=name)
        if exists
        else None
    )
    rules = ((encryption or {}).get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
    if not any(r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for r in rules):
        actions.append(f"encrypt bucket {name} (SSE-S3)")
        if not module.check_mode:
            client.put_bucket_encryption(
                Bucket=name, ServerSideEncryptionConfiguration=wanted["encryption"], aws_retry=True
            )
    versioning = client.get_bucket_versioning(Bucket=name, aws_retry=True).get("Status") if exists else None
    if versioning != "Enabled":
        actions.append(f"turn versioning on for bucket {name}")
        if not module.check_mode:
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration=wanted["versioning"], aws_retry=True)
    tagging = _read(client.get_bucket_tagging, ["NoSuchTagSet", "NoSuchTagSetError"], Bucket=name) if exists else None
    tags = list_to_dict((tagging or {}).get("TagSet"))
    if any(tags.get(key) != value for key, value in STORE_TAGS.items()):
        actions.append(f"tag bucket {name}")
        if not module.check_mode:
            merged = {**tags, **STORE_TAGS}
            client.put_bucket_tagging(
                Bucket=name,
                Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in sorted(merged.items())]},
                aws_retry=True,
            )
    return {"name": name}


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            table=dict(type="str", default=TABLE_NAME),
            bucket=dict(type="str"),
            wait_timeout=dict(type="int", default=300),
        ),
        supports_check_mode=True,
    )
    region = module.region
    if not region:
        module.fail_json(msg="region: the state store is per region; set AWS_REGION or the region option")
    try:
        account = module.client("sts", retry_decorator=retry_decorator()).get_caller_identity(aws_retry=True)["Account"]
        actions: list[str] = []
        table = ensure_table(
            module, module.client("dynamodb", retry_decorator=retry_decorator()), module.params["table"], actions
        )
        name = module.params["bucket"] or bucket_name(account, region)
        bucket = ensure_bucket(module, module.client("s3", retry_decorator=retry_decorator()), name, region, actions)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as err:
        module.fail_json_aws(err, msg="the toolkit state store could not be read or created")
    module.exit_json(changed=bool(actions), account=account, region=region, table=table, bucket=bucket, actions=actions)


if __name__ == "__main__":
    main()
