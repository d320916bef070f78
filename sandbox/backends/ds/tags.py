"""AddTagsToResource, RemoveTagsFromResource, ListTagsForResource on directories."""

from __future__ import annotations

from typing import Any

from sandbox.backends.common import TaggedResource
from sandbox.backends.ds.base import DirectoryBase
from sandbox.backends.ds.constants import MAX_TAGS
from sandbox.backends.ds.rules import tags_from_list
from sandbox.errors import AwsError
from sandbox.jsonproto import ACCOUNT_ID, Context, paginate


class TagsMixin(DirectoryBase):
    def add_tags_to_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        directory = self._get(self.state(ctx), params["ResourceId"])
        added = tags_from_list(params["Tags"], "TagLimitExceededException")
        merged = {**directory.tags, **added}
        if len(merged) > MAX_TAGS:
            raise AwsError(
                "TagLimitExceededException", f"Tag limit exceeded: a directory can have at most {MAX_TAGS} tags."
            )
        directory.tags = merged
        return {}

    def remove_tags_from_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        directory = self._get(self.state(ctx), params["ResourceId"])
        for key in params["TagKeys"]:
            directory.tags.pop(key, None)
        return {}

    def list_tags_for_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        directory = self._get(self.state(ctx), params["ResourceId"])
        tags = [{"Key": key, "Value": value} for key, value in directory.tags.items()]
        page, following = paginate(tags, params, limit_key="Limit", default_limit=50)
        result: dict[str, Any] = {"Tags": page}
        if following:
            result["NextToken"] = following
        return result

    def tagged_resources(self, region: str) -> list[TaggedResource]:
        """The directories of `region` (GetResources: `ds:directory`, ARN `...:directory/<id>`)."""
        with self._lock:
            prefix = f"arn:aws:ds:{region}:{ACCOUNT_ID}:directory/"
            return [
                TaggedResource(prefix + item.directory_id, "ds:directory", dict(item.tags))
                for item in self._live(self.region_state(region)).values()
            ]
