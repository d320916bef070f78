"""The sandbox's side of operating tenants: streaming sessions, usage reports, fleet metrics and alarms,
directory event topics, SNS e-mail confirmations and Cost Explorer.

Each test works in a region of its own (the usage-report subscription is one per account and region).
"""

from __future__ import annotations

import csv
import datetime
import io
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.backends.appstream.usage_reports import APPLICATIONS_FIELDS, SESSIONS_FIELDS
from sandbox.client import SandboxClient
from tests.sandbox.aws_helpers import create_directory, make_network, wait_for

WS2019 = "AppStream-WinServer2019-10-08-2024"


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def code_of(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def hook_error(sandbox: SandboxClient, action: str, region: str, **payload: Any) -> str:
    with pytest.raises(RuntimeError) as caught:
        sandbox.hook("appstream", action, region=region, **payload)
    return str(caught.value)


class Streaming:
    """A running two-instance fleet and its stack in `region`."""

    def __init__(self, sandbox: SandboxClient, region: str) -> None:
        self.sandbox = sandbox
        self.region = region
        self.appstream = sandbox.boto3("appstream", region=region)
        ec2 = sandbox.boto3("ec2", region=region)
        vpc = ec2.create_vpc(CidrBlock="10.90.0.0/16")["Vpc"]["VpcId"]
        zone = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.90.1.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName=uid("sg"), Description="streaming", VpcId=vpc)["GroupId"]
        self.fleet = uid("fleet")
        self.stack = uid("stack")
        self.appstream.create_fleet(
            Name=self.fleet,
            ImageName=WS2019,
            InstanceType="stream.standard.medium",
            FleetType="ON_DEMAND",
            ComputeCapacity={"DesiredInstances": 2},
            VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": [group]},
        )
        self.appstream.create_stack(Name=self.stack)
        self.appstream.associate_fleet(FleetName=self.fleet, StackName=self.stack)
        self.appstream.start_fleet(Name=self.fleet)
        wait_for(self.capacity, lambda capacity: capacity["Running"] == 2)

    def capacity(self) -> dict[str, int]:
        return self.appstream.describe_fleets(Names=[self.fleet])["Fleets"][0]["ComputeCapacityStatus"]

    def start(self, user: str, **payload: Any) -> str:
        payload.setdefault("authentication_type", "SAML")
        answer = self.sandbox.hook(
            "appstream", "start-session", region=self.region, stack=self.stack, user=user, **payload
        )
        return answer["SessionId"]

    def end(self, session_id: str, **payload: Any) -> dict[str, Any]:
        return self.sandbox.hook("appstream", "end-session", region=self.region, session_id=session_id, **payload)


def read_csv(s3: Any, bucket: str, key: str) -> tuple[list[str], list[dict[str, str]]]:
    text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


# -- usage report subscription -------------------------------------------------------------------


def test_the_usage_report_subscription_is_one_per_region_with_its_own_bucket(sandbox: SandboxClient) -> None:
    region = "ap-northeast-3"
    appstream = sandbox.boto3("appstream", region=region)
    assert appstream.describe_usage_report_subscriptions()["UsageReportSubscriptions"] == []
    assert code_of(appstream.delete_usage_report_subscription) == "ResourceNotFoundException"

    created = appstream.create_usage_report_subscription()
    bucket = created["S3BucketName"]
    assert bucket.startswith(f"appstream-logs-{region}-123456789012-") and created["Schedule"] == "DAILY"
    assert bucket in {b["Name"] for b in sandbox.boto3("s3", region=region).list_buckets()["Buckets"]}
    assert appstream.create_usage_report_subscription()["S3BucketName"] == bucket  # the same subscription
    [subscription] = appstream.describe_usage_report_subscriptions()["UsageReportSubscriptions"]
    assert subscription["S3BucketName"] == bucket and subscription["SubscriptionErrors"] == []

    appstream.delete_usage_report_subscription()
    assert appstream.describe_usage_report_subscriptions()["UsageReportSubscriptions"] == []


# -- sessions ------------------------------------------------------------------------------------


def test_a_session_shows_in_describe_sessions_and_moves_the_fleet_capacity(sandbox: SandboxClient) -> None:
    streaming = Streaming(sandbox, "ap-south-2")
    session = streaming.start("CORP\\ada")
    sessions = streaming.appstream.describe_sessions(
        StackName=streaming.stack, FleetName=streaming.fleet, AuthenticationType="SAML"
    )["Sessions"]
    assert [(s["Id"], s["UserId"], s["State"]) for s in sessions] == [(session, "CORP\\ada", "ACTIVE")]
    assert (streaming.capacity()["InUse"], streaming.capacity()["Available"]) == (1, 1)

    streaming.end(session)
    assert (
        streaming.appstream.describe_sessions(
            StackName=streaming.stack, FleetName=streaming.fleet, AuthenticationType="SAML"
        )["Sessions"]
        == []
    )
    assert (streaming.capacity()["InUse"], streaming.capacity()["Available"]) == (0, 2)


def test_a_user_pool_session_needs_a_known_user_of_the_stack(sandbox: SandboxClient) -> None:
    streaming = Streaming(sandbox, "ap-south-2")
    message = hook_error(
        sandbox,
        "start-session",
        streaming.region,
        stack=streaming.stack,
        user="nobody@lab.example",
        authentication_type="USERPOOL",
    )
    assert "does not exist or is disabled" in message


def test_a_session_beyond_the_capacity_is_refused_and_counted_as_an_insufficient_capacity_error(
    sandbox: SandboxClient,
) -> None:
    streaming = Streaming(sandbox, "ap-southeast-4")
    cloudwatch = sandbox.boto3("cloudwatch", region=streaming.region)
    cloudwatch.put_metric_alarm(
        AlarmName=f"{streaming.fleet}-refused",
        Namespace="AWS/AppStream",
        MetricName="InsufficientCapacityError",
        Dimensions=[{"Name": "Fleet", "Value": streaming.fleet}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    streaming.start("CORP\\ada")
    streaming.start("CORP\\alan")
    assert "insufficient capacity" in hook_error(
        sandbox,
        "start-session",
        streaming.region,
        stack=streaming.stack,
        user="CORP\\grace",
        authentication_type="SAML",
    )
    now = datetime.datetime.now(datetime.UTC)
    stats = cloudwatch.get_metric_statistics(
        Namespace="AWS/AppStream",
        MetricName="InsufficientCapacityError",
        Dimensions=[{"Name": "Fleet", "Value": streaming.fleet}],
        StartTime=now - datetime.timedelta(minutes=5),
        EndTime=now + datetime.timedelta(minutes=1),
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    assert sum(point["Sum"] for point in stats) == 1
    [alarm] = cloudwatch.describe_alarms(AlarmNames=[f"{streaming.fleet}-refused"])["MetricAlarms"]
    assert alarm["StateValue"] == "ALARM"
    utilisation = cloudwatch.get_metric_statistics(
        Namespace="AWS/AppStream",
        MetricName="CapacityUtilization",
        Dimensions=[{"Name": "Fleet", "Value": streaming.fleet}],
        StartTime=now - datetime.timedelta(minutes=5),
        EndTime=now + datetime.timedelta(minutes=1),
        Period=300,
        Statistics=["Maximum"],
    )["Datapoints"]
    assert max(point["Maximum"] for point in utilisation) == 100.0


def test_a_metric_math_alarm_follows_the_fleet_s_desired_and_available_capacity(sandbox: SandboxClient) -> None:
    streaming = Streaming(sandbox, "eu-south-2")
    cloudwatch = sandbox.boto3("cloudwatch", region=streaming.region)

    def stat(metric: str) -> dict[str, Any]:
        return {
            "Metric": {
                "Namespace": "AWS/AppStream",
                "MetricName": metric,
                "Dimensions": [{"Name": "Fleet", "Value": streaming.fleet}],
            },
            "Period": 60,
            "Stat": "Maximum",
        }

    name = f"{streaming.fleet}-full"
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Metrics=[
            {"Id": "available", "MetricStat": stat("AvailableCapacity"), "ReturnData": False},
            {"Id": "desired", "MetricStat": stat("DesiredCapacity"), "ReturnData": False},
            {"Id": "noroom", "Expression": "IF(desired > 0 AND available == 0, 1, 0)", "ReturnData": True},
        ],
        EvaluationPeriods=3,
        DatapointsToAlarm=3,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )

    def state() -> str:
        return cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]

    sandbox.hook("appstream", "publish-metrics", region=streaming.region, fleet=streaming.fleet, periods=3)
    assert state() == "OK"
    streaming.start("CORP\\ada")
    streaming.start("CORP\\alan")
    sandbox.hook("appstream", "publish-metrics", region=streaming.region, fleet=streaming.fleet, periods=3)
    assert state() == "ALARM"


# -- usage reports -------------------------------------------------------------------------------


def test_sessions_become_daily_reports_in_aws_layout_on_the_day_they_end(sandbox: SandboxClient) -> None:
    streaming = Streaming(sandbox, "il-central-1")
    bucket = streaming.appstream.create_usage_report_subscription()["S3BucketName"]
    s3 = sandbox.boto3("s3", region=streaming.region)
    late = streaming.start("CORP\\ada", start_time="2026-10-14T22:30:00Z", applications=["IcoStudio"])
    sandbox.hook("appstream", "launch-application", region=streaming.region, session_id=late, application="IcoBatch")
    streaming.end(late, end_time="2026-10-15T01:15:30Z")
    short = streaming.start("CORP\\alan", start_time="2026-10-15T09:00:00Z")
    streaming.end(short, end_time="2026-10-15T09:30:00Z")
    written = sandbox.hook("appstream", "write-usage-reports", region=streaming.region, month="2026-10")

    prefix = "schedule=DAILY/year=2026/month=10/day=15"
    assert written["keys"] == [
        f"sessions/{prefix}/daily-session-report-2026-10-15.csv",
        f"applications/{prefix}/daily-app-report-2026-10-15.csv",
    ]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="sessions/")["Contents"]
    assert [item["Key"] for item in listed] == [written["keys"][0]]  # nothing for the 14th: it ended the 15th

    header, rows = read_csv(s3, bucket, written["keys"][0])
    assert tuple(header) == SESSIONS_FIELDS
    by_user = {row["user_id"]: row for row in rows}
    assert by_user["CORP\\ada"]["session_start_time"] == "2026-10-14T22:30:00Z"
    assert by_user["CORP\\ada"]["session_end_time"] == "2026-10-15T01:15:30Z"
    assert by_user["CORP\\ada"]["session_duration_in_seconds"] == str(2 * 3600 + 45 * 60 + 30)
    assert by_user["CORP\\alan"]["session_duration_in_seconds"] == "1800"
    assert {row["authentication_type"] for row in rows} == {"SAML"}
    assert {row["stack_name"] for row in rows} == {streaming.stack}
    assert {row["fleet_name"] for row in rows} == {streaming.fleet}

    header, launches = read_csv(s3, bucket, written["keys"][1])
    assert tuple(header) == APPLICATIONS_FIELDS
    assert [(row["user_session_id"], row["application_name"]) for row in launches] == [
        (late, "IcoStudio"),
        (late, "IcoBatch"),
    ]
    assert {(row["schedule"], row["year"], row["month"], row["day"]) for row in launches} == {
        ("DAILY", "2026", "10", "15")
    }


def test_a_closed_day_is_written_without_being_asked(sandbox: SandboxClient) -> None:
    streaming = Streaming(sandbox, "me-central-1")
    bucket = streaming.appstream.create_usage_report_subscription()["S3BucketName"]
    session = streaming.start("CORP\\ada", start_time="2026-11-02T08:00:00Z")
    streaming.end(session, end_time="2026-11-02T10:00:00Z")  # long closed on the modelled calendar
    [subscription] = streaming.appstream.describe_usage_report_subscriptions()["UsageReportSubscriptions"]
    assert subscription["LastGeneratedReportDate"].date() >= datetime.date(2026, 11, 3)
    keys = [o["Key"] for o in sandbox.boto3("s3", region=streaming.region).list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["sessions/schedule=DAILY/year=2026/month=11/day=02/daily-session-report-2026-11-02.csv"]


# -- directory event topics ------------------------------------------------------------------------


def test_a_directory_publishes_its_status_to_a_registered_topic(sandbox: SandboxClient, ds: Any, ec2: Any) -> None:
    directory = create_directory(ds, make_network(ec2))
    sns = sandbox.boto3("sns")
    topic = uid("alerts")
    assert code_of(lambda: ds.register_event_topic(DirectoryId=directory, TopicName=topic)) == (
        "EntityDoesNotExistException"
    )
    arn = sns.create_topic(Name=topic)["TopicArn"]
    ds.register_event_topic(DirectoryId=directory, TopicName=topic)
    ds.register_event_topic(DirectoryId=directory, TopicName=topic)  # registering again changes nothing
    [found] = ds.describe_event_topics(DirectoryId=directory, TopicNames=[topic])["EventTopics"]
    assert (found["TopicArn"], found["Status"], found["DirectoryId"]) == (arn, "Registered", directory)

    sns.delete_topic(TopicArn=arn)
    assert ds.describe_event_topics(DirectoryId=directory)["EventTopics"][0]["Status"] == "Topic not found"
    ds.deregister_event_topic(DirectoryId=directory, TopicName=topic)
    assert ds.describe_event_topics(DirectoryId=directory)["EventTopics"] == []
    assert code_of(lambda: ds.deregister_event_topic(DirectoryId=directory, TopicName=topic)) == (
        "EntityDoesNotExistException"
    )
    assert code_of(lambda: ds.describe_event_topics(DirectoryId=directory, TopicNames=[])) == (
        "InvalidParameterException"
    )


# -- SNS e-mail confirmation -----------------------------------------------------------------------


def test_an_email_subscription_stays_pending_until_its_owner_confirms_it(sandbox: SandboxClient) -> None:
    sns = sandbox.boto3("sns")
    arn = sns.create_topic(Name=uid("alerts"))["TopicArn"]
    assert sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="ops@lab.example")["SubscriptionArn"] == (
        "pending confirmation"
    )
    [pending] = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert (pending["SubscriptionArn"], pending["Endpoint"]) == ("PendingConfirmation", "ops@lab.example")

    confirmed = sandbox.hook("sns", "confirm-subscriptions", topic_arn=arn)["confirmed"]
    assert [c["endpoint"] for c in confirmed] == ["ops@lab.example"]
    [subscription] = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert subscription["SubscriptionArn"].startswith(arn + ":")


# -- Cost Explorer ---------------------------------------------------------------------------------


def test_cost_by_tenant_tag_shows_once_the_tag_is_an_active_cost_allocation_tag(sandbox: SandboxClient) -> None:
    ce = sandbox.boto3("ce", region="us-east-1")
    tenant = uid("costlab")
    sandbox.hook("ce", "record-cost", date="2026-10-03", amount=12.5, tags={"tenant": tenant})
    sandbox.hook("ce", "record-cost", date="2026-10-20", amount=7.25, tags={"tenant": tenant})
    sandbox.hook("ce", "record-cost", date="2026-10-20", amount=100, tags={"tenant": "someone-else"})
    sandbox.hook("ce", "record-cost", date="2026-11-01", amount=3, tags={"tenant": tenant})

    def october() -> str:
        result = ce.get_cost_and_usage(
            TimePeriod={"Start": "2026-10-01", "End": "2026-11-01"},
            Granularity="MONTHLY",
            Metrics=["UnblendedCost"],
            Filter={"Tags": {"Key": "tenant", "Values": [tenant], "MatchOptions": ["EQUALS"]}},
        )["ResultsByTime"]
        assert [r["TimePeriod"] for r in result] == [{"Start": "2026-10-01", "End": "2026-11-01"}]
        return result[0]["Total"]["UnblendedCost"]["Amount"]

    tags = {t["TagKey"]: t["Status"] for t in ce.list_cost_allocation_tags(TagKeys=["tenant"])["CostAllocationTags"]}
    if tags["tenant"] == "Inactive":
        assert float(october()) == 0.0  # an inactive tag is not in the cost data
    errors = ce.update_cost_allocation_tags_status(
        CostAllocationTagsStatus=[{"TagKey": "tenant", "Status": "Active"}, {"TagKey": "nosuchkey", "Status": "Active"}]
    )["Errors"]
    assert [e["TagKey"] for e in errors] == ["nosuchkey"]
    assert ce.list_cost_allocation_tags(TagKeys=["tenant"])["CostAllocationTags"][0]["Status"] == "Active"
    assert float(october()) == 19.75
