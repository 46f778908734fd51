"""Reading Solomon files and solving a cut-down instance feasibly in real-valued distances."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from routing.checker import check_plan
from routing.errors import SolomonFormatError
from routing.solomon import parse_solomon, plan_distance, read_solomon, to_problem
from routing.solver import solve
from tests.routing.conftest import CEILING, SOLUTIONS

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "solomon"
SAMPLE = (
    "TINY\r\n\r\nVEHICLE\r\nNUMBER     CAPACITY\r\n  2         10\r\n\r\nCUSTOMER\r\n"
    "CUST NO.  XCOORD.  YCOORD.  DEMAND  READY TIME  DUE DATE  SERVICE TIME\r\n\r\n"
    "    0      0      0       0       0     100       0\r\n"
    "    1      3      4       5       0      50       2\r\n"
    "    2      1      1       5      10      60       2\r\n"
)


def test_parse_solomon_crlf() -> None:
    """CRLF files parse into the depot, customers, fleet and capacity."""
    instance = parse_solomon(SAMPLE)

    assert (instance.name, instance.vehicles, instance.capacity) == ("TINY", 2, 10)
    assert [c.number for c in instance.customers] == [1, 2]
    assert instance.customers[0].service == 2


def test_parse_solomon_rejects_missing_fleet() -> None:
    """A file without the VEHICLE NUMBER line raises a format error."""
    with pytest.raises(SolomonFormatError):
        parse_solomon("X\nCUSTOMER\n0 0 0 0 0 1 0\n")


def test_to_problem_rounds_travel_up() -> None:
    """Scaled travel never undercuts the real distance; exact distances stay exact."""
    problem = to_problem(parse_solomon(SAMPLE), scale=100)

    assert problem.travel[0, 1] == 500  # 3-4-5 triangle, exact
    assert problem.travel[0, 2] == math.ceil(math.sqrt(2) * 100)
    assert problem.travel[0, 2] >= math.sqrt(2) * 100
    assert [v.id for v in problem.visits] == ["1", "2"]


@pytest.mark.skipif(not (DATA / "R101.txt").exists(), reason="shared Solomon data missing")
def test_solve_solomon_subset_feasible() -> None:
    """The first 25 customers of R101 are all served, feasibly, with the real distance reported."""
    full = read_solomon(DATA / "R101.txt")
    instance = dataclasses.replace(full, customers=full.customers[:25])
    problem = to_problem(instance)

    plan = solve(problem, seconds=CEILING, workers=2, solution_limit=SOLUTIONS)

    assert check_plan(problem, plan) == []
    assert not plan.unassigned
    assert plan_distance(instance, plan) == pytest.approx(plan.distance_total, abs=0.1)
