"""Holding a time offered to a caller (hazard H-140-C2, issue 15): while one caller is
offered a worker's time, another caller is not offered it; the hold lapses after the
configured minutes; booking an offered time needs its hold and ends it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.actors import Actor
from dispatch.errors import InvalidInput
from dispatch.services import bookings, slot_holds, slots
from routing.travel import GeodesicTravelTime
from tests.dispatch import factories as f
from tests.dispatch.planning.test_planning import NOW
from tests.dispatch.web.test_web_day import office_client

HANDLER = Actor(user_id=None, username="hana", role="call_handler")


@pytest.fixture
def two_callers(session: so.Session) -> dict[str, Any]:
    """One nurse free for the next 90 minutes, time for one 45-minute visit with the travel;
    two falls referrals (A and B) due within 2 hours: either caller alone is offered her
    time, and only one can have it."""
    net = f.network(session)
    base = f.base(session, network_id=net.id)
    nurse = f.staff(session, code="dn", network_id=net.id, base_id=base.id,
                    skills=["falls_assessment"])
    shift = m.Shift(code="sh-dn", staff_id=nurse.id, base_id=base.id,
                    starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(minutes=90),
                    breaks=[])
    session.add(shift)
    visits = []
    for k, nhs in enumerate(("9434765919", "9434765870")):
        patient = f.patient(session, nhs_number=nhs, family_name=f"P{k}", lat=51.512 + k / 500,
                            lon=-0.225, network_id=net.id)
        referral = f.referral(session, patient.id, network_id=net.id)
        visits.append(f.visit(session, referral.id, patient.id, reference=f"H00{k}",
                              network_id=net.id, earliest_start=NOW,
                              deadline=NOW + timedelta(hours=2)))
    session.commit()
    return {"a": visits[0], "b": visits[1], "nurse": nurse}


def _offer(session: so.Session, visit: m.Visit) -> list[slots.OfferedSlot]:
    return slots.offer_slots(session, visit.referral_id or 0, actor=HANDLER, now=NOW,
                             provider=GeodesicTravelTime(), purpose="test", k=1)


@pytest.mark.safety("H-140")
def test_a_time_offered_to_one_caller_is_not_offered_to_another(
    session: so.Session, two_callers: dict[str, Any],
) -> None:
    a, b = two_callers["a"], two_callers["b"]
    provider = GeodesicTravelTime()
    assert slots.slots_for_visit(session, b, now=NOW, provider=provider)  # B alone: offered
    [offered_a] = _offer(session, a)
    [hold] = session.scalars(sa.select(m.SlotHold)).all()
    assert (hold.visit_id, hold.expires_at) == (a.id, NOW + slot_holds.DEFAULT_HOLD)
    assert (hold.window_start, hold.shift_id) == (offered_a.start, offered_a.shift_id)

    held = slots.slots_for_visit(session, b, now=NOW, provider=provider)

    assert held == []  # the nurse's only time is held for A's caller


@pytest.mark.safety("H-140")
def test_a_hold_lapses_after_its_minutes(session: so.Session, two_callers: dict[str, Any]
                                         ) -> None:
    a, b = two_callers["a"], two_callers["b"]
    _offer(session, a)
    later = NOW + slot_holds.DEFAULT_HOLD + timedelta(seconds=1)
    again = slots.slots_for_visit(session, b, now=later, provider=GeodesicTravelTime())
    assert again  # the hold lapsed: B's caller may be offered the time
    assert slot_holds.active(session, network_id=a.network_id, now=later) == []


@pytest.mark.safety("H-140")
def test_booking_an_offered_time_needs_its_hold_and_ends_it(
    session: so.Session, two_callers: dict[str, Any],
) -> None:
    a = two_callers["a"]
    with pytest.raises(InvalidInput) as refused:
        slot_holds.require_hold(session, visit_id=a.id, start=NOW, now=NOW)
    assert "no longer held" in refused.value.errors["slot"][0]
    [offered] = _offer(session, a)
    slot_holds.require_hold(session, visit_id=a.id, start=offered.start, now=NOW)
    with pytest.raises(InvalidInput):
        slot_holds.require_hold(session, visit_id=a.id, start=offered.start,
                                now=NOW + timedelta(minutes=6))
    bookings.book_later_start(session, visit_id=a.id, start=offered.start, actor=HANDLER,
                              now=NOW)
    assert session.scalars(sa.select(m.SlotHold)).all() == []


def test_hold_minutes_come_from_the_setting() -> None:
    assert slot_holds.hold_minutes({"SLOT_HOLD_MINUTES": 2}) == timedelta(minutes=2)
    assert slot_holds.hold_minutes({}) == slot_holds.DEFAULT_HOLD


@pytest.mark.safety("H-140")
def test_handler_page_refuses_a_time_no_longer_held(
    app: Flask, session: so.Session, two_callers: dict[str, Any],
) -> None:
    """A time posted without an offer held for it (offered long ago, or never) books
    nothing: the page asks the handler to find the times again."""
    a = two_callers["a"]
    client, _ = office_client(app, session, "call_handler")
    answer = client.post(f"/referrals/{a.referral_id}/booking/slot",
                         data={"slot": (NOW + timedelta(minutes=30)).isoformat()})
    assert "no longer held for this caller" in answer.get_data(as_text=True)
    session.expire_all()
    assert session.get(m.Visit, a.id).earliest_start == NOW  # type: ignore[union-attr]


@pytest.mark.safety("H-150")
def test_the_live_planner_does_not_give_a_held_time_away(
    session: so.Session, two_callers: dict[str, Any],
) -> None:
    """While A's caller is offered the nurse's only time, the placer does not give it to B;
    once the hold has lapsed it does."""
    from dispatch.planning.pipeline import OneSession, Options, run

    a, b = two_callers["a"], two_callers["b"]
    _offer(session, a)
    session.commit()
    options = Options(method="insert", seconds=0.5)
    run(OneSession(session), now=NOW, provider=GeodesicTravelTime(), network_id=b.network_id,
        options=options, new_ids=[b.id])
    session.refresh(b)
    assert b.assigned_staff_id is None
    assert session.get(m.Visit, a.id).assigned_staff_id is None  # type: ignore[union-attr]
    # Nor does a re-optimisation (the hold's copy is pinned to the nurse's shift).
    run(OneSession(session), now=NOW, provider=GeodesicTravelTime(), network_id=b.network_id,
        options=Options(method="improve", seconds=5, solution_limit=20))
    session.refresh(b)
    assert b.assigned_staff_id is None

    later = NOW + slot_holds.DEFAULT_HOLD + timedelta(seconds=1)
    run(OneSession(session), now=later, provider=GeodesicTravelTime(),
        network_id=b.network_id, options=options, new_ids=[b.id])
    session.refresh(b)
    assert b.assigned_staff_id == two_callers["nurse"].id
