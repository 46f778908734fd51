"""Holding a time offered to a caller for a few minutes (hazard H-140-C2, issue 15).

When the handler's page (or the care-package page) offers the best times for a visit, each
offered window is held on the worker's route it was worked out on, for ``SLOT_HOLD_MINUTES``
(:data:`DEFAULT_HOLD`). Meanwhile every other visit's offers are worked out with the held
windows already taken (:func:`held_plan`), so two handlers on two calls cannot offer the same
worker's time; and booking an offered time needs its hold (:func:`require_hold`), so a time
offered long ago, which the plan may since have filled, is found again rather than booked
blind. Booking ends the visit's holds (:func:`release`); an expired hold is ignored.

The live planner sees the holds too (:func:`for_planner`, hazard H-150): each live hold's
copy is pinned to its held shift in the problem the placer and re-optimiser solve, so a held
worker's time is not given away (to a new urgent visit either) while the hold lasts; the
copies are taken out of the plan before it is applied (:func:`without_holds`). A
double-handed visit's hold holds both carers: the second carer's shift and planned start are
kept with the hold (``partner_shift_id``) and a copy is placed on that shift too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.errors import InvalidInput
from dispatch.models import SlotHold, Visit
from dispatch.planning.problem import ProblemIndex, seconds_between
from routing import types as rt
from routing.insertion import cheapest_insertion
from routing.screening import screen

#: How long an offered time is held (the ``SLOT_HOLD_MINUTES`` setting): long enough to ask
#: the caller, short enough that an abandoned call does not block the worker's day.
DEFAULT_HOLD = timedelta(minutes=5)
HOLD_PREFIX = "hold-"
LAPSED = ("That time is no longer held for this caller (times offered are held for a few "
          "minutes, and another caller may have it now). Find the best times again")


def hold_minutes(settings: Mapping[str, Any]) -> timedelta:
    """The ``SLOT_HOLD_MINUTES`` setting as a duration (:data:`DEFAULT_HOLD` when unset)."""
    minutes = settings.get("SLOT_HOLD_MINUTES")
    return DEFAULT_HOLD if minutes is None else timedelta(minutes=float(minutes))


class Offered(Protocol):
    """An offered window: what :class:`dispatch.services.slots.OfferedSlot` carries."""

    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...
    @property
    def planned_start(self) -> datetime: ...
    @property
    def shift_id(self) -> int: ...
    @property
    def partner_shift_id(self) -> int | None: ...
    @property
    def partner_planned_start(self) -> datetime | None: ...


def hold(
    session: so.Session, *, visit: Visit, offered: Sequence[Offered], held_by: str,
    now: datetime, minutes: timedelta = DEFAULT_HOLD,
) -> list[SlotHold]:
    """Hold each offered window for ``visit`` until ``now + minutes`` (its earlier holds
    end); flushes."""
    release(session, visit_id=visit.id)
    rows = [SlotHold(visit_id=visit.id, network_id=visit.network_id, shift_id=slot.shift_id,
                     window_start=slot.start, window_end=slot.end,
                     planned_start=slot.planned_start,
                     partner_shift_id=slot.partner_shift_id,
                     partner_planned_start=slot.partner_planned_start, held_by=held_by,
                     expires_at=now + minutes, created_at=now)
            for slot in offered]
    session.add_all(rows)
    session.flush()
    return rows


def release(session: so.Session, *, visit_id: int) -> None:
    """End every hold of ``visit_id`` (booked, or offered afresh)."""
    session.execute(sa.delete(SlotHold).where(SlotHold.visit_id == visit_id))


def active(session: so.Session, *, network_id: int | None, now: datetime,
           other_than: int | None = None) -> list[SlotHold]:
    """The network's holds not yet expired (other visits' only, with ``other_than``)."""
    stmt = sa.select(SlotHold).where(SlotHold.expires_at > now).order_by(SlotHold.id)
    if network_id is not None:
        stmt = stmt.where(SlotHold.network_id == network_id)
    if other_than is not None:
        stmt = stmt.where(SlotHold.visit_id != other_than)
    return list(session.scalars(stmt))


def require_hold(session: so.Session, *, visit_id: int, start: datetime, now: datetime
                 ) -> SlotHold:
    """The visit's live hold whose window ``start`` is in.

    :raise InvalidInput: keyed ``slot``: none (never offered, or offered too long ago): find
        the times again.
    """
    found = session.scalar(sa.select(SlotHold).where(
        SlotHold.visit_id == visit_id, SlotHold.expires_at > now,
        SlotHold.window_start <= start, SlotHold.window_end >= start))
    if found is None:
        raise InvalidInput("that time is no longer held", errors={"slot": [LAPSED]})
    return found


def held_plan(
    problem: rt.RoutingProblem, plan: rt.RoutingPlan, index: ProblemIndex,
    holds: Sequence[SlotHold], *, pin: bool = False,
) -> tuple[rt.RoutingProblem, rt.RoutingPlan]:
    """``problem`` and ``plan`` with each hold's visit placed in its held window on its
    held shift (a copy of the visit per hold, id ``hold-<id>``), and a double-handed visit's
    second carer on theirs (``hold-<id>-2``, the window moved by the gap between the two
    planned starts); a hold that no longer fits the plan is left out, both halves.

    ``pin``: each placed copy is pinned to its shift (the planner's searches keep a pinned
    visit above any other, :func:`for_planner`)."""
    by_row = {row: vid for vid, row in index.visits.items()}
    shifts = {row: sid for sid, row in index.shifts.items()}
    for item in holds:
        vid, sid = by_row.get(item.visit_id), shifts.get(item.shift_id)
        if vid is None or sid is None:
            continue  # the held visit or shift is outside this problem's horizon
        earliest = max(0, seconds_between(index.start, item.window_start))
        deadline = max(earliest, seconds_between(index.start, item.window_end))
        copies = [(f"{HOLD_PREFIX}{item.id}", problem.visit(vid), sid, earliest, deadline)]
        if item.partner_shift_id is not None and item.partner_planned_start is not None:
            second = shifts.get(item.partner_shift_id)
            if second is None:
                continue  # half a pair is no hold: the second carer is outside the horizon
            partner = problem.partner(vid)
            gap = seconds_between(item.planned_start, item.partner_planned_start)
            copies.append((f"{HOLD_PREFIX}{item.id}-2",
                           problem.visit(partner) if partner else problem.visit(vid), second,
                           max(0, earliest + gap), max(0, deadline + gap)))
        grown, placed = problem, plan
        for copy_id, visit, shift_id, start, end in copies:
            grown, found = _place_copy(grown, placed, visit, copy_id, shift_id, start, end)
            if found is None:
                break
            placed = found
        else:
            problem, plan = grown, placed
    if pin:
        problem = _pin_copies(problem, plan)
    return problem, plan


def _place_copy(
    problem: rt.RoutingProblem, plan: rt.RoutingPlan, visit: rt.Visit, copy_id: str,
    shift_id: str, earliest: int, deadline: int,
) -> tuple[rt.RoutingProblem, rt.RoutingPlan | None]:
    worker = next(s.worker_id for s in problem.shifts if s.id == shift_id)
    # Held on that worker (the screening gives a pinned visit no candidates to insert
    # into, so the other workers are excluded instead of pinning).
    others = frozenset(s.worker_id for s in problem.shifts) - {worker}
    copy = dataclasses.replace(
        visit, id=copy_id, earliest=earliest, deadline=deadline, late_limit=deadline,
        late_workers=frozenset(), pinned_to=None, pinned_start=None, patient=None,
        excluded_workers=visit.excluded_workers | others)
    grown = dataclasses.replace(problem, visits=(*problem.visits, copy))
    return grown, cheapest_insertion(grown, screen(grown), plan, copy)


def _pin_copies(problem: rt.RoutingProblem, plan: rt.RoutingPlan) -> rt.RoutingProblem:
    """Each placed hold copy pinned to the shift it was placed on (its start free within
    its window); a copy that found no place is taken out of the problem."""
    on = {s.visit_id: r.shift_id for r in plan.routes for s in r.stops
          if s.visit_id.startswith(HOLD_PREFIX)}
    visits = tuple(
        dataclasses.replace(v, pinned_to=on[v.id]) if v.id in on else v
        for v in problem.visits
        if not v.id.startswith(HOLD_PREFIX) or v.id in on)
    return dataclasses.replace(problem, visits=visits)


def for_planner(
    session: so.Session, problem: rt.RoutingProblem, plan: rt.RoutingPlan,
    index: ProblemIndex, *, network_id: int | None, now: datetime,
) -> tuple[rt.RoutingProblem, rt.RoutingPlan]:
    """The live planner's problem and current plan with every live hold of the network in
    it, pinned to its held shift (H-150): placing or re-optimising cannot give the held
    time away. :func:`without_holds` takes the copies out of the plan found."""
    holds = active(session, network_id=network_id, now=now)
    if not holds:
        return problem, plan
    return held_plan(problem, plan, index, holds, pin=True)


def without_holds(plan: rt.RoutingPlan) -> rt.RoutingPlan:
    """``plan`` without the hold copies (:func:`held_plan`): what is applied."""
    if not any(s.visit_id.startswith(HOLD_PREFIX) for r in plan.routes for s in r.stops) \
            and not any(u.visit_id.startswith(HOLD_PREFIX) for u in plan.unassigned):
        return plan
    routes = tuple(
        dataclasses.replace(r, stops=tuple(
            s for s in r.stops if not s.visit_id.startswith(HOLD_PREFIX)))
        for r in plan.routes)
    return dataclasses.replace(
        plan, routes=tuple(r for r in routes if r.stops),
        unassigned=tuple(u for u in plan.unassigned if not u.visit_id.startswith(HOLD_PREFIX)),
        late=tuple(x for x in plan.late if not x.visit_id.startswith(HOLD_PREFIX)),
        vehicles_used=sum(1 for r in routes if r.stops))
