"""Start windows to offer for a new visit (issue 15, item 5), no ortools here.

A caller asks for a later start ("after three, please"); rather than the call handler guessing
a time and the plan finding out later that nobody can come then, :func:`recommend_slots`
tries the visit in each candidate window of the range it may take and returns the ``k``
cheapest that fit the plan as it stands, with the cost each adds.

How: each window ``[w, w + width]`` (``w`` from the visit's ``earliest`` in ``step``
seconds) is the visit's own hard window (never late), and the visit is placed by the same
insertion the urgent path uses first (:func:`routing.insertion.cheapest_insertion`: its
cheapest position in any eligible route, no other visit changes worker or order; with links,
the pair-aware insertion of :mod:`routing.linked_insertion`). A linked partner that is not
in the plan moves with the visit (its window shifted by the same amount), so a double-handed
visit is offered only where both carers can come. The cost of a window is what the plan's
objective grows by (travel, waiting of an urgent visit, pushes of others, worker costs), as
the full search weighs it. Windows chosen do not overlap, cheapest first, ties the earliest.

Pure: the plan passed in is never changed (plans are frozen); nothing is booked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from routing.insertion import cheapest_insertion, greedy_plan
from routing.linked_insertion import link_bound
from routing.screening import Screening, screen
from routing.timing import retime
from routing.types import RoutingPlan, RoutingProblem, Visit

#: Seconds between candidate window starts (half an hour).
DEFAULT_STEP = 1800
#: Length of an offered window (an hour: "between 15:00 and 16:00"), as the booking service's.
DEFAULT_WIDTH = 3600
#: Most windows tried in one call (a fortnight of half hours); a longer range is refused.
MAX_WINDOWS = 14 * 48


@dataclasses.dataclass(frozen=True)
class SlotRequest:
    """A question for :func:`recommend_slots` (the problem document's ``slots`` key)."""

    visit: Visit
    k: int = 3
    step: int = DEFAULT_STEP
    width: int = DEFAULT_WIDTH

    def __post_init__(self) -> None:
        if self.k < 1 or self.step < 1 or self.width < 1:
            raise ValueError("slots: k, step and width must be positive")


@dataclasses.dataclass(frozen=True)
class Slot:
    """A window the visit can be offered in: it starts in ``[earliest, deadline]``; the plan
    as it stands would have ``worker_id`` (on ``shift_id``) start it at ``start``, adding
    ``cost`` (objective units: seconds of travel for the time objective)."""

    earliest: int
    deadline: int
    start: int
    shift_id: str
    worker_id: str
    cost: int
    #: A linked visit's partner (a double-handed visit's second carer) moves with it: the
    #: shift the plan would give the partner, and its start (None: no partner placed).
    partner_shift_id: str | None = None
    partner_start: int | None = None


def recommend_slots(
    problem: RoutingProblem,
    visit: Visit,
    k: int = 3,
    *,
    plan: RoutingPlan | None = None,
    step: int = DEFAULT_STEP,
    width: int = DEFAULT_WIDTH,
    keep_deadline: int | None = None,
) -> tuple[Slot, ...]:
    """The ``k`` cheapest non-overlapping windows of ``width`` seconds, starting from
    ``visit.earliest`` every ``step`` seconds and ending by ``visit.deadline`` (a range
    shorter than ``width`` is one window), in which ``visit`` fits ``plan``; cheapest first.

    ``visit`` may be new or already in ``problem`` (then its current place in ``plan``, if
    any, is ignored: where else could it go). Its pin is ignored. ``plan`` defaults to the
    greedy insertion plan of ``problem`` without the visit (deterministic, no search). An
    empty tuple means no window fits. ``keep_deadline``: a window starting by it ends by it
    (booking a start before the deadline keeps the deadline, see
    :mod:`dispatch.services.bookings`); one starting after it lasts ``width``.

    Raises
    ------
    ValueError
        ``k``, ``step`` or ``width`` not positive, or more than :data:`MAX_WINDOWS` windows.
    """
    if k < 1 or step < 1 or width < 1:
        raise ValueError("k, step and width must be positive")
    last = max(visit.earliest, visit.deadline - width)
    if (last - visit.earliest) // step + 1 > MAX_WINDOWS:
        raise ValueError(f"at most {MAX_WINDOWS} windows: use a larger step or a shorter range")
    partner_id = problem.partner(visit.id) if _has(problem, visit.id) else None
    moving = {visit.id, *([partner_id] if partner_id else [])}
    hard = dataclasses.replace(visit, late_limit=visit.deadline, late_workers=frozenset(),
                               pinned_to=None, pinned_start=None)
    base_problem = dataclasses.replace(
        problem, visits=(*(v for v in problem.visits if v.id != visit.id), hard))
    if plan is None:
        without = dataclasses.replace(
            problem, visits=tuple(v for v in problem.visits if v.id not in moving),
            links=tuple(x for x in problem.links if not moving & {x.first, x.second}))
        plan = greedy_plan(without, screen(without))
    plan = _without(plan, moving)
    # One screening of the whole range: its candidate shifts are a superset of any window's
    # (retime checks each window exactly); the moving visits are never served late.
    screening = screen(base_problem)
    screening = dataclasses.replace(screening, late=screening.late - moving)
    if visit.id not in screening.candidates:
        return ()
    found: list[Slot] = []
    for at in range(visit.earliest, last + 1, step):
        end = min(at + width, visit.deadline)
        if keep_deadline is not None and at <= keep_deadline:
            end = min(end, keep_deadline)
        slot = _try_window(base_problem, screening, plan, visit, partner_id, at, end)
        if slot is not None:
            found.append(slot)
    chosen: list[Slot] = []
    for slot in sorted(found, key=lambda s: (s.cost, s.earliest)):
        if all(slot.deadline <= c.earliest or slot.earliest >= c.deadline for c in chosen):
            chosen.append(slot)
            if len(chosen) == k:
                break
    return tuple(chosen)


def answer(problem: RoutingProblem, plan: RoutingPlan, request: SlotRequest
           ) -> tuple[Slot, ...]:
    """:func:`recommend_slots` for a :class:`SlotRequest` against ``plan``."""
    return recommend_slots(problem, request.visit, request.k, plan=plan, step=request.step,
                           width=request.width)


def _has(problem: RoutingProblem, visit_id: str) -> bool:
    return any(v.id == visit_id for v in problem.visits)


def _without(plan: RoutingPlan, ids: set[str]) -> RoutingPlan:
    routes = tuple(
        dataclasses.replace(r, stops=tuple(s for s in r.stops if s.visit_id not in ids))
        for r in plan.routes)
    return dataclasses.replace(
        plan, routes=tuple(r for r in routes if r.stops),
        unassigned=tuple(u for u in plan.unassigned if u.visit_id not in ids))


def _try_window(
    problem: RoutingProblem,
    screening: Screening,
    plan: RoutingPlan,
    visit: Visit,
    partner_id: str | None,
    at: int,
    end: int,
) -> Slot | None:
    shift = at - visit.earliest
    target = dataclasses.replace(
        visit, earliest=at, deadline=end, late_limit=end, late_workers=frozenset(),
        pinned_to=None, pinned_start=None)
    visits = []
    for item in problem.visits:
        if item.id == visit.id:
            visits.append(target)
        elif item.id == partner_id and item.pinned_to is None:
            visits.append(dataclasses.replace(
                item, earliest=item.earliest + shift, deadline=item.deadline + shift,
                late_limit=None if item.late_limit is None else item.late_limit + shift))
        else:
            visits.append(item)
    here = dataclasses.replace(problem, visits=tuple(visits))
    placed = cheapest_insertion(here, screening, plan, target)
    route = placed.route_of(visit.id) if placed is not None else None
    if placed is None or route is None:
        return None
    changed = _changed_shifts(plan, placed)
    before = _cost(here, screening, plan, changed)
    after = _cost(here, screening, placed, changed)
    if before is None or after is None:
        return None
    stop = next(s for s in route.stops if s.visit_id == visit.id)
    other = placed.route_of(partner_id) if partner_id is not None else None
    other_start = None if other is None else next(
        s.start for s in other.stops if s.visit_id == partner_id)
    return Slot(at, end, stop.start, route.shift_id, route.worker_id, after - before,
                None if other is None else other.shift_id, other_start)


def _changed_shifts(old: RoutingPlan, new: RoutingPlan) -> set[str]:
    stops = {r.shift_id: r.stops for r in old.routes}
    return {r.shift_id for r in new.routes if stops.get(r.shift_id) != r.stops}


def _cost(
    problem: RoutingProblem, screening: Screening, plan: RoutingPlan, shift_ids: Iterable[str]
) -> int | None:
    """The summed cost of the routes of ``shift_ids`` in ``plan`` (an unused shift's empty
    route counts), each re-timed as the insertion times it; None if one no longer holds."""
    visits = {v.id: v for v in problem.visits}
    shifts = {s.id: s for s in problem.shifts}
    routes = {r.shift_id: r for r in plan.routes}
    starts = {s.visit_id: s.start for r in plan.routes for s in r.stops}
    links = {v: x for x in problem.links for v in (x.first, x.second)}
    total = 0
    for shift_id in shift_ids:
        route = routes.get(shift_id)
        sequence = [visits[s.visit_id] for s in route.stops] if route is not None else []
        bounds = {
            v.id: bound for v in sequence
            if (bound := link_bound(links.get(v.id), v.id, starts)) is not None
        }
        timed = retime(problem, screening, shifts[shift_id], sequence, bounds)
        if timed is None:
            return None
        total += timed.cost
    return total
