"""Writing a text into the outbox: :func:`enqueue` stages it in the caller's transaction.

The bottom of the SMS layer: :mod:`dispatch.services.outbox` (which sends texts and escalates
the ones that fail) and :mod:`dispatch.sms.escalation` (which texts the on-call phone) both
write texts through here, so neither needs the other to queue one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import orm as so

from dispatch.models import Message, Patient, Visit
from dispatch.sms import compose
from dispatch.sms.sender import key_tag

__all__ = ["SEND_KEY_ALPHABET", "SEND_KEY_LENGTH", "enqueue", "forbidden_for_visit",
           "new_send_key"]

SEND_KEY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud safely
SEND_KEY_LENGTH = 8


def new_send_key() -> str:
    """A random key for one text; it must not itself look like an NHS number or postcode."""
    while True:
        key = "".join(secrets.choice(SEND_KEY_ALPHABET) for _ in range(SEND_KEY_LENGTH))
        if not compose.ig_problems(key_tag(key)):
            return key


def enqueue(
    session: so.Session, *, to: str, body: str, now: datetime, visit_id: int | None = None,
    staff_id: int | None = None, forbidden: Iterable[str] = (),
) -> Message:
    """Stage an outbound text in the caller's transaction.

    :raise InformationGovernanceError: ``body`` carries something a text may not (a bug).
    """
    compose.check_ig(body, forbidden=forbidden)
    key = new_send_key()
    message = Message(
        direction="outbound", to_number=to, body=f"{body} {key_tag(key)}", status="pending",
        visit_id=visit_id, staff_id=staff_id, send_key=key, attempts=0,
        created_at=now, updated_at=now,
    )
    session.add(message)
    return message


def forbidden_for_visit(session: so.Session, visit: Visit | None) -> list[str]:
    """The patient data of ``visit`` that no text about it may carry."""
    patient = session.get(Patient, visit.patient_id) if visit else None
    if patient is None:
        return []
    return compose.forbidden_for_patient(
        given_name=patient.given_name, family_name=patient.family_name,
        date_of_birth=patient.date_of_birth, address=patient.address,
        conditions=patient.conditions or (), nhs_number=patient.nhs_number)
