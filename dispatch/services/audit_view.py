"""Reading the audit trail: filtered, paginated listing and CSV export (read-only).

There is deliberately no update or delete here (nor anywhere): audit rows are append-only, and
on PostgreSQL a trigger refuses changes outright. Reading the trail is itself audited by the
caller, since it names patients.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.config import LONDON
from dispatch.models import AuditEvent, Patient
from dispatch.services import audit
from rosters.csv_cells import safe_cell

PER_PAGE = 50
MAX_EXPORT_ROWS = 100_000  # one download; narrow the filter for more
CSV_COLUMNS = ("id", "at", "user_id", "username", "role", "action", "entity_type", "entity_id",
               "patient_id", "purpose", "request_id", "details")


@dataclass(frozen=True)
class AuditFilter:
    """What to show: each given field narrows the rows (dates are London days, inclusive)."""

    patient_id: int | None = None
    username: str | None = None
    action: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    nhs_number: str | None = None  # ten digits: the events about that patient

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ValueError("date_to must not be before date_from")

    def as_args(self) -> dict[str, str]:
        """The filter as query-string arguments (for page links and the CSV link)."""
        values = {"nhs_number": self.nhs_number, "patient_id": self.patient_id,
                  "user": self.username, "action": self.action,
                  "date_from": self.date_from, "date_to": self.date_to}
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


@dataclass(frozen=True)
class AuditPage:
    events: tuple[AuditEvent, ...]
    total: int
    page: int
    pages: int


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LONDON)


def _where(stmt: sa.Select[Any], filters: AuditFilter) -> sa.Select[Any]:
    if filters.patient_id is not None:
        stmt = stmt.where(AuditEvent.patient_id == filters.patient_id)
    if filters.nhs_number:
        stmt = stmt.where(AuditEvent.patient_id.in_(
            sa.select(Patient.id).where(Patient.nhs_number == filters.nhs_number)))
    if filters.username:
        stmt = stmt.where(AuditEvent.username == filters.username)
    if filters.action:
        stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.date_from:
        stmt = stmt.where(AuditEvent.at >= _midnight(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(AuditEvent.at < _midnight(filters.date_to + timedelta(days=1)))
    return stmt


def list_events(
    session: so.Session, *, filters: AuditFilter, page: int = 1, per_page: int = PER_PAGE
) -> AuditPage:
    """One page of events, newest first. Pages past the end show the last page."""
    total = session.scalar(_where(sa.select(sa.func.count()).select_from(AuditEvent),
                                  filters)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    stmt = _where(sa.select(AuditEvent), filters).order_by(AuditEvent.id.desc())
    events = session.scalars(stmt.offset((page - 1) * per_page).limit(per_page))
    return AuditPage(tuple(events), total, page, pages)


#: Action names in words, for people reading the trail (the stored names stay as they are).
ACTION_WORDS = {
    "view_visit": "Viewed a visit", "list_my_visits": "Listed their visits",
    "list_visits": "Listed visits", "view_referral": "Read a referral's disposition",
    "create_referral": "Logged a referral", "search_patient": "Found a patient in a search",
    "view_patient": "Viewed a patient", "view_care_plan": "Read a care plan",
    "care_plan_override": "Read a care plan without consent (emergency)",
    "care_plan_refused": "Was refused a care plan", "view_board": "Viewed the board",
    "view_kpis": "Viewed performance", "export_kpis": "Downloaded performance figures",
    "view_messages": "Viewed text messages", "view_audit": "Searched the audit trail",
    "export_audit": "Downloaded the audit trail",
    "view_override_report": "Viewed the emergency access report",
    "view_package": "Viewed a care package", "sign_in": "Signed in",
    "sign_in_failed": "Failed to sign in", "sign_out": "Signed out",
    "assign_visit": "Assigned a visit", "unassign_visit": "Unassigned a visit",
    "pin_visit": "Pinned a visit", "retime_visit": "Re-timed a visit",
    "mark_duplicate": "Marked a referral as a duplicate", "cancel_referral": "Cancelled a referral",
    "confirm_patient_mismatch": "Confirmed a patient whose details differed",
    "register_without_nhs_number": "Registered a patient without an NHS number",
    "record_nhs_number": "Recorded the NHS number of a patient registered without one",
    "record_consent": "Recorded consent to share", "withdraw_consent": "Withdrew consent to share",
    "record_episode_consent": "Recorded consent for one referral", "view_consent": "Viewed consent",
    "fhir_referral_received": "Received a referral from another system (FHIR)",
    "read_task": "Read a FHIR task", "jeopardy_decision": "Decided on a visit in jeopardy",
    "visit_jeopardy": "Flagged a visit in jeopardy",
    "cross_cover": "Sent cover from another network",
    "pin_despite_cost": "Pinned a worker despite a 2-hour visit it leaves unassigned",
    "ask_cover": "Asked another network to cover a visit",
    "give_back_visit": "Gave a released visit back to its worker",
    "sms_failed": "A text message failed", "sms_opt_out": "A worker stopped text messages",
    "set_tariff_price": "Changed a tariff price", "view_plan": "Viewed a plan",
    "view_visit_candidates": "Viewed who could take a visit",
    "view_visit_dispatch": "Viewed a visit's dispatch", "package_decision_refused":
    "Was refused a package decision",
}


def action_words(action: str) -> str:
    """"view_visit" -> "Viewed a visit"; an action without words of its own reads as its name
    ("accept_visit" -> "Accept visit")."""
    if action in ACTION_WORDS:
        return ACTION_WORDS[action]
    text = action.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def actions(session: so.Session) -> list[str]:
    """Every action name recorded so far (for the filter's list)."""
    stmt = sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    return list(session.scalars(stmt))


EXPORT_BATCH = 1000


def iter_events(sessions: Callable[[], so.Session], *, filters: AuditFilter,
                limit: int = MAX_EXPORT_ROWS, batch: int = EXPORT_BATCH) -> Iterator[AuditEvent]:
    """Matching events oldest first (at most ``limit``), for a streamed export.

    Each batch is read in its own short session, closed before its rows are handed on: no
    transaction stays open while the client downloads (on SQLite an open one holds the write
    lock, and every other write fails, H-010). Keyset paging by id keeps batches consistent
    with rows added meanwhile.
    """
    after, sent = 0, 0
    while sent < limit:
        stmt = (_where(sa.select(AuditEvent), filters).where(AuditEvent.id > after)
                .order_by(AuditEvent.id).limit(min(batch, limit - sent)))
        with sessions() as session:
            rows = list(session.scalars(stmt))
        if not rows:
            return
        yield from rows
        after, sent = rows[-1].id, sent + len(rows)


def csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    """The CSV text, a line at a time (header first); times in ISO 8601 UTC, details as JSON."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield _drain(buffer)
    for event in events:
        writer.writerow([safe_cell(cell) for cell in (
            event.id, event.at.isoformat(), event.user_id, event.username,
            event.role, event.action, event.entity_type, event.entity_id,
            event.patient_id, event.purpose, event.request_id,
            json.dumps(event.details or {}, sort_keys=True, default=str),
        )])
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


#: The purpose the audit trail's own reads and exports are audited with.
REVIEW_PURPOSE = "audit review"


def view_events(
    session: so.Session, *, filters: AuditFilter, page: int, actor: Actor, now: datetime,
    request_id: str | None = None,
) -> AuditPage:
    """:func:`list_events`, the read itself audited (``view_audit``)."""
    listing = list_events(session, filters=filters, page=page)
    record_review(session, filters=filters, action="view_audit", actor=actor, now=now,
                  request_id=request_id)
    return listing


def record_review(
    session: so.Session, *, filters: AuditFilter, action: str, actor: Actor, now: datetime,
    request_id: str | None = None,
) -> None:
    """Audit a read (``view_audit``) or an export (``export_audit``) of the trail."""
    audit.record(session, actor=actor, action=action, now=now, patient_id=filters.patient_id,
                 purpose=REVIEW_PURPOSE, request_id=request_id, details=filters.as_args())
