"""Reading visits, with field staff restricted to their own (need-to-know).

The ``read_*`` functions are what ``/api/visits`` calls: the read, its audit event and the
partner of each double-handed visit, in one call; like every service they never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.errors import InvalidInput, NotFound
from dispatch.models import Visit
from dispatch.permissions import FIELD_STAFF
from dispatch.services import audit, network_scope, pairs
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


def read_visits(
    session: so.Session, *, actor: Actor, query: Mapping[str, Any], now: datetime,
    purpose: str, request_id: str | None = None,
) -> list[pairs.VisitWithPartner]:
    """:func:`list_visits` by ``query`` (``status``, ``network``, ``limit``), each with its
    partner; the read is audited: one ``list_visits`` event naming the filters given, the
    visits and their patients.

    :raise InvalidInput: unknown status.
    """
    filters = {k: v for k, v in query.items() if k != "limit"}
    visits = list_visits(session, actor=actor, status=query.get("status"),
                         network_id=query.get("network"), limit=query["limit"])
    audit.record(session, actor=actor, action="list_visits", now=now, purpose=purpose,
                 request_id=request_id,
                 details={"filters": filters, "visit_ids": [v.id for v in visits],
                          "patient_ids": sorted({v.patient_id for v in visits})})
    return pairs.with_partners(session, visits)


def read_visit(
    session: so.Session, visit_id: int, *, actor: Actor, now: datetime, purpose: str,
    request_id: str | None = None,
) -> pairs.VisitWithPartner:
    """:func:`get_visit` with its partner; the read is audited (``view_visit``).

    :raise NotFound: as :func:`get_visit`.
    """
    visit = get_visit(session, visit_id, actor=actor)
    audit.record(session, actor=actor, action="view_visit", now=now,
                 patient_id=visit.patient_id, entity=("visit", visit.id), purpose=purpose,
                 request_id=request_id)
    return pairs.with_partners(session, [visit])[0]
