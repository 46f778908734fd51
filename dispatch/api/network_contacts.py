"""``/api/networks/{id}/contacts``: the phones a network's escalations reach (H-040)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from dispatch.api.schemas import StrictSchema
from dispatch.auth import current_actor
from dispatch.db import get_session
from dispatch.request_clock import now
from dispatch.services import network_contacts

blp = Blueprint("network_contacts", __name__, url_prefix="/api",
                description="Who a network's escalations reach: the on-call coordinator's "
                            "phone and the manager's")

PHONE = ("A UK mobile (07700 900123 or +447700900123); null or empty clears it")


class ContactsRequestSchema(StrictSchema):
    on_call_phone = fields.String(allow_none=True, metadata={
        "description": f"Texted every escalation, grouped. {PHONE}"})
    manager_phone = fields.String(allow_none=True, metadata={
        "description": "Texted when an urgent decision waits too long for the on-call "
                       f"coordinator. {PHONE}"})


class ContactsSchema(Schema):
    network_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    on_call_phone = fields.String(allow_none=True)
    manager_phone = fields.String(allow_none=True)


@blp.route("/networks/<int:network_id>/contacts")
class NetworkContacts(MethodView):
    @blp.response(200, ContactsSchema)
    @blp.alt_response(404, description="No such network")
    def get(self, network_id: int) -> Any:
        """The phones this network's escalations are texted to."""
        return network_contacts.contacts_of(get_session(), network_id)

    @blp.arguments(ContactsRequestSchema)
    @blp.response(200, ContactsSchema)
    @blp.alt_response(404, description="No such network")
    def put(self, data: dict[str, Any], network_id: int) -> Any:
        """Set the on-call and/or the manager's phone (a field left out stays; null clears
        it); audited without the numbers."""
        session = get_session()
        result = network_contacts.set_contacts(session, network_id=network_id, data=data,
                                               actor=current_actor(), now=now())
        session.commit()
        return result
