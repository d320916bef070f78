"""Fleets: create, describe, update (the running/stopped rules), start, stop, delete, stack associations."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.backends.appstream.base import AppStreamBase
from sandbox.backends.appstream.constants import ELASTIC_PLATFORMS, FLEET_ATTRIBUTES, FLEET_DEFAULTS, FLEET_REQUEST_ONLY
from sandbox.backends.appstream.resources import Fleet, RegionState, arn
from sandbox.backends.appstream.rules import (
    check_compute_capacity,
    check_tag_keys,
    check_timeouts,
    delete_conflicts,
    fields_requiring_stop,
    merged_tags,
)
from sandbox.errors import AwsError, already_exists, in_use, invalid_combination, not_found
from sandbox.jsonproto import Context

_ELASTIC_FORBIDDEN = ("ImageName", "ImageArn", "ComputeCapacity", "DomainJoinInfo", "MaxSessionsPerInstance")
_ELASTIC_ONLY = ("MaxConcurrentSessions", "SessionScriptS3Location")


class FleetsMixin(AppStreamBase):
    # -- validation of a whole fleet configuration -------------------------------------------
    def resolve_fleet(
        self,
        region: str,
        rs: RegionState,
        settings: dict[str, Any],
        *,
        requested_platform: str | None,
        previous_platform: str | None,
    ) -> None:
        """Check a complete fleet configuration and fill in what derives from its image."""
        check_timeouts(settings)
        if settings["FleetType"] == "ELASTIC":
            self.check_elastic(region, settings)
        else:
            self.check_instance_fleet(rs, settings, requested_platform, previous_platform)
            self.check_vpc(region, settings.get("VpcConfig"))
        self.check_domain_join(rs, settings.get("DomainJoinInfo"), settings.get("VpcConfig"))

    def check_elastic(self, region: str, settings: dict[str, Any]) -> None:
        present = [member for member in _ELASTIC_FORBIDDEN if settings.get(member) is not None]
        if present:
            raise invalid_combination(f"Elastic fleets do not take {', '.join(present)}.")
        if not settings.get("MaxConcurrentSessions"):
            raise invalid_combination("Elastic fleets require MaxConcurrentSessions.")
        if settings.get("Platform") not in ELASTIC_PLATFORMS:
            raise invalid_combination(
                f"Elastic fleets require a Platform among {', '.join(sorted(ELASTIC_PLATFORMS))}."
            )
        _, zones = self.check_vpc(region, settings.get("VpcConfig"))
        if len(set(zones)) < 2:
            raise invalid_combination("Elastic fleets require at least two subnets in different availability zones.")

    def check_instance_fleet(
        self, rs: RegionState, settings: dict[str, Any], requested_platform: str | None, previous_platform: str | None
    ) -> None:
        present = [member for member in _ELASTIC_ONLY if settings.get(member) is not None]
        if present:
            raise invalid_combination(f"{', '.join(present)} only apply to Elastic fleets.")
        name = settings.get("ImageName")
        image = self.usable_image(rs, name, None if name else settings.get("ImageArn"))
        self.check_platform(image, requested_platform, previous_platform)
        settings.update({"ImageName": image.name, "ImageArn": image.arn, "Platform": image.platform})
        check_compute_capacity(settings.get("ComputeCapacity"), settings.get("MaxSessionsPerInstance"))

    # -- operations ---------------------------------------------------------------------------
    def create_fleet(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        name = params["Name"]
        if name in rs.fleets:
            raise already_exists(f"Fleet {name} already exists.")
        if params.get("ImageName") and params.get("ImageArn"):
            raise invalid_combination("Specify ImageName or ImageArn, not both.")
        settings = {**FLEET_DEFAULTS, **{k: copy.deepcopy(v) for k, v in params.items() if k not in FLEET_REQUEST_ONLY}}
        self.resolve_fleet(ctx.region, rs, settings, requested_platform=params.get("Platform"), previous_platform=None)
        tags = params.get("Tags") or {}
        check_tag_keys(tags)
        fleet = Fleet(
            name=name,
            arn=arn(ctx.region, ctx.account_id, "fleet", name),
            settings=settings,
            lifecycle=self.lifecycle("STOPPED"),
            tags=merged_tags({}, tags),
        )
        rs.fleets[name] = fleet
        return {"Fleet": self.describe_fleet(rs, fleet)}

    def describe_fleet(self, rs: RegionState, fleet: Fleet) -> dict[str, Any]:
        return self.shaped("Fleet", fleet.describe(sum(1 for _ in rs.sessions_of(fleet.name))))

    def describe_fleets(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        names = params.get("Names")
        fleets = [self.fleet(rs, n) for n in names] if names else list(rs.fleets.values())
        page, token = self.page("DescribeFleets", fleets, params)
        return self.with_token({"Fleets": [self.describe_fleet(rs, f) for f in page]}, token)

    def update_fleet(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        if not params.get("Name"):
            raise invalid_combination("Name is required: it identifies the fleet to update.")
        fleet = self.fleet(rs, params["Name"])
        requested = {k: v for k, v in params.items() if k != "Name"}
        self.check_update_allowed(fleet, requested)
        if requested.get("ImageName") and requested.get("ImageArn"):
            raise invalid_combination("Specify ImageName or ImageArn, not both.")
        settings = self.updated_fleet_settings(fleet, requested)
        image_changed = bool(requested.get("ImageName") or requested.get("ImageArn"))
        self.resolve_fleet(
            ctx.region,
            rs,
            settings,
            requested_platform=requested.get("Platform"),
            previous_platform=fleet.settings.get("Platform") if image_changed else None,
        )
        fleet.settings = settings
        return {"Fleet": self.describe_fleet(rs, fleet)}

    @staticmethod
    def check_update_allowed(fleet: Fleet, requested: dict[str, Any]) -> None:
        state = fleet.state
        if state in ("STARTING", "STOPPING"):
            raise AwsError(
                "ConcurrentModificationException",
                f"Fleet {fleet.name} is {state} and cannot be updated until it is RUNNING or STOPPED.",
            )
        if state == "RUNNING":
            refused = fields_requiring_stop(fleet.fleet_type, requested)
            if refused:
                # AWS's own wording and code for this case (ResourceInUseException), naming the attributes.
                raise in_use(
                    f"Cannot update the attribute(s) {', '.join(refused)} for fleet {fleet.name} when it is RUNNING. "
                    "The fleet must be stopped to complete this action."
                )

    @staticmethod
    def updated_fleet_settings(fleet: Fleet, requested: dict[str, Any]) -> dict[str, Any]:
        """The fleet's settings after AttributesToDelete and the requested values."""
        deleting = list(requested.get("AttributesToDelete") or [])
        if requested.get("DeleteVpcConfig"):
            deleting.append("VPC_CONFIGURATION")
        targets = [FLEET_ATTRIBUTES[attribute] for attribute in deleting]
        conflicts = delete_conflicts(requested, [member for member, key in targets if key is None])
        if any(key and (requested.get(member) or {}).get(key) for member, key in targets):
            conflicts.append("VpcConfig.SecurityGroupIds")
        if conflicts:
            raise invalid_combination(f"{', '.join(conflicts)} cannot be set and deleted in one request.")
        settings = copy.deepcopy(fleet.settings)
        if requested.get("ImageName") or requested.get("ImageArn"):
            for derived in ("ImageName", "ImageArn", "Platform"):
                settings.pop(derived, None)
        for member, key in targets:
            if key is None:
                settings.pop(member, None)
            elif isinstance(settings.get(member), dict):
                settings[member].pop(key, None)
        for member, value in requested.items():
            if member not in FLEET_REQUEST_ONLY and value is not None:
                settings[member] = copy.deepcopy(value)
        return settings

    def delete_fleet(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        fleet = self.fleet(rs, params["Name"])
        if fleet.state != "STOPPED":
            raise in_use(f"Fleet {fleet.name} is {fleet.state}; stop it before deleting it.")
        stacks = rs.stacks_of(fleet.name)
        if stacks:
            raise in_use(
                f"The fleet {fleet.name} is associated with a stack. To delete the fleet, you must dissociate it "
                "from the stack."
            )
        del rs.fleets[fleet.name]
        return {}

    def start_fleet(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        fleet = self.fleet(rs, params["Name"])
        state = fleet.state
        if state in ("RUNNING", "STARTING"):
            return {}
        if state == "STOPPING":
            raise AwsError("ConcurrentModificationException", f"Fleet {fleet.name} is STOPPING; try again later.")
        if fleet.fleet_type != "ELASTIC":
            self.usable_image(rs, fleet.settings.get("ImageName"), None)
        self.check_domain_join(rs, fleet.settings.get("DomainJoinInfo"), fleet.settings.get("VpcConfig"))
        self.begin_start(fleet)
        return {}

    def begin_start(self, fleet: Fleet) -> None:
        failure = fleet.fail_next_start
        fleet.errors = []
        if failure is None:
            key = "fleet_start_domain_joined" if fleet.domain_joined else "fleet_start"
            fleet.lifecycle.go("STARTING", (self.seconds(key), "RUNNING"))
            return
        fleet.fail_next_start = None
        errors, final_state = failure["errors"], failure["final_state"]

        def report() -> None:
            fleet.errors = copy.deepcopy(errors)

        fleet.lifecycle.go("STARTING", (self.seconds("fleet_errors_appear"), final_state, report))

    def stop_fleet(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        fleet = self.fleet(rs, params["Name"])
        if fleet.state in ("STOPPED", "STOPPING"):
            return {}
        fleet.lifecycle.go("STOPPING", (self.seconds("fleet_stop"), "STOPPED"))
        for session in list(rs.sessions_of(fleet.name)):
            self.session_ended(rs, session)
        return {}

    # -- stack associations -------------------------------------------------------------------
    def associate_fleet(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        fleet = self.fleet(rs, params["FleetName"])
        stack = self.stack(rs, params["StackName"])
        if (fleet.name, stack.name) in rs.fleet_stacks:
            return {}
        others = rs.fleets_of(stack.name)
        if others:
            raise AwsError(
                "OperationNotPermittedException",
                f"Stack {stack.name} is already associated with fleet {others[0]}; a stack has one fleet at a time.",
            )
        rs.fleet_stacks.append((fleet.name, stack.name))
        return {}

    def disassociate_fleet(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        fleet = self.fleet(rs, params["FleetName"])
        stack = self.stack(rs, params["StackName"])
        if (fleet.name, stack.name) not in rs.fleet_stacks:
            raise not_found(f"Fleet {fleet.name} is not associated with stack {stack.name}.")
        if any(s.stack == stack.name for s in rs.sessions_of(fleet.name)):
            raise in_use(f"Fleet {fleet.name} has active sessions on stack {stack.name}.")
        rs.fleet_stacks.remove((fleet.name, stack.name))
        return {}

    def list_associated_stacks(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        names = self.rs(ctx).stacks_of(params["FleetName"])
        page, token = self.page("ListAssociatedStacks", names, params)
        return self.with_token({"Names": page}, token)

    def list_associated_fleets(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        names = self.rs(ctx).fleets_of(params["StackName"])
        page, token = self.page("ListAssociatedFleets", names, params)
        return self.with_token({"Names": page}, token)
