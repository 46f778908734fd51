"""Telling the on-call coordinator when a text cannot do its job.

A text that fails for good (bad number, opted out, no answer after the last retry), or a
worker who opts out, would otherwise leave a visit silently unserved. Each is written to the
audit trail and, where the network has an on-call phone, texted to it: the visit reference,
the cause, the deadline and the network, never patient data.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import orm as so

from dispatch.actors import SYSTEM
from dispatch.models import Message, Network, Staff, Visit
from dispatch.services import audit
from dispatch.sms import compose
from dispatch.sms.settings import public_base_url

log = logging.getLogger(__name__)

MAX_CAUSE_LENGTH = 80


def _network(session: so.Session, visit: Visit | None, staff: Staff | None) -> Network | None:
    network_id = (visit.network_id if visit else None) or (staff.network_id if staff else None)
    return session.get(Network, network_id) if network_id else None


def escalate_failure(
    session: so.Session, *, message: Message, cause: str, now: datetime,
    base_url: str | None = None,
) -> Message | None:
    """Audit a failed text and alert the on-call coordinator; returns the alert, if one was sent.

    An alert that itself fails is audited but not re-alerted (no loop).
    """
    from dispatch.services.outbox import enqueue, forbidden_for_visit

    visit = session.get(Visit, message.visit_id) if message.visit_id else None
    staff = session.get(Staff, message.staff_id) if message.staff_id else None
    network = _network(session, visit, staff)
    alert_possible = bool(network and network.on_call_phone
                          and network.on_call_phone != message.to_number and visit)
    audit.record(
        session, actor=SYSTEM, action="sms_failed", now=now,
        patient_id=visit.patient_id if visit else None, entity=("message", message.id),
        purpose="escalate a text that could not be delivered",
        details={"cause": cause, "error_code": message.error_code,
                 "visit_reference": visit.reference if visit else None,
                 "alerted": alert_possible},
    )
    if not alert_possible:
        log.warning("sms %s failed (%s); no on-call phone to alert", message.id, cause)
        return None
    assert network is not None and network.on_call_phone and visit is not None
    text = compose.escalation_text(
        reference=visit.reference, cause=f"SMS to the worker failed: {_short(cause)}",
        deadline=visit.deadline, network=network.name, now=now,
        base_url=public_base_url(session, base_url))
    return enqueue(session, to=network.on_call_phone, body=text, now=now, visit_id=visit.id,
                   forbidden=forbidden_for_visit(session, visit))


def _short(cause: str) -> str:
    """The reason without the provider's detail (which may quote phone numbers)."""
    return cause.split(" (")[0][:MAX_CAUSE_LENGTH]


def escalate_opt_out(session: so.Session, *, staff: Staff, now: datetime) -> Message | None:
    """A worker replied STOP: audit it and tell their network's on-call coordinator."""
    from dispatch.services.outbox import enqueue

    network = _network(session, None, staff)
    audit.record(session, actor=SYSTEM, action="sms_opt_out", now=now,
                 entity=("staff", staff.id), purpose="worker opted out of SMS",
                 details={"staff_code": staff.code})
    if network is None or not network.on_call_phone or network.on_call_phone == staff.phone:
        return None
    text = compose.opt_out_alert_text(staff_code=staff.code, network=network.name)
    return enqueue(session, to=network.on_call_phone, body=text, now=now, staff_id=None)
