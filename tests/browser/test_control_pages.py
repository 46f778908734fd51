"""A coordinator in control (issue 14), in a real browser, desktop and a 390 px phone:

- a coordinator of one network sees only it (no "All networks"; another network is refused
  with the reason) and an administrator changes their networks on the users' page;
- a manual decision (a candidate chosen by hand, pinned) survives "Re-plan now";
- a worker marked off sick from the board: their visits are re-planned to someone else, the
  board lists the absence, and Cancel removes it.

A server of its own (module scope) whose re-plans run the plan job at once: networks H&F North
(two nurses, visits C001-C004) and Kensington South (visit K001).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import Blocked
from tests.browser.support import FIXED_NOW, screenshot

PASSWORD = "browser test password"
SIZES = [pytest.param((1280, 900), id="desktop"), pytest.param((390, 844), id="phone")]


@pytest.fixture(scope="module")
def control_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, dict[str, int]]]:
    """The app on a free port and the seeded day; a page's re-plan runs the plan job."""
    from werkzeug.serving import make_server

    from dispatch import create_app
    from dispatch.db import get_database
    from dispatch.jobs.runner import run_plans
    from dispatch.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('control-db') / 'dispatch.sqlite3'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "browser-tests", "FIXED_NOW": FIXED_NOW,
                      "REPLAN_WAIT_SECONDS": 30, "REOPTIMISE_SECONDS": 1})
    with get_database(app).session_scope() as session:
        ids = _seed(session)
    # The jobs process is stood in for by running the plan job when a page wakes it (the web
    # request waits for the re-plan; SQLite would not let a second process commit meanwhile).
    patcher = pytest.MonkeyPatch()
    from dispatch.jobs import replan_request
    from dispatch.web import board

    for module in (replan_request, board):
        patcher.setattr(module, "wake", lambda job: run_plans(app))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="control-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", ids
    finally:
        patcher.undo()
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        get_database(app).dispose()


def _seed(session: Any) -> dict[str, int]:
    import sqlalchemy as sa

    from dispatch import models as m
    from dispatch.services.network_scope import set_networks
    from dispatch.services.users import add_user
    from tests.dispatch import factories as f

    now = datetime.fromisoformat(FIXED_NOW)
    north = f.network(session)
    south = f.network(session, code="KC-S", name="Kensington South",
                      borough="Kensington & Chelsea")
    base = f.base(session, network_id=north.id)
    ids: dict[str, int] = {"north": north.id, "south": south.id}
    for k, (code, name) in enumerate((("dn1", "Dee Nurse"), ("dn2", "Dan Later"))):
        member = f.staff(session, code=code, name=name, skills=["falls_assessment"],
                         phone=f"+4477009001{k:02d}", network_id=north.id, base_id=base.id)
        session.add(m.Shift(code=f"sh-{code}", staff_id=member.id, base_id=base.id,
                            starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=7),
                            breaks=[]))
        ids[code] = member.id
    numbers = ("9434765919", "9434765870", "9434765862", "9434765854", "9434765846")
    for k, (reference, network) in enumerate((("C001", north), ("C002", north),
                                              ("C003", north), ("C004", north),
                                              ("K001", south))):
        patient = f.patient(session, nhs_number=numbers[k], family_name=f"P{k}",
                            lat=51.510 + 0.002 * k, lon=-0.225, network_id=network.id)
        referral = f.referral(session, patient.id, network_id=network.id)
        visit = f.visit(session, referral.id, patient.id, reference=reference,
                        network_id=network.id, earliest_start=now,
                        deadline=now + timedelta(hours=6), category="response_24h",
                        priority=3)
        ids[reference] = visit.id
    # P001: pinned by hand to Dee Nurse for 11:50, after its 11:20 deadline (the board warns).
    dee_shift = session.scalar(sa.select(m.Shift.id).where(m.Shift.code == "sh-dn1"))
    patient = f.patient(session, nhs_number="9434765838", family_name="P9", lat=51.52,
                        lon=-0.225, network_id=north.id)
    referral = f.referral(session, patient.id, network_id=north.id)
    f.visit(session, referral.id, patient.id, reference="P001", network_id=north.id,
            earliest_start=now, deadline=now + timedelta(hours=1), status="offered",
            assigned_staff_id=ids["dn1"], shift_id=dee_shift, pinned=True,
            planned_start=now + timedelta(minutes=90), category="response_24h", priority=3)
    cara = add_user(session, username="cara", role="coordinator", password=PASSWORD, now=now,
                    display_name="Cara Coordinator", network_ids=[north.id],
                    all_networks=False).user
    ids["cara"] = cara.id
    add_user(session, username="ada", role="admin", password=PASSWORD, now=now,
             display_name="Ada Admin")
    set_networks(session, user=cara, network_ids=[north.id], all_networks=False)
    return ids


def _sign_in(page: Any, base: str, username: str, path: str) -> None:
    page.set_default_timeout(60_000)  # a re-plan answers once the job has applied it
    page.goto(f"{base}/sign-in?next={path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def _fits(page: Any, width: int) -> None:
    """Nothing sticks out sideways (what does, outside the parts that scroll, is named)."""
    wide = page.evaluate("""w => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > w
                && !e.closest('.app-timelines, [data-board-part=planned]'))
        .map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 8)""", width)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, wide


def _kind(size: tuple[int, int]) -> str:
    return "phone" if size[0] < 500 else "desktop"


@pytest.mark.parametrize("size", SIZES)
def test_coordinator_sees_only_their_network(
    page: Any, blocked: Blocked, control_server: tuple[str, dict[str, int]],
    size: tuple[int, int],
) -> None:
    """Cara runs H&F North: her board has no "All networks" and no Kensington South, and warns
    that her pinned P001 now misses its deadline; asking for Kensington South's visit shows
    the refusal naming both networks."""
    base, ids = control_server
    page.set_viewport_size({"width": size[0], "height": size[1]})
    _sign_in(page, base, "cara", "/board?network=all")

    assert page.locator("h1").inner_text() == "H&F North"
    warning = page.locator("#pin-warnings").inner_text()
    assert "Visit P001 is pinned to Dee Nurse at 11:50, after its deadline 11:20" in warning
    options = page.locator("#network option").all_inner_texts()
    assert options == ["H&F North"]
    _fits(page, size[0])
    answer = page.goto(f"{base}/board/visits/{ids['K001']}")
    assert answer is not None and answer.status == 403
    assert "Visit K001 belongs to Kensington South; you coordinate H&F North only" in \
        page.locator("main").inner_text()
    _fits(page, size[0])
    screenshot(page, f"control-refused-{_kind(size)}")
    assert all("127.0.0.1" not in u for u in blocked.urls)


@pytest.mark.parametrize("size", SIZES)
def test_admin_changes_a_coordinators_networks(
    page: Any, control_server: tuple[str, dict[str, int]], size: tuple[int, int],
) -> None:
    """Ada ticks Kensington South as well for Cara on the users' page; the list then shows
    both (the phone run finds both ticked and saves them again)."""
    base, ids = control_server
    page.set_viewport_size({"width": size[0], "height": size[1]})
    _sign_in(page, base, "ada", "/admin/users")
    _fits(page, size[0])
    with page.expect_navigation():
        page.get_by_role("link", name="Change the networks of cara").click()
    page.get_by_label("Kensington South").check()
    _fits(page, size[0])
    with page.expect_navigation():
        page.get_by_role("button", name="Save networks").click()

    assert "Saved the networks of Cara Coordinator" in page.locator(".app-flash").inner_text()
    assert "H&F North, Kensington South" in page.locator("#user-cara").inner_text()
    _fits(page, size[0])
    screenshot(page, f"control-users-{_kind(size)}")


@pytest.mark.parametrize(("size", "reference"), [
    pytest.param((1280, 900), "C001", id="desktop"), pytest.param((390, 844), "C002", id="phone")])
def test_manual_decision_survives_replan_now(
    page: Any, control_server: tuple[str, dict[str, int]], size: tuple[int, int],
    reference: str,
) -> None:
    """Cara gives the visit by hand to the last-ranked candidate (pinned: on the desktop Dan
    Later, the phone runs after a re-plan placed C002); "Re-plan now" re-optimises the network
    and the visit is still that worker's, pinned."""
    base, ids = control_server
    page.set_viewport_size({"width": size[0], "height": size[1]})
    path = f"/board/visits/{ids[reference]}"
    _sign_in(page, base, "cara", path)
    chosen = page.locator(".app-candidate").last
    name = chosen.locator("h3").inner_text()
    if reference == "C001":
        assert name == "Dan Later"
    with page.expect_navigation():
        chosen.get_by_role("button").click()
    assert f"Visit {reference} assigned to {name}" in page.locator(".app-flash").inner_text()

    page.goto(f"{base}/board?network={ids['north']}")
    with page.expect_navigation(timeout=60_000):
        page.locator("#replan-now").click()

    assert "Re-planned" in page.locator(".app-flash").inner_text()
    page.goto(f"{base}{path}")
    main = page.locator("main").inner_text()
    assert "(pinned)" in main and f"{name}, planned" in main
    _fits(page, size[0])
    screenshot(page, f"control-pinned-after-replan-{_kind(size)}")


@pytest.mark.parametrize("size", SIZES)
def test_absence_replans_the_workers_visits(
    page: Any, control_server: tuple[str, dict[str, int]], size: tuple[int, int],
) -> None:
    """Dan Later goes home sick: marked off from the board, his visits go to Dee Nurse by the
    re-plan, the board lists his absence; Cancel takes it off the board."""
    base, ids = control_server
    page.set_viewport_size({"width": size[0], "height": size[1]})
    _sign_in(page, base, "cara", f"/board?network={ids['north']}")
    with page.expect_navigation():
        page.locator("#mark-absence").click()
    page.get_by_label("Worker").select_option(label="Dan Later")
    page.get_by_label("Off sick").check()
    page.get_by_label("From (UK time)").fill("10:20")
    page.get_by_label("Back at (UK time)").fill("18:00")
    _fits(page, size[0])
    screenshot(page, f"control-absence-form-{_kind(size)}")
    with page.expect_navigation(timeout=60_000):
        page.get_by_role("button", name="Mark off and re-plan").click()

    flash = page.locator(".app-flash").first.inner_text()
    assert "Dan Later off sick from 10:20 until 18:00" in flash and "re-planned" in flash
    row = page.locator("#absences tr", has_text="Dan Later")
    assert "Off sick" in row.inner_text() or "off sick" in row.inner_text()
    _fits(page, size[0])
    screenshot(page, f"control-absence-board-{_kind(size)}")
    for reference in ("C001", "C002"):
        page.goto(f"{base}/board/visits/{ids[reference]}")
        assert "Dan Later, planned" not in page.locator("main").inner_text()
    page.goto(f"{base}/board?network={ids['north']}")
    with page.expect_navigation(timeout=60_000):
        page.locator("#absences tr", has_text="Dan Later").get_by_role("button").click()
    assert "Cancelled the absence of Dan Later" in page.locator(".app-flash").inner_text()
    assert page.locator("#absences tr", has_text="Dan Later").count() == 0


def _axe(page: Any, label: str) -> list[str]:
    from tests.browser.axe import violations

    return [str(v) for v in violations(page, label)]


@pytest.mark.parametrize("size", SIZES)
def test_admin_adds_a_hub_coordinator(
    page: Any, blocked: Blocked, control_server: tuple[str, dict[str, int]],
    size: tuple[int, int],
) -> None:
    """Ada adds a coordinator on the users' page: sent without networks it is refused with
    the reason (focus goes to the summary); with "Every network" ticked it is made and listed
    as a hub; both pages pass axe (0 moderate or worse) and fit the width."""
    from tests.browser.axe import serve_axe

    base, _ = control_server
    kind = _kind(size)
    page.set_viewport_size({"width": size[0], "height": size[1]})
    serve_axe(page)
    _sign_in(page, base, "ada", "/admin/users")
    with page.expect_navigation():
        page.locator("#add-user").click()
    problems = _axe(page, f"/admin/users/new {kind}")
    page.get_by_label("Username").fill(f"kim.{kind}")
    page.get_by_label("Their name").fill(f"Kim Hub {kind}")
    page.get_by_label("Care coordinator").check()
    page.get_by_label("First password").fill("correct horse battery")
    with page.expect_navigation():
        page.get_by_role("button", name="Add user").click()
    assert "Choose the networks they coordinate, or every network" in page.locator(
        ".nhsuk-error-summary").inner_text()
    problems += _axe(page, f"/admin/users/new with errors {kind}")
    _fits(page, size[0])
    page.get_by_label("Every network (a hub coordinator)").check()
    page.get_by_label("First password").fill("correct horse battery")
    with page.expect_navigation():
        page.get_by_role("button", name="Add user").click()

    assert f"Added Kim Hub {kind} (kim.{kind}, care coordinator)" in page.locator(
        ".app-flash").inner_text()
    assert "Every network (hub)" in page.locator(f"#user-kim\\.{kind}").inner_text()
    problems += _axe(page, f"/admin/users {kind}")
    _fits(page, size[0])
    screenshot(page, f"control-user-added-{kind}")
    assert problems == [], "\n".join(problems)
    assert blocked.urls == []


@pytest.mark.parametrize("size", SIZES)
def test_absence_from_another_day_is_listed_and_cancelled(
    page: Any, blocked: Blocked, control_server: tuple[str, dict[str, int]],
    size: tuple[int, int],
) -> None:
    """Cara marks Dee Nurse on leave from 9:00 tomorrow (a UK date) to the day after: it is
    listed under "Now and coming up"; cancelled there, it moves to "Past and cancelled". The
    page passes axe at each step and fits the width."""
    from tests.browser.axe import serve_axe

    base, ids = control_server
    kind = _kind(size)
    page.set_viewport_size({"width": size[0], "height": size[1]})
    serve_axe(page)
    _sign_in(page, base, "cara", f"/board/absence?network={ids['north']}")
    problems = _axe(page, f"/board/absence {kind}")
    page.get_by_label("Worker").select_option(label="Dee Nurse")
    page.get_by_label("Absent (another reason)").check()
    page.get_by_label("Starting on (date, if not today)").fill("2/12/2026")
    page.get_by_label("From (UK time)").fill("09:00")
    page.get_by_label("Back on (date, if not the day it starts)").fill("3/12/2026")
    page.get_by_label("Back at (UK time)").fill("17:00")
    page.get_by_label("Note (optional)").fill(f"annual leave {kind}")
    with page.expect_navigation(timeout=60_000):
        page.get_by_role("button", name="Mark off and re-plan").click()
    assert "Dee Nurse absent from Wed 02 Dec 09:00 until Thu 03 Dec 17:00" in page.locator(
        ".app-flash").first.inner_text()

    page.goto(f"{base}/board/absence?network={ids['north']}")
    row = page.locator("#absences-upcoming tr", has_text=f"annual leave {kind}")
    assert "Wed 02 Dec 09:00" in row.inner_text()
    problems += _axe(page, f"/board/absence listed {kind}")
    _fits(page, size[0])
    screenshot(page, f"control-absence-list-{kind}")
    with page.expect_navigation(timeout=60_000):
        row.get_by_role("button").click()
    assert "Cancelled the absence of Dee Nurse" in page.locator(".app-flash").inner_text()
    past = page.locator("#absences-past tr", has_text=f"annual leave {kind}")
    assert "by cara" in past.inner_text()
    problems += _axe(page, f"/board/absence cancelled {kind}")
    _fits(page, size[0])
    assert problems == [], "\n".join(problems)
    assert blocked.urls == []
