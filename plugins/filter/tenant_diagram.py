# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Architecture diagrams of a tenant drawn from its real resources (module tenant_inventory_info).

The filters are called by their FQCN, ``iconeus.tenant_toolkit.<name>``; short names below.

    {{ inventory.resources | tenant_diagram_svg(users=tenant_spec.users | length) }}  -> inline SVG
    {{ inventory.resources | tenant_diagram_mermaid(users=3) }}                      -> Mermaid flowchart

The SVG is built as text, deterministically (same resources, same bytes), with every name
escaped (``html.escape``). Layout: the users and the stack on the left, outside the VPC; the
internet on top; inside the VPC one column per availability zone holding its public subnets (NAT
gateways) and private subnets (fleet instances, domain controllers, FSx, image builder).
Edges run orthogonally through free channels: the gaps between columns, a band between public
and private subnets, and a bus below the subnets, so they never cross a box.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible.errors import AnsibleFilterError

# -- geometry (SVG user units; the HTML scales the drawing to its width) --------------------
WIDTH = 1240
MARGIN = 16
LEFT_PANEL = 180  # users and stack
PANEL_GAP = 44
VPC_PAD = 28  # inside the VPC, left and right: the outer edge channels
COLUMN_GAP = 28  # between availability zones: the inner edge channels
HEADER_H = 30  # VPC title
TOP_BAND_H = 70  # internet gateway, endpoints, and the run line to the gateway
ZONE_LABEL_H = 22
SUBNET_HEADER_H = 38
SUBNET_PAD = 10
SUBNET_GAP = 12
CHIP_H = 50
CHIP_GAP = 10
EGRESS_BAND_H = 58
BUS_BAND_H = 30
INTERNET_H = 40
MIN_COLUMN_W = 400  # below this, three zones make the drawing wider than WIDTH
TOP_CHIP_W = 250
LANE = 6  # distance between edges sharing a channel
FONT = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif"
CHAR_WIDTH = 0.62  # average glyph width of the font, in ems

COLOURS = {
    "streaming": "#1f6feb",
    "domain": "#8250df",
    "smb": "#0f8a7e",
    "egress": "#6e7781",
}
KIND_COLOURS = {
    "fleet": "#1f6feb",
    "builder": "#bf8700",
    "dc": "#8250df",
    "fsx": "#0f8a7e",
    "nat": "#6e7781",
    "igw": "#6e7781",
    "endpoint": "#6e7781",
    "stack": "#1f6feb",
    "users": "#24292f",
    "internet": "#6e7781",
    "other": "#57606a",
}


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fit(text: str, width: float, size: float) -> str:
    """Cut ``text`` with an ellipsis so that it fits ``width`` at font ``size``."""
    limit = max(int(width / (size * CHAR_WIDTH)), 4)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def num(value: float) -> str:
    """Coordinates as short, stable text."""
    return str(round(value)) if float(value).is_integer() or abs(value) >= 100 else f"{value:.1f}"


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h


@dataclass
class Chip:
    """A resource drawn as a small card: a kind line, a name line, a detail line."""

    kind: str
    title: str
    name: str
    detail: str
    box: Box | None = None
    key: str = ""


@dataclass
class SubnetSlot:
    subnet: Mapping[str, Any]
    box: Box | None = None
    fleet: Chip | None = None
    dc: Chip | None = None
    fsx: Chip | None = None
    builder: Chip | None = None
    nats: list[Chip] = field(default_factory=list)


# --------------------------------------------------------------------------
# Reading the resources structure
# --------------------------------------------------------------------------


def _list(resources: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = resources.get(key) or []
    return [item for item in value if isinstance(item, Mapping)]


def _user_count(resources: Mapping[str, Any], users: Any) -> int:
    if isinstance(users, int) and not isinstance(users, bool):
        return users
    if isinstance(users, list | tuple):
        return len(users)
    return len({str(u.get("user_name", "")).lower() for u in _list(resources, "users")})


def _state_text(*parts: Any) -> str:
    return " \u00b7 ".join(str(p) for p in parts if p not in (None, ""))


@dataclass
class Model:
    """The resources arranged for drawing: zones, subnets with their chips, unplaced chips."""

    tenant: str
    region: str
    vpc: Mapping[str, Any] | None
    zones: list[str]
    slots: dict[str, SubnetSlot]  # by subnet id
    by_zone: dict[str, dict[str, list[SubnetSlot]]]  # zone -> tier -> slots
    unplaced: list[Chip]
    igw: Chip | None
    endpoints: list[Chip]
    stack: Chip | None
    users: int
    nat_of_subnet: dict[str, str]  # private subnet id -> NAT gateway id (route 0.0.0.0/0)
    fleet_names: list[str]


def build_model(resources: Mapping[str, Any], users: Any = None) -> Model:
    if not isinstance(resources, Mapping):
        raise AnsibleFilterError(
            f"tenant diagram expects the resources of tenant_inventory_info, got {type(resources).__name__}"
        )
    subnets = sorted(
        _list(resources, "subnets"),
        key=lambda s: (str(s.get("availability_zone", "")), str(s.get("cidr", "")), str(s.get("id", ""))),
    )
    slots = {str(s.get("id", "")): SubnetSlot(s) for s in subnets}
    zones = sorted({str(s.get("availability_zone", "")) for s in subnets})
    by_zone: dict[str, dict[str, list[SubnetSlot]]] = {z: {"public": [], "private": [], "other": []} for z in zones}
    for slot in slots.values():
        tier = slot.subnet.get("tier") if slot.subnet.get("tier") in ("public", "private") else "other"
        by_zone[str(slot.subnet.get("availability_zone", ""))][tier].append(slot)
    unplaced: list[Chip] = []

    for nat in _list(resources, "nat_gateways"):
        chip = Chip(
            "nat",
            "NAT gateway",
            str(nat.get("name") or nat.get("id", "")),
            _state_text(nat.get("id"), nat.get("state")),
            key=str(nat.get("id", "")),
        )
        slot = slots.get(str(nat.get("subnet_id", "")))
        (slot.nats.append(chip) if slot else unplaced.append(chip))

    fleet_names = []
    for fleet in _list(resources, "fleets"):
        fleet_names.append(str(fleet.get("name", "")))
        capacity = fleet.get("capacity") or {}
        running = capacity.get("running")
        detail = _state_text(
            fleet.get("fleet_type"),
            fleet.get("instance_type"),
            fleet.get("state"),
            f"{running} running" if running is not None else None,
        )
        placed = False
        for subnet_id in fleet.get("subnet_ids") or []:
            slot = slots.get(str(subnet_id))
            if slot is not None:
                slot.fleet = Chip(
                    "fleet", "Fleet instances", str(fleet.get("name", "")), detail, key=str(fleet.get("name", ""))
                )
                placed = True
        if not placed:
            unplaced.append(Chip("fleet", "Fleet", str(fleet.get("name", "")), detail, key=str(fleet.get("name", ""))))

    for builder in _list(resources, "image_builders"):
        chip = Chip(
            "builder",
            "Image builder",
            str(builder.get("name", "")),
            _state_text(builder.get("instance_type"), builder.get("state")),
        )
        slot = next((slots[s] for s in builder.get("subnet_ids") or [] if s in slots), None)
        if slot is not None and slot.builder is None:
            slot.builder = chip
        else:
            unplaced.append(chip)

    for directory in _list(resources, "directories"):
        for controller in directory.get("domain_controllers") or []:
            chip = Chip(
                "dc",
                "Domain controller",
                str(directory.get("name", "")),
                _state_text(controller.get("ip") or directory.get("id"), directory.get("stage")),
                key=str(directory.get("id", "")),
            )
            slot = slots.get(str(controller.get("subnet_id", "")))
            if slot is not None and slot.dc is None:
                slot.dc = chip
            else:
                unplaced.append(chip)
        if not directory.get("domain_controllers"):
            unplaced.append(
                Chip(
                    "dc",
                    "Directory",
                    str(directory.get("name", "")),
                    _state_text(directory.get("id"), directory.get("stage")),
                )
            )

    for fs in _list(resources, "file_systems"):
        preferred = str(fs.get("preferred_subnet_id") or "")
        name = str(fs.get("name") or fs.get("id", ""))
        placed = False
        for subnet_id in fs.get("subnet_ids") or []:
            slot = slots.get(str(subnet_id))
            if slot is None or slot.fsx is not None:
                continue
            standby = len(fs.get("subnet_ids") or []) > 1 and subnet_id != preferred
            slot.fsx = Chip(
                "fsx",
                "FSx standby" if standby else "FSx file system",
                name,
                _state_text(fs.get("id"), fs.get("lifecycle")),
                key=str(fs.get("id", "")) + (":standby" if standby else ""),
            )
            placed = True
        if not placed:
            unplaced.append(Chip("fsx", "FSx file system", name, _state_text(fs.get("id"), fs.get("lifecycle"))))

    gateways = _list(resources, "internet_gateways")
    igw = None
    if gateways:
        gateway = gateways[0]
        igw = Chip(
            "igw",
            "Internet gateway",
            str(gateway.get("name") or gateway.get("id", "")),
            _state_text(gateway.get("id"), gateway.get("state")),
        )
    endpoints = [
        Chip(
            "endpoint",
            f"{(e.get('type') or 'VPC')} endpoint",
            str(e.get("service_name", "")).rsplit(".", 1)[-1] or str(e.get("id", "")),
            _state_text(e.get("id"), e.get("state")),
        )
        for e in _list(resources, "vpc_endpoints")
    ]
    stacks = _list(resources, "stacks")
    stack = None
    if stacks:
        names = ", ".join(str(s.get("name", "")) for s in stacks)
        fleets = sorted({str(f) for s in stacks for f in s.get("fleets") or []})
        stack = Chip("stack", "Stack", names, "fleet: " + (", ".join(fleets) if fleets else "none"))

    nat_of_subnet: dict[str, str] = {}
    for table in _list(resources, "route_tables"):
        target = next(
            (
                route.split(" -> ", 1)[1]
                for route in table.get("routes") or []
                if isinstance(route, str) and route.startswith("0.0.0.0/0 -> nat-")
            ),
            None,
        )
        if target:
            for subnet_id in table.get("subnet_ids") or []:
                nat_of_subnet[str(subnet_id)] = target

    vpc = resources.get("vpc") if isinstance(resources.get("vpc"), Mapping) else None
    if vpc is None:
        # Without a VPC nothing can be placed in a zone.
        unplaced = [c for s in slots.values() for c in (*s.nats, s.fleet, s.builder, s.dc, s.fsx) if c] + unplaced
    return Model(
        tenant=str(resources.get("tenant", "")),
        region=str(resources.get("region", "")),
        vpc=vpc,
        zones=zones if vpc is not None else [],
        slots=slots,
        by_zone=by_zone if vpc is not None else {},
        unplaced=unplaced,
        igw=igw if vpc is not None else None,
        endpoints=endpoints if vpc is not None else [],
        stack=stack,
        users=_user_count(resources, users),
        nat_of_subnet=nat_of_subnet,
        fleet_names=fleet_names,
    )


# --------------------------------------------------------------------------
# SVG
# --------------------------------------------------------------------------


class Canvas:
    def __init__(self) -> None:
        self.back: list[str] = []  # boxes
        self.edges: list[str] = []
        self.front: list[str] = []  # chips and labels, above the edges

    def rect(self, box: Box, fill: str, stroke: str, radius: int = 6, dash: bool = False, layer: str = "back") -> None:
        extra = ' stroke-dasharray="6 4"' if dash else ""
        getattr(self, layer).append(
            f'<rect x="{num(box.x)}" y="{num(box.y)}" width="{num(box.w)}" height="{num(box.h)}" rx="{radius}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="1.2"{extra}/>'
        )

    def text(
        self,
        x: float,
        y: float,
        value: str,
        size: float = 11,
        weight: str = "normal",
        colour: str = "#24292f",
        anchor: str = "start",
        layer: str = "front",
    ) -> None:
        getattr(self, layer).append(
            f'<text x="{num(x)}" y="{num(y)}" font-size="{size}" font-weight="{weight}" fill="{colour}" '
            f'text-anchor="{anchor}">{esc(value)}</text>'
        )

    def path(self, points: list[tuple[float, float]], kind: str, label: str = "") -> None:
        # Drop repeated points so that a zero-length segment does not skew the arrow head.
        cleaned = [points[0]]
        for point in points[1:]:
            if point != cleaned[-1]:
                cleaned.append(point)
        data = "M " + " L ".join(f"{num(x)} {num(y)}" for x, y in cleaned)
        dash = ' stroke-dasharray="5 4"' if kind in ("egress", "domain") else ""
        title = f"<title>{esc(label)}</title>" if label else ""
        self.edges.append(
            f'<path d="{data}" fill="none" stroke="{COLOURS[kind]}" stroke-width="1.6"{dash} '
            f'marker-end="url(#arrow-{kind})">{title}</path>'
        )

    def chip(self, chip: Chip, box: Box) -> None:
        chip.box = box
        colour = KIND_COLOURS.get(chip.kind, KIND_COLOURS["other"])
        self.front.append(f'<g class="chip chip-{esc(chip.kind)}">')
        self.front.append(f"<title>{esc(_state_text(chip.title, chip.name, chip.detail))}</title>")
        self.rect(box, "#ffffff", colour, radius=5, layer="front")
        self.front.append(
            f'<rect x="{num(box.x)}" y="{num(box.y)}" width="5" height="{num(box.h)}" rx="2" fill="{colour}"/>'
        )
        inner = box.w - 16
        self.text(box.x + 11, box.y + 15, fit(chip.title, inner, 10), size=10, weight="bold", colour=colour)
        self.text(box.x + 11, box.y + 30, fit(chip.name, inner, 11.5), size=11.5, weight="bold")
        self.text(box.x + 11, box.y + 44, fit(chip.detail, inner, 9.5), size=9.5, colour="#57606a")
        self.front.append("</g>")


def _defs() -> str:
    markers = "".join(
        f'<marker id="arrow-{kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{colour}"/></marker>'
        for kind, colour in COLOURS.items()
    )
    return f"<defs>{markers}</defs>"


def _tier_rows(model: Model, tier: str) -> int:
    return max((len(model.by_zone[z][tier]) for z in model.zones), default=0)


def _subnet_height(model: Model, tier: str) -> float:
    """Height of every subnet box of a tier, so that zones line up."""
    if tier == "public":
        nat_rows = max((math.ceil(len(s.nats) / 2) for z in model.zones for s in model.by_zone[z][tier]), default=0)
        return SUBNET_HEADER_H + max(nat_rows, 1) * (CHIP_H + CHIP_GAP) + SUBNET_PAD - CHIP_GAP + 4
    rows = 0
    tier_slots = [s for z in model.zones for s in model.by_zone[z][tier]]
    if any(s.fleet for s in tier_slots):
        rows += 1
    if any(s.dc or s.fsx for s in tier_slots):
        rows += 1
    if any(s.builder for s in tier_slots):
        rows += 1
    return SUBNET_HEADER_H + max(rows, 1) * (CHIP_H + CHIP_GAP) + SUBNET_PAD - CHIP_GAP + 4


def render_svg(resources: Mapping[str, Any], users: Any = None) -> str:
    model = build_model(resources, users)
    canvas = Canvas()
    zones = model.zones or ([""] if model.vpc is not None else [])
    columns = max(len(zones), 1)
    # Wide enough for readable chips in every zone; the HTML scales the drawing to its width.
    width = max(
        WIDTH,
        round(MARGIN * 2 + LEFT_PANEL + PANEL_GAP + 2 * VPC_PAD + (columns - 1) * COLUMN_GAP + columns * MIN_COLUMN_W),
    )
    vpc_x = MARGIN + LEFT_PANEL + PANEL_GAP
    vpc_w = width - vpc_x - MARGIN
    vpc_y = MARGIN + INTERNET_H + 30
    column_w = (vpc_w - 2 * VPC_PAD - (columns - 1) * COLUMN_GAP) / columns
    column_x = {zone: vpc_x + VPC_PAD + i * (column_w + COLUMN_GAP) for i, zone in enumerate(zones)}

    def channel(zone: str, side: str, lane: float = 0) -> float:
        """x of the free vertical channel left or right of a zone column (lanes keep edges apart)."""
        index = zones.index(zone)
        if side == "left":
            centre = vpc_x + VPC_PAD / 2 if index == 0 else column_x[zone] - COLUMN_GAP / 2
        else:
            centre = (
                vpc_x + vpc_w - VPC_PAD / 2 if index == len(zones) - 1 else column_x[zone] + column_w + COLUMN_GAP / 2
            )
        return centre + lane

    # vertical plan of the VPC
    top_band_y = vpc_y + HEADER_H
    run_y = top_band_y + TOP_BAND_H - 12  # the line NAT gateways follow to the internet gateway
    zone_label_y = top_band_y + TOP_BAND_H
    public_y = zone_label_y + ZONE_LABEL_H
    public_rows = _tier_rows(model, "public")
    public_h = _subnet_height(model, "public")
    public_bottom = public_y + public_rows * (public_h + SUBNET_GAP) - (SUBNET_GAP if public_rows else 0)
    egress_top = public_bottom
    egress_y = egress_top + EGRESS_BAND_H * 0.35
    streaming_y = egress_top + EGRESS_BAND_H * 0.72
    private_y = egress_top + EGRESS_BAND_H
    private_rows = _tier_rows(model, "private")
    private_h = _subnet_height(model, "private")
    other_y = private_y + private_rows * (private_h + SUBNET_GAP)
    other_rows = _tier_rows(model, "other")
    other_h = _subnet_height(model, "other")
    subnets_bottom = other_y + other_rows * (other_h + SUBNET_GAP) - SUBNET_GAP
    bus_y = subnets_bottom + BUS_BAND_H / 2
    vpc_h = (subnets_bottom + BUS_BAND_H - vpc_y) if model.vpc is not None and model.slots else 120
    vpc_box = Box(vpc_x, vpc_y, vpc_w, vpc_h)

    # VPC frame and title
    if model.vpc is not None:
        canvas.rect(vpc_box, "#f6f8fc", "#4a73b5", radius=10)
        vpc = model.vpc
        title = _state_text(f"VPC {vpc.get('name') or ''}".strip(), vpc.get("id"), vpc.get("cidr"), model.region)
        canvas.text(vpc_x + 14, vpc_y + 20, fit(title, vpc_w - 28, 13), size=13, weight="bold", colour="#1b3f7a")
        if not model.slots:
            canvas.text(vpc_x + 14, vpc_y + 44, "No subnet found in the VPC.", size=11, colour="#57606a")
    else:
        canvas.rect(vpc_box, "#fbfbfb", "#8c959f", radius=10, dash=True)
        canvas.text(
            vpc_x + 14,
            vpc_y + 24,
            f"No VPC tagged tenant={model.tenant} found",
            size=13,
            weight="bold",
            colour="#57606a",
        )
        canvas.text(
            vpc_x + 14,
            vpc_y + 44,
            "The network is not built yet (or was removed); resources found elsewhere are listed below.",
            size=11,
            colour="#57606a",
        )

    # top band: internet gateway and endpoints
    igw_box = None
    if model.igw is not None:
        igw_box = Box(vpc_x + VPC_PAD, top_band_y + 4, TOP_CHIP_W, CHIP_H)
        canvas.chip(model.igw, igw_box)
    endpoint_x = vpc_x + vpc_w - VPC_PAD - TOP_CHIP_W
    for endpoint in model.endpoints[:2]:
        canvas.chip(endpoint, Box(endpoint_x, top_band_y + 4, TOP_CHIP_W, CHIP_H))
        endpoint_x -= TOP_CHIP_W + CHIP_GAP

    # internet, outside the VPC, above its gateway
    internet_box = Box((igw_box.x if igw_box else vpc_x + VPC_PAD), MARGIN, TOP_CHIP_W, INTERNET_H)
    canvas.rect(internet_box, "#ffffff", KIND_COLOURS["internet"], radius=20)
    canvas.text(internet_box.cx, internet_box.cy + 4, "Internet", size=12, weight="bold", anchor="middle")
    if igw_box is not None:
        canvas.path(
            [(igw_box.cx, igw_box.y), (internet_box.cx, internet_box.bottom)],
            "egress",
            "internet gateway to the internet",
        )

    # zones and subnets
    for zone in zones:
        x = column_x[zone]
        canvas.text(
            x + 2,
            zone_label_y + 15,
            f"Availability zone {zone}" if zone else "Zone unknown",
            size=11,
            weight="bold",
            colour="#1b3f7a",
        )
        for tier, top, height, fill, stroke, label in (
            ("public", public_y, public_h, "#eef8ee", "#4c9a4c", "Public subnet"),
            ("private", private_y, private_h, "#eaf1fb", "#4a73b5", "Private subnet"),
            ("other", other_y, other_h, "#f3f3f3", "#8c959f", "Subnet"),
        ):
            for index, slot in enumerate(model.by_zone.get(zone, {}).get(tier, [])):
                box = Box(x, top + index * (height + SUBNET_GAP), column_w, height)
                slot.box = box
                canvas.rect(box, fill, stroke, radius=7)
                subnet = slot.subnet
                canvas.text(
                    box.x + 10,
                    box.y + 16,
                    fit(_state_text(label, subnet.get("name")), column_w - 20, 11.5),
                    size=11.5,
                    weight="bold",
                )
                canvas.text(
                    box.x + 10,
                    box.y + 31,
                    fit(_state_text(subnet.get("id"), subnet.get("cidr")), column_w - 20, 10.5),
                    size=10.5,
                    colour="#57606a",
                )
                _place_chips(canvas, model, slot, tier)

    # unplaced resources, below the VPC
    bottom = vpc_box.bottom + 16
    if model.unplaced:
        canvas.text(
            vpc_x,
            bottom + 12,
            "Resources not placed in a subnet of the tenant VPC",
            size=11,
            weight="bold",
            colour="#57606a",
        )
        per_row = max(int((vpc_w + CHIP_GAP) // (TOP_CHIP_W + CHIP_GAP)), 1)
        for index, chip in enumerate(model.unplaced):
            row, col = divmod(index, per_row)
            canvas.chip(
                chip,
                Box(vpc_x + col * (TOP_CHIP_W + CHIP_GAP), bottom + 22 + row * (CHIP_H + CHIP_GAP), TOP_CHIP_W, CHIP_H),
            )
        bottom += 22 + math.ceil(len(model.unplaced) / per_row) * (CHIP_H + CHIP_GAP) + 6

    # users and stack, left of the VPC, level with the private subnets
    anchor_y = private_y if model.vpc is not None and private_rows else vpc_y + 60
    stack_box = Box(MARGIN, anchor_y, LEFT_PANEL, CHIP_H + 6)
    users_box = Box(MARGIN, max(anchor_y - 110, MARGIN + INTERNET_H + 30), LEFT_PANEL, CHIP_H + 6)
    users_chip = Chip("users", "Users", f"{model.users} user{'s' if model.users != 1 else ''}", "web browser or client")
    canvas.chip(users_chip, users_box)
    canvas.path(
        [(users_box.cx, users_box.bottom), (stack_box.cx, stack_box.y)], "streaming", "users sign in to the stack"
    )
    canvas.chip(model.stack or Chip("stack", "Stack", "not found", "no stack yet"), stack_box)
    if model.stack is not None:
        fleet_slots = sorted(
            ((sid, s) for sid, s in model.slots.items() if s.fleet and s.fleet.box),
            key=lambda item: item[1].box.x if item[1].box else 0,
        )
        outer = channel(zones[0], "left", -LANE) if zones else vpc_x - PANEL_GAP / 2
        for subnet_id, slot in fleet_slots:
            fleet = slot.fleet
            if fleet is None or fleet.box is None:
                raise AssertionError("a placed fleet slot has a fleet with a box")
            inner = channel(str(slot.subnet.get("availability_zone", "")), "left", -LANE)
            route = [(stack_box.right, stack_box.cy), (outer, stack_box.cy)]
            if inner != outer:
                route += [(outer, streaming_y), (inner, streaming_y)]
            route += [(inner, fleet.box.cy), (fleet.box.x, fleet.box.cy)]
            canvas.path(route, "streaming", f"stack streams from fleet {fleet.name} in {subnet_id}")
        for chip in model.unplaced:
            if chip.kind == "fleet" and chip.box is not None:
                canvas.path(
                    [(stack_box.cx, stack_box.bottom), (stack_box.cx, chip.box.cy), (chip.box.x, chip.box.cy)],
                    "streaming",
                )

    if model.vpc is not None:
        _draw_vpc_edges(canvas, model, zones, channel, run_y, egress_y, bus_y, igw_box)

    bottom = max(bottom, stack_box.bottom + 16)
    legend_y = bottom + 8
    x = MARGIN
    for kind, label in (
        ("streaming", "streaming (users, stack, fleet)"),
        ("domain", "domain join (AD)"),
        ("smb", "SMB file share (home and project drives)"),
        ("egress", "internet egress (NAT, internet gateway)"),
    ):
        canvas.path([(x, legend_y), (x + 34, legend_y)], kind)
        canvas.text(x + 42, legend_y + 4, label, size=11, colour="#24292f")
        x += 60 + len(label) * 11 * CHAR_WIDTH
    height = legend_y + 18

    label = f"Architecture of tenant {model.tenant} in {model.region}".strip()
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {num(height)}" width="{width}" '
        f'height="{num(height)}" role="img" aria-label="{esc(label)}" font-family="{esc(FONT)}">',
        f"<title>{esc(label)}</title>",
        _defs(),
        *canvas.back,
        *canvas.edges,
        *canvas.front,
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def _place_chips(canvas: Canvas, model: Model, slot: SubnetSlot, tier: str) -> None:
    if slot.box is None:
        raise AssertionError("chips are placed in a subnet slot that has a box")
    box = slot.box
    inner_x = box.x + SUBNET_PAD
    inner_w = box.w - 2 * SUBNET_PAD
    half_w = (inner_w - CHIP_GAP) / 2
    y = box.y + SUBNET_HEADER_H
    if tier == "public":
        if len(slot.nats) == 1:
            canvas.chip(slot.nats[0], Box(inner_x, y, inner_w, CHIP_H))
            return
        for index, chip in enumerate(slot.nats):
            row, col = divmod(index, 2)
            # The first NAT sits on the right, next to the channel that leads to the gateway.
            x = inner_x + (half_w + CHIP_GAP if col == 0 else 0)
            canvas.chip(chip, Box(x, y + row * (CHIP_H + CHIP_GAP), half_w, CHIP_H))
        return
    tier_slots = [s for z in model.zones for s in model.by_zone[z][tier]]
    if any(s.fleet for s in tier_slots):
        if slot.fleet:
            canvas.chip(slot.fleet, Box(inner_x, y, inner_w, CHIP_H))
        y += CHIP_H + CHIP_GAP
    if any(s.dc or s.fsx for s in tier_slots):
        if slot.dc:
            canvas.chip(slot.dc, Box(inner_x, y, half_w, CHIP_H))
        if slot.fsx:
            canvas.chip(slot.fsx, Box(inner_x + half_w + CHIP_GAP, y, half_w, CHIP_H))
        y += CHIP_H + CHIP_GAP
    if any(s.builder for s in tier_slots) and slot.builder:
        canvas.chip(slot.builder, Box(inner_x, y, half_w, CHIP_H))


def _draw_vpc_edges(
    canvas: Canvas,
    model: Model,
    zones: list[str],
    channel: Any,
    run_y: float,
    egress_y: float,
    bus_y: float,
    igw_box: Box | None,
) -> None:
    zone_of = {sid: str(s.subnet.get("availability_zone", "")) for sid, s in model.slots.items()}
    nat_chips = {c.key: c for s in model.slots.values() for c in s.nats if c.box}

    # NAT gateways to the internet gateway: right channel of the zone, then the run line.
    if igw_box is not None:
        for slot in model.slots.values():
            for chip in slot.nats:
                if chip.box is None:
                    continue
                x = channel(zone_of[str(slot.subnet.get("id", ""))], "right")
                canvas.path(
                    [
                        (chip.box.right, chip.box.cy),
                        (x, chip.box.cy),
                        (x, run_y),
                        (igw_box.cx, run_y),
                        (igw_box.cx, igw_box.bottom),
                    ],
                    "egress",
                    f"NAT gateway {chip.name} to the internet gateway",
                )

    for subnet_id, slot in model.slots.items():
        if slot.box is None:
            continue
        # Private subnets to their NAT gateway (the 0.0.0.0/0 route of their route table).
        nat = nat_chips.get(model.nat_of_subnet.get(subnet_id, ""))
        if nat is not None and nat.box is not None and slot.subnet.get("tier") != "public":
            start_x = slot.box.right - 18
            canvas.path(
                [(start_x, slot.box.y), (start_x, egress_y), (nat.box.cx, egress_y), (nat.box.cx, nat.box.bottom)],
                "egress",
                f"subnet {slot.subnet.get('id', '')} reaches the internet through {nat.name}",
            )
        fleet = slot.fleet
        if fleet is None or fleet.box is None:
            continue
        if slot.dc is not None and slot.dc.box is not None:
            canvas.path(
                [(slot.dc.box.cx, fleet.box.bottom), (slot.dc.box.cx, slot.dc.box.y)],
                "domain",
                "fleet instances join the domain",
            )
        if (
            slot.builder is not None
            and slot.builder.box is not None
            and slot.dc is not None
            and slot.dc.box is not None
        ):
            canvas.path(
                [(slot.dc.box.cx, slot.builder.box.y), (slot.dc.box.cx, slot.dc.box.bottom)],
                "domain",
                "image builder joins the domain",
            )

    # Fleets to the file system: straight down in the same subnet, through the bus otherwise.
    fsx_chips = [s.fsx for s in model.slots.values() if s.fsx and s.fsx.box and not s.fsx.key.endswith(":standby")]
    for target in fsx_chips:
        if target.box is None:
            raise AssertionError("file system chips were filtered on having a box")
        target_zone = next(zone_of[sid] for sid, s in model.slots.items() if s.fsx is target)
        for subnet_id, slot in model.slots.items():
            fleet = slot.fleet
            if fleet is None or fleet.box is None:
                continue
            if slot.fsx is target:
                canvas.path(
                    [(target.box.cx, fleet.box.bottom), (target.box.cx, target.box.y)],
                    "smb",
                    "fleet instances map the FSx share",
                )
                continue
            source_zone = zone_of[subnet_id]
            # Clients always use the preferred file server; a standby in this zone takes over only on failover.
            left = zones.index(target_zone) < zones.index(source_zone)
            x = channel(source_zone, "left" if left else "right", LANE)
            start = (fleet.box.x, fleet.box.cy) if left else (fleet.box.right, fleet.box.cy)
            canvas.path(
                [start, (x, fleet.box.cy), (x, bus_y), (target.box.cx, bus_y), (target.box.cx, target.box.bottom)],
                "smb",
                f"fleet instances in {source_zone} map the FSx share in {target_zone}",
            )


# --------------------------------------------------------------------------
# Mermaid
# --------------------------------------------------------------------------


def mermaid_text(value: Any) -> str:
    """A label safe inside a quoted Mermaid label: entity codes for the characters that matter."""
    text = " ".join(str(value).split())
    # '#' starts an entity code in Mermaid, so it is replaced first, then the others.
    for char, code in (("#", "#35;"), ("&", "#38;"), ('"', "#34;"), ("<", "#60;"), (">", "#62;"), ("`", "#96;")):
        text = text.replace(char, code)
    return text


def render_mermaid(resources: Mapping[str, Any], users: Any = None) -> str:
    model = build_model(resources, users)
    lines = ["flowchart TB"]
    ids: dict[int, str] = {}

    def node(chip: Chip, shape: str = "rect") -> str:
        if id(chip) not in ids:
            ids[id(chip)] = f"n{len(ids) + 1}"
        label = mermaid_text(_state_text(chip.title, chip.name, chip.detail))
        if shape == "round":
            return f'{ids[id(chip)]}(["{label}"])'
        return f'{ids[id(chip)]}["{label}"]'

    def ref(chip: Chip) -> str:
        return ids[id(chip)]

    users = Chip("users", "Users", f"{model.users} user{'s' if model.users != 1 else ''}", "")
    lines.append(f"  {node(users, 'round')}")
    internet = Chip("internet", "Internet", "", "")
    lines.append(f"  {node(internet, 'round')}")
    if model.stack is not None:
        lines.append(f"  {node(model.stack)}")
        lines.append(f"  {ref(users)} -->|sign in| {ref(model.stack)}")
    if model.vpc is not None:
        vpc = model.vpc
        lines.append(
            f'  subgraph vpc["{mermaid_text(_state_text("VPC", vpc.get("name"), vpc.get("id"), vpc.get("cidr")))}"]'
        )
        if model.igw is not None:
            lines.append(f"    {node(model.igw)}")
        for endpoint in model.endpoints:
            lines.append(f"    {node(endpoint)}")
        for zone_index, zone in enumerate(model.zones, start=1):
            lines.append(f'    subgraph z{zone_index}["{mermaid_text("Availability zone " + zone)}"]')
            for tier, label in (("public", "Public subnet"), ("private", "Private subnet"), ("other", "Subnet")):
                for slot in model.by_zone[zone][tier]:
                    subnet = slot.subnet
                    sid = f"s{len(ids) + 1}"
                    ids[id(slot)] = sid
                    title = _state_text(label, subnet.get("name"), subnet.get("id"), subnet.get("cidr"))
                    lines.append(f'      subgraph {sid}["{mermaid_text(title)}"]')
                    members = [*slot.nats, slot.fleet, slot.dc, slot.fsx, slot.builder]
                    body = [f"        {node(chip)}" for chip in members if chip is not None]
                    lines.extend(body or [f'        {sid}_empty["{mermaid_text("no resource")}"]'])
                    lines.append("      end")
            lines.append("    end")
        lines.append("  end")
    if model.unplaced:
        lines.append(f'  subgraph unplaced["{mermaid_text("Not in a subnet of the tenant VPC")}"]')
        lines.extend(f"    {node(chip)}" for chip in model.unplaced)
        lines.append("  end")

    # edges
    if model.igw is not None:
        lines.append(f"  {ref(model.igw)} --- {ref(internet)}")
    nat_by_id = {c.key: c for s in model.slots.values() for c in s.nats}
    for nat in nat_by_id.values():
        if model.igw is not None and id(nat) in ids:
            lines.append(f"  {ref(nat)} -.->|egress| {ref(model.igw)}")
    fsx = [s.fsx for s in model.slots.values() if s.fsx and not s.fsx.key.endswith(":standby")]
    for subnet_id, slot in model.slots.items():
        if model.vpc is None:
            break
        fleet = slot.fleet
        if fleet is None:
            continue
        if model.stack is not None:
            lines.append(f"  {ref(model.stack)} -->|streaming| {ref(fleet)}")
        if slot.dc is not None:
            lines.append(f"  {ref(fleet)} -.->|domain join| {ref(slot.dc)}")
        for target in fsx:  # the preferred file server(s); a standby only serves after a failover
            if target is not None:
                lines.append(f"  {ref(fleet)} -->|SMB| {ref(target)}")
        nat = nat_by_id.get(model.nat_of_subnet.get(subnet_id, ""))
        if nat is not None:
            lines.append(f"  {ref(fleet)} -.->|egress| {ref(nat)}")
    if model.stack is not None:
        for chip in model.unplaced:
            if chip.kind == "fleet":
                lines.append(f"  {ref(model.stack)} -->|streaming| {ref(chip)}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------


def tenant_diagram_svg(resources: Mapping[str, Any], users: Any = None) -> str:
    """Inline SVG of the tenant's architecture from ``tenant_inventory_info``'s ``resources``."""
    return render_svg(resources, users)


def tenant_diagram_mermaid(resources: Mapping[str, Any], users: Any = None) -> str:
    """The same architecture as a Mermaid ``flowchart`` (without the code fence)."""
    return render_mermaid(resources, users)


class FilterModule:
    """Tenant architecture diagrams (SVG, Mermaid) for the report."""

    def filters(self) -> dict[str, Any]:
        return {
            "tenant_diagram_svg": tenant_diagram_svg,
            "tenant_diagram_mermaid": tenant_diagram_mermaid,
        }
