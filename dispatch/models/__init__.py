"""All ORM models, one module per aggregate; importing this registers every table."""

from dispatch.models.audit import AuditEvent
from dispatch.models.base import Base, UTCDateTime
from dispatch.models.budgets import NetworkBudget
from dispatch.models.capacity import CapacityPlan
from dispatch.models.care_plans import CarePlanReview
from dispatch.models.carers import Carer, CarerAssessment, CarerLink
from dispatch.models.conferences import CaseConference, ConferenceCase
from dispatch.models.consent import ConsentRecord
from dispatch.models.discharges import HospitalDischarge
from dispatch.models.escalations import Escalation, OnCallText
from dispatch.models.messages import Message
from dispatch.models.networks import Network, StaffBase
from dispatch.models.onward import OnwardReferral, Task
from dispatch.models.operations import JobHeartbeat, PlannerRun, PlanningTask
from dispatch.models.packages import CarePackage, CarePackageItem, TariffItem
from dispatch.models.patients import CarePlan, Patient
from dispatch.models.plans import Plan
from dispatch.models.practices import (
    CareCoordination,
    GpPractice,
    MdGroup,
    MdGroupMember,
    PracticeRegistration,
)
from dispatch.models.referrals import Referral
from dispatch.models.staff import Absence, Shift, Staff
from dispatch.models.users import ApiToken, User, UserNetwork
from dispatch.models.visits import SlotHold, Visit, VisitLink

__all__ = [
    "Absence",
    "ApiToken",
    "AuditEvent",
    "Base",
    "CapacityPlan",
    "CareCoordination",
    "CarePackage",
    "CaseConference",
    "ConferenceCase",
    "CarePackageItem",
    "CarePlan",
    "CarePlanReview",
    "Carer",
    "CarerAssessment",
    "CarerLink",
    "ConsentRecord",
    "Escalation",
    "GpPractice",
    "HospitalDischarge",
    "MdGroup",
    "MdGroupMember",
    "JobHeartbeat",
    "Message",
    "Network",
    "NetworkBudget",
    "OnCallText",
    "OnwardReferral",
    "Patient",
    "Plan",
    "PracticeRegistration",
    "PlannerRun",
    "PlanningTask",
    "Referral",
    "Shift",
    "Staff",
    "StaffBase",
    "Task",
    "TariffItem",
    "User",
    "UserNetwork",
    "UTCDateTime",
    "Visit",
    "VisitLink",
    "SlotHold",
]
