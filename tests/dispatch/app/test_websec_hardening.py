"""Production hardening (issue 20 item 13): Idempotency-Key scoped to the caller, /api/messages
with the messages page's roles, demo-data and short secret keys refused in production, the
SQLite file private to its owner."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import ConfigurationError, create_app
from dispatch import models as m
from dispatch.cli import main
from tests.dispatch.api.test_referrals_api import _body

LONG_KEY = "k" * 40


@pytest.mark.safety("H-080")
def test_idempotency_key_another_user_gets_their_own_referral(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """Two call handlers who happen to send the same key each get their own referral; the
    second is not handed the first one's referral (another patient's details)."""
    first, second = token_for("call_handler"), token_for("call_handler")
    body = _body()

    one = client.post("/api/referrals", json=body, headers={**first, "Idempotency-Key": "k-1"})
    two = client.post("/api/referrals", json=body, headers={**second, "Idempotency-Key": "k-1"})

    assert one.status_code == 201 and two.status_code == 201, (one.json, two.json)
    assert "Idempotent-Replayed" not in two.headers
    assert one.json is not None and two.json is not None and one.json["id"] != two.json["id"]


@pytest.mark.safety("H-080")
def test_idempotency_key_same_user_retry_replays(
    client: FlaskClient, token_for: Callable[..., dict[str, str]]
) -> None:
    """The same user retrying with the same key (even a 100-character one) gets the first
    referral back, as before."""
    auth = token_for("call_handler")
    headers = {**auth, "Idempotency-Key": "r" * 100}

    one = client.post("/api/referrals", json=_body(), headers=headers)
    two = client.post("/api/referrals", json=_body(), headers=headers)

    assert one.status_code == two.status_code == 201
    assert two.headers.get("Idempotent-Replayed") == "true"
    assert one.json is not None and two.json is not None and one.json["id"] == two.json["id"]


@pytest.mark.safety("H-080")
def test_idempotency_key_cannot_reach_web_or_fhir_keys(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """A client key equal to a stored web-form or FHIR key does not replay that referral."""
    from tests.dispatch import factories as f

    patient = f.patient(session, nhs_number="9434765919")
    f.referral(session, patient.id, idempotency_key="fhir:bundle-1", request_hash="x")
    session.commit()

    response = client.post("/api/referrals", json=_body(), headers={
        **token_for("call_handler"), "Idempotency-Key": "fhir:bundle-1"})

    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers


@pytest.mark.parametrize("role", ["call_handler", "field_staff"])
def test_api_messages_same_roles_as_messages_page(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], role: str
) -> None:
    """Call handlers cannot open /messages, so they cannot read the texts through the API."""
    assert client.get("/api/messages", headers=token_for(role)).status_code == 403
    assert client.get("/api/messages", headers=token_for("coordinator")).status_code == 200


def test_production_short_secret_key_refused(tmp_path: Path) -> None:
    """A secret key under 32 bytes stops production at start-up, saying how to make one."""
    url = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        create_app({"ENV": "production", "SECRET_KEY": "s" * 31, "DATABASE_URL": url,
                    "SMS_BACKEND": "local"})
    app = create_app({"ENV": "production", "SECRET_KEY": "s" * 32, "DATABASE_URL": url,
                      "SMS_BACKEND": "local"})
    assert app.config["SECRET_KEY"] == "s" * 32


def test_demo_data_refused_in_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`dispatch demo-data` with DISPATCH_ENV=production exits 2 and loads nothing."""
    db = tmp_path / "prod.sqlite3"
    monkeypatch.setenv("DISPATCH_ENV", "production")
    monkeypatch.setenv("DISPATCH_SECRET_KEY", LONG_KEY)
    monkeypatch.setenv("DISPATCH_SMS_BACKEND", "local")
    monkeypatch.setenv("DISPATCH_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("DISPATCH_INSTANCE_PATH", str(tmp_path))

    result = CliRunner().invoke(main, ["demo-data", "--patients", "10"])

    assert result.exit_code == 2, result.output
    assert "refused when DISPATCH_ENV is production" in result.output
    assert not db.exists() or db.stat().st_size == 0


def test_sqlite_file_created_owner_only(tmp_path: Path) -> None:
    """The zero-setup database file (patient data) is created readable by its owner only,
    and so are the WAL files SQLite makes next to it."""
    from dispatch.db import get_database
    from dispatch.migrate import upgrade

    path = tmp_path / "instance" / "dispatch.sqlite3"
    upgrade(f"sqlite:///{path}")
    app = create_app({"DATABASE_URL": f"sqlite:///{path}"})
    with get_database(app).session_scope() as session:
        session.add(m.Network(code="N", name="N", borough="Hammersmith & Fulham"))

    for file in [path, *path.parent.glob("dispatch.sqlite3-*")]:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    get_database(app).dispose()


def test_openapi_documents_scoped_key_and_message_roles(client: FlaskClient) -> None:
    """The contract changes show in /api/openapi.json."""
    spec = client.get("/api/openapi.json").json
    assert spec is not None
    post = spec["paths"]["/api/referrals"]["post"]
    [key] = [p for p in post["parameters"] if p["name"] == "Idempotency-Key"]
    assert "scoped to the calling user" in key["description"]
    messages = spec["paths"]["/api/messages"]["get"]
    assert "coordinators, managers and admins" in messages["description"].lower()
    assert "403" in messages["responses"]


def test_cli_short_secret_key_in_production_is_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commands stop with the setting's hint and exit 2, not a traceback."""
    monkeypatch.setenv("DISPATCH_ENV", "production")
    monkeypatch.setenv("DISPATCH_SECRET_KEY", "short")
    monkeypatch.setenv("DISPATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'p.sqlite3'}")

    result = CliRunner().invoke(main, ["db", "current"])

    assert result.exit_code == 2 and "at least 32 bytes" in result.output
