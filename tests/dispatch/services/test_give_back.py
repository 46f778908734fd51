"""After an absence is cancelled: the absence page lists each visit it took off the worker
with what became of it, and gives one back to them with one click through the normal manual
assignment, refusals in words (issue 14)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.actors import Actor
from dispatch.errors import Conflict
from dispatch.services import absence, give_back
from routing.travel import GeodesicTravelTime
from tests.dispatch.planning.test_planning import NOW, world  # noqa: F401  (fixture)
from tests.dispatch.web.test_web_day import office_client

COORDINATOR = Actor(user_id=None, username="cara", role="coordinator")


def _off_and_back(session: so.Session, world: dict[str, Any]) -> m.Absence:  # noqa: F811
    """Visit 1001 offered to the nurse; she is marked off sick (it is taken off her), then
    the absence is cancelled (no re-plan ran: it is still to place)."""
    falls, nurse = world["visits"][0], world["nurse"]
    falls.status, falls.assigned_staff_id = "offered", nurse.id
    falls.shift_id, falls.planned_start = world["shifts"]["dn"].id, NOW + timedelta(minutes=30)
    session.commit()
    outcome = absence.record_absence(session, staff_id=nurse.id, starts_at=NOW,
                                     ends_at=NOW + timedelta(hours=3), reason="sick", note=None,
                                     actor=COORDINATOR, now=NOW)
    assert [v.id for v in outcome.released] == [falls.id]
    absence.cancel_absence(session, absence_id=outcome.absence.id, actor=COORDINATOR, now=NOW)
    session.commit()
    return outcome.absence


def test_absence_page_lists_released_visits_and_gives_one_back_in_one_click(
    app: Flask, session: so.Session, world: dict[str, Any],  # noqa: F811
) -> None:
    row = _off_and_back(session, world)
    falls = world["visits"][0]
    client, _ = office_client(app, session, "coordinator")

    page = client.get("/board/absence").get_data(as_text=True)
    assert "Visits taken off Nurse One" in page
    assert "Visit 1001, due 12:20: still to place (on the board)" in page
    assert "Give back to Nurse One" in page

    done = client.post(f"/board/absences/{row.id}/visits/{falls.id}/give-back")

    assert done.status_code == 303
    session.expire_all()
    visit = session.get(m.Visit, falls.id)
    assert visit.assigned_staff_id == world["nurse"].id and visit.pinned
    assert visit.status == "offered"
    after = client.get("/board/absence").get_data(as_text=True)
    assert "Visit 1001 given back to Nurse One at" in after
    assert "Visit 1001, due 12:20: back with Nurse One (offered)" in after
    assert "Give back to Nurse One" not in after


@pytest.mark.safety("H-108")
def test_give_back_refusals_are_in_words_and_save_nothing(
    session: so.Session, world: dict[str, Any],  # noqa: F811
) -> None:
    """Before the absence is cancelled, and when the worker's day has no room: refused with
    the reason, the visit left where it is."""
    nurse, falls = world["nurse"], world["visits"][0]
    falls.status, falls.assigned_staff_id = "offered", nurse.id
    falls.shift_id, falls.planned_start = world["shifts"]["dn"].id, NOW + timedelta(minutes=30)
    session.commit()
    outcome = absence.record_absence(session, staff_id=nurse.id, starts_at=NOW,
                                     ends_at=NOW + timedelta(hours=3), reason="sick", note=None,
                                     actor=COORDINATOR, now=NOW)
    session.commit()
    with pytest.raises(Conflict, match="the absence of Nurse One is not cancelled"):
        give_back.give_back(session, absence_id=outcome.absence.id, visit_id=falls.id,
                            actor=COORDINATOR, now=NOW, provider=GeodesicTravelTime())

    absence.cancel_absence(session, absence_id=outcome.absence.id, actor=COORDINATOR, now=NOW)
    world["shifts"]["dn"].ends_at = NOW  # her shift is over after all
    session.commit()
    with pytest.raises(Conflict) as caught:
        give_back.give_back(session, absence_id=outcome.absence.id, visit_id=falls.id,
                            actor=COORDINATOR, now=NOW, provider=GeodesicTravelTime())
    assert caught.value.message == ("Nurse One cannot take visit 1001: not on shift in the "
                                    "next 24 hours")
    assert session.get(m.Visit, falls.id).assigned_staff_id is None
