"""Cross-cover: which network's team serves a visit whose skills its home team lacks.

A visit normally goes to the patient's own integrated care network. When no field worker
there with every skill the visit needs is rostered before its deadline (a small team whose
only equipment-trained therapist is off today, say), the single point of access asks the
nearest team that has one, as a coordinator would phone the neighbouring team, instead of
leaving the visit to miss its deadline on a board nobody can serve. Measured in the simulated
day: 2-hour visits missed as "no one on the roster has the skills" were 1-2 a day on three of
eight seeds before this.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from geopy.distance import great_circle
from sqlalchemy import orm as so

from dispatch.models import Patient, Shift, Staff, StaffBase, Visit
from dispatch.planning.problem import FIELD_ROLES, build_problem, current_plan
from routing.travel import TravelTimeProvider


def covering_network(
    session: so.Session, patient: Patient, skills: Iterable[str], *, start: datetime,
    deadline: datetime,
) -> int | None:
    """The network whose team should serve a visit needing ``skills`` for ``patient``
    between ``start`` and ``deadline``.

    The patient's own network when someone there with the skills is rostered in that window.
    Otherwise the network whose nearest base to the patient belongs to a skilled worker
    rostered in the window; failing that, one with a skilled worker at all (the roster may
    still change). The home network when the patient cannot be placed on a map or nobody
    anywhere has the skills (the planner then reports it as no_skill). Ties to the lowest id.
    """
    needed = set(skills)
    home = patient.network_id
    if not needed:
        return home
    rostered = sa.exists().where(
        Shift.staff_id == Staff.id, Shift.starts_at < deadline, Shift.ends_at > start,
        Shift.sick_from.is_(None))
    if home is not None and _skilled(session, needed, Staff.network_id == home, rostered):
        return home
    if patient.lat is None or patient.lon is None:
        return home
    for window in (rostered, sa.true()):
        nearest = _nearest(session, needed, (patient.lat, patient.lon), window)
        if nearest is not None:
            return nearest
    return home


def _nearest(session: so.Session, needed: set[str], where: tuple[float, float],
             window: sa.ColumnElement[bool]) -> int | None:
    best: tuple[float, int] | None = None
    for staff, base in _skilled(session, needed, Staff.network_id.is_not(None), window):
        if base is None or staff.network_id is None:
            continue
        key = (great_circle(where, (base.lat, base.lon)).km, staff.network_id)
        if best is None or key < best:
            best = key
    return None if best is None else best[1]


def _skilled(
    session: so.Session, needed: set[str], *where: sa.ColumnElement[bool]
) -> list[tuple[Staff, StaffBase | None]]:
    rows = session.execute(
        sa.select(Staff, StaffBase)
        .outerjoin(StaffBase, StaffBase.id == Staff.base_id)
        .where(Staff.active.is_(True), Staff.role.in_(FIELD_ROLES), *where)
        .order_by(Staff.id)
    ).all()
    return [(staff, base) for staff, base in rows if needed <= set(staff.skills)]


# --------------------------------------------------------------- cover on capacity (H-006)

#: How many other networks a search for cover tries (nearest first) before giving up.
COVER_NETWORKS = 4


@dataclass(frozen=True)
class CoverFound:
    """Where a visit was placed in time by another network's rostered worker."""

    network_id: int
    staff_id: int
    planned_start: datetime


def networks_by_distance(
    session: so.Session, visit: Visit, *, start: datetime, deadline: datetime,
) -> list[int]:
    """Other networks with a worker who has the visit's skills and is rostered between
    ``start`` and ``deadline``, nearest base to the patient first (ties to the lowest id)."""
    patient = session.get(Patient, visit.patient_id)
    if patient is None or patient.lat is None or patient.lon is None:
        return []
    rostered = sa.exists().where(
        Shift.staff_id == Staff.id, Shift.starts_at < deadline, Shift.ends_at > start,
        Shift.sick_from.is_(None))
    best: dict[int, float] = {}
    excluded = set(visit.excluded_staff_ids or ())
    elsewhere = (Staff.network_id.is_not(None) if visit.network_id is None
                 else Staff.network_id != visit.network_id)
    for staff, base in _skilled(session, set(visit.skills), Staff.network_id.is_not(None),
                                elsewhere, rostered):
        if base is None or staff.network_id is None or staff.id in excluded:
            continue
        km = great_circle((patient.lat, patient.lon), (base.lat, base.lon)).km
        best[staff.network_id] = min(km, best.get(staff.network_id, km))
    return sorted(best, key=lambda n: (best[n], n))


def find_cover(
    session: so.Session, visit: Visit, *, now: datetime, provider: TravelTimeProvider,
    seconds: float = 0.5, limit: int = COVER_NETWORKS,
) -> CoverFound | None:
    """Place ``visit`` with another network's rostered worker who can start it before its
    deadline, nearest network first, and apply that network's plan (the worker is offered it).

    Why on capacity, not on skills alone: after the only worker at home who could make it
    declined, a neighbouring team with the skills may still be fully booked; only a real
    insertion into that team's current plan (the planner's own, with its deadline hard for a
    2-hour visit) says whether someone there can get there in time. The visit is moved to the
    covering network only when it was placed; otherwise it is left where it was.
    """
    from dispatch.planning.apply import apply_plan
    from routing import solver

    for network_id in networks_by_distance(session, visit, start=now,
                                           deadline=visit.deadline)[:limit]:
        problem, index = build_problem(session, now=now, provider=provider,
                                       network_id=network_id, include_visits=[visit.id])
        vid = next((k for k, row in index.visits.items() if row == visit.id), None)
        if vid is None:
            return None  # not plannable (no place on the map, or beyond the horizon)
        plan = solver.insert_urgent(current_plan(session, problem, index), problem,
                                    problem.visit(vid), seconds=seconds)
        route = plan.route_of(vid)
        if route is None:
            continue
        stop = next(s for s in route.stops if s.visit_id == vid)
        if index.at(stop.start) > visit.deadline:
            continue
        apply_plan(session, plan=plan, index=index, now=now)
        if visit.status != "unassigned" and visit.assigned_staff_id is not None:
            visit.network_id = network_id  # on that team's board from now on
            session.flush()
            return CoverFound(network_id, visit.assigned_staff_id, index.at(stop.start))
        # The worker was booked meanwhile (apply_plan skipped it): try the next network.
    return None
