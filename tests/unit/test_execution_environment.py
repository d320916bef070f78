"""The AWX / Automation Platform execution environment: ansible-builder turns
execution-environment.yml into a build context with the project's pins, collections and
system packages (no container engine needed for `ansible-builder create`)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml
from bindep.depends import Depends

ROOT = Path(__file__).resolve().parents[2]
# The collections bundled in the pinned `ansible` package (site-packages), not the project's own.
BUNDLED = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections"
ANSIBLE_BUILDER = Path(sys.executable).parent / "ansible-builder"


def requirement_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


def listed_collections() -> dict[str, str]:
    data = yaml.safe_load((ROOT / "collections" / "requirements.yml").read_text(encoding="utf-8"))
    return {entry["name"]: str(entry["version"]) for entry in data["collections"]}


def bundled_version(name: str) -> str:
    namespace, collection = name.split(".")
    manifest = json.loads((BUNDLED / namespace / collection / "MANIFEST.json").read_text(encoding="utf-8"))
    return manifest["collection_info"]["version"]


def collections_used_by_the_project() -> set[str]:
    """Collections named in tasks (module keys), filters/lookups/tests and ansible.cfg."""
    texts = [
        path.read_text(encoding="utf-8")
        for pattern in ("roles/**/*.yml", "playbooks/**/*.yml")
        for path in ROOT.glob(pattern)
    ]
    texts += [(ROOT / "site.yml").read_text(encoding="utf-8"), (ROOT / "ansible.cfg").read_text(encoding="utf-8")]
    texts += [path.read_text(encoding="utf-8") for path in ROOT.glob("roles/**/templates/*.j2")]
    found = set()
    for text in texts:
        for namespace, collection in re.findall(r"\b([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)\.[a-z][a-z0-9_]*\b", text):
            if namespace != "ansible" or collection != "builtin":
                found.add(f"{namespace}.{collection}")
    # Keep the names that are collections (the regex also sees `result.fleet.state`).
    return {name for name in found if (BUNDLED / name.replace(".", "/") / "MANIFEST.json").is_file()}


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    context = tmp_path_factory.mktemp("ee") / "context"
    result = subprocess.run(
        [
            str(ANSIBLE_BUILDER),
            "create",
            "--file",
            str(ROOT / "execution-environment.yml"),
            "--context",
            str(context),
            "--output-filename",
            "Containerfile",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return context


def test_the_build_context_has_a_containerfile_from_the_declared_base_image(context: Path) -> None:
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile
    assert "ansible-core==2.19.14" in containerfile
    assert "ansible-runner==" in containerfile


def test_the_python_requirements_are_the_projects_pins(context: Path) -> None:
    assert (context / "_build" / "requirements.txt").read_text() == (ROOT / "requirements.txt").read_text()


def test_every_pip_call_of_the_build_honours_the_lock(context: Path) -> None:
    assert (context / "_build" / "configs" / "constraints.txt").read_text() == (ROOT / "constraints.txt").read_text()
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    base_stage = containerfile.split("FROM $EE_BASE_IMAGE AS base", 1)[1].split("\nFROM ", 1)[0]
    assert "ENV PIP_CONSTRAINT=" in base_stage, "the constraint must be set in the stage every other stage builds on"


def test_the_collections_and_system_packages_land_in_the_context(context: Path) -> None:
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text(encoding="utf-8"))
    assert {entry["name"] for entry in galaxy["collections"]} == set(listed_collections())
    assert (context / "_build" / "bindep.txt").read_text() == (ROOT / "bindep.txt").read_text()


def test_the_ee_core_pin_matches_the_projects() -> None:
    spec = yaml.safe_load((ROOT / "execution-environment.yml").read_text(encoding="utf-8"))
    core = spec["dependencies"]["ansible_core"]["package_pip"]
    assert core == f"ansible-core=={requirement_pins(ROOT / 'requirements.txt')['ansible-core']}"


@pytest.mark.parametrize("name", sorted(listed_collections()))
def test_listed_collections_are_the_versions_bundled_in_the_pinned_ansible(name: str) -> None:
    assert listed_collections()[name] == bundled_version(name)


def test_every_collection_the_project_uses_is_listed() -> None:
    used = collections_used_by_the_project()
    assert {"amazon.aws", "ansible.windows"} <= used, used
    assert used <= set(listed_collections()), (
        f"missing from collections/requirements.yml: {used - set(listed_collections())}"
    )


def test_bindep_file_parses_and_names_smb_and_kerberos_tools_for_both_families() -> None:
    depends = Depends((ROOT / "bindep.txt").read_text(encoding="utf-8"))
    rpm = {rule[0] for rule in depends.active_rules(["platform:rpm", "platform:centos"])}
    deb = {rule[0] for rule in depends.active_rules(["platform:dpkg", "platform:debian"])}
    assert {"samba-client", "krb5-workstation"} <= rpm
    assert {"smbclient", "krb5-user"} <= deb


def test_ansible_builder_is_pinned_with_the_project() -> None:
    assert "ansible-builder" in requirement_pins(ROOT / "requirements.txt")
    assert "ansible-builder" in requirement_pins(ROOT / "constraints.txt")
