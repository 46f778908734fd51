"""Play a whole day: a fresh demo database, the day's demand, the event loop, the KPIs.

For ``--compare`` the demo is loaded once into a template SQLite file and copied for each
policy, so both start from byte-identical databases and meet identical demand.
"""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
import tempfile
import time as wallclock
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa

from dispatch.config import LONDON
from dispatch.database import Database, make_engine
from dispatch.demo.load import load_demo
from dispatch.migrate import upgrade
from dispatch.models import Network, Patient, Staff
from dispatch.simulation import mix as mixes
from dispatch.simulation.demand import PatientInfo, generate_day
from dispatch.simulation.engine import Simulation
from dispatch.simulation.kpis import VisitRecord, collect
from dispatch.simulation.types import POLICIES, ReferralSpec, SimulationConfig, WorkerLog

TEMPLATE_NAME: Final = "template.sqlite3"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DayResult:
    """One policy's day: the KPIs, per-visit and per-shift records, and the wall time taken."""

    config: SimulationConfig
    kpis: dict[str, Any]
    records: list[VisitRecord]
    shifts: list[WorkerLog]
    wall_seconds: float


def day_bounds(config: SimulationConfig) -> tuple[datetime, datetime]:
    """The simulated clock's first and last moment (aware, Europe/London)."""
    return (datetime.combine(config.day, config.day_start, tzinfo=LONDON),
            datetime.combine(config.day, config.day_end, tzinfo=LONDON))


def build_template(directory: Path, config: SimulationConfig,
                   progress: Progress | None = None) -> Path:
    """A migrated SQLite file holding the demo loaded at the day's start."""
    path = directory / TEMPLATE_NAME
    load_into(f"sqlite:///{path}", config, progress)
    with closing(sqlite3.connect(path)) as conn:  # fold the WAL in so a file copy is complete
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def load_into(url: str, config: SimulationConfig, progress: Progress | None = None) -> None:
    """Migrate ``url`` and load the demo population and the roster around the day's start."""
    upgrade(url)
    engine = make_engine(url)
    try:
        load_demo(engine, seed=config.seed, patients=config.patients, now=day_bounds(config)[0],
                  progress=progress, staffing=config.staffing)
        if not config.staff_travel_modes:
            # The whole simulated world travels by car, planner and field alike (the
            # figures before issue 15); --staff-travel-modes keeps the roster's modes, which
            # the planner then plans by and the field moves by.
            with engine.begin() as conn:
                conn.execute(sa.update(Staff).values(travel_mode="car"))
    finally:
        engine.dispose()


def simulate(config: SimulationConfig, *, database_url: str | None = None,
             template: Path | None = None, progress: Progress | None = None) -> DayResult:
    """Play one policy's day on a fresh database and return its KPIs.

    Parameters
    ----------
    database_url
        An empty database to use (it is migrated and loaded); default a temporary SQLite file.
    template
        A file from :func:`build_template` to copy instead of loading the demo again.
    """
    started = wallclock.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dispatch-sim-") as scratch:
        url = database_url
        if url is None:
            path = Path(scratch) / f"{config.policy}.sqlite3"
            if template is not None:
                shutil.copyfile(template, path)
            else:
                load_into(f"sqlite:///{path}", config, progress)
            url = f"sqlite:///{path}"
        elif template is None:
            load_into(url, config, progress)
        database = Database(url)
        try:
            result = _play(config, database, progress)
        finally:
            database.dispose()
    return replace(result, wall_seconds=round(wallclock.perf_counter() - started, 1))


def compare(config: SimulationConfig, *, progress: Progress | None = None) -> dict[str, DayResult]:
    """Both policies on identical demand and identical starting databases."""
    with tempfile.TemporaryDirectory(prefix="dispatch-sim-") as scratch:
        template = build_template(Path(scratch), config, progress)
        return {policy: simulate(replace(config, policy=policy), template=template,
                                 progress=progress) for policy in POLICIES}


def _only_networks(database: Database, specs: list[ReferralSpec],
                   codes: tuple[str, ...]) -> list[ReferralSpec]:
    """The day's referrals for patients of ``codes`` (same referrals as the whole day has)."""
    with database.session_scope() as session:
        mine = set(session.scalars(sa.select(Patient.id).join(
            Network, Network.id == Patient.network_id).where(Network.code.in_(codes))))
    return [spec for spec in specs if spec.patient_id in mine]


def _play(config: SimulationConfig, database: Database, progress: Progress | None) -> DayResult:
    start, end = day_bounds(config)
    with database.session_scope() as session:
        patients = [PatientInfo(row.id, row.risk_tier, row.frailty, tuple(row.conditions or ()))
                    for row in session.execute(
                        sa.select(Patient.id, Patient.risk_tier, Patient.frailty,
                                  Patient.conditions).order_by(Patient.id))]
    specs = generate_day(seed=config.seed, day=config.day, patients=patients,
                         referrals=config.referrals, booked=config.booked,
                         arrivals_from=config.arrivals_from,
                         arrivals_until=config.arrivals_until, day_start=config.day_start,
                         double_handed=config.double_handed, mix=config.mix)
    if config.networks is not None:
        specs = _only_networks(database, specs, config.networks)
    simulation = Simulation(config, database, start=start, end=end, specs=specs,
                            progress=progress)
    simulation.run()
    with database.session_scope() as session:
        kpis, records = collect(
            session, end=end, referral_ids=list(simulation.referral_of_spec.values()),
            visit_logs=simulation.visit_logs, shift_logs=list(simulation.shift_logs.values()),
            policy=config.policy)
    missing = len(specs) - len(simulation.referral_of_spec)
    kpis["not_logged"] = missing  # referrals due after the end of the day (none by default)
    kpis["booked_at_start"] = sum(1 for s in specs if s.booked)
    kpis["planner"] = dataclasses.asdict(simulation.planner)
    kpis["on_call_decisions"] = dict(simulation.decisions)
    kpis["mix"] = mixes.to_json(config.mix)  # None: each stratum's usual mix
    return DayResult(config, kpis, records, list(simulation.shift_logs.values()), 0.0)
