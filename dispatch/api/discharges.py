"""``/api/discharges``: a hospital discharge referred for a follow-up visit within 24 or 48
hours, and the KPI of follow-ups met (issue 16, item 5)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from dispatch.api import care_schemas as s
from dispatch.api.referrals import IDEMPOTENCY_HEADER, MAX_KEY_LENGTH, caller_key
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.jobs.wakeup import wake
from dispatch.request_clock import now
from dispatch.services import discharges as service
from dispatch.services import patients as patient_service
from dispatch.services.packages import LineRequest

blp = Blueprint("discharges", __name__, url_prefix="/api/discharges",
                description="Hospital discharges followed up at home")


@blp.route("")
class Discharges(MethodView):
    @blp.arguments(s.DischargeCreateSchema)
    @blp.response(201, s.DischargeSchema)
    @blp.alt_response(404, description="No such patient")
    @blp.alt_response(409, description="Idempotency-Key reused with a different body")
    @blp.doc(parameters=[{
        "in": "header", "name": IDEMPOTENCY_HEADER, "required": False,
        "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
        "description": "Retries by the same user with the same key and body return the same "
        "discharge (one referral, one follow-up visit); header Idempotent-Replayed"}])
    def post(self, data: dict[str, Any]) -> Any:
        """Refer a discharge: logs a ``hospital_discharge`` referral whose follow-up visit is
        due within 24 or 48 hours of discharge; audited. A retry with the same
        Idempotency-Key and body makes nothing new."""
        key = request.headers.get(IDEMPOTENCY_HEADER) or None
        if key is not None and len(key) > MAX_KEY_LENGTH:
            abort(422, message="invalid header", errors={
                "headers": {IDEMPOTENCY_HEADER: [f"at most {MAX_KEY_LENGTH} characters"]}})
        session = get_session()
        actor = current_actor()
        patient = patient_service.get_patient(session, data.pop("patient_id"))
        lines = [LineRequest(**line) for line in data.pop("care_package")]
        result = service.refer_discharge(
            session, patient=patient, actor=actor, now=now(), request_id=request_id(),
            package_lines=lines, idempotency_key=caller_key(
                actor, f"discharge:{key}" if key is not None else None), **data)
        session.commit()
        if result.created:
            wake()  # place the follow-up visit now, not at the next tick
        headers = {} if result.created else {"Idempotent-Replayed": "true"}
        return service.with_visits(session, result.discharge), 201, headers


@blp.route("/kpi")
class DischargeKpi(MethodView):
    @blp.arguments(s.DischargeKpiQuerySchema, location="query")
    @blp.response(200, s.DischargeKpiSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Discharges in ``[since, until)``: follow-ups met (arrived by the deadline), missed
        and still open, and the compliance (figures only, no patient identifiers)."""
        kpi = service.discharge_kpi(get_session(), since=query["since"], until=query["until"],
                                    now=now())
        return kpi
