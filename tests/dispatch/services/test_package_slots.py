"""The best times for a care-package line's next visit (issue 15 item 5, "the package page
offers them"): windows within the visit's own window, held for the caller; booking one
narrows the window (both halves of a double-handed visit) and needs the hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.errors import InvalidInput
from dispatch.services import package_slots, pairs
from dispatch.services import packages as svc
from routing.travel import GeodesicTravelTime
from tests.dispatch import factories as f
from tests.dispatch.services.test_package_links import COORD, _active
from tests.dispatch.services.test_packages import NOW, priced  # noqa: F401  (fixture)
from tests.dispatch.web.test_web_day import office_client


@pytest.fixture
def active(session: so.Session, priced: m.Patient) -> dict[str, Any]:  # noqa: F811
    """A week of daily home care from Wednesday, a double-handed hoist line, and a carer
    pair on shift all Wednesday."""
    base = f.base(session, network_id=priced.network_id)
    for k in range(2):
        carer = f.staff(session, code=f"hc{k}", name=f"Carer {k}", role="hybrid_worker",
                        phone=f"+4477009004{k:02d}", network_id=priced.network_id,
                        base_id=base.id, skills=["personal_care", "reablement"])
        day = datetime(2026, 12, 2, 7, tzinfo=UTC)
        session.add(m.Shift(code=f"sh-hc{k}", staff_id=carer.id, base_id=base.id,
                            starts_at=day, ends_at=day + timedelta(hours=12), breaks=[]))
    visits = _active(session, priced, svc.LineRequest("home_care_hour", 7, 1),
                     svc.LineRequest("reablement_visit", 7, 1, staff=2))
    session.commit()
    package = session.get(m.CarePackage, visits[0].package_id)
    assert package is not None
    return {"package": package, "items": sorted(package.items, key=lambda i: i.id)}


def _offer(session: so.Session, world: dict[str, Any], line: int = 0
           ) -> package_slots.LineSlots:
    return package_slots.offer_line_slots(
        session, package_id=world["package"].id, item_id=world["items"][line].id, actor=COORD,
        now=NOW, provider=GeodesicTravelTime())


@pytest.mark.safety("H-145")
def test_line_times_are_within_the_next_visits_window_and_held(
    session: so.Session, active: dict[str, Any],
) -> None:
    found = _offer(session, active)
    visit = found.visit
    assert visit is not None and found.slots
    assert visit.earliest_start == min(
        v.earliest_start for v in session.scalars(sa.select(m.Visit).where(
            m.Visit.package_id == active["package"].id)))
    for slot in found.slots:
        assert visit.earliest_start <= slot.start <= slot.end <= visit.deadline
    holds = session.scalars(sa.select(m.SlotHold)).all()
    assert {h.visit_id for h in holds} == {visit.id} and len(holds) == len(found.slots)
    assert "view_package_slots" in session.scalars(sa.select(m.AuditEvent.action)).all()


@pytest.mark.safety("H-145")
def test_booking_a_line_time_narrows_both_halves_and_needs_the_hold(
    session: so.Session, active: dict[str, Any],
) -> None:
    found = _offer(session, active, line=1)  # the double-handed line
    visit = found.visit
    assert visit is not None and found.slots
    partner = pairs.partner(session, visit)
    assert partner is not None
    late = found.slots[-1].start + timedelta(minutes=1)
    with pytest.raises(InvalidInput):  # a time never offered is not held
        package_slots.book_line_slot(session, package_id=active["package"].id,
                                     visit_id=visit.id, start=late - timedelta(days=1),
                                     actor=COORD, now=NOW)
    chosen = found.slots[0]
    package_slots.book_line_slot(session, package_id=active["package"].id, visit_id=visit.id,
                                 start=chosen.start, actor=COORD, now=NOW)
    for half in (visit, partner.visit):
        assert (half.earliest_start, half.deadline) == (chosen.start, chosen.end)
    assert session.scalars(sa.select(m.SlotHold)).all() == []


def test_a_follow_on_line_is_timed_by_the_visit_it_follows(
    session: so.Session, active: dict[str, Any],
) -> None:
    active["items"][1].follows_item_id = active["items"][0].id
    active["items"][1].follow_min_minutes, active["items"][1].follow_max_minutes = 30, 60
    found = _offer(session, active, line=1)
    assert found.visit is None and found.reason == "Timed by the visit it follows"


@pytest.mark.safety("H-145")
def test_package_page_offers_and_books_a_lines_time(
    app: Flask, session: so.Session, active: dict[str, Any],
) -> None:
    package, item = active["package"], active["items"][0]
    client, _ = office_client(app, session, "coordinator")
    page = client.get(f"/packages/{package.id}").get_data(as_text=True)
    assert f'id="find-slots-{item.id}"' in page
    offered = client.get(f"/packages/{package.id}?slots={item.id}").get_data(as_text=True)
    assert 'id="line-slot-form"' in offered
    visit_id, start = session.execute(sa.select(m.SlotHold.visit_id, m.SlotHold.window_start)
                                      .order_by(m.SlotHold.window_start)).first()  # type: ignore[misc]
    answer = client.post(f"/packages/{package.id}/slots",
                         data={"visit_id": visit_id, "slot": start.isoformat()})
    assert answer.status_code == 303
    session.expire_all()
    visit = session.get(m.Visit, visit_id)
    assert visit is not None and visit.earliest_start == start
    lapsed = client.post(f"/packages/{package.id}/slots",
                         data={"visit_id": visit_id, "slot": start.isoformat()})
    assert lapsed.status_code == 422
    assert "no longer held" in lapsed.get_data(as_text=True)


@pytest.mark.safety("H-150")
def test_a_double_handed_time_holds_both_carers(
    session: so.Session, active: dict[str, Any],
) -> None:
    """Each offered time of the double-handed line holds the second carer too: the hold
    keeps their shift and start, and the held plan has both carers' time taken."""
    from dispatch.planning.problem import build_problem, current_plan
    from dispatch.services import slot_holds

    found = _offer(session, active, line=1)
    assert found.visit is not None and found.slots
    holds = session.scalars(sa.select(m.SlotHold)).all()
    for hold, slot in zip(holds, found.slots, strict=True):
        assert hold.partner_shift_id is not None and hold.partner_shift_id != hold.shift_id
        assert hold.partner_shift_id == slot.partner_shift_id
        assert hold.partner_planned_start == slot.partner_planned_start
    problem, index = build_problem(session, now=NOW, provider=GeodesicTravelTime(),
                                   network_id=found.visit.network_id,
                                   horizon=timedelta(days=2))
    plan = current_plan(session, problem, index)
    _, held = slot_holds.held_plan(problem, plan, index, holds[:1], pin=True)
    on = {s.visit_id: index.shifts[r.shift_id] for r in held.routes for s in r.stops}
    assert on[f"hold-{holds[0].id}"] == holds[0].shift_id
    assert on[f"hold-{holds[0].id}-2"] == holds[0].partner_shift_id
