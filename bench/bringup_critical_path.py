"""Bring-up of a demo-like SAML tenant from nothing, against its critical path.

Two bring-ups of the same tenant (a copy of inventories/demo), each on a fresh sandbox without
Samba:

- run A at time scale `SCALE` (0.05: a 25-minute directory takes 75 s), where the modelled waits
  dominate; its wall time is the figure;
- run B at time scale 0.0001, where every modelled wait is under 0.2 s: what remains is the pure
  Ansible work (task start-up, templating, API calls) of the same flow. It runs twice, before and
  after run A, and the mean is used, so that a change in the (shared) machine's load weighs on both.

The dependent chain of modelled waits is the one AWS imposes on a SAML tenant: directory
Requested -> Active, then (directory config) the domain-joined image builder PENDING -> RUNNING,
then (create-image) the image PENDING -> AVAILABLE with the builder SNAPSHOTTING -> STOPPED, then
the domain-joined fleet STARTING -> RUNNING. FSx (CREATING -> AVAILABLE, started once the directory
is Active) runs beside it. Each wait's length is the sandbox's own duration table
(sandbox/backends/*: DURATIONS) times the time scale; when each one started is read from the
request log (CreateMicrosoftAD, CreateImageBuilder, StartFleet, CreateFileSystem) and from the
image's CreatedTime (the create-image hook is an admin call, not logged).

Between two links of the chain the run spends a gap (wall time not covered by a modelled wait):
run A's gaps hold Ansible work plus the time a waiter takes to notice the transition (its polling
interval); run B's gaps are the Ansible work alone. So:

    wall_A        = sum(modelled waits at SCALE) + sum(gaps of run A)      (exactly, by construction)
    critical path = sum(modelled waits at SCALE) + sum(gaps of run B)
    efficiency    = wall_A / critical path                                 (design.md section 8: <= 1.15)

Run B's gaps are also broken down by play (from the bench_timeline callback), which shows the
Ansible work that sits on the chain without depending on it.
"""

from __future__ import annotations

import datetime
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.tenant_runs import SiteRun, run_site, sandbox, tenant_inventory

SCALE = 0.05
PURE_WORK_SCALE = 0.0001
TARGET = 1.15


def modelled_durations() -> dict[str, float]:
    """The real-AWS seconds of each link, read from the sandbox's own tables."""
    from sandbox.backends import ds, fsx
    from sandbox.backends.appstream import constants as appstream

    return {
        "directory": ds.DURATIONS["directory_requested"] + ds.DURATIONS["directory_creating"],
        "builder": appstream.DURATIONS["builder_start_domain_joined"],
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


def chain_events(box: Any, mark: int, tenant: str = "demo") -> dict[str, float]:
    """When each modelled wait of the chain began (epoch seconds), from the request log and the image."""
    first: dict[str, float] = {}
    wanted = {
        "ds:CreateMicrosoftAD": "directory",
        "appstream:CreateDirectoryConfig": "directory_config",
        "appstream:CreateImageBuilder": "builder",
        "appstream:StartFleet": "fleet",
        "fsx:CreateFileSystem": "file_system",
    }
    for entry in box.client.log(mark):
        key = wanted.get(f"{entry['service']}:{entry['operation']}")
        if key and key not in first and not entry.get("error"):
            first[key] = _epoch(entry["time"])
    images = box.client.boto3("appstream").describe_images(Type="PRIVATE")["Images"]
    ours = [image for image in images if image["Name"].startswith(f"{tenant}-suite-")]
    first["image"] = min(_epoch(image["CreatedTime"]) for image in ours)
    missing = {"directory", "builder", "image", "fleet", "file_system"} - set(first)
    if missing:
        raise RuntimeError(f"the bring-up made no {sorted(missing)} call: is this a SAML tenant from nothing?")
    return first


def segments(run: SiteRun, events: dict[str, float], waits: dict[str, float]) -> list[dict[str, Any]]:
    """The gaps between chain links: [start, directory), (directory Active, builder), ..., (fleet RUNNING, end]."""
    links = ["directory", "builder", "image", "fleet"]
    bounds = [("start", run.began)]
    for link in links:
        bounds.append((f"{link} requested", events[link]))
        bounds.append((f"{link} done", events[link] + waits[link]))
    bounds.append(("end", run.ended))
    gaps = []
    for index in range(0, len(bounds), 2):
        (start_name, start), (end_name, end) = bounds[index], bounds[index + 1]
        gaps.append({"from": start_name, "to": end_name, "began": start, "seconds": round(end - start, 3)})
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
    return {play: round(seconds, 2) for play, seconds in sorted(by_play.items(), key=lambda kv: -kv[1]) if seconds}


def wait_tasks(run: SiteRun) -> list[dict[str, Any]]:
    """The tasks of the run that lasted longest (the waits at a large scale)."""
    return run.slowest_tasks(8)


def bring_up(scale: float, work: Path, label: str) -> tuple[SiteRun, dict[str, float]]:
    with sandbox(scale, work / f"sandbox-{label}") as box:
        inventory = tenant_inventory(work / f"inventory-{label}", box)
        mark = box.client.log_mark()
        done = run_site([inventory], work, label=label, timeout=1800)
        return done, chain_events(box, mark)


def run(scale: float = SCALE) -> dict[str, Any]:
    durations = modelled_durations()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-bringup-") as scratch:
        work = Path(scratch)
        # The pure-work run goes before and after the scaled one, so that a change in the machine's
        # load during the benchmark weighs on both sides alike; their mean is the Ansible work.
        fast_runs = [bring_up(PURE_WORK_SCALE, work, "pure-work-1")]
        slow, slow_events = bring_up(scale, work, "scaled")
        fast_runs.append(bring_up(PURE_WORK_SCALE, work, "pure-work-2"))

    waits = {link: seconds * scale for link, seconds in durations.items()}
    fast_waits = {link: seconds * PURE_WORK_SCALE for link, seconds in durations.items()}
    slow_gaps = segments(slow, slow_events, waits)
    fast_gap_runs = [segments(fast, events, fast_waits) for fast, events in fast_runs]

    chain_wait = sum(waits[link] for link in ("directory", "builder", "image", "fleet"))
    pure_work = statistics.mean(sum(gap["seconds"] for gap in gaps) for gaps in fast_gap_runs)
    critical_path = chain_wait + pure_work
    efficiency = slow.seconds / critical_path

    breakdown = []
    for index, slow_gap in enumerate(slow_gaps):
        fast_gaps = [gaps[index] for gaps in fast_gap_runs]
        work_s = statistics.mean(gap["seconds"] for gap in fast_gaps)
        plays: dict[str, list[float]] = {}
        for (fast, _), gap in zip(fast_runs, fast_gaps, strict=True):
            for play, seconds in work_by_play(fast, gap["began"], gap["began"] + gap["seconds"]).items():
                plays.setdefault(play, []).append(seconds)
        breakdown.append(
            {
                "segment": f"{slow_gap['from']} -> {slow_gap['to']}",
                "gap_scaled_s": slow_gap["seconds"],
                "ansible_work_s": round(work_s, 3),
                "ansible_work_each_run_s": [gap["seconds"] for gap in fast_gaps],
                "overhead_s": round(slow_gap["seconds"] - work_s, 3),
                "work_by_play_s": {
                    play: round(sum(values) / len(fast_runs), 2)
                    for play, values in sorted(plays.items(), key=lambda kv: -sum(kv[1]))
                },
            }
        )
    for link, seconds in waits.items():
        if link != "file_system":
            breakdown.append({"segment": f"modelled wait: {link}", "modelled_s": round(seconds, 1)})

    # FSx beside the chain: started after the directory, needed only for the share (after the image).
    fsx_done = slow_events["file_system"] + waits["file_system"]
    fsx = {
        "started_after_directory_active_s": round(
            slow_events["file_system"] - slow_events["directory"] - waits["directory"], 2
        ),
        "available_before_image_available_s": round(slow_events["image"] + waits["image"] - fsx_done, 2),
        "branch_modelled_s": round(waits["directory"] + waits["file_system"], 1),
        "chain_modelled_s": round(chain_wait, 1),
    }
    overhead = sum(row["overhead_s"] for row in breakdown if "overhead_s" in row)
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
        {"figure": "  Ansible work, pure (s)", "value": round(pure_work, 1)},
        {"figure": "  wall beyond the critical path (s)", "value": round(overhead, 1)},
    ]
    return {
        "summary": summary,
        "wall_s": slow.seconds,
        "critical_path_s": round(critical_path, 2),
        "efficiency": round(efficiency, 3),
        "target": TARGET,
        "met": efficiency <= TARGET,
        "chain_modelled_wait_s": round(chain_wait, 1),
        "ansible_work_s": round(pure_work, 2),
        "pure_work_runs_wall_s": [fast.seconds for fast, _ in fast_runs],
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "time_scale": scale,
        "modelled_aws_seconds": durations,
        "breakdown": breakdown,
        "file_system_branch": fsx,
        "slowest_tasks_scaled": wait_tasks(slow),
        "measured": (
            "three bring-ups of a copy of inventories/demo from nothing, each on a fresh sandbox (SANDBOX_SAMBA=0): "
            f"run A at time scale {scale} (wall time measured), runs B before and after it at {PURE_WORK_SCALE} "
            "(pure Ansible work, mean); "
            "chain: directory Active -> builder RUNNING -> image AVAILABLE (and builder STOPPED) -> fleet "
            "RUNNING, wait lengths = sandbox DURATIONS x scale, wait starts from the request log and the "
            "image's CreatedTime; critical path = chain waits + run B's gaps between the links; "
            "efficiency = wall A / critical path"
        ),
        "reproduce": ".venv/bin/python -m bench --only bringup_critical_path",
    }
