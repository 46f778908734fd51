"""Hospital discharge referrals and the KPI of follow-ups met (issue 16, item 5)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch import factories as f

Auth = Callable[..., dict[str, str]]


@pytest.mark.parametrize(("hours", "deadline"), [(24, "2026-12-02T09:00:00+00:00"),
                                                 (48, "2026-12-03T09:00:00+00:00")])
@pytest.mark.safety("H-205")
def test_discharge_creates_follow_up_within_24_or_48_hours(
    client: FlaskClient, token_for: Auth, session: so.Session, hours: int, deadline: str
) -> None:
    """A discharge at 09:00 makes a hospital_discharge referral whose visit is due 24 or 48
    hours later."""
    joe = f.patient(session)
    session.commit()
    answer = client.post("/api/discharges", json={
        "patient_id": joe.id, "hospital": "Charing Cross Hospital",
        "discharged_at": "2026-12-01T09:00:00+00:00", "follow_up_hours": hours,
        "summary": "Hip repair; memory worse; needs help with mobility"},
        headers=token_for("coordinator"))
    assert answer.status_code == 201, answer.json
    [visit] = answer.json["visits"]
    assert visit["deadline"] == deadline
    referral = session.get(m.Referral, answer.json["referral_id"])
    assert referral is not None and referral.source == "hospital_discharge"


@pytest.mark.safety("H-205")
def test_discharge_kpi_counts_follow_ups_met(
    client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """A follow-up that arrived by its deadline is met; the compliance says so; a bad follow-up
    window is 422."""
    joe = f.patient(session)
    session.commit()
    headers = token_for("coordinator")
    made = client.post("/api/discharges", json={
        "patient_id": joe.id, "hospital": "Charing Cross Hospital",
        "discharged_at": "2026-12-01T09:00:00+00:00", "follow_up_hours": 24,
        "summary": "Home with package"}, headers=headers).json
    visit = session.get(m.Visit, made["visits"][0]["id"])
    visit.arrived_at = visit.deadline - timedelta(hours=3)
    session.commit()
    kpi = client.get("/api/discharges/kpi?since=2026-12-01T00:00:00%2B00:00"
                     "&until=2026-12-02T00:00:00%2B00:00", headers=token_for("manager")).json
    assert (kpi["count"], kpi["met"], kpi["missed"], kpi["compliance"]) == (1, 1, 0, 1.0)
    bad = client.post("/api/discharges", json={
        "patient_id": joe.id, "hospital": "X", "discharged_at": "2026-12-01T09:00:00+00:00",
        "follow_up_hours": 72, "summary": "x"}, headers=headers)
    assert bad.status_code == 422


def test_discharge_summary_asking_for_care_makes_a_draft_package(
    client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """Care at home in the discharge summary becomes a draft care package from the discharge
    day, priced from the tariff, to be approved as any other."""
    from datetime import date

    from dispatch.services import tariffs

    tariffs.ensure_default_tariff(session, date(2026, 12, 1))
    joe = f.patient(session, network_id=f.network(session).id)
    session.commit()
    answer = client.post("/api/discharges", json={
        "patient_id": joe.id, "hospital": "Charing Cross Hospital",
        "discharged_at": "2026-12-01T09:00:00+00:00", "follow_up_hours": 24,
        "summary": "Reablement twice a day for two weeks",
        "care_package": [{"tariff_code": "reablement_visit", "units_per_week": 14,
                          "weeks": 2}]}, headers=token_for("coordinator"))
    assert answer.status_code == 201, answer.json
    package = session.get(m.CarePackage, answer.json["package_id"])
    assert package is not None and package.status == "draft"
    assert package.start_date == date(2026, 12, 1) and answer.json["care_package_needed"]
    referral = session.get_one(m.Referral, answer.json["referral_id"])
    assert "care at home asked for: reablement_visit 14 a week for 2 weeks" in (
        referral.notes or "")


def test_performance_page_shows_discharge_follow_ups(app: Flask, session: so.Session) -> None:
    """The managers' performance page reports the day's discharge follow-ups."""
    from tests.dispatch.web.test_web_support import signed_in_client

    joe = f.patient(session)
    referral = f.referral(session, joe.id, source="hospital_discharge")
    session.add(m.HospitalDischarge(
        patient_id=joe.id, referral_id=referral.id, hospital="Charing Cross Hospital",
        discharged_at=f.NOW - timedelta(hours=1), follow_up_hours=24, summary="Home",
        created_at=f.NOW, created_by="x"))
    session.commit()
    page = signed_in_client(app, session, "manager").get("/reports/kpis?date=2026-12-01")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "1 discharge this day" in text


@pytest.mark.safety("H-205")
def test_discharge_retry_with_idempotency_key_makes_one_referral(
    client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """The same Idempotency-Key and body twice: one discharge, one referral, one visit, the
    second answer marked replayed; the key with another body is 409."""
    import sqlalchemy as sa

    joe = f.patient(session)
    session.commit()
    body = {"patient_id": joe.id, "hospital": "Charing Cross Hospital",
            "discharged_at": "2026-12-01T09:00:00+00:00", "follow_up_hours": 24,
            "summary": "Home with package"}
    headers = {**token_for("coordinator"), "Idempotency-Key": "cxh-0001"}
    first = client.post("/api/discharges", json=body, headers=headers)
    second = client.post("/api/discharges", json=body, headers=headers)
    assert first.status_code == second.status_code == 201, second.json
    assert first.json == second.json
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert session.scalar(sa.select(sa.func.count()).select_from(m.Referral)) == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(m.Visit)) == 1
    other = client.post("/api/discharges", json={**body, "summary": "Another"}, headers=headers)
    assert other.status_code == 409
    care = client.post("/api/discharges", json={**body, "care_package": [
        {"tariff_code": "reablement_visit", "units_per_week": 14, "weeks": 2}]}, headers=headers)
    assert care.status_code == 409  # other care asked for is not a retry of the first
    assert session.scalar(sa.select(sa.func.count()).select_from(m.HospitalDischarge)) == 1
