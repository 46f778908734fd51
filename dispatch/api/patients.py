"""``/api/patients``: find a patient; read their care plan under consent, audited."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.api.schemas import (
    CarePlanQuerySchema,
    CarePlanSchema,
    PatientQuerySchema,
    PatientSchema,
)
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.request_clock import now
from dispatch.services import care_plan_access as access
from dispatch.services import patients as service

blp = Blueprint("patients", __name__, url_prefix="/api/patients", description="Patients")


@blp.route("")
class Patients(MethodView):
    @blp.arguments(PatientQuerySchema, location="query")
    @blp.response(200, PatientSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Find patients by NHS number, or by name (or family name), date of birth and/or
        postcode; every patient found is audited as seen (which terms, never their values)."""
        session = get_session()
        found = service.search_patients(session, query=query, actor=current_actor(), now=now(),
                                        purpose="find the patient for a referral",
                                        request_id=request_id())
        session.commit()
        return found


@blp.route("/<int:patient_id>/care-plan")
class CarePlan(MethodView):
    @blp.arguments(CarePlanQuerySchema, location="query")
    @blp.response(200, CarePlanSchema)
    @blp.alt_response(403, description="Not yours to read: no care relationship (field staff), "
                      "no consent and no override, or an override by a role that may not")
    @blp.alt_response(404, description="No such patient (or referral)")
    def get(self, query: dict[str, Any], patient_id: int) -> Any:
        """The latest shared care plan, with consent or an emergency override; audited.

        Field staff read only the plans of patients they have a visit with (open, or closed in
        the last 7 days). Without consent, call handlers and coordinators may override with
        ``override_purpose`` (from the list) and ``override_reason`` (what the emergency is).
        Every read and every refused read is written to the audit trail.
        """
        session = get_session()
        answer = access.answer_request(
            session, actor=current_actor(), patient_id=patient_id, now=now(),
            purpose=query["purpose"], override_purpose=query.get("override_purpose"),
            override_reason=query.get("override_reason"), referral_id=query.get("referral_id"),
            request_id=request_id())
        session.commit()  # the read or the refusal stays in the audit trail
        if answer.refused is not None:
            raise answer.refused
        assert answer.read is not None
        return access.CarePlanView.of(answer.patient.id, answer.read)
