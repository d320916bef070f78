# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IAM, bucket and lifecycle documents of a tenant's ingest, as pure functions (no AWS call).

Each names its source; tests compare them with what the modules apply and with the uploader's own
statement of what it needs (uploader/README.md, "The instrument's IAM policy").
"""

from __future__ import annotations

from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest.layout import (
    DATASYNC_MANIFEST_PREFIX,
    KEY_ROOT,
    TRANSFERRED_TAG_KEY,
    TRANSFERRED_TAG_VALUE,
    instrument_prefix,
)

VERSION = "2012-10-17"
# uploader/README.md: a resumed file starts over once S3 aborted its upload, so the rule must be longer
# than an instrument PC may stay off; 7 days at the least.
MIN_ABORT_INCOMPLETE_DAYS = 7


def instrument_policy(bucket: str, instrument: str) -> dict[str, Any]:
    """Exactly what the uploader needs (uploader/README.md, "The instrument's IAM policy"), nothing more:
    write its own prefix, list the parts of and abort its own multipart uploads; no read, list or delete.

    CreateMultipartUpload, UploadPart and CompleteMultipartUpload are authorised as s3:PutObject, ListParts
    as s3:ListMultipartUploadParts (Service Authorization Reference, Amazon S3)."""
    own_keys = f"arn:aws:s3:::{bucket}/{instrument_prefix(instrument)}*"
    return {
        "Version": VERSION,
        "Statement": [
            {"Sid": "SendAcquisitions", "Effect": "Allow", "Action": "s3:PutObject", "Resource": own_keys},
            {
                "Sid": "ResumeOwnUploads",
                "Effect": "Allow",
                "Action": ["s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"],
                "Resource": own_keys,
            },
        ],
    }


def bucket_policy(bucket: str) -> dict[str, Any]:
    """Refuse every request that does not come over TLS (S3 user guide, "Security best practices":
    enforce encryption of data in transit with the aws:SecureTransport condition)."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def lifecycle_rules(retention_days: int, abort_incomplete_days: int) -> list[dict[str, Any]]:
    """The landing bucket's lifecycle (S3 user guide, "Lifecycle configuration elements").

    - transferred: object versions the toolkit marked as transferred (tag) expire `retention_days` after
      they were written; versioning turns that into a delete marker, and the noncurrent version goes a
      day later. Nothing untransferred ever expires: an acquisition DataSync has not copied stays.
    - housekeeping, whole bucket: abandoned multipart uploads are aborted after `abort_incomplete_days`,
      versions overwritten by a re-sent acquisition (`ingest-upload --force`) go `retention_days` after
      they were replaced, and delete markers left alone are removed.
    """
    return [
        {
            "ID": "expire-transferred-acquisitions",
            "Status": "Enabled",
            "Filter": {"Tag": {"Key": TRANSFERRED_TAG_KEY, "Value": TRANSFERRED_TAG_VALUE}},
            "Expiration": {"Days": retention_days},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        },
        {
            "ID": "housekeeping",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": abort_incomplete_days},
            "NoncurrentVersionExpiration": {"NoncurrentDays": retention_days},
            "Expiration": {"ExpiredObjectDeleteMarker": True},
        },
    ]


def datasync_trust_policy(account_id: str, region: str) -> dict[str, Any]:
    """DataSync may assume the bucket access role, for this account's DataSync resources only (DataSync
    user guide, "Cross-service confused deputy prevention": aws:SourceAccount and aws:SourceArn)."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "datasync.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:datasync:{region}:{account_id}:*"},
                },
            }
        ],
    }


def datasync_bucket_access_policy(bucket: str) -> dict[str, Any]:
    """What DataSync needs of an S3 *source* location and of the manifests it reads (DataSync user guide,
    "Configuring AWS DataSync transfers with Amazon S3", Required permissions, Amazon S3 (source location);
    "Providing DataSync access to your manifest"): read only, on the acquisitions and the manifests."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ListLandingBucket",
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                "Resource": f"arn:aws:s3:::{bucket}",
            },
            {
                "Sid": "ReadAcquisitions",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObject",
                    "s3:GetObjectTagging",
                    "s3:GetObjectVersion",
                    "s3:GetObjectVersionTagging",
                    "s3:ListMultipartUploadParts",
                ],
                "Resource": f"arn:aws:s3:::{bucket}/{KEY_ROOT}/*",
            },
            {
                "Sid": "ReadTransferManifests",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": f"arn:aws:s3:::{bucket}/{DATASYNC_MANIFEST_PREFIX}*",
            },
        ],
    }


# One CloudWatch Logs resource policy per account and region lets DataSync write to the toolkit's log
# groups (CloudWatch Logs allows only 10 resource policies per region, so not one per tenant).
LOG_GROUP_PREFIX = "/tenant-toolkit/datasync/"
LOGS_RESOURCE_POLICY_NAME = "tenant-toolkit-datasync"


def log_group_name(tenant: str) -> str:
    return f"{LOG_GROUP_PREFIX}{tenant}"


def datasync_logs_resource_policy(account_id: str, region: str) -> dict[str, Any]:
    """DataSync may write its task logs to the toolkit's groups (DataSync user guide, "Monitoring data
    transfers with Amazon CloudWatch Logs": logs:PutLogEvents and logs:CreateLogStream for
    datasync.amazonaws.com, with aws:SourceAccount and aws:SourceArn)."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "DataSyncLogsToToolkitGroups",
                "Effect": "Allow",
                "Principal": {"Service": "datasync.amazonaws.com"},
                "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
                "Resource": f"arn:aws:logs:{region}:{account_id}:log-group:{LOG_GROUP_PREFIX}*:*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:datasync:{region}:{account_id}:task/*"},
                },
            }
        ],
    }
