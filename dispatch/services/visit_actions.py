"""The visit state machine's actions, shared by SMS replies, the visit page and the planner.

Each action checks that it makes sense *for this worker now* (a stale or foreign reply is a
:class:`Conflict` with a message fit to text back), moves the status through
``dispatch.states.move``, writes the texts the change announces in the same transaction
(``dispatch.services.outbox.enqueue``), writes an audit event, and flushes. The caller commits.

Two people changing one visit at once cannot both win: the visit's ``version`` column makes the
loser's flush fail, and that becomes a Conflict too. Re-planning after a decline is a side
effect that must wait for the commit: the session's re-plan hooks run only once it has happened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import orm as so
from sqlalchemy.orm.exc import StaleDataError

from dispatch import states
from dispatch.actors import SYSTEM, Actor
from dispatch.database import REPLAN_HOOKS_KEY, ReplanHook
from dispatch.errors import Conflict, InvalidInput
from dispatch.models import Message, Patient, Referral, Shift, Staff, Visit
from dispatch.models.vocab import VISIT_OUTCOMES
from dispatch.services import audit, pairs
from dispatch.services.outbox import enqueue, forbidden_for_visit, rewrite_unsent
from dispatch.sms import compose
from dispatch.sms.settings import public_base_url

log = logging.getLogger(__name__)

# A re-timed offer is texted again only when the window moved at least this much.
RETIME_NOTICE = timedelta(minutes=15)
OFFERED = states.VISIT_PROPOSED_STATUSES
TOLD = ("offered", "accepted", "en_route")  # the worker has had the offer text
_AFTER_COMMIT = "dispatch.after_commit"


def sms_actor(staff: Staff) -> Actor:
    """The audit identity of a worker acting by SMS."""
    return Actor(user_id=None, username=f"sms:{staff.code}", role="field_staff",
                 staff_id=staff.id)


def run_after_commit(session: so.Session, fn: Callable[[], None]) -> None:
    """Run ``fn`` once the session's transaction commits; drop it if it rolls back."""
    if _AFTER_COMMIT not in session.info:
        session.info[_AFTER_COMMIT] = []
        event.listen(session, "after_commit", _run_pending)
        event.listen(session, "after_soft_rollback", _drop_pending)
    session.info[_AFTER_COMMIT].append(fn)


def _run_pending(session: so.Session) -> None:
    pending, session.info[_AFTER_COMMIT] = session.info.get(_AFTER_COMMIT, []), []
    for fn in pending:
        try:
            fn()
        except Exception:  # a side effect must never undo or fail a committed change
            log.exception("after-commit action failed")


def _drop_pending(session: so.Session, previous_transaction: so.SessionTransaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        session.info[_AFTER_COMMIT] = []


def replan_after_commit(session: so.Session, network_id: int | None) -> None:
    """Ask the session's planners to re-plan ``network_id`` once this change has committed.

    The hooks are the session's database's (``Database.replan_hooks``, in ``session.info``),
    passed in by whoever runs the planner in this process; each opens its own session."""
    hooks: list[ReplanHook] = list(session.info.get(REPLAN_HOOKS_KEY) or ())

    def run() -> None:
        for hook in hooks:
            try:
                hook(network_id)
            except Exception:
                log.exception("re-plan hook %r failed for network %s", hook, network_id)
    run_after_commit(session, run)


def _flush(session: so.Session, visit: Visit) -> None:
    """Flush; a concurrent change to the same visit becomes a Conflict."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(f"visit {visit.reference} was changed by someone else at the same "
                       "time; reload it and try again") from exc


def _audit(session: so.Session, visit: Visit, actor: Actor, action: str, now: datetime,
           **details: object) -> None:
    audit.record(session, actor=actor, action=action, now=now, patient_id=visit.patient_id,
                 entity=("visit", visit.id), purpose="dispatch a visit",
                 details={"reference": visit.reference, "status": visit.status, **details})


def _text(session: so.Session, visit: Visit, staff_id: int, body: str, now: datetime) -> None:
    staff = session.get(Staff, staff_id)
    if staff is None:
        return
    enqueue(session, to=staff.phone, body=body, now=now, visit_id=visit.id, staff_id=staff.id,
            forbidden=forbidden_for_visit(session, visit))


def _offer_text(session: so.Session, visit: Visit, now: datetime, base_url: str | None,
                retimed: bool = False) -> str:
    patient = session.get(Patient, visit.patient_id)
    assert patient is not None and visit.planned_start is not None
    other = pairs.partner(session, visit)
    two = other is not None and other.kind == pairs.DOUBLE_HANDED
    return compose.offer_text(
        reference=visit.reference, category=visit.category, postcode=patient.postcode,
        start=visit.planned_start,
        end=visit.planned_start + timedelta(minutes=visit.duration_minutes),
        now=now, base_url=public_base_url(session, base_url), retimed=retimed,
        two_staff=two, with_staff=other.staff.code if two and other and other.staff else None)


def refresh_offer_text(
    session: so.Session, *, visit: Visit, now: datetime, base_url: str | None = None,
) -> bool:
    """Rewrite ``visit``'s offer text not yet sent with what is known now (a double-handed
    visit's second worker, once the planner has named them); False if it has left."""
    if visit.status != "offered" or visit.assigned_staff_id is None:
        return False
    told = _worker_told(session, visit, visit.assigned_staff_id)
    return rewrite_unsent(
        session, visit_id=visit.id, staff_id=visit.assigned_staff_id, now=now,
        since=visit.offered_at, body=_offer_text(session, visit, now, base_url, retimed=told),
        forbidden=forbidden_for_visit(session, visit))


def _require_open(visit: Visit) -> None:
    if visit.status in states.VISIT_FINAL_STATUSES:
        raise Conflict(f"visit {visit.reference} is already {visit.status}")


def _require_worker(visit: Visit, staff: Staff, allowed: tuple[str, ...], doing: str) -> None:
    """A reply about ``visit`` from ``staff`` must be theirs and in a status ``allowed``."""
    _require_open(visit)
    if visit.assigned_staff_id != staff.id:
        raise Conflict(f"visit {visit.reference} is not offered to you")
    if visit.status not in allowed:
        raise Conflict(f"visit {visit.reference} is {visit.status.replace('_', ' ')}; "
                       f"it cannot be {doing} now")


def _clear_worker(visit: Visit) -> None:
    visit.assigned_staff_id = visit.shift_id = visit.planned_start = None
    visit.pinned = False


def assign(
    session: so.Session, *, visit: Visit, staff: Staff, shift: Shift | None,
    planned_start: datetime, now: datetime, actor: Actor | None = None,
    base_url: str | None = None,
) -> Visit:
    """Offer ``visit`` to ``staff`` at ``planned_start`` (unassigned -> assigned -> offered).

    Re-assigning an offered visit tells the old worker it is no longer needed; re-timing it for
    the same worker texts them again only if the window moved by :data:`RETIME_NOTICE`.
    :raise Conflict: the visit is closed or pinned, or the worker declined it or is inactive.
    """
    _require_open(visit)
    if visit.status in states.VISIT_PINNED_STATUSES:
        raise Conflict(f"visit {visit.reference} is {visit.status.replace('_', ' ')} by its "
                       "worker and cannot be re-assigned")
    if staff.id in (visit.excluded_staff_ids or []):
        raise Conflict(f"{staff.code} declined visit {visit.reference}; choose someone else")
    if not staff.active:
        raise Conflict(f"{staff.code} is not active")
    previous, old_start = visit.assigned_staff_id, visit.planned_start
    visit.shift_id = shift.id if shift else None
    visit.planned_start = planned_start
    if previous == staff.id and visit.status == "offered":
        moved = old_start is None or abs(planned_start - old_start) >= RETIME_NOTICE
        # A text about this offer the sender has not taken yet is rewritten with the new
        # time (one text per offer, not one per re-timing within a planning run).
        told = _worker_told(session, visit, staff.id)
        rewritten = rewrite_unsent(
            session, visit_id=visit.id, staff_id=staff.id, now=now, since=visit.offered_at,
            body=_offer_text(session, visit, now, base_url, retimed=told),
            forbidden=forbidden_for_visit(session, visit))
        if moved and not rewritten:
            _text(session, visit, staff.id, _offer_text(session, visit, now, base_url, True), now)
        _audit(session, visit, actor or SYSTEM, "retime_visit", now, staff_id=staff.id,
               texted=moved or rewritten)
        _flush(session, visit)
        return visit
    if previous is not None and previous != staff.id and visit.status in TOLD:
        _text(session, visit, previous,
              compose.reassigned_away_text(reference=visit.reference), now)
    if visit.status == "unassigned" or visit.status == "offered":
        states.move("visit", visit, "assigned")
    visit.assigned_staff_id = staff.id
    _text(session, visit, staff.id, _offer_text(session, visit, now, base_url), now)
    states.move("visit", visit, "offered")
    visit.offered_at = now
    _audit(session, visit, actor or SYSTEM, "assign_visit", now, staff_id=staff.id,
           previous_staff_id=previous, planned_start=planned_start.isoformat())
    _flush(session, visit)
    return visit


def propose(
    session: so.Session, *, visit: Visit, staff: Staff, shift: Shift | None,
    planned_start: datetime, now: datetime, actor: Actor | None = None,
) -> Visit:
    """Book ``visit`` provisionally for ``staff`` at ``planned_start`` without telling them
    (unassigned -> assigned): the week's plan for a day after tomorrow (issue 15), or the live
    planner's work beyond its offer lead. The offer is texted when the visit comes within the
    live planner's horizon (:func:`assign`). A visit offered to another worker is taken off
    them first, and they are told it was reassigned (the planner moved a live offer beyond
    the lead, H-234-C3).

    :raise Conflict: the visit is not unassigned, provisionally assigned or offered to someone
        else, the worker declined it or is inactive.
    """
    _require_open(visit)
    reoffer = visit.status == "offered" and visit.assigned_staff_id != staff.id
    if visit.status not in ("unassigned", "assigned") and not reoffer:
        raise Conflict(f"visit {visit.reference} is {visit.status.replace('_', ' ')}; only an "
                       "unassigned or provisional visit can be booked provisionally")
    if staff.id in (visit.excluded_staff_ids or []):
        raise Conflict(f"{staff.code} declined visit {visit.reference}; choose someone else")
    if not staff.active:
        raise Conflict(f"{staff.code} is not active")
    previous = visit.assigned_staff_id
    if reoffer and previous is not None:
        _text(session, visit, previous,
              compose.reassigned_away_text(reference=visit.reference), now)
    if visit.status in ("unassigned", "offered"):
        states.move("visit", visit, "assigned")
        visit.offered_at = None
    visit.assigned_staff_id = staff.id
    visit.shift_id = shift.id if shift else None
    visit.planned_start = planned_start
    _audit(session, visit, actor or SYSTEM, "propose_visit", now, staff_id=staff.id,
           previous_staff_id=previous, planned_start=planned_start.isoformat())
    _flush(session, visit)
    return visit


def _worker_told(session: so.Session, visit: Visit, staff_id: int) -> bool:
    """Whether a text about the current offer of ``visit`` has left for ``staff_id``."""
    sent = session.scalar(
        sa.select(sa.func.count()).select_from(Message).where(
            Message.visit_id == visit.id, Message.staff_id == staff_id,
            Message.direction == "outbound",
            sa.or_(Message.status != "pending", Message.attempts > 0),
            *([Message.created_at >= visit.offered_at] if visit.offered_at else []),
        )
    )
    return bool(sent)


def unassign(
    session: so.Session, *, visit: Visit, now: datetime, reason: str,
    actor: Actor | None = None,
) -> Visit:
    """Take ``visit`` off its worker (sickness, planner drop); they are told if they knew."""
    _require_open(visit)
    if visit.status == "unassigned":
        return visit
    if visit.status == "on_site":
        raise Conflict(f"visit {visit.reference} is under way and cannot be unassigned")
    previous = visit.assigned_staff_id
    if previous is not None and visit.status in TOLD:
        _text(session, visit, previous, compose.withdrawn_text(reference=visit.reference), now)
    states.move("visit", visit, "unassigned")
    _clear_worker(visit)
    _audit(session, visit, actor or SYSTEM, "unassign_visit", now, staff_id=previous,
           reason=reason)
    _flush(session, visit)
    return visit


def retime_accepted(
    session: so.Session, *, visit: Visit, planned_start: datetime, now: datetime,
) -> bool:
    """Move an accepted visit's planned time to where the current plan puts it.

    Why: the planner re-sequences a worker's accepted visits round a new urgent one (or an
    overrun); the worker works through them in planned order, so a stale time sends them to
    a visit due tonight before one due within the hour. They are texted when it moved by at
    least :data:`RETIME_NOTICE`. Returns whether anything changed.
    """
    if visit.status != "accepted" or visit.assigned_staff_id is None:
        return False
    old = visit.planned_start
    if old == planned_start:
        return False
    visit.planned_start = planned_start
    texted = old is None or abs(planned_start - old) >= RETIME_NOTICE
    if texted:
        end = planned_start + timedelta(minutes=visit.duration_minutes)
        _text(session, visit, visit.assigned_staff_id,
              compose.replanned_text(reference=visit.reference, start=planned_start, end=end,
                                     now=now), now)
    _audit(session, visit, SYSTEM, "retime_visit", now, staff_id=visit.assigned_staff_id,
           texted=texted)
    _flush(session, visit)
    return True


def withdraw_unanswered(
    session: so.Session, *, visit: Visit, now: datetime, reason: str = "offer not answered",
    actor: Actor | None = None,
) -> Visit:
    """Take an offer back from a worker who has not answered it, and re-plan.

    Why not a decline: a missed text is not a refusal (the worker may be driving or at a
    visit). The worker is remembered in ``unanswered_staff_ids`` (not ``excluded_staff_ids``),
    and the planner asks them again only when no one else can do
    as well (a soft cost, :data:`routing.costs.AVOID_COST`), so an urgent visit whose only
    timely worker missed the first text is offered to them again rather than left late.
    """
    if visit.status != "offered" or visit.assigned_staff_id is None:
        raise Conflict(f"visit {visit.reference} has no offer waiting for an answer")
    silent = visit.assigned_staff_id
    unassign(session, visit=visit, now=now, reason=reason, actor=actor)
    visit.unanswered_staff_ids = sorted({*(visit.unanswered_staff_ids or []), silent})
    _flush(session, visit)
    replan_after_commit(session, visit.network_id)
    return visit


def accept(
    session: so.Session, *, visit: Visit, staff: Staff, now: datetime, actor: Actor | None = None
) -> Visit:
    """The worker takes the visit: it is pinned and the planner will not move it."""
    if visit.status == "accepted" and visit.assigned_staff_id == staff.id:
        raise Conflict(f"you have already accepted visit {visit.reference}")
    _require_worker(visit, staff, OFFERED, "accepted")
    states.move("visit", visit, "accepted")
    visit.pinned, visit.accepted_at = True, now
    _audit(session, visit, actor or sms_actor(staff), "accept_visit", now, staff_id=staff.id)
    _flush(session, visit)
    return visit


def decline(
    session: so.Session, *, visit: Visit, staff: Staff, reason: str | None, now: datetime,
    actor: Actor | None = None,
) -> Visit:
    """The worker turns it down: back to unassigned, never offered to them again, re-planned
    at once (after commit). Jeopardy is the deadline watch's call, not made here."""
    _require_worker(visit, staff, (*OFFERED, "accepted", "en_route"), "declined")
    states.move("visit", visit, "unassigned")
    _clear_worker(visit)
    visit.excluded_staff_ids = sorted({*(visit.excluded_staff_ids or []), staff.id})
    _audit(session, visit, actor or sms_actor(staff), "decline_visit", now, staff_id=staff.id,
           reason=reason or "no reason given")
    _flush(session, visit)
    replan_after_commit(session, visit.network_id)
    return visit


def arrive(
    session: so.Session, *, visit: Visit, staff: Staff, now: datetime, actor: Actor | None = None
) -> Visit:
    """The worker is on site. Arriving without having replied ACCEPT counts as accepting."""
    if visit.status == "on_site" and visit.assigned_staff_id == staff.id:
        raise Conflict(f"your arrival at visit {visit.reference} is already recorded")
    _require_worker(visit, staff, (*OFFERED, "accepted", "en_route"), "marked arrived")
    who = actor or sms_actor(staff)
    if visit.status in OFFERED:
        states.move("visit", visit, "accepted")
        visit.pinned, visit.accepted_at = True, now
    states.move("visit", visit, "on_site")
    visit.arrived_at = now
    referral = _referral(session, visit)
    if referral is not None and referral.status in ("scheduled", "escalated"):
        states.move("referral", referral, "in_progress")
    _audit(session, visit, who, "arrive_visit", now, staff_id=staff.id)
    _flush(session, visit)
    return visit


def complete(
    session: so.Session, *, visit: Visit, staff: Staff, outcome: str, now: datetime,
    actor: Actor | None = None, notes: str | None = None,
    observations: Mapping[str, float] | None = None,
) -> Visit:
    """The worker has finished, with an outcome (and, from the visit page, notes and simple
    observations). The referral completes with its last visit.

    :raise InvalidInput: unknown outcome. :raise Conflict: not on site (reply ARRIVED first).
    """
    if outcome not in VISIT_OUTCOMES:
        raise InvalidInput("invalid outcome", errors={
            "outcome": [f"must be one of: {', '.join(VISIT_OUTCOMES)}"]})
    if visit.status in (*OFFERED, "accepted", "en_route") and visit.assigned_staff_id == staff.id:
        raise Conflict(f"no arrival is recorded for visit {visit.reference}; "
                       f"reply ARRIVED {visit.reference} first")
    _require_worker(visit, staff, ("on_site",), "completed")
    states.move("visit", visit, "completed")
    visit.outcome, visit.completed_at = outcome, now
    visit.outcome_notes = (notes or "").strip()[:1000] or None
    visit.outcome_observations = dict(observations) if observations else None
    _settle_referral(session, visit)
    _audit(session, visit, actor or sms_actor(staff), "complete_visit", now, staff_id=staff.id,
           outcome=outcome)
    _flush(session, visit)
    return visit


def cancel(
    session: so.Session, *, visit: Visit, reason: str, now: datetime,
    actor: Actor | None = None,
) -> Visit:
    """Cancel a visit not yet under way; a worker who had the offer is told not to attend."""
    _require_open(visit)
    if visit.status == "on_site":
        raise Conflict(f"visit {visit.reference} is under way and cannot be cancelled")
    if visit.assigned_staff_id is not None and visit.status in TOLD:
        _text(session, visit, visit.assigned_staff_id,
              compose.cancelled_text(reference=visit.reference), now)
    states.move("visit", visit, "cancelled")
    visit.pinned = False
    _settle_referral(session, visit)
    _audit(session, visit, actor or SYSTEM, "cancel_visit", now, reason=reason)
    _flush(session, visit)
    return visit


def _referral(session: so.Session, visit: Visit) -> Referral | None:
    return session.get(Referral, visit.referral_id) if visit.referral_id else None


def _settle_referral(session: so.Session, visit: Visit) -> None:
    """A referral whose visits are all closed, at least one completed, is completed."""
    referral = _referral(session, visit)
    if referral is None or referral.status not in states.REFERRAL_ACTIVE_STATUSES:
        return
    statuses = set(session.scalars(sa.select(Visit.status).where(
        Visit.referral_id == referral.id, Visit.id != visit.id)))
    statuses.add(visit.status)
    if statuses <= set(states.VISIT_FINAL_STATUSES) and "completed" in statuses:
        states.move("referral", referral, "completed")


def find_visit(session: so.Session, reference: str) -> Visit | None:
    """The visit with this SMS reference, if any."""
    return session.scalar(sa.select(Visit).where(Visit.reference == reference))
