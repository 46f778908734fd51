"""From rows to a :class:`routing.types.RoutingProblem` (times in seconds from ``now``).

What the planner may change: unassigned, assigned and offered visits. What it must keep:
accepted visits (kept on their worker's shift; their time may move within their window, see
ADR 0003 decision 5) and visits a coordinator pinned (kept on the worker *and* at the time the
coordinator set, see :func:`_hold_pinned_times`). Visits under way (en route, on
site) are not in the problem at all; instead their worker's shift starts where and when that
visit will end, so nobody is planned to be in two places at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import cast

import numpy as np
import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import states
from dispatch.models import Absence, Patient, Shift, Staff, StaffBase, Visit
from dispatch.planning import pairs
from dispatch.services import pairs as visit_pairs
from dispatch.services import strata
from rosters.roles import spares
from routing import types as rt
from routing.travel import TravelTimeProvider

DEFAULT_HORIZON = timedelta(hours=24)
#: A break may move this much either side of its rostered start, so an urgent visit can go
#: before it (the Working Time Regulations ask for a 20-minute break in a 6-hour day, not a
#: fixed minute). At 30 minutes a referral just before a break waited for it: in the
#: simulated default day (seeds 1-3) the 2-hour p90 response fell from 42/35/43 to 35/29/43 min.
BREAK_FLEX = timedelta(minutes=60)
PLANNABLE = states.VISIT_MOVABLE_STATUSES
PINNED = ("accepted",)
UNDER_WAY = states.VISIT_UNDER_WAY_STATUSES
FIELD_ROLES = ("district_nurse", "hybrid_worker", "therapist", "social_worker")
#: The mode of the problem's own ``travel`` matrix; workers who travel otherwise (the
#: roster's ``travel_mode``: walk, bicycle, public transport) get a profile of their mode.
TRAVEL_MODE = "car"


@dataclass
class ProblemIndex:
    """How the problem's string ids map back to rows."""

    start: datetime
    visits: dict[str, int] = field(default_factory=dict)  # problem visit id -> Visit.id
    versions: dict[int, int] = field(default_factory=dict)  # Visit.id -> version seen
    shifts: dict[str, int] = field(default_factory=dict)  # problem shift id -> Shift.id
    staff_of_shift: dict[str, int] = field(default_factory=dict)
    #: The travel times the problem was built with (apply checks bookings with the same).
    provider: TravelTimeProvider | None = None
    #: Linked visits (problem ids), each to its partner, both ways (issue 15).
    partners: dict[str, str] = field(default_factory=dict)
    #: Each planned worker's travel mode (Staff.id -> mode): apply checks their bookings at
    #: the pace they were planned at.
    modes: dict[int, str] = field(default_factory=dict)

    def at(self, seconds: int) -> datetime:
        return self.start + timedelta(seconds=seconds)


def seconds_between(start: datetime, moment: datetime) -> int:
    return int((moment - start).total_seconds())


def build_problem(
    session: so.Session,
    *,
    now: datetime,
    provider: TravelTimeProvider,
    network_id: int | None = None,
    horizon: timedelta = DEFAULT_HORIZON,
    seed: int = 0,
    late_policy: rt.LatePolicy = "serve_late",
    include_visits: Collection[int] = (),
) -> tuple[rt.RoutingProblem, ProblemIndex]:
    """The open visits and the shifts of ``network_id`` (all networks when None), plus the
    open visits ``include_visits`` from elsewhere (to ask whether this network could take one).

    Each worker travels by their roster's mode (issue 15): the problem's ``travel`` matrix is
    by car, and one more matrix per other mode in use (``travel_profiles``, keyed by the mode:
    ``walk``, ``bicycle``, ``public_transport``) from the same provider (OSRM's profile where
    configured, else the offline estimate's speed and circuity for that mode); each shift's
    ``profile`` names its worker's.
    """
    start = now.replace(second=0, microsecond=0)
    end = start + horizon
    index = ProblemIndex(start=start, provider=provider)
    points: list[tuple[float, float]] = []
    point_ids: dict[tuple[float, float], int] = {}

    def location(lat: float, lon: float) -> int:
        key = (round(lat, 6), round(lon, 6))
        if key not in point_ids:
            point_ids[key] = len(points)
            points.append(key)
        return point_ids[key]

    visits = _open_visits(session, network_id, end, include_visits)
    visits += _partners_elsewhere(session, visits)
    patients = {
        p.id: p
        for p in session.scalars(
            sa.select(Patient).where(Patient.id.in_({v.patient_id for v in visits}))
        )
    }
    shifts = rostered_shifts(session, network_id, now, end)
    staff = {
        s.id: s
        for s in session.scalars(sa.select(Staff).where(Staff.id.in_({h.staff_id for h in shifts})))
    }
    bases = {b.id: b for b in session.scalars(sa.select(StaffBase))}
    busy_until = _under_way(visits, patients, now)
    last_seen = _last_completed(session, {h.staff_id for h in shifts}, now)
    history = _previous_carers(session, {v.patient_id for v in visits})

    away = absences_of(session, {h.staff_id for h in shifts}, now, end)
    # Who serves whom by risk tier (issue 17): a worker's network's rules, as an eligibility
    # group on each visit and the groups each shift serves (routing knows no tiers).
    rules = strata.rules_by_network(session)
    routing_shifts = []
    for shift in shifts:
        member = staff[shift.staff_id]
        base = bases[shift.base_id]
        base_loc = location(base.lat, base.lon)
        start_loc, free_at = base_loc, max(shift.starts_at, now)
        if shift.staff_id in busy_until:
            (lat, lon), until = busy_until[shift.staff_id]
            start_loc, free_at = location(lat, lon), max(free_at, until)
        elif shift.staff_id in last_seen and last_seen[shift.staff_id][1] >= shift.starts_at:
            # An idle worker is where they finished their last visit, not back at base.
            (lat, lon), _ = last_seen[shift.staff_id]
            start_loc = location(lat, lon)
        finish = min(shift.ends_at, shift.sick_from or shift.ends_at)
        free_at, finish, off = around_absences(away.get(shift.staff_id, []), free_at, finish)
        if free_at >= finish:
            continue
        sid = str(shift.id)
        index.shifts[sid] = shift.id
        index.staff_of_shift[sid] = shift.staff_id
        index.modes[shift.staff_id] = member.travel_mode
        routing_shifts.append(
            rt.Shift(
                id=sid,
                worker_id=str(member.id),
                start_location=start_loc,
                end_location=base_loc,
                start=seconds_between(start, free_at),
                end=seconds_between(start, finish),
                skills=frozenset(member.skills),
                breaks=_breaks(shift, start, free_at, finish) + tuple(
                    rt.Break(start_min=seconds_between(start, a), start_max=seconds_between(
                        start, a), duration=int((b - a).total_seconds())) for a, b in off),
                profile=_profile(member.travel_mode),
                serves=rules.get(member.network_id or -1, strata.DEFAULT_RULES).serves_groups(
                    member.role),
            )
        )
    # A worker may have two shifts in the horizon (a night ending at 07:30 and the next one at
    # 21:30): a committed visit stays on the shift it was agreed on, else the earliest.
    shifts_of_staff: dict[int, list[str]] = defaultdict(list)
    for item in sorted(routing_shifts, key=lambda s: (s.start, s.id)):
        shifts_of_staff[index.staff_of_shift[item.id]].append(item.id)
    skills_of_worker = {s.worker_id: s.skills for s in routing_shifts}
    routing_visits = []
    for visit in visits:
        if visit.status in UNDER_WAY:
            continue
        patient = patients[visit.patient_id]
        if patient.lat is None or patient.lon is None:
            continue  # cannot be routed; the deadline watch reports it as unassigned
        vid = str(visit.id)
        index.visits[vid] = visit.id
        index.versions[visit.id] = visit.version
        routing_visits.append(
            _visit(
                visit,
                vid,
                location(patient.lat, patient.lon),
                start,
                shifts_of_staff,
                history.get(visit.patient_id, set()),
                group=_tier_group(rules, visit, patient.risk_tier),
                spared=_spared(visit, skills_of_worker),
            )
        )
    matrix = _matrix(provider, points, TRAVEL_MODE)
    profiles = {s.profile: _matrix(provider, points, s.profile)
                for s in routing_shifts if s.profile != rt.DEFAULT_PROFILE}
    links, anchors = _links(session, index)
    routing_visits = [_anchored(v, anchors.get(v.id), start) for v in routing_visits]
    problem = rt.RoutingProblem(
        visits=_hold_pinned_times(routing_visits, visits, routing_shifts,
                                  {rt.DEFAULT_PROFILE: matrix, **profiles}, start),
        shifts=tuple(routing_shifts),
        travel=matrix,
        late_policy=late_policy,
        seed=seed,
        links=links,
        travel_profiles=profiles,
    )
    index.partners = pairs.partners(problem)
    return problem, index


def _profile(mode: str) -> str:
    """A worker's travel profile: the problem's own matrix for car, else their mode's."""
    return rt.DEFAULT_PROFILE if mode == TRAVEL_MODE else mode


def _matrix(provider: TravelTimeProvider, points: list[tuple[float, float]],
            profile: str) -> np.ndarray:
    mode = TRAVEL_MODE if profile == rt.DEFAULT_PROFILE else profile
    if not points:
        return np.zeros((1, 1), dtype=np.int64)
    return provider.matrix(points, points, mode=mode)


Anchor = tuple[datetime, int, int]  # partner's start, min and max gap (s) from it


def _links(session: so.Session, index: ProblemIndex
           ) -> tuple[tuple[rt.Link, ...], dict[str, Anchor]]:
    """The links between the problem's visits, as the scheduler's (gaps in seconds), and
    the anchors of visits whose partner is already under way (not in the problem).

    A half whose partner is under way must still start at the partner's time (a second carer
    joining a hoist transfer): its window is tied to the partner's start (:func:`_anchored`),
    so a re-plan cannot move it elsewhere in the day. A partner closed (completed, cancelled)
    ties nothing.
    """
    ids = {row: vid for vid, row in index.visits.items()}
    out: list[rt.Link] = []
    used: set[str] = set()
    anchors: dict[str, Anchor] = {}
    for row in visit_pairs.links_among(session, ids):
        first, second = ids.get(row.first_visit_id), ids.get(row.second_visit_id)
        low, high = row.min_gap_minutes * 60, row.max_gap_minutes * 60
        if first is None or second is None:
            mine = first or second
            other = session.get(Visit, row.partner_of(index.visits[mine])) if mine else None
            if mine is not None and other is not None and other.status in UNDER_WAY:
                began = other.arrived_at or other.planned_start
                if began is not None:
                    # start(second) - start(first) in [low, high], seen from this half.
                    anchors[mine] = (began, low, high) if second == mine else \
                        (began, -high, -low)
            continue
        if {first, second} & used:
            continue
        used |= {first, second}
        out.append(rt.Link(first=first, second=second, min_gap=low, max_gap=high,
                           workers=cast(rt.LinkWorkers, row.workers)))
    return tuple(out), anchors


def _anchored(visit: rt.Visit, anchor: Anchor | None, start: datetime) -> rt.Visit:
    """``visit`` with its window tied to its under-way partner's start (late if it must be,
    at the lateness cost: the partner is waiting)."""
    if anchor is None:
        return visit
    began, low, high = anchor
    at = seconds_between(start, began)
    earliest = max(0, at + low)
    deadline = max(earliest, at + high)
    return replace(visit, earliest=earliest, deadline=deadline, late_limit=None,
                   late_workers=frozenset())


def current_plan(
    session: so.Session, problem: rt.RoutingProblem, index: ProblemIndex
) -> rt.RoutingPlan:
    """The assignments as they stand, as a plan the solver can warm-start from."""
    by_row = {row_id: vid for vid, row_id in index.visits.items()}
    shift_of_row = {row_id: sid for sid, row_id in index.shifts.items()}
    visits = session.scalars(sa.select(Visit).where(Visit.id.in_(by_row))).all()
    stops: dict[str, list[tuple[int, rt.Stop]]] = {}
    for visit in visits:
        sid = shift_of_row.get(visit.shift_id or -1)
        if sid is None or visit.assigned_staff_id is None or visit.status == "unassigned":
            continue
        start = seconds_between(index.start, visit.planned_start or index.start)
        stop = rt.Stop(by_row[visit.id], start, start, start + visit.duration_minutes * 60)
        stops.setdefault(sid, []).append((start, stop))
    routes = []
    for shift in problem.shifts:
        ordered = tuple(stop for _, stop in sorted(stops.get(shift.id, []), key=lambda p: p[0]))
        if ordered:
            routes.append(rt.Route(shift_id=shift.id, worker_id=shift.worker_id, stops=ordered))
    return rt.RoutingPlan(
        routes=tuple(routes),
        unassigned=(),
        travel_total=0,
        distance_total=0.0,
        vehicles_used=len(routes),
        objective=0,
        seconds=0.0,
    )


def _hold_pinned_times(
    routing_visits: list[rt.Visit],
    rows: list[Visit],
    shifts: list[rt.Shift],
    matrices: dict[str, np.ndarray],
    start: datetime,
) -> tuple[rt.Visit, ...]:
    """A visit a coordinator pinned (assigned or offered, ``pinned``) keeps its time too.

    Why (issue 20, hazard H-013): the plan used to keep only the worker, place the visit
    elsewhere in its head, never write that back, and book other visits into the slot the
    worker had been given. Its window is now the pinned minute: fixed (``pinned_start``) when
    the worker can get there from where they are free and home by the end of the shift, else
    as soon after it as they can (late at the lateness cost, so the network stays solvable;
    apply writes the new time back and the worker is told).
    """
    by_id = {str(row.id): row for row in rows}
    shifts_by_id = {s.id: s for s in shifts}
    out = []
    for visit in routing_visits:
        row = by_id[visit.id]
        shift = shifts_by_id.get(visit.pinned_to or "")
        if (shift is None or not row.pinned or row.status not in PLANNABLE
                or row.planned_start is None):
            out.append(visit)
            continue
        at = max(0, seconds_between(start, row.planned_start))
        matrix = matrices[shift.profile]
        reachable = shift.start + int(matrix[shift.start_location, visit.location]) <= at
        home = at + visit.duration + int(matrix[visit.location, shift.end_location]) <= shift.end
        out.append(replace(
            visit, earliest=at, deadline=at,
            pinned_start=at if reachable and home else None))
    return tuple(out)


def _open_visits(
    session: so.Session, network_id: int | None, end: datetime, include: Collection[int] = ()
) -> list[Visit]:
    stmt = (
        sa.select(Visit)
        .where(Visit.status.in_(PLANNABLE + PINNED + UNDER_WAY), Visit.earliest_start < end)
        .order_by(Visit.deadline, Visit.id)
    )
    if network_id is not None:
        mine = Visit.network_id == network_id
        stmt = stmt.where(sa.or_(mine, Visit.id.in_(list(include))) if include else mine)
    return list(session.scalars(stmt))


def _partners_elsewhere(session: so.Session, visits: list[Visit]) -> list[Visit]:
    """The open partners of linked visits that the network filter (or the horizon) left
    out: a pair is planned together, never one half alone (H-130), even when cover moved
    one half to another network."""
    have = {v.id for v in visits}
    open_ids = [v.id for v in visits if v.status in PLANNABLE + PINNED]
    wanted = {row.partner_of(row.first_visit_id if row.first_visit_id in have
                             else row.second_visit_id)
              for row in visit_pairs.links_among(session, open_ids)} - have
    if not wanted:
        return []
    return list(session.scalars(sa.select(Visit).where(
        Visit.id.in_(wanted), Visit.status.in_(PLANNABLE + PINNED + UNDER_WAY))
        .order_by(Visit.deadline, Visit.id)))


def rostered_shifts(
    session: so.Session, network_id: int | None, now: datetime, end: datetime
) -> list[Shift]:
    """Field staff's shifts overlapping ``now``-``end`` (active staff; one network's or all):
    the roster the planner plans on, also read by the tier cover check (H-232-C2)."""
    stmt = (
        sa.select(Shift)
        .join(Staff, Staff.id == Shift.staff_id)
        .where(
            Shift.ends_at > now,
            Shift.starts_at < end,
            Staff.active.is_(True),
            Staff.role.in_(FIELD_ROLES),
        )
        .order_by(Shift.starts_at, Shift.id)
    )
    if network_id is not None:
        stmt = stmt.where(Staff.network_id == network_id)
    return list(session.scalars(stmt))


def absences_of(session: so.Session, staff_ids: set[int], now: datetime, end: datetime
              ) -> dict[int, list[tuple[datetime, datetime]]]:
    """Absences not cancelled of these workers in the horizon (dispatch.services.absence)."""
    out: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    rows = session.execute(sa.select(Absence.staff_id, Absence.starts_at, Absence.ends_at).where(
        Absence.cancelled_at.is_(None), Absence.starts_at < end, Absence.ends_at > now,
        Absence.staff_id.in_(sorted(staff_ids))))
    for staff_id, starts_at, ends_at in rows:
        out[staff_id].append((starts_at, ends_at))
    return out


def around_absences(
    away: list[tuple[datetime, datetime]], free_at: datetime, finish: datetime,
) -> tuple[datetime, datetime, list[tuple[datetime, datetime]]]:
    """The working window without the worker's absences: one covering the start moves the
    start later, one running to the end brings the end forward, one inside is a fixed break
    (so the worker gets no visit in it). Returns (start, end, breaks)."""
    inside = []
    for a_start, a_end in sorted(away):
        if a_start <= free_at < a_end:
            free_at = a_end
        elif a_start < finish <= a_end:
            finish = a_start
    for a_start, a_end in sorted(away):
        if free_at < a_start and a_end < finish:
            inside.append((a_start, a_end))
    return free_at, finish, inside


def _breaks(
    shift: Shift, start: datetime, free_at: datetime, finish: datetime
) -> tuple[rt.Break, ...]:
    out = []
    for item in shift.breaks:
        b_start = datetime.fromisoformat(item["start"])
        b_end = datetime.fromisoformat(item["end"])
        length = b_end - b_start
        earliest = max(b_start - BREAK_FLEX, free_at)
        latest = min(b_start + BREAK_FLEX, finish - length)
        if earliest > latest or b_end <= free_at:
            continue  # already taken, or no longer fits
        out.append(
            rt.Break(
                start_min=seconds_between(start, earliest),
                start_max=seconds_between(start, latest),
                duration=int(length.total_seconds()),
            )
        )
    return tuple(out)


def _under_way(
    visits: list[Visit], patients: dict[int, Patient], now: datetime
) -> dict[int, tuple[tuple[float, float], datetime]]:
    """Workers busy with a visit: where they will be and when they will be free."""
    busy = {}
    for visit in visits:
        if visit.status not in UNDER_WAY or visit.assigned_staff_id is None:
            continue
        patient = patients[visit.patient_id]
        if patient.lat is None or patient.lon is None:
            continue
        began = visit.arrived_at or visit.planned_start or now
        busy[visit.assigned_staff_id] = (
            (patient.lat, patient.lon),
            max(now, began + timedelta(minutes=visit.duration_minutes)),
        )
    return busy


def _last_completed(
    session: so.Session, staff_ids: set[int], now: datetime
) -> dict[int, tuple[tuple[float, float], datetime]]:
    """Where and when each worker finished their latest visit (before ``now``)."""
    if not staff_ids:
        return {}
    rows = session.execute(
        sa.select(Visit.assigned_staff_id, Visit.completed_at, Patient.lat, Patient.lon)
        .join(Patient, Patient.id == Visit.patient_id)
        .where(
            Visit.assigned_staff_id.in_(staff_ids),
            Visit.status == "completed",
            Visit.completed_at.is_not(None),
            Visit.completed_at <= now,
            Patient.lat.is_not(None),
            Patient.lon.is_not(None),
        )
        .order_by(Visit.completed_at)
    ).all()
    return {row.assigned_staff_id: ((row.lat, row.lon), row.completed_at) for row in rows}


def _previous_carers(session: so.Session, patient_ids: set[int]) -> dict[int, set[str]]:
    """Who has completed a visit to each patient: continuity of carer is preferred."""
    if not patient_ids:
        return {}
    rows = session.execute(
        sa.select(Visit.patient_id, Visit.assigned_staff_id).where(
            Visit.patient_id.in_(patient_ids),
            Visit.status == "completed",
            Visit.assigned_staff_id.is_not(None),
        )
    ).all()
    carers: dict[int, set[str]] = defaultdict(set)
    for patient_id, staff_id in rows:
        carers[patient_id].add(str(staff_id))
    return carers


def _visit(
    visit: Visit,
    vid: str,
    loc: int,
    start: datetime,
    shifts_of_staff: dict[int, list[str]],
    preferred: set[str],
    group: str | None = None,
    spared: frozenset[str] = frozenset(),
) -> rt.Visit:
    earliest = max(0, seconds_between(start, visit.earliest_start))
    deadline = max(earliest, seconds_between(start, visit.deadline))
    pinned_to = pinned_start = None
    committed = visit.status in PINNED or (visit.pinned and visit.status in PLANNABLE)
    options = shifts_of_staff.get(visit.assigned_staff_id or -1, [])
    if committed and options:
        pinned_to = str(visit.shift_id) if str(visit.shift_id) in options else options[0]
        # An accepted visit keeps only the worker, not the minute: the plan may move it within
        # its window (the worker is told, see apply). Not before the agreed time would
        # ratchet: each re-plan round an urgent visit could push it later and never bring it
        # back. A coordinator's pin keeps the minute too (_hold_pinned_times).
    if visit.status in states.VISIT_PROPOSED_STATUSES and visit.assigned_staff_id is not None:
        # Stickiness: the worker already offered this visit is preferred, so re-optimising
        # moves an offer only for a real gain (the continuity cost), not to shave seconds.
        preferred = preferred | {str(visit.assigned_staff_id)}
    late_limit, late_workers = _late_bounds(visit, start, earliest, deadline, committed)
    return rt.Visit(
        id=vid,
        location=loc,
        duration=visit.duration_minutes * 60,
        earliest=earliest,
        deadline=deadline,
        priority=visit.priority,
        skills=frozenset(visit.skills),
        pinned_to=pinned_to,
        pinned_start=pinned_start,
        excluded_workers=frozenset(str(s) for s in visit.excluded_staff_ids),
        preferred_workers=frozenset(preferred),
        avoided_workers=frozenset(str(s) for s in visit.unanswered_staff_ids or ()),
        spared_workers=spared,
        late_limit=late_limit,
        late_workers=late_workers,
        group=group,
    )


def _spared(visit: Visit, skills_of_worker: dict[str, frozenset[str]]) -> frozenset[str]:
    """The workers ``visit`` spares (``rosters.roles.spares``: nurses for work a hybrid worker
    can do). Never for a 2-hour visit: whoever can reach a person in crisis soonest goes (the
    skill-mix cost weighs an hour; on a 2-hour visit it would buy up to an hour's wait)."""
    if is_urgent(visit):
        return frozenset()
    needed = frozenset(visit.skills)
    return frozenset(w for w, skills in skills_of_worker.items() if spares(skills, needed))


def _tier_group(rules: dict[int, strata.TierRules], visit: Visit,
                tier: str | None) -> str | None:
    """The visit's tier as a routing eligibility group; None (anyone skilled) when its
    network's rules exempt it (a 2-hour visit: ``urgent_any_tier``)."""
    if not rules.get(visit.network_id or -1, strata.DEFAULT_RULES).applies_to(visit.priority):
        return None
    return strata.group_of(tier)


def _late_bounds(
    visit: Visit, start: datetime, earliest: int, deadline: int, committed: bool
) -> tuple[int | None, frozenset[str]]:
    """How late the plan may start ``visit`` (hazard H-006).

    A 2-hour visit is never planned after its deadline unless a coordinator decided so
    (``late_allowed_until`` with ``late_allowed_staff_id``, see
    :mod:`dispatch.planning.jeopardy`): before, under ``serve_late`` a 2-hour visit due at
    00:43 whose only reachable worker declined was quietly offered for 07:06 the next morning.
    Other visits may still be served late (a 24-hour visit an hour late is better than not
    at all; the deadline watch reports it). A committed visit keeps its worker (late only at
    the lateness cost, as before): its worker has taken it on.
    """
    if committed or visit.priority > rt.PRIORITY_URGENT_2H:
        return None, frozenset()
    if visit.late_allowed_until is None:
        return deadline, frozenset()
    limit = max(earliest, seconds_between(start, visit.late_allowed_until))
    workers = (frozenset({str(visit.late_allowed_staff_id)})
               if visit.late_allowed_staff_id is not None else frozenset())
    return limit, workers


def is_urgent(visit: Visit) -> bool:
    """A 2-hour visit (by priority, as the planner sees it)."""
    return visit.priority <= rt.PRIORITY_URGENT_2H
