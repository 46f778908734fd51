"""The human side of a simulated day: a KPI table for the terminal and an HTML report.

The HTML is one self-contained file: charts are drawn with matplotlib's Agg backend and
inlined as SVG, with no scripts, fonts or images fetched from anywhere.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence
from typing import Any, Final

import matplotlib

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # noqa: E402  (backend first)
from matplotlib.figure import Figure  # noqa: E402

from dispatch.simulation.day import DayResult  # noqa: E402
from dispatch.simulation.kpis import CATEGORY_KEYS  # noqa: E402

COLOURS: Final = {"optimised": "#005eb8", "nearest": "#d5281b"}
FIGSIZE: Final = (7.5, 3.2)
HOURS: Final = range(6, 24)
MAX_RESPONSE_MINUTES: Final = 240


def _pct(value: float) -> str:
    return f"{value * 100:.1f} %"


def table(results: Mapping[str, DayResult]) -> str:
    """A plain-text KPI table, one column per policy."""
    rows: list[tuple[str, list[str]]] = []
    k = {p: r.kpis for p, r in results.items()}

    def add(label: str, fn: Any) -> None:
        rows.append((label, [str(fn(v)) for v in k.values()]))

    add("referrals", lambda v: v["referrals"])
    for name in ("served", "open", "escalated", "emergency_999"):
        add(f"  {name}", lambda v, n=name: v["outcomes"][n])
    for key in CATEGORY_KEYS:
        add(f"{key} met / due", lambda v, c=key: f"{v[c]['met']}/{v[c]['count']} "
                                                 f"({_pct(v[c]['compliance'])})")
        add("  p50 / p90 minutes", lambda v, c=key: f"{v[c]['p50_response_minutes']} / "
                                                    f"{v[c]['p90_response_minutes']}")
    add("travel minutes per visit", lambda v: v["travel_minutes_per_visit"])
    add("utilisation", lambda v: _pct(v["utilisation"]))
    add("visits per worker-hour", lambda v: v["load"]["visits_per_worker_hour"])
    add("texts out / in", lambda v: f"{v['sms']['outbound']} / {v['sms']['inbound']}")
    add("SMS rule breaches", lambda v: v["sms"]["ig_breaches"])
    causes = sorted({c for v in k.values() for c in v["late_causes"]})
    if causes:
        rows.append(("missed deadlines, by cause", ["" for _ in k]))
    for cause in causes:
        add(f"  {cause}", lambda v, c=cause: v["late_causes"].get(c, 0))
    add("wall seconds", lambda _v: "")
    rows[-1] = ("wall seconds", [f"{r.wall_seconds:.1f}" for r in results.values()])
    width = max(len(label) for label, _ in rows) + 2
    cols = [max(len(p), *(len(v[i]) for _, v in rows)) + 2 for i, p in enumerate(k)]
    lines = ["".ljust(width) + "".join(p.rjust(w) for p, w in zip(k, cols, strict=True))]
    lines += [label.ljust(width) + "".join(v.rjust(w) for v, w in zip(values, cols, strict=True))
              for label, values in rows]
    return "\n".join(lines)


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def response_chart(results: Mapping[str, DayResult], category: str) -> str:
    """Histogram of minutes from referral to arrival, one series per policy."""
    fig, ax = plt.subplots(figsize=FIGSIZE)
    limit = MAX_RESPONSE_MINUTES if category == "urgent_2h" else 24 * 60
    bins = list(range(0, limit + 1, limit // 24))
    for policy, result in results.items():
        times = [min(r.response_minutes, limit) for r in result.records
                 if r.category == category and r.response_minutes is not None]
        ax.hist(times, bins=bins, alpha=0.55, label=policy, color=COLOURS.get(policy))
    if category == "urgent_2h":
        ax.axvline(120, color="black", linestyle="--", linewidth=1, label="2-hour standard")
    ax.set_xlabel("minutes from referral to arrival")
    ax.set_ylabel("visits")
    ax.set_title(f"Response times: {category}")
    ax.legend()
    return _svg(fig)


def hourly_chart(results: Mapping[str, DayResult]) -> str:
    """2-hour compliance by hour the referral was received."""
    fig, ax = plt.subplots(figsize=FIGSIZE)
    width = 0.8 / max(1, len(results))
    for k, (policy, result) in enumerate(results.items()):
        shares = []
        for hour in HOURS:
            due = [r for r in result.records
                   if r.category == "urgent_2h" and r.due and r.received_hour == hour]
            shares.append(sum(r.met for r in due) / len(due) * 100 if due else 0.0)
        ax.bar([h + k * width for h in HOURS], shares, width=width, label=policy,
               color=COLOURS.get(policy))
    ax.set_ylim(0, 105)
    ax.set_xlabel("hour received (Europe/London)")
    ax.set_ylabel("% met within 2 hours")
    ax.set_title("Urgent 2-hour compliance by hour")
    ax.legend()
    return _svg(fig)


def utilisation_chart(results: Mapping[str, DayResult]) -> str:
    """Each shift's busy share (travel and on site), sorted, one line per policy."""
    fig, ax = plt.subplots(figsize=FIGSIZE)
    for policy, result in results.items():
        shares = sorted(((s.travel_seconds + s.visit_seconds) / s.shift_seconds * 100
                         for s in result.shifts if s.shift_seconds > 0), reverse=True)
        ax.plot(range(1, len(shares) + 1), shares, label=policy, color=COLOURS.get(policy))
    ax.set_xlabel("shifts, busiest first")
    ax.set_ylabel("% of rostered time busy")
    ax.set_title("Utilisation by worker shift")
    ax.legend()
    return _svg(fig)


def html_report(results: Mapping[str, DayResult], title: str) -> str:
    """The whole report as one HTML document."""
    charts: Sequence[str] = [
        response_chart(results, "urgent_2h"), response_chart(results, "response_24h"),
        hourly_chart(results), utilisation_chart(results),
    ]
    figures = "\n".join(f"<figure>{svg}</figure>" for svg in charts)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:Arial,sans-serif;margin:2em;color:#212b32}}
pre{{background:#f0f4f5;padding:1em}}figure{{margin:1em 0}}</style></head>
<body><h1>{html.escape(title)}</h1>
<h2>Key figures</h2><pre>{html.escape(table(results))}</pre>
<h2>Charts</h2>{figures}
</body></html>
"""
