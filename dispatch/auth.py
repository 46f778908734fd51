"""Who is calling: bearer tokens for the API (web sign-in joins here later), checked against
the permission table before any view runs."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from flask import Flask, g, jsonify, request
from flask.typing import ResponseReturnValue

from dispatch.api import error_body
from dispatch.db import get_session
from dispatch.permissions import PUBLIC, SIGNATURE, allowed, rule_for
from dispatch.services.users import user_for_token

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Actor:
    """The person behind a request, as recorded in audit events."""

    user_id: int | None
    username: str
    role: str
    staff_id: int | None = None


SYSTEM = Actor(user_id=None, username="system", role="admin")


def init_app(app: Flask) -> None:
    app.before_request(_authenticate_and_authorise)


def current_actor() -> Actor:
    """The signed-in actor of this request (views behind the permission table always have one)."""
    actor: Actor | None = g.get("actor")
    return actor or SYSTEM


def request_id() -> str:
    if "request_id" not in g:
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
    return str(g.request_id)


def _authenticate_and_authorise() -> ResponseReturnValue | None:
    request_id()
    rule = rule_for(request.endpoint, request.method)
    if rule is None:
        log.error("route %s %s has no permission rule; refused", request.method, request.endpoint)
        return _deny(403, "this route has no permission rule")
    if rule == PUBLIC or rule == SIGNATURE:
        return None
    actor = _actor_from_request()
    if actor is None:
        return _deny(401, "sign in or send an API token (Authorization: Bearer <token>)")
    g.actor = actor
    if not allowed(rule, actor.role):
        return _deny(403, f"the {actor.role} role may not do this")
    return None


def _actor_from_request() -> Actor | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    user = user_for_token(get_session(), token.strip())
    if user is None:
        return None
    return Actor(user_id=user.id, username=user.username, role=user.role, staff_id=user.staff_id)


def _deny(status: int, message: str) -> ResponseReturnValue:
    response = jsonify(error_body(status, message))
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="dispatch"'
    return response, status
