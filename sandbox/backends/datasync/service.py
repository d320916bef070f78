"""AWS DataSync as the sandbox models it: S3 to FSx for Windows File Server, in one account.

Locations (S3 with a bucket access role, FSx for Windows with a user, domain, password and security
groups) and tasks (Options, Includes/Excludes, ManifestConfig, Schedule, CloudWatchLogGroupArn, tags) are
checked against moto's S3, IAM, EC2 and CloudWatch Logs and the sandbox's FSx backend. Task executions
move through AWS's states over scaled time with DescribeTaskExecution's counters; when the destination
file system is served by a Samba DC, the objects (the versions a manifest names) are really copied to the
share as the location's user and read back to verify them by SHA-256, and the task's log group gets the
execution's log stream. DataSync's Schedule is kept and reported, never run: nothing in the sandbox
starts executions on a clock.
"""

from __future__ import annotations

from sandbox.backends.datasync.executions import ExecutionsMixin
from sandbox.backends.datasync.hooks import HooksMixin
from sandbox.backends.datasync.locations import LocationsMixin
from sandbox.backends.datasync.tags import TagsMixin


class DataSyncService(ExecutionsMixin, LocationsMixin, TagsMixin, HooksMixin):
    """DataSync as the sandbox serves it (JSON 1.1 `FmrsService.<Operation>`, and CBOR through the gateway)."""

    service_name = "datasync"
