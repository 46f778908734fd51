"""Manual assignment: the solver's questions asked first, optimistic locking, no double booking."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch.planning.problem import build_problem
from routing.travel import GeodesicTravelTime
from tests.dispatch.planning.test_planning import NOW, world  # noqa: F401  (fixture)


def _assign(client: FlaskClient, headers: dict[str, str], visit: Any, staff: Any,
            start: Any, **extra: Any) -> Any:
    body = {"staff_id": staff.id, "start": start.isoformat(), "version": visit.version, **extra}
    return client.post(f"/api/visits/{visit.id}/assign", json=body, headers=headers)


def test_assign_warns_on_missing_skill_and_saves_only_when_confirmed(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    world: dict[str, Any],  # noqa: F811
) -> None:
    """Giving a falls visit to the hybrid worker warns; confirming saves it and texts them."""
    headers = token_for("coordinator")
    falls = world["visits"][0]
    start = NOW + timedelta(minutes=40)
    first = _assign(client, headers, falls, world["hybrid"], start)
    assert first.status_code == 200
    assert first.json["applied"] is False
    assert any("lacks falls assessment" in w for w in first.json["warnings"])
    session.expire_all()
    assert falls.status == "unassigned"
    second = _assign(client, headers, falls, world["hybrid"], start, confirm=True)
    assert second.json["applied"] is True and second.json["visit"]["status"] == "offered"


def test_assign_clean_case_saves_without_warnings(
    client: FlaskClient, token_for: Callable[..., dict[str, str]],
    world: dict[str, Any],  # noqa: F811
) -> None:
    """A skilled worker on shift with time to travel: saved at once."""
    response = _assign(client, token_for("coordinator"), world["visits"][0], world["nurse"],
                       NOW + timedelta(minutes=40))
    assert response.json == {**response.json, "applied": True, "warnings": []}


def test_stale_version_is_409(
    client: FlaskClient, token_for: Callable[..., dict[str, str]],
    world: dict[str, Any],  # noqa: F811
) -> None:
    """Two coordinators on the same visit: the one with the old version loses with a 409 that
    says who changed what and how the visit stands now, not "version 13, you had 11"."""
    headers = token_for("coordinator")
    falls = world["visits"][0]
    seen = falls.version
    assert _assign(client, headers, falls, world["nurse"], NOW + timedelta(minutes=40)
                   ).json["applied"]
    late = client.post(f"/api/visits/{falls.id}/assign", headers=headers, json={
        "staff_id": world["nurse"].id, "start": (NOW + timedelta(minutes=50)).isoformat(),
        "version": seen})
    assert late.status_code == 409
    message = late.json["message"]
    assert "was changed by coordinator" in message and "at 10:20: assigned to Nurse One" in message
    assert "It is now offered to Nurse One for 11:00 (pinned)" in message
    assert "version" not in message


def test_double_booking_refused_even_confirmed(
    client: FlaskClient, token_for: Callable[..., dict[str, str]],
    world: dict[str, Any],  # noqa: F811
) -> None:
    """One person cannot be in two homes at once, whatever the coordinator confirms."""
    headers = token_for("coordinator")
    falls, personal, _ = world["visits"]
    start = NOW + timedelta(minutes=40)
    assert _assign(client, headers, falls, world["nurse"], start).json["applied"]
    clash = _assign(client, headers, personal, world["nurse"], start + timedelta(minutes=10),
                    confirm=True)
    assert clash.json["applied"] is False
    assert any("already has visit" in w for w in clash.json["warnings"])


def test_pinned_visit_is_kept_by_the_planner(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    world: dict[str, Any],  # noqa: F811
) -> None:
    """A manually pinned visit is pinned to its worker's shift in the next problem."""
    headers = token_for("coordinator")
    falls = world["visits"][0]
    assigned = _assign(client, headers, falls, world["nurse"], NOW + timedelta(minutes=40),
                       pin=True)
    assert assigned.json["visit"]["pinned"] is True
    session.expire_all()
    problem, _ = build_problem(session, now=NOW, provider=GeodesicTravelTime(),
                               network_id=world["network"].id)
    assert problem.visit(str(falls.id)).pinned_to == str(world["shifts"]["dn"].id)
    unpin = client.post(f"/api/visits/{falls.id}/pin", headers=headers,
                        json={"version": assigned.json["visit"]["version"], "pinned": False})
    assert unpin.status_code == 200 and unpin.json["pinned"] is False


def test_unassigning_a_waiting_offer_asks_someone_else_first(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    world: dict[str, Any],  # noqa: F811
) -> None:
    """A coordinator taking back an offer nobody answered, not keeping the worker off: they
    are not barred, but the next problem asks others first (avoided, not excluded)."""
    headers = token_for("coordinator")
    falls = world["visits"][0]
    offered = _assign(client, headers, falls, world["nurse"], NOW + timedelta(minutes=40))
    assert offered.json["visit"]["status"] == "offered"

    response = client.post(f"/api/visits/{falls.id}/unassign", headers=headers,
                           json={"version": offered.json["visit"]["version"],
                                 "reason": "no answer to the offer after 15 minutes",
                                 "keep_off": False})

    assert response.status_code == 200 and response.json["status"] == "unassigned"
    session.expire_all()
    problem, _ = build_problem(session, now=NOW, provider=GeodesicTravelTime(),
                               network_id=world["network"].id)
    planned = problem.visit(str(falls.id))
    assert planned.avoided_workers == {str(world["nurse"].id)}
    assert planned.excluded_workers == frozenset()
