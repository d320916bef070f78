"""Resource Groups Tagging API (`tagging`): GetResources over moto's services and the project's own backends.

moto answers GetResources for its own services only (CloudWatch alarms, SNS topics, EC2, ...: the backends
that mix in moto.core.resource_tagging.TaggableResourcesMixin); AppStream, Directory Service, FSx and
DataSync are the project's. This service lists both: moto's resources through the same helpers moto's own
GetResources uses (its filters' semantics included), the project's through each backend's
`tagged_resources(region)`.

What it follows of https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html:
TagFilters (a key with values matches a tag of that key with one of the values, a key alone any value;
several filters must all match), ResourceTypeFilters (`service` or `service:type`), ResourceARNList (not
with the paging parameters), ResourcesPerPage 1-100 (default 50, the page size moto uses too),
TagsPerPage 100-500 (checked, not applied: the resources here carry few tags), PaginationToken (an empty
token on the last page), and untagged resources never listed. Tag policies (IncludeComplianceDetails) are
not modelled: asking for them is an InvalidParameterException naming it. The other operations of the API
answer InvalidAction. Unlike AWS, the listing is never behind a change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from sandbox.backends.common import TaggedResource
from sandbox.clock import SimClock
from sandbox.errors import AwsError
from sandbox.jsonproto import ACCOUNT_ID, Context, JsonService, paginate

DEFAULT_RESOURCES_PER_PAGE = 50
RESOURCES_PER_PAGE = range(1, 101)
TAGS_PER_PAGE = range(100, 501)


class TaggedBackend(Protocol):
    service_name: str

    def tagged_resources(self, region: str) -> list[TaggedResource]: ...


def invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


def moto_resources(region: str, skipped: set[str]) -> list[TaggedResource]:
    """The tagged resources of moto's services in `region`, but those of the namespaces in `skipped` (the
    services the project's backends answer: moto's namesakes hold nothing the toolkit made)."""
    from moto.core.resource_tagging import iter_taggable_backends

    found = []
    for backend in iter_taggable_backends(ACCOUNT_ID, region):
        if backend.SERVICE_NAMESPACE in skipped:
            continue
        listed = backend.iter_tagged_resources()
        found += [TaggedResource(item.arn, item.resource_type, dict(item.tags)) for item in listed]
        if backend.SERVICE_NAMESPACE == "ec2":
            found += elastic_ips(backend)
    return found


def elastic_ips(ec2: Any) -> list[TaggedResource]:
    """Elastic IP addresses, which AWS's GetResources lists as `ec2:elastic-ip` and moto's EC2 backend leaves
    out of its list (https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/supported-services.html:
    GetResources answers for the resource types of the services listed there, EC2 among them)."""
    return [
        TaggedResource(
            f"arn:{ec2.partition}:ec2:{ec2.region_name}:{ec2.account_id}:elastic-ip/{address.allocation_id}",
            "ec2:elastic-ip",
            dict(ec2.tags.get(address.allocation_id, {})),
        )
        for address in list(ec2.addresses)
        if address.allocation_id
    ]


def selected(
    resources: Iterable[TaggedResource],
    tag_filters: list[dict[str, Any]],
    type_filters: list[str],
    arns: list[str],
) -> list[TaggedResource]:
    """The resources that carry tags and match every filter, by ARN (a stable order for the pages)."""
    from moto.core.resource_tagging import make_tag_matcher, match_resource_type

    matches = make_tag_matcher(tag_filters)
    kept = {
        item.arn: item
        for item in resources
        if item.tags
        and match_resource_type(item.resource_type, type_filters)
        and matches(item.tags)
        and (not arns or item.arn in arns)
    }
    return [kept[arn] for arn in sorted(kept)]


class TaggingService(JsonService):
    service_name = "resourcegroupstaggingapi"

    def __init__(self, clock: SimClock, backends: Iterable[TaggedBackend]) -> None:
        super().__init__(clock)
        self.backends = list(backends)

    def new_region_state(self, region: str) -> None:
        return None

    def get_resources(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        arns = params.get("ResourceARNList") or []
        paging = [key for key in ("ResourcesPerPage", "TagsPerPage", "PaginationToken") if key in params]
        if arns and paging:
            raise invalid(f"ResourceARNList cannot be given with {', '.join(paging)}")
        if params.get("IncludeComplianceDetails") or params.get("ExcludeCompliantResources"):
            raise invalid("The sandbox does not model tag policies: IncludeComplianceDetails is not supported")
        per_page = params.get("ResourcesPerPage", DEFAULT_RESOURCES_PER_PAGE)
        if per_page not in RESOURCES_PER_PAGE:
            raise invalid("ResourcesPerPage must be between 1 and 100")
        if params.get("TagsPerPage", 100) not in TAGS_PER_PAGE:
            raise invalid("TagsPerPage must be between 100 and 500")
        own = {backend.service_name for backend in self.backends}
        # Each backend is read under its own lock, one after the other (never two locks held at once).
        with self.unlocked():
            resources = moto_resources(ctx.region, own)
            for backend in self.backends:
                resources += backend.tagged_resources(ctx.region)
        listed = selected(resources, params.get("TagFilters") or [], params.get("ResourceTypeFilters") or [], arns)
        try:
            page, following = paginate(
                listed,
                {**params, "ResourcesPerPage": per_page},
                limit_key="ResourcesPerPage",
                token_key="PaginationToken",  # noqa: S106 - a parameter name, not a secret
            )
        except AwsError as err:
            raise invalid(err.message) from err
        return {
            "ResourceTagMappingList": [
                {"ResourceARN": item.arn, "Tags": [{"Key": k, "Value": v} for k, v in sorted(item.tags.items())]}
                for item in page
            ],
            "PaginationToken": following or "",
        }


__all__ = ["TaggingService", "moto_resources", "selected"]
