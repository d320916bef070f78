"""AppStream 2.0 usage reports, written the way AWS writes them (pure functions, no state).

AppStream 2.0 developer guide, "AppStream 2.0 Usage Reports" / "Enable AppStream 2.0 Usage Reports":
for each UTC day on which users streamed, two CSV files land in the subscription's bucket, within 24
hours of the day's close:

    sessions/schedule=DAILY/year=YYYY/month=MM/day=DD/daily-session-report-YYYY-MM-DD.csv
    applications/schedule=DAILY/year=YYYY/month=MM/day=DD/daily-app-report-YYYY-MM-DD.csv

"If a session spans more than one day, the session record appears in the sessions report corresponding to
the day in which the session ends", and so do the applications launched during it. A sessions report is
written for each day with at least one session, an applications report for each day with at least one
application launch. Header names and their order are those of "AppStream 2.0 Usage Reports Fields"
(Sessions Report Fields, Applications Report Fields); timestamps are ISO 8601, UTC. The toolkit's reader
(plugins/module_utils/appstream/usage.py) reads these files by header name, as it reads AWS's.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable, Mapping
from typing import Any

SESSIONS_FIELDS: tuple[str, ...] = (
    "user_session_id",
    "aws_account_id",
    "region",
    "session_start_time",
    "session_end_time",
    "session_duration_in_seconds",
    "user_id",
    "user_arn",
    "authentication_type",
    "authentication_type_user_id",
    "fleet_name",
    "stack_name",
    "instance_type",
    "eni_private_ip_address",
    "connected_at_least_once",
    "client_ip_addresses",
    "google_drive_enabled",
    "one_drive_enabled",
    "home_folders_storage_location",
    "user_settings_clipboard_copy_from_local_device",
    "user_settings_clipboard_copy_to_local_device",
    "user_settings_file_upload",
    "user_settings_file_download",
    "user_settings_printing_to_local_device",
    "application_settings_enabled",
    "domain_joined",
    "max_session_duration",
    "session_type",
    "stream_view",
)
APPLICATIONS_FIELDS: tuple[str, ...] = ("user_session_id", "application_name", "schedule", "year", "month", "day")

# DescribeSessions' AuthenticationType API (streaming URLs) is CUSTOM in the reports.
REPORT_AUTHENTICATION_TYPE = {"API": "CUSTOM", "SAML": "SAML", "USERPOOL": "USERPOOL", "AWS_AD": "SAML"}


def iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sessions_key(day: datetime.date) -> str:
    return f"sessions/schedule=DAILY/year={day:%Y}/month={day:%m}/day={day:%d}/daily-session-report-{day:%Y-%m-%d}.csv"


def applications_key(day: datetime.date) -> str:
    return f"applications/schedule=DAILY/year={day:%Y}/month={day:%m}/day={day:%d}/daily-app-report-{day:%Y-%m-%d}.csv"


def report_day(session_end: datetime.datetime) -> datetime.date:
    """The UTC day whose report holds a session: the day it ended."""
    return session_end.astimezone(datetime.UTC).date()


def to_csv(fields: Iterable[str], rows: Iterable[Mapping[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), lineterminator="\n", extrasaction="raise")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return buffer.getvalue().encode("utf-8")


def application_rows(session_id: str, applications: Iterable[str], day: datetime.date) -> list[dict[str, Any]]:
    """One record per application launch (five launches, five records)."""
    return [
        {
            "user_session_id": session_id,
            "application_name": name,
            "schedule": "DAILY",
            "year": f"{day:%Y}",
            "month": f"{day:%m}",
            "day": f"{day:%d}",
        }
        for name in applications
    ]
