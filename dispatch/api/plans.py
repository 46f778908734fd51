"""``/api/plans``: ask the scheduler for a plan and read it back."""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from dispatch.api.clock import now
from dispatch.api.schemas import StrictSchema
from dispatch.auth import current_actor, request_id
from dispatch.db import get_database, get_session
from dispatch.planning import runs
from dispatch.services import audit

log = logging.getLogger(__name__)

blp = Blueprint(
    "plans",
    __name__,
    url_prefix="/api/plans",
    description="Scheduling runs: POST returns a plan id, GET polls it",
)


class PlanRequestSchema(StrictSchema):
    network = fields.Integer(
        validate=validate.Range(min=1, max=2**31 - 1),
        allow_none=True,
        metadata={"description": "Network id; omit for all networks"},
    )
    horizon_hours = fields.Float(
        load_default=runs.DEFAULT_HORIZON_HOURS, validate=validate.Range(min=0.25, max=72)
    )
    seconds = fields.Float(load_default=5.0, validate=validate.Range(min=0.1, max=runs.MAX_SECONDS))
    wait = fields.Boolean(
        load_default=False, metadata={"description": "Solve within the request (for short runs)"}
    )


class PlanSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    network_id = fields.Integer(allow_none=True)
    horizon_start = fields.DateTime()
    horizon_end = fields.DateTime()
    seconds = fields.Float()
    requested_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    result = fields.Dict(
        allow_none=True,
        metadata={
            "description": "routes (vehicle, staff_id, visits, arrivals), travel_minutes, "
            "vehicles, "
            "unassigned [{id, reason, code}], late, seconds, fallback (null, or "
            "greedy_insertion when the search found no plan in time) and its note"
        },
    )


@blp.route("")
class Plans(MethodView):
    @blp.arguments(PlanRequestSchema)
    @blp.response(201, PlanSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Request a plan for a network over a horizon; poll GET /api/plans/{id} for the result.

        The plan is a proposal: it does not change any assignment (the re-optimise job does).
        """
        session = get_session()
        plan = runs.create_plan(
            session,
            network_id=data.get("network"),
            horizon_hours=data["horizon_hours"],
            seconds=data["seconds"],
            now=now(),
            requested_by=current_actor().username,
        )
        session.commit()
        if data["wait"] or not current_app.config.get("PLANS_IN_BACKGROUND", True):
            runs.execute_plan(
                session, plan_id=plan.id, provider=runs.provider_for(current_app), workers=1
            )
        else:
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            threading.Thread(target=_run_in_background, args=(app, plan.id), daemon=True).start()
        return plan


@blp.route("/<int:plan_id>")
class PlanById(MethodView):
    @blp.response(200, PlanSchema)
    @blp.alt_response(404, description="No such plan")
    def get(self, plan_id: int) -> Any:
        """A plan: its status and, when done, its routes and unassigned visits with reasons.

        The read is audited (a plan names visits, and so patients)."""
        session = get_session()
        plan = runs.get_plan(session, plan_id)
        audit.record(session, actor=current_actor(), action="view_plan", now=now(),
                     entity=("plan", plan.id), purpose="read a plan (API)",
                     request_id=request_id())
        session.commit()
        return plan


def _run_in_background(app: Flask, plan_id: int) -> None:
    try:
        with app.app_context():
            runs.execute_plan(
                get_database(app).sessions, plan_id=plan_id, provider=runs.provider_for(app)
            )
    except Exception:
        log.exception("plan %s failed", plan_id)
