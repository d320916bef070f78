"""TagResource, UntagResource, ListTagsForResource on fleets, stacks, image builders and images."""

from __future__ import annotations

from typing import Any

from sandbox.backends.appstream.base import AppStreamBase
from sandbox.backends.appstream.rules import check_tag_keys, merged_tags
from sandbox.backends.common import TaggedResource
from sandbox.errors import not_found
from sandbox.jsonproto import Context


class TagsMixin(AppStreamBase):
    def tagged(self, ctx: Context, resource_arn: str, *, writing: bool) -> Any:
        """The resource an ARN names (its `tags` dict is what the tag operations change)."""
        kind, name = self.ensure_own_arn(ctx, resource_arn)
        rs = self.rs(ctx)
        collections: dict[str, dict[str, Any]] = {
            "fleet": rs.fleets,
            "stack": rs.stacks,
            "image-builder": rs.live_builders(),
            "image": rs.live_images(),
        }
        resource = collections.get(kind, {}).get(name)
        if resource is None or getattr(resource, "arn", None) != resource_arn:
            raise not_found(f"Resource {resource_arn} does not exist.")
        if writing and kind == "image" and resource.visibility != "PRIVATE":
            raise not_found(f"Image {name} is not owned by this account.")
        return resource

    def tag_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        resource = self.tagged(ctx, params["ResourceArn"], writing=True)
        check_tag_keys(params["Tags"])
        resource.tags = merged_tags(resource.tags, params["Tags"])
        return {}

    def untag_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        resource = self.tagged(ctx, params["ResourceArn"], writing=True)
        for key in params["TagKeys"]:
            resource.tags.pop(key, None)
        return {}

    def list_tags_for_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        resource = self.tagged(ctx, params["ResourceArn"], writing=False)
        return {"Tags": dict(resource.tags)}

    def tagged_resources(self, region: str) -> list[TaggedResource]:
        """Fleets, stacks, image builders and the account's own images of `region` (GetResources)."""
        with self._lock:
            rs = self.region_state(region)
            kinds = {
                "fleet": rs.fleets,
                "stack": rs.stacks,
                "image-builder": rs.live_builders(),
                "image": rs.live_images(),
            }
            return [
                TaggedResource(item.arn, f"appstream:{kind}", dict(item.tags))
                for kind, items in kinds.items()
                for item in items.values()
                if kind != "image" or item.visibility == "PRIVATE"
            ]
