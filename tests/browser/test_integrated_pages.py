"""Every integrated-care page (issue 16) in headless Chromium, on a desktop and a 390 px
phone: it loads for a coordinator, asks nothing of another host, logs no script error (CSP)
and never scrolls sideways; one action (marking the grab-rails task done) works by keyboard.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from tests.browser.conftest import Blocked, _context
from tests.browser.support import FIXED_NOW, screenshot

PHONE = {"width": 390, "height": 844}
USER, PASSWORD = "cora", "browser test password"


@pytest.fixture(scope="module")
def care_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, int]]]:
    """The app with one network, Joe and the demo's integrated care (practice, group,
    coordinator, Annie, referrals out, a case conference, grab rails to install)."""
    from werkzeug.serving import make_server

    from dispatch import create_app
    from dispatch import models as m
    from dispatch.db import get_database
    from dispatch.demo.integrated import add_integrated_care
    from dispatch.migrate import upgrade
    from dispatch.services.users import add_user

    url = f"sqlite:///{tmp_path_factory.mktemp('care-db') / 'dispatch.sqlite3'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests", "FIXED_NOW": FIXED_NOW})
    now = datetime.fromisoformat(FIXED_NOW)
    with get_database(app).session_scope() as session:
        network = m.Network(code="HF-N1", name="H&F North", borough="Hammersmith & Fulham")
        session.add(network)
        session.flush()
        made = add_user(session, username=USER, role="coordinator", password=PASSWORD, now=now,
                        display_name="Cora Coordinator")
        made.user.network_id = network.id
        session.add(m.Patient(
            nhs_number="9434765919", given_name="Joseph", family_name="Bloggs",
            date_of_birth=date(1941, 3, 2), address="1 Wood Lane, London", postcode="W12 7RQ",
            risk_tier="very_high", frailty=6, conditions=["dementia"], network_id=network.id,
            created_at=now))
        session.flush()
        add_integrated_care(session, now=now)
        ids = {"patient": session.scalar(sa.select(m.Patient.id)),
               "carer": session.scalar(sa.select(m.Carer.id)),
               "onward": session.scalar(sa.select(m.OnwardReferral.id)),
               "group": session.scalar(sa.select(m.MdGroup.id)),
               "conference": session.scalar(sa.select(m.CaseConference.id))}
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="care-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", ids  # type: ignore[misc]
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        get_database(app).dispose()


def _pages(ids: dict[str, int]) -> list[str]:
    p = ids["patient"]
    return ["/caseload", "/practices", "/caseloads", f"/patients/{p}/care-plan",
            f"/patients/{p}/care-plan/new", f"/patients/{p}/carers", f"/carers/{ids['carer']}",
            f"/patients/{p}/onward", f"/onward/{ids['onward']}",
            f"/groups/{ids['group']}/conferences", f"/case-conferences/{ids['conference']}",
            "/board", "/home"]


def _sign_in(tab: Any, base: str) -> None:
    tab.goto(f"{base}/sign-in")
    tab.get_by_label("Username").fill(USER)
    tab.get_by_label("Password").fill(PASSWORD)
    with tab.expect_navigation():
        tab.get_by_label("Password").press("Enter")


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_integrated_pages_load_and_fit(
    care_server: tuple[str, dict[str, int]], browser: Any, blocked: Blocked, screen: str
) -> None:
    """Each page answers 200 with its heading, no request leaves the machine, no console
    error, and nothing scrolls sideways (1280 px desktop, 390 px phone)."""
    base, ids = care_server
    options = {"is_mobile": True, "has_touch": True} if screen == "phone" else {}
    context = _context(browser, blocked, **options)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    if screen == "phone":
        tab.set_viewport_size(PHONE)
    errors: list[str] = []
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    _sign_in(tab, base)
    for path in _pages(ids):
        answer = tab.goto(f"{base}{path}")
        assert answer is not None and answer.status == 200, path
        assert tab.locator("h1").count() == 1, path
        overflow = tab.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways on the {screen}"
        screenshot(tab, f"integrated-{screen}-{path.strip('/').replace('/', '-') or 'root'}")
    # The NHS.UK stylesheet asks for its hosted fonts; the CSP refuses them on every page
    # (the fallback font does), so those messages are not about these pages.
    assert [e for e in errors if "font" not in e.lower()] == []
    assert [u for u in blocked.urls if "assets.nhs.uk/fonts" not in u] == []
    context.close()


def test_grab_rails_task_done_by_keyboard(
    care_server: tuple[str, dict[str, int]], browser: Any, blocked: Blocked
) -> None:
    """On the phone the coordinator marks the grab-rails task done with the keyboard; the
    caseload then shows no open task."""
    base, _ = care_server
    context = _context(browser, blocked, is_mobile=True, has_touch=True)
    tab = context.new_page()
    tab.set_viewport_size(PHONE)
    _sign_in(tab, base)
    tab.goto(f"{base}/caseload")
    button = tab.locator("#my-tasks button").first
    button.focus()
    with tab.expect_navigation():
        tab.keyboard.press("Enter")
    assert tab.locator("#my-tasks").inner_text() == "No open tasks."
    assert "Joseph" not in tab.locator(".app-flash").inner_text()
    context.close()
