"""Reminders for an urgent decision nobody has made (hazard H-040, control C2).

When no one can reach a 2-hour visit before its deadline, the planner puts it in jeopardy with
the cause ``needs_decision`` and texts the network's on-call coordinator, who decides: cover
from another network, a named worker allowed to run late, or hand back to 111/999
(:mod:`dispatch.planning.jeopardy`). A text can go unread (phone off, no signal, another call),
and until now nothing followed it up. The deadline watch calls :func:`remind_undecided` every
minute. The same follows a 2-hour visit its worker accepted that the plan now starts after
its deadline (H-041, :func:`accepted_urgent_late`): the watch asks for a decision on it.

- after :data:`REMINDER_AFTER` (10 minutes) without a decision, the on-call phone is reminded
  once (an escalation of kind ``reminder``: it rides the next grouped text, which the
  grouping allows at most every ``ESCALATION_TEXT_MINUTES``);
- after :data:`MANAGER_AFTER` (20 minutes), or from :data:`MANAGER_LEAD` (15 minutes) before the
  deadline, whichever is sooner but never before the first reminder is due, the network's
  manager (``networks.manager_phone``) is texted once too (kind ``to_manager``).

Each is raised once per jeopardy episode (the key holds the visit and when it entered
jeopardy). When the decision is made (or the visit leaves ``needs_decision`` any other way),
reminders still waiting for their text are cleared, so nobody is reminded of a decision made.
The texts carry the visit reference, the words and the deadline only (information governance).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import SYSTEM
from dispatch.models import Escalation, Network, Visit
from dispatch.services import audit
from dispatch.sms.escalation import raise_escalation
from routing.types import PRIORITY_URGENT_2H

NEEDS_DECISION = "needs_decision"
LATE_ARRIVAL = "late_arrival"
REMINDER_AFTER = timedelta(minutes=10)
MANAGER_AFTER = timedelta(minutes=20)
MANAGER_LEAD = timedelta(minutes=15)
ON_CALL_KIND = "reminder"
MANAGER_KIND = "to_manager"
KINDS = (ON_CALL_KIND, MANAGER_KIND)


@dataclass
class ReminderReport:
    reminded: int = 0
    managers: int = 0
    cleared: int = 0


def accepted_urgent_late(visit: Visit, cause: str | None) -> bool:
    """A 2-hour visit its worker accepted that the plan now starts after its deadline
    (H-041): the on-call coordinator decides on it as on ``needs_decision``."""
    return (cause == LATE_ARRIVAL and visit.status == "accepted"
            and visit.priority <= PRIORITY_URGENT_2H)


def _waiting_for_decision() -> sa.ColumnElement[bool]:
    """Visits the on-call coordinator is asked to decide on (SQL for the rule above)."""
    return sa.or_(
        sa.and_(Visit.status == "unassigned", Visit.jeopardy_cause == NEEDS_DECISION),
        sa.and_(Visit.status == "accepted", Visit.jeopardy_cause == LATE_ARRIVAL,
                Visit.priority <= PRIORITY_URGENT_2H))


def reminder_due(since: datetime, now: datetime) -> bool:
    """The on-call coordinator is reminded once a decision has waited ``REMINDER_AFTER``."""
    return now - since >= REMINDER_AFTER


def manager_due(since: datetime, deadline: datetime, now: datetime) -> bool:
    """The manager is texted after ``MANAGER_AFTER`` without a decision, or from
    ``MANAGER_LEAD`` before the deadline, but never before the on-call reminder is due: a
    visit that enters jeopardy 12 minutes before its deadline reminds both at 10 minutes."""
    if not reminder_due(since, now):
        return False
    return now - since >= MANAGER_AFTER or deadline - now <= MANAGER_LEAD


def _since(visit: Visit) -> datetime:
    since = visit.jeopardy_since
    assert since is not None  # selected with jeopardy_since set
    return since


def remind_undecided(session: so.Session, *, now: datetime) -> ReminderReport:
    """Raise the reminders that are due and clear those whose decision was made; the texts go
    out with the watch's grouped send. Flushes."""
    report = ReminderReport(cleared=_clear_decided(session, now))
    waiting = session.scalars(sa.select(Visit).where(
        _waiting_for_decision(),
        Visit.jeopardy_since.is_not(None), Visit.jeopardy_since <= now - REMINDER_AFTER)
        .order_by(Visit.deadline, Visit.id)).all()
    for visit in waiting:
        network = session.get(Network, visit.network_id) if visit.network_id else None
        since = _since(visit)
        minutes = int((now - since).total_seconds() // 60)
        episode = f"{visit.id}:{since.strftime('%Y%m%dT%H%M%S')}"
        if raise_escalation(
                session, key=f"{ON_CALL_KIND}:{episode}", kind=ON_CALL_KIND,
                cause="reminder: still needs your decision", now=now, network=network,
                visit=visit) is not None:
            report.reminded += 1
            _audit(session, visit, now, to="on_call", minutes=minutes,
                   texted=bool(network and network.on_call_phone))
        if network is None or not manager_due(since, visit.deadline, now):
            continue
        if raise_escalation(
                session, key=f"{MANAGER_KIND}:{episode}", kind=MANAGER_KIND,
                cause=f"no on-call decision after {minutes} min: please act", now=now,
                network=network, visit=visit, to_number=network.manager_phone,
                # no manager's phone: on the board only (never the on-call phone again)
                notify=network.manager_phone is not None) is not None:
            report.managers += 1
            _audit(session, visit, now, to="manager", minutes=minutes,
                   texted=network.manager_phone is not None)
    session.flush()
    return report


def _clear_decided(session: so.Session, now: datetime) -> int:
    """Clear reminders of visits no longer waiting for a decision (decided, placed, closed)."""
    still_waiting = sa.select(Visit.id).where(_waiting_for_decision())
    result = session.execute(
        sa.update(Escalation)
        .where(Escalation.kind.in_(KINDS), Escalation.cleared_at.is_(None),
               Escalation.visit_id.not_in(still_waiting))
        .values(cleared_at=now).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _audit(session: so.Session, visit: Visit, now: datetime, *, to: str, minutes: int,
           texted: bool) -> None:
    audit.record(session, actor=SYSTEM, action="decision_reminder", now=now,
                 patient_id=visit.patient_id, entity=("visit", visit.id),
                 purpose="remind about an urgent decision not made",
                 details={"to": to, "waiting_minutes": minutes, "texted": texted})
