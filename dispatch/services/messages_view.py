"""Reading the SMS outbox and inbox for the messages page (read-only).

The page is for the office watching texts go out and replies come in, so it lists the newest
first and pages backwards by id (``before``): a keyset, not an offset, because new texts arrive
every few seconds and an offset would shift the pages under the reader. Each text comes with
the worker it went to or came from (staff names are not patient data) and the visit's
reference, joined here so the view never queries. The worker's number is masked before it
leaves this module: the page, its JSON poll and the browser never hold a full phone number.
No patient table is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.models import Message, Staff, Visit
from dispatch.models.vocab import MESSAGE_DIRECTIONS, MESSAGE_STATUSES
from dispatch.services import audit, network_scope

PAGE_SIZE = 50  # texts per page; older ones are one "Older" link away
MAX_ID = 2**31 - 1  # database INTEGER ids
SHOWN_DIGITS = 3  # a masked number keeps only its last three digits
MASK = "●●●"


@dataclass(frozen=True)
class MessageFilter:
    """Which texts: a direction and a status (None: any), and only ids below ``before``."""

    direction: str | None = None
    status: str | None = None
    before: int | None = None

    def __post_init__(self) -> None:
        if self.direction is not None and self.direction not in MESSAGE_DIRECTIONS:
            raise ValueError(f"direction must be one of: {', '.join(MESSAGE_DIRECTIONS)}")
        if self.status is not None and self.status not in MESSAGE_STATUSES:
            raise ValueError(f"status must be one of: {', '.join(MESSAGE_STATUSES)}")
        if self.before is not None and not 1 <= self.before <= MAX_ID:
            raise ValueError(f"before must be a message id from 1 to {MAX_ID}")


@dataclass(frozen=True)
class MessageRow:
    """One text as the page shows it; ``phone`` is already masked."""

    id: int
    direction: str
    created_at: datetime
    sent_at: datetime | None
    status: str
    body: str
    phone: str
    staff_name: str | None
    staff_role: str | None
    visit_id: int | None
    visit_reference: str | None
    error: str | None
    attempts: int

    def as_json(self) -> dict[str, Any]:
        """Plain JSON values (times in ISO 8601 with their zone)."""
        return {
            "id": self.id, "direction": self.direction, "created_at": self.created_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "status": self.status, "body": self.body, "phone": self.phone,
            "staff": ({"name": self.staff_name, "role": self.staff_role}
                      if self.staff_name is not None else None),
            "visit_id": self.visit_id, "visit_reference": self.visit_reference,
            "error": self.error, "attempts": self.attempts,
        }


@dataclass(frozen=True)
class MessagePage:
    """A page of texts, newest first; ``older_than`` is the ``before`` of the next page (None
    when this is the oldest)."""

    rows: tuple[MessageRow, ...]
    older_than: int | None


def mask_phone(number: str | None) -> str:
    """"+447700900123" -> "●●● 123": only the last three digits, so a coordinator can tell two
    workers' phones apart without the page holding a number anyone could ring or text.

    Fewer than four digits (a short code, a blank sender) show no digits at all.
    """
    digits = "".join(c for c in number or "" if c.isdigit())
    if len(digits) <= SHOWN_DIGITS:
        return MASK if digits else ""
    return f"{MASK} {digits[-SHOWN_DIGITS:]}"


def _error(message: Message) -> str | None:
    if not (message.error_code or message.error_message):
        return None
    return f"{message.error_code or ''} {message.error_message or ''}".strip()


def list_messages(
    session: so.Session, *, filters: MessageFilter, page_size: int = PAGE_SIZE,
    actor: Actor | None = None,
) -> MessagePage:
    """One page of texts, newest first, with worker and visit reference (no patient data)."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    stmt = (
        sa.select(Message, Staff.name, Staff.role, Visit.reference)
        .outerjoin(Staff, Staff.id == Message.staff_id)
        .outerjoin(Visit, Visit.id == Message.visit_id)
    )
    if filters.direction:
        stmt = stmt.where(Message.direction == filters.direction)
    if filters.status:
        stmt = stmt.where(Message.status == filters.status)
    if filters.before is not None:
        stmt = stmt.where(Message.id < filters.before)
    if actor is not None:  # a coordinator limited to some networks sees their texts only
        stmt = stmt.where(network_scope.messages_visible(actor))
    # One extra row says whether an older page exists without a COUNT over the table.
    found = session.execute(stmt.order_by(Message.id.desc()).limit(page_size + 1)).all()
    rows = tuple(_row(message, name, role, reference)
                 for message, name, role, reference in found[:page_size])
    older_than = rows[-1].id if len(found) > page_size else None
    return MessagePage(rows, older_than)


def _row(message: Message, name: str | None, role: str | None,
         reference: str | None) -> MessageRow:
    # The worker's end of the conversation: the number we texted, or the one that texted us.
    worker_number = message.to_number if message.direction == "outbound" else message.from_number
    return MessageRow(
        id=message.id, direction=message.direction, created_at=message.created_at,
        sent_at=message.sent_at, status=message.status, body=message.body,
        phone=mask_phone(worker_number), staff_name=name, staff_role=role,
        visit_id=message.visit_id, visit_reference=reference, error=_error(message),
        attempts=message.attempts,
    )


__all__ = ["PAGE_SIZE", "MessageFilter", "MessagePage", "MessageRow", "list_messages",
           "mask_phone"]


def view_messages(
    session: so.Session, *, filters: MessageFilter, actor: Actor, now: datetime,
    args: dict[str, str], request_id: str | None = None,
) -> MessagePage:
    """:func:`list_messages`, the read audited (``view_messages``: the filter as the page
    shows it in ``args``, and how many texts were shown)."""
    listing = list_messages(session, filters=filters, actor=actor)
    audit.record(session, actor=actor, action="view_messages", now=now,
                 purpose="SMS outbox and inbox", request_id=request_id,
                 details={**args, "before": filters.before, "shown": len(listing.rows)})
    return listing
