"""The week's plan page (issue 15): the packages list links to it; a preview writes
nothing and offers the commit button; committing offers tomorrow's visits; a network the
coordinator does not run is refused with the field's reason."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.jobs.runner import run_plans
from tests.dispatch import factories as f
from tests.dispatch.planning.test_week_plan import _week
from tests.dispatch.web.test_web_day import office_client
from tests.dispatch.web.test_web_support import csrf_token


@pytest.mark.safety("H-143")
def test_week_page_previews_then_plans_and_offers(app: Flask, session: so.Session) -> None:
    app.config.update(WEEK_PLAN_SECONDS=5, WEEK_PLAN_SOLUTION_LIMIT=50)
    world = _week(session)
    net = world["network"]
    client, _ = office_client(app, session, "coordinator")
    listing = client.get("/packages").get_data(as_text=True)
    assert 'id="plan-week"' in listing
    page = client.get("/packages/week").get_data(as_text=True)
    token = csrf_token(page)

    preview = client.post("/packages/week", data={"csrf_token": token, "action": "preview",
                                                  "network": net.id})  # type: ignore[attr-defined]
    assert preview.status_code == 303
    waiting = client.get(preview.location).get_data(as_text=True)
    assert 'id="week-progress"' in waiting and 'week_plan.js' in waiting
    assert "a preview: nothing will be booked" in waiting and "week-summary" not in waiting
    assert len(run_plans(app)) == 1
    html = client.get(preview.location).get_data(as_text=True)
    assert 'id="commit-week"' in html and 'id="week-progress"' not in html
    assert "1 visits would be offered now" in html and "id=\"week-summary\"" in html
    assert 'week_plan.js' not in html
    session.expire_all()
    assert set(session.scalars(sa.select(m.Visit.status))) == {"unassigned"}

    done = client.post("/packages/week", data={"csrf_token": token, "action": "commit",
                                               "network": net.id})  # type: ignore[attr-defined]
    assert done.status_code == 303 and done.location != preview.location
    assert len(run_plans(app)) == 1
    page = client.get(done.location).get_data(as_text=True)
    assert "1 visits were offered now" in page and 'id="commit-week"' not in page
    session.expire_all()
    assert session.scalar(sa.select(m.Visit.status).where(m.Visit.reference == "P0")) == (
        "offered")


def test_week_page_refuses_a_network_not_yours(app: Flask, session: so.Session) -> None:
    net = _week(session)["network"]
    other = f.network(session, code="ELS", name="Elsewhere")
    session.commit()
    client, user = office_client(app, session, "coordinator", all_networks=False)
    session.add(m.UserNetwork(user_id=user.id, network_id=other.id))
    session.commit()
    token = csrf_token(client.get("/packages/week").get_data(as_text=True))
    answer = client.post("/packages/week", data={"csrf_token": token, "action": "commit",
                                                 "network": net.id})  # type: ignore[attr-defined]
    assert answer.status_code == 422
    assert "Choose a network you coordinate" in answer.get_data(as_text=True)
