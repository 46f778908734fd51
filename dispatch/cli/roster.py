"""``dispatch roster import / export``: rosters as CSV (columns in rosters/ROSTER_CSV.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from dispatch.cli.common import app, fail, now
from dispatch.errors import DispatchError


@click.group()
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
        with get_database(app()).session_scope() as session:
            summary = import_roster_csv(session, text=text, now=now())
    except DispatchError as exc:
        lines = "\n".join(f"  {where}: {r}" for where, rs in exc.errors.items() for r in rs)
        fail(f"{exc.message}\n{lines}")
    click.echo(
        f"staff: {summary.staff_created} new, {summary.staff_updated} updated; "
        f"shifts: {summary.shifts_created} new, {summary.shifts_updated} updated"
    )
    for warning in summary.tier_warnings:
        click.echo(f"Warning: {warning}", err=True)


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

    with get_database(app()).session_scope() as session:
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
