"""The demo's past: the days before it starts, played through the real code (issue 14).

A newcomer's performance page should not be empty. So ``dispatch demo-data`` (and
``./dev.sh demo``) plays the past ``days`` up to the moment the demo starts, with the same
event loop as ``dispatch simulate`` (:class:`dispatch.simulation.engine.Simulation`): each
day's referrals go through ``create_referral`` (triage decides), the planner places and
re-plans them, offers go out through the outbox, the simulated field staff answer them by
text (ACCEPT, DECLINE, ARRIVED, DONE through ``handle_inbound``), the deadline watch
escalates, and each change is stamped with the simulated clock. Nothing is written that the
service itself would not write: the KPIs of those days come from those records.

The clock runs without a break from ``day_start`` of the first day to ``now``, so what is
still open at ``now`` (a visit accepted, a worker on site) is where the live demo and the
planner carry on. To keep the load quick the planner's budgets are smaller than a real
day's (:data:`PLACE_SECONDS`, :data:`REOPTIMISE_SECONDS`); the decisions are made by the same code.
The past is played as the demo server runs today: every planned visit offered at once (no offer
lead, production's default ``OFFER_LEAD_MINUTES``); with the simulator's 90-minute lead the
re-optimiser ran many times more often and two days took 2.3 times the CPU (268 s against
117 s, the demo's loading included).
"""

from __future__ import annotations

import dataclasses
import time as wallclock
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final

import sqlalchemy as sa

from dispatch.config import LONDON
from dispatch.database import Database
from dispatch.models import Patient
from dispatch.simulation.demand import PatientInfo, generate_day
from dispatch.simulation.engine import Simulation
from dispatch.simulation.types import ReferralSpec, SimulationConfig

#: ``./dev.sh demo``'s default: a week, so each weekday has a past day to compare with.
DEFAULT_DAYS: Final = 7
#: At most this many days (the roster and the demand are built for each).
MAX_DAYS: Final = 28
#: Spec indices of day ``k`` start at ``k * INDEX_SPACING`` (idempotency keys stay unique).
INDEX_SPACING: Final = 100_000
#: The planner's budgets while playing the past: a half-second placement (as ``dispatch
#: simulate``), a shorter re-optimisation every hour (there, 1 s every 30 min). Measured on the
#: demo's 5,000 patients: see :func:`play_history`'s note.
PLACE_SECONDS: Final = 0.3
REOPTIMISE_SECONDS: Final = 0.5
REOPTIMISE_SOLUTIONS: Final = 30
REOPTIMISE_EVERY_MINUTES: Final = 60
#: The simulated clock of each day starts here (the first referrals arrive from 07:00).
DAY_START: Final = time(6, 0)


@dataclass(frozen=True)
class HistorySummary:
    """What playing the past did (for the CLI's progress and the tests)."""

    start: datetime
    end: datetime
    referrals: int
    wall_seconds: float


def history_start(now: datetime, days: int) -> datetime:
    """06:00 (London) of the day ``days`` days before ``now``'s London date."""
    first = now.astimezone(LONDON).date() - timedelta(days=days)
    return datetime.combine(first, DAY_START, tzinfo=LONDON)


def play_history(database: Database, *, seed: int, days: int, now: datetime,
                 referrals_per_day: float = 121.0, booked_per_day: int = 60,
                 progress: Callable[[str], None] | None = None) -> HistorySummary:
    """Play the ``days`` days before ``now`` (and today up to ``now``) on ``database``.

    The database holds the loaded demo with a roster reaching back that far
    (``load_demo(..., history_days=days)``).

    Parameters
    ----------
    seed
        Same seed, same past (the demand of day ``k`` is drawn with its own seed).
    now
        Where the past ends (aware); nothing is stamped later than it.
    referrals_per_day, booked_per_day
        The demand (default the tri-borough's: ``dispatch simulate``'s defaults).

    Notes
    -----
    Measured (demo's 5,000 patients, seed 1, on a machine shared with other work): 7 days,
    1,334 referrals, 7 min 36 s of CPU for ``dispatch demo-data --history-days 7`` (load
    included; 1 day: 32 s), about a minute a day once the week fills the database.

    Raises
    ------
    ValueError
        ``now`` naive, or ``days`` outside 1..:data:`MAX_DAYS`.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}, got {days}")
    started = wallclock.perf_counter()
    start = history_start(now, days)
    with database.session_scope() as session:
        patients = [PatientInfo(row.id, row.risk_tier, row.frailty, tuple(row.conditions or ()))
                    for row in session.execute(
                        sa.select(Patient.id, Patient.risk_tier, Patient.frailty,
                                  Patient.conditions).order_by(Patient.id))]
    specs = demand(seed=seed, start=start, now=now, patients=patients,
                   referrals_per_day=referrals_per_day, booked_per_day=booked_per_day)
    with _quick_commits(database):
        _play(database, seed=seed, start=start, now=now, specs=specs,
              referrals_per_day=referrals_per_day, booked_per_day=booked_per_day,
              progress=progress)
    return HistorySummary(start, now, len(specs),
                          round(wallclock.perf_counter() - started, 1))


def _play(database: Database, *, seed: int, start: datetime, now: datetime,
          specs: list[ReferralSpec], referrals_per_day: float, booked_per_day: int,
          progress: Callable[[str], None] | None) -> None:
    config = SimulationConfig(seed=seed, day=start.date(), referrals=referrals_per_day,
                              booked=booked_per_day, place_seconds=PLACE_SECONDS,
                              reoptimise_seconds=REOPTIMISE_SECONDS,
                              reoptimise_solutions=REOPTIMISE_SOLUTIONS,
                              reoptimise_every_minutes=REOPTIMISE_EVERY_MINUTES,
                              offer_lead_minutes=None)
    Simulation(config, database, start=start, end=now, specs=specs,
               progress=progress).run()


@contextmanager
def _quick_commits(database: Database) -> Iterator[None]:
    """On SQLite, commit without waiting for the disk while the past is played.

    Why: each simulated event is its own transaction (as a request would be), thousands a
    day, and with ``synchronous=FULL`` each waits for an fsync (measured: 60 s of a day's
    play on a shared machine). ``NORMAL`` in WAL mode stays consistent after a crash; a
    power cut could lose the last few demo events, which the demo can afford. Only the
    connections of this play are switched; the pool is emptied before and after.
    """
    engine = database.engine
    if engine.dialect.name != "sqlite":
        yield
        return

    def normal(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    engine.dispose()
    sa.event.listen(engine, "connect", normal)
    try:
        yield
    finally:
        sa.event.remove(engine, "connect", normal)
        engine.dispose()


def demand(*, seed: int, start: datetime, now: datetime, patients: list[PatientInfo],
           referrals_per_day: float, booked_per_day: int) -> list[ReferralSpec]:
    """Every day's referrals from ``start``'s day to ``now``'s, those due before ``now``.

    Each day is :func:`generate_day` with a seed of its own (so the days differ), its indices
    moved by :data:`INDEX_SPACING` per day.
    """
    first: date = start.astimezone(LONDON).date()
    last: date = now.astimezone(LONDON).date()
    specs: list[ReferralSpec] = []
    for k in range((last - first).days + 1):
        day = first + timedelta(days=k)
        for spec in generate_day(seed=seed * 1_000 + k, day=day, patients=patients,
                                 referrals=referrals_per_day, booked=booked_per_day,
                                 arrivals_from=time(7, 0), arrivals_until=time(22, 0),
                                 day_start=DAY_START):
            at = max(spec.at, start)
            if at < now:
                specs.append(dataclasses.replace(spec, index=k * INDEX_SPACING + spec.index,
                                                 at=at))
    return sorted(specs, key=lambda s: (s.at, s.index))
