"""Slots to offer a caller (issue 15 item 5): ``GET /api/referrals/{id}/slots``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch import factories as f
from tests.dispatch.planning.test_planning import NOW, world  # noqa: F401  (fixture)


def _busy_nurse(session: so.Session, world: dict[str, Any]) -> None:  # noqa: F811
    """The only nurse who can do falls assessments accepted a visit 11:20-13:20 UTC (due by
    11:25, so it cannot be pushed later to make room)."""
    nurse, ref = world["nurse"], world["visits"][0]
    f.visit(session, ref.referral_id, world["patients"][1].id, reference="2001",
            network_id=world["network"].id, skills=["wound_care"], status="accepted",
            assigned_staff_id=nurse.id, shift_id=world["shifts"]["dn"].id, pinned=True,
            planned_start=NOW + timedelta(hours=1), duration_minutes=120,
            category="response_24h", priority=3, earliest_start=NOW + timedelta(hours=1),
            deadline=NOW + timedelta(hours=1, minutes=5))
    session.commit()


@pytest.mark.safety("H-140")
def test_slots_cheapest_first_never_overlapping_around_the_busy_time(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    world: dict[str, Any],  # noqa: F811
) -> None:
    _busy_nurse(session, world)
    referral_id = world["visits"][0].referral_id
    response = client.get(f"/api/referrals/{referral_id}/slots?k=4&step=30",
                          headers=token_for("call_handler"))
    assert response.status_code == 200, response.json
    found = response.json
    assert 1 <= len(found) <= 4
    assert set(found[0]) == {"start", "end", "planned_start", "cost", "after_deadline"}
    costs = [s["cost"] for s in found]
    assert costs == sorted(costs)
    spans = sorted((datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"]))
                   for s in found)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    busy = (NOW + timedelta(hours=1), NOW + timedelta(hours=3))
    for slot in found:
        start, end = (datetime.fromisoformat(slot[k]) for k in ("start", "end"))
        planned = datetime.fromisoformat(slot["planned_start"])
        assert start >= NOW - timedelta(minutes=1) and end - start <= timedelta(hours=1)
        assert start <= planned <= end
        # Booked before the deadline the visit keeps it: the window ends there too.
        deadline = NOW + timedelta(hours=2)
        assert end <= deadline if start <= deadline else end - start == timedelta(hours=1)
        assert not busy[0] < planned < busy[1]  # the nurse is with the accepted visit
        assert slot["after_deadline"] == (start > NOW + timedelta(hours=2))
    events = session.scalars(sa.select(m.AuditEvent.action)).all()
    assert "view_referral_slots" in events


def test_slots_change_nothing(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    world: dict[str, Any],  # noqa: F811
) -> None:
    visit = world["visits"][0]
    before = (visit.status, visit.earliest_start, visit.deadline, visit.version)
    response = client.get(f"/api/referrals/{visit.referral_id}/slots",
                          headers=token_for("call_handler"))
    assert response.status_code == 200 and len(response.json) == 3
    session.expire_all()
    again = session.get(m.Visit, visit.id)
    assert again is not None
    assert (again.status, again.earliest_start, again.deadline, again.version) == before


@pytest.mark.parametrize("query", ["k=0", "k=11", "hours=0", "step=5"])
def test_slots_bad_query_is_422(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    world: dict[str, Any], query: str,  # noqa: F811
) -> None:
    response = client.get(f"/api/referrals/{world['visits'][0].referral_id}/slots?{query}",
                          headers=token_for("call_handler"))
    assert response.status_code == 422


def test_slots_unknown_referral_is_404_and_field_staff_refused(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    world: dict[str, Any],  # noqa: F811
) -> None:
    assert client.get("/api/referrals/999999/slots",
                      headers=token_for("call_handler")).status_code == 404
    assert client.get(f"/api/referrals/{world['visits'][0].referral_id}/slots",
                      headers=token_for("field_staff")).status_code == 403
