"""The deadline watch: visits in jeopardy get a named cause and are escalated, once.

Run every minute by the scheduler. It looks only at visits due within ``horizon``
(``WATCH_HORIZON_HOURS``, 24 by default): a six-week care package approved today must not raise
an alarm for each of its visits due in January (issue 13, hazard 7; H-007). A visit is in
jeopardy when it is

- ``unassigned`` for longer than the planner needs (``UNASSIGNED_GRACE``), or with its
  deadline close (``DEADLINE_LEAD``);
- ``not_accepted``: offered by SMS and not accepted within ``ACCEPT_TIMEOUT`` (a 2-hour visit:
  ``URGENT_ACCEPT_TIMEOUT``);
- ``late_arrival``: planned to start after its deadline, or past its deadline with nobody on
  site yet (after an on-call coordinator allowed it to run late, the limit they allowed is the
  deadline here: :func:`late_limit`).

Entering jeopardy (or changing cause) is an escalation (:mod:`dispatch.sms.escalation`): one
row per visit version and cause, unique in the database, so two watch runs at once raise it
once; an audit event; and a place in the next grouped text to the network's on-call
coordinator (at most one per ``ESCALATION_TEXT_MINUTES``), which this run sends when it is due.
Leaving jeopardy clears the cause and the visit's open escalations. A 2-hour visit waiting for
the on-call coordinator's decision is followed up: a reminder, then the network's manager
(:mod:`dispatch.services.decision_reminders`, H-040). The text says only references, causes and
deadlines (information governance).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so
from sqlalchemy.orm.exc import StaleDataError

from dispatch.models import Escalation, Visit
from dispatch.services.coordination_check import alert_uncoordinated
from dispatch.services.decision_reminders import accepted_urgent_late, remind_undecided
from dispatch.sms.escalation import CAUSE_TEXT as ALL_CAUSE_TEXT
from dispatch.sms.escalation import clear_visit_escalations, escalate_visit, send_grouped
from routing.types import PRIORITY_URGENT_2H

UNASSIGNED_GRACE = timedelta(minutes=10)
DEADLINE_LEAD = timedelta(minutes=45)
ACCEPT_TIMEOUT = timedelta(minutes=15)
#: A 2-hour visit's offer is chased sooner (H-246): a quarter of an hour of silence is an
#: eighth of its window, and the next worker needs the rest. Most answers come within a few
#: minutes, so this asks about few offers that would still have been accepted.
URGENT_ACCEPT_TIMEOUT = timedelta(minutes=10)
HORIZON = timedelta(hours=24)  # the default of WATCH_HORIZON_HOURS
WATCHED = ("unassigned", "assigned", "offered", "accepted", "en_route")
# Causes this watch owns (others, like sms_failed, are set and cleared elsewhere).
WATCH_CAUSES = ("unassigned", "not_accepted", "late_arrival")
# The planner's cause (a 2-hour visit nobody can reach in time) is described here too.
CAUSE_TEXT = {cause: ALL_CAUSE_TEXT[cause] for cause in (*WATCH_CAUSES, "needs_decision")}


@dataclass
class WatchReport:
    entered: dict[str, int] = field(default_factory=dict)
    cleared: int = 0
    checked: int = 0
    #: Visits another run (or writer) changed under this one: left to it.
    skipped: int = 0
    texts: int = 0
    #: Urgent decisions still not made: on-call reminders and manager texts raised (H-040).
    reminded: int = 0
    #: Networks with visits due that no coordinator runs, escalated now (H-111).
    uncoordinated: int = 0
    managers_texted: int = 0


def accept_timeout_for(visit: Visit) -> timedelta:
    """How long an offer of ``visit`` may go unanswered before the coordinator is told: less
    for a 2-hour visit (:data:`URGENT_ACCEPT_TIMEOUT`)."""
    urgent = visit.priority is not None and visit.priority <= PRIORITY_URGENT_2H
    return URGENT_ACCEPT_TIMEOUT if urgent else ACCEPT_TIMEOUT


def jeopardy_cause(
    visit: Visit, *, now: datetime, accept_timeout: timedelta | None = None
) -> str | None:
    """The cause of jeopardy for ``visit`` at ``now``, or None (a pure rule over the row).
    ``accept_timeout``: one wait for every offer (default: :func:`accept_timeout_for`)."""
    if visit.status == "unassigned":
        if now - visit.created_at >= UNASSIGNED_GRACE or visit.deadline - now <= DEADLINE_LEAD:
            return "unassigned"
        return None
    if visit.status == "offered" and visit.offered_at and now - visit.offered_at >= (
            accept_timeout if accept_timeout is not None else accept_timeout_for(visit)):
        return "not_accepted"
    limit = late_limit(visit)
    if visit.planned_start is not None and visit.planned_start > limit:
        return "late_arrival"
    if visit.status in ("assigned", "offered", "accepted", "en_route") and now > limit:
        return "late_arrival"
    return None


def late_limit(visit: Visit) -> datetime:
    """The latest start the service has agreed to: the deadline, or the later limit an on-call
    coordinator allowed for the worker they chose (``allow_late``). Lateness within a decided
    limit is not a new jeopardy: re-raising it would text on-call about a decision they made
    (and the planner may not exceed it, so going past it is escalated again)."""
    allowed = visit.late_allowed_until
    if allowed is None or allowed <= visit.deadline:
        return visit.deadline
    chosen = visit.late_allowed_staff_id
    if chosen is not None and visit.assigned_staff_id not in (None, chosen):
        return visit.deadline  # with another worker the decision does not apply
    return allowed


def watch_deadlines(
    session: so.Session, *, now: datetime, public_url: str,
    accept_timeout: timedelta | None = None, horizon: timedelta = HORIZON,
    text_interval: timedelta | None = None,
) -> WatchReport:
    """Mark and escalate visits due within ``horizon`` entering jeopardy; clear those that
    left it (or moved beyond the horizon); send the grouped texts that are due."""
    report = WatchReport()
    visits = session.scalars(sa.select(Visit).where(
        Visit.status.in_(WATCHED),
        sa.or_(Visit.deadline <= now + horizon, Visit.jeopardy_cause.in_(WATCH_CAUSES)))
        .order_by(Visit.deadline, Visit.id)).all()
    for visit in visits:
        report.checked += 1
        if visit.jeopardy_cause == "needs_decision" and visit.status == "unassigned":
            continue  # the planner escalated it already; a coordinator's decision clears it
        cause = (jeopardy_cause(visit, now=now, accept_timeout=accept_timeout)
                 if visit.deadline <= now + horizon else None)
        if cause is None:
            if visit.jeopardy_cause in WATCH_CAUSES:
                if _apply(session, visit, None, now, public_url):
                    report.cleared += 1
                else:
                    report.skipped += 1
            continue
        if visit.jeopardy_cause == cause:
            continue  # already escalated for this cause
        if _apply(session, visit, cause, now, public_url):
            report.entered[cause] = report.entered.get(cause, 0) + 1
        else:
            report.skipped += 1
    _clear_closed(session, now)
    report.uncoordinated = alert_uncoordinated(session, now=now, horizon=horizon)
    reminders = remind_undecided(session, now=now)
    report.reminded, report.managers_texted = reminders.reminded, reminders.managers
    report.texts = len(send_grouped(session, now=now, base_url=public_url,
                                    interval=text_interval))
    session.flush()
    return report


def _apply(session: so.Session, visit: Visit, cause: str | None, now: datetime,
           public_url: str) -> bool:
    """Set (and escalate) or clear one visit's cause in a savepoint; False if another writer
    changed the visit first (its optimistic version moved): that writer's view stands."""
    version = visit.version
    try:
        with session.begin_nested():
            visit.jeopardy_cause, visit.jeopardy_since = cause, (now if cause else None)
            session.flush()
            if cause is None:
                clear_visit_escalations(session, visit_id=visit.id, now=now)
            else:
                escalate(session, visit=visit, cause=cause, now=now, public_url=public_url,
                         version=version)
    except StaleDataError:
        return False
    return True


def _clear_closed(session: so.Session, now: datetime) -> None:
    """Escalations of visits now completed or cancelled leave the board."""
    session.execute(
        sa.update(Escalation)
        .where(Escalation.cleared_at.is_(None), Escalation.visit_id.in_(
            sa.select(Visit.id).where(Visit.status.in_(("completed", "cancelled")))))
        .values(cleared_at=now).execution_options(synchronize_session=False))


def escalate(
    session: so.Session, *, visit: Visit, cause: str, now: datetime, public_url: str,
    version: int | None = None,
) -> Escalation | None:
    """Escalate ``visit`` for ``cause`` (once per visit version and cause, whoever races);
    the text waits for this run's grouped send."""
    key = f"jeopardy:{visit.id}:v{visit.version if version is None else version}:{cause}"
    words = None
    if accepted_urgent_late(visit, cause):
        # H-041: the worker accepted it, the plan now starts it late; the on-call
        # coordinator is asked (cover, allow late, hand back), as for needs_decision.
        words = "accepted, planned after the deadline: needs a decision"
    return escalate_visit(session, visit=visit, cause=cause, now=now, key=key,
                          purpose="deadline watch", base_url=public_url, send=False,
                          words=words)
