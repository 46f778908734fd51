"""Geometry for the board's two drawings, rendered by the templates as inline SVG.

Both are drawn on the server from the board's rows, so they work offline, without tiles and
without JavaScript, and the page's strict Content-Security-Policy (no inline styles) holds:
every position is an SVG attribute and every colour a class in ``dispatch.css``.
"""

from __future__ import annotations

import functools
import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
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
class Place:
    """A borough's name on the map: its centre, and each line's baseline and words."""

    x: float
    lines: tuple[tuple[float, str], ...]


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
    #: The tidal Thames as one SVG path (filled), "" if none.
    water: str = ""
    #: Borough names that fit in the view without overlapping one another.
    places: tuple[Place, ...] = ()


# Painted in this order, so the dots that need a coordinator are on top.
DRAW_ORDER = {"app-map-visit--closed": 0, "app-map-visit--planned": 1, "app-map-visit--on-site": 2,
              "app-map-visit--unassigned": 3, "app-map-visit--jeopardy": 4}
#: Each visit state's words, for the map's titles and its list (never colour alone).
MAP_STATES = {"app-map-visit--jeopardy": "In jeopardy", "app-map-visit--unassigned": "Unassigned",
              "app-map-visit--on-site": "On site", "app-map-visit--planned": "Planned",
              "app-map-visit--closed": "Closed"}
#: Boroughs (with names) and the tidal Thames: open data, see static/map/README.md.
MAP_DATA = Path(__file__).resolve().parent.parent / "static" / "map" / "london.geojson"
TILE_PIXELS = 256.0
# Borough names: the font size in drawing units (.app-map__place in dispatch.css says the
# same). The drawing is 640 units wide and shown 358 px wide on a 390 px phone (0.56 px a
# unit) and about 464 px in the board's half column on a desktop (0.73): 22 units is 12 px
# or more on both. Width and line height are estimated from it to keep names apart.
PLACE_FONT = 22.0
PLACE_CHAR = 0.56  # average glyph width, in ems (Frutiger and Arial, mixed case)
PLACE_LINE = 1.1  # line height, in ems
PLACE_GAP = 6.0  # clear space kept between two names, in drawing units
WRAP_AT = 11  # names longer than this go on two lines
NORTH_BOX = (MAP_WIDTH - 30.0, 0.0, MAP_WIDTH, 30.0)  # the "N" in the corner
CROWD_CELL = 16.0  # markers are counted in squares this size to keep names off them


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


Line = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class MapData:
    """The shipped map data in Web Mercator units: boundary lines (each shared edge once),
    the Thames's rings, and the boroughs' label points and names, largest borough first."""

    boundaries: tuple[Line, ...]
    water: tuple[Line, ...]
    places: tuple[tuple[float, float, str], ...]
    #: Each borough's rings, in the order of ``places``.
    areas: tuple[tuple[Line, ...], ...] = ()


def _rings(geometry: dict[str, Any]) -> list[list[tuple[float, float]]]:
    polygons = (geometry["coordinates"] if geometry["type"] == "MultiPolygon"
                else [geometry["coordinates"]])
    return [[(lon, lat) for lon, lat in ring] for polygon in polygons for ring in polygon]


def _unique_edges(rings: list[list[tuple[float, float]]]) -> list[list[tuple[float, float]]]:
    """The rings as lines with every edge once: two boroughs share their common boundary,
    drawn twice it would be twice the work (and dashes or anti-aliasing would show it)."""
    seen: set[tuple[tuple[float, float], tuple[float, float]]] = set()
    lines: list[list[tuple[float, float]]] = []
    for ring in rings:
        current: list[tuple[float, float]] = []
        for a, b in zip(ring, ring[1:], strict=False):
            key = (a, b) if a <= b else (b, a)
            if key in seen:
                if len(current) > 1:
                    lines.append(current)
                current = []
                continue
            seen.add(key)
            current = current or [a]
            current.append(b)
        if len(current) > 1:
            lines.append(current)
    return lines


@functools.lru_cache(maxsize=1)
def map_data() -> MapData:
    """The shipped boroughs and Thames (read once per process); empty if the file is missing
    or unreadable, so the map still draws its visits."""
    try:
        document = json.loads(MAP_DATA.read_text(encoding="utf-8"))
        features = document["features"]
    except (OSError, ValueError, KeyError, TypeError):
        return MapData((), (), ())

    def merc(line: list[tuple[float, float]]) -> Line:
        return tuple(mercator((lat, lon)) for lon, lat in line)

    boroughs = [f for f in features if f["properties"].get("kind") == "borough"]
    edges = _unique_edges([r for f in boroughs for r in _rings(f["geometry"])])
    water = [r for f in features if f["properties"].get("kind") == "water"
             for r in _rings(f["geometry"])]
    places = tuple((*mercator((f["properties"]["label"][1], f["properties"]["label"][0])),
                    f["properties"]["name"]) for f in boroughs)
    areas = tuple(tuple(merc(r) for r in _rings(f["geometry"])) for f in boroughs)
    return MapData(tuple(merc(e) for e in edges), tuple(merc(r) for r in water), places, areas)


def _inside(x: float, y: float, rings: tuple[Line, ...]) -> bool:
    """Even-odd ray casting over the rings (holes and islands included)."""
    inside = False
    for ring in rings:
        for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


def borough_at(x: float, y: float) -> str | None:
    """The name of the borough at this point (Web Mercator units), if any."""
    data = map_data()
    for (_, _, name), rings in zip(data.places, data.areas, strict=True):
        if _inside(x, y, rings):
            return name
    return None


def _wrap(name: str) -> tuple[str, ...]:
    """A long name on two lines, split at the space nearest its middle."""
    if len(name) <= WRAP_AT or " " not in name:
        return (name,)
    spaces = [i for i, c in enumerate(name) if c == " "]
    cut = min(spaces, key=lambda i: abs(i - len(name) / 2))
    return name[:cut], name[cut + 1:]


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _crowd(markers: Iterable[tuple[float, float]]) -> Counter[tuple[int, int]]:
    """How many markers fall in each CROWD_CELL square of the drawing."""
    return Counter((int(x // CROWD_CELL), int(y // CROWD_CELL)) for x, y in markers)


def _under(box: tuple[float, float, float, float], crowd: Counter[tuple[int, int]]) -> int:
    """About how many markers a box covers (whole cells counted)."""
    return sum(crowd.get((i, j), 0)
               for i in range(int(box[0] // CROWD_CELL), int(box[2] // CROWD_CELL) + 1)
               for j in range(int(box[1] // CROWD_CELL), int(box[3] // CROWD_CELL) + 1))


def _places(at: Any, candidates: Any, crowd: Counter[tuple[int, int]]) -> tuple[Place, ...]:
    """Borough names whose label point is in view, largest borough first, each kept only if
    it fits inside the drawing without touching a name already placed (or the "N"): at its
    label point, or just above, below, right or left of it, wherever it covers the fewest
    markers (the first of those places that covers none)."""
    taken = [NORTH_BOX]
    out = []
    line_height = PLACE_LINE * PLACE_FONT
    for x, y, name in candidates:
        px, py = at(x, y)
        lines = _wrap(name)
        half_w = max(map(len, lines)) * PLACE_CHAR * PLACE_FONT / 2 + PLACE_GAP / 2
        half_h = len(lines) * line_height / 2 + PLACE_GAP / 2
        best: tuple[int, float, float, tuple[float, float, float, float]] | None = None
        for dx, dy in ((0.0, 0.0), (0.0, -half_h - PLACE_GAP), (0.0, half_h + PLACE_GAP),
                       (half_w / 2, 0.0), (-half_w / 2, 0.0)):
            box = (px + dx - half_w, py + dy - half_h, px + dx + half_w, py + dy + half_h)
            if (box[0] < 0 or box[1] < 0 or box[2] > MAP_WIDTH or box[3] > MAP_HEIGHT
                    or any(_overlaps(box, other) for other in taken)):
                continue
            covered = _under(box, crowd)
            if best is None or covered < best[0]:
                best = (covered, dx, dy, box)
            if covered == 0:
                break
        if best is None:
            continue
        _, dx, dy, box = best
        taken.append(box)
        first = py + dy - (len(lines) - 1) * line_height / 2 + 0.35 * PLACE_FONT  # centred
        out.append(Place(round(px + dx, 1), tuple((round(first + n * line_height, 1), line)
                                                  for n, line in enumerate(lines))))
    return tuple(out)


@functools.lru_cache(maxsize=64)
def _paths(cx: float, cy: float, scale: float) -> tuple[str, str]:
    """Boundaries and Thames as SVG paths for this view (the view repeats between polls, so
    this is worked out once per view)."""
    def path(lines: tuple[Line, ...], close: bool) -> str:
        end = " Z" if close else ""
        return " ".join("M" + " L".join(f"{MAP_WIDTH / 2 + (x - cx) * scale:.1f} "
                                        f"{MAP_HEIGHT / 2 + (y - cy) * scale:.1f}"
                                        for x, y in line) + end
                        for line in lines if len(line) > 1)

    data = map_data()
    return path(data.boundaries, False), path(data.water, True)


def _layers(cx: float, cy: float, scale: float,
            markers: Iterable[tuple[float, float]] = ()) -> tuple[str, str, tuple[Place, ...]]:
    """Boundaries and Thames as SVG paths, and the borough names placed clear of one another
    and, as far as they can be, of the markers (in drawing units)."""
    def at(x: float, y: float) -> tuple[float, float]:
        return MAP_WIDTH / 2 + (x - cx) * scale, MAP_HEIGHT / 2 + (y - cy) * scale

    crowd = _crowd(markers)
    places = _places(at, map_data().places, crowd)
    if not places:  # zoomed in past every label point: name the borough in the middle
        middle = borough_at(cx, cy)
        places = _places(at, [(cx, cy, middle)] if middle else [], crowd)
    return (*_paths(cx, cy, scale), places)


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
    points, over the boroughs (boundaries and names) and the Thames and, when a tile server
    is configured, its tiles."""
    points = ([b.point for b in board.bases] + [v.point for v in board.visits if v.point]
              + [w.point for w in board.workers])
    if not points:
        return MapDrawing(MAP_WIDTH, MAP_HEIGHT, (), ())
    xs, ys = zip(*(mercator(p) for p in points), strict=True)
    # MIN_SPAN_DEGREES of longitude in zoom-0 units: one visit alone at a sensible scale
    span = MIN_SPAN_DEGREES / 360.0 * TILE_PIXELS
    scale = min((MAP_WIDTH - 2 * MAP_MARGIN) / max(max(xs) - min(xs), span),
                (MAP_HEIGHT - 2 * MAP_MARGIN) / max(max(ys) - min(ys), span))
    scale = float(f"{scale:.4g}")  # a stable key for the map layers between polls
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
    markers = [(d.x, d.y) for d in (*visits, *workers, *bases)]
    boundaries, water, places = _layers(cx, cy, scale, markers)
    return MapDrawing(MAP_WIDTH, MAP_HEIGHT, bases, visits, workers, boundaries,
                      _tiles(tile_url, cx, cy, scale) if tile_url else (), water, places)


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
