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
from datetime import datetime

import sqlalchemy as sa
from geopy.distance import great_circle
from sqlalchemy import orm as so

from dispatch.models import Patient, Shift, Staff, StaffBase
from dispatch.planning.problem import FIELD_ROLES


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
