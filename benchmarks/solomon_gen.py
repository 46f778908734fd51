"""Instances in the structure of Solomon's (1987) six classes, for tuning the search.

Why: the 20 published instances we have are too few to tune on and judge on at once. These
follow the published generator's recipe (Solomon 1987, section 4): customers clustered (C),
uniformly random (R) or half of each (RC) on a 100 x 100 square, a central depot, one
vehicle type; type 1 classes have a short horizon and small vehicles (few customers per
route), type 2 a long horizon and large vehicles. A share of the customers (``windowed``:
25, 50, 75 or 100 %) get a time window around a reachable centre, the rest keep the depot's
horizon. Everything is integer, as in the published files, and a pure function of
``(cls, customers, seed, windowed)``.

    .venv/bin/python benchmarks/solomon_gen.py R1 100 7 --windowed 0.5 > R1-100-7.txt
"""

from __future__ import annotations

import argparse
import math
import random
from dataclasses import dataclass

from routing.solomon import SolomonCustomer, SolomonInstance


@dataclass(frozen=True)
class ClassShape:
    """What sets a class apart (figures read off the published files of each class)."""

    horizon: int  # depot due time
    capacity: int
    service: int
    demand: tuple[int, int]
    half_width: tuple[int, int]  # half of a window's width, drawn uniformly
    clustered: float  # share of customers placed around cluster centres


SHAPES = {
    "C1": ClassShape(1236, 200, 90, (10, 40), (20, 60), 1.0),
    "C2": ClassShape(3390, 700, 90, (10, 40), (60, 320), 1.0),
    "R1": ClassShape(230, 200, 10, (1, 41), (5, 30), 0.0),
    "R2": ClassShape(1000, 1000, 10, (1, 41), (30, 250), 0.0),
    "RC1": ClassShape(240, 200, 10, (10, 40), (15, 30), 0.5),
    "RC2": ClassShape(960, 1000, 10, (10, 40), (60, 250), 0.5),
}


def generate(
    cls: str, customers: int = 100, seed: int = 0, *, windowed: float = 1.0
) -> SolomonInstance:
    """A Solomon-style instance of class ``cls`` (C1, C2, R1, R2, RC1 or RC2)."""
    shape = SHAPES[cls]
    rng = random.Random(f"{cls}-{customers}-{seed}-{windowed}")
    depot = SolomonCustomer(0, 50, 50, 0, 0, shape.horizon, 0)
    centres = [(rng.randint(10, 90), rng.randint(10, 90)) for _ in range(max(4, customers // 10))]
    rows = []
    for number in range(1, customers + 1):
        if rng.random() < shape.clustered:
            cx, cy = rng.choice(centres)
            x = min(100, max(0, round(rng.gauss(cx, 4))))
            y = min(100, max(0, round(rng.gauss(cy, 4))))
        else:
            x, y = rng.randint(0, 100), rng.randint(0, 100)
        there = math.ceil(math.hypot(x - depot.x, y - depot.y))
        latest_start = shape.horizon - there - shape.service  # must be able to get back
        ready, due = 0, latest_start
        if rng.random() < windowed:
            centre = rng.randint(there, max(there, latest_start))
            half = rng.randint(*shape.half_width)
            ready, due = max(0, centre - half), min(latest_start, centre + half)
            ready = min(ready, due)
        demand = rng.randint(*shape.demand)
        rows.append(SolomonCustomer(number, x, y, demand, ready, due, shape.service))
    vehicles = 25 if customers <= 100 else customers // 4
    name = f"G{cls}-{customers}-{seed}" + ("" if windowed == 1.0 else f"-w{int(windowed * 100)}")
    return SolomonInstance(name, vehicles, shape.capacity, depot, tuple(rows))


def to_text(instance: SolomonInstance) -> str:
    """The instance in the published text format (:func:`routing.solomon.read_solomon` reads it)."""
    lines = [
        instance.name,
        "",
        "VEHICLE",
        "NUMBER     CAPACITY",
        f"  {instance.vehicles}         {instance.capacity}",
        "",
        "CUSTOMER",
        "CUST NO.   XCOORD.    YCOORD.    DEMAND  READY TIME   DUE DATE   SERVICE TIME",
        "",
    ]
    for c in (instance.depot, *instance.customers):
        lines.append(
            f"{c.number:5d} {int(c.x):10d} {int(c.y):10d} {c.demand:10d} {c.ready:10d} "
            f"{c.due:10d} {c.service:10d}"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cls", choices=sorted(SHAPES))
    parser.add_argument("customers", type=int)
    parser.add_argument("seed", type=int)
    parser.add_argument("--windowed", type=float, default=1.0)
    args = parser.parse_args()
    print(to_text(generate(args.cls, args.customers, args.seed, windowed=args.windowed)), end="")


if __name__ == "__main__":
    main()
