"""Issue 18 part 3: what the background work did reaches ``/metrics`` from the database
(the jobs run in another process in production): offer latency, planner runs, job lag."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.jobs import runner
from dispatch.planning import live
from dispatch.services import operations
from routing.travel import GeodesicTravelTime
from tests.dispatch import factories as f
from tests.dispatch.planning.test_planning import NOW, world  # noqa: F401  (fixture)

pytestmark = pytest.mark.db


def _sample(text: str, name: str, **labels: str) -> float:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    match = re.search(rf"^{name}\{{{re.escape(inner)}\}} (\S+)$", text, re.MULTILINE)
    assert match, f"{name}{{{inner}}} missing in:\n{text}"
    return float(match.group(1))


def test_metrics_offer_latency_planner_runs_and_job_lag(
    client: FlaskClient, session: so.Session
) -> None:
    """The request's now is 10:20 (FIXED_NOW). A referral at 09:00 whose first text went at
    09:00:30 is one 30-second observation; the planner's last run per network and the seconds
    since each job last finished are reported."""
    patient = f.patient(session)
    network = f.network(session)
    referral = f.referral(session, patient.id)
    visit = f.visit(session, referral.id, patient.id, network_id=network.id)
    for sent in (f.NOW + timedelta(seconds=30), f.NOW + timedelta(minutes=5)):
        session.add(m.Message(direction="outbound", to_number="+447700900123", body="x",
                              status="sent", visit_id=visit.id, sent_at=sent, attempts=2))
    operations.record_planner_run(session, network_id=network.id, method="improve",
                                  started=f.NOW, seconds=1.5, visits=10, planned=8,
                                  relaxed=False)
    operations.record_planner_run(session, network_id=network.id, method="insert",
                                  started=f.NOW + timedelta(minutes=79), seconds=0.2,
                                  visits=11, planned=11, relaxed=False)
    operations.record_job(session, name="watch_deadlines", started=f.NOW + timedelta(minutes=79),
                          seconds=0.5, ok=True)
    operations.record_job(session, name="watch_deadlines", started=f.NOW + timedelta(minutes=79),
                          seconds=0.5, ok=False)
    session.flush()

    text = client.get("/metrics").get_data(as_text=True)
    le = {"category": "urgent_2h"}
    assert _sample(text, "dispatch_referral_to_offer_seconds_bucket", **le, le="10.0") == 0
    assert _sample(text, "dispatch_referral_to_offer_seconds_bucket", **le, le="30.0") == 1
    assert _sample(text, "dispatch_referral_to_offer_seconds_gcount", **le) == 1
    assert _sample(text, "dispatch_referral_to_offer_seconds_gsum", **le) == 30
    net = str(network.id)
    assert _sample(text, "dispatch_planner_last_run_seconds", network=net) == 0.2
    assert _sample(text, "dispatch_planner_last_dropped_visits", network=net) == 0
    # Only the run within the last hour is in the run-time histogram.
    assert _sample(text, "dispatch_planner_run_seconds_gcount", network=net) == 1
    assert _sample(text, "dispatch_job_seconds_since_last_run", job="watch_deadlines") == 59.5
    assert _sample(text, "dispatch_job_runs_total", job="watch_deadlines") == 2
    assert _sample(text, "dispatch_job_failures_total", job="watch_deadlines") == 1
    assert _sample(text, "dispatch_sms_retried_messages", status="sent") == 2


def test_planner_runs_are_recorded_and_pruned(
    session: so.Session, world: dict[str, Any]  # noqa: F811
) -> None:
    """Every read-solve-apply stores its run (visits, planned, dropped); runs older than a week
    are pruned when a new one is stored."""
    operations.record_planner_run(session, network_id=world["network"].id, method="solve",
                                  started=NOW - timedelta(days=8), seconds=1.0, visits=1,
                                  planned=1, relaxed=False)
    live.replan(session, now=NOW, provider=GeodesicTravelTime(),
                network_id=world["network"].id, seconds=0.5)
    runs = session.scalars(sa.select(m.PlannerRun)).all()
    assert len(runs) == 1
    (run,) = runs
    assert (run.network_id, run.visits, run.planned, run.dropped) == (
        world["network"].id, 3, 2, 1)  # the IV visit has no skilled worker
    assert run.started_at == NOW and run.seconds >= 0


def test_scheduled_job_records_its_heartbeat_and_failures(
    app: Flask, session: so.Session
) -> None:
    """A job that fails (logged, not raised) is counted as a failure; a good run is not."""
    runner._marked("send_messages", lambda _app: runner.FAILED, app)
    runner._marked("send_messages", lambda _app: [], app)
    beat = session.get(m.JobHeartbeat, "send_messages")
    assert beat is not None
    session.refresh(beat)
    assert (beat.runs, beat.failures, beat.last_ok) == (2, 1, True)


def test_a_failing_job_returns_the_falsy_failure_marker(app: Flask) -> None:
    """run_job logs and returns FAILED (falsy: nobody is woken), never raises."""
    def boom(_session: so.Session, _now: Any) -> None:
        raise RuntimeError("boom")

    result = runner.run_job(app, "boom", boom)
    assert result is runner.FAILED and not result
