"""Images, image permissions, CopyImage and image builders."""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime
import json
from typing import Any

import botocore.session

from sandbox.backends.appstream.base import AppStreamBase
from sandbox.backends.appstream.constants import DEFAULT_AGENT_VERSION, GONE
from sandbox.backends.appstream.resources import Image, ImageBuilder, RegionState, arn, digest, eni_for, utcnow
from sandbox.backends.appstream.rules import check_builder_action, check_tag_keys, merged_tags
from sandbox.errors import AwsError, already_exists, in_use, invalid_combination, not_found, not_permitted
from sandbox.jsonproto import Context

_APPSTREAM_REGIONS = frozenset(botocore.session.get_session().get_available_regions("appstream"))
# CreateImageBuilder members a builder does not report back.
_BUILDER_REQUEST_ONLY = frozenset(
    {"Name", "ImageName", "ImageArn", "Tags", "AppstreamAgentVersion", "SoftwaresToInstall", "SoftwaresToUninstall"}
)


def streaming_url(region: str, kind: str, name: str, validity: int) -> tuple[str, datetime.datetime]:
    expires = utcnow() + datetime.timedelta(seconds=validity)
    parameters = base64.urlsafe_b64encode(
        json.dumps({"type": kind, "name": name, "expires": int(expires.timestamp())}).encode()
    ).decode()
    signature = digest(region, kind, name, str(expires.timestamp()))[:32]
    url = f"https://appstream2.{region}.aws.amazon.com/authenticate?parameters={parameters}&signature={signature}"
    return url, expires


class ImagesMixin(AppStreamBase):
    # -- images -------------------------------------------------------------------------------
    def describe_images(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        names, arns, visibility = params.get("Names"), params.get("Arns"), params.get("Type")
        if names and arns:
            raise invalid_combination("Specify Names or Arns, not both.")
        images = list(rs.live_images().values())
        if names:
            images = [self.image(rs, name) for name in names]
        elif arns:
            images = [self.image_by_arn(rs, image_arn) for image_arn in arns]
        if visibility:
            images = [image for image in images if image.visibility == visibility]
        page, token = self.page("DescribeImages", images, params)
        return self.with_token({"Images": [self.shaped("Image", i.describe()) for i in page]}, token)

    def delete_image(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        image = self.image(rs, params["Name"])
        if image.visibility != "PRIVATE":
            raise not_permitted(f"Image {image.name} is not owned by this account and cannot be deleted.")
        if image.state in ("PENDING", "COPYING", "DELETING", "CREATING", "IMPORTING", "VALIDATING"):
            raise AwsError("ConcurrentModificationException", f"Image {image.name} is {image.state}; try again later.")
        users = sorted(f.name for f in rs.fleets.values() if f.settings.get("ImageArn") == image.arn)
        if users:
            raise in_use(f"Image {image.name} is in use by fleet(s) {', '.join(users)}.")
        image.lifecycle.go("DELETING", (self.seconds("image_delete"), GONE))
        return {"Image": self.shaped("Image", image.describe())}

    def copy_image(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        source = self.image(rs, params["SourceImageName"])
        if source.visibility != "PRIVATE":
            raise AwsError(
                "ResourceNotAvailableException",
                f"Only images you own can be copied; {source.name} is {source.visibility}.",
            )
        if source.state != "AVAILABLE":
            raise AwsError("ResourceNotAvailableException", f"Image {source.name} is {source.state}, not AVAILABLE.")
        region = params["DestinationRegion"]
        if region not in _APPSTREAM_REGIONS:
            raise AwsError("ResourceNotAvailableException", f"AppStream 2.0 is not available in region {region}.")
        destination = self.region_state(region)
        name = params["DestinationImageName"]
        if name in destination.live_images():
            raise already_exists(f"An image named {name} already exists in {region}.")
        copied = dataclasses.replace(
            source,
            name=name,
            arn=arn(region, ctx.account_id, "image", name),
            description=params.get("DestinationImageDescription") or source.description,
            builder_name=None,  # AWS reports no builder for copied images
            created=utcnow(),
            applications=copy.deepcopy(source.applications),
            errors=[],
            state_reason=None,
            tags={},  # AWS does not copy tags
            shared_with={},
            lifecycle=self.lifecycle("COPYING"),
        )
        copied.lifecycle.go("COPYING", (self.seconds("image_copy"), "AVAILABLE"))
        destination.images[name] = copied
        return {"DestinationImageName": name}

    # -- image permissions ------------------------------------------------------------------------
    def own_image(self, rs: RegionState, name: str) -> Image:
        image = self.image(rs, name)
        if image.visibility != "PRIVATE":
            raise not_found(f"Image {name} is not a private image of this account.")
        return image

    def describe_image_permissions(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        image = self.own_image(self.rs(ctx), params["Name"])
        wanted = params.get("SharedAwsAccountIds")
        entries = [
            {"sharedAccountId": account, "imagePermissions": dict(permissions)}
            for account, permissions in sorted(image.shared_with.items())
            if not wanted or account in wanted
        ]
        page, token = self.page("DescribeImagePermissions", entries, params)
        return self.with_token({"Name": image.name, "SharedImagePermissionsList": page}, token)

    def update_image_permissions(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        image = self.own_image(self.rs(ctx), params["Name"])
        if image.state != "AVAILABLE":
            raise AwsError("ResourceNotAvailableException", f"Image {image.name} is {image.state}, not AVAILABLE.")
        account = params["SharedAccountId"]
        if account == ctx.account_id:
            raise AwsError("ResourceNotAvailableException", "An image cannot be shared with its own account.")
        if account not in image.shared_with and len(image.shared_with) >= 100:
            raise AwsError("LimitExceededException", "An image can be shared with at most 100 accounts.")
        permissions = params["ImagePermissions"]
        image.shared_with[account] = {
            "allowFleet": bool(permissions.get("allowFleet", False)),
            "allowImageBuilder": bool(permissions.get("allowImageBuilder", False)),
        }
        return {}

    def delete_image_permissions(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        image = self.own_image(self.rs(ctx), params["Name"])
        if params["SharedAccountId"] not in image.shared_with:
            raise not_found(f"Image {image.name} is not shared with account {params['SharedAccountId']}.")
        del image.shared_with[params["SharedAccountId"]]
        return {}

    # -- image builders -----------------------------------------------------------------------
    def create_image_builder(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        name = params["Name"]
        if name in rs.live_builders():
            raise already_exists(f"Image builder {name} already exists.")
        image = self.usable_image(rs, params.get("ImageName"), params.get("ImageArn"))
        if not image.builder_supported:
            raise AwsError("IncompatibleImageException", f"Image {image.name} does not support image builders.")
        if image.visibility == "SHARED" and not (image.permissions or {}).get("allowImageBuilder"):
            raise AwsError("ResourceNotAvailableException", f"Image {image.name} is not shared for image builders.")
        vpc = params.get("VpcConfig")
        subnets = list((vpc or {}).get("SubnetIds") or [])
        if len(subnets) > 1:
            raise invalid_combination("An image builder takes exactly one subnet.")
        self.check_vpc(ctx.region, vpc)
        self.check_domain_join(rs, params.get("DomainJoinInfo"), vpc)
        tags = params.get("Tags") or {}
        check_tag_keys(tags)
        version = params.get("AppstreamAgentVersion")
        agent = DEFAULT_AGENT_VERSION if version in (None, "[LATEST]", "LATEST") else version
        builder = ImageBuilder(
            name=name,
            arn=arn(ctx.region, ctx.account_id, "image-builder", name),
            settings={k: copy.deepcopy(v) for k, v in params.items() if k not in _BUILDER_REQUEST_ONLY},
            image_arn=image.arn,
            platform=image.platform,
            lifecycle=self.lifecycle("PENDING"),
            agent_version=agent if version else (image.agent_version or DEFAULT_AGENT_VERSION),
            latest_agent=(agent if version else image.agent_version) == DEFAULT_AGENT_VERSION,
            network=eni_for(ctx.region, name, self.subnet_cidr(ctx.region, subnets[0] if subnets else None)),
            tags=merged_tags({}, tags),
        )
        builder.settings.setdefault("EnableDefaultInternetAccess", False)
        rs.builders[name] = builder
        self.start_builder(builder)
        return {"ImageBuilder": self.describe_builder(builder)}

    def start_builder(self, builder: ImageBuilder) -> None:
        key = "builder_start_domain_joined" if builder.domain_joined else "builder_start"
        builder.state_reason = None
        builder.errors = []
        builder.lifecycle.go("PENDING", (self.seconds(key), "RUNNING"))

    def describe_builder(self, builder: ImageBuilder) -> dict[str, Any]:
        return self.shaped("ImageBuilder", builder.describe())

    def describe_image_builders(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        names = params.get("Names")
        builders = [self.builder(rs, n) for n in names] if names else list(rs.live_builders().values())
        page, token = self.page("DescribeImageBuilders", builders, params)
        return self.with_token({"ImageBuilders": [self.describe_builder(b) for b in page]}, token)

    def start_image_builder(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        rs = self.rs(ctx)
        builder = self.builder(rs, params["Name"])
        check_builder_action("start", builder.name, builder.state)
        if params.get("AppstreamAgentVersion"):
            version = params["AppstreamAgentVersion"]
            builder.agent_version = DEFAULT_AGENT_VERSION if version in ("[LATEST]", "LATEST") else version
            builder.latest_agent = builder.agent_version == DEFAULT_AGENT_VERSION
        self.start_builder(builder)
        return {"ImageBuilder": self.describe_builder(builder)}

    def stop_image_builder(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        builder = self.builder(self.rs(ctx), params["Name"])
        check_builder_action("stop", builder.name, builder.state)
        builder.lifecycle.go("STOPPING", (self.seconds("builder_stop"), "STOPPED"))
        return {"ImageBuilder": self.describe_builder(builder)}

    def delete_image_builder(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        builder = self.builder(self.rs(ctx), params["Name"])
        check_builder_action("delete", builder.name, builder.state)
        builder.lifecycle.go("DELETING", (self.seconds("builder_delete"), GONE))
        return {"ImageBuilder": self.describe_builder(builder)}

    def update_image_builder(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        builder = self.builder(self.rs(ctx), params["Name"])
        check_builder_action("update", builder.name, builder.state)
        deleting = params.get("AttributesToDelete") or []
        if "AGENT_ACCESS_CONFIG" in deleting and params.get("AgentAccessConfig") is not None:
            raise invalid_combination("AgentAccessConfig cannot be set and deleted in one request.")
        for member in ("Description", "DisplayName"):
            if params.get(member) is not None:
                builder.settings[member] = params[member]
        if params.get("AgentAccessConfig") is not None:
            current = builder.settings.get("AgentAccessConfig") or {}
            builder.settings["AgentAccessConfig"] = {**current, **copy.deepcopy(params["AgentAccessConfig"])}
        if "AGENT_ACCESS_CONFIG" in deleting:
            builder.settings.pop("AgentAccessConfig", None)
        return {"ImageBuilder": self.describe_builder(builder)}

    def create_image_builder_streaming_url(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        builder = self.builder(self.rs(ctx), params["Name"])
        check_builder_action("connect", builder.name, builder.state)
        validity = params.get("Validity", 3600)
        if not 1 <= validity <= 604800:
            raise not_permitted("Validity must be between 1 and 604800 seconds.")
        url, expires = streaming_url(ctx.region, "image-builder", builder.name, validity)
        return {"StreamingURL": url, "Expires": expires}
