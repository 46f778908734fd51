"""The board's map (issue 14): the London boroughs (boundaries and names) and the Thames from
the shipped open data with their credit, workers on shift, the map as a list, and tiles only
from a configured tile server, whose host alone the page's Content-Security-Policy then
allows."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import orm as so

from dispatch.web import drawings
from dispatch.web.drawings import (
    MAP_DATA,
    MAP_HEIGHT,
    MAP_WIDTH,
    PLACE_CHAR,
    PLACE_FONT,
    PLACE_LINE,
    mercator,
    tile_origin,
)
from tests.dispatch.web.test_web_day import make_day, office_client

BOROUGHS = {
    "Barking and Dagenham", "Barnet", "Bexley", "Brent", "Bromley", "Camden", "City of London",
    "Croydon", "Ealing", "Enfield", "Greenwich", "Hackney", "Hammersmith and Fulham",
    "Haringey", "Harrow", "Havering", "Hillingdon", "Hounslow", "Islington",
    "Kensington and Chelsea", "Kingston upon Thames", "Lambeth", "Lewisham", "Merton",
    "Newham", "Redbridge", "Richmond upon Thames", "Southwark", "Sutton", "Tower Hamlets",
    "Waltham Forest", "Wandsworth", "Westminster",
}
LONDON_BOX = (-0.56, 51.26, 0.35, 51.72)  # west, south, east, north


def _points(geometry: dict[str, Any]) -> list[list[float]]:
    polygons = (geometry["coordinates"] if geometry["type"] == "MultiPolygon"
                else [geometry["coordinates"]])
    return [point for polygon in polygons for ring in polygon for point in ring]


def _inside(point: list[float], geometry: dict[str, Any]) -> bool:
    """Even-odd ray casting over every ring of the polygon(s)."""
    x, y = point
    polygons = (geometry["coordinates"] if geometry["type"] == "MultiPolygon"
                else [geometry["coordinates"]])
    inside = False
    for ring in (r for polygon in polygons for r in polygon):
        for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


@pytest.mark.safety("H-116")
def test_shipped_map_data_is_small_credited_open_data_in_london() -> None:
    """The 33 boroughs and the Thames, credited under the OGL, all inside Greater London's box,
    small enough to ship and read per process."""
    document = json.loads(MAP_DATA.read_text(encoding="utf-8"))
    assert MAP_DATA.stat().st_size < 60_000
    assert "Crown copyright" in document["attribution"]
    assert document["licence"] == "Open Government Licence v3.0"
    features = document["features"]
    boroughs = [f for f in features if f["properties"]["kind"] == "borough"]
    assert {f["properties"]["name"] for f in boroughs} == BOROUGHS and len(boroughs) == 33
    west, south, east, north = LONDON_BOX
    for feature in features:
        assert all(west < lon < east and south < lat < north
                   for lon, lat in _points(feature["geometry"])), feature["properties"]["name"]
    for borough in boroughs:  # each name is placed inside its own borough
        assert _inside(borough["properties"]["label"], borough["geometry"]), borough


@pytest.mark.safety("H-116")
def test_shipped_thames_runs_from_teddington_to_erith_between_the_boroughs() -> None:
    """The river is there, the length of London (Teddington -0.33 to Erith 0.21), near
    Westminster Bridge, and no borough's name point is in it."""
    document = json.loads(MAP_DATA.read_text(encoding="utf-8"))
    water = [f for f in document["features"] if f["properties"]["kind"] == "water"]
    assert [f["properties"]["name"] for f in water] == ["River Thames"]
    lons = [lon for lon, _ in _points(water[0]["geometry"])]
    lats = [lat for _, lat in _points(water[0]["geometry"])]
    assert min(lons) < -0.32 and max(lons) > 0.2 and min(lats) > 51.42 and max(lats) < 51.56
    # Westminster Bridge, mid-river (51.5008, -0.1218): in the Thames, in no borough.
    assert _inside([-0.1218, 51.5008], water[0]["geometry"])
    for feature in document["features"]:
        if feature["properties"]["kind"] == "borough":
            assert not _inside([-0.1218, 51.5008], feature["geometry"])
            assert not _inside(feature["properties"]["label"], water[0]["geometry"])


def test_shared_boundaries_are_drawn_once() -> None:
    """Two squares side by side: seven edges, not eight (the shared one once)."""
    left = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]
    right = [(1.0, 0.0), (2.0, 0.0), (2.0, 1.0), (1.0, 1.0), (1.0, 0.0)]
    lines = drawings._unique_edges([left, right])
    assert sum(len(line) - 1 for line in lines) == 7


def _view(west: float, south: float, east: float, north: float) -> tuple[float, float, float]:
    """The centre and scale map_drawing would pick to fit this box."""
    x0, y0 = mercator((north, west))
    x1, y1 = mercator((south, east))
    scale = float(f"{min(MAP_WIDTH / (x1 - x0), MAP_HEIGHT / (y1 - y0)):.4g}")
    return round((x0 + x1) / 2, 5), round((y0 + y1) / 2, 5), scale


def _boxes(places: tuple[drawings.Place, ...]) -> list[tuple[float, float, float, float]]:
    boxes = []
    for place in places:
        width = max(len(line) for _, line in place.lines) * PLACE_CHAR * PLACE_FONT
        top = place.lines[0][0] - 0.35 * PLACE_FONT - PLACE_LINE * PLACE_FONT / 2
        bottom = place.lines[-1][0] - 0.35 * PLACE_FONT + PLACE_LINE * PLACE_FONT / 2
        boxes.append((place.x - width / 2, top, place.x + width / 2, bottom))
    return boxes


@pytest.mark.parametrize("box", [(-0.51, 51.28, 0.34, 51.70), (-0.26, 51.46, -0.11, 51.54)])
@pytest.mark.safety("H-117")
def test_borough_names_fit_the_view_without_overlapping(
    box: tuple[float, float, float, float],
) -> None:
    """All London and the tri-borough view: names inside the drawing, none over another."""
    boundaries, water, places = drawings._layers(*_view(*box))
    assert boundaries.startswith("M") and water.endswith("Z") and places
    boxes = _boxes(places)
    for n, (left, top, right, bottom) in enumerate(boxes):
        assert left >= 0 and right <= MAP_WIDTH and top >= 0 and bottom <= MAP_HEIGHT
        for other in boxes[n + 1:]:
            assert not drawings._overlaps((left, top, right, bottom), other)


def test_tri_borough_view_names_its_three_boroughs() -> None:
    """Zoomed to the tri-borough, its three boroughs are named (long names on two lines)."""
    _, _, places = drawings._layers(*_view(-0.26, 51.46, -0.11, 51.54))
    names = {" ".join(line for _, line in p.lines) for p in places}
    assert {"Westminster", "Kensington and Chelsea", "Hammersmith and Fulham"} <= names
    assert any(len(p.lines) == 2 for p in places)


def test_map_without_its_data_file_still_draws(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """A missing data file leaves the layers empty; nothing fails."""
    monkeypatch.setattr(drawings, "MAP_DATA", tmp_path / "missing.geojson")
    drawings.map_data.cache_clear()
    drawings._paths.cache_clear()
    try:
        assert drawings._layers(*_view(-0.26, 51.46, -0.11, 51.54)) == ("", "", ())
    finally:
        drawings.map_data.cache_clear()
        drawings._paths.cache_clear()


def test_mercator_matches_tile_numbering() -> None:
    """Zoom 0 units: Greenwich on the equator is the middle; London is in tile (16371, 10896)
    at zoom 15 (the standard slippy-map numbering)."""
    assert mercator((0.0, 0.0)) == (128.0, 128.0)
    x, y = mercator((51.5074, -0.1278))
    assert (int(x / 256 * 2**15), int(y / 256 * 2**15)) == (16372, 10896)


def test_board_map_has_boundaries_credit_workers_and_list(
    app: Flask, session: so.Session
) -> None:
    day = make_day(session)
    client, _ = office_client(app, session, "coordinator", network_id=day.network.id)
    response = client.get("/board")
    html = response.get_data(as_text=True)
    assert 'id="map-boundaries"' in html and 'id="map-water"' in html
    assert 'aria-describedby="map-desc"' in html and "the River Thames;" in html
    assert "Crown copyright" in html and "Open Government Licence v3.0" in html
    assert "/static/map/london.geojson" in html
    assert 'id="map-list"' in html and "<image" not in html
    assert "img-src 'self' data:;" in response.headers["Content-Security-Policy"]
    data = client.get("/static/map/london.geojson")
    assert data.status_code == 200
    data.close()


def test_board_map_tiles_only_from_the_configured_server(
    app: Flask, session: so.Session
) -> None:
    day = make_day(session)
    client, _ = office_client(app, session, "coordinator", network_id=day.network.id)
    app.config.update(MAP_TILE_URL="https://tiles.example.nhs.uk/{z}/{x}/{y}.png",
                      MAP_TILE_ATTRIBUTION="Example tiles")
    response = client.get("/board")
    html = response.get_data(as_text=True)
    policy = response.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://tiles.example.nhs.uk;" in policy
    assert '<image class="app-map__tile" href="https://tiles.example.nhs.uk/' in html
    assert "Example tiles" in html
    app.config.update(MAP_TILE_URL="https://tiles.example.nhs.uk/tile.png")  # no {z}/{x}/{y}
    response = client.get("/board")
    assert "<image" not in response.get_data(as_text=True)
    assert "tiles.example" not in response.headers["Content-Security-Policy"]


def test_tile_origin_refuses_unusable_templates() -> None:
    assert tile_origin("https://t.example/{z}/{x}/{y}.png") == "https://t.example"
    assert tile_origin("http://localhost:8080/{z}/{x}/{y}.png") == "http://localhost:8080"
    for bad in (None, "", "ftp://t.example/{z}/{x}/{y}", "https://t.example/a.png",
                "https://t.example/{z}/{x}/{y}.png'; script-src *", "/{z}/{x}/{y}.png"):
        assert tile_origin(bad) is None


@pytest.mark.safety("H-116")
def test_borough_at_names_the_borough_under_a_point() -> None:
    """Trafalgar Square is in Westminster, Croydon's centre in Croydon, mid-river in none."""
    assert drawings.borough_at(*mercator((51.5080, -0.1281))) == "Westminster"
    assert drawings.borough_at(*mercator((51.3762, -0.0982))) == "Croydon"
    assert drawings.borough_at(*mercator((51.5008, -0.1218))) is None


def test_zoomed_past_every_label_point_the_middle_borough_is_named() -> None:
    """A network's view a few streets across (no label point in it) still names its borough."""
    _, _, places = drawings._layers(*_view(-0.135, 51.505, -0.120, 51.512))
    assert [" ".join(line for _, line in p.lines) for p in places] == ["Westminster"]


@pytest.mark.safety("H-117")
def test_background_layers_are_painted_under_every_marker(
    app: Flask, session: so.Session
) -> None:
    """SVG paints in document order: the Thames, boundaries and names come before the first
    visit, base or worker marker, so none of them is ever hidden under the background."""
    day = make_day(session)
    client, _ = office_client(app, session, "coordinator", network_id=day.network.id)
    html = client.get("/board").get_data(as_text=True)
    svg = html[html.index('<svg id="board-map"'):html.index("</svg>", html.index('id="board-map"'))]
    first_marker = min(svg.index(marker) for marker in
                       ('class="app-map-visit', 'class="app-map-base"', 'class="app-map-worker"'))
    for layer in ('id="map-water"', 'id="map-boundaries"', 'id="map-places"'):
        assert svg.index(layer) < first_marker, layer


@pytest.mark.safety("H-117")
def test_a_name_moves_off_a_cluster_of_visits() -> None:
    """Visits piled on Westminster's label point: its name goes beside them, not over them."""
    view = _view(-0.26, 51.46, -0.11, 51.54)
    _, _, clear = drawings._layers(*view)
    westminster = next(p for p in clear if p.lines[0][1] == "Westminster")
    pile = [(westminster.x + dx, westminster.lines[0][0] - 0.35 * PLACE_FONT + dy)
            for dx in range(-30, 31, 10) for dy in range(-8, 9, 4)]
    _, _, moved = drawings._layers(*view, pile)
    box = next(b for b, p in zip(_boxes(moved), moved, strict=True)
               if p.lines[0][1] == "Westminster")
    assert (moved != clear) and not any(box[0] <= x <= box[2] and box[1] <= y <= box[3]
                                        for x, y in pile)
