"""The uploader's pure parts: names, part sizes, checksums, the manifest, settings and error classification."""

from __future__ import annotations

import base64
import hashlib
import json
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, ReadTimeoutError
from ingest_testkit import UPLOADER
from ingest_uploader import cli, errors, naming, settings
from ingest_uploader.transfer import (
    MAX_PARTS,
    MiB,
    build_manifest,
    composite_sha256,
    manifest_body,
    part_count,
    part_length,
    part_size_for,
)


@pytest.mark.parametrize("name", ["ECHO-01", "acq_2026-12-01.0930", "a", "x" * 128])
def test_valid_names(name: str) -> None:
    assert naming.name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "1 to 128 characters"),
        ("x" * 129, "1 to 128 characters"),
        ("Scan 1", "letters, digits"),
        ("a/b", "letters, digits"),
        ("..", "must not start with '.'"),
        (".hidden", "must not start with '.'"),
        ("acq.", "must not end with '.'"),
        ("NUL", "reserved device name"),
        ("com1.data", "reserved device name"),
        ("café", "letters, digits"),
    ],
)
def test_invalid_names_say_why(name: str, problem: str) -> None:
    assert problem in (naming.name_problem(name) or "")


@pytest.mark.parametrize(
    ("component", "problem"),
    [
        ("ok name (1) [x] {y} #z.bin", None),  # legal on Windows and in S3
        ("é-ü-中.dat", None),
        ("a*b", "contains '*'"),
        ('quote"d', "contains '\"'"),
        ("tab\there", "contains '\\t'"),
        ("del\x7f", "contains '\\x7f'"),
        ("trailing ", "ends with a space"),
        ("LPT9.txt", "reserved device name"),
        ("aux", "reserved device name"),
        ("x" * 256, "longer than 255"),
        ("bad\udcff", "not valid Unicode"),
    ],
)
def test_component_names(component: str, problem: str | None) -> None:
    found = naming.component_problem(component)
    assert (found is None) if problem is None else (problem in (found or "")), found


def test_keys_follow_the_contract_and_stay_within_1024_bytes() -> None:
    assert naming.object_key("ECHO-01", "acq-1", "frames/0001.bin") == "incoming/ECHO-01/acq-1/frames/0001.bin"
    assert naming.manifest_key("ECHO-01", "acq-1") == "incoming/ECHO-01/acq-1/_acquisition-manifest.json"
    long_path = "/".join(["d" * 200] * 5)
    assert "1024" in (naming.key_problem("ECHO-01", "acq-1", long_path) or "")
    assert naming.key_problem("ECHO-01", "acq-1", "frames/_acquisition-manifest.json") is None  # only at the top


def test_the_part_size_grows_only_past_10000_parts() -> None:
    assert part_size_for(10 * 1024 * MiB, 64 * MiB) == 64 * MiB
    huge = 1024 * 1024 * MiB  # 1 TiB at 64 MiB parts would be 16,384 parts
    size = part_size_for(huge, 64 * MiB)
    assert size % MiB == 0 and part_count(huge, size) <= MAX_PARTS and size < 128 * MiB
    assert part_count(0, 5 * MiB) == 1
    assert [part_length(12 * MiB, 5 * MiB, n) for n in (1, 2, 3)] == [5 * MiB, 5 * MiB, 2 * MiB]


def test_s3_s_multipart_checksum_is_the_checksum_of_the_parts_checksums() -> None:
    parts = [b"a" * 10, b"b" * 3]
    digests = [hashlib.sha256(p).digest() for p in parts]
    assert composite_sha256(digests) == base64.b64encode(hashlib.sha256(b"".join(digests)).digest()).decode()
    assert composite_sha256(digests) != base64.b64encode(hashlib.sha256(b"".join(parts)).digest()).decode()


def test_the_manifest_has_exactly_the_contract_s_fields() -> None:
    files = [
        {"path": "a.bin", "size": 3, "sha256": "00" * 32, "etag": "x"},
        {"path": "b/c", "size": 4, "sha256": "11" * 32},
    ]
    manifest = build_manifest("ECHO-01", "acq-1", files, "2026-12-06T10:00:00Z")
    assert manifest == {
        "format": 1,
        "instrument": "ECHO-01",
        "acquisition": "acq-1",
        "completed_at": "2026-12-06T10:00:00Z",
        "uploader_version": "0.1.0",
        "files": [{"path": "a.bin", "size": 3, "sha256": "00" * 32}, {"path": "b/c", "size": 4, "sha256": "11" * 32}],
        "total_bytes": 7,
    }
    assert json.loads(manifest_body(manifest)) == manifest


@pytest.mark.parametrize(
    ("text", "size"), [("64MiB", 64 * MiB), ("5 MiB", 5 * MiB), ("1GiB", 1024 * MiB), ("100", 100)]
)
def test_sizes(text: str, size: int) -> None:
    assert settings.parse_size(text) == size


def aws_error(code: str, status: int = 400, message: str = "m") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutObject"
    )


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (NoCredentialsError(), errors.CredentialsError),
        (aws_error("ExpiredToken"), errors.CredentialsError),
        (aws_error("InvalidAccessKeyId", 403), errors.CredentialsError),
        (aws_error("SignatureDoesNotMatch", 403), errors.CredentialsError),
        (aws_error("RequestTimeTooSkewed", 403), errors.CredentialsError),
        (aws_error("AccessDenied", 403), errors.AccessError),
        (aws_error("NoSuchBucket", 404), errors.AccessError),
        (aws_error("PermanentRedirect", 301), errors.UsageError),
        (aws_error("InternalError", 500), errors.ServerError),
        (aws_error("SlowDown", 503), errors.ServerError),
        (aws_error("BadDigest"), errors.ServerError),
        (EndpointConnectionError(endpoint_url="https://s3"), errors.NetworkError),
        (ReadTimeoutError(endpoint_url="https://s3"), errors.NetworkError),
    ],
)
def test_aws_errors_are_classified_with_their_exit_code(error: Exception, kind: type) -> None:
    classified = errors.from_aws(error, bucket="b", prefix="incoming/I/a/", profile="p", attempts=3)
    assert type(classified) is kind
    assert classified.hint


def test_credential_errors_never_repeat_aws_s_message() -> None:
    classified = errors.from_aws(
        aws_error("SignatureDoesNotMatch", 403, "StringToSign AKIAEXAMPLE"),
        bucket="b",
        prefix="p/",
        profile=None,
        attempts=1,
    )
    assert "AKIAEXAMPLE" not in classified.message + (classified.hint or "")


def test_the_exit_codes_are_the_documented_ones() -> None:
    readme = (UPLOADER / "README.md").read_text()
    for kind in (
        errors.UsageError,
        errors.LocalDataError,
        errors.CredentialsError,
        errors.AccessError,
        errors.NetworkError,
        errors.ServerError,
        errors.BusyError,
    ):
        assert f"| {kind.exit_code} |" in readme, kind.__name__
    assert errors.INTERRUPTED == 130 and "| 130 |" in readme


def test_no_option_takes_credentials() -> None:
    parser = cli.build_parser()
    texts = " ".join(
        option
        for action in parser._subparsers._group_actions[0].choices["upload"]._actions
        for option in action.option_strings
    )
    for word in ("key", "secret", "token", "password"):
        assert word not in texts.lower()


def test_the_console_script_is_ingest_upload() -> None:
    project = tomllib.loads((UPLOADER / "pyproject.toml").read_text())["project"]
    assert project["scripts"] == {"ingest-upload": "ingest_uploader.cli:main"}
    assert project["name"] == "tenant-ingest-uploader"
    assert callable(cli.main)


def test_the_dependencies_are_the_project_s_exact_pins() -> None:
    project = tomllib.loads((UPLOADER / "pyproject.toml").read_text())["project"]
    pins = dict(
        line.split("==") for line in (UPLOADER.parent / "constraints.txt").read_text().splitlines() if "==" in line
    )
    for requirement in project["dependencies"]:
        name, version = requirement.split("==")
        assert pins.get(name) == version, requirement


def test_a_journal_damaged_outside_the_uploader_is_a_clear_error(tmp_path: Path) -> None:
    from ingest_uploader.journal import read_json

    damaged = tmp_path / "j.json"
    damaged.write_text("{not json")
    with pytest.raises(errors.UsageError, match="not valid JSON"):
        read_json(damaged)


def test_settings_refuse_an_unknown_config_key(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"bukket": "x"}))
    with pytest.raises(errors.UsageError, match="unknown setting 'bukket'"):
        settings.load_config(config)


def test_settings_take_the_command_line_over_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"bucket": "from-config", "instrument": "ECHO-01", "region": "eu-west-1"}))
    options = SimpleNamespace(
        config=config,
        bucket="from-cli",
        instrument=None,
        region=None,
        profile=None,
        endpoint_url=None,
        state_dir=tmp_path,
        part_size=5 * MiB,
        multipart_threshold=5 * MiB,
        concurrency=2,
        max_attempts=3,
        quiet=True,
    )
    resolved = settings.resolve(options)
    assert (resolved.bucket, resolved.instrument, resolved.region) == ("from-cli", "ECHO-01", "eu-west-1")
