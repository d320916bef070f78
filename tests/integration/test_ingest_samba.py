"""Instrument data in, end to end: from the acquisition PC to the tenant's project drive, complete and verified.

One sandbox of this module's own, with Samba-backed directories (the FSx share is a real SMB share served by the
tenant's Samba AD DC) and IAM enforced (sandbox/iam_enforce.py: the instrument's key is evaluated against its IAM
user's policies; the toolkit's own `testing` key stands for the account root). In order:

- site.yml converges a SAML tenant with tenant.ingest; a second run changes nothing and makes no mutating call;
- the uploader (`ingest-upload`, the instrument's key read from its secret into an AWS profile) sends an
  acquisition with a file above the multipart threshold, and a second one is killed half-way (no manifest);
- playbooks/ops/ingest_sync.yml brings the complete one to P:\\Incoming\\<instrument> on the share, where Samba's
  own smbclient, as a user of the tenant, reads every file with the SHA-256 it had on the PC, and cannot write;
  the half-uploaded one is not there; the transfer is in the tenant's DataSync log group;
- a copy that differs at the destination fails DataSync's verification and is sent again by the next run;
- the instrument's principal: resumes its interrupted upload, and is refused reading, listing and deleting, and
  writing another instrument's prefix or outside incoming/;
- the teardown refuses a landing bucket with data, naming it, before deleting anything, and removes everything
  with -e purge_ingest_data=true.

Needs root and the Samba AD DC packages (see .ci/run); skipped with the reason otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.client import SandboxClient
from sandbox.samba import SambaDcProvider
from tests.helpers import BIN, PlaybookRun, demo_tenant, run_playbook, write_inventory
from tests.reliability import policy
from tests.sandboxes import running_sandbox

pytestmark = [pytest.mark.slow, pytest.mark.samba]

ACCOUNT = "123456789012"
REGION = "eu-west-3"
INSTRUMENT = "ECHO-01"
OTHER = "ECHO-02"
MiB = 1024 * 1024
# Small parts keep the test quick: S3's minimum part size, and a threshold the big file is above.
SMALL_PARTS = ["--part-size", "5MiB", "--multipart-threshold", "5MiB"]


@pytest.fixture(scope="module", autouse=True)
def samba_installed() -> None:
    if shutil.which("samba-tool") is None or shutil.which("smbclient") is None:
        pytest.skip("samba-tool or smbclient is missing: apt-get install samba samba-ad-dc smbclient winbind krb5-user")
    if not SambaDcProvider.available():
        pytest.skip("a Samba AD DC needs root (privileged ports, loopback addresses) and Samba's Python bindings")


@dataclass
class World:
    sandbox: SandboxClient
    tenant: str
    inventory: Path
    home: Path  # the acquisition PC: AWS profile, uploader state, the instrument's data

    @property
    def bucket(self) -> str:
        return f"{self.tenant}-ingest-{ACCOUNT}-{REGION}"

    def run(self, playbook: str, **extra: Any) -> PlaybookRun:
        return run_playbook(playbook, self.inventory, self.sandbox, extra_vars=extra or None, timeout=1800)

    def secret(self, name: str) -> dict[str, Any]:
        value = self.sandbox.boto3("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
        return json.loads(value) if value.lstrip().startswith("{") else {"password": value}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_sandbox(tmp_path_factory.mktemp("ingest-samba"), 0.001, samba=True, enforce_iam=True) as sandbox:
        health = sandbox.health()
        assert health["samba"] is True and health["enforce_iam"] is True, health
        # Once per account, as the administrator: the permissions boundaries the toolkit's principals are made with.
        policy.bootstrap_account(sandbox.boto3("iam"))
        definition = demo_tenant()
        definition["name"] = f"e2e-{uuid.uuid4().hex[:6]}"
        definition["ingest"] = {"instruments": [{"name": INSTRUMENT}, {"name": OTHER}], "retention_days": 7}
        inventory = write_inventory(tmp_path_factory.mktemp("inventory"), definition, sandbox)
        home = tmp_path_factory.mktemp("acquisition-pc")
        yield World(sandbox, definition["name"], inventory, home)


@pytest.fixture(scope="module")
def converged(world: World) -> PlaybookRun:
    run = world.run("site.yml")
    assert run.rc == 0, run.stdout[-6000:]
    return run


@pytest.fixture(scope="module")
def second(world: World, converged: PlaybookRun) -> PlaybookRun:
    return world.run("site.yml")


# -- the acquisition PC ------------------------------------------------------------------------------
@dataclass
class Upload:
    rc: int
    output: str
    calls: list[dict[str, Any]]


def profile(world: World) -> dict[str, str]:
    """The instrument's key, read from its secret into an AWS profile of the PC, as the operator guide says."""
    key = world.secret(f"{world.tenant}/ingest/{INSTRUMENT}")
    credentials, config = world.home / "aws-credentials", world.home / "aws-config"
    credentials.write_text(
        f"[echo]\naws_access_key_id = {key['aws_access_key_id']}\n"
        f"aws_secret_access_key = {key['aws_secret_access_key']}\n"
    )
    credentials.chmod(0o600)
    config.write_text(f"[profile echo]\nregion = {key['region']}\n")
    return key


def upload(world: World, folder: Path, *extra: str, env: dict[str, str] | None = None) -> Upload:
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "INGEST_UPLOAD_"))}
    environment = {
        **kept,
        "AWS_CONFIG_FILE": str(world.home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(world.home / "aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "XDG_CONFIG_HOME": str(world.home / "config"),
        "XDG_STATE_HOME": str(world.home / "state"),
        **(env or {}),
    }
    command = [str(BIN / "ingest-upload"), "upload", str(folder), "--bucket", world.bucket, "--profile", "echo"]
    command += ["--endpoint-url", world.sandbox.endpoint, "--region", REGION, *SMALL_PARTS, "--quiet", *extra]
    if "--instrument" not in extra:
        command += ["--instrument", INSTRUMENT]
    mark = world.sandbox.log_mark()
    done = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=600, check=False)
    return Upload(done.returncode, done.stdout + done.stderr, world.sandbox.log(mark))


def write_files(folder: Path, files: dict[str, bytes]) -> Path:
    for relative, body in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return folder


ACQUISITION = {
    "frames/0001.bin": os.urandom(70_000),
    "frames/big.bin": os.urandom(12 * MiB + 5),  # above the multipart threshold: three parts
    "meta.json": b'{"probe": "ICONEUS-ONE", "frames": 2}',
}
HALF = {"a.bin": os.urandom(1000), "scan.bin": os.urandom(11 * MiB)}


@pytest.fixture(scope="module")
def uploads(world: World, second: PlaybookRun) -> dict[str, Upload]:
    profile(world)
    data = world.home / "D" / "Acquisitions"
    complete = upload(world, write_files(data / "acq-0001", ACQUISITION))
    # Killed by the uploader's test hook once S3 holds the first part of scan.bin: a.bin is there, no manifest.
    half = upload(
        world,
        write_files(data / "acq-half", HALF),
        "--concurrency",
        "1",
        env={"INGEST_UPLOAD_TEST_KILL_AFTER_PARTS": "1"},
    )
    return {"complete": complete, "half": half, "data": data}  # type: ignore[dict-item]


@pytest.fixture(scope="module")
def synced(world: World, uploads: dict[str, Upload]) -> PlaybookRun:
    return world.run("playbooks/ops/ingest_sync.yml")


# -- the share, through Samba's own client ----------------------------------------------------------
def share_address(world: World) -> str:
    (found,) = [
        fs
        for fs in world.sandbox.boto3("fsx").describe_file_systems()["FileSystems"]
        if {t["Key"]: t["Value"] for t in fs.get("Tags", [])}.get("tenant") == world.tenant
    ]
    return found["WindowsConfiguration"]["PreferredFileServerIp"]


def smbclient(world: World, user: str, command: str) -> subprocess.CompletedProcess[str]:
    """Samba's smbclient as a directory user, its password given through PASSWD (never on a command line)."""
    password = world.secret(f"{world.tenant}/users/{user}")["password"]
    return subprocess.run(
        ["smbclient", f"//{share_address(world)}/share", "-U", f"{user}@corp.demo.example", "-c", command],
        capture_output=True,
        text=True,
        env={**os.environ, "PASSWD": password},
        timeout=120,
        check=False,
    )


def digest_on_share(world: World, path: str, scratch: Path) -> str:
    target = scratch / hashlib.sha256(path.encode()).hexdigest()
    got = smbclient(world, "ada", f'get "{path}" "{target}"')
    assert got.returncode == 0 and target.is_file(), got.stdout + got.stderr
    return hashlib.sha256(target.read_bytes()).hexdigest()


def instrument_client(world: World) -> Any:
    key = world.secret(f"{world.tenant}/ingest/{INSTRUMENT}")
    return boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=world.sandbox.endpoint,
        aws_access_key_id=key["aws_access_key_id"],
        aws_secret_access_key=key["aws_secret_access_key"],
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )


# -- converge ---------------------------------------------------------------------------------------
def test_a_saml_tenant_with_ingest_converges_then_a_second_run_only_reads(world: World, second: PlaybookRun) -> None:
    assert second.rc == 0, second.stdout[-6000:]
    assert [(c["service"], c["operation"]) for c in second.calls() if c["mutating"]] == []
    assert second.recap[world.tenant]["changed"] == 0, second.stdout[-6000:]


def test_incoming_is_on_the_share_readable_by_the_tenant_s_users(world: World, converged: PlaybookRun) -> None:
    listed = smbclient(world, "ada", "ls Projects/Incoming/*")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert INSTRUMENT in listed.stdout and OTHER in listed.stdout


# -- upload, transfer, verify ---------------------------------------------------------------------------
def test_the_uploader_sends_with_the_instrument_s_key_only(world: World, uploads: dict[str, Upload]) -> None:
    complete = uploads["complete"]
    assert complete.rc == 0, complete.output
    s3_calls = [c for c in complete.calls if c["service"] == "s3"]
    # Every request signed by the instrument's IAM user (the sandbox names users by ARN, without their path).
    principals = {str(c.get("principal")) for c in s3_calls}
    assert s3_calls and {p.rsplit("/", 1)[-1] for p in principals} == {f"{world.tenant}-ingest-{INSTRUMENT}"}
    assert all(p.startswith(f"arn:aws:iam::{ACCOUNT}:user/") for p in principals)
    assert [c for c in s3_calls if c["error"]] == []
    assert uploads["half"].rc < 0, uploads["half"].output  # killed half-way


def test_complete_acquisitions_arrive_in_incoming_with_identical_digests(
    world: World, synced: PlaybookRun, tmp_path: Path
) -> None:
    assert synced.rc == 0, synced.stdout[-6000:]
    assert "transferred 1 acquisitions" in synced.stdout
    assert f"sent: {INSTRUMENT}/acq-0001 (3 files, {sum(map(len, ACQUISITION.values()))} bytes)" in synced.stdout
    for relative, body in ACQUISITION.items():
        path = f"Projects/Incoming/{INSTRUMENT}/acq-0001/{relative}"
        assert digest_on_share(world, path, tmp_path) == hashlib.sha256(body).hexdigest(), relative
    listed = smbclient(world, "ada", f"ls Projects/Incoming/{INSTRUMENT}/acq-0001/*")
    assert "_acquisition-manifest.json" in listed.stdout  # the manifest came too, with every file's SHA-256


def test_a_half_uploaded_acquisition_is_not_copied(world: World, synced: PlaybookRun) -> None:
    listed = smbclient(world, "ada", f"ls Projects/Incoming/{INSTRUMENT}/*")
    assert "acq-0001" in listed.stdout and "acq-half" not in listed.stdout, listed.stdout
    keys = {o["Key"] for o in world.sandbox.boto3("s3").list_objects_v2(Bucket=world.bucket)["Contents"]}
    assert f"incoming/{INSTRUMENT}/acq-half/a.bin" in keys  # it is in the bucket, waiting for its manifest


def test_the_tenant_s_users_cannot_change_incoming(world: World, synced: PlaybookRun, tmp_path: Path) -> None:
    local = tmp_path / "note.txt"
    local.write_text("not theirs to write")
    refused = smbclient(world, "ada", f'put "{local}" "Projects/Incoming/{INSTRUMENT}/acq-0001/note.txt"')
    assert "NT_STATUS_ACCESS_DENIED" in refused.stdout + refused.stderr
    removed = smbclient(world, "ada", f'del "Projects/Incoming/{INSTRUMENT}/acq-0001/meta.json"')
    assert "NT_STATUS_ACCESS_DENIED" in removed.stdout + removed.stderr


def test_the_transfer_is_logged_to_the_tenant_s_log_group(world: World, synced: PlaybookRun) -> None:
    logs = world.sandbox.boto3("logs")
    group = f"/tenant-toolkit/datasync/{world.tenant}"
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    messages = [
        event["message"]
        for stream in streams
        for event in logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])["events"]
    ]
    assert any(f"Transferred file {INSTRUMENT}/acq-0001/frames/big.bin, {12 * MiB + 5} bytes" in m for m in messages)
    assert any("Verified file" in m for m in messages)


def test_transferred_objects_are_marked_and_not_sent_again(world: World, synced: PlaybookRun) -> None:
    s3 = world.sandbox.boto3("s3")
    for relative in [*ACQUISITION, "_acquisition-manifest.json"]:
        tagging = s3.get_object_tagging(Bucket=world.bucket, Key=f"incoming/{INSTRUMENT}/acq-0001/{relative}")
        assert tagging["TagSet"] == [{"Key": "ingest-state", "Value": "transferred"}], relative
    again = world.run("playbooks/ops/ingest_sync.yml")
    assert again.rc == 0 and "no complete acquisition to transfer" in again.stdout, again.stdout[-3000:]


def test_a_copy_that_differs_at_the_destination_fails_verification_and_is_sent_again(
    world: World, synced: PlaybookRun, tmp_path: Path
) -> None:
    body = os.urandom(4096)
    assert upload(world, write_files(world.home / "D" / "acq-0002", {"x.bin": body})).rc == 0
    datasync = world.sandbox.boto3("datasync")
    (task,) = [t for t in datasync.list_tasks()["Tasks"] if t["Name"] == f"{world.tenant}-ingest"]
    world.sandbox.hook("datasync", "corrupt-next-transfer", task_arn=task["TaskArn"], region=REGION)

    failed = world.run("playbooks/ops/ingest_sync.yml")

    assert failed.rc != 0
    assert "VerificationFailed" in failed.stdout, failed.stdout[-3000:]
    tagging = world.sandbox.boto3("s3").get_object_tagging(
        Bucket=world.bucket, Key=f"incoming/{INSTRUMENT}/acq-0002/x.bin"
    )
    assert tagging["TagSet"] == []  # not marked: the next run sends it again

    retried = world.run("playbooks/ops/ingest_sync.yml")

    assert retried.rc == 0, retried.stdout[-3000:]
    path = f"Projects/Incoming/{INSTRUMENT}/acq-0002/x.bin"
    assert digest_on_share(world, path, tmp_path) == hashlib.sha256(body).hexdigest()


# -- the instrument's principal (IAM enforced) -------------------------------------------------------------
def test_the_instrument_resumes_its_interrupted_upload_which_then_arrives(
    world: World, uploads: dict[str, Upload], synced: PlaybookRun, tmp_path: Path
) -> None:
    resumed = upload(world, uploads["data"] / "acq-half")  # type: ignore[operator]
    assert resumed.rc == 0, resumed.output
    assert "resuming scan.bin: S3 holds 1 of its parts" in resumed.output
    moved = world.run("playbooks/ops/ingest_sync.yml")
    assert moved.rc == 0, moved.stdout[-3000:]
    for relative, body in HALF.items():
        path = f"Projects/Incoming/{INSTRUMENT}/acq-half/{relative}"
        assert digest_on_share(world, path, tmp_path) == hashlib.sha256(body).hexdigest(), relative


@pytest.mark.parametrize(
    ("call", "action"),
    [
        (lambda s3, b: s3.get_object(Bucket=b, Key=f"incoming/{INSTRUMENT}/acq-0001/meta.json"), "s3:GetObject"),
        (lambda s3, b: s3.head_object(Bucket=b, Key=f"incoming/{INSTRUMENT}/acq-0001/meta.json"), "s3:GetObject"),
        (lambda s3, b: s3.list_objects_v2(Bucket=b, Prefix=f"incoming/{INSTRUMENT}/"), "s3:ListBucket"),
        (lambda s3, b: s3.list_object_versions(Bucket=b), "s3:ListBucketVersions"),
        (lambda s3, b: s3.delete_object(Bucket=b, Key=f"incoming/{INSTRUMENT}/acq-0001/meta.json"), "s3:DeleteObject"),
        (lambda s3, b: s3.list_multipart_uploads(Bucket=b), "s3:ListBucketMultipartUploads"),
        (lambda s3, b: s3.put_object(Bucket=b, Key=f"incoming/{OTHER}/acq/x.bin", Body=b"x"), "s3:PutObject"),
        (lambda s3, b: s3.put_object(Bucket=b, Key="_toolkit/datasync-manifests/x.csv", Body=b"x"), "s3:PutObject"),
        (lambda s3, b: s3.put_bucket_policy(Bucket=b, Policy="{}"), "s3:PutBucketPolicy"),
    ],
)
def test_the_instrument_may_write_its_own_prefix_and_nothing_else(
    world: World, synced: PlaybookRun, call: Any, action: str
) -> None:
    s3 = instrument_client(world)
    mark = world.sandbox.log_mark()
    with pytest.raises(ClientError) as refused:
        call(s3, world.bucket)
    assert refused.value.response["Error"]["Code"] in {"AccessDenied", "403"}
    assert [c.get("denied_action") for c in world.sandbox.log(mark)] == [action]
    assert world.sandbox.boto3("s3").head_object(Bucket=world.bucket, Key=f"incoming/{INSTRUMENT}/acq-0001/meta.json")


def test_the_uploader_is_refused_another_instrument_s_prefix(world: World, synced: PlaybookRun) -> None:
    refused = upload(world, write_files(world.home / "D" / "acq-x", {"a.bin": b"a"}), "--instrument", OTHER)
    assert refused.rc == 5, refused.output
    assert "AccessDenied on PutObject" in refused.output


def test_no_key_or_password_appears_in_the_runs_output(
    world: World, converged: PlaybookRun, synced: PlaybookRun
) -> None:
    secrets = [
        world.secret(f"{world.tenant}/ingest/{INSTRUMENT}")["aws_secret_access_key"],
        world.secret(f"{world.tenant}/ingest/datasync-service")["password"],
    ]
    for run in (converged, synced):
        for secret in secrets:
            assert secret not in run.stdout + run.stderr


def test_a_reset_of_the_datasync_password_reaches_the_directory_and_datasync(
    world: World, synced: PlaybookRun, tmp_path: Path
) -> None:
    """The secret is the reference: after a reset in Secrets Manager, the next converge changes the account's
    password in AD and sends it to the DataSync location, so transfers still sign in to the share."""
    name = f"{world.tenant}/ingest/datasync-service"
    reset = {**world.secret(name), "password": "Reset-" + uuid.uuid4().hex + "-9a!"}
    world.sandbox.boto3("secretsmanager").put_secret_value(SecretId=name, SecretString=json.dumps(reset))
    converged = world.run("playbooks/ingest.yml")
    assert converged.rc == 0, converged.stdout[-6000:]
    assert reset["password"] not in converged.stdout + converged.stderr

    profile(world)
    body = {"after-reset.bin": os.urandom(4096)}
    sent = upload(world, write_files(world.home / "D" / "Acquisitions" / "acq-reset", body))
    assert sent.rc == 0, sent.output
    again = world.run("playbooks/ops/ingest_sync.yml")
    assert again.rc == 0, again.stdout[-6000:]
    path = f"Projects/Incoming/{INSTRUMENT}/acq-reset/after-reset.bin"
    assert digest_on_share(world, path, tmp_path) == hashlib.sha256(body["after-reset.bin"]).hexdigest()


# -- teardown ---------------------------------------------------------------------------------------------
def test_teardown_refuses_a_landing_bucket_with_data_naming_it_then_removes_all_when_confirmed(world: World) -> None:
    refused = world.run("playbooks/teardown.yml", confirm_teardown=world.tenant)

    assert refused.rc != 0
    assert f"landing bucket '{world.bucket}' holds data" in refused.stdout, refused.stdout[-4000:]
    assert [c for c in refused.calls() if c["mutating"]] == []

    done = world.run(
        "playbooks/teardown.yml", confirm_teardown=world.tenant, purge_ingest_data=True, purge_secrets=True
    )

    assert done.rc == 0, done.stdout[-6000:]
    s3, datasync, iam = (world.sandbox.boto3(name) for name in ("s3", "datasync", "iam"))
    assert world.bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]  # (the region's usage bucket stays)
    assert datasync.list_tasks()["Tasks"] == [] and datasync.list_locations()["Locations"] == []
    assert iam.list_users(PathPrefix="/tenant-toolkit/ingest/")["Users"] == []
    assert iam.list_roles(PathPrefix="/tenant-toolkit/ingest/")["Roles"] == []
