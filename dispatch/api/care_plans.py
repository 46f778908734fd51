"""``/api/patients/{id}/care-plans``: a care plan's versions, read under the H-009 rules and
written in the service; ``/api/care-plans/overdue-reviews`` (issue 16, item 2)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.api import care_schemas as s
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.errors import Forbidden
from dispatch.request_clock import now
from dispatch.services import care_plan_access as access
from dispatch.services import care_plans as service
from dispatch.services import patients as patient_service

blp = Blueprint("care_plans", __name__, url_prefix="/api",
                description="Care plans: every version, authored and reviewed in the service")


@blp.route("/patients/<int:patient_id>/care-plans")
class CarePlanVersions(MethodView):
    @blp.arguments(s.CarePlanVersionsQuerySchema, location="query")
    @blp.response(200, s.CarePlanVersionsSchema)
    @blp.alt_response(403, description="Not shared: as GET /api/patients/{id}/care-plan")
    @blp.alt_response(404, description="No such patient")
    def get(self, query: dict[str, Any], patient_id: int) -> Any:
        """Every version, newest first, with review date, reviewer and DNACPR/ReSPECT
        warnings; consent or an emergency override as for the current plan; audited."""
        session = get_session()
        patient = patient_service.get_patient(session, patient_id)
        override = access.parse_override(query.get("override_purpose"),
                                         query.get("override_reason"))
        at = now()
        try:
            read, versions = service.read_versions(
                session, patient=patient, actor=current_actor(), now=at,
                purpose=query["purpose"], override=override, request_id=request_id())
        except Forbidden:
            session.commit()  # the refusal stays in the audit trail
            raise
        session.commit()
        return service.VersionsView(patient.id, read.basis,
                                    [service.VersionView.of(v, at) for v in versions])

    @blp.arguments(s.CarePlanVersionCreateSchema)
    @blp.response(201, s.CarePlanVersionSchema)
    @blp.alt_response(404, description="No such patient")
    def post(self, data: dict[str, Any], patient_id: int) -> Any:
        """Write the next version (the whole plan: a change never overwrites); audited."""
        session = get_session()
        patient = patient_service.get_patient(session, patient_id)
        new = service.NewVersion(
            summary=data["summary"], goals=tuple(data["goals"]), needs=tuple(data["needs"]),
            crisis_plan=data["crisis_plan"], next_of_kin=data["next_of_kin"],
            dnacpr=data["dnacpr"], respect=data["respect"], review_due=data["review_due"],
            reviewer=data["reviewer"], reviewer_user_id=data.get("reviewer_user_id"))
        at = now()
        made = service.author_version(session, patient=patient, new=new, actor=current_actor(),
                                      now=at, request_id=request_id())
        session.commit()
        return service.VersionView.of(made, at)


@blp.route("/care-plans/overdue-reviews")
class OverdueReviews(MethodView):
    @blp.arguments(s.OverdueQuerySchema, location="query")
    @blp.response(200, s.OverdueReviewSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Patients whose latest plan is past its review date, most overdue first (one
        coordinator's with ``coordinator_user_id``); each patient listed is audited."""
        session = get_session()
        at = now()
        rows = service.read_overdue_reviews(
            session, actor=current_actor(), now=at, request_id=request_id(),
            coordinator_user_id=query.get("coordinator_user_id"))
        session.commit()
        return rows
