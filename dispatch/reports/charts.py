"""Charts a manager can read at a glance, drawn server-side as SVG text.

Why this shape: we build each ``matplotlib.figure.Figure`` directly with the Agg canvas and
never touch ``pyplot``, so there is no global figure state to leak between requests or
threads. Text is written as paths (``svg.fonttype = "path"``, matplotlib's bundled DejaVu
Sans), so the SVG needs no font on the reader's machine; a fixed ``svg.hashsalt`` and no date
metadata make the same rows draw the same bytes (cacheable, testable).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from dispatch.reports import metrics
from dispatch.reports.types import DayRows, WorkerDay

#: The smallest text on a chart, in points (SVG user units). The performance page shows a chart
#: no narrower than :data:`MIN_SHOWN_PX` CSS pixels (a phone scrolls it sideways instead), so
#: with :data:`WIDTH_IN` inches (72 units each) the smallest text is at least 12 px on screen.
MIN_FONT_PT = 11
WIDTH_IN = 7.5
MIN_SHOWN_PX = 600
RC: dict[Any, Any] = {
    "svg.fonttype": "path", "svg.hashsalt": "dispatch-kpis", "font.family": "DejaVu Sans",
    "font.size": MIN_FONT_PT, "axes.titlesize": 13, "figure.titlesize": 14,
    "xtick.labelsize": MIN_FONT_PT, "ytick.labelsize": MIN_FONT_PT,
    "legend.fontsize": MIN_FONT_PT, "axes.labelsize": MIN_FONT_PT,
    "axes.spines.top": False, "axes.spines.right": False,
}
# Colour-blind-safe pair (Okabe-Ito blue and orange) and a neutral for targets.
MET_COLOUR, LATE_COLOUR, TARGET_COLOUR = "#0072B2", "#E69F00", "#444444"
VISIT_COLOUR, TRAVEL_COLOUR = "#0072B2", "#E69F00"
URGENT_BIN_MINUTES = 15
DAY_BIN_HOURS = 2
MAX_WORKERS_SHOWN = 40  # beyond this a bar chart is no longer readable at a glance


def _svg(fig: Figure) -> str:
    FigureCanvasAgg(fig)
    buffer = io.StringIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buffer.getvalue()


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(RC):
        return Figure(figsize=(width, height), layout="constrained")


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def response_time_chart(rows: DayRows, *, title: str) -> str:
    """Histograms of response times: 2-hour referrals in minutes (target line at 120) and
    24-hour referrals in hours (target at 24); bars late past the target in orange."""
    with matplotlib.rc_context(RC):
        fig = _figure(WIDTH_IN, 6.5)
        left, right = fig.subplots(2, 1)
        urgent = [m for r in rows.responses if metrics.counts_for_2h(r)
                  if (m := metrics.response_minutes(r)) is not None]
        day = [m / 60 for r in rows.responses if r.category == metrics.DAY
               if (m := metrics.response_minutes(r)) is not None]
        _histogram(left, urgent, target=120, step=URGENT_BIN_MINUTES,
                   label="minutes from referral to first arrival",
                   heading="2-hour urgent response (08:00-20:00)")
        _histogram(right, day, target=24, step=DAY_BIN_HOURS,
                   label="hours from referral to first arrival", heading="24-hour response")
        fig.suptitle(title)
        return _svg(fig)


def _histogram(ax: Axes, values: Sequence[float], *, target: float, step: float, label: str,
               heading: str) -> None:
    if not values:
        _empty(ax, "no arrivals yet")
        ax.set_title(heading)
        return
    top = max(max(values), target) + step
    edges = [i * step for i in range(int(top // step) + 2)]
    on_time = [v for v in values if v <= target]
    late = [v for v in values if v > target]
    ax.hist([on_time, late], bins=edges, stacked=True, color=[MET_COLOUR, LATE_COLOUR],
              label=[f"within target ({len(on_time)})", f"late ({len(late)})"])
    ax.axvline(target, color=TARGET_COLOUR, linestyle="--", linewidth=1)
    ax.set_title(f"{heading}, n={len(values)}")
    ax.set_xlabel(label)
    ax.set_ylabel("referrals")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(frameon=False)


def compliance_by_hour_chart(rows: DayRows, *, as_of: datetime, title: str) -> str:
    """Share of decided referrals met, by London hour of receipt, for urgent referrals (in
    hours against 2 hours; 20:00-08:00 the out-of-hours line, against their own deadlines)
    and 24-hour referrals, with the number decided above each bar and the 70% UCR ambition."""
    with matplotlib.rc_context(RC):
        fig = _figure(WIDTH_IN, 4.5)
        ax = fig.subplots()
        width = 0.4
        for shift, (name, keep, colour) in enumerate((
                ("urgent (20:00-08:00: out-of-hours line)",
                 lambda r: r.category == metrics.URGENT, MET_COLOUR),
                ("24-hour", lambda r: r.category == metrics.DAY, LATE_COLOUR))):
            shares, counts = _by_hour(rows, keep, as_of)
            xs = [h + (shift - 0.5) * width for h in range(24)]
            bars = ax.bar(xs, [100 * s if s is not None else 0 for s in shares], width,
                          color=colour, label=name)
            for bar, n in zip(bars, counts, strict=True):
                if n:
                    ax.annotate(str(n), (bar.get_x() + width / 2, bar.get_height()),
                                ha="center", va="bottom", fontsize=MIN_FONT_PT)
        ax.axhline(100 * metrics.UCR_AMBITION, color=TARGET_COLOUR, linestyle="--", linewidth=1,
                   label="2-hour ambition (70%)")
        ax.set_xticks(range(0, 24, 2))
        ax.set_xlim(-0.7, 23.7)
        ax.set_ylim(0, 125)  # headroom for the legend above the 100% bars
        ax.set_yticks(range(0, 101, 20))
        ax.set_xlabel("hour received (London time); number decided above each bar")
        ax.set_ylabel("% met")
        ax.set_title(title)
        ax.legend(frameon=False, loc="upper center", ncols=2)
        return _svg(fig)


def _by_hour(
    rows: DayRows, keep: Callable[[metrics.ResponseRow], bool], as_of: datetime
) -> tuple[list[float | None], list[int]]:
    met, decided = [0] * 24, [0] * 24
    for row in rows.responses:
        if not keep(row):
            continue
        result = metrics.outcome(row, as_of)
        if result == "pending":
            continue
        hour = row.received_at.astimezone(metrics.LONDON).hour
        decided[hour] += 1
        met[hour] += result == "met"
    return [m / d if d else None for m, d in zip(met, decided, strict=True)], decided


def utilisation_chart(workers: Sequence[WorkerDay], *, title: str) -> str:
    """One bar per worker: % of rostered time on site and travelling, 100% marked."""
    shown = sorted((w for w in workers if w.shift_minutes > 0),
                   key=lambda w: (w.visit_minutes + w.travel_minutes) / w.shift_minutes)
    shown = shown[-MAX_WORKERS_SHOWN:]
    with matplotlib.rc_context(RC):
        fig = _figure(WIDTH_IN, max(2.5, 0.32 * len(shown) + 1.5))
        ax = fig.subplots()
        if not shown:
            _empty(ax, "no rostered shifts")
        else:
            names = [f"{w.name} ({w.team.replace('_', ' ')})" for w in shown]
            visit = [100 * w.visit_minutes / w.shift_minutes for w in shown]
            travel = [100 * w.travel_minutes / w.shift_minutes for w in shown]
            ax.barh(names, visit, color=VISIT_COLOUR, label="on visits")
            ax.barh(names, travel, left=visit, color=TRAVEL_COLOUR, label="travelling")
            ax.axvline(100, color=TARGET_COLOUR, linestyle="--", linewidth=1)
            for y, (v, t) in enumerate(zip(visit, travel, strict=True)):
                ax.annotate(f"{v + t:.0f}%", (v + t, y), xytext=(3, 0),
                            textcoords="offset points", va="center", fontsize=MIN_FONT_PT)
            ax.set_xlim(0, max(110, *(v + t + 5 for v, t in zip(visit, travel, strict=True))))
            ax.set_xlabel("% of rostered time (shift less breaks)")
            ax.legend(frameon=False, loc="lower right")
        ax.set_title(title)
        return _svg(fig)


CHARTS = ("response-times", "compliance-by-hour", "utilisation")


def render(name: str, rows: DayRows, *, as_of: datetime, label: str) -> str:
    """The chart called ``name`` (one of :data:`CHARTS`) for ``rows``; ``label`` names the day
    and network in the title. :raise KeyError: unknown chart."""
    if name == "response-times":
        return response_time_chart(rows, title=f"Response times, {label}")
    if name == "compliance-by-hour":
        return compliance_by_hour_chart(rows, as_of=as_of, title=f"Compliance by hour, {label}")
    if name == "utilisation":
        return utilisation_chart(rows.workers, title=f"Staff utilisation, {label}")
    raise KeyError(name)
