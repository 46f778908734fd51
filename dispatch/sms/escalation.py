"""Escalations to the on-call coordinator: raised once, shown on the board, texted grouped.

Three things escalate: a visit in jeopardy (the deadline watch, or the planner when nobody can
reach an urgent visit: :func:`escalate_visit`), a text to a worker that failed for good
(:func:`escalate_failure`) and a worker who opted out of SMS (:func:`escalate_opt_out`).

Each is one :class:`~dispatch.models.Escalation` row with a unique ``key`` saying what makes
two the same (a visit's row version and cause; a failed message's id), inserted with
``ON CONFLICT DO NOTHING``: however many writers race (two watch runs, ten identical delivery
reports on ten threads), the database keeps one and only its writer audits it (issue 20,
item 7; hazard H-016).

Texts are grouped (issue 13, hazard 7; H-007): :func:`send_grouped` sends one text per
on-call phone listing every escalation queued for it, and at most one per
``ESCALATION_TEXT_MINUTES`` (10): the right to send is a compare-and-set on the phone's
:class:`~dispatch.models.OnCallText` row, so two processes never both send. Escalations raised
in between stay queued (``message_id`` NULL) for the next grouped text; the deadline watch
flushes the queue every minute. The text carries visit references, causes and deadlines,
never patient data. The board lists every escalation, texted or not.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import SYSTEM
from dispatch.models import Escalation, Message, Network, OnCallText, Staff, Visit
from dispatch.services import audit
from dispatch.sms import compose
from dispatch.sms.queue import enqueue, forbidden_for_visit
from dispatch.sms.settings import escalation_text_interval, public_base_url

log = logging.getLogger(__name__)

MAX_CAUSE_LENGTH = 80
CLOSED_VISIT = ("completed", "cancelled")
#: The causes in words (the watch's own, and those raised elsewhere).
CAUSE_TEXT = {
    "unassigned": "no worker assigned",
    "not_accepted": "offer not accepted",
    "late_arrival": "planned arrival after the deadline",
    "sms_failed": "offer text not delivered",
    "declined": "declined by worker",
    "needs_decision": "no one can reach it before the deadline: needs a decision",
}


def describe(cause: str) -> str:
    """A cause code in words ("no worker assigned"); unknown codes with spaces for ``_``."""
    return CAUSE_TEXT.get(cause, cause.replace("_", " "))


def _insert_ignoring_conflict(
    session: so.Session, model: type[Any], values: dict[str, Any], unique: list[str]
) -> Any:
    """INSERT ... ON CONFLICT (unique) DO NOTHING; the new row's primary key, or None when a
    row with the same unique values exists (or is being written by a transaction that then
    commits: PostgreSQL makes this insert wait for it)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(model)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(model)
    pk = sa.inspect(model).primary_key[0]
    stmt = stmt.values(**values).on_conflict_do_nothing(index_elements=unique).returning(pk)
    return session.execute(stmt).scalar_one_or_none()


def raise_escalation(
    session: so.Session, *, key: str, kind: str, cause: str, now: datetime,
    network: Network | None, visit: Visit | None = None, staff: Staff | None = None,
    notify: bool = True, to_number: str | None = None,
) -> Escalation | None:
    """Record one escalation unless one with ``key`` exists; the new row, or None if it did.

    With ``notify`` it is queued for the network's on-call phone (if it has one), or for
    ``to_number`` when given (the network's manager); call :func:`send_grouped` to text the
    queue. Either way the board shows it.
    """
    phone = (to_number or (network.on_call_phone if network is not None else None)
             if notify else None)
    new_id = _insert_ignoring_conflict(session, Escalation, {
        "key": key[:120], "kind": kind, "cause": cause[:120], "created_at": now,
        "network_id": network.id if network is not None else None,
        "visit_id": visit.id if visit is not None else None,
        "staff_id": staff.id if staff is not None else None,
        "to_number": phone or None,
    }, ["key"])
    if new_id is None:
        log.info("escalation %s already raised; not again", key)
        return None
    return session.get(Escalation, new_id)


def escalate_visit(
    session: so.Session, *, visit: Visit, cause: str, now: datetime, key: str | None = None,
    purpose: str = "escalated to the on-call coordinator", details: dict[str, Any] | None = None,
    base_url: str | None = None, send: bool = True, words: str | None = None,
) -> Escalation | None:
    """Escalate ``visit`` to its network's on-call coordinator, once.

    The entry point for anything that finds a visit nobody can serve in time (the deadline
    watch; the planner's jeopardy choices). ``cause`` is a code ("unassigned") or short words;
    ``key`` says what makes a repeat the same escalation (default: this visit, in its current
    row version, for this cause: a later change to the visit may escalate again); ``words``
    replace the cause's usual words on the board and in the text. Audited as
    ``visit_jeopardy`` with ``details.cause`` (the KPI report names breach causes from these).
    With ``send`` the on-call phone is texted now unless it had a grouped text in the last
    ``ESCALATION_TEXT_MINUTES`` (then this waits for the next one). Returns the escalation,
    or None when it had already been raised.
    """
    network = session.get(Network, visit.network_id) if visit.network_id else None
    escalation = raise_escalation(
        session, key=key or f"jeopardy:{visit.id}:v{visit.version}:{cause}", kind="jeopardy",
        cause=words or describe(cause), now=now, network=network, visit=visit)
    if escalation is None:
        return None
    audit.record(session, actor=SYSTEM, action="visit_jeopardy", now=now,
                 patient_id=visit.patient_id, entity=("visit", visit.id), purpose=purpose,
                 details={"cause": cause, "escalation_id": escalation.id,
                          "texted_to_on_call": escalation.to_number is not None,
                          **(details or {})})
    if send and escalation.to_number:
        send_grouped(session, now=now, base_url=base_url, numbers=[escalation.to_number])
    return escalation


def clear_visit_escalations(
    session: so.Session, *, visit_id: int, now: datetime, kinds: Iterable[str] = ("jeopardy",)
) -> int:
    """Mark a visit's open escalations of ``kinds`` cleared (it left jeopardy); returns how many.
    A cleared escalation still queued is not texted."""
    result = session.execute(
        sa.update(Escalation)
        .where(Escalation.visit_id == visit_id, Escalation.kind.in_(tuple(kinds)),
               Escalation.cleared_at.is_(None))
        .values(cleared_at=now).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _network(session: so.Session, visit: Visit | None, staff: Staff | None) -> Network | None:
    network_id = (visit.network_id if visit else None) or (staff.network_id if staff else None)
    return session.get(Network, network_id) if network_id else None


def escalate_failure(
    session: so.Session, *, message: Message, cause: str, now: datetime,
    base_url: str | None = None,
) -> Escalation | None:
    """Audit a failed text and escalate it to the on-call coordinator, once per message.

    Returns the escalation, or None when this failure was already escalated (a repeated or
    concurrent delivery report) or there is no visit to act on. An alert that itself fails is
    audited but not re-alerted (no loop).
    """
    listed = list(session.scalars(sa.select(Escalation).where(
        Escalation.message_id == message.id).order_by(Escalation.id)))
    if listed:
        return _on_call_text_failed(session, message, listed, cause, now)
    visit = session.get(Visit, message.visit_id) if message.visit_id else None
    staff = session.get(Staff, message.staff_id) if message.staff_id else None
    network = _network(session, visit, staff)
    if visit is None or (network is not None and network.on_call_phone == message.to_number):
        _audit_failure(session, message, visit, cause, now, alerted=False)
        log.warning("sms %s failed (%s); not escalated (no visit, or the alert itself)",
                    message.id, cause)
        return None
    escalation = raise_escalation(
        session, key=f"sms_failed:{message.id}", kind="sms_failed",
        cause=f"SMS to the worker failed: {_short(cause)}", now=now, network=network,
        visit=visit, staff=staff)
    if escalation is None:
        return None  # this failure was escalated already (a repeated delivery report)
    _audit_failure(session, message, visit, cause, now, alerted=escalation.to_number is not None)
    if escalation.to_number:
        send_grouped(session, now=now, base_url=base_url, numbers=[escalation.to_number])
    else:
        log.warning("sms %s failed (%s); no on-call phone to alert", message.id, cause)
    return escalation


def _on_call_text_failed(
    session: so.Session, message: Message, listed: list[Escalation], cause: str, now: datetime
) -> Escalation | None:
    """A grouped text to the on-call phone failed: not texted again (no loop), but put on the
    board, so the coordinator sees that the escalations it listed never reached them."""
    network = session.get(Network, listed[0].network_id) if listed[0].network_id else None
    escalation = raise_escalation(
        session, key=f"sms_failed:{message.id}", kind="on_call_failed",
        cause=(f"the on-call text listing {len(listed)} escalation(s) was not delivered: "
               f"{_short(cause)}"), now=now, network=network, notify=False)
    if escalation is not None:
        _audit_failure(session, message, None, cause, now, alerted=False)
        log.warning("sms %s to the on-call phone failed (%s); on the board only", message.id,
                    cause)
    return escalation


def _audit_failure(session: so.Session, message: Message, visit: Visit | None, cause: str,
                   now: datetime, *, alerted: bool) -> None:
    audit.record(
        session, actor=SYSTEM, action="sms_failed", now=now,
        patient_id=visit.patient_id if visit else None, entity=("message", message.id),
        purpose="escalate a text that could not be delivered",
        details={"cause": cause, "error_code": message.error_code,
                 "visit_reference": visit.reference if visit else None, "alerted": alerted},
    )


def _short(cause: str) -> str:
    """The reason without the provider's detail (which may quote phone numbers)."""
    return cause.split(" (")[0][:MAX_CAUSE_LENGTH]


def escalate_opt_out(
    session: so.Session, *, staff: Staff, now: datetime, source: str | None = None,
    base_url: str | None = None,
) -> Escalation | None:
    """A worker replied STOP: audit it and tell their network's on-call coordinator (once per
    ``source``, the STOP reply's id)."""
    network = _network(session, None, staff)
    audit.record(session, actor=SYSTEM, action="sms_opt_out", now=now,
                 entity=("staff", staff.id), purpose="worker opted out of SMS",
                 details={"staff_code": staff.code})
    if network is None:
        return None
    key = f"opt_out:{staff.id}:{source or now.isoformat()}"
    escalation = raise_escalation(
        session, key=key, kind="opt_out", cause="opted out of SMS (replied STOP): call them",
        now=now, network=network, staff=staff, notify=network.on_call_phone != staff.phone)
    if escalation is not None and escalation.to_number:
        send_grouped(session, now=now, base_url=base_url, numbers=[escalation.to_number])
    return escalation


# --- the grouped text ------------------------------------------------------------------------


def _queued(numbers: Sequence[str] | None) -> sa.Select[Any]:
    """Escalations waiting for a text: not texted, not cleared, visit (if any) still open."""
    open_visit = sa.or_(Escalation.visit_id.is_(None), Escalation.visit_id.in_(
        sa.select(Visit.id).where(Visit.status.not_in(CLOSED_VISIT))))
    stmt = sa.select(Escalation).where(
        Escalation.message_id.is_(None), Escalation.to_number.is_not(None),
        Escalation.cleared_at.is_(None), open_visit)
    if numbers is not None:
        stmt = stmt.where(Escalation.to_number.in_(list(numbers)))
    return stmt


def _claim(session: so.Session, number: str, now: datetime, interval: timedelta) -> bool:
    """Take the right to text ``number`` now: True for exactly one caller per ``interval``.

    A compare-and-set on the phone's row: PostgreSQL makes a concurrent claimer wait for this
    transaction and then re-check the condition against the committed time (so it fails);
    SQLite runs one writer at a time (``BEGIN IMMEDIATE``).
    """
    _insert_ignoring_conflict(session, OnCallText, {"to_number": number, "last_sent_at": None},
                              ["to_number"])
    claimed = session.execute(
        sa.update(OnCallText)
        .where(OnCallText.to_number == number, sa.or_(
            OnCallText.last_sent_at.is_(None), OnCallText.last_sent_at <= now - interval))
        .values(last_sent_at=now).execution_options(synchronize_session=False))
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def send_grouped(
    session: so.Session, *, now: datetime, base_url: str | None = None,
    interval: timedelta | None = None, numbers: Sequence[str] | None = None,
) -> list[Message]:
    """Text each on-call phone (of ``numbers``, or all) its queued escalations in one SMS,
    unless it was texted less than ``interval`` ago; returns the texts queued in the outbox."""
    gap = escalation_text_interval(session, interval)
    waiting = sorted({e.to_number for e in session.scalars(_queued(numbers)) if e.to_number})
    sent = []
    for number in waiting:
        if not _claim(session, number, now, gap):
            continue
        rows = list(session.scalars(_queued([number]).order_by(Escalation.id)
                                    .with_for_update()))
        if not rows:
            continue
        visits = {v.id: v for v in session.scalars(sa.select(Visit).where(
            Visit.id.in_({e.visit_id for e in rows if e.visit_id})))}
        staff = {s.id: s for s in session.scalars(sa.select(Staff).where(
            Staff.id.in_({e.staff_id for e in rows if e.staff_id})))}
        items = sorted((_item(e, visits, staff) for e in rows),
                       key=lambda i: (i[2] is None, i[2] or now))
        names = sorted(set(session.scalars(sa.select(Network.name).where(
            Network.id.in_({e.network_id for e in rows if e.network_id})))))
        # The network's own name is service data, not the patient's: a patient called White
        # must not make "White City & Shepherd's Bush" unsendable (H-240: the watch crashed
        # and no escalation went out at all).
        forbidden = [term for v in visits.values() for term in forbidden_for_visit(session, v)
                     if not any(compose.contains_term(name, term) for name in names)]
        body = compose.grouped_escalation_text(
            items, now=now, base_url=public_base_url(session, base_url), network=", ".join(names))
        message = enqueue(session, to=number, body=body, now=now, forbidden=forbidden,
                          visit_id=rows[0].visit_id if len(visits) == 1 and len(rows) == 1
                          else None)
        session.flush()
        for row in rows:
            row.message_id = message.id
        sent.append(message)
    session.flush()
    return sent


def _item(escalation: Escalation, visits: dict[int, Visit], staff: dict[int, Staff]
          ) -> tuple[str, str, datetime | None]:
    visit = visits.get(escalation.visit_id or 0)
    if visit is not None:
        return f"visit {visit.reference}", escalation.cause, visit.deadline
    worker = staff.get(escalation.staff_id or 0)
    return (f"worker {worker.code}" if worker else "service"), escalation.cause, None
