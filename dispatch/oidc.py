"""NHS-style sign-in: OpenID Connect, authorisation code with PKCE (as NHS CIS2 does), with
Authlib as the client.

Turned on by ``DISPATCH_OIDC_ISSUER`` (the provider's issuer URL; its discovery document gives
the endpoints and signing keys) with ``DISPATCH_OIDC_CLIENT_ID`` and, for a confidential
client, ``DISPATCH_OIDC_CLIENT_SECRET``. The sign-in page then offers "Sign in with ..." beside
the local accounts (kept for the demo and break-glass). The role comes from a claim
(``DISPATCH_OIDC_ROLE_CLAIM``, default ``roles``; ``DISPATCH_OIDC_ROLE_FIELD`` for claims made
of objects such as CIS2's ``nhsid_nrbac_roles``) through ``DISPATCH_OIDC_ROLE_MAP`` (JSON,
provider value -> service role; unset: the service's role names themselves). With
``DISPATCH_OIDC_STAFF_CLAIM`` the claim of that name, a staff code, links the account to its
staff record (:mod:`dispatch.services.identity`).

Authlib keeps state, nonce and the PKCE verifier in the signed session cookie, checks the
returned state, exchanges the code with the verifier, and validates the ID token (signature
from the provider's keys, issuer, audience, expiry, nonce) before we read a claim.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, session
from flask.typing import ResponseReturnValue

from dispatch import webauth
from dispatch.db import get_session
from dispatch.request_clock import now
from dispatch.services.identity import RoleMapping, sign_in_from_claims

log = logging.getLogger(__name__)

bp = Blueprint("oidc", __name__)
EXTENSION_KEY = "dispatch.oidc"
CLIENT = "identity"
NEXT_KEY = "oidc_next"
CALLBACK_PATH = "/sign-in/oidc/callback"


def enabled(config: Any) -> bool:
    return bool(config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID"))


def role_mapping(config: Any) -> RoleMapping:
    """The role mapping from the settings; a malformed map stops start-up (ValueError)."""
    raw = config.get("OIDC_ROLE_MAP")
    try:
        values = json.loads(raw) if isinstance(raw, str) and raw.strip() else raw
    except json.JSONDecodeError as exc:
        raise ValueError(f"OIDC_ROLE_MAP is not valid JSON ({exc.msg})") from exc
    if values is not None and not (isinstance(values, dict)
                                   and all(isinstance(k, str) and isinstance(v, str)
                                           for k, v in values.items())):
        raise ValueError('OIDC_ROLE_MAP must be a JSON object of strings, e.g. '
                         '{"R8000": "call_handler"}')
    return RoleMapping(claim=str(config.get("OIDC_ROLE_CLAIM") or "roles"),
                       field=config.get("OIDC_ROLE_FIELD") or None, values=values,
                       staff_claim=config.get("OIDC_STAFF_CLAIM") or None)


def init_app(app: Flask) -> None:
    """Register the two routes (404 unless OIDC is configured) and the provider when it is."""
    app.register_blueprint(bp)
    if not enabled(app.config):
        return
    mapping = role_mapping(app.config)
    oauth = OAuth(app)
    issuer = str(app.config["OIDC_ISSUER"]).rstrip("/")
    oauth.register(
        CLIENT,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config.get("OIDC_CLIENT_SECRET") or None,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": app.config.get("OIDC_SCOPE") or "openid profile",
                       "code_challenge_method": "S256", "timeout": 10},
    )
    app.extensions[EXTENSION_KEY] = (oauth, mapping)


@bp.before_request
def _configured() -> None:
    if EXTENSION_KEY not in current_app.extensions:
        abort(404)


def _client() -> Any:
    oauth, _mapping = current_app.extensions[EXTENSION_KEY]
    return oauth.create_client(CLIENT)


def redirect_uri() -> str:
    """Where the provider sends the browser back: on the service's public address (what the
    provider has registered), not whatever Host header this request came with."""
    base = str(current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
    return f"{base}{CALLBACK_PATH}"


@bp.get("/sign-in/oidc")
def start() -> ResponseReturnValue:
    """Send the browser to the identity provider (state, nonce and PKCE challenge attached)."""
    from dispatch.web.common import _safe_next

    session[NEXT_KEY] = _safe_next(request.args.get("next"))
    try:
        return _client().authorize_redirect(redirect_uri())
    except Exception:  # the provider's discovery document could not be read
        log.exception("identity provider unreachable")
        return _failure(502, "The NHS identity service cannot be reached just now. Try again "
                             "in a minute, or sign in with a dispatch account.")


@bp.get(CALLBACK_PATH)
def callback() -> ResponseReturnValue:
    """The provider's answer: exchange the code, check the ID token, sign the user in."""
    from dispatch.web.common import _home_url, _safe_next

    if request.args.get("error"):
        description = request.args.get("error_description") or request.args["error"]
        return _failure(400, f"The NHS identity service did not sign you in: {description[:200]}")
    try:
        token = _client().authorize_access_token()
    except OAuthError as exc:
        log.warning("OIDC sign-in refused: %s", exc.error)
        return _failure(400, "Sign-in could not be completed (the answer from the identity "
                             "service did not match this browser's request). Start again.")
    except Exception:
        log.exception("OIDC token exchange failed")
        return _failure(502, "The NHS identity service did not answer. Try again in a minute.")
    claims = dict(token.get("userinfo") or {})
    _oauth, mapping = current_app.extensions[EXTENSION_KEY]
    db = get_session()
    result = sign_in_from_claims(db, issuer=str(claims.get("iss") or current_app.config[
        "OIDC_ISSUER"]), claims=claims, mapping=mapping, now=now())
    db.commit()
    if result.user is None:
        return _failure(403, result.message or "You cannot sign in.")
    target = _safe_next(session.get(NEXT_KEY))
    webauth.start_session(result.user)
    return redirect(target or _home_url(), code=303)


def _failure(status: int, message: str) -> ResponseReturnValue:
    from dispatch.error_pages import page_text

    return render_template("errors/error.html", status=status, text=page_text(status),
                           message=message), status
