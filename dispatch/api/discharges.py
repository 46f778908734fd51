"""``/api/discharges``: a hospital discharge referred for a follow-up visit within 24 or 48
hours, and the KPI of follow-ups met (issue 16, item 5)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.api import care_schemas as s
from dispatch.api.clock import now
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.models import Visit
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
    def post(self, data: dict[str, Any]) -> Any:
        """Refer a discharge: logs a ``hospital_discharge`` referral whose follow-up visit is
        due within 24 or 48 hours of discharge; audited."""
        session = get_session()
        patient = patient_service.get_patient(session, data.pop("patient_id"))
        lines = [LineRequest(**line) for line in data.pop("care_package")]
        row = service.refer_discharge(session, patient=patient, actor=current_actor(),
                                      now=now(), request_id=request_id(), package_lines=lines,
                                      **data)
        session.commit()
        visits = session.scalars(sa.select(Visit).where(Visit.referral_id == row.referral_id))
        return {**{c: getattr(row, c) for c in (
            "id", "patient_id", "referral_id", "hospital", "discharged_at", "follow_up_hours",
            "care_package_needed", "package_id")},
            "visits": [{"id": v.id, "reference": v.reference, "status": v.status,
                        "deadline": v.deadline.isoformat()} for v in visits]}


@blp.route("/kpi")
class DischargeKpi(MethodView):
    @blp.arguments(s.DischargeKpiQuerySchema, location="query")
    @blp.response(200, s.DischargeKpiSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Discharges in ``[since, until)``: follow-ups met (arrived by the deadline), missed
        and still open, and the compliance (figures only, no patient identifiers)."""
        kpi = service.discharge_kpi(get_session(), since=query["since"], until=query["until"],
                                    now=now())
        return {"count": kpi.count, "met": kpi.met, "missed": kpi.missed, "open": kpi.open,
                "compliance": kpi.compliance}
