"""Linked visits in the database (issue 15): a visit that needs two staff, a visit that must
follow another within a gap, and a patient's calls kept apart.

A double-handed visit (a hoist transfer: two people at once) is stored as two visits, each
offered to and accepted by its own worker, joined by a :class:`~dispatch.models.VisitLink`
with gap 0..0 and ``different`` workers. The planner plans the pair through the scheduler's
links (:mod:`routing.links`): both halves or neither, never one half alone (hazard H-100).
Counting: the pair is one visit to the patient, so KPIs count only the link's first half
(:func:`second_halves`).
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import states
from dispatch.actors import Actor
from dispatch.errors import Conflict, InvalidInput
from dispatch.models import Staff, Visit, VisitLink
from dispatch.services import audit
from dispatch.services.references import new_reference

#: A double-handed visit: both halves start together, with two different workers.
DOUBLE_HANDED = "double_handed"
#: Largest gap a link may ask for (a day): longer apart is two separate visits.
MAX_GAP_MINUTES = 24 * 60


@dataclass(frozen=True)
class Partner:
    """The other half of a visit's link, as pages and the API show it."""

    link: VisitLink
    visit: Visit
    staff: Staff | None

    @property
    def kind(self) -> str:
        return self.link.kind

    @property
    def staff_name(self) -> str | None:
        return self.staff.name if self.staff is not None else None


@dataclass(frozen=True)
class PartnerView:
    """What the API shows of a visit's partner (:class:`dispatch.api.schemas.PartnerSchema`)."""

    visit_id: int
    reference: str
    status: str
    kind: str
    workers: str
    min_gap_minutes: int
    max_gap_minutes: int
    first: bool
    staff_id: int | None
    staff_name: str | None
    planned_start: datetime | None


class VisitWithPartner:
    """A visit as the API serialises it, with ``partner`` and ``staff_needed`` alongside."""

    def __init__(self, visit: Visit, partner: PartnerView | None) -> None:
        self._visit = visit
        self.partner = partner
        self.staff_needed = 2 if partner is not None and partner.kind == DOUBLE_HANDED else 1

    def __getattr__(self, name: str) -> object:
        return getattr(self._visit, name)


def with_partners(session: so.Session, visits: Sequence[Visit]) -> list[VisitWithPartner]:
    """``visits`` with their partners, in two queries whatever their number."""
    links: dict[int, VisitLink] = {}
    for found in links_among(session, [v.id for v in visits]):
        links[found.first_visit_id] = links[found.second_visit_id] = found
    wanted = [links[v.id].partner_of(v.id) for v in visits if v.id in links]
    others = {v.id: v for v in session.scalars(sa.select(Visit).where(Visit.id.in_(wanted)))}
    staff = {s.id: s for s in session.scalars(sa.select(Staff).where(Staff.id.in_(
        {o.assigned_staff_id for o in others.values() if o.assigned_staff_id})))}
    out = []
    for visit in visits:
        row: VisitLink | None = links.get(visit.id)
        other = others.get(row.partner_of(visit.id)) if row is not None else None
        if row is None or other is None:
            out.append(VisitWithPartner(visit, None))
            continue
        worker = staff.get(other.assigned_staff_id or -1)
        out.append(VisitWithPartner(visit, PartnerView(
            other.id, other.reference, other.status, row.kind, row.workers,
            row.min_gap_minutes, row.max_gap_minutes, row.first_visit_id == visit.id,
            worker.id if worker else None, worker.name if worker else None,
            other.planned_start)))
    return out


def link_of(session: so.Session, visit_id: int) -> VisitLink | None:
    """The link ``visit_id`` is in, or None."""
    return session.scalar(sa.select(VisitLink).where(sa.or_(
        VisitLink.first_visit_id == visit_id, VisitLink.second_visit_id == visit_id)))


def partner(session: so.Session, visit: Visit) -> Partner | None:
    """``visit``'s linked partner with its worker, or None."""
    link = link_of(session, visit.id)
    if link is None:
        return None
    other = session.get(Visit, link.partner_of(visit.id))
    if other is None:
        return None
    staff = session.get(Staff, other.assigned_staff_id) if other.assigned_staff_id else None
    return Partner(link, other, staff)


def links_among(session: so.Session, visit_ids: Collection[int]) -> list[VisitLink]:
    """Every link with at least one half in ``visit_ids`` (by id, for a stable order)."""
    if not visit_ids:
        return []
    ids = list(visit_ids)
    return list(session.scalars(sa.select(VisitLink).where(sa.or_(
        VisitLink.first_visit_id.in_(ids), VisitLink.second_visit_id.in_(ids)))
        .order_by(VisitLink.id)))


def second_halves(session: so.Session, visit_ids: Iterable[int] | None = None) -> set[int]:
    """The second visits of double-handed links (among ``visit_ids`` if given): a pair is one
    visit to the patient, so counts skip these."""
    stmt = sa.select(VisitLink.second_visit_id).where(VisitLink.kind == DOUBLE_HANDED)
    if visit_ids is not None:
        ids = list(visit_ids)
        if not ids:
            return set()
        stmt = stmt.where(VisitLink.second_visit_id.in_(ids))
    return set(session.scalars(stmt))


def check_gap(min_gap: int | None, max_gap: int | None, field: str) -> dict[str, list[str]]:
    """Errors (keyed ``field``) for a gap in minutes that makes no sense, else none."""
    if min_gap is None or max_gap is None:
        return {field: ["give both the shortest and the longest gap, in minutes"]}
    if min_gap < 0 or max_gap < 0:
        return {field: ["a gap must not be negative"]}
    if min_gap > max_gap:
        return {field: [f"the shortest gap ({min_gap} min) is longer than the longest "
                        f"({max_gap} min)"]}
    if max_gap > MAX_GAP_MINUTES:
        return {field: [f"a gap must be at most {MAX_GAP_MINUTES} minutes"]}
    return {}


def link(
    session: so.Session, *, first: Visit, second: Visit, kind: str, min_gap_minutes: int,
    max_gap_minutes: int, workers: str, created_by: str, now: datetime,
) -> VisitLink:
    """Join two visits of one patient (flushes).

    :raise InvalidInput: the gap makes no sense, or the visits are for different patients.
    :raise Conflict: either visit is already linked.
    """
    errors = check_gap(min_gap_minutes, max_gap_minutes, "gap")
    if first.patient_id != second.patient_id:
        errors["second"] = ["linked visits must be for the same patient"]
    if errors:
        raise InvalidInput("invalid visit link", errors=errors)
    for visit in (first, second):
        if link_of(session, visit.id) is not None:
            raise Conflict(f"visit {visit.reference} is already linked to another visit")
    row = VisitLink(first_visit_id=first.id, second_visit_id=second.id, kind=kind,
                    min_gap_minutes=min_gap_minutes, max_gap_minutes=max_gap_minutes,
                    workers=workers, created_by=created_by, created_at=now)
    session.add(row)
    session.flush()
    return row


def twin(session: so.Session, visit: Visit, *, now: datetime, rng: random.Random) -> Visit:
    """A new unassigned visit like ``visit`` (same patient, window, skills, length): the
    second worker's half of a double-handed visit (flushes)."""
    copy = Visit(
        reference=new_reference(session, rng), referral_id=visit.referral_id,
        package_id=visit.package_id, patient_id=visit.patient_id, network_id=visit.network_id,
        category=visit.category, skills=list(visit.skills),
        duration_minutes=visit.duration_minutes, earliest_start=visit.earliest_start,
        deadline=visit.deadline, priority=visit.priority,
        reason=(f"second worker for visit {visit.reference}: needs two staff; "
                f"{visit.reason or ''}")[:300],
        status="unassigned", created_at=now, updated_at=now)
    session.add(copy)
    session.flush()
    return copy


def make_double_handed(
    session: so.Session, *, visit: Visit, now: datetime, actor: Actor,
    rng: random.Random | None = None, reason: str = "needs two staff",
) -> Visit:
    """Make ``visit`` need two staff: a second half is created and linked to it (gap 0..0,
    different workers); the planner then places both together. Returns the second half.

    :raise Conflict: the visit is closed or under way, or already linked.
    """
    if visit.status in states.VISIT_FINAL_STATUSES or visit.status in \
            states.VISIT_UNDER_WAY_STATUSES:
        raise Conflict(f"visit {visit.reference} is {visit.status.replace('_', ' ')}; "
                       "it can no longer be made double-handed")
    if link_of(session, visit.id) is not None:
        raise Conflict(f"visit {visit.reference} is already linked to another visit")
    second = twin(session, visit, now=now, rng=rng or random.Random())
    link(session, first=visit, second=second, kind=DOUBLE_HANDED, min_gap_minutes=0,
         max_gap_minutes=0, workers="different", created_by=actor.username, now=now)
    audit.record(session, actor=actor, action="make_double_handed", now=now,
                 patient_id=visit.patient_id, entity=("visit", visit.id),
                 purpose="dispatch a visit",
                 details={"reference": visit.reference, "second_visit_id": second.id,
                          "second_reference": second.reference, "reason": reason})
    return second


def pair_arrivals(session: so.Session, visits: Sequence[Visit]) -> dict[int, datetime | None]:
    """When care could start at each visit that counts (issue 15: a pair counts once).

    A double-handed visit counts as one, its first half, arrived when the *second* of its two
    workers arrived (a two-person transfer cannot start with one); its second half is left
    out. Every other visit arrives at its own ``arrived_at``.
    """
    ids = [v.id for v in visits]
    links = [row for row in links_among(session, ids) if row.kind == DOUBLE_HANDED]
    seconds = {row.second_visit_id for row in links}
    partner_of = {row.first_visit_id: row.second_visit_id for row in links}
    wanted = [p for p in partner_of.values() if p not in ids]
    known = {v.id: v.arrived_at for v in visits}
    if wanted:
        known.update({row.id: row.arrived_at for row in session.execute(
            sa.select(Visit.id, Visit.arrived_at).where(Visit.id.in_(wanted)))})
    out: dict[int, datetime | None] = {}
    for visit in visits:
        if visit.id in seconds:
            continue
        arrived = visit.arrived_at
        if visit.id in partner_of:
            other = known.get(partner_of[visit.id])
            arrived = max(arrived, other) if arrived is not None and other is not None else None
        out[visit.id] = arrived
    return out
