"""The best times for a care-package line's next visit (issue 15 item 5: "the package page
offers them").

For the line's next open visit (unassigned, or booked provisionally by the week's plan) the
best one-hour windows *within its own window* are worked out against the network's plan as it
stands (:func:`dispatch.services.slots.slots_for_visit`): booking one narrows the visit's
window, so the package's rules (its day, a follow-on's gap, calls spaced apart) still hold
(a window only shrinks). A double-handed visit's second half is narrowed with it. Each
offered window is held for a few minutes (:mod:`dispatch.services.slot_holds`, H-140-C2),
and booking needs the hold. A follow-on line's visits are timed by the visit they follow:
no times are offered for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import states
from dispatch.actors import Actor
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.models import CarePackage, CarePackageItem, TariffItem, Visit
from dispatch.services import audit, pairs, slot_holds, slots
from dispatch.services.packages import get_own_package
from routing.travel import TravelTimeProvider

#: Visits whose time a coordinator may still set here: nobody has been told yet.
OPEN = ("unassigned", "assigned")
PURPOSE = "offer a time for a care-package visit"


@dataclass(frozen=True)
class LineSlots:
    """The times offered for one line: its next open visit and the windows (empty: none
    fits), or why none are offered (``reason``)."""

    item_id: int
    visit: Visit | None
    slots: tuple[slots.OfferedSlot, ...] = ()
    reason: str | None = None


def _line(package: CarePackage, item_id: int) -> CarePackageItem:
    item = next((i for i in package.items if i.id == item_id), None)
    if item is None:
        raise NotFound(f"care package {package.id} has no line {item_id}")
    return item


def next_visit(session: so.Session, package: CarePackage, item: CarePackageItem,
               now: datetime) -> Visit | None:
    """The line's next open visit (its first half, for a double-handed one)."""
    code = session.scalar(sa.select(TariffItem.code).where(TariffItem.id == item.tariff_item_id))
    rows = session.scalars(sa.select(Visit).where(
        Visit.package_id == package.id, Visit.reason == f"care package {package.id}: {code}",
        Visit.status.in_(OPEN), Visit.deadline > now, Visit.pinned.is_(False))
        .order_by(Visit.earliest_start, Visit.id)).all()
    seconds = pairs.second_halves(session, [v.id for v in rows])
    return next((v for v in rows if v.id not in seconds), None)


def offer_line_slots(
    session: so.Session, *, package_id: int, item_id: int, actor: Actor, now: datetime,
    provider: TravelTimeProvider, hold: timedelta = slot_holds.DEFAULT_HOLD,
    request_id: str | None = None,
) -> LineSlots:
    """The best times for the line's next visit, held for ``hold``; the read audited
    (``view_package_slots``); flushes.

    :raise NotFound: no such package or line. :raise Forbidden: not ``actor``'s network.
    """
    package = get_own_package(session, package_id, actor=actor)
    item = _line(package, item_id)
    if item.follows_item_id is not None:
        return LineSlots(item.id, None, reason="Timed by the visit it follows")
    visit = next_visit(session, package, item, now)
    if visit is None:
        return LineSlots(item.id, None, reason="No visit of this line is waiting for a time")
    found = slots.slots_for_visit(session, visit, now=now, provider=provider,
                                  ahead=max(visit.deadline - now, timedelta(minutes=1)))
    slot_holds.hold(session, visit=visit, offered=found, held_by=actor.username, now=now,
                    minutes=hold)
    audit.record(session, actor=actor, action="view_package_slots", now=now,
                 patient_id=package.patient_id, entity=("visit", visit.id), purpose=PURPOSE,
                 request_id=request_id, details={"package_id": package.id, "offered": len(found)})
    return LineSlots(item.id, visit, tuple(found))


def book_line_slot(
    session: so.Session, *, package_id: int, visit_id: int, start: datetime, actor: Actor,
    now: datetime, request_id: str | None = None,
) -> Visit:
    """Narrow the visit's window to the offered one starting at ``start`` (its hold's); a
    provisional booking goes back to the planner. Flushes.

    :raise NotFound: no such package, or the visit is not one of its visits.
    :raise Conflict: the visit has been offered or accepted meanwhile.
    :raise InvalidInput: keyed ``slot``: the time is no longer held (find the times again).
    """
    package = get_own_package(session, package_id, actor=actor)
    visit = session.get(Visit, visit_id)
    if visit is None or visit.package_id != package.id:
        raise NotFound(f"care package {package.id} has no visit {visit_id}")
    if visit.status not in OPEN or visit.pinned:
        raise Conflict(f"visit {visit.reference} is {visit.status}: its carer has been told; "
                       "move it from the board")
    held = slot_holds.require_hold(session, visit_id=visit.id, start=start, now=now)
    if not visit.earliest_start <= start <= visit.deadline:
        raise InvalidInput("outside the visit's window", errors={"slot": [
            "Choose one of the times offered"]})
    window = (start, min(held.window_end, visit.deadline))
    original = (visit.earliest_start.isoformat(), visit.deadline.isoformat())
    halves = [visit]
    other = pairs.partner(session, visit)
    if other is not None and other.link.kind == pairs.DOUBLE_HANDED:
        halves.append(other.visit)
    for half in halves:
        if half.status == "assigned":  # provisional: re-planned in the new window
            states.move("visit", half, "unassigned")
            half.assigned_staff_id = half.shift_id = half.planned_start = None
        half.earliest_start, half.deadline = window
        half.updated_at = now
    slot_holds.release(session, visit_id=visit.id)
    session.flush()
    audit.record(session, actor=actor, action="package_visit_time_booked", now=now,
                 patient_id=visit.patient_id, entity=("visit", visit.id), purpose=PURPOSE,
                 request_id=request_id,
                 details={"package_id": package.id, "reference": visit.reference,
                          "original_earliest_start": original[0],
                          "original_deadline": original[1],
                          "new_earliest_start": window[0].isoformat(),
                          "new_deadline": window[1].isoformat()})
    return visit
