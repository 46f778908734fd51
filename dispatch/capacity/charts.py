"""The capacity planner's charts, drawn server-side as SVG (same approach as
:mod:`dispatch.reports.charts`: a ``Figure`` on the Agg canvas, no ``pyplot`` state).

- ``cost-compliance``: each staffing tried, its cost a week against the 2-hour compliance of
  its worst day, the target as a line; the recommendation and the nearest miss are marked.
- ``utilisation-by-hour``: the recommended staffing's utilisation in each hour of the day
  (visits and travel over rostered time), mean over the simulated days.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any, Final

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dispatch.reports.charts import LATE_COLOUR, MET_COLOUR, RC, TARGET_COLOUR

CHARTS: Final = ("cost-compliance", "utilisation-by-hour")
TITLES: Final = {"cost-compliance": "2-hour compliance against staff cost a week",
                 "utilisation-by-hour": "Utilisation by hour of the day (recommended staffing)"}


def chart(name: str, result: Mapping[str, Any]) -> str:
    """SVG text of chart ``name`` for a finished run's ``result``. :raise KeyError: no such."""
    return {"cost-compliance": cost_compliance,
            "utilisation-by-hour": utilisation_by_hour}[name](result)


def cost_compliance(result: Mapping[str, Any]) -> str:
    """Cost a week (x) against worst-day 2-hour compliance (y) for every staffing tried."""
    trials = result.get("trials", [])
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(6.4, 4.0), layout="constrained")
        ax = fig.add_subplot()
        met = [t for t in trials if t["met_target"]]
        missed = [t for t in trials if not t["met_target"]]
        for group, colour, label in ((met, MET_COLOUR, "met the target"),
                                     (missed, LATE_COLOUR, "missed")):
            if group:
                ax.scatter([t["cost_per_week"] for t in group],
                           [t["compliance"] * 100 for t in group], color=colour, label=label,
                           zorder=3)
        if trials:
            ax.plot([t["cost_per_week"] for t in trials],
                    [t["compliance"] * 100 for t in trials], color="#999999", zorder=2)
        ax.axhline(result.get("target", 0.95) * 100, color=TARGET_COLOUR, linestyle="--",
                   label="target")
        ax.set_xlabel("Staff cost a week (£)")
        ax.set_ylabel("2-hour compliance, worst day (%)")
        ax.set_title(TITLES["cost-compliance"])
        ax.legend(loc="lower right")
        return _svg(fig)


def utilisation_by_hour(result: Mapping[str, Any]) -> str:
    """Bars of busy over rostered time in each hour, with the 60-75 % band shaded."""
    hours = result.get("utilisation_by_hour", {})
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(6.4, 3.6), layout="constrained")
        ax = fig.add_subplot()
        ax.bar([int(h) for h in hours], [v * 100 for v in hours.values()], color=MET_COLOUR)
        ax.axhspan(60, 75, color=TARGET_COLOUR, alpha=0.12, label="60-75 %")
        ax.set_xlim(-0.5, 23.5)
        ax.set_ylim(0, 100)
        ax.set_xlabel("Hour of the day (London)")
        ax.set_ylabel("Utilisation (%)")
        ax.set_title(TITLES["utilisation-by-hour"])
        ax.legend(loc="upper right")
        return _svg(fig)


def _svg(fig: Figure) -> str:
    FigureCanvasAgg(fig)
    buffer = io.StringIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buffer.getvalue()
