"""Usage reports read back (plugins/module_utils/appstream/usage.py): a known month built by hand."""

from __future__ import annotations

import datetime

import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.appstream.usage import (
    BILLING_COLUMNS,
    UsageReportError,
    applications_key,
    billing_csv,
    billing_rows,
    daily_sessions,
    day_of_key,
    month_usage,
    peak_concurrency,
    sessions_key,
    summary,
)

# The documented header of a sessions report, plus a column AWS might add one day.
HEADER = (
    "user_session_id,aws_account_id,region,session_start_time,session_end_time,session_duration_in_seconds,"
    "user_id,user_arn,authentication_type,authentication_type_user_id,fleet_name,stack_name,instance_type,"
    "eni_private_ip_address,connected_at_least_once,client_ip_addresses,google_drive_enabled,one_drive_enabled,"
    "home_folders_storage_location,user_settings_clipboard_copy_from_local_device,"
    "user_settings_clipboard_copy_to_local_device,user_settings_file_upload,user_settings_file_download,"
    "user_settings_printing_to_local_device,application_settings_enabled,domain_joined,max_session_duration,"
    "session_type,stream_view,some_future_field"
)


def session(sid: str, start: str, end: str, user: str, stack: str = "lab-stack", kind: str = "SAML") -> str:
    seconds = int(
        (
            datetime.datetime.fromisoformat(end.replace("Z", "+00:00"))
            - datetime.datetime.fromisoformat(start.replace("Z", "+00:00"))
        ).total_seconds()
    )
    return (
        f"{sid},123456789012,eu-west-3,{start},{end},{seconds},{user},arn,{kind},{user}_{kind},lab-fleet,{stack},"
        "stream.standard.medium,10.0.0.5,true,198.51.100.1,false,false,,ENABLED,DISABLED,ENABLED,DISABLED,"
        "DISABLED,true,Y,28800,ON_DEMAND,APPLICATION,x"
    )


def report(*lines: str) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


APPS_HEADER = "user_session_id,application_name,schedule,year,month,day"

# October 2026: the 1st has a session of another tenant too; the 2nd has no report; a session crosses
# the midnight of the 14th to the 15th (in the report of the 15th); a session crossing into November is in
# November's report of the 1st, not October's.
SESSIONS = {
    datetime.date(2026, 10, 1): report(
        session("s1", "2026-10-01T08:00:00Z", "2026-10-01T10:30:00Z", "CORP\\ada"),
        session("s2", "2026-10-01T09:00:00Z", "2026-10-01T09:45:00Z", "CORP\\alan"),
        session("x1", "2026-10-01T09:00:00Z", "2026-10-01T18:00:00Z", "OTHER\\eve", stack="other-stack"),
    ),
    datetime.date(2026, 10, 15): report(
        session("s3", "2026-10-14T22:30:00Z", "2026-10-15T01:15:00Z", "CORP\\ada"),
    ),
    datetime.date(2026, 11, 1): report(
        session("n1", "2026-10-31T23:00:00Z", "2026-11-01T01:00:00Z", "CORP\\ada"),
    ),
}
APPLICATIONS = {
    datetime.date(2026, 10, 1): "\n".join(
        [APPS_HEADER, "s1,IcoStudio,DAILY,2026,10,01", "s1,IcoBatch,DAILY,2026,10,01", "x1,Other,DAILY,2026,10,01"]
    ),
    datetime.date(2026, 10, 15): "\n".join([APPS_HEADER, "s3,IcoStudio,DAILY,2026,10,15"]),
}


def october(today: datetime.date = datetime.date(2026, 12, 1)):
    return month_usage("lab", "2026-10", "lab-stack", SESSIONS, APPLICATIONS, today)


def test_the_billing_rows_of_a_known_month() -> None:
    assert billing_rows(october()) == [
        {
            "tenant": "lab",
            "month": "2026-10",
            "user_id": "CORP\\ada",
            "authentication_type": "SAML",
            "sessions": "2",
            "session_hours": "5.25",  # 2.5 h on the 1st + 2.75 h across the midnight of the 14th
            "applications": "IcoBatch;IcoStudio",
        },
        {
            "tenant": "lab",
            "month": "2026-10",
            "user_id": "CORP\\alan",
            "authentication_type": "SAML",
            "sessions": "1",
            "session_hours": "0.75",
            "applications": "",
        },
    ]


def test_another_tenant_s_stack_and_a_session_ending_next_month_are_not_counted() -> None:
    usage = october()
    assert {s.session_id for s in usage.sessions} == {"s1", "s2", "s3"}


def test_days_without_a_report_are_listed_as_missing_and_future_days_are_not() -> None:
    usage = october()
    assert "2026-10-02" in usage.missing_days and "2026-10-01" not in usage.missing_days
    assert len(usage.missing_days) == 31 - 2
    early = october(today=datetime.date(2026, 10, 5))
    assert early.missing_days == ["2026-10-02", "2026-10-03", "2026-10-04"]  # today's is not due yet


def test_the_billing_file_has_the_columns_in_order_and_quotes_what_needs_quoting() -> None:
    text = billing_csv(billing_rows(october()))
    lines = text.splitlines()
    assert lines[0] == ",".join(BILLING_COLUMNS)
    assert lines[1] == "lab,2026-10,CORP\\ada,SAML,2,5.25,IcoBatch;IcoStudio"


def test_a_month_without_usage_is_the_header_only() -> None:
    usage = month_usage("lab", "2026-09", "lab-stack", SESSIONS, APPLICATIONS, datetime.date(2026, 12, 1))
    assert billing_csv(billing_rows(usage)) == ",".join(BILLING_COLUMNS) + "\n"
    assert len(usage.missing_days) == 30


def test_a_value_a_spreadsheet_would_run_as_a_formula_is_defused() -> None:
    rows = [dict(zip(BILLING_COLUMNS, ["lab", "2026-10", "=HYPERLINK(1)", "SAML", "1", "1.00", ""], strict=True))]
    assert billing_csv(rows).splitlines()[1].startswith("lab,2026-10,'=HYPERLINK(1),")


def test_reports_are_read_by_header_name_and_a_missing_column_is_named() -> None:
    broken = {datetime.date(2026, 10, 1): "user_session_id,user_id\ns1,ada\n"}
    with pytest.raises(UsageReportError, match="no column session_start_time"):
        month_usage("lab", "2026-10", "lab-stack", broken, {}, datetime.date(2026, 12, 1))


def test_days_and_peaks_for_the_charts() -> None:
    usage = october()
    days = {d["day"]: d for d in daily_sessions(usage)}
    assert (days["2026-10-01"]["sessions"], days["2026-10-01"]["hours"]) == (2, 3.25)
    assert days["2026-10-15"]["sessions"] == 1 and days["2026-10-02"]["report"] is False
    peaks = {p["day"]: p["peak"] for p in peak_concurrency(usage)}
    assert peaks["2026-10-01"] == 2 and peaks["2026-10-14"] == 1 and peaks["2026-10-15"] == 1
    assert summary(usage)["session_hours"] == 6.0


def test_report_keys_are_aws_s() -> None:
    day = datetime.date(2026, 10, 5)
    assert sessions_key(day) == "sessions/schedule=DAILY/year=2026/month=10/day=05/daily-session-report-2026-10-05.csv"
    assert (
        applications_key(day) == "applications/schedule=DAILY/year=2026/month=10/day=05/daily-app-report-2026-10-05.csv"
    )
    assert day_of_key(sessions_key(day)) == day
