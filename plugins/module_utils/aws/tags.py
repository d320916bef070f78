# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ownership tags: which resources belong to which tenant, and therefore which the toolkit may touch.

Every resource the toolkit creates carries `tenant=<name>`, `environment=<env>` and
`managed-by=appstream-tenant-toolkit`. A module modifies or deletes a resource only when
its `tenant` tag names the tenant it manages; a resource with the same name and another
tenant's tag, or no tag, is never adopted or deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

TENANT_TAG = "tenant"
ENVIRONMENT_TAG = "environment"
MANAGED_BY_TAG = "managed-by"
MANAGED_BY_VALUE = "appstream-tenant-toolkit"


def ownership_tags(tenant: str, environment: str | None = None) -> dict[str, str]:
    tags = {TENANT_TAG: tenant, MANAGED_BY_TAG: MANAGED_BY_VALUE}
    if environment:
        tags[ENVIRONMENT_TAG] = environment
    return tags


def desired_tags(user_tags: dict[str, Any] | None, tenant: str, environment: str | None = None) -> dict[str, str]:
    """User tags plus the ownership tags, which always win (they are not the user's to change)."""
    tags = {str(k): str(v) for k, v in (user_tags or {}).items()}
    tags.update(ownership_tags(tenant, environment))
    return tags


def is_owned(tags: dict[str, str] | None, tenant: str) -> bool:
    return bool(tags) and tags.get(TENANT_TAG) == tenant


def owner_of(tags: dict[str, str] | None) -> str | None:
    return (tags or {}).get(TENANT_TAG)


def tag_changes(
    current: dict[str, str] | None, desired: dict[str, str], purge: bool
) -> tuple[dict[str, str], list[str]]:
    """Tags to set and tag keys to remove so that `current` becomes `desired`.

    Ownership tags are never removed, even with purge, so a resource cannot be orphaned.
    """
    current = current or {}
    to_set = {k: v for k, v in desired.items() if current.get(k) != v}
    to_remove = []
    if purge:
        protected = {TENANT_TAG, MANAGED_BY_TAG, ENVIRONMENT_TAG}
        to_remove = sorted(k for k in current if k not in desired and k not in protected and not k.startswith("aws:"))
    return to_set, to_remove


def list_to_dict(tags: list[dict[str, str]] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {t[key]: t.get(value, "") for t in tags or []}


def dict_to_list(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in sorted(tags.items())]


KnownTags = Mapping[str, Mapping[str, Any]]
Read = TypeVar("Read")


def known_or_read(known: KnownTags | None, arn: str, read: Callable[[], Read]) -> dict[str, str] | Read:
    """The tags of `arn`: those tenant_tags_info read earlier in the run when it listed the resource, else `read()`.

    `known` (ARN -> tags, the `known_tags` option) lists only resources whose `tenant` tag named the tenant
    when the run read them, under the tenant's lock. A resource it does not list (created since, another
    tenant's, untagged) is read as before, so an ownership check still sees, and refuses, a foreign one.
    """
    tags = (known or {}).get(arn)
    if isinstance(tags, Mapping):
        return {str(key): str(value) for key, value in tags.items()}
    return read()


def _listed(known: KnownTags | None, service: str, region: str | None) -> Iterator[tuple[str, str, Any]]:
    """(ARN, resource part, tags) of each ARN in `known` of `service` in `region`, whatever partition and account."""
    for arn, tags in (known or {}).items():
        parts = str(arn).split(":", 5)
        if len(parts) == 6 and parts[2] == service and parts[3] == (region or ""):
            yield str(arn), parts[5], tags


def known_arn(known: KnownTags | None, service: str, region: str | None, resource: str) -> str | None:
    """The ARN in `known` of `resource` (`directory/d-1234567890`) of `service` in `region`, whatever its
    partition and account: for APIs that name a resource by its id (Directory Service), not its ARN."""
    return next((arn for arn, part, _tags in _listed(known, service, region) if part == resource), None)


def known_of_type(
    known: KnownTags | None, service: str, region: str | None, resource_type: str
) -> dict[str, dict[str, str]]:
    """Resource id -> tags of every resource of `service` in `region` whose ARN's resource part is
    `<resource_type>/<id>` (EC2's `elastic-ip/eipalloc-...`), whatever its partition and account.

    Empty says nothing on its own: the listing may not have included the type (tenant_tags_info's
    `resource_types`), so a caller takes absence as proof only where the listing shows the type was read.
    """
    prefix = f"{resource_type}/"
    return {
        part[len(prefix) :]: {str(key): str(value) for key, value in tags.items()}
        for _arn, part, tags in _listed(known, service, region)
        if part.startswith(prefix) and isinstance(tags, Mapping)
    }
