"""The board's map in headless Chromium (issue 14): the boroughs (boundaries and names, 12 px
or more, none over another) and the Thames from the open data shipped with the service
(credited), visits by state as shapes and colours, workers on shift,
the map as a list; axe-core at 1280 and 390 px with nothing moderate or worse and no sideways
scroll on the phone; no request off the machine unless a tile server is configured, and then
tiles from that host only, which the page's Content-Security-Policy allows (and nothing else).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.browser.axe import serve_axe, violations
from tests.browser.board_day import COORDINATOR, PASSWORD, add_open_visits
from tests.browser.conftest import Blocked
from tests.browser.support import FIXED_NOW, SCREENSHOTS, screenshot, settled

DEMO_PATIENTS = 300
OPEN_VISITS = 90
TILE_HOST = "localhost"  # another origin than the app's 127.0.0.1
# A 1x1 transparent PNG: what the fake tile server answers.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")


@pytest.fixture(scope="module")
def map_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """The app on a free port with a demo day across every network and a hub coordinator."""
    from werkzeug.serving import make_server

    from dispatch import create_app
    from dispatch.db import get_database
    from dispatch.demo.load import load_demo
    from dispatch.migrate import upgrade
    from dispatch.services.users import add_user

    url = f"sqlite:///{tmp_path_factory.mktemp('map-db') / 'dispatch.sqlite3'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests", "FIXED_NOW": FIXED_NOW})
    now = datetime.fromisoformat(FIXED_NOW)
    database = get_database(app)
    load_demo(database.engine, seed=11, patients=DEMO_PATIENTS, now=now)
    with database.session_scope() as session:
        add_open_visits(session, now=now, count=OPEN_VISITS)
        add_user(session, username=COORDINATOR, role="coordinator", password=PASSWORD, now=now)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="map-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        database.dispose()


def _sign_in(page: Any, base: str, next_path: str) -> None:
    page.goto(f"{base}/sign-in?next={next_path}")
    page.get_by_label("Username").fill(COORDINATOR)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    settled(page)


@pytest.mark.safety("H-114", "H-115", "H-117")
@pytest.mark.parametrize("width", [1280, 390])
def test_board_map_boundaries_workers_list_and_axe(
    page: Any, blocked: Blocked, map_server: tuple[str, Any], width: int
) -> None:
    """Boundaries (credited), visits as shapes, workers, the list; axe clean; no sideways
    scroll on a phone; nothing requested from another host."""
    base, _ = map_server
    page.set_viewport_size({"width": width, "height": 900})
    serve_axe(page)
    _sign_in(page, base, "/board?network=all")
    assert page.locator("#map-boundaries").count() == 1
    assert len(page.locator("#map-boundaries").get_attribute("d") or "") > 1000
    assert page.locator("#map-water").count() == 1
    assert "Crown copyright" in page.locator("#map-credit").inner_text()
    names = page.locator("#map-places text")
    assert names.count() >= 2
    # Legible: each name at least 12 px tall as drawn, and no two names' boxes overlap.
    # The font size as drawn: the CSS size (drawing units) times the drawing's scale.
    boxes = page.evaluate("() => [...document.querySelectorAll('#map-places text')].map(t => {"
                          " const r = t.getBoundingClientRect(); return [r.left, r.top, r.right,"
                          " r.bottom, parseFloat(getComputedStyle(t).fontSize)"
                          " * t.getScreenCTM().a, t.textContent]; })")
    for n, (left, top, right, bottom, font_px, name) in enumerate(boxes):
        assert font_px >= 12, f"{name}: {font_px:.1f} px at {width} px"
        for other in boxes[n + 1:]:
            apart = right <= other[0] or other[2] <= left or bottom <= other[1] or other[3] <= top
            assert apart, f"{name} over {other[5]} at {width} px"
    assert page.locator("#board-map .app-map-visit").count() >= OPEN_VISITS // 2
    # Not colour alone: jeopardy is a diamond (a path), others circles; workers triangles.
    assert page.locator("#board-map path.app-map-visit--jeopardy").count() > 0
    assert page.locator("#board-map .app-map-worker").count() > 0
    assert page.locator("#board-map image").count() == 0  # no tile server configured
    page.locator("#map-list summary").click()
    assert page.locator("#map-table tbody tr").count() > 3
    assert "In jeopardy" in page.locator("#map-table thead").inner_text()
    page.locator("#timelines-1 summary").click()  # a folded network's timeline, opened
    found = violations(page, f"board, all networks, {width} px")
    assert not found, "\n".join(map(str, found))
    sideways = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert sideways <= 0, f"{sideways} px of sideways scroll at {width} px"
    screenshot(page, f"board-map-{width}")
    page.locator("[data-board-part=map]").screenshot(
        path=str(SCREENSHOTS / f"board-map-only-{width}.png"))
    page.goto(f"{base}/board?network=1")  # one network: zoomed in, its boroughs named
    settled(page)
    page.locator("#board-map").screenshot(path=str(SCREENSHOTS / f"board-map-network-{width}.png"))
    assert page.locator("#map-places text").count() >= 1
    assert blocked.urls == []


def test_board_map_tiles_from_the_configured_server_only(
    page: Any, blocked: Blocked, map_server: tuple[str, Any]
) -> None:
    """With a tile server set, the map shows its tiles (credited) and the page's policy allows
    images from that host, and from no other."""
    base, app = map_server
    port = base.rsplit(":", 1)[1]
    tiles = f"http://{TILE_HOST}:{port}/tiles/{{z}}/{{x}}/{{y}}.png"
    asked: list[str] = []

    def tile(route: Any) -> None:
        asked.append(route.request.url)
        route.fulfill(status=200, body=PNG, content_type="image/png")

    page.route(f"http://{TILE_HOST}:{port}/tiles/**", tile)
    app.config.update(MAP_TILE_URL=tiles, MAP_TILE_ATTRIBUTION="Test tiles")
    try:
        _sign_in(page, base, "/board?network=all")
        response = page.goto(f"{base}/board?network=all")
        settled(page)
        policy = response.headers["content-security-policy"]
        assert f"img-src 'self' data: http://{TILE_HOST}:{port};" in policy
        assert page.locator("#board-map image").count() > 0
        page.wait_for_function("() => [...document.querySelectorAll('#board-map image')]"
                               ".length > 0")
        assert "Test tiles" in page.locator("#map-credit").inner_text()
        screenshot(page, "board-map-tiles")
    finally:
        app.config.update(MAP_TILE_URL=None, MAP_TILE_ATTRIBUTION=None)
    assert asked and all(u.startswith(f"http://{TILE_HOST}:{port}/tiles/") for u in asked)
    assert blocked.urls == []
