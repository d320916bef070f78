"""Shared fixtures: a sandbox endpoint started once per test session."""

from __future__ import annotations

import os
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


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxClient]:
    """The shared sandbox (Samba off, see tests/sandboxes.py); SANDBOX_PORT reuses one started by hand.

    The admin token of a sandbox started by hand is read from its state directory: SANDBOX_STATE_DIR
    (else the project's `.sandbox/`), or given as SANDBOX_TOKEN (sandbox/client.py)."""
    from tests.sandboxes import bootstrap_state_store, running_sandbox

    if os.environ.get("SANDBOX_PORT"):
        client = SandboxClient(port=int(os.environ["SANDBOX_PORT"]))
        assert client.healthy(), f"no sandbox answers on {client.endpoint}"
        bootstrap_state_store(client)
        yield client
        return
    with running_sandbox(tmp_path_factory.mktemp("sandbox"), TEST_TIME_SCALE) as client:
        yield client


@pytest.fixture
def time_scale(sandbox: SandboxClient) -> Iterator[callable]:
    """Change the sandbox's time scale for one test and restore it afterwards."""
    before = sandbox.health()["time_scale"]
    yield sandbox.set_time_scale
    sandbox.set_time_scale(before)
