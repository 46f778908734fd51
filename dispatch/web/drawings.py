"""Geometry for the board's two drawings, rendered by the templates as inline SVG.

Both are drawn on the server from the board's rows, so they work offline, without tiles and
without JavaScript, and the page's strict Content-Security-Policy (no inline styles) holds:
every position is an SVG attribute and every colour a class in ``dispatch.css``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatch import states
from dispatch.config import LONDON
from dispatch.services.board import Board, BoardVisit, Timeline, day_bounds

# Timelines: a label column, then the plot; units are SVG user units (scaled to fit the page).
LABEL_WIDTH, PLOT_WIDTH, ROW_HEIGHT, AXIS_HEIGHT = 190.0, 810.0, 26.0, 22.0
# Map: a 4:3 canvas with a margin so dots on the edge stay whole.
MAP_WIDTH, MAP_HEIGHT, MAP_MARGIN = 640.0, 480.0, 18.0
MIN_SPAN_DEGREES = 0.002  # ~200 m: one visit alone is still drawn at a sensible scale


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    css: str
    title: str


@dataclass(frozen=True)
class Row:
    y: float
    label: str
    title: str
    shift: Bar
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class TimelineDrawing:
    width: float
    height: float
    rows: tuple[Row, ...]
    ticks: tuple[Tick, ...]
    now_x: float | None


#: No shifts: an axis and nothing else.
EMPTY_TIMELINE = TimelineDrawing(LABEL_WIDTH + PLOT_WIDTH, AXIS_HEIGHT, (), (), None)


def _hour_floor(moment: datetime) -> datetime:
    return moment.astimezone(LONDON).replace(minute=0, second=0, microsecond=0)


def timeline_drawing(board: Board) -> TimelineDrawing:
    """Each shift a row; bars for breaks, travel and visits; hour ticks and a line at now."""
    timelines = board.timelines
    if not timelines:
        return EMPTY_TIMELINE
    day_start, day_end = day_bounds(board.day)  # night shifts are cut at midnight
    first = _hour_floor(max(min(t.starts_at for t in timelines), day_start))
    last = min(_hour_floor(max(t.ends_at for t in timelines)) + timedelta(hours=1), day_end)
    span = (last - first).total_seconds()

    def x(moment: datetime) -> float:
        seconds = min(max((moment - first).total_seconds(), 0.0), span)
        return round(LABEL_WIDTH + PLOT_WIDTH * seconds / span, 1)

    rows = tuple(_row(t, n, x) for n, t in enumerate(timelines))
    step = 1 if span <= 14 * 3600 else 2
    ticks = tuple(Tick(x(first + timedelta(hours=h)),
                       f"{(first + timedelta(hours=h)).astimezone(LONDON):%H:%M}")
                  for h in range(0, int(span // 3600), step))
    now_x = x(board.now) if first <= board.now <= last else None
    height = AXIS_HEIGHT + ROW_HEIGHT * len(rows)
    return TimelineDrawing(LABEL_WIDTH + PLOT_WIDTH, height, rows, ticks, now_x)


#: How a worker travels, in words, on their timeline row.
MODES = {"car": "drives", "bicycle": "cycles", "walk": "walks",
         "public_transport": "bus or train"}
SHORT_MODES = {"car": "car", "bicycle": "bike", "walk": "walk", "public_transport": "bus"}


def _row(timeline: Timeline, n: int, x: object) -> Row:
    assert callable(x)
    y = AXIS_HEIGHT + ROW_HEIGHT * n
    hours = f"{_hm(timeline.starts_at)}-{_hm(timeline.ends_at)}"
    shift = Bar(x(timeline.starts_at), x(timeline.ends_at) - x(timeline.starts_at),
                "app-tl-shift", f"{timeline.name}: shift {hours}")
    bars = []
    if timeline.sick_from is not None and timeline.sick_from < timeline.ends_at:
        bars.append(Bar(x(timeline.sick_from), x(timeline.ends_at) - x(timeline.sick_from),
                        "app-tl-sick", f"Off sick from {_hm(timeline.sick_from)}"))
    for seg in timeline.segments:
        css = f"app-tl-{seg.kind}"
        if seg.kind == "visit":
            css += " app-tl-visit--jeopardy" if seg.jeopardy else f" app-tl-visit--{seg.status}"
        width = max(x(seg.end) - x(seg.start), 1.5)
        bars.append(Bar(x(seg.start), width, css,
                        f"{seg.label}, {_hm(seg.start)}-{_hm(seg.end)}"))
    role = timeline.role.replace("_", " ")
    mode = MODES.get(timeline.mode, timeline.mode.replace("_", " "))
    short = SHORT_MODES.get(timeline.mode, timeline.mode)
    return Row(y, f"{timeline.name} ({short})", f"{timeline.name} ({role}, {mode}), "
               f"shift {hours}", shift, tuple(bars))


@functools.lru_cache(maxsize=4096)
def _hm(moment: datetime) -> str:
    """"14:05" on the London clock (remembered: a board repeats the same minutes)."""
    return f"{moment.astimezone(LONDON):%H:%M}"


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    css: str
    title: str
    reference: str = ""


@dataclass(frozen=True)
class MapDrawing:
    width: float
    height: float
    bases: tuple[Dot, ...]
    visits: tuple[Dot, ...]


# Painted in this order, so the dots that need a coordinator are on top.
DRAW_ORDER = {"app-map-visit--closed": 0, "app-map-visit--planned": 1, "app-map-visit--on-site": 2,
              "app-map-visit--unassigned": 3, "app-map-visit--jeopardy": 4}


def visit_css(visit: BoardVisit) -> str:
    """The map's colour class: jeopardy, unassigned, under way, planned or closed."""
    if visit.status in states.VISIT_FINAL_STATUSES:
        return "app-map-visit--closed"
    if visit.cause:
        return "app-map-visit--jeopardy"
    if visit.status == "unassigned":
        return "app-map-visit--unassigned"
    if visit.status == "on_site":
        return "app-map-visit--on-site"
    return "app-map-visit--planned"


def map_drawing(board: Board) -> MapDrawing:
    """Visits and bases placed by an equirectangular projection fitted to the points."""
    points = [b.point for b in board.bases] + [v.point for v in board.visits if v.point]
    if not points:
        return MapDrawing(MAP_WIDTH, MAP_HEIGHT, (), ())
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    mid = math.radians((min(lats) + max(lats)) / 2)
    lat_span = max(max(lats) - min(lats), MIN_SPAN_DEGREES)
    lon_span = max((max(lons) - min(lons)) * math.cos(mid), MIN_SPAN_DEGREES)
    scale = min((MAP_WIDTH - 2 * MAP_MARGIN) / lon_span, (MAP_HEIGHT - 2 * MAP_MARGIN) / lat_span)
    west, north = (min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2

    def place(point: tuple[float, float]) -> tuple[float, float]:
        lat, lon = point
        return (round(MAP_WIDTH / 2 + (lon - west) * math.cos(mid) * scale, 1),
                round(MAP_HEIGHT / 2 - (lat - north) * scale, 1))

    bases = tuple(Dot(*place(b.point), "app-map-base", f"Base: {b.name}") for b in board.bases)
    visits = tuple(sorted((Dot(*place(v.point), visit_css(v), _visit_title(v), v.reference)
                           for v in board.visits if v.point), key=lambda d: DRAW_ORDER[d.css]))
    return MapDrawing(MAP_WIDTH, MAP_HEIGHT, bases, visits)


def _visit_title(visit: BoardVisit) -> str:
    state = visit.cause_text or visit.status.replace("_", " ")
    return f"Visit {visit.reference} ({visit.district}): {state}, due by {_hm(visit.deadline)}"
