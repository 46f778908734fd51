"""A call handler who uses only the keyboard logs a referral, from sign-in to the read-back.

Nothing here clicks, and nothing moves focus from the script: every step is Tab (or
Shift+Tab), typing, Enter, Space or an arrow key, as a keyboard or switch user would, and each
step waits on the page's state. The find-patient search moves focus to its results, so the
handler reads and picks the patient from there.
"""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import Blocked
from tests.browser.support import PASSWORD, USERNAME

#: More Tab presses than any page here has stops: a field never reached fails the test.
MAX_TABS = 300


def _focused_matches(page: Any, selector: str) -> bool:
    return bool(page.evaluate(
        "s => !!document.activeElement && document.activeElement.matches(s)", selector))


def _tab_to(page: Any, selector: str) -> None:
    """Press Tab until the focused element matches ``selector`` (and is on screen)."""
    for _ in range(MAX_TABS):
        if _focused_matches(page, selector):
            box = page.evaluate("""() => {
                const r = document.activeElement.getBoundingClientRect();
                return r.width > 0 && r.height > 0;
            }""")
            assert box, f"{selector} has focus but cannot be seen"
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def _type_at(page: Any, selector: str, text: str) -> None:
    _tab_to(page, selector)
    page.keyboard.type(text)


def _press_enter_and_wait(page: Any) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _answer_red_flags_no(page: Any) -> None:
    """Each red-flag question is a radio group (yes, no, not asked) with nothing chosen: Tab
    lands on its first radio, and the right arrow moves to "no" and chooses it."""
    from triage import RED_FLAGS

    for code in RED_FLAGS:
        name = f"red_flag__{code}"
        _tab_to(page, f"#referral-form input[name={name}]")
        page.keyboard.press("ArrowRight")
        checked = page.evaluate(
            "n => (document.querySelector(`input[name=${n}]:checked`) || {}).value", name)
        assert checked == "no", f"{code}: {checked}"


def test_keyboard_only_referral_from_sign_in_to_read_back(
    page: Any, live_server: str, blocked: Blocked
) -> None:
    """Sign in, find Joe Bloggs by name and date of birth, select him from the results (which
    have focus), answer every red flag, tick two needs, enter observations, choose the level of
    consciousness, send, and read the urgent 2-hour disposition: keys only."""
    page.goto(f"{live_server}/")
    _type_at(page, "#username", USERNAME)
    _type_at(page, "#password", PASSWORD)
    _press_enter_and_wait(page)
    assert page.url.endswith("/referrals/new"), page.url

    _type_at(page, "#find-name", "Joe Bloggs")
    _type_at(page, "#find-dob-day", "2")
    _type_at(page, "#find-dob-month", "3")
    _type_at(page, "#find-dob-year", "1941")
    _press_enter_and_wait(page)
    page.wait_for_function("document.activeElement && document.activeElement.id === 'results'")
    assert "1 patient found" in page.locator("#results").inner_text()
    _tab_to(page, "#results a")
    _press_enter_and_wait(page)
    assert "943 476 5919" in page.locator("#patient-summary").inner_text()

    _type_at(page, "#referrer_name", "Ann Handler")
    _answer_red_flags_no(page)
    for need in ("fall_no_injury", "sudden_confusion"):
        _tab_to(page, f"input[name=needs][value={need}]")
        page.keyboard.press("Space")
    _type_at(page, "#respiration_rate", "22")
    _type_at(page, "#spo2", "95")
    _type_at(page, "#pulse", "95")
    _type_at(page, "#systolic_bp", "105")
    _tab_to(page, "#consciousness")
    page.keyboard.type("Alert")  # a closed select picks the option its typed text starts
    assert page.locator("#consciousness").input_value() == "alert"
    _tab_to(page, "#submit-referral")
    _press_enter_and_wait(page)

    assert re.search(r"/referrals/\d+$", page.url), page.url
    card = page.locator("#disposition").inner_text()
    assert "Urgent community response within 2 hours" in card
    assert "on Tuesday 1 December 2026" in card
    assert "Total 5 (medium risk)" in page.locator("#news2").inner_text()
    assert page.locator("#reasons li").count() >= 2
    assert blocked.urls == []
