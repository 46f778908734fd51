"""The dispatch board (issue 6): jeopardy and unassigned first with causes and countdowns,
timelines and map as SVG, the JSON poll, and manual assign with warnings -> confirm, stale
versions and unassign / pin."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.services.board import load_board
from routing.providers import make_provider
from tests.dispatch.web.test_web_day import NOW, make_day, office_client


def test_board_lists_jeopardy_first_with_cause_and_countdown(
    app: Flask, session: so.Session
) -> None:
    """The overdue unassigned visit heads the list, with its cause and an overdue countdown."""
    day = make_day(session)
    client, _ = office_client(app, session, "coordinator", network_id=day.network.id)
    response = client.get("/board")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    attention = html[html.index('id="attention"'):html.index('id="map-heading"')]
    assert attention.index('data-visit="7777"') < attention.index("</tbody>")
    assert 'data-visit="4821"' not in attention  # offered just now, on time: not a problem
    assert "no worker assigned" in attention and "50 min overdue" in attention
    assert "Joe" not in html and "1 Wood Lane" not in html  # no patient identifiers


def test_board_draws_timelines_and_map_as_svg(app: Flask, session: so.Session) -> None:
    """Each shift is a timeline row with its break and visits; the map has the base and dots."""
    day = make_day(session)
    client, _ = office_client(app, session, "coordinator", network_id=day.network.id)
    html = client.get(f"/board?network={day.network.id}").get_data(as_text=True)
    assert html.count('class="app-tl-row"') == 2
    assert "Visit 4821, 10:40-11:25" in html and "Break, 13:00-13:30" in html
    assert html.count("app-map-base") >= 1 and 'data-visit="7777"' in html
    assert "style=" not in html.split("<main", 1)[1]  # the CSP forbids inline styles


def test_board_loads_poll_script_without_inline_handlers(app: Flask, session: so.Session) -> None:
    """The refresh script is an external file; the page has a no-JS Refresh link."""
    day = make_day(session)
    client, _ = office_client(app, session, "coordinator", network_id=day.network.id)
    response = client.get("/board")
    html = response.get_data(as_text=True)
    assert '<script src="/static/board.js" defer></script>' in html
    assert re.search(r"\son[a-z]+=", html) is None
    assert 'id="refresh"' in html
    assert "script-src 'self' 'nonce-" in response.headers["Content-Security-Policy"]


def test_board_data_json_has_lists_and_parts(app: Flask, session: so.Session) -> None:
    """The poll endpoint returns the lists as data and each board part as HTML."""
    day = make_day(session)
    client, _ = office_client(app, session, "coordinator")
    data = client.get(f"/board/data?network={day.network.id}").get_json()
    assert data["attention"][0]["reference"] == "7777"
    assert data["attention"][0]["cause"] == "unassigned"
    assert data["counts"]["jeopardy"] == 1 and data["counts"]["staff_on_shift"] == 2
    assert set(data["html"]) == {"counts", "attention", "planned", "closed", "timelines", "map",
                                 "handovers"}


def test_board_read_model_travel_before_visit(session: so.Session) -> None:
    """A planned visit gets a travel bar from the base ending where the visit starts."""
    day = make_day(session)
    board = load_board(session, network_id=day.network.id, now=NOW, provider=make_provider())
    nurse = next(t for t in board.timelines if t.staff_id == day.nurse.id)
    kinds = [s.kind for s in nurse.segments]
    assert kinds == ["travel", "visit", "break"]
    assert nurse.segments[0].end == nurse.segments[1].start


def test_board_timeline_shows_each_workers_travel_by_their_mode(
    app: Flask, session: so.Session
) -> None:
    """Issue 15: a walking nurse's row says so, and her travel bar is a walk timed at walking
    pace (longer than the drive the same leg would be)."""
    day = make_day(session)
    day.nurse.travel_mode = "walk"
    session.commit()
    provider = make_provider()
    board = load_board(session, network_id=day.network.id, now=NOW, provider=provider)
    nurse = next(t for t in board.timelines if t.staff_id == day.nurse.id)
    walk = nurse.segments[0]
    assert nurse.mode == "walk" and walk.label.startswith("Walk ")
    client, _ = office_client(app, session, "coordinator", network_id=day.network.id)
    html = client.get(f"/board?network={day.network.id}").get_data(as_text=True)
    assert f"{day.nurse.name} (walk)" in html and "walks), shift" in html
    day.nurse.travel_mode = "car"
    session.commit()
    drive = next(t for t in load_board(session, network_id=day.network.id, now=NOW,
                                       provider=provider).timelines
                 if t.staff_id == day.nurse.id).segments[0]
    assert drive.label.startswith("Drive ")
    assert (walk.end - walk.start) != (drive.end - drive.start)


def test_board_assign_with_warning_asks_confirm_then_saves(
    app: Flask, session: so.Session
) -> None:
    """A worker without the skill gets a warning and nothing saved; confirming saves it."""
    day = make_day(session)
    day.late.skills = ["catheter_care"]
    session.commit()
    client, _ = office_client(app, session, "coordinator", network_id=day.network.id)
    form = {"staff_id": str(day.other.id), "start_time": "11:30",
            "version": str(day.late.version)}
    first = client.post(f"/board/visits/{day.late.id}/assign", data=form)
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and "Check before you assign" in html
    assert "lacks catheter care" in html and 'id="confirm-assign"' in html
    session.expire_all()
    assert session.get(m.Visit, day.late.id).status == "unassigned"  # type: ignore[union-attr]
    second = client.post(f"/board/visits/{day.late.id}/assign", data={**form, "confirm": "yes"})
    assert second.status_code == 303
    session.expire_all()
    visit = session.get(m.Visit, day.late.id)
    assert visit is not None and visit.status == "offered"
    assert visit.assigned_staff_id == day.other.id


def test_board_assign_clean_saves_at_once(app: Flask, session: so.Session) -> None:
    """No warnings: the first post saves and returns to the board with a message."""
    day = make_day(session)
    day.late.deadline = NOW + timedelta(hours=3)
    session.commit()
    client, _ = office_client(app, session, "coordinator", network_id=day.network.id)
    response = client.post(f"/board/visits/{day.late.id}/assign", data={
        "staff_id": str(day.other.id), "start_time": "12:30", "version": str(day.late.version)})
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    assert "assigned to Nurse Two at 12:30" in client.get("/board").get_data(as_text=True)


def test_board_assign_stale_version_shows_409_message(app: Flask, session: so.Session) -> None:
    """A version someone else has moved on shows the Conflict message and saves nothing."""
    day = make_day(session)
    client, _ = office_client(app, session, "coordinator", network_id=day.network.id)
    response = client.post(f"/board/visits/{day.late.id}/assign", data={
        "staff_id": str(day.other.id), "start_time": "11:00", "version": "99", "confirm": "yes"})
    assert response.status_code == 409
    assert "was changed by someone else" in response.get_data(as_text=True)


def test_board_assign_double_booking_never_saved(app: Flask, session: so.Session) -> None:
    """Even confirmed, a worker cannot be booked for two visits at once."""
    day = make_day(session)
    client, _ = office_client(app, session, "coordinator", network_id=day.network.id)
    response = client.post(f"/board/visits/{day.late.id}/assign", data={
        "staff_id": str(day.nurse.id), "start_time": "10:45", "version": str(day.late.version),
        "confirm": "yes"})
    assert response.status_code == 409
    assert "already has visit 4821 from" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(m.Visit, day.late.id).status == "unassigned"  # type: ignore[union-attr]


def test_board_unassign_and_pin(app: Flask, session: so.Session) -> None:
    """Pin keeps a visit with its worker; unassign needs a reason and returns it to the pool."""
    day = make_day(session)
    client, _ = office_client(app, session, "coordinator", network_id=day.network.id)
    url = f"/board/visits/{day.theirs.id}"
    assert client.post(f"{url}/pin", data={"pinned": "1", "version": "1"}).status_code == 303
    session.expire_all()
    visit = session.get(m.Visit, day.theirs.id)
    assert visit is not None and visit.pinned
    blank = client.post(f"{url}/unassign", data={"reason": "", "version": visit.version})
    assert blank.status_code == 422
    done = client.post(f"{url}/unassign", data={"reason": "worker sick", "version": visit.version})
    assert done.status_code == 303
    session.expire_all()
    assert session.get(m.Visit, day.theirs.id).status == "unassigned"  # type: ignore[union-attr]
    actions = set(session.scalars(sa.select(m.AuditEvent.action)))
    assert {"pin_visit", "unassign_visit", "view_visit_dispatch"} <= actions


def test_coordinator_home_is_the_board(app: Flask, session: so.Session) -> None:
    """Coordinators land on the board after signing in."""
    client, _ = office_client(app, session, "coordinator")
    assert client.get("/").headers["Location"] == "/board"


def test_board_visit_page_lists_candidates_and_one_post_assigns_pinned(
    app: Flask, session: so.Session
) -> None:
    """The visit page lists who could take it with a button posting the candidate's exact
    start, shows the planner's note, and that one post assigns and pins (issue 14)."""
    day = make_day(session)
    day.late.deadline = NOW + timedelta(hours=3)
    day.late.unassigned_reason = "no worker with the skills is free before the deadline"
    for visit in (day.mine, day.theirs):  # booked on their shifts, as the planner books
        visit.shift_id = session.scalar(sa.select(m.Shift.id).where(
            m.Shift.staff_id == visit.assigned_staff_id))
    session.commit()
    client, _ = office_client(app, session, "coordinator", network_id=day.network.id)
    html = client.get(f"/board/visits/{day.late.id}").get_data(as_text=True)
    assert 'id="candidates"' in html and "Who could take it, best first" in html
    assert "no worker with the skills is free before the deadline" in html
    start = re.search(r'name="start" value="([^"]+)"', html)
    staff = re.search(r'class="app-candidate" data-staff-id="(\d+)"', html)
    assert start is not None and staff is not None
    response = client.post(f"/board/visits/{day.late.id}/assign", data={
        "staff_id": staff.group(1), "start": start.group(1), "start_time": "00:00",
        "pin": "y", "version": str(day.late.version)})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    session.expire_all()
    visit = session.get(m.Visit, day.late.id)
    assert visit is not None and visit.pinned and visit.assigned_staff_id == int(staff.group(1))
    assert visit.planned_start is not None
    assert visit.planned_start.isoformat() == start.group(1)


def test_board_closed_today_counts_by_london_day_of_closing(
    app: Flask, session: so.Session
) -> None:
    """"Closed today" counts visits completed on this London day, whatever their deadline:
    a 24-hour visit due tomorrow but done this morning counts; one due today but done before
    midnight (yesterday) does not. Closed visits stay listed on the board page."""
    from tests.dispatch import factories as f

    day = make_day(session)
    done_today = day.theirs
    done_today.status, done_today.outcome = "completed", "visit_completed"
    done_today.deadline = NOW + timedelta(hours=20)  # a 24-hour visit, due tomorrow
    done_today.arrived_at = done_today.completed_at = NOW - timedelta(minutes=30)
    done_today.pinned = True
    yesterday = f.visit(session, day.mine.referral_id, day.patient.id, reference="6666",
                        network_id=day.network.id, status="completed", pinned=True,
                        assigned_staff_id=day.nurse.id, outcome="visit_completed",
                        earliest_start=NOW - timedelta(hours=14),
                        deadline=NOW + timedelta(hours=2), arrived_at=NOW - timedelta(hours=12),
                        completed_at=NOW - timedelta(hours=11))
    session.commit()
    board = load_board(session, network_id=day.network.id, now=NOW, provider=make_provider())
    assert [v.reference for v in board.closed] == [done_today.reference]
    assert board.counts()["closed"] == 1
    assert yesterday.reference not in {v.reference for v in board.visits}
    client, _ = office_client(app, session, "coordinator")
    html = client.get(f"/board?network={day.network.id}").get_data(as_text=True)
    closed = html[html.index('id="closed-visits"'):]
    assert f"<strong>{done_today.reference}</strong>" in closed and "visit completed" in closed


def test_all_networks_board_groups_timelines_by_network(
    app: Flask, session: so.Session
) -> None:
    """For all networks the timelines are one folded drawing per network (details/summary),
    named with its shift count; one network keeps a single drawing."""
    day = make_day(session)
    client, _ = office_client(app, session, "coordinator")
    every = client.get("/board?network=0").get_data(as_text=True)
    assert '<details class="nhsuk-details app-timeline-group" id="timelines-1" open>' in every
    assert f"{day.network.name} (".replace("&", "&amp;") in every and " shifts)</span>" in every
    one = client.get(f"/board?network={day.network.id}").get_data(as_text=True)
    assert "app-timeline-group" not in one and '<svg id="timelines"' in one


@pytest.mark.safety("H-113")
def test_board_warns_when_a_pinned_decision_costs_a_deadline(
    app: Flask, session: so.Session,
) -> None:
    """A visit pinned by hand for after its deadline, and the next visit of the same worker
    late behind it: the board says so in words, naming both, with times (issue 14)."""

    day = make_day(session)
    day.mine.pinned, day.mine.status = True, "offered"
    day.mine.planned_start = day.mine.deadline + timedelta(minutes=15)
    day.theirs.assigned_staff_id, day.theirs.shift_id = day.mine.assigned_staff_id, \
        day.mine.shift_id
    day.theirs.planned_start = day.mine.planned_start + timedelta(minutes=60)
    day.theirs.deadline = day.theirs.planned_start - timedelta(minutes=5)
    session.commit()
    client, _ = office_client(app, session, "coordinator")

    page = client.get("/board").get_data(as_text=True)

    assert "A pinned decision now costs a deadline" in page
    assert f"Visit {day.mine.reference} is pinned to" in page and "after its deadline" in page
    assert f"Visit {day.theirs.reference} with" in page
    assert f"behind visit {day.mine.reference} pinned" in page
