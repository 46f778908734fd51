"""How a built model is searched: one search per job, several jobs in parallel processes.

Determinism
-----------
Every search parameter is fixed and the constraint solver is re-seeded from
``problem.seed`` (:func:`routing.model.build_model`). A time-limited guided local search still
depends on how much work fits in the wall-clock budget; a ``solution_limit`` stops after a
fixed number of accepted solutions instead, which makes the result a pure function of
``(problem, seed)`` as long as the time limit is not reached first. When two searches run in
parallel the better objective wins and ties go to the lower worker index, so the choice itself
is deterministic.

Distance-only problems with windows (:func:`is_distance_vrptw`) find a first plan by guided
local search in 15 % of the budget, spend most of the rest on ruin and recreate
(:mod:`routing.ruin`), then a short greedy descent (docs/adr/0004-search-tuning.md). Ruin
and recreate is skipped when a ``solution_limit`` is given (its stall test and phase are
timed), so reproducible runs stay a function of ``(problem, seed)``.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection

from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util.optional_boolean_pb2 import BOOL_FALSE, BOOL_TRUE

from routing.insertion import greedy_plan
from routing.model import build_model, read_plan, warm_routes
from routing.ruin import ruin_and_recreate
from routing.screening import Screening
from routing.types import RoutingPlan, RoutingProblem

FSS = routing_enums_pb2.FirstSolutionStrategy
LSM = routing_enums_pb2.LocalSearchMetaheuristic

#: copes with tight windows where path-cheapest-arc finds nothing (measured on R101/RC101).
WORKER_STRATEGIES = (
    FSS.PARALLEL_CHEAPEST_INSERTION,
    FSS.LOCAL_CHEAPEST_INSERTION,
    FSS.SAVINGS,
    FSS.PATH_CHEAPEST_ARC,
)
#: Local-search operators kept for urgent insertion (everything else is switched off).
INSERTION_OPERATORS = ("use_make_active", "use_swap_active", "use_relocate_and_make_active")
#: Guided local search ``lambda`` (OR-Tools default 0.1); lower explores less aggressively.
GLS_LAMBDA = 0.1
#: The same for distance-only problems with time windows (:func:`is_distance_vrptw`): 0.5
#: escapes the local optima 0.1 circles in (C101 stalled 3 % above its optimum). On the
#: over-subscribed tri-borough day it made one network serve 27 visits instead of 139, so
#: the domain problems keep 0.1 (docs/adr/0004-search-tuning.md).
VRPTW_GLS_LAMBDA = 0.5
#: Per worker for distance VRPTW (:func:`is_distance_vrptw`): its first-solution strategy and
#: guided local search lambda. Measured on the tuning set (ADR 0004), a second worker with
#: another lambda (1.0) paired no better with the first than one with another start and the
#: same lambda (best of the two per instance +4.50 vs +4.33 % and +3.77 vs +3.56 % in two
#: runs): the workers differ in their start, the lambda stays 0.5.
VRPTW_PORTFOLIO: tuple[tuple[int, float], ...] = tuple(
    (strategy, VRPTW_GLS_LAMBDA) for strategy in WORKER_STRATEGIES
)
#: Share of a distance-VRPTW search's time for its closing greedy descent with every operator
#: (``SearchJob.polish``): guided local search runs without the path-reinsertion operators,
#: which can still improve its best plan (C103 at 5 s: +11.5 % and +22.6 % to PyVRP without,
#: +3.1 % and +4.0 % with; tuning set at 10 s +4.06 to +3.49 %; held-back set neutral, ADR 0004).
VRPTW_POLISH = 0.05
#: Least share of a distance-VRPTW search's time for ruin and recreate (:mod:`routing.ruin`)
#: from the guided search's best plan, before the polish (``SearchJob.ruin``). With each
#: step a descent on a sub-model of the routes it touched (``routing.ruin.LOCAL_STEPS``) a
#: step is cheap enough that guided search is worth only its first plans: 0.8 (the rest,
#: 15 %, for guided search) was the best of 0.1, 0.5, 0.8 and 0.9 on the tuning set at 10 s
#: (+1.47, +1.18, +0.86, +0.98 % to PyVRP; ADR 0004, sixth round).
VRPTW_RUIN = 0.8
#: With ruin and recreate, the guided search also stops as soon as it has gone this share of
#: the budget (wall clock) without a better plan: it has stalled, and ruin and recreate gets
#: the rest. A fixed half-and-half split lost where guided search was still improving at
#: half time (200 customers at 5 s on the tuning set, and with two searches at load 10-13),
#: and with a tenth of the budget one search was worse on 9 of 17 held-back instances (ADR
#: 0004). With ``VRPTW_RUIN`` at 0.8 guided search has 15 % of the budget, so this only
#: matters to a caller that gives ruin a smaller share.
RUIN_STALL = 0.25
#: A polish shorter than this is not started.
POLISH_MIN_SECONDS = 0.05
#: Large-neighbourhood operators switched off for distance VRPTW: each move re-inserts a whole
#: path by cheapest insertion and takes a large share of the time; without them the search
#: makes three to four times as many moves (ADR 0004).
SLOW_OPERATORS = (
    "use_global_cheapest_insertion_path_lns",
    "use_local_cheapest_insertion_path_lns",
    "use_global_cheapest_insertion_visit_types_lns",
    "use_local_cheapest_insertion_visit_types_lns",
)


@dataclasses.dataclass(kw_only=True)
class SearchJob:
    """One search: build a model, optionally warm-start it, solve, read the plan back.

    ``greedy`` stops at the first local optimum (no guided local search); ``keep_shifts``
    holds every visit of ``warm`` on its shift; ``insert_only`` keeps only the moves that
    bring a visit in (see :func:`search_parameters`). ``polish`` is the share of ``seconds``
    kept for a greedy descent from the best plan with every operator and no penalties.
    """

    problem: RoutingProblem
    screening: Screening
    seconds: float
    strategy: int = WORKER_STRATEGIES[0]
    solution_limit: int | None = None
    warm: RoutingPlan | None = None
    greedy: bool = False
    keep_shifts: bool = False
    insert_only: bool = False
    gls_lambda: float | None = None
    polish: float = 0.0
    ruin: float = 0.0

    def run(self) -> RoutingPlan | None:
        ruin = self.ruin if self.solution_limit is None else 0.0
        if (self.polish <= 0 and ruin <= 0) or self.greedy or self.insert_only:
            return self._search()
        started = time.perf_counter()
        first = dataclasses.replace(
            self, seconds=self.seconds * (1 - self.polish - ruin), polish=0.0, ruin=0.0
        )
        found = first._search(stall=RUIN_STALL * self.seconds if ruin > 0 else None)
        if found is not None and ruin > 0:
            found = self._ruin_and_recreate(found, self.seconds * (1 - self.polish) - (
                time.perf_counter() - started))
        left = self.seconds - (time.perf_counter() - started)
        if self.polish <= 0:
            return found
        if found is None or left < POLISH_MIN_SECONDS:
            return found
        again = dataclasses.replace(
            self, seconds=left, warm=found, greedy=True, keep_shifts=False, polish=0.0, ruin=0.0
        )._search()
        if again is None or again.objective > found.objective:
            return found
        return dataclasses.replace(again, seconds=time.perf_counter() - started)

    def _ruin_and_recreate(self, found: RoutingPlan, seconds: float) -> RoutingPlan:
        if seconds < POLISH_MIN_SECONDS or not any(route.stops for route in found.routes):
            return found
        # Each step is a greedy descent without the slow path-reinsertion operators (with a
        # handful of cheap moves only it was worse on the tuning set; ADR 0004).
        params = search_parameters(self.strategy, seconds, None, greedy=True)
        for name in SLOW_OPERATORS:
            setattr(params.local_search_operators, name, BOOL_FALSE)
        return ruin_and_recreate(self.problem, self.screening, found, seconds, params)

    def _search(self, stall: float | None = None) -> RoutingPlan | None:
        started = time.perf_counter()
        fixed = _fixed_shifts(self.warm) if self.keep_shifts else {}
        model = build_model(self.problem, self.screening, fixed)
        params = search_parameters(
            self.strategy,
            self.seconds,
            self.solution_limit,
            greedy=self.greedy,
            insert_only=self.insert_only,
            distance_vrptw=is_distance_vrptw(self.problem),
            gls_lambda=self.gls_lambda,
        )
        if stall is not None:
            _stop_when_stalled(model.routing, stall)
        solution = None
        if self.warm is not None:
            # Reading routes closes the model; close it first with *our* parameters, or the
            # operators and metaheuristic silently fall back to the defaults. The restored
            # routes give only each visit's successor; the solution finalizer then places every
            # start and break, and OR-Tools bounds that finalizer by ``lns_time_limit``
            # (100 ms by default). A week of 84 shifts with breaks needs 0.3 to 2 s (load
            # dependent), so the restore failed with ROUTING_FAIL and the warm start was lost
            # (H-148): the limit is raised to this search's budget for a warm start.
            params.lns_time_limit.FromMilliseconds(
                max(params.lns_time_limit.ToMilliseconds(), int(self.seconds * 1000))
            )
            model.routing.CloseModelWithParameters(params)
            routes = warm_routes(model, self.warm)
            initial = model.routing.ReadAssignmentFromRoutes(routes, True)  # ignore_inactive
            if initial is not None:
                solution = model.routing.SolveFromAssignmentWithParameters(initial, params)
        if solution is None and not self.insert_only:
            solution = model.routing.SolveWithParameters(params)
        if solution is None:
            return None
        return read_plan(model, solution, time.perf_counter() - started)


def _stop_when_stalled(routing: pywrapcp.RoutingModel, seconds: float) -> None:
    """Finish the search once ``seconds`` have passed without a better plan."""
    best_cost: list[int] = []
    best_at = [time.perf_counter()]

    def seen() -> None:
        cost, now = routing.CostVar().Value(), time.perf_counter()
        if not best_cost or cost < best_cost[0]:
            best_cost[:] = [cost]
            best_at[0] = now
        elif now - best_at[0] > seconds:
            routing.solver().FinishCurrentSearch()

    routing.AddAtSolutionCallback(seen)


def worker_settings(
    problem: RoutingProblem, workers: int
) -> list[tuple[int, float | None, float, float]]:
    """Each parallel search's first-solution strategy, lambda (None: the default), polish
    share and ruin-and-recreate share: the portfolio, each search with ruin and recreate and
    polished, for distance VRPTW; for every other problem the start strategies with the usual
    lambda, no ruin and recreate and no polish."""
    count = max(1, min(workers, len(WORKER_STRATEGIES)))
    if is_distance_vrptw(problem):
        return [
            (start, gls, VRPTW_POLISH, VRPTW_RUIN) for start, gls in VRPTW_PORTFOLIO[:count]
        ]
    return [(strategy, None, 0.0, 0.0) for strategy in WORKER_STRATEGIES[:count]]


_ISOLATED = {"on": False}


def isolate_searches(*, on: bool = True) -> None:
    """Run every search in a forked child, never in this process.

    Why: the SWIG wrapper holds the GIL for the whole search, so a search in a web server's
    process stalls its request threads for seconds. ``dispatch serve`` (web and jobs in one
    process) turns this on; the parent waits on a pipe, which releases the GIL.
    """
    _ISOLATED["on"] = on and "fork" in multiprocessing.get_all_start_methods()


def run_one(job: SearchJob) -> RoutingPlan | None:
    """Run ``job`` here, or in a forked child when searches are isolated."""
    return _collect(_fork(job)) if _ISOLATED["on"] else job.run()


def run_parallel(jobs: Sequence[SearchJob]) -> RoutingPlan:
    """Run job 0 here and the others in forked processes; keep the best plan.

    The SWIG wrapper holds the GIL during the search, so threads would not use the second
    core. Forked children inherit the built job (nothing is pickled on the way in, which
    would need the GIL the searching parent holds) and send back only the plan. With
    :func:`isolate_searches` on, job 0 runs in a child too.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        results = [jobs[0].run()]
    elif _ISOLATED["on"]:
        results = [_collect(child) for child in [_fork(job) for job in jobs]]
    elif len(jobs) == 1:
        results = [jobs[0].run()]
    else:
        children = [_fork(job) for job in jobs[1:]]
        results = [jobs[0].run(), *(_collect(child) for child in children)]
    found = [
        (plan.objective, index, plan)
        for index, plan in enumerate(results)
        if plan and not _empty_by_timeout(plan, jobs[index])
    ]
    if not found:
        # Out of time before a first solution (a loaded machine): never no plan at all.
        first = jobs[0]
        return greedy_plan(first.problem, first.screening, first.warm)
    return min(found, key=lambda item: (item[0], item[1]))[2]


def _empty_by_timeout(plan: RoutingPlan, job: SearchJob) -> bool:
    """Whether ``plan`` serves nothing although some visit has an eligible shift: what the
    library hands back when its time runs out while it is still building the first plan
    (every visit left out). Seen under heavy load (H-142): 693 visits on 84 shifts, two
    10 s searches at load 13 on 2 cores, both returned no visit served, and the plan was
    taken as the answer. It is no solution: the greedy fallback serves what fits."""
    return not any(route.stops for route in plan.routes) and any(
        job.screening.candidates.get(v.id) or v.pinned_to is not None
        for v in job.problem.visits
        if v.id in job.screening.candidates
    )


_Child = tuple[multiprocessing.process.BaseProcess, Connection]


def _fork(job: SearchJob) -> _Child:
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    process = context.Process(target=_child_main, args=(job, writer), daemon=True)
    process.start()
    writer.close()
    return process, reader


def _child_main(job: SearchJob, writer: Connection) -> None:
    try:
        writer.send(job.run())
    except Exception:  # the parent treats a failed worker as "no plan"
        writer.send(None)
    finally:
        writer.close()


def _collect(child: _Child) -> RoutingPlan | None:
    process, reader = child
    try:
        plan: RoutingPlan | None = reader.recv()
    except EOFError:
        plan = None
    finally:
        reader.close()
        process.join()
    return plan


def _fixed_shifts(plan: RoutingPlan | None) -> dict[str, str]:
    if plan is None:
        return {}
    return {stop.visit_id: route.shift_id for route in plan.routes for stop in route.stops}


def search_parameters(
    strategy: int,
    seconds: float,
    solution_limit: int | None,
    *,
    greedy: bool = False,
    insert_only: bool = False,
    distance_vrptw: bool = False,
    gls_lambda: float | None = None,
) -> pywrapcp.RoutingSearchParameters:
    """The search parameters: ``strategy`` for the first plan, then guided local search (or a
    greedy descent) until ``seconds`` or ``solution_limit``.

    ``distance_vrptw`` (:func:`is_distance_vrptw`) selects the settings tuned on Solomon-style
    problems (ADR 0004); every other problem keeps the OR-Tools defaults it was built on.
    ``gls_lambda`` overrides the guided local search lambda of either (a portfolio's worker).
    """
    params = pywrapcp.DefaultRoutingSearchParameters()
    tuned = distance_vrptw and not greedy and not insert_only
    if insert_only:
        _insertion_operators_only(params)
    elif tuned:
        for name in SLOW_OPERATORS:
            setattr(params.local_search_operators, name, BOOL_FALSE)
    params.first_solution_strategy = strategy
    params.local_search_metaheuristic = LSM.GREEDY_DESCENT if greedy else LSM.GUIDED_LOCAL_SEARCH
    if gls_lambda is None:
        gls_lambda = VRPTW_GLS_LAMBDA if tuned else GLS_LAMBDA
    params.guided_local_search_lambda_coefficient = gls_lambda
    params.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
    if solution_limit is not None:
        params.solution_limit = solution_limit
    return params


def is_distance_vrptw(problem: RoutingProblem) -> bool:
    """A plain distance-minimising problem with windows (Solomon-style): the distance
    objective, no lateness priced, no linked or spaced visits, no breaks, one travel
    profile."""
    return (
        problem.objective == "distance"
        and problem.lateness is None
        and not problem.links
        and not problem.spacing
        and all(not s.breaks and s.profile == problem.shifts[0].profile for s in problem.shifts)
    )


def _insertion_operators_only(params: pywrapcp.RoutingSearchParameters) -> None:
    """Keep only moves that bring an unperformed visit in (and may swap one out).

    Used for urgent insertion: the search then never reshuffles the rest of the plan, and
    each descent step is cheap enough for a sub-second answer at 500 visits.
    """
    operators = params.local_search_operators
    for descriptor in operators.DESCRIPTOR.fields:
        setattr(operators, descriptor.name, BOOL_FALSE)
    for name in INSERTION_OPERATORS:
        setattr(operators, name, BOOL_TRUE)
