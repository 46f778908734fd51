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


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


if __name__ == "__main__":  # pragma: no cover
    main()
