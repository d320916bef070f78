"""Each failure ends with a clear message, what to do, a documented exit code, no secret, and a resumable journal."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from botocore.stub import Stubber
from ingest_testkit import SECRET, SMALL, MiB, Uploader, calls_on, free_port, key_of, keys_in, object_bytes, write_files
from ingest_uploader import cli, commands

# The codes README.md documents.
USAGE, LOCAL_DATA, CREDENTIALS, ACCESS, NETWORK, SERVER = 2, 3, 4, 5, 6, 7


def with_secret(uploader: Uploader) -> dict[str, str]:
    return {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE01", "AWS_SECRET_ACCESS_KEY": SECRET}


# --- local data -------------------------------------------------------------------------------------------------
def test_a_missing_path_is_exit_3_and_touches_nothing(uploader: Uploader, tmp_path: Path) -> None:
    run = uploader.upload(tmp_path / "no-such-acquisition", env=with_secret(uploader))
    assert run.rc == LOCAL_DATA, run.output
    assert f"error: {tmp_path / 'no-such-acquisition'} does not exist" in run.stderr
    assert "what to do: Check the path" in run.stderr
    assert run.calls == [] and SECRET not in run.output


def test_hostile_file_names_are_refused_each_named_before_anything_is_sent(uploader: Uploader, tmp_path: Path) -> None:
    source = write_files(
        tmp_path / "acq-hostile",
        {
            "fine.bin": b"ok",
            "a:b.bin": b"1",
            "CON.txt": b"2",
            "ends-with-dot.": b"3",
            "new\nline.bin": b"4",
            "sub|dir/x.bin": b"5",
            "Same.bin": b"6",
            "same.bin": b"7",
        },
    )
    (source / os.fsdecode(b"bad-\xff-bytes.bin")).write_bytes(b"8")

    run = uploader.upload(source, env=with_secret(uploader))

    assert run.rc == LOCAL_DATA, run.output
    assert "7 problem(s) in" in run.stderr and "nothing was sent" in run.stderr
    expected = [
        "a:b.bin: its name contains ':', which Windows does not allow in a file name",
        "CON.txt: its name 'CON' is a reserved device name on Windows",
        "ends-with-dot.: its name ends with a space or a period, which Windows drops",
        "new\\nline.bin: its name contains '\\n', which Windows does not allow in a file name",
        "sub|dir/x.bin: the folder 'sub|dir' contains '|', which Windows does not allow in a file name",
        "same.bin: differs from Same.bin only by case (one name on Windows)",
        "bad-\\udcff-bytes.bin: its name is not valid Unicode (S3 keys are UTF-8)",
    ]
    for line in expected:
        assert line in run.stderr, line
    assert "new\nline" not in run.stderr  # control characters are shown escaped, never raw
    assert run.calls == [] and SECRET not in run.output


def test_an_invalid_acquisition_folder_name_suggests_acquisition(uploader: Uploader, tmp_path: Path) -> None:
    run = uploader.upload(write_files(tmp_path / "Scan 1", {"a": b"a"}))
    assert run.rc == LOCAL_DATA, run.output
    assert "the acquisition name 'Scan 1'" in run.stderr and "--acquisition NAME" in run.stderr


def test_a_file_named_like_the_manifest_is_refused(uploader: Uploader, tmp_path: Path) -> None:
    run = uploader.upload(write_files(tmp_path / "acq", {"_acquisition-manifest.json": b"{}"}))
    assert run.rc == LOCAL_DATA and "has the manifest's name" in run.stderr, run.output


# --- credentials -------------------------------------------------------------------------------------------------
def test_no_credentials_at_all_is_exit_4_with_how_to_set_them_up(uploader: Uploader, tmp_path: Path) -> None:
    uploader.credentials = {}
    run = uploader.upload(write_files(tmp_path / "acq", {"a.bin": b"a"}))
    assert run.rc == CREDENTIALS, run.output
    assert "error: no AWS credentials found" in run.stderr
    assert "aws configure --profile NAME" in run.stderr
    assert [c for c in run.calls if c["service"] == "s3"] == []


def test_an_unknown_profile_is_exit_4_naming_it(uploader: Uploader, tmp_path: Path) -> None:
    uploader.credentials = {}
    run = uploader.upload(write_files(tmp_path / "acq", {"a.bin": b"a"}), "--profile", "instrument-echo")
    assert run.rc == CREDENTIALS, run.output
    assert (
        "the AWS profile 'instrument-echo' does not exist" in run.stderr
        and "aws configure --profile instrument-echo" in run.stderr
    )


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ExpiredToken", 400, "S3 refused the credentials (ExpiredToken)"),
        ("InvalidAccessKeyId", 403, "S3 refused the credentials (InvalidAccessKeyId)"),
        ("SignatureDoesNotMatch", 403, "S3 refused the credentials (SignatureDoesNotMatch)"),
        ("RequestTimeTooSkewed", 403, "the PC's clock is wrong"),
    ],
)
def test_refused_credentials_are_exit_4_and_never_echo_aws_s_message(
    uploader: Uploader,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    code: str,
    status: int,
    expected: str,
) -> None:
    """The sandbox accepts any key, so S3's answer to bad credentials is stubbed (botocore's Stubber) in-process."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in uploader.environment().items():
        if name.startswith("AWS_") and name not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            monkeypatch.setenv(name, value)
    # The instrument's profile, as `aws configure --profile echo-01` writes it.
    (uploader.home / "aws-credentials").write_text(
        f"[echo-01]\naws_access_key_id = AKIAEXAMPLEEXAMPLE01\naws_secret_access_key = {SECRET}\n"
    )
    real = commands.s3_client

    def stubbed(settings: object) -> object:
        client = real(settings)  # type: ignore[arg-type]
        stubber = Stubber(client)
        # AWS's message may carry the key id or the string to sign; here it carries the secret, to prove it is dropped.
        stubber.add_client_error("put_object", code, f"rejected: {SECRET}", http_status_code=status)
        stubber.activate()
        return client

    monkeypatch.setattr(commands, "s3_client", stubbed)
    source = write_files(tmp_path / "acq", {"a.bin": b"a"})

    rc = cli.main(["upload", str(source), *uploader.target(), "--quiet", "--profile", "echo-01"])

    output = capsys.readouterr()
    assert rc == CREDENTIALS
    assert expected in output.err
    assert SECRET not in output.out + output.err and "AKIAEXAMPLE" not in output.out + output.err
    assert uploader.journals()[0]["state"] == "sending"  # kept for the next run


# --- network and server -----------------------------------------------------------------------------------------
def test_losing_the_network_is_exit_6_and_the_next_run_resumes(uploader: Uploader, tmp_path: Path) -> None:
    content = os.urandom(3 * 5 * MiB + 10)
    source = write_files(tmp_path / "acq-net", {"scan.source": content})
    key = key_of("ECHO-01", "acq-net", "scan.source")
    assert (
        uploader.upload(source, "--concurrency", "1", env={"INGEST_UPLOAD_TEST_KILL_AFTER_PARTS": "2"}).rc
        == -signal.SIGKILL
    )
    journal_before = uploader.journals()
    unreachable = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    lost = uploader.upload(source, "--endpoint-url", unreachable, env=with_secret(uploader))

    assert lost.rc == NETWORK, lost.output
    assert "S3 could not be reached after 2 attempts (EndpointConnectionError)" in lost.stderr
    assert "Re-run the same command to resume" in lost.stderr
    assert SECRET not in lost.output
    assert uploader.journals() == journal_before
    resumed = uploader.upload(source)
    assert resumed.rc == 0, resumed.output
    assert len(calls_on(resumed.calls, "PUT", uploader.bucket, key)) == 2  # parts 3 and 4
    assert object_bytes(uploader.sandbox, uploader.bucket, key) == content


def test_s3_failing_is_exit_7_after_retries_and_the_next_run_resumes(uploader: Uploader, tmp_path: Path) -> None:
    content = os.urandom(2 * 5 * MiB + 10)
    source = write_files(tmp_path / "acq-5xx", {"scan.source": content, "a-small.txt": b"s"})
    key = key_of("ECHO-01", "acq-5xx", "scan.source")
    uploader.sandbox.add_fault(service="s3", operation=f"PUT /{uploader.bucket}/{key}", error_rate=1.0)
    try:
        failed = uploader.upload(source)
    finally:
        uploader.sandbox.clear_faults()

    assert failed.rc == SERVER, failed.output
    assert "S3 reported a problem after 2 attempts" in failed.stderr and "Re-run the same command" in failed.stderr
    assert len(calls_on(failed.calls, "PUT", uploader.bucket, key)) >= 2  # botocore retried
    (journal,) = uploader.journals()
    assert journal["files"]["a-small.txt"]["state"] == "sent" and journal["files"]["scan.source"]["upload"]
    assert "_acquisition-manifest.json" not in json.dumps([c["operation"] for c in failed.calls])

    resumed = uploader.upload(source)

    assert resumed.rc == 0, resumed.output
    assert calls_on(resumed.calls, "PUT", uploader.bucket, key_of("ECHO-01", "acq-5xx", "a-small.txt")) == []
    assert object_bytes(uploader.sandbox, uploader.bucket, key) == content


# --- usage -------------------------------------------------------------------------------------------------------
def test_a_config_file_holding_credentials_is_refused_without_echoing_them(uploader: Uploader, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"bucket": uploader.bucket, "aws_secret_access_key": SECRET}))
    run = uploader.run("upload", str(write_files(tmp_path / "acq", {"a": b"a"})), "--config", str(config), *SMALL)
    assert run.rc == USAGE, run.output
    assert "holds 'aws_secret_access_key': credentials are never read from it" in run.stderr
    assert SECRET not in run.output


def test_the_config_file_gives_bucket_instrument_and_endpoint(uploader: Uploader, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    settings = {
        "bucket": uploader.bucket,
        "instrument": "ECHO-01",
        "endpoint_url": uploader.sandbox.endpoint,
        "region": "eu-west-3",
        "state_dir": str(uploader.state_dir),
    }
    config.write_text(json.dumps(settings))
    run = uploader.run(
        "upload", str(write_files(tmp_path / "acq-cfg", {"a": b"a"})), "--config", str(config), "--quiet"
    )
    assert run.rc == 0, run.output
    assert object_bytes(uploader.sandbox, uploader.bucket, key_of("ECHO-01", "acq-cfg", "a")) == b"a"


def test_a_missing_bucket_or_a_bad_instrument_is_exit_2(uploader: Uploader, tmp_path: Path) -> None:
    source = str(write_files(tmp_path / "acq", {"a": b"a"}))
    no_bucket = uploader.run("upload", source, "--instrument", "ECHO-01")
    assert no_bucket.rc == USAGE and "no bucket given" in no_bucket.stderr, no_bucket.output
    bad = uploader.run("upload", source, "--bucket", uploader.bucket, "--instrument", "../other")
    assert bad.rc == USAGE and "instrument: '../other' must be" in bad.stderr, bad.output
    too_small = uploader.run("upload", source, *uploader.target(), "--part-size", "1MiB")
    assert too_small.rc == USAGE and "--part-size must be between 5MiB and 5GiB" in too_small.stderr


# --- the acquisition is still being written -----------------------------------------------------------------------
@pytest.fixture
def in_process(uploader: Uploader, monkeypatch: pytest.MonkeyPatch) -> Uploader:
    """The sandbox's credentials and isolated AWS files in this process's environment, for cli.main()."""
    for name in [n for n in os.environ if n.startswith(("AWS_", "INGEST_UPLOAD_"))]:
        monkeypatch.delenv(name)
    for name, value in uploader.environment().items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    return uploader


def test_a_file_that_grows_while_it_is_sent_is_busy_and_sent_whole_next_time(
    in_process: Uploader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ingest_uploader.transfer import Sender

    source = write_files(tmp_path / "acq-growing", {"scan.source": os.urandom(2 * 5 * MiB + 1)})
    growing = source / "scan.source"
    real_upload_part = Sender._upload_part

    def instrument_still_writing(self: Sender, *args: object) -> object:
        result = real_upload_part(self, *args)
        with growing.open("ab") as stream:
            stream.write(b"more frames")
        return result

    monkeypatch.setattr(Sender, "_upload_part", instrument_still_writing)
    args = ["upload", str(source), *in_process.target(), *SMALL, "--quiet", "--concurrency", "1"]
    busy = cli.main(args)
    err = capsys.readouterr().err
    monkeypatch.setattr(Sender, "_upload_part", real_upload_part)
    key = key_of("ECHO-01", "acq-growing", "scan.source")

    assert busy == 8, err
    assert "scan.source changed while it was being sent" in err and "re-run" in err
    assert key_of("ECHO-01", "acq-growing", "_acquisition-manifest.json") not in keys_in(
        in_process.sandbox, in_process.bucket
    )
    assert cli.main(args) == 0
    assert object_bytes(in_process.sandbox, in_process.bucket, key) == growing.read_bytes()


def test_a_file_the_instrument_holds_open_is_busy(
    in_process: Uploader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_files(tmp_path / "acq-locked", {"a.bin": b"a", "locked.bin": b"b"})
    real_read_bytes = Path.read_bytes

    def sharing_violation(path: Path) -> bytes:  # what Windows answers for a file opened without read sharing
        if path.name == "locked.bin":
            raise PermissionError(13, "Permission denied", str(path))
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", sharing_violation)

    rc = cli.main(["upload", str(source), *in_process.target(), "--quiet"])

    err = capsys.readouterr().err
    assert rc == 8, err
    assert "locked.bin cannot be read (Permission denied); it may still be in use" in err
    (journal,) = in_process.journals()
    assert journal["state"] == "sending" and journal["files"]["a.bin"]["state"] == "sent"


def test_a_second_uploader_on_the_same_acquisition_is_busy(uploader: Uploader, tmp_path: Path) -> None:
    from ingest_uploader.journal import Journal, journal_lock

    source = write_files(tmp_path / "acq-twice", {"a.bin": b"a"})
    path = Journal.path_for(uploader.state_dir, uploader.bucket, "ECHO-01", "acq-twice")
    with journal_lock(path, "acq-twice"):  # as a `watch` sending it right now would hold it
        run = uploader.upload(source)
    assert run.rc == 8, run.output
    assert "another ingest-upload is sending acq-twice" in run.stderr
    assert mutating_s3_calls(run.calls) == []
    assert uploader.upload(source).rc == 0


def mutating_s3_calls(calls: list[dict]) -> list[dict]:
    return [c for c in calls if c["service"] == "s3" and c["mutating"]]
