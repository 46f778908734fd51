"""A 2-hour visit nobody can reach in time: cover on capacity, else a person decides (H-006).

The planner never plans a 2-hour visit to start after its deadline on its own
(:func:`dispatch.planning.problem._late_bounds`). When a planning run leaves one unplaced:

1. :func:`dispatch.services.cover.find_cover` tries the other networks' rostered workers,
   nearest first, with a real insertion into each team's current plan before the deadline;
2. failing that, the visit is in jeopardy at once (cause ``needs_decision``, not at the
   deadline watch's next threshold), audited, and the network's on-call coordinator is
   texted the reference and "needs a decision" (nothing about the patient); a visit whose
   window opens more than :data:`DECISION_LEAD` ahead is left to the planner for now;
3. the coordinator sees the choices (:func:`options`: late by N minutes with worker X, the
   earliest feasible start for each, computed; cover from network Y; hand back to 111/999)
   on the board's visit page and records one (:func:`decide`, also
   ``POST /api/visits/{id}/jeopardy-decision``), audited. ``allow_late`` lets the planner
   serve it late with that worker, up to that limit, and no later.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import states
from dispatch.actors import SYSTEM, Actor
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.models import Network, Referral, Staff, Visit
from dispatch.planning.problem import (
    FIELD_ROLES,
    ProblemIndex,
    build_problem,
    current_plan,
    is_urgent,
    seconds_between,
)
from dispatch.services import audit, cover, visit_actions
from dispatch.services.referrals import visit_reason
from dispatch.sms.escalation import clear_visit_escalations, escalate_visit
from routing.insertion import cheapest_insertion
from routing.screening import screen
from routing.travel import TravelTimeProvider
from routing.types import Route, RoutingPlan, RoutingProblem, Stop

NEEDS_DECISION = "needs_decision"
CHOICES = ("allow_late", "cover", "hand_back")
#: Time budget for each network's insertion when looking for cover.
COVER_SECONDS = 0.5
#: At most this many late options (earliest first) and cover networks are offered.
MAX_OPTIONS = 5
#: Other networks whose workers are asked for a late option (nearest first).
LATE_NETWORKS = 3
#: The longest lateness a coordinator may allow (beyond it, hand the patient back).
MAX_LATE_MINUTES = 12 * 60
#: A visit whose window opens later than this is not escalated yet: tomorrow's roster may
#: not be loaded (an out-of-hours referral booked for 08:00-10:00, seen at 20:33 on the
#: heavy simulated day, was handed back for want of a morning shift that did not exist yet).
#: The planner keeps trying it, and the deadline watch reports it if it stays unassigned.
DECISION_LEAD = timedelta(hours=2)
DECIDABLE = ("unassigned", "assigned", "offered")
#: The deadline watch's cause for a visit planned to start after its deadline.
LATE_ARRIVAL = "late_arrival"


def awaiting_decision(visit: Visit, cause: str | None = None) -> bool:
    """Whether the on-call coordinator is asked to decide on ``visit``: a 2-hour visit nobody
    can reach in time (``needs_decision``), or one its worker accepted that the plan now
    starts after its deadline (H-041: an overrun or another accepted visit pushed it; the
    worker keeps it unless someone decides otherwise). ``cause``: the cause to judge by
    (default: the stored one)."""
    cause = visit.jeopardy_cause if cause is None else cause
    if cause == NEEDS_DECISION:
        return True
    return cause == LATE_ARRIVAL and visit.status == "accepted" and is_urgent(visit)


@dataclass(frozen=True)
class LateOption:
    """Worker ``staff_id`` could start the visit at ``start``: ``late_minutes`` late."""

    staff_id: int
    name: str
    network_id: int | None
    arrival: datetime
    start: datetime
    late_minutes: int


@dataclass(frozen=True)
class CoverOption:
    """Another network with the skills on its roster (its coordinator takes the visit on)."""

    network_id: int
    code: str
    name: str


@dataclass(frozen=True)
class Options:
    """The choices shown to the on-call coordinator for one visit."""

    visit_id: int
    late: tuple[LateOption, ...]
    cover: tuple[CoverOption, ...]
    hand_back: bool = True


def after_plan(
    session: so.Session, *, plan: RoutingPlan, index: ProblemIndex, now: datetime,
    provider: TravelTimeProvider, seconds: float = COVER_SECONDS,
) -> list[Visit]:
    """Deal with the 2-hour visits ``plan`` (already applied) could not place in time.

    Each is offered to another network on capacity (:func:`cover.find_cover`); failing that
    it is put in jeopardy at once (:func:`flag`). A visit in ``needs_decision`` that the plan
    did place in time leaves jeopardy. Returns the visits flagged now. Flushes.
    """
    for route in plan.routes:
        for stop in route.stops:
            visit = session.get(Visit, index.visits[stop.visit_id])
            if (visit is not None and visit.jeopardy_cause == NEEDS_DECISION
                    and visit.status in ("assigned", "offered", "accepted")
                    and visit.planned_start is not None
                    and visit.planned_start <= visit.deadline):
                visit.jeopardy_cause, visit.jeopardy_since = None, None
                clear_visit_escalations(session, visit_id=visit.id, now=now)
    flagged = []
    for item in plan.unassigned:
        row_id = index.visits.get(item.visit_id)
        visit = session.get(Visit, row_id) if row_id is not None else None
        if (visit is None or not is_urgent(visit) or visit.status != "unassigned"
                or visit.jeopardy_cause == NEEDS_DECISION
                or visit.earliest_start > now + DECISION_LEAD):
            continue
        home = visit.network_id
        found = cover.find_cover(session, visit, now=now, provider=provider, seconds=seconds)
        if found is not None:
            network = session.get(Network, found.network_id)
            _note_cover(session, visit, (
                f"Cross-cover: no one in {_code(session, home)} could reach it before the "
                f"deadline ({item.reason}); {network.code if network else found.network_id} "
                "has capacity"))
            audit.record(session, actor=SYSTEM, action="cross_cover", now=now,
                         patient_id=visit.patient_id, entity=("visit", visit.id),
                         purpose="dispatch a visit",
                         details={"reference": visit.reference, "from_network_id": home,
                                  "to_network_id": found.network_id,
                                  "staff_id": found.staff_id,
                                  "planned_start": found.planned_start.isoformat()})
            continue
        flag(session, visit=visit, now=now, reason=item.reason)
        flagged.append(visit)
    session.flush()
    return flagged


def flag(session: so.Session, *, visit: Visit, now: datetime, reason: str) -> None:
    """Jeopardy at once: raise one escalation (audited, on the board, texted to the on-call
    coordinator in the grouped text: the reference and "needs a decision", nothing about the
    patient)."""
    visit.jeopardy_cause, visit.jeopardy_since = NEEDS_DECISION, now
    escalate_visit(session, visit=visit, cause=NEEDS_DECISION, now=now,
                   purpose="planner: no one can reach a 2-hour visit before its deadline",
                   details={"reference": visit.reference, "reason": reason})


def options(
    session: so.Session, visit: Visit, *, now: datetime, provider: TravelTimeProvider,
) -> Options:
    """The coordinator's choices for ``visit`` (read-only).

    Late options: for each skilled worker rostered in the planning horizon (the visit's own
    network, then the nearest others), the earliest start the current plan allows when the
    visit is put into their day as it stands (no other visit moves; breaks, shift ends and
    accepted visits kept), earliest first. Cover: other networks with the skills on their
    roster, nearest first.
    """
    late: dict[int, LateOption] = {}
    horizon_end = now + timedelta(hours=24)
    others = cover.networks_by_distance(session, visit, start=now, deadline=horizon_end)
    for network_id in [visit.network_id, *others[:LATE_NETWORKS]]:
        for option in _late_options(session, visit, network_id, now=now, provider=provider):
            best = late.get(option.staff_id)
            if best is None or option.start < best.start:
                late[option.staff_id] = option
    ordered = sorted(late.values(), key=lambda o: (o.start, o.staff_id))[:MAX_OPTIONS]
    networks = {n.id: n for n in session.scalars(sa.select(Network).where(
        Network.id.in_(others)))}
    covers = tuple(CoverOption(n, networks[n].code, networks[n].name)
                   for n in others[:MAX_OPTIONS] if n in networks)
    return Options(visit.id, tuple(ordered), covers)


def options_for(
    session: so.Session, visit_id: int, *, now: datetime, provider: TravelTimeProvider,
) -> Options:
    """:func:`options` by visit id. :raise NotFound: no such visit."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"visit {visit_id} not found")
    return options(session, visit, now=now, provider=provider)


def _late_options(
    session: so.Session, visit: Visit, network_id: int | None, *, now: datetime,
    provider: TravelTimeProvider,
) -> list[LateOption]:
    found = []
    for placed in insertions(session, visit, network_id, now=now, provider=provider):
        minutes = max(0, math.ceil((placed.start - visit.deadline).total_seconds() / 60))
        found.append(LateOption(placed.staff.id, placed.staff.name, placed.staff.network_id,
                                placed.arrival, placed.start, minutes))
    return found


@dataclass(frozen=True)
class Insertion:
    """``visit`` put into one eligible worker's shift as their day stands (nothing else moves).

    ``route`` is ``None`` when it does not fit; ``before`` is the shift's route without it
    (``None`` when the shift had nothing planned). Times in ``route`` are seconds from
    ``index.start``.
    """

    staff: Staff
    shift: int  # the index of the shift in ``problem.shifts``
    problem: RoutingProblem
    index: ProblemIndex
    vid: str
    before: Route | None
    route: Route | None

    @property
    def stop(self) -> Stop:
        assert self.route is not None
        return next(s for s in self.route.stops if s.visit_id == self.vid)

    @property
    def start(self) -> datetime:
        return self.index.at(self.stop.start)

    @property
    def arrival(self) -> datetime:
        return self.index.at(self.stop.arrival)


def insertions(
    session: so.Session, visit: Visit, network_id: int | None, *, now: datetime,
    provider: TravelTimeProvider, fitting_only: bool = True, staff_id: int | None = None,
    start: datetime | None = None, without: Collection[int] = (),
) -> list[Insertion]:
    """Each skilled, not excluded worker's earliest place for ``visit`` in the current plan.

    The visit is put into each eligible shift of ``network_id`` (all networks when None) as
    it stands (no other visit moves; breaks, shift ends and accepted visits kept), late if
    need be (the caller says what lateness means). With ``fitting_only`` shifts it does not
    fit are left out; otherwise they come back with ``route`` None. ``staff_id`` looks at
    that worker only; ``start`` holds the visit at that start (a coordinator's choice), so
    the worker's later visits are re-timed round it. ``without`` (visit row ids) takes those
    visits out of their workers' days first, as if they were not there (what a pin costs).
    """
    problem, index = build_problem(session, now=now, provider=provider, network_id=network_id,
                                   include_visits=[visit.id])
    vid = next((k for k, row in index.visits.items() if row == visit.id), None)
    if vid is None:
        return []
    target = dataclasses.replace(problem.visit(vid), late_limit=None, late_workers=frozenset(),
                                 pinned_to=None, pinned_start=None)
    at = None if start is None else seconds_between(index.start, start)
    # Nobody's booked visit moves earlier than booked (their day as it stands): only later.
    booked = {st.visit_id: st.start for r in current_plan(session, problem, index).routes
              for st in r.stops if st.visit_id != vid}
    others = tuple(
        dataclasses.replace(
            v, earliest=max(v.earliest, booked[v.id]),
            deadline=max(v.deadline, v.earliest, booked[v.id]),
            late_limit=None if v.late_limit is None else max(v.late_limit, booked[v.id]))
        if v.id in booked and v.pinned_start is None else v
        for v in problem.visits)
    if start is not None:
        # A coordinator's start: see how late it would make the others (the caller refuses
        # or warns) rather than finding no place at all.
        others = tuple(dataclasses.replace(v, late_limit=None, late_workers=frozenset())
                       for v in others)
    problem = dataclasses.replace(
        problem, late_policy="serve_late",
        visits=tuple(target if v.id == vid else v for v in others))
    screening = screen(problem)
    if start is not None:
        screening = dataclasses.replace(screening,
                                        late=frozenset(v.id for v in problem.visits))
    plan = current_plan(session, problem, index)
    dropped = {vid, *(k for k, row in index.visits.items() if row in set(without))}
    plan = dataclasses.replace(plan, routes=tuple(
        dataclasses.replace(r, stops=tuple(s for s in r.stops if s.visit_id not in dropped))
        for r in plan.routes))
    routes = {r.shift_id: r for r in plan.routes}
    eligible = [k for k, s in enumerate(problem.shifts)
                if target.skills <= s.skills and s.worker_id not in target.excluded_workers
                and (staff_id is None or index.staff_of_shift[s.id] == staff_id)]
    staff = {s.id: s for s in session.scalars(sa.select(Staff).where(
        Staff.id.in_({index.staff_of_shift[problem.shifts[k].id] for k in eligible}),
        Staff.role.in_(FIELD_ROLES), Staff.active.is_(True)))}
    found = []
    for k in eligible:
        member = staff.get(index.staff_of_shift[problem.shifts[k].id])
        if member is None:
            continue
        one = dataclasses.replace(screening, candidates={**screening.candidates, vid: (k,)},
                                  late=screening.late | {vid})
        goal = target if at is None else dataclasses.replace(
            target, pinned_to=problem.shifts[k].id, pinned_start=at)
        placed = cheapest_insertion(problem, one, plan, goal)
        route = placed.route_of(vid) if placed is not None else None
        if route is None and fitting_only:
            continue
        found.append(Insertion(member, k, problem, index, vid,
                               routes.get(problem.shifts[k].id), route))
    return found


def decide(
    session: so.Session, *, visit_id: int, choice: str, actor: Actor, now: datetime,
    staff_id: int | None = None, late_minutes: int | None = None,
    network_id: int | None = None, note: str | None = None,
) -> Visit:
    """Record the on-call coordinator's decision for a visit in jeopardy, audited; flushes.

    - ``allow_late``: ``staff_id`` may start it up to ``late_minutes`` after its deadline
      (the planner then places it with that worker, never later);
    - ``cover``: the visit moves to ``network_id``'s board and planner;
    - ``hand_back``: the visit is cancelled with that reason (the patient is handed back to
      111/999) and its referral, with nothing else open, is marked escalated.

    :raise NotFound: no such visit. :raise Conflict: the visit is closed or under way.
    :raise InvalidInput: a missing or unsuitable worker, lateness or network (field named).
    """
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"visit {visit_id} not found")
    if visit.status not in DECIDABLE and not awaiting_decision(visit):
        raise Conflict(f"visit {visit.reference} is {visit.status.replace('_', ' ')}; "
                       "there is nothing left to decide")
    if choice not in CHOICES:
        raise InvalidInput("invalid choice", errors={"choice": [
            f"must be one of: {', '.join(CHOICES)}"]})
    details: dict[str, object] = {"choice": choice, "reference": visit.reference,
                                  "cause": visit.jeopardy_cause, "note": note}
    if choice == "allow_late":
        staff = _late_worker(session, visit, staff_id, late_minutes)
        assert late_minutes is not None
        if not (visit.status == "accepted" and visit.assigned_staff_id == staff.id):
            # an accepted visit allowed late with its own worker stays with them, untold
            _release(session, visit, now, actor, "coordinator allowed it to run late")
        visit.late_allowed_until = visit.deadline + timedelta(minutes=late_minutes)
        visit.late_allowed_staff_id = staff.id
        if staff.network_id is not None and staff.network_id != visit.network_id:
            visit.network_id = staff.network_id
        details.update(staff_id=staff.id, late_minutes=late_minutes,
                       late_allowed_until=visit.late_allowed_until.isoformat())
    elif choice == "cover":
        network = session.get(Network, network_id) if network_id is not None else None
        if network is None:
            raise InvalidInput("invalid network", errors={"network_id": [
                "required for cover: the id of an existing network"]})
        if network.id == visit.network_id:
            raise InvalidInput("invalid network", errors={"network_id": [
                "must be another network than the visit's own"]})
        _release(session, visit, now, actor, "moved to another network's cover")
        details.update(from_network_id=visit.network_id, network_id=network.id)
        visit.network_id = network.id
        _note_cover(session, visit, f"Cross-cover: the on-call coordinator moved it to "
                                    f"{network.code}")
    else:
        reason = "handed back to 111/999 by the on-call coordinator"
        visit_actions.cancel(session, visit=visit, now=now, actor=actor,
                             reason=f"{reason}: {note}" if note else reason)
        _hand_back_referral(session, visit)
    visit.jeopardy_cause, visit.jeopardy_since = None, None
    audit.record(session, actor=actor, action="jeopardy_decision", now=now,
                 patient_id=visit.patient_id, entity=("visit", visit.id),
                 purpose="decide on a visit in jeopardy", details=details)
    visit_actions._flush(session, visit)
    if choice != "hand_back":
        visit_actions.replan_after_commit(session, visit.network_id)
    return visit


#: The longest note with a request for cover: short enough that why the visit is needed (the
#: needs, after the note in ``visits.reason``) still fits whole (H-064).
COVER_NOTE_LENGTH = 120


@dataclass(frozen=True)
class CoverChoice:
    """A network a coordinator may ask for cover: ``ready`` when a worker there with the
    visit's skills is rostered before its deadline (those come first, nearest first)."""

    network_id: int
    code: str
    name: str
    ready: bool


def cover_choices(session: so.Session, visit: Visit, *, now: datetime) -> list[CoverChoice]:
    """The other networks, those with the skills on their roster before the deadline first
    (nearest base to the patient first), then the rest by name."""
    ready = cover.networks_by_distance(session, visit, start=now,
                                       deadline=max(visit.deadline, now))
    networks = {n.id: n for n in session.scalars(sa.select(Network).order_by(Network.name))
                if n.id != visit.network_id}
    out = [CoverChoice(n, networks[n].code, networks[n].name, True) for n in ready
           if n in networks]
    out += [CoverChoice(n.id, n.code, n.name, False) for n in networks.values()
            if n.id not in ready]
    return out


def ask_cover(
    session: so.Session, *, visit: Visit, network_id: int | None, note: str | None,
    actor: Actor, now: datetime,
) -> Visit:
    """A coordinator asks another network's team to cover an open visit that is unassigned
    or at risk (not only through the jeopardy choice; issue 14): the visit leaves its worker
    if it had one, moves to that network's board and planner with the coordinator's note put
    before why the visit is needed (never instead of it, H-064), leaves jeopardy, and is
    audited (``ask_cover``); that network re-plans after the commit. Flushes.

    :raise Conflict: the visit is closed, or its worker has accepted or started it.
    :raise InvalidInput: no note, a note too long, or no other existing network (field named).
    """
    if visit.status not in DECIDABLE:
        state = visit.status.replace("_", " ")
        raise Conflict(f"visit {visit.reference} is {state}; only a visit that is unassigned, "
                       "assigned or offered can be moved to another network's cover")
    errors: dict[str, list[str]] = {}
    network = session.get(Network, network_id) if network_id is not None else None
    if network is None:
        errors["network_id"] = ["Choose the network you are asking to cover"]
    elif network.id == visit.network_id:
        errors["network_id"] = ["Choose another network than the visit's own"]
    text = " ".join((note or "").split())
    if len(text) < 3:
        errors["note"] = ["Enter a note for the covering team (why you are asking)"]
    elif len(text) > COVER_NOTE_LENGTH:
        errors["note"] = [f"Note must be {COVER_NOTE_LENGTH} characters or fewer"]
    if errors:
        raise InvalidInput("cannot ask for cover", errors=errors)
    assert network is not None
    home = visit.network_id
    _release(session, visit, now, actor, f"moved to {network.code}'s cover")
    visit.network_id = network.id
    visit.jeopardy_cause, visit.jeopardy_since = None, None
    _note_cover(session, visit, f"Cover asked by {_code(session, home)}: {text}")
    audit.record(session, actor=actor, action="ask_cover", now=now,
                 patient_id=visit.patient_id, entity=("visit", visit.id),
                 purpose="ask another network to cover a visit",
                 details={"reference": visit.reference, "from_network_id": home,
                          "to_network_id": network.id, "note": text})
    visit_actions._flush(session, visit)
    visit_actions.replan_after_commit(session, network.id)
    return visit


def _late_worker(
    session: so.Session, visit: Visit, staff_id: int | None, late_minutes: int | None,
) -> Staff:
    errors: dict[str, list[str]] = {}
    staff = session.get(Staff, staff_id) if staff_id is not None else None
    if staff is None:
        errors["staff_id"] = ["required for allow_late: the worker who will go"]
    elif not staff.active or staff.role not in FIELD_ROLES:
        errors["staff_id"] = ["must be an active field worker"]
    elif not set(visit.skills or ()) <= set(staff.skills or ()):
        errors["staff_id"] = ["this worker lacks a skill the visit needs"]
    elif staff.id in (visit.excluded_staff_ids or []):
        errors["staff_id"] = ["this worker declined the visit"]
    if late_minutes is None or not 1 <= late_minutes <= MAX_LATE_MINUTES:
        errors["late_minutes"] = [f"required for allow_late: 1 to {MAX_LATE_MINUTES}"]
    if errors:
        raise InvalidInput("cannot allow this visit to run late", errors=errors)
    assert staff is not None
    return staff


def _release(session: so.Session, visit: Visit, now: datetime, actor: Actor,
             reason: str) -> None:
    if visit.status != "unassigned":
        visit_actions.unassign(session, visit=visit, now=now, reason=reason, actor=actor)


def _hand_back_referral(session: so.Session, visit: Visit) -> None:
    """The referral, with no other open visit, is escalated (handed back, not completed)."""
    referral = session.get(Referral, visit.referral_id) if visit.referral_id else None
    if referral is None or referral.status not in ("scheduled", "in_progress"):
        return
    others = session.scalar(sa.select(sa.func.count()).select_from(Visit).where(
        Visit.referral_id == referral.id, Visit.id != visit.id,
        Visit.status.in_(states.VISIT_OPEN_STATUSES)))
    if not others:
        states.move("referral", referral, "escalated")


def _code(session: so.Session, network_id: int | None) -> str:
    network = session.get(Network, network_id) if network_id else None
    return network.code if network else "its network"


def _note_cover(session: so.Session, visit: Visit, note: str) -> None:
    """Put the cross-cover note before why the visit is needed (the referral's needs, as
    triage gave them), never instead of it: the covering team must still read the reason."""
    referral = session.get(Referral, visit.referral_id) if visit.referral_id else None
    if referral is None:
        visit.reason = _short(f"{note}; {visit.reason}" if visit.reason else note)
        return
    reasons = (referral.disposition or {}).get("reasons") or []
    visit.reason = visit_reason(referral.needs or [], [str(r) for r in reasons], cover=note)


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def moved_visits(session: so.Session, placed: Insertion) -> list[tuple[Visit, datetime, datetime]]:
    """The worker's booked visits that start later with ``placed`` in their day: (visit,
    booked start, new start), one minute or more later."""
    if placed.route is None:
        return []
    moved = []
    for stop in placed.route.stops:
        row = session.get(Visit, placed.index.visits.get(stop.visit_id, -1))
        if stop.visit_id == placed.vid or row is None or row.planned_start is None:
            continue
        new = placed.index.at(stop.start)
        if new - row.planned_start >= timedelta(minutes=1):
            moved.append((row, row.planned_start, new))
    return moved


def moves_for(
    session: so.Session, visit: Visit, staff: Staff, start: datetime, *, now: datetime,
    provider: TravelTimeProvider,
) -> list[tuple[Visit, datetime]] | None:
    """The worker's visits to start later so that ``visit`` can start at ``start`` in their
    day (the ``pushes`` of a candidate), or None when it does not fit their day then."""
    network_id = staff.network_id if staff.network_id is not None else visit.network_id
    for placed in insertions(session, visit, network_id, now=now, provider=provider,
                             staff_id=staff.id, start=start):
        if abs(placed.start - start) < timedelta(minutes=1):
            return [(row, new) for row, _, new in moved_visits(session, placed)]
    return None
