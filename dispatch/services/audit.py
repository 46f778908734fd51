"""Writing audit events: every read and write of patient data, in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import orm as so

from dispatch.models import AuditEvent

if TYPE_CHECKING:
    from dispatch.actors import Actor


def record(
    session: so.Session,
    *,
    actor: Actor,
    action: str,
    now: datetime,
    patient_id: int | None = None,
    entity: tuple[str, object] | None = None,
    purpose: str | None = None,
    request_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Stage an audit event; it commits or rolls back with the change it describes."""
    event = AuditEvent(
        at=now,
        user_id=actor.user_id,
        username=actor.username,
        role=actor.role,
        action=action,
        entity_type=entity[0] if entity else None,
        entity_id=str(entity[1]) if entity else None,
        patient_id=patient_id,
        purpose=purpose,
        request_id=request_id,
        details=details or {},
    )
    session.add(event)
    return event
