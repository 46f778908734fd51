"""Bad input is a 4xx with a message, never a 500 (issue 20 item 12).

NUL characters (PostgreSQL refuses them in text), lone surrogates (no UTF-8 for them), JSON
or FHIR nested thousands deep (the parser's recursion limit), a NUL in a page address and a
CR/LF in the sign-in ``next`` each used to reach the database, the encoder or the redirect
and fail there. These tests also run on PostgreSQL (``.ci/run`` re-runs the db tests there).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from tests.dispatch import factories as f
from tests.dispatch.api.test_referrals_api import _body
from tests.dispatch.web.test_web_support import add_web_user, sign_in, signed_in_client, web_client

DEEP = 3000
FHIR_FIXTURE = Path(__file__).parents[1] / "fhir_fixtures" / "referral_111_fall.json"


@pytest.fixture
def handler(token_for: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token_for("call_handler")


def _assert_4xx(response: Any, status: int, words: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert words in response.get_data(as_text=True)


@pytest.mark.safety("H-084")
def test_api_nul_in_text_is_422(client: FlaskClient, handler: dict[str, str]) -> None:
    """A NUL character in a JSON string is refused, naming where it is."""
    body = _body(notes="Daughter\x00 on her way")

    response = client.post("/api/referrals", json=body, headers=handler)

    _assert_4xx(response, 422, "NUL")
    assert response.json is not None and "notes" in json.dumps(response.json["errors"])


@pytest.mark.safety("H-084")
def test_api_lone_surrogate_is_422(client: FlaskClient, handler: dict[str, str]) -> None:
    """A lone UTF-16 surrogate (``\\ud800``) has no UTF-8 form: refused, naming the field."""
    text = json.dumps(_body()).replace('"1 Wood Lane"', '"1 Wood \\ud800Lane"')

    response = client.post("/api/referrals", data=text, headers={
        **handler, "Content-Type": "application/json"})

    _assert_4xx(response, 422, "surrogate")
    assert response.json is not None and "patient.address" in json.dumps(response.json["errors"])


def test_api_json_nested_3000_deep_is_400(client: FlaskClient, handler: dict[str, str]) -> None:
    """A body nested 3,000 deep is refused before any parser recurses into it."""
    body = json.dumps(_body())[:-1] + ', "extra": ' + "[" * DEEP + "]" * DEEP + "}"

    response = client.post("/api/referrals", data=body, headers={
        **handler, "Content-Type": "application/json"})

    _assert_4xx(response, 400, "nested")


@pytest.mark.safety("H-084")
def test_fhir_extension_nested_3000_deep_is_4xx(
    client: FlaskClient, handler: dict[str, str]
) -> None:
    """FHIR extensions within extensions, 3,000 deep: a 4xx, not a recursion error, whatever
    Content-Type the sender gave."""
    bundle = json.loads(FHIR_FIXTURE.read_text())
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "ServiceRequest":
            entry["resource"]["extension"] = "DEEP"
    deep = ('{"url": "https://example.org/x", "extension": [' * DEEP
            + '{"url": "https://example.org/x", "valueString": "end"}' + "]}" * DEEP)
    text = json.dumps(bundle).replace('"DEEP"', f"[{deep}]")  # json.dumps would recurse

    for content_type in ("application/fhir+json", "text/plain"):  # FHIR reads either
        response = client.post("/fhir/$process-message", data=text, headers={
            **handler, "Content-Type": content_type})

        assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
        assert "nested" in response.get_data(as_text=True)


@pytest.mark.safety("H-084")
def test_fhir_nul_in_note_is_4xx(client: FlaskClient, handler: dict[str, str]) -> None:
    """A NUL in a FHIR ServiceRequest note is refused with a message."""
    bundle = json.loads(FHIR_FIXTURE.read_text())
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "ServiceRequest":
            entry["resource"]["note"] = [{"text": "on her way\x00"}]

    response = client.post("/fhir/$process-message", data=json.dumps(bundle), headers={
        **handler, "Content-Type": "application/fhir+json"})

    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    assert "NUL" in response.get_data(as_text=True)


def test_web_form_nul_in_text_is_400(app: Flask, session: so.Session) -> None:
    """A NUL typed (or pasted) into a page's form is a 400 page saying so."""
    client = signed_in_client(app, session, "call_handler")

    response = client.post("/referrals/new/find", data={"nhs_number": "943\x00"})

    _assert_4xx(response, 400, "NUL")


def test_visit_page_nul_in_reference_is_4xx(app: Flask, session: so.Session) -> None:
    """/visits/4821%00: a 4xx page, not a database error."""
    patient = f.patient(session)
    f.visit(session, f.referral(session, patient.id).id, patient.id)
    session.commit()
    client = signed_in_client(app, session, "coordinator")

    response = client.get("/visits/4821%00")

    assert 400 <= response.status_code < 500
    assert "NUL" in response.get_data(as_text=True)


def test_sign_in_next_with_crlf_is_400(app: Flask, session: so.Session) -> None:
    """A return address with CR/LF (header splitting) is refused with a message, on the
    link and on the form post."""
    user = add_web_user(session, "call_handler")
    client = web_client(app)

    link = client.get("/sign-in?next=/home%0d%0aSet-Cookie:%20x=1")
    posted = sign_in(client, user.username, next_url="/home\r\nSet-Cookie: x=1")

    _assert_4xx(link, 400, "return address")
    _assert_4xx(posted, 400, "return address")
    assert "Set-Cookie" not in posted.headers.get("Location", "")


def test_request_id_header_control_characters_dropped(
    app: Flask, session: so.Session
) -> None:
    """The caller's X-Request-Id is echoed into logs, the audit trail and error pages: only
    printable ASCII of it is kept."""
    from dispatch.auth import request_id

    with app.test_request_context("/", headers={"X-Request-Id": "abc\x01\x7f\u00e9def"}):
        assert request_id() == "abcdef"


def test_roster_csv_with_nul_is_400(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """A roster CSV (text/csv body or multipart file) with a NUL in a name is refused."""
    import io

    f.network(session)
    session.commit()

    header = ("staff_id,name,role,skills,phone,network,base,travel_mode,shift_id,shift_start,"
              "shift_end,shift_base,breaks\n")
    text = header + "dn-1,Ada\x00 Nurse,district_nurse,,07700 900101,HF-N1,W12,car,,,,,\n"
    auth = token_for("coordinator")

    body = client.post("/api/rosters/import", data=text.encode(),
                       headers={**auth, "Content-Type": "text/csv"})
    upload = client.post("/api/rosters/import", headers=auth,
                         data={"file": (io.BytesIO(text.encode()), "roster.csv")},
                         content_type="multipart/form-data")

    _assert_4xx(body, 400, "NUL")
    _assert_4xx(upload, 400, "NUL")
