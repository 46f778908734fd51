"""``dispatch plan-week``: preview a week of care-package visits planned together (read-only)."""

from __future__ import annotations

import click

from dispatch.cli.common import app, fail, now, print_json


@click.command("plan-week")
@click.option("--network", "network_id", type=click.IntRange(min=1), default=None,
              help="Network id (all networks when left out).")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 14))
@click.option("--seconds", default=10.0, show_default=True, type=click.FloatRange(0.1, 600),
              help="Solver time limit (split over the two continuity phases).")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan_week(network_id: int | None, days: int, seconds: float, as_json: bool) -> None:
    """Plan the coming days' open visits together: each package visit in its own day's
    window, a patient's calls of one package line at least 2 hours apart, the same carer
    preferred across the week. Nothing is assigned or offered (a preview)."""
    from dispatch.db import get_database
    from dispatch.errors import DispatchError
    from dispatch.planning.runs import provider_for
    from dispatch.planning.week import plan_week as plan

    application = app()
    try:
        with get_database(application).session_scope() as session:
            found = plan(session, now=now(), provider=provider_for(application),
                         network_id=network_id, days=days, seconds=seconds)
    except DispatchError as exc:
        fail(exc.message)
    if as_json:
        print_json({
            "start": found.start.isoformat(), "days": found.days,
            "worker_changes": found.worker_changes, "seconds": found.seconds,
            "visits": [{"visit_id": v.visit_id, "reference": v.reference,
                        "patient_id": v.patient_id, "staff_id": v.staff_id,
                        "staff": v.staff_name,
                        "start": v.start.isoformat() if v.start else None,
                        "reason": v.reason} for v in found.visits],
        })
        return
    placed = [v for v in found.visits if v.start is not None]
    click.echo(f"{len(placed)} of {len(found.visits)} visits placed over {found.days} days; "
               f"carer changes {found.worker_changes}; {found.seconds:.1f}s")
    for v in found.visits:
        when = v.start.isoformat(timespec="minutes") if v.start else "not placed"
        click.echo(f"  {v.reference}  patient {v.patient_id}  {when}  "
                   f"{v.staff_name or v.reason}")
