"""Locations, tasks and task executions as the backend keeps them."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sandbox.clock import Lifecycle
from sandbox.jsonproto import ACCOUNT_ID


@dataclass
class Location:
    region: str
    location_id: str
    kind: str  # S3 | FSXW
    uri: str
    subdirectory: str  # normalised: leading and trailing "/"
    creation_time: float
    tags: dict[str, str] = field(default_factory=dict)
    # S3
    bucket: str = ""
    bucket_access_role_arn: str = ""
    storage_class: str = "STANDARD"
    # FSx for Windows: the password is kept for the copy only, never returned or logged.
    file_system_id: str = ""
    security_group_arns: list[str] = field(default_factory=list)
    user: str = ""
    domain: str = ""
    password: str = field(default="", repr=False)

    @property
    def arn(self) -> str:
        return f"arn:aws:datasync:{self.region}:{ACCOUNT_ID}:location/{self.location_id}"


@dataclass
class Task:
    region: str
    task_id: str
    name: str
    source_arn: str
    destination_arn: str
    creation_time: float
    options: dict[str, Any]
    log_group_arn: str | None = None
    includes: list[dict[str, str]] = field(default_factory=list)
    excludes: list[dict[str, str]] = field(default_factory=list)
    schedule: dict[str, Any] | None = None
    manifest_config: dict[str, Any] | None = None
    task_mode: str = "BASIC"
    tags: dict[str, str] = field(default_factory=dict)
    executions: list[str] = field(default_factory=list)  # execution ids, oldest first

    @property
    def arn(self) -> str:
        return f"arn:aws:datasync:{self.region}:{ACCOUNT_ID}:task/{self.task_id}"


@dataclass
class Counters:
    """What DescribeTaskExecution reports, updated by the copy as it goes."""

    estimated_files: int = 0
    estimated_bytes: int = 0
    files_prepared: int = 0
    files_transferred: int = 0
    bytes_transferred: int = 0
    bytes_written: int = 0
    files_skipped: int = 0
    files_verified: int = 0
    failed_transfer: int = 0
    failed_verify: int = 0
    folders_transferred: int = 0


@dataclass
class Execution:
    task: Task
    execution_id: str
    status: Lifecycle
    options: dict[str, Any]
    includes: list[dict[str, str]]
    excludes: list[dict[str, str]]
    manifest_config: dict[str, Any] | None
    start_time: float
    launch_time: float | None = None
    end_time: float | None = None
    counters: Counters = field(default_factory=Counters)
    error_code: str | None = None
    error_detail: str | None = None
    phase_status: dict[str, str] = field(
        default_factory=lambda: {"Prepare": "PENDING", "Transfer": "PENDING", "Verify": "PENDING"}
    )
    history: list[str] = field(default_factory=list)  # every status entered, in order (sandbox hook)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def arn(self) -> str:
        return f"{self.task.arn}/execution/{self.execution_id}"


@dataclass
class RegionState:
    locations: dict[str, Location] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)
    executions: dict[str, Execution] = field(default_factory=dict)
