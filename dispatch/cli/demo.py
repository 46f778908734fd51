"""``dispatch demo-data``: load the synthetic tri-borough (never in production)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from dispatch.cli.common import app, fail, now


@click.command("demo-data")
@click.option(
    "--seed", default=1, show_default=True, type=int, help="Random seed (same seed, same data)."
)
@click.option(
    "--patients",
    default=None,
    type=click.IntRange(min=0),
    help="Register size (default 5,000; the full tri-borough is 466,921).",
)
@click.option(
    "--now", "at", default=None, help="Build the roster around this ISO time (default: now)."
)
@click.option(
    "--if-empty", is_flag=True, help="Do nothing (exit 0) when the database already has data."
)
@click.option(
    "--history-days", type=click.IntRange(0, 28), default=0, show_default=True,
    help="Play this many past days (and today up to --now) through the real code with the "
         "simulator, so the performance page has figures (./dev.sh demo: 7; up to a minute "
         "of CPU each).")
def demo_data(seed: int, patients: int | None, at: str | None, if_empty: bool,
              history_days: int) -> None:
    """Load the synthetic tri-borough: networks, bases, patients, care plans, roster and users.

    Demo users' sign-ins are printed once. The roster covers the hours around --now, so the
    demo is alive at any hour. With --history-days N the N days before --now are played by
    the simulator first: referrals triaged, planned, offered, answered by text and visited.
    """
    from dispatch import migrate
    from dispatch.db import get_database
    from dispatch.demo import DEFAULT_PATIENTS
    from dispatch.demo.errors import DatabaseNotEmpty, DemoDataError
    from dispatch.demo.load import load_demo

    try:
        when = datetime.fromisoformat(at) if at else now()
    except ValueError:
        fail(f"--now {at!r} is not an ISO 8601 time")
    if when.tzinfo is None:
        fail("--now needs a time zone, for example 2026-12-01T09:00:00+00:00")
    flask_app = app()
    if flask_app.config.get("ENV") == "production":
        fail("demo-data is refused when DISPATCH_ENV is production: it loads synthetic "
             "patients and users whose passwords it prints")
    migrate.upgrade(flask_app.config["DATABASE_URL"])
    try:
        summary = load_demo(
            get_database(flask_app).engine,
            seed=seed,
            patients=DEFAULT_PATIENTS if patients is None else patients,
            now=when,
            progress=click.echo,
            history_days=history_days,
        )
    except DatabaseNotEmpty as exc:
        if if_empty:
            click.echo("demo data already loaded; nothing to do")
            return
        fail(str(exc), code=1)
    except DemoDataError as exc:
        fail(str(exc), code=1)
    from dispatch.services.tariffs import ensure_default_tariff

    with get_database(flask_app).session_scope() as session:
        ensure_default_tariff(session, when.date())
    if history_days:
        _play_history(flask_app, seed=seed, days=history_days, now=when)
    click.echo("\nDemo sign-ins (shown once; synthetic data only):")
    for u in summary.users:
        click.echo(f"  {u.role:<13} {u.username:<22} {u.password}")


def _play_history(flask_app: Any, *, seed: int, days: int, now: datetime) -> None:
    """The past days through the simulator, one progress line per simulated day."""
    import logging

    from dispatch.db import get_database
    from dispatch.simulation.history import play_history

    logging.getLogger("dispatch").setLevel(logging.ERROR)  # the planner's notes, per event
    hours = [0]

    def daily(line: str) -> None:
        hours[0] += 1
        if hours[0] % 24 == 0:  # one line an hour, from 07:00 of the first day
            figures = line.split("] ", 1)[-1].split(" ", 1)[-1]  # without the clock
            click.echo(f"  day {hours[0] // 24} of {days} played: {figures}")

    click.echo(f"playing the past {days} day(s) through the service (simulated) ...")
    summary = play_history(get_database(flask_app), seed=seed, days=days, now=now,
                           progress=daily)
    end = summary.end.astimezone(summary.start.tzinfo)
    click.echo(f"past played: {summary.referrals} referrals from "
               f"{summary.start:%a %d %b %H:%M} to {end:%a %d %b %H:%M} "
               f"in {summary.wall_seconds:.0f} s")
