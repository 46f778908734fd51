"""Tests for rosters.availability: on shift, on break, remaining time, overlaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rosters.availability import (
    available,
    is_available,
    on_break,
    on_shift,
    overlapping_shifts,
    remaining_shift,
)
from rosters.types import Break, Shift

LONDON = ZoneInfo("Europe/London")


def _at(hour: int, minute: int = 0, day: int = 10, month: int = 6) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LONDON)


def _day_shift(shift_id: str = "s1", staff_id: str = "w1") -> Shift:
    return Shift(
        id=shift_id,
        staff_id=staff_id,
        start=_at(8),
        end=_at(16),
        base="W12",
        breaks=(Break(_at(12, 30), _at(13)),),
    )


def test_is_available_start_instant_inclusive() -> None:
    """A worker can be sent from the first instant of the shift."""
    assert is_available(_day_shift(), _at(8))


def test_is_available_end_instant_exclusive() -> None:
    """At the end instant the shift is over, so back-to-back shifts never share a moment."""
    shift = _day_shift()

    assert is_available(shift, _at(16) - timedelta(microseconds=1))
    assert not is_available(shift, _at(16))


def test_is_available_before_shift_false() -> None:
    """Nobody is available before their shift starts."""
    assert not is_available(_day_shift(), _at(7, 59))


def test_is_available_break_start_inclusive_end_exclusive() -> None:
    """Unavailable from the first minute of a break, available again the moment it ends."""
    shift = _day_shift()

    assert is_available(shift, _at(12, 29))
    assert not is_available(shift, _at(12, 30))
    assert on_break(shift, _at(12, 45))
    assert is_available(shift, _at(13))


def test_is_available_other_zone_same_instant() -> None:
    """Times in UTC are compared as instants: 11:30 UTC is 12:30 BST, on the break."""
    assert not is_available(_day_shift(), datetime(2026, 6, 10, 11, 30, tzinfo=UTC))


def test_is_available_naive_time_rejected() -> None:
    """A naive time is ambiguous on DST nights, so it is refused rather than guessed."""
    with pytest.raises(ValueError, match="timezone-aware"):
        is_available(_day_shift(), datetime(2026, 6, 10, 9))


def test_is_available_midnight_crossing_night_shift() -> None:
    """A 20:00-08:00 shift covers 02:00 the next day, and a break then is respected."""
    shift = Shift(
        id="n1",
        staff_id="w1",
        start=_at(20),
        end=_at(8, day=11),
        base="W6",
        breaks=(Break(_at(2, day=11), _at(2, 30, day=11)),),
    )

    assert is_available(shift, _at(23, 59))
    assert is_available(shift, _at(1, 59, day=11))
    assert not is_available(shift, _at(2, 15, day=11))
    assert not is_available(shift, _at(8, day=11))


def test_remaining_shift_before_start_is_working_time() -> None:
    """Before the shift starts the whole shift minus breaks remains."""
    assert remaining_shift(_day_shift(), _at(6)) == timedelta(hours=7, minutes=30)


def test_remaining_shift_mid_shift_subtracts_future_break() -> None:
    """At 10:00, six hours remain of which the 30-minute break is not working time."""
    assert remaining_shift(_day_shift(), _at(10)) == timedelta(hours=5, minutes=30)


def test_remaining_shift_during_break_counts_rest_of_break_only() -> None:
    """At 12:40, 3h20 of clock time remain, minus the 20 minutes of break still to come."""
    assert remaining_shift(_day_shift(), _at(12, 40)) == timedelta(hours=3)


def test_remaining_shift_after_end_is_zero() -> None:
    """After the shift there is nothing left, never a negative duration."""
    assert remaining_shift(_day_shift(), _at(17)) == timedelta()
    assert remaining_shift(_day_shift(), _at(16)) == timedelta()


def test_remaining_shift_spring_forward_night_is_one_hour_shorter() -> None:
    """20:00-08:00 on the night the clocks go forward lasts 11 real hours."""
    shift = Shift(
        id="n1",
        staff_id="w1",
        start=datetime(2026, 3, 28, 20, tzinfo=LONDON),
        end=datetime(2026, 3, 29, 8, tzinfo=LONDON),
        base="W6",
    )

    assert remaining_shift(shift, datetime(2026, 3, 28, 19, tzinfo=LONDON)) == timedelta(hours=11)
    assert remaining_shift(shift, datetime(2026, 3, 29, 0, 30, tzinfo=UTC)) == timedelta(
        hours=6, minutes=30
    )


def test_remaining_shift_autumn_night_repeated_hour_counted_twice() -> None:
    """On the night the clocks go back, 01:30 BST to 08:00 GMT is 7.5 real hours."""
    shift = Shift(
        id="n1",
        staff_id="w1",
        start=datetime(2026, 10, 24, 20, tzinfo=LONDON),
        end=datetime(2026, 10, 25, 8, tzinfo=LONDON),
        base="W6",
    )
    first_0130 = datetime(2026, 10, 25, 1, 30, tzinfo=LONDON, fold=0)
    second_0130 = datetime(2026, 10, 25, 1, 30, tzinfo=LONDON, fold=1)

    assert remaining_shift(shift, first_0130) == timedelta(hours=7, minutes=30)
    assert remaining_shift(shift, second_0130) == timedelta(hours=6, minutes=30)


def test_on_shift_includes_workers_on_break() -> None:
    """The board lists everyone on duty; available() narrows to those free now."""
    working = _day_shift("s1", "w1")
    late = Shift(id="s2", staff_id="w2", start=_at(14), end=_at(22), base="SW6")

    assert on_shift([working, late], _at(12, 45)) == (working,)
    assert available([working, late], _at(12, 45)) == ()
    assert available([working, late], _at(15)) == (working, late)


def test_overlapping_shifts_finds_same_worker_overlap_only() -> None:
    """Overlap is a problem only for one worker; two workers may share hours."""
    first = _day_shift("s1", "w1")
    clash = Shift(id="s2", staff_id="w1", start=_at(15), end=_at(18), base="W12")
    colleague = Shift(id="s3", staff_id="w2", start=_at(8), end=_at(16), base="W12")

    assert overlapping_shifts([clash, colleague, first]) == [(first, clash)]


def test_overlapping_shifts_touching_is_not_overlap() -> None:
    """A shift ending at 16:00 and the next starting at 16:00 do not overlap."""
    first = _day_shift("s1", "w1")
    next_one = Shift(id="s2", staff_id="w1", start=_at(16), end=_at(20), base="W12")

    assert overlapping_shifts([first, next_one]) == []
