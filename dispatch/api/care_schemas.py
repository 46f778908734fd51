"""Schemas (marshmallow) of the integrated-care resources (issue 16): practices, groups,
coordinators, care plans, carers, onward referrals and tasks.

Kept apart from ``dispatch.api.schemas`` (the referral intake's) so that the two grow without
treading on each other.
"""

from __future__ import annotations

from marshmallow import fields, validate

from dispatch.models.care_plans import RESUSCITATION_STATUSES
from dispatch.models.conferences import ROOT_CAUSES
from dispatch.models.consent import CONSENT_DECISIONS, CONSENT_GIVERS, CONSENT_SCOPES
from dispatch.models.onward import ONWARD_SERVICES, ONWARD_STATUSES
from dispatch.models.practices import MDG_CADENCES, MDG_ROLES
from dispatch.schemas.referrals import StrictSchema, Text

ID = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))


class PracticeCreateSchema(StrictSchema):
    ods_code = Text(required=True, validate=validate.Length(min=1, max=8),
                    metadata={"description": "ODS code of a GP practice: a letter and five "
                                             "digits, e.g. E85001"})
    name = Text(required=True, validate=validate.Length(min=1, max=120))
    network_id = ID
    phone = Text(validate=validate.Length(max=16))


class PracticeSchema(StrictSchema):
    id = fields.Integer()
    ods_code = fields.String()
    name = fields.String()
    network_id = fields.Integer()
    phone = fields.String(allow_none=True)


class NetworkQuerySchema(StrictSchema):
    network_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class RegistrationCreateSchema(StrictSchema):
    patient_id = ID


class RegistrationSchema(StrictSchema):
    patient_id = fields.Integer()
    practice_id = fields.Integer()
    registered_at = fields.DateTime()
    recorded_by = fields.String()


class MemberCreateSchema(StrictSchema):
    name = Text(required=True, validate=validate.Length(min=1, max=120))
    role = fields.String(required=True, validate=validate.OneOf(MDG_ROLES))
    organisation = Text(validate=validate.Length(max=120))
    user_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class MemberSchema(StrictSchema):
    id = fields.Integer()
    name = fields.String()
    role = fields.String()
    organisation = fields.String(allow_none=True)
    user_id = fields.Integer(allow_none=True)


class GroupCreateSchema(StrictSchema):
    network_id = ID
    name = Text(required=True, validate=validate.Length(min=1, max=120))
    cadence = fields.String(load_default="monthly", validate=validate.OneOf(MDG_CADENCES))
    manager_user_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class GroupSchema(StrictSchema):
    id = fields.Integer()
    network_id = fields.Integer()
    name = fields.String()
    cadence = fields.String()
    manager_user_id = fields.Integer(allow_none=True)
    members = fields.List(fields.Nested(MemberSchema))


class CoordinatorAssignSchema(StrictSchema):
    coordinator_user_id = ID


class CoordinationSchema(StrictSchema):
    patient_id = fields.Integer()
    coordinator_user_id = fields.Integer()
    assigned_at = fields.DateTime()
    assigned_by = fields.String()


class CaseloadSizeSchema(StrictSchema):
    user_id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    network_id = fields.Integer(allow_none=True)
    patients = fields.Integer()
    by_tier = fields.Dict(keys=fields.String(), values=fields.Integer())


class CaseloadsSchema(StrictSchema):
    coordinators = fields.List(fields.Nested(CaseloadSizeSchema))
    uncoordinated = fields.Integer(metadata={
        "description": "patients with no named care coordinator in a tier their network's "
                       "coordinators own (the network's tier rules; by default the top three)"})


class CaseloadPatientSchema(StrictSchema):
    patient_id = fields.Integer()
    name = fields.String()
    nhs_number = fields.String(allow_none=True)
    risk_tier = fields.String()
    practice = fields.String(allow_none=True)


# --- care plans (item 2) ----------------------------------------------------------------------


class CarePlanVersionCreateSchema(StrictSchema):
    summary = Text(required=True, validate=validate.Length(min=1, max=2000))
    goals = fields.List(Text(validate=validate.Length(max=200)), load_default=list)
    needs = fields.List(Text(validate=validate.Length(max=200)), load_default=list)
    crisis_plan = Text(required=True, validate=validate.Length(min=1, max=2000),
                       metadata={"description": "what to do in a crisis"})
    next_of_kin = Text(load_default="", validate=validate.Length(max=300))
    dnacpr = fields.String(required=True, validate=validate.OneOf(RESUSCITATION_STATUSES))
    respect = fields.String(required=True, validate=validate.OneOf(RESUSCITATION_STATUSES),
                            metadata={"description": "ReSPECT form status"})
    review_due = fields.Date(required=True, metadata={"description": "after today, within a year"})
    reviewer = Text(required=True, validate=validate.Length(min=1, max=120))
    reviewer_user_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class CarePlanVersionSchema(StrictSchema):
    version = fields.Integer()
    summary = fields.String()
    content = fields.Dict()
    author = fields.String()
    created_at = fields.DateTime()
    review_due = fields.Date(allow_none=True)
    reviewer = fields.String(allow_none=True)
    past_review = fields.Boolean()
    warnings = fields.List(fields.String(), metadata={
        "description": "DNACPR / ReSPECT in words: show as a warning banner"})


class CarePlanVersionsSchema(StrictSchema):
    patient_id = fields.Integer()
    access_basis = fields.String()
    versions = fields.List(fields.Nested(CarePlanVersionSchema))


class CarePlanVersionsQuerySchema(StrictSchema):
    purpose = Text(load_default="review the care plan", validate=validate.Length(min=1, max=200))
    override_purpose = fields.String()
    override_reason = Text(validate=validate.Length(max=400))


class OverdueQuerySchema(StrictSchema):
    coordinator_user_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class OverdueReviewSchema(StrictSchema):
    patient_id = fields.Integer()
    version = fields.Integer()
    review_due = fields.Date()
    reviewer = fields.String()
    coordinator_user_id = fields.Integer(allow_none=True)


# --- onward referrals and tasks (item 4) ---------------------------------------------------


class OnwardCreateSchema(StrictSchema):
    patient_id = ID
    service = fields.String(required=True, validate=validate.OneOf(ONWARD_SERVICES))
    reason = Text(required=True, validate=validate.Length(min=1, max=500))
    referral_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    due_at = fields.AwareDateTime(metadata={"description": "default: the service's usual time"})
    handover = fields.Boolean(load_default=False, metadata={
        "description": "someone must confirm the other service took the person"})


class OnwardStatusSchema(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(ONWARD_STATUSES))
    contact = Text(validate=validate.Length(max=120),
                   metadata={"description": "who took it (required to accept)"})
    outcome = Text(validate=validate.Length(max=300),
                   metadata={"description": "what happened (required to decline)"})
    service = fields.String(validate=validate.OneOf(ONWARD_SERVICES))


class OnwardSchema(StrictSchema):
    id = fields.Integer()
    patient_id = fields.Integer()
    referral_id = fields.Integer(allow_none=True)
    service = fields.String()
    reason = fields.String()
    status = fields.String()
    handover = fields.Boolean()
    due_at = fields.DateTime()
    overdue = fields.Boolean()
    contact = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    created_at = fields.DateTime()
    created_by = fields.String()
    updated_at = fields.DateTime()
    updated_by = fields.String()


class OnwardQuerySchema(StrictSchema):
    patient_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    status = fields.String(validate=validate.OneOf(ONWARD_STATUSES))
    open = fields.Boolean(load_default=False)


class TaskCreateSchema(StrictSchema):
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    due = fields.Date(required=True)
    patient_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    owner_user_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    owner_name = Text(load_default="", validate=validate.Length(max=120))
    onward_referral_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class TaskSchema(StrictSchema):
    id = fields.Integer()
    patient_id = fields.Integer(allow_none=True)
    title = fields.String()
    owner_user_id = fields.Integer(allow_none=True)
    owner_name = fields.String()
    due = fields.Date()
    onward_referral_id = fields.Integer(allow_none=True)
    done_at = fields.DateTime(allow_none=True)
    done_by = fields.String(allow_none=True)


class TaskQuerySchema(StrictSchema):
    owner_user_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    patient_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    open = fields.Boolean(load_default=False)


# --- carers (item 3) -------------------------------------------------------------------------


class LinkFields(StrictSchema):
    relationship = Text(required=True, validate=validate.Length(min=1, max=40))
    lives_with_patient = fields.Boolean(load_default=False)
    next_of_kin = fields.Boolean(load_default=False)
    consent_to_contact = fields.Boolean(load_default=False, metadata={
        "description": "the patient consented to the service contacting this carer"})


class CarerCreateSchema(LinkFields):
    patient_id = ID
    name = Text(required=True, validate=validate.Length(min=1, max=120))
    phone = Text(validate=validate.Length(max=20))
    email = fields.Email(validate=validate.Length(max=120))


class LinkCreateSchema(LinkFields):
    patient_id = ID


class LinkSchema(StrictSchema):
    id = fields.Integer()
    carer_id = fields.Integer()
    patient_id = fields.Integer()
    relationship = fields.String()
    lives_with_patient = fields.Boolean()
    next_of_kin = fields.Boolean()
    consent_to_contact = fields.Boolean()
    consent_recorded_by = fields.String(allow_none=True)
    consent_recorded_at = fields.DateTime(allow_none=True)


class CarerSchema(StrictSchema):
    id = fields.Integer()
    name = fields.String()
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    links = fields.List(fields.Nested(LinkSchema))


class CarerQuerySchema(StrictSchema):
    patient_id = ID


class AssessmentCreateSchema(StrictSchema):
    due = fields.Date(required=True)


class AssessmentDoneSchema(StrictSchema):
    outcome = Text(required=True, validate=validate.Length(min=1, max=500))
    assessor = Text(required=True, validate=validate.Length(min=1, max=120))


class AssessmentSchema(StrictSchema):
    id = fields.Integer()
    carer_id = fields.Integer()
    due = fields.Date()
    done_at = fields.DateTime(allow_none=True)
    assessor = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)


class ConsentChangeSchema(StrictSchema):
    consent_to_contact = fields.Boolean(required=True)


class VisitTextSchema(StrictSchema):
    visit_id = ID


class SentTextSchema(StrictSchema):
    id = fields.Integer()
    to = fields.String(attribute="to_number")
    body = fields.String()
    status = fields.String()
    visit_id = fields.Integer()


# --- hospital discharge (item 5) -------------------------------------------------------------


class PackageLineSchema(StrictSchema):
    tariff_code = Text(required=True, validate=validate.Length(min=1, max=32))
    units_per_week = fields.Float(required=True, validate=validate.Range(min=0.5, max=100))
    weeks = fields.Integer(required=True, validate=validate.Range(min=1, max=52))


class DischargeCreateSchema(StrictSchema):
    patient_id = ID
    hospital = Text(required=True, validate=validate.Length(min=1, max=120))
    ward = Text(validate=validate.Length(max=80))
    discharged_at = fields.AwareDateTime(required=True)
    follow_up_hours = fields.Integer(required=True, validate=validate.OneOf((24, 48)))
    summary = Text(required=True, validate=validate.Length(min=1, max=2000))
    needs = fields.List(fields.String(), load_default=list, metadata={
        "description": "triage need codes for the follow-up (default: medication_review)"})
    care_package_needed = fields.Boolean(load_default=False)
    care_package = fields.List(fields.Nested(PackageLineSchema), load_default=list, metadata={
        "description": "care at home the discharge summary asks for: a draft package"})


class DischargeVisitSchema(StrictSchema):
    id = fields.Integer()
    reference = fields.String()
    status = fields.String()
    deadline = fields.DateTime()


class DischargeSchema(StrictSchema):
    id = fields.Integer()
    patient_id = fields.Integer()
    referral_id = fields.Integer()
    hospital = fields.String()
    discharged_at = fields.DateTime()
    follow_up_hours = fields.Integer()
    care_package_needed = fields.Boolean()
    package_id = fields.Integer(allow_none=True)
    visits = fields.List(fields.Nested(DischargeVisitSchema), metadata={
        "description": "the follow-up visit(s): id, reference, status, deadline"})


class DischargeKpiQuerySchema(StrictSchema):
    since = fields.AwareDateTime(required=True)
    until = fields.AwareDateTime(required=True)


class DischargeKpiSchema(StrictSchema):
    count = fields.Integer()
    met = fields.Integer()
    missed = fields.Integer()
    open = fields.Integer()
    compliance = fields.Float(allow_none=True)


# --- case conferences (item 6) ---------------------------------------------------------------


class ConferenceCreateSchema(StrictSchema):
    held_at = fields.AwareDateTime(required=True)


class ActionSchema(TaskSchema):
    conference_case_id = fields.Integer(allow_none=True)


class ConferenceCaseSchema(StrictSchema):
    id = fields.Integer()
    patient_id = fields.Integer()
    reasons = fields.List(fields.String(), metadata={
        "description": "sent_to_999, admitted, discharged, jeopardy, coordinator_pick"})
    notes = fields.String(allow_none=True)
    root_cause = fields.String(allow_none=True)
    picked_by = fields.String(allow_none=True)
    actions = fields.List(fields.Nested(ActionSchema))


class ConferenceSchema(StrictSchema):
    id = fields.Integer()
    group_id = fields.Integer()
    held_at = fields.DateTime()
    since = fields.DateTime()
    cases = fields.List(fields.Nested(ConferenceCaseSchema))


class PickSchema(StrictSchema):
    patient_id = ID
    note = Text(validate=validate.Length(max=2000))


class CaseUpdateSchema(StrictSchema):
    notes = Text(validate=validate.Length(max=5000))
    root_cause = fields.String(validate=validate.OneOf(ROOT_CAUSES))


class ActionCreateSchema(StrictSchema):
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    due = fields.Date(required=True)
    owner_user_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    owner_name = Text(load_default="", validate=validate.Length(max=120))


# --- consent by API (issue 16, consent) -------------------------------------------------------


class ConsentDecisionSchema(StrictSchema):
    decision = fields.String(required=True, validate=validate.OneOf(CONSENT_DECISIONS))
    given_by = fields.String(required=True, validate=validate.OneOf(CONSENT_GIVERS))
    scope = fields.String(load_default=CONSENT_SCOPES[0], validate=validate.OneOf(CONSENT_SCOPES),
                          metadata={"description": "care_plan_direct_care (default), "
                                    "contact_carer or text_patient"})


class ConsentRecordSchema(StrictSchema):
    id = fields.Integer()
    decision = fields.String()
    scope = fields.String()
    given_by = fields.String()
    recorded_by = fields.String()
    at = fields.DateTime()


class ConsentScopeStateSchema(StrictSchema):
    scope = fields.String()
    given = fields.Boolean()
    recorded_by = fields.String(allow_none=True)
    recorded_at = fields.DateTime(allow_none=True)


class ConsentStateSchema(StrictSchema):
    patient_id = fields.Integer()
    consent_to_share = fields.Boolean(metadata={
        "description": "consent to share the care plan (scope care_plan_direct_care)"})
    recorded_by = fields.String(allow_none=True)
    recorded_at = fields.DateTime(allow_none=True)
    scopes = fields.List(fields.Nested(ConsentScopeStateSchema), metadata={
        "description": "every scope's consent now: care_plan_direct_care, contact_carer, "
                       "text_patient"})
    history = fields.List(fields.Nested(ConsentRecordSchema))
