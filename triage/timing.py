"""When care must start: response windows and urgent community response hours.

Deadlines are elapsed time: "within 2 hours" is 120 real minutes even across a clock change,
so we add durations in UTC. Opening hours are wall-clock times in England: 08:00-20:00
Europe/London, whatever the offset that day, so we build them with ``zoneinfo``. Every time
we hand back is in Europe/London, the zone the call handler reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta, timezone
from types import MappingProxyType
from zoneinfo import ZoneInfo

__all__ = [
    "LONDON",
    "RESPONSE_WINDOWS",
    "UCR_CLOSES",
    "UCR_OPENS",
    "add_elapsed",
    "describe_time",
    "in_ucr_hours",
    "local",
    "next_ucr_opening",
]

LONDON = ZoneInfo("Europe/London")
# NHS England urgent community response: 2 hours, 8am-8pm, 7 days a week. A referral
# received at 19:59 is in hours; one at 20:00 is not.
UCR_OPENS = time(8, 0)
UCR_CLOSES = time(20, 0)
# How long each category allows from receipt of the referral. "planned" is our own
# convention (within three days); emergency_999 is "now" and signposting has no deadline.
RESPONSE_WINDOWS: Mapping[str, timedelta] = MappingProxyType(
    {
        "emergency_999": timedelta(0),
        "urgent_2h": timedelta(hours=2),
        "response_24h": timedelta(hours=24),
        "planned": timedelta(hours=72),
    }
)


def local(moment: datetime) -> datetime:
    """The same instant on the Europe/London clock, carrying a fixed UTC offset.

    A fixed offset rather than the ``ZoneInfo`` itself because Python compares and
    subtracts two datetimes that share one tzinfo object by wall clock alone, ignoring
    ``fold``: two London times either side of the autumn clock change would compare the
    wrong way round. With fixed offsets every comparison and subtraction is in real time,
    and the ISO text still shows the London offset (``+00:00`` or ``+01:00``).
    """
    wall = moment.astimezone(LONDON)
    offset = wall.utcoffset()
    assert offset is not None  # ZoneInfo always knows its offset
    return wall.replace(tzinfo=timezone(offset), fold=0)


def add_elapsed(moment: datetime, delta: timedelta) -> datetime:
    """Add real elapsed time (in UTC, so a clock change cannot stretch or shrink it)."""
    return local(moment.astimezone(UTC) + delta)


def in_ucr_hours(moment: datetime) -> bool:
    """True from 08:00 up to (not including) 20:00 on the Europe/London clock."""
    wall = local(moment).time()
    return UCR_OPENS <= wall < UCR_CLOSES


def next_ucr_opening(moment: datetime) -> datetime:
    """The first 08:00 (Europe/London) at or after ``moment``.

    08:00 is never inside a clock change (those happen at 01:00-02:00), so the wall time
    always exists and is unambiguous.
    """
    wall = local(moment)
    opening = local(datetime.combine(wall.date(), UCR_OPENS, tzinfo=LONDON))
    if opening < wall:
        opening = local(datetime.combine(wall.date() + timedelta(days=1), UCR_OPENS, tzinfo=LONDON))
    return opening


def describe_time(moment: datetime) -> str:
    """A time as a call handler says it: "14:30 on Mon 15 Jan"."""
    wall = local(moment)
    return f"{wall:%H:%M} on {wall:%a} {wall.day} {wall:%b}"
