"""The call handler's intake warnings in headless Chromium, on a desktop and a 390 px phone:
a patient with an open referral is flagged before another is logged (hazard H-002), and
registering with an NHS number whose registered patient has another family name is stopped
and asked about, naming the field only (hazard H-001)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import Blocked
from tests.browser.support import PASSWORD, USERNAME, answer_red_flags, screenshot

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def _sign_in(page: Any, base: str) -> None:
    page.goto(f"{base}/sign-in")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_label("Password").press("Enter")
    assert page.url == f"{base}/referrals/new", page.content()[:2000]


def _demo_patient_id(page: Any) -> int:
    page.get_by_label("NHS number").fill("943 476 5919")
    with page.expect_navigation():
        page.get_by_label("NHS number").press("Enter")
    href = page.get_by_role("link", name=re.compile(r"^Select")).get_attribute("href")
    match = re.search(r"patient=(\d+)", href or "")
    assert match, href
    return int(match.group(1))


def _log_fall(page: Any) -> None:
    page.get_by_label("Referrer's name", exact=True).fill("Ann Handler")
    page.get_by_label("Fall without serious injury", exact=True).check()
    answer_red_flags(page)
    with page.expect_navigation():
        page.locator("#submit-referral").click()


def _fits_the_screen(page: Any) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, "the page scrolls sideways"


@pytest.mark.safety("H-002")
@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_handler_sees_open_referral_before_logging_another(
    page: Any, live_server: str, blocked: Blocked, viewport: str
) -> None:
    """After one referral for Joe, selecting him again shows the open referral (when, what,
    its visit) above the form, readable on a phone, and the next result page repeats it."""
    page.set_viewport_size(VIEWPORTS[viewport])
    _sign_in(page, live_server)
    joe = _demo_patient_id(page)
    page.goto(f"{live_server}/referrals/new?patient={joe}")
    _log_fall(page)
    first = int(page.url.rsplit("/", 1)[-1])

    page.goto(f"{live_server}/referrals/new?patient={joe}")
    warning = page.locator("#possible-duplicates")
    warning.wait_for(state="visible")
    text = warning.inner_text()
    assert f"Referral {first}" in text
    assert "2-hour urgent" in text and "received" in text and "on Tuesday 1 December 2026" in text
    assert re.search(r"Visit \d{4}", text)
    box, form = warning.bounding_box(), page.locator("#referral-form").bounding_box()
    assert box["y"] < form["y"], "the warning comes before the form"
    assert box["width"] <= VIEWPORTS[viewport]["width"]
    _fits_the_screen(page)
    screenshot(page, f"intake-duplicate-warning-{viewport}")

    _log_fall(page)
    assert page.locator("#possible-duplicates").is_visible()
    assert f"Referral {first}" in page.locator("#possible-duplicates").inner_text()
    assert not blocked.urls or all("127.0.0.1" not in u for u in blocked.urls)


@pytest.mark.safety("H-001")
@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_handler_is_asked_about_a_patient_mismatch(
    page: Any, live_server: str, blocked: Blocked, viewport: str
) -> None:
    """Registering "Joe Smith" with Joe Bloggs's NHS number logs nothing and shows the
    mismatch (the family name, never the registered one); choosing "the same person" shows
    Joe's open referral first (H-031) and logging again logs the referral for him."""
    page.set_viewport_size(VIEWPORTS[viewport])
    _sign_in(page, live_server)
    page.goto(f"{live_server}/referrals/new?patient={_demo_patient_id(page)}")
    _log_fall(page)  # Joe has an open referral
    page.goto(f"{live_server}/referrals/new?register=1")
    for field, value in {"nhs_number": "943 476 5919", "given_name": "Joe",
                         "family_name": "Smith", "dob_day": "2", "dob_month": "3",
                         "dob_year": "1941", "address": "1 Wood Lane, London",
                         "postcode": "W12 7RQ"}.items():
        page.locator(f"#referral-form input[name={field}]").fill(value)
    _log_fall(page)

    assert page.url.endswith("/referrals/new")
    mismatch = page.locator("#patient-mismatch")
    mismatch.wait_for(state="visible")
    assert page.locator("#mismatch-fields").inner_text() == "family name"
    assert "bloggs" not in mismatch.inner_text().lower()
    summary = page.locator(".nhsuk-error-summary")
    assert "differ from the registered patient" in summary.inner_text()
    assert page.locator("#decision-correct").is_checked()  # nothing confirmed by default
    _fits_the_screen(page)
    screenshot(page, f"intake-patient-mismatch-{viewport}")

    page.get_by_label(re.compile("^It is the same person")).check()
    with page.expect_navigation():
        page.locator("#submit-referral").click()
    assert page.url.endswith("/referrals/new")  # stopped: Joe's open referral is shown first
    page.locator("#possible-duplicates").wait_for(state="visible")
    assert page.locator("#patient-mismatch").count() == 0  # the confirmation is kept
    with page.expect_navigation():
        page.locator("#submit-referral").click()
    assert re.search(r"/referrals/\d+$", page.url), page.url
    caption = page.locator(".nhsuk-caption-l").first.inner_text()
    assert "BLOGGS" in caption and "943 476 5919" in caption
