"""Web sign-in (issue 8): hashed passwords, CSRF on every form, secure cookies, lock-out after
repeated failures, sign-out; anonymous visitors to pages are sent to sign in."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from dispatch import create_app
from dispatch import models as m
from dispatch.db import get_database
from dispatch.webauth import LOCKOUT_DURATION, LOCKOUT_THRESHOLD
from tests.conftest import FIXED_NOW
from tests.dispatch.web.test_web_support import (
    PASSWORD,
    add_web_user,
    audit_actions,
    csrf_token,
    sign_in,
    signed_in_client,
    web_client,
)


def test_sign_in_page_uses_nhs_frontend_assets(app: Flask) -> None:
    """The page extends the NHS.UK template and loads its CSS from our own /static."""
    response = web_client(app).get("/sign-in")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "/static/vendor/nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css" in html
    assert 'class="nhsuk-header' in html and "Rapid response dispatch" in html


def test_sign_in_stores_no_plain_password(app: Flask, session: so.Session) -> None:
    """Passwords are kept only as werkzeug hashes."""
    user = add_web_user(session, "call_handler", cheap=False)
    assert user.password_hash and PASSWORD not in user.password_hash
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))
    assert sign_in(web_client(app), user.username).status_code == 303


def test_sign_in_success_goes_to_role_home_with_safe_cookie(
    app: Flask, session: so.Session
) -> None:
    """A call handler lands on the referral page; the session cookie is HttpOnly and Lax."""
    client = web_client(app)
    user = add_web_user(session, "call_handler")
    response = sign_in(client, user.username)
    assert response.status_code == 303
    assert response.headers["Location"] == "/referrals/new"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert client.get("/referrals/new").status_code == 200
    assert audit_actions(session)[-1] == "sign_in"


def test_sign_in_cookie_secure_when_public_url_is_https(database_url: str) -> None:
    """Behind https the session cookie is marked Secure, so it never travels in clear."""
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test",
                      "PUBLIC_BASE_URL": "https://dispatch.example.nhs.uk"})
    try:
        response = app.test_client().get("/sign-in")  # the CSRF token starts a session
    finally:
        get_database(app).dispose()
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_sign_in_wrong_password_shows_error_summary(app: Flask, session: so.Session) -> None:
    """A wrong password re-shows the form with the NHS error summary and counts the failure."""
    user = add_web_user(session, "call_handler")
    response = sign_in(web_client(app), user.username, "wrong password")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "nhsuk-error-summary" in html and 'role="alert"' in html
    assert "The username or password is not right" in html and 'href="#username"' in html
    session.expire_all()
    assert session.get(m.User, user.id).failed_logins == 1  # type: ignore[union-attr]


def test_sign_in_unknown_user_gets_the_same_message(app: Flask) -> None:
    """An unknown username is not revealed as such."""
    html = sign_in(web_client(app), "nobody-here", "whatever").get_data(as_text=True)
    assert "The username or password is not right" in html


def test_sign_in_locks_after_five_failures(app: Flask, session: so.Session) -> None:
    """Five wrong passwords lock the account for 15 minutes; even the right one is refused."""
    client = web_client(app)
    user = add_web_user(session, "call_handler")
    for _ in range(LOCKOUT_THRESHOLD):
        sign_in(client, user.username, "wrong password")
    response = sign_in(client, user.username)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "locked" in html
    session.expire_all()
    locked = session.get(m.User, user.id)
    assert locked is not None
    assert locked.locked_until == datetime.fromisoformat(FIXED_NOW) + LOCKOUT_DURATION
    actions = audit_actions(session)
    assert actions.count("sign_in_failed") == LOCKOUT_THRESHOLD - 1
    assert "account_locked" in actions and "sign_in_refused_locked" in actions
    assert client.get("/referrals/new").status_code == 302  # still signed out


def test_sign_in_four_failures_do_not_lock(app: Flask, session: so.Session) -> None:
    """One short of the threshold the right password still works and resets the count."""
    client = web_client(app)
    user = add_web_user(session, "call_handler")
    for _ in range(LOCKOUT_THRESHOLD - 1):
        sign_in(client, user.username, "wrong password")
    assert sign_in(client, user.username).status_code == 303
    session.expire_all()
    assert session.get(m.User, user.id).failed_logins == 0  # type: ignore[union-attr]


def test_sign_in_lock_expires_after_fifteen_minutes(app: Flask, session: so.Session) -> None:
    """After the lock-out period the right password signs in again."""
    client = web_client(app)
    user = add_web_user(session, "call_handler")
    for _ in range(LOCKOUT_THRESHOLD):
        sign_in(client, user.username, "wrong password")
    later = datetime.fromisoformat(FIXED_NOW) + LOCKOUT_DURATION + timedelta(seconds=1)
    app.config["FIXED_NOW"] = later.isoformat()
    assert sign_in(client, user.username).status_code == 303


def test_sign_out_ends_the_session(app: Flask, session: so.Session) -> None:
    """After signing out, pages send you back to sign in and the sign-out is audited."""
    client = signed_in_client(app, session, "call_handler")
    response = client.post("/sign-out")
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    assert client.get("/referrals/new").status_code == 302
    assert audit_actions(session)[-1] == "sign_out"


def test_csrf_post_without_token_is_refused(app: Flask, session: so.Session) -> None:
    """With CSRF on (as in production), a form posted without its token is refused (400)."""
    client = web_client(app, csrf=True)
    user = add_web_user(session, "call_handler")
    response = sign_in(client, user.username)
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
    assert client.get("/referrals/new").status_code == 302  # not signed in


def test_csrf_forms_with_token_are_accepted(app: Flask, session: so.Session) -> None:
    """The token the page carries signs in and signs out; a sign-out without it is refused."""
    client = web_client(app, csrf=True)
    user = add_web_user(session, "call_handler")
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    response = client.post("/sign-in", data={"username": user.username, "password": PASSWORD,
                                             "csrf_token": token})
    assert response.status_code == 303
    page = client.get("/referrals/new").get_data(as_text=True)
    assert client.post("/sign-out").status_code == 400
    assert client.post("/sign-out", data={"csrf_token": csrf_token(page)}).status_code == 303


def test_csrf_not_needed_with_bearer_token(
    app: Flask, token_for: object
) -> None:
    """API clients authenticate with a bearer token, which another site cannot forge."""
    app.config["WTF_CSRF_ENABLED"] = True
    headers = token_for("call_handler")  # type: ignore[operator]
    response = app.test_client().post("/api/referrals", json={}, headers=headers)
    assert response.status_code == 422


def test_anonymous_page_redirects_but_api_says_401(app: Flask) -> None:
    """People are sent to sign in (and back after); machines get the JSON 401."""
    client = web_client(app)
    page = client.get("/referrals/new?patient=3")
    assert page.status_code == 302
    assert page.headers["Location"] == "/sign-in?next=/referrals/new?patient%3D3"
    api = client.get("/api/visits")
    assert api.status_code == 401 and api.json is not None and api.json["code"] == 401


def test_sign_in_returns_to_next_page_only_on_this_site(app: Flask, session: so.Session) -> None:
    """``next`` brings you back where you were, but never to another site."""
    user = add_web_user(session, "call_handler")
    client = web_client(app)
    assert sign_in(client, user.username, next_url="/home").headers["Location"] == "/home"
    client = web_client(app)
    evil = sign_in(client, user.username, next_url="//evil.example/x")
    assert evil.headers["Location"] == "/referrals/new"


def test_session_user_can_call_the_api(app: Flask, session: so.Session) -> None:
    """A signed-in browser is an actor for the API too; a bad bearer token is not rescued."""
    client = signed_in_client(app, session, "coordinator")
    assert client.get("/api/visits").status_code == 200
    bad = client.get("/api/visits", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


def test_password_change_ends_existing_sessions(app: Flask, session: so.Session) -> None:
    """A session signed in with an old password stops working once it is changed."""
    from werkzeug.security import generate_password_hash

    client = web_client(app)
    user = add_web_user(session, "call_handler")
    sign_in(client, user.username)
    session.execute(sa.update(m.User).where(m.User.id == user.id)
                    .values(password_hash=generate_password_hash("a new password")))
    session.commit()
    assert client.get("/referrals/new").status_code == 302


def test_index_sends_each_role_home(app: Flask, session: so.Session) -> None:
    """/ goes to sign-in when signed out, and to the role's home page when signed in."""
    assert web_client(app).get("/").headers["Location"] == "/sign-in"
    manager = signed_in_client(app, session, "manager")
    assert manager.get("/").headers["Location"] == "/reports/kpis"
    home = manager.get("/home").get_data(as_text=True)
    assert "Test manager (manager)" in home and "Log a referral" not in home
