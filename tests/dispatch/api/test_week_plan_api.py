"""POST /api/networks/{id}/week-plan (issue 15): a coordinator or manager commits the week's
plan for a network (tomorrow's visits offered, later days provisional); a dry run writes
nothing; another network's coordinator and a call handler are refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.db import get_database
from dispatch.jobs.runner import run_plans
from dispatch.services.users import add_user
from tests.dispatch import factories as f
from tests.dispatch.planning.test_week_plan import _week


@pytest.fixture
def pinned_search(app: Flask) -> None:
    app.config.update(WEEK_PLAN_SECONDS=5, WEEK_PLAN_SOLUTION_LIMIT=50)


def _statuses(session: so.Session) -> dict[str, str]:
    session.expire_all()
    return dict(session.execute(sa.select(m.Visit.reference, m.Visit.status)).all())  # type: ignore[arg-type]


def _run(app: Flask, client: FlaskClient, url: str, body: dict[str, object],
         headers: dict[str, str]) -> dict[str, object]:
    """Ask for the week's plan: 202 and the run to poll; nothing planned until the
    ``run_plans`` job runs it; then the run's result."""
    answer = client.post(url, json=body, headers=headers)
    assert answer.status_code == 202, answer.json
    run_id = answer.json["run_id"]
    assert answer.json["status"] == "pending"
    assert answer.json["status_url"] == f"/api/plans/{run_id}"
    assert client.get(answer.json["status_url"], headers=headers).json["status"] == "pending"
    assert run_plans(app) == [run_id]
    stored = client.get(answer.json["status_url"], headers=headers).json
    assert stored["status"] == "done", stored
    assert stored["kind"] == ("week_preview" if body.get("dry_run") else "week")
    result: dict[str, object] = stored["result"]
    return result


@pytest.mark.safety("H-143")
@pytest.mark.usefixtures("pinned_search")
def test_week_plan_api_dry_run_then_commit_then_rerun(
    app: Flask, client: FlaskClient, token_for: Callable[..., dict[str, str]],
    session: so.Session,
) -> None:
    world = _week(session)
    url = f"/api/networks/{world['network'].id}/week-plan"  # type: ignore[attr-defined]
    headers = token_for("coordinator")

    preview = _run(app, client, url, {"dry_run": True}, headers)
    assert (preview["dry_run"], preview["offered"], preview["provisional"]) == (True, 1, 4)
    assert len(preview["visits"]) == 5  # type: ignore[arg-type]
    assert set(_statuses(session).values()) == {"unassigned"}

    done = _run(app, client, url, {}, headers)
    assert (done["dry_run"], done["offered"], done["provisional"]) == (False, 1, 4)
    assert _statuses(session)["P0"] == "offered"
    texts = session.scalar(sa.select(sa.func.count(m.Message.id)))

    again = _run(app, client, url, {}, token_for("manager"))
    assert (again["offered"], again["provisional"]) == (0, 4)
    assert session.scalar(sa.select(sa.func.count(m.Message.id))) == texts
    assert session.scalar(sa.select(sa.func.count(m.Visit.id))) == 5
    audit = session.scalars(sa.select(m.AuditEvent.action).where(
        m.AuditEvent.action == "commit_week_plan")).all()
    assert len(audit) == 2


def test_week_plan_api_answers_before_the_solve(
    app: Flask, client: FlaskClient, token_for: Callable[..., dict[str, str]],
    session: so.Session,
) -> None:
    """The request only records the run (the solve took up to WEEK_PLAN_SECONDS inside the
    request before): 202, nothing planned or written until the job runs it."""
    world = _week(session)
    url = f"/api/networks/{world['network'].id}/week-plan"  # type: ignore[attr-defined]
    answer = client.post(url, json={}, headers=token_for("coordinator"))
    assert answer.status_code == 202
    session.expire_all()
    run = session.get(m.Plan, answer.json["run_id"])
    assert run is not None and (run.status, run.kind, run.result) == ("pending", "week", None)
    assert set(_statuses(session).values()) == {"unassigned"}
    assert session.scalars(sa.select(m.AuditEvent.action).where(
        m.AuditEvent.action == "commit_week_plan")).all() == []


@pytest.mark.safety("H-143")
def test_week_plan_api_refuses_other_networks_call_handlers_and_bad_input(
    app: Flask, client: FlaskClient, token_for: Callable[..., dict[str, str]],
    session: so.Session,
) -> None:
    world = _week(session)
    net = world["network"]
    other = f.network(session, code="ELS", name="Elsewhere")
    session.commit()
    with get_database(app).sessions() as sess:
        made = add_user(sess, username="olly", role="coordinator", now=datetime.now(UTC),
                        network_ids=[other.id], all_networks=False)
        sess.commit()
    url = f"/api/networks/{net.id}/week-plan"  # type: ignore[attr-defined]
    refused = client.post(url, json={}, headers={"Authorization": f"Bearer {made.token}"})
    assert refused.status_code == 403 and "Elsewhere" in refused.json["message"]
    assert client.post(url, json={}, headers=token_for("call_handler")).status_code == 403
    bad = client.post(url, json={"days": 30}, headers=token_for("manager"))
    assert bad.status_code == 422 and "days" in str(bad.json["errors"])
    assert client.post("/api/networks/999999/week-plan", json={},
                       headers=token_for("manager")).status_code == 404
    assert set(_statuses(session).values()) == {"unassigned"}
