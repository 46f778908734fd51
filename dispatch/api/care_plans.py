"""``/api/patients/{id}/care-plans``: a care plan's versions, read under the H-009 rules and
written in the service; ``/api/care-plans/overdue-reviews`` (issue 16, item 2)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.api import care_schemas as s
from dispatch.api.clock import now
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.errors import Forbidden
from dispatch.services import audit
from dispatch.services import care_plan_access as access
from dispatch.services import care_plans as service
from dispatch.services import patients as patient_service

blp = Blueprint("care_plans", __name__, url_prefix="/api",
                description="Care plans: every version, authored and reviewed in the service")


def version_json(v: service.PlanVersion, at: Any) -> dict[str, Any]:
    """A version as the API and the pages' JSON show it."""
    return {"version": v.plan.version, "summary": v.plan.summary, "content": v.plan.content,
            "author": v.plan.author, "created_at": v.plan.created_at,
            "review_due": v.review.review_due if v.review else None,
            "reviewer": v.review.reviewer if v.review else None,
            "past_review": v.past_review(at), "warnings": service.warnings_of(v.plan.content)}


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
        return {"patient_id": patient.id, "access_basis": read.basis,
                "versions": [version_json(v, at) for v in versions]}

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
        return version_json(made, at)


@blp.route("/care-plans/overdue-reviews")
class OverdueReviews(MethodView):
    @blp.arguments(s.OverdueQuerySchema, location="query")
    @blp.response(200, s.OverdueReviewSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Patients whose latest plan is past its review date, most overdue first (one
        coordinator's with ``coordinator_user_id``); each patient listed is audited."""
        session = get_session()
        at = now()
        rows = service.overdue_reviews(session, now=at,
                                       coordinator_user_id=query.get("coordinator_user_id"))
        for row in rows:
            audit.record(session, actor=current_actor(), action="view_overdue_review", now=at,
                         patient_id=row.patient_id, entity=("patient", row.patient_id),
                         purpose="care plan reviews past due", request_id=request_id())
        session.commit()
        return rows
