"""Progress on the terminal (tqdm: bytes, rate, time left) or, with --quiet, log lines only."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

from tqdm import tqdm

LOGGER = "ingest_uploader"


class Progress:
    def __init__(self, quiet: bool, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.bar: Any = None

    def begin(self, name: str, total: int, done: int) -> None:
        if self.quiet:
            logging.getLogger(LOGGER).info(
                "sending %s: %s of %s already sent", name, human_bytes(done), human_bytes(total)
            )
            return
        self.bar = tqdm(
            total=total,
            initial=done,
            desc=name,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            file=self.stream,
            dynamic_ncols=True,
            smoothing=0.1,
        )

    def advance(self, count: int) -> None:
        if self.bar is not None and count:
            self.bar.update(count)

    def end(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class _TqdmHandler(logging.Handler):
    """Log lines printed above the progress bar instead of through it."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # noqa: BLE001 - logging must never break the upload (logging.Handler's own rule)
            self.handleError(record)


def configure_logging(quiet: bool, verbose: bool) -> None:
    logger = logging.getLogger(LOGGER)
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    if quiet:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    else:
        handler = _TqdmHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)


def human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(count) < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} B"
