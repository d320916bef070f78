"""AWS DataSync's modelled durations, limits and value sets."""

from __future__ import annotations

# Modelled AWS durations, in real AWS seconds (the sandbox multiplies them by its time scale).
DURATIONS: dict[str, float] = {
    "launching": 20,  # LAUNCHING -> PREPARING: the service's network interfaces in the VPC
    "preparing": 30,  # PREPARING -> TRANSFERRING: listing and comparing source and destination
    "transfer_minimum": 20,  # TRANSFERRING lasts at least this long, then as long as the copy takes
    "verifying_minimum": 20,  # VERIFYING lasts at least this long, then as long as the read-back takes
}
# Modelled throughput of a transfer (bytes per modelled second): what makes a large transfer last longer.
THROUGHPUT = 100 * 1024 * 1024

TERMINAL = ("SUCCESS", "ERROR")
RUNNING = ("LAUNCHING", "PREPARING", "TRANSFERRING", "VERIFYING", "CANCELLING")

MAX_TAGS = 50
MAX_PAGE = 100
# Locations per account and region, tasks per account and region (AWS DataSync quotas).
MAX_TASKS = 100

# DataSync's defaults for the Options a request leaves out (API reference, Options).
DEFAULT_OPTIONS: dict[str, object] = {
    "VerifyMode": "POINT_IN_TIME_CONSISTENT",
    "OverwriteMode": "ALWAYS",
    "Atime": "BEST_EFFORT",
    "Mtime": "PRESERVE",
    "Uid": "NONE",
    "Gid": "NONE",
    "PreserveDeletedFiles": "PRESERVE",
    "PreserveDevices": "NONE",
    "PosixPermissions": "NONE",
    "BytesPerSecond": -1,
    "TaskQueueing": "ENABLED",
    "LogLevel": "OFF",
    "TransferMode": "CHANGED",
    "SecurityDescriptorCopyFlags": "OWNER_DACL",
    "ObjectTags": "PRESERVE",
}
