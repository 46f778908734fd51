"""What a coordinator's pin costs a 2-hour visit (issue 14): warned when pinning, named on the
board after a re-plan, and never undone by the planner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.planning import pin_costs, pipeline
from dispatch.services import board as board_service
from dispatch.services import pin_warnings
from routing.travel import GeodesicTravelTime
from tests.dispatch import factories as f
from tests.dispatch.planning.test_planning import NOW, world  # noqa: F401  (fixture)

PROVIDER = GeodesicTravelTime()
COST = ("leaves visit 1001 (2-hour, due 12:20) unassigned: Nurse One is the only worker who "
        "could reach it in time")


def _long_visit(session: so.Session, world: dict[str, Any], **kw: Any) -> m.Visit:  # noqa: F811
    """A 24-hour wound-care visit of 150 minutes: with the nurse from 10:25 it keeps her
    from the 2-hour falls visit 1001 (only she has falls assessment) until after 12:20."""
    row = f.visit(session, world["visits"][0].referral_id, world["patients"][1].id,
                  reference="2001", network_id=world["network"].id, skills=["wound_care"],
                  category="response_24h", priority=3, duration_minutes=150,
                  earliest_start=NOW, deadline=NOW + timedelta(hours=6), **kw)
    session.commit()
    return row


def _assign(client: FlaskClient, headers: dict[str, str], visit: m.Visit, staff: m.Staff, *,
            confirm: bool = False, pin: bool = True) -> Any:
    response = client.post(f"/api/visits/{visit.id}/assign", headers=headers, json={
        "staff_id": staff.id, "start": (NOW + timedelta(minutes=5)).isoformat(),
        "version": visit.version, "confirm": confirm, "pin": pin})
    assert response.status_code == 200, response.json
    return response.json


@pytest.mark.safety("H-105")
def test_pinning_the_only_worker_who_can_reach_a_two_hour_visit_is_a_warning_to_confirm(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    world: dict[str, Any],  # noqa: F811
) -> None:
    """The assign response says what the pin costs, in words with the deadline; nothing is
    saved until the coordinator confirms; confirmed, the 2-hour visit names the pin and the
    decision is audited."""
    long = _long_visit(session, world)
    headers = token_for("coordinator")

    first = _assign(client, headers, long, world["nurse"])

    assert first["applied"] is False
    assert first["costs"] == [COST]
    assert COST in first["warnings"]
    session.expire_all()
    assert session.get(m.Visit, long.id).assigned_staff_id is None

    second = _assign(client, headers, long, world["nurse"], confirm=True)

    assert second["applied"] is True and second["costs"] == [COST]
    session.expire_all()
    urgent = session.get(m.Visit, world["visits"][0].id)
    assert urgent.blocked_by_pin_id == long.id
    assert session.scalar(sa.select(sa.func.count()).select_from(m.AuditEvent).where(
        m.AuditEvent.action == "pin_despite_cost")) == 1


def test_without_a_pin_there_is_no_cost_to_confirm(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    world: dict[str, Any],  # noqa: F811
) -> None:
    """Unpinned, the planner may still move it off her for the 2-hour visit: no cost warning."""
    long = _long_visit(session, world)

    result = _assign(client, token_for("coordinator"), long, world["nurse"], pin=False)

    assert result["applied"] is True and result["costs"] == []


def test_a_worker_who_is_not_the_only_one_costs_nothing(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    world: dict[str, Any],  # noqa: F811
) -> None:
    """Another nurse with falls assessment is on shift: pinning the first costs nothing."""
    other = f.staff(session, code="n2", name="Nurse Two", phone="+447700900012",
                    network_id=world["network"].id, base_id=world["nurse"].base_id,
                    skills=["falls_assessment"])
    session.add(m.Shift(code="sh-n2", staff_id=other.id, base_id=world["nurse"].base_id,
                        starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=6),
                        breaks=[]))
    long = _long_visit(session, world)

    result = _assign(client, token_for("coordinator"), long, world["nurse"])

    assert result["applied"] is True and result["costs"] == []


def test_candidates_warn_that_pinning_the_only_worker_may_leave_it_unassigned(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    world: dict[str, Any],  # noqa: F811
) -> None:
    """The candidates list says so before the click (an estimate: "may leave"), so the
    button is "Assign anyway"."""
    long = _long_visit(session, world)

    found = client.get(f"/api/visits/{long.id}/candidates", headers=token_for("coordinator"))

    nurse = next(c for c in found.json if c["staff_id"] == world["nurse"].id)
    assert not nurse["refused"]
    assert "pinning this may leave visit 1001 (2-hour, due 12:20) unassigned: Nurse One is " \
           "the only worker who could reach it in time" in nurse["warnings"]


@pytest.mark.safety("H-105")
def test_after_a_replan_the_board_names_the_pin_and_its_cost_and_the_pin_stays(
    session: so.Session, world: dict[str, Any],  # noqa: F811
) -> None:
    """A pinned decision keeps the only nurse from a 2-hour visit: the planner leaves the pin
    where it is, the 2-hour visit unplaced, and the board's warning names the pin (visit,
    worker, time) and the cost. A 2-hour visit nobody has the skills for names no pin."""
    nurse = world["nurse"]
    long = _long_visit(session, world, status="offered", assigned_staff_id=nurse.id,
                       shift_id=world["shifts"]["dn"].id, pinned=True,
                       planned_start=NOW + timedelta(minutes=20))

    pipeline.run(pipeline.OneSession(session), now=NOW, provider=PROVIDER,
                 network_id=world["network"].id,
                 options=pipeline.Options(method="solve", seconds=2, solution_limit=50))
    session.commit()
    session.expire_all()

    falls, _, iv = (session.get(m.Visit, v.id) for v in world["visits"])
    assert session.get(m.Visit, long.id).assigned_staff_id == nurse.id  # the pin stays
    assert falls.status == "unassigned" and falls.blocked_by_pin_id == long.id
    assert iv.blocked_by_pin_id is None
    board = board_service.load_board(session, network_id=world["network"].id, now=NOW,
                                     provider=PROVIDER)
    texts = [w.text for w in pin_warnings.pinned_costs(board) if w.late_id == falls.id]
    assert texts == [
        "Visit 2001 pinned to Nurse One at 10:40 leaves visit 1001 (2-hour, due 12:20) "
        "unassigned: Nurse One could reach it in time without that pin. The planner will not "
        "undo your pin: unpin 2001 or assign 1001 yourself"]

    # Unpinned, the next re-plan gives the 2-hour visit to her and the warning goes.
    session.get(m.Visit, long.id).pinned = False
    session.commit()
    pipeline.run(pipeline.OneSession(session), now=NOW, provider=PROVIDER,
                 network_id=world["network"].id,
                 options=pipeline.Options(method="solve", seconds=2, solution_limit=50))
    session.commit()
    session.expire_all()
    falls = session.get(m.Visit, world["visits"][0].id)
    assert falls.assigned_staff_id == nurse.id and falls.blocked_by_pin_id is None
    board = board_service.load_board(session, network_id=world["network"].id, now=NOW,
                                     provider=PROVIDER)
    assert not pin_warnings.blocked_urgent(board)


def test_blocking_pin_is_none_when_no_pin_is_in_the_way(
    session: so.Session, world: dict[str, Any],  # noqa: F811
) -> None:
    """No coordinator's pin on the network: nothing to name (and nothing is computed)."""
    assert pin_costs.blocking_pin(session, world["visits"][0], now=NOW,
                                  provider=PROVIDER) is None
