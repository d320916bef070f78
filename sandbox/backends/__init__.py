"""The project's own service backends, keyed by SigV4 service name."""

from __future__ import annotations

from sandbox.clock import SimClock
from sandbox.jsonproto import JsonService


def build_services(clock: SimClock) -> dict[str, JsonService]:
    from sandbox.backends.appstream import AppStreamService
    from sandbox.backends.ds import DirectoryService
    from sandbox.backends.fsx import FSxService

    return {
        "appstream": AppStreamService(clock),
        "ds": DirectoryService(clock),
        "fsx": FSxService(clock),
    }
