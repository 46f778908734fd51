"""``/api/patients/{id}/consents``: consent to share the care plan, read, recorded and
withdrawn by API as on the consent page (who decided, who recorded it, when; audited)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.api import care_schemas as s
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.request_clock import now
from dispatch.services import consent
from dispatch.services import patients as patient_service

blp = Blueprint("consents", __name__, url_prefix="/api/patients",
                description="Consent: share the care plan, contact the carer, text the patient")


@blp.route("/<int:patient_id>/consents")
class Consents(MethodView):
    @blp.response(200, s.ConsentStateSchema)
    @blp.alt_response(404, description="No such patient")
    def get(self, patient_id: int) -> Any:
        """The consent now and every decision, newest first; audited."""
        session = get_session()
        patient = consent.view_consent(session, patient_id, actor=current_actor(), now=now(),
                                       purpose="read the patient's consent",
                                       request_id=request_id())
        state = consent.state_of(session, patient)
        session.commit()
        return state

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
        state = consent.state_of(session, patient)
        session.commit()
        return state
