"""``/api/networks/{id}/budgets``: a network's pooled budgets and what is committed."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from dispatch.api.schemas import StrictSchema
from dispatch.auth import current_actor
from dispatch.db import get_session
from dispatch.errors import NotFound
from dispatch.models import Network, NetworkBudget
from dispatch.reports.budget_chart import budget_chart
from dispatch.request_clock import now
from dispatch.services import budgets

blp = Blueprint("budgets", __name__, url_prefix="/api",
                description="Pooled network budgets: amounts per period, spend committed by "
                            "approved packages, what is left")

MAX_PENCE = 10**12  # £10bn: anything above is a typing error


class BudgetRequestSchema(StrictSchema):
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True, metadata={"description": "Exclusive"})
    health_pence = fields.Integer(load_default=None, validate=validate.Range(min=0, max=MAX_PENCE),
                                  metadata={"description": "Default: from the seeds' "
                                            "per-capita spend of the network's register"})
    social_care_pence = fields.Integer(load_default=None,
                                       validate=validate.Range(min=0, max=MAX_PENCE),
                                       metadata={"description": "Default: as health_pence"})


class MonthSchema(Schema):
    month = fields.Date()
    budget_pence = fields.Integer()
    committed_pence = fields.Integer()


class BudgetSchema(Schema):
    id = fields.Integer()
    network_id = fields.Integer()
    period_start = fields.Date()
    period_end = fields.Date()
    health_pence = fields.Integer()
    social_care_pence = fields.Integer()
    total_pence = fields.Integer()
    committed_pence = fields.Integer()
    available_pence = fields.Integer()
    by_month = fields.List(fields.Nested(MonthSchema))


@blp.route("/networks/<int:network_id>/budgets")
class NetworkBudgets(MethodView):
    @blp.response(200, BudgetSchema(many=True))
    @blp.alt_response(404, description="No such network")
    def get(self, network_id: int) -> Any:
        """The network's budgets, earliest first, with committed spend and what is left."""
        session = get_session()
        if session.get(Network, network_id) is None:
            raise NotFound(f"network {network_id} not found")
        return [budgets.describe(session, b) for b in budgets.budgets_of(session, network_id)]

    @blp.arguments(BudgetRequestSchema)
    @blp.response(201, BudgetSchema)
    @blp.alt_response(404, description="No such network")
    @blp.alt_response(409, description="Overlaps a budget the network already has")
    def post(self, data: dict[str, Any], network_id: int) -> Any:
        """Set the network's pooled budget for a period (health and social care parts)."""
        session = get_session()
        budget = budgets.set_budget(session, network_id=network_id, actor=current_actor(),
                                    now=now(), **data)
        session.commit()
        return budgets.describe(session, budget)


@blp.route("/budgets/<int:budget_id>/chart.svg")
class BudgetChart(MethodView):
    @blp.response(200, content_type="image/svg+xml",
                  description="Committed against available, by month")
    @blp.alt_response(404, description="No such budget")
    def get(self, budget_id: int) -> Any:
        """Bars of the budget for each month (pro rata) and the spend committed in it."""
        session = get_session()
        budget = session.get(NetworkBudget, budget_id)
        if budget is None:
            raise NotFound(f"budget {budget_id} not found")
        svg = budget_chart(budgets.by_month(session, budget))
        return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})
