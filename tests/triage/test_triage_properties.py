"""Properties that must hold for every input: red flags and monotonicity (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from triage.disposition import triage
from triage.needs import NEEDS
from triage.red_flags import RED_FLAGS
from triage.rules import partial_treated_as_medium
from triage.screening import missing_screening
from triage.timing import LONDON
from triage.types import (
    CONSCIOUSNESS_LEVELS,
    NEWS2_PARAMETERS,
    RISK_TIERS,
    URGENCY_RANK,
    Disposition,
    Observations,
    TriageInput,
)

EXAMPLES = settings(max_examples=300, deadline=None)
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)

# Normal (score 0) range per numeric parameter; worse means further out on the same side.
NORMAL = {
    "respiration_rate": (12, 20),
    "systolic_bp": (111, 219),
    "pulse": (51, 90),
    "temperature": (36.1, 38.0),
}
SPO2_NORMAL = {1: (96, 100), 2: (88, 92)}
# Full plausible ranges, with the chart's band edges drawn often so thresholds get crossed.
EDGES = {
    "respiration_rate": (8, 9, 11, 12, 20, 21, 24, 25),
    "spo2": tuple(range(83, 98)),
    "systolic_bp": (90, 91, 100, 101, 110, 111, 219, 220),
    "pulse": (40, 41, 50, 51, 90, 91, 110, 111, 130, 131),
    "temperature": (35.0, 35.05, 35.1, 36.0, 36.1, 38.0, 38.05, 38.1, 39.0, 39.1),
}
# Draw from explicit grids (hypothesis' integers favour small numbers, which would leave
# the upper bands almost untested); temperatures to two decimals.
GRIDS: dict[str, list[float]] = {
    "respiration_rate": list(range(81)),
    "spo2": list(range(101)),
    "systolic_bp": list(range(301)),
    "pulse": list(range(301)),
    "temperature": [t / 100 for t in range(2500, 4501)],
}
VALUES = {
    name: st.sampled_from(EDGES[name]) | st.sampled_from(grid) for name, grid in GRIDS.items()
}
STRATEGIES = {
    "consciousness": st.sampled_from(CONSCIOUSNESS_LEVELS),
    "on_oxygen": st.booleans(),
    **VALUES,
}

observations = st.builds(
    Observations,
    respiration_rate=st.none() | VALUES["respiration_rate"],
    spo2=st.none() | VALUES["spo2"],
    spo2_scale=st.sampled_from((1, 2)),
    on_oxygen=st.none() | st.booleans(),
    systolic_bp=st.none() | VALUES["systolic_bp"],
    pulse=st.none() | VALUES["pulse"],
    consciousness=st.none() | st.sampled_from(CONSCIOUSNESS_LEVELS),
    temperature=st.none() | VALUES["temperature"],
)
received = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(LONDON)
)
# Inputs with something to triage (an empty referral is refused: H-003, tested on its own).
inputs = st.builds(
    TriageInput,
    received_at=received,
    needs=st.lists(st.sampled_from(sorted(NEEDS)), max_size=4),
    red_flags=st.just(()),
    observations=observations,
    frailty=st.none() | st.integers(1, 9),
    risk_tier=st.none() | st.sampled_from(RISK_TIERS),
    pathways_disposition=st.none() | st.sampled_from(("Dx05", "Dx06", "Dx07", "Dx08", "Dx11")),
    pathways_timeframe_minutes=st.none() | st.integers(1, 4000),
    age=st.none() | st.integers(16, 105),
).filter(lambda inp: not missing_screening(inp))


@EXAMPLES
@given(inp=inputs, flags=st.lists(st.sampled_from(sorted(RED_FLAGS)), min_size=1, max_size=3))
def test_red_flags_never_produce_a_community_visit(inp: TriageInput, flags: list[str]) -> None:
    """Any red flag, whatever else is true, means 999 and no visit to schedule."""
    result = triage(replace(inp, red_flags=tuple(flags)))

    assert result.category == "emergency_999"
    assert (result.skills, result.visit_duration_minutes, result.earliest_start) == ((), 0, None)
    assert result.out_of_hours is False


def _between(name: str, low: float, high: float) -> st.SearchStrategy[float]:
    """Values of one parameter in [low, high], band edges drawn often."""
    grid = [v for v in GRIDS[name] if low <= v <= high] or [low]
    edges = [e for e in EDGES[name] if low <= e <= high]
    return st.sampled_from(edges) | st.sampled_from(grid) if edges else st.sampled_from(grid)


def _worse(draw: st.DrawFn, name: str, value: object, obs: Observations) -> object:
    """Draw a value for one parameter that is no better than `value`.

    Worse means further from the normal (score 0) range on the side the value is on; from
    inside the normal range either way. Scale 2's normal range is 88-92 (above it is worse
    on oxygen and scores 0 on air, so moving up is never better).
    """
    if name == "consciousness":
        return draw(st.sampled_from(CONSCIOUSNESS_LEVELS[1:]))
    if name == "on_oxygen":
        return True
    assert isinstance(value, int | float)
    lo, hi = SPO2_NORMAL[obs.spo2_scale] if name == "spo2" else NORMAL[name]
    lowest, highest = GRIDS[name][0], GRIDS[name][-1]
    sides = [(lowest, value)] if value <= hi else []
    sides += [(value, highest)] if value >= lo else []
    low, high = sides[draw(st.integers(0, len(sides) - 1))] if len(sides) > 1 else sides[0]
    return draw(_between(name, low, high))


@st.composite
def worsened(draw: st.DrawFn) -> tuple[TriageInput, TriageInput]:
    """A referral with one parameter recorded, and a copy with it made no better."""
    inp = draw(inputs)
    name = draw(st.sampled_from(NEWS2_PARAMETERS))
    obs = inp.observations
    if getattr(obs, name) is None:
        obs = _with(obs, name, draw(STRATEGIES[name]))
    worse = _with(obs, name, _worse(draw, name, getattr(obs, name), obs))
    return replace(inp, observations=obs), replace(inp, observations=worse)


def _with(obs: Observations, name: str, value: Any) -> Observations:
    """A copy of the observations with one parameter changed."""
    changes: dict[str, Any] = {name: value}
    return replace(obs, **changes)


def _deadline(d: Disposition) -> datetime:
    return FAR_FUTURE if d.deadline is None else d.deadline


@settings(max_examples=600, deadline=None)
@given(pair=worsened())
def test_worse_observation_never_less_urgent(pair: tuple[TriageInput, TriageInput]) -> None:
    """Worsening any single observation never gives a less urgent category or later deadline."""
    before, after = (triage(i) for i in pair)

    if before.news2 is not None and after.news2 is not None:
        assert after.news2.total >= before.news2.total
    assert URGENCY_RANK[after.category] <= URGENCY_RANK[before.category]
    assert after.priority <= before.priority
    assert _deadline(after) <= _deadline(before)


@EXAMPLES
@given(inp=inputs, name=st.sampled_from(NEWS2_PARAMETERS), data=st.data())
def test_recording_a_missing_observation_never_less_urgent(
    inp: TriageInput, name: str, data: st.DataObject
) -> None:
    """Recording a parameter that was missing can only add to the score.

    Except where the missing parameter was what made the score uncertain (H-005): a partial
    score treated as medium, or a scale-2 SpO2 scored at its worst because oxygen was not
    stated. Completing those may lower the category, which is the point of recording them
    (``test_triage_partial_completed_with_normal_values_is_no_longer_urgent``).
    """
    emptied = replace(inp, observations=_with(inp.observations, name, None))
    value = data.draw(STRATEGIES[name])
    filled = replace(inp, observations=_with(inp.observations, name, value))
    if missing_screening(emptied):
        return  # nothing left to triage: refused, not less urgent

    before, after = triage(emptied), triage(filled)
    if before.news2 is not None and (
        before.news2.conservative or partial_treated_as_medium(before.news2)
    ):
        return

    assert URGENCY_RANK[after.category] <= URGENCY_RANK[before.category]
    assert _deadline(after) <= _deadline(before)


@EXAMPLES
@given(inp=inputs)
def test_deadline_is_never_before_receipt_nor_after_its_window(inp: TriageInput) -> None:
    """Every visit deadline lies between receipt and receipt + 72 hours + overnight wait."""
    result = triage(inp)

    received = inp.received_at.astimezone(UTC)  # UTC: London-London compares by wall clock
    if result.deadline is not None:
        assert received <= result.deadline <= received + timedelta(hours=72)
    if result.earliest_start is not None and result.deadline is not None:
        assert result.earliest_start <= result.deadline
