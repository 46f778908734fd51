"""The SMS outbox: texts written with the change they announce, sent exactly once by a job.

Writing (:func:`enqueue`) happens inside the caller's transaction, so a text exists if and only
if its change committed (STYLE.md section 7). Sending (:func:`send_pending`) runs outside any
request, one short transaction per step, so a failing provider never holds a lock on a visit
and never rolls back a clinical record.

Exactly once, in three steps per text (``docs/adr/0001-sms-exactly-once.md``):

1. **claim** (own transaction): ``pending`` -> ``sending``, ``attempts + 1``, and a lease in
   ``next_attempt_at`` (row-locked with ``SKIP LOCKED`` on PostgreSQL, compare-and-set
   everywhere, so two senders never claim the same text);
2. **send** with the send key tagged onto the body (``[msg k3f9a2qz]``); a retry first asks
   the provider whether a text with that tag already exists and, if so, does not send;
3. **record** (own transaction): the sid and ``sent``, or the error and the next attempt.

A crash between 2 and 3 leaves the text ``sending``; once its lease has expired the next run
looks it up at the provider by its tag: found means ``sent``, not found means ``pending`` again.
Residual risk: a provider that took the text but does not list it yet when the lease expires
(leases are far longer than the HTTP timeout, so the request has long finished or died).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.database import Database
from dispatch.errors import InvalidInput
from dispatch.models import Message, Visit
from dispatch.models.vocab import MESSAGE_DIRECTIONS, MESSAGE_STATUSES
from dispatch.services import network_scope
from dispatch.sms import compose
from dispatch.sms.errors import PermanentSendError, SendError, TransientSendError
from dispatch.sms.escalation import escalate_failure
from dispatch.sms.queue import enqueue, forbidden_for_visit, new_send_key
from dispatch.sms.sender import OutgoingSms, SentSms, SmsBackend, key_tag

log = logging.getLogger(__name__)

# How long a claimed text may stay "sending" before a crash is assumed. Far longer than the
# provider HTTP timeout (15 s), so an expired lease means the sender is gone, not slow.
SENDING_LEASE = timedelta(seconds=120)
# Waits after the 1st, 2nd, 3rd and later transient failures; give up after MAX_ATTEMPTS.
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10))
MAX_ATTEMPTS = 5
DEFAULT_BATCH = 50
# Provider delivery statuses, mapped onto ours; "queued"-like ones tell us nothing new.
PROVIDER_STATUSES = {
    "sent": "sent", "delivered": "delivered", "read": "delivered",
    "undelivered": "undelivered", "failed": "failed", "canceled": "failed",
}
STATUS_RANK = {"pending": 0, "sending": 1, "sent": 2, "delivered": 3, "undelivered": 3,
               "failed": 3}


@dataclass(frozen=True)
class SendReport:
    """What one :func:`send_pending` run did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    found_at_provider: int = 0
    requeued: int = 0


@dataclass(frozen=True)
class _Claim:
    message_id: int
    to: str
    body: str
    key: str
    attempts: int


def rewrite_unsent(
    session: so.Session, *, visit_id: int, staff_id: int, body: str, now: datetime,
    since: datetime | None = None, forbidden: Iterable[str] = (),
) -> bool:
    """Replace the body of a text about ``visit_id`` to ``staff_id``, written at or after
    ``since`` (the current offer), that no sender has taken yet, instead of queueing another;
    False if there is none (queue a new one then).

    Why: one planning run may re-time the same offer several times before the sender runs;
    the worker should get one text with the final time, not one per intermediate step. The
    update only matches a row still ``pending`` and never attempted, so a text a sender has
    claimed (``sending``) is never changed under it (on PostgreSQL the update waits for the
    claim's row lock and then matches nothing).
    """
    compose.check_ig(body, forbidden=forbidden)
    candidate = session.scalar(
        sa.select(Message.id).where(
            Message.visit_id == visit_id, Message.staff_id == staff_id, _due(),
            Message.attempts == 0,
            *([Message.created_at >= since] if since is not None else []),
        ).order_by(Message.id.desc()).limit(1)
    )
    if candidate is None:
        return False
    key = session.scalar(sa.select(Message.send_key).where(Message.id == candidate))
    changed = session.execute(
        sa.update(Message)
        .where(Message.id == candidate, Message.status == "pending", Message.attempts == 0)
        .values(body=f"{body} {key_tag(key or '')}", updated_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return bool(changed.rowcount == 1)  # type: ignore[attr-defined]


def send_pending(
    database: Database, *, backend: SmsBackend, now: datetime, limit: int = DEFAULT_BATCH,
    base_url: str | None = None,
) -> SendReport:
    """Send due texts, one claim/send/record cycle each, after settling crashed ones.

    Idempotent: run it as often as you like (the job runs it every few seconds).
    """
    found, requeued = _reconcile_stuck(database, backend=backend, now=now)
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    for _ in range(limit):
        claim = _claim_next(database, now=now)
        if claim is None:
            break
        outcome = _deliver(backend, claim)
        with database.session_scope() as session:
            counts[_record(session, claim, outcome, now=now, base_url=base_url)] += 1
    return SendReport(found_at_provider=found, requeued=requeued, **counts)


def _due() -> sa.ColumnElement[bool]:
    return sa.and_(Message.direction == "outbound", Message.status == "pending")


def _claim_next(database: Database, *, now: datetime) -> _Claim | None:
    """Step 1: take the oldest due text for this sender alone."""
    with database.session_scope() as session:
        candidate = session.scalar(
            sa.select(Message.id)
            .where(_due(), sa.or_(Message.next_attempt_at.is_(None),
                                  Message.next_attempt_at <= now))
            .order_by(Message.id).limit(1).with_for_update(skip_locked=True)
        )
        if candidate is None:
            return None
        claimed = session.execute(
            sa.update(Message)
            .where(Message.id == candidate, Message.status == "pending")
            .values(status="sending", attempts=Message.attempts + 1,
                    next_attempt_at=now + SENDING_LEASE, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None  # another sender won the race; it sends this one
        row = session.execute(
            sa.select(Message.to_number, Message.body, Message.send_key, Message.attempts)
            .where(Message.id == candidate)
        ).one()
    return _Claim(candidate, row.to_number, row.body, row.send_key or "", row.attempts)


def _deliver(backend: SmsBackend, claim: _Claim) -> SentSms | SendError:
    """Step 2: what the provider took, or why not. A retry looks for an earlier success first."""
    try:
        if claim.attempts > 1:
            earlier = backend.find_sent(to=claim.to, key=claim.key)
            if earlier:
                return SentSms(sid=earlier)
        return backend.send(OutgoingSms(to=claim.to, body=claim.body, key=claim.key))
    except SendError as exc:
        return exc


def _record(
    session: so.Session, claim: _Claim, outcome: SentSms | SendError, *, now: datetime,
    base_url: str | None,
) -> str:
    """Step 3: record the outcome; returns which counter it adds to."""
    message = session.get(Message, claim.message_id, with_for_update=True)
    if message is None or message.status != "sending":
        # A delivery report (carrying the send key) settled it first.
        return "sent"
    if isinstance(outcome, SentSms):
        _mark_sent(message, outcome.sid, now)
        message.from_number = outcome.from_number
        return "sent"
    message.error_code, message.error_message = outcome.code, outcome.message[:300]
    message.updated_at = now
    if isinstance(outcome, TransientSendError) and message.attempts < MAX_ATTEMPTS:
        message.status = "pending"
        message.next_attempt_at = now + backoff(message.attempts)
        log.info("sms %s: transient failure %s, retry at %s", message.id, outcome.code,
                 message.next_attempt_at)
        return "retrying"
    message.status, message.next_attempt_at = "failed", None
    cause = outcome.message if isinstance(outcome, PermanentSendError) else (
        f"no answer after {message.attempts} attempts")
    escalate_failure(session, message=message, cause=cause, now=now, base_url=base_url)
    return "failed"


def backoff(attempts: int) -> timedelta:
    """The wait after ``attempts`` failed attempts: 30 s, 2 min, then 10 min."""
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


def _mark_sent(message: Message, sid: str, now: datetime) -> None:
    message.status, message.provider_sid = "sent", sid
    message.sent_at, message.updated_at, message.next_attempt_at = now, now, None
    message.error_code = message.error_message = None


def _reconcile_stuck(
    database: Database, *, backend: SmsBackend, now: datetime
) -> tuple[int, int]:
    """Texts left ``sending`` by a crash: sent if the provider has them, else pending again."""
    with database.session_scope() as session:
        stuck = session.execute(
            sa.select(Message.id, Message.to_number, Message.send_key)
            .where(Message.status == "sending", Message.next_attempt_at <= now)
            .order_by(Message.id)
        ).all()
    found = requeued = 0
    for message_id, to, key in stuck:
        try:
            sid = backend.find_sent(to=to, key=key or "")
        except SendError as exc:
            log.warning("sms %s: cannot ask the provider (%s); left for the next run",
                        message_id, exc.message)
            continue
        with database.session_scope() as session:
            message = session.get(Message, message_id, with_for_update=True)
            if message is None or message.status != "sending" or (
                    message.next_attempt_at and message.next_attempt_at > now):
                continue
            if sid:
                _mark_sent(message, sid, now)
                found += 1
            else:
                message.status, message.next_attempt_at, message.updated_at = "pending", now, now
                requeued += 1
            log.warning("sms %s: recovered after a crash (%s)", message_id,
                        "found at provider" if sid else "not at provider, will send")
    return found, requeued


def record_status(
    session: so.Session, *, sid: str, status: str, error_code: str | None, now: datetime,
    send_key: str | None = None, base_url: str | None = None,
) -> Message | None:
    """Apply a provider delivery report; escalate a text that failed to arrive.

    Reports can come late and out of order, so a status never moves backwards. A report for a
    text whose sid we never recorded (a crash between send and record) is matched by the send
    key in the callback URL. Returns the text, or None when it is not ours.
    """
    # Row-locked (PostgreSQL): concurrent reports for one text are applied one after the
    # other, each seeing the status the previous one left (issue 20, item 7: ten concurrent
    # "failed" reports must raise one escalation, not ten).
    message = session.scalar(sa.select(Message).where(Message.provider_sid == sid)
                             .with_for_update().execution_options(populate_existing=True))
    if message is None and send_key:
        message = session.scalar(sa.select(Message).where(
            Message.send_key == send_key, Message.provider_sid.is_(None))
            .with_for_update().execution_options(populate_existing=True))
        if message is not None:
            message.provider_sid = sid
            message.sent_at = message.sent_at or now
    new = PROVIDER_STATUSES.get(status)
    if message is None or message.direction != "outbound" or new is None:
        return message
    if STATUS_RANK[new] < STATUS_RANK.get(message.status, 0) or new == message.status:
        return message
    message.status, message.updated_at, message.next_attempt_at = new, now, None
    if new in ("undelivered", "failed"):
        message.error_code = error_code
        reason = compose_reason(error_code)
        message.error_message = reason
        escalate_failure(session, message=message, cause=reason, now=now, base_url=base_url)
    return message


def compose_reason(error_code: str | None) -> str:
    from dispatch.sms.sender import PERMANENT_ERROR_CODES

    if error_code and error_code.isdigit() and int(error_code) in PERMANENT_ERROR_CODES:
        return f"SMS not delivered: {PERMANENT_ERROR_CODES[int(error_code)]}"
    return f"SMS not delivered (error {error_code or 'unknown'})"


def list_messages(
    session: so.Session, *, visit_id: int | None = None, direction: str | None = None,
    status: str | None = None, limit: int = 200, actor: Actor | None = None,
) -> list[Message]:
    """The outbox and inbox, newest first (of ``actor``'s networks, for a coordinator limited
    to some). :raise InvalidInput: unknown direction or status."""
    errors: dict[str, list[str]] = {}
    if direction and direction not in MESSAGE_DIRECTIONS:
        errors["direction"] = [f"must be one of: {', '.join(MESSAGE_DIRECTIONS)}"]
    if status and status not in MESSAGE_STATUSES:
        errors["status"] = [f"must be one of: {', '.join(MESSAGE_STATUSES)}"]
    if errors:
        raise InvalidInput("invalid filter", errors=errors)
    stmt = sa.select(Message)
    if visit_id is not None:
        stmt = stmt.where(Message.visit_id == visit_id)
    if direction:
        stmt = stmt.where(Message.direction == direction)
    if status:
        stmt = stmt.where(Message.status == status)
    if actor is not None:
        stmt = stmt.where(network_scope.messages_visible(actor))
    return list(session.scalars(stmt.order_by(Message.id.desc()).limit(limit)))


def find_ig_breaches(session: so.Session) -> list[tuple[int, list[str]]]:
    """Every outbound text that breaks the SMS rules, with why (for the demo-day check)."""
    breaches = []
    for message in session.scalars(sa.select(Message).where(Message.direction == "outbound")):
        visit = session.get(Visit, message.visit_id) if message.visit_id else None
        problems = compose.ig_problems(message.body,
                                       forbidden=forbidden_for_visit(session, visit))
        if problems:
            breaches.append((message.id, problems))
    return breaches


__all__ = [
    "SendReport", "backoff", "enqueue", "find_ig_breaches", "forbidden_for_visit",
    "list_messages", "new_send_key", "record_status", "send_pending",
]
