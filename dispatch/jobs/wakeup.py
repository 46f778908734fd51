"""Waking a job in this process's scheduler, without importing the jobs themselves.

A job runs one instance at a time (``max_instances=1``). A wake that arrives while the job is
running would be skipped by APScheduler and wait a whole interval; instead it is remembered and
the job runs again as soon as the current run ends (:func:`running`), so the offer for a referral
logged mid-run goes out seconds later, not at the next tick.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from apscheduler.schedulers.base import BaseScheduler

SCHEDULERS: list[BaseScheduler] = []
_LOCK = threading.Lock()
_RUNNING: set[str] = set()
_AGAIN: set[str] = set()


def wake(job_id: str = "place_new") -> None:
    """Run ``job_id`` now in this process's scheduler (if one runs here): new referrals call it
    so an urgent visit is placed in seconds, not at the next tick. If the job is running, it
    runs again right after this run."""
    with _LOCK:
        if job_id in _RUNNING:
            _AGAIN.add(job_id)
            return
    for scheduler in SCHEDULERS:
        job = scheduler.get_job(job_id)
        if job is not None:
            job.modify(next_run_time=datetime.now(UTC))


@contextmanager
def running(job_id: str) -> Iterator[None]:
    """Mark ``job_id`` as running in this process; a wake meanwhile re-runs it afterwards."""
    with _LOCK:
        _RUNNING.add(job_id)
    try:
        yield
    finally:
        with _LOCK:
            _RUNNING.discard(job_id)
            again = job_id in _AGAIN
            _AGAIN.discard(job_id)
        if again:
            wake(job_id)
