# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AppStream 2.0 usage reports read back: one tenant's month, per user (the billing file) and per day.

The reports (developer guide, "AppStream 2.0 Usage Reports", "Enable AppStream 2.0 Usage Reports",
"AppStream 2.0 Usage Reports Fields"): for each UTC day with streaming, AWS writes

    sessions/schedule=DAILY/year=YYYY/month=MM/day=DD/daily-session-report-YYYY-MM-DD.csv
    applications/schedule=DAILY/year=YYYY/month=MM/day=DD/daily-app-report-YYYY-MM-DD.csv

to the bucket DescribeUsageReportSubscriptions names, within 24 hours of the day's close. One sessions
record per session (user_session_id, session_start_time, session_end_time, session_duration_in_seconds,
user_id, authentication_type, stack_name, ... ); one applications record per application launch
(user_session_id, application_name, ...). AWS adds fields over time: files are read by header name, and
only the fields used here must be present.

How a month is counted (the billing file's contract):

- A session belongs to the month of the report that holds it, which is the report of the UTC day it
  ended ("If a session spans more than one day, the session record appears in the sessions report
  corresponding to the day in which the session ends"). A session from 31 October 23:00 to 1 November
  01:00 counts, whole (2 hours), in November. So every session is counted exactly once across months,
  each month is complete once its last day's report has arrived (no need to wait for the next month's),
  and the sum of the monthly files is the sum of AWS's reports.
- Hours are session_duration_in_seconds / 3600, summed per user before rounding to two decimals.
- Applications are those launched in the user's sessions of the month (the applications report of the
  day each session ended, joined by user_session_id), distinct names, sorted, joined by ";".
- Days of the month (up to yesterday, UTC) without a sessions report are listed as missing: AWS writes
  none for a day without sessions, and a report can also be late or lost; either way such a day is
  named, never silently counted as zero.
"""

from __future__ import annotations

import calendar
import csv
import datetime
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

BILLING_COLUMNS = ("tenant", "month", "user_id", "authentication_type", "sessions", "session_hours", "applications")
SESSION_COLUMNS = (
    "user_session_id",
    "session_start_time",
    "session_end_time",
    "session_duration_in_seconds",
    "user_id",
    "authentication_type",
    "stack_name",
)
APPLICATION_COLUMNS = ("user_session_id", "application_name")
MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
# A cell a spreadsheet would read as a formula (OWASP, CSV injection): prefixed with ' in the billing file.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class UsageReportError(ValueError):
    """A report that cannot be read as AWS documents it (a missing column, an unreadable value)."""


@dataclass(frozen=True)
class Session:
    session_id: str
    user_id: str
    authentication_type: str
    stack: str
    start: datetime.datetime
    end: datetime.datetime
    seconds: float
    applications: tuple[str, ...] = ()


@dataclass
class MonthUsage:
    tenant: str
    month: str
    stack: str
    sessions: list[Session] = field(default_factory=list)
    days_with_report: list[str] = field(default_factory=list)
    missing_days: list[str] = field(default_factory=list)


def parse_month(month: str) -> tuple[int, int]:
    match = MONTH.fullmatch(str(month))
    if not match:
        raise ValueError(f"month: {month!r} is not a month written YYYY-MM")
    return int(match.group(1)), int(match.group(2))


def month_days(month: str) -> list[datetime.date]:
    year, number = parse_month(month)
    return [datetime.date(year, number, day) for day in range(1, calendar.monthrange(year, number)[1] + 1)]


def expected_days(month: str, today: datetime.date) -> list[datetime.date]:
    """The days of `month` whose report may exist by `today` (UTC): those that have closed."""
    return [day for day in month_days(month) if day < today]


def sessions_prefix(month: str) -> str:
    year, number = parse_month(month)
    return f"sessions/schedule=DAILY/year={year:04d}/month={number:02d}/"


def applications_prefix(month: str) -> str:
    year, number = parse_month(month)
    return f"applications/schedule=DAILY/year={year:04d}/month={number:02d}/"


def sessions_key(day: datetime.date) -> str:
    return f"{sessions_prefix(f'{day:%Y-%m}')}day={day:%d}/daily-session-report-{day:%Y-%m-%d}.csv"


def applications_key(day: datetime.date) -> str:
    return f"{applications_prefix(f'{day:%Y-%m}')}day={day:%d}/daily-app-report-{day:%Y-%m-%d}.csv"


def day_of_key(key: str) -> datetime.date | None:
    match = re.search(r"daily-(?:session|app)-report-(\d{4}-\d{2}-\d{2})\.csv$", key)
    return datetime.date.fromisoformat(match.group(1)) if match else None


def _rows(text: str, required: Iterable[str], what: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [name for name in required if name not in (reader.fieldnames or [])]
    if missing:
        raise UsageReportError(f"{what}: no column {', '.join(missing)} (header: {', '.join(reader.fieldnames or [])})")
    return [dict(row) for row in reader]


def _moment(value: str, what: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as err:
        raise UsageReportError(f"{what}: {value!r} is not an ISO 8601 time") from err
    return moment.replace(tzinfo=datetime.UTC) if moment.tzinfo is None else moment.astimezone(datetime.UTC)


def parse_sessions(text: str, what: str = "sessions report") -> list[dict[str, Any]]:
    """The records of a sessions report, read by header name (extra columns are AWS's to add)."""
    records = []
    for number, row in enumerate(_rows(text, SESSION_COLUMNS, what), start=2):
        where = f"{what} line {number}"
        try:
            seconds = float(row["session_duration_in_seconds"] or 0)
        except ValueError as err:
            raise UsageReportError(
                f"{where}: session_duration_in_seconds {row['session_duration_in_seconds']!r}"
            ) from err
        records.append(
            {
                "session_id": row["user_session_id"],
                "user_id": row["user_id"],
                "authentication_type": row["authentication_type"],
                "stack": row["stack_name"],
                "start": _moment(row["session_start_time"], f"{where}: session_start_time"),
                "end": _moment(row["session_end_time"], f"{where}: session_end_time"),
                "seconds": seconds,
            }
        )
    return records


def parse_applications(text: str, what: str = "applications report") -> list[tuple[str, str]]:
    """(user_session_id, application_name) of each launch of an applications report."""
    return [(row["user_session_id"], row["application_name"]) for row in _rows(text, APPLICATION_COLUMNS, what)]


def month_usage(
    tenant: str,
    month: str,
    stack: str,
    session_reports: Mapping[datetime.date, str],
    application_reports: Mapping[datetime.date, str],
    today: datetime.date,
) -> MonthUsage:
    """The tenant's sessions of `month`: those of its stack in the month's sessions reports, with the
    applications launched in each; the closed days without a report listed as missing."""
    usage = MonthUsage(tenant=tenant, month=month, stack=stack)
    days = set(month_days(month))
    launches: dict[str, list[str]] = defaultdict(list)
    for day, text in sorted(application_reports.items()):
        if day in days:
            for session_id, name in parse_applications(text, f"applications report of {day}"):
                launches[session_id].append(name)
    for day, text in sorted(session_reports.items()):
        if day not in days:
            continue
        usage.days_with_report.append(day.isoformat())
        for record in parse_sessions(text, f"sessions report of {day}"):
            if record["stack"] != stack:
                continue  # another tenant's stack streams in the same account and region
            usage.sessions.append(Session(**record, applications=tuple(launches.get(record["session_id"], ()))))
    usage.missing_days = [day.isoformat() for day in expected_days(month, today) if day not in session_reports]
    usage.sessions.sort(key=lambda s: (s.end, s.session_id))
    return usage


def billing_rows(usage: MonthUsage) -> list[dict[str, str]]:
    """One row per user (user id within its authentication type), in BILLING_COLUMNS order."""
    grouped: dict[tuple[str, str], list[Session]] = defaultdict(list)
    for session in usage.sessions:
        grouped[(session.user_id, session.authentication_type)].append(session)
    rows = []
    for (user_id, kind), sessions in sorted(grouped.items(), key=lambda item: (item[0][0].lower(), item[0])):
        hours = sum(session.seconds for session in sessions) / 3600
        applications = sorted({name for session in sessions for name in session.applications})
        rows.append(
            {
                "tenant": usage.tenant,
                "month": usage.month,
                "user_id": user_id,
                "authentication_type": kind,
                "sessions": str(len(sessions)),
                "session_hours": f"{hours:.2f}",
                "applications": ";".join(applications),
            }
        )
    return rows


def safe_cell(value: str) -> str:
    """A cell no spreadsheet runs as a formula: a leading = + - @ tab or CR is quoted by an apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def billing_csv(rows: Iterable[Mapping[str, str]]) -> str:
    """The billing file: the header, then the rows (the header only for a month without usage)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(BILLING_COLUMNS)
    for row in rows:
        writer.writerow([safe_cell(str(row[column])) for column in BILLING_COLUMNS])
    return buffer.getvalue()


def daily_sessions(usage: MonthUsage) -> list[dict[str, Any]]:
    """Sessions and hours per day of the month (by the day each session ended)."""
    by_day: dict[str, list[Session]] = defaultdict(list)
    for session in usage.sessions:
        by_day[session.end.date().isoformat()].append(session)
    return [
        {
            "day": day.isoformat(),
            "sessions": len(by_day.get(day.isoformat(), [])),
            "hours": round(sum(s.seconds for s in by_day.get(day.isoformat(), [])) / 3600, 2),
            "report": day.isoformat() in usage.days_with_report,
        }
        for day in month_days(usage.month)
    ]


def peak_concurrency(usage: MonthUsage) -> list[dict[str, Any]]:
    """The most sessions open at once on each day of the month (sessions clipped to the day)."""
    peaks = []
    for day in month_days(usage.month):
        start = datetime.datetime.combine(day, datetime.time(), datetime.UTC)
        end = start + datetime.timedelta(days=1)
        events: list[tuple[datetime.datetime, int]] = []
        for session in usage.sessions:
            if session.start < end and session.end > start:
                events += [(max(session.start, start), 1), (min(session.end, end), -1)]
        open_now = peak = 0
        for _when, change in sorted(events, key=lambda event: (event[0], event[1])):
            open_now += change
            peak = max(peak, open_now)
        peaks.append({"day": day.isoformat(), "peak": peak})
    return peaks


def summary(usage: MonthUsage) -> dict[str, Any]:
    rows = billing_rows(usage)
    return {
        "tenant": usage.tenant,
        "month": usage.month,
        "stack": usage.stack,
        "users": len(rows),
        "sessions": len(usage.sessions),
        "session_hours": round(sum(s.seconds for s in usage.sessions) / 3600, 2),
        "days_with_report": list(usage.days_with_report),
        "missing_days": list(usage.missing_days),
    }
