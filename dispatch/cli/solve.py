"""``dispatch solve``: solve a routing problem file (Solomon or our JSON) without a database."""

from __future__ import annotations

import json

import click

from dispatch.cli.common import fail, print_json


@click.command()
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
    objective is total distance and the vehicle count is free. A problem document with a
    ``slots`` question also gets the best windows for its new visit against the plan made
    (see ``routing/plan_io.py``).
    """
    import dataclasses
    from pathlib import Path

    from routing import plan_io, slots, solomon, solver
    from routing.errors import RoutingError

    question = None
    try:
        if fmt == "solomon":
            instance = solomon.read_solomon(path)
            problem = solomon.to_problem(instance, seed=seed)
        else:
            document = json.loads(Path(path).read_text())
            problem = plan_io.problem_from_dict(document)
            problem = dataclasses.replace(problem, seed=seed) if seed else problem
            question = plan_io.slot_request_from_dict(document)
    except (RoutingError, ValueError, OSError) as exc:
        fail(f"cannot read {path}: {exc}")
    click.echo(
        f"solving {len(problem.visits)} visits on {len(problem.shifts)} shifts "
        f"for {seconds:g}s x {workers} searches...",
        err=True,
    )
    try:
        plan = solver.solve(problem, seconds=seconds, workers=workers)
    except RoutingError as exc:
        fail(str(exc), code=1)
    if fmt == "solomon":
        data = plan_io.plan_to_dict(
            plan,
            problem,
            distance=solomon.plan_distance(instance, plan),
            time_unit=problem.distance_scale,
        )
    else:
        data = plan_io.plan_to_dict(plan, problem)
    if question is not None:
        try:
            data["slots"] = plan_io.slots_to_dict(slots.answer(problem, plan, question))
        except ValueError as exc:
            fail(f"cannot answer the slots question in {path}: {exc}")
    if as_json:
        print_json(data)
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
    for slot in data.get("slots", ()):
        click.echo(f"  slot {slot['earliest']:g}-{slot['deadline']:g} min: {slot['vehicle']} "
                   f"starts at {slot['start']:g}, cost {slot['cost']}")
    if data.get("fallback"):
        click.echo(f"  fallback {data['fallback']}: {data['note']}")
