"""``dispatch db upgrade / current``: the database schema (Alembic)."""

from __future__ import annotations

import click

from dispatch.cli.common import app


@click.group()
def db() -> None:
    """Database schema commands (Alembic)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema to the latest migration."""
    from dispatch import migrate

    url = app().config["DATABASE_URL"]
    migrate.upgrade(url, revision)
    click.echo(f"database at revision {migrate.current(url)}")


@db.command("current")
def db_current() -> None:
    """Print the database's current migration revision."""
    from dispatch import migrate

    click.echo(
        migrate.current(app().config["DATABASE_URL"]) or "empty (run `dispatch db upgrade`)"
    )
