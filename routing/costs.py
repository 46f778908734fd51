"""The scheduler's soft costs and penalty ceiling, shared by the OR-Tools model, the screening
that sets drop penalties, and the fast insertion (so all three weigh a plan the same way).

Units are arc-cost units: seconds of travel for the time objective.
"""

from __future__ import annotations

from routing.types import PRIORITY_24H, PRIORITY_URGENT_2H, RoutingProblem, Visit

#: Cost per second a ``serve_late`` visit starts after its deadline, in arc-cost units. High so
#: a late visit is served as early as possible rather than traded for travel.
LATE_COST_PER_SECOND = 100
#: A 2-hour (or more urgent) visit's late seconds weigh this many times more (problems
#: without their own lateness costs, i.e. the service's): a person in crisis waiting past two
#: hours is worse than a care call running late, so one late 2-hour minute outweighs the
#: lateness it causes to the next nine calls. Alike, the planner ordered late visits to save
#: travel: a night nurse's 2-hour visit, accepted at 20:08, was planned for 01:44 behind four
#: evening care calls that were late anyway (simulated day, issue 17; H-241).
URGENT_LATE_FACTOR = 10
#: Cost per second an urgent (priority <= 2) visit starts after its earliest start (time
#: objective only): a person in crisis should be seen as soon as possible, not merely before
#: the deadline. One second of waiting weighs as one second of travel, so an hour's wait is
#: only accepted to save more than an hour of driving elsewhere.
URGENCY_COST_PER_SECOND = 1
#: Plan a 24-hour visit to start at least this long before its deadline where that costs
#: little (time objective only). Field times vary: a plan that starts a visit just before its
#: deadline misses it as soon as an earlier visit overruns (seen in the simulated day: a
#: 24-hour visit planned 10 minutes before its deadline behind one due five hours later).
#: Urgent visits need no margin (their waiting cost pulls them early); planned visits get
#: none because on an overloaded day the extra soft bounds cost urgent visits: the
#: tri-borough benchmark dropped 62 2-hour visits with a margin on every non-urgent visit,
#: 34 with it on 24-hour visits only and 26 without; twelve simulated days met the same
#: deadlines with either margin and missed 5 more 24-hour deadlines without one.
SAFETY_MARGIN = 1800
#: Cost per second a 24-hour visit starts inside its safety margin (as one second of travel).
MARGIN_COST_PER_SECOND = 1
#: Cost of serving a visit with preferred workers by someone else (continuity of carer):
#: worth 15 minutes of travel, a preference, never a constraint.
CONTINUITY_COST = 900
#: Cost of giving a visit to a worker who let an offer of it lapse unanswered: an hour of
#: travel (four continuity misses). Enough that anyone else who can serve it about as well is
#: asked first; far below lateness, so a silent worker is asked again rather than the visit
#: going late or undone (a missed text is not a refusal; a decline is, and excludes).
AVOID_COST = 4 * CONTINUITY_COST
#: Cost of giving a visit to a worker it spares (``Visit.spared_workers``: a nurse for a visit
#: a hybrid worker could make): worth an hour of travel. Without it the planner filled the
#: nurses' days with home care calls as readily as the hybrid workers', and the urgent
#: clinical assessments that only nurses can make found every nurse busy (issue 17: 2-hour
#: misses all needed a nurse while hybrid workers stood idle). Worth 15 minutes it changed
#: little: the balance cost (a second per second above a shift's fair share of the work)
#: still sent a third of the home care calls to nurses while hybrid workers were free. A
#: preference, never a constraint: a nurse still takes the call when nobody else can in time.
SKILL_MIX_COST = 4 * CONTINUITY_COST
#: The most :func:`worker_cost` can charge one visit.
MAX_WORKER_COST = CONTINUITY_COST + AVOID_COST + SKILL_MIX_COST
#: Cost per second a shift's work (travel + service) exceeds the fair share (time objective only).
BALANCE_COST_PER_SECOND = 1
#: Ceiling on any drop penalty so objective sums stay far below 2**63. Only reached with
#: thousands of visits over many priority levels; then the hierarchy is no longer strict.
MAX_DROP_PENALTY = 2**50
#: Drop penalty of a pinned (accepted) visit: above every other visit, so one is left out only
#: when its worker's shift cannot hold everything they accepted (an earlier visit overran).
#: Mandatory pins made that case infeasible, and one overcommitted worker stopped the whole
#: network being planned (seen in the simulated day: an urgent visit unplaced for two hours).
PINNED_DROP_PENALTY = MAX_DROP_PENALTY


def horizon_of(problem: RoutingProblem) -> int:
    """The latest moment any shift or deadline reaches (the time dimension's upper bound)."""
    ends = [s.end for s in problem.shifts] + [v.deadline for v in problem.visits]
    return max(ends + [1])


def worker_cost(visit: Visit, worker_id: str) -> int:
    """Soft cost of ``worker_id`` serving ``visit``: continuity missed, silent worker asked,
    a scarcer skill spent (each a multiple of :data:`CONTINUITY_COST`, the model's unit)."""
    return person_cost(visit, worker_id) + skill_mix_cost(visit, worker_id)


def person_cost(visit: Visit, worker_id: str) -> int:
    """The part of :func:`worker_cost` about the person (continuity missed, a silent worker
    asked again): it differs worker by worker, so the model counts it in a dimension."""
    cost = 0
    if visit.preferred_workers and worker_id not in visit.preferred_workers:
        cost += CONTINUITY_COST
    if worker_id in visit.avoided_workers:
        cost += AVOID_COST
    return cost


def skill_mix_cost(visit: Visit, worker_id: str) -> int:
    """The part of :func:`worker_cost` about the worker's skills (a nurse spent on a call a
    hybrid worker could make): alike for every worker of a skill set, so the model adds it
    to the arc cost of a few shared matrices instead of a dimension."""
    return SKILL_MIX_COST if worker_id in visit.spared_workers else 0


def is_urgent(problem: RoutingProblem, visit: Visit) -> bool:
    """Whether ``visit`` should be served as early as possible (urgent, time objective)."""
    return problem.objective == "time" and visit.priority <= PRIORITY_URGENT_2H


def margin_start(problem: RoutingProblem, visit: Visit) -> int | None:
    """Where ``visit``'s safety margin begins, or None when it has none (not a 24-hour visit,
    pinned, or the distance objective). Late-served visits are the caller's to leave out."""
    if (problem.objective != "time" or visit.priority != PRIORITY_24H
            or visit.pinned_to is not None):
        return None
    return max(visit.earliest, visit.deadline - SAFETY_MARGIN)


def priority_scale(visit: Visit) -> int:
    """How much more a second of lateness weighs for a more urgent visit: 3 for priority 1,
    2 for a 2-hour visit (priority 2), 1 for 24-hour and planned visits (priority 3 and up),
    so a problem whose visits all have the default priority pays exactly ``cost_per_second``."""
    return max(1, PRIORITY_24H + 1 - visit.priority)


#: Arc costs are multiplied by this when a lateness cost has a fraction (e.g. 0.5 per second),
#: so the search's integer costs keep two decimals of the ratio.
FRACTIONAL_COST_SCALE = 100


def cost_scale(problem: RoutingProblem) -> int:
    """Multiplier of arc costs (and lateness costs) in the search's integer objective: 1, or
    :data:`FRACTIONAL_COST_SCALE` when ``lateness`` has a fractional cost. Other soft costs
    (urgent waiting, continuity) are not scaled, so weigh less beside such a problem's costs."""
    late = problem.lateness
    if late is None:
        return 1
    if float(late.cost_per_second).is_integer() and float(late.max_cost_per_second).is_integer():
        return 1
    return FRACTIONAL_COST_SCALE


def max_late_cost_per_second(problem: RoutingProblem) -> int:
    """Integer cost of each second of the plan's largest lateness (0 without lateness)."""
    if problem.lateness is None:
        return 0
    return round(problem.lateness.max_cost_per_second * cost_scale(problem))


def late_cost_per_second(problem: RoutingProblem, visit: Visit) -> int:
    """Cost of each second ``visit`` starts after its deadline: ``lateness.cost_per_second``
    times :func:`priority_scale` when the problem sets lateness costs, else
    :data:`LATE_COST_PER_SECOND` (times :data:`URGENT_LATE_FACTOR` for a 2-hour visit)."""
    if problem.lateness is None:
        if visit.priority <= PRIORITY_URGENT_2H:
            return LATE_COST_PER_SECOND * URGENT_LATE_FACTOR
        return LATE_COST_PER_SECOND
    return round(problem.lateness.cost_per_second * cost_scale(problem) * priority_scale(visit))


def lateness_as_cost(problem: RoutingProblem) -> bool:
    """Whether every visit may start after its deadline at a cost (``late_policy`` is
    ``serve_late`` and ``lateness`` is given); otherwise only a visit no one can reach in time
    is served late under ``serve_late``."""
    return problem.late_policy == "serve_late" and problem.lateness is not None
