"""Tenant definitions and inventories for the reliability suite.

Every converge here starts from a copy of the demo tenant (inventories/demo) under a name of its own, so
several tenants can live side by side on one sandbox, and their footprints can be compared once the
tenant name is taken out of them (footprint.py).
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import signal
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import yaml

from sandbox.client import SandboxClient
from tests.helpers import BIN, ROOT, PlaybookRun

DEMO = ROOT / "inventories" / "demo"
DEMO_TENANT: dict[str, Any] = yaml.safe_load((DEMO / "host_vars" / "demo" / "tenant.yml").read_text())["tenant"]
# How the demo builds its image on the sandbox (no Windows: the sandbox's create-image hook).
DEMO_IMAGE_VARS: dict[str, Any] = yaml.safe_load((DEMO / "host_vars" / "demo" / "image.yml").read_text())
REGION = DEMO_TENANT["region"]


def netbios_of(name: str) -> str:
    """A NetBIOS name derived from a tenant name (upper case, at most 15 characters)."""
    return re.sub(r"[^A-Z0-9]", "", name.upper())[:15]


def demo_tenant(name: str) -> dict[str, Any]:
    """The demo tenant under another name: its own directory domain and NetBIOS name.

    Its stack section is left out, so the stack gets the toolkit's defaults (which the demo spells out):
    the secure defaults are then what every reliability converge deploys and what
    test_security_defaults.py checks.
    """
    tenant = copy.deepcopy(DEMO_TENANT)
    tenant["name"] = name
    tenant["directory"]["fqdn"] = f"corp.{name}.example"
    tenant["directory"]["netbios"] = netbios_of(name)
    del tenant["appstream"]["stack"]
    return tenant


def aws_vars(sandbox: SandboxClient | None) -> dict[str, Any]:
    if sandbox is None:
        return {}
    return {
        "aws_endpoint_url": sandbox.endpoint,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        # Where the playbooks' sandbox-only calls read its admin token (group_vars/tenants/sandbox.yml).
        "sandbox_state_dir": str(sandbox.state_dir),
    }


def write_tenants(
    directory: Path,
    tenants: dict[str, Any],
    sandbox: SandboxClient | None = None,
    extra_host_vars: dict[str, Any] | None = None,
) -> Path:
    """One inventory holding several tenant hosts (design.md section 4 layout, one host per tenant).

    `tenants` maps a host name to its `tenant` variable; `None` leaves the host without a definition.
    Every host is aimed at `sandbox`, so that any AWS call a run makes is seen in its request log.
    """
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "hosts.yml").write_text(yaml.safe_dump({"tenants": {"hosts": {host: {} for host in tenants}}}))
    for host, tenant in tenants.items():
        host_vars = directory / "host_vars" / host
        host_vars.mkdir(parents=True, exist_ok=True)
        if tenant is not None:
            (host_vars / "tenant.yml").write_text(yaml.safe_dump({"tenant": tenant}, sort_keys=False))
        (host_vars / "aws.yml").write_text(yaml.safe_dump({**aws_vars(sandbox), **(extra_host_vars or {})}))
    return directory


def write_demo_inventory(
    directory: Path, tenant: dict[str, Any], sandbox: SandboxClient, extra_host_vars: dict[str, Any] | None = None
) -> Path:
    """A one-tenant inventory like inventories/demo: SAML metadata file and the sandbox image hook."""
    write_tenants(directory, {tenant["name"]: tenant}, sandbox, {**DEMO_IMAGE_VARS, **(extra_host_vars or {})})
    shutil.copytree(DEMO / "files", directory / "files", dirs_exist_ok=True)
    return directory


def playbook_command(playbook: str, inventories: list[Path], args: list[str] | None = None) -> list[str]:
    command = [str(BIN / "ansible-playbook"), playbook]
    for inventory in inventories:
        command += ["-i", str(inventory)]
    return command + (args or [])


def playbook_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        **(extra or {}),
    }


def assert_converged(run: PlaybookRun, *hosts: str) -> None:
    """The run succeeded for every host (the full output is the assertion message)."""
    output = run.stdout + run.stderr
    assert run.rc == 0, output[-20000:]
    for host in hosts:
        counters = run.recap.get(host)
        assert counters is not None, f"{host} is missing from the recap:\n{output[-5000:]}"
        assert counters["failed"] == 0 and counters["unreachable"] == 0, output[-20000:]


# ---------------------------------------------------------------------------------------------------
# Interrupting a run: the whole process tree, found through /proc
# ---------------------------------------------------------------------------------------------------
def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def descendants(pid: int) -> list[int]:
    """Every living process below `pid`, parents before children."""
    children = _children_by_parent()
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


def kill_tree(pid: int) -> list[int]:
    """SIGKILL `pid` and everything below it, as a lost CI runner or `kill -9` of the controller would.

    Ansible starts each module in a session of its own, so the process group is not enough. The tree is
    frozen first (SIGSTOP, repeated until no new process appears) so that no process can fork or be
    re-parented between listing and killing; then every process is killed by id.
    """
    frozen: list[int] = []
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGSTOP)
        frozen.append(pid)
    for _ in range(20):
        new = [child for child in descendants(pid) if child not in frozen]
        if not new:
            break
        for child in new:
            with suppress(ProcessLookupError):
                os.kill(child, signal.SIGSTOP)
            frozen.append(child)
        time.sleep(0.005)
    for process in frozen:
        with suppress(ProcessLookupError):
            os.kill(process, signal.SIGKILL)
    return frozen
