"""Times to offer a caller who asks for a later start (issue 15 item 5).

The referral's open visit is tried in each window from its current earliest start (or now)
to the end of the horizon, against the network's plan as it stands
(:func:`routing.slots.recommend_slots`): the cheapest windows the plan can keep come back
first, each with who would come and when. Nobody's booked visit moves earlier than booked
(as for the candidates, :func:`dispatch.planning.jeopardy.insertions`); the visit's own
current place is ignored (where else could it go).

A window may end after the visit's deadline: booking one is still a booking outside the
timeframe, with the warning, reason and (6 hours or less) the clinician's approval of
:mod:`dispatch.services.bookings`; ``after_deadline`` says so (hazard H-140).

Nothing is booked. :func:`offer_slots` audits the read and holds each offered window for
the caller for a few minutes (:mod:`dispatch.services.slot_holds`, hazard H-140-C2): other
visits' offers are worked out round the held windows. :func:`slots_for_referral` and
:func:`slots_for_visit` audit and hold nothing (they do respect other visits' holds).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.models import Staff, Visit
from dispatch.planning.problem import build_problem, current_plan, seconds_between
from dispatch.services import audit, bookings, referrals, slot_holds
from routing.slots import recommend_slots
from routing.travel import TravelTimeProvider

DEFAULT_COUNT = 3
#: How far ahead slots are looked for (the planning horizon's length).
DEFAULT_AHEAD = timedelta(hours=24)
DEFAULT_STEP = timedelta(minutes=30)


@dataclass(frozen=True)
class OfferedSlot:
    """A window to offer: the visit would start between ``start`` and ``end``; the plan as
    it stands has ``staff_name`` there at ``planned_start``; ``cost`` is what it adds to the
    plan (seconds of travel and waiting, as the planner weighs them)."""

    start: datetime
    end: datetime
    planned_start: datetime
    staff_id: int
    staff_name: str
    cost: int
    after_deadline: bool
    #: The worker's shift (``Shift.id``) the window was worked out on (the hold's).
    shift_id: int = 0
    #: A double-handed visit's second carer: their shift and planned start (held too).
    partner_shift_id: int | None = None
    partner_planned_start: datetime | None = None


def offer_slots(
    session: so.Session,
    referral_id: int,
    *,
    actor: Actor,
    now: datetime,
    provider: TravelTimeProvider,
    purpose: str,
    request_id: str | None = None,
    k: int = DEFAULT_COUNT,
    ahead: timedelta = DEFAULT_AHEAD,
    step: timedelta = DEFAULT_STEP,
    hold: timedelta = slot_holds.DEFAULT_HOLD,
) -> list[OfferedSlot]:
    """:func:`slots_for_referral`, the read audited (``view_referral_slots``) and the
    windows held for ``hold`` (:mod:`dispatch.services.slot_holds`); flushes.
    :raise NotFound: no such referral."""
    referral = referrals.get_referral(session, referral_id)
    found = slots_for_referral(session, referral_id, now=now, provider=provider, k=k,
                               ahead=ahead, step=step)
    visit = next((v for v in referral.visits if v.status in bookings.BOOKABLE_STATUSES), None)
    if visit is not None:
        slot_holds.hold(session, visit=visit, offered=found, held_by=actor.username, now=now,
                        minutes=hold)
    audit.record(session, actor=actor, action="view_referral_slots", now=now,
                 patient_id=referral.patient_id, entity=("referral", referral.id),
                 purpose=purpose, request_id=request_id)
    return found


def slots_for_referral(
    session: so.Session,
    referral_id: int,
    *,
    now: datetime,
    provider: TravelTimeProvider,
    k: int = DEFAULT_COUNT,
    ahead: timedelta = DEFAULT_AHEAD,
    step: timedelta = DEFAULT_STEP,
    width: timedelta = bookings.BOOKED_SLOT,
) -> list[OfferedSlot]:
    """The ``k`` best windows for the referral's open visit, cheapest first; empty when it
    has no open visit a handler may book, or nothing fits. :raise NotFound: no referral."""
    referral = referrals.get_referral(session, referral_id)
    visit = next((v for v in referral.visits if v.status in bookings.BOOKABLE_STATUSES), None)
    if visit is None:
        return []
    return slots_for_visit(session, visit, now=now, provider=provider, k=k, ahead=ahead,
                           step=step, width=width)


def slots_for_visit(
    session: so.Session,
    visit: Visit,
    *,
    now: datetime,
    provider: TravelTimeProvider,
    k: int = DEFAULT_COUNT,
    ahead: timedelta = DEFAULT_AHEAD,
    step: timedelta = DEFAULT_STEP,
    width: timedelta = bookings.BOOKED_SLOT,
) -> list[OfferedSlot]:
    """:func:`slots_for_referral` for one visit."""
    problem, index = build_problem(session, now=now, provider=provider,
                                   network_id=visit.network_id, horizon=ahead,
                                   include_visits=[visit.id])
    vid = next((key for key, row in index.visits.items() if row == visit.id), None)
    if vid is None:
        return []  # not routable (no coordinates): the deadline watch reports it
    plan = current_plan(session, problem, index)
    # Windows held for other callers are taken (H-140-C2): placed before this visit is tried.
    problem, plan = slot_holds.held_plan(
        problem, plan, index,
        slot_holds.active(session, network_id=visit.network_id, now=now, other_than=visit.id))
    booked = {st.visit_id: st.start for r in plan.routes for st in r.stops if st.visit_id != vid}
    held = tuple(
        dataclasses.replace(
            v, earliest=max(v.earliest, booked[v.id]),
            deadline=max(v.deadline, v.earliest, booked[v.id]),
            late_limit=None if v.late_limit is None else max(v.late_limit, booked[v.id]))
        if v.id in booked and v.pinned_start is None else v
        for v in problem.visits)
    problem = dataclasses.replace(problem, late_policy="serve_late", visits=held)
    target = problem.visit(vid)
    earliest = max(0, seconds_between(index.start, max(now, visit.earliest_start)))
    last = seconds_between(index.start, now + ahead)
    if earliest >= last:
        return []
    target = dataclasses.replace(target, earliest=earliest, deadline=last)
    # A start booked before the deadline keeps the deadline (bookings.check_booking): such a
    # window ends there, so the plan is asked exactly what the booking will hold.
    found = recommend_slots(problem, target, k, plan=plan, step=int(step.total_seconds()),
                            width=int(width.total_seconds()),
                            keep_deadline=seconds_between(index.start, visit.deadline))
    staff = {s.id: s for s in session.scalars(sa.select(Staff).where(
        Staff.id.in_({index.staff_of_shift[s.shift_id] for s in found})))}
    out = []
    for slot in found:
        member = staff[index.staff_of_shift[slot.shift_id]]
        start = index.at(slot.earliest)
        out.append(OfferedSlot(
            start=start, end=index.at(slot.deadline), planned_start=index.at(slot.start),
            staff_id=member.id, staff_name=member.name, cost=slot.cost,
            after_deadline=start > visit.deadline, shift_id=index.shifts[slot.shift_id],
            partner_shift_id=None if slot.partner_shift_id is None
            else index.shifts[slot.partner_shift_id],
            partner_planned_start=None if slot.partner_start is None
            else index.at(slot.partner_start)))
    return out
