"""``/api/staff/{id}/absence``: mark a worker sick, absent or finishing early, or cancel it.

The worker's open visits in the absence are taken off them (each worker who knew is texted)
and the network is re-planned at once through the planning pipeline, as "re-plan now"; the
answer says what was released, what stays (a visit they are on site for) and what the re-plan
changed.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from dispatch.api.schemas import StrictSchema
from dispatch.auth import current_actor
from dispatch.db import get_session
from dispatch.jobs.replan_request import replan_now
from dispatch.models import Visit
from dispatch.models.vocab import ABSENCE_REASONS
from dispatch.request_clock import now
from dispatch.services import absence as service
from dispatch.services import network_scope

blp = Blueprint("absences", __name__, url_prefix="/api/staff",
                description="Absence: a worker off sick, absent or finishing early")


class AbsenceRequestSchema(StrictSchema):
    from_ = fields.AwareDateTime(required=True, data_key="from", attribute="from",
                                 metadata={"description": "When the absence starts"})
    until = fields.AwareDateTime(load_default=None, metadata={
        "description": "When they are back; may be left out when finishing early (the end "
                       "of their shift)"})
    reason = fields.String(required=True, validate=validate.OneOf(ABSENCE_REASONS))
    note = fields.String(load_default=None, validate=validate.Length(max=200))


class AbsenceSchema(Schema):
    id = fields.Integer()
    staff_id = fields.Integer()
    from_ = fields.DateTime(attribute="starts_at", data_key="from")
    until = fields.DateTime(attribute="ends_at")
    reason = fields.String()
    note = fields.String(allow_none=True)
    created_by = fields.String()
    cancelled_at = fields.DateTime(allow_none=True)
    cancelled_by = fields.String(allow_none=True)


class VisitRefSchema(Schema):
    visit_id = fields.Integer()
    reference = fields.String()
    status = fields.String()


class AbsenceOutcomeSchema(Schema):
    absence = fields.Nested(AbsenceSchema)
    summary = fields.String(metadata={"description": "In words, as the board shows it"})
    released = fields.List(fields.Nested(VisitRefSchema), metadata={
        "description": "Visits taken off the worker (now with the planner)"})
    kept = fields.List(fields.Nested(VisitRefSchema), metadata={
        "description": "Visits the worker is on site for: not moved; ring them"})
    replan = fields.Dict(allow_none=True, metadata={
        "description": "The re-plan: {run_id, status, changed, unassigned}; status pending "
                       "or running if it had not finished in REPLAN_WAIT_SECONDS"})


def _refs(visits: tuple[Visit, ...]) -> list[dict[str, Any]]:
    return [{"visit_id": v.id, "reference": v.reference, "status": v.status} for v in visits]


@blp.route("/<int:staff_id>/absence")
class StaffAbsence(MethodView):
    @blp.arguments(AbsenceRequestSchema)
    @blp.response(201, AbsenceOutcomeSchema)
    @blp.alt_response(403, description="A worker of a network you do not coordinate")
    @blp.alt_response(404, description="No such worker")
    def post(self, data: dict[str, Any], staff_id: int) -> Any:
        """Mark a worker sick, absent or finishing early from ``from`` until ``until``.

        Their open visits in that time are taken off them (assigned, offered, accepted or en
        route; each worker who knew is texted) and the network is re-planned now; a visit
        they are on site for stays with them and is listed in ``kept``. 422 when ``until`` is
        missing (except finishing early), not after ``from``, already past, or over 28 days.
        """
        session, actor = get_session(), current_actor()
        network_scope.require_staff(session, actor, staff_id)
        outcome = service.record_absence(
            session, staff_id=staff_id, starts_at=data["from"], ends_at=data["until"],
            reason=data["reason"], note=data["note"], actor=actor, now=now())
        session.commit()
        body = {"absence": outcome.absence, "released": _refs(outcome.released),
                "kept": _refs(outcome.kept),
                "summary": service.describe(outcome.absence, outcome.staff, now())}
        body["replan"] = replan_now(session, outcome.staff.network_id, now=now(),
                                    requested_by=actor.username)
        return body


@blp.route("/<int:staff_id>/absence/<int:absence_id>")
class StaffAbsenceById(MethodView):
    @blp.response(200, AbsenceSchema)
    @blp.alt_response(404, description="No such absence of this worker")
    @blp.alt_response(409, description="Already cancelled")
    def delete(self, staff_id: int, absence_id: int) -> Any:
        """Cancel an absence: the planner may give the worker visits in it again (re-planned
        now). Visits already released stay with whoever has them."""
        session, actor = get_session(), current_actor()
        staff = network_scope.require_staff(session, actor, staff_id)
        absence = service.cancel_absence(session, absence_id=absence_id, staff_id=staff_id,
                                         actor=actor, now=now())
        session.commit()
        replan_now(session, staff.network_id, now=now(), requested_by=actor.username)
        return absence
