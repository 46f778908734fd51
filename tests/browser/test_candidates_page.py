"""The board's visit page lists who could take a visit, best first; one click assigns it.

A server of its own (module scope) with one network, two nurses on shift (one nearer in
time), a hybrid worker without the skill, two unassigned falls visits and a coordinator.
Desktop and a 390 px phone each assign one visit from the candidates list.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import Blocked
from tests.browser.support import FIXED_NOW, screenshot, served

COORDINATOR = "cara"
PASSWORD = "browser test password"


@pytest.fixture(scope="module")
def candidates_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, dict[str, int]]]:
    """The app on a free port with the small seeded day; yields its URL and visit ids."""
    with served(tmp_path_factory, "candidates", _seed, config={"PLANS_IN_BACKGROUND": False}) as s:
        yield s.url, s.seeded


def _seed(session: Any) -> dict[str, int]:
    from dispatch import models as m
    from dispatch.services.users import add_user
    from tests.dispatch import factories as f

    now = datetime.fromisoformat(FIXED_NOW)
    net = f.network(session)
    base = f.base(session, network_id=net.id)
    people = [("dn1", "Dee Nurse", "district_nurse", ["falls_assessment"], timedelta(0)),
              ("dn2", "Dan Later", "district_nurse", ["falls_assessment"], timedelta(hours=1)),
              ("hw1", "Hal Hybrid", "hybrid_worker", ["personal_care"], timedelta(0))]
    for k, (code, name, role, skills, offset) in enumerate(people):
        member = f.staff(session, code=code, name=name, role=role, skills=skills,
                         phone=f"+4477009001{k:02d}", network_id=net.id, base_id=base.id)
        session.add(m.Shift(code=f"sh-{code}", staff_id=member.id, base_id=base.id,
                            starts_at=now - timedelta(hours=1) + offset,
                            ends_at=now + timedelta(hours=7), breaks=[]))
    visits = {}
    for k, lat in enumerate((51.512, 51.515)):
        patient = f.patient(session, nhs_number=("9434765919", "9434765870")[k],
                            family_name=f"P{k}", lat=lat, lon=-0.225, network_id=net.id)
        referral = f.referral(session, patient.id, network_id=net.id)
        visit = f.visit(session, referral.id, patient.id, reference=f"C00{k + 1}",
                        network_id=net.id, earliest_start=now,
                        deadline=now + timedelta(hours=2))
        visits[visit.reference] = visit.id
    user = add_user(session, username=COORDINATOR, role="coordinator", password=PASSWORD,
                    now=now, display_name="Cara Coordinator").user
    user.network_id = net.id
    return visits


@pytest.mark.parametrize(("size", "reference"), [((1280, 900), "C001"), ((390, 844), "C002")],
                         ids=["desktop", "phone"])
def test_visit_page_candidates_one_click_assigns(
    page: Any, blocked: Blocked, candidates_server: tuple[str, dict[str, int]],
    size: tuple[int, int], reference: str,
) -> None:
    """Both nurses are candidates (on the desktop, first, the nurse on shift now before the
    later one; the phone runs after Dee took C001), the worker without the skill is listed
    as unable with the skill in words; one click on the best assigns it and the board says
    so. On a phone nothing overflows sideways."""
    base, visits = candidates_server
    page.set_viewport_size({"width": size[0], "height": size[1]})
    path = f"/board/visits/{visits[reference]}"
    page.goto(f"{base}/sign-in?next={path}")
    page.get_by_label("Username").fill(COORDINATOR)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url.endswith(path)
    names = page.locator(".app-candidate h3").all_inner_texts()
    assert sorted(names) == ["Dan Later", "Dee Nurse"]
    if reference == "C001":
        assert names == ["Dee Nurse", "Dan Later"]
    assert "Hal Hybrid: lacks falls assessment" in page.locator(".app-refused").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    screenshot(page, f"board-candidates-{'phone' if size[0] < 500 else 'desktop'}")
    button = page.locator(".app-candidate").first.get_by_role("button")
    assert button.inner_text().startswith(f"Assign to {names[0]} at ")
    with page.expect_navigation():
        button.click()
    assert "/board" in page.url
    flash = page.locator(".app-flash").inner_text()
    assert f"Visit {reference} assigned to {names[0]}" in flash
    assert all("127.0.0.1" not in u for u in blocked.urls)
