"""image_builder_access checks its inputs before any call: the controller's range is a CIDR no wider than /8."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.helpers import run_playbook

INPUTS = {
    "image_builder_access_server": "10.0.1.10",
    "image_builder_access_account": "svc-imagebuild",
    "image_builder_access_builders_ou": "OU=Builders,OU=CORP,DC=corp,DC=example",
    "image_builder_access_fleet_ou": "OU=AppStream,OU=Computers,OU=CORP,DC=corp,DC=example",
}


def play(directory: Path, cidr: str) -> Path:
    plays = [
        {
            "name": "Check the inputs only",
            "hosts": "localhost",
            "gather_facts": False,
            "vars": {**INPUTS, "image_builder_access_controller_cidr": cidr},
            "tasks": [
                {
                    "name": "The role's input check",
                    "ansible.builtin.include_role": {"name": "image_builder_access", "tasks_from": "present"},
                }
            ],
        }
    ]
    path = directory / "play.yml"
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    (directory / "hosts.yml").write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
    return path


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "10.0.0.0/7"])
def test_a_controller_range_wider_than_a_slash_8_is_refused(tmp_path: Path, cidr: str) -> None:
    run = run_playbook(play(tmp_path, cidr), tmp_path / "hosts.yml")
    assert run.rc != 0
    assert "/8 or narrower" in run.stdout and cidr in run.stdout
