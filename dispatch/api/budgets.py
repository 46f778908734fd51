"""``/api/networks/{id}/budgets``: a network's pooled budgets and what is committed; and
``/api/networks/{id}/tier-rules``: who serves whom by risk tier (issue 17); and
``/api/networks/{id}/tier-cover``: what those rules leave without cover on the roster (H-232)."""

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
from dispatch.models.vocab import RISK_TIERS
from dispatch.reports.budget_chart import budget_chart
from dispatch.request_clock import now
from dispatch.services import budgets, strata, tier_cover

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


class TierRulesRequestSchema(StrictSchema):
    """A network's tier rules; a field left out (or null) takes the seeds' default."""

    urgent_any_tier = fields.Boolean(load_default=None, allow_none=True, metadata={
        "description": "true (default): the hybrid workers' tier rule does not bind 2-hour "
                       "urgent visits, so a person in crisis is not kept waiting by it"})

    hybrid_tiers = fields.List(
        fields.String(validate=validate.OneOf(RISK_TIERS)), load_default=None, allow_none=True,
        metadata={"description": "Tiers hybrid workers may be sent to (default: very_high, "
                                 "high, as the seeds say)"})
    coordinated_tiers = fields.List(
        fields.String(validate=validate.OneOf(RISK_TIERS)), load_default=None, allow_none=True,
        metadata={"description": "Tiers whose patients each need a named care coordinator "
                                 "(default: very_high, high, moderate)"})
    planned_priority = fields.Dict(
        keys=fields.String(validate=validate.OneOf(RISK_TIERS)),
        values=fields.Integer(strict=True, validate=validate.Range(
            min=strata.MIN_PLANNED_PRIORITY, max=strata.MAX_PLANNED_PRIORITY)),
        load_default=None, allow_none=True,
        metadata={"description": "Priority of a care package's visits by the patient's tier "
                                 "(4 or 5, smaller first; default 4 for very_high and high, 5 "
                                 "for the others)"})


class TierRulesSchema(Schema):
    urgent_any_tier = fields.Boolean(metadata={
        "description": "A 2-hour urgent visit may go to anyone with the skills, whatever the "
                       "patient's tier (default true)"})
    network_id = fields.Integer()
    hybrid_tiers = fields.List(fields.String())
    coordinated_tiers = fields.List(fields.String())
    planned_priority = fields.Dict(keys=fields.String(), values=fields.Integer())
    customised = fields.List(fields.String(), metadata={
        "description": "The fields this network set; the others are the defaults"})
    defaults = fields.Dict(metadata={"description": "The seeds' defaults"})


@blp.route("/networks/<int:network_id>/tier-rules")
class NetworkTierRules(MethodView):
    @blp.response(200, TierRulesSchema)
    @blp.alt_response(404, description="No such network")
    def get(self, network_id: int) -> Any:
        """Who serves whom by risk tier in this network: the tiers hybrid workers serve (the
        planner and manual assignment keep to them), the tiers its care coordinators own, and
        the priority of planned visits by tier."""
        return strata.describe(strata.get_network(get_session(), network_id))

    @blp.arguments(TierRulesRequestSchema)
    @blp.response(200, TierRulesSchema)
    @blp.alt_response(404, description="No such network")
    def put(self, data: dict[str, Any], network_id: int) -> Any:
        """Set the network's tier rules (a field left out: the default); audited."""
        session = get_session()
        network = strata.set_rules(session, network_id=network_id, actor=current_actor(),
                                   now=now(), data={k: v for k, v in data.items()
                                                    if v is not None})
        session.commit()
        return strata.describe(network)


class TierCoverQuerySchema(StrictSchema):
    days = fields.Integer(load_default=tier_cover.HORIZON_DAYS,
                          validate=validate.Range(min=1, max=14),
                          metadata={"description": "How many days ahead to check (1-14)"})


class TierGapSchema(Schema):
    skill = fields.String()
    tiers = fields.List(fields.String(), metadata={
        "description": "Tiers nobody on shift who holds the skill may serve"})
    start = fields.DateTime()
    end = fields.DateTime()
    minutes = fields.Integer()


class VisitAtRiskSchema(Schema):
    visit_id = fields.Integer()
    reference = fields.String()
    category = fields.String()
    tier = fields.String(metadata={"description": "The patient's risk tier"})
    skills = fields.List(fields.String())
    earliest_start = fields.DateTime()
    deadline = fields.DateTime()
    why = fields.String()


class TierCoverSchema(Schema):
    network_id = fields.Integer()
    start = fields.DateTime(metadata={"description": "The check's window: now"})
    end = fields.DateTime(metadata={"description": "... to now plus the days asked"})
    urgent_exempt = fields.Boolean(metadata={
        "description": "2-hour visits may go to anyone with the skills (the gaps concern "
                       "24-hour and planned visits only)"})
    gaps = fields.List(fields.Nested(TierGapSchema))
    at_risk = fields.List(fields.Nested(VisitAtRiskSchema), metadata={
        "description": "Booked visits only the tier rules keep from everyone on the roster"})


@blp.route("/networks/<int:network_id>/tier-cover")
class NetworkTierCover(MethodView):
    @blp.arguments(TierCoverQuerySchema, location="query")
    @blp.response(200, TierCoverSchema)
    @blp.alt_response(404, description="No such network")
    def get(self, args: dict[str, Any], network_id: int) -> Any:
        """What the network's tier rules leave without cover on its roster over the coming
        days (hazard H-232): booked visits nobody on the roster may serve, though someone
        with the skills is on shift, and the hours when a skill on shift is held only by
        workers who may not serve some tiers. Read as the planner reads the roster (sickness
        and absences cut out); only the network's own staff count."""
        return tier_cover.check(get_session(), network_id=network_id, now=now(),
                                days=args["days"]).as_dict()
