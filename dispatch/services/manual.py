"""Coordinators assigning, unassigning and pinning by hand, with the checks a planner would make.

Before saving, :func:`check_assignment` asks the questions the solver's hard constraints ask:
does the worker hold every skill, are they on shift then, can they be there before the
deadline (travel from their base with the configured travel model), are they already busy
then? Problems come back as warnings; the change is saved only when there are none or the
coordinator confirms.

No double-booking: every assignment (by hand or by the planner) first locks the worker's
``staff`` row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serialises writers anyway) and
re-checks the worker's other visits under that lock, travel between them included
(:mod:`dispatch.planning.invariants`, hazard H-013). Two coordinators changing the same visit
are told apart by its ``version`` (optimistic locking): the second gets a 409.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import states
from dispatch.actors import Actor
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.models import Patient, Shift, Staff, StaffBase, Visit
from dispatch.planning import invariants
from dispatch.services import visit_actions
from routing.travel import TravelTimeProvider


@dataclass
class AssignmentCheck:
    warnings: list[str] = field(default_factory=list)
    shift: Shift | None = None

    @property
    def ok(self) -> bool:
        return not self.warnings


@dataclass(frozen=True)
class ManualResult:
    visit: Visit
    applied: bool
    warnings: tuple[str, ...]


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


def check_assignment(
    session: so.Session,
    *,
    visit: Visit,
    staff: Staff,
    start: datetime,
    provider: TravelTimeProvider,
    now: datetime | None = None,
) -> AssignmentCheck:
    """Warnings for assigning ``visit`` to ``staff`` at ``start`` (empty when it is fine).

    ``now`` places visits under way (default ``start``)."""
    check = AssignmentCheck()
    end = start + timedelta(minutes=visit.duration_minutes)
    missing = sorted(set(visit.skills) - set(staff.skills))
    if missing:
        check.warnings.append(f"{staff.name} does not hold: {', '.join(missing)}")
    if staff.id in (visit.excluded_staff_ids or []):
        check.warnings.append(f"{staff.name} declined this visit")
    check.shift = session.scalar(
        sa.select(Shift).where(
            Shift.staff_id == staff.id, Shift.starts_at <= start, Shift.ends_at >= end
        )
    )
    if check.shift is None:
        check.warnings.append(f"{staff.name} is not on shift for the whole visit")
    elif check.shift.sick_from is not None and check.shift.sick_from < end:
        check.warnings.append(
            f"{staff.name} is off sick from {check.shift.sick_from.isoformat(timespec='minutes')}"
        )
    if start > visit.deadline:
        late = int((start - visit.deadline).total_seconds() // 60)
        check.warnings.append(f"starts {late} min after the deadline")
    if start < visit.earliest_start:
        check.warnings.append("starts before the visit's earliest start")
    travel = _travel_from_base(session, staff, check.shift, visit, provider)
    if travel is not None and check.shift is not None and start - travel < check.shift.starts_at:
        check.warnings.append(
            f"needs {int(travel.total_seconds() // 60)} min travel from base "
            "after the shift starts; cannot arrive by then"
        )
    for other in _clashes(session, visit=visit, staff=staff, start=start, provider=provider,
                          now=now or start):
        check.warnings.append(
            f"{staff.name} is already booked for visit {other.reference} then "
            "(or cannot travel between the two in time)")
    return check


def _clashes(
    session: so.Session, *, visit: Visit, staff: Staff, start: datetime,
    provider: TravelTimeProvider, now: datetime,
) -> list[Visit]:
    """The worker's other bookings that ``visit`` at ``start`` cannot be kept with."""
    where = invariants.location_of(session.get(Patient, visit.patient_id))
    candidate = invariants.Held(visit.id, staff.id, start,
                                start + timedelta(minutes=visit.duration_minutes), where)
    others = invariants.holdings(session, [staff.id], now, exclude=[visit.id])
    ids = invariants.clashes_with(candidate, others, invariants.Travel(provider))
    return [v for v in (session.get(Visit, i) for i in ids) if v is not None]


def _travel_from_base(
    session: so.Session,
    staff: Staff,
    shift: Shift | None,
    visit: Visit,
    provider: TravelTimeProvider,
) -> timedelta | None:
    base = session.get(StaffBase, shift.base_id if shift else (staff.base_id or -1))
    patient = session.get(Patient, visit.patient_id)
    if base is None or patient is None or patient.lat is None or patient.lon is None:
        return None
    seconds = provider.matrix(
        [(base.lat, base.lon)], [(patient.lat, patient.lon)], mode=staff.travel_mode
    )[0][0]
    return timedelta(seconds=int(seconds))


def assign_manually(
    session: so.Session,
    *,
    visit_id: int,
    staff_id: int,
    start: datetime,
    version: int,
    confirm: bool,
    pin: bool,
    actor: Actor,
    now: datetime,
    provider: TravelTimeProvider,
) -> ManualResult:
    """Assign a visit by hand; unsaved (with warnings) unless the checks pass or ``confirm``.

    Raises
    ------
    NotFound
        No such visit.
    Conflict
        ``version`` is stale (someone else changed the visit), or the state machine refuses.
    """
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"visit {visit_id} not found")
    if visit.version != version:
        raise Conflict(
            f"visit {visit.reference} was changed by someone else (version "
            f"{visit.version}, you had {version}); reload it and try again"
        )
    staff = lock_worker(session, staff_id)
    check = check_assignment(session, visit=visit, staff=staff, start=start, provider=provider,
                             now=now)
    double_booked = any("already booked" in w for w in check.warnings)
    if double_booked or (check.warnings and not confirm):
        # Double-booking is never allowed, even confirmed: one person, one place.
        return ManualResult(visit, False, tuple(check.warnings))
    visit_actions.assign(
        session,
        visit=visit,
        staff=staff,
        shift=check.shift,
        planned_start=start,
        now=now,
        actor=actor,
    )
    if pin:
        visit.pinned = True
        session.flush()
    return ManualResult(visit, True, tuple(check.warnings))


def unassign_manually(
    session: so.Session, *, visit_id: int, version: int, reason: str, actor: Actor, now: datetime
) -> Visit:
    """Take a visit off its worker by hand (it returns to the planner).

    An offer still waiting for its answer is withdrawn as unanswered: the planner then asks
    someone else first, and that worker again only if no one else can do as well.
    """
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"visit {visit_id} not found")
    if visit.version != version:
        raise Conflict(f"visit {visit.reference} was changed by someone else; reload it")
    if visit.status == "offered" and visit.assigned_staff_id is not None:
        return visit_actions.withdraw_unanswered(session, visit=visit, now=now, reason=reason,
                                                 actor=actor)
    return visit_actions.unassign(session, visit=visit, now=now, reason=reason, actor=actor)


def set_pin(
    session: so.Session, *, visit_id: int, version: int, pinned: bool, actor: Actor, now: datetime
) -> Visit:
    """Pin (or unpin) an assigned visit so the planner keeps it with its worker."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"visit {visit_id} not found")
    if visit.version != version:
        raise Conflict(f"visit {visit.reference} was changed by someone else; reload it")
    if pinned and visit.assigned_staff_id is None:
        raise Conflict(f"visit {visit.reference} has no worker to pin it to")
    if not pinned and visit.status in states.VISIT_PINNED_STATUSES:
        raise Conflict(f"visit {visit.reference} is {visit.status}; its worker has committed")
    visit.pinned = pinned
    from dispatch.services import audit

    audit.record(
        session,
        actor=actor,
        action="pin_visit" if pinned else "unpin_visit",
        now=now,
        patient_id=visit.patient_id,
        entity=("visit", visit.id),
        purpose="manual dispatch",
    )
    visit_actions._flush(session, visit)
    return visit
