"""The referral mix, a what-if for demand (issue 17 item 5): parsing, fitting, the simulated
day's draws, and the ``--mix`` option of ``dispatch simulate`` and ``dispatch capacity plan``."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dispatch.simulation import demand
from dispatch.simulation import mix as mixes
from dispatch.simulation.demand import (
    DAY_NEEDS,
    PLANNED_NEEDS,
    SIGNPOST_NEEDS,
    URGENT_NEEDS,
    PatientInfo,
    generate_day,
)
from dispatch.simulation.types import ReferralSpec, SimulationConfig

PATIENTS = [PatientInfo(i, tier, 7 if tier == "very_high" else None, ("diabetes",))
            for i, tier in enumerate(["very_high", "high", "moderate", "low", "very_low"] * 40)]


def category(spec: ReferralSpec) -> str:
    """The category a referral was drawn as (from what it says)."""
    if spec.red_flags or not spec.needs:
        return "emergency_999"
    need = spec.needs[0]
    for name, needs in (("urgent_2h", URGENT_NEEDS), ("response_24h", DAY_NEEDS),
                        ("planned", PLANNED_NEEDS), ("signpost", SIGNPOST_NEEDS)):
        if need in needs:
            return name
    raise AssertionError(need)


def shares(mix: mixes.Mix | None, seed: int = 1) -> dict[str, float]:
    specs = generate_day(seed=seed, day=date(2026, 12, 1), patients=PATIENTS, referrals=6000,
                         booked=0, arrivals_from=time(7), arrivals_until=time(22),
                         day_start=time(6), mix=mix)
    counts = Counter(category(s) for s in specs)
    return {c: counts[c] / len(specs) for c in mixes.CATEGORIES}


def test_a_mix_sets_the_days_overall_shares() -> None:
    """Asked for 60 % urgent and 25 % 24-hour, a day of 6,000 referrals comes out so; the
    rest share the remaining 15 % in their usual proportions. Without a mix, urgent is the
    usual 40 % or so."""
    usual = shares(None)
    mix = demand.resolve_mix({"urgent_2h": 0.6, "response_24h": 0.25})

    drawn = shares(mix)

    assert usual["urgent_2h"] == pytest.approx(demand.default_mix()["urgent_2h"], abs=0.02)
    assert drawn["urgent_2h"] == pytest.approx(0.6, abs=0.02)
    assert drawn["response_24h"] == pytest.approx(0.25, abs=0.02)
    rest = 1 - 0.6 - 0.25
    default = demand.default_mix()
    others = default["planned"] + default["signpost"] + default["emergency_999"]
    assert drawn["planned"] == pytest.approx(rest * default["planned"] / others, abs=0.015)


def test_fitted_mix_keeps_more_urgent_work_higher_up_the_pyramid() -> None:
    """The mix scales each category alike in every stratum: the very-high-risk stratum
    stays more urgent than the very-low one, and the overall shares are the ones asked."""
    mix = demand.resolve_mix({"urgent_2h": 0.2})
    fitted = demand.category_mix(mix)

    assert fitted["very_high"][0] > fitted["very_low"][0]
    overall = mixes.overall(fitted, demand.tier_weights())
    assert overall["urgent_2h"] == pytest.approx(0.2, abs=1e-4)
    assert sum(overall.values()) == pytest.approx(1.0)


def test_a_zero_share_is_never_drawn() -> None:
    mix = demand.resolve_mix({"999": 0, "signpost": 0})

    drawn = shares(mix, seed=2)

    assert drawn["emergency_999"] == 0 and drawn["signpost"] == 0


@pytest.mark.parametrize(("text", "given"), [
    ("urgent=0.45,24h=0.3", {"urgent_2h": 0.45, "response_24h": 0.3}),
    (" urgent = 45% , 999=5% ", {"urgent_2h": 0.45, "emergency_999": 0.05}),
    ("2h=0.2,day=0.5,planned=0.1,signpost=0.1,emergency=0.1",
     {"urgent_2h": 0.2, "response_24h": 0.5, "planned": 0.1, "signpost": 0.1,
      "emergency_999": 0.1}),
])
def test_parse_mix_text(text: str, given: dict[str, float]) -> None:
    assert mixes.parse(text) == pytest.approx(given)


def test_parse_mix_from_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "winter.json"
    path.write_text(json.dumps({"mix": {"urgent": 0.5, "24h": 0.3}}), encoding="utf-8")

    assert mixes.parse(str(path)) == {"urgent_2h": 0.5, "response_24h": 0.3}


@pytest.mark.parametrize(("text", "message"), [
    ("", "mix: empty"),
    ("urgent", "cannot read 'urgent'"),
    ("urgent=", "is not NAME=SHARE"),
    ("urgent=0.5,brunch=0.1", "mix.brunch: unknown category"),
    ("urgent=abc", "mix.urgent: 'abc' is not a number"),
    ("urgent=1.2", "mix.urgent: must be from 0 to 1"),
    ("urgent=-0.1", "mix.urgent: must be from 0 to 1"),
    ("urgent=0.5,2h=0.1", "urgent_2h given twice"),
    ("urgent=0.7,24h=0.4", "add up to 1.1, more than 1"),
    ("urgent=0.2,24h=0.2,planned=0.2,signpost=0.2,999=0.1", "add up to 0.9, not 1"),
    ("urgent=0,24h=0,planned=0,signpost=0,999=0", "add up to 0, not 1"),
])
def test_parse_mix_errors_name_the_part_at_fault(text: str, message: str) -> None:
    with pytest.raises(mixes.MixError, match=message.replace("(", r"\(").replace(")", r"\)")):
        mixes.parse(text)


def test_bad_json_mix_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{urgent: 0.5", encoding="utf-8")

    with pytest.raises(mixes.MixError, match="is not valid JSON"):
        mixes.parse(str(path))


def test_config_refuses_a_mix_that_does_not_add_up() -> None:
    with pytest.raises(ValueError, match="mix shares"):
        SimulationConfig(seed=1, day=date(2026, 12, 1), mix=(("urgent_2h", 0.5),))


# --- through the CLI -------------------------------------------------------------------


@pytest.mark.parametrize(("command", "args"), [
    ("simulate", []),
    ("capacity", ["plan", "--date", "2026-12-01", "--network", "HF-NORTH"]),
])
@pytest.mark.parametrize(("mix", "message"), [
    ("urgent=0.5,lunch=0.1", "mix.lunch: unknown category"),
    ("urgent=0.8,24h=0.8", "more than 1"),
    ("nowhere.json", "cannot read 'nowhere.json'"),
])
def test_cli_bad_mix_is_a_usage_error(command: str, args: list[str], mix: str,
                                      message: str) -> None:
    """Both commands refuse a bad --mix before playing anything: exit status 2 and why."""
    from dispatch.cli import main

    result = CliRunner().invoke(main, [command, *args, "--mix", mix, "--json"])

    assert result.exit_code == 2
    assert message in result.output


def test_simulate_cli_plays_the_mix_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """`dispatch simulate --mix urgent=0.5 --growth 1.2` plays a day with that mix and the
    grown volume (the day itself is replaced by a stand-in: the mix's draws are tested
    above, the simulator by its own tests)."""
    from dispatch.cli import main
    from dispatch.simulation import day as days

    played: list[SimulationConfig] = []

    def fake(config: SimulationConfig, **_kwargs: Any) -> Any:
        played.append(config)
        return days.DayResult(config, {"urgent_2h": {"compliance": 1.0}, "mix": None}, [], [],
                              0.0)

    monkeypatch.setattr(days, "simulate", fake)

    result = CliRunner().invoke(main, ["simulate", "--mix", "urgent=0.5", "--growth", "1.2",
                                       "--json", "--quiet"])

    assert result.exit_code == 0, result.output
    (config,) = played
    assert config.mix is not None and dict(config.mix)["urgent_2h"] == 0.5
    assert sum(s for _, s in config.mix) == pytest.approx(1.0, abs=1e-4)
    assert config.referrals == pytest.approx(demand.default_daily_referrals() * 1.2, abs=1)


def test_capacity_plan_cli_plans_for_the_mix(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    """`dispatch capacity plan --mix FILE --growth 1.2 --json`: every day it plays has the
    mix and growth, and the answer says which mix it planned for."""
    from dispatch.capacity import search
    from dispatch.cli import main
    from tests.dispatch.capacity.test_capacity import fake_player

    inner = fake_player({"HF-NORTH": 2})
    played: list[SimulationConfig] = []

    def fake(config: SimulationConfig) -> Any:
        played.append(config)
        return inner(config)

    monkeypatch.setattr(search, "_simulate", fake)
    winter = tmp_path / "winter.json"
    winter.write_text(json.dumps({"urgent": 0.5, "24h": 0.3}), encoding="utf-8")

    result = CliRunner().invoke(main, ["capacity", "plan", "--date", "2026-12-01",
                                       "--network", "HF-NORTH", "--mix", str(winter),
                                       "--growth", "1.2", "--jobs", "1", "--json", "--quiet"])

    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["found"] and body["mix"]["urgent_2h"] == 0.5 and body["growth"] == 1.2
    assert played and all(dict(c.mix or ())["response_24h"] == 0.3 for c in played)
