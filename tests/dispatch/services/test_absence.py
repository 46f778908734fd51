"""Absence (issue 14): a worker marked sick, absent or finishing early gets no visit in that
time; their open visits in it are taken off them (they are texted) and re-planned at once; a
visit they are on site for stays; cancelling gives them back to the planner."""

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
from tests.dispatch import factories as f
from tests.dispatch.planning.test_double_booking import _visit, pin, pinned_world  # noqa: F401
from tests.dispatch.planning.test_planning import NOW


@pytest.fixture
def job_runs_on_wake(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """No scheduler runs in tests: a wake runs the plan job at once, as one in this process
    would."""
    from dispatch.jobs import replan_request
    from dispatch.jobs.runner import run_plans

    monkeypatch.setattr(replan_request, "wake", lambda job: run_plans(app))


@pytest.fixture
def two_nurses(session: so.Session, pinned_world: dict[str, Any]  # noqa: F811
               ) -> dict[str, Any]:
    """pinned_world's nurse with visit A pinned at 11:20, an accepted visit B at 13:20 and one
    she is on site for (S); a second nurse on the same shift to take what she cannot."""
    w = pinned_world
    pin(session, w["A"], w["nurse"], 60)
    w["B"] = _visit(session, w["referral"].id, w["patients"][1].id, "B", w["network"].id,
                    0, 6 * 60, status="accepted", assigned_staff_id=w["nurse"].id,
                    shift_id=w["shift"].id, planned_start=NOW + timedelta(minutes=180),
                    pinned=True)
    w["S"] = _visit(session, w["referral"].id, w["patients"][2].id, "S", w["network"].id,
                    -60, 6 * 60, status="on_site", assigned_staff_id=w["nurse"].id,
                    shift_id=w["shift"].id, planned_start=NOW - timedelta(minutes=20),
                    pinned=True)
    w["other"] = f.staff(session, code="dn2", name="Nurse Two", phone="+447700900002",
                         network_id=w["network"].id, base_id=w["shift"].base_id,
                         skills=["wound_care", "falls_assessment"])
    session.add(m.Shift(code="sh-dn2", staff_id=w["other"].id, base_id=w["shift"].base_id,
                        starts_at=NOW - timedelta(hours=2), ends_at=NOW + timedelta(hours=6),
                        breaks=[]))
    session.commit()
    return w


def _sick(client: FlaskClient, headers: dict[str, str], staff_id: int, **body: Any) -> Any:
    payload = {"from": NOW.isoformat(), "until": (NOW + timedelta(hours=8)).isoformat(),
               "reason": "sick", **body}
    return client.post(f"/api/staff/{staff_id}/absence", json=payload, headers=headers)


@pytest.mark.safety("H-112")
@pytest.mark.usefixtures("job_runs_on_wake")
def test_sick_worker_visits_are_released_replanned_and_texted(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    two_nurses: dict[str, Any],
) -> None:
    """Marked sick from now: her pinned and accepted visits go to the other nurse by the
    re-plan; she is texted for each; the visit she is on site for stays hers."""
    w = two_nurses

    answer = _sick(client, token_for("coordinator"), w["nurse"].id)

    assert answer.status_code == 201, answer.json
    body = answer.json
    assert {r["reference"] for r in body["released"]} == {"A", "B"}
    assert [r["reference"] for r in body["kept"]] == ["S"]
    assert body["summary"].startswith("Nurse") and "off sick from 10:20" in body["summary"]
    assert body["replan"]["status"] == "done"
    session.expire_all()
    for ref in ("A", "B"):
        visit = session.get(m.Visit, w[ref].id)
        assert visit is not None and visit.assigned_staff_id == w["other"].id, ref
    assert session.get(m.Visit, w["S"].id).assigned_staff_id == w["nurse"].id  # type: ignore[union-attr]
    texts = session.scalars(sa.select(m.Message.visit_id).where(
        m.Message.staff_id == w["nurse"].id)).all()
    assert w["B"].id in texts  # she had accepted B: told it is withdrawn
    assert session.get(m.Shift, w["shift"].id).sick_from == NOW  # type: ignore[union-attr]


@pytest.mark.safety("H-112")
@pytest.mark.usefixtures("job_runs_on_wake")
def test_an_absence_inside_the_shift_is_kept_clear_by_the_planner(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    two_nurses: dict[str, Any],
) -> None:
    """Absent 11:00-12:30 only: A (11:20) leaves her; B (13:20, after she is back) stays."""
    w = two_nurses

    answer = _sick(client, token_for("coordinator"), w["nurse"].id, reason="absent",
                   **{"from": (NOW + timedelta(minutes=40)).isoformat(),
                      "until": (NOW + timedelta(minutes=130)).isoformat()})

    assert answer.status_code == 201, answer.json
    assert [r["reference"] for r in answer.json["released"]] == ["A"]
    session.expire_all()
    a = session.get(m.Visit, w["A"].id)
    assert a is not None and a.assigned_staff_id != w["nurse"].id
    b = session.get(m.Visit, w["B"].id)
    assert b is not None and b.assigned_staff_id == w["nurse"].id
    mine = session.scalars(sa.select(m.Visit).where(m.Visit.assigned_staff_id == w["nurse"].id,
                                                    m.Visit.status != "on_site")).all()
    for visit in mine:
        assert visit.planned_start is not None
        end = visit.planned_start + timedelta(minutes=visit.duration_minutes)
        assert end <= NOW + timedelta(minutes=40) or visit.planned_start >= NOW + timedelta(
            minutes=130)
    assert session.get(m.Shift, w["shift"].id).sick_from is None  # type: ignore[union-attr]


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"until": (NOW - timedelta(minutes=5)).isoformat()}, "until", "after the start"),
    ({"from": (NOW - timedelta(hours=3)).isoformat(),
      "until": (NOW - timedelta(hours=1)).isoformat()}, "until", "in the future"),
    ({"until": (NOW + timedelta(days=40)).isoformat()}, "until", "at most 28 days"),
    ({"until": None}, "until", "give the time"),
])
def test_bad_ranges_are_422_and_nothing_is_written(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    two_nurses: dict[str, Any], body: dict[str, Any], field: str, words: str,
) -> None:
    """An until before from, in the past, too long, or missing (not finishing early): 422
    naming the field; no absence stored, her visits untouched."""
    w = two_nurses

    answer = _sick(client, token_for("coordinator"), w["nurse"].id, **body)

    assert answer.status_code == 422, answer.json
    assert words in str(answer.json["errors"][field])
    assert session.scalar(sa.select(sa.func.count()).select_from(m.Absence)) == 0
    session.expire_all()
    assert session.get(m.Visit, w["A"].id).assigned_staff_id == w["nurse"].id  # type: ignore[union-attr]


def test_finishing_early_ends_at_the_end_of_the_shift(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    two_nurses: dict[str, Any], monkeypatch: pytest.MonkeyPatch, app: Flask,
) -> None:
    """Finishing early from 14:00 with no until: until the shift's end (16:20); the shift
    ends at 14:00 for the planner and the board."""
    from dispatch.jobs import replan_request

    monkeypatch.setattr(replan_request, "wake", lambda job: None)
    app.config["REPLAN_WAIT_SECONDS"] = 0  # no job runs here: answer with the run pending
    w = two_nurses

    answer = _sick(client, token_for("manager"), w["nurse"].id, reason="finishing_early",
                   until=None, **{"from": (NOW + timedelta(minutes=220)).isoformat()})

    assert answer.status_code == 201, answer.json
    assert answer.json["absence"]["until"].startswith("2026-12-01T16:20")
    session.expire_all()
    shift = session.get(m.Shift, w["shift"].id)
    assert shift is not None and shift.sick_from == NOW + timedelta(minutes=220)


@pytest.mark.usefixtures("job_runs_on_wake")
def test_cancelling_an_absence_gives_her_back_to_the_planner(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    two_nurses: dict[str, Any],
) -> None:
    """DELETE the absence: kept as cancelled (who, when), her shift whole again; a second
    cancel is a 409 that says who cancelled it."""
    w = two_nurses
    headers = token_for("coordinator", username="cora")
    absence_id = _sick(client, headers, w["nurse"].id).json["absence"]["id"]

    answer = client.delete(f"/api/staff/{w['nurse'].id}/absence/{absence_id}", headers=headers)

    assert answer.status_code == 200 and answer.json["cancelled_by"] == "cora"
    session.expire_all()
    assert session.get(m.Shift, w["shift"].id).sick_from is None  # type: ignore[union-attr]
    again = client.delete(f"/api/staff/{w['nurse'].id}/absence/{absence_id}", headers=headers)
    assert again.status_code == 409 and "already cancelled by cora" in again.json["message"]


def test_absence_of_another_networks_worker_is_refused(
    app: Flask, session: so.Session, two_nurses: dict[str, Any],
) -> None:
    """A coordinator of another network: 403 with the reason; nothing written."""
    from datetime import UTC, datetime

    from dispatch.services.users import add_user

    w = two_nurses
    other = f.network(session, code="KC-S", name="Kensington South",
                      borough="Kensington & Chelsea")
    created = add_user(session, username="kc", role="coordinator", now=datetime.now(UTC),
                       network_ids=[other.id], all_networks=False)
    session.commit()

    answer = _sick(app.test_client(), {"Authorization": f"Bearer {created.token}"},
                   w["nurse"].id)

    assert answer.status_code == 403 and "Kensington South only" in answer.json["message"]
    assert session.scalar(sa.select(sa.func.count()).select_from(m.Absence)) == 0


# --- the board's page -------------------------------------------------------------------------


@pytest.mark.usefixtures("job_runs_on_wake")
def test_board_page_marks_a_worker_off_and_lists_it_with_cancel(
    app: Flask, session: so.Session, two_nurses: dict[str, Any],
) -> None:
    """The form on /board/absence: the worker's visits are re-planned, the board lists the
    absence with a Cancel button, and Cancel removes it."""
    from tests.dispatch.web.test_web_day import office_client

    w = two_nurses
    client, _ = office_client(app, session, "coordinator")
    form = client.get(f"/board/absence?staff={w['nurse'].id}&network={w['network'].id}")
    assert form.status_code == 200 and "Nurse Two" in form.get_data(as_text=True)

    saved = client.post(f"/board/absence?network={w['network'].id}", data={
        "staff_id": w["nurse"].id, "reason": "sick", "from_time": "10:20", "until_time": "18:00"})

    assert saved.status_code == 303
    board = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert 'id="absences"' in board
    assert "off sick from 10:20 until 18:00" in board and "taken off them" in board
    absence_id = session.scalar(sa.select(m.Absence.id))
    assert f'id="absence-{absence_id}"' in board
    cancelled = client.post(f"/board/absences/{absence_id}/cancel?network={w['network'].id}")
    assert cancelled.status_code == 303
    assert f'id="absence-{absence_id}"' not in client.get(
        cancelled.headers["Location"]).get_data(as_text=True)


def test_board_page_says_what_is_wrong_with_the_times(
    app: Flask, session: so.Session, two_nurses: dict[str, Any],
) -> None:
    """Back before the start: 422 with the reason next to "Back at"; nothing stored."""
    from tests.dispatch.web.test_web_day import office_client

    w = two_nurses
    client, _ = office_client(app, session, "coordinator")

    answer = client.post("/board/absence", data={
        "staff_id": w["nurse"].id, "reason": "absent", "from_time": "12:00",
        "until_time": "11:00"})

    assert answer.status_code == 422
    assert "Must be after the start of the absence" in answer.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(m.Absence)) == 0


@pytest.mark.safety("H-112")
def test_assigning_by_hand_inside_an_absence_warns(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    two_nurses: dict[str, Any], monkeypatch: pytest.MonkeyPatch, app: Flask,
) -> None:
    """Nurse Two absent 11:00-12:30: assigning her C at 11:30 by hand is not saved without
    "assign anyway", and the warning says she is absent, with the times."""
    from dispatch.jobs import replan_request

    monkeypatch.setattr(replan_request, "wake", lambda job: None)
    app.config["REPLAN_WAIT_SECONDS"] = 0
    w = two_nurses
    headers = token_for("coordinator")
    _sick(client, headers, w["other"].id, reason="absent",
          **{"from": (NOW + timedelta(minutes=40)).isoformat(),
             "until": (NOW + timedelta(minutes=130)).isoformat()})
    visit = _visit(session, w["referral"].id, w["patients"][3].id, "C", w["network"].id, 0, 300)
    session.commit()

    answer = client.post(f"/api/visits/{visit.id}/assign", headers=headers, json={
        "staff_id": w["other"].id, "start": (NOW + timedelta(minutes=70)).isoformat(),
        "version": visit.version})

    assert answer.status_code == 200 and answer.json["applied"] is False
    assert any("is absent from 11:00 until 12:30" in x for x in answer.json["warnings"])
