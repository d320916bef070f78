"""StartTaskExecution, DescribeTaskExecution, ListTaskExecutions, CancelTaskExecution, and the run of each.

An execution goes QUEUED (while another execution of its task runs), LAUNCHING, PREPARING, TRANSFERRING,
VERIFYING (unless VerifyMode is NONE), then SUCCESS or ERROR, over the sandbox's scaled time: each phase
lasts its modelled duration (constants.DURATIONS; a transfer at least its bytes over THROUGHPUT) and as
long as its real work takes. The work runs on a thread of its own per execution (transfer.py).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sandbox.backends.datasync.base import new_id
from sandbox.backends.datasync.constants import DURATIONS, MAX_PAGE, TERMINAL, THROUGHPUT
from sandbox.backends.datasync.models import Execution, RegionState
from sandbox.backends.datasync.rules import invalid, options_with_defaults
from sandbox.backends.datasync.storage import TaskLog, share_of
from sandbox.backends.datasync.tasks import TasksMixin, log_group_name
from sandbox.backends.datasync.transfer import (
    Cancelled,
    TransferFailed,
    destination_path,
    estimate,
    list_source,
    run_copy,
    run_verify,
)
from sandbox.clock import Lifecycle
from sandbox.jsonproto import Context, paginate

log = logging.getLogger("sandbox.datasync")
POLL = 0.02  # seconds between two looks at a cancellation while a phase waits out its modelled time


class ExecutionsMixin(TasksMixin):
    def start_task_execution(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        state = self.state(ctx)
        task = self._task(state, params["TaskArn"])
        options = options_with_defaults(params.get("OverrideOptions"), task.options)
        manifest = params.get("ManifestConfig") or task.manifest_config
        self._check_manifest_config(manifest)
        current = self._current_execution(state, task)
        if current is not None and options.get("TaskQueueing") == "DISABLED":
            raise invalid(f"Task {task.arn} is already running {current.arn}.", "TaskAlreadyRunning")
        source = state.locations.get(task.source_arn.rsplit("/", 1)[-1])
        destination = state.locations.get(task.destination_arn.rsplit("/", 1)[-1])
        if source is None or destination is None:
            raise invalid(f"A location of task {task.arn} no longer exists.")
        if source.kind != "S3" or destination.kind != "FSXW":
            raise invalid("The sandbox moves data from an S3 location to an FSx for Windows File Server location only.")
        execution = Execution(
            task=task,
            execution_id=new_id("exec-"),
            status=Lifecycle(self.clock, "QUEUED"),
            options=options,
            includes=list(params.get("Includes", task.includes)),
            excludes=list(params.get("Excludes", task.excludes)),
            manifest_config=manifest,
            start_time=self.clock.now(),
        )
        execution.history.append("QUEUED")
        execution.source_bucket = source.bucket  # type: ignore[attr-defined]
        execution.corrupt = getattr(task, "corrupt_next", False)  # type: ignore[attr-defined]
        task.corrupt_next = False  # type: ignore[attr-defined]
        state.executions[execution.execution_id] = execution
        task.executions.append(execution.execution_id)
        if current is None:
            self._launch(state, execution)
        return {"TaskExecutionArn": execution.arn}

    # -- the run ------------------------------------------------------------------------------------
    def _launch(self, state: RegionState, execution: Execution) -> None:
        execution.launch_time = self.clock.now()
        self._enter(execution, "LAUNCHING")
        source = state.locations[execution.task.source_arn.rsplit("/", 1)[-1]]
        destination = state.locations[execution.task.destination_arn.rsplit("/", 1)[-1]]
        thread = threading.Thread(
            target=self._run,
            args=(state, execution, source, destination),
            name=f"datasync-{execution.execution_id}",
            daemon=True,
        )
        thread.start()

    @staticmethod
    def _enter(execution: Execution, status: str) -> None:
        execution.status.set(status)
        execution.history.append(status)

    def _wait_until(self, execution: Execution, due: float) -> None:
        while time.time() < due:
            if getattr(execution, "cancelled", False):
                raise Cancelled()
            time.sleep(min(POLL, max(0.0, due - time.time())))

    def _modelled(self, seconds: float) -> float:
        return seconds * self.clock.time_scale

    def _run(self, state: RegionState, execution: Execution, source: Any, destination: Any) -> None:
        task = execution.task
        level = execution.options.get("LogLevel", "OFF")
        group = log_group_name(task.log_group_arn) if task.log_group_arn else None
        task_log = TaskLog(task.region, group, execution.execution_id, level)
        task_log.write(f"[INFO] Starting task execution {execution.arn}")
        try:
            self._work(execution, source, destination, task_log)
            with execution.lock:
                execution.end_time = self.clock.now()
                self._enter(execution, "SUCCESS")
            counters = execution.counters
            task_log.write(
                f"[INFO] Execution {execution.execution_id} completed: {counters.files_transferred} files, "
                f"{counters.bytes_transferred} bytes transferred, {counters.files_verified} verified"
            )
        except Cancelled:
            self._fail(execution, "Cancelled", "The task execution was cancelled.", task_log)
        except TransferFailed as err:
            self._fail(execution, err.code, err.detail, task_log)
        except Exception as err:
            log.exception("DataSync execution %s failed", execution.execution_id)
            self._fail(execution, "InternalError", f"{type(err).__name__}: {err}", task_log)
        finally:
            with self._lock:
                for queued_id in task.executions:
                    queued = state.executions.get(queued_id)
                    if queued is not None and queued.status.state == "QUEUED":
                        self._launch(state, queued)
                        break

    def _fail(self, execution: Execution, code: str, detail: str, task_log: TaskLog) -> None:
        with execution.lock:
            execution.error_code, execution.error_detail = code, detail
            for phase, status in execution.phase_status.items():
                if status == "PENDING":
                    execution.phase_status[phase] = "ERROR"
                    break
            execution.end_time = self.clock.now()
            self._enter(execution, "ERROR")
        task_log.write(f"[ERROR] Execution {execution.execution_id} failed: {code}: {detail}")

    def _work(self, execution: Execution, source: Any, destination: Any, task_log: TaskLog) -> None:
        self._wait_until(execution, time.time() + self._modelled(DURATIONS["launching"]))
        self._enter(execution, "PREPARING")
        prepared_from = time.time()
        plan = list_source(execution, source)
        sizes = estimate(execution, plan)
        execution.phase_status["Prepare"] = "SUCCESS"
        task_log.write(f"[INFO] Prepared {sizes['files']} files, {sizes['bytes']} bytes to transfer")
        self._wait_until(execution, prepared_from + self._modelled(DURATIONS["preparing"]))
        self._enter(execution, "TRANSFERRING")
        transfer_from = time.time()
        address = (
            self._file_systems.served_share(destination.region, destination.file_system_id)
            if self._file_systems
            else None
        )
        share_name = destination_path(destination, "")[0]
        try:
            opened = share_of(address, share_name, destination.user, destination.domain, destination.password)
            share = opened.__enter__()
        except Exception as err:  # noqa: BLE001 - smbprotocol's logon and connection errors vary
            raise TransferFailed(
                "AuthenticationFailed" if "LOGON" in str(err).upper() else "ConnectionFailed",
                f"DataSync could not mount \\\\{destination.file_system_id}\\{share_name} as {destination.user}: {err}",
            ) from None
        try:
            digests = run_copy(execution, plan, destination, share, task_log)
            seconds = max(DURATIONS["transfer_minimum"], execution.counters.bytes_transferred / THROUGHPUT)
            self._wait_until(execution, transfer_from + self._modelled(seconds))
            execution.phase_status["Transfer"] = "SUCCESS"
            if getattr(execution, "corrupt", False) and share is not None and digests:
                # Sandbox hook: the destination changed after the copy, so the verification must catch it.
                first = sorted(digests)[0]
                share.write(destination_path(destination, first)[1], b"corrupted by the sandbox")
            if execution.options.get("VerifyMode") == "NONE":
                execution.phase_status["Verify"] = "SUCCESS"
                return
            self._enter(execution, "VERIFYING")
            verify_from = time.time()
            run_verify(execution, destination, share, digests, task_log)
            self._wait_until(execution, verify_from + self._modelled(DURATIONS["verifying_minimum"]))
            execution.phase_status["Verify"] = "SUCCESS"
        finally:
            opened.__exit__(None, None, None)

    # -- the API ------------------------------------------------------------------------------------
    def describe_task_execution(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(self.state(ctx), params["TaskExecutionArn"])
        with execution.lock:
            status = execution.status.state
            counters = execution.counters
            end = execution.end_time or self.clock.now()
            total_ms = int(max(0.0, end - execution.start_time) * 1000)
            result: dict[str, Any] = {
                "PrepareStatus": execution.phase_status["Prepare"],
                "TransferStatus": execution.phase_status["Transfer"],
                "VerifyStatus": execution.phase_status["Verify"],
                "TotalDuration": total_ms,
                "PrepareDuration": 0,
                "TransferDuration": 0,
                "VerifyDuration": 0,
            }
            if execution.error_code:
                result["ErrorCode"] = execution.error_code
                result["ErrorDetail"] = execution.error_detail or ""
            answer: dict[str, Any] = {
                "TaskExecutionArn": execution.arn,
                "Status": status,
                "Options": dict(execution.options),
                "Excludes": list(execution.excludes),
                "Includes": list(execution.includes),
                "StartTime": execution.start_time,
                "EstimatedFilesToTransfer": counters.estimated_files,
                "EstimatedBytesToTransfer": counters.estimated_bytes,
                "FilesTransferred": counters.files_transferred,
                "BytesWritten": counters.bytes_written,
                "BytesTransferred": counters.bytes_transferred,
                "BytesCompressed": counters.bytes_transferred,
                "Result": result,
                "FilesDeleted": 0,
                "FilesSkipped": counters.files_skipped,
                "FilesVerified": counters.files_verified,
                "FilesPrepared": counters.files_prepared,
                "FilesListed": {"AtSource": counters.estimated_files, "AtDestinationForDelete": 0},
                "FilesFailed": {
                    "Prepare": 0,
                    "Transfer": counters.failed_transfer,
                    "Verify": counters.failed_verify,
                    "Delete": 0,
                },
                "FoldersTransferred": counters.folders_transferred,
                "TaskMode": execution.task.task_mode,
            }
            if execution.manifest_config:
                answer["ManifestConfig"] = execution.manifest_config
            if execution.launch_time is not None:
                answer["LaunchTime"] = execution.launch_time
            if status in TERMINAL and execution.end_time is not None:
                answer["EndTime"] = execution.end_time
            return answer

    def list_task_executions(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        state = self.state(ctx)
        if params.get("TaskArn"):
            task = self._task(state, params["TaskArn"])
            executions = [state.executions[item] for item in task.executions if item in state.executions]
        else:
            executions = sorted(state.executions.values(), key=lambda item: (item.start_time, item.execution_id))
        entries = [
            {"TaskExecutionArn": item.arn, "Status": item.status.state, "TaskMode": item.task.task_mode}
            for item in executions
        ]
        page, following = paginate(entries, params, default_limit=MAX_PAGE)
        answer: dict[str, Any] = {"TaskExecutions": page}
        if following:
            answer["NextToken"] = following
        return answer

    def cancel_task_execution(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(self.state(ctx), params["TaskExecutionArn"])
        status = execution.status.state
        if status in TERMINAL:
            raise invalid(f"Task execution {execution.arn} is already {status}.")
        execution.cancelled = True  # type: ignore[attr-defined]
        if status == "QUEUED":
            with execution.lock:
                execution.error_code, execution.error_detail = "Cancelled", "The task execution was cancelled."
                execution.end_time = self.clock.now()
                self._enter(execution, "ERROR")
        else:
            self._enter(execution, "CANCELLING")
        return {}
