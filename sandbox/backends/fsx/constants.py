"""FSx for Windows File Server's modelled durations, limits and value sets."""

from __future__ import annotations

import re

# Modelled AWS durations, in real AWS seconds (the sandbox multiplies them by its time scale).
DURATIONS: dict[str, float] = {
    "create_single_az": 30 * 60,  # CREATING -> AVAILABLE, SINGLE_AZ_1 / SINGLE_AZ_2
    "create_multi_az": 45 * 60,  # CREATING -> AVAILABLE, MULTI_AZ_1
    "delete": 10 * 60,  # DELETING -> gone (after the final backup, when one is taken)
    "backup": 5 * 60,  # backup CREATING -> AVAILABLE
    "action_pending": 60,  # an administrative action PENDING -> IN_PROGRESS
    "throughput_update": 19 * 60,  # throughput FILE_SYSTEM_UPDATE IN_PROGRESS -> COMPLETED
    "storage_update": 15 * 60,  # storage FILE_SYSTEM_UPDATE IN_PROGRESS -> UPDATED_OPTIMIZING
    "storage_optimization": 60 * 60,  # UPDATED_OPTIMIZING / STORAGE_OPTIMIZATION -> COMPLETED
    "alias_association": 5 * 60,  # alias CREATING -> AVAILABLE
    "alias_disassociation": 5 * 60,  # alias DELETING -> gone
}


THROUGHPUT_VALUES = (8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3072, 4608, 6144, 9216, 12288)

SINGLE_AZ_1_MAX_THROUGHPUT = 2048

AUDIT_MIN_THROUGHPUT = 32

STORAGE_UPDATE_MIN_THROUGHPUT = 16

SSD_RANGE = (32, 65536)

HDD_RANGE = (2000, 65536)

STORAGE_MIN_INCREASE = 1.10

LONG_DOMAIN_DEPLOYMENTS = ("SINGLE_AZ_2", "MULTI_AZ_1")

MAX_DOMAIN_NAME_LENGTH = 47

MAX_ALIASES = 50

MAX_TAGS = 50

MAX_PAGE = 50

DEFAULT_FILE_SYSTEM_LIMIT = 100

DEFAULT_RETENTION_DAYS = 30

GONE = "GONE"  # internal terminal state: the resource is dropped the next time it is read

FINISHED = ("COMPLETED", "FAILED", "CANCELLED")

OTHER_CONFIGURATIONS = ("LustreConfiguration", "OntapConfiguration", "OpenZFSConfiguration")

ALIAS_PATTERN = re.compile(r"^(?=.{4,253}$)([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?\.)+[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$")

DISABLED_AUDIT = {"FileAccessAuditLogLevel": "DISABLED", "FileShareAccessAuditLogLevel": "DISABLED"}
