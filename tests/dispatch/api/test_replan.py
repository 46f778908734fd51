"""POST /api/networks/{id}/replan (issue 14): re-optimise now through the planning pipeline,
answer once applied with what changed; pinned and accepted visits survive it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.api import plans as plans_api
from dispatch.jobs.runner import run_plans
from dispatch.web import board as board_web
from tests.dispatch import factories as f
from tests.dispatch.planning.test_double_booking import _visit, pin, pinned_world  # noqa: F401
from tests.dispatch.planning.test_planning import NOW
from tests.dispatch.web.test_web_day import make_day, office_client
from tests.dispatch.web.test_web_support import csrf_token


@pytest.fixture
def job_runs_on_wake(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """No scheduler runs in tests: a wake runs the plan job at once, as a scheduler in this
    process would."""
    monkeypatch.setattr(plans_api, "wake", lambda job: run_plans(app))


def _accepted(session: so.Session, w: dict[str, Any], reference: str, minutes: int) -> m.Visit:
    """A visit the nurse has accepted at NOW + ``minutes``."""
    row = _visit(session, w["referral"].id, w["patients"][2].id, reference, w["network"].id,
                 0, 6 * 60, status="accepted", assigned_staff_id=w["nurse"].id,
                 shift_id=w["shift"].id, planned_start=NOW + timedelta(minutes=minutes),
                 pinned=True)
    session.commit()
    return row


@pytest.mark.usefixtures("job_runs_on_wake")
def test_replan_keeps_pinned_and_accepted_visits(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    pinned_world: dict[str, Any],  # noqa: F811
) -> None:
    """A coordinator's pin (worker and time) and an accepted visit (worker) survive a re-plan
    now; a new visit is placed, and the answer says it moved from nowhere to the nurse."""
    w = pinned_world
    pin(session, w["A"], w["nurse"], 60)
    accepted = _accepted(session, w, "B", 180)
    new = _visit(session, w["referral"].id, w["patients"][1].id, "C", w["network"].id, 0, 300)
    session.commit()

    answer = client.post(f"/api/networks/{w['network'].id}/replan",
                         headers=token_for("coordinator"))

    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["network_id"] == w["network"].id and body["status"] == "done"
    session.expire_all()
    a = session.get(m.Visit, w["A"].id)
    b = session.get(m.Visit, accepted.id)
    c = session.get(m.Visit, new.id)
    assert a is not None and b is not None and c is not None
    assert (a.assigned_staff_id, a.planned_start, a.pinned) == (
        w["nurse"].id, NOW + timedelta(minutes=60), True)
    assert (b.assigned_staff_id, b.status) == (w["nurse"].id, "accepted")
    [change] = [c_ for c_ in body["changed"] if c_["visit_id"] == new.id]
    assert change["reference"] == "C" and change["from"] is None
    assert change["to"]["staff_id"] == w["nurse"].id
    assert all(c_["visit_id"] != a.id for c_ in body["changed"])
    stored = client.get(f"/api/plans/{body['run_id']}", headers=token_for("manager")).json
    assert (stored["kind"], stored["status"]) == ("replan", "done")


def test_replan_answers_202_with_the_run_id_when_the_job_is_slow(
    app: Flask, client: FlaskClient, token_for: Callable[..., dict[str, str]],
    pinned_world: dict[str, Any],  # noqa: F811
) -> None:
    """No job ran within REPLAN_WAIT_SECONDS: 202 and the run id to poll; the job then
    applies it and GET /api/plans/{run_id} shows done."""
    app.config["REPLAN_WAIT_SECONDS"] = 0
    headers = token_for("coordinator")

    answer = client.post(f"/api/networks/{pinned_world['network'].id}/replan", headers=headers)

    assert answer.status_code == 202, answer.json
    assert answer.json["status"] == "pending"
    assert run_plans(app) == [answer.json["run_id"]]
    assert client.get(f"/api/plans/{answer.json['run_id']}",
                      headers=headers).json["status"] == "done"


def test_replan_refuses_unknown_network_and_other_roles(
    app: Flask, client: FlaskClient, token_for: Callable[..., dict[str, str]],
    session: so.Session,
) -> None:
    """An unknown network is a 404; a call handler may not re-plan (403)."""
    app.config["REPLAN_WAIT_SECONDS"] = 0
    net = f.network(session)
    session.commit()
    assert client.post("/api/networks/424242/replan",
                       headers=token_for("coordinator")).status_code == 404
    assert client.post(f"/api/networks/{net.id}/replan",
                       headers=token_for("call_handler")).status_code == 403


def test_board_replan_button_posts_with_csrf_and_reports(
    app: Flask, session: so.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The board shows "Re-plan now" to a coordinator; the form carries a CSRF token and a
    post without it is refused; with it the re-plan runs and the board says what changed."""
    monkeypatch.setattr(board_web, "wake", lambda job: run_plans(app))
    day = make_day(session)
    client, _ = office_client(app, session, "coordinator", network_id=day.network.id)
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get(f"/board?network={day.network.id}").get_data(as_text=True)
    assert "Re-plan now" in page
    url = f"/board/networks/{day.network.id}/replan"
    assert client.post(url).status_code == 400  # no CSRF token

    done = client.post(url, data={"csrf_token": csrf_token(page)}, follow_redirects=True)

    assert done.status_code == 200
    assert "Re-planned:" in done.get_data(as_text=True)
    run = session.scalars(sa.select(m.Plan).where(m.Plan.kind == "replan")).one()
    assert (run.network_id, run.status) == (day.network.id, "done")
