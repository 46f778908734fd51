"""Tests for rosters.types: constructor validation of staff, bases, breaks, shifts, rosters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rosters.errors import InvalidFieldError, RosterConsistencyError
from rosters.types import Base, Break, Roster, Shift, StaffMember

LONDON = ZoneInfo("Europe/London")


def _member(**overrides: object) -> StaffMember:
    values: dict[str, object] = {
        "id": "hf-dn-001",
        "name": "Ada Obi",
        "role": "district_nurse",
        "skills": frozenset({"wound_care"}),
        "base": "W12",
        "phone": "+447700900123",
        "network": "hammersmith_fulham",
        "travel_mode": "car",
    }
    values.update(overrides)
    return StaffMember(**values)  # type: ignore[arg-type]


def _at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=LONDON)


def _shift(shift_id: str = "s1", staff_id: str = "hf-dn-001", **overrides: object) -> Shift:
    values: dict[str, object] = {
        "id": shift_id,
        "staff_id": staff_id,
        "start": _at(8),
        "end": _at(16),
        "base": "W12",
        "breaks": (),
    }
    values.update(overrides)
    return Shift(**values)  # type: ignore[arg-type]


def test_staff_member_valid_stores_skills_as_frozenset() -> None:
    """Skills given as any iterable are stored as a frozenset, so members are hashable."""
    member = _member(skills=["wound_care", "iv_therapy"])

    assert member.skills == frozenset({"wound_care", "iv_therapy"})
    assert hash(member) == hash(_member(skills={"iv_therapy", "wound_care"}))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("role", "surgeon", "unknown role 'surgeon'"),
        ("skills", frozenset({"juggling"}), "unknown skill(s): juggling"),
        ("phone", "07700900123", "is not a UK mobile in E.164 form"),
        ("phone", "+442071234567", "is not a UK mobile in E.164 form"),
        ("travel_mode", "horse", "unknown travel_mode 'horse'"),
        ("name", "  ", "name must be a non-empty string"),
    ],
)
def test_staff_member_invalid_field_raises_value_error(
    field: str, value: object, message: str
) -> None:
    """Each bad field raises a ValueError naming the field, for the importer's column."""
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        _member(**{field: value})

    assert isinstance(info.value, InvalidFieldError)
    assert info.value.field == field


def test_staff_member_has_skills_requires_all() -> None:
    """A visit needing two skills may only go to someone holding both."""
    member = _member(skills={"wound_care", "catheter_care"})

    assert member.has_skills({"wound_care"})
    assert not member.has_skills({"wound_care", "iv_therapy"})


def test_base_rejects_bad_postcode_district() -> None:
    """A base must sit in a real-looking district so it can be geocoded."""
    with pytest.raises(ValueError, match="is not a UK postcode district"):
        Base(id="b1", name="Hub", postcode_district="W12 8QT", lat=51.5, lon=-0.2)


def test_base_rejects_latitude_out_of_range() -> None:
    """Coordinates outside WGS84 ranges are refused at construction."""
    with pytest.raises(ValueError, match="lat 91.0 is outside -90..90"):
        Base(id="b1", name="Hub", postcode_district="W12", lat=91.0, lon=-0.2)


def test_break_end_before_start_rejected() -> None:
    """A break that ends before it starts is a data error."""
    with pytest.raises(ValueError, match="is not after its start"):
        Break(_at(13), _at(12, 30))


def test_shift_naive_datetime_rejected() -> None:
    """Naive datetimes are ambiguous across DST, so shifts require aware ones."""
    with pytest.raises(ValueError, match="start must be a timezone-aware datetime"):
        _shift(start=datetime(2026, 6, 10, 8))


def test_shift_end_not_after_start_rejected() -> None:
    """A zero-length shift is refused with the field named."""
    with pytest.raises(InvalidFieldError, match="is not after its start") as info:
        _shift(end=_at(8))

    assert info.value.field == "end"


def test_shift_longer_than_a_day_rejected() -> None:
    """A shift over 24 hours is almost certainly a date typo."""
    with pytest.raises(ValueError, match="longer than 24 hours"):
        _shift(end=_at(9, day=11))


def test_shift_crossing_midnight_accepted() -> None:
    """Night shifts cross midnight and are measured in elapsed time."""
    shift = _shift(start=_at(20), end=_at(8, day=11))

    assert shift.duration == timedelta(hours=12)


def test_shift_across_autumn_clock_change_is_thirteen_hours() -> None:
    """20:00 to 08:00 over the night the clocks go back lasts 13 real hours, not 12."""
    shift = _shift(
        start=datetime(2026, 10, 24, 20, tzinfo=LONDON),
        end=datetime(2026, 10, 25, 8, tzinfo=LONDON),
    )

    assert shift.duration == timedelta(hours=13)


def test_shift_break_outside_shift_rejected() -> None:
    """A break must lie wholly inside its shift."""
    with pytest.raises(InvalidFieldError, match="is not inside the shift") as info:
        _shift(breaks=(Break(_at(15, 45), _at(16, 15)),))

    assert info.value.field == "breaks"


def test_shift_overlapping_breaks_rejected() -> None:
    """Two breaks that overlap would double-count unavailable time."""
    with pytest.raises(ValueError, match="overlaps the break at"):
        _shift(breaks=(Break(_at(12), _at(12, 30)), Break(_at(12, 15), _at(12, 45))))


def test_shift_breaks_sorted_and_touching_allowed() -> None:
    """Breaks are kept in time order; back-to-back breaks do not overlap."""
    later, earlier = Break(_at(12, 30), _at(13)), Break(_at(12), _at(12, 30))

    shift = _shift(breaks=(later, earlier))

    assert shift.breaks == (earlier, later)
    assert shift.working_time == timedelta(hours=7)


def test_shift_mixed_zones_compared_in_utc() -> None:
    """A break given in UTC inside a London-time shift is accepted by real instants."""
    shift = _shift(breaks=(Break(datetime(2026, 6, 10, 11, tzinfo=UTC), _at(12, 30)),))

    assert shift.break_time == timedelta(minutes=30)


def test_roster_duplicate_shift_id_rejected() -> None:
    """Shift ids identify assignments, so they must be unique in a roster."""
    with pytest.raises(RosterConsistencyError, match="duplicate shift id 's1'"):
        Roster(staff=(_member(),), shifts=(_shift(), _shift(start=_at(17), end=_at(20))))


def test_roster_shift_for_unknown_staff_rejected() -> None:
    """Every shift must belong to a listed worker."""
    with pytest.raises(RosterConsistencyError, match="unknown staff id 'nobody'"):
        Roster(staff=(_member(),), shifts=(_shift(staff_id="nobody"),))


def test_roster_overlapping_shifts_of_one_worker_rejected() -> None:
    """A worker cannot be rostered in two places at once."""
    with pytest.raises(RosterConsistencyError, match="overlap"):
        Roster(staff=(_member(),), shifts=(_shift(), _shift("s2", start=_at(15), end=_at(20))))


def test_roster_shifts_of_returns_start_order() -> None:
    """shifts_of gives one worker's shifts in time order whatever the input order."""
    late, early = _shift("s2", start=_at(17), end=_at(20)), _shift("s1")
    roster = Roster(staff=(_member(),), shifts=(late, early))

    assert roster.shifts_of("hf-dn-001") == (early, late)
    assert roster.staff_member("hf-dn-001").name == "Ada Obi"
