"""Capacity-planner runs as jobs: the API, the page, progress and cancelling (issue 17).

The job is run in the test by calling ``runs.run_pending`` with a fake day player (see
``test_capacity.fake_player``), exactly as the scheduler's ``run_capacity_plans`` job calls it
with the simulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import orm as so

from dispatch.capacity import runs
from dispatch.db import get_database
from dispatch.models import CapacityPlan
from dispatch.simulation.types import SimulationConfig
from tests.dispatch.capacity.test_capacity import declined_when_held_out, fake_player
from tests.dispatch.web.test_web_day import office_client

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
REQUEST = {"date": "2026-12-01", "seed": 3, "target": 0.95, "networks": ["HF-NORTH"],
           "days": 1}


def _run_job(app: Flask, player: Any = None) -> list[int]:
    return runs.run_pending(get_database(app), clock=lambda: NOW,
                            player=player or fake_player({"HF-NORTH": 2}))


def test_api_capacity_plan_runs_as_a_job(app: Flask, client: Any, token_for: Any) -> None:
    """POST answers 201 pending at once (no search in the request); the job then plays the
    days; GET shows the recommended staffing, its cost, compliance and the miss before it."""
    headers = token_for("manager")

    created = client.post("/api/capacity-plans", json=REQUEST, headers=headers)

    assert created.status_code == 201
    body = created.get_json()
    assert body["status"] == "pending" and body["progress"] == 0 and body["result"] is None
    assert _run_job(app) == [body["id"]]
    done = client.get(f"/api/capacity-plans/{body['id']}", headers=headers).get_json()
    assert done["status"] == "done" and done["progress"] == 1.0
    result = done["result"]
    assert result["found"] is True
    assert result["networks"]["HF-NORTH"]["early"]["district_nurse"] == 2
    assert result["next_cheapest_missed"]["short_by"] > 0
    assert result["kind"] == "held-out" and result["mix"] is None
    # One network's 10 2-hour visits a day: each confirmation plays 4 held-out days (40).
    assert result["acceptance"]["held_out_days_played"] == 4
    assert result["simulated_days"] == sum(1 for t in result["trials"]
                                           for _ in range(1 if t["kind"] == "search" else 4))


def test_api_capacity_plan_with_a_referral_mix(app: Flask, client: Any,
                                                token_for: Any) -> None:
    """A what-if for next winter: the mix (and growth) reach every simulated day the job
    plays, completed with the usual proportions of the categories left out, and come back
    in the request and the answer."""
    headers = token_for("manager")
    played: list[SimulationConfig] = []
    inner = fake_player({"HF-NORTH": 2})

    def spy(config: SimulationConfig) -> dict[str, Any]:
        played.append(config)
        return inner(config)

    created = client.post("/api/capacity-plans", headers=headers,
                          json={**REQUEST, "growth": 1.2, "mix": {"urgent": 0.5, "24h": 0.3}})

    assert created.status_code == 201
    body = created.get_json()
    assert body["request"]["mix"]["urgent_2h"] == 0.5
    assert sum(body["request"]["mix"].values()) == pytest.approx(1.0, abs=1e-4)
    _run_job(app, spy)
    assert played and all(dict(c.mix or ())["urgent_2h"] == 0.5 for c in played)
    assert all(c.referrals == pytest.approx(121 * 1.2) for c in played)
    done = client.get(f"/api/capacity-plans/{body['id']}", headers=headers).get_json()
    assert done["result"]["mix"]["response_24h"] == 0.3


@pytest.mark.parametrize(("mix", "reason"), [
    ({"urgent": 1.5}, "mix.urgent: must be from 0 to 1"),
    ({"lunch": 0.2}, "mix.lunch: unknown category"),
    ({"urgent": 0.7, "24h": 0.6}, "add up to 1.3, more than 1"),
    ("urgent=lots", "'lots' is not a number"),
    (["urgent"], "must be an object of category shares"),
])
def test_api_capacity_plan_bad_mix_is_422_naming_it(client: Any, token_for: Any, mix: Any,
                                                    reason: str) -> None:
    """A bad mix is refused before anything is recorded, with the field and the reason."""
    response = client.post("/api/capacity-plans", headers=token_for("manager"),
                           json={**REQUEST, "mix": mix})

    assert response.status_code == 422
    body = response.get_json()
    assert reason in json.dumps(body)
    assert "mix" in json.dumps(body)


def test_api_capacity_plan_charts_are_svg(app: Flask, client: Any, token_for: Any) -> None:
    """Both charts of a finished run draw; before it finishes they are 409."""
    headers = token_for("manager")
    run_id = client.post("/api/capacity-plans", json=REQUEST, headers=headers).get_json()["id"]
    early = client.get(f"/api/capacity-plans/{run_id}/charts/cost-compliance.svg",
                       headers=headers)
    _run_job(app)

    for name in ("cost-compliance", "utilisation-by-hour"):
        response = client.get(f"/api/capacity-plans/{run_id}/charts/{name}.svg",
                              headers=headers)
        assert response.status_code == 200 and response.mimetype == "image/svg+xml"
        assert response.get_data(as_text=True).lstrip().startswith("<?xml")
    assert early.status_code == 409


def test_api_capacity_plan_bad_input_is_422(client: Any, token_for: Any) -> None:
    """A target above 1 or an unknown network is refused with the field named."""
    headers = token_for("manager")

    response = client.post("/api/capacity-plans", headers=headers,
                           json={**REQUEST, "target": 2, "networks": ["NOWHERE"]})

    assert response.status_code == 422
    errors = response.get_json()["errors"]["json"]
    assert "target" in errors and "networks" in errors


def test_api_capacity_plan_holdout_margin(app: Flask, client: Any, token_for: Any) -> None:
    """The held-out margin comes back in the request and the answer's acceptance; one not
    below the target is a 422 naming it."""
    headers = token_for("manager")

    bad = client.post("/api/capacity-plans", headers=headers,
                      json={**REQUEST, "target": 0.3, "holdout_margin": 0.4})
    created = client.post("/api/capacity-plans", headers=headers,
                          json={**REQUEST, "holdout_margin": 0.0})

    assert bad.status_code == 422, bad.get_json()
    assert "holdout_margin" in bad.get_json()["errors"]
    assert created.status_code == 201
    assert created.get_json()["request"]["holdout_margin"] == 0.0
    _run_job(app)
    done = client.get(f"/api/capacity-plans/{created.get_json()['id']}",
                      headers=headers).get_json()
    assert done["result"]["acceptance"]["every_held_out_day_at_least"] == 0.95
    assert done["result"]["acceptance"]["a_held_out_day_may_miss_one_visit"] is False


def test_api_capacity_plan_held_out_visits(app: Flask, client: Any, token_for: Any) -> None:
    """`held_out_visits` comes back in the request and sizes the held-out days (0: just
    `holdout` days); out of range is a 422 naming it, and nothing is recorded."""
    headers = token_for("manager")

    bad = client.post("/api/capacity-plans", headers=headers,
                      json={**REQUEST, "held_out_visits": 101})
    created = client.post("/api/capacity-plans", headers=headers,
                          json={**REQUEST, "held_out_visits": 0})

    assert bad.status_code == 422
    assert "held_out_visits" in bad.get_json()["errors"]["json"]
    assert created.status_code == 201
    assert created.get_json()["request"]["held_out_visits"] == 0
    assert _run_job(app) == [created.get_json()["id"]]  # the refused one was not recorded
    done = client.get(f"/api/capacity-plans/{created.get_json()['id']}",
                      headers=headers).get_json()
    assert done["result"]["acceptance"]["held_out_days_played"] == 2


def test_api_capacity_plan_is_for_managers(client: Any, token_for: Any) -> None:
    """A call handler may not start a search (commissioning is a manager's job)."""
    response = client.post("/api/capacity-plans", json=REQUEST,
                           headers=token_for("call_handler"))

    assert response.status_code == 403


def test_capacity_run_cancelled_while_running_stops(app: Flask, session: so.Session) -> None:
    """A cancel between simulated days stops the search; the row stays cancelled."""
    with get_database(app).session_scope() as scope:
        run_id = runs.create(scope, data={**REQUEST, "days": 2}, now=NOW,
                             requested_by="t").id
    inner = fake_player({"HF-NORTH": 3})

    def cancelling(config: SimulationConfig) -> dict[str, Any]:
        with get_database(app).session_scope() as scope:
            runs.cancel(scope, run_id, now=NOW)
        return inner(config)

    assert runs.execute(get_database(app), run_id, clock=lambda: NOW,
                        player=cancelling) == "cancelled"
    row = session.get(CapacityPlan, run_id)
    assert row is not None and row.status == "cancelled" and row.result is None


def test_capacity_run_failure_is_recorded(app: Flask, session: so.Session) -> None:
    """A search that raises ends ``failed`` with the reason on the row, never a crash."""
    with get_database(app).session_scope() as scope:
        run_id = runs.create(scope, data=REQUEST, now=NOW, requested_by="t").id

    def broken(_config: SimulationConfig) -> dict[str, Any]:
        raise RuntimeError("solver exploded")

    assert runs.execute(get_database(app), run_id, clock=lambda: NOW,
                        player=broken) == "failed"
    row = session.get(CapacityPlan, run_id)
    assert row is not None and "solver exploded" in (row.note or "")


def test_capacity_page_start_progress_and_answer(app: Flask, session: so.Session) -> None:
    """The manager's page: the form starts a search and sends you to its page, which
    refreshes itself while it runs and shows the staffing and charts when done."""
    client, _ = office_client(app, session, "manager")
    form = client.get("/capacity")
    assert form.status_code == 200 and 'id="capacity-form"' in form.get_data(as_text=True)

    started = client.post("/capacity", data={"date": "2026-12-01", "network": "HF-NORTH",
                                             "target": "95", "growth": "1.2", "days": "1",
                                             "seed": "3"})

    assert started.status_code == 303
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert 'http-equiv="refresh"' in page and 'id="progress-bar"' in page
    _run_job(app)
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "Recommended staffing" in page and 'http-equiv="refresh"' not in page
    assert 'id="chart-cost-compliance"' in page and "growth 1.2" in page
    assert "at least 2 held-out day(s) to confirm, more to hold about 40 2-hour visits " \
        "(together at the target, none more than 3 points below it)" in page
    assert 'id="no-cover"' in page and "No nurse or hybrid worker on HF-NORTH (night)" in page


def test_capacity_page_with_a_referral_mix(app: Flask, session: so.Session) -> None:
    """The form takes the mix as text; the run's page says what it planned for."""
    client, _ = office_client(app, session, "manager")

    started = client.post("/capacity", data={"date": "2026-12-01", "network": "HF-NORTH",
                                             "target": "95", "growth": "1.2", "days": "1",
                                             "seed": "3", "mix": "urgent=45%, 24h=0.3"})

    assert started.status_code == 303
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "urgent 45.0%" in page and "24h 30.0%" in page


def test_capacity_page_bad_mix_is_422(app: Flask, session: so.Session) -> None:
    """A mix naming a kind that does not exist re-shows the form with the reason."""
    client, _ = office_client(app, session, "manager")

    response = client.post("/capacity", data={"date": "2026-12-01", "target": "95",
                                              "growth": "1", "days": "1", "seed": "1",
                                              "mix": "urgent=0.4,brunch=0.1"})

    assert response.status_code == 422
    assert "mix.brunch: unknown category" in response.get_data(as_text=True)
    assert session.query(CapacityPlan).count() == 0


def test_capacity_page_bad_target_is_422(app: Flask, session: so.Session) -> None:
    """A target over 100 % re-shows the form with the error, and records nothing."""
    client, _ = office_client(app, session, "manager")

    response = client.post("/capacity", data={"date": "2026-12-01", "target": "150",
                                              "growth": "1", "days": "1", "seed": "1"})

    assert response.status_code == 422
    assert "Enter a target from 1 to 100" in response.get_data(as_text=True)
    assert session.query(CapacityPlan).count() == 0


def test_capacity_page_says_why_no_staffing_was_confirmed(app: Flask, session: so.Session) -> None:
    """Held-out days missed only to a declined offer: the page says nothing met the target and
    why the search stopped there (not for want of staff), with the causes."""
    client, _ = office_client(app, session, "manager")
    started = client.post("/capacity", data={"date": "2026-12-01", "network": "HF-NORTH",
                                             "target": "95", "days": "1", "seed": "3"})
    _run_job(app, declined_when_held_out())

    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "No staffing met the target" in page
    assert 'id="stopped"' in page and "not for want of staff (offer declined" in page
