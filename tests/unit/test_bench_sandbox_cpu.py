"""bench/tenant_runs.py: the sandbox's CPU time, read from /proc, as the tenants_scale benchmark reports it."""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

with warnings.catch_warnings():
    # bench.tenant_runs sets up Ansible's collection loader for the benchmarks; the test session already has.
    warnings.filterwarnings("ignore", "AnsibleCollectionFinder has already been configured")
    from bench.tenant_runs import Sandbox


def busy(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_the_sandbox_cpu_is_that_of_the_process_its_pid_file_names(tmp_path: Path) -> None:
    box = Sandbox(45999, tmp_path, 0.001)
    (tmp_path / "sandbox-45999.pid").write_text(f"{os.getpid()}\n")
    before, times_before = box.cpu_seconds(), os.times()
    busy(0.3)
    after, times_after = box.cpu_seconds(), os.times()
    assert before is not None and after is not None
    used = (times_after.user + times_after.system) - (times_before.user + times_before.system)
    tick = 1 / os.sysconf("SC_CLK_TCK")
    assert used >= 0.3 - 2 * tick  # os.times() counts in clock ticks too
    assert abs((after - before) - used) <= 3 * tick


def test_no_running_sandbox_has_no_cpu_figure(tmp_path: Path) -> None:
    box = Sandbox(45998, tmp_path, 0.001)
    assert box.cpu_seconds() is None  # no pid file
    (tmp_path / "sandbox-45998.pid").write_text("999999999\n")
    assert box.cpu_seconds() is None  # no such process
