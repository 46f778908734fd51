"""A week of care-package visits planned together (issue 15 item 4): a preview, read-only.

The live planner looks 24 hours ahead and places each visit as it comes. Here the network's
open visits and shifts of the coming ``days`` (7 by default) go into one problem
(:func:`dispatch.planning.problem.build_problem` with a week's horizon): each package visit
keeps its own day's window, a patient's calls of one package line on one London day are kept
at least :data:`CALL_SPACING` apart (:class:`routing.types.Spacing`), and continuity is on:
each patient's package visits prefer one worker across the week (the solver's two-phase
continuity, :func:`routing.solver.solve`).

:func:`plan_week` is the preview (read-only). :func:`commit_week` writes the plan back for the
network's *package* visits: a visit planned for today or tomorrow (London) is offered to its
worker by SMS through the live planner's path (:func:`dispatch.planning.apply.apply_plan`), a
later one is booked provisionally (``assigned``, the worker not told; the live planner offers
it when it comes within its 24-hour horizon). What a person decided is never overridden: a
pinned visit, one already offered or accepted, one in jeopardy (a person is deciding) and
every visit that is not a package visit keep their worker; the solve keeps those on their
worker too. Re-running it changes nothing that has not changed (a provisional worker is
preferred, an offered visit is left alone): no visit is made, none is offered twice.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.config import LONDON
from dispatch.errors import NotFound
from dispatch.models import Network, Staff, Visit
from dispatch.planning.apply import ApplyReport, apply_plan
from dispatch.planning.problem import ProblemIndex, build_problem
from dispatch.services import audit
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
    return _preview(session, problem, index, plan, days)


def _preview(session: so.Session, problem: rt.RoutingProblem, index: ProblemIndex,
             plan: rt.RoutingPlan, days: int) -> WeekPlan:
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


@dataclass(frozen=True)
class WeekCommit:
    """What committing the week's plan did (or, ``dry_run``, would do)."""

    plan: WeekPlan
    dry_run: bool
    #: Package visits offered by SMS now (planned for today or tomorrow).
    offered: int
    #: Package visits booked provisionally for a later day (the worker not told yet).
    provisional: int
    #: Visits the plan places that keep what they had (a person's decision, an offer, the
    #: same provisional booking).
    kept: int
    #: Placements skipped because the worker was booked meanwhile.
    conflicts: int = 0
    #: Why the write was refused as a whole (it would double-book); nothing was written.
    refused: tuple[str, ...] = ()


def offer_cutoff(now: datetime) -> datetime:
    """The start of the day after tomorrow (London): visits before it are offered now."""
    day = now.astimezone(LONDON).date() + timedelta(days=2)
    return datetime.combine(day, datetime.min.time(), tzinfo=LONDON).astimezone(now.tzinfo)


def writable(row: Visit) -> bool:
    """Whether the week's plan may write ``row``: a package visit nobody has decided on
    (unassigned, or booked provisionally by an earlier week's plan; not pinned by a
    coordinator, not in jeopardy)."""
    return (row.package_id is not None and not row.pinned and row.jeopardy_cause is None
            and row.status in ("unassigned", "assigned"))


def commit_week(
    session: so.Session, *, now: datetime, provider: TravelTimeProvider,
    network_id: int | None, actor: Actor, days: int = WEEK_DAYS, seconds: float = 10.0,
    workers: int = 1, solution_limit: int | None = None, dry_run: bool = False,
    base_url: str | None = None, request_id: str | None = None,
) -> WeekCommit:
    """Plan the coming ``days`` and write the package visits' part back (see the module
    docstring); ``dry_run`` says what it would do and writes nothing (flushes; the caller
    commits).

    :raise NotFound: no such network.
    """
    if network_id is not None and session.get(Network, network_id) is None:
        raise NotFound(f"network {network_id} not found")
    problem, index = week_problem(session, now=now, provider=provider, network_id=network_id,
                                  days=days)
    rows = {v.id: v for v in session.scalars(
        sa.select(Visit).where(Visit.id.in_(set(index.visits.values()))))}
    free = {vid for vid, row_id in index.visits.items() if writable(rows[row_id])}
    problem = _keep_decided(problem, index, rows, free)
    plan = solve(problem, seconds=seconds, workers=workers, solution_limit=solution_limit)
    preview = _preview(session, problem, index, plan, days)
    narrowed = _narrowed(plan, free)
    cutoff = offer_cutoff(now)
    stops = [(s, index.at(s.start)) for r in narrowed.routes for s in r.stops]
    if dry_run:
        return WeekCommit(preview, True,
                          offered=sum(at < cutoff for _, at in stops),
                          provisional=sum(at >= cutoff for _, at in stops),
                          kept=sum(len(r.stops) for r in plan.routes) - len(stops))
    before = {index.visits[v]: rows[index.visits[v]].status for v in free}
    report = apply_plan(session, plan=narrowed, index=index, now=now, base_url=base_url,
                        offer_before=cutoff)
    result = _counted(session, preview, report, before,
                      placed=sum(len(r.stops) for r in plan.routes))
    audit.record(session, actor=actor, action="commit_week_plan", now=now,
                 entity=("network", network_id), purpose="plan a week of care packages",
                 request_id=request_id,
                 details={"days": days, "offered": result.offered,
                          "provisional": result.provisional, "kept": result.kept,
                          "conflicts": result.conflicts, "refused": len(result.refused)})
    session.flush()
    return result


def result_of(network_id: int | None, done: WeekCommit) -> dict[str, object]:
    """``done`` as stored with its planning task (``plans.result``) and shown by
    ``GET /api/plans/{id}`` and the week's page: JSON, times in ISO 8601."""
    return {
        "network_id": network_id, "dry_run": done.dry_run, "offered": done.offered,
        "provisional": done.provisional, "kept": done.kept, "conflicts": done.conflicts,
        "refused": list(done.refused), "worker_changes": done.plan.worker_changes,
        "visits": [{"visit_id": v.visit_id, "reference": v.reference,
                    "patient_id": v.patient_id, "staff_id": v.staff_id,
                    "staff": v.staff_name,
                    "start": None if v.start is None else v.start.isoformat(),
                    "reason": v.reason} for v in done.plan.visits],
    }


def _keep_decided(problem: rt.RoutingProblem, index: ProblemIndex, rows: dict[int, Visit],
                  free: set[str]) -> rt.RoutingProblem:
    """Visits the week may not write that have a worker stay on that worker's shift in the
    solve, so the package visits are planned round them (the write checks the times)."""
    shifts = {s.id for s in problem.shifts}
    visits = []
    for visit in problem.visits:
        row = rows[index.visits[visit.id]]
        if (visit.id not in free and visit.pinned_to is None and row.shift_id is not None
                and str(row.shift_id) in shifts):
            visit = dataclasses.replace(visit, pinned_to=str(row.shift_id))
        visits.append(visit)
    return dataclasses.replace(problem, visits=tuple(visits))


def _narrowed(plan: rt.RoutingPlan, free: set[str]) -> rt.RoutingPlan:
    """``plan`` with only the visits the week may write (the others are left as they are)."""
    routes = tuple(dataclasses.replace(r, stops=tuple(s for s in r.stops
                                                      if s.visit_id in free))
                   for r in plan.routes)
    unassigned = tuple(u for u in plan.unassigned if u.visit_id in free)
    return dataclasses.replace(plan, routes=routes, unassigned=unassigned)


def _counted(session: so.Session, preview: WeekPlan, report: ApplyReport,
             before: dict[int, str], *, placed: int) -> WeekCommit:
    if report.refused:
        return WeekCommit(preview, False, 0, 0, 0, report.conflicts, report.refused)
    rows = session.scalars(sa.select(Visit).where(Visit.id.in_(before))).all()
    offered = sum(r.status == "offered" and before[r.id] != "offered" for r in rows)
    provisional = sum(r.status == "assigned" for r in rows)
    written = report.assigned + report.reassigned + report.retimed
    return WeekCommit(preview, False, offered=offered, provisional=provisional,
                      kept=placed - written - report.conflicts, conflicts=report.conflicts)
