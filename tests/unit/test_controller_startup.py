"""What every ansible-playbook run of the project pays before its first task: no AWS library on the controller.

Ansible loads every enabled inventory plugin, vars plugin and callback at the start of every run, whatever
the playbook. boto3's import alone is a fifth of a second there (the network no-op is about 1.8 s in all,
bench/network_vs_chain.py), so the project's plugins import boto3 when they need it, not when they load.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
HEAVY = ("boto3", "botocore", "ldap3", "smbprotocol")


def test_a_run_with_the_project_configuration_imports_no_aws_library_before_its_tasks(tmp_path: Path) -> None:
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n"
        "  tasks:\n    - ansible.builtin.debug: {msg: started}\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(ANSIBLE_PLAYBOOK), str(playbook), "-i", "localhost,"],
        cwd=ROOT,
        env=os.environ | {"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "started" in done.stdout
    imported = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", done.stderr, re.MULTILINE))
    assert imported, "no -X importtime output to check"
    # The project's plugins did load: Ansible executes plugin files without reporting them to -X importtime,
    # so look for what only they import (the inventory plugin: aws.pagination; tenant_state: state.lock).
    utils = "ansible_collections.iconeus.tenant_toolkit.plugins.module_utils"
    assert {f"{utils}.aws.pagination", f"{utils}.state.lock"} <= imported, sorted(n for n in imported if utils in n)
    assert not {name for name in imported if name.split(".")[0] in HEAVY}, sorted(
        name for name in imported if name.split(".")[0] in HEAVY
    )
