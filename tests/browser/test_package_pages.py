"""Care packages in a real browser, desktop and a 390 px phone: a coordinator builds one from
the tariff, works out its cost (shown before saving), sends it for approval; above their limit
it waits for a manager, who finds it first in the list and approves it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.browser.conftest import Blocked
from tests.browser.support import FIXED_NOW, screenshot

PASSWORD = "browser test password"


@pytest.fixture(scope="module")
def packages_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a free port with one patient, a coordinator and a manager."""
    from werkzeug.serving import make_server

    from dispatch import create_app
    from dispatch.db import get_database
    from dispatch.migrate import upgrade
    from dispatch.services.users import add_user
    from tests.dispatch import factories as f

    url = f"sqlite:///{tmp_path_factory.mktemp('packages-db') / 'dispatch.sqlite3'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests", "FIXED_NOW": FIXED_NOW})
    now = datetime.fromisoformat(FIXED_NOW)
    with get_database(app).session_scope() as session:
        network = f.network(session)
        f.patient(session, nhs_number="9434765919", given_name="Joe", family_name="Bloggs",
                  network_id=network.id, lat=51.512, lon=-0.225)
        add_user(session, username="cara", role="coordinator", password=PASSWORD, now=now,
                 display_name="Cara Coordinator", network_ids=[network.id], all_networks=False)
        add_user(session, username="max", role="manager", password=PASSWORD, now=now,
                 display_name="Max Manager")
        _over_budget_package(session, now)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="packages-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        get_database(app).dispose()


def _over_budget_package(session: Any, now: datetime) -> None:
    """A second network with a £500 budget and, sent for approval, 7 hours of home care a
    week for 4 weeks (£938) for Annie (very high risk): over budget, so it waits for a
    manager (issue 17, H-231-C2)."""
    from datetime import date

    from dispatch.actors import Actor
    from dispatch.services import budgets, tariffs
    from dispatch.services import packages as svc
    from tests.dispatch import factories as f

    tariffs.ensure_default_tariff(session, now.date())
    network = f.network(session, code="N-BUDGET", name="Budget network")
    annie = f.patient(session, nhs_number="9434765870", given_name="Annie", family_name="Smith",
                      network_id=network.id, lat=51.512, lon=-0.225)
    actor = Actor(None, "cara", "coordinator")
    budgets.set_budget(session, network_id=network.id, period_start=date(2026, 12, 1),
                       period_end=date(2027, 4, 1), health_pence=25_000,
                       social_care_pence=25_000, actor=actor, now=now)
    package = svc.create_package(session, patient_id=annie.id, start_date=date(2026, 12, 7),
                                 end_date=None, lines=[svc.LineRequest("home_care_hour", 7, 4)],
                                 actor=actor, now=now)
    svc.submit_package(session, package_id=package.id, actor=actor, now=now)


def _sign_in(page: Any, base: str, username: str, path: str) -> None:
    # Sign-out is a POST from the header's button; clearing cookies instead raced a late
    # asset response re-setting the old session cookie (test_control_warnings, CI stop 30).
    if page.get_by_test_id("sign-out").count():
        with page.expect_navigation():
            page.get_by_test_id("sign-out").click()
    page.goto(f"{base}/sign-in?next={path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def _fits(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("size", [pytest.param((1280, 900), id="desktop"),
                                  pytest.param((390, 844), id="phone")])
def test_package_from_build_to_approval_by_a_manager(
    page: Any, blocked: Blocked, packages_server: str, size: tuple[int, int],
) -> None:
    """Cara builds 14 hours of home care a week for 12 weeks (£5,628.00, above her £5,000),
    sees the cost and that a manager must approve, sends it; Max approves it from his list."""
    base = packages_server
    kind = "phone" if size[0] < 500 else "desktop"
    page.set_viewport_size({"width": size[0], "height": size[1]})
    _sign_in(page, base, "cara", "/packages/new")
    page.get_by_label("Patient's NHS number").fill("943 476 5919")
    page.get_by_label("Starts on").fill("2026-12-07")
    line = page.locator("#line-0")
    line.get_by_label("What").select_option("home_care_hour")
    line.get_by_label("How many a week").fill("14")
    line.get_by_label("For how many weeks").fill("12")
    with page.expect_navigation():
        page.get_by_role("button", name="Work out the cost").click()
    assert "in total £5,628.00" in page.locator("#quote-total").inner_text()
    assert page.locator("#quote-approver").inner_text() == "manager"
    _fits(page, size[0])
    screenshot(page, f"package-quote-{kind}")
    with page.expect_navigation():
        page.get_by_role("button", name="Save and send for approval").click()
    assert "sent for approval" in page.locator(".app-flash").inner_text()
    package_url = page.url

    _sign_in(page, base, "max", "/packages")
    first = page.locator("#packages-decide tbody tr").first
    assert "Joe BLOGGS" in first.inner_text() and "Cara Coordinator" in first.inner_text()
    _fits(page, size[0])
    screenshot(page, f"package-list-{kind}")
    with page.expect_navigation():
        first.get_by_role("link").click()
    assert page.url == package_url
    with page.expect_navigation():
        page.locator("#approve").click()
    assert "approved" in page.locator(".app-flash").inner_text()
    assert page.locator("#package-status").inner_text().lower() == "approved"
    _fits(page, size[0])
    assert all("127.0.0.1" not in u for u in blocked.urls)


@pytest.mark.parametrize("size", [pytest.param((1280, 900), id="desktop"),
                                  pytest.param((390, 844), id="phone")])
def test_over_budget_package_shows_the_manager_the_figures(
    page: Any, blocked: Blocked, packages_server: str, size: tuple[int, int],
) -> None:
    """Max opens Annie's package, sent over its network's budget: the figures are above the
    approve button, with the seeds' weekly spend for her tier; no sideways scroll, and axe
    finds nothing of moderate impact or worse."""
    from tests.browser.axe import serve_axe, violations
    from tests.browser.support import settled

    base = packages_server
    page.set_viewport_size({"width": size[0], "height": size[1]})
    serve_axe(page)
    _sign_in(page, base, "max", "/packages")
    with page.expect_navigation():
        page.locator("#packages-decide tbody tr", has_text="Annie").get_by_role("link").click()
    settled(page)
    over = page.locator("#over-budget").inner_text()
    assert "budget £500" in over and "£438 over" in over and "needs a manager" in over
    assert "£256.87 a week" in page.locator("#tier-guide").inner_text()
    assert page.locator("#approve").is_visible()
    _fits(page, size[0])
    assert [str(v) for v in violations(page)] == []
    screenshot(page, f"package-over-budget-{'phone' if size[0] < 500 else 'desktop'}")
    assert all("127.0.0.1" not in u for u in blocked.urls)
