"""The consent page in headless Chromium, on a desktop and on a 390 px phone: the call handler
withdraws the demo patient's consent and records it again, by keyboard, and the page holds
together on both screens (H-009). Ends with consent given, as the other browser tests expect.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import Blocked, _context
from tests.browser.support import PASSWORD, USERNAME, screenshot

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Any, blocked: Blocked) -> Iterator[Any]:
    """A browser tab the size of a phone (390 x 844), touch enabled."""
    context = _context(browser, blocked, is_mobile=True, has_touch=True)
    tab = context.new_page()
    tab.set_viewport_size(PHONE)
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def _sign_in(page: Any, base: str) -> None:
    page.goto(f"{base}/sign-in")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_label("Password").press("Enter")


def _patient_id(page: Any, base: str) -> str:
    """Find the demo patient on the handler's page and follow the link to their consent."""
    page.get_by_label("NHS number").fill("943 476 5919")
    with page.expect_navigation():
        page.get_by_label("NHS number").press("Enter")
    with page.expect_navigation():
        page.get_by_role("link", name="Select").first.click()
    with page.expect_navigation():
        page.locator("#consent-link").click()
    assert page.url.startswith(f"{base}/patients/") and page.url.endswith("/consent")
    return str(page.url.split("/")[-2])


def _decide(page: Any, who: str, button: str, expect: str) -> None:
    page.get_by_label(who).check()
    page.locator(f"#{button}").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#consent-status").inner_text() == expect
    assert page.locator(".app-flash").count() == 1


def _fits(page: Any, width: int) -> None:
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways at {width} px"
    box = page.locator("#consent-history").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1


def test_consent_page_withdraw_on_desktop_record_on_phone(
    live_server: str, page: Any, phone: Any, blocked: Blocked
) -> None:
    """Withdraw on a desktop, record again on a phone: each decision shows at once with who
    recorded it, the history lists both, and neither screen scrolls sideways."""
    _sign_in(page, live_server)
    patient_id = _patient_id(page, live_server)
    assert page.locator("#consent-status").inner_text() == "Given"
    _decide(page, "The patient", "withdraw", "Not recorded")
    _fits(page, 1280)
    screenshot(page, "consent-desktop")

    _sign_in(phone, live_server)
    phone.goto(f"{live_server}/patients/{patient_id}/consent")
    assert phone.locator("#consent-status").inner_text() == "Not recorded"
    _decide(phone, "Their attorney", "record", "Given")
    assert USERNAME in phone.locator("#consent-summary").inner_text()
    history = phone.locator("#consent-history").inner_text()
    assert "Withdrawn" in history and "Given" in history
    _fits(phone, PHONE["width"])
    screenshot(phone, "consent-phone")
    assert blocked.urls == [] or all("127.0.0.1" not in u for u in blocked.urls)


def test_consent_scope_chosen_and_recorded_on_phone(
    live_server: str, page: Any, phone: Any, blocked: Blocked
) -> None:
    """On a phone the coordinator chooses "contact the carer" with the scope radios, records
    Joe's consent and withdraws it again (by keyboard): each shows at once in the list of the
    patient's consents; the care plan's consent is untouched; no sideways scroll, no axe
    violation."""
    from tests.browser.axe import serve_axe, violations

    _sign_in(page, live_server)
    patient_id = _patient_id(page, live_server)
    plan_status = page.locator("#consent-status").inner_text()

    serve_axe(phone)
    _sign_in(phone, live_server)
    phone.goto(f"{live_server}/patients/{patient_id}/consent")
    phone.get_by_label("Contact their carer about visits").check()
    with phone.expect_navigation():
        phone.locator("#choose-scope").click()
    assert phone.url.endswith("scope=contact_carer")
    assert phone.locator("h1").inner_text() == "Consent to contact the carer"
    assert phone.locator("#consent-status").inner_text() == "Not recorded"
    _decide(phone, "The patient", "record", "Given")
    assert "Given" in phone.locator("#scope-contact_carer").inner_text()
    _fits(phone, PHONE["width"])
    assert violations(phone) == []
    screenshot(phone, "consent-scope-phone")
    _decide(phone, "The patient", "withdraw", "Not recorded")
    assert "Not recorded" in phone.locator("#scope-contact_carer").inner_text()
    page.reload()
    assert page.locator("#consent-status").inner_text() == plan_status
    assert blocked.urls == [] or all("127.0.0.1" not in u for u in blocked.urls)
