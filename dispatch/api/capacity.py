"""``/api/capacity-plans``: run the capacity planner as a job and read its answer."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from dispatch.api.schemas import StrictSchema
from dispatch.auth import current_actor
from dispatch.capacity import charts, runs
from dispatch.capacity.search import (
    ALL_NETWORKS,
    DEFAULT_HELD_OUT_VISITS,
    DEFAULT_HOLDOUT_MARGIN,
)
from dispatch.db import get_session
from dispatch.errors import Conflict, NotFound
from dispatch.jobs.wakeup import wake
from dispatch.request_clock import now

blp = Blueprint(
    "capacity", __name__, url_prefix="/api/capacity-plans",
    description="Capacity planner: POST starts a search (a job), GET polls its progress and "
                "answer, DELETE cancels it",
)


class CapacityRequestSchema(StrictSchema):
    date = fields.Date(required=True, metadata={"description": "First simulated day"})
    seed = fields.Integer(load_default=1, validate=validate.Range(min=0, max=2**31 - 1))
    target = fields.Float(load_default=0.95, validate=validate.Range(min=0.01, max=1.0))
    networks = fields.List(fields.String(validate=validate.OneOf(ALL_NETWORKS)),
                           load_default=list, metadata={"description": "Codes; empty: all"})
    growth = fields.Float(load_default=1.0, validate=validate.Range(min=0.1, max=5.0),
                          metadata={"description": "Demand growth factor (1.2: +20 %)"})
    mix = fields.Raw(load_default=None, allow_none=True, metadata={
        "description": "Referral mix, a what-if for demand: overall shares of the arrivals by "
                       "category, an object ({\"urgent\": 0.45, \"24h\": 0.3}) or the CLI's "
                       "text (\"urgent=0.45,24h=0.3\"); names urgent, 24h, planned, signpost, "
                       "999; categories left out share the rest in their usual proportions. "
                       "Omitted: each risk stratum's usual mix. A bad mix is a 422 naming the "
                       "category at fault."})
    days = fields.Integer(load_default=3, validate=validate.Range(min=1, max=runs.MAX_DAYS),
                          metadata={"description": "Searched days each candidate plays"})
    holdout = fields.Integer(load_default=2,
                             validate=validate.Range(min=0, max=runs.MAX_HOLDOUT),
                             metadata={"description": "Held-out days (other seeds and dates) "
                                                      "the answer must meet too"})
    holdout_margin = fields.Float(
        load_default=DEFAULT_HOLDOUT_MARGIN, validate=validate.Range(min=0.0, max=0.5),
        metadata={"description": "How far one held-out day may fall below the target when "
                                 "the held-out days together meet it (0.03: 3 points)"})
    held_out_visits = fields.Integer(
        load_default=DEFAULT_HELD_OUT_VISITS,
        validate=validate.Range(min=0, max=runs.MAX_HELD_OUT_VISITS),
        metadata={"description": "Each confirmation plays more held-out days than `holdout` "
                                 "when the searched days suggest fewer 2-hour visits than "
                                 "this over them (one network alone has a handful a day); "
                                 "0: just `holdout` days"})
    max_rounds = fields.Integer(load_default=runs.MAX_ROUNDS,
                                validate=validate.Range(min=1, max=runs.MAX_ROUNDS))


class CapacityPlanSchema(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"description": "pending, running, done, failed, "
                                                    "cancelled"})
    request = fields.Dict()
    progress = fields.Float(metadata={"description": "Share of the worst case done (0-1)"})
    note = fields.String(allow_none=True, metadata={"description": "What it is doing now"})
    result = fields.Dict(allow_none=True, metadata={
        "description": "As `dispatch capacity plan --json`: networks (the recommended "
                       "staffing file), cost_per_week, compliance (worst held-out day), "
                       "pooled_compliance, utilisation, mix, next_cheapest_missed, trials, "
                       "utilisation_by_hour, simulated_days"})
    requested_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


@blp.route("")
class CapacityPlans(MethodView):
    @blp.arguments(CapacityRequestSchema)
    @blp.response(201, CapacityPlanSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Start a capacity-planner search; poll GET /api/capacity-plans/{id}.

        Recorded ``pending`` and run by the ``run_capacity_plans`` job (woken now), never in
        the web request: a search plays several simulated days and takes minutes."""
        session = get_session()
        body = {**data, "date": data["date"].isoformat()}
        row = runs.create(session, data=body, now=now(), requested_by=current_actor().username)
        session.commit()
        wake("run_capacity_plans")
        return row


@blp.route("/<int:run_id>")
class CapacityPlanById(MethodView):
    @blp.response(200, CapacityPlanSchema)
    @blp.alt_response(404, description="No such run")
    def get(self, run_id: int) -> Any:
        """A run: status, progress and note while it runs; the recommendation when done.
        (Aggregate staffing figures only: nothing about patients, so no read audit.)"""
        return runs.get(get_session(), run_id)

    @blp.response(200, CapacityPlanSchema)
    @blp.alt_response(404, description="No such run")
    @blp.alt_response(409, description="The run has already finished")
    def delete(self, run_id: int) -> Any:
        """Cancel a pending or running search (it stops between simulated days)."""
        session = get_session()
        row = runs.cancel(session, run_id, now=now())
        session.commit()
        return row


@blp.route("/<int:run_id>/charts/<name>.svg")
class CapacityPlanChart(MethodView):
    @blp.response(200, content_type="image/svg+xml",
                  description="cost-compliance or utilisation-by-hour")
    @blp.alt_response(404, description="No such run or chart")
    @blp.alt_response(409, description="The run has not finished")
    def get(self, run_id: int, name: str) -> Any:
        """A chart of a finished run: ``cost-compliance`` (every staffing tried) or
        ``utilisation-by-hour`` (the recommended staffing)."""
        if name not in charts.CHARTS:
            raise NotFound(f"no chart called {name!r}; charts: {', '.join(charts.CHARTS)}")
        row = runs.get(get_session(), run_id)
        if row.result is None:
            raise Conflict(f"capacity plan {run_id} is {row.status}: no chart yet")
        return Response(charts.chart(name, row.result), mimetype="image/svg+xml",
                        headers={"Cache-Control": "private, max-age=300"})
