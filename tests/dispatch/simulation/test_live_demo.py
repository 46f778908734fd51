"""Live demo activity: referrals at the configured rate, offers answered through the SMS path,
visits moving to completion, no repeated decisions after a restart, and never in production.

Runs on its own migrated SQLite files (a template with the demo register, copied per test)
with real commits, as the job does; the clock is injected, nothing sleeps.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from click.testing import CliRunner
from flask import Flask

from dispatch import create_app
from dispatch.cli import main
from dispatch.db import Database
from dispatch.demo.load import load_demo
from dispatch.jobs import runner
from dispatch.migrate import upgrade
from dispatch.models import Message, Referral, Visit
from dispatch.planning import live
from dispatch.services import outbox
from dispatch.simulation import field as fieldwork
from dispatch.simulation.live_demo import (
    DEMO_ORGANISATION,
    JOB_ID,
    MAX_REPLY_DELAY,
    DemoActivityRefused,
    DemoSettings,
    LiveDemo,
    TickReport,
    add_job,
    demo_referrals,
    offer_reply,
    run_tick,
)
from dispatch.sms.sender import LocalOutboxBackend
from routing.travel import GeodesicTravelTime

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with a small demo register and the roster around START."""
    path = tmp_path_factory.mktemp("live-demo") / "template.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    database = Database(url)
    try:
        load_demo(database.engine, seed=1, patients=300, now=START)
    finally:
        database.dispose()
    with closing(sqlite3.connect(path)) as conn:  # fold the WAL in so a file copy is complete
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def database(template: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "demo.sqlite3"
    shutil.copyfile(template, path)
    db = Database(f"sqlite:///{path}")
    yield db
    db.dispose()


class World:
    """The rest of the service around the demo: the placer and the SMS sender (the jobs)."""

    def __init__(self, database: Database) -> None:
        self.db = database
        self.backend = LocalOutboxBackend()
        self.provider = GeodesicTravelTime()

    def place(self, now: datetime) -> None:
        with self.db.session_scope() as session:
            live.place_new_visits(session, now=now, provider=self.provider, seconds=0.2)

    def send(self, now: datetime) -> None:
        outbox.send_pending(self.db, backend=self.backend, now=now)

    def play(self, demo: LiveDemo, *, minutes: int, start: datetime = START) -> Counter[str]:
        """One tick a minute, placing after new referrals or declines and sending every time."""
        totals: Counter[str] = Counter()
        for minute in range(minutes):
            now = start + minute * MINUTE
            report = demo.tick(now)
            totals.update({k: getattr(report, k) for k in
                           ("referrals", "accepted", "declined", "arrived", "done", "failed")})
            if report.referrals or report.declined:
                self.place(now)
            self.send(now)
        return totals


def _count(database: Database, query: sa.Select[Any]) -> int:
    with database.session_scope() as session:
        return int(session.scalar(query) or 0)


def _statuses(database: Database) -> Counter[str]:
    with database.session_scope() as session:
        return Counter(dict(session.execute(
            sa.select(Visit.status, sa.func.count()).group_by(Visit.status)).all()))


INBOUND = sa.select(sa.func.count()).select_from(Message).where(Message.direction == "inbound")
REFERRALS = sa.select(sa.func.count()).select_from(Referral)


# --- pure decisions ---------------------------------------------------------------------------


def test_offer_reply_same_offer_same_answer() -> None:
    """A decision is a function of the offer alone, so a restarted process decides the same."""
    settings = DemoSettings(seed=4)
    first = [offer_reply(settings, visit_id=v, staff_id=3, offered_at=START) for v in range(50)]
    again = [offer_reply(settings, visit_id=v, staff_id=3, offered_at=START) for v in range(50)]
    later = [offer_reply(settings, visit_id=v, staff_id=3, offered_at=START + MINUTE)
             for v in range(50)]
    assert first == again
    assert first != later  # a new offer of the same visit is a new decision


def test_offer_reply_mostly_accepts_and_answers_quickly() -> None:
    """Most offers are accepted, some declined with a reason, a few never answered; replies
    come within the cap so the board moves at a watchable pace."""
    settings = DemoSettings()
    replies = [offer_reply(settings, visit_id=v, staff_id=v % 7, offered_at=START)
               for v in range(3000)]
    kinds = Counter(r.kind for r in replies)
    assert 0.80 < kinds[fieldwork.ACCEPT] / 3000 < 0.90
    assert 0.05 < kinds[fieldwork.DECLINE] / 3000 < 0.11
    assert kinds[fieldwork.NO_ANSWER] > 0
    assert all(r.reason for r in replies if r.kind == fieldwork.DECLINE)
    assert max(r.delay for r in replies) <= MAX_REPLY_DELAY


def test_demo_settings_from_config_reads_the_settings() -> None:
    """DEMO_ACTIVITY_INTERVAL, DEMO_REFERRALS_PER_HOUR and DEMO_ACTIVITY_SEED are honoured,
    as strings too (environment variables), with defaults for the rest."""
    settings = DemoSettings.from_config({"DEMO_ACTIVITY_INTERVAL": "30",
                                         "DEMO_REFERRALS_PER_HOUR": 12, "DEMO_ACTIVITY_SEED": 7})
    assert (settings.interval_seconds, settings.referrals_per_hour, settings.seed) == (30, 12, 7)
    assert DemoSettings.from_config({}) == DemoSettings()


def test_demo_settings_bad_interval_raises() -> None:
    """A tick shorter than a second would hammer the database: refused with a clear message."""
    with pytest.raises(ValueError, match="interval_seconds must be at least 1"):
        DemoSettings(interval_seconds=0)


# --- never in production ----------------------------------------------------------------------


def test_live_demo_refuses_production(database: Database) -> None:
    """Synthetic referrals and fake replies must never reach a production database."""
    with pytest.raises(DemoActivityRefused, match="ENV=production"):
        LiveDemo(database, env="production")


def test_add_job_in_production_adds_nothing() -> None:
    """A stray DISPATCH_DEMO_ACTIVITY in production leaves the real jobs running, without it."""
    app = Flask(__name__)
    app.config.update(ENV="production", DEMO_ACTIVITY=True)
    scheduler = BackgroundScheduler()
    assert add_job(scheduler, app) is False
    assert scheduler.get_job(JOB_ID) is None


def test_serve_demo_activity_in_production_exits_2(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`dispatch serve --demo-activity` with ENV=production stops before serving, saying why."""
    monkeypatch.setenv("DISPATCH_ENV", "production")
    monkeypatch.setenv("DISPATCH_SECRET_KEY", "a-real-secret-for-this-test-32-bytes-long")
    monkeypatch.setenv("DISPATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    monkeypatch.setenv("DISPATCH_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DISPATCH_SMS_BACKEND", "local")  # production must choose one
    result = CliRunner().invoke(main, ["serve", "--demo-activity", "--no-upgrade", "--no-jobs"])
    assert result.exit_code == 2
    assert "ENV=production" in result.output


def test_build_scheduler_adds_the_job_only_when_asked(
        database: Database) -> None:
    """The demo job is in the scheduler with DEMO_ACTIVITY, and absent by default."""
    jobs = {}
    for flag in (False, True):
        app = create_app({"DATABASE_URL": database.url, "TESTING": True,
                          "DEMO_ACTIVITY": flag, "DEMO_ACTIVITY_INTERVAL": 45})
        scheduler = runner.build_scheduler(app, blocking=False)
        jobs[flag] = scheduler.get_job(JOB_ID)
    assert jobs[False] is None
    assert jobs[True] is not None and jobs[True].trigger.interval == timedelta(seconds=45)


# --- on a demo database -----------------------------------------------------------------------


def test_tick_referrals_arrive_at_about_the_configured_rate(database: Database) -> None:
    """40 an hour over three hours of one-minute ticks is about 120 referrals (Poisson), all
    marked as the demo 111's and all received no later than the tick that logged them."""
    demo = LiveDemo(database, DemoSettings(interval_seconds=60, referrals_per_hour=40,
                                           catch_up_minutes=0))
    per_tick = [demo.tick(START + i * MINUTE).referrals for i in range(180)]
    with database.session_scope() as session:
        referrals = session.scalars(sa.select(Referral)).all()
        marked = session.scalars(demo_referrals()).all()
        assert all(r.received_at <= r.created_at for r in referrals)
        assert {r.created_by for r in referrals} == {"demo-111"}
    assert 90 <= sum(per_tick) <= 150
    assert len(referrals) == sum(per_tick) == len(marked)
    assert all(r.referrer_organisation == DEMO_ORGANISATION for r in referrals)
    assert max(per_tick) <= DemoSettings().max_referrals_per_tick


def test_first_ticks_catch_up_the_last_half_hour_a_few_at_a_time(database: Database) -> None:
    """A newcomer sees referrals at once: the first ticks log the referrals of the half hour
    before the start (received then, at most five a tick), then the flow goes on; a restarted
    instance logs none of them again."""
    settings = DemoSettings(interval_seconds=20, referrals_per_hour=40)
    demo = LiveDemo(database, settings)
    tick = timedelta(seconds=20)
    first = demo.tick(START)
    early = [demo.tick(START + k * tick).referrals for k in range(1, 6)]
    with database.session_scope() as session:
        received = sorted(session.scalars(sa.select(Referral.received_at)).all())
    assert 1 <= first.referrals <= settings.max_referrals_per_tick
    assert received[0] < START - timedelta(minutes=10)  # from the half hour before
    assert all(START - timedelta(minutes=31) <= at <= START + 6 * tick for at in received)
    # A Poisson half hour at 40 an hour: about 20; all caught up within a few ticks.
    assert 8 <= first.referrals + sum(early) <= 40
    # A restart replays the half hour by its keys: nothing is logged twice.
    before = _count(database, REFERRALS)
    restarted = LiveDemo(database, settings)
    again = restarted.tick(START + 5 * tick)
    assert again.referrals == 0 and _count(database, REFERRALS) == before


def test_tick_answers_offers_and_visits_reach_completion(database: Database) -> None:
    """With the placer and the sender running, offers are accepted or declined by SMS, workers
    arrive and finish: visits reach accepted, on site and completed, and texts flow both ways."""
    world = World(database)
    demo = LiveDemo(database, DemoSettings(interval_seconds=60, referrals_per_hour=20))
    totals = world.play(demo, minutes=240)
    statuses = _statuses(database)
    with database.session_scope() as session:
        bodies = [b.split()[0] for b in session.scalars(
            sa.select(Message.body).where(Message.direction == "inbound"))]
    assert totals["failed"] == 0
    assert totals["accepted"] > 10 and totals["arrived"] > 5 and totals["done"] > 5
    assert statuses["completed"] == totals["done"]
    assert statuses["accepted"] + statuses["on_site"] > 0
    assert {"ACCEPT", "ARRIVED", "DONE"} <= set(bodies)
    assert Counter(bodies)["ACCEPT"] == totals["accepted"]


def test_tick_offers_wait_until_the_text_is_sent(database: Database) -> None:
    """A worker cannot answer a text still in the outbox: no reply until the sender has run."""
    world = World(database)
    demo = LiveDemo(database, DemoSettings(interval_seconds=60, referrals_per_hour=60))
    for minute in range(30):
        demo.tick(START + minute * MINUTE)
    world.place(START + 30 * MINUTE)
    offered = _statuses(database)["offered"]
    unsent = demo.tick(START + 60 * MINUTE)
    world.send(START + 60 * MINUTE)
    sent = demo.tick(START + 70 * MINUTE)
    assert offered > 0
    assert unsent.accepted + unsent.declined == 0
    assert sent.accepted + sent.declined > 0


def test_tick_after_restart_repeats_nothing(database: Database) -> None:
    """A new instance on the same database, ticking again at moments the first one already
    acted at (a slot with referrals, a minute with replies), logs no referral again and sends
    no reply again: every decision is keyed by the rows and the clock slot, not by memory."""
    world, settings = World(database), DemoSettings(interval_seconds=60, referrals_per_hour=30)
    first = LiveDemo(database, settings)
    acted: dict[str, datetime] = {}
    for minute in range(120):
        now = START + minute * MINUTE
        report = first.tick(now)
        if report.referrals:
            acted["referrals"] = now
        if report.actions:
            acted["replies"] = now
        if report.referrals or report.declined:
            world.place(now)
        world.send(now)
    before = (_count(database, REFERRALS), _count(database, INBOUND), _statuses(database))
    restarted = LiveDemo(database, settings)
    again = [restarted.tick(acted[k]) for k in ("referrals", "replies")]
    after = (_count(database, REFERRALS), _count(database, INBOUND), _statuses(database))
    assert set(acted) == {"referrals", "replies"}
    assert again == [TickReport(), TickReport()]
    assert after == before


def test_run_tick_logs_and_never_raises(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A broken database (here: no tables) is logged by the job and never raised into the
    scheduler, so the other jobs keep running."""
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
                      "TESTING": True})
    broken = LiveDemo(Database(f"sqlite:///{tmp_path / 'empty.sqlite3'}"))
    try:
        report = run_tick(app, broken)
    finally:
        broken.database.dispose()
    assert report is None or report.failed > 0
    assert "demo" in caplog.text and "failed" in caplog.text
