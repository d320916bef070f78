"""TagResource, UntagResource, ListTagsForResource on file systems and backups."""

from __future__ import annotations

from typing import Any

from sandbox.backends.common import TaggedResource
from sandbox.backends.fsx.base import FSxBase
from sandbox.backends.fsx.constants import GONE, MAX_TAGS
from sandbox.backends.fsx.models import Backup, FileSystem, RegionState
from sandbox.backends.fsx.rules import bad_request, tag_list, tags_from_list
from sandbox.backends.fsx.shapes import fsx_page
from sandbox.errors import AwsError
from sandbox.jsonproto import Context


class TagsMixin(FSxBase):
    def _tagged(self, state: RegionState, arn: str) -> FileSystem | Backup:
        self._live(state)
        for resource in [*state.file_systems.values(), *state.backups.values()]:
            if resource.arn == arn:
                return resource
        if ":fsx:" not in arn:
            raise AwsError("NotServiceResourceError", f"Resource '{arn}' is not an FSx resource.")
        raise AwsError("ResourceNotFound", f"Resource '{arn}' does not exist.")

    def tag_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        resource = self._tagged(self.state(ctx), params["ResourceARN"])
        merged = {**resource.tags, **tags_from_list(params["Tags"])}
        if len(merged) > MAX_TAGS:
            raise bad_request(f"A resource can have at most {MAX_TAGS} tags.")
        resource.tags = merged
        return {}

    def untag_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        resource = self._tagged(self.state(ctx), params["ResourceARN"])
        for key in params["TagKeys"]:
            resource.tags.pop(key, None)
        return {}

    def list_tags_for_resource(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        resource = self._tagged(self.state(ctx), params["ResourceARN"])
        page, following = fsx_page(tag_list(resource.tags), params)
        result: dict[str, Any] = {"Tags": page}
        if following:
            result["NextToken"] = following
        return result

    def tagged_resources(self, region: str) -> list[TaggedResource]:
        """File systems and backups of `region` (GetResources: `fsx:file-system`, `fsx:backup`)."""
        with self._lock:
            state = self.region_state(region)
            live = self._live(state).values()
            found = [TaggedResource(item.arn, "fsx:file-system", dict(item.tags)) for item in live]
            found += [
                TaggedResource(item.arn, "fsx:backup", dict(item.tags))
                for item in state.backups.values()
                if item.lifecycle.state != GONE
            ]
            return found
