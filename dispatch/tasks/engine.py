"""The task engine: Dramatiq actors for the planning tasks, on this app's Redis broker.

Settings (``DISPATCH_`` prefix; defaults in :data:`dispatch.config.DEFAULTS`):

- ``TASK_BROKER_URL``: ``redis://host:port/db``; unset, no engine (planning stays in-process);
- ``TASK_NAMESPACE``: the prefix of every Redis key (two deployments, or two test runs, on one
  Redis never see each other's tasks);
- ``TASK_HEARTBEAT_SECONDS``: a worker silent this long is taken as dead and its unfinished
  tasks go back on their queue for another worker (Dramatiq's Redis broker);
- ``TASK_MAINTENANCE_CHANCE``: in how many of a million broker calls that check is made.

Queues: ``place`` (new visits: seconds matter), ``plan`` (re-optimisation and plan requests)
and ``capacity`` (capacity studies, minutes each). A worker takes all three unless told
otherwise (``dispatch worker --queues``). Messages carry ids only; the rows are read from the
database, and every task is recorded in ``planning_tasks`` (:mod:`dispatch.planning.tasks`)
before it is sent.

Each app owns one :class:`TaskEngine` (``app.extensions``), as it owns one Waker: actors are
declared on the engine's own broker, never on Dramatiq's global one.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from flask import Flask

from dispatch import clock as dispatch_clock
from dispatch.config import DEFAULTS, offer_lead
from dispatch.db import get_database
from dispatch.jobs import notify
from dispatch.planning import tasks, work
from dispatch.planning.runs import provider_for

log = logging.getLogger(__name__)

EXTENSION = "dispatch.task_engine"
QUEUES = ("place", "plan", "capacity")
#: Dramatiq kills an actor running longer than its time limit (milliseconds).
TIME_LIMITS = {"place": 5 * 60_000, "plan": 15 * 60_000, "capacity": 6 * 3600_000}


def setting(config: Mapping[str, Any], key: str) -> Any:
    return config.get(key, DEFAULTS[key])


def configured(config: Mapping[str, Any]) -> bool:
    """Whether planning runs on workers (a broker URL is set)."""
    return bool(config.get("TASK_BROKER_URL"))


def make_broker(config: Mapping[str, Any]) -> RedisBroker:
    """A Redis broker from the settings (no connection is made until it is used)."""
    return RedisBroker(
        url=str(config["TASK_BROKER_URL"]),
        namespace=str(setting(config, "TASK_NAMESPACE")),
        heartbeat_timeout=int(float(setting(config, "TASK_HEARTBEAT_SECONDS")) * 1000),
        maintenance_chance=int(setting(config, "TASK_MAINTENANCE_CHANCE")),
    )


def worker_name() -> str:
    """This process, as the ledger and the heartbeats name it: host and pid."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


class TaskEngine:
    """This app's broker and its planning actors (send from the scheduler, run in workers)."""

    def __init__(self, app: Flask, broker: RedisBroker) -> None:
        self.app, self.broker = app, broker
        self.actors: dict[str, dramatiq.Actor[Any, Any]] = {
            "place": self._actor("place", self._place, queue="place", priority=0),
            "reoptimise": self._actor("reoptimise", self._reoptimise, queue="plan",
                                      priority=10),
            "plan": self._actor("plan", self._plan, queue="plan", priority=5),
            "capacity": self._actor("capacity", self._capacity, queue="capacity",
                                    priority=20),
        }

    def _actor(self, kind: str, fn: Callable[..., Any], *, queue: str,
               priority: int) -> dramatiq.Actor[Any, Any]:
        declare = dramatiq.actor(broker=self.broker, actor_name=f"dispatch.{kind}",
                                 queue_name=queue, priority=priority, max_retries=3,
                                 min_backoff=1000, max_backoff=30_000,
                                 time_limit=TIME_LIMITS[queue])
        return declare(fn)

    # --- sending (the scheduler) ----------------------------------------------------------------

    def send(self, kind: str, due: tasks.Due) -> None:
        """Send a task recorded in the ledger (after its transaction committed)."""
        if kind == "place":
            self.actors[kind].send(due.task_id, due.network_id, list(due.visit_ids))
        elif kind == "reoptimise":
            self.actors[kind].send(due.task_id, due.network_id)
        else:
            self.actors[kind].send(due.task_id, due.subject_id)

    # --- running (a worker) ---------------------------------------------------------------------

    def _now(self) -> datetime:
        return dispatch_clock.now(self.app.config)

    def _woke(self, status: str) -> None:
        """Offers written by a worker go out at once: wake the scheduler's sender (PostgreSQL);
        on SQLite it polls (``SEND_INTERVAL``)."""
        engine = get_database(self.app).engine
        if status == "applied" and notify.supported(engine):
            notify.notify(engine, "send_messages")

    def _place(self, task_id: str, network_id: int, visit_ids: list[int]) -> str:
        with self.app.app_context():
            status = work.place(
                get_database(self.app), task_id=task_id, network_id=network_id,
                visit_ids=visit_ids, now=self._now(), clock=self._now,
                provider=provider_for(self.app),
                seconds=float(setting(self.app.config, "PLACE_SECONDS")), worker=worker_name(),
                rescue_seconds=float(setting(self.app.config, "PLACE_RESCUE_SECONDS")),
                offer_lead=offer_lead(self.app.config))
            self._woke(status)
            return status

    def _reoptimise(self, task_id: str, network_id: int) -> str:
        with self.app.app_context():
            status = work.reoptimise(
                get_database(self.app), task_id=task_id, network_id=network_id,
                now=self._now(), clock=self._now, provider=provider_for(self.app),
                seconds=float(setting(self.app.config, "REOPTIMISE_SECONDS")),
                worker=worker_name(), offer_lead=offer_lead(self.app.config))
            self._woke(status)
            return status

    def _plan(self, task_id: str, plan_id: int) -> str:
        with self.app.app_context():
            status = work.plan_request(
                get_database(self.app), task_id=task_id, plan_id=plan_id, now=self._now(),
                clock=self._now, provider=provider_for(self.app), worker=worker_name(),
                week_solution_limit=self.app.config.get("WEEK_PLAN_SOLUTION_LIMIT"))
            self._woke("applied")  # a re-plan's offers (a proposal sends none: a no-op wake)
            return status

    def _capacity(self, task_id: str, run_id: int) -> str:
        from dispatch.capacity import runs as capacity_runs

        database = get_database(self.app)

        def body() -> tuple[str, str | None]:
            with database.session_scope() as session:
                row = capacity_runs.get(session, run_id)
                if row.status == "running":  # its worker died: play it again
                    row.status = "pending"
            status = capacity_runs.execute(database, run_id, clock=self._now)
            return ("failed" if status == "failed" else "done"), f"capacity plan {status}"

        with self.app.app_context():
            return work.perform(database, task_id=task_id, kind="capacity",
                                worker=worker_name(), clock=self._now, subject_id=run_id,
                                body=body)


def engine_for(app: Flask) -> TaskEngine | None:
    """The app's task engine, or None when no broker is configured (planning in-process)."""
    if not configured(app.config):
        return None
    engine = app.extensions.get(EXTENSION)
    if engine is None:
        engine = app.extensions.setdefault(EXTENSION, TaskEngine(app, make_broker(app.config)))
    assert isinstance(engine, TaskEngine)
    return engine


def ping(config: Mapping[str, Any], *, timeout: float = 3.0) -> str | None:
    """None when the broker answers, else why not (``dispatch doctor``)."""
    import redis

    try:
        client = redis.Redis.from_url(str(config["TASK_BROKER_URL"]),
                                      socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - the reason is the finding
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None
