"""``/api/messages``: the SMS outbox and inbox, for the office (who was told what, and when)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.api.schemas import (
    MessageQuerySchema,
    MessageSchema,
)
from dispatch.auth import current_actor
from dispatch.db import get_session
from dispatch.services import outbox as service

blp = Blueprint("messages", __name__, url_prefix="/api/messages",
                description="SMS outbox and inbox")


@blp.route("")
class Messages(MethodView):
    @blp.arguments(MessageQuerySchema, location="query")
    @blp.response(200, MessageSchema(many=True))
    @blp.alt_response(403, description="Not a coordinator, manager or admin")
    def get(self, query: dict[str, Any]) -> Any:
        """Texts out and in, newest first, optionally for one visit, direction or status.

        For coordinators, managers and admins: the roles of the /messages page.
        """
        return service.list_messages(
            get_session(), visit_id=query.get("visit_id"), direction=query.get("direction"),
            status=query.get("status"), limit=query["limit"], actor=current_actor())
