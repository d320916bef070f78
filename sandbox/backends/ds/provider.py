"""The seam through which a real domain controller (a Samba AD DC) backs a directory."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sandbox.backends.ds.models import Directory


class ProvisioningError(Exception):
    """Raised by a DomainControllerProvider when a DC cannot be provisioned: the directory goes Failed."""


class DomainControllerProvider(Protocol):
    """Backs a directory with a real domain controller (for example a Samba AD DC).

    `provision` and `destroy` run on the backend's background worker (sandbox/background.py), one
    job at a time in submission order, never on a request thread: they may take as long as a DC
    needs. `set_password` runs on the request thread of ResetUserPassword, without the backend's lock.
    """

    def provision(self, directory: Directory, admin_password: str) -> list[str]:
        """Start a DC for `directory` (name, short_name, ...); return its DNS/DC addresses."""
        ...

    def set_password(self, directory: Directory, user: str, password: str) -> None:
        """Apply a ResetUserPassword; raise AwsError("UserDoesNotExistException", ...) for unknown users."""
        ...

    def destroy(self, directory: Directory) -> None:
        """Stop and remove the DC of a deleted directory."""
        ...


DependentCheck = Callable[[str, str], list[str]]  # (region, directory id) -> ids of resources using it
