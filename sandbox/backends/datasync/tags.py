"""TagResource, UntagResource, ListTagsForResource on locations and tasks."""

from __future__ import annotations

from typing import Any

from sandbox.backends.common import TaggedResource
from sandbox.backends.datasync.base import DataSyncBase
from sandbox.backends.datasync.constants import MAX_PAGE, MAX_TAGS
from sandbox.backends.datasync.rules import invalid, tag_list, tags_from_list
from sandbox.jsonproto import Context, paginate


class TagsMixin(DataSyncBase):
    def tag_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        resource = self._tagged(self.state(ctx), params["ResourceArn"])
        merged = {**resource.tags, **tags_from_list(params["Tags"])}
        if len(merged) > MAX_TAGS:
            raise invalid(f"A resource can have at most {MAX_TAGS} tags.")
        resource.tags = merged
        return {}

    def untag_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        resource = self._tagged(self.state(ctx), params["ResourceArn"])
        for key in params["Keys"]:
            resource.tags.pop(key, None)
        return {}

    def list_tags_for_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        resource = self._tagged(self.state(ctx), params["ResourceArn"])
        page, following = paginate(tag_list(resource.tags), params, default_limit=MAX_PAGE)
        answer: dict[str, Any] = {"Tags": page}
        if following:
            answer["NextToken"] = following
        return answer

    def tagged_resources(self, region: str) -> list[TaggedResource]:
        """Locations and tasks of `region` (GetResources: `datasync:location`, `datasync:task`)."""
        with self._lock:
            state = self.region_state(region)
            locations = [
                TaggedResource(item.arn, "datasync:location", dict(item.tags)) for item in state.locations.values()
            ]
            tasks = [TaggedResource(item.arn, "datasync:task", dict(item.tags)) for item in state.tasks.values()]
            return locations + tasks
