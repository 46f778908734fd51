"""The candidates list with and without the pin-cost check (issue 14, H-105), alternating.

The demo (seed 5, 200 patients) plus 120 open visits; one network's unassigned 2-hour visits
are made due in two hours, so the check has open 2-hour visits to look at (at most
``pin_costs.MAX_CHECKED``); the candidates of one of them are timed 8 times with the check
and 8 times without (``pin_costs.reachers`` answering nothing), alternating.

    PYTHONPATH=. .venv/bin/python benchmarks/pin_cost_candidates.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from dispatch import create_app
from dispatch import models as m
from dispatch.db import get_database
from dispatch.demo.load import load_demo
from dispatch.migrate import upgrade
from dispatch.planning import pin_costs
from dispatch.services import candidates
from routing.travel import GeodesicTravelTime
from tests.browser.board_day import add_open_visits

NOW = datetime.fromisoformat("2026-12-01T10:20:00+00:00")
RUNS = 16


def main() -> None:
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "FIXED_NOW": NOW.isoformat()})
    database = get_database(app)
    load_demo(database.engine, seed=5, patients=200, now=NOW)
    with database.session_scope() as session:
        add_open_visits(session, now=NOW, count=120)
    with database.session_scope() as session:
        net = session.scalar(
            sa.select(m.Visit.network_id).where(m.Visit.status == "unassigned")
            .group_by(m.Visit.network_id).order_by(sa.func.count().desc()).limit(1))
        for row in session.scalars(sa.select(m.Visit).where(
                m.Visit.status == "unassigned", m.Visit.network_id == net)):
            row.earliest_start, row.deadline = NOW, NOW + timedelta(hours=2)
    provider = GeodesicTravelTime()
    real = pin_costs.reachers

    def nothing(*args: Any, **kwargs: Any) -> dict[int, set[int]]:
        return {}

    times: dict[str, list[float]] = {"with": [], "without": []}
    with database.session_scope() as session:
        visit = session.scalars(sa.select(m.Visit).where(
            m.Visit.status == "unassigned", m.Visit.network_id == net)
            .order_by(m.Visit.id).limit(1)).one()
        checked = pin_costs.open_urgent(session, {net}, now=NOW, excluding=[visit.id])
        print(f"open 2-hour visits checked: {len(checked)}")
        for run in range(RUNS):
            mode = "with" if run % 2 == 0 else "without"
            pin_costs.reachers = real if mode == "with" else nothing
            started = time.perf_counter()
            candidates.candidates(session, visit, now=NOW, provider=provider)
            times[mode].append((time.perf_counter() - started) * 1000)
        pin_costs.reachers = real
    for mode, values in times.items():
        print(f"{mode}: median {statistics.median(values):.0f} ms, max {max(values):.0f} ms "
              f"({len(values)} runs)")


if __name__ == "__main__":
    main()
