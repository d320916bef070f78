"""File systems, backups, aliases and administrative actions as the backend keeps them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.backends.fsx.constants import DEFAULT_FILE_SYSTEM_LIMIT
from sandbox.clock import Lifecycle
from sandbox.jsonproto import ACCOUNT_ID


@dataclass
class Alias:
    name: str
    lifecycle: Lifecycle


@dataclass
class AdministrativeAction:
    action_type: str
    request_time: float
    status: Lifecycle
    target: dict[str, Any] | None = None


@dataclass
class FileSystem:
    region: str
    file_system_id: str
    lifecycle: Lifecycle
    creation_time: float
    deployment_type: str
    storage_capacity: int
    storage_type: str
    throughput: int
    vpc_id: str
    subnet_ids: list[str]
    preferred_subnet_id: str
    addresses: dict[str, str]
    eni_ids: list[str]
    domain_name: str
    directory_id: str | None
    self_managed: dict[str, Any] | None
    dns_name: str
    remote_admin_endpoint: str
    kms_key_id: str
    weekly_maintenance: str
    daily_backup: str
    retention_days: int
    copy_tags_to_backups: bool
    audit: dict[str, str]
    disk_iops: dict[str, Any] | None
    fsrm: dict[str, Any] | None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[Alias] = field(default_factory=list)
    actions: list[AdministrativeAction] = field(default_factory=list)
    failure_message: str | None = None
    final_backup: dict[str, Any] | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:fsx:{self.region}:{ACCOUNT_ID}:file-system/{self.file_system_id}"


@dataclass
class Backup:
    region: str
    backup_id: str
    file_system_id: str
    lifecycle: Lifecycle
    creation_time: float
    kms_key_id: str
    file_system: dict[str, Any]
    directory: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)
    backup_type: str = "USER_INITIATED"

    @property
    def arn(self) -> str:
        return f"arn:aws:fsx:{self.region}:{ACCOUNT_ID}:backup/{self.backup_id}"


@dataclass
class RegionState:
    file_systems: dict[str, FileSystem] = field(default_factory=dict)
    backups: dict[str, Backup] = field(default_factory=dict)
    tokens: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    file_system_limit: int = DEFAULT_FILE_SYSTEM_LIMIT
