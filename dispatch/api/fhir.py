"""``/fhir``: BaRS-style referrals as FHIR R4 messages, and the Task that tracks each one.

The bodies are FHIR JSON, not marshmallow schemas: the views read the raw body and answer
``application/fhir+json`` (a message Bundle, a Task, or an OperationOutcome for every error,
never a bare 500 for a bad message). Sign-in errors (401/403) come from the permission check
before the view and keep the API's common JSON shape.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.fhir import intake
from dispatch.fhir.errors import FhirError
from dispatch.fhir.outcome import operation_outcome
from dispatch.fhir.task import response_bundle, task_resource
from dispatch.jobs.wakeup import wake
from dispatch.request_clock import now

blp = Blueprint("fhir", __name__, url_prefix="/fhir",
                description="FHIR R4 (BaRS-style) referral messages and their Tasks")

FHIR_JSON = "application/fhir+json"
_FHIR_BODY = {"content": {FHIR_JSON: {"schema": {"type": "object"}}}}
_OUTCOME = {"description": "OperationOutcome listing each problem", **_FHIR_BODY}


def fhir_response(resource: dict[str, Any], status: int = 200) -> Response:
    """A FHIR resource as ``application/fhir+json``."""
    return Response(json.dumps(resource), status=status, mimetype=FHIR_JSON)


def outcome_response(error: FhirError) -> Response:
    return fhir_response(operation_outcome(error.issues), error.status)


@blp.route("/$process-message")
class ProcessMessage(MethodView):
    @blp.doc(
        summary="Receive a referral (BaRS servicerequest-request message Bundle)",
        requestBody={"required": True, "description": "A FHIR R4 message Bundle: MessageHeader, "
                     "ServiceRequest, Patient, Encounter, CarePlan, Flag, Consent, Observation",
                     **_FHIR_BODY},
        responses={"200": {"description": "A message Bundle carrying the Task", **_FHIR_BODY},
                   "400": _OUTCOME, "409": _OUTCOME, "422": _OUTCOME},
    )
    def post(self) -> Response:
        """Make (or cancel) a referral from a BaRS message and answer with its Task.

        A ServiceRequest categorised ``referral-type|hospital-discharge`` (our local code
        system) is a hospital discharge: the inpatient Encounter's ``period.end``, an
        ``occurrencePeriod.end`` 24 or 48 hours later and the summary in ``note`` make the same
        discharge and follow-up visit as ``POST /api/discharges``.

        A redelivered message (same Bundle.identifier or MessageHeader id, same content)
        returns the same Task and makes nothing new.
        """
        session = get_session()
        try:
            result = intake.process_message(session, body=request.get_data(),
                                            actor=current_actor(), now=now(),
                                            request_id=request_id())
        except FhirError as error:
            return outcome_response(error)
        task = task_resource(result.task)
        session.commit()
        wake()  # a new referral's visit is placed now (a redelivery or cancel: a cheap no-op)
        return fhir_response(response_bundle(task, request_header_id=result.header_id, now=now()))


@blp.route("/Task/<task_id>")
class TaskById(MethodView):
    @blp.doc(summary="The Task of one referral (its id is the referral id)",
             responses={"200": {"description": "The Task", **_FHIR_BODY}, "404": _OUTCOME})
    def get(self, task_id: str) -> Response:
        """The referral's Task, its status following the visit (requested ... completed)."""
        session = get_session()
        try:
            facts = intake.read_task(session, task_id=task_id, actor=current_actor(), now=now(),
                                     request_id=request_id())
        except FhirError as error:
            return outcome_response(error)
        session.commit()
        return fhir_response(task_resource(facts))
