"""Fast insertion of one visit into an existing plan, moving no other visit (no ortools here).

Used first by :func:`routing.solver.insert_urgent`: a visit that fits somewhere is placed in
milliseconds, weighed with the same soft costs as the full model (:mod:`routing.costs`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

from routing.costs import (
    LATE_COST_PER_SECOND,
    MARGIN_COST_PER_SECOND,
    URGENCY_COST_PER_SECOND,
    is_urgent,
    margin_start,
    worker_cost,
)
from routing.screening import Screening
from routing.types import (
    Fallback,
    LateVisit,
    PlacedBreak,
    Route,
    RoutingPlan,
    RoutingProblem,
    Shift,
    Stop,
    Unassigned,
    Visit,
)

#: What a fallback plan says about itself (``RoutingPlan.note``).
GREEDY_NOTE = (
    "The search found no plan within its limits (the machine may be busy): this is the "
    "greedy insertion plan. Every visit is placed where it fits, most urgent first, and "
    "nothing is optimised; the next re-optimisation improves it."
)


@dataclasses.dataclass(frozen=True)
class Timed:
    """A re-timed route: its stops, placed breaks, return time, travel and cost."""

    stops: tuple[Stop, ...]
    breaks: tuple[PlacedBreak, ...]
    return_time: int
    travel: int
    cost: int


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
    best: tuple[int, int, Timed] | None = None
    for vehicle in screening.candidates[visit.id]:
        shift = problem.shifts[vehicle]
        route = routes.get(shift.id)
        current = [visits[s.visit_id] for s in route.stops] if route is not None else []
        before = retime(problem, screening, shift, current)
        if before is None:
            continue
        for position in range(len(current) + 1):
            timed = retime(
                problem, screening, shift, current[:position] + [visit] + current[position:]
            )
            if timed is not None and (best is None or timed.cost - before.cost < best[0]):
                best = (timed.cost - before.cost, vehicle, timed)
    if best is None:
        return None
    return replace_route(problem, plan, problem.shifts[best[1]], best[2])


def retime(
    problem: RoutingProblem, screening: Screening, shift: Shift, sequence: list[Visit]
) -> Timed | None:
    """Earliest schedule of ``sequence`` on ``shift``, or None if it breaks a hard rule."""
    if shift.capacity is not None and sum(v.demand for v in sequence) > shift.capacity:
        return None
    cost_matrix = problem.distance if problem.objective == "distance" else problem.travel
    assert cost_matrix is not None
    pending = sorted(shift.breaks, key=lambda b: (b.start_max, b.start_min))
    placed: list[PlacedBreak] = []
    stops: list[Stop] = []
    where, ready, travel, cost = shift.start_location, shift.start, 0, 0
    for visit in [*sequence, None]:
        location = shift.end_location if visit is None else visit.location
        leg = int(problem.travel[where, location])
        earliest = shift.end if visit is None else visit.earliest
        service = 0 if visit is None else visit.duration
        while pending:
            item = pending[0]
            at = max(ready, item.start_min)
            if at > item.start_max:
                return None
            start = max(ready + leg, earliest) if visit is not None else ready + leg
            delays = at + item.duration + leg > start
            if visit is not None and delays and item.start_max >= start + service:
                break  # it can wait until after this visit, so do not delay the visit now
            placed.append(PlacedBreak(at, at + item.duration))
            ready = at + item.duration
            pending.pop(0)
        arrival = ready + leg
        travel += leg
        cost += int(cost_matrix[where, location])
        if visit is None:
            return (
                None
                if arrival > shift.end
                else Timed(tuple(stops), tuple(placed), arrival, travel, cost)
            )
        start = max(arrival, visit.earliest)
        if visit.pinned_start is not None:
            if arrival > visit.pinned_start:
                return None
            start = visit.pinned_start
        elif start > visit.deadline and (
            visit.id not in screening.late or not visit.may_start_late(start, shift.worker_id)
        ):
            return None
        stops.append(Stop(visit.id, arrival, start, start + visit.duration))
        # The same soft costs the full model charges: waiting for urgent visits, the safety
        # margin, lateness, continuity missed and a silent worker asked again (not balance).
        margin = None if visit.id in screening.late else margin_start(problem, visit)
        if is_urgent(problem, visit):
            cost += URGENCY_COST_PER_SECOND * (start - visit.earliest)
        elif margin is not None:
            cost += MARGIN_COST_PER_SECOND * max(0, start - margin)
        cost += LATE_COST_PER_SECOND * max(0, start - visit.deadline)
        cost += worker_cost(visit, shift.worker_id)
        where, ready = location, start + visit.duration
    return None  # unreachable: the loop returns at the end marker


def replace_route(
    problem: RoutingProblem, plan: RoutingPlan, shift: Shift, timed: Timed
) -> RoutingPlan:
    route = Route(
        shift.id,
        shift.worker_id,
        timed.stops,
        shift.start,
        timed.return_time,
        timed.breaks,
        timed.travel,
    )
    others = [r for r in plan.routes if r.shift_id != shift.id]
    order = {s.id: k for k, s in enumerate(problem.shifts)}
    routes = tuple(sorted([*others, route], key=lambda r: order.get(r.shift_id, len(order))))
    old = next((r for r in plan.routes if r.shift_id == shift.id), None)
    distance = problem.distance if problem.distance is not None else problem.travel
    added = _route_distance(problem, distance, shift, route) - (
        _route_distance(problem, distance, shift, old) if old is not None else 0
    )
    served = {s.visit_id for s in route.stops}
    late = tuple(x for x in plan.late if x.visit_id not in served) + tuple(
        LateVisit(s.visit_id, problem.visit(s.visit_id).deadline, s.start)
        for s in route.stops
        if s.start > problem.visit(s.visit_id).deadline
    )
    return dataclasses.replace(
        plan,
        routes=routes,
        unassigned=tuple(u for u in plan.unassigned if u.visit_id not in served),
        travel_total=plan.travel_total + timed.travel - (old.travel if old else 0),
        distance_total=plan.distance_total + added / problem.distance_scale,
        vehicles_used=len(routes),
        late=late,
    )


def _route_distance(
    problem: RoutingProblem, distance: npt.NDArray[np.int64], shift: Shift, route: Route
) -> int:
    inner = [problem.visit(s.visit_id).location for s in route.stops]
    locations = [shift.start_location, *inner, shift.end_location]
    return int(sum(distance[a, b] for a, b in zip(locations, locations[1:], strict=False)))


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
