"""No patient data in logs (H-014): a forced database error logs its traceback without the
SQL parameters (NHS number, names), and access logs drop search query strings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from tests.dispatch import factories as f
from tests.dispatch.web.test_web_support import signed_in_client

NHS = f.VALID_NHS
SECRETS = (NHS, "943 476 5919", "Bloggs", "Thistlewood", "1941-03-02", "Wood Lane")
# Kept out of the failing function's source lines, which a traceback quotes.
ROW = {"nhs": NHS, "given": "Joe", "family": "Thistlewood", "dob": "1941-03-02",
       "address": "1 Wood Lane", "postcode": "W12 7RQ"}
DUPLICATE = sa.text(
    "INSERT INTO patients (nhs_number, given_name, family_name, date_of_birth, address, "
    "postcode, risk_tier, consent_to_share, conditions, created_at) VALUES (:nhs, :given, "
    ":family, :dob, :address, :postcode, 'low', false, '[]', '2026-12-01 10:00:00')")


def _all_text(caplog: pytest.LogCaptureFixture) -> str:
    parts = [caplog.text]
    for record in caplog.records:
        parts += [record.getMessage(), record.exc_text or ""]
    return "\n".join(parts)


@pytest.mark.safety("H-014")
def test_forced_database_error_logs_no_patient_data(
    app: Flask, client: FlaskClient, token_for: Callable[..., dict[str, str]],
    session: so.Session, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A UNIQUE violation inside a patient search is a 500 whose logged traceback names no NHS
    number, name, date of birth or address (the engine hides SQL parameters; the traceback is
    redacted as well, for drivers that quote values in their own message)."""
    f.patient(session)
    session.commit()

    def failing_search(db: so.Session, **_terms: Any) -> list[Any]:
        db.execute(DUPLICATE, ROW)
        return []

    monkeypatch.setattr("dispatch.api.patients.service.find_patients", failing_search)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.INFO):
        response = client.get("/api/patients", query_string={"family_name": "Bloggs"},
                              headers=token_for("call_handler"))
    assert response.status_code == 500
    logged = _all_text(caplog)
    assert "IntegrityError" in logged  # the error itself is still there to debug
    assert [s for s in SECRETS if s in logged] == []


@pytest.mark.safety("H-014")
def test_access_log_drops_search_query_strings(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    """The dev server's access line for a patient search keeps the path, not the surname or
    postcode searched for."""
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info(
            '%s - - [%s] %s', "127.0.0.1", "01/Dec/2026 10:20:00",
            '"GET /api/patients?family_name=Bloggs&postcode=W12+7RQ HTTP/1.1" 200 -')
    logged = _all_text(caplog)
    assert "GET /api/patients?<query> HTTP/1.1" in logged
    assert "Bloggs" not in logged and "W12" not in logged


@pytest.mark.safety("H-014")
def test_handler_patient_search_is_a_post(app: Flask, session: so.Session) -> None:
    """The handler's find-patient form posts its terms, so they never reach a URL or a log."""
    html = signed_in_client(app, session, "call_handler").get("/referrals/new").get_data(
        as_text=True)
    start = html.index('action="/referrals/new/find"')
    form_tag = html[html.rindex("<form", 0, start):html.index(">", start)]
    assert 'method="post"' in form_tag
