"""`dispatch solve`: Solomon and JSON problems in, the DESIGN.md plan JSON out."""

from __future__ import annotations

import json
import math
from pathlib import Path

from click.testing import CliRunner

from dispatch.cli import main
from routing.solomon import read_solomon

SOLOMON = Path(__file__).resolve().parents[1] / "data" / "solomon"


def _small_instance(tmp_path: Path, customers: int = 25) -> Path:
    """The first 25 customers of C101 (a valid Solomon file of its own)."""
    lines = (SOLOMON / "C101.txt").read_text().splitlines()
    head = next(i for i, line in enumerate(lines) if line.strip().startswith("0 "))
    path = tmp_path / "c101_25.txt"
    path.write_text("\n".join(lines[: head + 1 + customers]) + "\n")
    return path


def test_solve_solomon_json_shape_and_feasible_distance(tmp_path: Path) -> None:
    """Every customer is routed once; the reported distance is the real Euclidean length."""
    path = _small_instance(tmp_path)
    result = CliRunner().invoke(main, ["solve", str(path), "--seconds", "1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"routes", "distance", "travel_minutes", "vehicles", "unassigned", "seconds"} <= set(
        data
    )
    served = [v for r in data["routes"] for v in r["visits"]]
    assert sorted(served, key=int) == [str(i) for i in range(1, 26)]
    assert data["vehicles"] == len(data["routes"]) and data["unassigned"] == []
    instance = read_solomon(path)
    coords = {c.number: (c.x, c.y) for c in (instance.depot, *instance.customers)}
    total = 0.0
    for route in data["routes"]:
        stops = [0, *map(int, route["visits"]), 0]
        pairs = zip(stops, stops[1:], strict=False)
        total += sum(math.dist(coords[a], coords[b]) for a, b in pairs)
        assert len(route["arrivals"]) == len(route["visits"])
    assert abs(total - data["distance"]) < 1e-3  # reported to three decimals


def test_solve_problem_format(tmp_path: Path) -> None:
    """A JSON problem with a skill nobody has reports the visit unassigned with a reason."""
    problem = {
        "travel": [[0, 600, 600], [600, 0, 300], [600, 300, 0]],
        "visits": [
            {
                "id": "a",
                "location": 1,
                "duration": 1800,
                "earliest": 0,
                "deadline": 7200,
                "priority": 2,
                "skills": ["wound_care"],
            },
            {
                "id": "b",
                "location": 2,
                "duration": 1800,
                "earliest": 0,
                "deadline": 7200,
                "priority": 3,
                "skills": ["iv_therapy"],
            },
        ],
        "shifts": [
            {
                "id": "s1",
                "worker_id": "w1",
                "start_location": 0,
                "end_location": 0,
                "start": 0,
                "end": 28800,
                "skills": ["wound_care"],
            }
        ],
    }
    path = tmp_path / "p.json"
    path.write_text(json.dumps(problem))
    result = CliRunner().invoke(
        main, ["solve", str(path), "--format", "problem", "--seconds", "0.5", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["routes"][0]["visits"] == ["a"]
    assert [u["id"] for u in data["unassigned"]] == ["b"]
    assert "skill" in data["unassigned"][0]["reason"]


def test_solve_bad_file_exits_2(tmp_path: Path) -> None:
    """A file that is not a Solomon instance gives a message and exit 2."""
    path = tmp_path / "bad.txt"
    path.write_text("hello\n")
    result = CliRunner().invoke(main, ["solve", str(path), "--seconds", "0.5"])
    assert result.exit_code == 2 and "cannot read" in result.output
