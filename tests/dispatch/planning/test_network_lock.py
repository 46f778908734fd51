"""Two planning runs of one network (issue 18, London benchmark findings; hazard H-090).

- A visit changed by someone else while a plan is being applied made the apply's UPDATE match
  no row and the run died with ``StaleDataError`` (seen in a concurrent re-optimisation at
  London scale). Now the apply is rolled back whole (nothing half-written) and the run reads
  and solves again.
- A run holds its network's planning lock from its read to the end of its apply: a second run
  of the same network waits for it (and gives up, having done nothing, after ``lock_wait``);
  another network's run is not held up.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.db import get_database
from dispatch.planning import apply as apply_module
from dispatch.planning import locks, pipeline, tasks, work
from routing.travel import GeodesicTravelTime
from tests.dispatch.planning.test_planning import NOW, world  # noqa: F401  (fixture)

PROVIDER = GeodesicTravelTime()


def _outbound(session: so.Session) -> list[tuple[int | None, int | None]]:
    session.expire_all()
    return [tuple(r) for r in session.execute(  # type: ignore[misc]
        sa.select(m.Message.visit_id, m.Message.staff_id)
        .where(m.Message.direction == "outbound").order_by(m.Message.id))]


def _change_during_apply(monkeypatch: pytest.MonkeyPatch, connection: sa.Connection,
                         visit_id: int, times: int = 1) -> list[int]:
    """Make the next ``times`` applies find ``visit_id`` changed by someone else between their
    fresh read of the plan's visits and their writes (its version moved on: a reply or a
    coordinator's edit committed meanwhile). Returns the list of applies that met it."""
    original = apply_module.invariants.holdings
    met: list[int] = []

    def holdings(*args: Any, **kwargs: Any) -> Any:
        if len(met) < times:
            met.append(visit_id)
            connection.execute(sa.update(m.Visit.__table__)
                               .where(m.Visit.__table__.c.id == visit_id)
                               .values(version=m.Visit.__table__.c.version + 1))
        return original(*args, **kwargs)

    monkeypatch.setattr(apply_module.invariants, "holdings", holdings)
    return met


@pytest.mark.safety("H-090")
def test_visit_changed_during_the_apply_drops_it_whole_and_solves_again(
    app: Flask, session: so.Session, connection: sa.Connection, world: dict[str, Any],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The placement's apply meets the fall changed under it: before, the run raised
    StaleDataError (a worker's task failed, the in-process placer's job died). Now that apply
    is rolled back (no offer, no text, no generation), the run reads again and places both
    visits once each."""
    database, net = get_database(app), world["network"]
    falls, care = world["visits"][0], world["visits"][1]
    met = _change_during_apply(monkeypatch, connection, falls.id)

    report = pipeline.run(pipeline.ShortTransactions(database), now=NOW, provider=PROVIDER,
                          network_id=net.id,
                          options=pipeline.Options(method="insert", seconds=0.5),
                          new_ids=[falls.id, care.id])

    assert met == [falls.id]  # the first apply met the change; the second did not
    assert not report.apply.refused and report.apply.assigned == 2
    session.expire_all()
    assert session.get(m.Visit, falls.id).status == "offered"
    assert session.get(m.Visit, care.id).status == "offered"
    texts = _outbound(session)
    assert sorted(v for v, _ in texts) == sorted([falls.id, care.id])  # once each
    assert session.get(m.Network, net.id).plan_generation == 1  # one plan applied


@pytest.mark.safety("H-090")
def test_worker_task_whose_apply_keeps_meeting_changes_is_superseded_not_failed(
    app: Flask, session: so.Session, connection: sa.Connection, world: dict[str, Any],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A re-optimisation task on a worker whose every apply meets a changed visit ends
    ``superseded`` with nothing written (the scheduler sends the network again at its next
    round), instead of raising StaleDataError into the task engine."""
    database, net = get_database(app), world["network"]
    falls = world["visits"][0]
    task_id = tasks.record(session, kind="place", now=NOW, network_id=net.id)
    session.commit()
    met = _change_during_apply(monkeypatch, connection, falls.id, times=100)

    status = work.place(database, task_id=task_id, network_id=net.id,
                        visit_ids=[v.id for v in world["visits"]], now=NOW, clock=lambda: NOW,
                        provider=PROVIDER, seconds=0.5, worker="w1:1")

    assert status == "superseded"
    assert len(met) == (pipeline.CHANGED_RETRIES + 1) * (work.SUPERSEDED_RETRIES["place"] + 1)
    session.expire_all()
    assert {session.get(m.Visit, v.id).status for v in world["visits"]} == {"unassigned"}
    assert _outbound(session) == []
    assert session.get(m.Network, net.id).plan_generation == 0
    assert session.get(m.PlanningTask, task_id).status == "superseded"


@pytest.mark.safety("H-090")
def test_a_network_is_planned_by_one_run_at_a_time(
    app: Flask, session: so.Session, world: dict[str, Any],  # noqa: F811
) -> None:
    """While another run holds the network (a re-optimisation solving on another worker), a
    placement of the same network waits, and after ``lock_wait`` gives up having read and
    written nothing; once the lock is free it runs. Another network is never held up."""
    database, net = get_database(app), world["network"]
    tx = pipeline.ShortTransactions(database, lock_wait=0.2)
    options = pipeline.Options(method="insert", seconds=0.5)
    new = [v.id for v in world["visits"]]
    with locks.network_lock(database.engine, net.id):
        with pytest.raises(locks.NetworkBusy):
            pipeline.run(tx, now=NOW, provider=PROVIDER, network_id=net.id, options=options,
                         new_ids=new)
        session.expire_all()
        assert {session.get(m.Visit, v).status for v in new} == {"unassigned"}
        # Another network (none of its own visits: nothing to do) is not blocked.
        with locks.network_lock(database.engine, net.id + 1000, wait=0.2):
            pass
    report = pipeline.run(tx, now=NOW, provider=PROVIDER, network_id=net.id, options=options,
                          new_ids=new)
    assert report.apply.assigned == 2


def test_network_lock_is_shared_by_every_engine_on_the_database(database_url: str) -> None:
    """Two engines (two processes' worth of connections) on one database: the second cannot
    take a network the first holds (PostgreSQL: an advisory lock on the server; SQLite: the
    one process's lock), and can once it is released."""
    first, second = sa.create_engine(database_url), sa.create_engine(database_url)
    try:
        with locks.network_lock(first, 7):
            with pytest.raises(locks.NetworkBusy), locks.network_lock(second, 7, wait=0.2):
                pass
            with locks.network_lock(second, 8, wait=0.2):
                pass
        with locks.network_lock(second, 7, wait=0.2):
            pass
    finally:
        first.dispose()
        second.dispose()
