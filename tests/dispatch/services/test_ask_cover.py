"""Asking another network for cover from a visit's page or the API, not only through the
jeopardy choice (issue 14): the visit moves with the coordinator's note put before why it is
needed (H-064), leaves its worker, is audited, and bad input names the field."""

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
from dispatch.planning import jeopardy
from tests.dispatch import factories as f
from tests.dispatch.planning.test_planning import NOW, world  # noqa: F401  (fixture)
from tests.dispatch.web.test_web_day import office_client


@pytest.fixture
def near(session: so.Session, world: dict[str, Any]) -> m.Network:  # noqa: F811
    """A neighbouring network with a nurse who has falls assessment, on shift now."""
    net = f.network(session, code="HF-S1", name="H&F South")
    base = f.base(session, code="B2", name="Fulham hub", lat=51.48, lon=-0.20, network_id=net.id)
    nurse = f.staff(session, code="fn", name="Fulham Nurse", phone="+447700900031",
                    network_id=net.id, base_id=base.id, skills=["falls_assessment"])
    session.add(m.Shift(code="sh-fn", staff_id=nurse.id, base_id=base.id,
                        starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=6)))
    f.network(session, code="WM-1", name="Westminster One")
    world["visits"][0].reason = "Fall without serious injury"
    referral = session.get(m.Referral, world["visits"][0].referral_id)
    assert referral is not None
    referral.needs = ["fall_no_injury"]
    session.commit()
    return net


def _cover(client: FlaskClient, headers: dict[str, str], visit: m.Visit,
           **body: Any) -> Any:
    return client.post(f"/api/visits/{visit.id}/cover", headers=headers,
                       json={"version": visit.version, **body})


@pytest.mark.safety("H-106")
def test_cover_moves_an_assigned_visit_with_the_note_before_why_it_is_needed(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    world: dict[str, Any], near: m.Network,  # noqa: F811
) -> None:
    """An offered visit, not in jeopardy: it leaves its worker (told), moves to the other
    network's board, and the covering team reads the note, then the needs."""
    falls, nurse = world["visits"][0], world["nurse"]
    falls.status, falls.assigned_staff_id, falls.planned_start = "offered", nurse.id, NOW
    session.commit()

    response = _cover(client, token_for("coordinator"), falls, network_id=near.id,
                      note="Our only nurse with falls assessment is needed at a fall")

    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "unassigned" and body["assigned_staff_id"] is None
    session.expire_all()
    moved = session.get(m.Visit, falls.id)
    assert moved.network_id == near.id
    assert moved.reason == ("Cover asked by " + world["network"].code + ": Our only nurse with "
                            "falls assessment is needed at a fall; Fall without serious injury")
    event = session.scalar(sa.select(m.AuditEvent).where(m.AuditEvent.action == "ask_cover"))
    assert event is not None and event.details["to_network_id"] == near.id
    assert event.details["note"].startswith("Our only nurse")


def test_cover_refusals_name_the_field_and_change_nothing(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    world: dict[str, Any], near: m.Network,  # noqa: F811
) -> None:
    """No note, a note too long, the visit's own network: 422 with the field and a reason."""
    falls, headers = world["visits"][0], token_for("coordinator")
    for body, field in (({"network_id": near.id, "note": " "}, "note"),
                        ({"network_id": near.id, "note": "x" * 121}, "note"),
                        ({"network_id": world["network"].id, "note": "help please"},
                         "network_id"),
                        ({"network_id": 999999, "note": "help please"}, "network_id")):
        response = _cover(client, headers, falls, **body)
        assert response.status_code == 422, body
        assert field in response.json["errors"], response.json
    session.expire_all()
    assert session.get(m.Visit, falls.id).network_id == world["network"].id


def test_cover_is_refused_in_words_once_the_worker_accepted_and_when_stale(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    world: dict[str, Any], near: m.Network,  # noqa: F811
) -> None:
    falls, headers = world["visits"][0], token_for("coordinator")
    stale = _cover(client, headers, falls, network_id=near.id, note="help please",
                   version=falls.version + 5)
    assert stale.status_code == 409
    assert "Your change was not saved" in stale.json["message"]

    falls.status, falls.assigned_staff_id, falls.pinned = "accepted", world["nurse"].id, True
    falls.planned_start = NOW
    session.commit()
    response = _cover(client, headers, falls, network_id=near.id, note="help please")

    assert response.status_code == 409
    assert "is accepted; only a visit that is unassigned" in response.json["message"]


def test_cover_choices_put_networks_with_the_skills_on_shift_first(
    session: so.Session, world: dict[str, Any], near: m.Network,  # noqa: F811
) -> None:
    choices = jeopardy.cover_choices(session, world["visits"][0], now=NOW)

    assert [(c.code, c.ready) for c in choices] == [("HF-S1", True), ("WM-1", False)]


def test_cover_page_asks_and_shows_errors_next_to_the_field(
    app: Flask, session: so.Session, world: dict[str, Any], near: m.Network,  # noqa: F811
) -> None:
    """The visit page's form: without a note the error is on the field and in the summary;
    with one the visit leaves the board for the other network's."""
    falls = world["visits"][0]
    client, _ = office_client(app, session, "coordinator")
    page = client.get(f"/board/visits/{falls.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Ask another network to cover" in html and "HF-S1 (H&amp;F South)" in html

    bad = client.post(f"/board/visits/{falls.id}/cover", data={
        "version": falls.version, "network_id": near.id, "note": ""})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "There is a problem" in text and 'href="#note"' in text
    assert "Enter a note for the covering team" in text

    good = client.post(f"/board/visits/{falls.id}/cover", data={
        "version": falls.version, "network_id": near.id, "note": "Our nurse is off sick"})
    assert good.status_code == 303
    session.expire_all()
    assert session.get(m.Visit, falls.id).network_id == near.id
