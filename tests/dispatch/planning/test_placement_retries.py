"""The placer's memory of its tries (dispatch.planning.retries): back-off, urgency, forgetting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.planning.retries import PlacementRetries

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _tries(retries: PlacementRetries, new: dict[int, list[int]], urgent: set[int],
           minutes: int) -> list[int]:
    """The minutes at which visit 1 was due (and tried), over ``minutes`` minutes."""
    tried = []
    for minute in range(minutes):
        now = T0 + timedelta(minutes=minute)
        due = retries.due(new, urgent=urgent, now=now)
        if 1 in due.get(10, []):
            tried.append(minute)
            retries.tried([1], now)
    return tried


@pytest.mark.safety("H-243")
def test_a_two_hour_visit_is_tried_every_minute_however_often_it_failed() -> None:
    assert _tries(PlacementRetries(), {10: [1]}, {1}, 6) == [0, 1, 2, 3, 4, 5]


def test_a_routine_visit_backs_off_to_the_longest_wait() -> None:
    tried = _tries(PlacementRetries(), {10: [1]}, set(), 80)
    gaps = [b - a for a, b in zip(tried, tried[1:], strict=False)]
    assert gaps == [1, 2, 4, 8, 15, 15, 15, 15]


@pytest.mark.safety("H-243")
def test_a_visit_no_longer_new_is_forgotten_and_starts_again_when_it_comes_back() -> None:
    """A placed visit leaves the record (it does not grow for months); declined and new again,
    it is tried at once, not after its old back-off."""
    retries = PlacementRetries()
    for minute in (0, 1, 3):
        retries.tried([1], T0 + timedelta(minutes=minute))
    retries.tried([2], T0)
    assert retries.due({10: [2]}, urgent=(), now=T0 + timedelta(minutes=4)) == {10: [2]}
    assert 1 not in retries and len(retries) == 1
    assert retries.due({10: [1, 2]}, urgent=(), now=T0 + timedelta(minutes=4, seconds=1)) == {
        10: [1, 2]}


def test_networks_with_nothing_due_are_left_out() -> None:
    retries = PlacementRetries()
    retries.tried([1], T0)
    assert retries.due({10: [1], 11: [2]}, urgent=(), now=T0) == {11: [2]}


def test_waits_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="first_wait <= longest_wait"):
        PlacementRetries(first_wait=timedelta(minutes=5), longest_wait=timedelta(minutes=1))
