"""Solves as stored resources: a ``Plan`` row records what was asked and what came back.

A request is recorded ``pending`` (:func:`create_plan`); the ``run_plans`` job solves it
through the planning pipeline (:func:`run_pending`), never a web thread; it can be cancelled
while pending or running (:func:`cancel_plan`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.models import Network, Plan, Visit
from dispatch.models.base import utcnow
from dispatch.planning import pipeline, tasks
from dispatch.planning.problem import DEFAULT_HORIZON, ProblemIndex
from dispatch.services import audit
from dispatch.states import VISIT_OPEN_STATUSES
from routing.errors import RoutingError
from routing.providers import make_provider
from routing.travel import TravelTimeProvider
from routing.types import RoutingPlan

MAX_SECONDS = 120.0


class Configured(Protocol):
    """Anything with settings: the Flask app (``app.config``), without importing Flask."""

    @property
    def config(self) -> Mapping[str, Any]: ...


def provider_for(app: Configured) -> TravelTimeProvider:
    """The configured travel-time provider (OSRM when DISPATCH_OSRM_URL is set)."""
    return make_provider(app.config.get("OSRM_URL") or None)


def plan_result(plan: RoutingPlan, index: ProblemIndex) -> dict[str, Any]:
    """The plan in database ids and ISO times (what ``GET /api/plans/{id}`` shows)."""
    routes = []
    for route in plan.routes:
        routes.append(
            {
                "vehicle": str(index.shifts[route.shift_id]),
                "shift_id": index.shifts[route.shift_id],
                "staff_id": index.staff_of_shift[route.shift_id],
                "visits": [str(index.visits[s.visit_id]) for s in route.stops],
                "arrivals": [index.at(s.arrival).isoformat() for s in route.stops],
                "starts": [index.at(s.start).isoformat() for s in route.stops],
                "breaks": [
                    [index.at(b.start).isoformat(), index.at(b.end).isoformat()]
                    for b in route.breaks
                ],
                "travel_minutes": round(route.travel / 60, 1),
            }
        )
    return {
        "routes": routes,
        "travel_minutes": round(plan.travel_total / 60, 1),
        "distance": plan.distance_total,
        "vehicles": plan.vehicles_used,
        "unassigned": [
            {"id": str(index.visits[u.visit_id]), "reason": u.reason, "code": u.code}
            for u in plan.unassigned
        ],
        "late": [
            {
                "id": str(index.visits[v.visit_id]),
                "deadline": index.at(v.deadline).isoformat(),
                "start": index.at(v.start).isoformat(),
            }
            for v in plan.late
        ],
        "seconds": plan.seconds,
        "fallback": plan.fallback,
        "note": plan.note,
    }


def create_plan(
    session: so.Session,
    *,
    network_id: int | None,
    horizon_hours: float,
    seconds: float,
    now: datetime,
    requested_by: str,
) -> Plan:
    """Record a requested solve (status ``pending``). :raise InvalidInput: bad network or limits."""
    errors: dict[str, list[str]] = {}
    if network_id is not None and session.get(Network, network_id) is None:
        errors["network"] = ["no such network"]
    if not 0 < seconds <= MAX_SECONDS:
        errors["seconds"] = [f"must be more than 0 and at most {MAX_SECONDS:g}"]
    if not 0 < horizon_hours <= 72:
        errors["horizon_hours"] = ["must be more than 0 and at most 72"]
    if errors:
        raise InvalidInput("invalid plan request", errors=errors)
    plan = Plan(
        network_id=network_id,
        status="pending",
        horizon_start=now,
        horizon_end=now + timedelta(hours=horizon_hours),
        seconds=seconds,
        requested_by=requested_by,
        created_at=now,
    )
    session.add(plan)
    session.flush()
    return plan


def request_replan(
    session: so.Session, *, network_id: int, seconds: float, now: datetime, requested_by: str,
) -> Plan:
    """Record a coordinator's "re-plan now" for ``network_id`` (status ``pending``, kind
    ``replan``); the ``run_plans`` job re-optimises it from its current plan and applies it.
    :raise NotFound: no such network."""
    if session.get(Network, network_id) is None:
        raise NotFound(f"network {network_id} not found")
    plan = Plan(network_id=network_id, kind="replan", status="pending", horizon_start=now,
                horizon_end=now + DEFAULT_HORIZON, seconds=seconds, requested_by=requested_by,
                created_at=now)
    session.add(plan)
    session.flush()
    return plan


#: The week's plan as a planning task: committed (``week``) or previewed (``week_preview``).
WEEK_KINDS = ("week", "week_preview")


def request_week(
    session: so.Session, *, network_id: int, days: int, dry_run: bool, seconds: float,
    now: datetime, requested_by: str,
) -> Plan:
    """Record a request for the network's week plan (status ``pending``, kind ``week``, or
    ``week_preview`` for a dry run); the ``run_plans`` job (or a worker's ``plan`` task)
    solves it and, unless a preview, writes it back (:func:`dispatch.planning.week.commit_week`),
    storing what it did in ``result``. :raise NotFound: no such network."""
    if session.get(Network, network_id) is None:
        raise NotFound(f"network {network_id} not found")
    plan = Plan(network_id=network_id, kind="week_preview" if dry_run else "week",
                status="pending", horizon_start=now, horizon_end=now + timedelta(days=days),
                seconds=seconds, requested_by=requested_by, created_at=now)
    session.add(plan)
    session.flush()
    return plan


def cancel_plan(session: so.Session, plan_id: int, *, now: datetime) -> Plan:
    """Cancel a pending or running request (a running solve stores nothing when it ends).

    :raise NotFound: no such plan. :raise Conflict: it has already finished.
    """
    plan = get_plan(session, plan_id)
    if plan.status not in ("pending", "running"):
        raise Conflict(f"plan {plan_id} is {plan.status}: only a pending or running plan "
                       "can be cancelled")
    plan.status, plan.finished_at = "cancelled", now
    session.flush()
    return plan


def next_pending(session: so.Session) -> int | None:
    """The oldest pending request's id, if any."""
    return session.scalars(
        sa.select(Plan.id).where(Plan.status == "pending").order_by(Plan.id).limit(1)
    ).first()


def execute_plan(
    tx: pipeline.Transactions,
    *,
    plan_id: int,
    provider: TravelTimeProvider,
    now: datetime,
    workers: int = 2,
    claim: tasks.Claim | None = None,
    week_solution_limit: int | None = None,
) -> str:
    """Run one stored request through the pipeline's read and solve (a requested plan is a
    proposal: it is stored, never applied; a ``replan`` is applied at ``now``; a ``week`` is
    written back, a ``week_preview`` only stored, see :func:`_execute_week`). Returns the
    plan's final status. ``week_solution_limit``: the ``WEEK_PLAN_SOLUTION_LIMIT`` setting.

    Under :class:`~dispatch.planning.pipeline.ShortTransactions` the row is marked running
    and the problem read in one transaction, the solve runs with none open, and the result is
    stored in another; a cancel meanwhile (:func:`cancel_plan`) wins: the result is dropped.
    """
    with tx.session() as session:
        plan = get_plan(session, plan_id)
        if plan.status != "pending":
            return plan.status
        plan.status = "running"
        if plan.kind in WEEK_KINDS:
            assert plan.network_id is not None
            week_request = (plan.network_id, (plan.horizon_end - plan.horizon_start).days,
                            plan.kind == "week_preview", plan.seconds, plan.requested_by)
        options = pipeline.Options(method="solve", seconds=plan.seconds, workers=workers,
                                   horizon=plan.horizon_end - plan.horizon_start)
        if plan.kind == "replan":
            assert plan.network_id is not None
            network_id = plan.network_id
        else:
            found = pipeline.read(session, now=plan.horizon_start, provider=provider,
                                  network_id=plan.network_id, horizon=options.horizon)
    if plan.kind in WEEK_KINDS:
        return _execute_week(tx, plan_id=plan_id, request=week_request, now=now,
                             provider=provider, solution_limit=week_solution_limit)
    if plan.kind == "replan":
        return _execute_replan(tx, plan_id=plan_id, network_id=network_id, now=now,
                               provider=provider, options=dataclasses.replace(
                                   options, method="improve", horizon=None), claim=claim)
    outcome: RoutingPlan | str
    if _cancelled(tx, plan_id):
        return "cancelled"
    try:
        outcome, _relaxed = pipeline.solve(found, options=options)
    except RoutingError as exc:
        outcome = str(exc)
    with tx.session() as session:
        plan = get_plan(session, plan_id)
        if plan.status == "cancelled":
            return plan.status
        if isinstance(outcome, str):
            plan.status, plan.result = "failed", {"error": outcome}
        else:
            plan.status, plan.result = "done", plan_result(outcome, found.index)
        plan.finished_at = utcnow()  # bookkeeping, not a rule
        return plan.status


WeekRequest = tuple[int, int, bool, float, str | None]  # network, days, dry run, seconds, who


def _execute_week(
    tx: pipeline.Transactions, *, plan_id: int, request: WeekRequest, now: datetime,
    provider: TravelTimeProvider, solution_limit: int | None,
) -> str:
    """Plan the network's week and (unless a preview) write it back, as the person who asked
    (the audit names them); store what it did. A cancel before the write wins; the write and
    the result are one transaction."""
    from dispatch.planning import week  # week imports the pipeline's apply (no cycle at load)

    network_id, days, dry_run, seconds, requested_by = request
    actor = Actor(user_id=None, username=requested_by or "system", role="coordinator")
    if _cancelled(tx, plan_id):
        return "cancelled"
    with tx.session() as session:
        try:
            done = week.commit_week(session, now=now, provider=provider,
                                    network_id=network_id, actor=actor, days=days,
                                    seconds=seconds, solution_limit=solution_limit,
                                    dry_run=dry_run)
        except (RoutingError, NotFound) as exc:
            session.rollback()
            outcome: dict[str, Any] = {"error": str(exc)}
            status = "failed"
        else:
            outcome, status = week.result_of(network_id, done), "done"
        plan = get_plan(session, plan_id)
        if plan.status == "cancelled":
            session.rollback()  # cancelled while it ran: nothing it would have written stands
            return "cancelled"
        plan.status, plan.result = status, outcome
        plan.finished_at = utcnow()  # bookkeeping, not a rule
        return plan.status


def _execute_replan(
    tx: pipeline.Transactions, *, plan_id: int, network_id: int, now: datetime,
    provider: TravelTimeProvider, options: pipeline.Options,
    claim: tasks.Claim | None = None,
) -> str:
    """Re-optimise the network from its current plan and apply it (the re-optimise job's
    run: pins and accepted visits are held by the problem itself), then store what changed."""
    with tx.session() as session:
        before = _assignments(session, network_id)
    outcome: dict[str, Any] | str
    try:
        report = pipeline.run(tx, now=now, provider=provider, network_id=network_id,
                              options=options, proceed=lambda: not _cancelled(tx, plan_id),
                              claim=claim)
    except pipeline.Cancelled:
        return "cancelled"
    except tasks.AlreadyApplied:  # its worker died after the apply, before storing this
        outcome = {"network_id": network_id, "changed": [], "unassigned": [],
                   "note": "applied by an earlier run of this request (its worker stopped)"}
    except tasks.Superseded as exc:
        outcome = f"not applied: {exc}"
    except RoutingError as exc:
        outcome = str(exc)
    else:
        with tx.session() as session:
            after = _assignments(session, network_id)
        outcome = replan_result(network_id, before, after, report)
    with tx.session() as session:
        plan = get_plan(session, plan_id)
        if plan.status == "cancelled":  # cancelled after the apply: it stands, and says so
            return plan.status
        if isinstance(outcome, str):
            plan.status, plan.result = "failed", {"error": outcome}
        else:
            plan.status, plan.result = "done", outcome
        plan.finished_at = utcnow()  # bookkeeping, not a rule
        return plan.status


Assignment = tuple[str, int | None, datetime | None]  # reference, staff, planned start


def _assignments(session: so.Session, network_id: int) -> dict[int, Assignment]:
    rows = session.execute(
        sa.select(Visit.id, Visit.reference, Visit.assigned_staff_id, Visit.planned_start)
        .where(Visit.network_id == network_id, Visit.status.in_(VISIT_OPEN_STATUSES))
    ).all()
    return {row.id: (row.reference, row.assigned_staff_id, row.planned_start) for row in rows}


def replan_result(
    network_id: int, before: Mapping[int, Assignment], after: Mapping[int, Assignment],
    report: pipeline.Report,
) -> dict[str, Any]:
    """What a re-plan changed (worker or start, per visit) and what it left unassigned."""
    def where(found: Assignment | None) -> dict[str, Any] | None:
        if found is None or found[1] is None:
            return None
        return {"staff_id": found[1], "start": found[2].isoformat() if found[2] else None}

    changed = [
        {"visit_id": visit_id, "reference": after[visit_id][0],
         "from": where(before.get(visit_id)), "to": where(after[visit_id])}
        for visit_id in sorted(after)
        if where(before.get(visit_id)) != where(after[visit_id])
    ]
    unassigned = []
    if report.plan is not None and report.index is not None:
        for item in report.plan.unassigned:
            visit_id = report.index.visits[item.visit_id]
            found = after.get(visit_id) or before.get(visit_id)
            unassigned.append({"visit_id": visit_id,
                               "reference": found[0] if found else None,
                               "reason": item.reason, "code": item.code})
    return {"network_id": network_id, "changed": changed, "unassigned": unassigned}


def _cancelled(tx: pipeline.Transactions, plan_id: int) -> bool:
    with tx.session() as session:
        return get_plan(session, plan_id).status == "cancelled"


def run_pending(
    tx: pipeline.Transactions, *, provider: TravelTimeProvider, now: datetime,
    workers: int = 2, limit: int = 10, week_solution_limit: int | None = None,
) -> list[int]:
    """The plan-request job: solve pending requests, oldest first (at most ``limit`` a run)."""
    done: list[int] = []
    for _ in range(limit):
        with tx.session() as session:
            plan_id = next_pending(session)
        if plan_id is None:
            break
        execute_plan(tx, plan_id=plan_id, provider=provider, now=now, workers=workers,
                     week_solution_limit=week_solution_limit)
        done.append(plan_id)
    return done


def wait_for(session: so.Session, plan_id: int, *, seconds: float, poll: float = 0.2) -> Plan:
    """Re-read the plan until the job has finished it or ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while True:
        session.expire_all()
        plan = get_plan(session, plan_id)
        session.rollback()  # end the read so the job's commit is visible next time
        if plan.status not in ("pending", "running") or time.monotonic() >= deadline:
            return plan
        time.sleep(poll)


@dataclasses.dataclass(frozen=True)
class ReplanOutcome:
    """What a re-plan request came to: still pending or running, or done with the visits it
    changed and those it could not place (``error`` when it failed)."""

    network_id: int
    run_id: int
    status: str
    changed: list[dict[str, Any]]
    unassigned: list[dict[str, Any]]
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.status not in ("pending", "running")

    @classmethod
    def of(cls, plan: Plan, network_id: int) -> ReplanOutcome:
        result = plan.result or {}
        return cls(network_id=network_id, run_id=plan.id, status=plan.status,
                   changed=list(result.get("changed", [])),
                   unassigned=list(result.get("unassigned", [])), error=result.get("error"))


def get_plan(session: so.Session, plan_id: int) -> Plan:
    """:raise NotFound: no such plan."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"plan {plan_id} not found")
    return plan


DEFAULT_HORIZON_HOURS = DEFAULT_HORIZON.total_seconds() / 3600


def read_plan(
    session: so.Session, plan_id: int, *, actor: Actor, now: datetime, purpose: str,
    request_id: str | None = None,
) -> Plan:
    """A plan, the read audited (``view_plan``: a plan names visits, and so patients).

    :raise NotFound: no such plan.
    """
    plan = get_plan(session, plan_id)
    audit.record(session, actor=actor, action="view_plan", now=now, entity=("plan", plan.id),
                 purpose=purpose, request_id=request_id)
    return plan
