"""``/api/referrals``: log a referral and read it back."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from dispatch.actors import Actor
from dispatch.api.clock import now
from dispatch.api.schemas import ReferralCreateSchema, ReferralSchema
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.jobs.wakeup import wake
from dispatch.models import Referral
from dispatch.services import audit
from dispatch.services import referrals as service

blp = Blueprint(
    "referrals",
    __name__,
    url_prefix="/api/referrals",
    description="Referrals from NHS 111, out-of-hours, 999, GPs and others",
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 100
KEY_COLUMN_LENGTH = 100  # Referral.idempotency_key


def serialise(referral: Referral) -> dict[str, Any]:
    """The referral as the API shows it (with its visits' summaries)."""
    return {
        "id": referral.id,
        "status": referral.status,
        "patient_id": referral.patient_id,
        "source": referral.source,
        "received_at": referral.received_at,
        "category": referral.category,
        "deadline": referral.deadline,
        "disposition": referral.disposition,
        "safety_netting": (referral.disposition or {}).get("safety_netting"),
        "visits": [
            {"id": v.id, "reference": v.reference, "status": v.status, "deadline": v.deadline}
            for v in referral.visits
        ],
    }


@blp.route("")
class Referrals(MethodView):
    @blp.arguments(ReferralCreateSchema)
    @blp.response(201, ReferralSchema)
    @blp.alt_response(409, description="Idempotency-Key reused with a different body")
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
    def post(self, payload: dict[str, Any]) -> Any:
        """Log a referral: match or register the patient, triage, and make its visit.

        Returns the referral with its disposition (category, deadline, NEWS2, reasons) and the
        visit made for urgent, 24-hour and planned responses. A retry with the same
        Idempotency-Key and body returns the same referral (header ``Idempotent-Replayed``).
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
            payload=payload,
            actor=actor,
            now=now(),
            idempotency_key=caller_key(actor, key),
            request_id=request_id(),
        )
        session.commit()
        if result.created and result.referral.visits:
            wake()  # place the new visit now, not at the next tick
        headers = {"Idempotent-Replayed": "true"} if not result.created else {}
        return serialise(result.referral), 201, headers


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
        referral = service.get_referral(session, referral_id)
        audit.record(session, actor=current_actor(), action="view_referral", now=now(),
                     patient_id=referral.patient_id, entity=("referral", referral.id),
                     purpose="read the referral (API)", request_id=request_id())
        session.commit()
        return serialise(referral)
