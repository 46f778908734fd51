"""A worker off sick, absent or finishing early (issue 14: absence).

Recording an absence takes the worker's open visits in that time off them (each worker who
knew of a visit is texted that it was withdrawn) and leaves them to the planner: the caller
asks for a re-plan of the network (``dispatch.planning.runs.request_replan``), which gives the
worker nothing in the absence (``dispatch.planning.problem``).

What moves: visits assigned, offered, accepted or en route (the worker is not going; an
accepted visit is offered again to someone else). What stays: a visit the worker is on site
for (arrived: they are with the patient, so it is theirs to finish or hand over by phone);
it is reported back so the coordinator can ring them (hazard H-112).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.models import Absence, Shift, Staff, Visit
from dispatch.models.vocab import ABSENCE_REASONS
from dispatch.services import audit, visit_actions
from dispatch.services.manual import ABSENCE_WORDS, hm

#: How each reason reads in messages and on the board.
REASON_WORDS = ABSENCE_WORDS
#: Longer absences belong in the roster, not on today's board.
MAX_LENGTH = timedelta(days=28)
#: Open visits taken off an absent worker; ``on_site`` (arrived) stays with them.
RELEASED = ("assigned", "offered", "accepted", "en_route")
KEPT = ("on_site",)


@dataclass(frozen=True)
class AbsenceOutcome:
    """The absence, the visits taken off the worker and those left with them (on site)."""

    absence: Absence
    staff: Staff
    released: tuple[Visit, ...]
    kept: tuple[Visit, ...]


def describe(absence: Absence, staff: Staff, now: datetime) -> str:
    """"Sam Lee off sick from 10:20 until 18:00" (with the day when not today)."""
    return (f"{staff.name} {REASON_WORDS[absence.reason]} from {hm(absence.starts_at, now)} "
            f"until {hm(absence.ends_at, now)}")


def record_absence(
    session: so.Session, *, staff_id: int, starts_at: datetime, ends_at: datetime | None,
    reason: str, note: str | None, actor: Actor, now: datetime,
) -> AbsenceOutcome:
    """Mark ``staff_id`` off from ``starts_at`` until ``ends_at`` and release their visits.

    ``ends_at`` may be left out when finishing early: the end of the shift they are on.

    :raise NotFound: no such worker.
    :raise InvalidInput: unknown reason, ``until`` missing, not after ``from``, already past,
        or longer than :data:`MAX_LENGTH` (fields ``reason``, ``until``).
    """
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFound(f"staff {staff_id} not found")
    if ends_at is None and reason == "finishing_early":
        ends_at = _shift_end(session, staff_id, starts_at)
    _check(reason, starts_at, ends_at, now, staff)
    assert ends_at is not None  # _check refused a missing one
    absence = Absence(staff_id=staff_id, starts_at=starts_at, ends_at=ends_at, reason=reason,
                      note=(note or "").strip()[:200] or None, created_by=actor.username,
                      created_at=now)
    session.add(absence)
    session.flush()
    _sync_shifts(session, staff_id, starts_at, ends_at)
    why = describe(absence, staff, now)
    released, kept = [], []
    for visit in _visits_in(session, staff_id, starts_at, ends_at):
        if visit.status in KEPT:
            kept.append(visit)
        else:
            released.append(visit_actions.unassign(session, visit=visit, now=now, reason=why,
                                                   actor=actor))
    absence.released_visit_ids = [v.id for v in released]
    session.flush()
    audit.record(session, actor=actor, action="record_absence", now=now,
                 entity=("staff", staff.id), purpose="absence",
                 details={"absence_id": absence.id, "reason": reason,
                          "from": starts_at.isoformat(), "until": ends_at.isoformat(),
                          "released": [v.id for v in released], "kept": [v.id for v in kept]})
    return AbsenceOutcome(absence, staff, tuple(released), tuple(kept))


def _check(reason: str, starts_at: datetime, ends_at: datetime | None, now: datetime,
           staff: Staff) -> None:
    errors: dict[str, list[str]] = {}
    if reason not in ABSENCE_REASONS:
        errors["reason"] = [f"must be one of: {', '.join(ABSENCE_REASONS)}"]
    if ends_at is None:
        errors["until"] = [f"give the time {staff.name} is back (or choose finishing early "
                           "while on a shift)"]
    elif ends_at <= starts_at:
        errors["until"] = ["must be after the start of the absence"]
    elif ends_at <= now:
        errors["until"] = ["must be in the future: an absence already over changes nothing"]
    elif ends_at - starts_at > MAX_LENGTH:
        errors["until"] = ["at most 28 days; put longer absences in the roster"]
    if errors:
        raise InvalidInput("invalid absence", errors=errors)


def _shift_end(session: so.Session, staff_id: int, at: datetime) -> datetime | None:
    """The end of the worker's shift running at ``at`` (or the next one that day), if any."""
    return session.scalar(
        sa.select(Shift.ends_at).where(Shift.staff_id == staff_id, Shift.ends_at > at,
                                       Shift.starts_at < at + timedelta(hours=12))
        .order_by(Shift.starts_at).limit(1))


def _visits_in(session: so.Session, staff_id: int, start: datetime,
               end: datetime) -> list[Visit]:
    """The worker's open visits planned to overlap ``[start, end)``, soonest first."""
    rows = session.scalars(
        sa.select(Visit).where(Visit.assigned_staff_id == staff_id,
                               Visit.status.in_(RELEASED + KEPT),
                               Visit.planned_start < end)
        .order_by(Visit.planned_start, Visit.id))
    return [v for v in rows if v.planned_start is not None
            and v.planned_start + timedelta(minutes=v.duration_minutes) > start]


def _sync_shifts(session: so.Session, staff_id: int, start: datetime, end: datetime) -> None:
    """Set ``sick_from`` on the shifts an absence overlaps: the start of the earliest live
    absence running to the shift's end (the board, candidates and cover read it), else none."""
    shifts = session.scalars(sa.select(Shift).where(
        Shift.staff_id == staff_id, Shift.starts_at < end, Shift.ends_at > start))
    for shift in shifts:
        covering = [a.starts_at for a in live(session, staff_id, shift.starts_at, shift.ends_at)
                    if a.ends_at >= shift.ends_at]
        shift.sick_from = max(min(covering), shift.starts_at) if covering else None
    session.flush()


def live(session: so.Session, staff_id: int | None, start: datetime,
         end: datetime) -> list[Absence]:
    """Absences not cancelled overlapping ``[start, end)`` (one worker's, or everyone's)."""
    stmt = sa.select(Absence).where(Absence.cancelled_at.is_(None), Absence.starts_at < end,
                                    Absence.ends_at > start)
    if staff_id is not None:
        stmt = stmt.where(Absence.staff_id == staff_id)
    return list(session.scalars(stmt.order_by(Absence.starts_at, Absence.id)))


def get(session: so.Session, absence_id: int) -> Absence:
    """:raise NotFound: no such absence."""
    absence = session.get(Absence, absence_id)
    if absence is None:
        raise NotFound(f"absence {absence_id} not found")
    return absence


def cancel_absence(session: so.Session, *, absence_id: int, staff_id: int | None = None,
                   actor: Actor, now: datetime) -> Absence:
    """Cancel an absence (recorded by mistake, or the worker is back): the planner may use
    them again in it. The caller re-plans the network: the visits the absence released that
    nobody has accepted yet (unassigned, planned, or offered and unanswered) may go back to
    the worker; a visit another worker accepted stays theirs (the planner never takes
    accepted work away). :func:`released_fates` says which went where.

    :raise NotFound: no such absence (of ``staff_id`` when given).
    :raise Conflict: already cancelled.
    """
    absence = session.get(Absence, absence_id)
    if absence is None or (staff_id is not None and absence.staff_id != staff_id):
        raise NotFound(f"absence {absence_id} not found")
    if absence.cancelled_at is not None:
        raise Conflict(f"absence {absence_id} was already cancelled by {absence.cancelled_by} "
                       f"at {hm(absence.cancelled_at, now)}")
    absence.cancelled_at, absence.cancelled_by = now, actor.username
    session.flush()
    _sync_shifts(session, absence.staff_id, absence.starts_at, absence.ends_at)
    audit.record(session, actor=actor, action="cancel_absence", now=now,
                 entity=("staff", absence.staff_id), purpose="absence",
                 details={"absence_id": absence.id})
    return absence


def on_board(session: so.Session, *, network_id: int | None, start: datetime,
             end: datetime) -> list[tuple[Absence, Staff]]:
    """Live absences in ``[start, end)`` of the network's workers (every network's if None)."""
    stmt = (sa.select(Absence, Staff).join(Staff, Staff.id == Absence.staff_id)
            .where(Absence.cancelled_at.is_(None), Absence.starts_at < end,
                   Absence.ends_at > start)
            .order_by(Absence.starts_at, Absence.id))
    if network_id is not None:
        stmt = stmt.where(Staff.network_id == network_id)
    return [(a, s) for a, s in session.execute(stmt)]


# --- the absence page: past and upcoming, and what became of the released visits -----------

#: The absence page lists past and cancelled absences of this many days.
PAST_DAYS = 14


@dataclass(frozen=True)
class Listed:
    """An absence with its worker, as the absence page lists it."""

    absence: Absence
    staff: Staff


def listing(session: so.Session, *, networks: frozenset[int] | None, network_id: int | None,
            now: datetime) -> tuple[list[Listed], list[Listed]]:
    """(current and upcoming, past and cancelled in the last :data:`PAST_DAYS` days) of the
    workers of ``network_id`` (or of ``networks``, a coordinator's; None: every network):
    upcoming soonest first, past most recent first."""
    stmt = (sa.select(Absence, Staff).join(Staff, Staff.id == Absence.staff_id)
            .where(Absence.ends_at > now - timedelta(days=PAST_DAYS)))
    if networks is not None:
        stmt = stmt.where(Staff.network_id.in_(networks))
    if network_id is not None:
        stmt = stmt.where(Staff.network_id == network_id)
    rows = [Listed(a, s) for a, s in session.execute(stmt.order_by(Absence.starts_at,
                                                                   Absence.id))]
    upcoming = [r for r in rows if r.absence.cancelled_at is None and r.absence.ends_at > now]
    past = [r for r in rows if r not in upcoming]
    past.sort(key=lambda r: (r.absence.cancelled_at or r.absence.ends_at), reverse=True)
    return upcoming, past


@dataclass(frozen=True)
class Fates:
    """What became of an absence's released visits (after a cancel and its re-plan)."""

    back: tuple[Visit, ...]  # with the worker again (offered or planned)
    others: tuple[tuple[Visit, str], ...]  # with another worker: (visit, their name)
    waiting: tuple[Visit, ...]  # not placed yet (the planner or a coordinator will)
    closed: tuple[Visit, ...]  # done, cancelled or handed back meanwhile


def released_fates(session: so.Session, absence: Absence) -> Fates:
    """Where the visits ``absence`` released are now (none listed for old absences)."""
    ids = absence.released_visit_ids or []
    visits = list(session.scalars(sa.select(Visit).where(Visit.id.in_(ids))
                                  .order_by(Visit.planned_start, Visit.id))) if ids else []
    names = dict(session.execute(sa.select(Staff.id, Staff.name).where(
        Staff.id.in_({v.assigned_staff_id for v in visits if v.assigned_staff_id}))).all())
    back, others, waiting, closed = [], [], [], []
    for visit in visits:
        if visit.status not in RELEASED + KEPT + ("unassigned",):
            closed.append(visit)
        elif visit.assigned_staff_id is None:
            waiting.append(visit)
        elif visit.assigned_staff_id == absence.staff_id:
            back.append(visit)
        else:
            others.append((visit, names.get(visit.assigned_staff_id, "another worker")))
    return Fates(tuple(back), tuple(others), tuple(waiting), tuple(closed))


def describe_fates(fates: Fates, staff: Staff) -> str:
    """The fates in words, for the page's message ("" when the absence released nothing)."""
    parts = []
    if fates.back:
        parts.append(f"back with {staff.name}: {_refs(fates.back)}")
    if fates.others:
        parts.append("kept by the worker who has them now: " + ", ".join(
            f"{v.reference} ({name}, {v.status.replace('_', ' ')})" for v, name in fates.others))
    if fates.waiting:
        parts.append(f"still to place (on the board): {_refs(fates.waiting)}")
    if fates.closed:
        parts.append(f"closed meanwhile: {_refs(fates.closed)}")
    return "; ".join(parts)


def _refs(visits: tuple[Visit, ...]) -> str:
    return ", ".join(v.reference for v in visits)
