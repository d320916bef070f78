"""The `default` molecule scenario: the whole flow on a sandbox of its own.

create (sandbox + demo inventory) -> prepare (decoys) -> converge (site.yml) -> idempotence (site.yml
again, changed=0) -> verify (every stage's resources, read calls only in the second run, decoys intact)
-> side_effect (playbooks/teardown.yml, twice) -> verify verify_teardown.yml (nothing owned left, the
second teardown read-only, decoys intact) -> destroy (sandbox stopped).
About 2.5 minutes on an idle 2-core machine. The scenario's ephemeral directory is a temporary one, so
the run clashes neither with another run of this test nor with a `molecule test` from a shell.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
from pathlib import Path

import pytest

from tests.helpers import BIN, ROOT

# scenario.test_sequence of molecule/default/molecule.yml, in order.
SEQUENCE = [
    "destroy",
    "syntax",
    "create",
    "prepare",
    "converge",
    "idempotence",
    "verify",
    "side_effect",
    "verify",
    "destroy",
]
# The checks of verify.yml, verify_teardown.yml and tasks/decoys_intact.yml: each must have run and passed.
CHECKS = {
    "Check that the first site.yml run built the tenant and the last one made read calls only": 1,
    "Check the network": 1,
    "Check the directory, the file system and the directory config": 1,
    "Check the image, the builder, the fleet, the stack and the budget": 1,
    "Check the SAML provider and the federated role that may stream from the tenant stack only": 1,
    "Check that the teardown deleted and that running it again changed nothing and made read calls only": 1,
    "Check that the teardown reported the decoys under its prefix and Name as kept, not deleted": 1,
    "Check that nothing owned by the tenant is left": 1,
    "Check the decoys were neither adopted nor changed nor deleted": 2,  # after the converge, after the teardown
}


def _changed_counts(output: str, task: str) -> list[int]:
    """The tenant's `changed=` counts of the PLAY RECAP lines a scenario task shows, in run order."""
    counts = []
    for block in re.findall(rf"TASK \[{re.escape(task)}\].*?\n(?:\n|$)", output, re.DOTALL):
        counts += [int(n) for n in re.findall(r"'demo\s+:\s+ok=\d+\s+changed=(\d+)", block)]
    return counts


@pytest.mark.slow
def test_default_scenario_converges_idempotently_verifies_and_tears_down(tmp_path: Path) -> None:
    ephemeral = tmp_path / "molecule-default"
    environment = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        "MOLECULE_EPHEMERAL_DIRECTORY": str(ephemeral),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PY_COLORS": "0",
        "NO_COLOR": "1",
        "COLUMNS": "240",  # no wrapped task names or recap lines
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

    # Every step of the sequence ran, in order, and succeeded (molecule's closing DETAILS list).
    steps = re.findall(r"^default > (\w+): Executed: (.+)$", output, re.MULTILINE)
    assert steps == [(step, "Successful") for step in SEQUENCE], steps
    assert re.search(r"default\s+: actions=10\s+successful=10\s+disabled=0\s+skipped=0\s+missing=0\s+failed=0", output)

    # The first site.yml run changed the tenant, the idempotence run changed nothing; the teardown deleted,
    # and deleted nothing when run again.
    site = _changed_counts(output, "Show site.yml's play recap")
    assert len(site) == 2 and site[0] > 0 and site[1] == 0, site
    teardown = _changed_counts(output, "Show the teardown's play recap")
    assert len(teardown) == 2 and teardown[0] > 0 and teardown[1] == 0, teardown

    for task, times in CHECKS.items():
        passed = re.findall(rf"^TASK \[{re.escape(task)}\] \**\nok: \[localhost\]", output, re.MULTILINE)
        assert len(passed) == times, f"{task!r} passed {len(passed)} times, expected {times}"

    # destroy stopped the scenario's sandbox and removed what create and prepare wrote.
    port = int(re.search(r"sandbox endpoint: http://127\.0\.0\.1:(\d+)", output).group(1))
    with socket.socket() as probe:
        probe.settimeout(2)
        assert probe.connect_ex(("127.0.0.1", port)) != 0, f"the scenario's sandbox still answers on port {port}"
    assert not (ephemeral / "work").exists(), sorted(str(path) for path in (ephemeral / "work").rglob("*"))
