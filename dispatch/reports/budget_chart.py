"""A network budget's chart: committed spend against the budget, month by month (SVG)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dispatch.reports.charts import LATE_COLOUR, MET_COLOUR, RC

BAR_WIDTH = 0.4


def budget_chart(months: Sequence[tuple[date, int, int]]) -> str:
    """Side-by-side bars (pounds): the month's share of the budget and what is committed in
    it; committed bars above their budget are drawn in the warning colour."""
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(6.4, 3.6), layout="constrained")
        ax = fig.add_subplot()
        xs = list(range(len(months)))
        ax.bar([x - BAR_WIDTH / 2 for x in xs], [b / 100 for _, b, _ in months], BAR_WIDTH,
               color="#aeb7bd", label="available (budget)")
        ax.bar([x + BAR_WIDTH / 2 for x in xs], [c / 100 for _, _, c in months], BAR_WIDTH,
               color=[LATE_COLOUR if c > b else MET_COLOUR for _, b, c in months],
               label="committed")
        ax.set_xticks(xs, [m.strftime("%b %Y") for m, _, _ in months])
        ax.set_ylabel("£")
        ax.set_title("Committed against available, by month")
        ax.legend(loc="upper right")
        FigureCanvasAgg(fig)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
        return buffer.getvalue()
