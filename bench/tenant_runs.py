"""What the whole-tenant benchmarks share: a sandbox of their own, demo-like tenant inventories,
timed `site.yml` runs with a task timeline, and memory sampling from /proc.

Nothing here asserts: the benchmarks record figures and compare them with design.md section 8.
"""

from __future__ import annotations

import configparser
import datetime
import json
import os
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEMO = ROOT / "inventories" / "demo"
REGION = "eu-west-3"
PORTS = (45000, 49999)  # the range the benchmarks take their sandboxes' ports from

sys.path.insert(0, str(ROOT))

from ansible.plugins.loader import init_plugin_loader  # noqa: E402

# The collection iconeus.tenant_toolkit (the repository) importable by FQCN, as ansible-playbook sets it up.
init_plugin_loader([str(ROOT / "collections")])

from sandbox.client import SandboxClient  # noqa: E402
from sandbox.reqlog import summarise  # noqa: E402
from tests.helpers import is_bookkeeping  # noqa: E402
from tests.sandboxes import bootstrap_state_store  # noqa: E402


def pick_port(low: int = PORTS[0], high: int = PORTS[1]) -> int:
    """A port of the benchmarks' range that nothing listens on now."""
    candidates = list(range(low, high + 1))
    random.shuffle(candidates)
    for port in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{high}")


# -- the sandbox ----------------------------------------------------------------------------------
@dataclass
class Sandbox:
    port: int
    state_dir: Path
    time_scale: float
    client: SandboxClient = field(init=False)

    def __post_init__(self) -> None:
        self.client = SandboxClient(port=self.port, region=REGION, state_dir=self.state_dir)

    @property
    def endpoint(self) -> str:
        return self.client.endpoint

    @property
    def pid(self) -> int | None:
        pid_file = self.state_dir / f"sandbox-{self.port}.pid"
        try:
            return int(pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def _cli(self, *args: str) -> None:
        command = [sys.executable, "-m", "sandbox", *args, "--port", str(self.port), "--state-dir", str(self.state_dir)]
        # Benchmarks measure AWS-side behaviour: no Samba DCs unless asked (SANDBOX_SAMBA=1).
        environment = {**os.environ, "SANDBOX_SAMBA": os.environ.get("BENCH_SANDBOX_SAMBA", "0")}
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True, env=environment)

    def start(self) -> None:
        self._cli("start", "--time-scale", str(self.time_scale))
        bootstrap_state_store(self.client, (REGION,))  # what playbooks/bootstrap.yml does once per account

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system, all threads) the sandbox process has used so far; None when not running.

        The sandbox shares the machine's cores with the controller: what it uses during a run is not the
        controller's, and AWS's own work costs the controller nothing."""
        pid = self.pid
        if pid is None:
            return None
        try:
            fields = proc_stat(pid)
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def tenant_stats(self, mark: int) -> dict[str, Any]:
        """Calls since `mark` to the tenants' resources; the runs' lock calls (state store) counted apart."""
        calls = self.client.log(mark)
        return {
            **summarise([c for c in calls if not is_bookkeeping(c)]),
            "state_store_calls": sum(map(is_bookkeeping, calls)),
        }

    def tenant_calls(self, mark: int) -> list[dict[str, Any]]:
        """Calls since `mark` to the tenants' resources (the state store's bookkeeping left out)."""
        return [call for call in self.client.log(mark) if not is_bookkeeping(call)]

    def stop(self) -> None:
        self._cli("stop")


@contextmanager
def sandbox(time_scale: float, state_dir: Path, port: int | None = None) -> Iterator[Sandbox]:
    box = Sandbox(port or pick_port(), state_dir, time_scale)
    box.start()
    try:
        yield box
    finally:
        box.stop()


# -- tenants ----------------------------------------------------------------------------------------
def tenant_inventory(directory: Path, box: Sandbox, name: str = "demo", index: int = 0, auth: str = "saml") -> Path:
    """A copy of inventories/demo aimed at `box`; another name gets its own CIDR, domain and NetBIOS name."""
    shutil.copytree(DEMO, directory, dirs_exist_ok=True)
    host_vars = directory / "host_vars"
    if name != "demo":
        (host_vars / "demo").rename(host_vars / name)
        (directory / "hosts.yml").write_text(yaml.safe_dump({"tenants": {"hosts": {name: {}}}}))
    tenant_file = host_vars / name / "tenant.yml"
    tenant = yaml.safe_load(tenant_file.read_text())["tenant"]
    if name != "demo":
        tenant["name"] = name
        tenant["network"]["cidr"] = f"10.{100 + index}.0.0/16"
        tenant["directory"]["fqdn"] = f"corp.{name}.example"
        tenant["directory"]["netbios"] = re.sub(r"[^A-Z0-9]", "", name.upper())[:15]
        tenant["budget"]["notify"] = [f"ops@{name}.example"]
    if auth == "userpool":
        tenant["auth"] = "userpool"
        tenant.pop("directory", None)
        tenant.pop("storage", None)
        # User-pool users sign in with their e-mail address: a username is a SAML user's AD account only.
        # The user pool is the account's, shared by its tenants: each copy gets users of its own.
        tenant["users"] = [
            {**{k: v for k, v in user.items() if k != "username"}, "email": own_address(user["email"], name)}
            for user in tenant["users"]
        ]
    tenant_file.write_text(yaml.safe_dump({"tenant": tenant}, sort_keys=False))
    aws = {
        "aws_endpoint_url": box.endpoint,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        # Where the playbooks' sandbox-only calls read its admin token (group_vars/tenants/sandbox.yml).
        "sandbox_state_dir": str(box.state_dir),
    }
    (host_vars / name / "aws.yml").write_text(yaml.safe_dump(aws))
    return directory


def own_address(email: str, tenant: str) -> str:
    """The tenant's own copy of a demo user's address: ada@lab.example -> ada.bench-s001@lab.example."""
    local, domain = email.split("@", 1)
    return email if tenant == "demo" else f"{local}.{tenant}@{domain}"


# -- memory ---------------------------------------------------------------------------------------
def proc_stat(pid: int | str) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (state, ppid, ..., utime at 11, stime at 12)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            parent = int(proc_stat(entry.name)[1])
        except OSError:
            continue
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in KiB; (0, 0) once it is gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    rss = re.search(r"^Rss:\s+(\d+)", text, re.MULTILINE)
    pss = re.search(r"^Pss:\s+(\d+)", text, re.MULTILINE)
    return (int(rss.group(1)) if rss else 0, int(pss.group(1)) if pss else 0)


class MemorySampler:
    """Every `interval` s: RSS and PSS summed over a process and all its descendants, and one more process."""

    def __init__(self, extra_pid: int | None = None, interval: float = 0.2) -> None:
        self.extra_pid = extra_pid
        self.interval = interval
        self.root: int | None = None
        self.peak_rss = self.peak_pss = self.peak_processes = 0
        self.peak_extra_rss = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self, root: int) -> None:
        self.root = root
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        tree, pids, todo = _children(), [], [self.root]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            todo.extend(tree.get(pid, []))
        rss = pss = 0
        for pid in pids:
            one_rss, one_pss = _memory_kib(pid)
            rss, pss = rss + one_rss, pss + one_pss
        self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
        self.peak_processes = max(self.peak_processes, len(pids))
        if self.extra_pid:
            self.peak_extra_rss = max(self.peak_extra_rss, _memory_kib(self.extra_pid)[0])
        self.samples += 1

    def figures(self) -> dict[str, Any]:
        return {
            "ansible_peak_rss_mib": round(self.peak_rss / 1024, 1),
            "ansible_peak_pss_mib": round(self.peak_pss / 1024, 1),
            "ansible_peak_processes": self.peak_processes,
            "sandbox_peak_rss_mib": round(self.peak_extra_rss / 1024, 1),
            "samples": self.samples,
        }


# -- playbook runs --------------------------------------------------------------------------------
@dataclass
class SiteRun:
    seconds: float
    rc: int
    stdout: str
    stderr: str
    began: float
    ended: float
    timeline: list[dict[str, Any]]
    cpu_seconds: float = 0.0
    memory: dict[str, Any] | None = None

    @property
    def recap(self) -> dict[str, dict[str, int]]:
        hosts = {}
        for match in re.finditer(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$", self.stdout, re.MULTILINE):
            hosts[match.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2))}
        return hosts

    def tasks(self) -> dict[str, int]:
        """Tasks the run went through (task starts) and per-host results by status, from the timeline."""
        counts = {"task_starts": sum(1 for e in self.timeline if e["event"] == "task")}
        for status in ("ok", "changed", "skipped", "failed"):
            counts[f"host_results_{status}"] = sum(1 for e in self.timeline if e["event"] == status)
        return counts

    def task_spans(self) -> list[tuple[float, float, str]]:
        """(start, end, task) of every per-host task run, from the timeline."""
        started: dict[tuple[str, str], float] = {}
        spans = []
        for event in self.timeline:
            key = (event.get("host", ""), event.get("task", ""))
            if event["event"] == "start":
                started[key] = event["t"]
            elif event["event"] in ("ok", "changed", "failed", "skipped") and key in started:
                spans.append((started.pop(key), event["t"], key[1]))
        return spans

    def calls_by_task(self, calls: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
        """The API calls of the run attributed to the task running when each was made (request log time)."""
        spans = self.task_spans()
        found: dict[str, dict[str, int]] = {}
        for call in calls:
            when = datetime.datetime.fromisoformat(call["time"]).timestamp()
            tasks = [task for start, end, task in spans if start - 0.01 <= when <= end + 0.01] or ["(between tasks)"]
            operation = f"{call['service']}:{call['operation']}"
            per_task = found.setdefault(tasks[-1], {})
            per_task[operation] = per_task.get(operation, 0) + 1
        return dict(sorted(found.items(), key=lambda item: -sum(item[1].values())))

    def slowest_tasks(self, count: int = 10) -> list[dict[str, Any]]:
        """Per-host task durations (start -> result), longest first."""
        started: dict[tuple[str, str], float] = {}
        spans = []
        for event in self.timeline:
            key = (event.get("host", ""), event.get("task", ""))
            if event["event"] == "start":
                started[key] = event["t"]
            elif event["event"] in ("ok", "changed", "failed", "skipped") and key in started:
                spans.append({"task": key[1], "host": key[0], "seconds": round(event["t"] - started.pop(key), 3)})
        return sorted(spans, key=lambda s: -s["seconds"])[:count]


def configured_callbacks() -> list[str]:
    """ansible.cfg's callbacks_enabled: the toolkit's own callbacks (tenant_state names the run and holds the locks)."""
    parser = configparser.ConfigParser()
    parser.read(ROOT / "ansible.cfg")
    names = parser.get("defaults", "callbacks_enabled", fallback="").split(",")
    return [name.strip() for name in names if name.strip()]


def environment(timeline_file: Path | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }
    if timeline_file is not None:
        env.update(
            {
                "ANSIBLE_CALLBACK_PLUGINS": str(ROOT / "bench" / "callback_plugins"),
                # Added to ansible.cfg's callbacks, not instead of them: the runs need tenant_state's run id and locks.
                "ANSIBLE_CALLBACKS_ENABLED": ",".join([*configured_callbacks(), "bench_timeline"]),
                "BENCH_TIMELINE_FILE": str(timeline_file),
            }
        )
    return env


def run_site(
    inventories: list[Path],
    work: Path,
    sample_memory: bool = False,
    sandbox_pid: int | None = None,
    timeout: float = 1800,
    label: str = "run",
) -> SiteRun:
    """`ansible-playbook site.yml -i ...` from the project root; optionally sample memory (and the sandbox's)."""
    timeline_file = work / f"timeline-{label}.jsonl"
    timeline_file.unlink(missing_ok=True)
    command = [str(BIN / "ansible-playbook"), "site.yml"]
    for inventory in inventories:
        command += ["-i", str(inventory)]
    sampler = MemorySampler(extra_pid=sandbox_pid) if sample_memory else None
    began = time.time()
    tick = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment(timeline_file),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if sampler is not None:
        sampler.start(process.pid)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        if sampler is not None:
            sampler.stop()
    seconds = time.perf_counter() - tick
    ended = time.time()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU of ansible-playbook and every process it waited for (workers, module runs): the work, whatever the load.
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    (work / f"stdout-{label}.txt").write_text(stdout)
    timeline = [json.loads(line) for line in timeline_file.read_text().splitlines()] if timeline_file.exists() else []
    run = SiteRun(round(seconds, 3), process.returncode, stdout, stderr, began, ended, timeline, round(cpu, 2))
    if sampler is not None:
        run.memory = sampler.figures()
    if run.rc != 0:
        # The failed tasks themselves (a many-host run's tail is its recap), then the tail.
        failures = re.findall(r"^TASK \[[^\n]*\n(?:(?!^TASK \[).*\n)*?^fatal:.*\n(?:^ .*\n)*", stdout, re.MULTILINE)
        raise RuntimeError(
            f"site.yml ({label}) failed rc={run.rc}:\n{''.join(failures)[-6000:]}\n{stdout[-2000:]}\n{stderr[-2000:]}"
        )
    return run


def changed_total(run: SiteRun) -> int:
    return sum(host.get("changed", 0) for host in run.recap.values())
