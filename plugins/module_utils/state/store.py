# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The toolkit state store of one AWS account and region: where run locks and the change history live.

Created once per account and region by `playbooks/bootstrap.yml` (module toolkit_state_store):

- a DynamoDB table, `tenant-toolkit-state`, keyed by `pk` (string), holding one item per locked tenant
  (`lock#<tenant>`). Locks use DynamoDB conditional writes: a lock is taken by a PutItem that succeeds only
  when no item exists or its lease has expired (`attribute_not_exists(pk) OR lease_expires < :now`), and
  renewed or released only under the condition that the holder's run id is the caller's. One request
  decides, atomically, and a retried request stays correct (the condition names the holder, not a version
  of the item that a lost answer would make stale);
- an S3 bucket, `tenant-toolkit-state-<account>-<region>` (bucket names are global), holding one JSON
  record per run that changed a tenant, `history/<tenant>/<start time>-<run id>.json`. Records carry the
  diffs of the run and can exceed DynamoDB's 400 KB item limit; S3 lists them by prefix in key order,
  which is time order. The bucket is versioned, encrypted, and closed to public access.
"""

from __future__ import annotations

import re
from typing import Any

TABLE_NAME = "tenant-toolkit-state"
BUCKET_PREFIX = "tenant-toolkit-state"
PARTITION_KEY = "pk"
LOCK_PREFIX = "lock#"
HISTORY_PREFIX = "history/"
COMPONENT_TAG = "toolkit:component"
COMPONENT = "state-store"
STORE_TAGS = {"managed-by": "appstream-tenant-toolkit", COMPONENT_TAG: COMPONENT}
# How an operator fixes a missing store, named in every error about it.
BOOTSTRAP_HINT = (
    "run `ansible-playbook playbooks/bootstrap.yml -i inventories/<tenant>` once for this account and region"
)


class StoreMissing(Exception):
    """The account and region have no toolkit state store (or this identity cannot see it)."""


def bucket_name(account: str, region: str) -> str:
    """The history bucket of an account and region (S3 names are global: both are part of it)."""
    return f"{BUCKET_PREFIX}-{account}-{region}"


def lock_key(tenant: str) -> str:
    return LOCK_PREFIX + tenant


def history_prefix(tenant: str) -> str:
    return f"{HISTORY_PREFIX}{tenant}/"


def history_key(tenant: str, started: str, run_id: str) -> str:
    """`history/<tenant>/<YYYYmmddTHHMMSSZ>-<run id>.json`: keys sort in time order."""
    return f"{history_prefix(tenant)}{compact_time(started)}-{run_id}.json"


def compact_time(iso: str) -> str:
    """`2026-12-06T10:15:03+00:00` -> `20261206T101503Z` (UTC, as recorded)."""
    digits = re.sub(r"[^0-9T]", "", iso.split("+")[0].split(".")[0].rstrip("Z"))
    return digits[:15] + "Z"


def missing_message(account: str | None, region: str | None, what: str) -> str:
    where = f"account {account} region {region or '?'}" if account else f"region {region or '?'}"
    return f"the toolkit state store of {where} has no {what}: {BOOTSTRAP_HINT}"


def table_definition(name: str = TABLE_NAME) -> dict[str, Any]:
    """CreateTable arguments: on-demand capacity (a few requests per run), one string key."""
    return {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": PARTITION_KEY, "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "Tags": [{"Key": key, "Value": value} for key, value in sorted(STORE_TAGS.items())],
    }


def bucket_settings(region: str) -> dict[str, Any]:
    """What the history bucket is made with (each applied by its own call, idempotently)."""
    create: dict[str, Any] = {}
    if region != "us-east-1":  # us-east-1 refuses a LocationConstraint naming itself
        create["CreateBucketConfiguration"] = {"LocationConstraint": region}
    return {
        "create": create,
        "public_access_block": {
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
        "encryption": {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "versioning": {"Status": "Enabled"},
        "tags": {"TagSet": [{"Key": key, "Value": value} for key, value in sorted(STORE_TAGS.items())]},
    }
