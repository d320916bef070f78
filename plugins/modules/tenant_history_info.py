#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tenant_history_info
version_added: 0.2.0
short_description: List the changes made to a tenant, newest first, from the toolkit state store
description:
  - Every run that changes a tenant (site.yml, a stage playbook, a runbook) leaves one record in the state
    store's history bucket, written by the C(tenant_state) callback when the run ends, failed or not. This
    module lists them, newest first, optionally within dates, and returns a summary of each (who, when, from
    where, which playbook and tags, which tasks changed, what failed) or the whole records with their diffs.
  - Records never hold secrets (no_log results are censored, values under secret-looking keys removed).
  - Read only; reads one object per record returned, after one listing of the tenant's records.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  tenant:
    description: The tenant.
    type: str
    required: true
  date_from:
    description: Only records of runs started on this day or later (C(YYYY-MM-DD), UTC).
    type: str
  date_to:
    description: Only records of runs started on this day or earlier (C(YYYY-MM-DD), UTC).
    type: str
  limit:
    description: At most this many records, the newest (0 for all).
    type: int
    default: 20
  details:
    description: Return the whole records (diffs included) in RV(documents), not only their summaries.
    type: bool
    default: false
  bucket:
    description: The history bucket (default C(tenant-toolkit-state-<account>-<region>)).
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.attributes.read_only
"""

EXAMPLES = r"""
- name: Read the ten latest changes of the tenant
  iconeus.tenant_toolkit.tenant_history_info:
    tenant: acme-neuro
    limit: 10
  register: acme_history

- name: Read the changes of the first week of December, with their diffs
  iconeus.tenant_toolkit.tenant_history_info:
    tenant: acme-neuro
    date_from: "2026-12-01"
    date_to: "2026-12-07"
    limit: 0
    details: true
"""

RETURN = r"""
available:
  description: Whether the state store's history bucket exists (C(playbooks/bootstrap.yml) makes it).
  returned: always
  type: bool
  sample: true
msg:
  description: Why the history is not available.
  returned: when RV(available) is false
  type: str
  sample: the toolkit state store of account 123456789012 region eu-west-3 has no history bucket
bucket:
  description: The history bucket.
  returned: always
  type: str
  sample: tenant-toolkit-state-123456789012-eu-west-3
total:
  description: How many records match the dates (before O(limit)).
  returned: always
  type: int
  sample: 42
records:
  description: Summaries of the records, newest first.
  returned: always
  type: list
  elements: dict
  sample:
    - time: "2026-12-06T10:15:03Z"
      run_id: r-0123456789ab
      status: ok
      operator: alice
      caller_arn: arn:aws:sts::123456789012:assumed-role/deployer/alice
      controller: ctl1
      playbook: site.yml
      tags: []
      changed_tasks: 2
      tasks: ["appstream_fleet : Ensure the fleet", "appstream_stack : Ensure the stack"]
      failures: []
      toolkit: 0.2.0
      commit: 3f9c2a7d41b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4
      key: history/acme-neuro/20261206T101503Z-r-0123456789ab.json
documents:
  description: The whole records, newest first, with each changed task's diff.
  returned: when O(details=true)
  type: list
  elements: dict
"""

import json
from typing import Any

try:  # noqa: SIM105 - the amazon.aws idiom: AnsibleAWSModule reports a missing botocore
    import botocore
except ImportError:
    pass

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema.checks import check_date
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state import history
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state.store import (
    bucket_name,
    history_prefix,
    missing_message,
)


def listed_records(client: Any, bucket: str, tenant: str) -> list[dict[str, str]]:
    keys: list[dict[str, str]] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=history_prefix(tenant)):
        for item in page.get("Contents", []):
            entry = history.parse_key(tenant, item["Key"])
            if entry is not None:
                keys.append(entry)
    return keys


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            tenant=dict(type="str", required=True),
            date_from=dict(type="str"),
            date_to=dict(type="str"),
            limit=dict(type="int", default=20),
            details=dict(type="bool", default=False),
            bucket=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    errors = [
        f"{name}: {error}" for name in ("date_from", "date_to") if params[name] for error in check_date(params[name])
    ]
    if params["limit"] < 0:
        errors.append("limit: must be 0 (all) or more")
    if errors:
        module.fail_json(msg="; ".join(errors))
    tenant = params["tenant"]
    try:
        account = module.client("sts", retry_decorator=retry_decorator()).get_caller_identity(aws_retry=True)["Account"]
        bucket = params["bucket"] or bucket_name(account, module.region or "")
        client = module.client("s3", retry_decorator=retry_decorator())
        try:
            found = listed_records(client, bucket, tenant)
        except is_boto3_error_code("NoSuchBucket"):
            module.exit_json(
                changed=False,
                available=False,
                msg=missing_message(account, module.region, "history bucket"),
                bucket=bucket,
                total=0,
                records=[],
            )
        matching = history.select(found, params["date_from"], params["date_to"], None)
        chosen = matching[: params["limit"]] if params["limit"] else matching
        documents = []
        for entry in chosen:
            body = client.get_object(Bucket=bucket, Key=entry["key"], aws_retry=True)["Body"].read()
            documents.append(json.loads(body))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as err:
        module.fail_json_aws(err, msg=f"tenant {tenant}: the history could not be read")
    records = [
        {**history.summary(document), "key": entry["key"]} for entry, document in zip(chosen, documents, strict=True)
    ]
    result: dict[str, Any] = {
        "changed": False,
        "available": True,
        "bucket": bucket,
        "total": len(matching),
        "records": records,
    }
    if params["details"]:
        result["documents"] = documents
    module.exit_json(**result)


if __name__ == "__main__":
    main()
