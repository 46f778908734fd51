"""``/metrics``: Prometheus counts, open unless a token is set, never patient data."""

from __future__ import annotations

import re

import pytest
import sqlalchemy.orm as so
from flask import Flask
from flask.testing import FlaskClient

from dispatch import models as m
from tests.dispatch import factories as f

pytestmark = pytest.mark.db


def _sample(text: str, name: str, **labels: str) -> float:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    match = re.search(rf"^{name}\{{{re.escape(inner)}\}} (\S+)$", text, re.MULTILINE)
    assert match, f"{name}{{{inner}}} missing"
    return float(match.group(1))


def _seed(session: so.Session) -> None:
    patient = f.patient(session, given_name="Zebedee", family_name="Quintrell",
                        address="17 Hidden Mews", postcode="W12 7RQ")
    referral = f.referral(session, patient.id, referrer_name="Dr Secretname")
    f.visit(session, referral.id, patient.id, reference="9137",
            jeopardy_cause="unassigned", jeopardy_since=f.NOW)
    session.add(m.Message(direction="outbound", to_number="+447700900123",
                          body="Urgent visit for Zebedee Quintrell", status="failed"))
    session.flush()


def test_metrics_counts_without_patient_data(client: FlaskClient, session: so.Session) -> None:
    """Counts by category, status and cause are exported; no name, address, phone number,
    NHS number, message body or visit reference appears in the text."""
    _seed(session)
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    text = response.get_data(as_text=True)
    assert _sample(text, "dispatch_referrals_total", category="urgent_2h") >= 1
    assert _sample(text, "dispatch_open_visits", status="unassigned") >= 1
    assert _sample(text, "dispatch_visits_in_jeopardy", cause="unassigned") >= 1
    assert _sample(text, "dispatch_sms_messages", status="failed") >= 1
    assert _sample(text, "dispatch_http_request_duration_seconds_count",
                   endpoint="health.Health", method="GET") >= 1
    for secret in ("Zebedee", "Quintrell", "Hidden Mews", "W12", "Secretname", "447700900123",
                   "9137", f.VALID_NHS, "Urgent visit"):
        assert secret not in text


def test_metrics_latency_labels_are_route_names_not_urls(client: FlaskClient) -> None:
    """An unknown URL (which could carry an id or a name) is labelled 'unmatched', never by path."""
    client.get("/api/patients/by-name/Zebedee")
    text = client.get("/metrics").get_data(as_text=True)
    assert "Zebedee" not in text
    assert 'endpoint="unmatched"' in text


def test_metrics_token_required_when_set(app: Flask, client: FlaskClient) -> None:
    """With DISPATCH_METRICS_TOKEN set, /metrics needs that bearer token (a user's API token
    or none is 401)."""
    app.config["METRICS_TOKEN"] = "scrape-secret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert ok.status_code == 200
