"""ingest-upload: send instrument acquisitions to the tenant's S3 landing bucket.

  ingest-upload upload PATH     send one acquisition (a folder, or a single file), resuming if interrupted
  ingest-upload watch DIR       send each sub-folder of DIR once it has settled, once
  ingest-upload status          what is pending or resumable (from the local journal, no AWS call)

Credentials come from boto3's default chain only: --profile NAME (set up once with `aws configure --profile
NAME`) or the AWS_* environment variables. Exit codes: see README.md (0 ok, 2 usage, 3 local data, 4
credentials, 5 access, 6 network, 7 S3, 8 busy, 130 interrupted).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from ingest_uploader import __version__, commands
from ingest_uploader.errors import INTERNAL, INTERRUPTED, RESUME_HINT, UploaderError, UsageError
from ingest_uploader.journal import default_state_dir
from ingest_uploader.progress import configure_logging
from ingest_uploader.settings import load_config, parse_size, resolve

PROG = "ingest-upload"


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")

    common = argparse.ArgumentParser(add_help=False)
    where = common.add_argument_group("where to send (command line over config file)")
    where.add_argument(
        "--config", type=Path, help="JSON file with bucket, instrument, region, profile, endpoint_url, state_dir"
    )
    where.add_argument("--bucket", help="the tenant's landing bucket")
    where.add_argument("--instrument", help="this instrument's name: keys start with incoming/<instrument>/")
    where.add_argument("--region", help="the bucket's AWS region (else the profile's or AWS_REGION)")
    where.add_argument("--profile", help="AWS profile holding this instrument's credentials")
    where.add_argument("--endpoint-url", help="another S3 endpoint (a local test sandbox); also AWS_ENDPOINT_URL")
    where.add_argument("--state-dir", type=Path, help=f"where the journal lives (default: {default_state_dir()})")
    how = common.add_argument_group("how")
    how.add_argument(
        "--part-size", type=_size, default="64MiB", help="multipart part size (default 64MiB; grows past 10,000 parts)"
    )
    how.add_argument(
        "--multipart-threshold", type=_size, default="64MiB", help="files above this are sent in parts (default 64MiB)"
    )
    how.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
    how.add_argument("--max-attempts", type=int, default=10, help="attempts per request before giving up (default 10)")
    how.add_argument("--quiet", action="store_true", help="no progress bar: timestamped log lines (for log files)")
    how.add_argument("--verbose", action="store_true", help="also log each part")

    commands_ = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    upload = commands_.add_parser("upload", parents=[common], help="send one acquisition folder (or one file)")
    upload.add_argument("path", type=Path, metavar="PATH")
    upload.add_argument("--acquisition", help="the acquisition's name in S3 (default: the folder's or file's name)")
    upload.add_argument("--force", action="store_true", help="send again an acquisition already sent")

    watch = commands_.add_parser("watch", parents=[common], help="send each settled sub-folder of DIR, once")
    watch.add_argument("root", type=Path, metavar="DIR")
    watch.add_argument(
        "--settle-seconds", type=float, default=120.0, help="unchanged for this long = complete (default 120)"
    )
    watch.add_argument("--interval", type=float, default=30.0, help="seconds between two looks at DIR (default 30)")
    watch.add_argument("--once", action="store_true", help="look once, send what has settled, and exit")

    status = commands_.add_parser("status", help="what is pending or resumable (no AWS call)")
    status.add_argument("--config", type=Path, help="config file (for its state_dir)")
    status.add_argument("--state-dir", type=Path, help=f"where the journal lives (default: {default_state_dir()})")
    status.add_argument("--all", action="store_true", help="also list acquisitions already sent")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def run(options: argparse.Namespace) -> int:
    if options.command == "status":
        config, _ = load_config(options.config)
        state_dir = options.state_dir or (Path(config["state_dir"]) if config.get("state_dir") else default_state_dir())
        return commands.status(state_dir, options.all, options.json)
    configure_logging(options.quiet, options.verbose)
    settings = resolve(options)
    if options.command == "upload":
        return commands.upload(settings, options.path, options.acquisition, options.force)
    if options.settle_seconds < 0 or options.interval <= 0:
        raise UsageError("--settle-seconds must be 0 or more and --interval more than 0")
    return commands.watch(settings, options.root, options.settle_seconds, options.interval, options.once)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    options = parser.parse_args(argv)
    try:
        return run(options)
    except UploaderError as error:
        print(f"{PROG}: error: {error.message}", file=sys.stderr)
        if error.hint:
            print(f"{PROG}: what to do: {error.hint}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted. {RESUME_HINT}", file=sys.stderr)
        return INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the last resort: a clear exit code and no traceback full of paths
        if getattr(options, "verbose", False):
            traceback.print_exc()
        print(f"{PROG}: unexpected error ({type(error).__name__}): {error}", file=sys.stderr)
        print(f"{PROG}: what to do: please report this with the log; {RESUME_HINT}", file=sys.stderr)
        return INTERNAL
