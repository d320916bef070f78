# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS DataSync locations and tasks on the shared state machine (aws.resource): finding them, their tags.

DataSync locations have no name: the toolkit finds its own by the `Name` tag among the locations whose URI
starts with the storage's own (ListLocations with a LocationUri filter), and their ownership by the
`tenant` tag, as for every other resource. DataSync answers every client error as InvalidRequestException
(with an errorCode member), "not found" included.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.errors import error_code
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.module import retry_decorator
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.pagination import paginate
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.resource import ResourceKind
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.aws.tags import (
    dict_to_list,
    is_owned,
    list_to_dict,
)

NAME_TAG = "Name"


class AmbiguousName(Exception):
    """Two resources of the tenant carry the same Name tag: the toolkit will not guess which is meant."""


def tags_of(datasync: Any, arn: str) -> dict[str, str]:
    return list_to_dict(paginate(datasync.list_tags_for_resource, "Tags", ResourceArn=arn, aws_retry=True))


def pick(
    candidates: list[tuple[str, dict[str, str]]], name: str, tenant: str, what: str
) -> tuple[str, dict[str, str]] | None:
    """The candidate (arn, tags) named `name`: the tenant's own first; another owner's when it is the only one
    (the state machine then refuses it as not owned)."""
    named = [(arn, tags) for arn, tags in candidates if tags.get(NAME_TAG) == name]
    owned = [item for item in named if is_owned(item[1], tenant)]
    if len(owned) > 1:
        raise AmbiguousName(
            f"{len(owned)} DataSync {what}s of tenant {tenant!r} are named {name!r}: {[arn for arn, _tags in owned]}"
        )
    if owned:
        return owned[0]
    return named[0] if named else None


def find_location(datasync: Any, uri_prefix: str, name: str, tenant: str) -> tuple[str, dict[str, str]] | None:
    locations = paginate(
        datasync.list_locations,
        "Locations",
        Filters=[{"Name": "LocationUri", "Values": [uri_prefix], "Operator": "BeginsWith"}],
        aws_retry=True,
    )
    return pick(
        [(item["LocationArn"], tags_of(datasync, item["LocationArn"])) for item in locations], name, tenant, "location"
    )


def subdirectory_of(uri: str) -> str:
    """The subdirectory of a location URI (`s3://bucket/incoming/` -> `/incoming/`)."""
    rest = uri.split("://", 1)[-1]
    path = rest.split("/", 1)[1] if "/" in rest else ""
    return "/" + path if not path.startswith("/") else path


def normalise_subdirectory(value: str | None) -> str:
    parts = [part for part in (value or "").replace("\\", "/").split("/") if part]
    return "/" + "".join(f"{part}/" for part in parts)


def is_not_found(err: BaseException) -> bool:
    return error_code(err) == "InvalidRequestException" and "not found" in str(err).lower()


class DataSyncKind(ResourceKind):
    """What DataSync locations and tasks share: the client, the C(Name) tag that names them, tags by ARN."""

    def __init__(self, module: Any) -> None:
        super().__init__(module, module.params["tenant"], module.params["environment"])
        self.client = module.client("datasync", retry_decorator=retry_decorator())
        # DataSync locations have no name and a task's name is not unique: the Name tag identifies them, so
        # it is kept whatever the tags option holds (purge_tags never removes it).
        if self.params["tags"] is not None:
            self.params["tags"] = {**self.params["tags"], NAME_TAG: self.name}

    def current_tags(self, resource: dict[str, Any]) -> dict[str, str]:
        return resource.get("Tags", {})

    def arn_of(self, resource: dict[str, Any]) -> str:
        raise NotImplementedError

    def set_tags(self, resource: dict[str, Any], to_set: dict[str, str], to_remove: list[str]) -> None:
        arn = self.arn_of(resource)
        if to_remove:
            self.client.untag_resource(ResourceArn=arn, Keys=to_remove, aws_retry=True)
        if to_set:
            self.client.tag_resource(ResourceArn=arn, Tags=dict_to_list(to_set), aws_retry=True)

    def named_tags(self, tags: dict[str, str]) -> list[dict[str, str]]:
        return dict_to_list({**tags, NAME_TAG: self.name})


class DataSyncLocation(DataSyncKind):
    """A DataSync location of one storage type, found by its URI prefix and C(Name) tag, deleted by ARN.
    A subclass says where its locations are (`uri_prefix`) and how one is described (`describe`)."""

    kind = "location"

    def uri_prefix(self) -> str:
        raise NotImplementedError

    def describe(self, arn: str) -> dict[str, Any]:
        raise NotImplementedError

    def arn_of(self, resource: dict[str, Any]) -> str:
        return resource["LocationArn"]

    def find(self) -> dict[str, Any] | None:
        found = find_location(self.client, self.uri_prefix(), self.name, self.tenant)
        if found is None:
            return None
        arn, tags = found
        return {**self.describe(arn), "Tags": tags}

    def delete(self, resource: dict[str, Any]) -> None:
        self.client.delete_location(LocationArn=resource["LocationArn"], aws_retry=True)
