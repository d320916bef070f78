"""Sandbox-only hooks (POST /_sandbox/appstream/<action>): what AWS does on its own, made callable.

Each hook takes (region, payload) and returns a JSON-able dict. Unknown resources raise
KeyError (the admin API answers 404); invalid payloads raise ValueError (400); a request AWS
itself would refuse raises AwsError with the service's code.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from sandbox.backends.appstream.base import AppStreamBase
from sandbox.backends.appstream.constants import DEFAULT_AGENT_VERSION, MAX_IMAGE_APPLICATIONS
from sandbox.backends.appstream.resources import (
    Fleet,
    Image,
    ImageBuilder,
    RegionState,
    Session,
    arn,
    digest,
    eni_for,
    utcnow,
)
from sandbox.backends.appstream.rules import check_builder_action, check_image_name, check_tag_keys, merged_tags
from sandbox.errors import AwsError
from sandbox.jsonproto import ACCOUNT_ID

# Image Assistant option names (snake case) accepted next to the API's member names.
_APPLICATION_ALIASES = {
    "name": "Name",
    "display_name": "DisplayName",
    "absolute_app_path": "LaunchPath",
    "launch_path": "LaunchPath",
    "launch_parameters": "LaunchParameters",
    "working_directory": "WorkingDirectory",
    "icon_url": "IconURL",
    "description": "Description",
}
_APPLICATION_MEMBERS = frozenset(_APPLICATION_ALIASES.values())


def _need(payload: dict[str, Any], key: str) -> Any:
    if payload.get(key) in (None, ""):
        raise ValueError(f"the payload needs '{key}'")
    return payload[key]


def image_application(raw: dict[str, Any], platform: str) -> dict[str, Any]:
    """One application of an image, as DescribeImages reports what Image Assistant registered."""
    app = {_APPLICATION_ALIASES.get(key, key): value for key, value in raw.items()}
    unknown = sorted(set(app) - _APPLICATION_MEMBERS)
    if unknown:
        raise ValueError(f"unknown application field(s): {', '.join(unknown)}")
    name, path = app.get("Name"), app.get("LaunchPath")
    if not name or " " in name:
        raise AwsError("ValidationException", f"Application name {name!r} is required and cannot contain spaces.")
    if not path or not path.lower().endswith((".exe", ".bat")):
        raise AwsError("ValidationException", f"Application {name}: the launch path must be an .exe or .bat file.")
    app.setdefault("DisplayName", name)
    app.setdefault("IconURL", f"https://appstream2-icons.s3.amazonaws.com/{digest(name, path)[:16]}.png")
    return {**app, "Enabled": True, "Metadata": {}, "Platforms": [platform]}


class HooksMixin(AppStreamBase):
    # -- look-ups that answer 404 -------------------------------------------------------------
    @staticmethod
    def _find(collection: dict[str, Any], kind: str, name: str) -> Any:
        found = collection.get(name)
        if found is None:
            raise KeyError(f"{kind} {name}")
        return found

    # -- Image Assistant's create-image ---------------------------------------------------------
    def admin_create_image(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            rs = self.region_state(region)
            builder: ImageBuilder = self._find(rs.live_builders(), "image builder", _need(payload, "builder_name"))
            name = _need(payload, "image_name")
            check_builder_action("create_image", builder.name, builder.state)
            check_image_name(name, rs.live_images())
            raw_apps = payload.get("applications") or []
            if len(raw_apps) > MAX_IMAGE_APPLICATIONS:
                raise AwsError(
                    "LimitExceededException", f"An image holds at most {MAX_IMAGE_APPLICATIONS} applications."
                )
            applications = [image_application(app, builder.platform) for app in raw_apps]
            tags = payload.get("tags") or {}
            check_tag_keys(tags)
            if payload.get("dry_run"):
                return {"status": 0, "message": f"Dry run: image {name} can be created from {builder.name}."}
            image = self.snapshot(rs, builder, name, payload, applications, merged_tags({}, tags))
            return {
                "status": 0,
                "message": f"Image {name} is being created from {builder.name}.",
                "image": self.shaped("Image", image.describe()),
            }

    def snapshot(
        self,
        rs: RegionState,
        builder: ImageBuilder,
        name: str,
        payload: dict[str, Any],
        applications: list[dict[str, Any]],
        tags: dict[str, str],
    ) -> Image:
        base = next((i for i in rs.live_images().values() if i.arn == builder.image_arn), None)
        agent = DEFAULT_AGENT_VERSION if payload.get("use_latest_agent_version") else builder.agent_version
        image = Image(
            name=name,
            arn=arn(rs.region, ACCOUNT_ID, "image", name),
            visibility="PRIVATE",
            platform=builder.platform,
            lifecycle=self.lifecycle("PENDING"),
            display_name=payload.get("display_name") or name,
            description=payload.get("description"),
            base_image_arn=builder.image_arn,
            builder_name=builder.name,
            agent_version=agent,
            latest_agent=agent == DEFAULT_AGENT_VERSION,
            released=base.released if base else None,
            applications=applications,
            tags=tags,
        )
        image.lifecycle.go("PENDING", (self.seconds("image_create"), "AVAILABLE"))
        rs.images[name] = image
        builder.lifecycle.go("SNAPSHOTTING", (self.seconds("builder_snapshot"), "STOPPED"))
        return image

    # -- forced failures ----------------------------------------------------------------------
    def admin_fail_fleet(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        """FleetErrors as AWS reports them; a starting fleet that fails stays STARTING (as on AWS)."""
        with self._lock:
            fleet: Fleet = self._find(self.region_state(region).fleets, "fleet", _need(payload, "name"))
            errors = self.fleet_errors(payload.get("errors"))
            final_state = payload.get("final_state", "STARTING")
            if final_state not in ("STARTING", "STOPPED"):
                raise ValueError("final_state must be STARTING (AWS's behaviour) or STOPPED")
            state = fleet.state
            if state == "STOPPED":
                fleet.fail_next_start = {"errors": errors, "final_state": final_state}
                return {"name": fleet.name, "state": state, "armed": True}
            fleet.errors = errors
            if state == "STARTING":
                fleet.lifecycle.set(final_state)
            return {"name": fleet.name, "state": fleet.state, "armed": False, "FleetErrors": errors}

    def fleet_errors(self, raw: list[dict[str, Any]] | None) -> list[dict[str, str]]:
        codes = self.model.shape_for("FleetErrorCode").metadata["enum"]
        errors = raw or [{"ErrorCode": "INTERNAL_SERVICE_ERROR", "ErrorMessage": "The fleet could not start."}]
        for error in errors:
            if error.get("ErrorCode") not in codes:
                raise ValueError(f"ErrorCode must be one of {', '.join(codes)}")
            if not error.get("ErrorMessage"):
                raise ValueError("each error needs an ErrorMessage")
        return [{"ErrorCode": e["ErrorCode"], "ErrorMessage": e["ErrorMessage"]} for e in errors]

    def admin_fail_image_builder(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            builder: ImageBuilder = self._find(
                self.region_state(region).live_builders(), "image builder", _need(payload, "name")
            )
            code = payload.get("code", "INTERNAL_ERROR")
            if code not in ("INTERNAL_ERROR", "IMAGE_UNAVAILABLE"):
                raise ValueError("code must be INTERNAL_ERROR or IMAGE_UNAVAILABLE")
            message = payload.get("reason") or "The image builder failed."
            builder.lifecycle.set("FAILED")
            builder.state_reason = {"Code": code, "Message": message}
            builder.errors = [
                {
                    "ErrorCode": payload.get("error_code", "INTERNAL_SERVICE_ERROR"),
                    "ErrorMessage": message,
                    "ErrorTimestamp": utcnow(),
                }
            ]
            return {"name": builder.name, "state": builder.state, "StateChangeReason": builder.state_reason}

    def admin_fail_image(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            image: Image = self._find(self.region_state(region).live_images(), "image", _need(payload, "name"))
            if image.visibility != "PRIVATE":
                raise ValueError("only private images can be failed")
            message = payload.get("message") or "The image could not be created."
            image.lifecycle.set("FAILED")
            image.state_reason = {"Code": payload.get("code", "INTERNAL_ERROR"), "Message": message}
            image.errors = [
                {"ErrorCode": "INTERNAL_SERVICE_ERROR", "ErrorMessage": message, "ErrorTimestamp": utcnow()}
            ]
            return {"name": image.name, "state": image.state, "StateChangeReason": image.state_reason}

    # -- sessions and shared images -----------------------------------------------------------
    def admin_sessions(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Start `count` active sessions of `user` on a running fleet through `stack`."""
        with self._lock:
            rs = self.region_state(region)
            stack = self._find(rs.stacks, "stack", _need(payload, "stack"))
            fleet: Fleet = self._find(rs.fleets, "fleet", _need(payload, "fleet"))
            user, count = _need(payload, "user"), int(payload.get("count", 1))
            if (fleet.name, stack.name) not in rs.fleet_stacks:
                raise ValueError(f"fleet {fleet.name} is not associated with stack {stack.name}")
            if fleet.state != "RUNNING":
                raise ValueError(f"fleet {fleet.name} is {fleet.state}, not RUNNING")
            status = fleet.capacity_status(sum(1 for _ in rs.sessions_of(fleet.name)))
            free = (
                fleet.settings.get("MaxConcurrentSessions", 0) - status["InUse"]
                if fleet.fleet_type == "ELASTIC"
                else status.get("AvailableUserSessions", status["Available"])
            )
            if count > free:
                raise ValueError(f"fleet {fleet.name} has capacity for {free} more session(s), not {count}")
            created = [
                self.new_session(rs, fleet, stack.name, user, payload.get("authentication_type", "API"))
                for _ in range(count)
            ]
            return {"SessionIds": [s.id for s in created]}

    def new_session(self, rs: RegionState, fleet: Fleet, stack: str, user: str, kind: str) -> Session:
        session_id = str(uuid.uuid4())
        subnets = (fleet.settings.get("VpcConfig") or {}).get("SubnetIds") or []
        # The usage mixin's calendar: sessions' times are on the modelled clock, as their reports.
        start = self.modelled_now() if hasattr(self, "modelled_now") else utcnow()
        session = Session(
            id=session_id,
            user_id=user,
            stack=stack,
            fleet=fleet.name,
            authentication_type=kind,
            instance_id="i-" + digest(session_id)[:17],
            start=start,
            max_expiration=start + datetime.timedelta(seconds=fleet.settings.get("MaxUserDurationInSeconds", 57600)),
            network=eni_for(rs.region, session_id, self.subnet_cidr(rs.region, subnets[0] if subnets else None)),
        )
        rs.sessions[session_id] = session
        return session

    def admin_share_image(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        """An image another account shares with this one (DescribeImages Type=SHARED)."""
        with self._lock:
            rs = self.region_state(region)
            name = _need(payload, "name")
            if name in rs.live_images():
                raise AwsError("ResourceAlreadyExistsException", f"An image named {name} already exists.")
            owner = str(payload.get("owner_account", "111122223333"))
            image = Image(
                name=name,
                arn=arn(region, owner, "image", name),
                visibility="SHARED",
                platform=payload.get("platform", "WINDOWS_SERVER_2019"),
                lifecycle=self.lifecycle("AVAILABLE"),
                agent_version=DEFAULT_AGENT_VERSION,
                permissions={
                    "allowFleet": bool(payload.get("allow_fleet", True)),
                    "allowImageBuilder": bool(payload.get("allow_image_builder", True)),
                },
            )
            rs.images[name] = image
            return {"name": name, "arn": image.arn}

    # -- inventory ----------------------------------------------------------------------------
    def admin_inventory(self, region: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Every AppStream resource of the region, compactly, for tests comparing end states."""
        with self._lock:
            rs = self.region_state(region)
            images = [i for i in rs.live_images().values() if payload.get("include_public") or i.visibility != "PUBLIC"]
            return {
                "images": {
                    i.name: {"state": i.state, "visibility": i.visibility, "tags": dict(i.tags)} for i in images
                },
                "image_builders": {
                    b.name: {"state": b.state, "image_arn": b.image_arn, "tags": dict(b.tags)}
                    for b in rs.live_builders().values()
                },
                "fleets": {
                    f.name: {
                        "state": f.state,
                        "type": f.fleet_type,
                        "image": f.settings.get("ImageName"),
                        "domain_joined": f.domain_joined,
                        "errors": list(f.errors),
                        "tags": dict(f.tags),
                        "stacks": rs.stacks_of(f.name),
                    }
                    for f in rs.fleets.values()
                },
                "stacks": {s.name: {"fleets": rs.fleets_of(s.name), "tags": dict(s.tags)} for s in rs.stacks.values()},
                "directory_configs": {
                    d.name: {"ous": list(d.ous), "account": d.account_name} for d in rs.directory_configs.values()
                },
                "users": sorted(
                    f"{u.authentication_type}:{u.name}{'' if u.enabled else ' (disabled)'}" for u in rs.users.values()
                ),
                "user_stack_associations": sorted(f"{k}:{u}@{s}" for s, u, k in rs.user_stacks),
                "sessions": len(rs.sessions),
            }
