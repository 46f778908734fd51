"""GP practices, registration, multidisciplinary groups and care coordinators (issue 16).

Writes are staged in the caller's transaction with their audit event; the view commits. Reads
that name patients (a coordinator's caseload) are audited by the caller's page or API view
through :func:`audit_caseload_read`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.models import (
    CareCoordination,
    GpPractice,
    MdGroup,
    MdGroupMember,
    Network,
    Patient,
    PracticeRegistration,
    User,
)
from dispatch.models.practices import COORDINATED_TIERS, MDG_CADENCES, MDG_ROLES
from dispatch.models.vocab import RISK_TIERS
from dispatch.permissions import COORDINATOR
from dispatch.services import audit, strata

ODS_PRACTICE_CODE = re.compile(r"^[A-Z][0-9]{5}$")  # a GP practice's ODS code, e.g. E85001


def _network(session: so.Session, network_id: int) -> Network:
    network = session.get(Network, network_id)
    if network is None:
        raise InvalidInput("unknown network", errors={"network_id": ["no such network"]})
    return network


def create_practice(
    session: so.Session, *, ods_code: str, name: str, network_id: int, actor: Actor,
    now: datetime, phone: str | None = None,
) -> GpPractice:
    """Add a practice. :raise InvalidInput: bad ODS code or network. :raise Conflict: the code
    is taken."""
    code = ods_code.strip().upper()
    if not ODS_PRACTICE_CODE.match(code):
        raise InvalidInput("invalid practice", errors={
            "ods_code": ["a GP practice ODS code is a letter and five digits, like E85001"]})
    _network(session, network_id)
    if session.scalar(sa.select(GpPractice.id).where(GpPractice.ods_code == code)) is not None:
        raise Conflict(f"practice {code} already exists")
    practice = GpPractice(ods_code=code, name=name.strip(), network_id=network_id, phone=phone,
                          created_at=now)
    session.add(practice)
    session.flush()
    audit.record(session, actor=actor, action="create_practice", now=now,
                 entity=("gp_practice", practice.id), details={"ods_code": code})
    return practice


def list_practices(session: so.Session, *, network_id: int | None = None) -> list[GpPractice]:
    stmt = sa.select(GpPractice).order_by(GpPractice.name)
    if network_id is not None:
        stmt = stmt.where(GpPractice.network_id == network_id)
    return list(session.scalars(stmt))


def get_practice(session: so.Session, practice_id: int) -> GpPractice:
    """:raise NotFound: no such practice."""
    practice = session.get(GpPractice, practice_id)
    if practice is None:
        raise NotFound(f"practice {practice_id} not found")
    return practice


def register_patient(
    session: so.Session, *, patient: Patient, practice_id: int, actor: Actor, now: datetime,
) -> PracticeRegistration:
    """Register the patient with a practice (moving them if registered elsewhere); the
    patient's free-text ``gp_practice`` follows, so older pages show the same practice."""
    practice = get_practice(session, practice_id)
    registration = session.get(PracticeRegistration, patient.id)
    before = registration.practice_id if registration else None
    if registration is None:
        registration = PracticeRegistration(patient_id=patient.id, practice_id=practice.id,
                                            registered_at=now, recorded_by=actor.username[:120])
        session.add(registration)
    else:
        registration.practice_id = practice.id
        registration.registered_at = now
        registration.recorded_by = actor.username[:120]
    patient.gp_practice = f"{practice.name} ({practice.ods_code})"[:120]
    session.flush()
    audit.record(session, actor=actor, action="register_patient_practice", now=now,
                 patient_id=patient.id, entity=("gp_practice", practice.id),
                 purpose="register the patient with their GP practice",
                 details={"from_practice_id": before, "to_practice_id": practice.id})
    return registration


def practice_of(session: so.Session, patient_id: int) -> GpPractice | None:
    registration = session.get(PracticeRegistration, patient_id)
    return registration.practice if registration else None


# --- multidisciplinary groups ----------------------------------------------------------------


def create_group(
    session: so.Session, *, network_id: int, name: str, actor: Actor, now: datetime,
    cadence: str = "monthly", manager_user_id: int | None = None,
) -> MdGroup:
    """A multidisciplinary group of a network, with its MDG manager (a user) if named."""
    _network(session, network_id)
    if cadence not in MDG_CADENCES:
        raise InvalidInput("invalid group",
                           errors={"cadence": [f"one of {', '.join(MDG_CADENCES)}"]})
    if manager_user_id is not None and session.get(User, manager_user_id) is None:
        raise InvalidInput("invalid group", errors={"manager_user_id": ["no such user"]})
    taken = sa.select(MdGroup.id).where(MdGroup.network_id == network_id, MdGroup.name == name)
    if session.scalar(taken) is not None:
        raise Conflict(f"the network already has a group called {name!r}")
    group = MdGroup(network_id=network_id, name=name.strip(), cadence=cadence,
                    manager_user_id=manager_user_id, created_at=now)
    session.add(group)
    session.flush()
    audit.record(session, actor=actor, action="create_md_group", now=now,
                 entity=("md_group", group.id), details={"network_id": network_id})
    return group


def get_group(session: so.Session, group_id: int) -> MdGroup:
    """:raise NotFound: no such group."""
    group = session.get(MdGroup, group_id)
    if group is None:
        raise NotFound(f"group {group_id} not found")
    return group


def list_groups(session: so.Session, *, network_id: int | None = None) -> list[MdGroup]:
    stmt = sa.select(MdGroup).order_by(MdGroup.network_id, MdGroup.name)
    if network_id is not None:
        stmt = stmt.where(MdGroup.network_id == network_id)
    return list(session.scalars(stmt))


def add_member(
    session: so.Session, *, group_id: int, name: str, role: str, actor: Actor, now: datetime,
    organisation: str | None = None, user_id: int | None = None,
) -> MdGroupMember:
    """Add a member by role; an ``mdg_manager`` member with a user becomes the group's manager
    when it has none."""
    group = get_group(session, group_id)
    errors: dict[str, list[str]] = {}
    if role not in MDG_ROLES:
        errors["role"] = [f"one of {', '.join(MDG_ROLES)}"]
    if user_id is not None and session.get(User, user_id) is None:
        errors["user_id"] = ["no such user"]
    if not name.strip():
        errors["name"] = ["say who the member is"]
    if errors:
        raise InvalidInput("invalid member", errors=errors)
    member = MdGroupMember(group_id=group.id, name=name.strip(), role=role,
                           organisation=organisation, user_id=user_id)
    session.add(member)
    if role == "mdg_manager" and user_id is not None and group.manager_user_id is None:
        group.manager_user_id = user_id
    session.flush()
    audit.record(session, actor=actor, action="add_md_group_member", now=now,
                 entity=("md_group", group.id), details={"role": role, "member_id": member.id})
    return member


def group_patient_ids(session: so.Session, group: MdGroup) -> list[int]:
    """The group's patients: those registered with a practice of its network, else (no
    registration recorded) those whose home network it is."""
    registered = sa.select(PracticeRegistration.patient_id).join(
        GpPractice, GpPractice.id == PracticeRegistration.practice_id).where(
        GpPractice.network_id == group.network_id)
    unregistered = sa.select(Patient.id).where(
        Patient.network_id == group.network_id,
        Patient.id.not_in(sa.select(PracticeRegistration.patient_id)))
    return sorted(set(session.scalars(registered)) | set(session.scalars(unregistered)))


# --- care coordinators -----------------------------------------------------------------------


def assign_coordinator(
    session: so.Session, *, patient: Patient, coordinator_user_id: int, actor: Actor,
    now: datetime,
) -> CareCoordination:
    """Name the patient's care coordinator (a user with the coordinator role); audited."""
    user = session.get(User, coordinator_user_id)
    if user is None or user.role != COORDINATOR or not user.active:
        raise InvalidInput("invalid coordinator", errors={
            "coordinator_user_id": ["must be an active user with the coordinator role"]})
    row = session.get(CareCoordination, patient.id)
    before = row.coordinator_user_id if row else None
    if row is None:
        row = CareCoordination(patient_id=patient.id, coordinator_user_id=user.id,
                               assigned_at=now, assigned_by=actor.username[:120])
        session.add(row)
    else:
        row.coordinator_user_id = user.id
        row.assigned_at = now
        row.assigned_by = actor.username[:120]
    session.flush()
    audit.record(session, actor=actor, action="assign_care_coordinator", now=now,
                 patient_id=patient.id, entity=("user", user.id),
                 purpose="name the patient's care coordinator",
                 details={"from_user_id": before, "to_user_id": user.id})
    return row


def coordinator_of(session: so.Session, patient_id: int) -> User | None:
    row = session.get(CareCoordination, patient_id)
    return session.get(User, row.coordinator_user_id) if row else None


@dataclass(frozen=True)
class CaseloadSize:
    """One coordinator's caseload in numbers (no patient identifiers)."""

    user_id: int
    username: str
    display_name: str
    network_id: int | None
    patients: int
    by_tier: dict[str, int]


def caseloads(session: so.Session, *, network_id: int | None = None) -> list[CaseloadSize]:
    """Every coordinator with the size of their caseload by risk tier, largest first."""
    users = sa.select(User).where(User.role == COORDINATOR, User.active.is_(True))
    if network_id is not None:
        users = users.where(User.network_id == network_id)
    rows = session.execute(
        sa.select(CareCoordination.coordinator_user_id, Patient.risk_tier)
        .join(Patient, Patient.id == CareCoordination.patient_id)).all()
    tiers: dict[int, Counter[str]] = {}
    for user_id, tier in rows:
        tiers.setdefault(user_id, Counter())[tier] += 1
    out = [CaseloadSize(u.id, u.username, u.display_name, u.network_id,
                        sum(tiers.get(u.id, Counter()).values()), dict(tiers.get(u.id, {})))
           for u in session.scalars(users)]
    return sorted(out, key=lambda c: (-c.patients, c.display_name))


def caseload(session: so.Session, *, coordinator_user_id: int,
             limit: int | None = None) -> list[Patient]:
    """The coordinator's patients, highest risk first, the first ``limit`` of them
    (identifiers: audit the read)."""
    order = sa.case({t: i for i, t in enumerate(COORDINATED_TIERS)}, value=Patient.risk_tier,
                    else_=len(COORDINATED_TIERS))
    stmt = (sa.select(Patient).join(CareCoordination, CareCoordination.patient_id == Patient.id)
            .where(CareCoordination.coordinator_user_id == coordinator_user_id)
            .order_by(order, Patient.family_name, Patient.id))
    return list(session.scalars(stmt.limit(limit)))


def caseload_size(session: so.Session, *, coordinator_user_id: int) -> int:
    return int(session.scalar(sa.select(sa.func.count()).where(
        CareCoordination.coordinator_user_id == coordinator_user_id)) or 0)


@dataclass(frozen=True)
class NetworkCaseloads:
    """Each coordinator's caseload and the top-three-tier patients with nobody named."""

    coordinators: list[CaseloadSize]
    uncoordinated: int


def network_caseloads(session: so.Session, *, network_id: int | None = None) -> NetworkCaseloads:
    """:func:`caseloads` and :func:`uncoordinated_count` together (numbers only)."""
    return NetworkCaseloads(caseloads(session, network_id=network_id),
                            uncoordinated_count(session, network_id=network_id))


def _needs_coordinator(session: so.Session) -> sa.ColumnElement[bool]:
    """Patients in a tier their network's care coordinators own (the network's rules, issue
    17; the seeds' top three tiers by default) with no named care coordinator."""
    rules = strata.rules_by_network(session)
    owned = [sa.and_(Patient.network_id == nid, Patient.risk_tier.in_(sorted(r.coordinated_tiers)))
             for nid, r in rules.items()]
    owned.append(sa.and_(Patient.network_id.is_(None),
                         Patient.risk_tier.in_(strata.DEFAULT_COORDINATED_TIERS)))
    return sa.and_(sa.or_(*owned), Patient.id.not_in(sa.select(CareCoordination.patient_id)))


def uncoordinated_count(session: so.Session, *, network_id: int | None = None) -> int:
    """Patients in the tiers their network's coordinators own (by default the top three)
    with no named care coordinator."""
    stmt = sa.select(sa.func.count(Patient.id)).where(_needs_coordinator(session))
    if network_id is not None:
        stmt = stmt.where(Patient.network_id == network_id)
    return int(session.scalar(stmt) or 0)


@dataclass(frozen=True)
class CaseloadPatient:
    """One patient on a coordinator's caseload as the API lists them."""

    patient_id: int
    name: str
    nhs_number: str | None
    risk_tier: str
    practice: str | None


def read_caseload(
    session: so.Session, *, coordinator_user_id: int, actor: Actor, now: datetime,
    request_id: str | None = None,
) -> list[CaseloadPatient]:
    """The coordinator's patients, highest risk first, with their practice; each patient
    listed is audited (:func:`audit_caseload_read`)."""
    patients = caseload(session, coordinator_user_id=coordinator_user_id)
    audit_caseload_read(session, actor=actor, patients=patients, now=now, request_id=request_id)
    return _listed(session, patients)


def _listed(session: so.Session, patients: list[Patient]) -> list[CaseloadPatient]:
    rows = []
    for p in patients:
        practice = practice_of(session, p.id)
        rows.append(CaseloadPatient(
            patient_id=p.id, name=f"{p.given_name} {p.family_name}", nhs_number=p.nhs_number,
            risk_tier=p.risk_tier, practice=practice.name if practice else p.gp_practice))
    return rows


def uncoordinated(session: so.Session, *, network_id: int | None = None,
                  limit: int = 200) -> list[Patient]:
    """Those patients, highest risk first (identifiers: audit the read)."""
    order = sa.case({t: i for i, t in enumerate(RISK_TIERS)}, value=Patient.risk_tier,
                    else_=len(RISK_TIERS))
    stmt = sa.select(Patient).where(_needs_coordinator(session))
    if network_id is not None:
        stmt = stmt.where(Patient.network_id == network_id)
    return list(session.scalars(stmt.order_by(order, Patient.family_name, Patient.id)
                                .limit(limit)))


def read_uncoordinated(session: so.Session, *, actor: Actor, now: datetime,
                       network_id: int | None = None,
                       request_id: str | None = None) -> list[CaseloadPatient]:
    """:func:`uncoordinated` as the API lists them, each patient audited (``view_caseload``)."""
    patients = uncoordinated(session, network_id=network_id)
    audit_caseload_read(session, actor=actor, patients=patients, now=now,
                        request_id=request_id, purpose="patients without a care coordinator")
    return _listed(session, patients)


def audit_caseload_read(
    session: so.Session, *, actor: Actor, patients: list[Patient], now: datetime,
    request_id: str | None, purpose: str = "care coordinator's caseload",
) -> None:
    """One audit event per patient named on a caseload page or answer."""
    for patient in patients:
        audit.record(session, actor=actor, action="view_caseload", now=now,
                     patient_id=patient.id, entity=("patient", patient.id), purpose=purpose,
                     request_id=request_id)
