"""The capacity planner's search and the staffing files it reads and writes.

The search is driven here by a fake day player (a rule saying how many 2-hour visits a
staffing meets) so each test runs in milliseconds; the real simulator is exercised by the
simulation tests and the benchmark.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dispatch.capacity.search import (
    ALL_NETWORKS,
    START_TEAM,
    PlanRequest,
    grow,
    pattern_for,
    plan,
    role_for,
    start_staffing,
)
from dispatch.demo.staffing import (
    DEFAULT_TEAM,
    Staffing,
    StaffingError,
    default_team,
    from_json,
)
from dispatch.simulation.types import SimulationConfig

DAY = date(2026, 12, 1)


def fake_player(needed: Mapping[str, int]) -> Any:
    """A day where network N meets every 2-hour visit once it has ``needed[N]`` early nurses;
    short of that, each missing nurse is one missed visit received at 09:00."""

    def play(config: SimulationConfig) -> dict[str, Any]:
        assert config.staffing is not None
        networks: dict[str, Any] = {}
        count = met = 0
        for code, want in needed.items():
            have = config.staffing.count(code, "early", "district_nurse")
            missing = max(0, want - have)
            networks[code] = {"missed_2h": [{"hour": 9, "skills": ["clinical_assessment"],
                                             "cause": "never placed"}] * missing}
            count, met = count + 10, met + 10 - missing
        return {"urgent_2h": {"count": count, "met": met, "compliance": met / count},
                "utilisation": 0.6, "utilisation_by_hour": {"09": 0.7}, "networks": networks}

    return play


@pytest.mark.safety("H-230")
def test_plan_climbs_to_the_cheapest_that_meets_and_reports_the_miss() -> None:
    """Two networks needing 2 and 3 early nurses: the search adds nurses where the misses
    were until every day meets 100 %, and the trial before is the next cheapest, short by
    the share it missed."""
    request = PlanRequest(day=DAY, seed=1, target=1.0, networks=("HF-NORTH", "KC-SOUTH"),
                          days=2)

    result = plan(request, player=fake_player({"HF-NORTH": 2, "KC-SOUTH": 3}))

    best = result.recommended
    assert best is not None and best.meets
    assert best.staffing.count("HF-NORTH", "early", "district_nurse") == 2
    assert best.staffing.count("KC-SOUTH", "early", "district_nurse") == 3
    missed = result.next_cheapest_missed
    assert missed is not None and missed.cost_per_week < best.cost_per_week
    body = result.to_json()
    assert body["found"] and body["simulated_days"] == 3 * 2
    assert body["next_cheapest_missed"]["short_by"] == pytest.approx(0.05)
    assert set(body["networks"]) == {"HF-NORTH", "KC-SOUTH"}


@pytest.mark.safety("H-230")
def test_plan_result_is_a_staffing_file() -> None:
    """What `capacity plan --json` prints loads as a staffing file with the same teams."""
    request = PlanRequest(day=DAY, seed=1, networks=("HF-NORTH",), days=1)
    result = plan(request, player=fake_player({"HF-NORTH": 1}))

    staffing = from_json(json.loads(json.dumps(result.to_json())))

    assert result.recommended is not None
    assert staffing.team("HF-NORTH") == result.recommended.staffing.to_json(
        ["HF-NORTH"])["networks"]["HF-NORTH"]


@pytest.mark.safety("H-230")
def test_plan_gives_up_after_max_rounds_without_a_recommendation() -> None:
    """A network that never meets the target: no recommendation, every trial a miss."""
    request = PlanRequest(day=DAY, seed=1, networks=("HF-NORTH",), days=1, max_rounds=2)

    result = plan(request, player=fake_player({"HF-NORTH": 99}))

    assert result.recommended is None and len(result.trials) == 2
    assert result.to_json()["found"] is False


def test_day_configs_scope_growth_and_seeds() -> None:
    """One network's plan plays only its demand, grown, on consecutive seeds and dates, with
    nobody rostered in the other networks."""
    request = PlanRequest(day=DAY, seed=7, networks=("WM-WEST",), growth=1.5, days=2)

    configs = request.day_configs(start_staffing(request.networks))

    assert [(c.seed, c.day.day) for c in configs] == [(7, 1), (8, 2)]
    assert configs[0].networks == ("WM-WEST",)
    assert configs[0].referrals == pytest.approx(121 * 1.5) and configs[0].booked == 90
    assert configs[0].staffing is not None
    assert configs[0].staffing.shifts_per_day("HF-NORTH") == 0
    assert configs[0].staffing.team("WM-WEST")["early"] == START_TEAM["early"]


def test_all_networks_plan_plays_the_whole_day() -> None:
    """Planning every network plays the day unfiltered (the same day `simulate` plays)."""
    configs = PlanRequest(day=DAY, seed=1).day_configs(start_staffing(ALL_NETWORKS))

    assert configs[0].networks is None


@pytest.mark.parametrize(("hour", "pattern"), [(7, "early"), (12, "early"), (13, "late"),
                                               (19, "late"), (20, "night"), (23, "night")])
def test_pattern_for_hour(hour: int, pattern: str) -> None:
    """A 2-hour visit is covered by the pattern on duty for the two hours after it came in."""
    assert pattern_for(hour) == pattern


def test_role_for_skills() -> None:
    """Nurses for clinical work; a hybrid worker only where only one holds the skills."""
    assert role_for(["clinical_assessment", "falls_assessment"]) == "district_nurse"
    assert role_for(["reablement"]) == "hybrid_worker"
    assert role_for(["social_care_assessment", "personal_care"]) == "hybrid_worker"
    assert role_for(["equipment"]) == "therapist"


def test_grow_leaves_networks_without_misses_alone() -> None:
    """Only a network that missed gets another worker."""
    start = start_staffing(("HF-NORTH", "HF-SOUTH"))
    request = PlanRequest(day=DAY, seed=1, networks=("HF-NORTH", "HF-SOUTH"), days=1,
                          max_rounds=1)
    trial = plan(request, player=fake_player({"HF-NORTH": 2, "HF-SOUTH": 1})).trials[0]

    grown = grow(start, trial, ("HF-NORTH", "HF-SOUTH"))

    assert grown.count("HF-NORTH", "early", "district_nurse") == 2
    assert grown.team("HF-SOUTH") == start.team("HF-SOUTH")


@pytest.mark.parametrize("kwargs", [{"target": 0}, {"growth": 0}, {"days": 0},
                                    {"networks": ("NOWHERE",)}, {"networks": ()}])
def test_plan_request_rejects_bad_input(kwargs: dict[str, Any]) -> None:
    """Bad input is refused with the field named, before any day is played."""
    with pytest.raises(ValueError):
        PlanRequest(day=DAY, seed=1, **kwargs)


# --- staffing files ---------------------------------------------------------------------


def test_staffing_default_is_the_calibrated_team() -> None:
    """A network a file does not name keeps the calibrated demo team."""
    staffing = from_json({"networks": {"HF-NORTH": {"early": {"district_nurse": 4}}}})

    assert staffing.team("HF-NORTH") == {"early": {"district_nurse": 4}}
    assert staffing.team("HF-SOUTH") == default_team("HF-SOUTH")
    assert default_team("HF-SOUTH") == DEFAULT_TEAM


def test_staffing_cost_per_week() -> None:
    """Cost is paid hours times the hourly cost, seven days, nights with the uplift."""
    staffing = Staffing({"X": {"early": {"district_nurse": 1}, "night": {"hybrid_worker": 1}}})

    expected = 7.5 * 28 * 7 + 9.5 * 17 * 1.33 * 7
    assert staffing.cost_per_week(["X"]) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize(("data", "message"), [
    ([], 'a JSON object with a "networks" object'),
    ({"networks": {"X": {"brunch": {}}}}, "unknown shift pattern 'brunch'"),
    ({"networks": {"X": {"early": {"pilot": 1}}}}, "networks.X.early.pilot: unknown role"),
    ({"networks": {"X": {"early": {"district_nurse": -1}}}}, "whole number >= 0"),
    ({"networks": {"X": {"early": {"district_nurse": 1.5}}}}, "whole number >= 0"),
])
def test_staffing_file_errors_name_the_key(data: Any, message: str) -> None:
    """A bad staffing file says which key is wrong."""
    with pytest.raises(StaffingError, match=message):
        from_json(data)


def test_simulate_staffing_file_unknown_network_is_a_usage_error(tmp_path: Path) -> None:
    """`dispatch simulate --staffing` refuses a network the demo does not have, at once."""
    from dispatch.simulation.cli import simulate

    path = tmp_path / "staffing.json"
    path.write_text(json.dumps({"networks": {"NOWHERE": {}}}), encoding="utf-8")

    result = CliRunner().invoke(simulate, ["--staffing", str(path), "--json"])

    assert result.exit_code == 2
    assert "unknown network NOWHERE" in result.output


def test_capacity_plan_cli_rejects_bad_target() -> None:
    """`dispatch capacity plan --target 1.5` is a usage error, not a search."""
    from dispatch.capacity.cli import capacity

    result = CliRunner().invoke(capacity, ["plan", "--date", "2026-12-01", "--target", "1.5"])

    assert result.exit_code == 2
    assert "target must be above 0 and at most 1" in result.output


def test_capacity_is_a_dispatch_command() -> None:
    """`dispatch capacity plan --help` answers from the root command group."""
    from dispatch.cli import main

    result = CliRunner().invoke(main, ["capacity", "plan", "--help"])

    assert result.exit_code == 0
    assert "--growth" in result.output and "--network" in result.output


def test_capacity_cli_defaults_are_the_search_defaults() -> None:
    """The CLI spells its defaults out (so `dispatch --help` loads nothing heavy); they must
    stay the search's own."""
    from dispatch.capacity import search
    from dispatch.capacity.cli import plan_command

    defaults = {p.name: p.default for p in plan_command.params}

    assert (defaults["days"], defaults["max_rounds"], defaults["patients"]) == (
        search.DEFAULT_DAYS, search.DEFAULT_ROUNDS, search.DEFAULT_PATIENTS)


def test_capacity_network_by_code_or_demo_id() -> None:
    """--network takes a code or the demo's id (networks are loaded in layout order)."""
    from dispatch.capacity.cli import network_code

    assert network_code("hf-north") == "HF-NORTH"
    assert network_code("1") == ALL_NETWORKS[0] and network_code("10") == ALL_NETWORKS[9]
    assert network_code("11") == "11"
