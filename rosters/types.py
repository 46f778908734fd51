"""Frozen dataclasses for staff, bases, shifts and rosters.

Times are timezone-aware ``datetime`` values. All comparisons and arithmetic here are done in
UTC, because Python compares and subtracts two datetimes that share one ``tzinfo`` (for example
both ``ZoneInfo("Europe/London")``) by wall-clock time, ignoring the change of UTC offset on
daylight-saving nights. A shift from 20:00 to 08:00 across the night the clocks go back is
13 hours long, not 12.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from rosters.availability import overlapping_shifts
from rosters.errors import InvalidFieldError, RosterConsistencyError
from rosters.phones import is_uk_mobile
from rosters.roles import ROLES, unknown_skills

#: How staff travel between visits; the same codes as ``routing.travel`` modes.
TRAVEL_MODES: Final[tuple[str, ...]] = ("car", "bicycle", "walk", "public_transport")

#: Longest shift we accept. A longer one is almost always a typo in a date, and a worker must
#: not be planned for more than a day in one go.
MAX_SHIFT_LENGTH: Final = timedelta(hours=24)

#: A UK postcode district (outward code), e.g. W12, SW1A, EC1V.
POSTCODE_DISTRICT: Final = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")


def _require_text(name: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidFieldError(name, f"{name} must be a non-empty string")


def _require_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidFieldError(name, f"{name} must be a timezone-aware datetime")


def utc(value: datetime) -> datetime:
    """Return ``value`` converted to UTC (the only safe way to compare aware datetimes)."""
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Base:
    """A place shifts start and end at (a team office or hub).

    Parameters
    ----------
    id
        Stable identifier, e.g. ``"hf-north"``.
    name
        Display name.
    postcode_district
        Outward code of the base, e.g. ``"W12"``.
    lat, lon
        WGS84 coordinates in degrees.
    """

    id: str
    name: str
    postcode_district: str
    lat: float
    lon: float

    def __post_init__(self) -> None:
        _require_text("id", self.id)
        _require_text("name", self.name)
        if not POSTCODE_DISTRICT.fullmatch(self.postcode_district):
            raise InvalidFieldError(
                "postcode_district",
                f"postcode_district {self.postcode_district!r} is not a UK postcode district",
            )
        if not -90.0 <= self.lat <= 90.0:
            raise InvalidFieldError("lat", f"lat {self.lat} is outside -90..90")
        if not -180.0 <= self.lon <= 180.0:
            raise InvalidFieldError("lon", f"lon {self.lon} is outside -180..180")


@dataclass(frozen=True)
class StaffMember:
    """A member of field or coordinating staff.

    Parameters
    ----------
    id
        Stable identifier (the roster's ``staff_id``).
    name
        Display name.
    role
        One of :data:`rosters.roles.ROLES`.
    skills
        Skill codes from :data:`rosters.roles.SKILLS` (any iterable; stored as a frozenset).
    base
        The id of the worker's usual base, or its postcode district.
    phone
        UK mobile in E.164 form, ``+447`` and nine digits (visits are offered by SMS).
    network
        The provider network the worker belongs to.
    travel_mode
        One of :data:`TRAVEL_MODES`.
    """

    id: str
    name: str
    role: str
    skills: frozenset[str]
    base: str
    phone: str
    network: str
    travel_mode: str = "car"

    def __post_init__(self) -> None:
        object.__setattr__(self, "skills", frozenset(self.skills))
        for name in ("id", "name", "base", "network"):
            _require_text(name, getattr(self, name))
        if self.role not in ROLES:
            raise InvalidFieldError(
                "role", f"unknown role {self.role!r}; expected one of {', '.join(ROLES)}"
            )
        unknown = unknown_skills(self.skills)
        if unknown:
            raise InvalidFieldError("skills", f"unknown skill(s): {', '.join(unknown)}")
        if not is_uk_mobile(self.phone):
            raise InvalidFieldError(
                "phone", f"phone {self.phone!r} is not a UK mobile in E.164 form (+447xxxxxxxxx)"
            )
        if self.travel_mode not in TRAVEL_MODES:
            raise InvalidFieldError(
                "travel_mode",
                f"unknown travel_mode {self.travel_mode!r}; "
                f"expected one of {', '.join(TRAVEL_MODES)}",
            )

    def has_skills(self, required: Iterable[str]) -> bool:
        """Return True if this worker holds every skill in ``required``."""
        return self.skills.issuperset(required)


@dataclass(frozen=True)
class Break:
    """A break inside a shift, during which the worker is not available.

    Parameters
    ----------
    start, end
        Timezone-aware datetimes, ``end`` after ``start``.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_aware("start", self.start)
        _require_aware("end", self.end)
        if utc(self.end) <= utc(self.start):
            raise InvalidFieldError(
                "breaks", f"break end {self.end.isoformat()} is not after its start"
            )

    @property
    def duration(self) -> timedelta:
        """Elapsed (UTC) length of the break."""
        return utc(self.end) - utc(self.start)


@dataclass(frozen=True)
class Shift:
    """One rostered shift of one worker, from and back to a base.

    Shifts may cross midnight and daylight-saving changes; all checks are done in UTC.
    Breaks are stored sorted by start time.

    Parameters
    ----------
    id
        Stable identifier, unique in a roster.
    staff_id
        The worker's :attr:`StaffMember.id`.
    start, end
        Timezone-aware datetimes; ``end`` after ``start``, at most :data:`MAX_SHIFT_LENGTH`.
    base
        Base id or postcode district the shift starts and ends at.
    breaks
        Breaks wholly inside ``[start, end]`` that do not overlap each other.
    """

    id: str
    staff_id: str
    start: datetime
    end: datetime
    base: str
    breaks: tuple[Break, ...] = field(default=())

    def __post_init__(self) -> None:
        for name in ("id", "staff_id", "base"):
            _require_text(name, getattr(self, name))
        _require_aware("start", self.start)
        _require_aware("end", self.end)
        start, end = utc(self.start), utc(self.end)
        if end <= start:
            raise InvalidFieldError(
                "end",
                f"shift end {self.end.isoformat()} is not after its start {self.start.isoformat()}",
            )
        if end - start > MAX_SHIFT_LENGTH:
            raise InvalidFieldError(
                "end", f"shift is longer than {MAX_SHIFT_LENGTH.total_seconds() / 3600:g} hours"
            )
        breaks = tuple(sorted(self.breaks, key=lambda item: utc(item.start)))
        object.__setattr__(self, "breaks", breaks)
        self._check_breaks(start, end)

    def _check_breaks(self, start: datetime, end: datetime) -> None:
        previous: Break | None = None
        for item in self.breaks:
            if utc(item.start) < start or utc(item.end) > end:
                raise InvalidFieldError(
                    "breaks",
                    f"break {item.start.isoformat()} to {item.end.isoformat()} "
                    "is not inside the shift",
                )
            if previous is not None and utc(item.start) < utc(previous.end):
                raise InvalidFieldError(
                    "breaks",
                    f"break at {item.start.isoformat()} overlaps the break at "
                    f"{previous.start.isoformat()}",
                )
            previous = item

    @property
    def duration(self) -> timedelta:
        """Elapsed (UTC) length of the shift, breaks included."""
        return utc(self.end) - utc(self.start)

    @property
    def break_time(self) -> timedelta:
        """Total length of the breaks."""
        return sum((item.duration for item in self.breaks), timedelta())

    @property
    def working_time(self) -> timedelta:
        """Length of the shift minus its breaks."""
        return self.duration - self.break_time


@dataclass(frozen=True)
class Roster:
    """A consistent set of staff and their shifts.

    Parameters
    ----------
    staff
        Staff members with unique ids.
    shifts
        Shifts with unique ids, each for a listed staff member, and no two shifts of one
        worker overlapping in time.

    Raises
    ------
    RosterConsistencyError
        If any of those rules is broken (a ``ValueError``).
    """

    staff: tuple[StaffMember, ...] = ()
    shifts: tuple[Shift, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "staff", tuple(self.staff))
        object.__setattr__(self, "shifts", tuple(self.shifts))
        _require_unique("staff id", [member.id for member in self.staff])
        _require_unique("shift id", [shift.id for shift in self.shifts])
        known = {member.id for member in self.staff}
        for shift in self.shifts:
            if shift.staff_id not in known:
                raise RosterConsistencyError(
                    f"shift {shift.id!r} is for unknown staff id {shift.staff_id!r}"
                )
        clashes = overlapping_shifts(self.shifts)
        if clashes:
            first, second = clashes[0]
            raise RosterConsistencyError(
                f"shifts {first.id!r} and {second.id!r} of staff {first.staff_id!r} overlap"
            )

    def staff_member(self, staff_id: str) -> StaffMember:
        """Return the staff member with ``staff_id``; ``KeyError`` if there is none."""
        for member in self.staff:
            if member.id == staff_id:
                return member
        raise KeyError(staff_id)

    def shifts_of(self, staff_id: str) -> tuple[Shift, ...]:
        """Return the shifts of one worker, in start order."""
        mine = [shift for shift in self.shifts if shift.staff_id == staff_id]
        return tuple(sorted(mine, key=lambda shift: utc(shift.start)))


def _require_unique(what: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise RosterConsistencyError(f"duplicate {what} {value!r}")
        seen.add(value)
