"""The Python pins: requirements.txt (direct), constraints.txt (the full lock) and requirements.lock (the
same versions with their hashes, installed with --require-hashes by `make setup`) agree."""

from __future__ import annotations

import re

from tests.helpers import ROOT

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        match = PIN.match(line.strip())
        if match:
            found[canonical(match.group(1))] = match.group(2)
    return found


def locked() -> dict[str, list[str]]:
    """requirements.lock's entries: name==version -> its hashes."""
    entries: dict[str, list[str]] = {}
    current = None
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = f"{canonical(match.group(1))}=={match.group(2)}"
            entries[current] = []
        elif current and line.strip().startswith("--hash="):
            entries[current].append(line.strip().removeprefix("--hash=").rstrip(" \\"))
        elif not line.startswith(" "):
            current = None
    return entries


# pip freeze leaves out the packaging tools; pip-compile --allow-unsafe locks those that a package needs.
PACKAGING_TOOLS = {"setuptools", "pip", "wheel"}


def test_the_hashed_lock_holds_exactly_the_versions_of_constraints_txt():
    lock = {entry.split("==")[0]: entry.split("==")[1] for entry in locked()}
    constraints = pins((ROOT / "constraints.txt").read_text())
    assert {name: version for name, version in lock.items() if name not in PACKAGING_TOOLS} == constraints


def test_every_locked_version_carries_sha256_hashes():
    for entry, hashes in locked().items():
        assert hashes, f"{entry} has no hash"
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", value) for value in hashes), entry


def test_every_direct_requirement_is_locked_at_its_pin():
    constraints = pins((ROOT / "constraints.txt").read_text())
    for name, version in pins((ROOT / "requirements.txt").read_text()).items():
        assert constraints.get(name) == version, f"{name}=={version} differs in the lock"


def test_setup_installs_the_lock_with_require_hashes():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r requirements.lock" in makefile
    assert "-r requirements.txt -c constraints.txt" not in makefile
