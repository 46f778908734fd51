"""The one planning pipeline: read, solve, apply.

Every planner in the service goes through here: the jobs' placer and re-optimiser
(:mod:`dispatch.planning.live`), the simulator's optimised policy
(:mod:`dispatch.simulation.policies`), plan requests (:mod:`dispatch.planning.runs`, which stop
before apply: a requested plan is a proposal) and a coordinator's "re-plan now".

- **read** builds a network's routing problem from the rows and the current assignments as a
  plan (:func:`read`);
- **solve** places new visits by fast insertion, re-optimises from the current plan, or solves
  from scratch, as :class:`Options` says (:func:`solve`);
- **apply** writes the plan back (``apply_plan``) then runs the after-apply steps it is given
  (by default :func:`unplaced_urgent`: cover or jeopardy for a 2-hour visit left unplaced);
  a refused apply is reported in :class:`Report` (``apply.refused``).

How the phases meet the database is a :class:`Transactions` policy: production jobs use
:class:`ShortTransactions` (each phase its own short transaction; the solve runs with none
open, so no row or SQLite write lock is held for seconds, and ``apply_plan`` leaves visits
changed meanwhile as they are); the simulator uses :class:`OneSession` (one session on its
simulated clock).

Under :class:`ShortTransactions` a run holds its network's planning lock from the read to the
end of the apply (:mod:`dispatch.planning.locks`, H-090): a placement and a re-optimisation of
one network never solve together, on any number of machines. A visit still changed by someone
else during the apply (a reply, a coordinator) makes the apply's UPDATE find no row
(``StaleDataError``): the apply is rolled back whole and the run reads and solves again
(:class:`Changed`, at most :data:`CHANGED_RETRIES` times).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol

import sqlalchemy as sa
from sqlalchemy import orm as so
from sqlalchemy.orm.exc import StaleDataError

from dispatch.database import Database
from dispatch.errors import Conflict
from dispatch.models import Network, Visit
from dispatch.planning import jeopardy, locks, pairs, pin_costs, tasks
from dispatch.planning.apply import ApplyReport, apply_plan
from dispatch.planning.problem import (
    DEFAULT_HORIZON,
    ProblemIndex,
    build_problem,
    current_plan,
)
from dispatch.planning.retries import FIRST_WAIT, PlacementRetries, urgent_first
from dispatch.services import operations, slot_holds
from routing import solver
from routing.errors import RoutingInfeasible
from routing.travel import TravelTimeProvider
from routing.types import PRIORITY_URGENT_2H, RoutingPlan, RoutingProblem

log = logging.getLogger(__name__)
#: How a plan is found: ``insert`` the new visits one by one into the current plan (moving as
#: little as possible), ``improve`` the current plan, or ``solve`` from scratch.
Method = Literal["insert", "improve", "solve"]
#: When accepted visits' agreed times may slide (the worker stays): ``never``, only if the
#: problem is infeasible as it stands (``on_infeasible``), or ``always``.
Relax = Literal["never", "on_infeasible", "always"]

#: How long a visit the placer could not place waits before it is first tried again.
RETRY_AFTER = FIRST_WAIT
#: How often a run whose apply met a visit changed meanwhile reads and solves again.
CHANGED_RETRIES = 2


@dataclass(frozen=True, kw_only=True, slots=True)
class Options:
    """How to solve. ``solution_limit`` makes a search a pure function of the rows (tests and
    the simulator); ``seconds`` bounds it by the wall clock (production)."""

    method: Method
    seconds: float
    workers: int = 1
    solution_limit: int | None = None
    relax: Relax = "never"
    #: The planning horizon from ``now`` (``None``: build_problem's default).
    horizon: timedelta | None = None
    #: Offer by SMS only the visits planned to start within this of ``now`` (and every
    #: 2-hour visit); later ones are booked provisionally (``assigned``, the worker not yet
    #: told), so a later re-plan can still give their slot to an urgent visit. ``None``: offer
    #: every planned visit at once (each offer accepted then holds its worker all day).
    offer_lead: timedelta | None = None
    #: ``insert`` only: when the insertion leaves a new 2-hour visit unplaced, re-optimise the
    #: network from that plan for this long before giving it up to cover or jeopardy (0: never).
    #: The insertion moves one visit at a time; room for a long urgent visit in a full morning
    #: often needs two moved (issue 18, London benchmark: every urgent fall of a quiet run went
    #: to jeopardy that a re-optimisation placed in seconds).
    rescue_seconds: float = 0.0


class Transactions(Protocol):
    """Where each phase's session comes from, and what keeps other runs off the network."""

    def session(self) -> AbstractContextManager[so.Session]: ...

    def network(self, network_id: int | None) -> AbstractContextManager[None]: ...


@dataclass(frozen=True, slots=True)
class ShortTransactions:
    """Production: every phase in its own short transaction, committed at its end; a run
    holds its network's planning lock throughout (waiting at most ``lock_wait`` seconds)."""

    database: Database
    lock_wait: float = locks.WAIT_SECONDS

    def session(self) -> AbstractContextManager[so.Session]:
        return self.database.session_scope()

    def network(self, network_id: int | None) -> AbstractContextManager[None]:
        if network_id is None:
            return nullcontext()
        return locks.network_lock(self.database.engine, network_id, wait=self.lock_wait)


@dataclass(frozen=True, slots=True)
class OneSession:
    """The simulator (and single-session callers): every phase in the caller's session, which
    the caller commits. One session plans one network at a time: no lock."""

    current: so.Session

    def session(self) -> AbstractContextManager[so.Session]:
        return _same(self.current)

    def network(self, network_id: int | None) -> AbstractContextManager[None]:
        return nullcontext()


@contextmanager
def _same(session: so.Session) -> Iterator[so.Session]:
    yield session


#: A step run after a plan is applied, in the apply's transaction policy.
AfterApply = Callable[[so.Session, RoutingPlan, ProblemIndex, datetime, TravelTimeProvider], None]


def unplaced_urgent(
    session: so.Session, plan: RoutingPlan, index: ProblemIndex, now: datetime,
    provider: TravelTimeProvider,
) -> None:
    """A 2-hour visit the plan could not place in time: cover from another network on
    capacity, else jeopardy at once for a person to decide (hazard H-006)."""
    jeopardy.after_plan(session, plan=plan, index=index, now=now, provider=provider)
    # Then name a coordinator's pin that keeps one unplaced (the board warns; issue 14).
    pin_costs.after_plan(session, plan=plan, index=index, now=now, provider=provider)


AFTER_APPLY: tuple[AfterApply, ...] = (unplaced_urgent,)


class Cancelled(Exception):
    """The run was cancelled between its solve and its apply: nothing was applied."""


class Changed(tasks.Superseded):
    """A visit of the plan was changed by someone else while the apply was writing it (its
    UPDATE matched no row): the apply was rolled back whole, nothing was written."""


def _changed_meanwhile(exc: BaseException) -> bool:
    """An optimistic-lock failure: the ORM's own, or visit_actions' Conflict wrapping it."""
    return isinstance(exc, StaleDataError) or (
        isinstance(exc, Conflict) and isinstance(exc.__cause__, StaleDataError))


@dataclass
class Read:
    """What the read phase found: the problem, its index to database ids, the current plan."""

    problem: RoutingProblem
    index: ProblemIndex
    current: RoutingPlan
    #: The network's plan generation when read (:mod:`dispatch.planning.tasks`).
    generation: int = 0


@dataclass
class Report:
    network_id: int | None
    visits: int
    placed: int
    apply: ApplyReport
    #: Whether accepted visits' times had to slide to find a plan (``Options.relax``).
    relaxed: bool = False
    plan: RoutingPlan | None = field(default=None, repr=False)
    index: ProblemIndex | None = field(default=None, repr=False)


def read(
    session: so.Session, *, now: datetime, provider: TravelTimeProvider,
    network_id: int | None, horizon: timedelta | None = None,
) -> Read:
    """Build ``network_id``'s problem from the rows, with the assignments as they stand."""
    problem, index = build_problem(session, now=now, provider=provider, network_id=network_id,
                                   horizon=DEFAULT_HORIZON if horizon is None else horizon)
    # A pair half-held in the rows (one worker declined) is placed afresh, as a pair.
    current = pairs.without_lone_halves(problem, current_plan(session, problem, index))
    # Times held for callers are not given away (H-150): pinned copies, taken out by solve.
    problem, current = slot_holds.for_planner(session, problem, current, index,
                                              network_id=network_id, now=now)
    generation = 0 if network_id is None else tasks.generation(session, network_id)
    return Read(problem, index, current, generation)


def relaxed(problem: RoutingProblem) -> RoutingProblem:
    """The problem with every accepted visit kept on its worker but free to move in time.

    Why: ``build_problem`` pins an accepted visit to its agreed start, and starts an idle
    worker's route at their base at ``now``. When the agreed start was planned from somewhere
    nearer (or earlier), the pin cannot be met and the whole network becomes infeasible.
    Relaxing the time (not the worker) is what a coordinator would do: the worker is told the
    visit runs a little late.
    """
    visits = tuple(dataclasses.replace(v, pinned_start=None) if v.pinned_start is not None
                   else v for v in problem.visits)
    return dataclasses.replace(problem, visits=visits)


def solve(
    found: Read, *, options: Options, new_ids: Sequence[int] = (),
) -> tuple[RoutingPlan, bool]:
    """The plan ``options`` asks for, and whether the problem had to be relaxed.

    ``new_ids`` (database ids, most urgent first) are the visits ``insert`` places.
    :raise RoutingInfeasible: no plan (after relaxing, if ``options.relax`` allows it).
    """
    if options.relax == "always":
        return _whole(found, _solve(found, relaxed(found.problem), options, new_ids)), True
    try:
        return _whole(found, _solve(found, found.problem, options, new_ids)), False
    except RoutingInfeasible:
        if options.relax != "on_infeasible":
            raise
    return _whole(found, _solve(found, relaxed(found.problem), options, new_ids)), True


def _whole(found: Read, plan: RoutingPlan) -> RoutingPlan:
    """Never one half of a linked pair served alone (H-100, :mod:`dispatch.planning.pairs`);
    the slot holds' copies taken out (:func:`dispatch.services.slot_holds.without_holds`)."""
    return slot_holds.without_holds(pairs.whole_pairs(found.problem, plan))


def _solve(found: Read, problem: RoutingProblem, options: Options,
           new_ids: Sequence[int]) -> RoutingPlan:
    if options.method == "solve":
        return solver.solve(problem, seconds=options.seconds, workers=options.workers,
                            solution_limit=options.solution_limit)
    if options.method == "improve":
        return solver.improve(found.current, problem, options.seconds, workers=options.workers,
                              solution_limit=options.solution_limit)
    plan = found.current
    by_row = {row_id: vid for vid, row_id in found.index.visits.items()}
    for row_id in new_ids:
        # A visit listed as new may have been booked since (the placer lists in one
        # transaction and plans in the next): it is in the current plan already, and
        # inserting it again routed it twice (issue 20: "Index ... is used multiple times").
        if row_id in by_row and plan.route_of(by_row[row_id]) is None:
            plan = solver.insert_urgent(plan, problem, problem.visit(by_row[row_id]),
                                        seconds=options.seconds)
    left = [by_row[r] for r in new_ids if r in by_row and plan.route_of(by_row[r]) is None
            and problem.visit(by_row[r]).priority <= PRIORITY_URGENT_2H]
    if left and options.rescue_seconds > 0:
        rescued = solver.improve(plan, problem, options.rescue_seconds, workers=options.workers,
                                 solution_limit=options.solution_limit)
        placed = sum(rescued.route_of(v) is not None for v in left)
        if placed:
            log.info("insertion left %d urgent visit(s) unplaced; a re-optimisation placed %d",
                     len(left), placed)
            return rescued
    return plan


def apply(
    tx: Transactions, *, plan: RoutingPlan, index: ProblemIndex, now: datetime,
    provider: TravelTimeProvider, after_apply: Sequence[AfterApply] = AFTER_APPLY,
    network_id: int | None = None, read_generation: int = 0,
    claim: tasks.Claim | None = None, offer_before: datetime | None = None,
) -> ApplyReport:
    """Write ``plan`` back, then run each after-apply step (each in its own transaction under
    :class:`ShortTransactions`).

    A plan for one network moves its plan generation on (in the same transaction). With a
    ``claim`` (a worker's task, :mod:`dispatch.planning.tasks`) the apply first checks, in that
    transaction, that the task has not applied already and that no plan was applied to the
    network since ``read_generation``, and records the task applied with the plan.

    :raise tasks.AlreadyApplied: nothing written (an earlier run of the task applied it).
    :raise tasks.Superseded: nothing written (a newer plan is in).
    :raise Changed: nothing written (a visit was changed by someone else during the apply).
    """
    if claim is not None and network_id is None:
        raise ValueError("a task's plan is for one network")
    try:
        with tx.session() as session:
            if claim is not None and network_id is not None:
                tasks.claim_apply(session, claim, network_id=network_id,
                                  read_generation=read_generation)
            report = apply_plan(session, plan=plan, index=index, now=now,
                                offer_before=offer_before)
            applied = None
            if network_id is not None and not report.refused:
                applied = tasks.advance(session, network_id)
            if claim is not None and report.refused:  # nothing written: the task failed
                tasks.finish(session, claim.task_id, status="failed", now=now,
                             note="refused: " + "; ".join(report.refused))
            elif claim is not None:
                tasks.mark_applied(session, claim, applied_generation=applied, now=now)
    except (StaleDataError, Conflict) as exc:
        if not _changed_meanwhile(exc):
            raise
        raise Changed(f"network {network_id}: a visit was changed while the plan was being "
                      f"applied ({exc}); nothing written") from exc
    for step in after_apply:
        with tx.session() as session:
            step(session, plan, index, now, provider)
    return report


def run(
    tx: Transactions, *, now: datetime, provider: TravelTimeProvider, network_id: int | None,
    options: Options, new_ids: Sequence[int] | None = None,
    after_apply: Sequence[AfterApply] = AFTER_APPLY,
    proceed: Callable[[], bool] | None = None, claim: tasks.Claim | None = None,
) -> Report:
    """Read, solve and apply one network. A network with no open visits is left alone.

    ``new_ids``: the visits to insert (``method="insert"``); ``None`` for the others.
    ``proceed``, if given, is asked after the solve whether to apply (a cancel flag).
    ``claim``: a worker's task (see :func:`apply`).

    The whole run holds the network's planning lock (``tx.network``). An apply that met a visit
    changed meanwhile (:class:`Changed`: rolled back, nothing written) is read and solved
    again, at most :data:`CHANGED_RETRIES` times.

    :raise RoutingInfeasible: no plan was found (nothing is applied).
    :raise Cancelled: ``proceed`` said no (nothing is applied).
    :raise tasks.AlreadyApplied, tasks.Superseded: with a ``claim`` (nothing is applied).
    :raise Changed: still changed after the retries (nothing is applied).
    :raise locks.NetworkBusy: another run held the network too long (nothing is done).
    """
    with tx.network(network_id):
        for attempt in range(CHANGED_RETRIES + 1):
            try:
                return _run_once(tx, now=now, provider=provider, network_id=network_id,
                                 options=options, new_ids=new_ids, after_apply=after_apply,
                                 proceed=proceed, claim=claim)
            except Changed as exc:
                if attempt == CHANGED_RETRIES:
                    raise
                log.warning("%s; reading and solving again", exc)
    raise AssertionError("unreachable")


def _run_once(
    tx: Transactions, *, now: datetime, provider: TravelTimeProvider, network_id: int | None,
    options: Options, new_ids: Sequence[int] | None, after_apply: Sequence[AfterApply],
    proceed: Callable[[], bool] | None, claim: tasks.Claim | None,
) -> Report:
    with tx.session() as session:
        found = read(session, now=now, provider=provider, network_id=network_id,
                     horizon=options.horizon)
        if claim is not None:
            tasks.read_generation_of(session, claim.task_id, found.generation)
    if not found.problem.visits and new_ids is None:
        return Report(network_id, 0, 0, ApplyReport())
    started = time.perf_counter()
    try:
        plan, was_relaxed = solve(found, options=options, new_ids=new_ids or ())
    except RoutingInfeasible:
        _record(tx, network_id, options, now, started, len(found.problem.visits), 0, False)
        raise
    if proceed is not None and not proceed():
        raise Cancelled(f"network {network_id}: cancelled before apply")
    report = apply(tx, plan=plan, index=found.index, now=now, provider=provider,
                   after_apply=after_apply, network_id=network_id,
                   read_generation=found.generation, claim=claim,
                   offer_before=None if options.offer_lead is None else now + options.offer_lead)
    _record(tx, network_id, options, now, started, len(found.problem.visits),
            sum(len(r.stops) for r in plan.routes), was_relaxed)
    return Report(network_id, len(found.problem.visits),
                  sum(len(r.stops) for r in plan.routes), report, was_relaxed, plan, found.index)


def _record(tx: Transactions, network_id: int | None, options: Options, now: datetime,
            started: float, visits: int, planned: int, relaxed: bool) -> None:
    """The run's time and what it left unplanned, for ``/metrics`` (its own transaction)."""
    with tx.session() as session:
        operations.record_planner_run(
            session, network_id=network_id, method=options.method, started=now,
            seconds=time.perf_counter() - started, visits=visits, planned=planned,
            relaxed=relaxed)


def networks_with_new_visits(session: so.Session) -> dict[int, list[int]]:
    """Never-planned visits (unassigned, not in jeopardy) by network, most urgent first."""
    return new_visits(session)[0]


def new_visits(session: so.Session) -> tuple[dict[int, list[int]], frozenset[int]]:
    """:func:`networks_with_new_visits`, and which of them are 2-hour visits (retried by the
    placer every minute, never backed off: :mod:`dispatch.planning.retries`)."""
    rows = session.execute(
        sa.select(Visit.id, Visit.network_id, Visit.priority)
        .join(Network, Network.id == Visit.network_id)
        .where(Visit.status == "unassigned", Visit.jeopardy_cause.is_(None))
        .order_by(Visit.priority, Visit.deadline)
    ).all()
    found: dict[int, list[int]] = {}
    for row in rows:
        found.setdefault(row.network_id, []).append(row.id)
    return found, frozenset(row.id for row in rows if row.priority <= PRIORITY_URGENT_2H)


def place_new(
    tx: Transactions, *, now: datetime, provider: TravelTimeProvider, options: Options,
    network_ids: Sequence[int] | None = None, retries: PlacementRetries | None = None,
    after_apply: Sequence[AfterApply] = AFTER_APPLY,
) -> list[Report]:
    """Insert each network's never-planned visits: one :func:`run` for its 2-hour visits,
    then one for the rest (:func:`dispatch.planning.retries.urgent_first`), so an urgent
    visit's offer is applied before the routine insertions begin.

    ``retries`` (kept by the caller across runs) remembers when each visit was last tried, so
    a visit with no room is tried again after a minute, then less and less often
    (:mod:`dispatch.planning.retries`), rather than on every tick; the re-optimisation and the
    deadline watch look after it meanwhile. ``network_ids`` limits the networks.
    """
    retries = PlacementRetries() if retries is None else retries
    with tx.session() as session:
        by_network, urgent = new_visits(session)
    reports = []
    for network_id, due in retries.due(by_network, urgent=urgent, now=now).items():
        if network_ids is not None and network_id not in network_ids:
            continue
        for batch in urgent_first(due, urgent):
            reports.append(run(tx, now=now, provider=provider, network_id=network_id,
                               options=dataclasses.replace(options, method="insert"),
                               new_ids=batch, after_apply=after_apply))
            retries.tried(batch, now)
    return reports
