"""The deadline watch: visits in jeopardy get a named cause and are escalated, once.

Run every minute by the scheduler. A visit is in jeopardy when it is

- ``unassigned`` for longer than the planner needs (``UNASSIGNED_GRACE``), or with its
  deadline close (``DEADLINE_LEAD``);
- ``not_accepted``: offered by SMS and not accepted within ``ACCEPT_TIMEOUT``;
- ``late_arrival``: planned to start after its deadline, or past its deadline with nobody on
  site yet.

Entering jeopardy (or changing cause) writes an audit event and an SMS to the network's
on-call coordinator in the same transaction; leaving it clears the cause. The SMS says only
the reference, postcode district, cause and deadline (information governance).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import SYSTEM
from dispatch.config import LONDON
from dispatch.models import Message, Network, Patient, Visit
from dispatch.services import audit
from dispatch.services.patients import postcode_district

UNASSIGNED_GRACE = timedelta(minutes=10)
DEADLINE_LEAD = timedelta(minutes=45)
ACCEPT_TIMEOUT = timedelta(minutes=15)
WATCHED = ("unassigned", "assigned", "offered", "accepted", "en_route")
# Causes this watch owns (others, like sms_failed, are set and cleared elsewhere).
WATCH_CAUSES = ("unassigned", "not_accepted", "late_arrival")
CAUSE_TEXT = {
    "unassigned": "no worker assigned",
    "not_accepted": "offer not accepted",
    "late_arrival": "planned arrival after the deadline",
}


@dataclass
class WatchReport:
    entered: dict[str, int] = field(default_factory=dict)
    cleared: int = 0
    checked: int = 0


def jeopardy_cause(
    visit: Visit, *, now: datetime, accept_timeout: timedelta = ACCEPT_TIMEOUT
) -> str | None:
    """The cause of jeopardy for ``visit`` at ``now``, or None (a pure rule over the row)."""
    if visit.status == "unassigned":
        if now - visit.created_at >= UNASSIGNED_GRACE or visit.deadline - now <= DEADLINE_LEAD:
            return "unassigned"
        return None
    if visit.status == "offered" and visit.offered_at and now - visit.offered_at >= accept_timeout:
        return "not_accepted"
    if visit.planned_start is not None and visit.planned_start > visit.deadline:
        return "late_arrival"
    if visit.status in ("assigned", "offered", "accepted", "en_route") and now > visit.deadline:
        return "late_arrival"
    return None


def watch_deadlines(
    session: so.Session, *, now: datetime, public_url: str,
    accept_timeout: timedelta = ACCEPT_TIMEOUT,
) -> WatchReport:
    """Mark and escalate visits entering jeopardy; clear those that left it."""
    report = WatchReport()
    visits = session.scalars(sa.select(Visit).where(Visit.status.in_(WATCHED))).all()
    for visit in visits:
        report.checked += 1
        cause = jeopardy_cause(visit, now=now, accept_timeout=accept_timeout)
        if cause is None:
            if visit.jeopardy_cause in WATCH_CAUSES:
                visit.jeopardy_cause, visit.jeopardy_since = None, None
                report.cleared += 1
            continue
        if visit.jeopardy_cause == cause:
            continue  # already escalated for this cause
        visit.jeopardy_cause, visit.jeopardy_since = cause, now
        report.entered[cause] = report.entered.get(cause, 0) + 1
        escalate(session, visit=visit, cause=cause, now=now, public_url=public_url)
    session.flush()
    return report


def escalate(
    session: so.Session, *, visit: Visit, cause: str, now: datetime, public_url: str
) -> Message | None:
    """Audit the jeopardy and queue an SMS to the on-call coordinator (if the network has one)."""
    audit.record(session, actor=SYSTEM, action="visit_jeopardy", now=now,
                 patient_id=visit.patient_id, entity=("visit", visit.id),
                 purpose="deadline watch", details={"cause": cause})
    network = session.get(Network, visit.network_id) if visit.network_id else None
    if network is None or not network.on_call_phone:
        return None
    patient = session.get(Patient, visit.patient_id)
    district = postcode_district(patient.postcode) if patient else "?"
    deadline = visit.deadline.astimezone(LONDON).strftime("%H:%M %a %d %b")
    body = (f"JEOPARDY visit {visit.reference} ({district}): {CAUSE_TEXT.get(cause, cause)}. "
            f"Deadline {deadline}. Board: {public_url.rstrip('/')}/board")
    message = Message(direction="outbound", to_number=network.on_call_phone, body=body,
                      status="pending", visit_id=visit.id,
                      send_key=f"jeopardy-{visit.id}-{cause}-{int(now.timestamp())}",
                      created_at=now, updated_at=now)
    session.add(message)
    return message
