"""The simulated day: demand, outcomes, reproducibility and both policies on a short morning."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from dispatch.config import LONDON
from dispatch.simulation import field as fieldwork
from dispatch.simulation.day import DayResult, build_template, simulate
from dispatch.simulation.demand import (
    BOOKED_NEEDS,
    CALL_ROUNDS,
    HOME_CARE_CALLS,
    HOME_CARE_SHARE,
    HOME_CARE_TIERS,
    PatientInfo,
    default_daily_referrals,
    generate_day,
)
from dispatch.simulation.errors import UnaccountedReferral
from dispatch.simulation.kpis import OUTCOMES, outcome_of, percentile
from dispatch.simulation.types import FieldSettings, SimulationConfig

MORNING = SimulationConfig(
    seed=3, day=date(2026, 12, 1), patients=600, referrals=14, booked=4,
    day_start=time(7, 30), arrivals_from=time(7, 30), arrivals_until=time(10, 0),
    day_end=time(10, 30), reoptimise_every_minutes=30,
)
PATIENTS = [PatientInfo(i, tier, 7 if tier == "very_high" else None, ())
            for i, tier in enumerate(["very_high", "high", "moderate", "low", "very_low"] * 20)]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory.mktemp("sim"), MORNING)


@pytest.fixture(scope="module")
def optimised(template: Path) -> DayResult:
    return simulate(MORNING, template=template)


def test_default_daily_referrals_follow_the_strata_table() -> None:
    """The documented derivation (148 admissions a day, a third avoidable, 40 % urgent) is ~120."""
    assert 110 <= default_daily_referrals() <= 130


def test_config_default_rate_is_the_cli_default() -> None:
    """The benchmark (which builds a SimulationConfig) plays the same day as the CLI."""
    from dispatch.simulation.cli import DEFAULT_REFERRALS

    config = SimulationConfig(seed=1, day=date(2026, 12, 1))
    assert config.referrals == DEFAULT_REFERRALS == round(default_daily_referrals())


def test_the_simulated_placer_rescues_urgent_visits_as_production_does(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Production's placer re-optimises a network for PLACE_RESCUE_SECONDS when a 2-hour visit
    does not fit; the simulator's optimised policy plays the same placer with the same
    setting, capped by the re-optimisation's solution limit (so a seed still gives one day)."""
    from dispatch.config import DEFAULTS
    from dispatch.planning import pipeline
    from dispatch.simulation import policies

    config = SimulationConfig(seed=1, day=date(2026, 12, 1))
    assert config.rescue_seconds == DEFAULTS["PLACE_RESCUE_SECONDS"] > 0
    seen: list[pipeline.Options] = []

    def spy(tx: Any, *, options: pipeline.Options, **_: Any) -> list[Any]:
        seen.append(options)
        return []

    monkeypatch.setattr(pipeline, "place_new", spy)
    anything: Any = None
    policies.place(cast(Any, SimpleNamespace(begin_nested=_NoTransaction)), now=anything,
                   provider=anything, seconds=0.5, stats=policies.PlannerStats(),
                   rescue_seconds=config.rescue_seconds,
                   rescue_solutions=config.reoptimise_solutions)
    [options] = seen
    assert (options.method, options.rescue_seconds, options.solution_limit) == (
        "insert", 3.0, config.reoptimise_solutions)


class _NoTransaction:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_generate_day_same_seed_same_referrals() -> None:
    """Demand is a pure function of the seed: two calls agree referral for referral."""
    kwargs: dict[str, Any] = dict(day=date(2026, 12, 1), patients=PATIENTS, referrals=40,
                                  booked=3, arrivals_from=time(7), arrivals_until=time(22),
                                  day_start=time(6))
    first, second = generate_day(seed=5, **kwargs), generate_day(seed=5, **kwargs)
    other = generate_day(seed=6, **kwargs)
    assert first == second
    assert first != other
    assert sum(s.booked for s in first) == 3


def test_the_booked_load_does_not_change_the_days_arrivals() -> None:
    """Booked work and arrivals are drawn from streams of their own: the same seed gives the
    same referrals arriving through the day whatever ``--booked`` (or ``--growth``'s booked
    share) is. One stream shuffled every arrival when the booked count changed: a day with 440
    booked visits had 39 two-hour visits and the same seed with 480 had 59, so comparing
    loads (or a commissioner's winter what-if) compared different days (issue 17)."""
    kwargs: dict[str, Any] = dict(day=date(2026, 12, 1), patients=PATIENTS, referrals=60,
                                  arrivals_from=time(7), arrivals_until=time(22),
                                  day_start=time(6))

    def arrivals(booked: int) -> list[tuple[object, ...]]:
        specs = generate_day(seed=4, booked=booked, **kwargs)
        return [(s.at, s.patient_id, s.source, s.needs, s.red_flags, s.observations)
                for s in specs if not s.booked]

    assert arrivals(0) == arrivals(7) == arrivals(40)
    assert len(arrivals(0)) > 30
    # The booked visits themselves: more booked adds to the list, it does not redraw it.
    few = generate_day(seed=4, booked=5, **kwargs)[:5]
    more = generate_day(seed=4, booked=9, **kwargs)[:5]
    assert few == more


def test_booked_work_is_district_nursing_and_home_care_for_the_top_two_strata() -> None:
    """About half the booked visits are home care calls (personal care, medication support)
    for patients of the top two risk strata, whom the hybrid workers serve (seeds/002); the
    rest are district nursing for anyone. Before, booked work was district nursing only and
    the hybrid workers stood idle while nurses' days filled (issue 17)."""
    specs = generate_day(seed=2, day=date(2026, 12, 1), patients=PATIENTS, referrals=0,
                         booked=400, arrivals_from=time(7), arrivals_until=time(22),
                         day_start=time(6))
    tier = {p.id: p.risk_tier for p in PATIENTS}
    home = [s for s in specs if s.source == "social_care"]
    nursing = [s for s in specs if s.source == "gp"]
    assert len(home) + len(nursing) == 400 and all(s.booked for s in specs)
    assert abs(len(home) / 400 - HOME_CARE_SHARE) < 0.08
    assert {s.needs for s in home} == set(HOME_CARE_CALLS)
    assert {tier[s.patient_id] for s in home} == set(HOME_CARE_TIERS)
    assert {s.needs[0] for s in nursing} == set(BOOKED_NEEDS)
    assert {tier[s.patient_id] for s in nursing} > set(HOME_CARE_TIERS)
    # A care call is made in its round: the window opens at the round's start and the call is
    # due (24 hours after it was booked) as the round closes.
    rounds = {(s.start_from.time(), (s.at + timedelta(days=1)).time()) for s in home
              if s.start_from is not None}
    assert rounds == set(CALL_ROUNDS)
    assert all(s.start_from is None for s in nursing)


def test_generate_day_arrivals_stay_inside_the_window() -> None:
    """Arrivals fall between the window's ends and come in time order after the booked ones."""
    specs = generate_day(seed=1, day=date(2026, 12, 1), patients=PATIENTS, referrals=60,
                         booked=0, arrivals_from=time(8), arrivals_until=time(12),
                         day_start=time(6))
    hours = [s.at.hour + s.at.minute / 60 for s in specs]
    assert specs and all(8 <= h < 12 for h in hours)
    assert [s.at for s in specs] == sorted(s.at for s in specs)


def test_generate_day_without_patients_is_refused() -> None:
    """No register, no demand: a clear error rather than an empty day."""
    with pytest.raises(ValueError, match="no patients"):
        generate_day(seed=1, day=date(2026, 12, 1), patients=[], referrals=5, booked=0,
                     arrivals_from=time(8), arrivals_until=time(9), day_start=time(6))


def test_offer_reply_shares_match_the_settings() -> None:
    """Over many offers about 85 % are accepted, 7 % declined and the rest unanswered."""
    settings = FieldSettings()
    kinds = [fieldwork.offer_reply(settings, 1, v, 2, 1).kind for v in range(4000)]
    assert abs(kinds.count(fieldwork.ACCEPT) / 4000 - 0.85) < 0.03
    assert abs(kinds.count(fieldwork.DECLINE) / 4000 - 0.07) < 0.02


def test_field_settings_reject_impossible_probabilities() -> None:
    """Accept and decline shares that add to more than one are a configuration error."""
    with pytest.raises(ValueError, match="sum to at most 1"):
        FieldSettings(accept=0.9, decline=0.2)


def test_outcome_of_refuses_an_unaccounted_status() -> None:
    """A referral left as 'received' is none of the four outcomes: the run must fail loudly."""
    referral = SimpleNamespace(id=9, status="received")
    with pytest.raises(UnaccountedReferral, match="referral 9"):
        outcome_of(referral, [])  # type: ignore[arg-type]


def test_percentile_nearest_rank() -> None:
    """p50 of 1..10 is 5 and p90 is 9 (nearest rank); no values give None."""
    values = [float(v) for v in range(1, 11)]
    assert (percentile(values, 0.5), percentile(values, 0.9), percentile([], 0.5)) == (
        5.0, 9.0, None)


def test_simulated_morning_accounts_for_every_referral(optimised: DayResult) -> None:
    """Each referral ends the morning as exactly one of the four outcomes."""
    kpis = optimised.kpis
    assert kpis["referrals"] >= 10
    assert set(kpis["outcomes"]) == set(OUTCOMES)
    assert sum(kpis["outcomes"].values()) == kpis["referrals"]


def test_simulated_morning_json_has_the_design_keys(optimised: DayResult) -> None:
    """The DESIGN.md simulation shape is there, with compliance between 0 and 1."""
    kpis = json.loads(json.dumps(optimised.kpis))
    for key in ("referrals", "outcomes", "urgent_2h", "response_24h",
                "travel_minutes_per_visit", "policy"):
        assert key in kpis
    for category in ("urgent_2h", "response_24h"):
        assert set(kpis[category]) >= {"count", "met", "compliance"}
        assert 0.0 <= kpis[category]["compliance"] <= 1.0
    assert kpis["policy"] == "optimised"
    assert kpis["sms"]["ig_breaches"] == 0 and kpis["sms"]["outbound"] > 0


def test_simulated_morning_same_seed_same_json(template: Path, optimised: DayResult) -> None:
    """A second run of the same seed prints byte-identical JSON."""
    again = simulate(MORNING, template=template)
    assert json.dumps(again.kpis, sort_keys=True) == json.dumps(optimised.kpis, sort_keys=True)


def test_simulated_morning_nearest_policy_runs(template: Path, optimised: DayResult) -> None:
    """The phone-list policy plays the same demand and accounts for every referral too."""
    nearest = simulate(replace(MORNING, policy="nearest"), template=template)
    assert nearest.kpis["policy"] == "nearest"
    assert nearest.kpis["referrals"] == optimised.kpis["referrals"]
    assert sum(nearest.kpis["outcomes"].values()) == nearest.kpis["referrals"]


@pytest.mark.safety("H-008")
def test_simulated_morning_splits_urgent_in_and_out_of_hours(optimised: DayResult) -> None:
    """``urgent_2h`` (every urgent visit) is split into ``urgent_2h_in_hours`` and
    ``urgent_2h_out_of_hours`` (referrals received 07:30-08:00 in this morning), which add up
    to it, so out-of-hours urgent work has its own figure in ``dispatch simulate --json``."""
    kpis = json.loads(json.dumps(optimised.kpis))
    whole, inside, outside = (kpis[k] for k in (
        "urgent_2h", "urgent_2h_in_hours", "urgent_2h_out_of_hours"))
    for field in ("count", "met", "visits"):
        assert inside[field] + outside[field] == whole[field]
    assert set(outside) >= {"count", "met", "compliance"}


def test_simulated_morning_utilisation_is_one_number_with_its_parts(
        optimised: DayResult) -> None:
    """Issue 17: ``utilisation`` is visits plus travel over rostered time, one number; the
    split, the hourly figures and each network's own figures sit beside it."""
    kpis = json.loads(json.dumps(optimised.kpis))
    detail = kpis["utilisation_detail"]

    assert isinstance(kpis["utilisation"], float) and 0.0 < kpis["utilisation"] <= 1.0
    assert kpis["utilisation"] == detail["mean"]
    assert detail["mean"] == pytest.approx(detail["on_site_share"] + detail["travel_share"],
                                           abs=0.001)
    assert set(kpis["utilisation_by_hour"]) <= {f"{h:02d}" for h in range(24)}
    assert kpis["utilisation_by_hour"]
    networks = kpis["networks"]
    assert sum(n["urgent_2h"]["count"] for n in networks.values()) == kpis["urgent_2h"]["count"]
    assert all(0.0 <= n["utilisation"] <= 1.0 for n in networks.values())


def test_simulated_morning_one_network_plays_only_its_demand(template: Path,
                                                             optimised: DayResult) -> None:
    """``networks`` (the capacity planner's scope) plays the referrals of that network's
    patients only: the same ones the whole day gave it."""
    whole = optimised.kpis["networks"]
    code = max(whole, key=lambda c: whole[c]["urgent_2h"]["count"])

    one = simulate(replace(MORNING, networks=(code,)), template=template).kpis

    # Every 2-hour visit, due or not. Not "equal": in the whole day another network's visit
    # may be covered by this one (cross-cover moves the visit to the covering network, e.g.
    # when the tier rule keeps the other network's hybrid worker off it); alone, a network
    # plays its own demand only, so never more than the whole day gave it, and some.
    assert 1 <= one["urgent_2h"]["visits"] <= whole[code]["urgent_2h"]["visits"]
    assert set(one["networks"]) <= set(whole)


def test_simulated_morning_plays_the_staffing_given() -> None:
    """`simulate --staffing`: the day is played with exactly the workers the file lists (one
    nurse on the early pattern in one network here, nobody elsewhere)."""
    from dispatch.capacity.search import ALL_NETWORKS
    from dispatch.demo.staffing import Staffing

    teams: dict[str, Any] = {code: {} for code in ALL_NETWORKS}
    teams["HF-NORTH"] = {"early": {"district_nurse": 1}}

    kpis = simulate(replace(MORNING, staffing=Staffing(teams))).kpis

    assert kpis["utilisation_detail"]["shifts"] == 1
    assert set(kpis["networks"]) >= {"HF-NORTH"}
    north = kpis["networks"]["HF-NORTH"]
    assert north["shifts"] == 1
    assert north["utilisation_by_hour"] and set(north["utilisation_by_hour"]) <= {
        f"{h:02d}" for h in range(24)}
    # Each miss says how busy the workers who could have gone were (None: nobody on shift).
    assert all(m["skilled_load"] is None or 0.0 <= m["skilled_load"] <= 1.0
               for m in north["missed_2h"])


def test_work_booked_at_the_start_is_placed_in_one_run_a_network(
        template: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The day's booked visits all arrive at its start. Before the fix the placer ran after
    each of them, and each run tried again every visit it had not placed yet (production's
    placer waits RETRY_AFTER before retrying one): with 450 booked visits a day stalled at
    06:00 for 45 CPU minutes. Now what arrives together is placed in one run a network, and a
    visit with no room is not retried before RETRY_AFTER."""
    from dispatch.planning import pipeline

    runs: list[tuple[datetime, tuple[int, ...]]] = []
    real = pipeline.run

    def counting(tx: Any, *, now: Any, new_ids: Any = (), **kw: Any) -> Any:
        if kw["options"].method == "insert":
            runs.append((now, tuple(new_ids)))
        return real(tx, now=now, new_ids=new_ids, **kw)

    monkeypatch.setattr(pipeline, "run", counting)
    config = replace(MORNING, booked=12, referrals=0)
    simulate(config, template=template)
    start = [ids for now, ids in runs if now.time() == config.day_start]
    assert start and len(start) <= 10  # one run per network with new visits
    tried: dict[int, list[datetime]] = {}
    for now, ids in runs:
        for visit_id in ids:
            tried.setdefault(visit_id, []).append(now)
    for moments in tried.values():
        assert all(b - a >= pipeline.RETRY_AFTER for a, b in pairwise(moments))


def test_a_booked_care_call_is_made_in_its_round(
        template: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each booked home care call has its round's start booked through the product's own
    booking (``book_later_start``), so its window is the round, not the whole morning: before,
    every booked visit could be made from 06:00 and the morning's workers took them all."""
    from dispatch.simulation import engine

    booked: list[tuple[int, datetime]] = []
    real = engine.book_later_start

    def spy(session: Any, *, visit_id: int, start: datetime, **kw: Any) -> Any:
        result = real(session, visit_id=visit_id, start=start, **kw)
        booked.append((visit_id, result.visit.earliest_start))
        return result

    monkeypatch.setattr(engine, "book_later_start", spy)
    config = replace(MORNING, booked=24, referrals=0)
    simulate(config, template=template)
    opens = {start for start, _ in CALL_ROUNDS}
    assert booked and all(start.astimezone(LONDON).time() in opens for _, start in booked)
    assert all(start.astimezone(LONDON).time() > config.day_start for _, start in booked)
