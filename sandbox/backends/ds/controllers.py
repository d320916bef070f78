"""UpdateNumberOfDomainControllers, DescribeDomainControllers."""

from __future__ import annotations

from typing import Any

from sandbox.backends.ds.base import DirectoryBase, directory_page, shown
from sandbox.backends.ds.constants import DURATIONS, GONE, MAX_DOMAIN_CONTROLLERS
from sandbox.backends.ds.models import Directory, DomainController
from sandbox.errors import AwsError
from sandbox.jsonproto import Context


class ControllersMixin(DirectoryBase):
    def update_number_of_domain_controllers(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        directory = self._get(self.state(ctx), params["DirectoryId"])
        self._require_active(directory)
        desired = params["DesiredNumber"]
        if desired > MAX_DOMAIN_CONTROLLERS:
            raise AwsError(
                "DomainControllerLimitExceededException",
                f"A directory can have at most {MAX_DOMAIN_CONTROLLERS} domain controllers.",
            )
        if any(controller.status.state in ("Creating", "Deleting") for controller in directory.controllers):
            raise AwsError("ClientException", "A domain controller update is already in progress for this directory.")
        current = len(directory.controllers)
        for index in range(current, desired):
            directory.controllers.append(self._new_controller(directory, index, DURATIONS["controller_creating"]))
        for controller in directory.controllers[desired:]:
            controller.status.go("Deleting", (DURATIONS["controller_deleting"], GONE))
        directory.desired_controllers = desired
        return {}

    def describe_domain_controllers(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        directory = self._get(self.state(ctx), params["DirectoryId"])
        wanted = set(params.get("DomainControllerIds") or [])
        controllers = [item for item in directory.controllers if not wanted or item.controller_id in wanted]
        page, following = directory_page(controllers, lambda item: (item.launch_time, item.controller_id), params)
        result: dict[str, Any] = {"DomainControllers": [self._describe_controller(directory, item) for item in page]}
        if following:
            result["NextToken"] = following
        return result

    @staticmethod
    def _describe_controller(directory: Directory, controller: DomainController) -> dict[str, Any]:
        return {
            "DirectoryId": directory.directory_id,
            "DomainControllerId": controller.controller_id,
            "DnsIpAddr": controller.address,
            "VpcId": directory.vpc_id,
            "SubnetId": controller.subnet_id,
            "AvailabilityZone": controller.availability_zone,
            "Status": shown(controller.status),
            "LaunchTime": controller.launch_time,
            "StatusLastUpdatedDateTime": controller.status.entered_at,
        }
