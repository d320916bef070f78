"""The `default` molecule scenario: the whole flow on a sandbox of its own.

create (sandbox + demo inventory) -> prepare (decoy VPCs) -> converge (site.yml) -> idempotence (site.yml
again, changed=0) -> verify (every stage's resources, read calls only in the second run) -> side_effect
(playbooks/teardown.yml) -> verify verify_teardown.yml (nothing owned left, decoys intact) -> destroy.
About 4 minutes on an idle 2-core machine.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.helpers import BIN, ROOT

STEPS = ("create", "prepare", "converge", "idempotence", "verify", "side_effect", "destroy")


@pytest.mark.slow
def test_default_scenario_converges_idempotently_verifies_and_tears_down():
    environment = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PY_COLORS": "0",
        "NO_COLOR": "1",
    }
    environment.pop("ANSIBLE_CONFIG", None)  # molecule writes its own; site.yml's run names the project's
    done = subprocess.run(
        [str(BIN / "molecule"), "test", "-s", "default"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-4000:]
    for step in STEPS:
        assert re.search(rf"^default > {step}: Executed: Successful", output, re.MULTILINE), f"{step} did not succeed"
    # Both verify playbooks ran: the converged tenant's, then the teardown's.
    assert len(re.findall(r"^default > verify: Executed: Successful", output, re.MULTILINE)) == 2
    recap = r"default\s+: actions=\d+\s+successful=\d+\s+disabled=0\s+skipped=0\s+missing=0\s+failed=0"
    assert re.search(recap, output)
