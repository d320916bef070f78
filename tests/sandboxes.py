"""The one way tests start a sandbox of their own: `running_sandbox`.

The shared session sandbox (tests/conftest.py `sandbox`) is one of them, with Samba off: it
creates many directories at AWS-like timings, and a real Samba AD DC costs 10-40 s and ~400 MB.
Tests that need Samba-backed directories, IAM enforcement, injected faults or a request log of
their own start their own with the options they need.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sandbox.client import SandboxClient

ROOT = Path(__file__).resolve().parent.parent

# Ports for the suite's own sandboxes, apart from the ephemeral range other tests draw from.
SANDBOX_PORTS = range(45000, 50000)


def free_port() -> int:
    """A port of SANDBOX_PORTS that nothing listens on (a random start, so parallel sessions rarely collide)."""
    start = random.randrange(len(SANDBOX_PORTS))
    for offset in range(len(SANDBOX_PORTS)):
        port = SANDBOX_PORTS[(start + offset) % len(SANDBOX_PORTS)]
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {SANDBOX_PORTS}")


def sandbox_environment(*, samba: bool, enforce_iam: bool) -> dict[str, str]:
    """The environment `python -m sandbox start` gets: Samba as asked; IAM enforcement only when asked."""
    environment = {**os.environ, "SANDBOX_SAMBA": "1" if samba else "0"}
    if enforce_iam:
        environment.pop("SANDBOX_ENFORCE_IAM", None)  # --enforce-iam decides
    return environment


@contextmanager
def running_sandbox(
    state_dir: Path,
    time_scale: float,
    *,
    samba: bool = False,
    enforce_iam: bool = False,
    region: str | None = None,
) -> Iterator[SandboxClient]:
    """A sandbox started (and stopped, Samba DCs included) through the CLI, as operators do.

    `client.state_dir` is its state directory (request log file, server log, Samba DCs, and the
    admin token the client sends: sandbox/admin_access.py).
    """
    command = [sys.executable, "-m", "sandbox"]
    common = ["--port", str(free_port()), "--state-dir", str(state_dir)]
    options = ["--time-scale", str(time_scale), *(["--enforce-iam"] if enforce_iam else [])]
    subprocess.run(
        [*command, "start", *common, *options],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env=sandbox_environment(samba=samba, enforce_iam=enforce_iam),
    )
    client = SandboxClient(port=int(common[1]), state_dir=state_dir, **({"region": region} if region else {}))
    try:
        yield client
    finally:
        subprocess.run([*command, "stop", *common], cwd=ROOT, check=False, capture_output=True)
