"""The sandbox's DataSync, driven through boto3 like AWS: S3 to FSx for Windows File Server.

On the shared sandbox (no Samba) executions move through AWS's states with their counters and logs but
write no data; the real copy to a Samba-served share is proven end to end in tests/integration/test_ingest.py.
Each test builds its own bucket, role, file system and names; the shared sandbox is never reset.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.client import SandboxClient
from tests.sandbox.aws_helpers import create_directory, make_network, unique, wait_for

REGION = "eu-west-3"
ACCOUNT = "123456789012"
FAST_SCALE = 0.0002  # a 30-minute file system in 0.36 s
PHASES = ["QUEUED", "LAUNCHING", "PREPARING", "TRANSFERRING", "VERIFYING", "SUCCESS"]


@pytest.fixture(scope="module")
def clients(sandbox: SandboxClient) -> dict[str, Any]:
    return {name: sandbox.boto3(name) for name in ("datasync", "s3", "iam", "ec2", "ds", "fsx", "logs")}


@pytest.fixture(scope="module")
def world(sandbox: SandboxClient, clients: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A bucket with versions, a DataSync role, a log group and an AVAILABLE file system in a directory."""
    before = sandbox.health()["time_scale"]
    sandbox.set_time_scale(FAST_SCALE)
    try:
        s3, iam, ec2, ds, fsx, logs = (clients[n] for n in ("s3", "iam", "ec2", "ds", "fsx", "logs"))
        bucket = unique("ds-landing-")
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        role = iam.create_role(
            RoleName=unique("datasync-"),
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "datasync.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
        group = unique("/datasync/")
        logs.create_log_group(logGroupName=group)
        network = make_network(ec2)
        group_id = ec2.create_security_group(GroupName=unique("sg-"), Description="x", VpcId=network["vpc"])["GroupId"]
        directory_id = create_directory(ds, network)
        wait_for(
            lambda: ds.describe_directories(DirectoryIds=[directory_id])["DirectoryDescriptions"][0]["Stage"],
            lambda stage: stage == "Active",
        )
        file_system = fsx.create_file_system(
            FileSystemType="WINDOWS",
            StorageCapacity=32,
            SubnetIds=[network["subnets"][0]],
            WindowsConfiguration={"ActiveDirectoryId": directory_id, "ThroughputCapacity": 32},
        )["FileSystem"]
        wait_for(
            lambda: fsx.describe_file_systems(FileSystemIds=[file_system["FileSystemId"]])["FileSystems"][0],
            lambda found: found["Lifecycle"] == "AVAILABLE",
        )
        yield {
            "bucket": bucket,
            "role": role,
            "log_group": group,
            "log_group_arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:*",
            "file_system_arn": file_system["ResourceARN"],
            "security_group_arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{group_id}",
        }
    finally:
        sandbox.set_time_scale(before)


def put(s3: Any, bucket: str, key: str, body: bytes) -> str:
    return s3.put_object(Bucket=bucket, Key=key, Body=body)["VersionId"]


def s3_location(datasync: Any, world: dict[str, Any], subdirectory: str = "/incoming/") -> str:
    return datasync.create_location_s3(
        S3BucketArn=f"arn:aws:s3:::{world['bucket']}",
        Subdirectory=subdirectory,
        S3Config={"BucketAccessRoleArn": world["role"]},
        Tags=[{"Key": "tenant", "Value": "ds-tests"}],
    )["LocationArn"]


def fsx_location(datasync: Any, world: dict[str, Any]) -> str:
    return datasync.create_location_fsx_windows(
        FsxFilesystemArn=world["file_system_arn"],
        SecurityGroupArns=[world["security_group_arn"]],
        Subdirectory="/share/Projects/Incoming/",
        User="svc-datasync",
        Domain="CORP",
        Password="Not-Logged-Ever-1",
    )["LocationArn"]


def task(datasync: Any, world: dict[str, Any], **extra: Any) -> str:
    params: dict[str, Any] = {
        "SourceLocationArn": s3_location(datasync, world),
        "DestinationLocationArn": fsx_location(datasync, world),
        "Name": unique("ingest-"),
        "CloudWatchLogGroupArn": world["log_group_arn"],
        "Options": {
            "VerifyMode": "ONLY_FILES_TRANSFERRED",
            "LogLevel": "TRANSFER",
            "SecurityDescriptorCopyFlags": "NONE",
        },
    }
    params.update(extra)
    return datasync.create_task(**params)["TaskArn"]


def manifest_config(world: dict[str, Any], key: str) -> dict[str, Any]:
    return {
        "Action": "TRANSFER",
        "Format": "CSV",
        "Source": {
            "S3": {
                "ManifestObjectPath": key,
                "BucketAccessRoleArn": world["role"],
                "S3BucketArn": f"arn:aws:s3:::{world['bucket']}",
            }
        },
    }


def wait_done(datasync: Any, execution: str, timeout: float = 30.0) -> dict[str, Any]:
    return wait_for(
        lambda: datasync.describe_task_execution(TaskExecutionArn=execution),
        lambda found: found["Status"] in ("SUCCESS", "ERROR"),
        timeout,
    )


def statuses_until_done(datasync: Any, execution: str, timeout: float = 30.0) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = datasync.describe_task_execution(TaskExecutionArn=execution)["Status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in ("SUCCESS", "ERROR"):
            return seen
        time.sleep(0.005)
    raise AssertionError(f"not finished; seen {seen}")


# -- model and validation ------------------------------------------------------------------------
def test_requests_are_checked_against_botocore_s_model(sandbox: SandboxClient) -> None:
    raw = sandbox.boto3("datasync")
    with pytest.raises(ClientError) as refused:
        raw.describe_task(TaskArn="arn:aws:datasync:eu-west-3:123456789012:task/task-0123456789abcdef0")
    assert refused.value.response["Error"]["Code"] == "InvalidRequestException"
    assert "is not found" in refused.value.response["Error"]["Message"]


def test_an_s3_location_needs_its_bucket_and_role(clients: dict[str, Any], world: dict[str, Any]) -> None:
    datasync = clients["datasync"]
    with pytest.raises(ClientError) as no_bucket:
        datasync.create_location_s3(
            S3BucketArn="arn:aws:s3:::no-such-bucket-here", S3Config={"BucketAccessRoleArn": world["role"]}
        )
    assert no_bucket.value.response["Error"]["Code"] == "InvalidRequestException"
    with pytest.raises(ClientError) as no_role:
        datasync.create_location_s3(
            S3BucketArn=f"arn:aws:s3:::{world['bucket']}",
            S3Config={"BucketAccessRoleArn": f"arn:aws:iam::{ACCOUNT}:role/missing"},
        )
    assert "cannot assume role" in no_role.value.response["Error"]["Message"]
    arn = s3_location(datasync, world, "incoming")
    described = datasync.describe_location_s3(LocationArn=arn)
    assert described["LocationUri"] == f"s3://{world['bucket']}/incoming/"
    assert described["S3Config"] == {"BucketAccessRoleArn": world["role"]}
    assert datasync.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "tenant", "Value": "ds-tests"}]


def test_an_fsx_location_names_its_share_and_never_returns_the_password(
    clients: dict[str, Any], world: dict[str, Any]
) -> None:
    datasync = clients["datasync"]
    arn = fsx_location(datasync, world)
    described = datasync.describe_location_fsx_windows(LocationArn=arn)
    file_system_id = world["file_system_arn"].rsplit("/", 1)[-1]
    assert described["LocationUri"] == f"fsxw://{REGION}.{file_system_id}/share/Projects/Incoming/"
    assert described["User"] == "svc-datasync" and described["Domain"] == "CORP"
    assert "Password" not in described and "Not-Logged-Ever-1" not in json.dumps(described, default=str)
    listed = datasync.list_locations(
        Filters=[{"Name": "LocationUri", "Values": [described["LocationUri"]], "Operator": "Equals"}]
    )
    assert arn in [item["LocationArn"] for item in listed["Locations"]]


def test_a_task_keeps_its_options_filters_manifest_schedule_and_log_group(
    clients: dict[str, Any], world: dict[str, Any]
) -> None:
    datasync = clients["datasync"]
    arn = task(
        datasync,
        world,
        Includes=[{"FilterType": "SIMPLE_PATTERN", "Value": "/ECHO-01/acq-1|/ECHO-01/acq-2"}],
        Schedule={"ScheduleExpression": "cron(0 * * * ? *)", "Status": "DISABLED"},
        ManifestConfig=manifest_config(world, "_toolkit/m.csv"),
    )
    described = datasync.describe_task(TaskArn=arn)
    assert described["Status"] == "AVAILABLE"
    assert described["Options"]["VerifyMode"] == "ONLY_FILES_TRANSFERRED"
    assert described["Options"]["TransferMode"] == "CHANGED"  # DataSync's default, filled in
    assert described["Includes"][0]["Value"] == "/ECHO-01/acq-1|/ECHO-01/acq-2"
    assert described["Schedule"] == {"ScheduleExpression": "cron(0 * * * ? *)", "Status": "DISABLED"}
    assert described["CloudWatchLogGroupArn"] == world["log_group_arn"]
    assert described["ManifestConfig"]["Source"]["S3"]["ManifestObjectPath"] == "_toolkit/m.csv"
    assert arn in [item["TaskArn"] for item in datasync.list_tasks()["Tasks"]]


def test_a_task_s_log_group_must_exist(clients: dict[str, Any], world: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as refused:
        task(clients["datasync"], world, CloudWatchLogGroupArn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/nope:*")
    assert "does not exist" in refused.value.response["Error"]["Message"]


def test_a_location_in_use_by_a_task_is_not_deleted(clients: dict[str, Any], world: dict[str, Any]) -> None:
    datasync = clients["datasync"]
    arn = task(datasync, world)
    source = datasync.describe_task(TaskArn=arn)["SourceLocationArn"]
    with pytest.raises(ClientError):
        datasync.delete_location(LocationArn=source)
    datasync.delete_task(TaskArn=arn)
    datasync.delete_location(LocationArn=source)
    with pytest.raises(ClientError):
        datasync.describe_location_s3(LocationArn=source)


def test_tags_are_set_and_removed(clients: dict[str, Any], world: dict[str, Any]) -> None:
    datasync = clients["datasync"]
    arn = task(datasync, world, Tags=[{"Key": "tenant", "Value": "ds-tests"}])
    datasync.tag_resource(ResourceArn=arn, Tags=[{"Key": "Name", "Value": "x"}])
    datasync.untag_resource(ResourceArn=arn, Keys=["tenant"])
    assert datasync.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "Name", "Value": "x"}]


# -- executions ----------------------------------------------------------------------------------
def test_an_execution_moves_through_aws_s_states_with_its_counters(
    sandbox: SandboxClient, clients: dict[str, Any], world: dict[str, Any], time_scale: Callable[[float], None]
) -> None:
    datasync, s3 = clients["datasync"], clients["s3"]
    bodies = {"ECHO-01/acq-a/a.bin": b"a" * 1000, "ECHO-01/acq-a/sub/b.bin": b"b" * 2345}
    versions = {path: put(s3, world["bucket"], f"incoming/{path}", body) for path, body in bodies.items()}
    put(s3, world["bucket"], "incoming/ECHO-01/acq-a/a.bin", b"newer content is not what the manifest names")
    csv = "".join(f"{path},{version}\n" for path, version in versions.items())
    put(s3, world["bucket"], "_toolkit/manifest-a.csv", csv.encode())
    arn = task(datasync, world)
    time_scale(0.01)  # phases of 0.2-0.3 s: a poll sees most of them, the sandbox's record has them all

    execution = datasync.start_task_execution(
        TaskArn=arn, ManifestConfig=manifest_config(world, "_toolkit/manifest-a.csv")
    )["TaskExecutionArn"]
    seen = statuses_until_done(datasync, execution)

    assert seen == [status for status in PHASES if status in seen], seen  # never out of order
    (record,) = [e for e in sandbox.hook("datasync", "inventory")["executions"] if e["arn"] == execution]
    assert record["history"] == PHASES
    done = datasync.describe_task_execution(TaskExecutionArn=execution)
    assert done["FilesTransferred"] == 2 and done["FilesVerified"] == 2
    assert done["BytesTransferred"] == 1000 + 2345  # the versions the manifest names, not the newer one
    assert done["EstimatedFilesToTransfer"] == 2
    assert done["Result"]["TransferStatus"] == "SUCCESS" and done["Result"]["VerifyStatus"] == "SUCCESS"
    assert done["EndTime"] >= done["StartTime"]
    listed = datasync.list_task_executions(TaskArn=arn)["TaskExecutions"]
    assert listed == [{"TaskExecutionArn": execution, "Status": "SUCCESS", "TaskMode": "BASIC"}]


def test_an_execution_logs_to_the_task_s_log_group(clients: dict[str, Any], world: dict[str, Any]) -> None:
    datasync, s3, logs = clients["datasync"], clients["s3"], clients["logs"]
    version = put(s3, world["bucket"], "incoming/ECHO-01/acq-log/x.bin", b"x")
    put(s3, world["bucket"], "_toolkit/manifest-log.csv", f"ECHO-01/acq-log/x.bin,{version}\n".encode())
    arn = task(datasync, world)
    execution = datasync.start_task_execution(
        TaskArn=arn, ManifestConfig=manifest_config(world, "_toolkit/manifest-log.csv")
    )
    wait_done(datasync, execution["TaskExecutionArn"])
    stream = execution["TaskExecutionArn"].rsplit("/", 1)[-1]
    events = logs.get_log_events(logGroupName=world["log_group"], logStreamName=stream)["events"]
    messages = [event["message"] for event in events]
    assert any("Transferred file ECHO-01/acq-log/x.bin, 1 bytes" in message for message in messages), messages
    assert any("completed" in message for message in messages), messages


def test_a_manifest_naming_a_missing_object_ends_in_error(clients: dict[str, Any], world: dict[str, Any]) -> None:
    datasync, s3 = clients["datasync"], clients["s3"]
    put(s3, world["bucket"], "_toolkit/manifest-missing.csv", b"ECHO-01/acq-x/never-uploaded.bin\n")
    execution = datasync.start_task_execution(
        TaskArn=task(datasync, world), ManifestConfig=manifest_config(world, "_toolkit/manifest-missing.csv")
    )["TaskExecutionArn"]
    done = wait_done(datasync, execution)
    assert done["Status"] == "ERROR"
    assert done["Result"]["ErrorCode"] == "ObjectNotFound"
    assert "never-uploaded.bin" in done["Result"]["ErrorDetail"]
    assert done["FilesTransferred"] == 0


def test_include_filters_select_folders_without_a_manifest(clients: dict[str, Any], world: dict[str, Any]) -> None:
    datasync, s3 = clients["datasync"], clients["s3"]
    tag = unique("inc")
    for name in ("keep/a", "keep/sub/b", "skip/c"):
        put(s3, world["bucket"], f"incoming/{tag}/{name}", b"12345")
    execution = datasync.start_task_execution(
        TaskArn=task(datasync, world), Includes=[{"FilterType": "SIMPLE_PATTERN", "Value": f"/{tag}/keep"}]
    )["TaskExecutionArn"]
    assert wait_done(datasync, execution)["FilesTransferred"] == 2


def test_a_second_execution_waits_queued_for_the_first(clients: dict[str, Any], world: dict[str, Any]) -> None:
    datasync, s3 = clients["datasync"], clients["s3"]
    version = put(s3, world["bucket"], "incoming/ECHO-01/acq-q/x.bin", b"q")
    put(s3, world["bucket"], "_toolkit/manifest-q.csv", f"ECHO-01/acq-q/x.bin,{version}\n".encode())
    arn = task(datasync, world)
    config = manifest_config(world, "_toolkit/manifest-q.csv")
    first = datasync.start_task_execution(TaskArn=arn, ManifestConfig=config)["TaskExecutionArn"]
    second = datasync.start_task_execution(TaskArn=arn, ManifestConfig=config)["TaskExecutionArn"]
    assert datasync.describe_task_execution(TaskExecutionArn=second)["Status"] == "QUEUED"
    assert datasync.describe_task(TaskArn=arn)["CurrentTaskExecutionArn"] == first
    assert wait_done(datasync, second)["Status"] == "SUCCESS"
    assert datasync.describe_task_execution(TaskExecutionArn=first)["Status"] == "SUCCESS"


def test_a_running_execution_can_be_cancelled(
    clients: dict[str, Any], world: dict[str, Any], time_scale: Callable[[float], None]
) -> None:
    datasync, s3 = clients["datasync"], clients["s3"]
    version = put(s3, world["bucket"], "incoming/ECHO-01/acq-c/x.bin", b"c")
    put(s3, world["bucket"], "_toolkit/manifest-c.csv", f"ECHO-01/acq-c/x.bin,{version}\n".encode())
    time_scale(0.05)  # 1 s of launching: time to cancel
    execution = datasync.start_task_execution(
        TaskArn=task(datasync, world), ManifestConfig=manifest_config(world, "_toolkit/manifest-c.csv")
    )["TaskExecutionArn"]
    datasync.cancel_task_execution(TaskExecutionArn=execution)
    done = wait_done(datasync, execution)
    assert done["Status"] == "ERROR" and done["Result"]["ErrorCode"] == "Cancelled"


def test_cbor_requests_reach_the_same_backend(
    sandbox: SandboxClient, clients: dict[str, Any], world: dict[str, Any]
) -> None:
    arn = task(clients["datasync"], world)
    cbor = sandbox.boto3("datasync", protocol="smithy-rpc-v2-cbor")
    described = cbor.describe_task(TaskArn=arn)
    assert described["TaskArn"] == arn and described["Status"] == "AVAILABLE"


def test_the_request_log_never_holds_the_location_password(sandbox: SandboxClient, world: dict[str, Any]) -> None:
    log = (sandbox.state_dir / "requests.jsonl").read_text() if hasattr(sandbox, "state_dir") else ""
    entries = json.dumps(sandbox.log(0))
    assert "Not-Logged-Ever-1" not in entries and "Not-Logged-Ever-1" not in log
    assert hashlib.sha256(b"Not-Logged-Ever-1").hexdigest() not in entries
