"""Parsing and formatting of single roster CSV cells (see :mod:`rosters.csv_io`).

Kept apart from the file-level reader so each rule (times, breaks, skills, phone) can be read
and tested on its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from rosters.phones import normalise_uk_mobile
from rosters.roles import ROLES, unknown_skills
from rosters.types import TRAVEL_MODES, Break

#: Zone of wall-clock times written without a UTC offset.
LONDON: Final = ZoneInfo("Europe/London")

#: Travel mode of a worker whose ``travel_mode`` cell is empty.
DEFAULT_TRAVEL_MODE: Final = "car"

_BREAK: Final = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*-\s*(\d{1,2}):(\d{2})(?::(\d{2}))?$")
# A resolved break start lies within a day of the shift start; three calendar days of
# candidates cover a 24-hour shift that starts late in the evening.
_CANDIDATE_DAYS: Final = 3


@dataclass(frozen=True)
class BreakSpan:
    """A break as written: wall-clock start and end times, not yet tied to a date."""

    start: time
    end: time


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 date and time; without an offset it is Europe/London wall-clock.

    Raises
    ------
    ValueError
        If the text is not a date and time, or is a local time that does not exist or is
        ambiguous on a daylight-saving night.
    """
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 date and time (e.g. 2026-03-29T08:00)"
        ) from None
    if ":" not in text:
        raise ValueError(f"{text!r} has no time of day (e.g. 2026-03-29T08:00)")
    if value.tzinfo is None:
        return localise(value)
    return value


def localise(naive: datetime) -> datetime:
    """Attach Europe/London to a naive wall-clock time, refusing gaps and repeats.

    Raises
    ------
    ValueError
        If the time is skipped (clocks go forward) or occurs twice (clocks go back).
    """
    first = naive.replace(tzinfo=LONDON, fold=0)
    second = naive.replace(tzinfo=LONDON, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    if not _exists(naive):
        raise ValueError(
            f"{naive.isoformat(sep=' ')} does not exist in Europe/London "
            "(the clocks go forward); add a UTC offset"
        )
    raise ValueError(
        f"{naive.isoformat(sep=' ')} occurs twice in Europe/London "
        "(the clocks go back); add a UTC offset"
    )


def _exists(naive: datetime) -> bool:
    aware = naive.replace(tzinfo=LONDON, fold=0)
    return aware.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) == naive


def format_time(value: datetime) -> str:
    """Write ``value`` as ISO 8601 Europe/London time with its offset, to the minute if whole."""
    local = value.astimezone(LONDON)
    whole_minute = local.second == 0 and local.microsecond == 0
    return local.isoformat(timespec="minutes" if whole_minute else "seconds")


def _clock(hours: str, minutes: str, seconds: str | None, item: str) -> time:
    try:
        return time(int(hours), int(minutes), int(seconds or 0))
    except ValueError:
        raise ValueError(f"break {item!r} has an invalid time of day") from None


def parse_breaks(text: str) -> list[BreakSpan]:
    """Parse ``12:30-13:00;16:00-16:15`` into wall-clock spans; empty text means no breaks.

    Raises
    ------
    ValueError
        If an item is not ``HH:MM-HH:MM`` or has an invalid time of day.
    """
    spans: list[BreakSpan] = []
    for raw in text.split(";"):
        item = raw.strip()
        if not item:
            continue
        match = _BREAK.fullmatch(item)
        if match is None:
            raise ValueError(f"break {item!r} is not HH:MM-HH:MM")
        h1, m1, s1, h2, m2, s2 = match.groups()
        spans.append(BreakSpan(_clock(h1, m1, s1, item), _clock(h2, m2, s2, item)))
    return spans


def _format_clock(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def format_breaks(spans: Sequence[BreakSpan]) -> str:
    """Write spans as ``HH:MM-HH:MM`` separated by semicolons (inverse of parse_breaks)."""
    return ";".join(f"{_format_clock(s.start)}-{_format_clock(s.end)}" for s in spans)


def next_wall_time(anchor: datetime, clock: time, *, strictly_after: bool) -> datetime:
    """Return the first Europe/London moment showing ``clock`` at (or after) ``anchor``.

    At a wall-clock time that occurs twice (clocks go back) the first occurrence that is not
    before ``anchor`` is used.

    Raises
    ------
    ValueError
        If that wall-clock time is skipped (clocks go forward) on the day it falls.
    """
    anchor_utc = anchor.astimezone(UTC)
    first_day: date = anchor.astimezone(LONDON).date()
    for offset in range(_CANDIDATE_DAYS):
        naive = datetime.combine(first_day + timedelta(days=offset), clock)
        for fold in (0, 1):
            candidate = naive.replace(tzinfo=LONDON, fold=fold)
            instant = candidate.astimezone(UTC)
            if instant > anchor_utc or (instant == anchor_utc and not strictly_after):
                if not _exists(naive):
                    raise ValueError(
                        f"break time {clock.strftime('%H:%M')} does not exist on "
                        f"{naive.date().isoformat()} in Europe/London (the clocks go forward)"
                    )
                return candidate
    raise ValueError(f"no {clock.isoformat()} within {_CANDIDATE_DAYS} days of {anchor}")


def resolve_breaks(spans: Sequence[BreakSpan], shift_start: datetime) -> tuple[Break, ...]:
    """Tie wall-clock break spans to real moments within a shift starting at ``shift_start``.

    Each break starts at the first moment its start time occurs at or after the shift start,
    and ends at the first moment its end time occurs after that. Whether the break then lies
    inside the shift is checked by :class:`rosters.types.Shift`.
    """
    breaks: list[Break] = []
    for span in spans:
        start = next_wall_time(shift_start, span.start, strictly_after=False)
        end = next_wall_time(start, span.end, strictly_after=True)
        breaks.append(Break(start, end))
    return tuple(breaks)


def parse_skills(text: str) -> frozenset[str]:
    """Split a ``;``-separated skills cell into codes (not checked; see parse_staff_fields)."""
    return frozenset(item.strip() for item in text.split(";") if item.strip())


def _required(row: Mapping[str, str], column: str, problems: list[tuple[str, str]]) -> str:
    value = row.get(column, "")
    if not value:
        problems.append((column, f"{column} is required"))
    return value


def parse_staff_fields(
    row: Mapping[str, str],
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Check and normalise the staff cells of one line.

    Returns
    -------
    (values, problems)
        ``values`` maps each staff column to its normalised text (phone in E.164, empty
        travel mode as ``car``); ``problems`` lists ``(column, reason)`` for every bad cell, so
        that one line can report several errors at once.
    """
    problems: list[tuple[str, str]] = []
    values = {name: _required(row, name, problems) for name in ("staff_id", "name", "network")}
    values["base"] = _required(row, "base", problems)
    role = _required(row, "role", problems)
    if role and role not in ROLES:
        problems.append(("role", f"unknown role {role!r}; expected one of {', '.join(ROLES)}"))
    values["role"] = role
    values["skills"] = row.get("skills", "")
    unknown = unknown_skills(parse_skills(values["skills"]))
    if unknown:
        problems.append(("skills", f"unknown skill(s): {', '.join(unknown)}"))
    phone = _required(row, "phone", problems)
    values["phone"] = phone
    if phone:
        try:
            values["phone"] = normalise_uk_mobile(phone)
        except ValueError as error:
            problems.append(("phone", str(error)))
    mode = row.get("travel_mode", "") or DEFAULT_TRAVEL_MODE
    if mode not in TRAVEL_MODES:
        problems.append(
            (
                "travel_mode",
                f"unknown travel_mode {mode!r}; expected one of {', '.join(TRAVEL_MODES)}",
            )
        )
    values["travel_mode"] = mode
    return values, problems
