# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rows of the tenant report (playbooks/ops/report.yml), shared by its Markdown and HTML templates.

The filters are called by their FQCN, ``iconeus.tenant_toolkit.<name>``; short names below.

    {{ resources | tenant_report_resources }}                 -> [{kind, name, id, state, details}]
    {{ resources | tenant_report_missing(tenant_spec) }}      -> ["Fleet demo-fleet", ...]
    {{ resources | tenant_report_images(tenant_image_name) }} -> [{name, state, created, in_use, catalogue}]
    {{ resources | tenant_report_users(tenant_spec) }}        -> [{name, email, account, enabled, appstream}]
    {{ resources | tenant_report_budget }}                    -> "limit 300.00 USD · actual 12.50 USD"
    {{ value | tenant_md }}                                   -> text safe in a Markdown table cell

``resources`` is the result of the ``tenant_inventory_info`` module; ``tenant_spec`` the
normalised tenant definition. The filters only arrange data: escaping for HTML is the
template's job (``| e``), escaping for Markdown is ``tenant_md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

DASH = "\u2014"


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise AnsibleFilterError(f"{what} must be a mapping, got {type(value).__name__}")
    return value


def _items(resources: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    return [item for item in resources.get(key) or [] if isinstance(item, Mapping)]


def _join(*parts: Any, sep: str = " \u00b7 ") -> str:
    return sep.join(str(p) for p in parts if p not in (None, "", []))


def _row(kind: str, name: Any, ident: Any, state: Any, details: Any) -> dict[str, str]:
    return {
        "kind": kind,
        "name": str(name or DASH),
        "id": str(ident or DASH),
        "state": str(state or DASH),
        "details": str(details or ""),
    }


def tenant_report_resources(resources: Mapping[str, Any]) -> list[dict[str, str]]:
    """One row per resource, in dependency order (network, directory, storage, AppStream, budget)."""
    r = _mapping(resources, "tenant_report_resources input")
    rows: list[dict[str, str]] = []
    for vpc in _items(r, "vpcs"):
        rows.append(_row("VPC", vpc.get("name"), vpc.get("id"), vpc.get("state"), vpc.get("cidr")))
    for subnet in _items(r, "subnets"):
        rows.append(
            _row(
                "Subnet",
                subnet.get("name"),
                subnet.get("id"),
                subnet.get("state"),
                _join(subnet.get("tier"), subnet.get("availability_zone"), subnet.get("cidr")),
            )
        )
    for gateway in _items(r, "internet_gateways"):
        rows.append(_row("Internet gateway", gateway.get("name"), gateway.get("id"), gateway.get("state"), ""))
    for nat in _items(r, "nat_gateways"):
        rows.append(
            _row(
                "NAT gateway",
                nat.get("name"),
                nat.get("id"),
                nat.get("state"),
                _join(nat.get("availability_zone"), nat.get("subnet_id"), ", ".join(nat.get("public_ips") or [])),
            )
        )
    for table in _items(r, "route_tables"):
        rows.append(
            _row(
                "Route table",
                table.get("name") or ("main" if table.get("main") else ""),
                table.get("id"),
                "main" if table.get("main") else "",
                "; ".join(table.get("routes") or []),
            )
        )
    for group in _items(r, "security_groups"):
        rows.append(_row("Security group", group.get("name"), group.get("id"), "", group.get("description")))
    for endpoint in _items(r, "vpc_endpoints"):
        rows.append(
            _row(
                "VPC endpoint",
                endpoint.get("service_name"),
                endpoint.get("id"),
                endpoint.get("state"),
                endpoint.get("type"),
            )
        )
    for directory in _items(r, "directories"):
        controllers = ", ".join(
            _join(c.get("ip"), c.get("availability_zone"), sep=" in ")
            for c in directory.get("domain_controllers") or []
        )
        rows.append(
            _row(
                "Directory (Managed AD)",
                directory.get("name"),
                directory.get("id"),
                directory.get("stage"),
                _join(
                    directory.get("edition"), directory.get("short_name"), f"DCs {controllers}" if controllers else ""
                ),
            )
        )
    for fs in _items(r, "file_systems"):
        rows.append(
            _row(
                "FSx file system",
                fs.get("name"),
                fs.get("id"),
                fs.get("lifecycle"),
                _join(
                    fs.get("deployment_type"),
                    fs.get("storage_type"),
                    f"{fs.get('storage_capacity')} GiB" if fs.get("storage_capacity") is not None else "",
                    f"{fs.get('throughput_capacity')} MB/s" if fs.get("throughput_capacity") is not None else "",
                    fs.get("dns_name"),
                ),
            )
        )
    for backup in _items(r, "backups"):
        rows.append(
            _row(
                "FSx backup",
                backup.get("file_system_id"),
                backup.get("id"),
                backup.get("lifecycle"),
                _join(backup.get("type"), backup.get("created")),
            )
        )
    for config in _items(r, "directory_configs"):
        rows.append(
            _row(
                "AppStream directory config",
                config.get("directory_name"),
                "",
                "",
                "; ".join(config.get("organizational_units") or []),
            )
        )
    for builder in _items(r, "image_builders"):
        rows.append(
            _row(
                "Image builder",
                builder.get("name"),
                "",
                builder.get("state"),
                _owned(builder, builder.get("instance_type")),
            )
        )
    for fleet in _items(r, "fleets"):
        capacity = fleet.get("capacity") or {}
        rows.append(
            _row(
                "Fleet",
                fleet.get("name"),
                "",
                fleet.get("state"),
                _owned(
                    fleet,
                    _join(
                        fleet.get("fleet_type"),
                        fleet.get("instance_type"),
                        fleet.get("image_name"),
                        _capacity(capacity),
                        f"stacks: {', '.join(fleet.get('stacks') or [])}" if fleet.get("stacks") else "no stack",
                        "; ".join(fleet.get("errors") or []),
                    ),
                ),
            )
        )
    for stack in _items(r, "stacks"):
        fleets = ", ".join(stack.get("fleets") or [])
        rows.append(
            _row("Stack", stack.get("name"), "", "", _owned(stack, f"fleet: {fleets}" if fleets else "no fleet"))
        )
    budget = r.get("budget")
    if isinstance(budget, Mapping):
        rows.append(_row("Budget", budget.get("name"), "", "", tenant_report_budget(r)))
    return rows


def tenant_report_budget(resources: Mapping[str, Any]) -> str:
    """The budget's limit and spend in one line ("" when there is no budget)."""
    budget = _mapping(resources, "tenant_report_budget input").get("budget")
    if not isinstance(budget, Mapping):
        return ""
    unit = budget.get("unit") or "USD"

    def amount(label: str, key: str) -> str:
        value = budget.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return ""
        return f"{label} {value:.2f} {unit}"

    return _join(amount("limit", "limit"), amount("actual", "actual_spend"), amount("forecast", "forecasted_spend"))


def _capacity(capacity: Mapping[str, Any]) -> str:
    parts = [
        f"{capacity[k]} {label}"
        for k, label in (("running", "running"), ("in_use", "in use"), ("desired", "desired"))
        if capacity.get(k) is not None
    ]
    return ", ".join(parts)


def _owned(item: Mapping[str, Any], details: str) -> str:
    if item.get("owned") is False:
        return _join(details, "NOT tagged for this tenant")
    return details


def tenant_report_missing(resources: Mapping[str, Any], tenant: Mapping[str, Any]) -> list[str]:
    """What the tenant definition implies but the reading did not find (a tenant part-way built)."""
    r = _mapping(resources, "tenant_report_missing input")
    spec = _mapping(tenant, "tenant_report_missing tenant")
    name = spec.get("name", "")
    expected = [
        ("VPC", f"tagged tenant={name}", bool(r.get("vpcs"))),
        ("Fleet", f"{name}-fleet", bool(r.get("fleets"))),
        ("Stack", f"{name}-stack", bool(r.get("stacks"))),
        ("Budget", f"{name}-monthly", isinstance(r.get("budget"), Mapping)),
    ]
    if spec.get("auth") == "saml":
        fqdn = (spec.get("directory") or {}).get("fqdn", "")
        expected += [
            ("Directory (Managed AD)", fqdn, bool(r.get("directories"))),
            ("FSx file system", f"tagged tenant={name}", bool(r.get("file_systems"))),
            ("AppStream directory config", fqdn, bool(r.get("directory_configs"))),
        ]
    if r.get("vpcs") and spec.get("network", {}).get("nat_gateways", "single") != "none":
        expected.append(
            ("NAT gateway", spec.get("network", {}).get("nat_gateways", "single"), bool(r.get("nat_gateways")))
        )
    return [f"{kind} {what}".strip() for kind, what, found in expected if not found]


def tenant_report_images(resources: Mapping[str, Any], catalogue_image: str | None = None) -> list[dict[str, Any]]:
    """The tenant's images, newest first, with the fleet that streams each and the catalogue's."""
    r = _mapping(resources, "tenant_report_images input")
    in_use = {str(f.get("image_name")): str(f.get("name")) for f in _items(r, "fleets") if f.get("image_name")}
    images = sorted(_items(r, "images"), key=lambda i: (str(i.get("created") or ""), str(i.get("name"))), reverse=True)
    return [
        {
            "name": str(image.get("name", "")),
            "state": str(image.get("state") or DASH),
            "created": str(image.get("created") or DASH),
            "in_use": in_use.get(str(image.get("name")), ""),
            "catalogue": bool(catalogue_image) and image.get("name") == catalogue_image,
            "owned": image.get("owned") is not False,
        }
        for image in images
    ]


def tenant_report_users(resources: Mapping[str, Any], tenant: Mapping[str, Any]) -> list[dict[str, str]]:
    """The users of the definition, with what AppStream knows of them, then unknown associated users."""
    r = _mapping(resources, "tenant_report_users input")
    spec = _mapping(tenant, "tenant_report_users tenant")
    saml = spec.get("auth") == "saml"
    associated = {str(u.get("user_name", "")).lower(): u for u in _items(r, "users")}
    rows = []
    for user in spec.get("users") or []:
        if not isinstance(user, Mapping):
            continue
        email = str(user.get("email", ""))
        found = associated.pop(email.lower(), None)
        if saml:
            appstream = "SAML sign-in (AD account, no AppStream user)"
        elif found is None:
            appstream = "not associated with the stack"
        else:
            appstream = _join("associated", found.get("status"), "disabled" if found.get("enabled") is False else "")
        rows.append(
            {
                "name": _join(user.get("first_name"), user.get("last_name"), sep=" "),
                "email": email,
                "account": str(user.get("username") or "") if saml else email,
                "enabled": "yes" if user.get("enabled", True) else "no",
                "appstream": appstream,
            }
        )
    for key in sorted(associated):
        extra = associated[key]
        rows.append(
            {
                "name": _join(extra.get("first_name"), extra.get("last_name"), sep=" ") or DASH,
                "email": str(extra.get("user_name", "")),
                "account": str(extra.get("user_name", "")),
                "enabled": "no" if extra.get("enabled") is False else "yes",
                "appstream": _join("associated with the stack but not in the tenant definition", extra.get("status")),
            }
        )
    return rows


def tenant_md(value: Any) -> str:
    """Text safe in a Markdown table cell: no HTML, no table or link syntax, one line."""
    if value is None:
        return ""
    text = " ".join(str(value).split())
    # '<' could open raw HTML and '&' an entity; '>' alone is harmless and stays readable.
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    for char in ("\\", "|", "[", "]", "`", "*"):
        text = text.replace(char, "\\" + char)
    return text


class FilterModule:
    """Rows and escaping for the tenant report."""

    def filters(self) -> dict[str, Any]:
        return {
            "tenant_report_resources": tenant_report_resources,
            "tenant_report_missing": tenant_report_missing,
            "tenant_report_images": tenant_report_images,
            "tenant_report_users": tenant_report_users,
            "tenant_report_budget": tenant_report_budget,
            "tenant_md": tenant_md,
        }
