"""Time ``GET /board`` on the demo day (not a test; run it by hand):

    .venv/bin/python -m tests.browser.board_timing [--patients 5000] [--visits 400] [--n 30]

Loads the demo (roster around FIXED_NOW, the register) into a fresh SQLite file, adds open
visits in mixed states across the networks, signs a coordinator in and renders the board
``n`` times for their network and for all networks, printing p50 and p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from tests.browser.board_day import COORDINATOR, PASSWORD, add_open_visits
from tests.browser.support import FIXED_NOW


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--visits", type=int, default=400)
    parser.add_argument("--n", type=int, default=30)
    args = parser.parse_args()

    import sqlalchemy as sa

    from dispatch import create_app
    from dispatch import models as m
    from dispatch.db import get_database
    from dispatch.demo.load import load_demo
    from dispatch.migrate import upgrade
    from dispatch.services.users import add_user

    folder = Path(tempfile.mkdtemp(prefix="board-timing-"))
    url = f"sqlite:///{folder / 'dispatch.sqlite3'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "timing", "FIXED_NOW": FIXED_NOW})
    now = datetime.fromisoformat(FIXED_NOW)
    database = get_database(app)
    started = time.perf_counter()
    load_demo(database.engine, seed=1, patients=args.patients, now=now)
    with database.session_scope() as session:
        add_open_visits(session, now=now, count=args.visits)
        network_id = session.scalars(sa.select(m.Network.id).order_by(m.Network.id)).first()
        user = add_user(session, username=COORDINATOR, role="coordinator", password=PASSWORD,
                        now=now).user
        user.network_id = network_id
        visits = session.scalar(sa.select(sa.func.count()).select_from(m.Visit))
        in_network = session.scalar(sa.select(sa.func.count()).select_from(m.Visit).where(
            m.Visit.network_id == network_id))
        shifts = session.scalar(sa.select(sa.func.count()).select_from(m.Shift))
    print(f"loaded {args.patients} patients, {visits} open visits ({in_network} in network "
          f"{network_id}), {shifts} shifts in {time.perf_counter() - started:.1f} s")
    app.config["WTF_CSRF_ENABLED"] = False  # sign in without scraping the form's token
    client = app.test_client()
    assert client.post("/sign-in", data={"username": COORDINATOR,
                                         "password": PASSWORD}).status_code == 303
    for label, path in (("own network", "/board"), ("all networks", "/board?network=all"),
                        ("JSON poll", "/board/data")):
        assert client.get(path).status_code == 200  # warm the template cache
        times = []
        for _ in range(args.n):
            t0 = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
        times.sort()
        p95 = times[max(0, round(0.95 * len(times)) - 1)]
        print(f"GET {path:22s} ({label}): p50 {statistics.median(times):6.1f} ms, "
              f"p95 {p95:6.1f} ms, {len(response.data) // 1024} KiB")


if __name__ == "__main__":
    main()
