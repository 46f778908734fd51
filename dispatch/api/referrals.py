"""``/api/referrals``: log a referral and read it back."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate
from werkzeug.http import HTTP_STATUS_CODES

from dispatch.actors import Actor
from dispatch.api.schemas import (
    PatientMismatchSchema,
    ReferralCreateSchema,
    ReferralSchema,
    StrictSchema,
)
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.jobs.wakeup import wake
from dispatch.planning.runs import provider_for
from dispatch.request_clock import now
from dispatch.services import duplicates, slots
from dispatch.services import referrals as service
from dispatch.services.patient_matching import PatientMismatch
from dispatch.services.referral_commands import NewReferral
from dispatch.services.slot_holds import hold_minutes

blp = Blueprint(
    "referrals",
    __name__,
    url_prefix="/api/referrals",
    description="Referrals from NHS 111, out-of-hours, 999, GPs and others",
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 100
KEY_COLUMN_LENGTH = 100  # Referral.idempotency_key


@blp.errorhandler(PatientMismatch)
def patient_mismatch(exc: PatientMismatch) -> ResponseReturnValue:
    """409 naming the fields that differ, never the registered patient's values (H-001)."""
    return jsonify({
        "code": exc.code, "status": HTTP_STATUS_CODES[409], "message": exc.message,
        "fields": exc.fields, "patient_ids": exc.patient_ids,
        "patient_id": exc.patient_ids[0] if len(exc.patient_ids) == 1 else None,
    }), 409


@blp.route("")
class Referrals(MethodView):
    @blp.arguments(ReferralCreateSchema)
    @blp.response(201, ReferralSchema)
    @blp.alt_response(409, schema=PatientMismatchSchema, description=(
        "patient_mismatch: the patient details disagree with the registered patient they "
        "would match (only the differing fields are named; resend with confirm_patient_id "
        "after checking). Also: Idempotency-Key reused with a different body (the common "
        "error shape)"))
    @blp.doc(
        parameters=[
            {
                "in": "header",
                "name": IDEMPOTENCY_HEADER,
                "required": False,
                "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
                "description": "Retries by the same user with the same key and body return "
                "the same referral; keys are scoped to the calling user, so another user's "
                "same key makes a new referral",
            }
        ]
    )
    def post(self, command: NewReferral) -> Any:
        """Log a referral: match or register the patient, triage, and make its visit.

        Returns the referral with its disposition (category, deadline, NEWS2, reasons) and the
        visit made for urgent, 24-hour and planned responses, and the patient's other open
        referrals as ``possible_duplicates`` (it is logged anyway). A retry with the same
        Idempotency-Key and body returns the same referral (header ``Idempotent-Replayed``).
        A patient whose registered family name, date of birth or postcode disagree with the
        details given is never matched silently: 409 ``patient_mismatch``. Without an NHS
        number the patient is registered with ``nhs_number_status`` ``not_known``.
        """
        key = request.headers.get(IDEMPOTENCY_HEADER) or None
        if key is not None and len(key) > MAX_KEY_LENGTH:
            abort(
                422,
                message="invalid header",
                errors={"headers": {IDEMPOTENCY_HEADER: [f"at most {MAX_KEY_LENGTH} characters"]}},
            )
        session = get_session()
        actor = current_actor()
        result = service.create_referral(
            session,
            command=command,
            actor=actor,
            now=now(),
            idempotency_key=caller_key(actor, key),
            request_id=request_id(),
        )
        session.commit()
        if result.created and result.referral.visits:
            wake()  # place the new visit now, not at the next tick
        headers = {"Idempotent-Replayed": "true"} if not result.created else {}
        return result.read, 201, headers


def caller_key(actor: Actor, key: str | None) -> str | None:
    """The stored form of a client's Idempotency-Key: scoped to the calling user, so another
    user sending the same key makes their own referral instead of reading the first user's,
    and kept apart from the web form's (``web-``) and FHIR's (``fhir:``) keys.

    ``api:<user id>:<key>``; a key too long for the column with that prefix is stored as
    its SHA-256 (``api:<user id>:sha256:<hex>``), the same for every retry.
    """
    if key is None:
        return None
    scoped = f"api:{actor.user_id or 0}:{key}"
    if len(scoped) <= KEY_COLUMN_LENGTH:
        return scoped
    return f"api:{actor.user_id or 0}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


@blp.route("/<int:referral_id>")
class ReferralById(MethodView):
    @blp.response(200, ReferralSchema)
    @blp.alt_response(404, description="No such referral")
    def get(self, referral_id: int) -> Any:
        """One referral with its disposition and visits; the read is audited."""
        session = get_session()
        read = service.read_referral(session, referral_id, actor=current_actor(), now=now(),
                                     purpose="read the referral (API)", request_id=request_id())
        session.commit()
        return read


@blp.route("/<int:referral_id>/duplicate-of/<int:other_id>")
class DuplicateOf(MethodView):
    @blp.response(200, ReferralSchema)
    @blp.alt_response(404, description="No such referral")
    @blp.alt_response(409, description="The same referral, referrals of different patients, "
                      "or one already closed (or its visit under way)")
    def post(self, referral_id: int, other_id: int) -> Any:
        """Mark a referral a duplicate of another (coordinators): its open visits are cancelled
        with that reason and the referral is cancelled, audited."""
        session = get_session()
        read = duplicates.mark_duplicate(session, referral_id=referral_id, of_id=other_id,
                                         actor=current_actor(), now=now(),
                                         request_id=request_id())
        session.commit()
        return read


class SlotQuerySchema(StrictSchema):
    k = fields.Integer(load_default=slots.DEFAULT_COUNT, validate=validate.Range(min=1, max=10),
                       metadata={"description": "How many windows (1-10)"})
    hours = fields.Integer(load_default=24, validate=validate.Range(min=1, max=72),
                           metadata={"description": "How far ahead to look (1-72 hours)"})
    step = fields.Integer(load_default=30, validate=validate.Range(min=15, max=240),
                          metadata={"description": "Minutes between window starts (15-240)"})


class SlotSchema(Schema):
    start = fields.DateTime(metadata={"description": "The window: the visit starts between "
                                      "start and end (book it with start)"})
    end = fields.DateTime()
    planned_start = fields.DateTime(metadata={"description": "When the plan as it stands "
                                              "would start it"})
    cost = fields.Integer(metadata={"description": "What it adds to the plan (seconds of "
                                    "travel and waiting as the planner weighs them)"})
    after_deadline = fields.Boolean(metadata={"description": "Starts after the visit's "
                                              "deadline: booking it needs a reason, and for "
                                              "timeframes of 6 hours or less approval"})


@blp.route("/<int:referral_id>/slots")
class ReferralSlots(MethodView):
    @blp.arguments(SlotQuerySchema, location="query")
    @blp.response(200, SlotSchema(many=True))
    @blp.alt_response(404, description="No such referral")
    def get(self, args: dict[str, Any], referral_id: int) -> Any:
        """The ``k`` best one-hour windows to offer a caller who asks for a later start for
        the referral's open visit, cheapest for the plan first, never overlapping, from its
        current earliest start (or now) to ``hours`` ahead; a window starting by the deadline
        ends at it. Nothing is booked: book with
        ``POST`` of the start on the handler's page or the visit's booking. Empty when the
        referral has no open visit or nothing fits. The read is audited, and each window
        is held for the caller for ``SLOT_HOLD_MINUTES`` (other callers' offers are worked out
        round it; hazard H-140-C2)."""
        session = get_session()
        found = slots.offer_slots(
            session, referral_id, actor=current_actor(), now=now(),
            provider=provider_for(current_app), purpose="offer the caller a time (API)",
            request_id=request_id(), k=args["k"], ahead=timedelta(hours=args["hours"]),
            step=timedelta(minutes=args["step"]), hold=hold_minutes(current_app.config))
        session.commit()
        return found
