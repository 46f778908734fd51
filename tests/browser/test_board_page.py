"""The dispatch board and a care package decision in headless Chromium, offline.

A server of its own (module scope) holds a demo-like day: the demo roster and a small register
(``load_demo``), about a hundred open visits in mixed states, a coordinator and a manager, and
one submitted care package. The coordinator sees jeopardy first, assigns one overdue visit by
hand (a warning, then Assign anyway), and the board's script refreshes the lists without a
reload; then approves the package. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.board_day import COORDINATOR, PASSWORD, SeededDay, add_open_visits
from tests.browser.conftest import Blocked
from tests.browser.support import FIXED_NOW, NHS_BLUE, screenshot

DEMO_PATIENTS = 300
OPEN_VISITS = 120


@pytest.fixture(scope="module")
def board_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, SeededDay, int]]:
    """The app on a free port with the demo day, a coordinator and a submitted package."""
    from werkzeug.serving import make_server

    from dispatch import create_app
    from dispatch.db import get_database
    from dispatch.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('board-db') / 'dispatch.sqlite3'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests", "FIXED_NOW": FIXED_NOW})
    seeded, package_id = _seed(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="board-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seeded, package_id
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        get_database(app).dispose()


def _seed(app: Any) -> tuple[SeededDay, int]:
    import sqlalchemy as sa

    from dispatch import models as m
    from dispatch.actors import Actor
    from dispatch.db import get_database
    from dispatch.demo.load import load_demo
    from dispatch.services import packages, tariffs
    from dispatch.services.users import add_user

    now = datetime.fromisoformat(FIXED_NOW)
    database = get_database(app)
    load_demo(database.engine, seed=11, patients=DEMO_PATIENTS, now=now)
    with database.session_scope() as session:
        network_id = session.scalars(sa.select(m.Network.id).order_by(m.Network.id)).first()
        seeded = add_open_visits(session, now=now, count=OPEN_VISITS, network_id=network_id)
        user = add_user(session, username=COORDINATOR, role="coordinator", password=PASSWORD,
                        now=now, display_name="Cara Coordinator").user
        user.network_id = network_id
        tariffs.ensure_default_tariff(session, date(2026, 12, 1))
        patient_id = session.scalars(sa.select(m.Patient.id).where(
            m.Patient.network_id == network_id)).first()
        assert patient_id is not None
        actor = Actor(None, COORDINATOR, "coordinator")
        package = packages.create_package(
            session, patient_id=patient_id, start_date=date(2026, 12, 1), end_date=None,
            lines=[packages.LineRequest("home_care_hour", 7, 4)], actor=actor, now=now)
        packages.submit_package(session, package_id=package.id, actor=actor, now=now)
        return seeded, package.id


def _sign_in(page: Any, base: str, next_path: str) -> None:
    page.goto(f"{base}/sign-in?next={next_path}")
    page.get_by_label("Username").fill(COORDINATOR)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def test_board_jeopardy_first_and_manual_assign_with_confirm(
    page: Any, blocked: Blocked, board_server: tuple[str, SeededDay, int]
) -> None:
    """Jeopardy heads the list; a manual assign warns, Assign anyway saves; live refresh."""
    base, seeded, _ = board_server
    _sign_in(page, base, "/board")
    assert page.url.startswith(f"{base}/board")
    first_row = page.locator("#attention tbody tr").first
    assert "app-row--jeopardy" in (first_row.get_attribute("class") or "")
    assert "left" in first_row.inner_text() or "overdue" in first_row.inner_text()
    assert page.locator("#timelines .app-tl-row").count() > 5
    assert page.locator("#board-map .app-map-visit").count() >= OPEN_VISITS // 2
    header = page.evaluate(
        "getComputedStyle(document.querySelector('.nhsuk-header')).backgroundColor")
    assert header == NHS_BLUE
    assert page.locator("[data-board-live='yes']").count() == 1  # board.js ran under the CSP
    screenshot(page, "board")

    reference = first_row.get_attribute("data-visit")
    with page.expect_navigation():
        first_row.get_by_role("link").click()
    page.get_by_label("Worker", exact=True).select_option(index=1)
    page.get_by_label("Start time (today, UK time)").fill("23:30")
    with page.expect_navigation():
        page.locator("#check-assign").click()
    assert "Check before you assign" in page.locator("#warnings").inner_text()
    assert "after the deadline" in page.locator("#warnings").inner_text()  # 23:30 is late
    screenshot(page, "board-assign-warning")
    with page.expect_navigation():
        page.locator("#confirm-assign").click()
    assert page.url.startswith(f"{base}/board")
    assert f"Visit {reference} assigned to" in page.locator(".app-flash").inner_text()
    # Still in jeopardy, now for a different cause: it will start after its deadline.
    row = page.locator(f"#attention tr[data-visit='{reference}']").inner_text()
    assert "planned arrival after the deadline" in row

    live = page.locator("[data-board-live]")
    before = live.get_attribute("data-board-updated")  # None until the first refresh
    page.evaluate("window.dispatchBoardRefresh()")
    # Wait on the page's state, not a fixed time: Playwright's assertion retries until the
    # attribute holds a new value (its own selector engine; the page's CSP forbids eval).
    changed = re.compile(".+" if before is None else f"^(?!{re.escape(before)}$).+")
    expect(live).to_have_attribute("data-board-updated", changed, timeout=30_000)
    assert "As of" in page.locator("[data-board-status]").inner_text()
    assert page.locator("#attention tbody tr").count() > 0
    assert all("127.0.0.1" not in u for u in blocked.urls)


def test_package_approval_page(
    page: Any, blocked: Blocked, board_server: tuple[str, SeededDay, int]
) -> None:
    """The coordinator sees cost, threshold and approver, approves, and the status changes."""
    base, _, package_id = board_server
    _sign_in(page, base, f"/packages/{package_id}")
    assert page.url == f"{base}/packages/{package_id}"
    assert page.locator("#approver").inner_text() == "A coordinator"
    assert page.locator("#total-cost").inner_text().startswith("£")
    screenshot(page, "package-approval")
    with page.expect_navigation():
        page.locator("#approve").click()
    assert page.locator("#package-status").inner_text() == "approved"
    assert "approved" in page.locator(".app-flash").inner_text()
    screenshot(page, "package-approved")
