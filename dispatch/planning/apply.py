"""Writing a plan back: assignments through the visit state machine (which queues the SMS).

Only what changed is touched. Accepted visits keep their worker and follow the plan's time; a
visit a coordinator pinned keeps its worker and its time (the plan moves it only when the
worker cannot be there then, and that new time is written back); a visit kept by the same
worker only has its planned time updated; a visit moved to another worker, or newly placed,
is (re-)assigned and offered by SMS; a visit the plan could not place loses its worker and is
left for the deadline watch to escalate.

One person, one place (hazard H-013): the plan's workers are locked first (in id order, so two
appliers cannot deadlock), each booking written is checked against that worker's bookings
outside the plan (travel included) and skipped if it clashes, and after the last write the
whole apply is checked again (:mod:`dispatch.planning.invariants`). If any worker is left with
two visits they cannot both do, the apply is refused: rolled back to before it started,
logged as an error with the visit ids, and reported in :attr:`ApplyReport.refused`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models import Patient, Shift, Staff, Visit
from dispatch.planning import invariants
from dispatch.planning.invariants import lock_worker
from dispatch.planning.problem import ProblemIndex
from dispatch.services import visit_actions
from routing.types import RoutingPlan

log = logging.getLogger(__name__)

MOVABLE = ("unassigned", "assigned", "offered")
#: The category whose visits are always offered at once (never booked provisionally).
URGENT_CATEGORY = "urgent_2h"
#: How many times a plan is written at least, holding back more visits each time, before it
#: is refused as a double booking; a plan is written again as long as each round holds back
#: visits not held back before (a chain of skipped moves can need a round per two links).
APPLY_ATTEMPTS = 3


@dataclass
class ApplyReport:
    assigned: int = 0
    reassigned: int = 0
    retimed: int = 0
    unassigned: int = 0
    kept: int = 0
    conflicts: int = 0  # placements skipped because the worker was booked meanwhile
    #: Why the whole apply was refused (nothing written): the double bookings it would leave.
    refused: tuple[str, ...] = field(default=())
    #: Visits left as they stood so the rest of the plan could be written (see apply_plan).
    held_back: int = 0


def _changed_since_planning(visit: Visit, index: ProblemIndex) -> bool:
    """A coordinator (or a reply) changed the visit after the problem was built."""
    seen = index.versions.get(visit.id)
    return seen is not None and visit.version != seen


class _Bookings:
    """The plan's workers' bookings the plan does not move, to check each write against."""

    def __init__(self, session: so.Session, staff_ids: set[int], moved: set[int],
                 now: datetime, travel: invariants.Travel) -> None:
        self.session, self.now, self.travel = session, now, travel
        self.fixed = invariants.holdings(session, staff_ids, now, exclude=moved)

    def clash(self, visit: Visit, staff: Staff, start: datetime) -> list[int]:
        """Visits outside the plan that ``visit`` at ``start`` for ``staff`` would clash with."""
        where = invariants.location_of(self.session.get(Patient, visit.patient_id))
        candidate = invariants.Held(visit.id, staff.id, start,
                                    start + timedelta(minutes=visit.duration_minutes), where)
        return invariants.clashes_with(candidate, self.fixed, self.travel)


def apply_plan(
    session: so.Session,
    *,
    plan: RoutingPlan,
    index: ProblemIndex,
    now: datetime,
    base_url: str | None = None,
    offer_before: datetime | None = None,
) -> ApplyReport:
    """Make the database follow ``plan`` (flushes; the caller commits).

    ``offer_before``: a visit planned to start at or after it is booked provisionally
    (``assigned``, its worker not told: the week's plan for later days, or the live planner's
    work beyond its offer lead, ``pipeline.Options.offer_lead``); one before it, every 2-hour
    visit, or every visit when ``None``, is offered by SMS, a provisional booking included.
    When the plan as written would leave a worker double-booked with a visit it did not
    write (a write skipped because its worker was booked meanwhile leaves its visit in a slot
    the plan gave to another), the written visits in those clashes are held back (left as
    they stand, counted as bookings the rest must fit round) and the plan applied again, as
    long as each round holds back something new (H-235-C3: a refused apply lost the whole plan,
    urgent placements with it; three rounds were too few for a chain of moves round an
    accepted visit the plan could not fit). Refused as a whole (nothing written, ``refused``
    says why) if it still would, or if two visits the plan wrote clash with each other (the
    plan contradicts itself).
    """
    held_back: set[int] = set()
    # Each round holds back at least one more visit, so the rounds are bounded by the plan.
    rounds = max(APPLY_ATTEMPTS, sum(len(r.stops) for r in plan.routes) + 1)
    for _ in range(rounds):
        savepoint = session.begin_nested()
        try:
            report, written = _apply(session, plan=plan, index=index, now=now,
                                     base_url=base_url, offer_before=offer_before,
                                     held_back=frozenset(held_back))
            session.flush()
            clashes = _check(session, written, now, index)
        except BaseException:
            savepoint.rollback()
            raise
        if not clashes:
            savepoint.commit()
            report.held_back = len(held_back)
            return report
        savepoint.rollback()
        if any(c.first in written and c.second in written for c in clashes):
            break  # the plan contradicts itself: a solver fault, refused whole
        # Never empty, never held back before (held-back visits are not written): each round
        # holds back more, so the rounds above always suffice.
        held_back |= {v for c in clashes for v in (c.first, c.second) if v in written}
    refused = tuple(str(c) for c in clashes)
    log.error("plan apply refused, it would double-book: %s", "; ".join(refused))
    return ApplyReport(refused=refused)


def _check(
    session: so.Session, written: set[int], now: datetime, index: ProblemIndex
) -> list[invariants.Clash]:
    """The double bookings among the written visits' workers that involve a written visit."""
    if not written:
        return []
    staff_ids = {
        v.assigned_staff_id for v in (session.get(Visit, i) for i in written)
        if v is not None and v.assigned_staff_id is not None
    }
    found = invariants.worker_clashes(session, staff_ids=staff_ids, now=now,
                                      provider=index.provider)
    ours = [c for c in found if c.first in written or c.second in written]
    for clash in found:
        if clash not in ours:  # not this plan's doing (a field overrun, a manual booking)
            log.warning("double booking left as it was: %s", clash)
    return ours


def _apply(
    session: so.Session,
    *,
    plan: RoutingPlan,
    index: ProblemIndex,
    now: datetime,
    base_url: str | None,
    offer_before: datetime | None = None,
    held_back: frozenset[int] = frozenset(),
) -> tuple[ApplyReport, set[int]]:
    report = ApplyReport()
    written: set[int] = set()
    # The plan is conflict-free within itself; only bookings outside it can clash.
    in_plan = {index.visits[s.visit_id] for r in plan.routes for s in r.stops}
    staff_ids = {index.staff_of_shift[r.shift_id] for r in plan.routes}
    for staff_id in sorted(staff_ids):
        # Under the workers' row locks, check against what is committed now: a coordinator
        # may have booked one of them since the plan was computed.
        lock_worker(session, staff_id)
    # Read the plan's visits afresh under the locks: one a coordinator changed while we
    # solved keeps its own booking, which the rest of the plan must then fit round.
    fresh = session.scalars(
        sa.select(Visit).where(Visit.id.in_(in_plan)).execution_options(populate_existing=True)
    ).all()
    ours = in_plan - {v.id for v in fresh if _changed_since_planning(v, index)}
    # The visits the plan takes off their workers (written after the routes, below) do not
    # hold those workers for the plan's bookings: the plan puts other visits in their place.
    # Counted as fixed, the first visit moved into such a slot was skipped as a clash and the
    # rest of its route written round it, and the whole apply was refused as a double
    # booking (a from-scratch plan over the standing offers: 9 of 10 refused at London scale).
    ours |= _released(session, plan, index)
    ours -= held_back  # left as they stand: the rest of the plan fits round them
    bookings = _Bookings(session, staff_ids, ours, now,
                         invariants.Travel(index.provider, index.modes))
    displaced: list[Visit] = []  # moves skipped: the visit is still in the slot it had
    for route in plan.routes:
        shift = session.get(Shift, index.shifts[route.shift_id])
        staff = session.get(Staff, index.staff_of_shift[route.shift_id])
        assert shift is not None and staff is not None
        for stop in route.stops:
            visit = session.get(Visit, index.visits[stop.visit_id])
            planned = index.at(stop.start)
            if visit is None or visit.id in held_back:
                report.kept += 1
                continue
            same_worker = visit.assigned_staff_id == staff.id
            unchanged = not _changed_since_planning(visit, index)
            moves = visit.planned_start != planned
            if visit.status == "accepted" and same_worker and unchanged:
                # Kept by its worker; only its place in their day follows the plan.
                if moves and bookings.clash(visit, staff, planned):
                    report.conflicts += 1
                    continue
                retimed = visit_actions.retime_accepted(session, visit=visit,
                                                        planned_start=planned, now=now)
                report.retimed += retimed
                report.kept += not retimed
                if retimed:
                    written.add(visit.id)
                continue
            if visit.status not in MOVABLE or (visit.pinned and not same_worker):
                report.kept += 1
                continue
            if not unchanged:
                report.conflicts += 1  # someone changed it while we solved: theirs stands
                continue
            # A 2-hour visit is never left provisional: its worker is told at once.
            offer = (offer_before is None or planned < offer_before
                     or visit.category == URGENT_CATEGORY)
            # A provisional booking (the week's plan) is offered once its day is near.
            due = visit.status == "assigned" and offer
            if same_worker:
                if not moves and visit.shift_id == shift.id and not due:
                    report.kept += 1
                    continue
                if bookings.clash(visit, staff, planned):
                    report.conflicts += 1
                    continue
                if visit.status == "offered" or due:
                    # A pinned visit moves only when its worker cannot be there at the pinned
                    # time; assign() re-times it and texts the worker if it moved a lot.
                    visit_actions.assign(session, visit=visit, staff=staff, shift=shift,
                                         planned_start=planned, now=now, base_url=base_url)
                else:
                    visit.planned_start, visit.shift_id = planned, shift.id
                report.retimed += 1
                written.add(visit.id)
                continue
            if bookings.clash(visit, staff, planned):
                report.conflicts += 1
                if visit.assigned_staff_id is not None:
                    displaced.append(visit)
                continue
            was_assigned = visit.assigned_staff_id is not None
            if offer:
                visit_actions.assign(session, visit=visit, staff=staff, shift=shift,
                                     planned_start=planned, now=now, base_url=base_url)
            else:
                # Beyond the lead: booked provisionally, told when it comes within the lead. A
                # live offer moved to someone else is withdrawn from its old worker (texted):
                # left with them, the visits the plan put in its slot would double-book them
                # and the whole apply was refused (H-235-C1).
                visit_actions.propose(session, visit=visit, staff=staff, shift=shift,
                                      planned_start=planned, now=now)
            written.add(visit.id)
            if was_assigned:
                report.reassigned += 1
            else:
                report.assigned += 1
    report.unassigned += _release_displaced(session, displaced, written, now, index)
    for item in plan.unassigned:
        visit = session.get(Visit, index.visits[item.visit_id])
        if visit is not None and visit.id in held_back:
            report.kept += 1
            continue
        if visit is not None and _changed_since_planning(visit, index):
            report.conflicts += 1
            continue
        if visit is not None and visit.status in ("assigned", "offered") and not visit.pinned:
            visit_actions.unassign(session, visit=visit, now=now, reason=item.reason)
            report.unassigned += 1
        elif visit is not None and item.visit_id in index.partners and visit.status in (
                "assigned", "offered", "accepted"):
            # One half of a linked pair is never kept alone, even accepted or pinned (H-100):
            # its partner cannot be served, so its worker is told it is withdrawn.
            visit_actions.unassign(session, visit=visit, now=now, reason=item.reason)
            report.unassigned += 1
    _tell_pairs(session, written, index, now, base_url)
    _record_reasons(session, plan=plan, index=index)
    return report, written


def _release_displaced(session: so.Session, displaced: list[Visit], written: set[int],
                       now: datetime, index: ProblemIndex) -> int:
    """Take off its old worker each visit whose move was skipped (its new worker was booked
    meanwhile) when the plan put another visit in the slot it left: kept there, the two would
    double-book the worker and the whole apply be refused. Released, it waits for the next
    placement (and the deadline watch); its worker is told if they knew. Returns how many."""
    released = 0
    for visit in displaced:
        if visit.status not in ("assigned", "offered") or visit.assigned_staff_id is None:
            continue
        found = invariants.worker_clashes(session, staff_ids={visit.assigned_staff_id},
                                          now=now, provider=index.provider)
        if any(visit.id in (c.first, c.second) and {c.first, c.second} & written
               for c in found):
            visit_actions.unassign(session, visit=visit, now=now,
                                   reason="planned for a worker booked meanwhile; its slot "
                                          "went to another visit")
            released += 1
    return released


def _released(session: so.Session, plan: RoutingPlan, index: ProblemIndex) -> set[int]:
    """The visits ``plan`` leaves unplaced that the apply will take off their worker (the
    rules of the unassigned loop in :func:`_apply`, read afresh under the workers' locks)."""
    keys = {index.visits[u.visit_id]: u.visit_id for u in plan.unassigned
            if u.visit_id in index.visits}
    if not keys:
        return set()
    released = set()
    for visit in session.scalars(sa.select(Visit).where(Visit.id.in_(keys))):
        if _changed_since_planning(visit, index):
            continue
        if (visit.status in ("assigned", "offered") and not visit.pinned) or (
                keys[visit.id] in index.partners
                and visit.status in ("assigned", "offered", "accepted")):
            released.add(visit.id)
    return released


def _tell_pairs(session: so.Session, written: set[int], index: ProblemIndex, now: datetime,
                base_url: str | None) -> None:
    """Each newly offered half of a pair names its partner's worker in its offer text: the
    halves are offered in route order, so the first was written before its partner had one."""
    linked = {index.visits[v] for v in index.partners}
    for visit_id in sorted(written & linked):
        visit = session.get(Visit, visit_id)
        if visit is not None and visit.status == "offered":
            visit_actions.refresh_offer_text(session, visit=visit, now=now, base_url=base_url)


def _record_reasons(session: so.Session, *, plan: RoutingPlan, index: ProblemIndex) -> None:
    """Store the planner's reason on each visit it left unassigned or planned late (issue 14:
    ``unassigned_reason``), and clear it on those it placed in time. Only a changed value is
    written (the visit's version moves only then)."""
    reasons: dict[int, str | None] = {}
    for route in plan.routes:
        for stop in route.stops:
            visit = session.get(Visit, index.visits[stop.visit_id])
            if visit is None or visit.planned_start is None:
                continue
            late = int((visit.planned_start - visit.deadline).total_seconds() // 60)
            reasons[visit.id] = (
                f"planned {late} min after its deadline: no one could reach it sooner"
                if late > 0 and visit.assigned_staff_id is not None else None)
    for item in plan.unassigned:
        visit = session.get(Visit, index.visits[item.visit_id])
        if visit is not None and visit.status == "unassigned":
            reasons[visit.id] = item.reason[:300]
    for visit_id, reason in reasons.items():
        visit = session.get(Visit, visit_id)
        if visit is not None and visit.unassigned_reason != reason:
            visit.unassigned_reason = reason
