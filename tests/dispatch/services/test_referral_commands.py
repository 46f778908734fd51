"""``NewReferral``: one typed command for every way in, one list of triage fields, and the
triage input parsed once per request (issue 19 item 2)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from dispatch.api.schemas import ReferralCreateSchema
from dispatch.services import referral_commands as commands
from triage import TriageInput

BODY: dict[str, Any] = {
    "source": "111", "referrer": {"name": "A. Handler"},
    "received_at": "2026-12-01T10:15:00+00:00", "needs": ["fall_no_injury"],
    "observations": {"pulse": 80},
    "patient": {"nhs_number": "943 476 5919", "given_name": "Joe", "family_name": "Bloggs",
                "date_of_birth": "1941-03-02", "address": "1 Wood Lane", "postcode": "W12 7RQ"},
}


def test_triage_fields_are_the_triage_inputs() -> None:
    """The one list of triage fields is TriageInput's fields less those the service derives,
    so the schema, the service and the simulator cannot disagree about them."""
    names = {f.name for f in dataclasses.fields(TriageInput)}
    assert set(commands.TRIAGE_FIELDS) == names - {"age", "date_of_birth"}
    assert ReferralCreateSchema.TRIAGE_FIELDS == commands.TRIAGE_FIELDS


def test_schema_and_json_builder_make_the_same_command() -> None:
    """The API schema and the demo's builder give equal commands with equal fingerprints."""
    loaded = ReferralCreateSchema().load(BODY)
    built = commands.new_referral_from_json(BODY)
    assert isinstance(loaded, commands.NewReferral) and loaded == built
    assert loaded.fingerprint() == built.fingerprint()
    assert loaded.triage.needs == ("fall_no_injury",)
    assert loaded.patient is not None and loaded.patient.family_name == "Bloggs"
    confirmed = ReferralCreateSchema().load({**BODY, "confirm_patient_id": 3})
    assert confirmed.confirm_patient_id == 3
    assert confirmed.fingerprint() != loaded.fingerprint()


def test_post_referral_parses_triage_input_once(
    client: FlaskClient, token_for: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One POST parses the triage input once (it used to be parsed by the schema and again by
    the service)."""
    calls = []
    real = commands.parse_triage_input

    def counting(data: Any) -> TriageInput:
        calls.append(data)
        return real(data)

    monkeypatch.setattr(commands, "parse_triage_input", counting)
    response = client.post("/api/referrals", json=BODY, headers=token_for("call_handler"))
    assert response.status_code == 201, response.json
    assert len(calls) == 1
