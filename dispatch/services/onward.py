"""Referrals out, hand-overs and tasks (issue 16, item 4; hazard H-022).

A referral out is ``sent``, then the other service ``accepted`` it (and who took it), it is
``done``, or it was ``declined`` (with why). Each has a due time: a referral still open past
it is **overdue**, listed first on the board and the coordinator's caseload, and reminded to
the network's on-call coordinator once (an escalation, grouped into the on-call text).

H-022: a referral triaged ``out_of_scope`` (a child, or someone else urgent community
response does not serve) opens a **hand-over** at once (:func:`open_out_of_scope_handover`):
someone must confirm that 111, the GP or children's services took the person, naming who;
until then it is on the board, and past :data:`HANDOVER_CONFIRM_WITHIN` it is overdue and
reminded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import SYSTEM, Actor
from dispatch.errors import IllegalTransition, InvalidInput, NotFound
from dispatch.models import Network, OnwardReferral, Patient, Referral, Task, User
from dispatch.models.onward import ONWARD_SERVICES, ONWARD_STATUSES
from dispatch.services import audit
from dispatch.sms.escalation import raise_escalation
from triage.timing import local

OPEN_STATUSES = ("sent", "accepted")
TRANSITIONS = {"sent": {"accepted", "done", "declined"}, "accepted": {"done", "declined"},
               "done": set(), "declined": set()}
#: A hand-over is confirmed while the caller is on the line or straight after (H-022).
HANDOVER_CONFIRM_WITHIN = timedelta(minutes=30)
#: How long each service is given to take a referral up before it is overdue.
DEFAULT_DUE = {"memory_clinic": timedelta(days=14), "adult_social_care": timedelta(days=3),
               "falls_service": timedelta(days=7), "equipment_telecare": timedelta(days=2),
               "childrens_services": HANDOVER_CONFIRM_WITHIN, "nhs_111": HANDOVER_CONFIRM_WITHIN,
               "gp_practice": timedelta(days=1), "district_nursing": timedelta(days=1),
               "mental_health": timedelta(days=3), "other": timedelta(days=7)}
SERVICE_NAMES = {"memory_clinic": "Memory clinic", "adult_social_care":
                 "Council adult social care", "falls_service": "Falls service",
                 "equipment_telecare": "Equipment and telecare",
                 "childrens_services": "Children's services", "nhs_111": "NHS 111",
                 "gp_practice": "GP practice", "district_nursing": "District nursing",
                 "mental_health": "Mental health", "other": "Other service"}
CHILD_AGE = 18


def create_onward(
    session: so.Session, *, patient: Patient, service: str, reason: str, actor: Actor,
    now: datetime, referral_id: int | None = None, due_at: datetime | None = None,
    handover: bool = False, request_id: str | None = None,
) -> OnwardReferral:
    """Send a referral out (status ``sent``); audited.

    :raise InvalidInput: unknown service, no reason, a due time in the past, or a referral
        that is not this patient's.
    """
    errors: dict[str, list[str]] = {}
    if service not in ONWARD_SERVICES:
        errors["service"] = [f"one of {', '.join(ONWARD_SERVICES)}"]
    if not reason.strip():
        errors["reason"] = ["say why the person is referred"]
    if due_at is not None and due_at <= now:
        errors["due_at"] = ["must be in the future"]
    referral = session.get(Referral, referral_id) if referral_id is not None else None
    if referral_id is not None and (referral is None or referral.patient_id != patient.id):
        errors["referral_id"] = ["not a referral of this patient"]
    if errors:
        raise InvalidInput("invalid onward referral", errors=errors)
    row = OnwardReferral(
        patient_id=patient.id, referral_id=referral_id, network_id=patient.network_id,
        service=service, reason=reason.strip()[:500], status="sent", handover=handover,
        due_at=due_at or now + DEFAULT_DUE[service], created_at=now,
        created_by=actor.username[:120], updated_at=now, updated_by=actor.username[:120])
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="create_onward_referral", now=now,
                 patient_id=patient.id, entity=("onward_referral", row.id),
                 purpose=f"refer on to {SERVICE_NAMES[service]}", request_id=request_id,
                 details={"service": service, "handover": handover})
    return row


def open_out_of_scope_handover(
    session: so.Session, *, referral: Referral, patient: Patient, actor: Actor, now: datetime,
    request_id: str | None = None,
) -> OnwardReferral:
    """H-022: the hand-over an out-of-scope referral needs, to children's services for a
    child (else the GP), to be confirmed within :data:`HANDOVER_CONFIRM_WITHIN`."""
    age = _age(patient.date_of_birth, local(now).date())
    service = "childrens_services" if age < CHILD_AGE else "gp_practice"
    return create_onward(
        session, patient=patient, service=service, actor=actor, now=now,
        referral_id=referral.id, due_at=now + HANDOVER_CONFIRM_WITHIN, handover=True,
        request_id=request_id,
        reason="Out of scope for urgent community response: confirm that 111, the GP or "
               "children's services has taken this person, and who")


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def get_onward(session: so.Session, onward_id: int) -> OnwardReferral:
    """:raise NotFound: no such referral out."""
    row = session.get(OnwardReferral, onward_id)
    if row is None:
        raise NotFound(f"onward referral {onward_id} not found")
    return row


def change_status(
    session: so.Session, *, onward: OnwardReferral, status: str, actor: Actor, now: datetime,
    contact: str | None = None, outcome: str | None = None, service: str | None = None,
    request_id: str | None = None,
) -> OnwardReferral:
    """Record what the other service did; audited. Accepting needs the name of who took it;
    declining needs the reason. A hand-over may be confirmed as taken by another service
    than first proposed (``service``: e.g. 111 rather than the GP).

    :raise IllegalTransition: from done or declined, or backwards.
    :raise InvalidInput: unknown status or service, no contact to accept, no reason to decline.
    """
    errors: dict[str, list[str]] = {}
    if status not in ONWARD_STATUSES:
        errors["status"] = [f"one of {', '.join(ONWARD_STATUSES)}"]
    if service is not None and service not in ONWARD_SERVICES:
        errors["service"] = [f"one of {', '.join(ONWARD_SERVICES)}"]
    if status == "accepted" and not (contact or "").strip():
        errors["contact"] = ["say who took it at the other service (name and role)"]
    if status == "declined" and not (outcome or "").strip():
        errors["outcome"] = ["say why it was declined"]
    if errors:
        raise InvalidInput("invalid status change", errors=errors)
    if status not in TRANSITIONS[onward.status]:
        raise IllegalTransition(f"a referral out that is {onward.status} cannot become {status}")
    before = onward.status
    onward.status = status
    if service is not None:
        onward.service = service
    if contact:
        onward.contact = contact.strip()[:120]
    if outcome:
        onward.outcome = outcome.strip()[:300]
    onward.updated_at = now
    onward.updated_by = actor.username[:120]
    session.flush()
    audit.record(session, actor=actor, action="onward_referral_status", now=now,
                 patient_id=onward.patient_id, entity=("onward_referral", onward.id),
                 purpose="follow a referral out", request_id=request_id,
                 details={"from": before, "to": status, "service": onward.service,
                          "handover": onward.handover})
    return onward


def is_overdue(onward: OnwardReferral, now: datetime) -> bool:
    """Still open past its due time (a hand-over still unconfirmed, for H-022)."""
    return onward.status in OPEN_STATUSES and onward.due_at < now


def list_onward(
    session: so.Session, *, patient_id: int | None = None, status: str | None = None,
    open_only: bool = False, network_id: int | None = None,
) -> list[OnwardReferral]:
    """Referrals out, soonest due first."""
    stmt = sa.select(OnwardReferral).order_by(OnwardReferral.due_at, OnwardReferral.id)
    if patient_id is not None:
        stmt = stmt.where(OnwardReferral.patient_id == patient_id)
    if status is not None:
        stmt = stmt.where(OnwardReferral.status == status)
    if open_only:
        stmt = stmt.where(OnwardReferral.status.in_(OPEN_STATUSES))
    if network_id is not None:
        stmt = stmt.where(OnwardReferral.network_id == network_id)
    return list(session.scalars(stmt))


class OnwardWithOverdue:
    """A referral out as the API serialises it, with ``overdue`` worked out at ``now``."""

    def __init__(self, onward: OnwardReferral, now: datetime) -> None:
        self._onward = onward
        self.overdue = is_overdue(onward, now)

    def __getattr__(self, name: str) -> object:
        return getattr(self._onward, name)


def _audit_reads(
    session: so.Session, rows: list[OnwardReferral] | list[Task], *, entity: str, actor: Actor,
    now: datetime, request_id: str | None, purpose: str = "follow referrals out and tasks",
) -> None:
    """One ``view_<entity>`` event per row that names a patient."""
    for row in rows:
        if row.patient_id is not None:
            audit.record(session, actor=actor, action=f"view_{entity}", now=now,
                         patient_id=row.patient_id, entity=(entity, row.id), purpose=purpose,
                         request_id=request_id)


def read_onward_list(
    session: so.Session, *, actor: Actor, now: datetime, request_id: str | None = None,
    patient_id: int | None = None, status: str | None = None, open_only: bool = False,
) -> list[OnwardWithOverdue]:
    """:func:`list_onward`, each with ``overdue``; every row read is audited."""
    rows = list_onward(session, patient_id=patient_id, status=status, open_only=open_only)
    _audit_reads(session, rows, entity="onward_referral", actor=actor, now=now,
                 request_id=request_id)
    return [OnwardWithOverdue(r, now) for r in rows]


def read_onward(
    session: so.Session, onward_id: int, *, actor: Actor, now: datetime,
    request_id: str | None = None, purpose: str = "follow referrals out and tasks",
) -> OnwardReferral:
    """:func:`get_onward`; the read is audited (``view_onward_referral``).

    :raise NotFound: no such referral out.
    """
    row = get_onward(session, onward_id)
    _audit_reads(session, [row], entity="onward_referral", actor=actor, now=now,
                 request_id=request_id, purpose=purpose)
    return row


def read_tasks(
    session: so.Session, *, actor: Actor, now: datetime, request_id: str | None = None,
    owner_user_id: int | None = None, patient_id: int | None = None, open_only: bool = False,
    purpose: str = "follow referrals out and tasks",
) -> list[Task]:
    """:func:`list_tasks`; every task naming a patient is audited as read."""
    rows = list_tasks(session, owner_user_id=owner_user_id, patient_id=patient_id,
                      open_only=open_only)
    _audit_reads(session, rows, entity="task", actor=actor, now=now, request_id=request_id,
                 purpose=purpose)
    return rows


@dataclass(frozen=True)
class PatientOnward:
    """A patient's referrals out and tasks, as their page shows them."""

    referrals: list[OnwardReferral]
    tasks: list[Task]


def read_patient_onward(
    session: so.Session, patient: Patient, *, actor: Actor, now: datetime,
    request_id: str | None = None,
) -> PatientOnward:
    """The patient's referrals out and tasks; one ``view_patient_onward`` event."""
    audit.record(session, actor=actor, action="view_patient_onward", now=now,
                 patient_id=patient.id, entity=("patient", patient.id),
                 purpose="follow referrals out and tasks", request_id=request_id)
    return PatientOnward(referrals=list_onward(session, patient_id=patient.id),
                         tasks=list_tasks(session, patient_id=patient.id))


def for_referral(session: so.Session, referral_id: int) -> list[OnwardReferral]:
    """The referrals out and hand-overs made from one referral."""
    return list(session.scalars(sa.select(OnwardReferral).where(
        OnwardReferral.referral_id == referral_id).order_by(OnwardReferral.id)))


@dataclass(frozen=True)
class BoardHandover:
    """A referral out as the board shows it: no name, only the referral and service."""

    id: int
    referral_id: int | None
    service: str
    handover: bool
    status: str
    due_at: datetime
    overdue: bool


def board_items(
    session: so.Session, *, network_id: int | None, now: datetime,
) -> list[BoardHandover]:
    """For the board: every unconfirmed hand-over (H-022) and every overdue referral out,
    overdue first."""
    stmt = sa.select(OnwardReferral).where(
        OnwardReferral.status.in_(OPEN_STATUSES),
        sa.or_(sa.and_(OnwardReferral.handover.is_(True), OnwardReferral.status == "sent"),
               OnwardReferral.due_at < now))
    if network_id is not None:
        stmt = stmt.where(sa.or_(OnwardReferral.network_id == network_id,
                                 OnwardReferral.network_id.is_(None)))
    rows = [BoardHandover(o.id, o.referral_id, o.service, o.handover, o.status, o.due_at,
                          is_overdue(o, now)) for o in session.scalars(stmt)]
    return sorted(rows, key=lambda r: (not r.overdue, r.due_at, r.id))


def remind_overdue(session: so.Session, *, now: datetime) -> int:
    """Remind the on-call coordinator, once, of each referral out that is overdue (an
    escalation on the board, grouped into the on-call text); returns how many."""
    stmt = sa.select(OnwardReferral).where(OnwardReferral.status.in_(OPEN_STATUSES),
                                           OnwardReferral.due_at < now,
                                           OnwardReferral.reminded_at.is_(None))
    count = 0
    for onward in session.scalars(stmt):
        network = session.get(Network, onward.network_id) if onward.network_id else None
        what = "hand-over not confirmed" if onward.handover else "referral out overdue"
        raise_escalation(session, key=f"onward:{onward.id}", kind="onward_overdue",
                         cause=f"{what}: {SERVICE_NAMES[onward.service]} (onward {onward.id})",
                         now=now, network=network)
        onward.reminded_at = now
        audit.record(session, actor=SYSTEM, action="onward_referral_reminder", now=now,
                     patient_id=onward.patient_id, entity=("onward_referral", onward.id),
                     purpose="overdue referral out reminded to the on-call coordinator")
        count += 1
    session.flush()
    return count


# --- tasks -----------------------------------------------------------------------------------


def create_task(
    session: so.Session, *, title: str, due: date, actor: Actor, now: datetime,
    patient_id: int | None = None, owner_user_id: int | None = None, owner_name: str = "",
    onward_referral_id: int | None = None, request_id: str | None = None,
) -> Task:
    """A task with an owner (a user, or a named person elsewhere) and a due date; audited."""
    errors: dict[str, list[str]] = {}
    owner = session.get(User, owner_user_id) if owner_user_id is not None else None
    if owner_user_id is not None and owner is None:
        errors["owner_user_id"] = ["no such user"]
    name = owner.display_name if owner is not None else owner_name.strip()
    if not name:
        errors["owner_name"] = ["say who owns the task"]
    if not title.strip():
        errors["title"] = ["say what is to be done"]
    if due < local(now).date():
        errors["due"] = ["must be today or later"]
    if onward_referral_id is not None and session.get(OnwardReferral, onward_referral_id) is None:
        errors["onward_referral_id"] = ["no such onward referral"]
    if errors:
        raise InvalidInput("invalid task", errors=errors)
    task = Task(patient_id=patient_id, title=title.strip()[:200], owner_user_id=owner_user_id,
                owner_name=name[:120], due=due, onward_referral_id=onward_referral_id,
                created_at=now, created_by=actor.username[:120])
    session.add(task)
    session.flush()
    audit.record(session, actor=actor, action="create_task", now=now, patient_id=patient_id,
                 entity=("task", task.id), purpose="a task with a due date",
                 request_id=request_id, details={"owner": task.owner_name})
    return task


def get_task(session: so.Session, task_id: int) -> Task:
    """:raise NotFound: no such task."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"task {task_id} not found")
    return task


def complete_task(
    session: so.Session, *, task: Task, actor: Actor, now: datetime,
    request_id: str | None = None,
) -> Task:
    """Mark the task done (once); audited. :raise IllegalTransition: already done."""
    if task.done_at is not None:
        raise IllegalTransition("the task is already done")
    task.done_at = now
    task.done_by = actor.username[:120]
    session.flush()
    audit.record(session, actor=actor, action="complete_task", now=now,
                 patient_id=task.patient_id, entity=("task", task.id), request_id=request_id,
                 purpose="a task done")
    return task


def list_tasks(
    session: so.Session, *, owner_user_id: int | None = None, patient_id: int | None = None,
    open_only: bool = False,
) -> list[Task]:
    """Tasks, soonest due first."""
    stmt = sa.select(Task).order_by(Task.due, Task.id)
    if owner_user_id is not None:
        stmt = stmt.where(Task.owner_user_id == owner_user_id)
    if patient_id is not None:
        stmt = stmt.where(Task.patient_id == patient_id)
    if open_only:
        stmt = stmt.where(Task.done_at.is_(None))
    return list(session.scalars(stmt))
