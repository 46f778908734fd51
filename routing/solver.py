"""Planning routes: a frozen :class:`RoutingProblem` in, a :class:`RoutingPlan` out.

The public entry points: :func:`solve` (plan from scratch), :func:`improve` (re-optimise a
plan), :func:`insert_urgent` (place one new visit moving as little as possible),
:func:`decline` and :func:`isolate_searches`. The OR-Tools model is built in
:mod:`routing.model` and searched in :mod:`routing.search` (the only modules that import
``ortools``, pinned in pyproject: ``ortools>=9.10,<10``; tested with 9.15); this module
chooses which searches to run and repairs their result (urgent visits, linked pairs).

Determinism: see :mod:`routing.search`; pass ``solution_limit`` for reproducible runs.
"""

from __future__ import annotations

import dataclasses
import time

from routing.insertion import cheapest_insertion
from routing.linked_insertion import linked_start, repair_links
from routing.links import check_links
from routing.repair import repair_urgent
from routing.screening import Screening, screen
from routing.search import (
    FSS,
    isolate_searches,
    run_one,
    run_parallel,
    worker_settings,
)
from routing.search import SearchJob as _SearchJob  # tests replace its run() (H-011)
from routing.spacing import check_spacing, starts_of, with_key_workers, worker_changes
from routing.types import RoutingPlan, RoutingProblem, Unassigned, Visit

__all__ = ["decline", "improve", "insert_urgent", "isolate_searches", "solve"]

#: Share of ``insert_urgent``'s budget for the insertion-only phase (it usually stops early).
INSERT_FIRST_PHASE_SHARE = 0.9
#: Below this many seconds a further search is not worth starting.
MIN_SEARCH_SECONDS = 0.05


def solve(
    problem: RoutingProblem,
    *,
    seconds: float,
    workers: int = 2,
    solution_limit: int | None = None,
) -> RoutingPlan:
    """Plan every shift's route.

    Parameters
    ----------
    problem
        The frozen problem.
    seconds
        Wall-clock budget for each parallel search (always enforced).
    workers
        Number of differently started searches run in parallel (forked processes, one per
        core); the best objective is kept, ties to the lower worker index.
    solution_limit
        Optional cap on accepted solutions, for reproducible runs (see module docstring).

    When no search finds a plan within its limits (its time ran out before the first
    solution, as on a heavily loaded machine), the plan is the greedy insertion plan
    (:func:`routing.insertion.greedy_plan`) with ``fallback`` and ``note`` saying so: a solve
    always returns a plan (hazard H-011).

    With ``problem.continuity`` (a week's horizon) the budget is split in two phases: a plan,
    then each patient visit prefers its key worker in that plan
    (:func:`routing.spacing.with_key_workers`: the patient's most frequent worker among those
    who can serve that visit) and the problem is searched again: a fresh search, whose
    insertion heuristic weighs the continuity cost from the first visit placed, and with two
    or more workers also a search warm-started from the first plan. The second phase's plan
    is returned unless it serves fewer visits, or as many with more carer changes, than the
    first. Measured on the benchmark week (benchmarks/README.md): the warm search alone
    barely moves the first plan (329 to 324 carer changes in 15 s); the fresh search with
    the preferences reached 281 (the floor for the visits served is about 273).
    """
    if problem.continuity and any(v.patient is not None for v in problem.visits):
        first = _solve(problem, seconds=seconds / 2, workers=workers,
                       solution_limit=solution_limit)
        preferring = with_key_workers(problem, first)
        if workers > 1:  # a warm search beside a fresh one (improve runs both)
            second = improve(first, preferring, seconds / 2, workers=workers,
                             solution_limit=solution_limit)
        else:
            second = _solve(preferring, seconds=seconds / 2, workers=1,
                            solution_limit=solution_limit)
        # Serving beats dropping at any continuity cost (drop penalties dominate): a second
        # phase that serves fewer (a loaded machine, too little time) lost.
        better = (_served(second), -worker_changes(problem, second)) >= (
            _served(first), -worker_changes(problem, first))
        return second if better else first
    return _solve(problem, seconds=seconds, workers=workers, solution_limit=solution_limit)


def _served(plan: RoutingPlan) -> int:
    return sum(len(route.stops) for route in plan.routes)


def _solve(
    problem: RoutingProblem, *, seconds: float, workers: int, solution_limit: int | None,
) -> RoutingPlan:
    screening = screen(problem)
    if not problem.shifts:
        return RoutingPlan((), screening.unassigned, 0, 0.0, 0, 0, 0.0)
    # With links the first search starts from a pair-aware insertion plan: the library's
    # heuristics place one node at a time and cannot bring in a pair (routing.linked_insertion).
    start = linked_start(problem, screening) if problem.links else None
    jobs = [
        _SearchJob(
            problem=problem,
            screening=screening,
            seconds=seconds,
            strategy=strategy,
            gls_lambda=gls_lambda,
            polish=polish,
            ruin=ruin,
            solution_limit=solution_limit,
            warm=start if k == 0 else None,
        )
        for k, (strategy, gls_lambda, polish, ruin) in enumerate(worker_settings(problem, workers))
    ]
    return _repaired(problem, screening, run_parallel(jobs))


def improve(
    plan: RoutingPlan,
    problem: RoutingProblem,
    seconds: float,
    *,
    workers: int = 2,
    solution_limit: int | None = None,
) -> RoutingPlan:
    """Re-optimise ``plan`` for ``seconds``, warm-starting from it (pins stay fixed).

    With two or more workers a cold search runs alongside the warm one and the better plan
    is kept, so a poor starting plan cannot trap the result.
    """
    screening = screen(problem)
    if not problem.shifts:  # OR-Tools crashes the process on a model with no vehicles
        return RoutingPlan((), screening.unassigned, 0, 0.0, 0, 0, 0.0)
    jobs = [
        _SearchJob(
            problem=problem,
            screening=screening,
            seconds=seconds,
            solution_limit=solution_limit,
            warm=warm,
        )
        for warm in ([plan, None] if workers > 1 else [plan])
    ]
    return _repaired(problem, screening, run_parallel(jobs))


def insert_urgent(
    plan: RoutingPlan,
    problem: RoutingProblem,
    visit: Visit,
    *,
    seconds: float = 1.0,
) -> RoutingPlan:
    """Place one new visit into ``plan`` moving as little as possible (see
    :func:`_insert_urgent`), never at the price of a linked pair's rule.

    Why the check (H-101): the property test found an insertion that re-timed a route so that
    an existing pair's starts drifted out of their gap. A result that breaks a link the
    current plan kept is not returned: the plan stands and the new visit (with its partner)
    is reported, so a person sees it instead of a pair being split silently.
    """
    started = time.perf_counter()
    result = _insert_urgent(plan, problem, visit, seconds=seconds)
    if not problem.links:
        return result
    full = (
        problem
        if any(v.id == visit.id for v in problem.visits)
        else dataclasses.replace(problem, visits=(*problem.visits, visit))
    )
    if set(check_links(full, result)) <= set(check_links(full, plan)):
        return result
    reason = (
        "placing it would break the timing of a linked pair in the current plan: "
        "left for a person to decide"
    )
    ids = {visit.id, *filter(None, [full.partner(visit.id)])}
    kept = tuple(u for u in plan.unassigned if u.visit_id not in ids)
    missing = tuple(Unassigned(i, reason, "no_capacity") for i in sorted(ids))
    return _stamp(dataclasses.replace(plan, unassigned=(*kept, *missing)), started)


def _insert_urgent(
    plan: RoutingPlan,
    problem: RoutingProblem,
    visit: Visit,
    *,
    seconds: float = 1.0,
) -> RoutingPlan:
    """Place one new visit into ``plan`` moving as little as possible.

    First the cheapest feasible position in any eligible route is tried directly (no other
    visit moves; exact re-timing, milliseconds). If none exists, a search warm-starts from
    ``plan`` with every routed visit held on its shift and only
    insertion moves enabled (make the visit active; swap it for a less urgent visit, which
    the drop penalties allow only when that is worth it; relocate one visit to make room),
    run as a greedy descent that stops at the first local optimum. Only if the visit is
    still unplaced does a second descent with all moves let unpinned visits change shift.
    Pinned visits never move in either phase. ``seconds`` bounds the whole call. A visit
    the plan already routes is left where it is.
    """
    started = time.perf_counter()
    if plan.route_of(visit.id) is not None:
        return _stamp(plan, started)  # already placed: a second copy would route it twice
    if not any(v.id == visit.id for v in problem.visits):
        problem = dataclasses.replace(problem, visits=(*problem.visits, visit))
    screening = screen(problem)
    partner = problem.partner(visit.id)
    if visit.id not in screening.candidates:
        found = _with_unassigned(plan, screening, visit.id)
        if partner is not None and _untracked(found, partner):
            found = _with_unassigned(found, screening, partner)
        return _stamp(found, started)
    fast = cheapest_insertion(problem, screening, plan, visit)
    if fast is not None:
        return _stamp(fast, started)
    first = _SearchJob(
        problem=problem,
        screening=screening,
        seconds=seconds * INSERT_FIRST_PHASE_SHARE,
        strategy=FSS.PARALLEL_CHEAPEST_INSERTION,
        warm=plan,
        greedy=True,
        keep_shifts=True,
        insert_only=True,
    )
    result = run_one(first)
    if result is not None and result.route_of(visit.id) is not None:
        return _stamp(result, started)
    remaining = seconds - (time.perf_counter() - started)
    if remaining > MIN_SEARCH_SECONDS:
        second = _SearchJob(
            problem=problem,
            screening=screening,
            seconds=remaining,
            strategy=FSS.PARALLEL_CHEAPEST_INSERTION,
            warm=result or plan,
            greedy=True,
        )
        result = run_one(second) or result
    if result is None or result.route_of(visit.id) is None:
        # Out of time or room: the current plan stands and the visit is reported, not lost.
        base = result or plan
        missing = Unassigned(
            visit.id,
            "no capacity left: it could not be placed in the current plan within the time budget",
            "no_capacity",
        )
        kept = tuple(u for u in base.unassigned if u.visit_id != visit.id)
        found = dataclasses.replace(base, unassigned=(*kept, missing))
        if partner is not None and _untracked(found, partner):
            # A linked visit's partner goes out with it, never served alone (H-100).
            also = dataclasses.replace(missing, visit_id=partner)
            found = dataclasses.replace(found, unassigned=(*found.unassigned, also))
        return _stamp(found, started)
    return _stamp(result, started)


def _untracked(plan: RoutingPlan, visit_id: str) -> bool:
    """Whether ``visit_id`` is neither routed nor reported in ``plan``."""
    return plan.route_of(visit_id) is None and all(u.visit_id != visit_id for u in plan.unassigned)


def decline(problem: RoutingProblem, visit_id: str, worker_id: str) -> RoutingProblem:
    """The problem after ``worker_id`` declined ``visit_id``: that worker is excluded and
    any pin to that worker's shift is released, so the next solve or insertion re-places it."""
    shifts = {s.id: s for s in problem.shifts}
    visits = []
    for visit in problem.visits:
        if visit.id == visit_id:
            pinned = visit.pinned_to is not None and shifts[visit.pinned_to].worker_id == worker_id
            visit = dataclasses.replace(
                visit,
                excluded_workers=visit.excluded_workers | {worker_id},
                pinned_to=None if pinned else visit.pinned_to,
                pinned_start=None if pinned else visit.pinned_start,
            )
        visits.append(visit)
    return dataclasses.replace(problem, visits=tuple(visits))


def _repaired(problem: RoutingProblem, screening: Screening, plan: RoutingPlan) -> RoutingPlan:
    """The search's plan with dropped urgent visits placed where room exists (see
    :mod:`routing.repair`); the repair's time counts in ``plan.seconds``."""
    started = time.perf_counter()
    repaired = repair_urgent(problem, screening, plan)
    if problem.links:
        repaired = repair_links(problem, screening, repaired)
    if problem.spacing and len(check_spacing(problem, starts_of(repaired))) > len(
        check_spacing(problem, starts_of(plan))
    ):
        return plan  # the repair's swaps brought a patient's calls too close: keep the search's
    if repaired is plan:
        return plan
    return dataclasses.replace(repaired, seconds=plan.seconds + time.perf_counter() - started)


def _stamp(plan: RoutingPlan, started: float) -> RoutingPlan:
    return dataclasses.replace(plan, seconds=round(time.perf_counter() - started, 3))


def _with_unassigned(plan: RoutingPlan, screening: Screening, visit_id: str) -> RoutingPlan:
    extra = tuple(u for u in screening.unassigned if u.visit_id == visit_id)
    return dataclasses.replace(plan, unassigned=(*plan.unassigned, *extra))
