"""``POST /sms/inbound`` and ``POST /sms/status``: Twilio's webhooks, signature checked.

Twilio signs each webhook with the account's auth token over the full public URL it called and
the form fields (``X-Twilio-Signature``); we check it with twilio's own ``RequestValidator``
against ``PUBLIC_BASE_URL`` + path (+ query), because behind a proxy the URL Flask sees is not
the one Twilio signed. No auth token configured means no webhook is accepted (403): the local
demo has no Twilio, and its simulated replies call ``dispatch.sms.inbound.handle_inbound``
directly rather than through an unauthenticated route.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from dispatch.api.schemas import (
    InboundFormSchema,
    StatusFormSchema,
)
from dispatch.db import get_session
from dispatch.request_clock import now
from dispatch.services import outbox
from dispatch.sms.inbound import handle_inbound

blp = Blueprint("sms", __name__, url_prefix="/sms",
                description="Twilio webhooks (X-Twilio-Signature checked)")

SIGNATURE_HEADER = "X-Twilio-Signature"
FORM = {"requestBody": {"required": True, "content": {
    "application/x-www-form-urlencoded": {"schema": {"type": "object"}}}}}


def signed_url() -> str:
    """The URL Twilio called, as it knows it: public base + path (+ query)."""
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    query = request.query_string.decode("latin-1")
    return f"{base}{request.path}" + (f"?{query}" if query else "")


def require_twilio_signature() -> None:
    """:raise 403: no auth token configured, or a missing or wrong signature."""
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    if not token:
        abort(403, message="SMS webhooks are refused: no Twilio auth token is configured")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature or not RequestValidator(token).validate(signed_url(), request.form,
                                                             signature):
        abort(403, message=f"invalid or missing {SIGNATURE_HEADER}")


def _load(schema: Schema) -> dict[str, Any]:
    try:
        return schema.load(request.form.to_dict())
    except ValidationError as exc:
        abort(422, message="invalid webhook", errors=exc.messages)
    raise AssertionError("unreachable")


def twiml(answer: str | None) -> Response:
    """A TwiML response texting ``answer`` back (or nothing)."""
    reply = MessagingResponse()
    if answer:
        reply.message(answer)
    return Response(str(reply), mimetype="application/xml")


@blp.route("/inbound")
class Inbound(MethodView):
    @blp.doc(**FORM)
    @blp.alt_response(200, description="TwiML answer (application/xml)")
    @blp.alt_response(403, description="Bad or missing X-Twilio-Signature")
    def post(self) -> Any:
        """A worker's reply (ACCEPT 4821, DECLINE 4821 reason, ARRIVED, DONE, HELP): stored,
        acted on, and answered with TwiML."""
        require_twilio_signature()
        form = _load(InboundFormSchema())
        session = get_session()
        result = handle_inbound(
            session, from_number=form["From"], to_number=form["To"], body=form["Body"],
            provider_sid=form.get("MessageSid"), now=now())
        session.commit()
        return twiml(result.answer)


@blp.route("/status")
class Status(MethodView):
    @blp.doc(**FORM)
    @blp.alt_response(204, description="Recorded (or not ours; Twilio needs no more)")
    @blp.alt_response(403, description="Bad or missing X-Twilio-Signature")
    def post(self) -> Any:
        """A delivery report for a text we sent; a failure is escalated to the coordinator."""
        require_twilio_signature()
        form = _load(StatusFormSchema())
        session = get_session()
        outbox.record_status(
            session, sid=form["MessageSid"], status=form["MessageStatus"].lower(),
            error_code=form.get("ErrorCode") or None, now=now(),
            send_key=request.args.get("key") or None)
        session.commit()
        return Response(status=204)
