"""Waking a job in this app's scheduler, without importing the jobs themselves.

A job runs one instance at a time (``max_instances=1``). A wake that arrives while the job is
running would be skipped by APScheduler and wait a whole interval; instead it is remembered and
the job runs again as soon as the current run ends (:meth:`Waker.running`), so the offer for a
referral logged mid-run goes out seconds later, not at the next tick.

Each app owns one :class:`Waker` (``app.extensions``, see :func:`waker_for`): the schedulers
``build_scheduler`` made for it in this process and the jobs running now. Nothing is kept in a
module global, so two apps in one process (tests, the simulator) never wake each other's jobs.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from apscheduler.schedulers.base import BaseScheduler
from flask import Flask, current_app

from dispatch.jobs import notify

EXTENSION = "dispatch.waker"
REMOTE = "dispatch.remote_wake"


class Waker:
    """The schedulers running one app's jobs in this process, and which jobs are running."""

    def __init__(self) -> None:
        self._schedulers: list[BaseScheduler] = []
        self._lock = threading.Lock()
        self._running: set[str] = set()
        self._again: set[str] = set()

    def attach(self, scheduler: BaseScheduler) -> None:
        """Wakes from now on reach ``scheduler``'s jobs."""
        with self._lock:
            if scheduler not in self._schedulers:
                self._schedulers.append(scheduler)

    def detach(self, scheduler: BaseScheduler) -> None:
        with self._lock:
            if scheduler in self._schedulers:
                self._schedulers.remove(scheduler)

    def wake(self, job_id: str = "place_new") -> bool:
        """Run ``job_id`` now in the attached schedulers (if any runs here): new referrals call
        it so an urgent visit is placed in seconds, not at the next tick. If the job is
        running, it runs again right after this run. False when no scheduler here has it."""
        with self._lock:
            if job_id in self._running:
                self._again.add(job_id)
                return True
            schedulers = list(self._schedulers)
        woken = False
        for scheduler in schedulers:
            job = scheduler.get_job(job_id)
            if job is not None:
                job.modify(next_run_time=datetime.now(UTC))
                woken = True
        return woken

    @contextmanager
    def running(self, job_id: str) -> Iterator[None]:
        """Mark ``job_id`` as running; a wake meanwhile re-runs it afterwards."""
        with self._lock:
            self._running.add(job_id)
        try:
            yield
        finally:
            with self._lock:
                self._running.discard(job_id)
                again = job_id in self._again
                self._again.discard(job_id)
            if again:
                self.wake(job_id)


def waker_for(app: Flask) -> Waker:
    """The app's waker (made on first use)."""
    waker = app.extensions.get(EXTENSION)
    if waker is None:
        waker = app.extensions.setdefault(EXTENSION, Waker())
    assert isinstance(waker, Waker)
    return waker


def init_app(app: Flask, engine: sa.Engine) -> None:
    """On PostgreSQL, a wake no scheduler of this process takes is sent to the others with
    ``NOTIFY`` (:mod:`dispatch.jobs.notify`): the production layout's web processes reach
    ``dispatch scheduler`` at once instead of at its next poll."""
    if notify.supported(engine):
        app.extensions[REMOTE] = functools.partial(notify.notify, engine)


def wake(job_id: str = "place_new") -> None:
    """From a request, after its commit: wake ``job_id`` in this app's scheduler (see
    :meth:`Waker.wake`), or, when none runs in this process, in the scheduler process."""
    if waker_for(current_app).wake(job_id):
        return
    remote = current_app.extensions.get(REMOTE)
    if remote is not None:
        remote(job_id)
