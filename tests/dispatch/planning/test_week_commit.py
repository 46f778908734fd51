"""The week's plan written back (issue 15): tomorrow's package visits offered by SMS, later
days booked provisionally; re-running changes nothing; a coordinator's pin is never
overridden; a dry run writes nothing; a provisional booking is offered once it is near."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.actors import SYSTEM
from dispatch.planning import live
from dispatch.planning.week import commit_week, offer_cutoff
from routing.travel import GeodesicTravelTime
from tests.dispatch.planning.test_planning import NOW
from tests.dispatch.planning.test_week_plan import DAYS, _at, _week

LIMIT = 50  # solutions: the search is a pure function of the rows


def _commit(session: so.Session, world: dict[str, object], **kw: object) -> object:
    network = world["network"]
    assert isinstance(network, m.Network)
    return commit_week(session, now=kw.pop("now", NOW), provider=GeodesicTravelTime(),  # type: ignore[arg-type]
                       network_id=network.id, actor=SYSTEM, seconds=5,
                       solution_limit=LIMIT, **kw)  # type: ignore[arg-type]


def _texts(session: so.Session) -> dict[str, int]:
    rows = session.execute(sa.select(m.Visit.reference, sa.func.count(m.Message.id))
                           .join(m.Message, m.Message.visit_id == m.Visit.id)
                           .group_by(m.Visit.reference)).all()
    return dict(rows)  # type: ignore[arg-type]


def _state(session: so.Session) -> dict[str, tuple[str, int | None]]:
    session.expire_all()
    return {v.reference: (v.status, v.assigned_staff_id)
            for v in session.scalars(sa.select(m.Visit))}


def test_offer_cutoff_is_the_day_after_tomorrow_in_london() -> None:
    """Tuesday 10:20 -> Thursday 00:00 London: today's and tomorrow's visits are offered."""
    assert offer_cutoff(NOW) == _at(DAYS[1], 0)


@pytest.mark.safety("H-143")
def test_commit_offers_tomorrow_and_books_later_days_provisionally(
    session: so.Session,
) -> None:
    world = _week(session)
    staff = world["staff"]
    assert isinstance(staff, dict)
    done = _commit(session, world)
    session.commit()
    state = _state(session)
    assert state["P0"] == ("offered", staff["Wendy"].id)  # tomorrow: offered by SMS
    assert {state[r][0] for r in ("P1", "P2", "Q0", "Q1")} == {"assigned"}
    assert state["P1"][1] == state["P2"][1] == staff["Wendy"].id  # the same carer all week
    assert _texts(session) == {"P0": 1}  # later days: the carer is not told yet
    assert (done.offered, done.provisional, done.dry_run) == (1, 4, False)  # type: ignore[attr-defined]


@pytest.mark.safety("H-143")
def test_commit_twice_changes_nothing_and_texts_nobody_again(session: so.Session) -> None:
    world = _week(session)
    _commit(session, world)
    session.commit()
    first, texts, visits = _state(session), _texts(session), session.scalar(
        sa.select(sa.func.count(m.Visit.id)))
    again = _commit(session, world)
    session.commit()
    assert _state(session) == first and _texts(session) == texts
    assert session.scalar(sa.select(sa.func.count(m.Visit.id))) == visits
    assert (again.offered, again.provisional) == (0, 4)  # type: ignore[attr-defined]


@pytest.mark.safety("H-144")
def test_commit_never_overrides_a_coordinators_pin(session: so.Session) -> None:
    """P1 pinned by a coordinator to Xavier stays with Xavier; the rest plan round it."""
    world = _week(session)
    staff, visits = world["staff"], world["visits"]
    assert isinstance(staff, dict) and isinstance(visits, dict)
    xavier = staff["Xavier"]
    shift = session.scalar(sa.select(m.Shift).where(m.Shift.staff_id == xavier.id)
                           .order_by(m.Shift.starts_at))
    assert shift is not None
    p1 = visits["P1"]
    p1.status, p1.assigned_staff_id, p1.shift_id, p1.pinned = "offered", xavier.id, shift.id, True
    p1.planned_start = _at(DAYS[1], 9)
    session.commit()
    _commit(session, world)
    session.commit()
    state = _state(session)
    assert state["P1"] == ("offered", xavier.id)
    session.refresh(p1)
    assert p1.pinned and p1.planned_start == _at(DAYS[1], 9)
    assert "P1" not in _texts(session)


@pytest.mark.safety("H-143")
def test_dry_run_writes_and_texts_nothing(session: so.Session) -> None:
    world = _week(session)
    done = _commit(session, world, dry_run=True)
    session.commit()
    assert {s for s, _ in _state(session).values()} == {"unassigned"}
    assert _texts(session) == {}
    assert (done.dry_run, done.offered, done.provisional) == (True, 1, 4)  # type: ignore[attr-defined]


@pytest.mark.safety("H-143")
def test_live_planner_offers_a_provisional_visit_once_it_is_near(session: so.Session) -> None:
    """Wednesday morning: the re-optimiser keeps Thursday's provisional visits with their
    carer and texts the offer (a provisional booking is never left untold on its day)."""
    world = _week(session)
    _commit(session, world)
    session.commit()
    later = _at(DAYS[1], 7)
    live.replan(session, now=later, provider=GeodesicTravelTime(),
                network_id=world["network"].id,  # type: ignore[attr-defined]
                seconds=5, solution_limit=LIMIT)
    session.commit()
    state = _state(session)
    assert {state[r][0] for r in ("P1", "Q0", "Q1")} == {"offered"}
    assert state["P2"][0] == "assigned"  # Friday: still beyond the live horizon
    assert all(_texts(session)[r] == 1 for r in ("P1", "Q0", "Q1"))
    assert later - NOW > timedelta(hours=20)
