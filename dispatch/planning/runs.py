"""Solves as stored resources: a ``Plan`` row records what was asked and what came back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import orm as so

from dispatch.errors import InvalidInput, NotFound
from dispatch.models import Network, Plan
from dispatch.models.base import utcnow
from dispatch.planning.problem import DEFAULT_HORIZON, ProblemIndex, build_problem
from routing import solver
from routing.errors import RoutingError
from routing.providers import make_provider
from routing.travel import TravelTimeProvider
from routing.types import RoutingPlan, RoutingProblem

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


def prepare_plan(
    session: so.Session, *, plan_id: int, provider: TravelTimeProvider
) -> tuple[RoutingProblem, ProblemIndex]:
    """Mark a stored request running and build its problem (the caller commits, then solves
    outside any transaction so no database lock is held during the search)."""
    plan = get_plan(session, plan_id)
    plan.status = "running"
    problem, index = build_problem(
        session,
        now=plan.horizon_start,
        provider=provider,
        network_id=plan.network_id,
        horizon=plan.horizon_end - plan.horizon_start,
    )
    session.flush()
    return problem, index


def solve_problem(problem: RoutingProblem, *, seconds: float, workers: int) -> RoutingPlan | str:
    """The solver's plan, or the reason it failed (recorded, never lost)."""
    try:
        return solver.solve(problem, seconds=seconds, workers=workers)
    except RoutingError as exc:
        return str(exc)


def finish_plan(
    session: so.Session, *, plan_id: int, outcome: RoutingPlan | str, index: ProblemIndex
) -> Plan:
    """Store the result (status ``done``) or the failure (status ``failed``)."""
    plan = get_plan(session, plan_id)
    if isinstance(outcome, str):
        plan.status, plan.result = "failed", {"error": outcome}
    else:
        plan.status, plan.result = "done", plan_result(outcome, index)
    plan.finished_at = utcnow()  # bookkeeping, not a rule
    session.flush()
    return plan


def execute_plan(
    sessions: so.sessionmaker[so.Session] | so.Session,
    *,
    plan_id: int,
    provider: TravelTimeProvider,
    workers: int = 2,
) -> None:
    """Prepare, solve and finish a stored request, committing around the solve."""
    session = sessions if isinstance(sessions, so.Session) else sessions()
    try:
        problem, index = prepare_plan(session, plan_id=plan_id, provider=provider)
        seconds = get_plan(session, plan_id).seconds
        session.commit()
        outcome = solve_problem(problem, seconds=seconds, workers=workers)
        finish_plan(session, plan_id=plan_id, outcome=outcome, index=index)
        session.commit()
    finally:
        if not isinstance(sessions, so.Session):
            session.close()


def get_plan(session: so.Session, plan_id: int) -> Plan:
    """:raise NotFound: no such plan."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"plan {plan_id} not found")
    return plan


DEFAULT_HORIZON_HOURS = DEFAULT_HORIZON.total_seconds() / 3600
