"""Settings: command-line options over the optional config file; credentials only from boto3's own chain.

The config file (JSON) may hold bucket, instrument, region, profile, endpoint_url and state_dir. It never
holds credentials: a profile name is not a secret, keys are (they live in the AWS profile, set up once with
`aws configure --profile NAME`, or in AWS_* environment variables).
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest_uploader import naming
from ingest_uploader.errors import UsageError
from ingest_uploader.journal import APP_DIR, default_state_dir
from ingest_uploader.transfer import MAX_PART_SIZE, MAX_SINGLE_PUT, MIN_PART_SIZE, Tuning

CONFIG_KEYS = ("bucket", "instrument", "region", "profile", "endpoint_url", "state_dir")
_SECRET_WORDS = ("secret", "access_key", "accesskey", "token", "password", "session")
# General purpose bucket names (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+)+-\d+")
_SIZE = re.compile(r"(\d+)\s*(B|KiB|MiB|GiB)?", re.IGNORECASE)
_UNITS = {"b": 1, "kib": 1024, "mib": 1024**2, "gib": 1024**3}


@dataclass(frozen=True)
class Settings:
    bucket: str
    instrument: str
    region: str | None
    profile: str | None
    endpoint_url: str | None
    state_dir: Path
    tuning: Tuning
    max_attempts: int
    quiet: bool


def default_config_path() -> Path:
    """%APPDATA%\\tenant-ingest-uploader\\config.json on Windows, else under $XDG_CONFIG_HOME (~/.config)."""
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / APP_DIR / "config.json"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / APP_DIR / "config.json"


def parse_size(text: str) -> int:
    """'64MiB', '5 MiB', '1GiB' or a number of bytes."""
    match = _SIZE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a size (for example 64MiB, 1GiB or a number of bytes)")
    return int(match.group(1)) * _UNITS[(match.group(2) or "B").lower()]


def load_config(path: Path | None) -> tuple[dict[str, Any], Path | None]:
    """The config file's settings: the one named by --config (which must exist), else the default one if present."""
    chosen = path if path is not None else default_config_path()
    if not chosen.exists():
        if path is not None:
            raise UsageError(f"the config file {path} does not exist", "Check --config.")
        return {}, None
    try:
        document = json.loads(chosen.read_text(encoding="utf-8-sig"))  # Notepad may write a BOM
    except (OSError, ValueError) as error:
        raise UsageError(f"the config file {chosen} cannot be read as JSON: {error}") from None
    if not isinstance(document, dict):
        raise UsageError(f"the config file {chosen} must hold a JSON object")
    for key in document:
        if any(word in str(key).lower() for word in _SECRET_WORDS):
            raise UsageError(
                f"the config file {chosen} holds '{key}': credentials are never read from it",
                "Remove it; put the credentials in an AWS profile (`aws configure --profile NAME`) and set "
                '"profile": "NAME" instead.',
            )
        if key not in CONFIG_KEYS:
            raise UsageError(
                f"the config file {chosen} holds an unknown setting '{key}'", f"Known: {', '.join(CONFIG_KEYS)}."
            )
        if not isinstance(document[key], str):
            raise UsageError(f"the config file {chosen}: '{key}' must be a string")
    return document, chosen


def resolve(options: Any) -> Settings:
    """Settings from parsed options (argparse namespace) and the config file, validated."""
    config, config_path = load_config(options.config)
    where = f' or set "{{}}" in {config_path}' if config_path else ' or set "{}" in a config file (--config)'

    def pick(name: str) -> str | None:
        value = getattr(options, name, None)
        return value if value is not None else config.get(name)

    bucket, instrument = pick("bucket"), pick("instrument")
    if not bucket:
        raise UsageError("no bucket given", "Pass --bucket NAME" + where.format("bucket") + ".")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise UsageError(f"bucket: '{bucket}' is not a valid S3 bucket name")
    if not instrument:
        raise UsageError("no instrument given", "Pass --instrument NAME" + where.format("instrument") + ".")
    problem = naming.name_problem(instrument)
    if problem is not None:
        raise UsageError(f"instrument: '{instrument}' {problem}")
    region = pick("region")
    if region is not None and not _REGION.fullmatch(region):
        raise UsageError(f"region: '{region}' is not an AWS region name (for example eu-west-3)")
    endpoint_url = pick("endpoint_url")
    if endpoint_url is not None and not endpoint_url.startswith(("https://", "http://")):
        raise UsageError(
            f"endpoint_url: '{endpoint_url}' must start with https:// (or http:// for a local test endpoint)"
        )
    state_dir = pick("state_dir")
    return Settings(
        bucket=bucket,
        instrument=instrument,
        region=region,
        profile=pick("profile"),
        endpoint_url=endpoint_url,
        state_dir=Path(state_dir) if state_dir else default_state_dir(),
        tuning=_tuning(options),
        max_attempts=options.max_attempts,
        quiet=options.quiet,
    )


def _tuning(options: Any) -> Tuning:
    part_size, threshold = options.part_size, options.multipart_threshold
    if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
        raise UsageError("--part-size must be between 5MiB and 5GiB (S3's limits on a part)")
    if not 1 <= threshold <= MAX_SINGLE_PUT:
        raise UsageError("--multipart-threshold must be between 1 byte and 5GiB (S3's limit on one PutObject)")
    if not 1 <= options.concurrency <= 32:
        raise UsageError("--concurrency must be between 1 and 32")
    if options.max_attempts < 1:
        raise UsageError("--max-attempts must be at least 1")
    return Tuning(part_size=part_size, multipart_threshold=threshold, concurrency=options.concurrency)
