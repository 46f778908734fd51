"""One visit opened from the dispatch board: what the coordinator needs to assign, unassign,
pin or decide it (``dispatch/web/board.py``'s visit page).

The page calls :func:`read_for_dispatch` once: the read is audited against the patient
(``view_visit_dispatch``), and the workers on shift, the ranked candidates, the jeopardy
choices and the partner of a double-handed visit come back together. Like every service it
never commits: the page commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.errors import NotFound
from dispatch.models import Network, Patient, Shift, Staff, Visit
from dispatch.planning import jeopardy
from dispatch.services import audit, network_scope, pairs
from dispatch.services import candidates as ranking
from dispatch.services.board import OPEN
from dispatch.services.patients import postcode_district
from dispatch.services.watch import jeopardy_cause
from routing.travel import TravelTimeProvider

__all__ = ["DispatchView", "on_shift", "read_for_dispatch", "staff_name", "visit_in_scope"]


@dataclass(frozen=True)
class DispatchView:
    """The visit with the workers on shift to choose from (soonest shift each), its current
    worker, the patient's postcode district, why it is in jeopardy (None: it is not), the
    on-call choices when it needs a decision, the ranked candidates and its partner."""

    visit: Visit
    on_shift: list[tuple[Staff, Shift]]
    worker: Staff | None
    district: str
    cause: str | None
    choices: jeopardy.Options | None
    ranked: list[ranking.Candidate]
    partner: pairs.Partner | None


def visit_in_scope(session: so.Session, visit_id: int, *, actor: Actor) -> Visit:
    """The visit, if ``actor`` coordinates its network.

    :raise NotFound: no such visit. :raise Forbidden: a network ``actor`` does not run.
    """
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"visit {visit_id} not found")
    network_scope.require(session, actor, visit.network_id, what=f"Visit {visit.reference}")
    return visit


def on_shift(session: so.Session, visit: Visit, at: datetime) -> list[tuple[Staff, Shift]]:
    """Workers of the visit's network on a shift that has not ended (soonest shift each)."""
    stmt = (sa.select(Staff, Shift).join(Shift, Shift.staff_id == Staff.id)
            .where(Staff.active.is_(True), Staff.role != "coordinator", Shift.ends_at > at,
                   Shift.starts_at < at + timedelta(hours=24))
            .order_by(Staff.name, Shift.starts_at))
    if visit.network_id is not None:
        stmt = stmt.where(Staff.network_id == visit.network_id)
    seen: dict[int, tuple[Staff, Shift]] = {}
    for staff, shift in session.execute(stmt):
        seen.setdefault(staff.id, (staff, shift))
    return list(seen.values())


def read_for_dispatch(
    session: so.Session, visit: Visit, *, actor: Actor, now: datetime,
    provider: TravelTimeProvider, purpose: str, request_id: str | None = None,
) -> DispatchView:
    """Everything the board's visit page shows; the read is audited against the patient."""
    audit.record(session, actor=actor, action="view_visit_dispatch", now=now,
                 patient_id=visit.patient_id, entity=("visit", visit.id), purpose=purpose,
                 request_id=request_id)
    workers = on_shift(session, visit, now)
    worker = session.get(Staff, visit.assigned_staff_id) if visit.assigned_staff_id else None
    patient = session.get(Patient, visit.patient_id)
    district = postcode_district(patient.postcode) if patient else ""
    cause = None
    if visit.status in OPEN:
        cause = visit.jeopardy_cause or jeopardy_cause(visit, now=now)
    choices = (jeopardy.options(session, visit, now=now, provider=provider)
               if cause is not None and jeopardy.awaiting_decision(visit, cause) else None)
    ranked = ranking.candidates(session, visit, now=now, provider=provider)
    return DispatchView(visit, workers, worker, district, cause, choices, ranked,
                        pairs.partner(session, visit))


def staff_name(session: so.Session, staff_id: int) -> str:
    """A worker's name for a message (their id if there is no such worker)."""
    staff = session.get(Staff, staff_id)
    return staff.name if staff else str(staff_id)


def network_code(session: so.Session, network_id: int | None) -> str:
    """A network's short code ("HF-N1"), or "another network" when there is none."""
    network = session.get(Network, network_id) if network_id is not None else None
    return network.code if network is not None else "another network"
