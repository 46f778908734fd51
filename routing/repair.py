"""Repair after a search: put dropped urgent visits where capacity exists (no ortools here).

Why: the drop penalties make a 2-hour visit worth more than every less urgent visit together,
but a time-limited local search on a crowded day can stop with an urgent visit dropped that
still fits (measured on the tri-borough benchmark day: 12 of 70 dropped 2-hour visits fitted
as the plan stood, 13 more once one planned or 24-hour visit made room). This pass closes that
gap exactly and deterministically: for each dropped urgent visit, most urgent and earliest
deadline first, it tries the cheapest feasible position moving no one; failing that, it takes
out one less urgent, unpinned visit from an eligible route and puts the urgent one in its
place, then tries to place the displaced visit elsewhere (or reports it as ``no_capacity``).
Every step is re-timed exactly (breaks, pins, windows), so the plan stays feasible.
"""

from __future__ import annotations

import dataclasses

from routing.insertion import Timed, cheapest_insertion, replace_route, retime
from routing.screening import Screening
from routing.types import PRIORITY_URGENT_2H, RoutingPlan, RoutingProblem, Visit


def repair_urgent(problem: RoutingProblem, screening: Screening, plan: RoutingPlan) -> RoutingPlan:
    """``plan`` with every dropped urgent visit placed where a feasible place exists."""
    visits = {v.id: v for v in problem.visits}
    dropped = sorted(
        (
            visits[u.visit_id]
            for u in plan.unassigned
            if u.visit_id in visits
            and u.visit_id in screening.candidates
            and screening.candidates[u.visit_id]
            and visits[u.visit_id].priority <= PRIORITY_URGENT_2H
        ),
        key=lambda v: (v.priority, v.deadline, v.id),
    )
    repaired = plan
    for visit in dropped:
        placed = cheapest_insertion(problem, screening, repaired, visit)
        if placed is None and not problem.links:  # a swap could split a linked pair
            placed = _swap_in(problem, screening, repaired, visit)
        if placed is not None:
            repaired = placed
    if repaired is plan:
        return plan
    return dataclasses.replace(
        repaired, objective=plan.objective + _objective_change(problem, screening, plan, repaired)
    )


def _objective_change(
    problem: RoutingProblem, screening: Screening, before: RoutingPlan, after: RoutingPlan
) -> int:
    """How the search objective moved: re-timed cost of the changed routes (travel, urgent
    waiting, lateness, worker costs, as :mod:`routing.costs`; balance is not re-counted)
    plus the drop penalties gained and lost."""
    visits = {v.id: v for v in problem.visits}
    shifts = {s.id: s for s in problem.shifts}
    old = {r.shift_id: r for r in before.routes}
    change = 0
    for route in after.routes:
        previous = old.get(route.shift_id)
        if previous is not None and previous.stops == route.stops:
            continue
        for stops, sign in ((route.stops, 1), (previous.stops if previous else (), -1)):
            timed = retime(
                problem, screening, shifts[route.shift_id], [visits[s.visit_id] for s in stops]
            )
            change += sign * (timed.cost if timed is not None else 0)
    penalties = screening.penalties
    change += sum(penalties.get(u.visit_id, 0) for u in after.unassigned)
    change -= sum(penalties.get(u.visit_id, 0) for u in before.unassigned)
    return change


def _swap_in(
    problem: RoutingProblem, screening: Screening, plan: RoutingPlan, visit: Visit
) -> RoutingPlan | None:
    """Put ``visit`` in place of one less urgent visit, the least urgent and cheapest first."""
    visits = {v.id: v for v in problem.visits}
    routes = {route.shift_id: route for route in plan.routes}
    best: tuple[tuple[int, int], int, Timed, Visit] | None = None
    for vehicle in screening.candidates[visit.id]:
        shift = problem.shifts[vehicle]
        route = routes.get(shift.id)
        if route is None:
            continue
        current = [visits[s.visit_id] for s in route.stops]
        before = retime(problem, screening, shift, current)
        if before is None:
            continue
        for index, out in enumerate(current):
            if out.priority <= visit.priority or out.pinned_to is not None:
                continue
            rest = current[:index] + current[index + 1 :]
            for position in range(len(rest) + 1):
                timed = retime(
                    problem, screening, shift, rest[:position] + [visit] + rest[position:]
                )
                if timed is None:
                    continue
                # Least urgent visit out first (largest priority number), then cheapest.
                rank = (-out.priority, timed.cost - before.cost)
                if best is None or rank < best[0]:
                    best = (rank, vehicle, timed, out)
    if best is None:
        return None
    _, vehicle, timed, out = best
    swapped = replace_route(problem, plan, problem.shifts[vehicle], timed)
    swapped = dataclasses.replace(
        swapped,
        unassigned=(*swapped.unassigned, *screening.capacity_reasons([out.id])),
        late=tuple(x for x in swapped.late if x.visit_id != out.id),
    )
    moved = cheapest_insertion(problem, screening, swapped, out)
    return moved if moved is not None else swapped
