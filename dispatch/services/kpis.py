"""Performance figures for one day (Europe/London), per network and team.

This module only reads the database into the plain rows of :mod:`dispatch.reports.types`; the
arithmetic is :mod:`dispatch.reports.metrics` (pure, and documented there). Where each figure
comes from:

- responses: referrals *received* that day (not cancelled or rejected) with their visits'
  first ``arrived_at``; jeopardy causes from ``visit_jeopardy`` audit events (the deadline
  watch, ``details.cause``) plus each visit's current ``jeopardy_cause``;
- declines: ``decline_visit`` audit events that day (``details.reason``, ``details.staff_id``;
  written by ``dispatch.services.visit_actions.decline``);
- bookings outside the timeframe: ``booking_outside_timeframe`` audit events that day
  (``dispatch.services.bookings``);
- utilisation: shifts overlapping the day (minus breaks, cut at sickness), visits *arrived*
  that day (arrival to completion; the planned length while still on site), and travel
  **estimated** with the configured travel-time provider along the worker's actual order of
  arrivals: base, each visit, and back to base once the shift is over. Stored plans are
  proposals that change through the day, so they are not used for what actually happened.

A team is a staff role (district nurses, hybrid workers, therapists, social workers); a
response belongs to the team of the worker who arrived first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.config import LONDON
from dispatch.errors import NotFound
from dispatch.models import AuditEvent, Network, Patient, Referral, Shift, Staff, StaffBase, Visit
from dispatch.reports import export, metrics
from dispatch.reports.types import (
    UNATTENDED,
    BookingRow,
    DayRows,
    DeclineRow,
    ResponseRow,
    WorkerDay,
)
from dispatch.services import audit, pairs
from dispatch.services.bookings import OUTSIDE_TIMEFRAME_ACTION
from routing.travel import TravelTimeProvider
from routing.travel_errors import UnknownTravelModeError

REPORTED_CATEGORIES = ("urgent_2h", "response_24h", "planned")
EXCLUDED_REFERRAL_STATUSES = ("cancelled", "rejected")
JEOPARDY_ACTION = "visit_jeopardy"  # dispatch.services.watch.escalate
DECLINE_ACTION = "decline_visit"  # dispatch.services.visit_actions.decline
FIELD_ROLES = ("district_nurse", "hybrid_worker", "therapist", "social_worker")


#: The purpose every read and export of the figures is audited with.
PURPOSE = "performance reporting"

def day_bounds(day: date) -> tuple[datetime, datetime]:
    """London midnight to midnight as aware UTC instants (23 or 25 hours on clock-change days)."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=LONDON)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=LONDON)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def day_rows(
    session: so.Session, *, day: date, now: datetime, provider: TravelTimeProvider,
    network_id: int | None = None,
) -> DayRows:
    """Everything one day's report needs, for ``network_id`` (None: every network)."""
    start, end = day_bounds(day)
    nets = sa.select(Network)
    if network_id is not None:
        nets = nets.where(Network.id == network_id)
    networks = {n.id: (n.code, n.name) for n in session.scalars(nets)}
    return DayRows(
        responses=tuple(_responses(session, start, end, network_id)),
        workers=tuple(_workers(session, start, end, network_id, now, provider)),
        declines=tuple(_declines(session, start, end, network_id)),
        bookings=tuple(_bookings(session, start, end, network_id)),
        networks=networks,
    )


def kpi_report(
    session: so.Session, *, day: date, now: datetime, provider: TravelTimeProvider,
    network_id: int | None = None,
) -> dict[str, Any]:
    """``GET /api/kpis``: the day's figures for every network (or one) and each team.

    :raise NotFound: no such network.
    """
    require_network(session, network_id)
    rows = day_rows(session, day=day, now=now, provider=provider, network_id=network_id)
    return {"date": day.isoformat(), "timezone": LONDON.key, "network": network_id,
            **metrics.report(rows, as_of=now)}


def require_network(session: so.Session, network_id: int | None) -> Network | None:
    """The network asked for (None for all). :raise NotFound: no such network."""
    if network_id is None:
        return None
    network = session.get(Network, network_id)
    if network is None:
        raise NotFound(f"network {network_id} not found")
    return network


def network_choices(session: so.Session) -> list[tuple[int, str]]:
    """(id, name) of every network, by name: the report page's filter."""
    return [(i, n) for i, n in session.execute(
        sa.select(Network.id, Network.name).order_by(Network.name))]


def view_report(
    session: so.Session, *, day: date, now: datetime, provider: TravelTimeProvider,
    network_id: int | None, actor: Actor, request_id: str | None = None,
) -> dict[str, Any]:
    """:func:`kpi_report`, the read audited (``view_kpis``). :raise NotFound: no such network."""
    report = kpi_report(session, day=day, now=now, network_id=network_id, provider=provider)
    audit.record(session, actor=actor, action="view_kpis", now=now, purpose=PURPOSE,
                 request_id=request_id, details={"date": day.isoformat(), "network": network_id})
    return report


def labelled_rows(
    session: so.Session, *, day: date, now: datetime, provider: TravelTimeProvider,
    network_id: int | None = None,
) -> tuple[DayRows, str]:
    """The day's rows and the label a chart carries ("Tue 01 Dec 2026, Hammersmith").

    :raise NotFound: no such network.
    """
    label = day.strftime("%a %d %b %Y")
    network = require_network(session, network_id)
    if network is not None:
        label += f", {network.name}"
    return day_rows(session, day=day, now=now, network_id=network_id, provider=provider), label


def export_table(
    session: so.Session, *, table: str, day: date, now: datetime, provider: TravelTimeProvider,
    network_id: int | None, actor: Actor, request_id: str | None = None,
) -> str:
    """One table of the rows behind the day's figures as CSV (no patient identifiers); the
    export is audited (``export_kpis``). :raise NotFound: no such network."""
    rows, _ = labelled_rows(session, day=day, now=now, network_id=network_id,
                            provider=provider)
    text = export.to_csv(rows, table=table, as_of=now)
    audit.record(session, actor=actor, action="export_kpis", now=now, purpose=PURPOSE,
                 request_id=request_id,
                 details={"table": table, "date": day.isoformat(), "network": network_id})
    return text


def _responses(
    session: so.Session, start: datetime, end: datetime, network_id: int | None
) -> list[ResponseRow]:
    stmt = sa.select(Referral).where(
        Referral.received_at >= start, Referral.received_at < end,
        Referral.category.in_(REPORTED_CATEGORIES), Referral.deadline.is_not(None),
        Referral.status.not_in(EXCLUDED_REFERRAL_STATUSES))
    if network_id is not None:
        stmt = stmt.where(Referral.network_id == network_id)
    referrals = list(session.scalars(stmt.order_by(Referral.received_at, Referral.id)))
    visits = list(session.scalars(sa.select(Visit).where(
        Visit.referral_id.in_([r.id for r in referrals])).order_by(Visit.id))) if referrals else []
    roles = _roles(session, {v.assigned_staff_id for v in visits})
    events = _visit_events(session, [v.id for v in visits], (JEOPARDY_ACTION, DECLINE_ACTION))
    # A double-handed visit counts once, arrived when both workers were there (issue 15).
    arrival = pairs.pair_arrivals(session, visits)
    by_referral: dict[int, list[Visit]] = defaultdict(list)
    for visit in visits:
        if visit.id in arrival:
            by_referral[visit.referral_id or 0].append(visit)
    return [_response(r, by_referral[r.id], roles, events, arrival) for r in referrals]


def _response(
    referral: Referral, visits: list[Visit], roles: dict[int, str],
    events: dict[int, list[AuditEvent]], arrival: dict[int, datetime | None],
) -> ResponseRow:
    arrived = sorted((v for v in visits if arrival.get(v.id) is not None),
                     key=lambda v: arrival.get(v.id) or referral.received_at)
    first = arrived[0] if arrived else None
    causes: list[tuple[datetime, str]] = []
    declined = 0
    for visit in visits:
        for event in events.get(visit.id, []):
            if event.action == DECLINE_ACTION:
                declined += 1
            elif event.details.get("cause"):
                causes.append((event.at, str(event.details["cause"])))
        if visit.jeopardy_cause and (visit.jeopardy_since, visit.jeopardy_cause) not in causes:
            causes.append((visit.jeopardy_since or referral.received_at, visit.jeopardy_cause))
    assert referral.category is not None and referral.deadline is not None  # filtered in SQL
    shown = first or (visits[0] if visits else None)
    return ResponseRow(
        referral_id=referral.id, network_id=referral.network_id, category=referral.category,
        received_at=referral.received_at, deadline=referral.deadline,
        first_arrival=arrival.get(first.id) if first else None,
        team=roles.get(first.assigned_staff_id or 0, UNATTENDED) if first else UNATTENDED,
        visit_reference=shown.reference if shown else None,
        causes=tuple(sorted(causes, key=lambda c: c[0])), declined=declined,
    )


def _roles(session: so.Session, staff_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {i for i in staff_ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(sa.select(Staff.id, Staff.role).where(Staff.id.in_(ids)))
                .all())


def _visit_events(
    session: so.Session, visit_ids: Sequence[int], actions: tuple[str, ...]
) -> dict[int, list[AuditEvent]]:
    if not visit_ids:
        return {}
    out: dict[int, list[AuditEvent]] = defaultdict(list)
    stmt = sa.select(AuditEvent).where(
        AuditEvent.action.in_(actions), AuditEvent.entity_type == "visit",
        AuditEvent.entity_id.in_([str(i) for i in visit_ids])).order_by(AuditEvent.at)
    for event in session.scalars(stmt):
        out[int(event.entity_id or 0)].append(event)
    return out


def _events_on_day(
    session: so.Session, action: str, start: datetime, end: datetime
) -> list[tuple[AuditEvent, Visit | None]]:
    events = list(session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.at >= start, AuditEvent.at < end)
        .order_by(AuditEvent.at, AuditEvent.id)))
    ids = {int(e.entity_id or 0) for e in events
           if e.entity_type == "visit" and (e.entity_id or "").isdigit()}
    visits = {v.id: v for v in session.scalars(sa.select(Visit).where(Visit.id.in_(ids)))} \
        if ids else {}
    return [(e, visits.get(int(e.entity_id or 0)) if (e.entity_id or "").isdigit() else None)
            for e in events]


def _declines(
    session: so.Session, start: datetime, end: datetime, network_id: int | None
) -> list[DeclineRow]:
    pairs = _events_on_day(session, DECLINE_ACTION, start, end)
    roles = _roles(session, {e.details.get("staff_id") for e, _ in pairs})
    out = []
    for event, visit in pairs:
        net = visit.network_id if visit else None
        if network_id is not None and net != network_id:
            continue
        staff_id = event.details.get("staff_id")
        out.append(DeclineRow(
            at=event.at, network_id=net, team=roles.get(staff_id or 0, UNATTENDED),
            staff_id=staff_id, visit_reference=visit.reference if visit else None,
            reason=str(event.details.get("reason") or "no reason given")))
    return out


def _bookings(
    session: so.Session, start: datetime, end: datetime, network_id: int | None
) -> list[BookingRow]:
    out = []
    for event, visit in _events_on_day(session, OUTSIDE_TIMEFRAME_ACTION, start, end):
        net = visit.network_id if visit else None
        if network_id is not None and net != network_id:
            continue
        d = event.details
        approver = d.get("approved_by") or None
        out.append(BookingRow(
            at=event.at, network_id=net, visit_reference=d.get("visit_reference"),
            category=d.get("category"), timeframe_minutes=d.get("timeframe_minutes"),
            approval_required=bool(d.get("approval_required")),
            approved_by=f"{approver['name']} ({approver['role']})" if approver else None,
            reason=str(d.get("reason") or event.purpose or "")))
    return out


def _workers(
    session: so.Session, start: datetime, end: datetime, network_id: int | None,
    now: datetime, provider: TravelTimeProvider,
) -> list[WorkerDay]:
    stmt = (sa.select(Shift, Staff).join(Staff, Staff.id == Shift.staff_id)
            .where(Shift.starts_at < end, Shift.ends_at > start, Staff.role.in_(FIELD_ROLES))
            .order_by(Shift.starts_at))
    if network_id is not None:
        stmt = stmt.where(Staff.network_id == network_id)
    shifts: dict[int, list[Shift]] = defaultdict(list)
    staff: dict[int, Staff] = {}
    for shift, member in session.execute(stmt):
        shifts[member.id].append(shift)
        staff[member.id] = member
    if not staff:
        return []
    visits = list(session.scalars(sa.select(Visit).where(
        Visit.assigned_staff_id.in_(staff), Visit.arrived_at >= start, Visit.arrived_at < end)
        .order_by(Visit.arrived_at)))
    places = _places(session, visits, shifts)
    out = []
    for staff_id, member in staff.items():
        own = [v for v in visits if v.assigned_staff_id == staff_id]
        out.append(WorkerDay(
            staff_id=staff_id, name=member.name, team=member.role, network_id=member.network_id,
            shift_minutes=sum(_rostered_minutes(s, start, end) for s in shifts[staff_id]),
            visit_minutes=sum(_on_site_minutes(v, now) for v in own),
            travel_minutes=_travel(member, shifts[staff_id], own, places, now, provider),
            visits=len(own)))
    return out


def _places(
    session: so.Session, visits: list[Visit], shifts: dict[int, list[Shift]]
) -> dict[str, tuple[float, float]]:
    """Coordinates keyed ``p<patient id>`` and ``b<base id>``."""
    places: dict[str, tuple[float, float]] = {}
    patient_ids = {v.patient_id for v in visits}
    if patient_ids:
        for p in session.scalars(sa.select(Patient).where(Patient.id.in_(patient_ids))):
            if p.lat is not None and p.lon is not None:
                places[f"p{p.id}"] = (p.lat, p.lon)
    base_ids = {s.base_id for rows in shifts.values() for s in rows}
    for b in session.scalars(sa.select(StaffBase).where(StaffBase.id.in_(base_ids))):
        places[f"b{b.id}"] = (b.lat, b.lon)
    return places


def _overlap_minutes(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> float:
    return max(0.0, (min(a1, b1) - max(a0, b0)).total_seconds() / 60)


def _rostered_minutes(shift: Shift, start: datetime, end: datetime) -> float:
    """The shift's minutes inside the day, less its breaks, cut short at sickness."""
    finish = min(shift.ends_at, shift.sick_from or shift.ends_at)
    minutes = _overlap_minutes(shift.starts_at, finish, start, end)
    for item in shift.breaks or []:
        b0, b1 = datetime.fromisoformat(item["start"]), datetime.fromisoformat(item["end"])
        minutes -= _overlap_minutes(b0, b1, max(shift.starts_at, start), min(finish, end))
    return max(0.0, minutes)


def _on_site_minutes(visit: Visit, now: datetime) -> float:
    assert visit.arrived_at is not None
    if visit.completed_at is not None:
        return max(0.0, (visit.completed_at - visit.arrived_at).total_seconds() / 60)
    planned_end = visit.arrived_at + timedelta(minutes=visit.duration_minutes)
    return max(0.0, (min(now, planned_end) - visit.arrived_at).total_seconds() / 60)


def _travel(
    member: Staff, shifts: list[Shift], visits: list[Visit],
    places: dict[str, tuple[float, float]], now: datetime, provider: TravelTimeProvider,
) -> float:
    """Estimated minutes: base -> each visit in arrival order -> base (once the shift is over)."""
    base = places.get(f"b{shifts[0].base_id}")
    route = [base] if base else []
    route += [places[f"p{v.patient_id}"] for v in visits if f"p{v.patient_id}" in places]
    if base and visits and max(s.ends_at for s in shifts) <= now:
        route.append(base)
    if len(route) < 2:
        return 0.0
    points = list(dict.fromkeys(route))
    try:
        matrix = provider.matrix(points, points, mode=member.travel_mode)
    except UnknownTravelModeError:
        matrix = provider.matrix(points, points, mode="car")
    at = {p: i for i, p in enumerate(points)}
    return metrics.route_travel_minutes(route, lambda a, b: float(matrix[at[a]][at[b]]) / 60)
