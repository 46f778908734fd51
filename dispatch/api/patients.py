"""``/api/patients``: find a patient; read their care plan under consent, audited."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.api.clock import now
from dispatch.api.schemas import (
    CarePlanQuerySchema,
    CarePlanSchema,
    PatientQuerySchema,
    PatientSchema,
)
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.errors import Forbidden
from dispatch.services import audit
from dispatch.services import care_plan_access as access
from dispatch.services import patients as service
from dispatch.services import referrals as referral_service

blp = Blueprint("patients", __name__, url_prefix="/api/patients", description="Patients")


@blp.route("")
class Patients(MethodView):
    @blp.arguments(PatientQuerySchema, location="query")
    @blp.response(200, PatientSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Find patients by NHS number, or by family name, date of birth and/or postcode."""
        session = get_session()
        found = service.find_patients(session, **query)
        actor = current_actor()
        for patient in found:
            audit.record(
                session,
                actor=actor,
                action="search_patient",
                now=now(),
                patient_id=patient.id,
                entity=("patient", patient.id),
                purpose="find the patient for a referral",
                request_id=request_id(),
                details={"terms": sorted(query)},
            )
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
        patient = service.get_patient(session, patient_id)
        override = access.parse_override(query.get("override_purpose"),
                                         query.get("override_reason"))
        referral = (referral_service.get_referral(session, query["referral_id"])
                    if query.get("referral_id") else None)
        try:
            read = access.read_care_plan(
                session, actor=current_actor(), patient=patient, now=now(),
                purpose=query["purpose"], override=override, referral=referral,
                request_id=request_id())
        except Forbidden:
            session.commit()  # the refusal stays in the audit trail
            raise
        session.commit()
        plan = read.plan
        return {
            "patient_id": patient.id,
            "version": plan.version if plan else None,
            "summary": plan.summary if plan else None,
            "content": plan.content if plan else {},
            "author": plan.author if plan else None,
            "created_at": plan.created_at if plan else None,
            "access_basis": read.basis,
            "override_purpose": read.override.purpose if read.override else None,
        }
