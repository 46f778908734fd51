"""Placing a visit wakes the SMS sender at once (the offer must not wait for the next tick)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from dispatch.jobs import runner


def test_place_new_wakes_sender_when_it_placed(monkeypatch: pytest.MonkeyPatch, app: Flask) -> None:
    """A placement run that did something wakes send_messages; an idle run does not."""
    from dispatch.jobs.wakeup import waker_for

    woken: list[str] = []
    monkeypatch.setattr(waker_for(app), "wake", woken.append)
    outcomes: list[Any] = [["a report"], []]
    monkeypatch.setattr(runner, "run_phased_job", lambda *_a, **_k: outcomes.pop(0))
    runner.place_new(app)
    runner.place_new(app)
    assert woken == ["send_messages"]


def test_wake_during_a_run_runs_the_job_again_after_it() -> None:
    """A wake that arrives while the job runs is not lost (APScheduler would skip it and wait
    a whole interval): the job is scheduled again as soon as the run ends."""
    from datetime import UTC, datetime, timedelta

    from apscheduler.schedulers.background import BackgroundScheduler

    from dispatch.jobs.wakeup import Waker

    scheduler = BackgroundScheduler()
    later = datetime.now(UTC) + timedelta(hours=1)
    scheduler.add_job(lambda: None, "interval", hours=1, id="send_messages", next_run_time=later)
    waker = Waker()
    waker.attach(scheduler)
    try:
        with waker.running("send_messages"):
            waker.wake("send_messages")
            # Still running: the wake is remembered, not applied (it would be skipped).
            assert scheduler.get_job("send_messages").next_run_time == later
        assert scheduler.get_job("send_messages").next_run_time < later
        # Only once: a later run without a wake does not reschedule.
        scheduler.get_job("send_messages").modify(next_run_time=later)
        with waker.running("send_messages"):
            pass
        assert scheduler.get_job("send_messages").next_run_time == later
    finally:
        waker.detach(scheduler)
