"""Amazon FSx for Windows File Server as the sandbox models it (WINDOWS file systems only).

File systems move CREATING -> AVAILABLE over (scaled) time, join a Managed Microsoft AD
directory of the sandbox's DS backend (which must be Active), get requester-managed
network interfaces in moto's EC2, and follow AWS's rules on storage, throughput,
deployment types and networks with the model's error codes. Throughput and storage
changes run as AdministrativeActions that complete over time while the file system stays
AVAILABLE; aliases are associated and disassociated over time; deleting takes a final
backup unless told not to. ClientRequestToken makes CreateFileSystem and CreateBackup
idempotent.
"""

from __future__ import annotations

from sandbox.backends.fsx.aliases import AliasesMixin
from sandbox.backends.fsx.backups import BackupsMixin
from sandbox.backends.fsx.file_systems import FileSystemsMixin
from sandbox.backends.fsx.hooks import HooksMixin
from sandbox.backends.fsx.tags import TagsMixin


class FSxService(FileSystemsMixin, BackupsMixin, AliasesMixin, TagsMixin, HooksMixin):
    """FSx as the sandbox serves it (JSON 1.1, `AWSSimbaAPIService_v20180301.<Operation>`)."""

    service_name = "fsx"
