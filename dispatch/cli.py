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

from dispatch.clock import wall_clock
from dispatch.errors import DispatchError


def _app() -> Flask:
    """The app from the DISPATCH_* settings; a setting production refuses is a message and
    exit 2, not a traceback."""
    from dispatch import ConfigurationError, create_app

    try:
        return create_app()
    except ConfigurationError as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits


def _now() -> datetime:
    """The wall clock, read once at the edge (commands), never inside a rule."""
    return wall_clock()


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

    click.echo(
        migrate.current(_app().config["DATABASE_URL"]) or "empty (run `dispatch db upgrade`)"
    )


# --- users ------------------------------------------------------------------------------------


@main.group()
def user() -> None:
    """User accounts and API tokens."""


@user.command("add")
@click.argument("name")
@click.option(
    "--role", required=True, help="call_handler, coordinator, field_staff, manager or admin."
)
@click.option("--display-name", default=None, help="Name shown on screens (defaults to NAME).")
@click.option("--password", default=None, help="Web sign-in password (omit for API-only users).")
@click.option("--staff", "staff_id", type=int, default=None,
              help="Field staff: the staff id this account is (required for field_staff; an "
                   "unlinked field-staff account would see nothing).")
def user_add(
    name: str, role: str, display_name: str | None, password: str | None, staff_id: int | None
) -> None:
    """Create a user and print their API token once, alone on the last line."""
    from dispatch.db import get_database
    from dispatch.permissions import FIELD_STAFF
    from dispatch.services.users import add_user

    if role == FIELD_STAFF and staff_id is None:
        _fail("a field_staff user needs --staff ID (the member of staff they are)")
        return
    app = _app()
    try:
        with get_database(app).session_scope() as session:
            created = add_user(
                session,
                username=name,
                role=role,
                display_name=display_name,
                password=password,
                staff_id=staff_id,
                now=_now(),
            )
            username, user_role = created.user.username, created.user.role
    except DispatchError as exc:
        detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.errors.items())
        _fail(f"{exc.message}{': ' + detail if detail else ''}")
        return
    click.echo(f"created {username} ({user_role}); the API token is shown only once:")
    click.echo(created.token)


from dispatch.cli_users import COMMANDS as _USER_COMMANDS  # noqa: E402

for _command in _USER_COMMANDS:  # list, disable, unlock, revoke-token
    user.add_command(_command)


# --- audit ------------------------------------------------------------------------------------


@main.group()
def audit() -> None:
    """Reports from the audit trail."""


@audit.command("overrides")
@click.option("--date", "day", default=None, metavar="YYYY-MM-DD",
              help="The London day to report (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON.")
def audit_overrides(day: str | None, as_json: bool) -> None:
    """The Caldicott guardian's daily report: every care plan read without consent (emergency
    override) on a day: when, who, patient id, purpose and the reason given. The run is audited."""
    from datetime import date as date_type

    from dispatch.actors import SYSTEM
    from dispatch.db import get_database
    from dispatch.services import audit as audit_service
    from dispatch.services.care_plan_access import LONDON, overrides_on

    try:
        wanted = date_type.fromisoformat(day) if day else _now().astimezone(LONDON).date()
    except ValueError:
        _fail(f"--date: {day!r} is not a date like 2026-12-01")
        return
    with get_database(_app()).session_scope() as session:
        entries = overrides_on(session, day=wanted)
        audit_service.record(session, actor=SYSTEM, action="view_override_report", now=_now(),
                             purpose="Caldicott guardian review (CLI)",
                             details={"date": wanted.isoformat(), "overrides": len(entries)})
    if as_json:
        click.echo(json.dumps({"date": wanted.isoformat(), "overrides": [
            {"at": e.at.isoformat(), "username": e.username, "role": e.role,
             "patient_id": e.patient_id, "purpose": e.purpose, "purpose_label": e.purpose_label,
             "text": e.text} for e in entries]}, indent=2))
        return
    click.echo(f"{len(entries)} emergency care plan override(s) on {wanted.isoformat()}")
    for e in entries:
        click.echo(f"{e.at.astimezone(LONDON):%H:%M}  {e.username} ({e.role})  patient "
                   f"{e.patient_id}  {e.purpose_label}: {e.text}")


# --- demo data --------------------------------------------------------------------------------


@main.command("demo-data")
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
        when = datetime.fromisoformat(at) if at else _now()
    except ValueError:
        _fail(f"--now {at!r} is not an ISO 8601 time")
        return
    if when.tzinfo is None:
        _fail("--now needs a time zone, for example 2026-12-01T09:00:00+00:00")
    app = _app()
    if app.config.get("ENV") == "production":
        _fail("demo-data is refused when DISPATCH_ENV is production: it loads synthetic "
              "patients and users whose passwords it prints")
    migrate.upgrade(app.config["DATABASE_URL"])
    try:
        summary = load_demo(
            get_database(app).engine,
            seed=seed,
            patients=DEFAULT_PATIENTS if patients is None else patients,
            now=when,
            progress=click.echo,
        )
    except DatabaseNotEmpty as exc:
        if if_empty:
            click.echo("demo data already loaded; nothing to do")
            return
        _fail(str(exc), code=1)
        return
    except DemoDataError as exc:
        _fail(str(exc), code=1)
        return
    from dispatch.services.tariffs import ensure_default_tariff

    with get_database(app).session_scope() as session:
        ensure_default_tariff(session, when.date())
    click.echo("\nDemo sign-ins (shown once; synthetic data only):")
    for u in summary.users:
        click.echo(f"  {u.role:<13} {u.username:<22} {u.password}")


# --- serving ----------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--upgrade/--no-upgrade",
    default=True,
    show_default=True,
    help="Apply pending migrations before serving.",
)
@click.option(
    "--jobs/--no-jobs",
    default=True,
    show_default=True,
    help="Also run the background jobs in this process (if no scheduler runs).",
)
@click.option(
    "--demo-activity/--no-demo-activity",
    default=False,
    show_default=True,
    help="Play live demo activity with the jobs: synthetic 111 referrals and staff SMS replies "
    "(refused when ENV is production).",
)
def serve(host: str, port: int, upgrade: bool, jobs: bool, demo_activity: bool) -> None:
    """Serve the web app and API (threaded server, for the demo), with the jobs in-process."""

    from dispatch import migrate
    from dispatch.db import get_database
    from dispatch.jobs.lock import LeaderLock
    from dispatch.jobs.runner import build_scheduler

    _configure_logging()
    app = _app()
    if demo_activity:
        from dispatch.simulation.live_demo import DemoActivityRefused, refuse_in_production

        try:
            refuse_in_production(app.config)
        except DemoActivityRefused as exc:
            _fail(str(exc))
        app.config["DEMO_ACTIVITY"] = True
    if upgrade:
        migrate.upgrade(app.config["DATABASE_URL"])
    if jobs:
        lock = LeaderLock(get_database(app).engine)
        if lock.acquire():
            from routing.solver import isolate_searches

            isolate_searches()  # keep solves off this process's GIL: requests stay fast
            build_scheduler(app, blocking=False).start()
            click.echo("background jobs running in this process")
        else:
            click.echo("another scheduler holds the lock; this process serves web requests only")
    click.echo(f"serving on http://{host}:{port}  (API docs at /api/docs)")
    app.run(host=host, port=port, threaded=True, use_reloader=False, debug=False)


@main.command()
@click.option(
    "--standby-seconds",
    default=5.0,
    show_default=True,
    type=float,
    help="While another scheduler runs, how often to try to take over.",
)
def scheduler(standby_seconds: float) -> None:
    """Run the background jobs (SMS sender, planner, deadline watch) in this process only.

    Exactly one scheduler runs jobs: a second one waits on standby until the first stops.
    """
    import time

    from dispatch.db import get_database
    from dispatch.jobs.lock import LeaderLock
    from dispatch.jobs.runner import build_scheduler

    _configure_logging()
    app = _app()
    lock = LeaderLock(get_database(app).engine)
    announced = False
    while not lock.acquire():
        if not announced:
            click.echo("another scheduler is running; standing by", err=True)
            announced = True
        time.sleep(standby_seconds)
    click.echo("scheduler running (Ctrl-C stops)")
    try:
        build_scheduler(app, blocking=True).start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        lock.release()


# --- triage -----------------------------------------------------------------------------------


@main.command("triage")
@click.argument("source", type=click.File("r"), metavar="FILE|-")
def triage_command(source: Any) -> None:
    """Triage one referral's answers and observations (JSON) and print the disposition as JSON.

    The input is the triage JSON of the API (received_at with a zone, needs, red_flags,
    red_flag_answers, observations, frailty, risk_tier, pathways_disposition,
    pathways_timeframe_minutes, age or age_years or date_of_birth). Exits 2 with the reasons
    on invalid input, and when there is nothing to triage (no needs, no red-flag answer, no
    observations).
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
        _fail(
            "invalid triage input:\n"
            + "\n".join(f"  {field}: {'; '.join(reasons)}" for field, reasons in exc.errors.items())
        )


# --- solve ------------------------------------------------------------------------------------


@main.command()
@click.argument(
    "path", type=click.Path(exists=True, dir_okay=False, allow_dash=False), metavar="FILE"
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["solomon", "problem"]),
    default="solomon",
    show_default=True,
    help="Solomon VRPTW text, or our JSON problem document.",
)
@click.option(
    "--seconds",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0.1, max=3600),
    help="Solver time limit (each parallel search).",
)
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 4),
    help="Differently started searches run in parallel; the best is kept.",
)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def solve(path: str, fmt: str, seconds: float, workers: int, seed: int, as_json: bool) -> None:
    """Solve a routing problem file and print the plan (routes, distance, unassigned).

    For Solomon files visit ids are the customer numbers, travel time is the Euclidean
    distance (rounded up when scaled, so plans are feasible with real distances), the
    objective is total distance and the vehicle count is free.
    """
    import dataclasses
    from pathlib import Path

    from routing import plan_io, solomon, solver
    from routing.errors import RoutingError

    try:
        if fmt == "solomon":
            instance = solomon.read_solomon(path)
            problem = solomon.to_problem(instance, seed=seed)
        else:
            problem = plan_io.problem_from_dict(json.loads(Path(path).read_text()))
            problem = dataclasses.replace(problem, seed=seed) if seed else problem
    except (RoutingError, ValueError, OSError) as exc:
        _fail(f"cannot read {path}: {exc}")
        return
    click.echo(
        f"solving {len(problem.visits)} visits on {len(problem.shifts)} shifts "
        f"for {seconds:g}s x {workers} searches...",
        err=True,
    )
    try:
        plan = solver.solve(problem, seconds=seconds, workers=workers)
    except RoutingError as exc:
        _fail(str(exc), code=1)
        return
    if fmt == "solomon":
        data = plan_io.plan_to_dict(
            plan,
            problem,
            distance=solomon.plan_distance(instance, plan),
            time_unit=problem.distance_scale,
        )
    else:
        data = plan_io.plan_to_dict(plan, problem)
    if as_json:
        _print_json(data)
        return
    click.echo(
        f"distance {data['distance']:.2f}  vehicles {data['vehicles']}  "
        f"travel {data['travel_minutes']} min  unassigned {len(data['unassigned'])}  "
        f"in {data['seconds']}s"
    )
    for route in data["routes"]:
        click.echo(f"  {route['vehicle']}: {' '.join(route['visits'])}")
    for item in data["unassigned"]:
        click.echo(f"  unassigned {item['id']}: {item['reason']}")
    if data.get("fallback"):
        click.echo(f"  fallback {data['fallback']}: {data['note']}")


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
    click.echo(
        f"staff: {summary.staff_created} new, {summary.staff_updated} updated; "
        f"shifts: {summary.shifts_created} new, {summary.shifts_updated} updated"
    )


@roster.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True), metavar="FILE|-")
@click.option(
    "--from",
    "start",
    type=click.DateTime(),
    default=None,
    help="Only shifts ending after this time (UTC).",
)
@click.option(
    "--to",
    "end",
    type=click.DateTime(),
    default=None,
    help="Only shifts starting before this time (UTC).",
)
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
        click.echo(
            f"wrote {len(roster_data.staff)} staff and {len(roster_data.shifts)} shifts to {path}"
        )


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


from dispatch.simulation.cli import simulate  # noqa: E402  (the simulate command)

main.add_command(simulate)


def _configure_logging() -> None:
    """INFO for our own loggers; the job scheduler's per-run lines (every second) and the
    twilio client's request dumps only from WARNING, so the console shows what happened."""
    import logging

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("apscheduler", "twilio.http_client"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


if __name__ == "__main__":  # pragma: no cover
    main()

