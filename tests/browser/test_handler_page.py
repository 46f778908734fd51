"""The call handler's page in headless Chromium, offline: sign in, find the demo patient,
fill the referral with the keyboard, read back the disposition; a 999 case shows the alert
first; bad input gets the focused error summary; and it all works without JavaScript.

Every request off 127.0.0.1 is blocked (conftest) and none may be made: the NHS.UK stylesheet
is served without its hosted-font rules, and each page is checked to look right in the
fallback font. Screenshots go to
test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import Blocked
from tests.browser.support import (
    NHS_BLUE,
    NHS_RED,
    PASSWORD,
    USERNAME,
    answer_red_flags,
    screenshot,
)


def _sign_in(page: Any, base: str) -> None:
    """Sign in by keyboard only: type, Tab, type, Enter."""
    page.goto(f"{base}/")
    assert page.url.startswith(f"{base}/sign-in")
    page.get_by_label("Username").focus()
    page.keyboard.type(USERNAME)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{base}/referrals/new", page.content()[:2000]


def _find_and_select_demo_patient(page: Any) -> None:
    page.get_by_label("NHS number").focus()
    page.keyboard.type("943 476 5919")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.get_by_role("link", name=re.compile(r"^Select")).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "943 476 5919" in page.locator("#patient-summary").inner_text()


def _type_into(page: Any, label: str, text: str) -> None:
    page.get_by_label(label, exact=True).focus()
    page.keyboard.type(text)


def _tick(page: Any, label: str) -> None:
    page.get_by_label(label, exact=True).focus()
    page.keyboard.press("Space")


def _submit_referral(page: Any) -> None:
    page.locator("#submit-referral").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _assert_looks_like_nhs_page(page: Any, blocked: Blocked) -> None:
    """The NHS.UK stylesheet is applied and the page holds together in the fallback font."""
    style = page.evaluate("""() => {
        const header = getComputedStyle(document.querySelector('.nhsuk-header'));
        const sheet = [...document.styleSheets]
            .find(s => (s.href || '').includes('nhsuk-frontend'));
        const frutiger = [...document.fonts].filter(f => f.family.includes('Frutiger'));
        return {
            header: header.backgroundColor,
            font: getComputedStyle(document.body).fontFamily,
            rules: sheet ? sheet.cssRules.length : 0,
            frutigerFaces: frutiger.length,
            frutigerLoaded: frutiger.some(f => f.status === 'loaded'),
            scripts: document.body.classList.contains('nhsuk-frontend-supported'),
            overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
            container: document.querySelector('main').getBoundingClientRect().width,
        };
    }""")
    assert style["rules"] > 500, "the NHS.UK stylesheet did not load"
    assert style["header"] == NHS_BLUE
    assert "Frutiger W01" in style["font"] and "arial" in style["font"].lower()
    assert style["frutigerFaces"] == 0 and not style["frutigerLoaded"], "hosted font asked for"
    assert style["overflow"] <= 0, "the page scrolls sideways"
    assert 600 < style["container"] <= 960
    assert blocked.urls == [], "a page asked a host outside the service"


def test_handler_logs_an_urgent_referral(page: Any, live_server: str, blocked: Blocked) -> None:
    """Keyboard all the way: a fall without injury is an urgent 2-hour response with reasons."""
    _sign_in(page, live_server)
    _find_and_select_demo_patient(page)
    assert "Key safe 4821" in page.locator("#care-plan-card").inner_text()
    screenshot(page, "handler-patient-selected")
    _type_into(page, "Referrer's name", "Ann Handler")
    answer_red_flags(page, keyboard=True)
    _tick(page, "Fall without serious injury")
    _tick(page, "Sudden confusion or delirium")
    _type_into(page, "Respiration rate (breaths a minute)", "22")
    _type_into(page, "SpO2 (%)", "95")
    _type_into(page, "Pulse (beats a minute)", "95")
    _type_into(page, "Systolic blood pressure (mmHg)", "105")
    page.get_by_label("Consciousness (ACVPU)").select_option("alert")
    _submit_referral(page)

    assert re.search(r"/referrals/\d+$", page.url)
    card = page.locator("#disposition")
    assert "Urgent community response within 2 hours" in card.inner_text()
    assert "on Tuesday 1 December 2026" in card.inner_text()
    assert page.locator("#reasons li").count() >= 2
    assert "Total 5 (medium risk)" in page.locator("#news2").inner_text()  # 2 + 1 + 1 + 1 + 0
    assert page.locator("#emergency").count() == 0
    assert "Not recorded: Air or oxygen, Temperature" in page.locator("#news2").inner_text()
    _assert_looks_like_nhs_page(page, blocked)
    screenshot(page, "handler-urgent-disposition")


@pytest.mark.safety("H-161")
def test_handler_sees_999_alert_first(page: Any, live_server: str, blocked: Blocked) -> None:
    """Chest pain: the red 'Call 999 now' card is the first thing on the page, as an alert."""
    _sign_in(page, live_server)
    _find_and_select_demo_patient(page)
    _type_into(page, "Referrer's name", "Ann Handler")
    answer_red_flags(page, yes=("chest_pain",), keyboard=True)
    _submit_referral(page)

    alert = page.get_by_role("alert")
    assert alert.count() == 1 and alert.is_visible()
    assert "Call 999 now" in alert.inner_text()
    assert "Chest pain may be a heart attack" in alert.inner_text()
    assert "Chest pain" not in page.locator("#reasons").inner_text()  # said once, in the card
    assert alert.bounding_box()["y"] < page.locator("h1").bounding_box()["y"]
    colours = alert.evaluate("""el => [el, ...el.querySelectorAll('*')]
        .map(e => getComputedStyle(e).backgroundColor)""")
    assert NHS_RED in colours
    _assert_looks_like_nhs_page(page, blocked)
    screenshot(page, "handler-999-alert")


def test_handler_bad_input_gets_focused_error_summary(
    page: Any, live_server: str, blocked: Blocked
) -> None:
    """An impossible SpO2 is listed in the summary, which takes focus and links to the field."""
    _sign_in(page, live_server)
    _find_and_select_demo_patient(page)
    _type_into(page, "Referrer's name", "Ann Handler")
    answer_red_flags(page)
    _type_into(page, "SpO2 (%)", "101")
    _submit_referral(page)

    summary = page.locator(".nhsuk-error-summary")
    assert summary.is_visible()
    page.wait_for_function("document.activeElement.classList.contains('nhsuk-error-summary')")
    link = summary.get_by_role("link", name=re.compile("SpO2"))
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'spo2'")
    assert page.locator("#spo2").input_value() == "101"
    _assert_looks_like_nhs_page(page, blocked)
    screenshot(page, "handler-error-summary")


def test_handler_page_works_without_javascript(
    page_without_js: Any, live_server: str, blocked: Blocked
) -> None:
    """With scripts off every step is a plain form post and still reaches the disposition."""
    page = page_without_js
    _sign_in(page, live_server)
    _find_and_select_demo_patient(page)
    _type_into(page, "Referrer's name", "Ann Handler")
    answer_red_flags(page)
    _tick(page, "Urgent catheter care")
    _submit_referral(page)
    assert "Urgent community response within 2 hours" in page.locator("#disposition").inner_text()
    _assert_looks_like_nhs_page(page, blocked)


@pytest.mark.safety("H-003")
def test_handler_cannot_send_with_a_red_flag_question_unanswered(
    page: Any, live_server: str, blocked: Blocked
) -> None:
    """A skipped red-flag question stops the referral: the summary names it and links to its
    answers, nothing is logged, and answering it lets the referral through."""
    _sign_in(page, live_server)
    _find_and_select_demo_patient(page)
    _type_into(page, "Referrer's name", "Ann Handler")
    _tick(page, "Fall without serious injury")
    answer_red_flags(page, skip=("stroke_symptoms",))
    _submit_referral(page)

    assert page.url.endswith("/referrals/new")
    summary = page.locator(".nhsuk-error-summary")
    assert "Answer 'Stroke symptoms (FAST positive)': yes, no or not asked" in (
        summary.inner_text())
    assert summary.get_by_role("link").count() == 1
    page.locator("#referral-form input[name=red_flag__stroke_symptoms][value=no]").check()
    _submit_referral(page)
    assert re.search(r"/referrals/\d+$", page.url)
    screenshot(page, "handler-red-flag-unanswered")
