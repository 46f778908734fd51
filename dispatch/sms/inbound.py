"""Handling a worker's reply: store it, act on it, store and return the answer.

Every reply is stored, understood or not, with the worker it came from (matched by phone).
A reply that cannot act (unknown number, unknown or someone else's visit, a stale offer)
changes nothing and gets an answer saying why. The action runs in a savepoint, so a refused
action never loses the stored reply. Twilio posts the reply to ``POST /sms/inbound``; the local
demo and the simulator, which have no Twilio, call :func:`handle_inbound` directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so
from sqlalchemy.exc import IntegrityError

from dispatch import states
from dispatch.errors import DispatchError
from dispatch.models import Message, Staff, Visit
from dispatch.services import pairs, visit_actions
from dispatch.services.outbox import forbidden_for_visit
from dispatch.sms import compose
from dispatch.sms.escalation import escalate_opt_out
from dispatch.sms.replies import (
    ACCEPT,
    ARRIVED,
    DECLINE,
    DONE,
    HELP,
    START,
    STOP,
    Command,
    Unknown,
    parse_reply,
)

MAX_BODY = 1600
MAX_NUMBER = 16
COMPLETED_BY_SMS = "visit_completed"  # DONE by text; other outcomes are set on the visit page
#: A double-handed visit's partner in one of these has accepted (issue 15).
PAST_ACCEPTED = (*states.VISIT_PINNED_STATUSES, "completed")


@dataclass(frozen=True)
class InboundResult:
    """What a reply did. ``answer`` is None when nothing should be texted back."""

    inbound: Message | None
    answer: str | None
    command: Command | Unknown | None
    changed: bool = False
    duplicate: bool = False


def handle_inbound(
    session: so.Session, *, from_number: str, to_number: str, body: str,
    provider_sid: str | None, now: datetime, base_url: str | None = None,
) -> InboundResult:
    """Store, parse and act on one reply; store the answer as a sent outbound message.

    A redelivered webhook (same provider sid) changes nothing and answers nothing.
    """
    if provider_sid and session.scalar(
            sa.select(Message.id).where(Message.provider_sid == provider_sid)) is not None:
        return InboundResult(None, None, None, duplicate=True)
    staff = session.scalar(sa.select(Staff).where(Staff.phone == from_number))
    parsed = parse_reply(body)
    reference = parsed.reference if isinstance(parsed, Command) else None
    visit = visit_actions.find_visit(session, reference) if reference else None
    inbound = Message(
        direction="inbound", status="received", to_number=(to_number or "")[:MAX_NUMBER],
        from_number=from_number[:MAX_NUMBER], body=(body or "")[:MAX_BODY],
        visit_id=visit.id if visit and staff else None,
        staff_id=staff.id if staff else None, provider_sid=provider_sid, attempts=0,
        created_at=now, updated_at=now,
    )
    try:
        # A savepoint: a concurrent delivery of the same reply (same sid) that committed first
        # makes this insert fail on the unique sid (PostgreSQL waits for it, then refuses);
        # that is a redelivery, answered like one, not a 500 (issue 20, item 8).
        with session.begin_nested():
            session.add(inbound)
            session.flush()
    except IntegrityError:
        if provider_sid and session.scalar(
                sa.select(Message.id).where(Message.provider_sid == provider_sid)) is not None:
            return InboundResult(None, None, None, duplicate=True)
        raise
    answer, changed = _act(session, staff=staff, parsed=parsed, visit=visit, now=now,
                           inbound=inbound)
    if answer is not None:
        _store_answer(session, inbound=inbound, answer=answer, visit=visit, now=now)
    return InboundResult(inbound, answer, parsed, changed=changed)


def _act(
    session: so.Session, *, staff: Staff | None, parsed: Command | Unknown,
    visit: Visit | None, now: datetime, inbound: Message | None = None,
) -> tuple[str | None, bool]:
    """The answer to text back, and whether anything changed."""
    if staff is None:
        return compose.NOT_REGISTERED_TEXT, False
    if isinstance(parsed, Unknown):
        return compose.NOT_UNDERSTOOD_TEXT, False
    if parsed.kind == HELP:
        return compose.HELP_TEXT, False
    if parsed.kind == STOP:
        escalate_opt_out(session, staff=staff, now=now,
                         source=f"message-{inbound.id}" if inbound is not None else None)
        return None, False  # Twilio confirms the opt-out itself and blocks further texts
    if parsed.kind == START:
        return None, False
    if parsed.reference is None:
        return compose.missing_reference_text(keyword=parsed.kind), False
    if visit is None:
        return compose.unknown_visit_text(reference=parsed.reference), False
    try:
        with session.begin_nested():
            answer = _run(session, parsed, visit, staff, now)
    except DispatchError as exc:
        return compose.refused_text(reference=visit.reference, reason=exc.message), False
    return answer, True


def _run(session: so.Session, command: Command, visit: Visit, staff: Staff,
         now: datetime) -> str:
    ref = visit.reference
    if command.kind == ACCEPT:
        visit_actions.accept(session, visit=visit, staff=staff, now=now)
        end = (visit.planned_start + timedelta(minutes=visit.duration_minutes)
               if visit.planned_start else None)
        other = pairs.partner(session, visit)
        two = other is not None and other.kind == pairs.DOUBLE_HANDED
        return compose.accepted_text(
            reference=ref, start=visit.planned_start, end=end, now=now,
            partner=(other.staff.code if other.staff else "a second worker")
            if two and other else None,
            partner_accepted=bool(other and other.visit.status in PAST_ACCEPTED))
    if command.kind == DECLINE:
        visit_actions.decline(session, visit=visit, staff=staff, reason=command.reason, now=now)
        return compose.declined_text(reference=ref)
    if command.kind == ARRIVED:
        visit_actions.arrive(session, visit=visit, staff=staff, now=now)
        return compose.arrived_text(reference=ref, at=now)
    if command.kind == DONE:
        visit_actions.complete(session, visit=visit, staff=staff, outcome=COMPLETED_BY_SMS,
                               now=now)
        return compose.done_text(reference=ref, at=now)
    raise AssertionError(f"unhandled command {command.kind}")


def _store_answer(
    session: so.Session, *, inbound: Message, answer: str, visit: Visit | None, now: datetime
) -> Message:
    """The TwiML answer is delivered by Twilio with the webhook response: stored as sent."""
    compose.check_ig(answer, forbidden=forbidden_for_visit(session, visit))
    message = Message(
        direction="outbound", status="sent", to_number=inbound.from_number or "",
        from_number=inbound.to_number or None, body=answer, visit_id=inbound.visit_id,
        staff_id=inbound.staff_id, attempts=0, created_at=now, updated_at=now, sent_at=now,
    )
    session.add(message)
    session.flush()
    return message
