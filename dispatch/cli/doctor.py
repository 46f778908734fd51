"""``dispatch doctor``: say what in the configuration would stop the service doing its job."""

from __future__ import annotations

import sys

import click


@click.command()
@click.option("--offline", is_flag=True,
              help="Skip the network checks (OSRM / Nominatim reachability).")
def doctor(offline: bool) -> None:
    """Check the configuration, database, SMS, travel provider and scheduler; say what is wrong.

    Exits 1 when something would stop the service doing its job.
    """
    from dispatch.doctor import FAIL, load_settings, run_checks

    findings = run_checks(load_settings(), network=not offline)
    for finding in findings:
        click.echo(f"{finding.status:<4}  {finding.area:<13} {finding.message}")
    failed = [f for f in findings if f.status == FAIL]
    if failed:
        click.echo(f"{len(failed)} problem(s) found", err=True)
        sys.exit(1)
    click.echo("no problems found")
