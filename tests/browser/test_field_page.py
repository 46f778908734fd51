"""The field worker's visit page on a 390 px phone, in headless Chromium: tap-to-call and
directions links, the outcome with notes and observations, then arrival and completion times
in place of the countdown; "My visits" flags a late visit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import every_page
from tests.browser.conftest import Blocked


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[every_page.EveryPage]:
    yield from every_page.start(tmp_path_factory)


def test_field_page_on_a_phone(page: Any, blocked: Blocked, site: every_page.EveryPage) -> None:
    """Sign in as the demo worker, open the visit under way, record the outcome with a note
    and a pulse; the page then shows when they arrived and finished."""
    page.set_viewport_size({"width": 390, "height": 844})
    username, password = site.sign_ins["field_staff"]
    page.goto(f"{site.base}/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url.endswith("/my-visits")
    assert page.locator("#my-visits li").count() >= 3

    reference = site.ids["reference_on_site"]
    page.goto(f"{site.base}/visits/{reference}")
    assert page.locator("#arrived").is_visible() and page.locator(".app-countdown").count() == 0
    directions = page.locator("#directions").get_attribute("href") or ""
    assert directions.startswith("https://www.google.com/maps/dir/?api=1&destination=")
    assert (page.locator("#directions-geo").get_attribute("href") or "").startswith("geo:")
    call = page.locator("#call-patient")
    if call.count():
        assert (call.get_attribute("href") or "").startswith("tel:")
    page.get_by_label("Outcome").select_option("visit_completed")
    page.get_by_label("Notes (optional)").fill("Comfortable; GP letter left")
    page.get_by_label("Pulse (beats a minute)").fill("84")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    with page.expect_navigation():
        page.locator("#complete").click()
    assert "is done" in page.locator(".app-flash").inner_text()
    assert page.locator("#completed").is_visible()
    record = page.locator("#outcome-record").inner_text()
    assert "Comfortable; GP letter left" in record and "84" in record
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert blocked.urls == []
