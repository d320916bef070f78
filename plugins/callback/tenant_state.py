# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: tenant_state
type: aggregate
short_description: Run id, tenant lock leases and the change history of each run
version_added: 0.2.0
description:
  - Makes the run id when the run starts, in the main controller process before any worker forks, and
    exports it to every worker and module (C(TENANT_TOOLKIT_RUN_ID), read by the lookup
    C(iconeus.tenant_toolkit.run_id)), with the pid of this process and the start time.
  - Follows the locks this run takes (module C(iconeus.tenant_toolkit.tenant_lock), C(playbooks/lock.yml));
    a background thread renews their leases while the run lasts, and the end of the playbook releases them,
    also when hosts failed. An interrupted run (Ctrl-C) releases them on its way out; a killed one (SIGKILL)
    leaves them to expire with their lease.
  - Removes the run's private files when the run ends, after releasing the locks, that is the credentials
    files the lookup C(iconeus.tenant_toolkit.tenant_credentials) wrote for access keys given as host variables.
  - At the end of the playbook writes, for every tenant whose lock this run held and that it changed (or
    where it failed), one history record to the state store's bucket
    (C(history/<tenant>/<start>-<run id>.json)), with the operator, the controller, the toolkit version,
    the playbook and tags, each changed task with its diff, the failures and the recap. Results of no_log
    tasks arrive censored; values under keys that name secrets (password, secret, token...) are removed too.
  - With O(plan_file) set, also writes what each host's tasks changed (in check mode, what they would
    change) to that file as JSON; C(playbooks/ops/drift.yml) reads it.
author: Tenant toolkit maintainers (@tenant-toolkit)
requirements:
  - enabled in C(callbacks_enabled) (ansible.cfg of the project)
  - boto3 on the controller (renewing leases, writing history)
options:
  plan_file:
    description: Write every host's changed tasks, failures and recap to this file at the end of the playbook.
    type: path
    env:
      - name: TENANT_TOOLKIT_PLAN_FILE
"""

import atexit
import contextlib
import datetime
import gc
import getpass
import hashlib
import json
import os
import re
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ansible import context
from ansible.plugins.callback import CallbackBase
from ansible.template import Templar
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws import credentials_file
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state import history, lock
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state.run import (
    PLAYBOOK_ENV,
    RUN_ID_ENV,
    RUN_PID_ENV,
    RUN_STARTED_ENV,
    new_run_id,
)
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.state.store import bucket_name, history_key
from ansible_collections.iconeus.tenant_toolkit.plugins.plugin_utils import botocore_models, plugin_preload

LOCK_ACTIONS = ("iconeus.tenant_toolkit.tenant_lock", "tenant_lock")
COLLECTION_ROOT = Path(__file__).resolve().parents[2]
# How often, at most, a lease is renewed; a third of the lease leaves two chances before it runs out.
MIN_RENEW_INTERVAL = 1.0


def utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def toolkit_version(root: Path = COLLECTION_ROOT) -> dict[str, Any]:
    """galaxy.yml's version (or MANIFEST.json's, installed), and the git commit of a checkout."""
    version = None
    galaxy = root / "galaxy.yml"
    manifest = root / "MANIFEST.json"
    if galaxy.is_file():
        found = re.search(r"^version:\s*['\"]?([^'\"\s]+)", galaxy.read_text(encoding="utf-8"), re.MULTILINE)
        version = found.group(1) if found else None
    elif manifest.is_file():
        with contextlib.suppress(ValueError, KeyError):
            version = json.loads(manifest.read_text(encoding="utf-8"))["collection_info"]["version"]
    info: dict[str, Any] = {"version": version, "commit": None, "dirty": None}
    if (root / ".git").exists():
        try:
            commit = subprocess.run(
                ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            status = subprocess.run(
                ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout
            info.update(commit=commit or None, dirty=bool(status.strip()))
        except (OSError, subprocess.SubprocessError):
            pass  # no git on this controller: the version alone
    return info


@dataclass
class HeldLock:
    """A tenant lock this run holds, and the connection that renews and releases it."""

    host: str
    tenant: str
    table: str
    bucket: str | None
    region: str | None
    lease_seconds: int
    dynamodb: Any = None
    s3: Any = None
    sts: Any = None
    lost_to: str | None = None  # the run that took the lock after this run's lease ran out
    released: bool = False
    connection: StateConnection | None = None  # makes the clients not given above, when first used

    def client(self, service: str) -> Any:
        """The boto3 client of `service` ("dynamodb", "s3" or "sts"): the one given, else the connection's."""
        given = getattr(self, service)
        if given is None and self.connection is not None:
            given = self.connection.client(service)
            setattr(self, service, given)
        return given


class StateConnection:
    """The boto3 session of one set of `connection_settings`, and its clients, each made when first used.

    Shared by the locks whose settings are the same (tenants run with the same profile, keys or controller
    credentials, region and endpoint), made per set otherwise. A no-op run needs only DynamoDB (renew,
    release): the S3 and STS clients, for the history of a changed tenant, are made only then. The DynamoDB
    client is made at once, so that a profile that cannot be read is said when the lock is taken.
    """

    def __init__(self, settings: dict[str, Any], data_loader: Any = None) -> None:
        self.endpoint_url = settings["endpoint_url"]
        self.session = boto3_session(settings, data_loader)
        self.clients: dict[str, Any] = {}
        self.lock = threading.Lock()  # the renewing thread and the main one
        self.client("dynamodb")

    def client(self, service: str) -> Any:
        with self.lock:
            if service not in self.clients:
                self.clients[service] = self.session.client(service, endpoint_url=self.endpoint_url)
            return self.clients[service]


@dataclass
class HostRecord:
    changes: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    unreachable: list[dict[str, Any]] = field(default_factory=list)


def connection_settings(environment: dict[str, Any], region: str | None, endpoint_url: str | None) -> dict[str, Any]:
    """boto3 Session and client settings from a task's AWS environment (what its module used).

    `files` are the botocore configuration variables of the shared files the task named
    (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE): a profile of the tenant_session or tenant_credentials
    lookup lives in a file of its own, which this process's environment does not name.
    """
    session: dict[str, Any] = {
        "region_name": region or environment.get("AWS_REGION") or environment.get("AWS_DEFAULT_REGION")
    }
    files: dict[str, str] = {}
    if environment.get("AWS_ACCESS_KEY_ID") and environment.get("AWS_SECRET_ACCESS_KEY"):
        session["aws_access_key_id"] = str(environment["AWS_ACCESS_KEY_ID"])
        session["aws_secret_access_key"] = str(environment["AWS_SECRET_ACCESS_KEY"])
        if environment.get("AWS_SESSION_TOKEN"):
            session["aws_session_token"] = str(environment["AWS_SESSION_TOKEN"])
    elif environment.get("AWS_PROFILE"):
        session["profile_name"] = str(environment["AWS_PROFILE"])
        for variable, name in (("AWS_SHARED_CREDENTIALS_FILE", "credentials_file"), ("AWS_CONFIG_FILE", "config_file")):
            if environment.get(variable):
                files[name] = str(environment[variable])
    endpoint = endpoint_url or environment.get("AWS_ENDPOINT_URL")
    return {"session": session, "files": files, "endpoint_url": str(endpoint) if endpoint else None}


def boto3_session(settings: dict[str, Any], data_loader: Any = None) -> Any:
    """A boto3 Session as `connection_settings` describe it (the controller has boto3: amazon.aws needs it).

    `data_loader` (botocore.loaders.Loader) is shared by the sessions of a run: each tenant needs a session of
    its own (its own credentials), but a botocore session otherwise loads and keeps its own copy of every
    service model, endpoint and retry table it uses (about 14 MiB per tenant for DynamoDB, S3 and STS in the
    controller's main process, which every forked worker then carries). A loader caches what it parsed and
    holds no credentials.
    """
    import boto3
    import botocore.session

    core = botocore.session.Session()
    if data_loader is not None:
        core.register_component("data_loader", data_loader)
    for name, value in settings.get("files", {}).items():
        core.set_config_variable(name, value)
    session = boto3.session.Session(botocore_session=core, **settings["session"])
    if data_loader is not None:
        # Each boto3 session appends boto3's own data folder to its loader's search paths: keep it once.
        botocore_models.keep_search_paths_once(data_loader)
    return session


def shared_data_loader() -> Any:
    """One botocore data loader (models, endpoints, retry tables; parsed once, cached) for every tenant session,
    made as botocore makes a session's own (AWS_DATA_PATH honoured), without reading any profile.

    It is the process's loader (plugin_utils/botocore_models.py), which the modules that run in a worker use too.
    """
    return botocore_models.shared_loader(os.environ.get("AWS_DATA_PATH"))


def preload_for_workers(display: Any) -> None:
    """Once per run, when its first tenant lock task starts (the first task that calls AWS, before its workers
    fork): load the Ansible plugins and import the Python modules every tenant task's worker uses
    (plugin_utils/plugin_preload.py), and read the botocore models of every service the collection's modules
    call (plugin_utils/botocore_models.py). Each worker forked afterwards inherits them instead of loading its
    own. Not when the playbook starts: a run with no lock task (validate.yml alone, a local playbook) does not
    pay for importing boto3. Either is only a saving: what fails is loaded by each worker, as without it (said at
    -v)."""
    began = time.monotonic()
    try:
        missing = plugin_preload.preload()
    except Exception as err:  # noqa: BLE001 - the workers load their own plugins
        missing = [f"all ({err})"]
    if missing:
        display.v(f"tenant_state: plugins not loaded ahead for the workers: {', '.join(missing)}")
    try:
        _loader, failed = botocore_models.preload()
    except Exception as err:  # noqa: BLE001 - the modules read their own models
        failed = [f"all ({err})"]
    if failed:
        display.v(f"tenant_state: botocore models not read ahead for the workers: {', '.join(failed)}")
    display.vvv(
        f"tenant_state: models and plugins read ahead for the run's workers in {time.monotonic() - began:.2f} s"
    )


# The processes that registered the hook below (a callback may be made more than once in a process; a forked
# child inherits its parent's hook and registers none of its own unless it makes a callback).
_FREEZE_REGISTERED: set[int] = set()


def freeze_inherited_objects_in_workers() -> None:
    """Once per process: each process forked from this one (Ansible forks a worker per task and host) moves
    the objects it inherits to the collector's permanent generation as it starts.

    A worker's garbage collection would otherwise visit every object of the controller's heap and write to
    each one's header, copying nearly every page of it (copy-on-write): up to 290 MiB per worker at 25
    tenants, 20 workers at once. The worker lives for one task; what it allocates itself is still collected.
    (gc.freeze is for exactly this case: https://docs.python.org/3/library/gc.html#gc.freeze.)
    """
    if os.getpid() not in _FREEZE_REGISTERED:
        os.register_at_fork(after_in_child=gc.freeze)
        _FREEZE_REGISTERED.add(os.getpid())


class CallbackModule(CallbackBase):
    """Names the run, keeps its tenant locks alive, releases them and records what the run changed."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "tenant_state"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Made here, in the controller's main process, before any worker forks: every fork inherits it, and
        # a value inherited from the shell is overwritten (a run id is never chosen from outside).
        self.run_id = new_run_id()
        self.started = utc_now()
        os.environ[RUN_ID_ENV] = self.run_id
        os.environ[RUN_PID_ENV] = str(os.getpid())
        os.environ[RUN_STARTED_ENV] = self.started
        freeze_inherited_objects_in_workers()
        self.host_name = socket.gethostname()
        self.playbook_path = ""
        self.play: Any = None
        self.locks: dict[str, HeldLock] = {}
        # botocore's loader, shared by the tenants' sessions (boto3_session); made with the first one.
        self.data_loader: Any = None
        # The state store's connections by their settings (StateConnection): one per profile, keys, region and
        # endpoint, not one per tenant. Kept in this process's memory only.
        self.connections: dict[str, StateConnection] = {}
        # Whether the run's first lock task has loaded what the workers use (preload_for_workers).
        self.preloaded = False
        self.records: dict[str, HostRecord] = {}
        self.state_lock = threading.Lock()
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        # atexit runs the last registered first: the locks are released (with the credentials the run's
        # files hold) before the files go.
        atexit.register(self.remove_run_files)
        atexit.register(self.release_all)

    # -- playbook ------------------------------------------------------------------------------------
    def v2_playbook_on_start(self, playbook: Any) -> None:
        self.playbook_path = str(getattr(playbook, "_file_name", "") or "")
        os.environ[PLAYBOOK_ENV] = self.playbook_relative()
        self.records = {}
        # The plugins validation and the lock's play use, none of which imports an AWS library.
        try:
            missing = plugin_preload.preload_without_aws()
        except Exception as err:  # noqa: BLE001 - the workers load their own plugins
            missing = [f"all ({err})"]
        if missing:
            self._display.v(f"tenant_state: plugins not loaded ahead for the workers: {', '.join(missing)}")

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        # The action as the task names it: before the worker's post-validation, the resolved action of a module
        # meta/runtime.yml routes to in_worker is the action plugin's name (and asking for it can warn).
        written = {str(getattr(task, "action", "") or ""), str(getattr(task, "_resolved_action", "") or "")}
        if not self.preloaded and written & set(LOCK_ACTIONS):
            self.preloaded = True
            preload_for_workers(self._display)

    def playbook_relative(self) -> str:
        path = Path(self.playbook_path)
        with contextlib.suppress(ValueError):
            return str(path.resolve().relative_to(Path.cwd().resolve()))
        return str(path)

    def v2_playbook_on_play_start(self, play: Any) -> None:
        self.play = play

    def v2_playbook_on_stats(self, stats: Any) -> None:
        self.stop_renewing()
        hosts = sorted(set(self.records) | set(getattr(stats, "processed", {}) or {}))
        recaps = {host: dict(stats.summarize(host)) for host in hosts}
        plan_file = self.get_option("plan_file")
        if plan_file:
            self.write_plan(plan_file, recaps)
        for name, held in list(self.locks.items()):
            record = self.records.get(name, HostRecord())
            if record.changes or record.failures or record.unreachable or held.lost_to:
                self.write_history(held, record, recaps.get(name, {}))
        self.release_all()
        self.remove_run_files()
        self.records = {}

    # -- task results --------------------------------------------------------------------------------
    def _record(self, host: str) -> HostRecord:
        return self.records.setdefault(host, HostRecord())

    @staticmethod
    def _task_identity(task: Any) -> tuple[str, str, str | None]:
        action = str(getattr(task, "resolved_action", None) or getattr(task, "action", "") or "")
        role = getattr(task, "_role", None)
        return str(task.get_name()), action, role.get_name() if role is not None else None

    def v2_runner_on_ok(self, result: Any) -> None:
        task, host = result.task, result.host
        name, action, role = self._task_identity(task)
        outcome = dict(result._result)
        if action in LOCK_ACTIONS:
            self.follow_lock(result, outcome)
            return  # the lock is the run's bookkeeping, not a change to the tenant
        if outcome.get("changed"):
            with self.state_lock:
                self._record(host.get_name()).changes.append(history.change_of(name, action, role, outcome))

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        name, action, _role = self._task_identity(result.task)
        with self.state_lock:
            record = self._record(result.host.get_name())
            record.failures.append(history.failure_of(name, action, dict(result._result), ignored=ignore_errors))

    def v2_runner_on_unreachable(self, result: Any) -> None:
        name, action, _role = self._task_identity(result.task)
        with self.state_lock:
            self._record(result.host.get_name()).unreachable.append(
                history.failure_of(name, action, dict(result._result))
            )

    # -- locks -----------------------------------------------------------------------------------------
    def follow_lock(self, result: Any, outcome: dict[str, Any]) -> None:
        """Start renewing a lock the module just took for this run (or forget one it released)."""
        info = outcome.get("lock") or {}
        host = result.host.get_name()
        if info.get("waited_for") and outcome.get("msg"):
            # Whoever watches the run learns why it stood still (said here, in the controller's process, rather than
            # by a task of lock.yml that each tenant's run paid a worker for, and skipped almost always).
            self._display.display(f"[{host}] {outcome['msg']}")
        if info.get("run_id") != self.run_id:
            return
        if not info.get("held"):
            self.locks.pop(host, None)
            return
        if host in self.locks:
            return
        held = HeldLock(
            host=host,
            tenant=str(info["tenant"]),
            table=str(info["table"]),
            bucket=info.get("bucket"),
            region=info.get("region"),
            lease_seconds=int(info.get("lease_seconds") or lock.DEFAULT_LEASE_SECONDS),
        )
        try:
            settings = connection_settings(self.task_environment(result), held.region, info.get("endpoint_url"))
            if not self.preloaded:  # a lock task whose start this callback did not see
                self.preloaded = True
                preload_for_workers(self._display)
            if self.data_loader is None:
                self.data_loader = shared_data_loader()
            # A digest: the settings may hold keys, and the key of a dictionary need not be one more copy of them.
            key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()
            if key not in self.connections:
                self.connections[key] = StateConnection(settings, self.data_loader)
            held.connection = self.connections[key]
        except Exception as err:  # noqa: BLE001 - the run goes on; the lease then expires on its own
            self._display.warning(
                f"tenant_state: cannot renew the lock of {held.tenant} ({err}); it expires "
                f"{held.lease_seconds} s after it was taken unless the run ends first"
            )
        with self.state_lock:
            self.locks[host] = held
        self.start_renewing()

    def task_environment(self, result: Any) -> dict[str, Any]:
        """The environment the lock task's module ran with (the play's tenant_aws_environment), templated
        for its host: the same credentials, profile and endpoint renew and release the lock."""
        if self.play is None:
            return {}
        task, host = result.task, result.host
        variables = self.play.get_variable_manager().get_vars(play=self.play, host=host, task=task)
        templar = Templar(loader=self.play._loader, variables=variables)
        environment: dict[str, Any] = {}
        entries = task.environment or []
        for entry in entries if isinstance(entries, list) else [entries]:
            if entry:
                templated = templar.template(entry)
                if isinstance(templated, dict):
                    environment.update({str(k): str(v) for k, v in templated.items() if v is not None})
        return environment

    def renew_interval(self) -> float:
        with self.state_lock:
            leases = [held.lease_seconds for held in self.locks.values() if not held.released]
        return max(MIN_RENEW_INTERVAL, min(leases) / 3) if leases else 30.0

    def start_renewing(self) -> None:
        if self.thread is not None and self.thread.is_alive():
            return
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._renew_loop, args=(self.stop_event,), daemon=True)
        self.thread.start()

    def stop_renewing(self) -> None:
        thread, self.thread = self.thread, None
        if thread is not None:
            self.stop_event.set()
            thread.join(timeout=30)

    def _renew_loop(self, stop: threading.Event) -> None:
        while not stop.wait(self.renew_interval()):
            self.renew_all()

    def renew_all(self) -> None:
        with self.state_lock:
            held_locks = [held for held in self.locks.values() if not held.released and not held.lost_to]
        for held in held_locks:
            if held.dynamodb is None and held.connection is None:
                continue
            try:
                dynamodb = held.client("dynamodb")
                kept = lock.renew(dynamodb, held.table, held.tenant, self.run_id, held.lease_seconds, time.time())
            except Exception as err:  # noqa: BLE001 - a network hiccup: the next renewal tries again
                self._display.warning(f"tenant_state: renewing the lock of {held.tenant} failed ({err}); retrying")
                continue
            if not kept:
                current = None
                with contextlib.suppress(Exception):
                    current = lock.read(dynamodb, held.table, held.tenant)
                held.lost_to = current.run_id if current else "nobody (it was removed)"
                self._display.warning(
                    f"tenant_state: run {self.run_id} LOST the lock of tenant {held.tenant}: its lease ran out and "
                    f"it is now held by {held.lost_to}. This run no longer has the tenant to itself: stop it "
                    "(Ctrl-C) unless you know the other run is harmless."
                )

    def release_all(self) -> None:
        """Release every lock this run still holds (end of the playbook, or the process exiting)."""
        self.stop_renewing()
        with self.state_lock:
            pending = [held for held in self.locks.values() if not held.released]
        for held in pending:
            held.released = True
            if (held.dynamodb is None and held.connection is None) or held.lost_to:
                continue
            try:
                if lock.release(held.client("dynamodb"), held.table, held.tenant, self.run_id):
                    self._display.vv(f"tenant_state: released the lock of {held.tenant} ({self.run_id})")
            except Exception as err:  # noqa: BLE001 - the lease expires by itself
                self._display.warning(
                    f"tenant_state: could not release the lock of {held.tenant} ({err}); it expires with its lease "
                    f"({held.lease_seconds} s), or remove it with playbooks/ops/unlock.yml "
                    f"-e force_unlock={self.run_id}"
                )
        with self.state_lock:
            self.locks = {}

    def remove_run_files(self) -> None:
        """Remove the run's private files (the credentials files of the tenant_credentials lookup)."""
        credentials_file.remove_run_files(self.run_id)

    # -- history and plan ------------------------------------------------------------------------------
    def playbook_description(self) -> dict[str, Any]:
        arguments = context.CLIARGS if context.CLIARGS else {}
        return {
            "path": self.playbook_relative(),
            "tags": sorted(t for t in arguments.get("tags", ()) if t != "all"),
            "skip_tags": sorted(arguments.get("skip_tags", ())),
            "limit": arguments.get("subset"),
            "check_mode": bool(arguments.get("check")),
            "diff_mode": bool(arguments.get("diff")),
        }

    def write_history(self, held: HeldLock, record: HostRecord, recap: dict[str, int]) -> None:
        if held.s3 is None and held.connection is None:
            return
        try:
            # Who made the change, as AWS knows it; the account names the history bucket.
            identity = held.client("sts").get_caller_identity()
        except Exception as err:  # noqa: BLE001 - the change itself is done; say the record is missing
            self._display.warning(f"tenant_state: the history record of {held.tenant} was not written ({err})")
            return
        bucket = held.bucket or bucket_name(str(identity["Account"]), held.region or "")
        document = history.record(
            tenant=held.tenant,
            run={"run_id": self.run_id, "started": self.started, "host": self.host_name},
            operator={"user": getpass.getuser(), "caller_arn": identity.get("Arn")},
            toolkit=toolkit_version(),
            playbook=self.playbook_description(),
            changes=record.changes,
            failures=record.failures + record.unreachable,
            recap=recap,
            ended=utc_now(),
        )
        if held.lost_to:
            document["lock_lost_to"] = held.lost_to
        key = history_key(held.tenant, self.started, self.run_id)
        try:
            held.client("s3").put_object(
                Bucket=bucket,
                Key=key,
                Body=json.dumps(document, indent=1, sort_keys=True, default=str).encode("utf-8"),
                ContentType="application/json",
            )
            self._display.v(f"tenant_state: history of {held.tenant} written to s3://{bucket}/{key}")
        except Exception as err:  # noqa: BLE001 - the change itself is done; say the record is missing
            self._display.warning(f"tenant_state: the history record of {held.tenant} was not written ({err})")

    def write_plan(self, path: str, recaps: dict[str, dict[str, int]]) -> None:
        hosts = {}
        for name in sorted(set(self.records) | set(recaps)):
            record = self.records.get(name, HostRecord())
            hosts[name] = {
                "changes": record.changes,
                "failures": record.failures,
                "unreachable": record.unreachable,
                "recap": recaps.get(name, {}),
            }
        document = {
            "run_id": self.run_id,
            "started": self.started,
            "playbook": self.playbook_description(),
            "hosts": hosts,
        }
        try:
            Path(path).write_text(json.dumps(document, indent=1, sort_keys=True, default=str), encoding="utf-8")
        except OSError as err:
            self._display.warning(f"tenant_state: the plan file {path} was not written ({err})")
