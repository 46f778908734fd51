"""Case conferences: the list builds itself, cases get notes, root causes and actions
(issue 16, item 6).

The list for a conference of a group is every patient of the group (registered with one of its
network's practices) who, since the group's last conference (or one cadence ago), was sent to
999, admitted to hospital from a visit, discharged from hospital, or had a visit in jeopardy;
coordinators add their own picks. Actions are tasks with an owner and a due date, shown on the
owner's home page until done.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.models import (
    CaseConference,
    ConferenceCase,
    HospitalDischarge,
    MdGroup,
    Patient,
    Referral,
    Task,
    Visit,
)
from dispatch.models.conferences import ROOT_CAUSES
from dispatch.services import audit, onward, practices

CADENCE = {"weekly": timedelta(days=7), "monthly": timedelta(days=30)}


def _since(session: so.Session, group: MdGroup, held_at: datetime) -> datetime:
    last = session.scalar(sa.select(sa.func.max(CaseConference.held_at)).where(
        CaseConference.group_id == group.id, CaseConference.held_at < held_at))
    return last or held_at - CADENCE[group.cadence]


def candidates(session: so.Session, *, patient_ids: list[int], since: datetime,
               until: datetime) -> dict[int, set[str]]:
    """Why each of these patients belongs on the list, from what happened in the window."""
    found: dict[int, set[str]] = {}

    def add(rows: object, reason: str) -> None:
        for (patient_id,) in rows:  # type: ignore[attr-defined]
            found.setdefault(patient_id, set()).add(reason)

    if not patient_ids:
        return found
    add(session.execute(sa.select(Referral.patient_id).where(
        Referral.patient_id.in_(patient_ids), Referral.category == "emergency_999",
        Referral.received_at >= since, Referral.received_at < until)), "sent_to_999")
    add(session.execute(sa.select(Visit.patient_id).where(
        Visit.patient_id.in_(patient_ids), Visit.outcome == "admitted_to_hospital",
        sa.func.coalesce(Visit.completed_at, Visit.updated_at) >= since,
        sa.func.coalesce(Visit.completed_at, Visit.updated_at) < until)), "admitted")
    add(session.execute(sa.select(HospitalDischarge.patient_id).where(
        HospitalDischarge.patient_id.in_(patient_ids),
        HospitalDischarge.discharged_at >= since, HospitalDischarge.discharged_at < until)),
        "discharged")
    add(session.execute(sa.select(Visit.patient_id).where(
        Visit.patient_id.in_(patient_ids), Visit.jeopardy_since.is_not(None),
        Visit.jeopardy_since >= since, Visit.jeopardy_since < until)), "jeopardy")
    return found


def build_conference(
    session: so.Session, *, group: MdGroup, held_at: datetime, actor: Actor, now: datetime,
    request_id: str | None = None,
) -> CaseConference:
    """A conference of ``group`` at ``held_at`` with its list built; audited per patient."""
    since = _since(session, group, held_at)
    conference = CaseConference(group_id=group.id, held_at=held_at, since=since,
                                created_at=now, created_by=actor.username[:120])
    session.add(conference)
    session.flush()
    found = candidates(session, patient_ids=practices.group_patient_ids(session, group),
                       since=since, until=min(held_at, now))
    for patient_id, reasons in sorted(found.items()):
        session.add(ConferenceCase(conference_id=conference.id, patient_id=patient_id,
                                   reasons=sorted(reasons)))
        audit.record(session, actor=actor, action="conference_case", now=now,
                     patient_id=patient_id, entity=("case_conference", conference.id),
                     purpose="multidisciplinary case conference", request_id=request_id,
                     details={"reasons": sorted(reasons)})
    session.flush()
    return conference


def get_conference(session: so.Session, conference_id: int) -> CaseConference:
    """:raise NotFound: no such conference."""
    row = session.get(CaseConference, conference_id)
    if row is None:
        raise NotFound(f"case conference {conference_id} not found")
    return row


class CaseWithActions:
    """A conference case as the API serialises it, with its ``actions`` (tasks)."""

    def __init__(self, case: ConferenceCase, actions: list[Task]) -> None:
        self._case = case
        self.actions = actions

    def __getattr__(self, name: str) -> object:
        return getattr(self._case, name)


class ConferenceWithCases:
    """A conference with each case's actions and the people listed, read once."""

    def __init__(self, conference: CaseConference, cases: list[CaseWithActions],
                 people: dict[int, Patient | None]) -> None:
        self._conference = conference
        self.cases = cases
        self.people = people

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conference, name)


def with_cases(session: so.Session, conference: CaseConference) -> ConferenceWithCases:
    """``conference`` with its cases' actions and patients (no audit: the caller's)."""
    cases = [CaseWithActions(c, actions_of(session, c.id)) for c in conference.cases]
    people = {c.id: session.get(Patient, c.patient_id) for c in conference.cases}
    return ConferenceWithCases(conference, cases, people)


def read_conference(
    session: so.Session, conference_id: int, *, actor: Actor, now: datetime,
    request_id: str | None = None,
) -> ConferenceWithCases:
    """A conference with its cases, actions and people; each case's patient is audited as
    read (``view_conference_case``).

    :raise NotFound: no such conference.
    """
    conference = get_conference(session, conference_id)
    for case in conference.cases:
        audit.record(session, actor=actor, action="view_conference_case", now=now,
                     patient_id=case.patient_id, entity=("conference_case", case.id),
                     purpose="multidisciplinary case conference", request_id=request_id)
    return with_cases(session, conference)


def get_case(session: so.Session, case_id: int) -> ConferenceCase:
    """:raise NotFound: no such case."""
    row = session.get(ConferenceCase, case_id)
    if row is None:
        raise NotFound(f"conference case {case_id} not found")
    return row


def pick_case(
    session: so.Session, *, conference: CaseConference, patient: Patient, actor: Actor,
    now: datetime, note: str | None = None, request_id: str | None = None,
) -> ConferenceCase:
    """A coordinator's own pick for the list. :raise Conflict: already on it."""
    exists = sa.select(ConferenceCase).where(ConferenceCase.conference_id == conference.id,
                                             ConferenceCase.patient_id == patient.id)
    if session.scalar(exists) is not None:
        raise Conflict("the patient is already on this conference's list")
    case = ConferenceCase(conference_id=conference.id, patient_id=patient.id,
                          reasons=["coordinator_pick"], notes=note,
                          picked_by=actor.username[:120])
    session.add(case)
    session.flush()
    audit.record(session, actor=actor, action="conference_pick", now=now,
                 patient_id=patient.id, entity=("case_conference", conference.id),
                 purpose="multidisciplinary case conference", request_id=request_id)
    return case


def record_case(
    session: so.Session, *, case: ConferenceCase, actor: Actor, now: datetime,
    notes: str | None = None, root_cause: str | None = None, request_id: str | None = None,
) -> ConferenceCase:
    """Notes and, for an emergency admission, its root cause; audited."""
    if root_cause is not None and root_cause not in ROOT_CAUSES:
        raise InvalidInput("invalid case", errors={
            "root_cause": [f"one of {', '.join(ROOT_CAUSES)}"]})
    if notes is not None:
        case.notes = notes.strip()
    if root_cause is not None:
        case.root_cause = root_cause
    session.flush()
    audit.record(session, actor=actor, action="conference_case_notes", now=now,
                 patient_id=case.patient_id, entity=("conference_case", case.id),
                 purpose="multidisciplinary case conference", request_id=request_id,
                 details={"root_cause": case.root_cause})
    return case


def add_action(
    session: so.Session, *, case: ConferenceCase, title: str, due: date, actor: Actor,
    now: datetime, owner_user_id: int | None = None, owner_name: str = "",
    request_id: str | None = None,
) -> Task:
    """An action agreed for a case: a task with owner and due date, on the owner's home page."""
    task = onward.create_task(session, title=title, due=due, actor=actor, now=now,
                              patient_id=case.patient_id, owner_user_id=owner_user_id,
                              owner_name=owner_name, request_id=request_id)
    task.conference_case_id = case.id
    session.flush()
    return task


def actions_of(session: so.Session, case_id: int) -> list[Task]:
    return list(session.scalars(sa.select(Task).where(Task.conference_case_id == case_id)
                                .order_by(Task.due, Task.id)))


def conferences_of(session: so.Session, group_id: int) -> list[CaseConference]:
    return list(session.scalars(sa.select(CaseConference).where(
        CaseConference.group_id == group_id).order_by(CaseConference.held_at.desc())))
