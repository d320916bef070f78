"""The sandbox's DataSync backend: moto's only cycles execution states; this one moves data."""

from sandbox.backends.datasync.constants import DURATIONS
from sandbox.backends.datasync.service import DataSyncService

__all__ = ["DURATIONS", "DataSyncService"]
