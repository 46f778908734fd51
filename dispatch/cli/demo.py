"""``dispatch demo-data``: load the synthetic tri-borough (never in production)."""

from __future__ import annotations

from datetime import datetime

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
def demo_data(seed: int, patients: int | None, at: str | None, if_empty: bool) -> None:
    """Load the synthetic tri-borough: networks, bases, patients, care plans, roster and users.

    Demo users' sign-ins are printed once. The roster covers the hours around --now, so the
    demo is alive at any hour.
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
    click.echo("\nDemo sign-ins (shown once; synthetic data only):")
    for u in summary.users:
        click.echo(f"  {u.role:<13} {u.username:<22} {u.password}")
