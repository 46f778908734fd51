"""Fast insertion of one visit into an existing plan, moving no other visit (no ortools here).

Used first by :func:`routing.solver.insert_urgent`: a visit that fits somewhere is placed in
milliseconds, weighed with the same soft costs as the full model (:mod:`routing.costs`).
"""

from __future__ import annotations

import dataclasses

from routing.linked_insertion import insert_group, linked_start
from routing.screening import Screening
from routing.spacing import check_spacing, spacing_bound, starts_of
from routing.timing import Timed, replace_route, retime
from routing.types import Fallback, RoutingPlan, RoutingProblem, Shift, Unassigned, Visit

__all__ = ["GREEDY_NOTE", "Timed", "cheapest_insertion", "greedy_plan", "replace_route", "retime"]

#: What a fallback plan says about itself (``RoutingPlan.note``).
GREEDY_NOTE = (
    "The search found no plan within its limits (the machine may be busy): this is the "
    "greedy insertion plan. Every visit is placed where it fits, most urgent first, and "
    "nothing is optimised; the next re-optimisation improves it."
)


def cheapest_insertion(
    problem: RoutingProblem, screening: Screening, plan: RoutingPlan, visit: Visit
) -> RoutingPlan | None:
    """Insert ``visit`` at its cheapest feasible position, moving no other visit.

    Every candidate route is re-timed from its shift start (as early as possible, pinned
    starts kept, each break taken at the first moment its window allows); the position that
    adds the least cost (travel, plus waiting for urgent visits, lateness and the worker costs,
    as in the full model) wins, ties to the first shift and position. None if nothing fits.
    """
    visits = {v.id: v for v in problem.visits}
    routes = {route.shift_id: route for route in plan.routes}
    if any(s.visit_id not in visits for r in plan.routes for s in r.stops):
        return None  # the plan is stale; let the full search rebuild it
    starts = starts_of(plan) if problem.spacing else {}
    broken = len(check_spacing(problem, starts)) if problem.spacing else 0
    if problem.links:
        # Linked visits move together (a pair in one step; a delay passes to the partner).
        placed = insert_group(problem, screening, plan, visit.id)
        if placed is not None and problem.spacing and (
            len(check_spacing(problem, starts_of(placed))) > broken
        ):
            return None  # it would bring one patient's calls too close (issue 15 item 4)
        return placed
    best: tuple[int, int, Timed] | None = None
    for vehicle in screening.candidates[visit.id]:
        shift = problem.shifts[vehicle]
        route = routes.get(shift.id)
        current = [visits[s.visit_id] for s in route.stops] if route is not None else []
        before = _retime_spaced(problem, screening, shift, current, starts)
        if before is None:
            continue
        for position in range(len(current) + 1):
            timed = _retime_spaced(
                problem, screening, shift, current[:position] + [visit] + current[position:],
                starts,
            )
            if timed is None or (best is not None and timed.cost - before.cost >= best[0]):
                continue
            if problem.spacing and len(check_spacing(
                problem, {**starts, **{s.visit_id: s.start for s in timed.stops}}
            )) > broken:
                continue
            best = (timed.cost - before.cost, vehicle, timed)
    if best is None:
        return None
    return replace_route(problem, plan, problem.shifts[best[1]], best[2])

#: Re-timing rounds to settle a route's spacing bounds (each round only moves visits later).
SPACING_ROUNDS = 4


def _retime_spaced(
    problem: RoutingProblem, screening: Screening, shift: Shift, sequence: list[Visit],
    starts: dict[str, int],
) -> Timed | None:
    """:func:`retime`, each visit held no earlier than its patient's earlier calls allow
    (:func:`routing.spacing.spacing_bound`, from ``starts`` and this route's own starts)."""
    bounds: dict[str, int] = {}
    for _ in range(SPACING_ROUNDS):
        timed = retime(problem, screening, shift, sequence, bounds)
        if timed is None or not problem.spacing:
            return timed
        merged = {**starts, **{s.visit_id: s.start for s in timed.stops}}
        wanted = {
            v.id: bound for v in sequence
            if (bound := spacing_bound(problem, v.id, merged)) is not None
            and bound > merged[v.id]
        }
        if not wanted:
            return timed
        bounds = {**bounds, **wanted}
    return None


def greedy_plan(
    problem: RoutingProblem, screening: Screening, start: RoutingPlan | None = None,
    *, fallback: Fallback = "greedy_insertion", note: str = GREEDY_NOTE,
) -> RoutingPlan:
    """A feasible plan without a search, for when the search gives none in time (H-011).

    The routes of ``start`` (a warm start's plan) are kept where they still hold; then each
    pinned visit goes on its own shift, then every other visit, most urgent and earliest
    deadline first, at its cheapest position (:func:`cheapest_insertion`: nothing moves).
    Whatever does not fit is reported like the search reports it. Deterministic, no clock.
    """
    visits = {v.id: v for v in problem.visits}
    shifts = {s.id: (k, s) for k, s in enumerate(problem.shifts)}
    plan = RoutingPlan((), (), 0, 0.0, 0, 0, 0.0)
    if problem.links:
        # Routes re-timed one by one could part a linked pair in time: build pair-aware.
        plan = linked_start(problem, screening)
        start = None
    for route in start.routes if start is not None else ():
        if route.shift_id not in shifts:
            continue
        k, shift = shifts[route.shift_id]
        sequence = [visits[s.visit_id] for s in route.stops if s.visit_id in visits]
        allowed = all(_allowed(screening, shifts, v, k) for v in sequence)
        timed = retime(problem, screening, shift, sequence) if allowed else None
        if timed is not None and sequence:
            plan = replace_route(problem, plan, shift, timed)
    served = {s.visit_id for r in plan.routes for s in r.stops}
    pinned = [v for v in problem.visits if v.pinned_to is not None and v.id not in served]
    for visit in sorted(pinned, key=lambda v: (v.pinned_start or v.earliest, v.id)):
        assert visit.pinned_to is not None
        own = dataclasses.replace(
            screening, candidates={**screening.candidates,
                                   visit.id: (shifts[visit.pinned_to][0],)})
        plan = cheapest_insertion(problem, own, plan, visit) or plan
    rest = [v for v in problem.visits
            if v.pinned_to is None and screening.candidates.get(v.id) and v.id not in served]
    for visit in sorted(rest, key=lambda v: (v.priority, v.deadline, v.earliest, v.id)):
        plan = cheapest_insertion(problem, screening, plan, visit) or plan
    served = {s.visit_id for r in plan.routes for s in r.stops}
    left = [v for v in problem.visits if v.id in screening.candidates and v.id not in served]
    unassigned = [*screening.unassigned,
                  *screening.capacity_reasons([v.id for v in left if v.pinned_to is None])]
    unassigned += [
        Unassigned(v.id, "accepted, but no longer fits in its worker's shift with everything "
                   "else they accepted: they keep it; ask them whether they can still do it",
                   "no_capacity")
        for v in left if v.pinned_to is not None
    ]
    return dataclasses.replace(plan, unassigned=tuple(unassigned), fallback=fallback, note=note)


def _allowed(
    screening: Screening, shifts: dict[str, tuple[int, Shift]], visit: Visit, k: int
) -> bool:
    if visit.pinned_to is not None:
        return shifts.get(visit.pinned_to, (-1,))[0] == k
    return k in screening.candidates.get(visit.id, ())
