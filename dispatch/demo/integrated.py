"""Integrated care in the demo (issue 16): practices, multidisciplinary groups, named care
coordinators, and Joe and Annie's story in progress.

Why a person already on the register becomes "Joe": the register's size and tiers are the
demo's contract (its tests count them); the oldest very-high-risk patient with dementia in the
first network is renamed Joe and given the story (a GP-led care plan, Annie as his carer, a
referral to the council, grab rails to install, a case conference). Everything else is
written in bulk SQL so the full tri-borough register loads as fast as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
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
from dispatch.models.practices import COORDINATED_TIERS
from dispatch.services import care_plans, carers, conferences, onward, practices
from triage.timing import local

#: Each demo network's practice: a made-up ODS code (letter and five digits).
ODS_PREFIX: Final = "Y9"
#: Patients the demo coordinator coordinates (a full-time coordinator's caseload).
DEMO_CASELOAD: Final = 80
MDG_MEMBERS: Final = (("Dr Anita Patel", "gp", "GP practice"),
                      ("Dee Okafor", "district_nurse", "Community nursing"),
                      ("Sam Reid", "social_worker", "Council adult social care"),
                      ("Dr Lewis Grant", "consultant", "Imperial College Healthcare"),
                      ("Priya Shah", "mental_health", "Mental health trust"),
                      ("Mo Hussain", "mdg_manager", "Provider network"))


@dataclass(frozen=True)
class IntegratedSummary:
    """What the step added (Joe's patient id, or None on an empty register)."""

    practices: int
    groups: int
    coordinated: int
    joe_patient_id: int | None
    care_plans: int


def add_integrated_care(session: so.Session, *, now: datetime) -> IntegratedSummary:
    """Practices, groups and coordinators for every network, then Joe and Annie."""
    networks = list(session.scalars(sa.select(Network).order_by(Network.id)))
    coordinator = session.scalar(sa.select(User).where(User.role == "coordinator")
                                 .order_by(User.id))
    groups = []
    for index, network in enumerate(networks, start=1):
        practice = GpPractice(ods_code=f"{ODS_PREFIX}{index:04d}",
                              name=f"{network.name} Medical Centre", network_id=network.id,
                              created_at=now)
        group = MdGroup(network_id=network.id, name=f"{network.name} MDG", cadence="monthly",
                        created_at=now)
        session.add_all([practice, group])
        session.flush()
        session.add_all([MdGroupMember(group_id=group.id, name=name, role=role,
                                       organisation=org) for name, role, org in MDG_MEMBERS])
        _register_all(session, practice, now)
        groups.append(group)
    coordinated = _coordinate_top_tiers(session, coordinator, now) if coordinator else 0
    session.flush()
    joe_id, plans = (_joe_and_annie(session, coordinator, groups[0] if groups else None, now)
                     if coordinator else (None, 0))
    return IntegratedSummary(len(networks), len(networks), coordinated, joe_id, plans)


def _register_all(session: so.Session, practice: GpPractice, now: datetime) -> None:
    """Every patient of the network on the list of its practice (one INSERT ... SELECT)."""
    session.execute(sa.insert(PracticeRegistration).from_select(
        ["patient_id", "practice_id", "registered_at", "recorded_by"],
        sa.select(Patient.id, sa.literal(practice.id), sa.literal(now, type_=sa.DateTime(True)),
                  sa.literal("demo")).where(Patient.network_id == practice.network_id)))


def _coordinate_top_tiers(session: so.Session, coordinator: User, now: datetime) -> int:
    """The demo coordinator takes a real caseload of their network's top tiers (highest risk
    first, at most :data:`DEMO_CASELOAD`); the rest show as "no coordinator" on /caseloads,
    the gap a network would staff."""
    order = sa.case({t: i for i, t in enumerate(COORDINATED_TIERS)}, value=Patient.risk_tier)
    stmt = sa.select(Patient.id, sa.literal(coordinator.id), sa.literal(
        now, type_=sa.DateTime(True)), sa.literal("demo")).where(
        Patient.risk_tier.in_(COORDINATED_TIERS), Patient.network_id == coordinator.network_id
    ).order_by(order, Patient.id).limit(DEMO_CASELOAD)
    result = session.execute(sa.insert(CareCoordination).from_select(
        ["patient_id", "coordinator_user_id", "assigned_at", "assigned_by"], stmt))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _pick_joe(session: so.Session, network_id: int | None) -> Patient | None:
    base = sa.select(Patient).where(Patient.network_id == network_id).order_by(
        Patient.date_of_birth, Patient.id).limit(1)
    for extra in ((Patient.risk_tier == "very_high", Patient.conditions.cast(sa.String)
                   .contains("dementia")), (Patient.risk_tier == "very_high",), ()):
        found = session.scalar(base.where(*extra))
        if found is not None:
            return found
    return None


def _joe_and_annie(session: so.Session, coordinator: User, group: MdGroup | None,
                   now: datetime) -> tuple[int | None, int]:
    joe = _pick_joe(session, coordinator.network_id)
    if joe is None or group is None:
        return None, 0
    actor = Actor(user_id=coordinator.id, username=coordinator.username, role="coordinator")
    today = local(now).date()
    joe.given_name = "Joe"
    if not joe.consent_to_share:
        joe.consent_to_share = True
        joe.consent_recorded_by = coordinator.username
        joe.consent_recorded_at = now - timedelta(days=30)
    if session.get(CareCoordination, joe.id) is None:
        practices.assign_coordinator(session, patient=joe, coordinator_user_id=coordinator.id,
                                     actor=actor, now=now)
    care_plans.author_version(session, patient=joe, actor=actor, now=now, new=care_plans.NewVersion(
        summary="85, early dementia; lives at home with Annie (wife, main carer). GP-led "
                "integrated care plan.",
        goals=("Stay at home with Annie", "Walk safely around the flat"),
        needs=("Prompting with medicines", "Help with mobility while he recovers"),
        crisis_plan="Sudden confusion or a fall: urgent community response within 2 hours "
                    "(screen for infection); 999 only for red flags. Call Annie first.",
        next_of_kin="Annie (wife), lives with Joe", dnacpr="not_discussed",
        respect="not_in_place", review_due=today + timedelta(days=60),
        reviewer="Dr Anita Patel (GP)"))
    link = carers.add_carer(session, patient=joe, name=f"Annie {joe.family_name}",
                            phone="07700 900123",
                            actor=actor, now=now, link=carers.NewLink(
                                relationship="wife", lives_with_patient=True, next_of_kin=True,
                                consent_to_contact=True))
    carers.plan_assessment(session, carer=link.carer, due=today + timedelta(days=10),
                           actor=actor, now=now)
    council = onward.create_onward(session, patient=joe, service="adult_social_care",
                                   reason="Annie needs more help at home", actor=actor,
                                   now=now - timedelta(days=1))
    onward.change_status(session, onward=council, status="accepted", actor=actor, now=now,
                         contact="Tri-borough ASC duty team",
                         outcome="Needs more time to assess Joe's needs")
    onward.create_onward(session, patient=joe, service="memory_clinic", actor=actor, now=now,
                         reason="Memory worse since the infection")
    conference = conferences.build_conference(session, group=group, actor=actor, now=now,
                                              held_at=now + timedelta(days=2))
    case = next((c for c in conference.cases if c.patient_id == joe.id), None) or \
        conferences.pick_case(session, conference=conference, patient=joe, actor=actor,
                              now=now, note="Crisis this week: infection, confusion")
    conferences.add_action(session, case=case, title="Install grab rails in the bathroom",
                           due=today + timedelta(days=3), owner_user_id=coordinator.id,
                           actor=actor, now=now)
    onward.create_onward(session, patient=joe, service="equipment_telecare", actor=actor,
                         now=now, reason="Grab rails and a falls pendant")
    session.flush()
    return joe.id, 1
