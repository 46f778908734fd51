"""Candidates for a visit (issue 14): ranked, refusals in words, pushes, and one-call assign."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.planning.problem import build_problem
from routing.travel import GeodesicTravelTime
from tests.dispatch import factories as f
from tests.dispatch.planning.test_planning import NOW, world  # noqa: F401  (fixture)

CONTRACT = {"staff_id", "name", "travel_minutes", "start", "arrival_before_deadline", "pushes",
            "warnings", "refused"}


def _shift(session: so.Session, member: m.Staff, base_id: int, start: timedelta,
           end: timedelta) -> m.Shift:
    row = m.Shift(code=f"sh-{member.code}", staff_id=member.id, base_id=base_id,
                  starts_at=NOW + start, ends_at=NOW + end, breaks=[])
    session.add(row)
    session.flush()
    return row


def _nurse(session: so.Session, world: dict[str, Any], code: str, name: str,  # noqa: F811
           phone: str) -> m.Staff:
    return f.staff(session, code=code, name=name, phone=phone, network_id=world["network"].id,
                   base_id=world["nurse"].base_id, skills=["falls_assessment"])


def _candidates(client: FlaskClient, headers: dict[str, str], visit: Any) -> list[dict[str, Any]]:
    response = client.get(f"/api/visits/{visit.id}/candidates", headers=headers)
    assert response.status_code == 200, response.json
    return list(response.json)


def test_candidates_ranked_best_first_refused_last_in_words(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    world: dict[str, Any],  # noqa: F811
) -> None:
    """On shift now before a later shift, on time before late; those who cannot take it are
    last, refused, with the reason in words and skill names (never codes)."""
    base_id = world["nurse"].base_id
    later = _nurse(session, world, "n2", "Nurse Later", "+447700900012")
    _shift(session, later, base_id, timedelta(minutes=60), timedelta(hours=8))
    late = _nurse(session, world, "n3", "Nurse Late", "+447700900013")
    _shift(session, late, base_id, timedelta(hours=3), timedelta(hours=9))
    _nurse(session, world, "n4", "Nurse Away", "+447700900014")
    session.commit()

    found = _candidates(client, token_for("coordinator"), world["visits"][0])

    assert all(set(c) >= CONTRACT for c in found)
    assert [c["name"] for c in found] == [
        "Nurse One", "Nurse Later", "Nurse Late", "Hybrid", "Nurse Away"]
    first, second, third, *refused = found
    assert not any(c["refused"] for c in (first, second, third))
    assert first["arrival_before_deadline"] and second["arrival_before_deadline"]
    assert first["start"] < second["start"]
    assert isinstance(first["travel_minutes"], int) and first["warnings"] == []
    assert third["arrival_before_deadline"] is False
    assert any("after the deadline" in w for w in third["warnings"])
    assert [c["refused"] for c in refused] == [True, True]
    assert refused[0]["reason"] == "lacks falls assessment"
    assert refused[1]["reason"] == "not on shift in the next 24 hours"
    assert "falls_assessment" not in str(found)


def test_candidates_refuse_with_the_clashing_visit_and_its_times(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    world: dict[str, Any],  # noqa: F811
) -> None:
    """A worker whose whole shift is taken by a visit they accepted is refused, naming that
    visit and its times (London), not "already booked"."""
    nurse, falls = world["nurse"], world["visits"][0]
    shift = world["shifts"]["dn"]
    shift.ends_at, shift.breaks = NOW + timedelta(hours=2), []
    f.visit(session, falls.referral_id, world["patients"][1].id, reference="3134",
            network_id=world["network"].id, skills=["wound_care"], status="accepted",
            assigned_staff_id=nurse.id, shift_id=shift.id, pinned=True,
            planned_start=NOW + timedelta(minutes=10), duration_minutes=100,
            category="response_24h", priority=3, deadline=NOW + timedelta(hours=6))
    session.commit()

    found = _candidates(client, token_for("coordinator"), falls)

    mine = next(c for c in found if c["staff_id"] == nurse.id)
    assert mine["refused"] is True
    assert "already has visit 3134 from 10:30 to 12:10" in mine["reason"]


def test_candidate_start_assigns_pinned_and_pushes_later_visits(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    world: dict[str, Any],  # noqa: F811
) -> None:
    """The candidate's ``start`` passed to assign saves at once, pinned as the coordinator's
    decision; the visit it said it would push later is re-timed by that many minutes."""
    nurse, falls = world["nurse"], world["visits"][0]
    shift = world["shifts"]["dn"]
    wound = f.visit(session, falls.referral_id, world["patients"][1].id, reference="3135",
                    network_id=world["network"].id, skills=["wound_care"], status="assigned",
                    assigned_staff_id=nurse.id, shift_id=shift.id,
                    planned_start=NOW + timedelta(minutes=5), duration_minutes=90,
                    category="response_24h", priority=3, deadline=NOW + timedelta(hours=6))
    session.commit()
    before = wound.planned_start
    headers = token_for("coordinator")

    best = _candidates(client, headers, falls)[0]

    assert best["staff_id"] == nurse.id and best["refused"] is False
    assert [(p["visit_id"], p["reference"]) for p in best["pushes"]] == [(wound.id, "3135")]
    minutes = best["pushes"][0]["minutes"]
    assert minutes > 30
    response = client.post(f"/api/visits/{falls.id}/assign", headers=headers, json={
        "staff_id": best["staff_id"], "start": best["start"], "version": falls.version})
    assert response.status_code == 200
    assert response.json["applied"] is True and response.json["warnings"] == []
    assert response.json["visit"]["pinned"] is True
    session.expire_all()
    assert wound.planned_start is not None and before is not None
    assert abs((wound.planned_start - before) - timedelta(minutes=minutes)) < timedelta(minutes=1)


@pytest.mark.safety("H-110")
def test_assign_never_pushes_a_two_hour_visit_past_its_deadline(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    world: dict[str, Any],  # noqa: F811
) -> None:
    """Assigning in front of a worker's 2-hour visit would make that one late: refused, even
    confirmed, with the reason; nothing is moved (only the on-call decision may allow late)."""
    nurse, falls = world["nurse"], world["visits"][0]
    falls.duration_minutes = 60
    urgent = f.visit(session, falls.referral_id, world["patients"][1].id, reference="3136",
                     network_id=world["network"].id, skills=["wound_care"], status="assigned",
                     assigned_staff_id=nurse.id, shift_id=world["shifts"]["dn"].id,
                     planned_start=NOW + timedelta(minutes=20),
                     deadline=NOW + timedelta(minutes=40))
    session.commit()
    planned = urgent.planned_start

    response = client.post(f"/api/visits/{falls.id}/assign", headers=token_for("coordinator"),
                           json={"staff_id": nurse.id, "version": falls.version, "confirm": True,
                                 "start": (NOW + timedelta(minutes=15)).isoformat()})

    assert response.json["applied"] is False, response.json
    assert any("would push 2-hour visit 3136 past its deadline" in w
               for w in response.json["warnings"]), response.json["warnings"]
    session.expire_all()
    assert urgent.planned_start == planned and falls.status == "unassigned"


def test_unassign_with_reason_keeps_the_worker_off_candidates_and_plan(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    world: dict[str, Any],  # noqa: F811
) -> None:
    """Taken off with a reason: refused in the candidates (saying so) and excluded from the
    next problem the planner solves."""
    headers = token_for("coordinator")
    nurse, falls = world["nurse"], world["visits"][0]
    best = _candidates(client, headers, falls)[0]
    assigned = client.post(f"/api/visits/{falls.id}/assign", headers=headers, json={
        "staff_id": best["staff_id"], "start": best["start"], "version": falls.version})
    assert assigned.json["applied"] is True

    response = client.post(f"/api/visits/{falls.id}/unassign", headers=headers, json={
        "version": assigned.json["visit"]["version"],
        "reason": "the patient asked for another nurse"})

    assert response.status_code == 200 and response.json["status"] == "unassigned"
    mine = next(c for c in _candidates(client, headers, falls) if c["staff_id"] == nurse.id)
    assert mine["refused"] is True and "taken off" in mine["reason"]
    session.expire_all()
    problem, _ = build_problem(session, now=NOW, provider=GeodesicTravelTime(),
                               network_id=world["network"].id)
    assert str(nurse.id) in problem.visit(str(falls.id)).excluded_workers


def test_candidates_are_for_people_who_dispatch(
    client: FlaskClient, token_for: Callable[..., dict[str, str]],
    world: dict[str, Any],  # noqa: F811
) -> None:
    """A call handler may not list who could take a visit; an unknown visit is 404."""
    falls = world["visits"][0]
    assert client.get(f"/api/visits/{falls.id}/candidates",
                      headers=token_for("call_handler")).status_code == 403
    assert client.get("/api/visits/999999/candidates",
                      headers=token_for("coordinator")).status_code == 404


def test_visit_shows_the_planners_unassigned_reason(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    world: dict[str, Any],  # noqa: F811
) -> None:
    """A planning run that cannot place the IV visit stores why on it, and
    ``GET /api/visits/{id}`` returns it as ``unassigned_reason``; a placed one has none."""
    from dispatch.planning import live

    live.replan(session, now=NOW, provider=GeodesicTravelTime(), network_id=world["network"].id,
                seconds=30, solution_limit=50)
    session.commit()
    headers = token_for("coordinator")
    iv = client.get(f"/api/visits/{world['visits'][2].id}", headers=headers).json
    falls = client.get(f"/api/visits/{world['visits'][0].id}", headers=headers).json
    assert iv["status"] == "unassigned" and iv["unassigned_reason"]
    assert "skill" in iv["unassigned_reason"].lower()
    assert falls["unassigned_reason"] is None
