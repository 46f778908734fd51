"""Writing a plan back: assignments through the visit state machine (which queues the SMS).

Only what changed is touched. Pinned (accepted) visits are never moved; a visit kept by the
same worker only has its planned time updated; a visit moved to another worker, or newly
placed, is (re-)assigned and offered by SMS; a visit the plan could not place loses its worker
and is left for the deadline watch to escalate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import orm as so

from dispatch.models import Shift, Staff, Visit
from dispatch.planning.problem import ProblemIndex
from dispatch.services import visit_actions
from dispatch.services.manual import busy_with, lock_worker
from routing.types import RoutingPlan

MOVABLE = ("unassigned", "assigned", "offered")


@dataclass
class ApplyReport:
    assigned: int = 0
    reassigned: int = 0
    retimed: int = 0
    unassigned: int = 0
    kept: int = 0
    conflicts: int = 0  # placements skipped because the worker was booked meanwhile


def _changed_since_planning(visit: Visit, index: ProblemIndex) -> bool:
    """A coordinator (or a reply) changed the visit after the problem was built."""
    seen = index.versions.get(visit.id)
    return seen is not None and visit.version != seen


def apply_plan(
    session: so.Session,
    *,
    plan: RoutingPlan,
    index: ProblemIndex,
    now: datetime,
    base_url: str | None = None,
) -> ApplyReport:
    """Make the database follow ``plan`` (flushes; the caller commits)."""
    report = ApplyReport()
    # The plan is conflict-free within itself; only bookings outside it can clash.
    in_plan = {index.visits[s.visit_id] for r in plan.routes for s in r.stops}
    for route in plan.routes:
        shift = session.get(Shift, index.shifts[route.shift_id])
        staff = session.get(Staff, index.staff_of_shift[route.shift_id])
        assert shift is not None and staff is not None
        for stop in route.stops:
            visit = session.get(Visit, index.visits[stop.visit_id])
            if (visit is not None and visit.status == "accepted"
                    and visit.assigned_staff_id == staff.id
                    and not _changed_since_planning(visit, index)):
                # Kept by its worker; only its place in their day follows the plan.
                moved = visit_actions.retime_accepted(session, visit=visit,
                                                      planned_start=index.at(stop.start), now=now)
                report.retimed += moved
                report.kept += not moved
                continue
            if visit is None or visit.status not in MOVABLE or visit.pinned:
                report.kept += 1
                continue
            if _changed_since_planning(visit, index):
                report.conflicts += 1  # someone changed it while we solved: theirs stands
                continue
            planned = index.at(stop.start)
            if visit.assigned_staff_id == staff.id:
                if visit.planned_start == planned and visit.shift_id == shift.id:
                    report.kept += 1
                elif visit.status == "offered":
                    # assign() re-times and texts the worker only if the window moved a lot
                    visit_actions.assign(
                        session,
                        visit=visit,
                        staff=staff,
                        shift=shift,
                        planned_start=planned,
                        now=now,
                        base_url=base_url,
                    )
                    report.retimed += 1
                else:
                    visit.planned_start, visit.shift_id = planned, shift.id
                    report.retimed += 1
                continue
            was_assigned = visit.assigned_staff_id is not None
            # Under the worker's row lock, re-check against what is committed now: a
            # coordinator may have booked this worker since the plan was computed.
            lock_worker(session, staff.id)
            end = planned + timedelta(minutes=visit.duration_minutes)
            if busy_with(session, staff_id=staff.id, start=planned, end=end, exclude=in_plan):
                report.conflicts += 1
                continue
            visit_actions.assign(
                session,
                visit=visit,
                staff=staff,
                shift=shift,
                planned_start=planned,
                now=now,
                base_url=base_url,
            )
            if was_assigned:
                report.reassigned += 1
            else:
                report.assigned += 1
    for item in plan.unassigned:
        visit = session.get(Visit, index.visits[item.visit_id])
        if visit is not None and _changed_since_planning(visit, index):
            report.conflicts += 1
            continue
        if visit is not None and visit.status in ("assigned", "offered") and not visit.pinned:
            visit_actions.unassign(session, visit=visit, now=now, reason=item.reason)
            report.unassigned += 1
    session.flush()
    return report
