"""All ORM models, one module per aggregate; importing this registers every table."""

from dispatch.models.audit import AuditEvent
from dispatch.models.base import Base, UTCDateTime
from dispatch.models.consent import ConsentRecord
from dispatch.models.escalations import Escalation, OnCallText
from dispatch.models.messages import Message
from dispatch.models.networks import Network, StaffBase
from dispatch.models.operations import JobHeartbeat, PlannerRun
from dispatch.models.packages import CarePackage, CarePackageItem, TariffItem
from dispatch.models.patients import CarePlan, Patient
from dispatch.models.plans import Plan
from dispatch.models.referrals import Referral
from dispatch.models.staff import Shift, Staff
from dispatch.models.users import ApiToken, User
from dispatch.models.visits import Visit

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Base",
    "CarePackage",
    "CarePackageItem",
    "CarePlan",
    "ConsentRecord",
    "Escalation",
    "JobHeartbeat",
    "Message",
    "Network",
    "OnCallText",
    "Patient",
    "Plan",
    "PlannerRun",
    "Referral",
    "Shift",
    "Staff",
    "StaffBase",
    "TariffItem",
    "User",
    "UTCDateTime",
    "Visit",
]
