"""NEWS2 scoring against the RCP 2017 chart: every band edge of every parameter."""

from __future__ import annotations

from typing import Any

import pytest

from triage.news2 import (
    news2_band,
    round_temperature,
    score_consciousness,
    score_news2,
    score_on_oxygen,
    score_pulse,
    score_respiration_rate,
    score_spo2,
    score_systolic_bp,
    score_temperature,
)
from triage.types import NEWS2_PARAMETERS, Observations


@pytest.mark.parametrize(
    ("rate", "expected"),
    [(0, 3), (8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3), (80, 3)],
)
def test_respiration_rate_band_edges(rate: int, expected: int) -> None:
    """Chart: <=8 3, 9-11 1, 12-20 0, 21-24 2, >=25 3; both sides of every edge."""
    assert score_respiration_rate(rate) == expected


@pytest.mark.parametrize(
    ("spo2", "expected"),
    [(0, 3), (91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)],
)
@pytest.mark.parametrize("on_oxygen", [None, False, True])
def test_spo2_scale1_band_edges(spo2: int, expected: int, on_oxygen: bool | None) -> None:
    """Scale 1: <=91 3, 92-93 2, 94-95 1, >=96 0, whatever the oxygen."""
    assert score_spo2(spo2, scale=1, on_oxygen=on_oxygen) == expected


@pytest.mark.parametrize(
    ("spo2", "on_oxygen", "expected"),
    [
        (0, False, 3), (83, False, 3), (83, True, 3), (84, True, 2), (85, False, 2),
        (86, True, 1), (87, False, 1), (88, True, 0), (88, False, 0), (92, True, 0),
        (92, False, 0), (93, False, 0), (100, False, 0), (93, True, 1), (94, True, 1),
        (95, True, 2), (96, True, 2), (97, True, 3), (100, True, 3),
    ],
)
def test_spo2_scale2_band_edges(spo2: int, on_oxygen: bool, expected: int) -> None:
    """Scale 2: <=83 3, 84-85 2, 86-87 1, 88-92 0 (and >=93 on air); on oxygen 93-94 1,
    95-96 2, >=97 3."""
    assert score_spo2(spo2, scale=2, on_oxygen=on_oxygen) == expected


@pytest.mark.parametrize(("spo2", "expected"), [(83, 3), (87, 1), (92, 0), (93, None), (97, None)])
def test_spo2_scale2_unknown_oxygen_scores_only_below_93(spo2: int, expected: int | None) -> None:
    """Above 92% scale 2 depends on air or oxygen; without that we refuse to guess."""
    assert score_spo2(spo2, scale=2, on_oxygen=None) == expected


@pytest.mark.parametrize(("on_oxygen", "expected"), [(False, 0), (True, 2)])
def test_air_or_oxygen_scores(on_oxygen: bool, expected: int) -> None:
    """Supplemental oxygen scores 2, air 0."""
    assert score_on_oxygen(on_oxygen) == expected


@pytest.mark.parametrize(
    ("systolic", "expected"),
    [(0, 3), (90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3),
     (300, 3)],
)
def test_systolic_bp_band_edges(systolic: int, expected: int) -> None:
    """Chart: <=90 3, 91-100 2, 101-110 1, 111-219 0, >=220 3."""
    assert score_systolic_bp(systolic) == expected


@pytest.mark.parametrize(
    ("pulse", "expected"),
    [(0, 3), (40, 3), (41, 1), (50, 1), (51, 0), (90, 0), (91, 1), (110, 1), (111, 2),
     (130, 2), (131, 3), (300, 3)],
)
def test_pulse_band_edges(pulse: int, expected: int) -> None:
    """Chart: <=40 3, 41-50 1, 51-90 0, 91-110 1, 111-130 2, >=131 3."""
    assert score_pulse(pulse) == expected


@pytest.mark.parametrize(
    ("level", "expected"),
    [("alert", 0), ("new_confusion", 3), ("voice", 3), ("pain", 3), ("unresponsive", 3)],
)
def test_consciousness_scores(level: str, expected: int) -> None:
    """ACVPU: only alert scores 0; new confusion counts like V, P and U."""
    assert score_consciousness(level) == expected


@pytest.mark.parametrize(
    ("celsius", "expected"),
    [(25.0, 3), (35.0, 3), (35.1, 1), (36.0, 1), (36.1, 0), (38.0, 0), (38.1, 1), (39.0, 1),
     (39.1, 2), (45.0, 2), (35, 3), (39, 1)],
)
def test_temperature_band_edges(celsius: float, expected: int) -> None:
    """Chart: <=35.0 3, 35.1-36.0 1, 36.1-38.0 0, 38.1-39.0 1, >=39.1 2."""
    assert score_temperature(celsius) == expected


@pytest.mark.parametrize(
    ("celsius", "expected"),
    [(35.04, 3), (35.05, 1), (35.95, 1), (36.05, 0), (38.04, 0), (38.05, 1), (39.04, 1),
     (39.05, 2)],
)
def test_temperature_between_edges_rounds_half_up(celsius: float, expected: int) -> None:
    """Two-decimal readings are rounded to one decimal, half up, before banding."""
    assert score_temperature(celsius) == expected


def test_round_temperature_ignores_binary_float_error() -> None:
    """35.05 is 35.04999... in binary; we round its decimal text, so it becomes 35.1."""
    assert str(round_temperature(35.05)) == "35.1"


@pytest.mark.parametrize(
    ("total", "single_three", "expected"),
    [(0, False, "low"), (4, False, "low"), (3, True, "low_medium"), (4, True, "low_medium"),
     (5, False, "medium"), (5, True, "medium"), (6, True, "medium"), (7, False, "high"),
     (20, True, "high")],
)
def test_news2_band_edges(total: int, single_three: bool, expected: str) -> None:
    """0-4 low, a single 3 low-medium, 5-6 medium, 7+ high."""
    assert news2_band(total, single_three) == expected


# Observations whose totals sit on each aggregate edge, built from band-edge values.
AGGREGATES = [
    (Observations(respiration_rate=21, pulse=111), 4, "low", False),
    (Observations(consciousness="new_confusion"), 3, "low_medium", True),
    (Observations(consciousness="voice", temperature=38.1), 4, "low_medium", True),
    (Observations(respiration_rate=21, pulse=111, temperature=38.1), 5, "medium", False),
    (Observations(respiration_rate=21, pulse=111, temperature=38.1, systolic_bp=110), 6,
     "medium", False),
    (Observations(respiration_rate=21, pulse=111, temperature=38.1, systolic_bp=110, spo2=95),
     7, "high", False),
]


@pytest.mark.parametrize(("obs", "total", "band", "three"), AGGREGATES)
def test_score_news2_aggregate_edges(obs: Observations, total: int, band: str, three: bool) -> None:
    """The aggregate is the sum of the parts and lands in the right band at 4/5, 6/7, 3."""
    score = score_news2(obs)

    assert (score.total, score.band, score.any_single_three) == (total, band, three)
    assert score.total == sum(score.parts.values())


def test_score_news2_full_set_matches_hand_count() -> None:
    """The DESIGN.md example observations: 2+1+0+1+1+0+1 = 6, complete, medium."""
    obs = Observations(respiration_rate=22, spo2=95, spo2_scale=1, on_oxygen=False,
                       systolic_bp=105, pulse=95, consciousness="alert", temperature=38.2)

    score = score_news2(obs)

    assert dict(score.parts) == {"respiration_rate": 2, "spo2": 1, "on_oxygen": 0,
                                 "systolic_bp": 1, "pulse": 1, "consciousness": 0,
                                 "temperature": 1}
    assert (score.total, score.band, score.complete, score.missing) == (6, "medium", True, ())


def test_score_news2_lists_missing_and_never_guesses() -> None:
    """Parameters not recorded are listed in chart order and contribute nothing."""
    score = score_news2(Observations(pulse=131))

    assert dict(score.parts) == {"pulse": 3}
    assert score.missing == tuple(p for p in NEWS2_PARAMETERS if p != "pulse")
    assert not score.complete


def test_score_news2_oxygen_counts_on_both_scales() -> None:
    """The air-or-oxygen parameter adds 2 on scale 1 and on scale 2."""
    scale1 = score_news2(Observations(spo2=96, on_oxygen=True))
    scale2 = score_news2(Observations(spo2=92, spo2_scale=2, on_oxygen=True))

    assert (scale1.total, scale2.total) == (2, 2)


def test_score_news2_scale2_only_when_flagged() -> None:
    """88% is 3 on the default scale 1 but 0 on scale 2: scale 2 must be asked for."""
    default = score_news2(Observations(spo2=88, on_oxygen=False))
    flagged = score_news2(Observations(spo2=88, spo2_scale=2, on_oxygen=False))

    assert (default.parts["spo2"], default.scale) == (3, 1)
    assert (flagged.parts["spo2"], flagged.scale) == (0, 2)


@pytest.mark.safety("H-005")
@pytest.mark.parametrize(("spo2", "points"), [(92, 0), (93, 1), (94, 1), (95, 2), (96, 2),
                                              (97, 3), (100, 3)])
def test_score_news2_scale2_high_spo2_without_oxygen_status_is_conservative(
    spo2: int, points: int
) -> None:
    """Scale 2 with oxygen unknown scores the higher of air and oxygen; air-or-oxygen stays missing.

    Issue 13 (H-005): this reading used to be dropped, so a scale-2 SpO2 alone gave "no NEWS2
    observations". 92 is inside the target range (0 either way), so it is not conservative.
    """
    score = score_news2(Observations(spo2=spo2, spo2_scale=2))

    assert score.parts["spo2"] == points
    assert "on_oxygen" in score.missing and "spo2" not in score.missing
    assert score.conservative == (("spo2",) if spo2 > 92 else ())


# Every value on a fine grid, per parameter and (for SpO2) per scale and oxygen status,
# with the normal (score 0) range: moving away from it must never lower the score.
_GRID_CASES = [
    ("respiration_rate", score_respiration_rate, range(81), (12, 20)),
    ("systolic_bp", score_systolic_bp, range(301), (111, 219)),
    ("pulse", score_pulse, range(301), (51, 90)),
    ("temperature", score_temperature, [t / 100 for t in range(2500, 4501)], (36.1, 38.0)),
    ("spo2 scale 1", lambda v: score_spo2(v, scale=1), range(101), (96, 100)),
    ("spo2 scale 2 air", lambda v: score_spo2(v, scale=2, on_oxygen=False), range(101),
     (88, 100)),
    ("spo2 scale 2 oxygen", lambda v: score_spo2(v, scale=2, on_oxygen=True), range(101),
     (88, 92)),
]


@pytest.mark.parametrize(("name", "score", "grid", "normal"), _GRID_CASES,
                         ids=[c[0] for c in _GRID_CASES])
def test_score_never_improves_moving_away_from_normal(
    name: str, score: Any, grid: Any, normal: tuple[float, float]
) -> None:
    """Exhaustive: each step further below or above the normal range scores the same or more,
    and the normal range itself scores 0 (the basis of triage monotonicity)."""
    values = list(grid)
    scores = [score(v) for v in values]

    below = [s for v, s in zip(values, scores, strict=True) if v <= normal[0]]
    above = [s for v, s in zip(values, scores, strict=True) if v >= normal[1]]
    inside = [s for v, s in zip(values, scores, strict=True) if normal[0] <= v <= normal[1]]

    assert below == sorted(below, reverse=True)
    assert above == sorted(above)
    assert set(inside) == {0}
