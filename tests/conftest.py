"""Shared fixtures: a sandbox endpoint started once per test session."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ansible.plugins.loader import init_plugin_loader  # noqa: E402

from sandbox.client import SandboxClient  # noqa: E402

# The repository is the collection iconeus.tenant_toolkit (collections/ansible_collections/iconeus/
# tenant_toolkit links to the root): tests import its plugins by their FQCN, through Ansible's own
# plugin and collection loader, set up as ansible-playbook sets it up. The bundled collections
# (amazon.aws, ...) are found on sys.path.
init_plugin_loader([str(ROOT / "collections")])

# Fast enough that a 30-minute modelled creation takes under 2 s, slow enough that
# transitional states (PENDING, STARTING) are still observable right after a call.
TEST_TIME_SCALE = 0.001


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxClient]:
    """A running sandbox; SANDBOX_PORT reuses one already started by hand."""
    if os.environ.get("SANDBOX_PORT"):
        client = SandboxClient(port=int(os.environ["SANDBOX_PORT"]))
        assert client.healthy(), f"no sandbox answers on {client.endpoint}"
        yield client
        return
    port = _free_port()
    state_dir = tmp_path_factory.mktemp("sandbox")
    command = [sys.executable, "-m", "sandbox"]
    common = ["--port", str(port), "--state-dir", str(state_dir)]
    # The shared sandbox creates many directories at AWS-like timings; real Samba DCs (10-40 s each)
    # are for the tests that ask for them (tests/integration/test_directory_content.py).
    env = {**os.environ, "SANDBOX_SAMBA": "0"}
    subprocess.run(
        [*command, "start", *common, "--time-scale", str(TEST_TIME_SCALE)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env=env,
    )
    client = SandboxClient(port=port)
    client.state_dir = state_dir  # type: ignore[attr-defined]
    try:
        yield client
    finally:
        subprocess.run([*command, "stop", *common], cwd=ROOT, check=False, capture_output=True)


@pytest.fixture
def time_scale(sandbox: SandboxClient) -> Iterator[callable]:
    """Change the sandbox's time scale for one test and restore it afterwards."""
    before = sandbox.health()["time_scale"]
    yield sandbox.set_time_scale
    sandbox.set_time_scale(before)
