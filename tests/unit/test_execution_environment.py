"""The AWX / Automation Platform execution environment: ansible-builder turns
execution-environment.yml into a build context with the project's pins, collections and
system packages (no container engine needed for `ansible-builder create`), and the collection
iconeus.tenant_toolkit as the artifact `ansible-galaxy collection build` makes, installed by the
image's galaxy stage (no copy of the working tree's files)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

import pytest
import yaml
from bindep.depends import Depends

ROOT = Path(__file__).resolve().parents[2]
# The collections bundled in the pinned `ansible` package (site-packages), not the project's own.
BUNDLED = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections"
ANSIBLE_BUILDER = Path(sys.executable).parent / "ansible-builder"
ANSIBLE_GALAXY = Path(sys.executable).parent / "ansible-galaxy"
# Where the galaxy stage finds the build context and installs collections (ansible-builder 3).
IMAGE_BUILD_DIR = "/build/"
IMAGE_COLLECTIONS = "/usr/share/ansible/collections"


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


def galaxy_identity() -> tuple[str, str, str]:
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
    return galaxy["namespace"], galaxy["name"], str(galaxy["version"])


def artifact_name() -> str:
    """The file name `ansible-galaxy collection build` gives the collection."""
    namespace, name, version = galaxy_identity()
    return f"{namespace}-{name}-{version}.tar.gz"


def ee_inputs(spec: dict) -> list[str]:
    """The files execution-environment.yml names, relative to it, less the collection artifact."""
    dependencies = spec["dependencies"]
    files = [dependencies[key] for key in ("python", "galaxy", "system")]
    files += [entry["src"] for entry in spec["additional_build_files"] if not entry["src"].startswith("dist/")]
    return files


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The EE definition with its inputs, and dist/ as `ansible-galaxy collection build --output-path dist/`
    leaves it (a copy, so the test leaves the working tree alone)."""
    checkout = tmp_path_factory.mktemp("ee-checkout")
    spec = yaml.safe_load((ROOT / "execution-environment.yml").read_text(encoding="utf-8"))
    for relative in ["execution-environment.yml", *ee_inputs(spec)]:
        (checkout / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relative, checkout / relative)
    built = subprocess.run(
        [str(ANSIBLE_GALAXY), "collection", "build", str(ROOT), "--output-path", str(checkout / "dist")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert (checkout / "dist" / artifact_name()).is_file(), list((checkout / "dist").iterdir())
    return checkout


@pytest.fixture(scope="module")
def context(checkout: Path) -> Path:
    context = checkout.parent / "context"
    result = subprocess.run(
        [
            str(ANSIBLE_BUILDER),
            "create",
            "--file",
            str(checkout / "execution-environment.yml"),
            "--context",
            str(context),
            "--output-filename",
            "Containerfile",
        ],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # A missing artifact is only a warning of ansible-builder: the image build would fail much later.
    assert "No matches for" not in result.stdout + result.stderr, result.stdout + result.stderr
    return context


def stage(containerfile: str, name: str) -> str:
    """The instructions of one build stage (`FROM ... AS <name>` up to the next FROM)."""
    return containerfile.split(f" AS {name}\n", 1)[1].split("\nFROM ", 1)[0]


def test_the_build_context_has_a_containerfile_from_the_declared_base_image(context: Path) -> None:
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    # Pinned by digest: a rebuild takes exactly this image, whatever the `stream9` tag points to now.
    assert re.search(r'ARG EE_BASE_IMAGE="quay\.io/centos/centos:stream9@sha256:[0-9a-f]{64}"', containerfile)
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


def test_the_ee_runner_pin_matches_the_projects() -> None:
    spec = yaml.safe_load((ROOT / "execution-environment.yml").read_text(encoding="utf-8"))
    runner = spec["dependencies"]["ansible_runner"]["package_pip"]
    assert runner == f"ansible-runner=={requirement_pins(ROOT / 'requirements.txt')['ansible-runner']}"
    assert requirement_pins(ROOT / "constraints.txt")["ansible-runner"] == runner.split("==")[1]


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


# -- the collection iconeus.tenant_toolkit in the image -------------------------------------------------
def test_the_ee_names_the_artifact_galaxy_yml_builds() -> None:
    spec = yaml.safe_load((ROOT / "execution-environment.yml").read_text(encoding="utf-8"))
    sources = [entry["src"] for entry in spec["additional_build_files"]]
    assert f"dist/{artifact_name()}" in sources
    steps = " ".join(spec["additional_build_steps"]["append_galaxy"])
    assert f"{IMAGE_BUILD_DIR}collections/{artifact_name()}" in steps


def test_the_build_context_carries_the_built_collection(checkout: Path, context: Path) -> None:
    artifact = context / "_build" / "collections" / artifact_name()
    assert artifact.read_bytes() == (checkout / "dist" / artifact_name()).read_bytes()
    with tarfile.open(artifact) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
        names = tar.getnames()
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == galaxy_identity()
    assert "plugins/modules/appstream_fleet.py" in names and "roles/appstream_fleet/tasks/main.yml" in names


def test_the_galaxy_stage_installs_the_artifact_after_the_pinned_collections(context: Path) -> None:
    galaxy = stage((context / "Containerfile").read_text(encoding="utf-8"), "galaxy")
    runs = [line for line in galaxy.splitlines() if line.startswith("RUN ")]
    pinned = next(i for i, line in enumerate(runs) if "collection install" in line and "-r requirements.yml" in line)
    [ours] = [i for i, line in enumerate(runs) if artifact_name() in line]
    assert ours > pinned, runs
    assert "--offline" in runs[ours] and f"--collections-path {IMAGE_COLLECTIONS}" in runs[ours]
    final = stage((context / "Containerfile").read_text(encoding="utf-8"), "final")
    assert "COPY --from=galaxy /usr/share/ansible /usr/share/ansible" in final


def test_no_file_of_the_working_tree_is_copied_into_the_image(context: Path) -> None:
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    copies = [line for line in containerfile.splitlines() if line.startswith(("COPY ", "ADD "))]
    assert all("plugins" not in line and "roles" not in line and "playbooks" not in line for line in copies), copies
    shipped = {path.relative_to(context / "_build").as_posix() for path in (context / "_build").rglob("*")}
    assert not {path for path in shipped if path.split("/")[0] in ("plugins", "roles", "playbooks", "module_utils")}
    assert not [path for path in shipped if path.endswith(".py") and not path.startswith("scripts/")], shipped


def test_the_galaxy_stage_install_command_installs_the_collection(context: Path, tmp_path: Path) -> None:
    """The stage's own command, run here with the image's paths mapped into a temporary tree."""
    galaxy = stage((context / "Containerfile").read_text(encoding="utf-8"), "galaxy")
    [command] = [line.removeprefix("RUN ") for line in galaxy.splitlines() if artifact_name() in line]
    collections = tmp_path / "collections"
    local = command.replace(IMAGE_BUILD_DIR, f"{context / '_build'}/").replace(IMAGE_COLLECTIONS, str(collections))
    argv = shlex.split(local)
    assert argv[0] == "ansible-galaxy"
    # As in the image: the collections path holds no iconeus.tenant_toolkit yet (a copy installed on this
    # machine would make the install a no-op); the pinned dependencies are the ones of the `ansible` bundle.
    environment = {key: value for key, value in os.environ.items() if key != "ANSIBLE_CONFIG"}
    environment["ANSIBLE_COLLECTIONS_PATH"] = str(collections)
    result = subprocess.run(
        [str(ANSIBLE_GALAXY), *argv[1:]],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    namespace, name, version = galaxy_identity()
    installed = collections / "ansible_collections" / namespace / name
    manifest = json.loads((installed / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["collection_info"]["version"] == version
    assert (installed / "plugins" / "modules" / "appstream_fleet.py").is_file()
    assert not (installed / "site.yml").exists() and not (installed / "inventories").exists()
