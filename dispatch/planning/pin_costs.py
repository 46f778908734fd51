"""What a coordinator's pin costs a 2-hour visit (issue 14: the coordinator decides, warned).

A pin is a coordinator's manual assignment that the planner never undoes. When the planner
then cannot place a 2-hour visit in time, the pin may be why: its worker was the one who could
have reached that visit before its deadline. Nothing here moves a pin; it only says so, twice:

- after a planning run (:func:`blocking_pin`, called by :func:`jeopardy.after_plan` for each
  2-hour visit the plan left unplaced and no other network could cover): the pinned visit
  whose worker could start the 2-hour visit by its deadline if that pin were not in their day
  is stored on the 2-hour visit (``blocked_by_pin_id``) and the board names it, with the cost
  ("leaves visit 4821 (2-hour, due 14:30) unassigned");
- at the moment of pinning (:func:`reachers` before, :func:`lost` after, in
  :func:`dispatch.services.manual.assign_manually`): a 2-hour visit still unassigned that only
  this worker could reach in time, and that they no longer can with the new pin, is a warning
  the coordinator must confirm ("Assign anyway"); the candidates list warns the same from
  :func:`reachers` alone (an estimate: "may leave").

Only coordinators' pins not yet accepted (``assigned`` or ``offered`` and pinned) are named:
an accepted visit is the worker's commitment, and the planner keeps it whatever the pin says.
Estimates use the same insertion as the candidates list (:func:`jeopardy.insertions`: the
visit put into a worker's day as it stands, nothing else moves), so they can be wrong where a
full re-plan would reshuffle the others; the warning says "could", never "will".
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import states
from dispatch.config import LONDON
from dispatch.models import Staff, Visit
from dispatch.planning.jeopardy import insertions
from dispatch.planning.problem import ProblemIndex
from routing.travel import TravelTimeProvider
from routing.types import PRIORITY_URGENT_2H, RoutingPlan

#: Pins still the coordinator's decision (the worker has not accepted yet).
COORDINATOR_PINS = ("assigned", "offered")
#: At most this many open 2-hour visits are checked at the moment of pinning (most urgent
#: first): each costs one insertion per worker.
MAX_CHECKED = 5
#: A pin this long after a 2-hour visit's deadline cannot be what keeps its worker from it.
PIN_REACH = timedelta(hours=3)


def _hm(moment: datetime) -> str:
    return f"{moment.astimezone(LONDON):%H:%M}"


def open_urgent(
    session: so.Session, network_ids: Iterable[int | None], *, now: datetime,
    excluding: Collection[int] = (),
) -> list[Visit]:
    """The networks' 2-hour visits still unassigned and not yet past their deadline, most
    urgent first (at most :data:`MAX_CHECKED`)."""
    ids = sorted({n for n in network_ids if n is not None})
    if not ids:
        return []
    return list(session.scalars(
        sa.select(Visit).where(
            Visit.network_id.in_(ids), Visit.priority <= PRIORITY_URGENT_2H,
            Visit.status == "unassigned", Visit.deadline > now,
            Visit.id.not_in(sorted(excluding) or [0]))
        .order_by(Visit.deadline, Visit.id).limit(MAX_CHECKED)))


def in_time(session: so.Session, visit: Visit, *, now: datetime,
            provider: TravelTimeProvider, staff_id: int | None = None,
            without: Collection[int] = ()) -> dict[int, datetime]:
    """The workers (by id) who could start ``visit`` by its deadline in their day as it
    stands (``without`` those visits), with that start."""
    found: dict[int, datetime] = {}
    for placed in insertions(session, visit, visit.network_id, now=now, provider=provider,
                             staff_id=staff_id, without=without):
        if placed.start <= visit.deadline:
            known = found.get(placed.staff.id)
            found[placed.staff.id] = placed.start if known is None else min(known, placed.start)
    return found


def reachers(
    session: so.Session, network_ids: Iterable[int | None], *, now: datetime,
    provider: TravelTimeProvider, excluding: Collection[int] = (),
) -> dict[int, set[int]]:
    """For each open 2-hour visit still unassigned (:func:`open_urgent`), the workers who
    could reach it in time now, by visit id."""
    return {v.id: set(in_time(session, v, now=now, provider=provider))
            for v in open_urgent(session, network_ids, now=now, excluding=excluding)}


def sole_reacher_of(before: Mapping[int, set[int]], staff_id: int) -> list[int]:
    """The visits ``staff_id`` alone could reach in time (ids, as ``before`` lists them)."""
    return [vid for vid, who in before.items() if who == {staff_id}]


def cost_text(visit: Visit, staff_name: str, *, estimate: bool) -> str:
    """"leaves visit 4821 (2-hour, due 14:30) unassigned: ..." in words."""
    verb = "may leave" if estimate else "leaves"
    return (f"{verb} visit {visit.reference} (2-hour, due {_hm(visit.deadline)}) unassigned: "
            f"{staff_name} is the only worker who could reach it in time")


def lost(
    session: so.Session, before: Mapping[int, set[int]], staff: Staff, *, now: datetime,
    provider: TravelTimeProvider,
) -> list[Visit]:
    """With the new pin in ``staff``'s day (flushed), the 2-hour visits only they could reach
    in time before (``before`` from :func:`reachers`) that they now cannot."""
    out = []
    for vid in sole_reacher_of(before, staff.id):
        visit = session.get(Visit, vid)
        if visit is None or visit.status != "unassigned":
            continue
        if not in_time(session, visit, now=now, provider=provider, staff_id=staff.id):
            out.append(visit)
    return out


def blocking_pin(
    session: so.Session, visit: Visit, *, now: datetime, provider: TravelTimeProvider,
) -> int | None:
    """The coordinator's pin (a visit id) whose worker could start ``visit`` (a 2-hour visit
    the planner could not place) by its deadline if that pinned visit were not in their
    day; the one that frees the earliest start when several would. None when no pin is in
    the way (nobody with the skills, or they are busy with what the planner may move)."""
    if visit.status not in states.VISIT_OPEN_STATUSES or visit.network_id is None:
        return None
    skills = set(visit.skills or ())
    excluded = set(visit.excluded_staff_ids or ())
    pins = session.execute(
        sa.select(Visit.id, Visit.assigned_staff_id, Staff.skills)
        .join(Staff, Staff.id == Visit.assigned_staff_id)
        .where(Visit.network_id == visit.network_id, Visit.pinned.is_(True),
               Visit.status.in_(COORDINATOR_PINS), Visit.id != visit.id,
               Visit.planned_start.is_not(None),
               Visit.planned_start < visit.deadline + PIN_REACH)
        .order_by(Visit.planned_start, Visit.id)).all()
    best: tuple[datetime, int] | None = None
    for pin_id, staff_id, staff_skills in pins:
        if staff_id is None or staff_id in excluded or not skills <= set(staff_skills or ()):
            continue
        freed = in_time(session, visit, now=now, provider=provider, staff_id=staff_id,
                        without=[pin_id])
        start = freed.get(staff_id)
        if start is not None and (best is None or (start, pin_id) < best):
            best = (start, pin_id)
    return None if best is None else best[1]


def note_blocker(visit: Visit, pin_id: int | None) -> None:
    """Store the blocking pin on the 2-hour visit only when it changed (a write bumps the
    visit's version, and a coordinator holding the page would get a needless 409)."""
    if visit.blocked_by_pin_id != pin_id:
        visit.blocked_by_pin_id = pin_id


def after_plan(
    session: so.Session, *, plan: RoutingPlan, index: ProblemIndex, now: datetime,
    provider: TravelTimeProvider,
) -> None:
    """After a plan is applied (and cover tried): name the blocking pin on each 2-hour visit
    the plan left unplaced (:func:`blocking_pin`); clear it on the visits it placed. Runs only
    the insertions where a coordinator's pin exists on the visit's network. Flushes."""
    placed = sorted({index.visits[s.visit_id] for r in plan.routes for s in r.stops
                     if s.visit_id in index.visits})
    if placed:
        for row in session.scalars(sa.select(Visit).where(
                Visit.id.in_(placed), Visit.blocked_by_pin_id.is_not(None))):
            note_blocker(row, None)
    for item in plan.unassigned:
        row_id = index.visits.get(item.visit_id)
        visit = session.get(Visit, row_id) if row_id is not None else None
        if visit is None:
            continue
        if (visit.priority > PRIORITY_URGENT_2H or visit.status != "unassigned"
                or visit.deadline <= now):
            note_blocker(visit, None)
            continue
        note_blocker(visit, blocking_pin(session, visit, now=now, provider=provider))
    session.flush()
