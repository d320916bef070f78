"""The collection as users get it: built with ansible-galaxy, installed into a clean directory, and
used by FQCN from a playbook outside the repository, against the sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

from sandbox.client import SandboxClient
from tests.helpers import BIN, ROOT

REGION = "eu-west-3"
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
FQCN = f"{GALAXY['namespace']}.{GALAXY['name']}"


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The collection built from the working tree and installed outside it; nothing points back at it."""
    work = tmp_path_factory.mktemp("artifact")
    # No ANSIBLE_CONFIG: the project's ansible.cfg (whose collections_path is the working tree) stays out.
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(work / "collections"), ANSIBLE_NOCOLOR="1", HOME=str(work))
    built = _run([str(BIN / "ansible-galaxy"), "collection", "build", str(ROOT), "--output-path", str(work)], work, env)
    assert built.returncode == 0, built.stdout + built.stderr
    (artifact,) = work.glob(f"{GALAXY['namespace']}-{GALAXY['name']}-*.tar.gz")
    done = _run(
        [
            str(BIN / "ansible-galaxy"),
            "collection",
            "install",
            str(artifact),
            "--no-deps",
            "-p",
            str(work / "collections"),
        ],
        work,
        env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return {"work": work, "artifact": artifact, "env": env}  # type: ignore[dict-item]


def archive_member(artifact: Path, name: str) -> str:
    with tarfile.open(artifact) as archive:
        member = archive.extractfile(name)
        assert member is not None
        return member.read().decode("utf-8")


def test_the_artifact_holds_the_collection_and_not_the_playbook_project(installed):
    with tarfile.open(installed["artifact"]) as archive:
        names = archive.getnames()
    manifest = json.loads(archive_member(installed["artifact"], "MANIFEST.json"))
    assert manifest["collection_info"]["namespace"] == GALAXY["namespace"]
    assert manifest["collection_info"]["version"] == GALAXY["version"]
    for expected in ("plugins/modules/tenant_network.py", "plugins/module_utils/aws/resource.py", "roles/aws_network"):
        assert any(name == expected or name.startswith(expected + "/") for name in names), expected
    for excluded in ("sandbox/", "inventories/", "bench/", "molecule/", "tests/integration/", "collections/", ".venv/"):
        assert not any(name.startswith(excluded) for name in names), f"{excluded} is not collection content"
    # The collection's own unit tests ship (ansible-test units runs them on the artifact), the
    # project's test helpers and project-level tests do not.
    shipped_tests = {name for name in names if name.startswith("tests/unit/plugins/") and name.endswith(".py")}
    in_tree = {str(path.relative_to(ROOT)) for path in (ROOT / "tests/unit/plugins").rglob("*.py")}
    assert shipped_tests == in_tree
    for helper in ("tests/helpers.py", "tests/conftest.py", "tests/sandboxes.py", "tests/unit/test_docs.py"):
        assert helper not in names, f"{helper} is a project file"


def test_a_playbook_outside_the_repository_runs_a_module_by_fqcn(installed, sandbox: SandboxClient):
    work: Path = installed["work"]
    env = dict(installed["env"])  # type: ignore[arg-type]
    play = work / "play"
    play.mkdir()
    # The modules run on the controller (connection local) with the test's Python (boto3, ...).
    playbook = [
        {
            "name": "Use the installed collection",
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "vars": {"ansible_python_interpreter": str(BIN / "python")},
            "environment": {
                "AWS_ENDPOINT_URL": sandbox.endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": REGION,
            },
            "tasks": [
                {
                    "name": "List the AWS base images",
                    f"{FQCN}.appstream_image_info": {"visibility": "PUBLIC", "name_prefix": "AppStream-WinServer"},
                    "register": "images",
                },
                {
                    "name": "Show what was found, through a filter of the collection",
                    "ansible.builtin.debug": {
                        "msg": "IMAGES={{ images.images | map(attribute='name') | list | to_json }} "
                        f"NAME={{{{ 'labx' | {FQCN}.catalogue_image_name('0123456789ab') }}}}"
                    },
                },
            ],
        }
    ]
    (play / "site.yml").write_text(yaml.safe_dump(playbook, sort_keys=False), encoding="utf-8")
    run = _run([str(BIN / "ansible-playbook"), "-i", "localhost,", "site.yml"], play, env)
    assert run.returncode == 0, run.stdout + run.stderr
    images = json.loads(run.stdout.split("IMAGES=", 1)[1].split(" NAME=", 1)[0].replace('\\"', '"'))
    expected = [
        image["Name"]
        for image in sandbox.boto3("appstream", region=REGION).describe_images(Type="PUBLIC")["Images"]
        if image["Name"].startswith("AppStream-WinServer")
    ]
    assert images and sorted(images) == sorted(expected)
    assert "NAME=labx-suite-0123456789ab" in run.stdout

    # The module that ran is the installed copy, not the working tree's.
    doc = _run([str(BIN / "ansible-doc"), "-t", "module", f"{FQCN}.appstream_image_info", "--json"], play, env)
    assert doc.returncode == 0, doc.stderr
    source = json.loads(doc.stdout)[f"{FQCN}.appstream_image_info"]["doc"]["filename"]
    assert Path(source).resolve().is_relative_to(work.resolve()), source
