"""Ingest's pure rules: complete acquisitions, the DataSync manifest, key rotation, the schedule, the policies."""

from __future__ import annotations

import json
import re

import pytest
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest.acquisitions import (
    ManifestError,
    ObjectVersion,
    check_complete,
    datasync_manifest,
    find_acquisitions,
    parse_manifest,
    read_datasync_manifest,
    versions_by_key,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest.credentials import AccessKey, plan_keys
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest.layout import (
    bucket_name,
    instrument_user_name,
    split_manifest_key,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest.policies import (
    bucket_policy,
    datasync_bucket_access_policy,
    lifecycle_rules,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.ingest.schedule import is_due

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
MANIFEST = "incoming/ECHO-01/acq-1/_acquisition-manifest.json"


def manifest(files: list[dict], instrument: str = "ECHO-01", acquisition: str = "acq-1") -> str:
    return json.dumps({"format": 1, "instrument": instrument, "acquisition": acquisition, "files": files})


def version(key: str, at: float, size: int | None = 10, vid: str = "", latest: bool = False) -> ObjectVersion:
    return ObjectVersion(key, vid or f"v{at:g}-{key[-6:]}", at, size, latest)


# -- the acquisition manifest (untrusted) ------------------------------------------------------------
def test_a_manifest_of_the_uploader_is_read() -> None:
    files = parse_manifest(manifest([{"path": "frames/0001.bin", "size": 70000, "sha256": SHA}]), "ECHO-01", "acq-1")
    assert [(f.path, f.size, f.sha256) for f in files] == [("frames/0001.bin", 70000, SHA)]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("not json", "not valid JSON"),
        ("[]", "not a JSON object"),
        (json.dumps({"format": 2}), "format is 2"),
        (manifest([{"path": "a", "size": 1, "sha256": SHA}], instrument="OTHER"), "another instrument"),
        (manifest([]), "lists no files"),
        (manifest([{"path": "../ECHO-02/x", "size": 1, "sha256": SHA}]), "'..' component"),
        (manifest([{"path": "/etc/passwd", "size": 1, "sha256": SHA}]), "not relative"),
        (manifest([{"path": "a//b", "size": 1, "sha256": SHA}]), "empty"),
        (manifest([{"path": "a\\b", "size": 1, "sha256": SHA}]), "does not allow"),
        (manifest([{"path": "_acquisition-manifest.json", "size": 1, "sha256": SHA}]), "manifest's own name"),
        (manifest([{"path": "a", "size": -1, "sha256": SHA}]), "non-negative integer"),
        (manifest([{"path": "a", "size": True, "sha256": SHA}]), "non-negative integer"),
        (manifest([{"path": "a", "size": 1, "sha256": SHA.upper()}]), "64 lower-case"),
        (manifest([{"path": "A", "size": 1, "sha256": SHA}, {"path": "a", "size": 1, "sha256": SHA}]), "twice"),
        (manifest([{"path": "x" * 1100, "size": 1, "sha256": SHA}]), "longer than S3 allows"),
    ],
)
def test_a_manifest_that_is_not_the_uploader_s_is_refused(document: str, expected: str) -> None:
    with pytest.raises(ManifestError, match=re.escape(expected)):
        parse_manifest(document, "ECHO-01", "acq-1")


# -- completeness ----------------------------------------------------------------------------------
def _acquisition(entries: list[ObjectVersion], listed: list[dict]) -> object:
    (found,) = find_acquisitions(entries, ["ECHO-01"])
    check_complete(found, parse_manifest(manifest(listed), "ECHO-01", "acq-1"), versions_by_key(entries))
    return found


LISTED = [{"path": "a.bin", "size": 10, "sha256": SHA}, {"path": "sub/b.bin", "size": 20, "sha256": SHA}]


def test_an_acquisition_is_complete_when_every_listed_file_is_there_with_its_size() -> None:
    entries = [
        version("incoming/ECHO-01/acq-1/a.bin", 1, 10),
        version("incoming/ECHO-01/acq-1/sub/b.bin", 2, 20),
        version(MANIFEST, 3, 500),
    ]
    found = _acquisition(entries, LISTED)
    assert found.status == "complete"
    assert found.file_count == 2 and found.total_bytes == 30
    assert [key for key, version in found.files] == [
        "incoming/ECHO-01/acq-1/a.bin",
        "incoming/ECHO-01/acq-1/sub/b.bin",
        MANIFEST,
    ]


def test_a_missing_or_short_file_leaves_the_acquisition_incomplete() -> None:
    entries = [version("incoming/ECHO-01/acq-1/a.bin", 1, 9), version(MANIFEST, 3, 500)]
    found = _acquisition(entries, LISTED)
    assert found.status == "incomplete"
    assert found.files == []
    assert "1 of 2 files missing (first: sub/b.bin)" in found.reason
    assert "1 with another size than listed (first: a.bin)" in found.reason


def test_an_acquisition_without_its_manifest_is_not_an_acquisition_yet() -> None:
    entries = [version("incoming/ECHO-01/acq-1/a.bin", 1, 10), version("incoming/ECHO-01/acq-1/sub/b.bin", 2, 20)]
    assert find_acquisitions(entries, ["ECHO-01"]) == []


def test_a_deleted_manifest_and_unknown_instruments_are_ignored() -> None:
    entries = [
        version(MANIFEST, 3, 500),
        version(MANIFEST, 4, None, latest=True),
        version("incoming/STRANGER/acq/_acquisition-manifest.json", 3, 5),
    ]
    assert find_acquisitions(entries, ["ECHO-01"]) == []


def test_files_are_taken_as_they_were_when_the_manifest_was_written() -> None:
    # --force re-sends a.bin (new version at t=10) while the old manifest (t=3) is still current.
    entries = [
        version("incoming/ECHO-01/acq-1/a.bin", 1, 10, vid="old-a"),
        version("incoming/ECHO-01/acq-1/a.bin", 10, 11, vid="new-a", latest=True),
        version("incoming/ECHO-01/acq-1/sub/b.bin", 2, 20, vid="b"),
        version(MANIFEST, 3, 500, vid="m"),
    ]
    found = _acquisition(entries, LISTED)
    assert found.status == "complete"
    assert {key: v.version_id for key, v in found.files}["incoming/ECHO-01/acq-1/a.bin"] == "old-a"


def test_a_file_deleted_before_the_manifest_is_missing() -> None:
    entries = [
        version("incoming/ECHO-01/acq-1/a.bin", 1, 10),
        version("incoming/ECHO-01/acq-1/a.bin", 2, None),
        version("incoming/ECHO-01/acq-1/sub/b.bin", 2, 20),
        version(MANIFEST, 3, 500),
    ]
    assert _acquisition(entries, LISTED).status == "incomplete"


def test_the_datasync_manifest_pins_each_version_relative_to_incoming() -> None:
    entries = [
        version("incoming/ECHO-01/acq-1/a.bin", 1, 10, vid="va"),
        version("incoming/ECHO-01/acq-1/sub/b.bin", 2, 20, vid="vb"),
        version(MANIFEST, 3, 500, vid="vm"),
    ]
    text = datasync_manifest([_acquisition(entries, LISTED)])
    assert text == "ECHO-01/acq-1/a.bin,va\nECHO-01/acq-1/sub/b.bin,vb\nECHO-01/acq-1/_acquisition-manifest.json,vm\n"
    assert read_datasync_manifest(text)[0] == ("incoming/ECHO-01/acq-1/a.bin", "va")


def test_a_comma_in_a_path_is_quoted_in_the_datasync_manifest() -> None:
    entries = [version("incoming/ECHO-01/acq-1/a,b.bin", 1, 10, vid="v1"), version(MANIFEST, 3, 5, vid="vm")]
    found = _acquisition(entries, [{"path": "a,b.bin", "size": 10, "sha256": SHA}])
    text = datasync_manifest([found])
    assert text.splitlines()[0] == '"ECHO-01/acq-1/a,b.bin",v1'
    assert read_datasync_manifest(text)[0] == ("incoming/ECHO-01/acq-1/a,b.bin", "v1")


def test_manifest_keys_are_recognised_only_at_their_place() -> None:
    assert split_manifest_key(MANIFEST) == ("ECHO-01", "acq-1")
    assert split_manifest_key("incoming/ECHO-01/acq-1/sub/_acquisition-manifest.json") is None
    assert split_manifest_key("_toolkit/ECHO-01/acq-1/_acquisition-manifest.json") is None


# -- keys ------------------------------------------------------------------------------------------
A = AccessKey("AKIAOLD", "Active", 1)
B = AccessKey("AKIANEW", "Active", 2)


def test_a_valid_stored_key_is_left_alone_with_its_predecessor() -> None:
    assert not plan_keys([A, B], "AKIANEW", "converge").changed


def test_the_first_converge_creates_a_key() -> None:
    plan = plan_keys([], None, "converge")
    assert plan.create and plan.retire == []


def test_rotation_keeps_the_current_key_active_and_retires_the_previous_one() -> None:
    plan = plan_keys([A, B], "AKIANEW", "rotate")
    assert plan.create and plan.retire == ["AKIAOLD"]
    first = plan_keys([B], "AKIANEW", "rotate")
    assert first.create and first.retire == []


def test_retire_ends_the_grace_period_without_creating() -> None:
    plan = plan_keys([A, B], "AKIANEW", "retire")
    assert plan.retire == ["AKIAOLD"] and not plan.create


def test_retire_touches_nothing_when_the_stored_key_is_not_valid() -> None:
    assert not plan_keys([A, B], None, "retire").changed


def test_a_lost_secret_gets_a_new_key_making_room_with_the_oldest_unstored_one() -> None:
    plan = plan_keys([A, B], None, "converge")
    assert plan.create and plan.retire == ["AKIAOLD"]
    inactive = AccessKey("AKIAOFF", "Inactive", 5)
    assert plan_keys([A, inactive], None, "converge").retire == ["AKIAOFF"]


def test_a_stored_key_someone_deactivated_is_replaced() -> None:
    plan = plan_keys([AccessKey("AKIANEW", "Inactive", 2)], "AKIANEW", "converge")
    assert plan.create and plan.retire == ["AKIANEW"]


# -- schedule --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("schedule", "last", "now", "due"),
    [
        ("hourly", None, 0, True),
        ("hourly", 0, 50 * 60, True),  # the scheduler's drift is tolerated
        ("hourly", 0, 30 * 60, False),
        ("daily", 0, 23.5 * 3600, True),
        ("daily", 0, 12 * 3600, False),
        ("manual", None, 0, False),
    ],
)
def test_a_scheduled_run_transfers_only_when_due(schedule: str, last: float | None, now: float, due: bool) -> None:
    assert is_due(schedule, last, now)[0] is due


# -- names and policies ----------------------------------------------------------------------------
def test_names_stay_within_aws_limits() -> None:
    assert len(bucket_name("t" * 24, "123456789012", "ap-southeast-2")) <= 63
    assert len(instrument_user_name("t" * 24, "I" * 32)) == 64


def test_the_bucket_refuses_every_request_without_tls() -> None:
    (statement,) = bucket_policy("landing")["Statement"]
    assert statement["Effect"] == "Deny" and statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == ["arn:aws:s3:::landing", "arn:aws:s3:::landing/*"]


def test_only_transferred_data_expires_and_abandoned_uploads_are_aborted_after_a_week_at_least() -> None:
    transferred, housekeeping = lifecycle_rules(14, 7)
    assert transferred["Filter"] == {"Tag": {"Key": "ingest-state", "Value": "transferred"}}
    assert transferred["Expiration"] == {"Days": 14}
    assert "Expiration" not in housekeeping or "Days" not in housekeeping["Expiration"]
    assert housekeeping["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}


def test_datasync_may_only_read_the_acquisitions_and_its_manifests() -> None:
    actions = {
        action for statement in datasync_bucket_access_policy("landing")["Statement"] for action in statement["Action"]
    }
    assert not any(action.startswith(("s3:Put", "s3:Delete", "s3:Abort")) for action in actions)


@pytest.mark.parametrize(
    "key",
    [
        "incoming/ECHO-01/../_acquisition-manifest.json",
        "incoming/ECHO-01/./_acquisition-manifest.json",
        "incoming/../ECHO-01/_acquisition-manifest.json",
        "incoming/ECHO-01/acq\\..\\x/_acquisition-manifest.json",
        "incoming/ECHO-01/CON/_acquisition-manifest.json",
        "incoming/ECHO-01/acq-1./_acquisition-manifest.json",
        "incoming/ECHO-01/.hidden/_acquisition-manifest.json",
        "incoming/ECHO-01//_acquisition-manifest.json",
    ],
)
def test_a_manifest_key_whose_names_the_uploader_would_not_write_is_no_acquisition(key: str) -> None:
    assert split_manifest_key(key) is None


def test_an_acquisition_named_dot_dot_cannot_point_datasync_at_another_instrument() -> None:
    entries = [
        version("incoming/ECHO-01/../_acquisition-manifest.json", 100.0, latest=True),
        version("incoming/ECHO-01/../ECHO-02/acq-1/data.bin", 90.0, latest=True),
    ]
    assert find_acquisitions(entries, ["ECHO-01"]) == []


@pytest.mark.parametrize("path", ["data.bin ", "data.", "raw/CON", "raw/nul.txt", "LPT1.bin"])
def test_a_manifest_path_windows_would_alter_is_refused(path: str) -> None:
    with pytest.raises(ManifestError, match="files\\[0\\]"):
        parse_manifest(manifest([{"path": path, "size": 1, "sha256": SHA}]), "ECHO-01", "acq-1")
