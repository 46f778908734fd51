"""The managers' KPI page (issue 8): tiles computed on a small hand-made day, charts and CSV
links pointing at the API, tables and definitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import orm as so

from tests.dispatch import factories as f
from tests.dispatch.web.test_web_day import office_client


def _day(session: so.Session) -> int:
    """Three urgent referrals in hours (met in 60 and 30 minutes, one breached) and one
    received at 07:00 (out of hours, met in 20): 2-hour compliance 2/3; all three responses:
    median 30, p90 60; out of hours 1 of 1."""
    network = f.network(session)
    nurse = f.staff(session, network_id=network.id)
    patient = f.patient(session, network_id=network.id)
    cases = [("A001", 8, 30, 60), ("B002", 9, 0, 30), ("C003", 7, 0, 20), ("D004", 8, 0, None)]
    for reference, hour, minute, minutes_to_arrive in cases:
        received = datetime(2026, 12, 1, hour, minute, tzinfo=UTC)
        referral = f.referral(session, patient.id, network_id=network.id, received_at=received,
                              deadline=received + timedelta(hours=2))
        extra = {}
        if minutes_to_arrive is not None:
            extra = {"status": "completed", "assigned_staff_id": nurse.id, "pinned": True,
                     "outcome": "visit_completed",
                     "arrived_at": received + timedelta(minutes=minutes_to_arrive),
                     "completed_at": received + timedelta(minutes=minutes_to_arrive + 30)}
        f.visit(session, referral.id, patient.id, reference=reference, network_id=network.id,
                earliest_start=received, deadline=received + timedelta(hours=2), **extra)
    session.commit()
    return network.id


def test_kpi_page_tiles_on_hand_made_day(app: Flask, session: so.Session) -> None:
    """2-hour compliance 67% (2 of 3, below the 70% target), median 30, p90 60 (every
    response, the out-of-hours one too), out-of-hours compliance 100% (1 of 1)."""
    network_id = _day(session)
    client, _ = office_client(app, session, "manager")
    response = client.get(f"/reports/kpis?date=2026-12-01&network={network_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200

    def tile(tile_id: str) -> str:
        start = html.index(f'id="{tile_id}"')
        return html[start:html.index("</li>", start)]

    assert "67%" in tile("tile-2h") and "2 met of 3 decided" in tile("tile-2h")
    assert "app-tile--alert" in html[html.rindex("<li", 0, html.index('id="tile-2h"')):]
    assert "national target 70%" in tile("tile-2h")
    assert "30 min" in tile("tile-median") and "60 min" in tile("tile-p90")
    assert "100%" in tile("tile-ooh") and "1 met of 1 decided" in tile("tile-ooh")
    assert "D004" in html[html.index('id="breaches"'):]


def test_kpi_page_links_charts_and_csv(app: Flask, session: so.Session) -> None:
    """The three charts are the API's SVGs with download links; each CSV table is linked."""
    network_id = _day(session)
    client, _ = office_client(app, session, "manager")
    html = client.get(f"/reports/kpis?date=2026-12-01&network={network_id}").get_data(as_text=True)
    for name in ("response-times", "compliance-by-hour", "utilisation"):
        src = f"/api/kpis/charts/{name}.svg?date=2026-12-01&amp;network={network_id}"
        assert f'src="{src}"' in html
        assert client.get(src.replace("&amp;", "&")).status_code == 200  # session auth works
    for table in ("responses", "workers", "declines", "bookings"):
        assert f"/api/kpis.csv?date=2026-12-01&amp;network={network_id}&amp;table={table}" in html
    assert 'id="definitions"' in html


def test_kpi_page_bad_date_is_an_error_page(app: Flask, session: so.Session) -> None:
    """An unreadable date is a clear 422, not a crash."""
    client, _ = office_client(app, session, "manager")
    response = client.get("/reports/kpis?date=not-a-day")
    assert response.status_code == 422


def test_manager_home_is_kpis(app: Flask, session: so.Session) -> None:
    """Managers land on the performance page."""
    client, _ = office_client(app, session, "manager")
    assert client.get("/").headers["Location"] == "/reports/kpis"


@pytest.mark.safety("H-008")
def test_kpi_page_and_api_show_out_of_hours_line_and_breach(
    app: Flask, session: so.Session
) -> None:
    """An urgent referral received at 22:00 and reached late is in its own compliance line on
    the page and in ``GET /api/kpis`` (count / met / compliance), and in the breach list marked
    out of hours with its cause."""
    network = f.network(session)
    nurse = f.staff(session, network_id=network.id)
    patient = f.patient(session, network_id=network.id)
    received = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
    referral = f.referral(session, patient.id, network_id=network.id, received_at=received,
                          deadline=received + timedelta(hours=2), status="completed")
    f.visit(session, referral.id, patient.id, reference="N001", network_id=network.id,
            earliest_start=received, deadline=received + timedelta(hours=2),
            status="completed", assigned_staff_id=nurse.id, pinned=True,
            outcome="visit_completed", arrived_at=received + timedelta(hours=3),
            completed_at=received + timedelta(hours=3, minutes=30))
    session.commit()
    client, _ = office_client(app, session, "manager")

    html = client.get(f"/reports/kpis?date=2026-11-30&network={network.id}").get_data(
        as_text=True)
    api = client.get(f"/api/kpis?date=2026-11-30&network={network.id}").json

    start = html.index('id="tile-ooh"')
    tile = html[start:html.index("</li>", start)]
    assert "0%" in tile and "0 met of 1 decided" in tile
    breaches = html[html.index('id="breaches"'):]
    assert "N001" in breaches and "Out of hours" in breaches and "late arrival" in breaches
    assert api is not None
    line = api["summary"]["urgent_2h_out_of_hours"]
    assert (line["count"], line["met"], line["compliance"]) == (1, 0, 0.0)
    [breach] = api["summary"]["breaches"]
    assert breach["out_of_hours"] and breach["cause"] == "late_arrival"
    assert api["summary"]["urgent_2h"]["count"] == 0


def test_kpi_page_steps_to_the_previous_and_next_day(app: Flask, session: so.Session) -> None:
    """A newcomer finds the demo's past days one click away: "Previous day" always (keeping
    the network), "Next day" only before today (the app's day is 1 December)."""
    network_id = _day(session)
    client, _ = office_client(app, session, "manager")

    today = client.get("/reports/kpis").get_data(as_text=True)
    before = client.get(f"/reports/kpis?date=2026-11-29&network={network_id}").get_data(
        as_text=True)

    assert 'href="/reports/kpis?date=2026-11-30"' in today and 'id="next-day"' not in today
    assert f'href="/reports/kpis?date=2026-11-28&amp;network={network_id}"' in before
    assert f'href="/reports/kpis?date=2026-11-30&amp;network={network_id}"' in before
    assert "Monday 30 November" in before
