"""What a worker does with each planning task (issue 18 part 5): one network, one task.

Each function takes the task's ledger id and runs through :func:`perform`: the task is marked
``running`` (one more attempt; a task already finished is skipped, so a message delivered again
does nothing), its work runs through the planning pipeline with a :class:`~tasks.Claim`, and
its end is recorded. The apply itself is guarded in its own transaction
(:func:`dispatch.planning.tasks.claim_apply`): an earlier run's apply is never repeated and a
plan read before a newer one was applied is dropped. A superseded placement is read and solved
again at once (a new visit must not wait for the next tick); a superseded re-optimisation once.

No Flask and no task engine here: the engine's actors (:mod:`dispatch.tasks`) call these with
the worker's database, clock and travel provider.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from dispatch.database import Database
from dispatch.planning import pipeline, runs, tasks
from routing.errors import RoutingError
from routing.travel import TravelTimeProvider

log = logging.getLogger(__name__)

#: How often a superseded task reads and solves again before giving up (the scheduler sends
#: the work again at its next tick if it is still needed).
SUPERSEDED_RETRIES = {"place": 3, "reoptimise": 1}


def perform(database: Database, *, task_id: str, kind: str, worker: str,
            clock: Callable[[], datetime], body: Callable[[], tuple[str, str | None]],
            network_id: int | None = None, subject_id: int | None = None) -> str:
    """Run ``body`` as task ``task_id``; returns the task's final status (``skipped`` when an
    earlier run finished it). ``body`` returns (status, note); an exception is noted on the
    task, which stays open, and raised again (the engine retries it)."""
    with database.session_scope() as session:
        row = tasks.start(session, task_id, kind=kind, worker=worker, now=clock(),
                          network_id=network_id, subject_id=subject_id)
        attempt = 0 if row is None else row.attempts
    if row is None:
        log.info("task %s (%s) finished earlier; nothing to do", task_id, kind)
        return "skipped"
    if attempt > 1:
        log.warning("task %s (%s) run again (attempt %d): its worker stopped before it ended",
                    task_id, kind, attempt)
    try:
        status, note = body()
    except Exception as exc:
        # Left open (``running``) so the engine's retry runs it again; the note says why.
        with database.session_scope() as session:
            tasks.note(session, task_id, f"attempt {attempt}: {type(exc).__name__}: {exc}")
        raise
    with database.session_scope() as session:
        return tasks.finish(session, task_id, status=status, now=clock(), note=note)


def _network_run(database: Database, *, task_id: str, kind: str, network_id: int,
                 now: datetime, provider: TravelTimeProvider, options: pipeline.Options,
                 new_ids: Sequence[int] | None) -> tuple[str, str | None]:
    claim = tasks.Claim(task_id)
    tx = pipeline.ShortTransactions(database)
    for _ in range(SUPERSEDED_RETRIES[kind] + 1):
        try:
            report = pipeline.run(tx, now=now, provider=provider, network_id=network_id,
                                  options=options, new_ids=new_ids, claim=claim)
        except tasks.AlreadyApplied:
            return "applied", "applied by an earlier run"
        except tasks.Superseded as exc:
            log.info("task %s: %s; reading again", task_id, exc)
            continue
        except RoutingError as exc:
            return "failed", f"no plan: {exc}"
        if report.apply.refused:
            return "failed", "refused: " + "; ".join(report.apply.refused)
        if report.plan is None:
            return "done", "nothing to plan"
        return "applied", None
    return "superseded", "a newer plan was applied each time this one was ready"


def place(database: Database, *, task_id: str, network_id: int, visit_ids: Sequence[int],
          now: datetime, clock: Callable[[], datetime], provider: TravelTimeProvider,
          seconds: float, worker: str, rescue_seconds: float = 0.0,
          offer_lead: timedelta | None = None) -> str:
    """Insert the network's new visits (urgent first) into its current plan and apply it
    (re-optimising it for ``rescue_seconds`` when a 2-hour visit does not fit)."""
    return perform(database, task_id=task_id, kind="place", worker=worker, clock=clock,
                   network_id=network_id, body=lambda: _network_run(
                       database, task_id=task_id, kind="place", network_id=network_id,
                       now=now, provider=provider,
                       options=pipeline.Options(method="insert", seconds=seconds,
                                                rescue_seconds=rescue_seconds,
                                                offer_lead=offer_lead),
                       new_ids=list(visit_ids)))


def reoptimise(database: Database, *, task_id: str, network_id: int, now: datetime,
               clock: Callable[[], datetime], provider: TravelTimeProvider, seconds: float,
               worker: str, offer_lead: timedelta | None = None) -> str:
    """Re-optimise the network from its current plan and apply it."""
    return perform(database, task_id=task_id, kind="reoptimise", worker=worker, clock=clock,
                   network_id=network_id, body=lambda: _network_run(
                       database, task_id=task_id, kind="reoptimise", network_id=network_id,
                       now=now, provider=provider,
                       options=pipeline.Options(method="improve", seconds=seconds,
                                                offer_lead=offer_lead),
                       new_ids=None))


def plan_request(database: Database, *, task_id: str, plan_id: int, now: datetime,
                 clock: Callable[[], datetime], provider: TravelTimeProvider,
                 worker: str, workers: int = 1,
                 week_solution_limit: int | None = None) -> str:
    """A stored plan request (a proposal, a coordinator's "re-plan now", which is applied, or
    a week's plan, written back unless a preview).

    A request left ``running`` by a worker that died is put back to ``pending`` and run again:
    a proposal is only stored, a re-plan's apply is guarded by the task's claim, and a week's
    write and its result are one transaction (a re-run changes only what has not changed).
    """
    def body() -> tuple[str, str | None]:
        with database.session_scope() as session:
            plan = runs.get_plan(session, plan_id)
            if plan.status == "running":
                plan.status = "pending"
        status = runs.execute_plan(pipeline.ShortTransactions(database), plan_id=plan_id,
                                   provider=provider, now=now, workers=workers,
                                   claim=tasks.Claim(task_id),
                                   week_solution_limit=week_solution_limit)
        return ("failed" if status == "failed" else "done"), f"plan {plan_id} {status}"

    return perform(database, task_id=task_id, kind="plan", worker=worker, clock=clock,
                   subject_id=plan_id, body=body)
