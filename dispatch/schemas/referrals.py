"""The input of a new referral (marshmallow), as the API, the FHIR mapper and the web form read it.

No Flask here: :mod:`dispatch.fhir.intake` validates a BaRS message's payload with
:class:`ReferralCreateSchema` exactly as ``POST /api/referrals`` does, and a service may not
import the API package. Triage fields are validated by ``triage.parse_triage_input`` itself
(one source of truth for ranges and codes); its errors are merged into marshmallow's so a 422
names every bad field. The schema loads a frozen
:class:`dispatch.services.referral_commands.NewReferral`.
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
from dispatch.services.text import storable
from triage import RED_FLAGS, TriageInputError
from triage.types import RED_FLAG_ANSWERS

__all__ = ["NAME", "PatientDetailsSchema", "ReferralCreateSchema", "ReferrerSchema",
           "StrictSchema", "Text"]

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
