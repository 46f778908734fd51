"""``GET /api/patients?name=`` (issue 14): a name as a caller says it, with the date of birth
where given, as the call handler's page searches; every patient found is audited as seen
(which terms found them, never their values), as the other searches are."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch import factories as f


@pytest.fixture
def people(session: so.Session) -> dict[str, m.Patient]:
    """Joe Bloggs (1941), another Joe Bloggs (1950), Mary Ann Bloggs."""
    found = {
        "joe": f.patient(session),
        "joe_1950": f.patient(session, nhs_number="4010232137", date_of_birth=date(1950, 1, 1)),
        "mary": f.patient(session, nhs_number="9434765870", given_name="Mary Ann"),
    }
    session.commit()
    return found


def test_name_and_date_of_birth_find_one_patient_and_are_audited(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    people: dict[str, m.Patient],
) -> None:
    """"joe bloggs" born 2/3/1941: Joe alone, audited as a search by name and date of birth
    with no value in the trail."""
    answer = client.get("/api/patients", query_string={"name": "joe  BLOGGS",
                                                       "date_of_birth": "1941-03-02"},
                        headers=token_for("call_handler", username="ann"))

    assert answer.status_code == 200, answer.json
    assert [p["id"] for p in answer.json] == [people["joe"].id]
    [event] = session.scalars(sa.select(m.AuditEvent).where(
        m.AuditEvent.action == "search_patient")).all()
    assert event.username == "ann" and event.patient_id == people["joe"].id
    assert event.details == {"terms": ["date_of_birth", "name"]}
    assert "bloggs" not in str(event.details).lower()


def test_a_name_alone_finds_whole_words_only(
    client: FlaskClient, token_for: Callable[..., dict[str, str]],
    people: dict[str, m.Patient],
) -> None:
    """"Bloggs" finds all three; "Mary Ann Bloggs" Mary Ann; "Jo Bloggs" nobody."""
    headers = token_for("coordinator")

    def ids(name: str) -> set[int]:
        answer = client.get("/api/patients", query_string={"name": name}, headers=headers)
        assert answer.status_code == 200, answer.json
        return {p["id"] for p in answer.json}

    assert ids("Bloggs") == {p.id for p in people.values()}
    assert ids("Mary Ann Bloggs") == {people["mary"].id}
    assert ids("Jo Bloggs") == set()


@pytest.mark.parametrize("query", [{"name": ""}, {"name": "x" * 81}])
def test_a_bad_name_is_422_naming_the_field(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], query: dict[str, str],
) -> None:
    """Empty or too long to be a name: 422 on ``name``."""
    answer = client.get("/api/patients", query_string=query,
                        headers=token_for("call_handler"))

    assert answer.status_code == 422, answer.json
    assert "name" in str(answer.json["errors"])
