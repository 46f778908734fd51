"""``/api/messages``: the SMS outbox and inbox, for the office (who was told what, and when)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from dispatch.api.schemas import StrictSchema
from dispatch.auth import current_actor
from dispatch.db import get_session
from dispatch.models.vocab import MESSAGE_DIRECTIONS, MESSAGE_STATUSES
from dispatch.services import outbox as service

blp = Blueprint("messages", __name__, url_prefix="/api/messages",
                description="SMS outbox and inbox")

MAX_LIMIT = 1000


class MessageQuerySchema(StrictSchema):
    visit_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    direction = fields.String(validate=validate.OneOf(MESSAGE_DIRECTIONS))
    status = fields.String(validate=validate.OneOf(MESSAGE_STATUSES))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=MAX_LIMIT))


class MessageSchema(Schema):
    id = fields.Integer()
    direction = fields.String()
    to = fields.String(attribute="to_number")
    from_ = fields.String(attribute="from_number", data_key="from", allow_none=True)
    body = fields.String()
    status = fields.String()
    visit_id = fields.Integer(allow_none=True)
    staff_id = fields.Integer(allow_none=True)
    attempts = fields.Integer()
    provider_sid = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)
    error = fields.Method("_error", allow_none=True)

    def _error(self, message: Any) -> str | None:
        if not (message.error_code or message.error_message):
            return None
        return f"{message.error_code or ''} {message.error_message or ''}".strip()


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
