"""Waking a job in this process's scheduler, without importing the jobs themselves."""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.schedulers.base import BaseScheduler

SCHEDULERS: list[BaseScheduler] = []


def wake(job_id: str = "place_new") -> None:
    """Run ``job_id`` now in this process's scheduler (if one runs here): new referrals call it
    so an urgent visit is placed in seconds, not at the next tick."""
    for scheduler in SCHEDULERS:
        job = scheduler.get_job(job_id)
        if job is not None:
            job.modify(next_run_time=datetime.now(UTC))
