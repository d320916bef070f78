"""The sandbox's Directory Service backend (Managed Microsoft AD): moto's creates directories already Active."""

from sandbox.backends.ds.constants import DURATIONS
from sandbox.backends.ds.models import Directory, DirectoryInfo
from sandbox.backends.ds.provider import DomainControllerProvider, ProvisioningError
from sandbox.backends.ds.service import DirectoryService

__all__ = [
    "DURATIONS",
    "Directory",
    "DirectoryInfo",
    "DirectoryService",
    "DomainControllerProvider",
    "ProvisioningError",
]
