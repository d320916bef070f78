"""The project's own service backends, keyed by SigV4 service name."""

from __future__ import annotations

from sandbox.clock import SimClock
from sandbox.jsonproto import JsonService


def build_services(clock: SimClock) -> dict[str, JsonService]:
    from sandbox.backends.appstream import AppStreamService
    from sandbox.backends.budgets import BudgetsService
    from sandbox.backends.ds import DirectoryService
    from sandbox.backends.fsx import FSxService

    directories = DirectoryService(clock)
    file_systems = FSxService(clock)
    # FSx resolves ActiveDirectoryId through the DS backend, which in turn refuses to delete a directory in use.
    file_systems.attach_directory_service(directories)
    return {
        "appstream": AppStreamService(clock),
        "budgets": BudgetsService(clock),
        "ds": directories,
        "fsx": file_systems,
    }
