"""``/api/visits``: the visits the scheduler plans and staff attend."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.api.schemas import VisitQuerySchema, VisitSchema
from dispatch.auth import current_actor
from dispatch.db import get_session
from dispatch.services import visits as service

blp = Blueprint("visits", __name__, url_prefix="/api/visits", description="Visits")


@blp.route("")
class Visits(MethodView):
    @blp.arguments(VisitQuerySchema, location="query")
    @blp.response(200, VisitSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """Visits, most urgent deadline first; field staff see only their own."""
        return service.list_visits(
            get_session(), actor=current_actor(), status=query.get("status"),
            network_id=query.get("network"), limit=query["limit"],
        )


@blp.route("/<int:visit_id>")
class VisitById(MethodView):
    @blp.response(200, VisitSchema)
    @blp.alt_response(404, description="No such visit (or not yours)")
    def get(self, visit_id: int) -> Any:
        """One visit."""
        return service.get_visit(get_session(), visit_id, actor=current_actor())
