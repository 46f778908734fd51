"""The ``dispatch`` console script: one entry point, ``--help`` on every subcommand.

Commands build the app with :func:`dispatch.create_app` so they read the same ``DISPATCH_*``
settings as the web service. Bad input prints a message and exits non-zero (2 for usage and
invalid input, 1 for failures).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

import click
from flask import Flask

from dispatch.errors import DispatchError


def _app() -> Flask:
    from dispatch import create_app

    return create_app()


def _now() -> datetime:
    """The wall clock, read once at the edge (commands), never inside a rule."""
    return datetime.now(UTC)


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Rapid-response dispatch: referrals, triage, scheduling and SMS dispatch."""


# --- database ---------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema commands (Alembic)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema to the latest migration."""
    from dispatch import migrate

    app = _app()
    url = app.config["DATABASE_URL"]
    migrate.upgrade(url, revision)
    click.echo(f"database at revision {migrate.current(url)}")


@db.command("current")
def db_current() -> None:
    """Print the database's current migration revision."""
    from dispatch import migrate

    click.echo(migrate.current(_app().config["DATABASE_URL"]) or "empty (run `dispatch db upgrade`)")


# --- users ------------------------------------------------------------------------------------


@main.group()
def user() -> None:
    """User accounts and API tokens."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, help="call_handler, coordinator, field_staff, manager or admin.")
@click.option("--display-name", default=None, help="Name shown on screens (defaults to NAME).")
@click.option("--password", default=None, help="Web sign-in password (omit for API-only users).")
def user_add(name: str, role: str, display_name: str | None, password: str | None) -> None:
    """Create a user and print their API token once, alone on the last line."""
    from dispatch.db import get_database
    from dispatch.services.users import add_user

    app = _app()
    try:
        with get_database(app).session_scope() as session:
            created = add_user(
                session,
                username=name,
                role=role,
                display_name=display_name,
                password=password,
                now=_now(),
            )
            username, user_role = created.user.username, created.user.role
    except DispatchError as exc:
        detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.errors.items())
        _fail(f"{exc.message}{': ' + detail if detail else ''}")
        return
    click.echo(f"created {username} ({user_role}); the API token is shown only once:")
    click.echo(created.token)


# --- demo data --------------------------------------------------------------------------------


@main.command("demo-data")
@click.option("--seed", default=1, show_default=True, type=int, help="Random seed (same seed, same data).")
@click.option("--patients", default=None, type=click.IntRange(min=0),
              help="Register size (default 5,000; the full tri-borough is 466,921).")
@click.option("--now", "at", default=None, help="Build the roster around this ISO time (default: now).")
@click.option("--if-empty", is_flag=True, help="Do nothing (exit 0) when the database already has data.")
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
        when = datetime.fromisoformat(at) if at else _now()
    except ValueError:
        _fail(f"--now {at!r} is not an ISO 8601 time")
        return
    if when.tzinfo is None:
        _fail("--now needs a time zone, for example 2026-12-01T09:00:00+00:00")
    app = _app()
    migrate.upgrade(app.config["DATABASE_URL"])
    try:
        summary = load_demo(get_database(app).engine, seed=seed,
                            patients=DEFAULT_PATIENTS if patients is None else patients,
                            now=when, progress=click.echo)
    except DatabaseNotEmpty as exc:
        if if_empty:
            click.echo("demo data already loaded; nothing to do")
            return
        _fail(str(exc), code=1)
        return
    except DemoDataError as exc:
        _fail(str(exc), code=1)
        return
    click.echo("\nDemo sign-ins (shown once; synthetic data only):")
    for u in summary.users:
        click.echo(f"  {u.role:<13} {u.username:<22} {u.password}")


# --- serving ----------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--upgrade/--no-upgrade", default=True, show_default=True,
              help="Apply pending migrations before serving.")
def serve(host: str, port: int, upgrade: bool) -> None:
    """Serve the web app and API (threaded development server, for the demo)."""
    from dispatch import migrate

    app = _app()
    if upgrade:
        migrate.upgrade(app.config["DATABASE_URL"])
    click.echo(f"serving on http://{host}:{port}  (API docs at /api/docs)")
    app.run(host=host, port=port, threaded=True, use_reloader=False, debug=False)


# --- triage -----------------------------------------------------------------------------------


@main.command("triage")
@click.argument("source", type=click.File("r"), metavar="FILE|-")
def triage_command(source: Any) -> None:
    """Triage one referral's answers and observations (JSON) and print the disposition as JSON.

    The input is the triage JSON of the API (received_at with a zone, needs, red_flags,
    observations, frailty, risk_tier, pathways_disposition, pathways_timeframe_minutes).
    Exits 2 with the reasons on invalid input.
    """
    from triage import TriageInputError
    from triage.parsing import triage_dict

    try:
        data = json.load(source)
    except json.JSONDecodeError as exc:
        _fail(f"not valid JSON: {exc}")
        return
    try:
        _print_json(triage_dict(data))
    except TriageInputError as exc:
        _fail("invalid triage input:\n" + "\n".join(
            f"  {field}: {'; '.join(reasons)}" for field, reasons in exc.errors.items()))


# --- rosters ----------------------------------------------------------------------------------


@main.group()
def roster() -> None:
    """Import and export rosters as CSV (columns in rosters/ROSTER_CSV.md)."""


@roster.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False), metavar="FILE")
def roster_import(path: str) -> None:
    """Import staff and shifts from a roster CSV; all or nothing, every bad line reported."""
    from pathlib import Path

    from dispatch.db import get_database
    from dispatch.services.rosters import import_roster_csv

    text = Path(path).read_text(encoding="utf-8")
    try:
        with get_database(_app()).session_scope() as session:
            summary = import_roster_csv(session, text=text, now=_now())
    except DispatchError as exc:
        lines = "\n".join(f"  {where}: {r}" for where, rs in exc.errors.items() for r in rs)
        _fail(f"{exc.message}\n{lines}")
        return
    click.echo(f"staff: {summary.staff_created} new, {summary.staff_updated} updated; "
               f"shifts: {summary.shifts_created} new, {summary.shifts_updated} updated")


@roster.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True), metavar="FILE|-")
@click.option("--from", "start", type=click.DateTime(), default=None,
              help="Only shifts ending after this time (UTC).")
@click.option("--to", "end", type=click.DateTime(), default=None,
              help="Only shifts starting before this time (UTC).")
def roster_export(path: str, start: datetime | None, end: datetime | None) -> None:
    """Write staff and their shifts as a roster CSV (importable again)."""
    from pathlib import Path

    from dispatch.db import get_database
    from dispatch.services.rosters import export_roster
    from rosters import write_roster_csv

    with get_database(_app()).session_scope() as session:
        roster_data = export_roster(
            session,
            start=start.replace(tzinfo=UTC) if start else None,
            end=end.replace(tzinfo=UTC) if end else None,
        )
    text = write_roster_csv(roster_data)
    if path == "-":
        click.echo(text, nl=False)
    else:
        Path(path).write_text(text, encoding="utf-8")
        click.echo(f"wrote {len(roster_data.staff)} staff and {len(roster_data.shifts)} shifts to {path}")


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


if __name__ == "__main__":  # pragma: no cover
    main()
