"""After an absence is cancelled: each visit it took off the worker, what became of it, and
giving one back to the returning worker with one click (issue 14).

Giving back is the normal manual assignment (:func:`manual.assign_manually`, pinned as the
coordinator's decision) at the worker's earliest start in their day as planned now (the
candidates list's, :func:`candidates.candidates`), so every check and refusal is the usual
one, in words with times ("already has visit 3134 from 14:10 to 14:55"): nothing is forced.
A visit another worker has accepted or started stays theirs (it is not offered back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.errors import Conflict, NotFound
from dispatch.models import Absence, Staff, Visit
from dispatch.services import absence as absences
from dispatch.services import candidates, manual, network_scope
from routing.travel import TravelTimeProvider

#: A released visit that may be given back (nobody has accepted it since).
GIVABLE = ("unassigned", "assigned", "offered")


@dataclass(frozen=True)
class Released:
    """One visit an absence took off the worker, and what became of it, in words."""

    visit: Visit
    fate: str
    givable: bool


def released(session: so.Session, absence: Absence, staff: Staff) -> list[Released]:
    """The absence's released visits, each with its fate; ``givable`` once the absence is
    cancelled and the visit is open, not theirs and not accepted by another worker."""
    fates = absences.released_fates(session, absence)
    cancelled = absence.cancelled_at is not None
    out = [Released(v, f"back with {staff.name} ({v.status.replace('_', ' ')})", False)
           for v in fates.back]
    out += [Released(v, f"with {name} ({v.status.replace('_', ' ')})",
                     cancelled and v.status in GIVABLE) for v, name in fates.others]
    out += [Released(v, "still to place (on the board)", cancelled) for v in fates.waiting]
    out += [Released(v, f"closed meanwhile ({v.status.replace('_', ' ')})", False)
            for v in fates.closed]
    return sorted(out, key=lambda r: (r.visit.deadline, r.visit.id))


def give_back(
    session: so.Session, *, absence_id: int, visit_id: int, actor: Actor, now: datetime,
    provider: TravelTimeProvider,
) -> manual.ManualResult:
    """Give a visit a cancelled absence released back to its worker: the manual assignment
    at their best start now, pinned. Not saved (``applied`` False, with the warnings in
    words) when the checks warn; the caller rolls back then.

    :raise NotFound: no such absence, or the visit is not one it released.
    :raise Forbidden: a network ``actor`` does not coordinate.
    :raise Conflict: the absence is not cancelled, the visit is accepted or closed, or the
        worker cannot take it (why, in words with times).
    """
    absence = absences.get(session, absence_id)
    if visit_id not in (absence.released_visit_ids or []):
        raise NotFound(f"visit {visit_id} was not taken off by this absence")
    staff = network_scope.require_staff(session, actor, absence.staff_id)
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"visit {visit_id} not found")
    if absence.cancelled_at is None:
        raise Conflict(f"the absence of {staff.name} is not cancelled; cancel it first")
    if visit.status not in GIVABLE:
        raise Conflict(f"visit {visit.reference} is {visit.status.replace('_', ' ')}; it "
                       "stays where it is")
    if visit.assigned_staff_id == staff.id:
        raise Conflict(f"visit {visit.reference} is already back with {staff.name}")
    found = next((c for c in candidates.candidates(session, visit, now=now, provider=provider)
                  if c.staff_id == staff.id), None)
    if found is None or found.refused or found.start is None:
        why = found.reason if found is not None and found.reason else "not a field worker here"
        raise Conflict(f"{staff.name} cannot take visit {visit.reference}: {why}")
    return manual.assign_manually(
        session, visit_id=visit.id, staff_id=staff.id, start=found.start,
        version=visit.version, confirm=False, pin=True, actor=actor, now=now,
        provider=provider)
