"""Shared plumbing of the AppStream backend: region state, look-ups, network and domain checks."""

from __future__ import annotations

import datetime
from typing import Any

from sandbox import moto_state
from sandbox.backends.appstream.constants import DEFAULT_AGENT_VERSION, DURATIONS, PAGE_SIZES, PUBLIC_IMAGES
from sandbox.backends.appstream.resources import (
    ARN_PREFIX,
    DirectoryConfig,
    Fleet,
    Image,
    ImageBuilder,
    RegionState,
    Stack,
)
from sandbox.backends.appstream.rules import platform_family
from sandbox.clock import Lifecycle
from sandbox.errors import AwsError, invalid_combination, not_found
from sandbox.jsonproto import ACCOUNT_ID, Context, JsonService, paginate


class AppStreamBase(JsonService):
    service_name = "appstream"

    # -- state --------------------------------------------------------------------------------
    def new_region_state(self, region: str) -> RegionState:
        state = RegionState(region=region)
        for name, platform, released, agent, builder_ok in PUBLIC_IMAGES:
            day = datetime.datetime.fromisoformat(released).replace(tzinfo=datetime.UTC)
            state.images[name] = Image(
                name=name,
                arn=f"{ARN_PREFIX}:{region}::image/{name}",
                visibility="PUBLIC",
                platform=platform,
                lifecycle=self.lifecycle("AVAILABLE"),
                created=day,
                released=day,
                display_name=name.replace("AppStream-", "").replace("-", " ", 1),
                description=f"Amazon AppStream 2.0 base image ({platform}) released {released}",
                agent_version=agent,
                latest_agent=agent == DEFAULT_AGENT_VERSION,
                builder_supported=builder_ok,
            )
        return state

    def rs(self, ctx: Context) -> RegionState:
        return self.state(ctx)

    def region_state(self, region: str) -> RegionState:
        with self._lock:
            return self.state(Context(region=region, account_id=ACCOUNT_ID, request_id="", operation=""))

    def lifecycle(self, initial: str) -> Lifecycle:
        return Lifecycle(self.clock, initial)

    def seconds(self, key: str) -> float:
        return DURATIONS[key]

    def session_ended(self, rs: RegionState, session: Any) -> None:
        """A session ends (ExpireSession, StopFleet); the usage mixin also records it for the reports."""
        rs.sessions.pop(session.id, None)

    # -- output -------------------------------------------------------------------------------
    def shaped(self, shape_name: str, document: dict[str, Any]) -> dict[str, Any]:
        """Keep only the members the model's output shape has (the model is the contract)."""
        members = self.model.shape_for(shape_name).members
        return {key: value for key, value in document.items() if key in members}

    def page(
        self, operation: str, items: list[Any], params: dict[str, Any], limit_key: str = "MaxResults"
    ) -> tuple[list[Any], str | None]:
        return paginate(items, params, limit_key=limit_key, default_limit=PAGE_SIZES[operation])

    @staticmethod
    def with_token(document: dict[str, Any], token: str | None) -> dict[str, Any]:
        if token:
            document["NextToken"] = token
        return document

    # -- look-ups -----------------------------------------------------------------------------
    def fleet(self, rs: RegionState, name: str) -> Fleet:
        found = rs.fleets.get(name)
        if found is None:
            raise not_found(f"Fleet {name} does not exist.")
        return found

    def stack(self, rs: RegionState, name: str) -> Stack:
        found = rs.stacks.get(name)
        if found is None:
            raise not_found(f"Stack {name} does not exist.")
        return found

    def builder(self, rs: RegionState, name: str) -> ImageBuilder:
        found = rs.live_builders().get(name)
        if found is None:
            raise not_found(f"Image builder {name} does not exist.")
        return found

    def image(self, rs: RegionState, name: str) -> Image:
        found = rs.live_images().get(name)
        if found is None:
            raise not_found(f"Image {name} does not exist.")
        return found

    def image_by_arn(self, rs: RegionState, image_arn: str) -> Image:
        for candidate in rs.live_images().values():
            if candidate.arn == image_arn:
                return candidate
        raise not_found(f"Image {image_arn} does not exist.")

    def directory_config(self, rs: RegionState, name: str) -> DirectoryConfig:
        found = rs.directory_configs.get(name)
        if found is None:
            raise not_found(f"Directory config {name} does not exist.")
        return found

    def usable_image(self, rs: RegionState, name: str | None, image_arn: str | None) -> Image:
        """The image a builder or fleet launches from: named once, existing, AVAILABLE."""
        if bool(name) == bool(image_arn):
            raise invalid_combination("Specify exactly one of ImageName or ImageArn.")
        image = self.image(rs, name) if name else self.image_by_arn(rs, image_arn or "")
        if image.state != "AVAILABLE":
            raise AwsError("ResourceNotAvailableException", f"Image {image.name} is {image.state}, not AVAILABLE.")
        if image.visibility == "SHARED" and image.permissions is not None and not image.permissions.get("allowFleet"):
            raise AwsError("ResourceNotAvailableException", f"Image {image.name} is not shared for fleets.")
        return image

    @staticmethod
    def check_platform(image: Image, platform: str | None, current: str | None = None) -> None:
        if platform and platform != image.platform:
            raise AwsError(
                "IncompatibleImageException",
                f"Image {image.name} is {image.platform}, not compatible with platform {platform}.",
            )
        if current and platform_family(current) != platform_family(image.platform):
            raise AwsError(
                "IncompatibleImageException", f"Image {image.name} ({image.platform}) cannot replace a {current} image."
            )

    # -- network and directory ---------------------------------------------------------------
    def check_vpc(self, region: str, vpc_config: dict[str, Any] | None) -> tuple[str | None, list[str]]:
        if not vpc_config:
            return None, []
        return moto_state.check_network(
            region, list(vpc_config.get("SubnetIds") or []), list(vpc_config.get("SecurityGroupIds") or [])
        )

    @staticmethod
    def subnet_cidr(region: str, subnet_id: str | None) -> str | None:
        if not subnet_id:
            return None
        found = moto_state.subnet(region, subnet_id)
        return getattr(found, "cidr_block", None)

    def check_domain_join(
        self, rs: RegionState, info: dict[str, Any] | None, vpc_config: dict[str, Any] | None
    ) -> None:
        if not info:
            return
        directory = info.get("DirectoryName")
        if not directory:
            raise invalid_combination("DomainJoinInfo needs a DirectoryName.")
        config = self.directory_config(rs, directory)
        ou = info.get("OrganizationalUnitDistinguishedName")
        if ou and ou.lower() not in {known.lower() for known in config.ous}:
            raise invalid_combination(f"The OU '{ou}' is not in the directory config of {directory}.")
        if not (vpc_config or {}).get("SubnetIds"):
            raise invalid_combination("Joining a domain needs a VpcConfig with subnets that reach the directory.")

    def ensure_own_arn(self, ctx: Context, resource_arn: str) -> tuple[str, str]:
        """Split an AppStream ARN of this account and region into (kind, name)."""
        prefix = f"{ARN_PREFIX}:{ctx.region}:"
        if not resource_arn.startswith(prefix):
            raise not_found(f"Resource {resource_arn} does not exist.")
        account, _, rest = resource_arn[len(prefix) :].partition(":")
        kind, _, name = rest.partition("/")
        if account not in ("", ctx.account_id) or not name:
            raise not_found(f"Resource {resource_arn} does not exist.")
        return kind, name
