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

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask, current_app

EXTENSION = "dispatch.waker"


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

    def wake(self, job_id: str = "place_new") -> None:
        """Run ``job_id`` now in the attached schedulers (if any runs here): new referrals call
        it so an urgent visit is placed in seconds, not at the next tick. If the job is
        running, it runs again right after this run."""
        with self._lock:
            if job_id in self._running:
                self._again.add(job_id)
                return
            schedulers = list(self._schedulers)
        for scheduler in schedulers:
            job = scheduler.get_job(job_id)
            if job is not None:
                job.modify(next_run_time=datetime.now(UTC))

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


def wake(job_id: str = "place_new") -> None:
    """From a request: wake ``job_id`` in the current app's scheduler (see :meth:`Waker.wake`)."""
    waker_for(current_app).wake(job_id)
