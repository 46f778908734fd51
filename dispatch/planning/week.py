"""A week of care-package visits planned together (issue 15 item 4): a preview, read-only.

The live planner looks 24 hours ahead and places each visit as it comes. Here the network's
open visits and shifts of the coming ``days`` (7 by default) go into one problem
(:func:`dispatch.planning.problem.build_problem` with a week's horizon): each package visit
keeps its own day's window, a patient's calls of one package line on one London day are kept
at least :data:`CALL_SPACING` apart (:class:`routing.types.Spacing`), and continuity is on:
each patient's package visits prefer one worker across the week (the solver's two-phase
continuity, :func:`routing.solver.solve`).

Read-only: the result says who would visit whom when, and how often a patient's carer would
change; nothing is assigned or offered (the live planner still offers each visit on its
day). Writing the week's plan back as provisional assignments is not built.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.config import LONDON
from dispatch.models import Staff, Visit
from dispatch.planning.problem import ProblemIndex, build_problem
from routing import types as rt
from routing.solver import solve
from routing.spacing import worker_changes
from routing.travel import TravelTimeProvider

WEEK_DAYS = 7
#: Calls of one package line for one patient on one day start at least this far apart. The
#: tariff's windows already keep them about this far apart (09:30 then 12:00 for four calls);
#: the rule holds it when a window is widened by hand.
CALL_SPACING = timedelta(hours=2)


@dataclass(frozen=True)
class WeekVisit:
    """One visit in the week's plan: who would start it when (None: not placed, ``reason``)."""

    visit_id: int
    reference: str
    patient_id: int
    staff_id: int | None
    staff_name: str | None
    start: datetime | None
    reason: str | None = None


@dataclass(frozen=True)
class WeekPlan:
    """The week's plan: every open visit of the horizon, and the carer changes it implies."""

    start: datetime
    days: int
    visits: tuple[WeekVisit, ...]
    worker_changes: int
    seconds: float


def week_problem(
    session: so.Session, *, now: datetime, provider: TravelTimeProvider,
    network_id: int | None, days: int = WEEK_DAYS,
) -> tuple[rt.RoutingProblem, ProblemIndex]:
    """The network's next ``days`` as one problem, package visits grouped by patient, their
    calls spaced and continuity on."""
    problem, index = build_problem(session, now=now, provider=provider, network_id=network_id,
                                   horizon=timedelta(days=days))
    rows = {v.id: v for v in session.scalars(
        sa.select(Visit).where(Visit.id.in_(set(index.visits.values()))))}
    visits = []
    calls: dict[tuple[int, object, str], list[tuple[int, str]]] = defaultdict(list)
    for visit in problem.visits:
        row = rows[index.visits[visit.id]]
        if row.package_id is None:
            visits.append(visit)
            continue
        visits.append(dataclasses.replace(visit, patient=str(row.patient_id)))
        day = row.earliest_start.astimezone(LONDON).date()
        calls[(row.patient_id, day, row.reason or "")].append((visit.earliest, visit.id))
    spacing = tuple(
        rt.Spacing(tuple(vid for _, vid in sorted(group)), int(CALL_SPACING.total_seconds()))
        for group in calls.values() if len(group) > 1
    )
    return dataclasses.replace(problem, visits=tuple(visits), spacing=spacing,
                               continuity=True), index


def plan_week(
    session: so.Session, *, now: datetime, provider: TravelTimeProvider,
    network_id: int | None, days: int = WEEK_DAYS, seconds: float = 10.0, workers: int = 1,
    solution_limit: int | None = None,
) -> WeekPlan:
    """Plan the coming ``days`` (see the module docstring); nothing is written."""
    problem, index = week_problem(session, now=now, provider=provider, network_id=network_id,
                                  days=days)
    plan = solve(problem, seconds=seconds, workers=workers, solution_limit=solution_limit)
    rows = {v.id: v for v in session.scalars(
        sa.select(Visit).where(Visit.id.in_(set(index.visits.values()))))}
    staff = {s.id: s for s in session.scalars(sa.select(Staff).where(
        Staff.id.in_(set(index.staff_of_shift.values()))))}
    placed: dict[str, tuple[int, int]] = {}
    for route in plan.routes:
        for stop in route.stops:
            placed[stop.visit_id] = (index.staff_of_shift[route.shift_id], stop.start)
    reasons = {u.visit_id: u.reason for u in plan.unassigned}
    out = []
    for vid, row_id in index.visits.items():
        row = rows[row_id]
        where = placed.get(vid)
        member = staff.get(where[0]) if where else None
        out.append(WeekVisit(
            visit_id=row.id, reference=row.reference, patient_id=row.patient_id,
            staff_id=member.id if member else None,
            staff_name=member.name if member else None,
            start=index.at(where[1]) if where else None,
            reason=None if where else reasons.get(vid, "not placed")))
    out.sort(key=lambda v: (v.start is None, v.start or index.start, v.visit_id))
    return WeekPlan(index.start, days, tuple(out), worker_changes(problem, plan), plan.seconds)
