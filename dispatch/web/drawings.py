"""Geometry for the board's two drawings, rendered by the templates as inline SVG.

Both are drawn on the server from the board's rows, so they work offline, without tiles and
without JavaScript, and the page's strict Content-Security-Policy (no inline styles) holds:
every position is an SVG attribute and every colour a class in ``dispatch.css``.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

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
class Tile:
    """One map tile from the configured tile server, placed in the drawing's units."""

    href: str
    x: float
    y: float
    size: float


@dataclass(frozen=True)
class MapDrawing:
    width: float
    height: float
    bases: tuple[Dot, ...]
    visits: tuple[Dot, ...]
    workers: tuple[Dot, ...] = ()
    #: Borough boundaries (open data shipped with the service) as one SVG path, "" if none.
    boundaries: str = ""
    tiles: tuple[Tile, ...] = ()


# Painted in this order, so the dots that need a coordinator are on top.
DRAW_ORDER = {"app-map-visit--closed": 0, "app-map-visit--planned": 1, "app-map-visit--on-site": 2,
              "app-map-visit--unassigned": 3, "app-map-visit--jeopardy": 4}
#: Each visit state's words, for the map's titles and its list (never colour alone).
MAP_STATES = {"app-map-visit--jeopardy": "In jeopardy", "app-map-visit--unassigned": "Unassigned",
              "app-map-visit--on-site": "On site", "app-map-visit--planned": "Planned",
              "app-map-visit--closed": "Closed"}
BOUNDARIES = Path(__file__).resolve().parent.parent / "static" / "map" / "london-boundaries.geojson"
TILE_PIXELS = 256.0


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


def mercator(point: tuple[float, float]) -> tuple[float, float]:
    """Web Mercator at zoom 0 (0-256 across the world), as tile servers cut their tiles."""
    lat, lon = point
    lat = max(min(lat, 85.0), -85.0)
    x = (lon + 180.0) / 360.0 * TILE_PIXELS
    y = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi
         ) / 2 * TILE_PIXELS
    return x, y


@functools.lru_cache(maxsize=1)
def _boundary_lines() -> tuple[tuple[tuple[float, float], ...], ...]:
    """The shipped boundary lines in Web Mercator units (read once per process)."""
    try:
        document = json.loads(BOUNDARIES.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    return tuple(tuple(mercator((lat, lon)) for lon, lat in line)
                 for feature in document.get("features", ())
                 for line in feature["geometry"]["coordinates"])


@functools.lru_cache(maxsize=64)
def _boundary_path(cx: float, cy: float, scale: float) -> str:
    """The boundary lines as one SVG path for this view (the view repeats between polls)."""
    def at(x: float, y: float) -> str:
        return f"{MAP_WIDTH / 2 + (x - cx) * scale:.1f} {MAP_HEIGHT / 2 + (y - cy) * scale:.1f}"

    return " ".join("M" + " L".join(at(x, y) for x, y in line)
                    for line in _boundary_lines() if len(line) > 1)


def tile_origin(url: str | None) -> str | None:
    """The origin ("https://tiles.example") of a usable tile URL template, else None: http(s),
    a host, and {z}, {x} and {y} in it."""
    if not url or not all(part in url for part in ("{z}", "{x}", "{y}")):
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or "'" in url or " " in url:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def _tiles(url: str, cx: float, cy: float, scale: float) -> tuple[Tile, ...]:
    """The tiles covering the drawing at the zoom nearest its scale ({z}/{x}/{y} in ``url``)."""
    zoom = max(0, min(19, round(math.log2(scale))))
    tile = TILE_PIXELS / 2 ** zoom  # a tile's side in zoom-0 units
    size = tile * scale
    west, north = cx - MAP_WIDTH / 2 / scale, cy - MAP_HEIGHT / 2 / scale
    east, south = cx + MAP_WIDTH / 2 / scale, cy + MAP_HEIGHT / 2 / scale
    out = []
    for ty in range(int(north // tile), int(south // tile) + 1):
        for tx in range(int(west // tile), int(east // tile) + 1):
            if 0 <= tx < 2 ** zoom and 0 <= ty < 2 ** zoom:
                href = url.replace("{z}", str(zoom)).replace("{x}", str(tx)).replace("{y}", str(ty))
                out.append(Tile(href, round(MAP_WIDTH / 2 + (tx * tile - cx) * scale, 1),
                                round(MAP_HEIGHT / 2 + (ty * tile - cy) * scale, 1),
                                round(size, 1)))
    return tuple(out)


def map_drawing(board: Board, *, tile_url: str | None = None) -> MapDrawing:
    """Visits, workers and bases placed in Web Mercator (as map tiles are), fitted to the
    points, over the borough boundaries and, when a tile server is configured, its tiles."""
    points = ([b.point for b in board.bases] + [v.point for v in board.visits if v.point]
              + [w.point for w in board.workers])
    if not points:
        return MapDrawing(MAP_WIDTH, MAP_HEIGHT, (), ())
    xs, ys = zip(*(mercator(p) for p in points), strict=True)
    # MIN_SPAN_DEGREES of longitude in zoom-0 units: one visit alone at a sensible scale
    span = MIN_SPAN_DEGREES / 360.0 * TILE_PIXELS
    scale = min((MAP_WIDTH - 2 * MAP_MARGIN) / max(max(xs) - min(xs), span),
                (MAP_HEIGHT - 2 * MAP_MARGIN) / max(max(ys) - min(ys), span))
    scale = float(f"{scale:.4g}")  # a stable key for the boundary path between polls
    cx, cy = round((min(xs) + max(xs)) / 2, 5), round((min(ys) + max(ys)) / 2, 5)

    def place(point: tuple[float, float]) -> tuple[float, float]:
        x, y = mercator(point)
        return (round(MAP_WIDTH / 2 + (x - cx) * scale, 1),
                round(MAP_HEIGHT / 2 + (y - cy) * scale, 1))

    bases = tuple(Dot(*place(b.point), "app-map-base", f"Base: {b.name}") for b in board.bases)
    visits = tuple(sorted((Dot(*place(v.point), visit_css(v), _visit_title(v), v.reference)
                           for v in board.visits if v.point), key=lambda d: DRAW_ORDER[d.css]))
    workers = tuple(Dot(*place(w.point), "app-map-worker", f"{w.name}: {w.where}")
                    for w in board.workers)
    return MapDrawing(MAP_WIDTH, MAP_HEIGHT, bases, visits, workers,
                      _boundary_path(cx, cy, scale),
                      _tiles(tile_url, cx, cy, scale) if tile_url else ())


@dataclass(frozen=True)
class MapListRow:
    """One postcode district in the map's text alternative: visits by state, workers there."""

    district: str
    counts: tuple[int, ...]  # in MAP_STATES order
    workers: tuple[str, ...]


def map_list(board: Board) -> tuple[MapListRow, ...]:
    """The map as a list, by postcode district, most urgent districts first."""
    order = list(MAP_STATES)
    counts: dict[str, list[int]] = {}
    for v in board.visits:
        if v.point is None:
            continue
        counts.setdefault(v.district or "Unknown", [0] * len(order))[order.index(visit_css(v))] += 1
    where: dict[str, list[str]] = {}
    for w in board.workers:
        where.setdefault(w.district or "At a base", []).append(f"{w.name} ({w.where})")
    for district in where:
        counts.setdefault(district, [0] * len(order))
    rows = [MapListRow(d, tuple(c), tuple(where.get(d, ()))) for d, c in counts.items()]
    return tuple(sorted(rows, key=lambda r: (r.district == "At a base",
                                             tuple(-n for n in r.counts), r.district)))


def _visit_title(visit: BoardVisit) -> str:
    state = visit.cause_text or visit.status.replace("_", " ")
    return f"Visit {visit.reference} ({visit.district}): {state}, due by {_hm(visit.deadline)}"
