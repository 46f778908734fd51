"""The demo's past (issue 14): the days before the demo starts played through the real code,
so the performance page of a newcomer has figures, and they come from the records the
service wrote (referrals, offers by text, visits done), stamped with the simulated clock and
never later than ``now``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from dispatch.database import Database, make_engine
from dispatch.demo.load import load_demo
from dispatch.migrate import upgrade
from dispatch.models import AuditEvent, Message, Referral, Shift, Visit
from dispatch.services.kpis import kpi_report
from dispatch.simulation.history import (
    MAX_DAYS,
    HistorySummary,
    demand,
    history_start,
    play_history,
)
from routing.travel import GeodesicTravelTime

NOW = datetime.fromisoformat("2026-12-02T11:00:00+00:00")  # a Wednesday morning
YESTERDAY = date(2026, 12, 1)


@dataclass(frozen=True)
class Played:
    database: Database
    summary: HistorySummary


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:
    """A small demo (600 patients) with yesterday and this morning played: 30 referrals and
    4 booked visits a day."""
    url = f"sqlite:///{tmp_path_factory.mktemp('history') / 'demo.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    load_demo(engine, seed=2, patients=600, now=NOW, history_days=1)
    engine.dispose()
    database = Database(url)
    summary = play_history(database, seed=2, days=1, now=NOW, referrals_per_day=30,
                           booked_per_day=4)
    yield Played(database, summary)
    database.dispose()


def test_the_past_is_played_from_six_yesterday_to_now(played: Played) -> None:
    """Every referral was received between 06:00 yesterday (London) and now, through
    create_referral (triaged: each has a category)."""
    assert played.summary.start == history_start(NOW, 1)
    assert played.summary.start.isoformat() == "2026-12-01T06:00:00+00:00"
    with played.database.session_scope() as session:
        received = session.execute(sa.select(Referral.received_at, Referral.category)).all()
    assert len(received) == played.summary.referrals >= 20
    assert all(played.summary.start <= at <= NOW for at, _ in received)
    assert all(category for _, category in received)


def test_nothing_is_stamped_after_now(played: Played) -> None:
    """The simulated clock, not the wall clock: no audit event, text or visit time later
    than now."""
    with played.database.session_scope() as session:
        latest = [session.scalar(sa.select(sa.func.max(column))) for column in (
            AuditEvent.at, Message.created_at, Visit.offered_at, Visit.arrived_at,
            Visit.completed_at)]
    assert all(moment is not None and moment <= NOW for moment in latest), latest


def test_yesterdays_kpis_come_from_offers_visits_and_completions(played: Played) -> None:
    """Yesterday's report has decided responses and a median; behind them, texts offering
    visits, visits accepted and done by workers on yesterday's shifts."""
    start, end = datetime(2026, 12, 1, tzinfo=NOW.tzinfo), datetime(2026, 12, 2,
                                                                      tzinfo=NOW.tzinfo)
    with played.database.session_scope() as session:
        report = kpi_report(session, day=YESTERDAY, now=NOW, provider=GeodesicTravelTime())
        offers = session.scalar(sa.select(sa.func.count()).select_from(Message).where(
            Message.direction == "outbound", Message.body.contains("Reply ACCEPT"),
            Message.created_at >= start, Message.created_at < end))
        done = session.execute(sa.select(Visit.completed_at, Visit.assigned_staff_id,
                                         Visit.shift_id).where(
            Visit.status == "completed", Visit.completed_at >= start,
            Visit.completed_at < end)).all()
        shifts = dict(session.execute(sa.select(Shift.id, Shift.starts_at)).all())
    summary = report["summary"]
    decided = summary["urgent_2h"]["count"] + summary["response_24h"]["count"]
    assert decided > 0 and summary["response_minutes"]["all"]["n"] > 0
    assert offers and offers > 0
    assert len(done) > 0
    assert all(staff is not None and shifts[shift].date() <= YESTERDAY
               for _, staff, shift in done)


def test_demand_of_each_day_differs_and_stops_at_now() -> None:
    """Two days drawn with seeds of their own (not the same day twice), unique indices, and
    nothing due at or after now."""
    from dispatch.simulation.demand import PatientInfo

    patients = [PatientInfo(i, tier, None, ()) for i, tier in
                enumerate(["very_high", "high", "moderate", "low", "very_low"] * 20)]
    specs = demand(seed=1, start=history_start(NOW, 1), now=NOW, patients=patients,
                   referrals_per_day=40, booked_per_day=3)
    assert all(s.at < NOW for s in specs)
    assert len({s.index for s in specs}) == len(specs)
    first_day = [(s.at.time(), s.patient_id) for s in specs if s.at.date() == YESTERDAY]
    second_day = [(s.at.time(), s.patient_id) for s in specs if s.at.date() == NOW.date()]
    assert first_day[:3] != second_day[:3]


@pytest.mark.parametrize("days", [0, MAX_DAYS + 1])
def test_days_out_of_range_are_refused(tmp_path: Path, days: int) -> None:
    with pytest.raises(ValueError, match="days must be between"):
        play_history(Database(f"sqlite:///{tmp_path / 'x.sqlite3'}"), seed=1, days=days,
                     now=NOW)


def test_the_roster_reaches_back_over_the_past(played: Played) -> None:
    """Shifts on every day played (the planner had someone to give yesterday's visits to)."""
    with played.database.session_scope() as session:
        first = session.scalar(sa.select(sa.func.min(Shift.starts_at)))
    assert first is not None and first <= history_start(NOW, 1) - timedelta(hours=6)
