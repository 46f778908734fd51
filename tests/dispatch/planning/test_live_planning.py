"""Planning during the day: new visits placed and offered, pins kept, re-optimisation applied."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.planning import live
from dispatch.planning.retries import PlacementRetries
from routing.travel import GeodesicTravelTime
from tests.dispatch.planning.test_planning import NOW, world  # noqa: F401  (fixture)


def test_place_new_visits_offers_each_placeable_visit(
    session: so.Session, world: dict[str, Any]  # noqa: F811
) -> None:
    """Placeable visits are offered to a skilled worker by SMS; the unplaceable stays unassigned."""
    reports = live.place_new_visits(session, now=NOW, provider=GeodesicTravelTime(), seconds=0.5)
    assert [r.network_id for r in reports] == [world["network"].id] * 2  # 2-hour, then the rest
    falls, personal, iv = world["visits"]
    assert (falls.status, falls.assigned_staff_id) == ("offered", world["nurse"].id)
    assert (personal.status, personal.assigned_staff_id) == ("offered", world["hybrid"].id)
    assert iv.status == "unassigned" and iv.assigned_staff_id is None
    assert falls.planned_start is not None and falls.planned_start <= falls.deadline
    texts = session.scalars(sa.select(m.Message).where(m.Message.direction == "outbound")).all()
    assert {t.visit_id for t in texts} == {falls.id, personal.id}
    assert all(t.status == "pending" for t in texts)


def test_replan_keeps_accepted_visit_with_its_worker(
    session: so.Session, world: dict[str, Any]  # noqa: F811
) -> None:
    """An accepted visit is never moved by re-optimisation, even when another worker is free."""
    falls = world["visits"][0]
    falls.skills = []  # anyone could take it now
    falls.status, falls.assigned_staff_id, falls.pinned = "accepted", world["hybrid"].id, True
    falls.shift_id = world["shifts"]["hw"].id
    falls.planned_start = NOW + timedelta(minutes=30)
    session.commit()
    report = live.replan(session, now=NOW, provider=GeodesicTravelTime(),
                         network_id=world["network"].id, seconds=0.5)
    assert report.visits == 3
    assert (falls.status, falls.assigned_staff_id) == ("accepted", world["hybrid"].id)
    assert world["visits"][1].status == "offered"


def test_replan_twice_changes_nothing_the_second_time(
    session: so.Session, world: dict[str, Any]  # noqa: F811
) -> None:
    """A stable plan is not re-sent: the second run texts nobody."""
    provider = GeodesicTravelTime()
    # The first solve gets room to place all three: starved of CPU (a loaded CI machine) a
    # 0.5 s first solve once placed two, and the second run then placed the third.
    live.replan(session, now=NOW, provider=provider, network_id=world["network"].id, seconds=2)
    before = session.scalar(sa.select(sa.func.count()).select_from(m.Message))
    second = live.replan(session, now=NOW, provider=provider, network_id=world["network"].id,
                         seconds=0.5)
    after = session.scalar(sa.select(sa.func.count()).select_from(m.Message))
    assert second.apply.assigned == 0 and second.apply.reassigned == 0
    assert after == before


def test_apply_skips_visits_changed_while_solving(
    session: so.Session, world: dict[str, Any]  # noqa: F811
) -> None:
    """A coordinator's booking made during the solve stands; the plan does not undo it."""
    from dispatch.planning.apply import apply_plan
    from dispatch.planning.problem import build_problem
    from dispatch.services import visit_actions
    from routing.solver import solve

    problem, index = build_problem(session, now=NOW, provider=GeodesicTravelTime(),
                                   network_id=world["network"].id)
    plan = solve(problem, seconds=0.5, workers=1)
    falls = world["visits"][0]
    visit_actions.assign(session, visit=falls, staff=world["hybrid"],
                         shift=world["shifts"]["hw"], planned_start=NOW + timedelta(hours=1),
                         now=NOW)
    report = apply_plan(session, plan=plan, index=index, now=NOW)
    assert report.conflicts >= 1
    assert falls.assigned_staff_id == world["hybrid"].id


def test_jobs_place_and_replan_in_short_transactions(
    app: Any, session: so.Session, world: dict[str, Any]  # noqa: F811
) -> None:
    """The job versions (solve outside any transaction) place and keep the same visits."""
    from dispatch.db import get_database

    database = get_database(app)
    reports = live.place_new_in(database, now=NOW, provider=GeodesicTravelTime(), seconds=0.5)
    assert len(reports) == 2 and sum(r.apply.assigned for r in reports) == 2
    again = live.replan_network(database, now=NOW, provider=GeodesicTravelTime(),
                                network_id=world["network"].id, seconds=0.5)
    assert again.apply.assigned == 0 and again.apply.reassigned == 0
    session.expire_all()
    falls, personal, iv = world["visits"]
    assert (falls.status, personal.status, iv.status) == ("offered", "offered", "unassigned")


def test_unplaceable_visit_is_not_retried_every_tick(
    app: Any, world: dict[str, Any]  # noqa: F811
) -> None:
    """A visit with no room is retried after RETRY_AFTER, not on every placer tick.

    A 24-hour one: a 2-hour visit nobody can take is not retried but escalated at once for a
    coordinator's decision (H-006, tests/dispatch/planning/test_jeopardy.py)."""
    from dispatch.db import get_database

    session = so.object_session(world["visits"][2])
    assert session is not None
    world["visits"][2].category, world["visits"][2].priority = "response_24h", 3
    session.commit()
    database, retries = get_database(app), PlacementRetries()
    first = live.place_new_in(database, now=NOW, provider=GeodesicTravelTime(), seconds=0.3,
                              retries=retries)
    soon = live.place_new_in(database, now=NOW + timedelta(seconds=5),
                             provider=GeodesicTravelTime(), seconds=0.3, retries=retries)
    later = live.place_new_in(database, now=NOW + live.RETRY_AFTER,
                              provider=GeodesicTravelTime(), seconds=0.3, retries=retries)
    assert len(first) == 2 and soon == [] and len(later) == 1  # first: the fall, then the rest
    assert world["visits"][2].id in retries  # the iv_therapy visit nobody can take
    assert len(retries) == 1  # the two placed visits are forgotten at the next look


@pytest.mark.safety("H-243")
def test_a_visit_that_still_has_no_room_is_tried_less_and_less_often(
    app: Any, world: dict[str, Any]  # noqa: F811
) -> None:
    """Issue 18: every unplaced routine visit was tried every minute for as long as it stayed
    (an insertion a minute in every network holding one; a London day leaves thousands). The
    wait doubles after each try, to at most LONGEST_WAIT; a 2-hour visit is always tried again
    after a minute."""
    from dispatch.db import get_database
    from dispatch.planning.retries import LONGEST_WAIT

    session = so.object_session(world["visits"][2])
    assert session is not None
    world["visits"][2].category, world["visits"][2].priority = "response_24h", 3
    session.commit()
    database, retries = get_database(app), PlacementRetries()
    tried_at = []
    for minute in range(0, 40):
        now = NOW + timedelta(minutes=minute)
        if live.place_new_in(database, now=now, provider=GeodesicTravelTime(), seconds=0.2,
                             retries=retries):
            tried_at.append(minute)
    assert tried_at == [0, 1, 3, 7, 15, 30]  # waits 1, 2, 4, 8, then LONGEST_WAIT
    assert tried_at[-1] - tried_at[-2] == LONGEST_WAIT.total_seconds() // 60


@pytest.mark.safety("H-244")
def test_a_two_hour_visit_is_placed_and_offered_before_the_routine_insertions(
    session: so.Session, world: dict[str, Any]  # noqa: F811
) -> None:
    """Issue 18 (London bench): a placement applied once, after every new visit of its network
    had been inserted, each routine one that found no room costing up to the placer's second:
    an urgent referral's offer waited behind ten of them (8-15 s). The 2-hour visits now run
    and apply alone first; the routine ones follow in a second run."""
    from dispatch.planning import pipeline

    falls, personal, iv = world["visits"]
    inserted: list[list[str]] = []
    real_insert = pipeline.solver.insert_urgent

    def spy(plan: Any, problem: Any, visit: Any, **kw: Any) -> Any:
        inserted.append([visit.id])
        return real_insert(plan, problem, visit, **kw)

    texts_at_apply: list[set[int | None]] = []

    def count_texts(s: so.Session, *_args: Any) -> None:
        texts_at_apply.append(set(s.scalars(sa.select(m.Message.visit_id).where(
            m.Message.direction == "outbound"))))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline.solver, "insert_urgent", spy)
        reports = pipeline.place_new(
            pipeline.OneSession(session), now=NOW, provider=GeodesicTravelTime(),
            options=pipeline.Options(method="insert", seconds=0.3),
            after_apply=(*pipeline.AFTER_APPLY, count_texts))
    assert len(reports) == 2
    assert texts_at_apply[0] == {falls.id}  # the fall's offer, before the personal care's insertion
    assert texts_at_apply[1] == {falls.id, personal.id}
    assert len(inserted) == 3  # the fall and the IV visit (2-hour), then the personal care
    assert iv.status == "unassigned"
