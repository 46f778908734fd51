"""Insertion that keeps links (no ortools here): the two halves of a linked visit go in
together or not at all, and a delay passes to the partner (:mod:`routing.links`).

Used by :func:`routing.insertion.cheapest_insertion` (and so by urgent insertion and the
repair pass) whenever the problem has links, and to build the OR-Tools search's first plan
(:func:`linked_start`): the routing library's insertion heuristics place one node at a time,
so they cannot bring in a pair whose halves must both be performed, and its local search can
only move a pair that is already routed.

Timing: every route is re-timed from its shift start (:func:`routing.timing.retime`), with
each linked visit held no earlier than its partner's start plus the gap (``second >= first +
min_gap``; ``first >= second - max_gap``). A route whose linked visit moves re-times its
partner's route, until nothing moves (all moves are later, so this ends; a cap guards it).
"""

from __future__ import annotations

import dataclasses

from routing.links import gap_ok, workers_allowed
from routing.screening import Screening
from routing.spacing import check_spacing, starts_of
from routing.timing import Timed, replace_route, retime
from routing.types import Link, RoutingPlan, RoutingProblem, Visit

#: Candidate positions kept per half before the pair's positions are tried together.
PAIR_CANDIDATES = 8
#: Re-timing rounds per route before a coupled schedule is given up as not settling.
ROUNDS_PER_ROUTE = 20


@dataclasses.dataclass
class _State:
    sequences: dict[int, list[Visit]]
    timed: dict[int, Timed]
    starts: dict[str, int]


def _links_by_visit(problem: RoutingProblem) -> dict[str, Link]:
    return {v: link for link in problem.links for v in (link.first, link.second)}


def settle(
    problem: RoutingProblem,
    screening: Screening,
    sequences: dict[int, list[Visit]],
    dirty: set[int],
    starts: dict[str, int],
) -> tuple[dict[int, Timed], dict[str, int]] | None:
    """Re-time the ``dirty`` routes and every route a moved partner is on; None if a hard
    rule breaks (a window, a shift's end, a pin, a link's gap)."""
    links = _links_by_visit(problem)
    vehicle_of = {v.id: k for k, seq in sequences.items() for v in seq}
    starts = {v: t for v, t in starts.items() if v in vehicle_of}
    timed: dict[int, Timed] = {}
    queue = set(dirty)
    budget = ROUNDS_PER_ROUTE * max(1, len(sequences))
    while queue:
        budget -= 1
        if budget < 0:
            return None
        vehicle = min(queue)
        queue.discard(vehicle)
        bounds: dict[str, int] = {}
        for visit in sequences[vehicle]:
            bound = link_bound(links.get(visit.id), visit.id, starts)
            if bound is not None:
                bounds[visit.id] = bound
        result = retime(problem, screening, problem.shifts[vehicle], sequences[vehicle], bounds)
        if result is None:
            return None
        timed[vehicle] = result
        for stop in result.stops:
            moved = starts.get(stop.visit_id) != stop.start
            starts[stop.visit_id] = stop.start
            link = links.get(stop.visit_id)
            if not moved or link is None:
                continue
            partner = link.second if link.first == stop.visit_id else link.first
            if partner not in vehicle_of:
                continue
            bound = link_bound(link, partner, starts)
            if partner not in starts or (bound is not None and starts[partner] < bound):
                queue.add(vehicle_of[partner])
    for link in problem.links:
        both = link.first in starts and link.second in starts
        if both and not gap_ok(link, starts[link.first], starts[link.second]):
            return None
    return timed, starts


def link_bound(link: Link | None, visit_id: str, starts: dict[str, int]) -> int | None:
    """The earliest start ``visit_id`` may have given its partner's current start."""
    if link is None:
        return None
    if visit_id == link.second:
        return None if link.first not in starts else starts[link.first] + link.min_gap
    return None if link.second not in starts else starts[link.second] - link.max_gap


def _state(problem: RoutingProblem, screening: Screening, plan: RoutingPlan) -> _State | None:
    visits = {v.id: v for v in problem.visits}
    index = {s.id: k for k, s in enumerate(problem.shifts)}
    sequences: dict[int, list[Visit]] = {}
    starts: dict[str, int] = {}
    for route in plan.routes:
        if route.shift_id not in index:
            return None
        sequences[index[route.shift_id]] = [visits[s.visit_id] for s in route.stops]
        starts.update({s.visit_id: s.start for s in route.stops})
    settled = settle(problem, screening, sequences, set(sequences), starts)
    if settled is None:
        return None
    return _State(sequences, settled[0], settled[1])


def _options(
    problem: RoutingProblem, screening: Screening, state: _State, visit: Visit
) -> list[tuple[int, int, int]]:
    """(cost added ignoring the link, vehicle, position) for ``visit``, cheapest first."""
    found: list[tuple[int, int, int]] = []
    vehicles = screening.candidates.get(visit.id, ())
    if visit.pinned_to is not None:
        vehicles = tuple(k for k, s in enumerate(problem.shifts) if s.id == visit.pinned_to)
    for vehicle in vehicles:
        current = state.sequences.get(vehicle, [])
        before = state.timed[vehicle].cost if vehicle in state.timed else _empty_cost(
            problem, screening, vehicle
        )
        if before is None:
            continue
        for position in range(len(current) + 1):
            timed = retime(
                problem,
                screening,
                problem.shifts[vehicle],
                current[:position] + [visit] + current[position:],
                {v.id: state.starts[v.id] for v in current if v.id in state.starts},
            )
            if timed is not None:
                found.append((timed.cost - before, vehicle, position))
    return sorted(found)


def _empty_cost(problem: RoutingProblem, screening: Screening, vehicle: int) -> int | None:
    timed = retime(problem, screening, problem.shifts[vehicle], [])
    return None if timed is None else timed.cost


def _try(
    problem: RoutingProblem,
    screening: Screening,
    state: _State,
    placements: list[tuple[Visit, int, int]],
) -> tuple[int, dict[int, Timed], dict[int, list[Visit]]] | None:
    sequences = {k: list(v) for k, v in state.sequences.items()}
    # Insert the later position first so two halves on one route keep their positions.
    for visit, vehicle, position in sorted(placements, key=lambda p: (p[1], -p[2])):
        sequences.setdefault(vehicle, []).insert(position, visit)
    dirty = {vehicle for _, vehicle, _ in placements}
    settled = settle(problem, screening, sequences, dirty, state.starts)
    if settled is None:
        return None
    timed, _ = settled
    change = 0
    for vehicle, result in timed.items():
        old = state.timed.get(vehicle)
        change += result.cost - (
            old.cost if old is not None else (_empty_cost(problem, screening, vehicle) or 0)
        )
    return change, timed, sequences


def insert_group(
    problem: RoutingProblem, screening: Screening, plan: RoutingPlan, visit_id: str
) -> RoutingPlan | None:
    """``plan`` with ``visit_id`` (and its linked partner, when that is not routed yet)
    placed at the cheapest feasible positions, other visits kept in order (a linked partner
    may move later in time); None if it cannot be placed."""
    visits = {v.id: v for v in problem.visits}
    visit = visits[visit_id]
    routed = {s.visit_id for r in plan.routes for s in r.stops}
    if visit_id in routed:
        return plan
    group = [visit]
    link = _links_by_visit(problem).get(visit_id)
    if link is not None:
        partner = link.second if link.first == visit_id else link.first
        if partner not in routed:
            group.append(visits[partner])
    for member in group:
        if member.id not in screening.candidates:
            return None  # screened out (with its partner: routing.links.screen_links)
        if member.pinned_to is None and not screening.candidates[member.id]:
            return None
    state = _state(problem, screening, plan)
    if state is None:
        return None
    best: tuple[int, dict[int, Timed], dict[int, list[Visit]]] | None = None
    # Options are tried cheapest first; a route's own added cost is a lower bound of the
    # whole change (a moved partner only adds), so the scan stops once it cannot do better
    # (for a pair on one route the sum of the halves' costs is only an estimate).
    if len(group) == 1:
        for bound, vehicle, position in _options(problem, screening, state, visit):
            if best is not None and bound >= best[0]:
                break
            found = _try(problem, screening, state, [(visit, vehicle, position)])
            if found is not None and (best is None or found[0] < best[0]):
                best = found
    else:
        assert link is not None
        first = visits[link.first]
        second = visits[link.second]
        options_a = _options(problem, screening, state, first)[:PAIR_CANDIDATES]
        options_b = _options(problem, screening, state, second)[:PAIR_CANDIDATES]
        combos = sorted(
            (ca + cb, va, pa, vb, pb) for ca, va, pa in options_a for cb, vb, pb in options_b
        )
        for bound, va, pa, vb, pb in combos:
            if best is not None and bound >= best[0]:
                break
            worker_a = problem.shifts[va].worker_id
            worker_b = problem.shifts[vb].worker_id
            if not workers_allowed(link, worker_a, worker_b):
                continue
            if va == vb:
                found = _try_same_route(problem, screening, state, first, second, va, pa, pb)
            else:
                found = _try(problem, screening, state, [(first, va, pa), (second, vb, pb)])
            if found is not None and (best is None or found[0] < best[0]):
                best = found
    if best is None:
        return None
    _, timed, _ = best
    result = plan
    for vehicle in sorted(timed):
        result = replace_route(problem, result, problem.shifts[vehicle], timed[vehicle])
    return result


def _try_same_route(
    problem: RoutingProblem,
    screening: Screening,
    state: _State,
    first: Visit,
    second: Visit,
    vehicle: int,
    position_a: int,
    position_b: int,
) -> tuple[int, dict[int, Timed], dict[int, list[Visit]]] | None:
    """Both halves on one route: ``first`` at ``position_a`` and ``second`` at
    ``position_b`` of the original sequence (ties: ``first`` before ``second``)."""
    current = list(state.sequences.get(vehicle, []))
    sequence = list(current)
    sequence.insert(position_b, second)
    sequence.insert(position_a if position_a <= position_b else position_a + 1, first)
    sequences = {k: list(v) for k, v in state.sequences.items()}
    sequences[vehicle] = sequence
    settled = settle(problem, screening, sequences, {vehicle}, state.starts)
    if settled is None:
        return None
    timed, _ = settled
    change = 0
    for k, result in timed.items():
        old = state.timed.get(k)
        change += result.cost - (
            old.cost if old is not None else (_empty_cost(problem, screening, k) or 0)
        )
    return change, timed, sequences


def linked_start(problem: RoutingProblem, screening: Screening) -> RoutingPlan:
    """A first plan built by insertion, pairs placed together: pinned visits first, then the
    rest most urgent and earliest deadline first. Whatever does not fit stays out (the
    search's read-out reports it)."""
    plan = RoutingPlan((), (), 0, 0.0, 0, 0, 0.0)
    order = sorted(
        (v for v in problem.visits if v.pinned_to is not None or screening.candidates.get(v.id)),
        key=lambda v: (v.pinned_to is None, v.priority, v.deadline, v.earliest, v.id),
    )
    for visit in order:
        if visit.id in screening.candidates:
            plan = _spaced(problem, plan, insert_group(problem, screening, plan, visit.id))
    return plan


def _spaced(problem: RoutingProblem, plan: RoutingPlan, placed: RoutingPlan | None
            ) -> RoutingPlan:
    """``placed``, unless it is None or brings one patient's calls closer than their spacing
    (:mod:`routing.spacing`) than ``plan`` did; then ``plan``."""
    if placed is None:
        return plan
    if problem.spacing and len(check_spacing(problem, starts_of(placed))) > len(
        check_spacing(problem, starts_of(plan))
    ):
        return plan
    return placed


def repair_links(problem: RoutingProblem, screening: Screening, plan: RoutingPlan) -> RoutingPlan:
    """``plan`` with each left-out visit (a linked pair together) put in where it fits, most
    urgent and earliest deadline first: the search cannot bring a pair in once it is out."""
    visits = {v.id: v for v in problem.visits}
    left = sorted(
        (visits[u.visit_id] for u in plan.unassigned
         if u.visit_id in visits and u.visit_id in screening.candidates),
        key=lambda v: (v.priority, v.deadline, v.earliest, v.id),
    )
    for visit in left:
        if plan.route_of(visit.id) is None:
            plan = _spaced(problem, plan, insert_group(problem, screening, plan, visit.id))
    return plan
