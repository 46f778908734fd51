"""Solomon (1987) VRPTW instances: read the text format and turn it into a RoutingProblem.

Travel time equals Euclidean distance. Times and distances are scaled to integers by
``scale``; travel times are rounded **up** (exactly, with integer square roots) so any
integer-feasible plan is feasible with real-valued distances. The distance objective is
rounded to nearest and the exact real distance of a plan comes from :func:`plan_distance`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from routing.errors import SolomonFormatError
from routing.types import RoutingPlan, RoutingProblem, Shift, Visit

#: Default integer units per Solomon distance unit (0.001 resolution).
DEFAULT_SCALE = 1000
_COLUMNS = 7


@dataclass(frozen=True)
class SolomonCustomer:
    """One row of the customer table (number 0 is the depot)."""

    number: int
    x: float
    y: float
    demand: int
    ready: int
    due: int
    service: int


@dataclass(frozen=True)
class SolomonInstance:
    """A parsed instance: name, fleet, capacity and the depot followed by the customers."""

    name: str
    vehicles: int
    capacity: int
    depot: SolomonCustomer
    customers: tuple[SolomonCustomer, ...]

    def euclidean(self, a: int, b: int) -> float:
        """Real distance between location indices ``a`` and ``b`` (0 is the depot)."""
        points = (self.depot, *self.customers)
        return math.hypot(points[a].x - points[b].x, points[a].y - points[b].y)


def read_solomon(path: str | Path) -> SolomonInstance:
    """Parse a Solomon text file (LF or CRLF line endings).

    Raises
    ------
    SolomonFormatError
        If the vehicle line or the customer table is missing or malformed.
    """
    text = Path(path).read_text(encoding="utf-8")
    return parse_solomon(text)


def parse_solomon(text: str) -> SolomonInstance:
    """Parse the contents of a Solomon file (see :func:`read_solomon`)."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        raise SolomonFormatError("empty Solomon file")
    try:
        head = next(k for k, line in enumerate(lines) if line.upper().startswith("NUMBER"))
        vehicles, capacity = (int(v) for v in lines[head + 1].split()[:2])
    except (StopIteration, ValueError, IndexError) as exc:
        raise SolomonFormatError("missing or malformed VEHICLE NUMBER/CAPACITY line") from exc
    rows = [_customer(line) for line in lines[head + 2 :] if _is_row(line)]
    if len(rows) < 2 or rows[0].number != 0:
        raise SolomonFormatError("the customer table needs the depot (0) and one customer")
    return SolomonInstance(lines[0], vehicles, capacity, rows[0], tuple(rows[1:]))


def _is_row(line: str) -> bool:
    parts = line.split()
    return len(parts) == _COLUMNS and parts[0].isdigit()


def _customer(line: str) -> SolomonCustomer:
    number, x, y, demand, ready, due, service = line.split()
    return SolomonCustomer(
        int(number),
        float(x),
        float(y),
        int(float(demand)),
        int(float(ready)),
        int(float(due)),
        int(float(service)),
    )


def _ceil_scaled(dx: float, dy: float, scale: int) -> int:
    """``ceil(hypot(dx, dy) * scale)``, exact for integer coordinates (never rounds down)."""
    if float(dx).is_integer() and float(dy).is_integer():
        squared = (int(dx) ** 2 + int(dy) ** 2) * scale * scale
        root = math.isqrt(squared)
        return root if root * root == squared else root + 1
    return math.ceil(math.hypot(dx, dy) * scale + 1e-9)


def to_problem(
    instance: SolomonInstance,
    *,
    scale: int = DEFAULT_SCALE,
    vehicles: int | None = None,
    seed: int = 0,
) -> RoutingProblem:
    """Build the distance-objective problem: visit ids are customer numbers, fleet is free.

    ``vehicles`` defaults to the file's fleet size, an upper bound; unused vehicles cost
    nothing, so the solver is free to use fewer.
    """
    points = (instance.depot, *instance.customers)
    xs = np.array([p.x for p in points])
    ys = np.array([p.y for p in points])
    size = len(points)
    travel = np.array(
        [
            [_ceil_scaled(xs[a] - xs[b], ys[a] - ys[b], scale) for b in range(size)]
            for a in range(size)
        ],
        dtype=np.int64,
    )
    distance = np.rint(np.hypot(xs[:, None] - xs[None, :], ys[:, None] - ys[None, :]) * scale)
    visits = tuple(
        Visit(
            id=str(c.number),
            location=k + 1,
            duration=c.service * scale,
            earliest=c.ready * scale,
            deadline=c.due * scale,
            demand=c.demand,
        )
        for k, c in enumerate(instance.customers)
    )
    fleet = instance.vehicles if vehicles is None else vehicles
    shifts = tuple(
        Shift(
            id=str(k + 1),
            worker_id=str(k + 1),
            start_location=0,
            end_location=0,
            start=instance.depot.ready * scale,
            end=instance.depot.due * scale,
            capacity=instance.capacity,
        )
        for k in range(fleet)
    )
    return RoutingProblem(
        visits=visits,
        shifts=shifts,
        travel=travel,
        objective="distance",
        distance=distance.astype(np.int64),
        distance_scale=float(scale),
        seed=seed,
    )


def plan_distance(instance: SolomonInstance, plan: RoutingPlan) -> float:
    """Exact real-valued Euclidean length of every route (depot to depot)."""
    total = 0.0
    for route in plan.routes:
        path = [0, *(int(stop.visit_id) for stop in route.stops), 0]
        total += sum(instance.euclidean(a, b) for a, b in zip(path, path[1:], strict=False))
    return total
