"""The one way tests start a sandbox of their own: `running_sandbox`.

Every test sandbox starts with the toolkit state store that playbooks/bootstrap.yml makes once per
account and region on AWS (tenant locks, change history), in the regions the suite's tenants use:
site.yml and every playbook that changes a tenant lock it there first. The bootstrap itself is tested
on a sandbox started with `state_store=False` (tests/integration/test_state.py).

The shared session sandbox (tests/conftest.py `sandbox`) is one of them, with Samba off: it
creates many directories at AWS-like timings, and a real Samba AD DC costs 10-40 s and ~400 MB.
Tests that need Samba-backed directories, IAM enforcement, injected faults or a request log of
their own start their own with the options they need.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state import store

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


# The regions the suite's tenant definitions use.
STATE_STORE_REGIONS = ("eu-west-3", "us-east-1", "eu-west-1", "eu-central-1")


def bootstrap_state_store(client: SandboxClient, regions: tuple[str, ...] = STATE_STORE_REGIONS) -> None:
    """The state store's table and bucket in each region, as playbooks/bootstrap.yml creates them."""
    for region in regions:
        account = client.boto3("sts", region).get_caller_identity()["Account"]
        dynamodb, s3 = client.boto3("dynamodb", region), client.boto3("s3", region)
        with contextlib.suppress(dynamodb.exceptions.ResourceInUseException):
            dynamodb.create_table(**store.table_definition())
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=store.bucket_name(account, region), **store.bucket_settings(region)["create"])


@contextmanager
def running_sandbox(
    state_dir: Path,
    time_scale: float,
    *,
    samba: bool = False,
    enforce_iam: bool = False,
    region: str | None = None,
    state_store: bool = True,
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
        if state_store:
            bootstrap_state_store(client)
        yield client
    finally:
        subprocess.run([*command, "stop", *common], cwd=ROOT, check=False, capture_output=True)
