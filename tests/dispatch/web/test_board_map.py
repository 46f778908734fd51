"""The board's map (issue 14): borough boundaries from the shipped open data with their
credit, workers on shift, the map as a list, and tiles only from a configured tile server,
whose host alone the page's Content-Security-Policy then allows."""

from __future__ import annotations

import json

from flask import Flask
from sqlalchemy import orm as so

from dispatch.web.drawings import BOUNDARIES, mercator, tile_origin
from tests.dispatch.web.test_web_day import make_day, office_client


def test_shipped_boundaries_are_small_credited_open_data() -> None:
    document = json.loads(BOUNDARIES.read_text(encoding="utf-8"))
    assert BOUNDARIES.stat().st_size < 300_000
    assert "Natural Earth" in document["attribution"] and "ublic domain" in document["licence"]
    lines = document["features"][0]["geometry"]["coordinates"]
    assert len(lines) > 50
    assert all(-0.7 < lon < 0.5 and 51.1 < lat < 51.9 for line in lines for lon, lat in line)


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
    assert 'id="map-boundaries"' in html and "Natural Earth" in html
    assert "/static/map/london-boundaries.geojson" in html
    assert 'id="map-list"' in html and "<image" not in html
    assert "img-src 'self' data:;" in response.headers["Content-Security-Policy"]
    data = client.get("/static/map/london-boundaries.geojson")
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
