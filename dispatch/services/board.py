"""The dispatch board's read model: what a coordinator needs to see, in plain frozen rows.

One call, :func:`load_board`, reads a network's day (London midnight to midnight) in a handful
of queries: open visits and today's closed ones, the shifts, the staff, the bases and the
patients' postcodes and coordinates. It returns rows the page, the JSON poll and the SVG
drawings share, so the three never disagree.

Information governance: the board shows no names, dates of birth or full addresses; a visit is
its reference, the postcode district and the reason. Coordinates are rounded to
:data:`MAP_DECIMALS` places (about 100 m), enough for a borough-wide map and no more.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import states
from dispatch.config import LONDON
from dispatch.models import (
    Escalation,
    Message,
    Network,
    Patient,
    Shift,
    Staff,
    StaffBase,
    Visit,
    VisitLink,
)
from dispatch.services import pairs as visit_pairs
from dispatch.services.patients import postcode_district
from dispatch.services.watch import CAUSE_TEXT, jeopardy_cause
from routing.travel import TravelTimeProvider
from routing.travel_errors import UnknownTravelModeError

OPEN = states.VISIT_OPEN_STATUSES
CLOSED = states.VISIT_FINAL_STATUSES
MAP_DECIMALS = 3  # ~100 m: a dot on a borough map, not a front door
EXTRA_CAUSE_TEXT = {"sms_failed": "offer text not delivered", "declined": "declined by worker"}
#: A travel bar's label by the worker's mode (issue 15: each worker's own travel).
MODE_WORDS = {"car": "Drive", "bicycle": "Cycle", "walk": "Walk",
              "public_transport": "Bus or train"}
#: How far back the board lists escalations not yet cleared (their visit still open).
ESCALATIONS_SHOWN_FOR = timedelta(hours=24)


@dataclass(frozen=True)
class BoardVisit:
    """A visit as the board shows it (no patient identifiers)."""

    id: int
    reference: str
    status: str
    category: str
    priority: int
    reason: str | None
    skills: tuple[str, ...]
    district: str
    earliest_start: datetime
    deadline: datetime
    duration_minutes: int
    planned_start: datetime | None
    staff_id: int | None
    staff_name: str | None
    pinned: bool
    version: int
    cause: str | None
    minutes_left: int
    point: tuple[float, float] | None
    #: For a double-handed visit: "2 staff, with <worker>" (the partner's worker, or "a
    #: second worker" while none is chosen); None for a visit one person does.
    pair: str | None = None
    completed_at: datetime | None = None  # closed visits: when (completed, or cancelled)
    outcome: str | None = None
    #: A 2-hour visit left unplaced: the coordinator's pinned visit in the way (its id).
    blocked_by: int | None = None

    @property
    def cause_text(self) -> str | None:
        """The jeopardy cause in words, for the board and its JSON."""
        if self.cause is None:
            return None
        return CAUSE_TEXT.get(self.cause) or EXTRA_CAUSE_TEXT.get(self.cause, self.cause)

    @property
    def planned_end(self) -> datetime | None:
        if self.planned_start is None:
            return None
        return self.planned_start + timedelta(minutes=self.duration_minutes)


@dataclass(frozen=True)
class BoardEscalation:
    """An escalation to the on-call coordinator as the board lists it (every one, texted or
    not): when, about which visit (or worker), why, and what happened to its text."""

    id: int
    at: datetime
    kind: str
    cause: str
    visit_id: int | None
    reference: str | None
    staff_code: str | None
    texted_at: datetime | None  # the grouped text that listed it was written then
    to_on_call: bool  # False: the network has no on-call phone (board only)

    @property
    def queued(self) -> bool:
        """Waiting for the next grouped text (at most one per ESCALATION_TEXT_MINUTES)."""
        return self.to_on_call and self.texted_at is None


@dataclass(frozen=True)
class Segment:
    """One bar on a worker's timeline: a ``visit``, the ``travel`` before it, or a ``break``."""

    kind: str
    start: datetime
    end: datetime
    label: str
    status: str | None = None
    jeopardy: bool = False


@dataclass(frozen=True)
class Timeline:
    """One rostered shift today, with what fills it."""

    staff_id: int
    shift_id: int
    name: str
    role: str
    starts_at: datetime
    ends_at: datetime
    sick_from: datetime | None
    segments: tuple[Segment, ...]
    #: How the worker travels (the roster's mode); their travel bars are timed by it.
    mode: str = "car"
    network_id: int | None = None  # the worker's network (the all-networks view groups by it)


@dataclass(frozen=True)
class BoardBase:
    id: int
    name: str
    point: tuple[float, float]


@dataclass(frozen=True)
class BoardWorker:
    """Where a worker on shift now is, as the map places them: on site at a visit, else at
    their last visit today, else at their base (never a live location: the plan's)."""

    staff_id: int
    name: str
    point: tuple[float, float]
    where: str  # "on site at visit B0012", "last at visit B0009", "at base: Hammersmith"
    network_id: int | None = None
    district: str | None = None  # the visit's postcode district (None: at a base)


@dataclass(frozen=True)
class Board:
    """Everything the board page draws for one network and day."""

    network_id: int | None
    network_name: str
    networks: tuple[tuple[int, str], ...]
    now: datetime
    day: date
    attention: tuple[BoardVisit, ...]  # in jeopardy, then unassigned; most urgent first
    planned: tuple[BoardVisit, ...]  # the other open visits
    closed: tuple[BoardVisit, ...]  # completed or cancelled today
    timelines: tuple[Timeline, ...]
    bases: tuple[BoardBase, ...]
    escalations: tuple[BoardEscalation, ...] = ()  # newest first, not yet cleared
    workers: tuple[BoardWorker, ...] = ()  # on shift now, placed for the map

    @property
    def visits(self) -> tuple[BoardVisit, ...]:
        return (*self.attention, *self.planned, *self.closed)

    def counts(self) -> dict[str, int]:
        """Headline numbers for the board's summary line."""
        return {"jeopardy": sum(1 for v in self.attention if v.cause),
                "unassigned": sum(1 for v in self.attention if v.status == "unassigned"),
                "open": len(self.attention) + len(self.planned), "closed": len(self.closed),
                "staff_on_shift": len(self.timelines), "escalations": len(self.escalations)}


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """London midnight to midnight as aware instants."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=LONDON)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=LONDON)


def load_board(
    session: so.Session, *, network_id: int | None, now: datetime,
    provider: TravelTimeProvider,
) -> Board:
    """The board for ``network_id`` (None: every network) on ``now``'s London day."""
    day = now.astimezone(LONDON).date()
    start, end = day_bounds(day)
    networks = tuple((i, n) for i, n in session.execute(
        sa.select(Network.id, Network.name).order_by(Network.name)))
    name = dict(networks).get(network_id, "All networks") if network_id else "All networks"
    escalations = _escalations(session, network_id, now)
    shown = _shown(network_id, start, end,
                   {e.visit_id for e in escalations if e.visit_id is not None})
    visits = _visits(session, shown)
    staff = _staff(session, network_id, {v.assigned_staff_id for v in visits})
    pair_text = _pairs(session, shown, {v.id for v in visits})
    rows = [_row(v, staff, now, pair_text.get(v.id)) for v in visits]
    attention = sorted(
        (r for r in rows if r.status in OPEN and (r.cause or r.status == "unassigned")),
        key=lambda r: (r.cause is None, r.deadline, r.priority))
    chosen = {r.id for r in attention}
    planned = sorted((r for r in rows if r.status in OPEN and r.id not in chosen),
                     key=lambda r: (r.planned_start or r.deadline, r.deadline))
    closed = sorted((r for r in rows if r.status in CLOSED),
                    key=lambda r: r.completed_at or r.deadline, reverse=True)
    bases = _bases(session, network_id)
    shift_bases: dict[int, int | None] = {}
    timelines = _timelines(session, network_id, start, end, rows, staff, bases, provider,
                           shift_bases)
    return Board(network_id, name, networks, now, day, tuple(attention), tuple(planned),
                 tuple(closed), timelines, tuple(bases.values()), escalations,
                 _workers(timelines, rows, shift_bases, bases, now))


def _workers(timelines: tuple[Timeline, ...], rows: list[BoardVisit],
             shift_bases: dict[int, int | None], bases: dict[int, BoardBase], now: datetime,
             ) -> tuple[BoardWorker, ...]:
    """Workers on shift at ``now``: on site at a visit, else at their last visit started
    before now, else at their shift's base; left off when none of those has a place."""
    on_site: dict[int, BoardVisit] = {}
    last: dict[int, tuple[datetime, BoardVisit]] = {}
    for row in rows:
        if row.staff_id is None or row.point is None or row.status == "cancelled":
            continue
        if row.status == "on_site":
            on_site[row.staff_id] = row
        # Done, or planned to have started by now: the last such is where they were last.
        at = row.completed_at or row.planned_start
        if at is not None and at <= now and (row.staff_id not in last
                                             or at > last[row.staff_id][0]):
            last[row.staff_id] = (at, row)
    out = []
    for t in timelines:
        if not t.starts_at <= now < t.ends_at or (t.sick_from is not None and t.sick_from <= now):
            continue
        visit = on_site.get(t.staff_id)
        base = bases.get(shift_bases.get(t.shift_id) or 0)
        if visit is not None and visit.point is not None:
            out.append(BoardWorker(t.staff_id, t.name, visit.point,
                                   f"on site at visit {visit.reference}", t.network_id,
                                   visit.district))
        elif t.staff_id in last and (visit := last[t.staff_id][1]).point is not None:
            assert visit.point is not None
            out.append(BoardWorker(t.staff_id, t.name, visit.point,
                                   f"last at visit {visit.reference}", t.network_id,
                                   visit.district))
        elif base is not None:
            out.append(BoardWorker(t.staff_id, t.name, base.point, f"at base: {base.name}",
                                   t.network_id))
    return tuple(out)


def _pairs(session: so.Session, shown: Any, mine: set[int]) -> dict[int, str]:
    """Each double-handed visit's pair text (issue 15): who the other worker is (three small
    queries: the links of the visits ``shown`` selects, the other halves, their workers)."""
    ids = sa.select(Visit.id).where(shown).scalar_subquery()
    links = list(session.scalars(sa.select(VisitLink).where(
        VisitLink.kind == visit_pairs.DOUBLE_HANDED,
        sa.or_(VisitLink.first_visit_id.in_(ids), VisitLink.second_visit_id.in_(ids)))
        .order_by(VisitLink.id)))
    if not links:
        return {}
    wanted = {v for link in links for v in (link.first_visit_id, link.second_visit_id)}
    halves = {i: (reference, staff_id) for i, reference, staff_id in session.execute(
        sa.select(Visit.id, Visit.reference, Visit.assigned_staff_id)
        .where(Visit.id.in_(sorted(wanted))))}
    names: dict[int, str] = {i: n for i, n in session.execute(
        sa.select(Staff.id, Staff.name).where(Staff.id.in_(sorted(
            {s for _, s in halves.values() if s is not None}))))}
    out: dict[int, str] = {}
    for link in links:
        for this, other in ((link.first_visit_id, link.second_visit_id),
                            (link.second_visit_id, link.first_visit_id)):
            if this not in mine or other not in halves:
                continue
            reference, staff_id = halves[other]
            name = names.get(staff_id) if staff_id is not None else None
            out[this] = (f"2 staff, with {name or 'a second worker not yet chosen'} "
                         f"(visit {reference})")
    return out


def _escalations(session: so.Session, network_id: int | None, now: datetime
                 ) -> tuple[BoardEscalation, ...]:
    """Escalations of the last day not cleared, whose visit (if any) is still open."""
    stmt = (sa.select(Escalation, Visit.reference, Staff.code, Message.created_at)
            .outerjoin(Visit, Visit.id == Escalation.visit_id)
            .outerjoin(Staff, Staff.id == Escalation.staff_id)
            .outerjoin(Message, Message.id == Escalation.message_id)
            .where(Escalation.cleared_at.is_(None),
                   Escalation.created_at >= now - ESCALATIONS_SHOWN_FOR,
                   sa.or_(Escalation.visit_id.is_(None), Visit.status.in_(OPEN)))
            .order_by(Escalation.created_at.desc(), Escalation.id.desc()))
    if network_id is not None:
        stmt = stmt.where(Escalation.network_id == network_id)
    return tuple(
        BoardEscalation(id=e.id, at=e.created_at, kind=e.kind, cause=e.cause,
                        visit_id=e.visit_id, reference=reference, staff_code=code,
                        texted_at=texted, to_on_call=e.to_number is not None)
        for e, reference, code, texted in session.execute(stmt))


#: The columns the board reads of a visit and its patient (not whole rows: an ORM object per
#: visit was most of the board's read time at 1,000 visits).
VISIT_COLUMNS = (Visit.id, Visit.reference, Visit.status, Visit.category, Visit.priority,
                 Visit.reason, Visit.skills, Visit.earliest_start, Visit.deadline,
                 Visit.duration_minutes, Visit.planned_start, Visit.assigned_staff_id,
                 Visit.pinned, Visit.version, Visit.jeopardy_cause, Visit.created_at,
                 Visit.offered_at, Visit.completed_at, Visit.updated_at, Visit.outcome,
                 Visit.late_allowed_until, Visit.late_allowed_staff_id, Visit.blocked_by_pin_id,
                 Patient.postcode, Patient.lat, Patient.lon)


def _shown(network_id: int | None, start: datetime, end: datetime,
           escalated: set[int] | None = None) -> Any:
    """Which visits the board shows: open ones due by the end of the day (or planned in it, or
    in jeopardy, or with an escalation on the board, whenever due), and today's closed ones."""
    open_today = sa.and_(Visit.status.in_(OPEN), sa.or_(
        Visit.earliest_start < end, Visit.planned_start < end,
        Visit.jeopardy_cause.is_not(None), Visit.id.in_(sorted(escalated or ()))))
    # Closed on this London day (completed, or cancelled), whatever the deadline: a 24-hour
    # visit done today counts today, and one done just after midnight counts on its own day.
    closed_at = sa.func.coalesce(Visit.completed_at, Visit.updated_at)
    closed_today = sa.and_(Visit.status.in_(CLOSED), closed_at >= start, closed_at < end)
    shown = sa.or_(open_today, closed_today)
    return shown if network_id is None else sa.and_(shown, Visit.network_id == network_id)


def _visits(session: so.Session, shown: Any) -> list[Any]:
    """The visits ``shown`` selects as rows of :data:`VISIT_COLUMNS` (attribute access by
    column name), by deadline."""
    stmt = (sa.select(*VISIT_COLUMNS).outerjoin(Patient, Patient.id == Visit.patient_id)
            .where(shown).order_by(Visit.deadline, Visit.id))
    return list(session.execute(stmt))


def _staff(
    session: so.Session, network_id: int | None, assigned: set[int | None]
) -> dict[int, Staff]:
    """The network's staff and anyone from elsewhere assigned to one of its visits."""
    stmt = sa.select(Staff)
    if network_id is not None:
        ids = {i for i in assigned if i is not None}
        stmt = stmt.where(sa.or_(Staff.network_id == network_id, Staff.id.in_(ids)))
    return {s.id: s for s in session.scalars(stmt)}


def _row(visit: Any, staff: dict[int, Staff], now: datetime, pair: str | None) -> BoardVisit:
    """One row of :data:`VISIT_COLUMNS` as the board shows it."""
    lat, lon = visit.lat, visit.lon
    worker = staff.get(visit.assigned_staff_id or 0)
    status = visit.status
    cause = None
    if status in OPEN:
        # The rule reads only status and times, which the row has under the same names.
        cause = visit.jeopardy_cause or jeopardy_cause(cast(Visit, visit), now=now)
    point = (round(lat, MAP_DECIMALS), round(lon, MAP_DECIMALS)) if lat is not None \
        and lon is not None else None
    return BoardVisit(
        id=visit.id, reference=visit.reference, status=status, category=visit.category,
        priority=visit.priority, reason=visit.reason, skills=tuple(visit.skills or ()),
        district=postcode_district(visit.postcode) if visit.postcode else "",
        earliest_start=visit.earliest_start, deadline=visit.deadline,
        duration_minutes=visit.duration_minutes, planned_start=visit.planned_start,
        staff_id=visit.assigned_staff_id, staff_name=worker.name if worker else None,
        pinned=visit.pinned, version=visit.version, cause=cause,
        minutes_left=int((visit.deadline - now).total_seconds() // 60), point=point,
        pair=pair, completed_at=_closed_at(visit) if status in CLOSED else None,
        outcome=visit.outcome, blocked_by=visit.blocked_by_pin_id)


def _closed_at(visit: Any) -> datetime:
    """When a closed visit closed: its completion, or (cancelled) its last change."""
    return visit.completed_at or visit.updated_at


def _bases(session: so.Session, network_id: int | None) -> dict[int, BoardBase]:
    stmt = sa.select(StaffBase)
    if network_id is not None:
        stmt = stmt.where(StaffBase.network_id == network_id)
    return {b.id: BoardBase(b.id, b.name, (round(b.lat, MAP_DECIMALS),
                                           round(b.lon, MAP_DECIMALS)))
            for b in session.scalars(stmt.order_by(StaffBase.name))}


def _timelines(
    session: so.Session, network_id: int | None, start: datetime, end: datetime,
    rows: list[BoardVisit], staff: dict[int, Staff], bases: dict[int, BoardBase],
    provider: TravelTimeProvider, shift_bases: dict[int, int | None] | None = None,
) -> tuple[Timeline, ...]:
    """Each shift today with its bars; ``shift_bases`` (if given) gets each shift's base."""
    stmt = sa.select(Shift).join(Staff, Staff.id == Shift.staff_id).where(
        Shift.starts_at < end, Shift.ends_at > start, Staff.active.is_(True),
        Staff.role != "coordinator")
    if network_id is not None:
        stmt = stmt.where(Staff.network_id == network_id)
    shifts = list(session.scalars(stmt.order_by(Shift.starts_at, Shift.id)))
    missing = {s.staff_id for s in shifts} - set(staff)
    if missing:
        more = session.scalars(sa.select(Staff).where(Staff.id.in_(missing)))
        staff.update({s.id: s for s in more})
    by_staff: dict[int, list[BoardVisit]] = defaultdict(list)
    for row in rows:
        if row.staff_id is not None and row.planned_start is not None and row.status != "cancelled":
            by_staff[row.staff_id].append(row)
    out = []
    for shift in shifts:
        worker = staff[shift.staff_id]
        mine = sorted((r for r in by_staff.get(worker.id, [])
                       if shift.starts_at <= (r.planned_start or end) < shift.ends_at),
                      key=lambda r: r.planned_start or end)
        base = bases.get(shift.base_id)
        if shift_bases is not None:
            shift_bases[shift.id] = shift.base_id
        segments = _segments(shift, mine, base.point if base else None, worker.travel_mode,
                             provider)
        out.append(Timeline(worker.id, shift.id, worker.name, worker.role, shift.starts_at,
                            shift.ends_at, shift.sick_from, segments, worker.travel_mode,
                            worker.network_id))
    return tuple(sorted(out, key=lambda t: (t.role, t.name, t.starts_at)))


def _segments(
    shift: Shift, visits: list[BoardVisit], base: tuple[float, float] | None, mode: str,
    provider: TravelTimeProvider,
) -> tuple[Segment, ...]:
    """Breaks, then each visit with the travel leading to it (estimated from the previous
    stop, the base first; drawn ending where the visit starts)."""
    segments = [Segment("break", datetime.fromisoformat(b["start"]),
                        datetime.fromisoformat(b["end"]), "Break") for b in shift.breaks or []]
    legs = _legs(base, visits, mode, provider)
    previous_end = shift.starts_at
    for visit, seconds in zip(visits, legs, strict=True):
        assert visit.planned_start is not None and visit.planned_end is not None
        if seconds:
            leave = max(previous_end, visit.planned_start - timedelta(seconds=seconds))
            if leave < visit.planned_start:
                segments.append(Segment("travel", leave, visit.planned_start,
                                        f"{MODE_WORDS.get(mode, 'Travel')} "
                                        f"{round(seconds / 60)} min"))
        segments.append(Segment("visit", visit.planned_start, visit.planned_end,
                                f"Visit {visit.reference}", visit.status, bool(visit.cause)))
        previous_end = visit.planned_end
    return tuple(sorted(segments, key=lambda s: s.start))


def _legs(base: tuple[float, float] | None, visits: list[BoardVisit], mode: str,
          provider: TravelTimeProvider) -> list[int]:
    """Seconds of travel into each visit from the stop before it (0 where unknown)."""
    stops = [base, *(v.point for v in visits)]
    position: dict[int, int] = {}  # index in stops -> index in the matrix
    known: list[tuple[float, float]] = []
    for n, point in enumerate(stops):
        if point is not None:
            position[n] = len(known)
            known.append(point)
    if not visits or len(known) < 2:
        return [0] * len(visits)
    try:
        matrix = provider.matrix(known, known, mode=mode)
    except UnknownTravelModeError:
        return [0] * len(visits)
    return [int(matrix[position[n - 1]][position[n]]) if n - 1 in position and n in position
            else 0 for n in range(1, len(stops))]
