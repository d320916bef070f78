"""Helpers for tests that run playbooks against the sandbox and inspect its request log."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2
import yaml
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state.store import BUCKET_PREFIX

from sandbox.client import SandboxClient
from sandbox.reqlog import summarise

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEMO_INVENTORY = ROOT / "inventories" / "demo"


class _AnyName(dict):  # type: ignore[type-arg]
    """Filters and tests by any name: Jinja's analysis (jinja2.meta) compiles the template, and the tests that
    parse the project's templates look only at what they read."""

    def __contains__(self, name: object) -> bool:
        return True

    def __missing__(self, name: str) -> Any:
        return lambda *args, **kwargs: None

    def get(self, name: str, default: Any = None) -> Any:
        return self[name]


# The project's templates as Ansible parses them (its extensions: `{% do %}`, `{% break %}`), to read, never to
# render. A Windows path in a string literal ('\\share') makes Jinja's lexer warn: the tests that parse the
# project's files filter "invalid escape sequence" DeprecationWarnings.
JINJA_PARSER = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"], autoescape=False)  # noqa: S701
JINJA_PARSER.filters = _AnyName(JINJA_PARSER.filters)
JINJA_PARSER.tests = _AnyName(JINJA_PARSER.tests)


def demo_tenant() -> dict[str, Any]:
    """A fresh copy of the demo tenant's definition (inventories/demo), for a test to change."""
    return yaml.safe_load((DEMO_INVENTORY / "host_vars" / "demo" / "tenant.yml").read_text(encoding="utf-8"))["tenant"]


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    log_mark: int
    client: SandboxClient | None

    @property
    def recap(self) -> dict[str, dict[str, int]]:
        """PLAY RECAP counters per host: {"demo": {"ok": 3, "changed": 0, ...}}."""
        hosts = {}
        for match in re.finditer(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$", self.stdout, re.MULTILINE):
            hosts[match.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2))}
        return hosts

    def stats(self) -> dict[str, Any]:
        """The run's calls to the tenant's resources, counted (the state store's bookkeeping left out)."""
        assert self.client is not None
        everything = self.client.log(self.log_mark)
        return {"since": self.log_mark, "next": self.log_mark + len(everything), **summarise(self.calls())}

    def calls(self) -> list[dict[str, Any]]:
        """The run's calls to the tenant's resources (the state store's bookkeeping left out)."""
        assert self.client is not None
        return [call for call in self.client.log(self.log_mark) if not is_bookkeeping(call)]

    def bookkeeping(self) -> list[dict[str, Any]]:
        """The run's calls to the toolkit state store: its tenant locks and history records."""
        assert self.client is not None
        return [call for call in self.client.log(self.log_mark) if is_bookkeeping(call)]


def is_bookkeeping(call: dict[str, Any]) -> bool:
    """A call to the toolkit state store (plugins/module_utils/state/store.py): the lock table (DynamoDB, which
    the toolkit uses for nothing else) or the history bucket. A run takes, renews and releases its tenants'
    locks and records what it changed: the run's own bookkeeping, not a change to a tenant, so the checks
    that a converged tenant's second run only reads leave it out (and tests of the locks read it)."""
    return call["service"] == "dynamodb" or (
        call["service"] == "s3" and f"/{BUCKET_PREFIX}-" in str(call.get("operation", ""))
    )


def write_inventory(
    directory: Path, tenant: dict[str, Any], sandbox: SandboxClient | None = None, extra_host_vars: dict | None = None
) -> Path:
    """A one-tenant inventory in the contract's layout, aimed at `sandbox` when given."""
    name = tenant["name"]
    host_vars = directory / "host_vars" / name
    host_vars.mkdir(parents=True, exist_ok=True)
    (directory / "hosts.yml").write_text(yaml.safe_dump({"tenants": {"hosts": {name: {}}}}))
    (host_vars / "tenant.yml").write_text(yaml.safe_dump({"tenant": tenant}, sort_keys=False))
    if tenant.get("auth") == "saml":
        # A SAML tenant needs its IdP's metadata next to the inventory (checked by validation).
        (directory / "files").mkdir(exist_ok=True)
        shutil.copy(ROOT / "inventories" / "demo" / "files" / "saml-metadata.xml", directory / "files")
    aws: dict[str, Any] = {}
    if sandbox is not None:
        aws = {
            "aws_endpoint_url": sandbox.endpoint,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
            # No Windows on the sandbox: the image pipeline uses its create-image hook.
            "image_build_mode": "sandbox_hook",
            # Where the sandbox-only calls read its admin token (group_vars/tenants/sandbox.yml).
            "sandbox_state_dir": str(sandbox.state_dir),
        }
    aws.update(extra_host_vars or {})
    (host_vars / "aws.yml").write_text(yaml.safe_dump(aws))
    return directory


def run_playbook(
    playbook: str | Path,
    inventories: list[Path] | Path,
    sandbox: SandboxClient | None = None,
    extra_vars: dict[str, Any] | None = None,
    check: bool = False,
    diff: bool = False,
    env: dict[str, str] | None = None,
    args: list[str] | None = None,
    timeout: float = 600,
) -> PlaybookRun:
    """Run ansible-playbook from the project root with the project's ansible.cfg."""
    if isinstance(inventories, Path):
        inventories = [inventories]
    command = [str(BIN / "ansible-playbook"), str(playbook)]
    for inventory in inventories:
        command += ["-i", str(inventory)]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    command += args or []
    environment = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }
    environment.update(env or {})
    mark = sandbox.log_mark() if sandbox is not None else 0
    done = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout, check=False
    )
    return PlaybookRun(done.returncode, done.stdout, done.stderr, mark, sandbox)


def run_tasks(
    directory: Path,
    tasks: list[dict[str, Any]],
    sandbox: SandboxClient | None,
    region: str = "eu-west-3",
    check: bool = False,
    diff: bool = False,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> PlaybookRun:
    """Run `tasks` on localhost (one play), against the sandbox when one is given (AWS settings in the play's
    environment)."""
    play: dict[str, Any] = {
        "name": "Tasks under test",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": sys.executable},
    }
    if sandbox is not None:
        play["environment"] = {
            "AWS_ENDPOINT_URL": sandbox.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
        }
    play["tasks"] = tasks
    directory.mkdir(parents=True, exist_ok=True)
    playbook = directory / "play.yml"
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    return run_playbook(
        playbook, Path("localhost,"), sandbox, check=check, diff=diff, env=env, args=args, timeout=timeout
    )


COLLECTION = "ansible_collections.iconeus.tenant_toolkit"


def load_plugin(relative: str, name: str | None = None) -> ModuleType:
    """A plugin of the collection by its FQCN (``plugins/filter/x.py``), or a project script by path."""
    if relative.startswith("plugins/"):
        return importlib.import_module(COLLECTION + "." + relative.removesuffix(".py").replace("/", "."))
    name = name or "test_" + relative.replace("/", "_").removesuffix(".py")
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module
