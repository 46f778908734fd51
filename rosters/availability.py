"""Who is working, and for how much longer.

Conventions (documented because the scheduler and the board must agree on them):

- A shift covers the half-open interval ``[start, end)``: a worker is on shift at the very
  moment it starts and off shift at the very moment it ends, so back-to-back shifts never
  count the same instant twice.
- A break is likewise ``[start, end)``: unavailable from the first minute of the break,
  available again the moment it ends.
- All arithmetic is in UTC, so shifts across midnight and daylight-saving changes are measured
  in real elapsed time.
- ``now`` / ``at`` are always passed in; nothing here reads the clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rosters.types import Shift


def _utc(value: datetime) -> datetime:
    if value.utcoffset() is None:
        raise ValueError("time must be a timezone-aware datetime")
    return value.astimezone(UTC)


def _within(at: datetime, start: datetime, end: datetime) -> bool:
    return _utc(start) <= at < _utc(end)


def on_shift_at(shift: Shift, at: datetime) -> bool:
    """Return True if ``at`` falls within ``[shift.start, shift.end)``, breaks included."""
    return _within(_utc(at), shift.start, shift.end)


def on_break(shift: Shift, at: datetime) -> bool:
    """Return True if ``at`` falls within one of the shift's breaks (``[start, end)``)."""
    moment = _utc(at)
    return any(_within(moment, item.start, item.end) for item in shift.breaks)


def is_available(shift: Shift, at: datetime) -> bool:
    """Return True if the worker on ``shift`` can be sent somewhere at ``at``.

    Parameters
    ----------
    shift
        The worker's shift.
    at
        Timezone-aware moment to check.

    Returns
    -------
    bool
        True inside ``[start, end)`` and outside every break.
    """
    return on_shift_at(shift, at) and not on_break(shift, at)


def remaining_shift(shift: Shift, now: datetime) -> timedelta:
    """Return the working time left on ``shift`` from ``now``, remaining breaks excluded.

    Before the shift starts this is the whole working time; after it ends it is zero. A break
    in progress counts only its part still to come.

    Parameters
    ----------
    shift
        The worker's shift.
    now
        Timezone-aware current time.

    Returns
    -------
    datetime.timedelta
        Non-negative remaining working time.
    """
    start = max(_utc(now), _utc(shift.start))
    end = _utc(shift.end)
    if start >= end:
        return timedelta()
    remaining = end - start
    for item in shift.breaks:
        overlap = min(_utc(item.end), end) - max(_utc(item.start), start)
        if overlap > timedelta():
            remaining -= overlap
    return remaining


def on_shift(shifts: Iterable[Shift], at: datetime) -> tuple[Shift, ...]:
    """Return the shifts, among ``shifts``, that cover ``at`` (on a break or not).

    Why breaks are included: the board shows everyone on duty; use :func:`is_available` to
    ask who can take a visit right now.
    """
    return tuple(shift for shift in shifts if on_shift_at(shift, at))


def available(shifts: Iterable[Shift], at: datetime) -> tuple[Shift, ...]:
    """Return the shifts, among ``shifts``, whose worker is available at ``at``."""
    return tuple(shift for shift in shifts if is_available(shift, at))


def shifts_overlap(first: Shift, second: Shift) -> bool:
    """Return True if two shifts share any instant; touching end-to-start does not count."""
    return _utc(first.start) < _utc(second.end) and _utc(second.start) < _utc(first.end)


def overlapping_shifts(shifts: Iterable[Shift]) -> list[tuple[Shift, Shift]]:
    """Find pairs of shifts of the same worker that overlap in time.

    A worker cannot be in two places at once, so a roster with such a pair is invalid.

    Parameters
    ----------
    shifts
        Shifts of any number of workers, in any order.

    Returns
    -------
    list of (Shift, Shift)
        Each overlapping pair once, the earlier-starting shift first, in start order of the
        later shift. Empty if there is none.
    """
    by_staff: dict[str, list[Shift]] = {}
    for shift in shifts:
        by_staff.setdefault(shift.staff_id, []).append(shift)
    pairs: list[tuple[Shift, Shift]] = []
    for own in by_staff.values():
        ordered = sorted(own, key=lambda shift: (_utc(shift.start), _utc(shift.end)))
        for index, later in enumerate(ordered):
            for earlier in ordered[:index]:
                if shifts_overlap(earlier, later):
                    pairs.append((earlier, later))
    pairs.sort(key=lambda pair: _utc(pair[1].start))
    return pairs
