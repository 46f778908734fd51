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
from dispatch.services import audit
from dispatch.services import patients as service

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
    @blp.alt_response(403, description="No recorded consent and no override reason")
    @blp.alt_response(404, description="No such patient")
    def get(self, query: dict[str, Any], patient_id: int) -> Any:
        """The latest shared care plan, only with recorded consent or an emergency override.

        Every read (and every refused read) is written to the audit trail with the purpose.
        """
        session = get_session()
        actor = current_actor()
        patient = service.get_patient(session, patient_id)
        override = query.get("override_reason")
        try:
            plan, basis = service.read_care_plan(
                session, patient=patient, emergency_reason=override
            )
        except Exception:
            audit.record(
                session,
                actor=actor,
                action="care_plan_refused",
                now=now(),
                patient_id=patient.id,
                entity=("patient", patient.id),
                purpose=query["purpose"],
                request_id=request_id(),
            )
            session.commit()
            raise
        audit.record(
            session,
            actor=actor,
            action="view_care_plan",
            now=now(),
            patient_id=patient.id,
            entity=("care_plan", plan.id if plan else None),
            purpose=override or query["purpose"],
            request_id=request_id(),
            details={"basis": basis},
        )
        session.commit()
        return {
            "patient_id": patient.id,
            "version": plan.version if plan else None,
            "summary": plan.summary if plan else None,
            "content": plan.content if plan else {},
            "author": plan.author if plan else None,
            "created_at": plan.created_at if plan else None,
            "access_basis": basis,
        }
