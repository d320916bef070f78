"""Fixtures of the reliability suite: a sandbox of its own and one clean converge to compare against.

The slow cases inject faults into every request, watch the request log file to interrupt runs and
compare whole-region inventories before and after a run, so they get a sandbox nobody else uses (the
shared `sandbox` fixture is left to the other tests). Its directory quota is raised: the suite creates
more than AWS's default of 20 Managed AD directories per region.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.client import SandboxClient
from tests.conftest import TEST_TIME_SCALE
from tests.helpers import PlaybookRun, run_playbook
from tests.reliability import footprint
from tests.reliability.tenants import (
    REGION,
    assert_converged,
    demo_tenant,
    netbios_of,
    write_demo_inventory,
)
from tests.sandboxes import running_sandbox


@dataclass
class Converged:
    """A tenant converged by site.yml: its inventory, the run, and its footprint right after."""

    name: str
    inventory: Path
    run: PlaybookRun
    resources: list[footprint.Resource]

    @property
    def netbios(self) -> str:
        return netbios_of(self.name)

    @property
    def normalised(self) -> dict[str, list[str]]:
        return footprint.normalised(self.resources, self.name, self.netbios)


@pytest.fixture(scope="session")
def reliability_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxClient]:
    with running_sandbox(tmp_path_factory.mktemp("reliability-sandbox"), TEST_TIME_SCALE) as client:
        client.hook("ds", "set-limits", region=REGION, directories=200)
        yield client


@pytest.fixture(scope="session")
def reference(reliability_sandbox: SandboxClient, tmp_path_factory: pytest.TempPathFactory) -> Converged:
    """The demo tenant converged once, cleanly, under the name `rel-reference`: the expected end state."""
    name = "rel-reference"
    inventory = write_demo_inventory(tmp_path_factory.mktemp("reference"), demo_tenant(name), reliability_sandbox)
    run = run_playbook("site.yml", inventory, reliability_sandbox)
    assert_converged(run, name)
    return Converged(name, inventory, run, footprint.collect(reliability_sandbox, REGION))
