"""The scheduler's soft costs and penalty ceiling, shared by the OR-Tools model, the screening
that sets drop penalties, and the fast insertion (so all three weigh a plan the same way).

Units are arc-cost units: seconds of travel for the time objective.
"""

from __future__ import annotations

from routing.types import PRIORITY_URGENT_2H, RoutingProblem, Visit

#: Cost per second a ``serve_late`` visit starts after its deadline, in arc-cost units. High so
#: a late visit is served as early as possible rather than traded for travel.
LATE_COST_PER_SECOND = 100
#: Cost per second an urgent (priority <= 2) visit starts after its earliest start (time
#: objective only): a person in crisis should be seen as soon as possible, not merely before
#: the deadline. One second of waiting weighs as one second of travel, so an hour's wait is
#: only accepted to save more than an hour of driving elsewhere.
URGENCY_COST_PER_SECOND = 1
#: Cost of serving a visit with preferred workers by someone else (continuity of carer):
#: worth 15 minutes of travel, a preference, never a constraint.
CONTINUITY_COST = 900
#: Cost of giving a visit to a worker who let an offer of it lapse unanswered: an hour of
#: travel (four continuity misses). Enough that anyone else who can serve it about as well is
#: asked first; far below lateness, so a silent worker is asked again rather than the visit
#: going late or undone (a missed text is not a refusal; a decline is, and excludes).
AVOID_COST = 4 * CONTINUITY_COST
#: Cost per second a shift's work (travel + service) exceeds the fair share (time objective only).
BALANCE_COST_PER_SECOND = 1
#: Ceiling on any drop penalty so objective sums stay far below 2**63. Only reached with
#: thousands of visits over many priority levels; then the hierarchy is no longer strict.
MAX_DROP_PENALTY = 2**50


def horizon_of(problem: RoutingProblem) -> int:
    """The latest moment any shift or deadline reaches (the time dimension's upper bound)."""
    ends = [s.end for s in problem.shifts] + [v.deadline for v in problem.visits]
    return max(ends + [1])


def worker_cost(visit: Visit, worker_id: str) -> int:
    """Soft cost of ``worker_id`` serving ``visit``: continuity missed, silent worker asked."""
    cost = 0
    if visit.preferred_workers and worker_id not in visit.preferred_workers:
        cost += CONTINUITY_COST
    if worker_id in visit.avoided_workers:
        cost += AVOID_COST
    return cost


def is_urgent(problem: RoutingProblem, visit: Visit) -> bool:
    """Whether ``visit`` should be served as early as possible (urgent, time objective)."""
    return problem.objective == "time" and visit.priority <= PRIORITY_URGENT_2H
