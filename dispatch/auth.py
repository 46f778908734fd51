"""Who is calling: a bearer token (API) or a signed-in web session (``dispatch.webauth``),
checked against the permission table before any view runs."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import Flask, current_app, g, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.routing import BuildError

from dispatch.actors import SYSTEM, Actor
from dispatch.db import get_session
from dispatch.error_pages import forbidden_page, is_api_path, wants_json
from dispatch.http_errors import error_body
from dispatch.permissions import METRICS_TOKEN, PUBLIC, SIGNATURE, allowed, rule_for
from dispatch.services.users import user_for_token

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.before_request(_authenticate_and_authorise)


def current_actor() -> Actor:
    """The signed-in actor of this request (views behind the permission table always have one)."""
    actor: Actor | None = g.get("actor")
    return actor or SYSTEM


def request_id() -> str:
    """This request's reference: the caller's ``X-Request-Id`` (printable ASCII only, at most
    64 characters: it goes into logs, the audit trail and error pages) or a new one."""
    if "request_id" not in g:
        given = "".join(c for c in request.headers.get("X-Request-Id", "") if 32 <= ord(c) < 127)
        g.request_id = given[:64] or uuid.uuid4().hex
    return str(g.request_id)


def _authenticate_and_authorise() -> ResponseReturnValue | None:
    request_id()
    rule = rule_for(request.endpoint, request.method)
    if rule is None:
        log.error("route %s %s has no permission rule; refused", request.method, request.endpoint)
        return _deny(403, "this route has no permission rule")
    if rule in (PUBLIC, SIGNATURE):
        return None
    if rule == METRICS_TOKEN:
        return _check_metrics_token()
    actor = _actor_from_request()
    if actor is None:
        if _is_page_request():
            return _to_sign_in()
        return _deny(401, "sign in or send an API token (Authorization: Bearer <token>)")
    g.actor = actor
    if not allowed(rule, actor.role):
        return _deny(403, f"the {actor.role} role may not do this")
    return None


def _check_metrics_token() -> ResponseReturnValue | None:
    """/metrics: open unless ``METRICS_TOKEN`` is set; then exactly that bearer token."""
    import hmac

    expected = str(current_app.config.get("METRICS_TOKEN") or "")
    if not expected:
        return None
    header = request.headers.get("Authorization", "")
    given = header[len("Bearer "):] if header.startswith("Bearer ") else ""
    if given and hmac.compare_digest(given.encode(), expected.encode()):
        return None
    return _deny(401, "send the metrics token (Authorization: Bearer <DISPATCH_METRICS_TOKEN>)")


def _actor_from_request() -> Actor | None:
    """The bearer token's user if an Authorization header is sent (a bad token is not rescued
    by a session cookie), else the user signed in to this browser session, else None."""
    header = request.headers.get("Authorization", "")
    if not header:
        return _actor_from_session()
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    user = user_for_token(get_session(), token.strip())
    if user is None:
        return None
    return _actor(user)


def _actor_from_session() -> Actor | None:
    if getattr(current_app, "login_manager", None) is None:
        return None  # web sign-in not set up on this app
    user = current_user
    if not user.is_authenticated:
        return None
    return _actor(user)


def _actor(user: Any) -> Actor:
    """The actor for a signed-in user, with the networks they may see and act on."""
    from dispatch.models import User
    from dispatch.services.network_scope import networks_of

    row = user if isinstance(user, User) else get_session().get(User, user.id)
    networks = networks_of(get_session(), row) if row is not None else frozenset()
    return Actor(user_id=user.id, username=user.username, role=user.role,
                 staff_id=user.staff_id, networks=networks)


def _is_page_request() -> bool:
    return not is_api_path(request.path) and "Authorization" not in request.headers


def _to_sign_in() -> ResponseReturnValue:
    """A person who is not signed in goes to the sign-in page, then back where they were."""
    try:
        back = request.full_path.rstrip("?") if request.method == "GET" else None
        target = url_for("web.sign_in", next=back)
    except BuildError:
        return _deny(401, "sign in or send an API token (Authorization: Bearer <token>)")
    return redirect(target, code=303 if request.method != "GET" else 302)


def _deny(status: int, message: str) -> ResponseReturnValue:
    """A refusal: the common JSON shape for machines and scripts, an NHS.UK page for a person
    (only 403 reaches a person: an anonymous one is sent to sign in instead of a 401)."""
    if status == 403 and not wants_json():
        return forbidden_page(message)
    response = jsonify(error_body(status, message))
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="dispatch"'
    return response, status
