"""Exact re-timing of one route (no ortools here): the earliest schedule of a sequence of
visits on a shift, with breaks, pins, windows and the soft costs of :mod:`routing.costs`;
shared by the fast insertion, the pair-aware insertion and the repair pass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from routing.costs import (
    MARGIN_COST_PER_SECOND,
    URGENCY_COST_PER_SECOND,
    cost_scale,
    is_urgent,
    late_cost_per_second,
    margin_start,
    worker_cost,
)
from routing.screening import Screening
from routing.types import (
    LateVisit,
    PlacedBreak,
    Route,
    RoutingPlan,
    RoutingProblem,
    Shift,
    Stop,
    Visit,
)


@dataclasses.dataclass(frozen=True)
class Timed:
    """A re-timed route: its stops, placed breaks, return time, travel and cost."""

    stops: tuple[Stop, ...]
    breaks: tuple[PlacedBreak, ...]
    return_time: int
    travel: int
    cost: int


def retime(
    problem: RoutingProblem,
    screening: Screening,
    shift: Shift,
    sequence: list[Visit],
    not_before: Mapping[str, int] | None = None,
) -> Timed | None:
    """Earliest schedule of ``sequence`` on ``shift``, or None if it breaks a hard rule.

    ``not_before`` holds extra earliest starts (a linked visit's partner's start plus the
    gap, :mod:`routing.linked_insertion`)."""
    bounds = not_before or {}
    if shift.capacity is not None and sum(v.demand for v in sequence) > shift.capacity:
        return None
    own_travel = problem.travel_of(shift)
    cost_matrix = problem.distance if problem.objective == "distance" else own_travel
    scale = cost_scale(problem)
    assert cost_matrix is not None
    pending = sorted(shift.breaks, key=lambda b: (b.start_max, b.start_min))
    placed: list[PlacedBreak] = []
    stops: list[Stop] = []
    where, ready, travel, cost = shift.start_location, shift.start, 0, 0
    for visit in [*sequence, None]:
        location = shift.end_location if visit is None else visit.location
        leg = int(own_travel[where, location])
        earliest = shift.end if visit is None else max(visit.earliest, bounds.get(visit.id, 0))
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
        cost += int(cost_matrix[where, location]) * scale
        if visit is None:
            return (
                None
                if arrival > shift.end
                else Timed(tuple(stops), tuple(placed), arrival, travel, cost)
            )
        start = max(arrival, earliest)
        if visit.pinned_start is not None:
            if arrival > visit.pinned_start or bounds.get(visit.id, 0) > visit.pinned_start:
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
        cost += late_cost_per_second(problem, visit) * max(0, start - visit.deadline)
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
    distance = problem.distance if problem.distance is not None else problem.travel_of(shift)
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
