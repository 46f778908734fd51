"""Instant wake-ups on PostgreSQL (issue 18 part 4): the web process's wake crosses to the
scheduler process by NOTIFY/LISTEN, so a new referral is placed at once, not at the next poll."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from dispatch import models as m
from dispatch.database import make_engine
from dispatch.jobs import notify
from tests.integration.support import (
    Procs,
    bearer,
    call,
    fall_referral,
    free_port,
    postgres_only,
    seed_world,
    service_env,
    session_for,
    wait_until,
)

NOW = datetime(2026, 12, 1, 10, 20, tzinfo=UTC)  # a Tuesday, London = UTC


@postgres_only
def test_listener_runs_known_jobs_and_ignores_others(databases: Callable[[str], str]) -> None:
    engine = make_engine(databases("postgres"))
    woken: list[str] = []
    arrived = threading.Event()

    def on_wake(job: str) -> None:
        woken.append(job)
        arrived.set()

    listener = notify.Listener(engine.url, on_wake, {"place_new", "run_plans"})
    listener.start()
    try:
        assert listener.listening.wait(30), "the listener never started listening"
        notify.notify(engine, "drop_tables")
        notify.notify(engine, "place_new")
        assert arrived.wait(30), "the notification never arrived"
        assert woken == ["place_new"]
    finally:
        listener.stop()
        listener.join(timeout=10)
        engine.dispose()


@postgres_only
def test_referral_is_placed_by_the_wake_not_the_poll(
    databases: Callable[[str], str], procs: Procs
) -> None:
    """The scheduler's placer polls only once an hour here, so only the web's NOTIFY can have
    placed the visit: the referral's visit is offered right after it is logged."""
    url = databases("postgres")
    with session_for(url) as session:
        world = seed_world(session, now=NOW, staff=1, patients=1)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = service_env(url, public_url=base, fixed_now=NOW, PLACE_INTERVAL=3600,
                      SMS_BACKEND="local")
    from tests.integration.support import add_user

    auth = bearer(add_user(env, "coordinator"))
    procs.serve(env, port)
    scheduler = procs.scheduler(env)
    scheduler.wait_for("listening for wake-ups")
    # The placer's first run (one second after start) is over before the referral arrives.
    def placer_ran() -> bool:
        with session_for(url) as session:
            return session.get(m.JobHeartbeat, "place_new") is not None

    wait_until(placer_ran, timeout=60, what="the placer's first run")

    created = call("POST", f"{base}/api/referrals",
                   headers={**auth, "Idempotency-Key": "wake-1"},
                   json_body=fall_referral(received_at=NOW - timedelta(minutes=5),
                                           patient_id=world.patients[0]))
    assert created.status == 201, created.body

    def offered() -> bool:
        with session_for(url) as session:
            status = session.scalar(sa.select(m.Visit.status).where(
                m.Visit.referral_id == created.body["id"]))
        return status in ("offered", "accepted")

    wait_until(offered, timeout=60, what="the visit to be offered (woken by NOTIFY)")
    assert "listening for wake-ups" in scheduler.output()
