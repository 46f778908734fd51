"""The job runner: which jobs, how often, and the guard that runs each in one place.

Intervals and solver time are settings, with their defaults in :data:`dispatch.config.DEFAULTS`
only: ``SEND_INTERVAL``, ``PLACE_INTERVAL``, ``WATCH_INTERVAL``, ``REOPTIMISE_INTERVAL``,
``PLANS_INTERVAL`` (seconds), ``PLACE_SECONDS`` and ``REOPTIMISE_SECONDS`` (solver seconds per
network). New referrals also wake the placer at once, and plan requests the plan job
(:func:`dispatch.jobs.wakeup.wake`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import orm as so

from dispatch import clock as dispatch_clock
from dispatch.config import DEFAULTS, offer_lead
from dispatch.db import get_database
from dispatch.jobs import notify
from dispatch.jobs.lock import job_lock, try_job_lock
from dispatch.jobs.wakeup import Waker, waker_for
from dispatch.models import Network
from dispatch.planning import live, runs, tasks
from dispatch.planning.pipeline import ShortTransactions, new_visits
from dispatch.planning.retries import PlacementRetries
from dispatch.planning.runs import provider_for
from dispatch.services import operations
from dispatch.services.onward import remind_overdue
from dispatch.services.watch import watch_deadlines

log = logging.getLogger(__name__)


class _Failed:
    """What a job returns when it failed (logged, not raised): falsy like "nothing done", so
    callers that wake others on a result do not, but told apart by :func:`_marked`."""

    def __bool__(self) -> bool:
        return False


FAILED = _Failed()


def clock(app: Flask) -> datetime:
    """The jobs' "now" (the simulator pins it with FIXED_NOW): :func:`dispatch.clock.now`."""
    return dispatch_clock.now(app.config)


def run_job(app: Flask, name: str, work: Callable[[so.Session, datetime], Any]) -> Any:
    """Run ``work`` in one transaction under the job's lock; log, never raise."""
    database = get_database(app)
    try:
        # The texts a job writes link to this app's PUBLIC_BASE_URL through the session's
        # settings (dispatch.sms.settings.public_base_url), not through this app context.
        with app.app_context(), database.session_scope() as session:
            if not try_job_lock(session.connection(), name):
                log.info("job %s is already running elsewhere; skipped", name)
                return None
            result = work(session, clock(app))
        log.debug("job %s: %s", name, result)
        return result
    except Exception:
        log.exception("job %s failed", name)
        return FAILED


def send_messages(app: Flask) -> Any:
    """Send queued SMS (through Twilio or the local outbox)."""
    from dispatch.services import outbox
    from dispatch.sms.sender import backend_from_config

    try:
        return outbox.send_pending(
            get_database(app),
            backend=backend_from_config(app.config),
            now=clock(app),
            base_url=app.config.get("PUBLIC_BASE_URL"),
        )
    except Exception:
        log.exception("job send_messages failed")
        return FAILED


def run_phased_job(app: Flask, name: str, work: Callable[[Any, datetime], Any]) -> Any:
    """Run ``work(database, now)`` that opens its own short transactions (solves happen between
    them), under a job lock held throughout; log, never raise."""
    database = get_database(app)
    try:
        with app.app_context(), job_lock(database.engine, name) as got:
            if not got:
                log.info("job %s is already running elsewhere; skipped", name)
                return None
            return work(database, clock(app))
    except Exception:
        log.exception("job %s failed", name)
        return FAILED


PLACE_RETRIES = "dispatch.place_retries"


def place_retries(app: Flask) -> PlacementRetries:
    """When the placer last tried each new visit (this app, this process); see
    :mod:`dispatch.planning.retries`. Owned by the app, not a module global."""
    retries: PlacementRetries = app.extensions.setdefault(PLACE_RETRIES, PlacementRetries())
    return retries


def place_new(app: Flask) -> Any:
    if on_workers(app):
        def decide(s: so.Session, now: datetime, stale: timedelta) -> list[tasks.Due]:
            by_network, urgent = new_visits(s)
            return tasks.due_place(s, new_visits=by_network, urgent=urgent, now=now,
                                   retries=place_retries(app), stale_after=stale)
        return send_tasks(app, "place_new", "place", decide)
    seconds = float(_setting(app, "PLACE_SECONDS"))
    result = run_phased_job(
        app,
        "place_new",
        lambda database, now: live.place_new_in(
            database,
            now=now,
            provider=provider_for(app),
            seconds=seconds,
            retries=place_retries(app),
            offer_lead=offer_lead(app.config),
            rescue_seconds=float(_setting(app, "PLACE_RESCUE_SECONDS")),
        ),
    )
    if result:  # the offers just written go out now, not at the next tick
        waker_for(app).wake("send_messages")
    return result


def watch(app: Flask) -> Any:
    public = str(app.config.get("PUBLIC_BASE_URL", ""))
    horizon = timedelta(hours=float(_setting(app, "WATCH_HORIZON_HOURS")))
    interval = timedelta(minutes=float(_setting(app, "ESCALATION_TEXT_MINUTES")))

    def work(s: so.Session, now: datetime) -> Any:
        # Overdue referrals out and unconfirmed hand-overs (H-022) join the grouped on-call
        # text that watch_deadlines sends, so they are reminded before it runs.
        remind_overdue(s, now=now)
        return watch_deadlines(s, now=now, public_url=public, horizon=horizon,
                               text_interval=interval)

    return run_job(app, "watch", work)


def reoptimise(app: Flask) -> Any:
    if on_workers(app):
        return send_tasks(app, "reoptimise", "reoptimise", lambda s, now, stale: (
            tasks.due_reoptimise(s, now=now, stale_after=stale)))
    seconds = float(_setting(app, "REOPTIMISE_SECONDS"))

    def work(database: Any, now: datetime) -> list[live.LiveReport]:
        with database.session_scope() as session:
            ids = session.scalars(sa.select(Network.id).order_by(Network.id)).all()
        return [
            live.replan_network(
                database, now=now, provider=provider_for(app), network_id=i, seconds=seconds,
                offer_lead=offer_lead(app.config),
            )
            for i in ids
        ]

    result = run_phased_job(app, "reoptimise", work)
    if result:
        waker_for(app).wake("send_messages")
    return result


def run_plans(app: Flask) -> Any:
    """Solve pending plan requests (``POST /api/plans``) through the planning pipeline."""
    if on_workers(app):
        return send_tasks(app, "run_plans", "plan", lambda s, now, stale: (
            tasks.due_plans(s, now=now, stale_after=stale)))
    return run_phased_job(app, "run_plans", lambda database, now: runs.run_pending(
        ShortTransactions(database), provider=provider_for(app), now=now,
        week_solution_limit=app.config.get("WEEK_PLAN_SOLUTION_LIMIT")))


def run_capacity_plans(app: Flask) -> Any:
    """Play pending capacity-planner runs (``POST /api/capacity-plans``); minutes each, so
    under their own lock and never in a web request."""
    from dispatch.capacity import runs as capacity_runs

    if on_workers(app):
        return send_tasks(app, "run_capacity_plans", "capacity", lambda s, now, stale: (
            tasks.due_capacity(s, now=now, stale_after=stale)))
    return run_phased_job(app, "run_capacity_plans", lambda database, _now: (
        capacity_runs.run_pending(database, clock=lambda: clock(app))))


def prune_ledger(app: Flask) -> Any:
    """Drop finished planning tasks older than ``TASK_KEEP_DAYS`` from the ledger."""
    keep = timedelta(days=float(_setting(app, "TASK_KEEP_DAYS")))
    return run_job(app, "prune_ledger", lambda s, now: tasks.prune(s, now=now, keep=keep))


def on_workers(app: Flask) -> bool:
    """Whether planning runs on ``dispatch worker`` processes (``DISPATCH_TASK_BROKER_URL``
    set): then the planning jobs only decide what to run and send it (:func:`send_tasks`)."""
    return bool(app.config.get("TASK_BROKER_URL"))


def send_tasks(app: Flask, job: str, kind: str,
               decide: Callable[[so.Session, datetime, timedelta], list[tasks.Due]]) -> Any:
    """Record the tasks ``decide`` finds due (one transaction, under the job's lock), then send
    them to the workers. A task the broker would not take is marked failed at once, so the next
    tick decides again (a placement forgets its try)."""
    from dispatch.tasks.engine import engine_for

    engine = engine_for(app)
    assert engine is not None
    stale = timedelta(seconds=float(_setting(app, "TASK_STALE_SECONDS")))
    due = run_job(app, job, lambda s, now: decide(s, now, stale))
    if not due:
        return due
    unsent = []
    for item in due:
        try:
            engine.send(kind, item)
        except Exception:
            log.exception("job %s: task %s not sent", job, item.task_id)
            unsent.append(item)
    if unsent:
        retries = place_retries(app)
        with get_database(app).session_scope() as session:
            for item in unsent:
                tasks.finish(session, item.task_id, status="failed", now=clock(app),
                             note="not sent: the task broker did not take it")
                retries.forget(item.visit_ids)
        return FAILED
    return [item.task_id for item in due]


JOBS: dict[str, tuple[str, Callable[[Flask], Any]]] = {
    "send_messages": ("SEND_INTERVAL", send_messages),
    "place_new": ("PLACE_INTERVAL", place_new),
    "watch_deadlines": ("WATCH_INTERVAL", watch),
    "reoptimise": ("REOPTIMISE_INTERVAL", reoptimise),
    "run_plans": ("PLANS_INTERVAL", run_plans),
    "run_capacity_plans": ("CAPACITY_PLANS_INTERVAL", run_capacity_plans),
    "prune_ledger": ("PRUNE_INTERVAL", prune_ledger),
}


def build_scheduler(app: Flask, *, blocking: bool) -> BaseScheduler:
    """An APScheduler with every job; one instance of each job at a time, missed runs merged."""
    scheduler: BaseScheduler = BlockingScheduler() if blocking else BackgroundScheduler()
    for job_id, (setting, func) in JOBS.items():
        interval = int(_setting(app, setting))
        scheduler.add_job(
            _marked,
            "interval",
            seconds=interval,
            args=[job_id, func, app],
            id=job_id,
            name=job_id,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC) + timedelta(seconds=1),
        )
    if app.config.get("DEMO_ACTIVITY"):  # `dispatch serve --demo-activity`; never production
        from dispatch.simulation.live_demo import add_job

        add_job(scheduler, app)
    waker = waker_for(app)
    waker.attach(scheduler)
    # A decline (SMS or page) re-plans at once: the declined visit is unassigned again and the
    # placer runs now, excluding the worker who declined. The hook is this app's database's.
    hooks = get_database(app).replan_hooks
    if not any(getattr(h, "waker", None) is waker for h in hooks):
        hooks.append(_PlacerWake(waker))
    return scheduler


def start_listener(app: Flask) -> notify.Listener | None:
    """On PostgreSQL, listen for wake-ups from the web processes (``NOTIFY``; see
    :mod:`dispatch.jobs.notify`) and run the job named at once. None on SQLite."""
    engine = get_database(app).engine
    if not notify.supported(engine):
        return None
    listener = notify.Listener(engine.url, waker_for(app).wake, JOBS)
    listener.start()
    return listener


def _setting(app: Flask, key: str) -> Any:
    """A job setting: the app's, else its default in :data:`dispatch.config.DEFAULTS`."""
    return app.config.get(key, DEFAULTS[key])


def _marked(job_id: str, func: Callable[[Flask], Any], app: Flask) -> Any:
    """Run a scheduled job marked as running, so a wake during the run re-runs it after."""
    started_at, started = clock(app), time.perf_counter()
    with waker_for(app).running(job_id):
        result = func(app)
    _heartbeat(app, job_id, started_at, time.perf_counter() - started, ok=result is not FAILED)
    return result


def _heartbeat(app: Flask, job_id: str, started: datetime, seconds: float, *, ok: bool) -> None:
    """Record the run for ``/metrics`` (job lag, duration, failures); never fails the job."""
    try:
        with get_database(app).session_scope() as session:
            operations.record_job(session, name=job_id, started=started, seconds=seconds, ok=ok)
    except Exception:
        log.exception("job %s: heartbeat not recorded", job_id)


class _PlacerWake:
    """The replan hook: wake this app's placer (whatever the network)."""

    def __init__(self, waker: Waker) -> None:
        self.waker = waker

    def __call__(self, _network_id: int | None) -> None:
        self.waker.wake("place_new")
