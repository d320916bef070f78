#!/usr/bin/python
# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: appstream_usage_info
version_added: 0.1.0
short_description: Read one tenant's month of AppStream 2.0 usage from the usage reports
description:
  - Finds the region's usage report bucket (C(DescribeUsageReportSubscriptions)), lists the month's daily
    sessions and applications reports (one C(ListObjectsV2) each) and reads them (one C(GetObject) per report).
  - Keeps the sessions of the tenant's stack (other tenants stream in the same account and region) and returns
    them per user (the billing rows), per day and as peaks of concurrent sessions. How a month is counted
    (sessions belong to the month of the day they ended) is described in
    plugins/module_utils/appstream/usage.py.
  - Closed days of the month without a sessions report are returned in RV(usage.missing_days), never counted as
    zero silently. Read-only.
author: Tenant toolkit maintainers (@tenant-toolkit)
options:
  tenant:
    description: Name of the tenant (the first column of the billing rows).
    type: str
    required: true
  stack_name:
    description: The tenant's stack, whose sessions are kept. Defaults to C(<tenant>-stack).
    type: str
  month:
    description: The month, C(YYYY-MM). Defaults to the current month (UTC), to date.
    type: str
  bucket:
    description: The usage reports bucket, when not the one C(DescribeUsageReportSubscriptions) names.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iconeus.tenant_toolkit.attributes.read_only
notes:
  - The billing rows hold user ids (personal data); write them to files readable by their owner's group only.
"""

EXAMPLES = r"""
- name: Read the tenant's usage of October 2026
  iconeus.tenant_toolkit.appstream_usage_info:
    tenant: acme-neuro
    month: "2026-10"
  register: usage
"""

RETURN = r"""
usage:
  description: The month's usage of the tenant.
  type: dict
  returned: success
  contains:
    subscribed:
      description: Whether the region has a usage report subscription (false means no report to read).
      type: bool
      sample: true
    bucket:
      description: The bucket read.
      type: str
      sample: appstream-logs-eu-west-3-123456789012-abcdefgh
    rows:
      description: One row per user, in the billing file's column order.
      type: list
      elements: dict
      sample: [{tenant: acme-neuro, month: "2026-10", user_id: "CORP\\ada", authentication_type: SAML,
                sessions: "2", session_hours: "5.25", applications: "IcoBatch;IcoStudio"}]
    csv:
      description: The billing file (header, then the rows; the header only without usage).
      type: str
      sample: "tenant,month,user_id,authentication_type,sessions,session_hours,applications\n"
    summary:
      description: Users, sessions, hours, the days with a report and the closed days without one.
      type: dict
      sample: {users: 2, sessions: 3, session_hours: 6.0, missing_days: ["2026-10-02"]}
    days:
      description: Sessions and hours per day (by the day each session ended), and whether it had a report.
      type: list
      elements: dict
      sample: [{day: "2026-10-01", sessions: 2, hours: 3.25, report: true}]
    peaks:
      description: The most sessions open at once, per day.
      type: list
      elements: dict
      sample: [{day: "2026-10-01", peak: 2}]
    missing_days:
      description: Closed days of the month without a sessions report.
      type: list
      elements: str
      sample: ["2026-10-02"]
calls:
  description: AWS calls made.
  type: int
  returned: success
  sample: 6
"""

import datetime
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.usage import (
    UsageReportError,
    applications_prefix,
    billing_csv,
    billing_rows,
    daily_sessions,
    day_of_key,
    month_usage,
    parse_month,
    peak_concurrency,
    sessions_prefix,
    summary,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.pagination import paginate


class UsageReader:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.calls = 0
        self.appstream = module.client("appstream", retry_decorator=retry_decorator())
        self.s3 = module.client("s3", retry_decorator=retry_decorator())

    def bucket(self) -> str | None:
        if self.module.params["bucket"]:
            return self.module.params["bucket"]
        self.calls += 1
        found = paginate(self.appstream.describe_usage_report_subscriptions, "UsageReportSubscriptions", aws_retry=True)
        return found[0].get("S3BucketName") if found else None

    def reports(self, bucket: str, prefix: str) -> dict[datetime.date, str]:
        keys = []
        request: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        while True:
            self.calls += 1
            page = self.s3.list_objects_v2(aws_retry=True, **request)
            keys += [item["Key"] for item in page.get("Contents") or []]
            if not page.get("IsTruncated"):
                break
            request["ContinuationToken"] = page["NextContinuationToken"]
        texts = {}
        for key in sorted(keys):
            day = day_of_key(key)
            if day is None:
                continue
            self.calls += 1
            body = self.s3.get_object(Bucket=bucket, Key=key, aws_retry=True)["Body"].read()
            texts[day] = body.decode("utf-8-sig")
        return texts


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            tenant=dict(type="str", required=True),
            stack_name=dict(type="str"),
            month=dict(type="str"),
            bucket=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    today = datetime.datetime.now(datetime.UTC).date()
    month = params["month"] or f"{today:%Y-%m}"
    try:
        parse_month(month)
    except ValueError as err:
        module.fail_json(msg=str(err))
    stack = params["stack_name"] or f"{params['tenant']}-stack"
    reader = UsageReader(module)
    try:
        bucket = reader.bucket()
        sessions = reader.reports(bucket, sessions_prefix(month)) if bucket else {}
        applications = reader.reports(bucket, applications_prefix(month)) if bucket else {}
        usage = month_usage(params["tenant"], month, stack, sessions, applications, today)
    except UsageReportError as err:
        module.fail_json(msg=f"usage reports of {month}: {err}")
    except Exception as err:  # botocore errors end as a module failure naming the read
        if hasattr(err, "response"):
            module.fail_json_aws(err, msg=f"Could not read the usage reports of {month}")
        raise
    rows = billing_rows(usage)
    module.exit_json(
        changed=False,
        calls=reader.calls,
        usage={
            "subscribed": bucket is not None,
            "bucket": bucket,
            "month": month,
            "stack": stack,
            "rows": rows,
            "csv": billing_csv(rows),
            "summary": summary(usage),
            "days": daily_sessions(usage),
            "peaks": peak_concurrency(usage),
            "hours_by_user": [{"user_id": row["user_id"], "hours": float(row["session_hours"])} for row in rows],
            "missing_days": usage.missing_days,
        },
    )


if __name__ == "__main__":
    main()
