# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the application catalogue: resolution, hash, image name.

The filters are called by their FQCN, ``iconeus.tenant_toolkit.<name>``; short names below.

    {{ app_catalogue | catalogue_resolve(tenant.apps) }}         -> entries, dependencies first
    {{ resolved | catalogue_hash(tenant.appstream.base_image) }} -> "3f9c0a1b2c4d"
    {{ tenant.name | catalogue_image_name(digest) }}            -> "demo-suite-3f9c0a1b2c4d"
    {{ app_catalogue | catalogue_detection(tenant_apps) }}       -> how the builder finds each app

Pass the base image to ``catalogue_hash`` to get the same digest as the
``tenant_validate`` module (a new AWS base image must give a new image name).

The logic lives in ``plugins/module_utils/catalogue.py`` so that the
``tenant_validate`` module and these filters compute the same hash.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils import catalogue as _catalogue


def catalogue_resolve(catalogue: Mapping[str, Any], app_keys: Iterable[str]) -> list[dict[str, Any]]:
    """Requested apps plus their dependencies, in install order, each with its ``key``."""
    if not isinstance(catalogue, Mapping):
        raise AnsibleFilterError(
            f"catalogue_resolve expects the catalogue mapping as input, got {type(catalogue).__name__}"
        )
    if isinstance(app_keys, str | Mapping) or not isinstance(app_keys, Iterable):
        raise AnsibleFilterError(f"catalogue_resolve expects a list of application keys, got {app_keys!r}")
    try:
        return _catalogue.resolve_catalogue(catalogue, list(app_keys))
    except _catalogue.CatalogueError as exc:
        raise AnsibleFilterError(f"catalogue_resolve: {exc}") from exc


def catalogue_hash(resolved: Iterable[Mapping[str, Any]], base_image: str | None = None) -> str:
    """Short digest of the resolved entries (and of the base image when given)."""
    try:
        return _catalogue.catalogue_hash(list(resolved), base_image=base_image)
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError(
            f"catalogue_hash expects the output of catalogue_resolve, got {resolved!r}: {exc}"
        ) from exc


def catalogue_image_name(tenant_name: str, digest: str) -> str:
    """``<tenant>-suite-<hash>``, checked against the Image Assistant name rules."""
    try:
        return _catalogue.image_name(str(tenant_name), str(digest))
    except ValueError as exc:
        raise AnsibleFilterError(f"catalogue_image_name: {exc}") from exc


def catalogue_detection(catalogue: Mapping[str, Any], app_keys: Iterable[str]) -> list[dict[str, Any]]:
    """How the builder tells whether each app is installed: its product id or its registry rule."""
    if not isinstance(catalogue, Mapping):
        raise AnsibleFilterError("catalogue_detection expects the catalogue mapping as input")
    if isinstance(app_keys, str | Mapping) or not isinstance(app_keys, Iterable):
        raise AnsibleFilterError(f"catalogue_detection expects a list of application keys, got {app_keys!r}")
    keys = list(app_keys)
    unknown = [str(key) for key in keys if key not in catalogue]
    if unknown:
        raise AnsibleFilterError(f"catalogue_detection: not in the catalogue: {', '.join(unknown)}")
    return _catalogue.detection_rules(catalogue, keys)


class FilterModule:
    """Catalogue filters."""

    def filters(self) -> dict[str, Any]:
        return {
            "catalogue_resolve": catalogue_resolve,
            "catalogue_hash": catalogue_hash,
            "catalogue_image_name": catalogue_image_name,
            "catalogue_detection": catalogue_detection,
        }
