"""The two dispatch policies the simulator compares on the same demand.

``optimised`` is the production planner: new visits are inserted at once and each network is
re-optimised every half hour from its current plan, both through the one planning pipeline
(:mod:`dispatch.planning.pipeline`) in the simulator's one session. ``nearest`` is what a
dispatcher with a phone list does: offer each visit, as it comes, to the nearest free worker
who has the skills, else to whoever can get there first, and never move anything afterwards.

Why :func:`replan_network` and not ``live.replan``: the same pipeline (build the problem from
the rows, warm-start from the current assignments, improve, apply), but with a cap on accepted
solutions, and accepted visits' times relaxed when the network is infeasible as it stands
(``pipeline.relaxed``: production's placer and re-optimiser would otherwise do nothing). A
time-limited guided local search stops wherever the wall clock says, so two runs of the same
seed would differ; a solution cap makes the re-optimisation a pure function of the database,
which is what makes a simulated day reproducible.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import states
from dispatch.models import Patient, Shift, Staff, StaffBase, Visit
from dispatch.planning import pipeline
from dispatch.planning.apply import ApplyReport
from dispatch.planning.problem import FIELD_ROLES, TRAVEL_MODE
from dispatch.planning.retries import PlacementRetries
from dispatch.services import pairs, visit_actions
from routing.errors import RoutingInfeasible
from routing.travel import LatLon, TravelTimeProvider

log = logging.getLogger(__name__)

#: Visits in a worker's queue: they hold the worker until done.
QUEUED: Final = states.VISIT_ACTIVE_STATUSES


@dataclass
class PlannerStats:
    """How often production's planner could not keep the agreed times (see :func:`relaxed`)."""

    placements: int = 0
    placement_fallbacks: int = 0
    replans: int = 0
    replan_fallbacks: int = 0
    failures: int = 0
    #: Applies refused because they would have double-booked a worker (hazard H-013).
    refused_applies: int = 0


def place(session: so.Session, *, now: datetime, provider: TravelTimeProvider,
          seconds: float, stats: PlannerStats, offer_lead: timedelta | None = None,
          rescue_seconds: float = 0.0, rescue_solutions: int | None = None,
          retries: PlacementRetries | None = None) -> None:
    """Insert never-planned visits with production's placer; relax pins if it cannot.

    A 2-hour visit the insertion cannot fit is rescued by re-optimising its network, as
    production's placer does (``PLACE_RESCUE_SECONDS``), capped at ``rescue_solutions``
    accepted solutions so the day stays a function of its seed. ``retries`` (kept by the
    caller for the day, as production's placer keeps it) tries a visit with no room again
    after a minute and then less often (:mod:`dispatch.planning.retries`), not on every
    event: without it the 450 visits booked at 06:00 each re-tried every visit not yet
    placed, and a day stalled at 06:00 for 45 CPU minutes."""
    stats.placements += 1
    tx = pipeline.OneSession(session)
    options = pipeline.Options(method="insert", seconds=seconds, offer_lead=offer_lead,
                               rescue_seconds=rescue_seconds, solution_limit=rescue_solutions)
    try:
        with session.begin_nested():
            reports = pipeline.place_new(tx, now=now, provider=provider, options=options,
                                         retries=retries)
        stats.refused_applies += sum(bool(r.apply.refused) for r in reports)
        return
    except RoutingInfeasible:
        stats.placement_fallbacks += 1
    network_ids = session.scalars(
        sa.select(Visit.network_id).where(
            Visit.status == "unassigned", Visit.jeopardy_cause.is_(None),
            Visit.network_id.is_not(None)).distinct().order_by(Visit.network_id)).all()
    relaxed = dataclasses.replace(options, relax="always")
    for network_id in network_ids:
        if network_id is None:
            continue
        try:
            reports = pipeline.place_new(tx, now=now, provider=provider, options=relaxed,
                                         network_ids=[network_id], retries=retries)
        except RoutingInfeasible as exc:
            stats.failures += 1
            log.warning("placing in network %s failed at %s: %s", network_id, now, exc)
            continue
        stats.refused_applies += sum(bool(r.apply.refused) for r in reports)


def replan_network(
    session: so.Session, *, now: datetime, provider: TravelTimeProvider, network_id: int,
    seconds: float, solutions: int, stats: PlannerStats, offer_lead: timedelta | None = None,
) -> ApplyReport | None:
    """Re-optimise one network from its current plan and apply it (see module docstring)."""
    options = pipeline.Options(method="improve", seconds=seconds, workers=1,
                               solution_limit=solutions, relax="on_infeasible",
                               offer_lead=offer_lead)
    try:
        report = pipeline.run(pipeline.OneSession(session), now=now, provider=provider,
                              network_id=network_id, options=options)
    except RoutingInfeasible as exc:
        stats.replans += 1
        stats.replan_fallbacks += 1
        stats.failures += 1
        log.warning("re-optimising network %s failed at %s: %s", network_id, now, exc)
        return None
    if not report.visits:
        return None
    stats.replans += 1
    stats.replan_fallbacks += report.relaxed
    stats.refused_applies += bool(report.apply.refused)
    return report.apply


@dataclass(frozen=True, slots=True)
class _Option:
    """One worker the dispatcher could ring, and when they could start."""

    free_now: bool
    travel: int
    start: datetime
    on_time: bool
    staff: Staff
    shift: Shift


def nearest_assign(
    session: so.Session, *, visit: Visit, now: datetime, provider: TravelTimeProvider,
    positions: Mapping[int, LatLon],
) -> bool:
    """Offer ``visit`` to the nearest free skilled worker of its network, else the soonest.

    ``positions`` is where each worker is now (the dispatcher knows; they ring round).
    Returns False when nobody on the roster can take it (it stays unassigned).
    """
    patient = session.get(Patient, visit.patient_id)
    if patient is None or patient.lat is None or patient.lon is None:
        return False
    options = [
        option for shift, staff in _skilled_shifts(session, visit, now)
        if (option := _option(session, visit, (patient.lat, patient.lon), shift, staff, now,
                              provider, positions)) is not None
    ]
    if not options:
        return False
    partner = _placed_partner(session, visit)
    if partner is not None:
        # A double-handed visit: the second carer is chosen to start *with* the first, and
        # both are timed to the later of their two starts (issue 15).
        options = [_together(o, partner, visit) for o in options]
        options = [o for o in options if o.start + timedelta(
            minutes=visit.duration_minutes) <= o.shift.ends_at] or options
    free = [o for o in options if o.free_now and o.on_time]
    if free:
        best = min(free, key=lambda o: (o.start, o.travel, o.staff.id) if partner
                   else (o.travel, o.staff.id))
    else:
        timely = [o for o in options if o.on_time] or options
        best = min(timely, key=lambda o: (o.start, o.travel, o.staff.id))
    visit_actions.assign(session, visit=visit, staff=best.staff, shift=best.shift,
                         planned_start=best.start, now=now)
    if partner is not None and partner.planned_start != best.start:
        _retime(session, partner, best.start, now)
    return True


def _placed_partner(session: so.Session, visit: Visit) -> Visit | None:
    """The other half of ``visit``'s double-handed pair, if a carer already has it."""
    other = pairs.partner(session, visit)
    if other is None or other.kind != pairs.DOUBLE_HANDED or other.staff is None:
        return None
    if other.visit.status not in (*states.VISIT_PROPOSED_STATUSES, "accepted") \
            or other.visit.planned_start is None:
        return None
    return other.visit


def _together(option: _Option, partner: Visit, visit: Visit) -> _Option:
    """``option`` timed to start with ``partner``: the later of the two starts."""
    assert partner.planned_start is not None
    start = max(option.start, partner.planned_start)
    return dataclasses.replace(option, start=start, on_time=start <= visit.deadline)


def _retime(session: so.Session, partner: Visit, start: datetime, now: datetime) -> None:
    """Move the first carer's half to the pair's common start (they are told if it moved)."""
    staff = session.get(Staff, partner.assigned_staff_id)
    shift = session.get(Shift, partner.shift_id) if partner.shift_id else None
    if staff is None:
        return
    if partner.status == "accepted":
        visit_actions.retime_accepted(session, visit=partner, planned_start=start, now=now)
    else:
        visit_actions.assign(session, visit=partner, staff=staff, shift=shift,
                             planned_start=start, now=now)


def _skilled_shifts(session: so.Session, visit: Visit, now: datetime) -> list[tuple[Shift, Staff]]:
    rows = session.execute(
        sa.select(Shift, Staff).join(Staff, Staff.id == Shift.staff_id)
        .where(Staff.network_id == visit.network_id, Staff.active.is_(True),
               Staff.role.in_(FIELD_ROLES), Shift.ends_at > now, Shift.sick_from.is_(None))
        .order_by(Shift.starts_at, Shift.id)
    ).all()
    # A phone-list dispatcher moves down the list past whoever declined or did not answer.
    needed = set(visit.skills)
    excluded = {*(visit.excluded_staff_ids or []), *(visit.unanswered_staff_ids or [])}
    # A double-handed visit's two halves go to two people (the dispatcher rings a second
    # carer, timed to start with the first: nearest_assign).
    partner = pairs.partner(session, visit)
    if partner is not None and partner.kind == pairs.DOUBLE_HANDED and partner.staff:
        excluded.add(partner.staff.id)
    return [(shift, staff) for shift, staff in rows
            if needed <= set(staff.skills) and staff.id not in excluded]


def _option(
    session: so.Session, visit: Visit, home: LatLon, shift: Shift, staff: Staff,
    now: datetime, provider: TravelTimeProvider, positions: Mapping[int, LatLon],
) -> _Option | None:
    base = session.get(StaffBase, shift.base_id)
    assert base is not None
    queue = list(session.scalars(
        sa.select(Visit).where(Visit.assigned_staff_id == staff.id, Visit.status.in_(QUEUED),
                               Visit.id != visit.id)))
    available = max(now, shift.starts_at)
    origin: LatLon = positions.get(staff.id, (base.lat, base.lon))
    if shift.starts_at > now:
        origin = (base.lat, base.lon)
    for queued in queue:
        end = (queued.arrived_at or queued.planned_start or now) + timedelta(
            minutes=queued.duration_minutes)
        if end >= available:
            available = end
            queued_home = session.get(Patient, queued.patient_id)
            if queued_home is not None and queued_home.lat is not None \
                    and queued_home.lon is not None:
                origin = (queued_home.lat, queued_home.lon)
    times = provider.matrix([origin, home], [home, (base.lat, base.lon)], mode=TRAVEL_MODE)
    travel, back = int(times[0][0]), int(times[1][1])
    start = max(available + timedelta(seconds=travel), visit.earliest_start)
    # The rota's breaks hold for this dispatcher too (the planner may slide a break by up to
    # an hour; a phone-list dispatcher keeps it where the rota puts it): a visit that would
    # run into a break starts after it, and a worker on a break now is not free.
    on_break = False
    for start_at, end_at in _breaks(shift):
        if start_at <= now < end_at:
            on_break = True
        if end_at > now and start < end_at and start_at < start + timedelta(
                minutes=visit.duration_minutes):
            start = max(start, end_at + timedelta(seconds=travel), visit.earliest_start)
    start = start.replace(microsecond=0)
    finish = start + timedelta(minutes=visit.duration_minutes, seconds=back)
    if finish > shift.ends_at:
        return None
    free_now = not queue and shift.starts_at <= now and not on_break
    return _Option(free_now, travel, start, start <= visit.deadline, staff, shift)


def _breaks(shift: Shift) -> list[tuple[datetime, datetime]]:
    """The shift's rostered breaks as (start, end), earliest first."""
    return sorted(
        (datetime.fromisoformat(item["start"]), datetime.fromisoformat(item["end"]))
        for item in shift.breaks or []
    )
