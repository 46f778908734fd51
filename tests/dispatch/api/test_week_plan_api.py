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
from dispatch.services.users import add_user
from tests.dispatch import factories as f
from tests.dispatch.planning.test_week_plan import _week


@pytest.fixture
def pinned_search(app: Flask) -> None:
    app.config.update(WEEK_PLAN_SECONDS=5, WEEK_PLAN_SOLUTION_LIMIT=50)


def _statuses(session: so.Session) -> dict[str, str]:
    session.expire_all()
    return dict(session.execute(sa.select(m.Visit.reference, m.Visit.status)).all())  # type: ignore[arg-type]


@pytest.mark.safety("H-143")
@pytest.mark.usefixtures("pinned_search")
def test_week_plan_api_dry_run_then_commit_then_rerun(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
) -> None:
    world = _week(session)
    url = f"/api/networks/{world['network'].id}/week-plan"  # type: ignore[attr-defined]
    headers = token_for("coordinator")

    preview = client.post(url, json={"dry_run": True}, headers=headers)
    assert preview.status_code == 200, preview.json
    assert (preview.json["dry_run"], preview.json["offered"], preview.json["provisional"]) == (
        True, 1, 4)
    assert len(preview.json["visits"]) == 5 and set(_statuses(session).values()) == {
        "unassigned"}

    done = client.post(url, json={}, headers=headers)
    assert done.status_code == 200, done.json
    assert (done.json["dry_run"], done.json["offered"], done.json["provisional"]) == (
        False, 1, 4)
    assert _statuses(session)["P0"] == "offered"
    texts = session.scalar(sa.select(sa.func.count(m.Message.id)))

    again = client.post(url, json={}, headers=token_for("manager"))
    assert (again.json["offered"], again.json["provisional"]) == (0, 4)
    assert session.scalar(sa.select(sa.func.count(m.Message.id))) == texts
    assert session.scalar(sa.select(sa.func.count(m.Visit.id))) == 5
    audit = session.scalars(sa.select(m.AuditEvent.action).where(
        m.AuditEvent.action == "commit_week_plan")).all()
    assert len(audit) == 2


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
