"""Streaming sessions as the usage reports and CloudWatch see them.

- API: CreateUsageReportSubscription, DescribeUsageReportSubscriptions, DeleteUsageReportSubscription. The
  subscription is one per account and region (developer guide, "Enable AppStream 2.0 Usage Reports"); its
  bucket is `appstream-logs-<region>-<account>-<random>`, created in moto's S3. The model's error codes:
  InvalidAccountStatusException, LimitExceededException, ResourceNotFoundException.
- Sessions (admin hooks, what users do): `start-session` (a user on a stack, its fleet's capacity moves:
  InUse up, Available down; a request beyond the capacity is refused and counted as an
  InsufficientCapacityError), `launch-application`, `end-session`; ExpireSession and StopFleet end
  sessions too. An ended session becomes a sessions-report record (usage_reports.py) in the report of the
  UTC day it ended.
- Days: session times are read on a modelled calendar that runs at 1/time-scale of the wall clock (at the
  tests' 0.001 a day passes in 86.4 s). When a modelled day has closed, its reports are written to the
  subscription's bucket (lazily, at the next AppStream call or admin hook, as states are computed when
  read); `write-usage-reports` writes chosen days at once. Explicit `start_time`/`end_time` (ISO 8601)
  put a session on any day, e.g. to build a known month.
- Metrics: the fleet's usage metrics (namespace AWS/AppStream, dimension Fleet: ActualCapacity,
  AvailableCapacity, CapacityUtilization, DesiredCapacity, InUseCapacity, PendingCapacity, RunningCapacity
  for Always-On fleets, InsufficientCapacityError) are put into moto's CloudWatch whenever a session starts,
  ends or is refused, and on `publish-metrics` (`periods` one-minute datapoints, as AWS publishes every
  minute); the sandbox's alarm evaluator (sandbox/alarms.py) then evaluates the region's alarms.
"""

from __future__ import annotations

import datetime
import secrets
import time
import uuid
from typing import Any

from sandbox.backends.appstream.base import AppStreamBase
from sandbox.backends.appstream.resources import Fleet, RegionState, Session, Stack, digest, eni_for
from sandbox.backends.appstream.usage_reports import (
    APPLICATIONS_FIELDS,
    REPORT_AUTHENTICATION_TYPE,
    SESSIONS_FIELDS,
    application_rows,
    applications_key,
    iso,
    report_day,
    sessions_key,
    to_csv,
)
from sandbox.errors import not_found
from sandbox.jsonproto import ACCOUNT_ID, Context

METRIC_PERIOD = 60  # AppStream publishes fleet metrics every minute


def _need(payload: dict[str, Any], key: str) -> Any:
    if payload.get(key) in (None, ""):
        raise ValueError(f"the payload needs '{key}'")
    return payload[key]


def _moment(value: Any, what: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(str(value))
    except ValueError as err:
        raise ValueError(f"{what}: {value!r} is not an ISO 8601 date and time") from err
    return moment.replace(tzinfo=datetime.UTC) if moment.tzinfo is None else moment.astimezone(datetime.UTC)


def _permission(stack: Stack, action: str) -> str:
    for setting in stack.user_settings():
        if setting["Action"] == action:
            return str(setting["Permission"])
    return "ENABLED"


class UsageMixin(AppStreamBase):
    # -- the modelled calendar ------------------------------------------------------------------
    def modelled_now(self) -> datetime.datetime:
        """Now on the calendar whose days last 86400 x time-scale wall seconds (started at the wall clock)."""
        with self._lock:
            wall = time.time()
            calendar = self.__dict__.setdefault("_calendar", [wall, wall])
            calendar[1] += (wall - calendar[0]) / self.clock.time_scale
            calendar[0] = wall
            return datetime.datetime.fromtimestamp(calendar[1], datetime.UTC)

    def checkpoint_calendar(self) -> None:
        """Before a time-scale change: count the wall seconds since the calendar's last reading at the scale in
        force. A calendar not started yet is left so (it starts, at the then scale, when first read)."""
        with self._lock:
            if "_calendar" in self.__dict__:
                self.modelled_now()

    def set_modelled_now(self, moment: datetime.datetime) -> None:
        with self._lock:
            self.__dict__["_calendar"] = [time.time(), moment.timestamp()]

    def reset(self) -> None:
        super().reset()
        self.__dict__.pop("_calendar", None)

    # -- API ------------------------------------------------------------------------------------
    def create_usage_report_subscription(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        if rs.usage_subscription is None:
            from moto.s3.models import s3_backends

            bucket = f"appstream-logs-{ctx.region}-{ctx.account_id}-{secrets.token_hex(4)}"
            s3_backends[ctx.account_id]["global"].create_bucket(bucket, ctx.region)
            rs.usage_subscription = {"S3BucketName": bucket, "Schedule": "DAILY", "LastGeneratedReportDate": None}
        return {"S3BucketName": rs.usage_subscription["S3BucketName"], "Schedule": "DAILY"}

    def describe_usage_report_subscriptions(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        self.close_days(rs)
        found = [] if rs.usage_subscription is None else [self.subscription_document(rs)]
        page, token = self.page("DescribeUsageReportSubscriptions", found, params)
        return self.with_token({"UsageReportSubscriptions": page}, token)

    def delete_usage_report_subscription(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        if rs.usage_subscription is None:
            raise not_found("No usage report subscription exists in this account and region.")
        rs.usage_subscription = None  # the bucket and the reports stay, as AWS leaves them
        return {}

    def subscription_document(self, rs: RegionState) -> dict[str, Any]:
        subscription = dict(rs.usage_subscription or {})
        errors = []
        if not self.bucket_exists(subscription["S3BucketName"]):
            errors.append(
                {"ErrorCode": "RESOURCE_NOT_FOUND", "ErrorMessage": f"Bucket {subscription['S3BucketName']} is gone."}
            )
        document = {**subscription, "SubscriptionErrors": errors}
        return {key: value for key, value in document.items() if value is not None}

    @staticmethod
    def bucket_exists(bucket: str) -> bool:
        from moto.s3.models import s3_backends

        return bucket in s3_backends[ACCOUNT_ID]["global"].buckets

    # -- sessions -------------------------------------------------------------------------------
    def stack_fleet(self, rs: RegionState, stack: Stack, fleet_name: str | None) -> Fleet:
        fleets = rs.fleets_of(stack.name)
        name = fleet_name or (fleets[0] if fleets else None)
        if not name or name not in rs.fleets:
            raise ValueError(f"stack {stack.name} has no fleet to stream from")
        if name not in fleets:
            raise ValueError(f"fleet {name} is not associated with stack {stack.name}")
        return rs.fleets[name]

    @staticmethod
    def free_slots(rs: RegionState, fleet: Fleet) -> int:
        status = fleet.capacity_status(sum(1 for _ in rs.sessions_of(fleet.name)))
        if fleet.fleet_type == "ELASTIC":
            return int(fleet.settings.get("MaxConcurrentSessions", 0)) - int(status["InUse"])
        return int(status.get("AvailableUserSessions", status["Available"]))

    def check_user(self, rs: RegionState, stack: Stack, user: str, kind: str) -> None:
        if kind != "USERPOOL":
            return  # SAML and streaming-URL users are not the service's to know
        known = rs.users.get((user, "USERPOOL"))
        if known is None or not known.enabled:
            raise ValueError(f"user-pool user {user} does not exist or is disabled")
        if (stack.name, user, "USERPOOL") not in rs.user_stacks:
            raise ValueError(f"user-pool user {user} is not associated with stack {stack.name}")

    def admin_start_session(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A user opens a streaming session on a stack (its fleet by default): `stack`, `user`,
        `authentication_type` (USERPOOL, SAML or API; default USERPOOL), optional `fleet`, `start_time`,
        `applications` (launched at once), `client_ip`."""
        with self._lock:
            rs = self.region_state(region)
            self.close_days(rs)
            stack = self._stack_or_404(rs, _need(payload, "stack"))
            fleet = self.stack_fleet(rs, stack, payload.get("fleet"))
            kind = str(payload.get("authentication_type", "USERPOOL"))
            if kind not in REPORT_AUTHENTICATION_TYPE:
                raise ValueError(f"authentication_type must be one of {', '.join(REPORT_AUTHENTICATION_TYPE)}")
            user = str(_need(payload, "user"))
            self.check_user(rs, stack, user, kind)
            if fleet.state != "RUNNING":
                raise ValueError(f"fleet {fleet.name} is {fleet.state}, not RUNNING")
            if self.free_slots(rs, fleet) < 1:
                rs.refused_sessions[fleet.name] = rs.refused_sessions.get(fleet.name, 0) + 1
                self.publish_fleet_metrics(rs, fleet)
                raise ValueError(f"insufficient capacity: fleet {fleet.name} has no instance available for {user}")
            start = _moment(payload["start_time"], "start_time") if payload.get("start_time") else self.modelled_now()
            session = self.open_session(rs, fleet, stack.name, user, kind, start)
            session.client_ip = str(payload.get("client_ip") or session.client_ip)
            session.applications.extend(str(name) for name in payload.get("applications") or [])
            self.publish_fleet_metrics(rs, fleet)
            return {"SessionId": session.id, "FleetName": fleet.name, "StartTime": iso(start)}

    def open_session(
        self, rs: RegionState, fleet: Fleet, stack: str, user: str, kind: str, start: datetime.datetime
    ) -> Session:
        session_id = str(uuid.uuid4())
        subnets = (fleet.settings.get("VpcConfig") or {}).get("SubnetIds") or []
        session = Session(
            id=session_id,
            user_id=user,
            stack=stack,
            fleet=fleet.name,
            authentication_type=kind,
            instance_id="i-" + digest(session_id)[:17],
            start=start,
            max_expiration=start + datetime.timedelta(seconds=fleet.settings.get("MaxUserDurationInSeconds", 57600)),
            network=eni_for(rs.region, session_id, self.subnet_cidr(rs.region, subnets[0] if subnets else None)),
        )
        rs.sessions[session_id] = session
        return session

    def admin_launch_application(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The user of `session_id` launches `application` from the catalog (one applications-report record)."""
        with self._lock:
            rs = self.region_state(region)
            session = self._session_or_404(rs, _need(payload, "session_id"))
            session.applications.append(str(_need(payload, "application")))
            return {"SessionId": session.id, "Applications": list(session.applications)}

    def admin_end_session(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The session `session_id` ends (at `end_time`, default now on the modelled calendar)."""
        with self._lock:
            rs = self.region_state(region)
            session = self._session_or_404(rs, _need(payload, "session_id"))
            end = _moment(payload["end_time"], "end_time") if payload.get("end_time") else self.modelled_now()
            if end < session.start:
                raise ValueError(f"end_time {iso(end)} is before the session's start {iso(session.start)}")
            record = self.end_session(rs, session, end)
            if session.fleet in rs.fleets:
                self.publish_fleet_metrics(rs, rs.fleets[session.fleet])
            self.close_days(rs)
            return {"SessionId": session.id, "ReportDay": report_day(end).isoformat(), "Record": record}

    def session_ended(self, rs: RegionState, session: Session) -> None:
        """ExpireSession and StopFleet end sessions: they are reported like any other."""
        self.end_session(rs, session)

    def end_session(self, rs: RegionState, session: Session, end: datetime.datetime | None = None) -> dict[str, Any]:
        """Forget an active session and keep its usage-report record, in the report of the day it ends."""
        end = end or max(self.modelled_now(), session.start)
        rs.sessions.pop(session.id, None)
        record = self.session_record(rs, session, end)
        rs.ended_sessions.setdefault(report_day(end), []).append((record, list(session.applications)))
        rs.reports_written.discard(report_day(end))  # a day already written is written again, complete
        return record

    def session_record(self, rs: RegionState, session: Session, end: datetime.datetime) -> dict[str, Any]:
        fleet = rs.fleets.get(session.fleet)
        stack = rs.stacks.get(session.stack)
        settings = fleet.settings if fleet is not None else {}
        kind = REPORT_AUTHENTICATION_TYPE.get(session.authentication_type, "CUSTOM")
        connectors = [c.get("ConnectorType") for c in (stack.settings.get("StorageConnectors") or [])] if stack else []

        def permission(action: str) -> str:
            return _permission(stack, action) if stack is not None else "ENABLED"

        record = {
            "user_session_id": session.id,
            "aws_account_id": ACCOUNT_ID,
            "region": rs.region,
            "session_start_time": iso(session.start),
            "session_end_time": iso(end),
            "session_duration_in_seconds": int((end - session.start).total_seconds()),
            "user_id": session.user_id,
            "user_arn": f"arn:aws:appstream:{rs.region}:{ACCOUNT_ID}:user/{kind.lower()}/{session.user_id}",
            "authentication_type": kind,
            "authentication_type_user_id": f"{session.user_id}_{kind}",
            "fleet_name": session.fleet,
            "stack_name": session.stack,
            "instance_type": settings.get("InstanceType", ""),
            "eni_private_ip_address": (session.network or {}).get("EniPrivateIpAddress", ""),
            "connected_at_least_once": "true",
            "client_ip_addresses": session.client_ip,
            "google_drive_enabled": str("GOOGLE_DRIVE" in connectors).lower(),
            "one_drive_enabled": str("ONE_DRIVE" in connectors).lower(),
            "home_folders_storage_location": (
                f"appstream2-36fb080bb8-{rs.region}-{ACCOUNT_ID}" if "HOMEFOLDERS" in connectors else ""
            ),
            "user_settings_clipboard_copy_from_local_device": permission("CLIPBOARD_COPY_FROM_LOCAL_DEVICE"),
            "user_settings_clipboard_copy_to_local_device": permission("CLIPBOARD_COPY_TO_LOCAL_DEVICE"),
            "user_settings_file_upload": permission("FILE_UPLOAD"),
            "user_settings_file_download": permission("FILE_DOWNLOAD"),
            "user_settings_printing_to_local_device": permission("PRINTING_TO_LOCAL_DEVICE"),
            "application_settings_enabled": str(bool(stack and stack.application_settings().get("Enabled"))).lower(),
            "domain_joined": "Y" if fleet is not None and fleet.domain_joined else "N",
            "max_session_duration": int(settings.get("MaxUserDurationInSeconds", 57600)),
            "session_type": settings.get("FleetType", "ON_DEMAND"),
            "stream_view": settings.get("StreamView", "APPLICATION"),
        }
        assert tuple(record) == SESSIONS_FIELDS  # the documented order is the contract
        return record

    # -- reports --------------------------------------------------------------------------------
    def close_days(self, rs: RegionState) -> list[str]:
        """Write the reports of every modelled day that has closed and is not written yet."""
        if rs.usage_subscription is None:
            return []
        today = self.modelled_now().date()
        due = sorted(day for day in rs.ended_sessions if day < today and day not in rs.reports_written)
        return [key for day in due for key in self.write_day(rs, day)]

    def write_day(self, rs: RegionState, day: datetime.date) -> list[str]:
        from moto.s3.models import s3_backends

        subscription = rs.usage_subscription
        if subscription is None:
            raise ValueError("no usage report subscription in this region (CreateUsageReportSubscription)")
        bucket = subscription["S3BucketName"]
        if not self.bucket_exists(bucket):
            return []  # DescribeUsageReportSubscriptions reports the error
        ended = rs.ended_sessions.get(day, [])
        backend = s3_backends[ACCOUNT_ID]["global"]
        keys = []
        if ended:
            backend.put_object(bucket, sessions_key(day), to_csv(SESSIONS_FIELDS, [record for record, _ in ended]))
            keys.append(sessions_key(day))
        launches = [row for record, apps in ended for row in application_rows(record["user_session_id"], apps, day)]
        if launches:
            backend.put_object(bucket, applications_key(day), to_csv(APPLICATIONS_FIELDS, launches))
            keys.append(applications_key(day))
        rs.reports_written.add(day)
        previous = subscription.get("LastGeneratedReportDate")
        generated = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), datetime.UTC)
        if previous is None or generated.timestamp() > previous:
            subscription["LastGeneratedReportDate"] = generated.timestamp()
        return keys

    def admin_write_usage_reports(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Write the reports now: of `date` (YYYY-MM-DD), of every day of `month` (YYYY-MM), or of every day
        with ended sessions not written yet (the current modelled day included)."""
        with self._lock:
            rs = self.region_state(region)
            if payload.get("date"):
                days = [datetime.date.fromisoformat(str(payload["date"]))]
            elif payload.get("month"):
                days = sorted(day for day in rs.ended_sessions if f"{day:%Y-%m}" == str(payload["month"]))
            else:
                days = sorted(day for day in rs.ended_sessions if day not in rs.reports_written)
            keys = [key for day in days for key in self.write_day(rs, day)]
            return {"bucket": (rs.usage_subscription or {}).get("S3BucketName"), "keys": keys}

    def admin_usage_clock(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Read the modelled calendar, or set it to `now` (ISO 8601); closed days are written."""
        with self._lock:
            if payload.get("now"):
                self.set_modelled_now(_moment(payload["now"], "now"))
            written = self.close_days(self.region_state(region))
            return {"now": iso(self.modelled_now()), "written": written}

    # -- CloudWatch metrics ---------------------------------------------------------------------
    def publish_fleet_metrics(self, rs: RegionState, fleet: Fleet, periods: int = 1) -> dict[str, float]:
        from moto.cloudwatch.models import cloudwatch_backends

        status = fleet.capacity_status(sum(1 for _ in rs.sessions_of(fleet.name)))
        actual, in_use = float(status["Running"]), float(status["InUse"])
        values = {
            "ActualCapacity": actual,
            "AvailableCapacity": float(status["Available"]),
            "CapacityUtilization": round(in_use / actual * 100, 2) if actual else 0.0,
            "DesiredCapacity": float(status["Desired"]),
            "InUseCapacity": in_use,
            "PendingCapacity": float(max(status["Desired"] - status["Running"], 0)),
            "InsufficientCapacityError": float(rs.refused_sessions.pop(fleet.name, 0)),
        }
        if fleet.fleet_type == "ALWAYS_ON":
            values["RunningCapacity"] = actual
        units = {"CapacityUtilization": "Percent"}
        # moto keeps naive UTC timestamps (those PutMetricData requests give it) and compares with them.
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        data = [
            {
                "MetricName": name,
                "Dimensions": [{"Name": "Fleet", "Value": fleet.name}],
                "Timestamp": now - datetime.timedelta(seconds=METRIC_PERIOD * back),
                "Value": value if name != "InsufficientCapacityError" or back == 0 else 0.0,
                "Unit": units.get(name, "Count"),
            }
            for back in range(max(int(periods), 1) - 1, -1, -1)
            for name, value in values.items()
        ]
        backend = cloudwatch_backends[ACCOUNT_ID][rs.region]
        if periods > 1:
            # The fleet as it is now for the last `periods` minutes: what was published for them is replaced.
            since = now - datetime.timedelta(seconds=METRIC_PERIOD * periods)
            backend.metric_data = [
                datum
                for datum in backend.metric_data
                if not (
                    datum.namespace == "AWS/AppStream"
                    and datum.timestamp > since
                    and any(d.name == "Fleet" and d.value == fleet.name for d in datum.dimensions)
                )
            ]
        backend.put_metric_data("AWS/AppStream", data)
        from sandbox.alarms import evaluate_region

        evaluate_region(rs.region)
        return values

    def admin_publish_metrics(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Publish the fleet's usage metrics now, for `periods` one-minute periods (the fleet as it is now)."""
        with self._lock:
            rs = self.region_state(region)
            fleet = rs.fleets.get(_need(payload, "fleet"))
            if fleet is None:
                raise KeyError(f"fleet {payload['fleet']}")
            values = self.publish_fleet_metrics(rs, fleet, int(payload.get("periods", 1)))
            return {"fleet": fleet.name, "values": values}

    # -- look-ups that answer 404 ----------------------------------------------------------------
    @staticmethod
    def _stack_or_404(rs: RegionState, name: str) -> Stack:
        if name not in rs.stacks:
            raise KeyError(f"stack {name}")
        return rs.stacks[name]

    @staticmethod
    def _session_or_404(rs: RegionState, session_id: str) -> Session:
        if session_id not in rs.sessions:
            raise KeyError(f"session {session_id}")
        return rs.sessions[session_id]
