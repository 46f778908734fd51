"""Who could take a visit, best first, and why the others cannot (issue 14).

For each active field worker of the visit's network the visit is put into their day as it
stands (:func:`dispatch.planning.jeopardy.insertions`: the earliest place the current plan
allows, nothing else moves). A worker it fits is a candidate with the start to pass to
``POST /api/visits/{id}/assign``, the travel to it from where they will be (their previous
visit in the plan, else their base), whether they arrive before the deadline, which of their
visits it would push later and by how much, and the warnings the manual assignment would
give (:func:`dispatch.services.manual.check_assignment`, so "Assign anyway" is offered only
for what that service accepts). Everyone else is listed last, ``refused``, with the reason in
words, with times and skill names ("already has visit 3134 from 14:10 to 14:55", "off shift
until 16:00", "lacks catheter care").

Read-only: nothing is written, nothing is audited here (the caller audits the read).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.errors import NotFound
from dispatch.models import Shift, Staff, Visit
from dispatch.planning import pin_costs
from dispatch.planning.jeopardy import Insertion, insertions, moved_visits
from dispatch.planning.problem import FIELD_ROLES, is_urgent
from dispatch.services import audit, manual, network_scope, strata
from dispatch.services import visits as visit_reads
from dispatch.services.manual import hm, skill_names
from routing.travel import TravelTimeProvider

#: Visits a coordinator may still give to someone (later ones are the worker's).
ASSIGNABLE = ("unassigned", "assigned", "offered")
@dataclass(frozen=True)
class Push:
    """One of the worker's visits that would start ``minutes`` later."""

    visit_id: int
    reference: str
    minutes: int


@dataclass(frozen=True)
class Candidate:
    """A worker for the visit: a candidate, or ``refused`` with ``reason``."""

    staff_id: int
    name: str
    travel_minutes: int | None
    start: datetime | None
    arrival: datetime | None
    arrival_before_deadline: bool
    pushes: tuple[Push, ...] = ()
    warnings: tuple[str, ...] = ()
    refused: bool = False
    reason: str | None = None

    @property
    def confirm(self) -> bool:
        """The assignment saves only when confirmed ("Assign anyway")."""
        return bool(self.warnings)


def candidates_for(
    session: so.Session, visit_id: int, *, now: datetime, provider: TravelTimeProvider,
) -> list[Candidate]:
    """:func:`candidates` by visit id. :raise NotFound: no such visit."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"visit {visit_id} not found")
    return candidates(session, visit, now=now, provider=provider)


def read_candidates(
    session: so.Session, visit_id: int, *, actor: Actor, now: datetime,
    provider: TravelTimeProvider, purpose: str, request_id: str | None = None,
) -> list[Candidate]:
    """:func:`candidates_for` a visit of a network ``actor`` coordinates; the read is audited
    (``view_visit_candidates``).

    :raise NotFound: no such visit. :raise Forbidden: a network ``actor`` does not coordinate.
    """
    network_scope.require_visit(session, actor, visit_id)
    found = candidates_for(session, visit_id, now=now, provider=provider)
    visit = visit_reads.get_visit(session, visit_id, actor=actor)
    audit.record(session, actor=actor, action="view_visit_candidates", now=now,
                 patient_id=visit.patient_id, entity=("visit", visit.id), purpose=purpose,
                 request_id=request_id)
    return found


def candidates(
    session: so.Session, visit: Visit, *, now: datetime, provider: TravelTimeProvider,
) -> list[Candidate]:
    """The visit's network's field workers, best first, the refused last.

    Best first: arriving before the deadline, then without warnings, then the earliest
    start, then the least travel, then the fewest minutes pushed. A visit that is closed or
    under way has no candidates (an empty list).
    """
    if visit.status not in ASSIGNABLE:
        return []
    stmt = sa.select(Staff).where(Staff.active.is_(True), Staff.role.in_(FIELD_ROLES))
    if visit.network_id is not None:
        stmt = stmt.where(Staff.network_id == visit.network_id)
    workers = list(session.scalars(stmt.order_by(Staff.name, Staff.id)))
    best: dict[int, Insertion] = {}
    for placed in insertions(session, visit, visit.network_id, now=now, provider=provider):
        known = best.get(placed.staff.id)
        if known is None or placed.start < known.start:
            best[placed.staff.id] = placed
    found: list[Candidate] = []
    refused: list[Candidate] = []
    # The open 2-hour visits only one worker could reach in time: pinning this visit on that
    # worker may leave one unassigned (assign checks it exactly; issue 14).
    urgent = pin_costs.reachers(session, {visit.network_id}, now=now, provider=provider,
                                excluding=[visit.id])
    urgent_rows = {v.id: v for v in pin_costs.open_urgent(
        session, {visit.network_id}, now=now, excluding=[visit.id])} if urgent else {}
    for staff in workers:
        if staff.id == visit.assigned_staff_id:
            continue  # already theirs
        tier_refusal = strata.worker_refusal(session, staff=staff, visit=visit)
        if tier_refusal is not None:  # the network's tier rule (H-232): no "assign anyway"
            refused.append(_refused(session, visit, staff,
                                    tier_refusal.removeprefix(f"{staff.name} may not take it: ")))
            continue
        fits = best.get(staff.id)
        if fits is None:
            refused.append(_refused(session, visit, staff, _why_not(
                session, visit, staff, now=now, provider=provider)))
            continue
        candidate = _candidate(session, visit, staff, fits, now=now, provider=provider)
        costs = tuple(pin_costs.cost_text(urgent_rows[u], staff.name, estimate=True)
                      for u in pin_costs.sole_reacher_of(urgent, staff.id) if u in urgent_rows)
        if costs and not candidate.refused:
            candidate = dataclasses.replace(candidate, warnings=(*candidate.warnings, *(
                f"pinning this {c}" for c in costs)))
        (refused if candidate.refused else found).append(candidate)
    found.sort(key=lambda c: (not c.arrival_before_deadline, bool(c.warnings), c.start,
                              c.travel_minutes or 0, sum(p.minutes for p in c.pushes),
                              c.staff_id))
    return [*found, *refused]


def _refused(session: so.Session, visit: Visit, staff: Staff, reason: str) -> Candidate:
    return Candidate(staff.id, staff.name, None, None, None, False, refused=True,
                     reason=reason)


def _candidate(
    session: so.Session, visit: Visit, staff: Staff, placed: Insertion, *, now: datetime,
    provider: TravelTimeProvider,
) -> Candidate:
    problem, index, stop = placed.problem, placed.index, placed.stop
    assert placed.route is not None
    stops = placed.route.stops
    at = stops.index(stop)
    origin = (problem.visit(stops[at - 1].visit_id).location if at
              else problem.shifts[placed.shift].start_location)
    travel = math.ceil(int(problem.travel[origin, problem.visit(placed.vid).location]) / 60)
    start, arrival = index.at(stop.start), index.at(stop.arrival)
    check = manual.check_assignment(session, visit=visit, staff=staff, start=start,
                                    provider=provider, now=now)
    moved = moved_visits(session, placed)
    pushed = {row.id for row, _, _ in moved}
    clashing = manual.clashes(session, visit=visit, staff=staff, start=start, provider=provider,
                              now=now)
    if any(h.visit_id not in pushed for h in clashing):
        clash = _clash_text(session, visit, staff, start, now=now, provider=provider)
        return _refused(session, visit, staff, clash or "already booked then")
    for row, _, new in moved:
        if row.status not in manual.PUSHABLE or (row.pinned and row.status != "accepted"):
            return _refused(session, visit, staff, (
                f"would move visit {row.reference}, which is {row.status.replace('_', ' ')}"
                f"{' and pinned' if row.pinned else ''}"))
        if is_urgent(row) and new > row.deadline and row.late_allowed_until is None:
            return _refused(session, visit, staff, (
                f"would push 2-hour visit {row.reference} past its deadline "
                f"({hm(row.deadline, now)})"))
    pushes = _pushes(session, placed)
    warnings = [w for w in check.warnings if not check.double_booked or "already has visit"
                not in w]
    warnings += [f"visit {row.reference} would then start after its deadline "
                 f"({hm(row.deadline, now)})" for row, _, new in moved if new > row.deadline]
    return Candidate(staff.id, staff.name, travel, start, arrival,
                     arrival <= visit.deadline, tuple(pushes), tuple(warnings))


def _pushes(session: so.Session, placed: Insertion) -> list[Push]:
    """The worker's booked visits that would start later than booked with this one in their
    day (what :func:`dispatch.planning.jeopardy.moves_for` would re-time on assigning)."""
    return [Push(row.id, row.reference, math.ceil((new - old).total_seconds() / 60))
            for row, old, new in moved_visits(session, placed)]


def _clash_text(
    session: so.Session, visit: Visit, staff: Staff, start: datetime, *, now: datetime,
    provider: TravelTimeProvider,
) -> str | None:
    """"already has visit 3134 from 14:10 to 14:55" when ``start`` double-books them."""
    held = manual.clashes(session, visit=visit, staff=staff, start=start, provider=provider,
                          now=now)
    return manual.clash_text(session, held[0], now) if held else None


def _why_not(
    session: so.Session, visit: Visit, staff: Staff, *, now: datetime,
    provider: TravelTimeProvider,
) -> str:
    """Why the visit does not fit ``staff``'s day, in words with times and skill names."""
    missing = set(visit.skills or ()) - set(staff.skills or ())
    if missing:
        return f"lacks {skill_names(missing)}"
    if staff.id in (visit.excluded_staff_ids or []):
        return "declined this visit or was taken off it"
    on_now = session.scalar(sa.select(Shift).where(
        Shift.staff_id == staff.id, Shift.starts_at <= now, Shift.ends_at > now
    ).order_by(Shift.ends_at.desc()))
    if on_now is not None and on_now.sick_from is not None and on_now.sick_from <= now:
        return f"off sick since {hm(on_now.sick_from, now)}"
    if on_now is None:
        upcoming = session.scalar(sa.select(Shift).where(
            Shift.staff_id == staff.id, Shift.starts_at > now
        ).order_by(Shift.starts_at))
        if upcoming is None or upcoming.starts_at > now + timedelta(hours=24):
            return "not on shift in the next 24 hours"
        return f"off shift until {hm(upcoming.starts_at, now)}"
    start = max(now, visit.earliest_start)
    clash = _clash_text(session, visit, staff, start, now=now, provider=provider)
    if clash is not None:
        return f"{clash}; no room in their day before their shift ends at {hm(on_now.ends_at, now)}"
    return f"no room in their day before their shift ends at {hm(on_now.ends_at, now)}"
