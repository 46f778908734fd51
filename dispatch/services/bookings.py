"""Booking a visit to start later than triage asked, with the safeguards CLINICAL.md requires.

"Booking outside the disposition timeframe must warn the user, and for timeframes of 6 hours or
less ask for clinical approval; such bookings are logged and reported." A call handler may
move a visit's start (the family asks for after 3pm, say). Within the deadline nothing else
is needed. Past the deadline the handler must confirm they saw the warning, give a reason and,
when the disposition's timeframe is 6 hours or less, name the clinician who approved it. Each
such booking writes a ``booking_outside_timeframe`` audit event that reports query with
:func:`bookings_outside_timeframe`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import states
from dispatch.actors import Actor
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.models import AuditEvent, Referral, Visit
from dispatch.services import audit, slot_holds
from triage.timing import RESPONSE_WINDOWS

OUTSIDE_TIMEFRAME_ACTION = "booking_outside_timeframe"
WITHIN_TIMEFRAME_ACTION = "visit_start_booked"
# CLINICAL.md: timeframes of 6 hours or less need a clinician's approval to be exceeded.
APPROVAL_TIMEFRAME = timedelta(hours=6)
# A booked start past the deadline gets this long to arrive in: "between 15:00 and 16:00".
BOOKED_SLOT = timedelta(hours=1)
# Nobody books a rapid response a fortnight ahead; a date that far out is a typing error.
MAX_BOOKING_AHEAD = timedelta(days=14)
# A start a moment ago (the form took a minute to fill in) is still "now".
PAST_TOLERANCE = timedelta(minutes=5)
MIN_REASON = 10  # characters: a real reason, as for care plan overrides
# Visits that no worker has committed to; later ones are the coordinator's to move.
BOOKABLE_STATUSES = ("unassigned", "assigned")


@dataclass(frozen=True)
class Approval:
    """The clinician who approved a booking outside a short timeframe."""

    name: str
    role: str


@dataclass(frozen=True)
class BookingCheck:
    """What a requested start means, before anything is changed (the page shows it)."""

    outside_timeframe: bool
    needs_approval: bool
    timeframe: timedelta
    current_deadline: datetime
    new_earliest_start: datetime
    new_deadline: datetime


@dataclass(frozen=True)
class Booking:
    """A booking made: the visit as it now stands and what was checked."""

    visit: Visit
    check: BookingCheck


def timeframe(referral: Referral, visit: Visit) -> timedelta:
    """The disposition's timeframe: the shortest of its category's window, its Pathways
    timeframe and the time it actually allowed.

    Why the shortest: an urgent two-hour referral taken at night gets a deadline the next
    morning, but it is still a two-hour disposition; erring towards asking a clinician is safe.
    """
    candidates = [visit.deadline - referral.received_at]
    window = RESPONSE_WINDOWS.get(visit.category)
    if window:
        candidates.append(window)
    if referral.pathways_timeframe_minutes:
        candidates.append(timedelta(minutes=referral.pathways_timeframe_minutes))
    return max(min(candidates), timedelta(0))


def check_booking(referral: Referral, visit: Visit, *, start: datetime) -> BookingCheck:
    """Say whether ``start`` is past the visit's deadline and whether a clinician must approve."""
    frame = timeframe(referral, visit)
    outside = start > visit.deadline
    return BookingCheck(
        outside_timeframe=outside,
        needs_approval=outside and frame <= APPROVAL_TIMEFRAME,
        timeframe=frame,
        current_deadline=visit.deadline,
        new_earliest_start=start,
        new_deadline=start + BOOKED_SLOT if outside else visit.deadline,
    )


def book_later_start(
    session: so.Session,
    *,
    visit_id: int,
    start: datetime,
    actor: Actor,
    now: datetime,
    reason: str = "",
    confirmed: bool = False,
    approval: Approval | None = None,
    request_id: str | None = None,
) -> Booking:
    """Move a visit's earliest start to ``start``; past the deadline, move the deadline too.

    Raises
    ------
    NotFound
        No such visit.
    Conflict
        A worker has accepted the visit (or it is over): the coordinator must move it.
    InvalidInput
        Keyed ``start``, ``reason``, ``confirm``, ``approver_name`` or ``approver_role``: a
        start in the past or too far ahead; past the deadline without a reason, without
        confirming the warning, or (timeframe of 6 hours or less) without a named approver.
    """
    visit = session.get(Visit, visit_id)
    if visit is None or visit.referral is None:
        raise NotFound(f"visit {visit_id} not found")
    if visit.status not in BOOKABLE_STATUSES:
        raise Conflict(f"visit {visit.reference} is {visit.status}; ask the coordinator to move it")
    check = check_booking(visit.referral, visit, start=start)
    _validate(check, start=start, now=now, reason=reason, confirmed=confirmed, approval=approval)
    original = (visit.earliest_start, visit.deadline)
    _release_if_assigned(visit)
    visit.earliest_start = check.new_earliest_start
    visit.deadline = check.new_deadline
    visit.updated_at = now
    session.flush()
    audit.record(
        session, actor=actor, now=now, patient_id=visit.patient_id, entity=("visit", visit.id),
        action=OUTSIDE_TIMEFRAME_ACTION if check.outside_timeframe else WITHIN_TIMEFRAME_ACTION,
        purpose=reason.strip() or "booked start requested", request_id=request_id,
        details=_details(visit, check, original, reason, approval),
    )
    slot_holds.release(session, visit_id=visit.id)  # booked: its offered times are let go
    return Booking(visit=visit, check=check)


def _validate(
    check: BookingCheck, *, start: datetime, now: datetime, reason: str, confirmed: bool,
    approval: Approval | None,
) -> None:
    errors: dict[str, list[str]] = {}
    if start.tzinfo is None:
        errors["start"] = ["must carry a time zone"]
    elif start < now - PAST_TOLERANCE:
        errors["start"] = ["must not be in the past"]
    elif start > now + MAX_BOOKING_AHEAD:
        errors["start"] = [f"must be within {MAX_BOOKING_AHEAD.days} days"]
    if check.outside_timeframe:
        if len(reason.strip()) < MIN_REASON:
            errors["reason"] = [f"give a reason of at least {MIN_REASON} characters"]
        if not confirmed:
            errors["confirm"] = ["confirm that the visit will start after its deadline"]
        if check.needs_approval:
            errors.update(_approval_errors(approval))
    if errors:
        raise InvalidInput("booking not accepted", errors=errors)


def _approval_errors(approval: Approval | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    why = "a clinician must approve a booking outside a timeframe of 6 hours or less"
    if approval is None or not approval.name.strip():
        errors["approver_name"] = [f"enter the approving clinician's name: {why}"]
    if approval is None or not approval.role.strip():
        errors["approver_role"] = ["enter the approving clinician's role"]
    return errors


def _release_if_assigned(visit: Visit) -> None:
    """An assignment planned for the old window may not fit the new one: give it back to the
    planner rather than leave a worker booked at a time the visit may no longer start."""
    if visit.status == "assigned":
        states.move("visit", visit, "unassigned")
        visit.assigned_staff_id = None
        visit.shift_id = None
        visit.planned_start = None


def _details(
    visit: Visit, check: BookingCheck, original: tuple[datetime, datetime], reason: str,
    approval: Approval | None,
) -> dict[str, Any]:
    return {
        "visit_reference": visit.reference,
        "referral_id": visit.referral_id,
        "category": visit.category,
        "original_earliest_start": original[0].isoformat(),
        "original_deadline": original[1].isoformat(),
        "new_earliest_start": check.new_earliest_start.isoformat(),
        "new_deadline": check.new_deadline.isoformat(),
        "timeframe_minutes": int(check.timeframe.total_seconds() // 60),
        "approval_required": check.needs_approval,
        "approved_by": (
            {"name": approval.name.strip(), "role": approval.role.strip()}
            if approval and approval.name.strip() else None
        ),
        "reason": reason.strip(),
    }


def bookings_outside_timeframe(
    session: so.Session, *, since: datetime, until: datetime, network_id: int | None = None
) -> list[AuditEvent]:
    """The audit events of bookings made outside their timeframe in ``[since, until)``,
    oldest first: what the reports list (details hold the deadlines, approver and reason)."""
    stmt = sa.select(AuditEvent).where(
        AuditEvent.action == OUTSIDE_TIMEFRAME_ACTION, AuditEvent.at >= since, AuditEvent.at < until
    )
    if network_id is not None:
        stmt = stmt.join(Visit, sa.cast(Visit.id, sa.String) == AuditEvent.entity_id).where(
            AuditEvent.entity_type == "visit", Visit.network_id == network_id
        )
    return list(session.scalars(stmt.order_by(AuditEvent.at, AuditEvent.id)))
