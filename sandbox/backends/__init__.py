"""The project's own service backends, keyed by SigV4 service name."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sandbox.clock import SimClock
from sandbox.jsonproto import JsonService


def _state_dir(explicit: Path | str | None) -> Path:
    """The sandbox's state dir: given, else `serve --state-dir`, else SANDBOX_STATE_DIR, else .sandbox."""
    if explicit is not None:
        return Path(explicit)
    argv = sys.argv
    for index, arg in enumerate(argv):
        if arg == "--state-dir" and index + 1 < len(argv):
            return Path(argv[index + 1])
        if arg.startswith("--state-dir="):
            return Path(arg.split("=", 1)[1])
    return Path(os.environ.get("SANDBOX_STATE_DIR", Path(__file__).resolve().parents[2] / ".sandbox"))


# SANDBOX_SAMBA: back each Managed AD directory with a real Samba AD DC when Samba is installed
# ("auto", the default, or 1), or never (0). A DC costs 10-40 s of provisioning and ~400 MB, so the
# shared test sandbox (tests/conftest.py), which creates many directories, turns it off.
SAMBA_DEFAULT = "auto"


def samba_provider(state_dir: Path | str | None = None) -> object | None:
    """A Samba AD DC provider when asked for (SANDBOX_SAMBA) and Samba is installed."""
    if os.environ.get("SANDBOX_SAMBA", SAMBA_DEFAULT).lower() not in ("1", "true", "yes", "on", "auto"):
        return None
    from sandbox.samba import SambaDcProvider

    if not SambaDcProvider.available():
        return None
    provider = SambaDcProvider(_state_dir(state_dir))
    provider.stop_stale()
    return provider


def build_services(clock: SimClock, state_dir: Path | str | None = None) -> dict[str, JsonService]:
    from sandbox.backends.appstream import AppStreamService
    from sandbox.backends.budgets import BudgetsService
    from sandbox.backends.costexplorer import CostExplorerService
    from sandbox.backends.datasync import DataSyncService
    from sandbox.backends.ds import DirectoryService
    from sandbox.backends.fsx import FSxService
    from sandbox.backends.tagging import TaggingService
    from sandbox.moto_gaps import install as fill_moto_gaps

    fill_moto_gaps()  # SAML provider tags, CreateDhcpOptions TagSpecifications
    directories = DirectoryService(clock)
    file_systems = FSxService(clock)
    # FSx resolves ActiveDirectoryId through the DS backend, which in turn refuses to delete a directory in use.
    file_systems.attach_directory_service(directories)
    # DataSync writes to the share a file system's Samba DC serves (FSx for Windows locations).
    transfers = DataSyncService(clock)
    transfers.attach_file_systems(file_systems)
    provider = samba_provider(state_dir)
    if provider is not None:
        # Each directory gets a real Samba AD DC, provisioned in the background while it is Creating;
        # DnsIpAddrs are its addresses. A reset removes every DC (DirectoryBase.reset).
        directories.dc_provider = provider  # type: ignore[assignment]
    appstream = AppStreamService(clock)
    return {
        "appstream": appstream,
        "budgets": BudgetsService(clock),
        "ce": CostExplorerService(clock),
        "datasync": transfers,
        "ds": directories,
        "fsx": file_systems,
        # Resource Groups Tagging API (SigV4 name `tagging`): GetResources over moto's services and these.
        "tagging": TaggingService(clock, [appstream, directories, file_systems, transfers]),
    }
