"""The ingest of a SAML tenant on the shared sandbox (no Samba): playbooks/ingest.yml, ops/ingest_sync.yml,
ops/ingest_rotate.yml and the ingest step of the teardown, asserted on the resulting AWS state.

Without Samba the directory account and the Incoming folders are skipped (said so), and DataSync executions
move through their states with their counters without writing data; the real copy to a Samba share, checked
with smbclient, is tests/integration/test_ingest_samba.py (slow).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.client import SandboxClient
from tests.helpers import PlaybookRun, demo_tenant, run_playbook, write_inventory

ACCOUNT = "123456789012"
REGION = "eu-west-3"
INSTRUMENTS = ["ECHO-01", "ECHO-02"]


@dataclass
class Tenant:
    name: str
    inventory: Path
    sandbox: SandboxClient

    @property
    def bucket(self) -> str:
        return f"{self.name}-ingest-{ACCOUNT}-{REGION}"

    def run(self, playbook: str, check: bool = False, **extra: Any) -> PlaybookRun:
        return run_playbook(playbook, self.inventory, self.sandbox, extra_vars=extra or None, check=check, timeout=900)


def mutating(run: PlaybookRun) -> list[dict[str, Any]]:
    return [call for call in run.calls() if call["mutating"]]


def put_acquisition(
    s3: Any, bucket: str, instrument: str, name: str, files: dict[str, bytes], manifest: bool = True
) -> None:
    """What the uploader leaves in the bucket: the files, then (when complete) the manifest."""
    for path, body in files.items():
        s3.put_object(Bucket=bucket, Key=f"incoming/{instrument}/{name}/{path}", Body=body)
    if manifest:
        document = {
            "format": 1,
            "instrument": instrument,
            "acquisition": name,
            "completed_at": "2026-12-06T10:42:17Z",
            "uploader_version": "0.1.0",
            "files": [
                {"path": path, "size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
                for path, body in sorted(files.items())
            ],
            "total_bytes": sum(len(body) for body in files.values()),
        }
        s3.put_object(
            Bucket=bucket, Key=f"incoming/{instrument}/{name}/_acquisition-manifest.json", Body=json.dumps(document)
        )


def tags_of(versions_tagging: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in versions_tagging.get("TagSet", [])}


@pytest.fixture(scope="module")
def tenant(sandbox: SandboxClient, tmp_path_factory: pytest.TempPathFactory) -> Tenant:
    definition = demo_tenant()
    definition["name"] = f"ing-{uuid.uuid4().hex[:6]}"
    definition["ingest"] = {"instruments": [{"name": name} for name in INSTRUMENTS], "retention_days": 14}
    inventory = write_inventory(tmp_path_factory.mktemp("ingest"), definition, sandbox)
    return Tenant(definition["name"], inventory, sandbox)


@pytest.fixture(scope="module")
def planned(tenant: Tenant) -> PlaybookRun:
    """The plan of the ingest of a tenant whose network, directory and file system exist (stage playbooks)."""
    for stage in ("playbooks/directory.yml", "playbooks/storage.yml"):
        run = tenant.run(stage)
        assert run.rc == 0, run.stdout[-4000:]
    return tenant.run("playbooks/ingest.yml", check=True)


@pytest.fixture(scope="module")
def converged(tenant: Tenant, planned: PlaybookRun) -> PlaybookRun:
    run = tenant.run("playbooks/ingest.yml")
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return run


@pytest.fixture(scope="module")
def second(tenant: Tenant, converged: PlaybookRun) -> PlaybookRun:
    return tenant.run("playbooks/ingest.yml")


# -- the plan and the converge --------------------------------------------------------------------
def test_the_plan_of_a_new_tenant_makes_no_mutating_call(planned: PlaybookRun) -> None:
    assert planned.rc == 0, planned.stdout[-4000:]
    assert mutating(planned) == []


def test_the_landing_bucket_is_private_encrypted_versioned_tls_only_and_expires_transferred_data(
    tenant: Tenant, converged: PlaybookRun
) -> None:
    s3 = tenant.sandbox.boto3("s3")
    bucket = tenant.bucket
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    (statement,) = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    rules = {rule["ID"]: rule for rule in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert rules["expire-transferred-acquisitions"]["Expiration"] == {"Days": 14}
    assert rules["expire-transferred-acquisitions"]["Filter"] == {
        "Tag": {"Key": "ingest-state", "Value": "transferred"}
    }
    assert rules["housekeeping"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    tags = {tag["Key"]: tag["Value"] for tag in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    assert tags["tenant"] == tenant.name and tags["managed-by"] == "appstream-tenant-toolkit"


def test_each_instrument_has_a_write_only_user_whose_key_is_in_its_tagged_secret(
    tenant: Tenant, converged: PlaybookRun
) -> None:
    iam, secrets = tenant.sandbox.boto3("iam"), tenant.sandbox.boto3("secretsmanager")
    for instrument in INSTRUMENTS:
        user = f"{tenant.name}-ingest-{instrument}"
        assert iam.list_user_policies(UserName=user)["PolicyNames"] == ["ingest-upload"]
        assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == []
        document = iam.get_user_policy(UserName=user, PolicyName="ingest-upload")["PolicyDocument"]
        actions = sorted(
            a for s in document["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        )
        assert actions == ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:PutObject"]
        assert {s["Resource"] for s in document["Statement"]} == {
            f"arn:aws:s3:::{tenant.bucket}/incoming/{instrument}/*"
        }
        secret = f"{tenant.name}/ingest/{instrument}"
        described = secrets.describe_secret(SecretId=secret)
        assert {t["Key"]: t["Value"] for t in described["Tags"]}["tenant"] == tenant.name
        value = json.loads(secrets.get_secret_value(SecretId=secret)["SecretString"])
        keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        assert [(k["AccessKeyId"], k["Status"]) for k in keys] == [(value["aws_access_key_id"], "Active")]
        assert value["bucket"] == tenant.bucket and value["instrument"] == instrument
        assert value["aws_secret_access_key"] not in converged.stdout + converged.stderr


def test_the_datasync_task_verifies_logs_and_has_no_schedule(tenant: Tenant, converged: PlaybookRun) -> None:
    datasync = tenant.sandbox.boto3("datasync")
    (task,) = [t for t in datasync.list_tasks()["Tasks"] if t["Name"] == f"{tenant.name}-ingest"]
    described = datasync.describe_task(TaskArn=task["TaskArn"])
    assert described["Options"]["VerifyMode"] == "ONLY_FILES_TRANSFERRED"
    assert described["Options"]["SecurityDescriptorCopyFlags"] == "NONE"
    assert described["Options"]["LogLevel"] == "TRANSFER"
    assert described["CloudWatchLogGroupArn"] == (
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/tenant-toolkit/datasync/{tenant.name}:*"
    )
    assert "Schedule" not in described
    source = datasync.describe_location_s3(LocationArn=described["SourceLocationArn"])
    assert source["LocationUri"] == f"s3://{tenant.bucket}/incoming/"
    destination = datasync.describe_location_fsx_windows(LocationArn=described["DestinationLocationArn"])
    assert destination["LocationUri"].endswith("/share/Projects/Incoming/")
    assert destination["User"] == "svc-datasync"
    tags = {t["Key"]: t["Value"] for t in datasync.list_tags_for_resource(ResourceArn=task["TaskArn"])["Tags"]}
    assert tags["tenant"] == tenant.name and tags["Name"] == f"{tenant.name}-ingest"
    role = tenant.sandbox.boto3("iam").get_role(RoleName=f"{tenant.name}-ingest-datasync")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "datasync.amazonaws.com"}


def test_without_samba_the_directory_account_and_folders_are_skipped_visibly(converged: PlaybookRun) -> None:
    assert "SKIPPED the DataSync account and the Incoming folders" in converged.stdout


def test_a_second_converge_changes_nothing_and_only_reads(second: PlaybookRun) -> None:
    assert second.rc == 0, second.stdout[-4000:]
    assert mutating(second) == []
    (host,) = [counts for name, counts in second.recap.items() if name.startswith("ing-")]
    assert host["changed"] == 0, second.stdout[-4000:]


# -- transfers --------------------------------------------------------------------------------------
def test_sync_moves_complete_acquisitions_only_and_marks_them(tenant: Tenant, second: PlaybookRun) -> None:
    s3 = tenant.sandbox.boto3("s3")
    put_acquisition(s3, tenant.bucket, "ECHO-01", "acq-complete", {"a.bin": b"a" * 100, "sub/b.bin": b"b" * 50})
    put_acquisition(s3, tenant.bucket, "ECHO-02", "acq-half", {"x.bin": b"x" * 10}, manifest=False)
    # A manifest whose file is not all there yet (the uploader never writes one, an administrator might).
    put_acquisition(s3, tenant.bucket, "ECHO-02", "acq-short", {"y.bin": b"y" * 10})
    s3.put_object(Bucket=tenant.bucket, Key="incoming/ECHO-02/acq-short/y.bin", Body=b"y")

    run = tenant.run("playbooks/ops/ingest_sync.yml")

    assert run.rc == 0, run.stdout[-4000:]
    assert "transferred 1 acquisitions" in run.stdout
    assert "sent: ECHO-01/acq-complete (2 files, 150 bytes)" in run.stdout
    assert "incomplete: ECHO-02/acq-short" in run.stdout
    datasync = tenant.sandbox.boto3("datasync")
    (task,) = [t for t in datasync.list_tasks()["Tasks"] if t["Name"] == f"{tenant.name}-ingest"]
    (execution,) = datasync.list_task_executions(TaskArn=task["TaskArn"])["TaskExecutions"]
    done = datasync.describe_task_execution(TaskExecutionArn=execution["TaskExecutionArn"])
    assert done["Status"] == "SUCCESS"
    assert done["FilesTransferred"] == 3  # the two files and the manifest, nothing of the others
    for key in ("a.bin", "sub/b.bin", "_acquisition-manifest.json"):
        tagging = s3.get_object_tagging(Bucket=tenant.bucket, Key=f"incoming/ECHO-01/acq-complete/{key}")
        assert tags_of(tagging) == {"ingest-state": "transferred"}, key
    assert tags_of(s3.get_object_tagging(Bucket=tenant.bucket, Key="incoming/ECHO-02/acq-half/x.bin")) == {}


def test_a_second_sync_sends_nothing_again(tenant: Tenant) -> None:
    run = tenant.run("playbooks/ops/ingest_sync.yml")
    assert run.rc == 0, run.stdout[-4000:]
    assert "no transfer started: no complete acquisition to transfer" in run.stdout
    assert [c for c in mutating(run) if c["service"] in ("datasync", "s3")] == []


def test_a_scheduled_run_waits_for_its_hour(tenant: Tenant) -> None:
    s3 = tenant.sandbox.boto3("s3")
    put_acquisition(s3, tenant.bucket, "ECHO-01", "acq-later", {"c.bin": b"c"})
    run = tenant.run("playbooks/ops/ingest_sync.yml", scheduled=True)
    assert run.rc == 0, run.stdout[-4000:]
    assert "no transfer started: the last transfer started 0 minutes ago" in run.stdout
    assert [c for c in mutating(run) if c["service"] == "datasync"] == []


def test_the_report_shows_the_last_transfers(tenant: Tenant, tmp_path: Path) -> None:
    run = tenant.run("playbooks/ops/report.yml", report_dir=str(tmp_path))
    assert run.rc == 0, run.stdout[-4000:]
    # Three files: the two of the acquisition and its manifest; one acquisition still waits (acq-later).
    assert re.search(
        r"Transfers \(last 1\): 1 succeeded, 0 failed, 3 files, \d+ bytes; waiting: 1 complete", run.stdout
    ), run.stdout[-3000:]
    markdown = (tmp_path / f"{tenant.name}.md").read_text()
    assert "## Instrument data" in markdown and "| SUCCESS | 3 |" in markdown


# -- keys -------------------------------------------------------------------------------------------
def test_rotation_stores_a_new_key_and_keeps_the_current_one_active_until_retired(tenant: Tenant) -> None:
    iam, secrets = tenant.sandbox.boto3("iam"), tenant.sandbox.boto3("secretsmanager")
    user, secret = f"{tenant.name}-ingest-ECHO-01", f"{tenant.name}/ingest/ECHO-01"
    before = json.loads(secrets.get_secret_value(SecretId=secret)["SecretString"])["aws_access_key_id"]

    rotated = tenant.run("playbooks/ops/ingest_rotate.yml", instrument="ECHO-01")

    assert rotated.rc == 0, rotated.stdout[-4000:]
    after = json.loads(secrets.get_secret_value(SecretId=secret)["SecretString"])["aws_access_key_id"]
    keys = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}
    assert after != before and keys == {before: "Active", after: "Active"}
    other = f"{tenant.name}-ingest-ECHO-02"
    assert len(iam.list_access_keys(UserName=other)["AccessKeyMetadata"]) == 1  # only the instrument asked for

    retired = tenant.run("playbooks/ops/ingest_rotate.yml", instrument="ECHO-01", mode="retire")

    assert retired.rc == 0, retired.stdout[-4000:]
    keys = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}
    assert keys == {after: "Active"}
    updates = [c for c in retired.calls() if c["operation"] == "UpdateAccessKey"]
    assert len(updates) == 1  # deactivated before it was deleted


def test_rotating_an_unknown_instrument_fails_naming_it(tenant: Tenant) -> None:
    run = tenant.run("playbooks/ops/ingest_rotate.yml", instrument="NOPE-9")
    assert run.rc != 0
    assert "instrument: NOPE-9 is not an instrument of tenant" in run.stdout


def test_an_instrument_taken_out_of_the_definition_loses_its_user_and_keys(tenant: Tenant) -> None:
    iam = tenant.sandbox.boto3("iam")
    # Another tenant's instrument under the same path (and a name that starts like this tenant's) is never touched.
    decoy = f"{tenant.name}-ingest-x-other"
    iam.create_user(UserName=decoy, Path="/tenant-toolkit/ingest/", Tags=[{"Key": "tenant", "Value": "someone-else"}])
    host_vars = tenant.inventory / "host_vars" / tenant.name / "tenant.yml"
    definition = yaml.safe_load(host_vars.read_text())
    definition["tenant"]["ingest"]["instruments"] = [{"name": "ECHO-01"}]
    host_vars.write_text(yaml.safe_dump(definition, sort_keys=False))

    run = tenant.run("playbooks/ingest.yml")

    assert run.rc == 0, run.stdout[-4000:]
    users = {u["UserName"] for u in iam.list_users(PathPrefix="/tenant-toolkit/ingest/")["Users"]}
    assert f"{tenant.name}-ingest-ECHO-02" not in users
    assert {f"{tenant.name}-ingest-ECHO-01", decoy} <= users
    assert iam.list_access_keys(UserName=f"{tenant.name}-ingest-ECHO-01")["AccessKeyMetadata"]
    again = tenant.run("playbooks/ingest.yml")
    assert again.rc == 0 and mutating(again) == [], again.stdout[-3000:]


# -- teardown ---------------------------------------------------------------------------------------
def test_teardown_refuses_a_landing_bucket_holding_data_naming_it_then_removes_it_when_confirmed(
    tenant: Tenant,
) -> None:
    refused = tenant.run("playbooks/teardown.yml", confirm_teardown=tenant.name)

    assert refused.rc != 0
    assert f"landing bucket '{tenant.bucket}' holds data" in refused.stdout, refused.stdout[-3000:]
    assert "purge_ingest_data=true" in refused.stdout
    assert mutating(refused) == []  # refused before anything was deleted

    done = tenant.run(
        "playbooks/teardown.yml", confirm_teardown=tenant.name, purge_ingest_data=True, purge_secrets=True
    )

    assert done.rc == 0, done.stdout[-6000:]
    s3, datasync, iam = (tenant.sandbox.boto3(name) for name in ("s3", "datasync", "iam"))
    assert tenant.bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert not [t for t in datasync.list_tasks()["Tasks"] if t["Name"] == f"{tenant.name}-ingest"]
    users = {u["UserName"] for u in iam.list_users(PathPrefix="/tenant-toolkit/ingest/")["Users"]}
    assert not {f"{tenant.name}-ingest-{i}" for i in INSTRUMENTS} & users
