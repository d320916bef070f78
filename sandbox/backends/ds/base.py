"""Shared plumbing of the Directory Service backend: region state, look-ups, seams for other backends."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable
from typing import Any

from sandbox import moto_state
from sandbox.backends.common import create_service_interface, cursor_page, delete_interfaces
from sandbox.backends.ds.constants import GONE
from sandbox.backends.ds.models import Directory, DirectoryInfo, DomainController, RegionState, StampedLifecycle
from sandbox.backends.ds.provider import DependentCheck, DomainControllerProvider
from sandbox.background import BackgroundWorker
from sandbox.clock import Lifecycle, SimClock
from sandbox.errors import AwsError
from sandbox.jsonproto import ACCOUNT_ID, Context, JsonService


class DirectoryBase(JsonService):
    service_name = "ds"

    def __init__(self, clock: SimClock) -> None:
        super().__init__(clock)
        self.dc_provider: DomainControllerProvider | None = None  # see the module docstring
        self._dependent_checks: list[DependentCheck] = []
        self._background: BackgroundWorker | None = None

    @property
    def background(self) -> BackgroundWorker:
        """Where the DC provider's slow work runs (shared with FSx's file shares: one queue, in order)."""
        with self._lock:
            if self._background is None:
                self._background = BackgroundWorker("sandbox-ds-dc")
            return self._background

    def reset(self) -> None:
        """Forget every directory; with a DC provider, drop the queued DC work, let the running job end,
        then remove every DC (in this order, so that no job starts a DC after the removal)."""
        if self._background is not None:
            self._background.cancel_pending()
            self._background.wait_idle()
        destroy_all = getattr(self.dc_provider, "destroy_all", None)
        if destroy_all is not None:
            destroy_all()
        super().reset()

    def new_region_state(self, region: str) -> RegionState:
        return RegionState()

    def region_state(self, region: str) -> RegionState:
        return self.state(Context(region=region, account_id=ACCOUNT_ID, request_id="internal", operation="internal"))

    def add_dependent_check(self, check: DependentCheck) -> None:
        """Register a function naming the resources that still use a directory (blocks DeleteDirectory)."""
        self._dependent_checks.append(check)

    def directory_info(self, region: str, directory_id: str) -> DirectoryInfo | None:
        with self._lock:
            directory = self._live(self.region_state(region)).get(directory_id)
            if directory is None:
                return None
            return DirectoryInfo(
                directory.directory_id,
                directory.name,
                directory.short_name,
                directory.stage.state,
                directory.vpc_id,
                tuple(directory.dns_ip_addrs),
            )

    def _live(self, state: RegionState) -> dict[str, Directory]:
        """Directories that still exist, after dropping those whose deletion has completed."""
        for directory in list(state.directories.values()):
            if directory.stage.state == GONE:
                self._release(directory)
                del state.directories[directory.directory_id]
                continue
            for controller in list(directory.controllers):
                if controller.status.state == GONE:
                    delete_interfaces(directory.region, [controller.eni_id])
                    directory.controllers.remove(controller)
        return state.directories

    def _release(self, directory: Directory) -> None:
        from moto.core.exceptions import ServiceException

        provider = self.dc_provider
        if provider is not None and (directory.dc_requested or directory.provided_addresses is not None):
            # Queued behind its provisioning if that still runs: no orphan DC, and no API call waits.
            self.background.submit(f"destroy the DC of {directory.directory_id}", lambda: provider.destroy(directory))
        delete_interfaces(directory.region, [controller.eni_id for controller in directory.controllers])
        with contextlib.suppress(ServiceException):  # already deleted by hand
            moto_state.ec2(directory.region).delete_security_group(group_id=directory.security_group_id)

    def _get(self, state: RegionState, directory_id: str) -> Directory:
        directory = self._live(state).get(directory_id)
        if directory is None:
            raise AwsError("EntityDoesNotExistException", f"Directory {directory_id} does not exist.")
        return directory

    def _require_active(self, directory: Directory) -> None:
        if directory.stage.state != "Active":
            raise AwsError(
                "DirectoryUnavailableException",
                f"Directory {directory.directory_id} is in stage {directory.stage.state}; "
                "the operation needs an Active directory.",
            )

    def _new_controller(self, directory: Directory, index: int, seconds_to_active: float | None) -> DomainController:
        """A controller and its network interface; None: it waits in Creating for the directory's DC."""
        subnet_index = index % len(directory.subnet_ids)
        subnet_id = directory.subnet_ids[subnet_index]
        eni_id, address = create_service_interface(
            directory.region,
            subnet_id,
            [directory.security_group_id],
            f"AWS created network interface for directory {directory.directory_id}",
            seed=f"{directory.directory_id}:{index}",
        )
        status = StampedLifecycle(self.clock, "Creating")
        if seconds_to_active is not None:
            status.go("Creating", (seconds_to_active, "Active"))
        return DomainController(
            controller_id=f"dc-{secrets.token_hex(5)}",
            subnet_id=subnet_id,
            availability_zone=directory.zones[subnet_index],
            address=address,
            eni_id=eni_id,
            status=status,
            launch_time=self.clock.now(),
        )


def shown(lifecycle: Lifecycle) -> str:
    """The stage AWS shows: a resource whose deletion ends between two reads of one request is still Deleting."""
    state = lifecycle.state
    return "Deleting" if state == GONE else state


def directory_page(
    items: list[Any], sort_key: Callable[[Any], tuple[float, str]], params: dict[str, Any]
) -> tuple[list[Any], str | None]:
    try:
        return cursor_page(items, sort_key, params.get("NextToken"), params.get("Limit") or 100)
    except ValueError as exc:
        raise AwsError("InvalidNextTokenException", "Invalid value passed for the NextToken parameter") from exc
