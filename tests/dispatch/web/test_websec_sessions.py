"""Sessions end on the server (issue 20 item 9): sign-out and disabling an account end every
web session, copies of the cookie included; ``dispatch user list / disable / unlock /
revoke-token``; patient pages and API answers are ``Cache-Control: no-store``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.cli import main
from dispatch.db import make_engine
from dispatch.services.users import add_user, user_for_token
from tests.dispatch.web.test_web_support import (
    add_web_user,
    audit_actions,
    patient_with_plan,
    sign_in,
    signed_in_client,
    web_client,
)


def _copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = web_client(app)
    thief.set_cookie("session", cookie.value)
    return thief


@pytest.mark.safety("H-081")
def test_sign_out_copied_cookie_stops_working(app: Flask, session: so.Session) -> None:
    """A copy of the session cookie taken before sign-out is refused after it."""
    client = signed_in_client(app, session, "coordinator")
    thief = _copy_of(app, client)
    assert thief.get("/board").status_code == 200  # the copy works while signed in

    assert client.post("/sign-out").status_code == 303

    assert thief.get("/board").status_code == 302
    assert thief.get("/api/visits").status_code == 401
    assert audit_actions(session)[-1] == "sign_out"


@pytest.mark.safety("H-081")
def test_sign_out_then_sign_in_again_works(app: Flask, session: so.Session) -> None:
    """Ending the sessions does not stop the user signing in afresh."""
    user = add_web_user(session, "coordinator")
    client = web_client(app)
    sign_in(client, user.username)
    client.post("/sign-out")
    assert sign_in(client, user.username).status_code == 303
    assert client.get("/board").status_code == 200


@pytest.mark.safety("H-081")
def test_disabled_user_session_ends(app: Flask, session: so.Session) -> None:
    """Disabling an account (the service behind ``dispatch user disable``) ends its session
    and revokes its API tokens."""
    from dispatch.services.users import disable_user

    user = add_web_user(session, "coordinator")
    client = web_client(app)
    sign_in(client, user.username)
    token = add_user(session, username="api-too", role="coordinator", now=datetime.now(UTC))
    session.commit()

    disable_user(session, username=user.username, now=datetime.now(UTC))
    disable_user(session, username="api-too", now=datetime.now(UTC))
    session.commit()

    assert client.get("/board").status_code == 302
    assert user_for_token(session, token.token) is None


def test_pages_and_api_send_no_store(app: Flask, session: so.Session) -> None:
    """Patient pages and API answers must not be kept in a browser or proxy cache; static
    files may be."""
    patient = patient_with_plan(session, consent=True)
    client = signed_in_client(app, session, "admin")
    for path in (f"/referrals/new?patient={patient.id}", "/board", "/api/visits",
                 f"/api/patients/{patient.id}/care-plan", "/sign-in"):
        response = client.get(path)
        assert response.headers.get("Cache-Control") == "no-store", path
    static = client.get("/static/dispatch.css")
    assert static.headers.get("Cache-Control") != "no-store"
    static.close()


# --- the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("DISPATCH_DATABASE_URL", url)
    monkeypatch.setenv("DISPATCH_INSTANCE_PATH", str(tmp_path))
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _add(name: str, role: str = "coordinator", *extra: str) -> str:
    if role == "coordinator":
        extra = (*extra, "--all-networks")
    result = CliRunner().invoke(main, ["user", "add", name, "--role", role, *extra])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def test_cli_user_list_shows_accounts_not_secrets(cli_db: sa.Engine) -> None:
    """`user list` shows each user's role, state and live token count, never a token."""
    token = _add("ann", "coordinator", "--display-name", "Ann Coord", "--password", "pw pw pw")
    _add("bob", "call_handler")

    result = CliRunner().invoke(main, ["user", "list"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    ann = next(line for line in lines if line.startswith("ann "))
    assert "coordinator" in ann and "active" in ann and "Ann Coord" in ann and " 1 " in ann
    assert any(line.startswith("bob ") for line in lines)
    assert token not in result.output


def test_cli_user_disable_refuses_sign_in_and_tokens(cli_db: sa.Engine) -> None:
    """`user disable` revokes the tokens, bumps the session generation and is audited."""
    token = _add("ann")

    result = CliRunner().invoke(main, ["user", "disable", "ann"])

    assert result.exit_code == 0, result.output
    assert "1 API token(s) revoked" in result.output
    with so.Session(cli_db) as session:
        assert user_for_token(session, token) is None
        user = session.scalar(sa.select(m.User).where(m.User.username == "ann"))
        assert user is not None and not user.active and user.session_generation == 1
        actions = session.scalars(sa.select(m.AuditEvent.action)).all()
        assert "user_disabled" in actions


def test_cli_user_unlock_lifts_lock(cli_db: sa.Engine) -> None:
    """`user unlock` clears the lock-out and the failure count."""
    _add("ann")
    with so.Session(cli_db) as session:
        session.execute(sa.update(m.User).values(
            locked_until=datetime.now(UTC) + timedelta(minutes=10), failed_logins=3))
        session.commit()

    result = CliRunner().invoke(main, ["user", "unlock", "ann"])

    assert result.exit_code == 0, result.output
    with so.Session(cli_db) as session:
        user = session.scalar(sa.select(m.User).where(m.User.username == "ann"))
        assert user is not None and user.locked_until is None and user.failed_logins == 0


def test_cli_user_revoke_token_one_then_all(cli_db: sa.Engine) -> None:
    """`revoke-token --token T` revokes that one only; without it, every live token."""
    first = _add("ann")
    with so.Session(cli_db) as session:
        from dispatch.services.users import issue_token

        user = session.scalar(sa.select(m.User).where(m.User.username == "ann"))
        assert user is not None
        second = issue_token(session, user=user, now=datetime.now(UTC))
        session.commit()

    one = CliRunner().invoke(main, ["user", "revoke-token", "ann", "--token", first])
    assert one.exit_code == 0 and "revoked 1 API token(s)" in one.output
    with so.Session(cli_db) as session:
        assert user_for_token(session, first) is None
        assert user_for_token(session, second) is not None
    again = CliRunner().invoke(main, ["user", "revoke-token", "ann", "--token", first])
    assert again.exit_code == 2 and "not a live token" in again.output
    rest = CliRunner().invoke(main, ["user", "revoke-token", "ann"])
    assert rest.exit_code == 0 and "revoked 1 API token(s)" in rest.output
    with so.Session(cli_db) as session:
        assert user_for_token(session, second) is None


def test_cli_user_commands_unknown_user_exit_2(cli_db: sa.Engine) -> None:
    """An unknown username is an error message and exit 2, not a traceback."""
    for command in ("disable", "unlock", "revoke-token"):
        result = CliRunner().invoke(main, ["user", command, "nobody"])
        assert result.exit_code == 2, (command, result.output)
        assert "no user called 'nobody'" in result.output
