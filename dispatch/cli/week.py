"""``dispatch plan-week``: a week of care-package visits planned together; a preview, or with
``--commit`` written back (today's and tomorrow's offered by SMS, later days provisional)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from dispatch.cli.common import app, fail, print_json

if TYPE_CHECKING:
    from dispatch.planning.week import WeekCommit, WeekPlan


@click.command("plan-week")
@click.option("--network", "network_id", type=click.IntRange(min=1), default=None,
              help="Network id (all networks when left out; required with --commit).")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 14))
@click.option("--seconds", default=10.0, show_default=True, type=click.FloatRange(0.1, 600),
              help="Solver time limit (split over the two continuity phases).")
@click.option("--solution-limit", type=click.IntRange(min=1), default=None,
              help="Stop after this many solutions (a run repeatable from the same rows).")
@click.option("--commit", is_flag=True,
              help="Write the package visits back: today's and tomorrow's offered to their "
                   "worker by SMS, later days booked provisionally. Pinned, offered, "
                   "accepted and other decided visits are left as they are.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan_week(network_id: int | None, days: int, seconds: float,
              solution_limit: int | None, commit: bool, as_json: bool) -> None:
    """Plan the coming days' open visits together: each package visit in its own day's
    window, a patient's calls of one package line at least 2 hours apart, the same carer
    preferred across the week (now: the FIXED_NOW setting if set, else the wall clock).
    Without --commit nothing is assigned or offered (a preview,
    with what --commit would do)."""
    from dispatch.actors import SYSTEM
    from dispatch.clock import now
    from dispatch.db import get_database
    from dispatch.errors import DispatchError
    from dispatch.planning.runs import provider_for
    from dispatch.planning.week import commit_week

    if commit and network_id is None:
        fail("--commit needs --network: a week's plan is written one network at a time")
    application = app()
    try:
        with get_database(application).session_scope() as session:
            done = commit_week(session, now=now(application.config),
                               provider=provider_for(application), network_id=network_id,
                               actor=SYSTEM, days=days,
                               seconds=seconds, solution_limit=solution_limit,
                               dry_run=not commit)
    except DispatchError as exc:
        fail(exc.message)
    if as_json:
        print_json(as_dict(done))
        return
    _echo(done.plan)
    verb = "would be" if done.dry_run else "were"
    click.echo(f"package visits: {done.offered} {verb} offered now (today and tomorrow), "
               f"{done.provisional} {verb} booked provisionally, {done.kept} kept"
               + (f", {done.conflicts} skipped (worker booked meanwhile)"
                  if done.conflicts else ""))
    if done.refused:
        fail("nothing written, it would double-book: " + "; ".join(done.refused), 1)


def as_dict(done: WeekCommit) -> dict[str, object]:
    """The JSON form of a week's plan and what committing it did."""
    found = done.plan
    return {
        "start": found.start.isoformat(), "days": found.days, "dry_run": done.dry_run,
        "offered": done.offered, "provisional": done.provisional, "kept": done.kept,
        "conflicts": done.conflicts, "refused": list(done.refused),
        "worker_changes": found.worker_changes, "seconds": found.seconds,
        "visits": [{"visit_id": v.visit_id, "reference": v.reference,
                    "patient_id": v.patient_id, "staff_id": v.staff_id,
                    "staff": v.staff_name,
                    "start": v.start.isoformat() if v.start else None,
                    "reason": v.reason} for v in found.visits],
    }


def _echo(found: WeekPlan) -> None:
    placed = [v for v in found.visits if v.start is not None]
    click.echo(f"{len(placed)} of {len(found.visits)} visits placed over {found.days} days; "
               f"carer changes {found.worker_changes}; {found.seconds:.1f}s")
    for v in found.visits:
        when = v.start.isoformat(timespec="minutes") if v.start else "not placed"
        click.echo(f"  {v.reference}  patient {v.patient_id}  {when}  "
                   f"{v.staff_name or v.reason}")
