"""Double-handed visits on the pages (issue 15): the board's visit page and both workers'
field pages show the pair; the coordinator makes a visit need two staff with one button.

A server of its own (module scope): one network, two carers on shift, a hoist visit already
offered to both (one half each, same start), a single visit, a coordinator and the two
carers' sign-ins. Desktop and a 390 px phone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import Blocked
from tests.browser.support import FIXED_NOW, screenshot, served, settled

PASSWORD = "browser test password"
SIZES = [(1280, 900), (390, 844)]


@pytest.fixture(scope="module")
def pair_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, int]]]:
    """The app on a free port with the seeded pair; yields its URL and visit ids."""
    with served(tmp_path_factory, "pair", _seed, config={"PLANS_IN_BACKGROUND": False}) as s:
        yield s.url, s.seeded


def _seed(session: Any) -> dict[str, int]:
    from dispatch import models as m
    from dispatch.actors import SYSTEM
    from dispatch.services import pairs, visit_actions
    from dispatch.services.users import add_user
    from tests.dispatch import factories as f

    now = datetime.fromisoformat(FIXED_NOW)
    net = f.network(session)
    base = f.base(session, network_id=net.id)
    carers, shifts = [], []
    for k, name in enumerate(("Hana Hoist", "Rob Lift")):
        member = f.staff(session, code=f"hw{k}", name=name, role="hybrid_worker",
                         skills=["personal_care"], phone=f"+4477009002{k:02d}",
                         network_id=net.id, base_id=base.id,
                         travel_mode=("car", "bicycle")[k])
        shift = m.Shift(code=f"sh-hw{k}", staff_id=member.id, base_id=base.id,
                        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=7),
                        breaks=[])
        session.add(shift)
        session.flush()
        carers.append(member)
        shifts.append(shift)
        add_user(session, username=f"carer{k}", role="field_staff", password=PASSWORD, now=now,
                 staff_id=member.id)
    patient = f.patient(session, lat=51.512, lon=-0.225, network_id=net.id)
    referral = f.referral(session, patient.id, network_id=net.id)
    first = f.visit(session, referral.id, patient.id, reference="H001", network_id=net.id,
                    skills=["personal_care"], category="response_24h", priority=3,
                    earliest_start=now, deadline=now + timedelta(hours=4))
    second = pairs.make_double_handed(session, visit=first, now=now, actor=SYSTEM)
    start = now + timedelta(hours=1)
    for visit, member, shift in zip((first, second), carers, shifts, strict=True):
        visit_actions.assign(session, visit=visit, staff=member, shift=shift,
                             planned_start=start, now=now)
    single = f.visit(session, referral.id, patient.id, reference="H002", network_id=net.id,
                     skills=["personal_care"], category="response_24h", priority=3,
                     earliest_start=now, deadline=now + timedelta(hours=6))
    user = add_user(session, username="cara", role="coordinator", password=PASSWORD, now=now,
                    display_name="Cara Coordinator").user
    user.network_id = net.id
    return {"first": first.id, "second": second.id, "single": single.id}


def _sign_in(page: Any, base: str, username: str, path: str) -> None:
    page.goto(f"{base}/sign-in?next={path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("size", SIZES, ids=["desktop", "phone"])
def test_board_visit_page_shows_the_pair(
    page: Any, blocked: Blocked, pair_server: tuple[str, dict[str, int]], size: tuple[int, int],
) -> None:
    """The board's visit page says two staff, with the other worker, linking to the partner
    (nothing overflows on a phone); the board lists the pair, and its timeline each
    worker's travel mode."""
    base, ids = pair_server
    page.set_viewport_size({"width": size[0], "height": size[1]})
    _sign_in(page, base, "cara", f"/board/visits/{ids['first']}")
    text = page.locator("main").inner_text()
    assert "Two, at the same time, with Rob Lift" in text
    assert page.locator("#double-handed-form").count() == 0
    page.locator("#partner-link").click()
    page.wait_for_url(f"**/board/visits/{ids['second']}*")
    settled(page)
    assert "with Hana Hoist" in page.locator("main").inner_text()
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(
        e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8).map(
        e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(
        e.getBoundingClientRect().right))""")
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0], wide
    screenshot(page, f"board-pair-{'phone' if size[0] < 500 else 'desktop'}")
    page.goto(f"{base}/board")
    assert "2 staff, with Rob Lift (visit" in page.locator("main").inner_text()
    timelines = page.locator("#timelines").inner_html()
    assert "Hana Hoist (car)" in timelines and "Rob Lift (bike)" in timelines
    screenshot(page, f"board-with-pair-{'phone' if size[0] < 500 else 'desktop'}")
    # (The board's timeline drawing is wider than a phone and scrolls; not this change's.)
    assert all("127.0.0.1" not in u for u in blocked.urls)


@pytest.mark.parametrize(("size", "username", "other"),
                         [((1280, 900), "carer0", "Rob Lift"), ((390, 844), "carer1",
                                                                "Hana Hoist")],
                         ids=["desktop", "phone"])
def test_each_field_page_names_the_other_worker(
    page: Any, pair_server: tuple[str, dict[str, int]], size: tuple[int, int], username: str,
    other: str,
) -> None:
    """Each carer's visit list and visit page say two staff, with the other carer."""
    base, _ = pair_server
    page.set_viewport_size({"width": size[0], "height": size[1]})
    _sign_in(page, base, username, "/my-visits")
    assert f"Two staff: with {other}" in page.locator("#my-visits").inner_text()
    page.locator("#my-visits a").first.click()
    pair = page.locator("#pair").inner_text()
    assert f"with {other}" in pair and "not accepted yet" in pair
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    screenshot(page, f"field-pair-{'phone' if size[0] < 500 else 'desktop'}")


def test_coordinator_makes_a_visit_need_two_staff(
    page: Any, pair_server: tuple[str, dict[str, int]],
) -> None:
    """One button on the visit page links a second worker's half; the page then shows it."""
    base, ids = pair_server
    _sign_in(page, base, "cara", f"/board/visits/{ids['single']}")
    with page.expect_navigation():
        page.locator("#double-handed-form button").click()
    assert "now needs two staff" in page.locator(".app-flash").inner_text()
    assert "Two, at the same time, with a second worker not yet chosen" in \
        page.locator("main").inner_text()
