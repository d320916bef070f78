"""A whole-tenant converge under heavy throttling and a few server errors ends where a clean one does.

The sandbox answers 30% of all requests, of every service, with the service's own throttling error and
2% with a 5xx (shaped per protocol, so botocore and the modules' retry decorators see what AWS sends).
The converge must still succeed, and the tenant's resources must equal those of the clean reference
run: same kinds, same counts (no duplicate from a retried creation), same names, states and tags.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.client import SandboxClient
from tests.helpers import run_playbook
from tests.reliability import footprint
from tests.reliability.conftest import Converged
from tests.reliability.tenants import REGION, assert_converged, demo_tenant, netbios_of, write_demo_inventory

pytestmark = pytest.mark.slow

THROTTLE_RATE = 0.3
ERROR_RATE = 0.02


def test_a_throttled_converge_reaches_the_clean_end_state_without_duplicates(
    reliability_sandbox: SandboxClient, reference: Converged, tmp_path: Path
) -> None:
    name = "rel-throttled"
    inventory = write_demo_inventory(tmp_path, demo_tenant(name), reliability_sandbox)
    before = {(r.kind, r.id) for r in footprint.collect(reliability_sandbox, REGION)}

    reliability_sandbox.add_fault(service="*", throttle_rate=THROTTLE_RATE, error_rate=ERROR_RATE, seed=20240716)
    try:
        run = run_playbook("site.yml", inventory, reliability_sandbox)
    finally:
        reliability_sandbox.clear_faults()

    assert_converged(run, name)
    stats = run.stats()
    # The faults really reached the run: about a third of its requests were refused.
    assert stats["injected"] >= 0.2 * stats["total"], stats
    resources = footprint.collect(reliability_sandbox, REGION)
    actual = footprint.normalised(resources, name, netbios_of(name))
    assert footprint.difference(actual, reference.normalised) == {}, json.dumps(
        footprint.difference(actual, reference.normalised), indent=1
    )
    assert footprint.counts(resources, name) == footprint.counts(reference.resources, reference.name)
    assert footprint.unattributed(resources, before) == []
