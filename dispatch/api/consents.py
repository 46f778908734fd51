"""``/api/patients/{id}/consents``: consent to share the care plan, read, recorded and
withdrawn by API as on the consent page (who decided, who recorded it, when; audited)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.api import care_schemas as s
from dispatch.api.clock import now
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.models import Patient
from dispatch.services import audit, consent
from dispatch.services import patients as patient_service

blp = Blueprint("consents", __name__, url_prefix="/api/patients",
                description="Consent: share the care plan, contact the carer, text the patient")


def _state(patient: Patient) -> dict[str, Any]:
    return {"patient_id": patient.id, "consent_to_share": patient.consent_to_share,
            "recorded_by": patient.consent_recorded_by,
            "recorded_at": patient.consent_recorded_at,
            "scopes": consent.scope_states(get_session(), patient=patient),
            "history": consent.history(get_session(), patient_id=patient.id)}


@blp.route("/<int:patient_id>/consents")
class Consents(MethodView):
    @blp.response(200, s.ConsentStateSchema)
    @blp.alt_response(404, description="No such patient")
    def get(self, patient_id: int) -> Any:
        """The consent now and every decision, newest first; audited."""
        session = get_session()
        patient = patient_service.get_patient(session, patient_id)
        audit.record(session, actor=current_actor(), action="view_consent", now=now(),
                     patient_id=patient.id, entity=("patient", patient.id),
                     purpose="read the patient's consent", request_id=request_id())
        session.commit()
        return _state(patient)

    @blp.arguments(s.ConsentDecisionSchema)
    @blp.response(201, s.ConsentStateSchema)
    @blp.alt_response(409, description="Already given (withdraw first), or none to withdraw")
    def post(self, data: dict[str, Any], patient_id: int) -> Any:
        """Record (``given``) or withdraw consent, saying who decided (the patient, their
        attorney or deputy); the recorder and time are this request's; audited."""
        session = get_session()
        patient = patient_service.get_patient(session, patient_id)
        change = consent.record_consent if data["decision"] == "given" else \
            consent.withdraw_consent
        change(session, patient=patient, actor=current_actor(), now=now(),
               given_by=data["given_by"], scope=data["scope"], request_id=request_id())
        session.commit()
        return _state(patient)
