"""Reading visits, with field staff restricted to their own (need-to-know)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.errors import InvalidInput, NotFound
from dispatch.models import Visit
from dispatch.permissions import FIELD_STAFF
from dispatch.services import network_scope
from dispatch.states import VISIT_STATUSES


def _scoped(stmt: sa.Select[Visit], actor: Actor) -> sa.Select[Visit]:
    """Field staff see their own visits only; an account with no staff link sees none (it
    must never become ``assigned_staff_id IS NULL``: every unassigned visit, H-015)."""
    if actor.role == FIELD_STAFF:
        if actor.staff_id is None:
            return stmt.where(sa.false())
        return stmt.where(Visit.assigned_staff_id == actor.staff_id)
    return stmt


def list_visits(
    session: so.Session, *, actor: Actor, status: str | None = None,
    network_id: int | None = None, limit: int = 200,
) -> list[Visit]:
    """Visits by deadline. :raise InvalidInput: unknown status."""
    stmt = sa.select(Visit)
    if status:
        if status not in VISIT_STATUSES:
            raise InvalidInput("invalid filter",
                               errors={"status": [f"must be one of: {', '.join(VISIT_STATUSES)}"]})
        stmt = stmt.where(Visit.status == status)
    if network_id:
        stmt = stmt.where(Visit.network_id == network_id)
    stmt = stmt.where(network_scope.visible(actor, Visit.network_id))
    stmt = _scoped(stmt, actor).order_by(Visit.deadline, Visit.id).limit(limit)
    return list(session.scalars(stmt))


def get_visit(session: so.Session, visit_id: int, *, actor: Actor) -> Visit:
    """:raise NotFound: no such visit, or a field worker asking for someone else's."""
    visit = session.scalar(_scoped(sa.select(Visit).where(Visit.id == visit_id), actor))
    if visit is None:
        raise NotFound(f"visit {visit_id} not found")
    network_scope.require(session, actor, visit.network_id, what=f"Visit {visit.reference}")
    return visit
