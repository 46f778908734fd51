"""Screening before the search: who may serve each visit, why the others cannot, and the
hierarchical drop penalties (no ortools here).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from routing.costs import (
    BALANCE_COST_PER_SECOND,
    LATE_COST_PER_SECOND,
    MARGIN_COST_PER_SECOND,
    MAX_DROP_PENALTY,
    MAX_WORKER_COST,
    SAFETY_MARGIN,
    URGENCY_COST_PER_SECOND,
    cost_scale,
    horizon_of,
    is_urgent,
    late_cost_per_second,
    lateness_as_cost,
    max_late_cost_per_second,
)
from routing.links import screen_links
from routing.types import RoutingProblem, Shift, Unassigned, Visit, eligible


@dataclasses.dataclass(frozen=True)
class Screening:
    """Pre-analysis before the search: who may serve each visit, and why others cannot.

    ``candidates`` maps each visit the solver sees to its eligible shift indices; visits
    screened out carry their reason in ``unassigned``. ``late`` holds visits whose deadline
    no eligible shift can meet but which ``serve_late`` still routes (soft deadline).
    """

    candidates: dict[str, tuple[int, ...]]
    late: frozenset[str]
    unassigned: tuple[Unassigned, ...]
    penalties: dict[str, int]

    def capacity_reasons(self, visit_ids: Sequence[str]) -> list[Unassigned]:
        """Reasons for candidate visits the search left out: there was no room for them."""
        return [
            Unassigned(
                v, "no capacity left: every eligible shift is full at that time", "no_capacity"
            )
            for v in visit_ids
        ]


def screen(problem: RoutingProblem) -> Screening:
    """Classify every visit before solving (see :class:`Screening`)."""
    candidates: dict[str, tuple[int, ...]] = {}
    late: set[str] = set()
    unassigned: list[Unassigned] = []
    for visit in problem.visits:
        if visit.pinned_to is not None:
            candidates[visit.id] = ()
            continue
        verdict = _screen_visit(problem, visit)
        if isinstance(verdict, Unassigned):
            unassigned.append(verdict)
            continue
        shifts, is_late = verdict
        candidates[visit.id] = shifts
        if is_late:
            late.add(visit.id)
    screen_links(problem, candidates, unassigned, late)
    late &= set(candidates)
    penalties = drop_penalties(problem, candidates, late)
    penalties = _pair_penalties(problem, penalties)
    return Screening(candidates, frozenset(late), tuple(unassigned), penalties)


def _screen_visit(
    problem: RoutingProblem, visit: Visit
) -> Unassigned | tuple[tuple[int, ...], bool]:
    skilled = [k for k, s in enumerate(problem.shifts) if visit.skills <= s.skills]
    if not problem.shifts:
        return Unassigned(visit.id, "no one is on shift", "no_skill")
    if not skilled:
        needed = ", ".join(sorted(visit.skills))
        return Unassigned(visit.id, f"no one on shift has the skill(s): {needed}", "no_skill")
    grouped = [k for k in skilled if eligible(problem.shifts[k], visit)]
    if not grouped:
        return Unassigned(
            visit.id, f"no one on shift with the skills may serve {visit.group}", "not_eligible")
    allowed = [k for k in grouped if problem.shifts[k].worker_id not in visit.excluded_workers]
    if not allowed:
        return Unassigned(visit.id, "every skilled worker on shift has declined it", "excluded")
    roomy = [k for k in allowed if _fits_capacity(problem.shifts[k], visit)]
    if not roomy:
        return Unassigned(
            visit.id, "no capacity left: it exceeds every shift's capacity", "no_capacity"
        )
    timely = [k for k in roomy if _reachable(problem, problem.shifts[k], visit, by_deadline=True)]
    if (
        lateness_as_cost(problem)
        and not visit.late_workers
        and (visit.late_limit is None or visit.late_limit > visit.deadline)
    ):
        # Every visit may start late at a cost: anyone who can get there and home may serve
        # it (up to its late_limit). A visit whose lateness a coordinator gave to named
        # workers, or that must never be late, keeps the rule below (H-006).
        lateable = [
            k for k in roomy if _reachable(problem, problem.shifts[k], visit, by_deadline=False)
        ]
        if lateable:
            return tuple(lateable), True
    if timely:
        return tuple(timely), False
    if problem.late_policy == "serve_late" and (
        visit.late_limit is None or visit.late_limit > visit.deadline
    ):
        lateable = [
            k
            for k in roomy
            if (not visit.late_workers or problem.shifts[k].worker_id in visit.late_workers)
            and _reachable(problem, problem.shifts[k], visit, by_deadline=False)
        ]
        if lateable:
            return tuple(lateable), True
    return Unassigned(visit.id, "no one can reach it before the deadline", "unreachable")


def _fits_capacity(shift: Shift, visit: Visit) -> bool:
    return shift.capacity is None or visit.demand <= shift.capacity


def _reachable(problem: RoutingProblem, shift: Shift, visit: Visit, *, by_deadline: bool) -> bool:
    """Can ``shift`` go straight from base to the visit, serve it and get home in time?"""
    travel = problem.travel_of(shift)
    arrive = shift.start + int(travel[shift.start_location, visit.location])
    start = max(arrive, visit.earliest)
    if by_deadline and start > visit.deadline:
        return False
    if not by_deadline and visit.late_limit is not None and start > visit.late_limit:
        return False
    back = start + visit.duration + int(travel[visit.location, shift.end_location])
    return back <= shift.end


def drop_penalties(
    problem: RoutingProblem, candidates: dict[str, tuple[int, ...]], late: set[str]
) -> dict[str, int]:
    """Hierarchical drop penalties, one per priority level (smaller number = more urgent).

    The least urgent level costs more than every soft cost the whole plan could incur
    (all arcs at the longest arc, all lateness, continuity and balance), so serving a
    visit always beats dropping it. Each more urgent level costs more than dropping *all*
    visits of every less urgent level together, so a 2-hour visit is never dropped while
    a 24-hour one is served in its place (unless skills or windows force it).
    """
    cost = problem.distance if problem.objective == "distance" else problem.travel
    assert cost is not None
    horizon = horizon_of(problem)
    arcs = len(problem.visits) + 2 * len(problem.shifts)
    if problem.objective != "distance":
        cost = max([cost, *problem.travel_profiles.values()], key=lambda m: int(m.max()))
    late_rate = max(
        [LATE_COST_PER_SECOND] + [late_cost_per_second(problem, v) for v in problem.visits]
    )
    max_rate = max_late_cost_per_second(problem)
    soft = (
        int(cost.max()) * arcs * cost_scale(problem)
        + late_rate * horizon * len(late)
        + max_rate * horizon
        + MAX_WORKER_COST * len(problem.visits)
        + BALANCE_COST_PER_SECOND * horizon * 4 * len(problem.shifts)
        + URGENCY_COST_PER_SECOND * horizon * sum(is_urgent(problem, v) for v in problem.visits)
        + MARGIN_COST_PER_SECOND * SAFETY_MARGIN * len(problem.visits)
    )
    counts: dict[int, int] = {}
    for visit in problem.visits:
        if visit.id in candidates:
            counts[visit.priority] = counts.get(visit.priority, 0) + 1
    per_level: dict[int, int] = {}
    below = 0  # sum of all penalties of less urgent levels
    for priority in sorted(counts, reverse=True):
        per_level[priority] = min(MAX_DROP_PENALTY, soft + 1 + below)
        below = min(MAX_DROP_PENALTY, below + counts[priority] * per_level[priority])
    return {
        visit.id: per_level[visit.priority] for visit in problem.visits if visit.id in candidates
    }


def _pair_penalties(problem: RoutingProblem, penalties: dict[str, int]) -> dict[str, int]:
    """Both halves of a link carry the larger of their two drop penalties (as one visit of
    that priority: dropping the pair costs twice that), so an urgent half is not traded."""
    result = dict(penalties)
    for link in problem.links:
        if link.first in result and link.second in result:
            top = max(result[link.first], result[link.second])
            result[link.first] = result[link.second] = top
    return result
