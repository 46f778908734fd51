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
#: Cost per second a shift's work (travel + service) exceeds the fair share (time objective only).
BALANCE_COST_PER_SECOND = 1
#: Ceiling on any drop penalty so objective sums stay far below 2**63. Only reached with
#: thousands of visits over many priority levels; then the hierarchy is no longer strict.
MAX_DROP_PENALTY = 2**50


def horizon_of(problem: RoutingProblem) -> int:
    """The latest moment any shift or deadline reaches (the time dimension's upper bound)."""
    ends = [s.end for s in problem.shifts] + [v.deadline for v in problem.visits]
    return max(ends + [1])


def is_urgent(problem: RoutingProblem, visit: Visit) -> bool:
    """Whether ``visit`` should be served as early as possible (urgent, time objective)."""
    return problem.objective == "time" and visit.priority <= PRIORITY_URGENT_2H
