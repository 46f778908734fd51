"""Web sign-in: flask-login sessions, CSRF on every form, lock-out after repeated failures.

The API keeps its bearer tokens (``dispatch.auth``); a browser signs in here and
``dispatch.auth`` accepts the session user as the request's actor too, so the one permission
table guards pages and API alike. Passwords are checked against werkzeug hashes. Five wrong
passwords in a row lock the account for fifteen minutes (NCSC: throttle guessing without
locking people out for good). Every sign-in, failure, lock-out and sign-out is audited.

CSRF: every unsafe request that a browser's cookie could authenticate must carry the form's
token (or an ``X-CSRFToken`` header). Requests with a bearer token cannot be forged by another
site, and provider webhooks are authenticated by their signature, so both are exempt.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, render_template, request, session
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, UserMixin, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import orm as so
from werkzeug.security import check_password_hash, generate_password_hash

from dispatch.actors import Actor
from dispatch.db import get_session
from dispatch.error_pages import wants_json
from dispatch.http_errors import error_body
from dispatch.models import User
from dispatch.permissions import SIGNATURE, rule_for
from dispatch.services import audit
from dispatch.services.users import end_all_sessions
from dispatch.wording import london_time

log = logging.getLogger(__name__)

LOCKOUT_THRESHOLD = 5  # wrong passwords in a row
LOCKOUT_DURATION = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)  # one long shift; then sign in again
FLASK_DEFAULT_LIFETIME = timedelta(days=31)
# A CSRF token outlives a long call: a form opened at the start of a shift still submits.
CSRF_TIME_LIMIT_SECONDS = 12 * 60 * 60
SIGN_IN_PURPOSE = "web sign-in"
GENERIC_FAILURE = "The username or password is not right"

login_manager = LoginManager()
csrf = CSRFProtect()


@dataclass(frozen=True)
class SessionUser(UserMixin):
    """The signed-in user as flask-login holds it for one request.

    ``marker`` is a fingerprint of the password hash and ``generation`` the user's
    ``session_generation``: the session id is ``"<id>:<marker>:<generation>"``, so changing a
    password, signing out, or disabling the account ends every session signed in before, even
    a copy of its cookie kept elsewhere (the server decides, not the browser).
    """

    id: int
    username: str
    display_name: str
    role: str
    staff_id: int | None
    marker: str
    generation: int = 0

    def get_id(self) -> str:
        return f"{self.id}:{self.marker}:{self.generation}"

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.id, username=self.username, role=self.role,
                     staff_id=self.staff_id)

    @classmethod
    def from_user(cls, user: User) -> SessionUser:
        return cls(id=user.id, username=user.username, display_name=user.display_name,
                   role=user.role, staff_id=user.staff_id, marker=_marker(user),
                   generation=user.session_generation or 0)


def _marker(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def init_app(app: Flask) -> None:
    """Sessions, cookies and CSRF for ``app``; call after ``dispatch.auth.init_app`` so an
    anonymous API call is told 401 before it is told its CSRF token is missing."""
    secure = str(app.config.get("PUBLIC_BASE_URL") or "").startswith("https://")
    # Flask ships defaults for these (not Secure, no SameSite, 31 days), so set them outright;
    # a deployment may still ask for more (Secure over http behind a proxy, SameSite=Strict).
    for prefix in ("SESSION", "REMEMBER"):
        app.config[f"{prefix}_COOKIE_SECURE"] = secure or bool(
            app.config.get(f"{prefix}_COOKIE_SECURE"))
        app.config[f"{prefix}_COOKIE_HTTPONLY"] = True
        if app.config.get(f"{prefix}_COOKIE_SAMESITE") not in ("Lax", "Strict"):
            app.config[f"{prefix}_COOKIE_SAMESITE"] = "Lax"
    if app.config.get("PERMANENT_SESSION_LIFETIME") == FLASK_DEFAULT_LIFETIME:
        app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", CSRF_TIME_LIMIT_SECONDS)
    # We decide which requests need a token (see _check_csrf), not flask-wtf's blanket hook.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    login_manager.init_app(app)
    login_manager.login_view = "web.sign_in"
    csrf.init_app(app)
    app.before_request(_check_csrf)
    app.register_error_handler(CSRFError, _csrf_failed)


@login_manager.user_loader
def _load_user(session_id: str) -> SessionUser | None:
    user_id, _, rest = session_id.partition(":")
    marker, _, generation = rest.partition(":")
    if not user_id.isdigit() or not generation.isdigit():
        return None
    user = get_session().get(User, int(user_id))
    # A user has a password or an identity at the provider (dispatch/oidc.py); neither: none.
    signs_in = bool(user is not None and (user.password_hash or user.identity_subject))
    if (user is None or not user.active or not signs_in or _marker(user) != marker
            or (user.session_generation or 0) != int(generation)):
        return None
    return SessionUser.from_user(user)


def _check_csrf() -> None:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if request.method not in current_app.config["WTF_CSRF_METHODS"]:
        return
    if rule_for(request.endpoint, request.method) == SIGNATURE:
        return
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        return
    csrf.protect()


def _csrf_failed(exc: CSRFError) -> ResponseReturnValue:
    log.warning("CSRF check failed for %s %s: %s", request.method, request.path, exc.description)
    if wants_json():
        return error_body(400, f"CSRF check failed: {exc.description}"), 400
    return render_template("errors/csrf.html", reason=exc.description), 400


@dataclass(frozen=True)
class SignInResult:
    """The outcome of one attempt: the user on success, else a message to show."""

    user: User | None
    message: str | None = None
    locked_until: datetime | None = None


@cache
def _dummy_hash() -> str:
    return generate_password_hash("no such user; checked only to take the same time")


def authenticate(
    session: so.Session, *, username: str, password: str, now: datetime
) -> SignInResult:
    """Check a username and password, counting failures and locking the account after
    :data:`LOCKOUT_THRESHOLD` in a row. Stages the user's counters and an audit event; the
    caller commits.

    Parallel guesses are counted as if made one after another: the user's row is locked
    (``SELECT ... FOR UPDATE`` on PostgreSQL) from the lock-out check until the caller
    commits, and a failure is counted by the database itself (``failed_logins + 1``), never
    by writing back a number read earlier. So forty simultaneous wrong passwords lock the
    account at the fifth, and a right one hidden among them signs in only if fewer than five
    wrong ones came first.

    Unknown users get the same message and take the same time as a wrong password, so the
    form does not reveal who has an account.
    """
    user = session.scalar(
        sa.select(User).where(User.username == username.strip()).with_for_update()
        .execution_options(populate_existing=True))
    if user is None or not user.active or not user.password_hash:
        check_password_hash(_dummy_hash(), password)
        log.info("sign-in refused for unknown or inactive user %r", username[:80])
        return SignInResult(None, GENERIC_FAILURE)
    if user.locked_until is not None and user.locked_until > now:
        _audit(session, user, "sign_in_refused_locked", now)
        return SignInResult(None, _locked_message(user.locked_until), user.locked_until)
    if not check_password_hash(user.password_hash, password):
        return _failed(session, user, now)
    user.failed_logins = 0
    user.locked_until = None
    _audit(session, user, "sign_in", now)
    return SignInResult(user)


def _failed(session: so.Session, user: User, now: datetime) -> SignInResult:
    """Count one failure in the database; the one that reaches the threshold locks."""
    until = now + LOCKOUT_DURATION
    reaches = User.failed_logins + 1 >= LOCKOUT_THRESHOLD
    row = session.execute(
        sa.update(User).where(User.id == user.id)
        .values(failed_logins=sa.case((reaches, 0), else_=User.failed_logins + 1),
                locked_until=sa.case((reaches, until), else_=User.locked_until))
        .returning(User.failed_logins, User.locked_until)
        .execution_options(synchronize_session=False)).one()
    session.refresh(user, ["failed_logins", "locked_until"])
    failures, locked_until = row
    if locked_until is None or locked_until <= now or failures != 0:
        _audit(session, user, "sign_in_failed", now, {"failed_logins": failures})
        return SignInResult(None, GENERIC_FAILURE)
    _audit(session, user, "account_locked", now, {"locked_until": until.isoformat()})
    log.warning("user %s locked until %s after %d failed sign-ins", user.username,
                until.isoformat(), LOCKOUT_THRESHOLD)
    return SignInResult(None, _locked_message(until), until)


def _locked_message(until: datetime) -> str:
    return (f"This account is locked after {LOCKOUT_THRESHOLD} wrong passwords. "
            f"Try again after {london_time(until)}, or ask an administrator to unlock it")


def _audit(session: so.Session, user: User, action: str, now: datetime,
           details: dict[str, Any] | None = None) -> None:
    actor = Actor(user_id=user.id, username=user.username, role=user.role, staff_id=user.staff_id)
    audit.record(session, actor=actor, action=action, now=now, entity=("user", user.id),
                 purpose=SIGN_IN_PURPOSE, details=details or {})


def start_session(user: User) -> None:
    """Sign ``user`` in: a fresh session (nothing carried over from before sign-in)."""
    session.clear()
    login_user(SessionUser.from_user(user))
    session.permanent = True


def end_session(db_session: so.Session, *, actor: Actor, now: datetime) -> None:
    """Sign out: end every session of the user on the server (a copied cookie stops working
    too), audit it, forget the user and clear the whole session cookie."""
    if actor.user_id is not None:
        end_all_sessions(db_session, actor.user_id)
        audit.record(db_session, actor=actor, action="sign_out", now=now,
                     entity=("user", actor.user_id), purpose=SIGN_IN_PURPOSE)
    logout_user()
    session.clear()
