"""One person, one place: no worker holds two open visits they cannot both do (hazard H-013).

A visit holds its worker (``dispatch.states.VISIT_OCCUPYING_STATUSES``) from its planned start
for its duration; a visit under way from when it began (arrival, else its planned start) until
it should end or now, whichever is later, which is how :mod:`dispatch.planning.problem` frees
the worker. Two such visits of one worker clash when neither ends in time to drive to the
other (travel by the worker's own mode, from the provider the plan used). The pure rule is
:func:`routing.checker.double_bookings`; this module reads the rows for it.

Used by :func:`dispatch.planning.apply.apply_plan` (each write is checked against the worker's
other bookings, and the whole apply is refused when it leaves a clash) and by the
coordinator's manual assignment (:func:`dispatch.services.manual.check_assignment`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.errors import InvalidInput
from dispatch.models import Patient, Staff, Visit
from dispatch.planning.problem import TRAVEL_MODE, UNDER_WAY
from dispatch.states import VISIT_OCCUPYING_STATUSES
from routing.checker import Booking, double_bookings
from routing.travel import TravelTimeProvider

LatLon = tuple[float, float]


@dataclass(frozen=True)
class Held:
    """One visit holding a worker: from when, until when, and where (None: not geocoded)."""

    visit_id: int
    staff_id: int
    start: datetime
    end: datetime
    where: LatLon | None


@dataclass(frozen=True)
class Clash:
    """Two visits of one worker that cannot both be done. Ids only: no patient data."""

    staff_id: int
    first: int
    second: int

    def __str__(self) -> str:
        return (f"worker {self.staff_id}: visits {self.first} and {self.second} overlap "
                "(travel included)")


def held(visit: Visit, where: LatLon | None, now: datetime) -> Held | None:
    """How ``visit`` holds its worker now, or None (no worker, no time, or not open)."""
    if visit.status not in VISIT_OCCUPYING_STATUSES or visit.assigned_staff_id is None:
        return None
    length = timedelta(minutes=visit.duration_minutes)
    if visit.status in UNDER_WAY:
        began = visit.arrived_at or visit.planned_start or now
        return Held(visit.id, visit.assigned_staff_id, began, max(now, began + length), where)
    if visit.planned_start is None:
        return None
    return Held(visit.id, visit.assigned_staff_id, visit.planned_start,
                visit.planned_start + length, where)


def location_of(patient: Patient | None) -> LatLon | None:
    if patient is None or patient.lat is None or patient.lon is None:
        return None
    return (round(patient.lat, 6), round(patient.lon, 6))


def holdings(
    session: so.Session, staff_ids: Iterable[int], now: datetime,
    exclude: Iterable[int] = (),
) -> list[Held]:
    """Every booking of ``staff_ids`` as the rows stand (visits in ``exclude`` left out)."""
    staff, skip = set(staff_ids), set(exclude)
    if not staff:
        return []
    rows = session.execute(
        sa.select(Visit, Patient)
        .join(Patient, Patient.id == Visit.patient_id)
        .where(Visit.assigned_staff_id.in_(staff), Visit.status.in_(VISIT_OCCUPYING_STATUSES))
        .order_by(Visit.id)
    ).all()
    found = []
    for visit, patient in rows:
        if visit.id in skip:
            continue
        item = held(visit, location_of(patient), now)
        if item is not None:
            found.append(item)
    return found


class Travel:
    """Travel between booking locations from one provider, by each worker's own mode (a
    walking worker's plan is checked at walking pace, as it was planned, issue 15); one matrix
    call per mode when new places arrive."""

    def __init__(self, provider: TravelTimeProvider | None,
                 modes: Mapping[int, str] | None = None) -> None:
        self.provider = provider
        self.modes = dict(modes or {})
        self.points: list[LatLon] = []
        self.index: dict[LatLon, int] = {}
        self.matrices: dict[str, np.ndarray] = {}

    def prepare(self, places: Iterable[LatLon | None]) -> None:
        """Make sure the matrices cover ``places`` (asks the provider only for new ones)."""
        new = [p for p in dict.fromkeys(places) if p is not None and p not in self.index]
        if not new:
            return
        self.points += new
        self.index = {p: k for k, p in enumerate(self.points)}
        self.matrices = {}

    def matrix_of(self, staff_id: int) -> np.ndarray:
        """Seconds between the known places for ``staff_id``'s travel mode (the last row and
        column: an unknown place, reached from anywhere in no time)."""
        mode = self.modes.get(staff_id, TRAVEL_MODE)
        if mode not in self.matrices:
            size = len(self.points)
            matrix = np.zeros((size + 1, size + 1), dtype=np.int64)
            if self.provider is not None and size:
                matrix[:size, :size] = self.provider.matrix(self.points, self.points, mode=mode)
            self.matrices[mode] = matrix
        return self.matrices[mode]

    def location(self, where: LatLon | None) -> int:
        """Index of ``where`` in the matrix; an unknown place travels nowhere in no time."""
        return self.index[where] if where is not None else len(self.points)


def staff_modes(session: so.Session, staff_ids: Iterable[int]) -> dict[int, str]:
    """Each worker's travel mode (the roster's), for :class:`Travel`."""
    ids = set(staff_ids)
    if not ids:
        return {}
    return {row.id: row.travel_mode for row in session.execute(
        sa.select(Staff.id, Staff.travel_mode).where(Staff.id.in_(ids)))}


def clashes(items: Sequence[Held], travel: Travel) -> list[Clash]:
    """Pairs of one worker's bookings in ``items`` that cannot both be kept."""
    if len(items) < 2:
        return []
    travel.prepare(item.where for item in items)

    def seconds(moment: datetime) -> int:
        # Whole seconds since the epoch, rounded down as the plan rounds: a visit under way
        # since 06:10:10.46 frees its worker at 06:40:10 in the plan, so a visit 427 seconds'
        # drive away may start at 06:47:17 (counting from a fractional origin made that a
        # clash by half a second, and the simulated day skipped 80 such writes).
        return math.floor(moment.timestamp())

    by_worker: dict[int, list[Held]] = {}
    for item in items:
        by_worker.setdefault(item.staff_id, []).append(item)
    found = []
    for staff_id, mine in by_worker.items():
        if len(mine) < 2:
            continue
        bookings = [
            Booking(str(item.visit_id), str(item.staff_id), seconds(item.start),
                    seconds(item.end), travel.location(item.where))
            for item in mine
        ]
        found += [Clash(int(a.worker_id), int(a.visit_id), int(b.visit_id))
                  for a, b in double_bookings(bookings, travel.matrix_of(staff_id))]
    return found


def clashes_with(candidate: Held, others: Sequence[Held], travel: Travel) -> list[int]:
    """Ids of the visits in ``others`` (same worker) that ``candidate`` cannot be kept with."""
    mine = [o for o in others if o.staff_id == candidate.staff_id
            and o.visit_id != candidate.visit_id]
    return sorted({c.second if c.first == candidate.visit_id else c.first
                   for c in clashes([candidate, *mine], travel)
                   if candidate.visit_id in (c.first, c.second)})


def worker_clashes(
    session: so.Session, *, staff_ids: Iterable[int], now: datetime,
    provider: TravelTimeProvider | None, travel: Travel | None = None,
) -> list[Clash]:
    """Every clash among the bookings of ``staff_ids`` as the rows stand."""
    ids = set(staff_ids)
    return clashes(holdings(session, ids, now),
                   travel or Travel(provider, staff_modes(session, ids)))


def lock_worker(session: so.Session, staff_id: int) -> Staff:
    """Lock the worker's row for this transaction: assignments to one worker are serialised.

    ``FOR NO KEY UPDATE``, not ``FOR UPDATE``: it still excludes every other assigner, but not
    the foreign-key checks of rows that merely name the worker (a text to them, an audit
    event). With ``FOR UPDATE`` a coordinator holding worker 2 who texted worker 1 ("no
    longer needed") waited for the planner holding worker 1, which waited for worker 2:
    PostgreSQL found the deadlock and the coordinator got a 500 (the pin race test).
    """
    staff = session.scalar(
        sa.select(Staff)
        .where(Staff.id == staff_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if staff is None:
        raise InvalidInput("invalid assignment", errors={"staff_id": ["no such member of staff"]})
    return staff
