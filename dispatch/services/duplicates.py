"""Duplicate referrals (hazard H-002): warn about them, and let a coordinator close one.

Two calls about the same patient minutes apart used to become two urgent visits. A new
referral is still logged (a second call can mean the patient got worse), but the caller is
shown the patient's other open referrals first, and the API returns them as
``possible_duplicates``. A coordinator who decides that one repeats the other marks it: its
open visits are cancelled with that reason (through the transition table, so a worker who
had the offer is told not to go) and the referral is cancelled, all audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import states
from dispatch.actors import Actor
from dispatch.errors import Conflict, NotFound
from dispatch.models import Referral, Visit
from dispatch.services import audit, visit_actions
from dispatch.states import REFERRAL_OPEN_STATUSES, VISIT_OPEN_STATUSES

MAX_SHOWN = 10


@dataclass(frozen=True)
class OpenVisit:
    reference: str
    status: str
    deadline: datetime
    planned_start: datetime | None


@dataclass(frozen=True)
class PossibleDuplicate:
    """Another open referral of the same patient: what it is and when it came."""

    referral_id: int
    received_at: datetime
    category: str | None
    status: str
    deadline: datetime | None
    visits: tuple[OpenVisit, ...] = ()


@dataclass(frozen=True)
class ReferralRead:
    """A referral as the API shows it: with the patient's other open referrals (H-002)."""

    referral: Referral
    possible_duplicates: tuple[PossibleDuplicate, ...] = ()

    @property
    def safety_netting(self) -> str | None:
        """The advice read back to the caller, from the disposition."""
        value = (self.referral.disposition or {}).get("safety_netting")
        return None if value is None else str(value)


def with_duplicates(session: so.Session, referral: Referral) -> ReferralRead:
    """``referral`` with the patient's other open referrals."""
    return ReferralRead(referral, tuple(possible_duplicates(session, referral.patient_id,
                                                            exclude=referral.id)))


def possible_duplicates(
    session: so.Session, patient_id: int, *, exclude: int | None = None
) -> list[PossibleDuplicate]:
    """The patient's open referrals (or referrals with an open visit), newest first."""
    with_open_visit = sa.select(Visit.referral_id).where(
        Visit.patient_id == patient_id, Visit.status.in_(VISIT_OPEN_STATUSES),
        Visit.referral_id.is_not(None))
    stmt = sa.select(Referral).where(
        Referral.patient_id == patient_id,
        sa.or_(Referral.status.in_(REFERRAL_OPEN_STATUSES), Referral.id.in_(with_open_visit)),
    )
    if exclude is not None:
        stmt = stmt.where(Referral.id != exclude)
    rows = session.scalars(stmt.order_by(Referral.received_at.desc(), Referral.id.desc())
                           .limit(MAX_SHOWN))
    return [_summary(r) for r in rows]


def _summary(referral: Referral) -> PossibleDuplicate:
    visits = tuple(OpenVisit(v.reference, v.status, v.deadline, v.planned_start)
                   for v in sorted(referral.visits, key=lambda v: v.id)
                   if v.status in VISIT_OPEN_STATUSES)
    return PossibleDuplicate(referral.id, referral.received_at, referral.category,
                             referral.status, referral.deadline, visits)


def mark_duplicate(
    session: so.Session, *, referral_id: int, of_id: int, actor: Actor, now: datetime,
    request_id: str | None = None,
) -> ReferralRead:
    """Mark ``referral_id`` a duplicate of ``of_id``: cancel its open visits and itself;
    returns the duplicate as the API shows it.

    Raises
    ------
    NotFound
        Either referral does not exist.
    Conflict
        The same referral twice, referrals of different patients, either one already closed,
        or a visit of the duplicate already under way.
    """
    if referral_id == of_id:
        raise Conflict("a referral cannot be a duplicate of itself")
    duplicate = _get(session, referral_id)
    original = _get(session, of_id)
    if duplicate.patient_id != original.patient_id:
        raise Conflict(f"referrals {referral_id} and {of_id} are for different patients")
    for referral in (duplicate, original):
        if not _is_open(session, referral):
            raise Conflict(f"referral {referral.id} is already closed ({referral.status})")
    if not states.can_move("referral", duplicate.status, "cancelled"):
        raise Conflict(f"referral {referral_id} is {duplicate.status} and can no longer be "
                       "cancelled; phone the team with the visit")
    open_visits = [v for v in sorted(duplicate.visits, key=lambda v: v.id)
                   if v.status in VISIT_OPEN_STATUSES]
    stuck = [v.reference for v in open_visits if not states.can_move("visit", v.status,
                                                                       "cancelled")]
    if stuck:
        raise Conflict(f"visit {stuck[0]} of referral {referral_id} is under way and cannot be "
                       "cancelled")
    reason = f"duplicate of referral {of_id}"
    for visit in open_visits:
        visit_actions.cancel(session, visit=visit, reason=reason, now=now, actor=actor)
    # Cancelling the last open visit settles a referral with a completed one as completed.
    if states.can_move("referral", duplicate.status, "cancelled"):
        states.move("referral", duplicate, "cancelled")
    duplicate.duplicate_of_id = original.id
    duplicate.updated_at = now
    audit.record(session, actor=actor, action="mark_duplicate", now=now,
                 patient_id=duplicate.patient_id, entity=("referral", duplicate.id),
                 purpose=reason, request_id=request_id,
                 details={"duplicate_of": original.id,
                          "cancelled_visits": [v.reference for v in open_visits]})
    session.flush()
    return with_duplicates(session, duplicate)


def _get(session: so.Session, referral_id: int) -> Referral:
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise NotFound(f"referral {referral_id} not found")
    return referral


def _is_open(session: so.Session, referral: Referral) -> bool:
    if referral.status in REFERRAL_OPEN_STATUSES:
        return True
    return any(v.status in VISIT_OPEN_STATUSES for v in referral.visits)
