"""``dispatch audit overrides``: reports from the audit trail."""

from __future__ import annotations

import json

import click

from dispatch.cli.common import app, fail, now


@click.group()
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
    from dispatch.services.care_plan_access import LONDON, view_overrides

    try:
        wanted = date_type.fromisoformat(day) if day else now().astimezone(LONDON).date()
    except ValueError:
        fail(f"--date: {day!r} is not a date like 2026-12-01")
    with get_database(app()).session_scope() as session:
        entries = view_overrides(session, day=wanted, actor=SYSTEM, now=now(),
                                 purpose="Caldicott guardian review (CLI)")
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
