"""Planning tasks on workers: the ledger and the generation guard (issue 18 part 5).

The two rules a task re-run after its worker died must keep (docs/safety/hazard-log.yaml):
H-085, nothing is applied twice; H-086, a plan read before a newer one was applied is never
written over it. Both are checked in the apply's own transaction
(dispatch.planning.tasks.claim_apply); these tests drive the pipeline the way a worker does.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.db import get_database
from dispatch.planning import live, pipeline, tasks, work
from dispatch.planning.retries import PlacementRetries
from routing.travel import GeodesicTravelTime
from tests.dispatch.planning.test_planning import NOW, world  # noqa: F401  (fixture)

PROVIDER = GeodesicTravelTime()


def _rows(session: so.Session, network_id: int) -> list[tuple[Any, ...]]:
    session.expire_all()
    return [tuple(r) for r in session.execute(
        sa.select(m.Visit.id, m.Visit.status, m.Visit.assigned_staff_id, m.Visit.planned_start,
                  m.Visit.version).where(m.Visit.network_id == network_id)
        .order_by(m.Visit.id))]


def _texts(session: so.Session) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(m.Message)
                              .where(m.Message.direction == "outbound")) or 0)


@pytest.mark.safety("H-086")
def test_older_plan_is_not_applied_over_a_newer_one(
    app: Flask, session: so.Session, world: dict[str, Any]  # noqa: F811
) -> None:
    """Task A reads the network while the nurse cannot do falls visits and finds no one for
    the fall; the nurse's skills come back and task B, read later, keeps the fall with her and
    is applied. A (older) then comes to apply: it is refused as superseded and writes nothing.
    Without the guard A's plan would take the fall off the nurse (its row is as A read it)."""
    database, net = get_database(app), world["network"]
    live.place_new_visits(session, now=NOW, provider=PROVIDER, seconds=0.5)
    session.commit()
    falls, nurse = world["visits"][0], world["nurse"]
    assert (falls.status, falls.assigned_staff_id) == ("offered", nurse.id)
    skills = list(nurse.skills)
    nurse.skills = ["wound_care"]  # for a moment the nurse cannot do the fall
    session.commit()
    a_id = tasks.record(session, kind="reoptimise", now=NOW, network_id=net.id)
    b_id = tasks.record(session, kind="reoptimise", now=NOW, network_id=net.id)
    session.commit()
    tx = pipeline.ShortTransactions(database)
    options = pipeline.Options(method="improve", seconds=0.5, solution_limit=50)
    with tx.session() as s:
        read_a = pipeline.read(s, now=NOW, provider=PROVIDER, network_id=net.id)
    plan_a, _ = pipeline.solve(read_a, options=options)
    assert falls.id in {read_a.index.visits[u.visit_id] for u in plan_a.unassigned}
    nurse.skills = skills
    session.commit()
    report_b = pipeline.run(tx, now=NOW, provider=PROVIDER, network_id=net.id,
                            options=options, claim=tasks.Claim(b_id))
    assert report_b.plan is not None and not report_b.apply.refused
    after_b, texts_b = _rows(session, net.id), _texts(session)

    # Act: A, read at generation 2 (after the placement's two runs: the 2-hour visits, then
    # the rest), applies after B moved it to 3.
    with pytest.raises(tasks.Superseded):
        pipeline.apply(tx, plan=plan_a, index=read_a.index, now=NOW, provider=PROVIDER,
                       network_id=net.id, read_generation=read_a.generation,
                       claim=tasks.Claim(a_id))

    # Assert: B's plan stands, no text was written, A's plan is not counted.
    assert read_a.generation == 2
    assert _rows(session, net.id) == after_b
    assert _texts(session) == texts_b
    session.expire_all()
    assert (falls.status, falls.assigned_staff_id) == ("offered", nurse.id)
    assert session.get(m.Network, net.id).plan_generation == 3  # the placement's 2 runs, then B
    assert session.get(m.PlanningTask, a_id).status != "applied"


@pytest.mark.safety("H-085")
def test_task_run_again_after_its_apply_applies_nothing_twice(
    app: Flask, session: so.Session, world: dict[str, Any]  # noqa: F811
) -> None:
    """A placement task applies; its worker dies before the ack and the message comes back:
    the re-run is skipped by the ledger. Two runs of the task at once (a worker taken for dead
    while it was only slow): the second apply is refused in its transaction."""
    database, net = get_database(app), world["network"]
    new = [v.id for v in world["visits"]]
    task_id = tasks.record(session, kind="place", now=NOW, network_id=net.id)
    session.commit()

    first = work.place(database, task_id=task_id, network_id=net.id, visit_ids=new, now=NOW,
                       clock=lambda: NOW, provider=PROVIDER, seconds=0.5, worker="w1:1")
    rows, texts = _rows(session, net.id), _texts(session)
    again = work.place(database, task_id=task_id, network_id=net.id, visit_ids=new, now=NOW,
                       clock=lambda: NOW, provider=PROVIDER, seconds=0.5, worker="w2:2")
    # The ledger start bypassed (both runs took the task before either applied):
    with pytest.raises(tasks.AlreadyApplied):
        pipeline.run(pipeline.ShortTransactions(database), now=NOW, provider=PROVIDER,
                     network_id=net.id, options=pipeline.Options(method="improve", seconds=0.3),
                     claim=tasks.Claim(task_id))

    assert (first, again) == ("applied", "skipped")
    assert _rows(session, net.id) == rows
    assert _texts(session) == texts == 2  # the fall and the personal care, offered once each
    row = session.get(m.PlanningTask, task_id)
    assert (row.status, row.attempts, row.applied_generation) == ("applied", 1, 1)
    assert session.get(m.Network, net.id).plan_generation == 1


@pytest.mark.safety("H-089")
def test_task_this_database_never_recorded_is_not_run(
    app: Flask, session: so.Session, world: dict[str, Any]  # noqa: F811
) -> None:
    """Another deployment's task on the same broker (its id unknown here), or a message that
    does not match its record (here: a placement whose id is recorded as a re-optimisation),
    plans nothing."""
    database, net = get_database(app), world["network"]
    before = _rows(session, net.id)
    recorded = tasks.record(session, kind="reoptimise", now=NOW, network_id=net.id)
    session.commit()

    foreign = work.place(database, task_id=tasks.new_id(), network_id=net.id,
                         visit_ids=[v.id for v in world["visits"]], now=NOW, clock=lambda: NOW,
                         provider=PROVIDER, seconds=0.3, worker="w:1")
    mismatched = work.place(database, task_id=recorded, network_id=net.id,
                            visit_ids=[v.id for v in world["visits"]], now=NOW,
                            clock=lambda: NOW, provider=PROVIDER, seconds=0.3, worker="w:1")

    assert (foreign, mismatched) == ("skipped", "skipped")
    assert _rows(session, net.id) == before and _texts(session) == 0


@pytest.mark.safety("H-087")
def test_scheduler_sends_one_placement_per_network_until_it_ends(
    session: so.Session, world: dict[str, Any]  # noqa: F811
) -> None:
    """The scheduler decides: one place task per network with new visits, none while it is
    open, another once it ended; a task open longer than the stale limit is taken as lost."""
    net = world["network"]
    new = pipeline.networks_with_new_visits(session)
    retries = PlacementRetries(first_wait=timedelta(0), longest_wait=timedelta(0))
    first = tasks.due_place(session, new_visits=new, now=NOW, retries=retries)
    busy = tasks.due_place(session, new_visits=new, now=NOW, retries=retries)
    tasks.finish(session, first[0].task_id, status="done", now=NOW)
    after = tasks.due_place(session, new_visits=new, now=NOW, retries=retries)
    lost = tasks.due_place(session, new_visits=new, now=NOW + tasks.STALE_AFTER * 2,
                           retries=retries)

    assert [(d.network_id, len(d.visit_ids)) for d in first] == [(net.id, 3)]
    assert busy == []
    assert [d.network_id for d in after] == [net.id]
    assert [d.network_id for d in lost] == [net.id]
    reopt = tasks.due_reoptimise(session, now=NOW)
    assert [d.network_id for d in reopt] == [net.id]
    assert tasks.due_reoptimise(session, now=NOW) == []


def test_task_engine_runs_a_placement_through_dramatiq(
    app: Flask, session: so.Session, world: dict[str, Any]  # noqa: F811
) -> None:
    """The engine's actors on Dramatiq's in-memory broker: a placement sent the way the
    scheduler sends it is run by a Dramatiq worker and applied once."""
    import dramatiq
    from dramatiq.brokers.stub import StubBroker

    from dispatch.tasks.engine import TaskEngine

    broker = StubBroker()
    engine = TaskEngine(app, broker)
    due = tasks.due_place(session, new_visits=pipeline.networks_with_new_visits(session),
                          now=NOW, retries=PlacementRetries())
    session.commit()
    worker = dramatiq.Worker(broker, worker_threads=1)
    worker.start()
    try:
        engine.send("place", due[0])
        broker.join("place", timeout=60_000)
        worker.join()
    finally:
        worker.stop()

    session.expire_all()
    assert session.get(m.PlanningTask, due[0].task_id).status == "applied"
    assert [v.status for v in world["visits"]] == ["offered", "offered", "unassigned"]


def test_no_broker_means_planning_in_process(app: Flask) -> None:
    """The default (nothing configured): no engine, the jobs plan in-process as before."""
    from dispatch.jobs.runner import on_workers
    from dispatch.tasks.engine import engine_for

    assert app.config.get("TASK_BROKER_URL") is None
    assert engine_for(app) is None and not on_workers(app)


def test_scheduler_jobs_only_send_when_a_broker_is_set(
    app: Flask, session: so.Session, world: dict[str, Any],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a broker the placer and re-optimiser record and send one task a network and plan
    nothing themselves; a task the broker refuses is marked failed and its visits are tried
    again at the next tick."""
    from dramatiq.brokers.stub import StubBroker

    from dispatch.jobs import runner
    from dispatch.tasks.engine import EXTENSION, TaskEngine

    app.config["TASK_BROKER_URL"] = "redis://127.0.0.1:1/0"  # never contacted: a stub broker
    broker = StubBroker()
    engine = app.extensions[EXTENSION] = TaskEngine(app, broker)
    sent = runner.place_new(app)
    again = runner.place_new(app)
    reopt = runner.reoptimise(app)
    assert len(sent) == 1 and again == [] and len(reopt) == 1
    assert broker.queues["place"].qsize() == 1 and broker.queues["plan"].qsize() == 1
    session.expire_all()
    assert [v.status for v in world["visits"]] == ["unassigned"] * 3  # planned by no one here

    def refuse(*_args: object) -> None:
        raise ConnectionError("broker down")

    tasks.finish(session, sent[0], status="done", now=NOW)
    session.commit()
    app.extensions[runner.PLACE_RETRIES] = PlacementRetries()
    monkeypatch.setattr(engine, "send", refuse)
    assert runner.place_new(app) is runner.FAILED
    assert len(runner.place_retries(app)) == 0
    failed = session.scalars(sa.select(m.PlanningTask).where(
        m.PlanningTask.status == "failed")).all()
    assert len(failed) == 1 and "not sent" in (failed[0].note or "")


@pytest.mark.safety("H-087")
def test_plan_request_left_running_by_a_dead_worker_is_run_again(
    app: Flask, session: so.Session, world: dict[str, Any]  # noqa: F811
) -> None:
    """A coordinator's "re-plan now" whose worker died mid-solve (the request left
    ``running``, its task ``running``) is run again by the re-delivered task and applied once."""
    from dispatch.planning import runs

    database, net = get_database(app), world["network"]
    plan = runs.request_replan(session, network_id=net.id, seconds=0.5, now=NOW,
                               requested_by="test")
    [due] = tasks.due_plans(session, now=NOW)
    assert tasks.due_plans(session, now=NOW) == []  # not sent twice while open
    tasks.start(session, due.task_id, kind="plan", worker="dead:1", now=NOW,
                subject_id=plan.id)
    plan.status = "running"  # the dead worker had taken it
    session.commit()

    status = work.plan_request(database, task_id=due.task_id, plan_id=plan.id, now=NOW,
                               clock=lambda: NOW, provider=PROVIDER, worker="alive:2")
    again = work.plan_request(database, task_id=due.task_id, plan_id=plan.id, now=NOW,
                              clock=lambda: NOW, provider=PROVIDER, worker="alive:2")

    session.expire_all()
    row = session.get(m.PlanningTask, due.task_id)
    assert (status, again) == ("applied", "skipped")
    assert (row.status, row.attempts, row.worker) == ("applied", 2, "alive:2")
    assert session.get(m.Plan, plan.id).status == "done"
    assert session.get(m.Network, net.id).plan_generation == 1
    assert [v.status for v in world["visits"]] == ["offered", "offered", "unassigned"]


@pytest.mark.safety("H-151")
def test_week_plan_runs_as_a_worker_task(app: Flask, session: so.Session) -> None:
    """With a task broker the week's plan is a ``plan`` task like any plan request: the
    worker previews it (nothing written), then commits the next one; each result stored."""
    from dispatch.planning import runs
    from tests.dispatch.planning.test_week_plan import _week

    database = get_database(app)
    net = _week(session)["network"]
    ids = []
    for dry_run in (True, False):
        plan = runs.request_week(session, network_id=net.id, days=7,  # type: ignore[attr-defined]
                                 dry_run=dry_run, seconds=5, now=NOW, requested_by="cora")
        [due] = tasks.due_plans(session, now=NOW)
        session.commit()
        status = work.plan_request(database, task_id=due.task_id, plan_id=plan.id, now=NOW,
                                   clock=lambda: NOW, provider=PROVIDER, worker="w:1",
                                   week_solution_limit=50)
        assert status == "done"
        ids.append(plan.id)
        if dry_run:
            assert {s for s in session.scalars(sa.select(m.Visit.status))} == {"unassigned"}
    session.expire_all()
    preview, done = (session.get(m.Plan, i) for i in ids)
    assert preview is not None and done is not None
    assert (preview.kind, preview.status, preview.result["dry_run"]) == (  # type: ignore[index]
        "week_preview", "done", True)
    assert (done.kind, done.status, done.result["offered"]) == (  # type: ignore[index]
        "week", "done", 1)
    assert "offered" in set(session.scalars(sa.select(m.Visit.status)))
    [audit] = session.scalars(sa.select(m.AuditEvent).where(
        m.AuditEvent.action == "commit_week_plan")).all()
    assert audit.username == "cora"


@pytest.mark.safety("H-244")
def test_the_scheduler_sends_a_networks_two_hour_visits_alone_first(
    session: so.Session, world: dict[str, Any]  # noqa: F811
) -> None:
    """As the in-process placer: a network's 2-hour visits go in a task of their own, so
    their offers do not wait for the routine insertions; the rest in the next task."""
    falls, personal, iv = world["visits"]
    by_network, urgent = pipeline.new_visits(session)
    retries = PlacementRetries()
    first = tasks.due_place(session, new_visits=by_network, urgent=urgent, now=NOW,
                            retries=retries)
    assert [set(d.visit_ids) for d in first] == [{falls.id, iv.id}]
    tasks.finish(session, first[0].task_id, status="done", now=NOW)
    by_network, urgent = pipeline.new_visits(session)
    second = tasks.due_place(session, new_visits=by_network, urgent=urgent, now=NOW,
                             retries=retries)
    assert [d.visit_ids for d in second] == [(personal.id,)]
