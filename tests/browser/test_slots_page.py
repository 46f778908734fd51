"""The call handler offers the caller a time the team can come (issue 15 item 5).

A server of its own (module scope): one network, a nurse on shift now (falls) and one on a
later shift (IV therapy), two urgent referrals and a call handler. On the desktop the handler
asks for the best times, chooses the first and it is booked at once (within the deadline);
on a 390 px phone every time offered for the IV visit is after its deadline, so choosing one
brings back the booking form filled in, with the warning and the approval it needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import Blocked
from tests.browser.support import FIXED_NOW, screenshot, served

HANDLER = "hana"
PASSWORD = "browser test password"


@pytest.fixture(scope="module")
def slots_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, int]]]:
    """The app on a free port with the small seeded day; yields its URL and referral ids."""
    with served(tmp_path_factory, "slots", _seed, config={"PLANS_IN_BACKGROUND": False}) as s:
        yield s.url, s.seeded


def _seed(session: Any) -> dict[str, int]:
    from dispatch import models as m
    from dispatch.services.users import add_user
    from tests.dispatch import factories as f

    now = datetime.fromisoformat(FIXED_NOW)
    net = f.network(session)
    base = f.base(session, network_id=net.id)
    people = [("dn1", "Dee Nurse", ["falls_assessment"], timedelta(0)),
              ("dn2", "Ivy Later", ["iv_therapy"], timedelta(hours=4))]
    for k, (code, name, skills, offset) in enumerate(people):
        member = f.staff(session, code=code, name=name, skills=skills,
                         phone=f"+4477009002{k:02d}", network_id=net.id, base_id=base.id)
        session.add(m.Shift(code=f"sh-{code}", staff_id=member.id, base_id=base.id,
                            starts_at=now - timedelta(hours=1) + offset,
                            ends_at=now + timedelta(hours=7) + offset, breaks=[]))
    referrals = {}
    for k, (lat, skill) in enumerate(((51.512, "falls_assessment"), (51.515, "iv_therapy"))):
        patient = f.patient(session, nhs_number=("9434765919", "9434765870")[k],
                            family_name=f"P{k}", lat=lat, lon=-0.225, network_id=net.id)
        referral = f.referral(session, patient.id, network_id=net.id)
        f.visit(session, referral.id, patient.id, reference=f"S00{k + 1}", network_id=net.id,
                skills=[skill], earliest_start=now, deadline=now + timedelta(hours=2))
        referrals[skill] = referral.id
    add_user(session, username=HANDLER, role="call_handler", password=PASSWORD, now=now,
             display_name="Hana Handler")
    return referrals


def _open(page: Any, base: str, path: str) -> None:
    page.goto(f"{base}/sign-in?next={path}")
    page.get_by_label("Username").fill(HANDLER)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url.endswith(path)


def _find_slots(page: Any) -> list[str]:
    with page.expect_navigation():
        page.locator("#find-slots").click()
    labels = page.locator("#slot-form .nhsuk-radios__label").all_inner_texts()
    assert labels, page.locator("#slots").inner_text()
    return labels


def test_handler_books_the_best_time_offered(
    page: Any, blocked: Blocked, slots_server: tuple[str, dict[str, int]],
) -> None:
    base, referrals = slots_server
    _open(page, base, f"/referrals/{referrals['falls_assessment']}")
    labels = _find_slots(page)
    assert len(labels) == 3 and all(text.startswith("From ") for text in labels)
    screenshot(page, "handler-slots-desktop")
    page.locator("#slot-form .nhsuk-radios__input").first.check()
    with page.expect_navigation():
        page.locator("#book-slot-button").click()
    assert "Visit S001 will start between" in page.locator("body").inner_text()
    assert all("127.0.0.1" not in u for u in blocked.urls)


@pytest.mark.safety("H-140")
def test_handler_on_a_phone_choosing_a_time_after_the_deadline_is_warned(
    page: Any, blocked: Blocked, slots_server: tuple[str, dict[str, int]],
) -> None:
    base, referrals = slots_server
    page.set_viewport_size({"width": 390, "height": 844})
    _open(page, base, f"/referrals/{referrals['iv_therapy']}")
    labels = _find_slots(page)
    hints = page.locator("#slot-form .nhsuk-radios__hint").all_inner_texts()
    assert len(hints) == len(labels)  # Ivy starts after the deadline: every time is late
    assert all("After the deadline: needs a reason and a clinician's approval" in h
               for h in hints)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "handler-slots-phone")
    page.locator("#slot-form .nhsuk-radios__input").first.check()
    with page.expect_navigation():
        page.locator("#book-slot-button").click()
    assert page.locator("#booking-warning").is_visible()
    first = labels[0].removeprefix("From ")
    assert page.get_by_label("Time (UK)").input_value() == first[:5]
    assert "Visit S002 will start" not in page.locator("body").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert all("127.0.0.1" not in u for u in blocked.urls)
