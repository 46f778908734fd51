"""The absence page (issue 14): an absence may start another day, the page lists absences now
and coming up (with Cancel) and past or cancelled ones, and cancelling re-plans the network
and says what became of each visit the absence had taken off the worker."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch.planning.test_double_booking import pinned_world  # noqa: F401
from tests.dispatch.services.test_absence import job_runs_on_wake, two_nurses  # noqa: F401
from tests.dispatch.web.test_web_day import office_client


def _mark(client: Any, staff_id: int, **fields: str) -> Any:
    data = {"staff_id": str(staff_id), "reason": "sick", "from_time": "10:20",
            "until_time": "18:00", **fields}
    return client.post("/board/absence", data=data)


@pytest.mark.safety("H-104")
@pytest.mark.usefixtures("job_runs_on_wake")
def test_an_absence_starting_tomorrow_leaves_today_alone_and_is_listed(
    app: Flask, session: so.Session, two_nurses: dict[str, Any],  # noqa: F811
) -> None:
    """Off from 09:00 tomorrow (typed the UK way) to 17:00 the day after: today's visits
    stay hers; the page lists it under "Now and coming up" with its days."""
    w = two_nurses
    client, _ = office_client(app, session, "coordinator")

    answer = _mark(client, w["nurse"].id, reason="absent", from_day="2/12/2026",
                   from_time="09:00", until_day="3/12/2026", until_time="17:00")

    assert answer.status_code == 303, answer.get_data(as_text=True)
    absence = session.scalars(sa.select(m.Absence)).one()
    assert absence.starts_at.isoformat().startswith("2026-12-02T09:00")
    assert absence.released_visit_ids == []
    session.expire_all()
    assert session.get(m.Visit, w["B"].id).assigned_staff_id == w["nurse"].id  # type: ignore[union-attr]
    page = client.get("/board/absence").get_data(as_text=True)
    upcoming = page.split('id="absences-upcoming"')[1].split("</table>")[0]
    assert "Wed 02 Dec 09:00" in upcoming and "Thu 03 Dec 17:00" in upcoming
    assert f'id="cancel-absence-{absence.id}"' in upcoming


@pytest.mark.safety("H-104")
def test_a_bad_start_day_is_422_on_the_field(
    app: Flask, session: so.Session, two_nurses: dict[str, Any],  # noqa: F811
) -> None:
    """"31/2/2026" is no day: 422 with the message on "Starting on"; nothing stored."""
    client, _ = office_client(app, session, "coordinator")

    answer = _mark(client, two_nurses["nurse"].id, from_day="31/2/2026")

    assert answer.status_code == 422
    assert 'href="#from_day"' in answer.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(m.Absence)) == 0


@pytest.mark.safety("H-103")
@pytest.mark.usefixtures("job_runs_on_wake")
def test_cancelling_says_where_each_released_visit_went(
    app: Flask, session: so.Session, two_nurses: dict[str, Any],  # noqa: F811
) -> None:
    """Sick from now: A and B are released (remembered on the absence) and re-planned.
    Cancelled from the absence page: the network is re-planned again and the message puts
    each of A and B where the database has it (back with her, with the other nurse, or still
    to place); the absence moves to "Past and cancelled"."""
    w = two_nurses
    client, user = office_client(app, session, "coordinator")
    assert _mark(client, w["nurse"].id).status_code == 303
    absence = session.scalars(sa.select(m.Absence)).one()
    assert set(absence.released_visit_ids or []) == {w["A"].id, w["B"].id}

    answer = client.post(f"/board/absences/{absence.id}/cancel?back=absences")

    assert answer.status_code == 303 and "/board/absence" in answer.headers["Location"]
    page = client.get("/board/absence").get_data(as_text=True)
    session.expire_all()
    for ref in ("A", "B"):
        visit = session.get(m.Visit, w[ref].id)
        assert visit is not None
        if visit.assigned_staff_id == w["nurse"].id:
            assert "back with" in page and ref in page.split("back with")[1].split(";")[0]
        elif visit.assigned_staff_id == w["other"].id:
            assert f"{ref} (Nurse Two, {visit.status.replace('_', ' ')})" in page
        else:
            assert ref in page.split("still to place")[1].split(";")[0]
    past = page.split('id="absences-past"')[1].split("</table>")[0]
    assert f"by {user.username}" in past
