"""The capacity planner's and the budgets' pages in headless Chromium, on a desktop and on a
390 px phone: a manager starts a search (it stays pending: no scheduler runs here, so the
page shows its progress and refreshes itself), a finished search shows the staffing and both
charts, drawn, and the budgets page its chart, with nothing overflowing sideways."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.browser.axe import serve_axe, violations
from tests.browser.conftest import Blocked, _context
from tests.browser.support import FIXED_NOW, settled
from tests.dispatch.capacity.test_capacity import declined_when_held_out, fake_player

MANAGER, PASSWORD = "manager", "browser test password"
SIZES = [(1280, 900), (390, 844)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, int]]:
    """The app with a manager, one finished search (played with a fake day player) and one
    that stopped: its held-out days missed only to a declined offer, which no staff prevent."""
    from werkzeug.serving import make_server

    from dispatch import create_app
    from dispatch.actors import Actor
    from dispatch.capacity import runs
    from dispatch.db import get_database
    from dispatch.migrate import upgrade
    from dispatch.services import budgets
    from dispatch.services.users import add_user
    from tests.dispatch import factories

    url = f"sqlite:///{tmp_path_factory.mktemp('capacity-db') / 'dispatch.sqlite3'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests", "FIXED_NOW": FIXED_NOW})
    database = get_database(app)
    now = datetime.fromisoformat(FIXED_NOW).astimezone(UTC)
    with database.session_scope() as session:
        add_user(session, username=MANAGER, role="manager", password=PASSWORD, now=now)
        network = factories.network(session)
        session.flush()
        budgets.set_budget(session, network_id=network.id, period_start=date(2026, 12, 1),
                           period_end=date(2027, 4, 1), health_pence=600_000,
                           social_care_pence=400_000, actor=Actor(None, MANAGER, "manager"),
                           now=now)
        run_id = runs.create(session, now=now, requested_by=MANAGER, data={
            "date": "2026-12-01", "networks": ["HF-NORTH", "KC-SOUTH"], "days": 2}).id
    runs.run_pending(database, clock=lambda: now,
                     player=fake_player({"HF-NORTH": 2, "KC-SOUTH": 3}))
    with database.session_scope() as session:
        stopped_id = runs.create(session, now=now, requested_by=MANAGER, data={
            "date": "2026-12-01", "networks": ["HF-NORTH"], "days": 1}).id
    runs.run_pending(database, clock=lambda: now, player=declined_when_held_out())
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", run_id, stopped_id
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()
        database.dispose()


@pytest.fixture
def tab(browser: Any, blocked: Blocked) -> Iterator[Any]:
    context = _context(browser, blocked)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _sign_in(page: Any, base: str) -> None:
    page.goto(f"{base}/sign-in")
    page.get_by_label("Username").fill(MANAGER)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_label("Password").press("Enter")


def _no_sideways_scroll(page: Any, width: int) -> None:
    settled(page)
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(
        e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 6).map(
        e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
    assert overflow <= 0, f"the page scrolls sideways at {width} px: {wide}"


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_capacity_page_start_a_search(server: tuple[str, int, int], tab: Any, blocked: Blocked,
                                      width: int, height: int) -> None:
    """The form starts a search; its page says it is waiting and will refresh."""
    base, _, _ = server
    tab.set_viewport_size({"width": width, "height": height})
    _sign_in(tab, base)
    tab.goto(f"{base}/capacity")
    tab.get_by_label("Network").select_option("WM-WEST")
    tab.get_by_label("Demand growth factor").fill("1.2")
    _no_sideways_scroll(tab, width)

    with tab.expect_navigation():
        tab.get_by_role("button", name="Start the search").click()

    assert tab.locator("#progress-bar").is_visible()
    assert "Waiting for the job to start" in tab.locator("#progress").inner_text()
    assert tab.locator('meta[http-equiv="refresh"]').count() == 1
    _no_sideways_scroll(tab, width)
    assert blocked.urls == []


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_capacity_page_finished_search(server: tuple[str, int, int], tab: Any, blocked: Blocked,
                                       width: int, height: int) -> None:
    """A finished search: tiles, the staffing per network, the warning that HF-NORTH has
    nobody at night (H-230-C3), both charts drawn, with no axe finding."""
    base, run_id, _ = server
    tab.set_viewport_size({"width": width, "height": height})
    serve_axe(tab)
    _sign_in(tab, base)
    tab.goto(f"{base}/capacity/{run_id}")

    assert tab.get_by_role("heading", name="Recommended staffing").is_visible()
    assert "HF-NORTH" in tab.locator("#staffing").inner_text()
    warning = tab.locator("#no-cover")
    warning.scroll_into_view_if_needed()
    assert warning.is_visible()
    assert "No nurse or hybrid worker on HF-NORTH (night)" in warning.inner_text()
    assert "KC-SOUTH" not in warning.inner_text()
    for name in ("cost-compliance", "utilisation-by-hour"):
        chart = tab.locator(f"#chart-{name}")
        chart.scroll_into_view_if_needed()
        tab.wait_for_function(
            "id => document.getElementById(id).complete", arg=f"chart-{name}")
        assert chart.evaluate("img => img.naturalWidth") > 0
    assert tab.locator('meta[http-equiv="refresh"]').count() == 0
    _no_sideways_scroll(tab, width)
    assert [str(v) for v in violations(tab)] == []
    assert blocked.urls == []


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_budgets_page(server: tuple[str, int, int], tab: Any, blocked: Blocked, width: int,
                      height: int) -> None:
    """The budgets page: the network's budget and its month chart, drawn, no sideways
    scroll."""
    base, _, _ = server
    tab.set_viewport_size({"width": width, "height": height})
    _sign_in(tab, base)
    tab.goto(f"{base}/budgets")

    assert "£10,000" in tab.locator("table").first.inner_text()
    chart = tab.locator("img[id^=chart-budget-]").first
    chart.scroll_into_view_if_needed()
    tab.wait_for_function("() => [...document.images].every(i => i.complete)")
    assert chart.evaluate("img => img.naturalWidth") > 0
    _no_sideways_scroll(tab, width)
    assert blocked.urls == []


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_capacity_page_stopped_search_says_why(server: tuple[str, int, int], tab: Any,
                                               blocked: Blocked, width: int,
                                               height: int) -> None:
    """A search the held-out days stopped: the page says no staffing met the target and why
    (a declined offer, not for want of staff), readable on a phone, with no axe finding."""
    base, _, stopped_id = server
    tab.set_viewport_size({"width": width, "height": height})
    serve_axe(tab)
    _sign_in(tab, base)
    tab.goto(f"{base}/capacity/{stopped_id}")

    assert "No staffing met the target" in tab.locator("main").inner_text()
    stopped = tab.locator("#stopped")
    stopped.scroll_into_view_if_needed()
    assert stopped.is_visible()
    assert "not for want of staff (offer declined" in stopped.inner_text()
    assert tab.locator('meta[http-equiv="refresh"]').count() == 0
    _no_sideways_scroll(tab, width)
    assert [str(v) for v in violations(tab)] == []
    assert blocked.urls == []
