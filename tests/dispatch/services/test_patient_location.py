"""Where a new patient is placed: ``DISPATCH_NOMINATIM_URL`` selects Nominatim (a fake one on
127.0.0.1 here, no outside network); without it, or when it fails, the offline district table."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import ConfigurationError, create_app
from dispatch import models as m
from dispatch.database import Database
from dispatch.services.patients import postcode_location
from routing.geocoding import OfflinePostcodeGeocoder, locate
from tests.dispatch.api.test_referrals_api import _body
from tests.fakes.nominatim_server import FakeNominatim, running_nominatim

#: Somewhere in W12 that is not the district's centre, so the answer shows who gave it.
HOUSE = (51.5161, -0.2297)
W12_CENTRE = locate(OfflinePostcodeGeocoder(), "W12")


@pytest.fixture
def nominatim(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNominatim]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with running_nominatim({"W12": HOUSE}) as server:
        yield server


def _located(database_url: str, nominatim_url: str | None, postcode: str
             ) -> tuple[float | None, float | None]:
    database = Database(database_url, settings={"NOMINATIM_URL": nominatim_url})
    try:
        with database.sessions() as session:
            return postcode_location(session, postcode)
    finally:
        database.dispose()


def test_postcode_location_offline_without_nominatim(database_url: str) -> None:
    """No Nominatim URL: the district's centre from the shipped table, no request anywhere."""
    assert _located(database_url, None, "W12 7RQ") == W12_CENTRE


def test_postcode_location_uses_configured_nominatim(
    database_url: str, nominatim: FakeNominatim
) -> None:
    """With a Nominatim URL the postcode is geocoded there (the house, not the district)."""
    assert _located(database_url, nominatim.url, "W12 7RQ") == HOUSE
    assert len(nominatim.paths) == 1 and "postalcode=W12+7RQ" in nominatim.paths[0]


def test_postcode_location_falls_back_when_nominatim_does_not_know(
    database_url: str, nominatim: FakeNominatim
) -> None:
    """A postcode Nominatim does not know still gets its district's centre."""
    assert _located(database_url, nominatim.url, "SW6 1AA") == locate(
        OfflinePostcodeGeocoder(), "SW6")
    assert len(nominatim.paths) == 1


def test_postcode_location_falls_back_when_nominatim_is_down(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nominatim not answering (connection refused) never refuses the referral: the district
    table places the patient."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with running_nominatim({}) as server:
        url = server.url
    assert _located(database_url, url, "W12 7RQ") == W12_CENTRE


def test_referral_new_patient_placed_by_configured_nominatim(
    app: Flask, client: FlaskClient, session: so.Session, nominatim: FakeNominatim,
    token_for: Callable[..., dict[str, str]],
) -> None:
    """End to end: the app's NOMINATIM_URL setting reaches the patient service (through the
    request session's settings) and the new patient is placed where Nominatim says."""
    app.config["NOMINATIM_URL"] = nominatim.url
    response = client.post("/api/referrals", json=_body(), headers=token_for("call_handler"))
    assert response.status_code == 201, response.json
    patient = session.scalar(sa.select(m.Patient).where(
        m.Patient.id == response.json["patient_id"]))
    assert patient is not None and (patient.lat, patient.lon) == HOUSE
    assert nominatim.paths


def test_create_app_rejects_malformed_nominatim_url(database_url: str) -> None:
    """A Nominatim URL without scheme or host stops start-up with the setting's name."""
    with pytest.raises(ConfigurationError, match="DISPATCH_NOMINATIM_URL"):
        create_app({"TESTING": True, "DATABASE_URL": database_url,
                    "NOMINATIM_URL": "nominatim.internal"})
