"""Planning during the day: place new visits at once, re-optimise every few minutes.

Both start from the current assignments (read back from the database as a plan), so a new
urgent visit moves as little as possible and a re-optimisation can only improve on what
workers have already been told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.database import Database
from dispatch.models import Network, Visit
from dispatch.planning.apply import ApplyReport, apply_plan
from dispatch.planning.problem import ProblemIndex, build_problem, seconds_between
from routing import solver
from routing.travel import TravelTimeProvider
from routing.types import Route, RoutingPlan, RoutingProblem, Stop

#: How long a visit the placer could not place waits before it is tried again.
RETRY_AFTER = timedelta(seconds=60)


@dataclass
class LiveReport:
    network_id: int | None
    visits: int
    placed: int
    apply: ApplyReport


def current_plan(session: so.Session, problem: RoutingProblem, index: ProblemIndex) -> RoutingPlan:
    """The assignments as they stand, as a plan the solver can warm-start from."""
    by_row = {row_id: vid for vid, row_id in index.visits.items()}
    shift_of_row = {row_id: sid for sid, row_id in index.shifts.items()}
    visits = session.scalars(sa.select(Visit).where(Visit.id.in_(by_row))).all()
    stops: dict[str, list[tuple[int, Stop]]] = {}
    for visit in visits:
        sid = shift_of_row.get(visit.shift_id or -1)
        if sid is None or visit.assigned_staff_id is None or visit.status == "unassigned":
            continue
        start = seconds_between(index.start, visit.planned_start or index.start)
        stop = Stop(by_row[visit.id], start, start, start + visit.duration_minutes * 60)
        stops.setdefault(sid, []).append((start, stop))
    routes = []
    for shift in problem.shifts:
        ordered = tuple(stop for _, stop in sorted(stops.get(shift.id, []), key=lambda p: p[0]))
        if ordered:
            routes.append(Route(shift_id=shift.id, worker_id=shift.worker_id, stops=ordered))
    return RoutingPlan(
        routes=tuple(routes),
        unassigned=(),
        travel_total=0,
        distance_total=0.0,
        vehicles_used=len(routes),
        objective=0,
        seconds=0.0,
    )


def replan(
    session: so.Session,
    *,
    now: datetime,
    provider: TravelTimeProvider,
    network_id: int | None,
    seconds: float,
    workers: int = 1,
    solution_limit: int | None = None,
) -> LiveReport:
    """Re-optimise one network from its current plan and apply the result (``solution_limit``
    makes the search a pure function of the rows, for tests)."""
    problem, index = build_problem(session, now=now, provider=provider, network_id=network_id)
    if not problem.visits:
        return LiveReport(network_id, 0, 0, ApplyReport())
    start = current_plan(session, problem, index)
    plan = solver.improve(start, problem, seconds, workers=workers,
                          solution_limit=solution_limit)
    report = apply_plan(session, plan=plan, index=index, now=now)
    unplaced_urgent(session, plan, index, now, provider)
    placed = sum(len(r.stops) for r in plan.routes)
    return LiveReport(network_id, len(problem.visits), placed, report)


def replan_network(
    database: Database,
    *,
    now: datetime,
    provider: TravelTimeProvider,
    network_id: int | None,
    seconds: float,
    workers: int = 1,
) -> LiveReport:
    """:func:`replan` for the jobs: read, then solve with no transaction open (no row or
    SQLite write lock held for seconds), then apply in a short transaction. Visits changed
    while solving are left as they are (``apply_plan`` checks their version)."""
    with database.session_scope() as session:
        problem, index = build_problem(session, now=now, provider=provider, network_id=network_id)
        if not problem.visits:
            return LiveReport(network_id, 0, 0, ApplyReport())
        start = current_plan(session, problem, index)
    plan = solver.improve(start, problem, seconds, workers=workers)
    with database.session_scope() as session:
        report = apply_plan(session, plan=plan, index=index, now=now)
    with database.session_scope() as session:
        unplaced_urgent(session, plan, index, now, provider)
    return LiveReport(
        network_id, len(problem.visits), sum(len(r.stops) for r in plan.routes), report
    )


def place_new_in(
    database: Database,
    *,
    now: datetime,
    provider: TravelTimeProvider,
    seconds: float = 1.0,
    attempts: dict[int, datetime] | None = None,
    retry_after: timedelta = RETRY_AFTER,
) -> list[LiveReport]:
    """:func:`place_new_visits` for the jobs, one short transaction to read and one to apply
    per network, the insertions in between with no transaction open.

    ``attempts`` (kept by the caller across runs) remembers when a visit was last tried, so a
    visit with no room is retried every ``retry_after`` rather than on every tick; the
    re-optimisation and the deadline watch look after it meanwhile.
    """
    attempts = {} if attempts is None else attempts
    with database.session_scope() as session:
        networks = _networks_with_new_visits(session)
    reports = []
    for network_id, new_ids in networks.items():
        due = [v for v in new_ids if v not in attempts or now - attempts[v] >= retry_after]
        if not due:
            continue
        with database.session_scope() as session:
            problem, index = build_problem(
                session, now=now, provider=provider, network_id=network_id
            )
            plan = current_plan(session, problem, index)
        plan = _insert_all(plan, problem, index, due, seconds)
        with database.session_scope() as session:
            report = apply_plan(session, plan=plan, index=index, now=now)
        with database.session_scope() as session:
            unplaced_urgent(session, plan, index, now, provider)
        for visit_id in due:
            attempts[visit_id] = now
        reports.append(
            LiveReport(
                network_id, len(problem.visits), sum(len(r.stops) for r in plan.routes), report
            )
        )
    return reports


def _networks_with_new_visits(session: so.Session) -> dict[int, list[int]]:
    """Never-planned visits (unassigned, not in jeopardy) by network, most urgent first."""
    rows = session.execute(
        sa.select(Visit.id, Visit.network_id)
        .join(Network, Network.id == Visit.network_id)
        .where(Visit.status == "unassigned", Visit.jeopardy_cause.is_(None))
        .order_by(Visit.priority, Visit.deadline)
    ).all()
    found: dict[int, list[int]] = {}
    for row in rows:
        found.setdefault(row.network_id, []).append(row.id)
    return found


def _insert_all(
    plan: RoutingPlan,
    problem: RoutingProblem,
    index: ProblemIndex,
    new_ids: list[int],
    seconds: float,
) -> RoutingPlan:
    by_row = {row_id: vid for vid, row_id in index.visits.items()}
    for row_id in new_ids:
        # A visit listed as new may have been booked since (the placer lists in one
        # transaction and plans in the next): it is in the current plan already, and
        # inserting it again routed it twice (issue 20: "Index ... is used multiple times").
        if row_id in by_row and plan.route_of(by_row[row_id]) is None:
            plan = solver.insert_urgent(
                plan, problem, problem.visit(by_row[row_id]), seconds=seconds
            )
    return plan


def place_new_visits(
    session: so.Session,
    *,
    now: datetime,
    provider: TravelTimeProvider,
    seconds: float = 1.0,
) -> list[LiveReport]:
    """Insert each network's never-planned visits (unassigned, not in jeopardy) quickly.

    Urgent visits go first; each insertion keeps every other visit where it is unless the
    new one cannot be placed otherwise (``routing.solver.insert_urgent``).
    """
    reports = []
    for network_id, new_ids in _networks_with_new_visits(session).items():
        problem, index = build_problem(session, now=now, provider=provider, network_id=network_id)
        plan = _insert_all(current_plan(session, problem, index), problem, index, new_ids, seconds)
        report = apply_plan(session, plan=plan, index=index, now=now)
        unplaced_urgent(session, plan, index, now, provider)
        reports.append(
            LiveReport(
                network_id, len(problem.visits), sum(len(r.stops) for r in plan.routes), report
            )
        )
    return reports


def unplaced_urgent(
    session: so.Session, plan: RoutingPlan, index: ProblemIndex, now: datetime,
    provider: TravelTimeProvider,
) -> None:
    """A 2-hour visit the plan could not place in time: cover from another network on
    capacity, else jeopardy at once for a person to decide (hazard H-006)."""
    from dispatch.planning import jeopardy  # it uses current_plan: imported late

    jeopardy.after_plan(session, plan=plan, index=index, now=now, provider=provider)
