"""The problem JSON's links, lateness and travel profiles, through ``dispatch solve --format
problem`` end to end (issue 15; the names are DESIGN.md's contract)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dispatch.cli import main
from routing.errors import PlanFormatError
from routing.plan_io import problem_from_dict, problem_to_dict

HOUR = 3600


def _document() -> dict[str, Any]:
    """Two carers (one walking), a double-handed visit, insulin then care, a late visit."""
    car = [[0, 600, 900], [600, 0, 600], [900, 600, 0]]
    return {
        "travel": car,
        "travel_profiles": {"walk": [[x * 3 for x in row] for row in car]},
        "late_policy": "serve_late",
        "lateness": {"cost_per_second": 1, "max_cost_per_second": 1},
        "links": [
            {"first": "hoist1", "second": "hoist2", "min_gap": 0, "max_gap": 0,
             "workers": "different"},
            {"first": "insulin", "second": "care", "min_gap": 1800, "max_gap": 3600,
             "workers": "any"},
        ],
        "visits": [
            {"id": "hoist1", "location": 1, "duration": 1800, "earliest": 0, "deadline": HOUR},
            {"id": "hoist2", "location": 1, "duration": 1800, "earliest": 0, "deadline": HOUR},
            {"id": "insulin", "location": 2, "duration": 600, "earliest": 0, "deadline": 4 * HOUR},
            {"id": "care", "location": 2, "duration": 1800, "earliest": 0, "deadline": 6 * HOUR},
            {"id": "late", "location": 2, "duration": 600, "earliest": 0, "deadline": 0},
        ],
        "shifts": [
            {"id": "s1", "worker_id": "w1", "start_location": 0, "start": 0, "end": 8 * HOUR},
            {"id": "s2", "worker_id": "w2", "start_location": 0, "start": 0, "end": 8 * HOUR,
             "profile": "walk"},
        ],
    }


def test_problem_json_round_trip_keeps_care_fields() -> None:
    """links, lateness, travel_profiles and a shift's profile survive read and write."""
    problem = problem_from_dict(_document())
    again = problem_from_dict(problem_to_dict(problem))
    assert again.links == problem.links
    assert again.lateness == problem.lateness
    assert again.shifts[1].profile == "walk"
    assert (again.travel_profiles["walk"] == problem.travel_profiles["walk"]).all()


def test_problem_json_lateness_implies_serve_late() -> None:
    """A document with lateness costs and no late_policy is served late (the costs say so)."""
    data = _document()
    del data["late_policy"]
    assert problem_from_dict(data).late_policy == "serve_late"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["links"][0].update(workers="both"), "workers"),
        (lambda d: d["links"][0].update(second="nobody"), "unknown visit"),
        (lambda d: d["links"][0].update(min_gap=0.5), "whole number"),
        (lambda d: d["shifts"][1].update(profile="cycle"), "unknown travel profile"),
        (lambda d: d["travel_profiles"].update(walk=[[0]]), "same shape"),
    ],
)
def test_problem_json_bad_care_fields_refused(change: Any, message: str) -> None:
    """Bad links, profiles and matrices are refused with a message saying what is wrong."""
    data = _document()
    change(data)
    with pytest.raises(PlanFormatError, match=message):
        problem_from_dict(data)


def test_cli_solve_problem_with_links_lateness_profiles(tmp_path: Path) -> None:
    """`dispatch solve --format problem --json`: both hoist halves at one start on two
    workers, insulin then care within the gap, the late visit listed with its minutes."""
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(_document()))
    result = CliRunner().invoke(
        main, ["solve", str(path), "--format", "problem", "--json", "--workers", "1",
               "--seconds", "2"]
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output[result.output.index("{"):])
    starts = {}
    worker = {}
    for route in plan["routes"]:
        for visit, start in zip(route["visits"], route["starts"], strict=True):
            starts[visit] = start
            worker[visit] = route["worker"]
    assert plan["unassigned"] == []
    assert starts["hoist1"] == starts["hoist2"]
    assert worker["hoist1"] != worker["hoist2"]
    assert 30 <= starts["care"] - starts["insulin"] <= 60
    late = {item["id"]: item["minutes"] for item in plan["late"]}
    assert late["late"] >= 10  # 600 s drive at the earliest
    assert all(minutes > 0 for minutes in late.values())
