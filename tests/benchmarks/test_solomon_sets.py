"""The Solomon benchmark's sets (ADR 0004): settings are chosen on one set and judged on
others, so no instance may be in the tuning set and a held-back set."""

from __future__ import annotations

from benchmarks.solomon_bench import (
    FRESH2_GENERATED,
    FRESH_GENERATED,
    HELD_GENERATED,
    HELD_PUBLISHED,
    TUNING_GENERATED,
    TUNING_PUBLISHED,
)
from benchmarks.solomon_gen import generate


def _names(specs: tuple[tuple[str, int, int, float], ...]) -> set[str]:
    return {generate(cls, n, seed, windowed=w).name for cls, n, seed, w in specs}


def test_no_instance_is_both_tuned_on_and_held_back() -> None:
    tuning = _names(TUNING_GENERATED) | set(TUNING_PUBLISHED)
    held_back = [_names(HELD_GENERATED) | set(HELD_PUBLISHED), _names(FRESH_GENERATED),
                 _names(FRESH2_GENERATED)]

    assert [len(names) for names in held_back] == [17, 9, 10]
    for names in held_back:
        assert not names & tuning
    assert not held_back[0] & held_back[1] and not held_back[0] & held_back[2]
    assert not held_back[1] & held_back[2]
