"""Request and response schemas (marshmallow) shared by the API blueprints.

Triage fields are validated by ``triage.parse_triage_input`` itself (one source of truth for
ranges and codes); its errors are merged into marshmallow's so a 422 names every bad field.
"""

from __future__ import annotations

from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from dispatch.models.vocab import REFERRAL_SOURCES
from dispatch.services import referral_commands as commands
from dispatch.services.care_plan_access import (
    MAX_OVERRIDE_TEXT,
    MIN_OVERRIDE_TEXT,
    OVERRIDE_PURPOSES,
)
from dispatch.services.text import storable
from triage import CATEGORIES, RED_FLAGS, TriageInputError
from triage.types import RED_FLAG_ANSWERS

NAME = validate.Length(min=1, max=80)
# Where ``ReferralCreateSchema`` keeps the triage input it parsed, between its validator and
# its post_load (the loaded dict is per call, so this is safe with a shared schema instance).
_PARSED_TRIAGE = "__parsed_triage__"


class Text(fields.String):
    """A string that the database can store: no NUL byte, no unpaired surrogate (422)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = storable(text)
        if problem:
            raise ValidationError(problem)
        return text


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class ReferrerSchema(StrictSchema):
    name = Text(required=True, validate=validate.Length(min=1, max=120))
    role = Text(validate=validate.Length(max=80))
    organisation = Text(validate=validate.Length(max=120))


class PatientDetailsSchema(StrictSchema):
    nhs_number = Text(validate=validate.Length(max=20), metadata={
        "description": "Optional: without it the patient is registered with "
                       "nhs_number_status not_known and flagged for tracing"})
    given_name = Text(validate=NAME)
    family_name = Text(validate=NAME)
    date_of_birth = fields.Date()
    address = Text(validate=validate.Length(min=1, max=200))
    postcode = Text(validate=validate.Regexp(
        r"^\s*[A-Za-z]{1,2}[0-9][A-Za-z0-9]?\s*[0-9][A-Za-z]{2}\s*$",
        error="not a UK postcode (for example W12 7RQ)"))
    phone = Text(validate=validate.Length(max=16))


class ReferralCreateSchema(StrictSchema):
    """``POST /api/referrals``: the triage input plus source, referrer and patient."""

    source = fields.String(required=True, validate=validate.OneOf(REFERRAL_SOURCES))
    referrer = fields.Nested(ReferrerSchema, required=True)
    patient_id = fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    patient = fields.Nested(PatientDetailsSchema)
    confirm_patient_id = fields.Integer(
        strict=True, validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "After a 409 patient_mismatch: the registered patient's id, "
                                 "once the caller has checked it is the same person"})
    new_patient = fields.Boolean(metadata={
        "description": "After a 409 patient_mismatch without an NHS number: the caller checked "
                       "that the registered patient is somebody else; register a new one"})
    notes = Text(validate=validate.Length(max=2000))
    received_at = fields.Raw(required=True, metadata={
        "type": "string", "format": "date-time", "example": "2026-12-01T10:15:00+00:00"})
    needs = fields.Raw(metadata={"type": "array", "items": {"type": "string"},
                                 "example": ["fall_no_injury"]})
    red_flags = fields.Raw(metadata={
        "type": "array", "items": {"type": "string", "enum": list(RED_FLAGS)},
        "description": "Red-flag questions answered yes"})
    red_flag_answers = fields.Raw(metadata={
        "type": "object",
        "description": "Each red-flag question's answer: yes, no or not_asked (absent means "
                       "not asked). A referral with no needs, no red-flag question answered "
                       "yes or no and no observations is refused with 422.",
        "properties": {code: {"type": "string", "enum": list(RED_FLAG_ANSWERS)}
                       for code in RED_FLAGS},
        "additionalProperties": False,
        "example": {"chest_pain": "no", "stroke_symptoms": "no"}})
    observations = fields.Raw(metadata={"type": "object", "example": {
        "respiration_rate": 22, "spo2": 95, "spo2_scale": 1, "on_oxygen": False,
        "systolic_bp": 105, "pulse": 95, "consciousness": "alert", "temperature": 38.2}})
    frailty = fields.Raw(metadata={"type": "integer", "minimum": 1, "maximum": 9})
    risk_tier = fields.Raw(metadata={"type": "string"})
    pathways_disposition = fields.Raw(metadata={"type": "string", "example": "Dx05"})
    pathways_timeframe_minutes = fields.Raw(metadata={"type": "integer"})

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _check(self, data: dict[str, Any], original: Any, **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        if not isinstance(original, dict):
            return
        if original.get("patient_id") is None and not original.get("patient"):
            errors["patient"] = ["give patient_id or patient details"]
        try:
            # Parsed once per request: the command built below carries the result.
            data[_PARSED_TRIAGE] = commands.parse_triage(original)
        except TriageInputError as exc:
            errors.update(exc.errors)
        if errors:
            raise ValidationError(errors)

    @post_load
    def _command(self, data: dict[str, Any], **_: Any) -> commands.NewReferral:
        triage = data.pop(_PARSED_TRIAGE)
        return commands.build(data, triage)

    TRIAGE_FIELDS = commands.TRIAGE_FIELDS


class News2Schema(Schema):
    total = fields.Integer(allow_none=True)
    parts = fields.Dict(keys=fields.String(), values=fields.Integer())
    missing = fields.List(fields.String())
    band = fields.String(allow_none=True)
    scored = fields.Boolean()
    complete = fields.Boolean()
    scale = fields.Integer(allow_none=True)
    any_single_three = fields.Boolean()
    conservative = fields.List(fields.String(), metadata={
        "description": "Parameters scored at the highest value they could have (scale-2 SpO2 "
                       "with oxygen not stated)"})


CATEGORY_FIELD = {"type": "string", "enum": list(CATEGORIES),
                  "description": "out_of_scope: a child (under 18) or anyone else urgent "
                                 "community response does not serve; never a visit"}
SAFETY_NETTING_FIELD = {"description": "Advice read back to the caller: call 999 for the signs "
                                       "named, 111 otherwise; for 999, what to do while waiting"}


class DispositionSchema(Schema):
    category = fields.String(metadata=CATEGORY_FIELD)
    label = fields.String()
    deadline = fields.String(allow_none=True)
    earliest_start = fields.String(allow_none=True)
    priority = fields.Integer()
    skills = fields.List(fields.String())
    visit_duration_minutes = fields.Integer()
    news2 = fields.Nested(News2Schema, allow_none=True)
    reasons = fields.List(fields.String())
    out_of_hours = fields.Boolean()
    ucr_hours_note = fields.String(allow_none=True)
    safety_netting = fields.String(metadata=SAFETY_NETTING_FIELD)
    staff = fields.Integer(metadata={
        "description": "Staff the visit needs at once: 2 for a two-person need (a hoist "
                       "transfer); the service then books two linked visits"})


class VisitSummarySchema(Schema):
    id = fields.Integer()
    reference = fields.String()
    status = fields.String()
    deadline = fields.DateTime()


class OpenVisitSchema(Schema):
    reference = fields.String()
    status = fields.String()
    deadline = fields.DateTime()
    planned_start = fields.DateTime(allow_none=True)


class PossibleDuplicateSchema(Schema):
    """Another open referral of the same patient (hazard H-002)."""

    referral_id = fields.Integer()
    received_at = fields.DateTime()
    category = fields.String(allow_none=True)
    status = fields.String()
    deadline = fields.DateTime(allow_none=True)
    visits = fields.List(fields.Nested(OpenVisitSchema))


class ReferralSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    patient_id = fields.Integer()
    source = fields.String()
    received_at = fields.DateTime()
    category = fields.String(allow_none=True, metadata=CATEGORY_FIELD)
    deadline = fields.DateTime(allow_none=True)
    disposition = fields.Nested(DispositionSchema, allow_none=True)
    safety_netting = fields.String(allow_none=True, metadata=SAFETY_NETTING_FIELD)
    visits = fields.List(fields.Nested(VisitSummarySchema))
    possible_duplicates = fields.List(fields.Nested(PossibleDuplicateSchema), metadata={
        "description": "The patient's other open referrals (always present, possibly empty); "
                       "the referral is logged anyway"})
    duplicate_of_id = fields.Integer(allow_none=True, metadata={
        "description": "Set when a coordinator marked this referral a duplicate of another"})


class PatientMismatchSchema(Schema):
    """409 ``patient_mismatch``: the details disagree with the registered patient (H-001).

    Only the names of the differing fields are given, never the stored values.
    """

    code = fields.String(metadata={"example": "patient_mismatch"})
    status = fields.String(metadata={"example": "Conflict"})
    message = fields.String()
    fields_ = fields.List(fields.String(), data_key="fields", metadata={
        "example": ["family_name", "postcode"]})
    patient_id = fields.Integer(allow_none=True, metadata={
        "description": "The registered patient to confirm with confirm_patient_id (null when "
                       "several are alike: see patient_ids)"})
    patient_ids = fields.List(fields.Integer())


class PartnerSchema(Schema):
    """The other half of a linked visit (issue 15): for a double-handed visit, the second
    worker's visit at the same time."""

    visit_id = fields.Integer()
    reference = fields.String()
    status = fields.String()
    kind = fields.String(metadata={"description": "double_handed (two staff at once), "
                                   "follow_on (then within a gap) or spacing"})
    workers = fields.String(metadata={"description": "different, same or any"})
    min_gap_minutes = fields.Integer(metadata={
        "description": "start(second) - start(first), at least"})
    max_gap_minutes = fields.Integer(metadata={"description": "and at most"})
    first = fields.Boolean(metadata={"description": "Whether this visit is the link's first"})
    staff_id = fields.Integer(allow_none=True)
    staff_name = fields.String(allow_none=True)
    planned_start = fields.DateTime(allow_none=True)


class VisitSchema(Schema):
    id = fields.Integer()
    reference = fields.String()
    referral_id = fields.Integer(allow_none=True)
    package_id = fields.Integer(allow_none=True)
    patient_id = fields.Integer()
    network_id = fields.Integer(allow_none=True)
    category = fields.String()
    status = fields.String()
    skills = fields.List(fields.String())
    duration_minutes = fields.Integer()
    earliest_start = fields.DateTime()
    deadline = fields.DateTime()
    priority = fields.Integer()
    assigned_staff_id = fields.Integer(allow_none=True)
    planned_start = fields.DateTime(allow_none=True)
    pinned = fields.Boolean()
    unassigned_reason = fields.String(
        allow_none=True, metadata={"description": "The planner's reason for leaving the visit "
                                   "unassigned or planning it late (null when placed in time)"})
    jeopardy_cause = fields.String(allow_none=True)
    late_allowed_until = fields.DateTime(allow_none=True)
    late_allowed_staff_id = fields.Integer(allow_none=True)
    outcome = fields.String(allow_none=True)
    version = fields.Integer()
    staff_needed = fields.Integer(metadata={
        "description": "2 for a double-handed visit (its partner is the other worker's half)"})
    partner = fields.Nested(PartnerSchema, allow_none=True, metadata={
        "description": "The linked visit, if any (GET /api/visits and /api/visits/{id})"})


class VisitQuerySchema(StrictSchema):
    status = fields.String(validate=validate.Length(max=16))
    network = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class PatientQuerySchema(StrictSchema):
    nhs_number = Text(validate=validate.Length(max=20))
    family_name = Text(validate=NAME)
    date_of_birth = fields.Date()
    postcode = Text(validate=validate.Length(max=10))


class PatientSchema(Schema):
    id = fields.Integer()
    nhs_number = fields.String(allow_none=True)
    nhs_number_status = fields.String(metadata={
        "description": "present, or not_known: registered without one, flagged for tracing"})
    given_name = fields.String()
    family_name = fields.String()
    date_of_birth = fields.Date()
    address = fields.String()
    postcode = fields.String()
    phone = fields.String(allow_none=True)
    gp_practice = fields.String(allow_none=True)
    named_lead = fields.String(allow_none=True)
    network_id = fields.Integer(allow_none=True)
    risk_tier = fields.String()
    frailty = fields.Integer(allow_none=True)
    consent_to_share = fields.Boolean()


class CarePlanQuerySchema(StrictSchema):
    purpose = fields.String(validate=validate.Length(min=3, max=300),
                            load_default="direct care",
                            metadata={"description": "Why you read it (audited)"})
    referral_id = fields.Integer(
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "Read for this referral: a FHIR Consent that came with it "
                                 "covers its episode (basis episode_consent)"})
    override_purpose = fields.String(
        validate=validate.OneOf(list(OVERRIDE_PURPOSES)),
        metadata={"description": "Emergency override without consent (call handlers and "
                                 "coordinators only): "
                                 + "; ".join(f"{k} = {v}" for k, v in OVERRIDE_PURPOSES.items())})
    override_reason = fields.String(
        validate=validate.Length(max=MAX_OVERRIDE_TEXT),
        metadata={"description": f"With override_purpose: what the emergency is (at least "
                                 f"{MIN_OVERRIDE_TEXT} characters)"})


class CarePlanSchema(Schema):
    patient_id = fields.Integer()
    version = fields.Integer(allow_none=True)
    summary = fields.String(allow_none=True)
    content = fields.Dict()
    author = fields.String(allow_none=True)
    created_at = fields.DateTime(allow_none=True)
    access_basis = fields.String(metadata={
        "description": "consent, episode_consent (a FHIR Consent with this referral) or "
                       "emergency_override"})
    override_purpose = fields.String(allow_none=True)
