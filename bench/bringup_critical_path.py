"""Bring-up of a demo-like SAML tenant from nothing, against its critical path.

The dependent chain of modelled waits is the one AWS imposes on a SAML tenant: directory
Requested -> Active, then (directory config) the domain-joined image builder PENDING -> RUNNING,
then (create-image) the image PENDING -> AVAILABLE with the builder SNAPSHOTTING -> STOPPED, then
the domain-joined fleet STARTING -> RUNNING. FSx (CREATING -> AVAILABLE, started once the directory
is Active, needed only for the share) runs beside it. Each wait's length is the sandbox's own
duration table (sandbox/backends/*: DURATIONS) times the time scale; when each began is read from
the request log (CreateMicrosoftAD, CreateImageBuilder, StartFleet, CreateFileSystem) and from the
image's CreatedTime (the create-image hook is an admin call, not logged).

Run A: the bring-up at time scale `SCALE` (0.05: the 25-minute directory takes 75 s), where the
modelled waits dominate; its wall time is the figure. Between two links of the chain the run
spends a gap (wall time not covered by a modelled wait). A gap holds the Ansible work between the
links plus the waiter's overshoot: the time from the modelled transition to the first describe call
that saw it (the waiters poll every 5 % of the time waited, from 2 s to 15 s). The overshoot is read from
the request log too (the first DescribeDirectories / DescribeImageBuilders / DescribeImages /
DescribeFleets after the transition). So, all from run A, in the same machine conditions:

    wall             = chain waits + overshoots + Ansible work on the chain      (exactly)
    critical path    = chain waits + Ansible work on the chain
    efficiency       = wall / critical path                                       (target <= 1.10)

Run B: the same bring-up at time scale 0.0001 (every modelled wait under 0.2 s), after run A: its
wall time is the pure Ansible work of the flow, reported beside run A's as a cross-check (on a
shared machine the two differ by the load each met). Each gap of run A is also broken down by play
(bench_timeline callback), which shows the Ansible work that sits on the chain without depending
on it.
"""

from __future__ import annotations

import datetime
import os
import tempfile
from pathlib import Path
from typing import Any

from bench.tenant_runs import SiteRun, run_site, sandbox, tenant_inventory

SCALE = 0.05
PURE_WORK_SCALE = 0.0001
TARGET = 1.10
LINKS = ("directory", "builder", "image", "fleet")
# The call that starts each modelled wait, and the read a waiter polls it with.
STARTS = {
    "ds:CreateMicrosoftAD": "directory",
    "appstream:CreateImageBuilder": "builder",
    "appstream:StartFleet": "fleet",
    "fsx:CreateFileSystem": "file_system",
}
POLLS = {
    "directory": "ds:DescribeDirectories",
    "builder": "appstream:DescribeImageBuilders",
    "image": "appstream:DescribeImages",
    "fleet": "appstream:DescribeFleets",
}


def modelled_durations() -> dict[str, float]:
    """The real-AWS seconds of each link, read from the sandbox's own tables."""
    from sandbox.backends import ds, fsx
    from sandbox.backends.appstream import constants as appstream

    return {
        "directory": ds.DURATIONS["directory_requested"] + ds.DURATIONS["directory_creating"],
        "builder": appstream.DURATIONS["builder_start_domain_joined"],
        # The image play waits for the image AVAILABLE, then for the builder STOPPED (both from create-image).
        "image": max(appstream.DURATIONS["image_create"], appstream.DURATIONS["builder_snapshot"]),
        "fleet": appstream.DURATIONS["fleet_start_domain_joined"],
        "file_system": fsx.DURATIONS["create_single_az"],  # demo: SINGLE_AZ_2
    }


def _epoch(value: Any) -> float:
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    return datetime.datetime.fromisoformat(str(value)).timestamp()


def chain_events(box: Any, mark: int, waits: dict[str, float], tenant: str = "demo") -> dict[str, Any]:
    """When each modelled wait began and when the run first saw it done (epoch seconds)."""
    entries = [e for e in box.client.log(mark) if not e.get("error")]
    began: dict[str, float] = {}
    for entry in entries:
        key = STARTS.get(f"{entry['service']}:{entry['operation']}")
        if key and key not in began:
            began[key] = _epoch(entry["time"])
    images = box.client.boto3("appstream").describe_images(Type="PRIVATE")["Images"]
    ours = [image["CreatedTime"] for image in images if image["Name"].startswith(f"{tenant}-suite-")]
    if ours:
        began["image"] = min(_epoch(created) for created in ours)
    missing = {*LINKS, "file_system"} - set(began)
    if missing:
        raise RuntimeError(f"the bring-up made no {sorted(missing)} call: is this a SAML tenant from nothing?")
    seen: dict[str, float] = {}
    for link in LINKS:
        done = began[link] + waits[link]
        reads = [_epoch(e["time"]) for e in entries if f"{e['service']}:{e['operation']}" == POLLS[link]]
        seen[link] = min((t for t in reads if t >= done), default=done)
    return {"began": began, "seen": seen}


def segments(run: SiteRun, events: dict[str, Any], waits: dict[str, float]) -> list[dict[str, Any]]:
    """The gaps between chain links: [start, directory), (directory Active, builder), ..., (fleet RUNNING, end]."""
    began, seen = events["began"], events["seen"]
    bounds: list[tuple[str, float, float]] = [("start", run.began, 0.0)]  # (name, time, overshoot after it)
    for link in LINKS:
        done = began[link] + waits[link]
        bounds.append((f"{link} requested", began[link], 0.0))
        bounds.append((f"{link} done", done, seen[link] - done))
    bounds.append(("end", run.ended, 0.0))
    gaps = []
    for index in range(0, len(bounds), 2):
        (start_name, start, overshoot), (end_name, end, _) = bounds[index], bounds[index + 1]
        gap = end - start
        gaps.append(
            {
                "segment": f"{start_name} -> {end_name}",
                "began": start,
                "gap_s": round(gap, 3),
                "waiter_overshoot_s": round(overshoot, 3),
                "ansible_work_s": round(gap - overshoot, 3),
            }
        )
    return gaps


def work_by_play(run: SiteRun, began: float, ended: float) -> dict[str, float]:
    """Seconds of task execution (start -> result, per host) inside [began, ended), summed by play."""
    by_play: dict[str, float] = {}
    started: dict[tuple[str, str], float] = {}
    for event in run.timeline:
        key = (event.get("host", ""), event.get("task", ""))
        if event["event"] == "start":
            started[key] = event["t"]
        elif event["event"] in ("ok", "changed", "skipped", "failed") and key in started:
            start, end = max(started.pop(key), began), min(event["t"], ended)
            if end > start:
                by_play[event["play"]] = by_play.get(event["play"], 0.0) + end - start
    shares = {play: round(s, 2) for play, s in sorted(by_play.items(), key=lambda kv: -kv[1]) if s >= 0.01}
    shares["(between tasks: task and play start-up)"] = round(max(0.0, ended - began - sum(by_play.values())), 2)
    return shares


def bring_up(scale: float, work: Path, label: str, durations: dict[str, float]) -> tuple[SiteRun, dict[str, Any]]:
    waits = {link: seconds * scale for link, seconds in durations.items()}
    with sandbox(scale, work / f"sandbox-{label}") as box:
        inventory = tenant_inventory(work / f"inventory-{label}", box)
        mark = box.client.log_mark()
        done = run_site([inventory], work, label=label, timeout=1800)
        return done, chain_events(box, mark, waits)


def run(scale: float = SCALE) -> dict[str, Any]:
    durations = modelled_durations()
    waits = {link: seconds * scale for link, seconds in durations.items()}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-bringup-") as scratch:
        work = Path(scratch)
        slow, events = bring_up(scale, work, "scaled", durations)
        fast, fast_events = bring_up(PURE_WORK_SCALE, work, "pure-work", durations)
    load_after = os.getloadavg()

    gaps = segments(slow, events, waits)
    fast_waits = {link: seconds * PURE_WORK_SCALE for link, seconds in durations.items()}
    for gap, fast_gap in zip(gaps, segments(fast, fast_events, fast_waits), strict=True):
        gap["work_by_play_s"] = work_by_play(slow, gap["began"], gap["began"] + gap["gap_s"])
        gap["ansible_work_pure_run_s"] = fast_gap["ansible_work_s"]
        gap.pop("began")
    chain_wait = sum(waits[link] for link in LINKS)
    overshoot = sum(gap["waiter_overshoot_s"] for gap in gaps)
    chain_work = sum(gap["ansible_work_s"] for gap in gaps)
    critical_path = chain_wait + chain_work
    efficiency = slow.seconds / critical_path
    pure_work = fast.seconds - sum(seconds * PURE_WORK_SCALE for link, seconds in durations.items() if link in LINKS)
    after_fleet = gaps[-1]["ansible_work_s"]

    fsx_done = events["began"]["file_system"] + waits["file_system"]
    image_done = events["began"]["image"] + waits["image"]
    file_system = {
        "started_after_directory_active_s": round(
            events["began"]["file_system"] - events["began"]["directory"] - waits["directory"], 2
        ),
        "available_before_image_available_s": round(image_done - fsx_done, 2),
        "branch_modelled_s": round(waits["directory"] + waits["file_system"], 1),
        "chain_modelled_s": round(chain_wait, 1),
    }
    summary = [
        {"figure": f"bring-up wall at time scale {scale} (s)", "value": slow.seconds},
        {"figure": "critical path (s)", "value": round(critical_path, 1)},
        {
            "figure": "efficiency = wall / critical path",
            "value": round(efficiency, 3),
            "target": f"<= {TARGET}",
            "met": efficiency <= TARGET,
        },
        {"figure": "  chain modelled waits (s)", "value": round(chain_wait, 1)},
        {"figure": "  Ansible work on the chain (s)", "value": round(chain_work, 1)},
        {"figure": "  waiters' overshoot (s)", "value": round(overshoot, 1)},
        {"figure": "  work after fleet RUNNING, needing none of the chain (s)", "value": round(after_fleet, 1)},
        {"figure": "pure Ansible work, run at scale 0.0001 (s)", "value": round(pure_work, 1)},
    ]
    return {
        "summary": summary,
        "wall_s": slow.seconds,
        "critical_path_s": round(critical_path, 2),
        "efficiency": round(efficiency, 3),
        "target": TARGET,
        "met": efficiency <= TARGET,
        "chain_modelled_wait_s": round(chain_wait, 1),
        "chain_ansible_work_s": round(chain_work, 2),
        "waiter_overshoot_s": round(overshoot, 2),
        "pure_work_run": {"wall_s": fast.seconds, "ansible_work_s": round(pure_work, 2), "cpu_s": fast.cpu_seconds},
        "scaled_run_cpu_s": slow.cpu_seconds,
        "time_scale": scale,
        "modelled_aws_seconds": durations,
        "modelled_wait_s": {link: round(seconds, 2) for link, seconds in waits.items()},
        "segments": gaps,
        "file_system_branch": file_system,
        "slowest_tasks_scaled": slow.slowest_tasks(8),
        "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "measured": (
            f"a copy of inventories/demo brought up from nothing on a fresh sandbox (SANDBOX_SAMBA=0) at time scale "
            f"{scale} (run A), then again at {PURE_WORK_SCALE} (run B, pure Ansible work, cross-check); chain: "
            "directory Active -> builder RUNNING -> image AVAILABLE (and builder STOPPED) -> fleet RUNNING; wait "
            "lengths = sandbox DURATIONS x scale, their starts from the request log and the image's CreatedTime, "
            "waiters' overshoot = first describe call after each modelled transition; critical path = chain waits "
            "+ run A's Ansible work between the links; efficiency = wall A / critical path"
        ),
        "reproduce": ".venv/bin/python -m bench --only bringup_critical_path",
    }
