"""``dispatch simulate``: play a simulated day and print its KPIs (listed in dispatch.cli)."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dispatch.simulation.demand import default_daily_referrals
from dispatch.simulation.types import (
    DEFAULT_BOOKED,
    DEFAULT_OFFER_LEAD_MINUTES,
    POLICIES,
    SimulationConfig,
)

if TYPE_CHECKING:  # the engine imports the solver: only the command itself loads it
    from dispatch.demo.staffing import Staffing
    from dispatch.simulation.day import DayResult

DEFAULT_REFERRALS = float(round(default_daily_referrals()))


def _progress(line: str) -> None:
    click.echo(line, err=True)


@click.command("simulate")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same day.")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default="2026-12-01",
              show_default=True, help="The day to play (Europe/London).")
@click.option("--policy", type=click.Choice(POLICIES), default="optimised", show_default=True,
              help="optimised (the planner) or nearest (nearest free skilled worker).")
@click.option("--compare", "both", is_flag=True, help="Run both policies on identical demand.")
@click.option("--patients", type=int, default=20_000, show_default=True,
              help="Size of the demo register the referrals are drawn from.")
@click.option("--referrals", type=float, default=DEFAULT_REFERRALS,
              show_default=True, help="Expected referrals arriving 07:00-22:00 (tri-borough).")
@click.option("--booked", type=int, default=DEFAULT_BOOKED, show_default=True,
              help="Visits already on the books at the start of the day: district nursing, "
                   "and home care calls for the top two risk strata in their rounds.")
@click.option("--offer-lead", "offer_lead", type=click.IntRange(min=0),
              default=DEFAULT_OFFER_LEAD_MINUTES, show_default=True, metavar="MINUTES",
              help="The planner texts offers for work due to start within this many minutes "
                   "(2-hour visits always at once); later work is booked provisionally and "
                   "stays movable. 0: offer every planned visit at once.")
@click.option("--staffing", "staffing_path", type=click.Path(dir_okay=False), default=None,
              help="A staffing file (JSON, the shape `dispatch capacity plan --json` prints): "
                   "workers per network and shift pattern. Default: the calibrated demo teams.")
@click.option("--network", "networks", multiple=True, metavar="CODE",
              help="Play only this network's demand, with nobody rostered elsewhere, as "
                   "`dispatch capacity plan --network` plays it (repeatable; 'all': every "
                   "network). Default: the staffing file's own \"scope\" when it has one "
                   "(a one-network plan is checked as it was planned), else every network.")
@click.option("--growth", type=float, default=1.0, show_default=True,
              help="Demand growth factor: scales --referrals and --booked (1.2 = next winter).")
@click.option("--mix", "mix_text", default=None, metavar="MIX",
              help="Referral mix, a what-if for demand: overall shares of the arrivals, e.g. "
                   "urgent=0.45,24h=0.30 (names: urgent, 24h, planned, signpost, 999; shares "
                   "0-1 or 45%%), or a JSON file of the same; categories left out share the "
                   "rest in their usual proportions. Default: each risk stratum's usual mix.")
@click.option("--staff-travel-modes", is_flag=True,
              help="Workers travel by their roster's mode, planned and moved alike "
                   "(default: everyone by car).")
@click.option("--double-handed", "double_handed", type=click.FloatRange(0, 1), default=0.0,
              show_default=True,
              help="Share of day-response referrals that are two-person hoist transfers.")
@click.option("--database", default=None,
              help="An empty database URL to use (default: a temporary SQLite file).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), default=None,
              help="Write an HTML report with charts to this file.")
@click.option("--json", "as_json", is_flag=True, help="Print the KPIs as JSON.")
@click.option("--quiet", is_flag=True, help="No progress lines.")
def simulate(seed: int, day: datetime, policy: str, both: bool, patients: int,
                     referrals: float, booked: int, staffing_path: str | None,
                     networks: tuple[str, ...], growth: float,
                     mix_text: str | None, staff_travel_modes: bool, double_handed: float,
                     database: str | None, report_path: str | None, as_json: bool,
                     quiet: bool, offer_lead: int) -> None:
    """Play a simulated day of the service on the real code and print its KPIs.

    The roster is the calibrated demo team of each network (busy 60-65 % of its rostered
    time on the default day, 440 booked visits, and meeting 95 % of 2-hour responses on the
    seeds measured) unless --staffing names another.
    Referrals arrive through the day (rates from the seeds' risk strata, see
    dispatch/simulation/demand.py), staff answer offers by SMS, travel and visit with noise,
    and now and then fall ill; the planner, the deadline watch and the outbox run on a
    simulated clock. Progress goes to stderr, the KPIs to stdout.
    """
    from dispatch.simulation import day as days

    logging.getLogger("dispatch").setLevel(logging.ERROR)
    try:
        staffing = read_staffing(staffing_path) if staffing_path else None
        scope = play_scope(networks, staffing_path)
        if scope is not None:
            from dispatch.demo.geography import NETWORK_LAYOUT
            from dispatch.demo.staffing import Staffing

            staffing = (staffing or Staffing()).alone(scope, [c for c, *_ in NETWORK_LAYOUT])
            if not quiet:
                _progress(f"playing {', '.join(scope)} only, nobody rostered elsewhere"
                          + ("" if networks else " (the staffing file's scope; --network all "
                                                 "plays every network)"))
        if growth <= 0:
            raise ValueError(f"--growth must be above 0, got {growth}")
        config = SimulationConfig(seed=seed, day=date(day.year, day.month, day.day),
                                  policy=policy, patients=patients,
                                  referrals=referrals * growth, booked=round(booked * growth),
                                  staff_travel_modes=staff_travel_modes, staffing=staffing,
                                  double_handed=double_handed, mix=parse_mix(mix_text),
                                  offer_lead_minutes=offer_lead or None, networks=scope)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if both and database:
        raise click.UsageError("--compare runs on temporary databases; leave out --database")
    progress = None if quiet else _progress
    if both:
        results = days.compare(config, progress=progress)
    else:
        results = {policy: days.simulate(replace(config, policy=policy), database_url=database,
                                    progress=progress)}
    _output(results, as_json, both)
    if report_path:
        from dispatch.simulation.report import html_report

        title = f"Simulated day {config.day.isoformat()}, seed {seed}"
        Path(report_path).write_text(html_report(results, title), encoding="utf-8")
        click.echo(f"report written to {report_path}", err=True)
    for result in results.values():
        click.echo(f"[{result.config.policy}] wall time {result.wall_seconds:.1f} s", err=True)


def parse_mix(text: str | None) -> tuple[tuple[str, float], ...] | None:
    """``--mix`` as a complete mix (None: the default). :raise MixError: with the part at fault
    (a ``ValueError``: the commands turn it into a usage error, exit status 2)."""
    if text is None:
        return None
    from dispatch.simulation import demand, mix

    return demand.resolve_mix(mix.parse(text))


def read_staffing(path: str) -> Staffing:
    """A staffing file, checked against the demo's networks. :raise StaffingError:"""
    from dispatch.demo import staffing as staffing_file
    from dispatch.demo.geography import NETWORK_LAYOUT

    staffing = staffing_file.load(path)
    staffing_file.check_networks(staffing, [code for code, *_ in NETWORK_LAYOUT])
    return staffing


def play_scope(networks: tuple[str, ...], staffing_path: str | None) -> tuple[str, ...] | None:
    """The networks to play: ``--network`` (``all``: every one, None), else a staffing file's
    ``scope`` narrower than the service (a one-network plan's file), else None (every one).
    :raise ValueError: an unknown network, or a file whose scope is not a list of them."""
    from dispatch.demo.geography import NETWORK_LAYOUT

    known = [code for code, *_ in NETWORK_LAYOUT]
    asked: list[str] = [n.upper() for n in networks]
    if not asked and staffing_path:
        scope = json.loads(Path(staffing_path).read_text(encoding="utf-8")).get("scope")
        if scope is not None and (not isinstance(scope, list)
                                  or not all(isinstance(c, str) for c in scope)):
            raise ValueError(f'{staffing_path}: "scope" must be a list of network codes')
        asked = [c.upper() for c in scope or ()]
    if not asked or "ALL" in asked or set(asked) >= set(known):
        return None
    unknown = sorted(set(asked) - set(known))
    if unknown:
        raise ValueError(f"unknown network {', '.join(unknown)}; expected one of "
                         f"{', '.join(known)} or all")
    return tuple(dict.fromkeys(asked))


def _output(results: dict[str, DayResult], as_json: bool, both: bool) -> None:
    if as_json:
        data = ({p: r.kpis for p, r in results.items()} if both
                else next(iter(results.values())).kpis)
        if both:
            data["difference"] = difference(results)
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    from dispatch.simulation.report import table

    click.echo(table(results))
    if both:
        click.echo("\noptimised minus nearest: " + json.dumps(difference(results)))


def difference(results: dict[str, DayResult]) -> dict[str, float]:
    """Optimised minus nearest on the headline figures."""
    a, b = results["optimised"].kpis, results["nearest"].kpis
    return {
        "urgent_2h_compliance": round(a["urgent_2h"]["compliance"]
                                      - b["urgent_2h"]["compliance"], 4),
        "response_24h_compliance": round(a["response_24h"]["compliance"]
                                         - b["response_24h"]["compliance"], 4),
        "travel_minutes_per_visit": round(a["travel_minutes_per_visit"]
                                          - b["travel_minutes_per_visit"], 2),
    }




