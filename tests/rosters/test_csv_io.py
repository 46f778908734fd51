"""Tests for rosters.csv_io: roster import errors per line, and the export round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import rosters
from rosters.csv_io import COLUMNS, parse_roster_csv, write_roster_csv
from rosters.errors import RosterImportError, RosterLineError
from rosters.types import Break, Roster, Shift, StaffMember

LONDON = ZoneInfo("Europe/London")
HEADER = ",".join(COLUMNS)
NURSE = "hf-dn-001,Ada Obi,district_nurse,wound_care;iv_therapy,07700 900123,hf,W12,car"
WORKER = "kc-hw-002,Ben Lee,hybrid_worker,personal_care,+447700900124,kc,W8,bicycle"


def _csv(*lines: str) -> str:
    return "\n".join((HEADER, *lines)) + "\n"


def _errors(text: str) -> list[RosterLineError]:
    with pytest.raises(RosterImportError) as info:
        parse_roster_csv(text)
    return list(info.value.errors)


def _where(errors: list[RosterLineError]) -> set[tuple[int, str]]:
    return {(error.line, error.column) for error in errors}


def test_parse_roster_csv_valid_file_builds_roster() -> None:
    """A good file gives every worker and shift, phone normalised, local times in London."""
    text = _csv(
        f"{NURSE},s1,2026-06-10T08:00,2026-06-10T16:00,,12:30-13:00",
        f"{WORKER},,,,,",
    )

    roster = parse_roster_csv(text)

    nurse = roster.staff_member("hf-dn-001")
    assert nurse.phone == "+447700900123"
    assert nurse.skills == frozenset({"wound_care", "iv_therapy"})
    (shift,) = roster.shifts
    assert shift.start == datetime(2026, 6, 10, 7, tzinfo=UTC)
    assert shift.base == "W12"
    assert shift.breaks == (
        Break(
            datetime(2026, 6, 10, 12, 30, tzinfo=LONDON), datetime(2026, 6, 10, 13, tzinfo=LONDON)
        ),
    )
    assert roster.shifts_of("kc-hw-002") == ()


def test_parse_roster_csv_night_shift_break_is_next_morning() -> None:
    """A 02:00 break in a 20:00-08:00 shift falls on the second calendar day."""
    roster = parse_roster_csv(_csv(f"{NURSE},n1,2026-06-10T20:00,2026-06-11T08:00,W6,02:00-02:30"))

    (item,) = roster.shifts[0].breaks
    assert item.start == datetime(2026, 6, 11, 2, tzinfo=LONDON)
    assert roster.shifts[0].base == "W6"


def test_parse_roster_csv_reports_every_bad_line_with_column_and_reason() -> None:
    """Several bad lines are reported together, each with its line, column and reason."""
    text = _csv(
        "x1,Xi,surgeon,wound_care,07700900125,hf,W12,car,s1,2026-06-10T08:00,2026-06-10T16:00,,",
        "x2,Yo,district_nurse,juggling,07700900126,hf,W12,car,s2,2026-06-10T08:00,2026-06-10T16:00,,",
        "x3,Zu,district_nurse,,020 7946 0123,hf,W12,car,s3,2026-06-10T08:00,2026-06-10T16:00,,",
        "x4,Al,district_nurse,,07700900127,hf,W12,car,s4,10 June 8am,2026-06-10T16:00,,",
        "x5,Bo,district_nurse,,07700900128,hf,W12,car,s5,2026-06-10T16:00,2026-06-10T08:00,,",
        "x6,Cy,district_nurse,,07700900129,hf,W12,car,s6,2026-06-10T08:00,2026-06-10T16:00,,17:00-17:30",
        "x7,Di,district_nurse,,07700900130,hf,W12,car,s6,2026-06-11T08:00,2026-06-11T16:00,,",
        "x8,Ed,district_nurse,,07700900131,hf,W12,horse,s8,2026-06-10T08:00,2026-06-10T16:00,,",
    )

    errors = _errors(text)

    assert _where(errors) == {
        (2, "role"),
        (3, "skills"),
        (4, "phone"),
        (5, "shift_start"),
        (6, "shift_end"),
        (7, "breaks"),
        (8, "shift_id"),
        (9, "travel_mode"),
    }
    reasons = {error.line: error.reason for error in errors}
    assert "unknown role 'surgeon'" in reasons[2]
    assert "juggling" in reasons[3]
    assert "not a UK mobile number" in reasons[4]
    assert "not an ISO 8601 date and time" in reasons[5]
    assert "is not after its start" in reasons[6]
    assert "not inside the shift" in reasons[7]
    assert "duplicate shift_id 's6' (first on line 7)" in reasons[8]


def test_parse_roster_csv_one_line_several_errors() -> None:
    """One line with a bad role and a bad phone reports both, not just the first."""
    errors = _errors(_csv("x1,Xi,surgeon,,12345,hf,W12,car,,,,,"))

    assert _where(errors) == {(2, "role"), (2, "phone")}


def test_parse_roster_csv_overlapping_shifts_reported_on_later_line() -> None:
    """Two overlapping shifts of one worker point at the later one and name the earlier."""
    text = _csv(
        f"{NURSE},s1,2026-06-10T08:00,2026-06-10T16:00,,",
        f"{NURSE},s2,2026-06-10T15:00,2026-06-10T20:00,,",
    )

    (error,) = _errors(text)

    assert (error.line, error.column) == (3, "shift_start")
    assert "overlaps shift 's1' (line 2)" in error.reason


def test_parse_roster_csv_staff_columns_must_agree() -> None:
    """A worker's details repeated on a later line must match the first line."""
    other_phone = NURSE.replace("07700 900123", "07700 900999")
    text = _csv(
        f"{NURSE},s1,2026-06-10T08:00,2026-06-10T16:00,,",
        f"{other_phone},s2,2026-06-11T08:00,2026-06-11T16:00,,",
    )

    (error,) = _errors(text)

    assert (error.line, error.column) == (3, "phone")
    assert "line 2" in error.reason


def test_parse_roster_csv_line_numbers_count_blank_and_quoted_lines() -> None:
    """Line numbers are physical lines: blank lines and multi-line quoted cells count."""
    text = _csv(
        '"x1","Multi\nLine",district_nurse,,07700900125,hf,W12,car,,,,,',
        "",
        "x2,Yo,surgeon,,07700900126,hf,W12,car,,,,,",
    )

    (error,) = _errors(text)

    assert error.line == 5


def test_parse_roster_csv_wrong_number_of_values() -> None:
    """A short line is reported rather than shifting values into the wrong columns."""
    (error,) = _errors(_csv("x1,Xi,district_nurse"))

    assert (error.line, error.column) == (2, "file")
    assert f"expected {len(COLUMNS)} values, found 3" in error.reason


def test_parse_roster_csv_header_problems_reported_on_line_one() -> None:
    """Unknown and missing columns are reported against the header line."""
    header = HEADER.replace("network", "team").replace(",breaks", "")

    errors = _errors(header + "\n")

    assert _where(errors) == {(1, "team"), (1, "network"), (1, "breaks")}


def test_parse_roster_csv_empty_file() -> None:
    """An empty upload is an error, not an empty roster that would wipe the real one."""
    (error,) = _errors("")

    assert (error.line, error.column) == (1, "file")


def test_parse_roster_csv_shift_base_column_optional_and_bom_ignored() -> None:
    """Spreadsheet exports add a BOM and may omit optional columns."""
    header = HEADER.replace(",shift_base", "")
    text = "\ufeff" + header + f"\n{NURSE},s1,2026-06-10T08:00,2026-06-10T16:00,\n"

    roster = parse_roster_csv(text)

    assert roster.shifts[0].base == "W12"


def test_parse_roster_csv_nonexistent_local_time_rejected() -> None:
    """01:30 on the spring-forward night never happens in London, so it is refused."""
    (error,) = _errors(_csv(f"{NURSE},s1,2026-03-29T01:30,2026-03-29T09:00,,"))

    assert error.column == "shift_start"
    assert "does not exist" in error.reason


def test_parse_roster_csv_ambiguous_local_time_needs_offset() -> None:
    """01:30 on the autumn night happens twice; with an offset it is accepted."""
    (error,) = _errors(_csv(f"{NURSE},s1,2026-10-25T01:30,2026-10-25T09:00,,"))
    roster = parse_roster_csv(_csv(f"{NURSE},s1,2026-10-25T01:30+00:00,2026-10-25T09:00,,"))

    assert "occurs twice" in error.reason
    assert roster.shifts[0].duration == timedelta(hours=7, minutes=30)


def test_write_roster_csv_round_trip_equal_roster() -> None:
    """Export then import gives an equal roster, including night and DST-night shifts."""
    nurse = StaffMember(
        id="hf-dn-001",
        name="Ada, Obi",
        role="district_nurse",
        skills=frozenset({"wound_care", "iv_therapy", "catheter_care"}),
        base="W12",
        phone="+447700900123",
        network="hammersmith_fulham",
    )
    worker = StaffMember(
        id="kc-hw-002",
        name="Ben Lee",
        role="hybrid_worker",
        skills=frozenset(),
        base="W8",
        phone="+447700900124",
        network="kensington_chelsea",
        travel_mode="public_transport",
    )
    night_start = datetime(2026, 3, 28, 20, tzinfo=LONDON)
    shifts = (
        Shift(
            id="n1",
            staff_id=nurse.id,
            start=night_start,
            end=datetime(2026, 3, 29, 8, tzinfo=LONDON),
            base="W6",
            breaks=(
                Break(
                    datetime(2026, 3, 29, 3, tzinfo=LONDON),
                    datetime(2026, 3, 29, 3, 30, tzinfo=LONDON),
                ),
            ),
        ),
        Shift(
            id="d1",
            staff_id=nurse.id,
            start=datetime(2026, 6, 10, 7, 15, tzinfo=UTC),
            end=datetime(2026, 6, 10, 15, 45, tzinfo=UTC),
            base="W12",
            breaks=(
                Break(
                    datetime(2026, 6, 10, 11, tzinfo=UTC),
                    datetime(2026, 6, 10, 11, 20, 30, tzinfo=UTC),
                ),
            ),
        ),
    )
    roster = Roster(staff=(nurse, worker), shifts=shifts)

    text = write_roster_csv(roster)
    again = parse_roster_csv(text)

    assert again == roster
    assert write_roster_csv(again) == text


def test_write_roster_csv_worker_without_shifts_has_one_line() -> None:
    """Staff with no shifts are still exported, so an export-import keeps everyone."""
    roster = parse_roster_csv(_csv(f"{WORKER},,,,,"))

    lines = write_roster_csv(roster).splitlines()

    assert len(lines) == 2
    assert lines[1].startswith("kc-hw-002,")


def test_roster_csv_doc_example_imports() -> None:
    """The example in rosters/ROSTER_CSV.md must stay a valid file (docs that lie are worse)."""
    doc = (Path(rosters.__file__).parent / "ROSTER_CSV.md").read_text(encoding="utf-8")
    example = doc.split("```csv\n", 1)[1].split("```", 1)[0]

    roster = parse_roster_csv(example)

    assert len(roster.staff) == example.count("\n") - 1
    assert roster.staff_member("hf-dn-001").has_skills({"iv_therapy"})
