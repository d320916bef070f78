# Copyright: contributors to the tenant toolkit
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Charts of a tenant's month of usage, drawn by matplotlib as inline SVG for the HTML reports.

    {{ usage | iconeus.tenant_toolkit.usage_chart_svg('sessions_per_day') }}
    {{ usage | iconeus.tenant_toolkit.usage_chart_svg('hours_per_user') }}
    {{ usage | iconeus.tenant_toolkit.usage_chart_svg('peak_concurrency', capacity=4) }}

``usage`` is the ``usage`` result of the ``appstream_usage_info`` module. The Agg backend (no display),
a fixed ``svg.hashsalt`` and no ``Date`` metadata make the output deterministic: the same usage, the same
bytes. Text stays text (``svg.fonttype: none``) and is never read as mathtext (``text.parse_math``), so a
user id with ``$`` in it is drawn as written; matplotlib escapes it for XML.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

COLOURS = {"bar": "#1f6feb", "missing": "#d0d7de", "capacity": "#cf222e", "ink": "#1f2328", "muted": "#57606a"}
STYLE = {
    "svg.hashsalt": "appstream-tenant-toolkit",
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": COLOURS["muted"],
    "axes.labelcolor": COLOURS["ink"],
    "xtick.color": COLOURS["muted"],
    "ytick.color": COLOURS["muted"],
}


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as err:
        raise AnsibleFilterError("usage_chart_svg needs matplotlib on the controller (requirements.txt)") from err
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _svg(figure: Any, plt: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "appstream-tenant-toolkit"})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # inline: no XML declaration, no DOCTYPE


def _integer_axis(axis: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def sessions_per_day(plt: Any, usage: Mapping[str, Any]) -> Any:
    days = list(usage.get("days") or [])
    figure, axes = plt.subplots(figsize=(8, 2.6))
    numbers = [int(day["day"][-2:]) for day in days]
    axes.bar(numbers, [day["sessions"] for day in days], color=COLOURS["bar"], width=0.7, label="sessions (by end day)")
    missing = set(usage.get("missing_days") or [])
    gaps = [int(day["day"][-2:]) for day in days if day["day"] in missing]
    if gaps:
        axes.scatter(gaps, [0] * len(gaps), marker="x", color=COLOURS["muted"], zorder=3, label="no report")
    axes.set_xlim(0.3, max(numbers or [1]) + 0.7)
    axes.set_xlabel(f"day of {usage.get('month', '')}")
    axes.set_ylabel("sessions")
    _integer_axis(axes.yaxis)
    axes.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, ncols=2)
    axes.set_title("Sessions per day", loc="left", color=COLOURS["ink"])
    figure.tight_layout()
    return figure


def hours_per_user(plt: Any, usage: Mapping[str, Any]) -> Any:
    rows = sorted(usage.get("hours_by_user") or [], key=lambda row: (-float(row["hours"]), str(row["user_id"])))
    height = max(1.6, 0.35 * len(rows) + 1.0)
    figure, axes = plt.subplots(figsize=(8, height))
    if rows:
        names = [str(row["user_id"]) for row in rows][::-1]
        hours = [float(row["hours"]) for row in rows][::-1]
        bars = axes.barh(range(len(rows)), hours, color=COLOURS["bar"], height=0.6)
        axes.set_yticks(range(len(rows)), names)
        axes.bar_label(bars, labels=[f"{value:.2f} h" for value in hours], padding=3, color=COLOURS["ink"])
        axes.set_xlim(0, max(hours) * 1.2 or 1)
    else:
        axes.text(0.5, 0.5, "no session this month", ha="center", va="center", transform=axes.transAxes)
        axes.set_yticks([])
    axes.set_xlabel("session hours")
    axes.set_title("Hours per user", loc="left", color=COLOURS["ink"])
    figure.tight_layout()
    return figure


def peak_concurrency(plt: Any, usage: Mapping[str, Any], capacity: int | None) -> Any:
    peaks = list(usage.get("peaks") or [])
    figure, axes = plt.subplots(figsize=(8, 2.6))
    numbers = [int(item["day"][-2:]) for item in peaks]
    values = [int(item["peak"]) for item in peaks]
    axes.bar(numbers, values, color=COLOURS["bar"], width=0.7, label="peak concurrent sessions")
    if capacity is not None:
        axes.axhline(
            capacity, color=COLOURS["capacity"], linestyle="--", linewidth=1.2, label=f"fleet capacity ({capacity})"
        )
    axes.set_xlim(0.3, max(numbers or [1]) + 0.7)
    axes.set_ylim(0, max([*values, capacity or 0, 1]) * 1.25)
    axes.set_xlabel(f"day of {usage.get('month', '')}")
    axes.set_ylabel("sessions at once")
    _integer_axis(axes.yaxis)
    axes.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, ncols=2)
    axes.set_title("Peak concurrent sessions", loc="left", color=COLOURS["ink"])
    figure.tight_layout()
    return figure


def usage_chart_svg(usage: Mapping[str, Any], chart: str, capacity: Any = None) -> str:
    """One chart of the month as an inline SVG element."""
    if not isinstance(usage, Mapping):
        raise AnsibleFilterError(f"usage_chart_svg: usage must be a mapping, got {type(usage).__name__}")
    plt = _pyplot()
    with plt.rc_context(STYLE):
        if chart == "sessions_per_day":
            figure = sessions_per_day(plt, usage)
        elif chart == "hours_per_user":
            figure = hours_per_user(plt, usage)
        elif chart == "peak_concurrency":
            figure = peak_concurrency(plt, usage, None if capacity in (None, "") else int(capacity))
        else:
            raise AnsibleFilterError(
                f"usage_chart_svg: unknown chart {chart!r} (sessions_per_day, hours_per_user, peak_concurrency)"
            )
        return _svg(figure, plt)


class FilterModule:
    """Charts of the tenant report."""

    def filters(self) -> dict[str, Any]:
        return {"usage_chart_svg": usage_chart_svg}
