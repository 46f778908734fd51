"""``dispatch capacity plan``: the cheapest staffing that meets the 2-hour target."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import date, datetime
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # `dispatch --help` must not load the demo, the models or the solver
    from dispatch.capacity.search import PlanResult


@click.group("capacity")
def capacity() -> None:
    """Capacity planning: staffing against the 2-hour standard, by simulation."""


@capacity.command("plan")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="The first simulated day (later days follow it).")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Seed of the first day (later days use seed+1, seed+2, ...).")
@click.option("--target", type=float, default=0.95, show_default=True,
              help="2-hour compliance to meet on every simulated day (0-1).")
@click.option("--network", "networks", multiple=True,
              help="Plan this network only, by code (HF-NORTH) or demo id (1-10, in the "
                   "order the demo loads them) (repeatable). Default: every network.")
@click.option("--growth", type=float, default=1.0, show_default=True,
              help="Demand growth factor: referrals and booked visits times this (1.2: +20 %).")
@click.option("--mix", "mix_text", default=None, metavar="MIX",
              help="Referral mix, a what-if for demand: overall shares of the arrivals, e.g. "
                   "urgent=0.45,24h=0.30 (names: urgent, 24h, planned, signpost, 999; shares "
                   "0-1 or 45%%), or a JSON file of the same; categories left out share the "
                   "rest in their usual proportions. Default: each risk stratum's usual mix.")
@click.option("--days", type=int, default=3, show_default=True,
              help="Searched days: every candidate staffing is played on these.")
@click.option("--holdout", type=int, default=2, show_default=True,
              help="Held-out days (other seeds and dates) the answer must also meet the target "
                   "on before it is recommended (0: none).")
@click.option("--held-out-visits", type=int, default=40, show_default=True,
              help="Each confirmation plays more held-out days than --holdout, up to 7, when "
                   "the searched days suggest fewer 2-hour visits than this over them (one "
                   "network alone has a handful a day; 0: just --holdout days).")
@click.option("--holdout-margin", type=float, default=0.03, show_default=True,
              help="The held-out days together must meet the target and no one of them fall "
                   "more than this below it (0: the target on every held-out day).")
@click.option("--confidence", type=float, default=0.8, show_default=True,
              help="A network passes when the lower confidence bound of its compliance over "
                   "the searched days reaches the target, at this confidence (0: the share).")
@click.option("--max-rounds", type=int, default=8, show_default=True,
              help="At most this many rounds (each plays every searched or held-out day).")
@click.option("--jobs", type=int, default=None,
              help="Days played at once, in forked processes. Default: one a core.")
@click.option("--patients", type=int, default=20_000, show_default=True,
              help="Size of the demo register the referrals are drawn from.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--quiet", is_flag=True, help="No progress lines.")
def plan_command(day: datetime, seed: int, target: float, networks: tuple[str, ...],
                 growth: float, mix_text: str | None, days: int, holdout: int,
                 held_out_visits: int, holdout_margin: float, confidence: float,
                 max_rounds: int,
                 jobs: int | None, patients: int, as_json: bool, quiet: bool) -> None:
    """Search staffing (nurses and hybrid workers per shift pattern per network) by playing
    simulated days through the real planner and field model: each network's team is bisected
    on the searched days (--days), then the answer is played on held-out days (--holdout) it
    was not fitted to. Prints the cheapest staffing that met TARGET 2-hour compliance on every
    searched day and over the held-out days (none of them more than --holdout-margin below),
    its cost per week, the compliance and utilisation it reached on the held-out days, and
    the next-cheapest staffing that missed (and by how much).

    The JSON is a staffing file: `dispatch simulate --staffing FILE` plays any other day with
    it. Progress goes to stderr. Exit status 1 when no staffing met the target, 2 on bad
    input (a bad --mix says which part and why).
    """
    from dispatch.capacity.search import ALL_NETWORKS, PlanRequest, plan
    from dispatch.simulation.cli import parse_mix

    logging.getLogger("dispatch").setLevel(logging.ERROR)
    try:
        codes = tuple(network_code(n) for n in networks)
        workers = jobs if jobs is not None else max(1, min(days, os.cpu_count() or 1))
        request = PlanRequest(day=date(day.year, day.month, day.day), seed=seed, target=target,
                              networks=codes or ALL_NETWORKS, growth=growth, days=days,
                              max_rounds=max_rounds, patients=patients,
                              mix=parse_mix(mix_text), confidence=confidence,
                              holdout=holdout, holdout_margin=holdout_margin,
                              held_out_visits=held_out_visits, jobs=workers)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc

    def progress(share: float, line: str) -> None:
        if not quiet:
            click.echo(f"[{share:4.0%}] {line}", err=True)

    result = plan(request, progress=progress)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, sort_keys=True))
    else:
        click.echo(summary(result))
    if result.recommended is None:
        sys.exit(1)


def network_code(value: str) -> str:
    """A network code from a code or the demo's database id (networks load in layout order)."""
    from dispatch.capacity.search import ALL_NETWORKS

    if value.isdigit() and 1 <= int(value) <= len(ALL_NETWORKS):
        return ALL_NETWORKS[int(value) - 1]
    return value.upper()


def summary(result: PlanResult) -> str:
    """The result in words, for people."""
    best, missed = result.recommended, result.next_cheapest_missed
    req = result.request
    from dispatch.capacity.search import uncovered
    from dispatch.simulation import mix as mixes

    lines = [f"Capacity plan, {len(req.networks)} network(s), target {req.target:.0%}, "
             f"growth {req.growth:g}, mix {mixes.describe(req.mix)}, "
             f"{result.simulated_days} simulated days, {result.wall_seconds:.0f} s"]
    if best is None:
        lines.append("No staffing met the target on every searched day and on the held-out "
                     "days.")
        if result.stopped:
            lines.append(f"Stopped: {result.stopped}")
    else:
        lines.append(f"Recommended: £{best.cost_per_week:,.0f} a week, 2-hour compliance "
                     f"{best.compliance:.1%} (worst {best.kind} day), {best.pooled:.1%} over "
                     f"those days, utilisation {best.utilisation:.1%}")
        if best.margin and best.compliance < req.target:
            lines.append(f"  (the held-out days together met {req.target:.0%}; the worst was "
                         f"within {req.holdout_margin * 100:g} points of it, as allowed)")
        for code, team in best.staffing.to_json(req.networks)["networks"].items():
            parts = ", ".join(f"{p} " + " ".join(f"{n} {r.replace('_', ' ')}"
                                                   for r, n in roles.items())
                              for p, roles in team.items())
            lines.append(f"  {code}: {parts}")
    gaps = uncovered(best.staffing, req.networks) if best is not None else {}
    if gaps:
        lines.append("No nurse or hybrid worker on some shifts (2-hour referrals then wait for "
                     "the next shift): " + "; ".join(f"{code} {', '.join(patterns)}"
                                                     for code, patterns in gaps.items()))
    if result.tolerated:
        lines.append("Misses more staff did not fix (tolerated on the searched days): "
                     + ", ".join(f"{c} {n}" for c, n in result.tolerated.items()))
    if result.unmet:
        lines.append(f"Missed on a searched day even at the top of the ladder: "
                     f"{', '.join(result.unmet)}")
    if missed is not None:
        lines.append(f"Next cheapest tried: £{missed.cost_per_week:,.0f} a week missed by "
                     f"{req.target - missed.compliance:.1%} (worst day {missed.compliance:.1%})")
    return "\n".join(lines)
