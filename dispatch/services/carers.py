"""Carers, their links to patients, their own assessments, and texting them about a visit
(issue 16, item 3).

A text to a carer says only that a visit is planned and its arrival window, with the visit
reference: no name, no diagnosis, no clinical detail (the outbox refuses a body carrying the
patient's details). It is sent only when the patient consented to the carer being contacted
(recorded on the link with who recorded it and when).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import states
from dispatch.actors import Actor
from dispatch.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound
from dispatch.models import Carer, CarerAssessment, CarerLink, Message, Patient, Visit
from dispatch.services import audit, consent, outbox
from dispatch.sms.compose import window_text
from triage.timing import local

PHONE = re.compile(r"^\+?[0-9]{10,15}$")
#: The arrival window told to a carer around a planned start.
ARRIVAL_WINDOW = timedelta(hours=1)
#: Needs on a referral that are about the carer: the page shows who the carer is.
CARER_NEEDS = ("carer_breakdown", "carer_crisis", "carer_information")


@dataclass(frozen=True)
class NewLink:
    """How a carer is linked to a patient."""

    relationship: str
    lives_with_patient: bool = False
    next_of_kin: bool = False
    consent_to_contact: bool = False


def _phone(phone: str | None) -> str | None:
    if phone is None or not phone.strip():
        return None
    digits = re.sub(r"[\s()-]", "", phone)
    if digits.startswith("0"):
        digits = "+44" + digits[1:]
    if not PHONE.match(digits):
        raise InvalidInput("invalid carer", errors={"phone": ["a UK or international phone "
                                                              "number, like 07700 900123"]})
    return digits


def add_carer(
    session: so.Session, *, patient: Patient, name: str, link: NewLink, actor: Actor,
    now: datetime, phone: str | None = None, email: str | None = None,
    request_id: str | None = None,
) -> CarerLink:
    """A new carer linked to the patient; audited."""
    if not name.strip():
        raise InvalidInput("invalid carer", errors={"name": ["say who the carer is"]})
    carer = Carer(name=name.strip()[:120], phone=_phone(phone), email=email, created_at=now)
    session.add(carer)
    session.flush()
    return link_patient(session, carer=carer, patient=patient, link=link, actor=actor, now=now,
                        request_id=request_id)


def link_patient(
    session: so.Session, *, carer: Carer, patient: Patient, link: NewLink, actor: Actor,
    now: datetime, request_id: str | None = None,
) -> CarerLink:
    """Link a carer to (another) patient. :raise Conflict: already linked."""
    if not link.relationship.strip():
        raise InvalidInput("invalid carer", errors={"relationship": ["say how they are related"]})
    exists = sa.select(CarerLink.id).where(CarerLink.carer_id == carer.id,
                                           CarerLink.patient_id == patient.id)
    if session.scalar(exists) is not None:
        raise Conflict("this carer is already linked to the patient")
    row = CarerLink(carer_id=carer.id, patient_id=patient.id,
                    relationship=link.relationship.strip()[:40],
                    lives_with_patient=link.lives_with_patient, next_of_kin=link.next_of_kin,
                    consent_to_contact=link.consent_to_contact,
                    consent_recorded_by=actor.username[:120] if link.consent_to_contact else None,
                    consent_recorded_at=now if link.consent_to_contact else None)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="link_carer", now=now, patient_id=patient.id,
                 entity=("carer", carer.id), purpose="record who cares for the patient",
                 request_id=request_id,
                 details={"relationship": row.relationship,
                          "consent_to_contact": row.consent_to_contact})
    return row


def set_contact_consent(
    session: so.Session, *, link: CarerLink, consent: bool, actor: Actor, now: datetime,
    request_id: str | None = None,
) -> CarerLink:
    """Record or withdraw the patient's consent to the carer being contacted; audited."""
    link.consent_to_contact = consent
    link.consent_recorded_by = actor.username[:120] if consent else None
    link.consent_recorded_at = now if consent else None
    session.flush()
    audit.record(session, actor=actor, action="carer_contact_consent", now=now,
                 patient_id=link.patient_id, entity=("carer", link.carer_id),
                 purpose="consent to contact the carer", request_id=request_id,
                 details={"consent": consent})
    return link


def get_carer(session: so.Session, carer_id: int) -> Carer:
    """:raise NotFound: no such carer."""
    carer = session.get(Carer, carer_id)
    if carer is None:
        raise NotFound(f"carer {carer_id} not found")
    return carer


def get_link(session: so.Session, link_id: int) -> CarerLink:
    """:raise NotFound: no such link."""
    link = session.get(CarerLink, link_id)
    if link is None:
        raise NotFound(f"carer link {link_id} not found")
    return link


def links_of_patient(session: so.Session, patient_id: int) -> list[CarerLink]:
    """The patient's carers (next of kin first)."""
    stmt = sa.select(CarerLink).where(CarerLink.patient_id == patient_id).order_by(
        CarerLink.next_of_kin.desc(), CarerLink.id)
    return list(session.scalars(stmt))


def audit_carer_read(
    session: so.Session, *, actor: Actor, links: list[CarerLink], now: datetime,
    purpose: str, request_id: str | None,
) -> None:
    """One audit event per patient whose carer link was read."""
    for patient_id in sorted({link.patient_id for link in links}):
        audit.record(session, actor=actor, action="view_carers", now=now, patient_id=patient_id,
                     entity=("patient", patient_id), purpose=purpose, request_id=request_id)


def read_patient_carers(
    session: so.Session, patient: Patient, *, actor: Actor, now: datetime, purpose: str,
    request_id: str | None = None,
) -> list[CarerLink]:
    """The patient's carers; the read is audited (``view_carers``) even when there are none."""
    links = links_of_patient(session, patient.id)
    audit.record(session, actor=actor, action="view_carers", now=now, patient_id=patient.id,
                 entity=("patient", patient.id), purpose=purpose, request_id=request_id)
    return links


def read_links(
    session: so.Session, patient_id: int, *, actor: Actor, now: datetime, purpose: str,
    request_id: str | None = None,
) -> list[CarerLink]:
    """The patient's carers (next of kin first); audited as a carer read when there are any."""
    links = links_of_patient(session, patient_id)
    audit_carer_read(session, actor=actor, links=links, now=now, purpose=purpose,
                     request_id=request_id)
    return links


def read_carer(
    session: so.Session, carer_id: int, *, actor: Actor, now: datetime, purpose: str,
    request_id: str | None = None,
) -> Carer:
    """A carer and the people they look after; audited per cared-for patient.

    :raise NotFound: no such carer.
    """
    carer = get_carer(session, carer_id)
    audit_carer_read(session, actor=actor, links=carer.links, now=now, purpose=purpose,
                     request_id=request_id)
    return carer


@dataclass(frozen=True)
class CarerPage:
    """What a carer's page shows beside the carer: the people they look after (by link), each
    person's open visits (for the arrival window), and the carer's assessments."""

    people: dict[int, Patient | None]
    visits: dict[int, list[Visit]]
    assessments: list[CarerAssessment]


def read_carer_page(
    session: so.Session, carer: Carer, *, actor: Actor, now: datetime, purpose: str,
    request_id: str | None = None,
) -> CarerPage:
    """The carer's page; audited per cared-for patient."""
    audit_carer_read(session, actor=actor, links=carer.links, now=now, purpose=purpose,
                     request_id=request_id)
    people = {link.id: session.get(Patient, link.patient_id) for link in carer.links}
    visits = {link.id: list(session.scalars(sa.select(Visit).where(
        Visit.patient_id == link.patient_id,
        Visit.status.in_(states.VISIT_OPEN_STATUSES)).order_by(Visit.earliest_start)))
        for link in carer.links}
    return CarerPage(people=people, visits=visits, assessments=assessments_of(session, carer.id))


# --- carers' assessments ---------------------------------------------------------------------


def plan_assessment(
    session: so.Session, *, carer: Carer, due: date, actor: Actor, now: datetime,
    request_id: str | None = None,
) -> CarerAssessment:
    """Arrange a carer's assessment due by ``due``; audited against each cared-for patient."""
    if due < local(now).date():
        raise InvalidInput("invalid assessment", errors={"due": ["must be today or later"]})
    row = CarerAssessment(carer_id=carer.id, due=due, created_at=now,
                          created_by=actor.username[:120])
    session.add(row)
    session.flush()
    for link in carer.links:
        audit.record(session, actor=actor, action="plan_carer_assessment", now=now,
                     patient_id=link.patient_id, entity=("carer_assessment", row.id),
                     purpose="a carer's assessment of their own needs", request_id=request_id)
    return row


def record_assessment(
    session: so.Session, *, assessment: CarerAssessment, outcome: str, assessor: str,
    actor: Actor, now: datetime, request_id: str | None = None,
) -> CarerAssessment:
    """Record the assessment done with its outcome. :raise IllegalTransition: already done."""
    if assessment.done_at is not None:
        raise IllegalTransition("this assessment is already recorded")
    errors: dict[str, list[str]] = {}
    if not outcome.strip():
        errors["outcome"] = ["say what came of it"]
    if not assessor.strip():
        errors["assessor"] = ["say who assessed"]
    if errors:
        raise InvalidInput("invalid assessment", errors=errors)
    assessment.done_at = now
    assessment.outcome = outcome.strip()[:500]
    assessment.assessor = assessor.strip()[:120]
    session.flush()
    audit.record(session, actor=actor, action="record_carer_assessment", now=now,
                 entity=("carer_assessment", assessment.id), request_id=request_id,
                 purpose="a carer's assessment done")
    return assessment


def get_assessment(session: so.Session, assessment_id: int) -> CarerAssessment:
    """:raise NotFound: no such assessment."""
    row = session.get(CarerAssessment, assessment_id)
    if row is None:
        raise NotFound(f"carer assessment {assessment_id} not found")
    return row


def assessments_of(session: so.Session, carer_id: int) -> list[CarerAssessment]:
    stmt = sa.select(CarerAssessment).where(CarerAssessment.carer_id == carer_id)
    return list(session.scalars(stmt.order_by(CarerAssessment.due, CarerAssessment.id)))


def overdue_assessments(session: so.Session, *, patient_id: int, now: datetime
                        ) -> list[tuple[Carer, CarerAssessment]]:
    """The patient's carers' assessments past due and not done."""
    stmt = (sa.select(Carer, CarerAssessment)
            .join(CarerAssessment, CarerAssessment.carer_id == Carer.id)
            .join(CarerLink, CarerLink.carer_id == Carer.id)
            .where(CarerLink.patient_id == patient_id, CarerAssessment.done_at.is_(None),
                   CarerAssessment.due < local(now).date()))
    return [(c, a) for c, a in session.execute(stmt)]


# --- texting the carer about a visit ---------------------------------------------------------


def arrival_window(visit: Visit) -> tuple[datetime, datetime]:
    """The window told to the carer: an hour from the planned start, else the visit's window."""
    if visit.planned_start is not None:
        return visit.planned_start, visit.planned_start + ARRIVAL_WINDOW
    return visit.earliest_start, visit.deadline


def text_about_visit(
    session: so.Session, *, link: CarerLink, visit: Visit, actor: Actor, now: datetime,
    request_id: str | None = None,
) -> Message:
    """Queue a text to the carer with the visit's arrival window and reference only; audited.

    Two agreements are needed: the carer's own, to be contacted (``link.consent_to_contact``),
    and the patient's consent record of scope ``contact_carer`` (recorded and withdrawn as
    other consents, on the consent page or ``/api/patients/{id}/consents``).

    :raise Forbidden: the carer did not agree to be contacted, or the patient has not
        consented to their carer being contacted.
    :raise InvalidInput: the visit is not this patient's or not open, or the carer has no phone.
    """
    if not link.consent_to_contact:
        raise Forbidden("the carer has not agreed to be contacted")
    consent.require(session, patient_id=link.patient_id, scope="contact_carer")
    errors: dict[str, list[str]] = {}
    if visit.patient_id != link.patient_id:
        errors["visit_id"] = ["not a visit to the patient this carer looks after"]
    elif visit.status not in states.VISIT_OPEN_STATUSES:
        errors["visit_id"] = ["the visit is not open"]
    if not link.carer.phone:
        errors["phone"] = ["the carer has no phone number"]
    if errors:
        raise InvalidInput("cannot text the carer", errors=errors)
    start, end = arrival_window(visit)
    body = (f"NHS community care: a visit to your home is planned, arriving "
            f"{window_text(start, end, now)}. Ref {visit.reference}.")
    message = outbox.enqueue(session, to=link.carer.phone or "", body=body, now=now,
                             visit_id=visit.id,
                             forbidden=outbox.forbidden_for_visit(session, visit))
    session.flush()
    audit.record(session, actor=actor, action="text_carer_about_visit", now=now,
                 patient_id=link.patient_id, entity=("visit", visit.id), request_id=request_id,
                 purpose="tell the carer when the visit will arrive",
                 details={"carer_id": link.carer_id, "message_id": message.id})
    return message
