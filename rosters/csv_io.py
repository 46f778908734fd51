"""Roster import and export as CSV.

Used by ``dispatch roster import|export FILE`` and ``POST /api/rosters/import``. The same text
is in ``rosters/ROSTER_CSV.md``; keep the two in step.

File layout
-----------
UTF-8 (a leading byte-order mark from spreadsheet programs is ignored), comma-separated, one
header line naming the columns, then one line per shift. A worker with no shifts gets one line
with the shift columns left empty. A worker with several shifts repeats their staff columns on
every line, and the repeats must agree with the first line. Blank lines are ignored. Columns
may come in any order; ``shift_base`` may be left out of the header.

Columns
-------
``staff_id``
    Required. The worker's stable id, e.g. ``hf-dn-001``.
``name``
    Required. Display name.
``role``
    Required. One of ``district_nurse``, ``hybrid_worker``, ``therapist``, ``social_worker``,
    ``coordinator``.
``skills``
    Skill codes separated by semicolons, e.g. ``wound_care;catheter_care``. Empty means no
    skills (the role's defaults are *not* filled in; say what the worker holds). Codes:
    ``iv_therapy``, ``catheter_care``, ``wound_care``, ``insulin_administration``,
    ``falls_assessment``, ``personal_care``, ``medication_prompt``, ``end_of_life_care``,
    ``equipment``, ``clinical_assessment``, ``social_care_assessment``, ``reablement``.
``phone``
    Required. UK mobile, as ``07700 900123``, ``+44 7700 900123`` or ``+447700900123``;
    stored and exported as E.164 (``+447700900123``).
``network``
    Required. The provider network the worker belongs to.
``base``
    Required. The worker's base: a base id or a postcode district such as ``W12``.
``travel_mode``
    ``car``, ``bicycle``, ``walk`` or ``public_transport``; empty means ``car``.
``shift_id``
    The shift's id, unique in the file. Empty (with the other shift columns) for a worker
    with no shifts.
``shift_start``, ``shift_end``
    ISO 8601 date and time. With a UTC offset (``2026-03-29T08:00+01:00`` or ``...Z``) the
    offset is used. Without one (``2026-03-29T08:00`` or ``2026-03-29 08:00``) it is local
    wall-clock time in Europe/London; a local time that does not exist (clocks go forward)
    or occurs twice (clocks go back) is an error: add the offset. The end must be after the
    start and at most 24 hours later; a shift may cross midnight.
``shift_base``
    Optional. Base the shift starts and ends at; empty means the worker's ``base``.
``breaks``
    Breaks as Europe/London wall-clock ``HH:MM-HH:MM`` (or ``HH:MM:SS``) separated by
    semicolons, e.g. ``12:30-13:00;16:00-16:15``. Each break starts at the first time its
    start occurs at or after the shift start (so ``02:00-02:30`` in a night shift is the
    next morning), and must lie inside the shift without overlapping another break.

Export writes every column, times with their Europe/London offset, and reads back to an equal
roster (break times are written to the minute, or to the second when they have seconds).
A cell a spreadsheet would run as a formula (a name starting with ``=``, ``+``, ``-``, ``@``,
TAB or CR) is written with a leading apostrophe and read back without it
(``rosters.csv_cells``); phone numbers are E.164 digits and stay as they are.

Errors
------
:func:`parse_roster_csv` checks every line and raises :class:`RosterImportError` listing one
:class:`RosterLineError` (line number, column, reason) per problem; nothing is returned from a
file with any problem, so a bad file changes nothing. Line numbers count physical lines, the
header being line 1. Besides bad values, these are errors: a duplicate ``shift_id``, two
overlapping shifts of one worker, and staff columns that disagree with the worker's first line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from rosters.availability import overlapping_shifts
from rosters.csv_cells import read_cell, safe_cell
from rosters.csv_fields import (
    LONDON,
    BreakSpan,
    format_breaks,
    format_time,
    parse_breaks,
    parse_skills,
    parse_staff_fields,
    parse_time,
    resolve_breaks,
)
from rosters.errors import InvalidFieldError, RosterImportError, RosterLineError
from rosters.roles import SKILLS
from rosters.types import Roster, Shift, StaffMember

STAFF_COLUMNS: Final = (
    "staff_id",
    "name",
    "role",
    "skills",
    "phone",
    "network",
    "base",
    "travel_mode",
)
SHIFT_COLUMNS: Final = ("shift_id", "shift_start", "shift_end", "shift_base", "breaks")
#: Every column, in the order export writes them.
COLUMNS: Final = STAFF_COLUMNS + SHIFT_COLUMNS
#: Columns that may be left out of the header.
OPTIONAL_COLUMNS: Final = frozenset({"shift_base"})

# Which CSV column a constructor's field error belongs to.
_STAFF_FIELD_COLUMN: Final = {"id": "staff_id"}
_SHIFT_FIELD_COLUMN: Final = {
    "id": "shift_id",
    "staff_id": "staff_id",
    "start": "shift_start",
    "end": "shift_end",
    "base": "shift_base",
    "breaks": "breaks",
}


@dataclass
class _ParseState:
    """Everything collected while reading the rows of one file."""

    errors: list[RosterLineError]
    staff: dict[str, tuple[int, StaffMember]]
    shifts: dict[str, tuple[int, Shift]]
    shift_lines: dict[str, int]


def parse_roster_csv(text: str) -> Roster:
    """Parse a roster CSV file (layout in the module docstring) into a :class:`Roster`.

    Parameters
    ----------
    text
        The whole file as text.

    Returns
    -------
    Roster
        Every worker and shift in the file.

    Raises
    ------
    RosterImportError
        With every problem found, if there is any; no partial roster is returned.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    state = _ParseState(errors=[], staff={}, shifts={}, shift_lines={})
    header = _read_header(reader, state.errors)
    if header is None:
        raise RosterImportError(state.errors)
    for line, cells in _records(reader):
        if len(cells) != len(header):
            state.errors.append(
                RosterLineError(line, "file", f"expected {len(header)} values, found {len(cells)}")
            )
            continue
        values = (read_cell(cell.strip()) for cell in cells)
        _parse_row(line, dict(zip(header, values, strict=True)), state)
    _check_overlaps(state)
    if state.errors:
        raise RosterImportError(sorted(state.errors, key=lambda error: error.line))
    return Roster(
        staff=tuple(member for _, member in state.staff.values()),
        shifts=tuple(shift for _, shift in state.shifts.values()),
    )


def write_roster_csv(roster: Roster) -> str:
    """Write ``roster`` as CSV text that :func:`parse_roster_csv` reads back to an equal roster.

    One line per shift, in staff order then shift start order; a worker without shifts gets
    one line with empty shift columns.
    """
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for member in roster.staff:
        staff_cells = _staff_cells(member)
        shifts = roster.shifts_of(member.id)
        if not shifts:
            writer.writerow([safe_cell(c) for c in staff_cells + [""] * len(SHIFT_COLUMNS)])
        for shift in shifts:
            writer.writerow([safe_cell(c) for c in staff_cells + _shift_cells(shift)])
    return out.getvalue()


def _staff_cells(member: StaffMember) -> list[str]:
    skills = ";".join(skill for skill in SKILLS if skill in member.skills)
    return [
        member.id,
        member.name,
        member.role,
        skills,
        member.phone,
        member.network,
        member.base,
        member.travel_mode,
    ]


def _shift_cells(shift: Shift) -> list[str]:
    spans = [
        BreakSpan(item.start.astimezone(LONDON).time(), item.end.astimezone(LONDON).time())
        for item in shift.breaks
    ]
    return [
        shift.id,
        format_time(shift.start),
        format_time(shift.end),
        shift.base,
        format_breaks(spans),
    ]


def _records(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """Yield (first physical line number, cells) per non-blank record."""
    previous_end = reader.line_num  # type: ignore[attr-defined]
    for cells in reader:
        line = previous_end + 1
        previous_end = reader.line_num  # type: ignore[attr-defined]
        if any(cell.strip() for cell in cells):
            yield line, cells


def _read_header(reader: Iterator[list[str]], errors: list[RosterLineError]) -> list[str] | None:
    header = next(reader, None)
    if header is None:
        errors.append(RosterLineError(1, "file", "file is empty; expected a header line"))
        return None
    names = [name.strip().lower() for name in header]
    for name in names:
        if name not in COLUMNS:
            errors.append(RosterLineError(1, name or "(blank)", "unknown column"))
    seen: set[str] = set()
    for name in names:
        if name in seen:
            errors.append(RosterLineError(1, name, "column appears twice"))
        seen.add(name)
    for name in COLUMNS:
        if name not in names and name not in OPTIONAL_COLUMNS:
            errors.append(RosterLineError(1, name, "missing column"))
    return None if errors else names


def _parse_row(line: int, row: dict[str, str], state: _ParseState) -> None:
    member = _parse_staff(line, row, state.errors)
    if member is not None:
        _register_staff(line, member, state)
    if any(row.get(name, "") for name in SHIFT_COLUMNS):
        base = row.get("base", "") if member is None else member.base
        shift = _parse_shift(line, row, base, state.errors)
        if _is_new_shift_id(line, row["shift_id"], state) and shift is not None:
            state.shifts[shift.id] = (line, shift)


def _parse_staff(
    line: int, row: dict[str, str], errors: list[RosterLineError]
) -> StaffMember | None:
    values, problems = parse_staff_fields(row)
    if problems:
        errors.extend(RosterLineError(line, column, reason) for column, reason in problems)
        return None
    try:
        return StaffMember(
            id=values["staff_id"],
            name=values["name"],
            role=values["role"],
            skills=parse_skills(values["skills"]),
            base=values["base"],
            phone=values["phone"],
            network=values["network"],
            travel_mode=values["travel_mode"],
        )
    except InvalidFieldError as error:
        column = _STAFF_FIELD_COLUMN.get(error.field, error.field)
        errors.append(RosterLineError(line, column, error.message))
        return None


def _register_staff(line: int, member: StaffMember, state: _ParseState) -> None:
    first = state.staff.get(member.id)
    if first is None:
        state.staff[member.id] = (line, member)
        return
    first_line, first_member = first
    for column, mine, theirs in zip(
        STAFF_COLUMNS, _staff_cells(member), _staff_cells(first_member), strict=True
    ):
        if mine != theirs:
            state.errors.append(
                RosterLineError(
                    line,
                    column,
                    f"{mine!r} differs from {theirs!r} for the same staff_id on line {first_line}",
                )
            )


def _parse_shift(
    line: int, row: dict[str, str], staff_base: str, errors: list[RosterLineError]
) -> Shift | None:
    problems: list[tuple[str, str]] = []
    if not row["shift_id"]:
        problems.append(("shift_id", "shift_id is required when a shift is given"))
    start = _parse_time_cell("shift_start", row["shift_start"], problems)
    end = _parse_time_cell("shift_end", row["shift_end"], problems)
    spans = None
    try:
        spans = parse_breaks(row["breaks"])
    except ValueError as error:
        problems.append(("breaks", str(error)))
    if problems or start is None or end is None or spans is None:
        errors.extend(RosterLineError(line, column, reason) for column, reason in problems)
        return None
    try:
        breaks = resolve_breaks(spans, start)
        return Shift(
            id=row["shift_id"],
            staff_id=row["staff_id"],
            start=start,
            end=end,
            base=row.get("shift_base", "") or staff_base,
            breaks=breaks,
        )
    except InvalidFieldError as error:
        column = _SHIFT_FIELD_COLUMN.get(error.field, "file")
        errors.append(RosterLineError(line, column, error.message))
    except ValueError as error:
        errors.append(RosterLineError(line, "breaks", str(error)))
    return None


def _parse_time_cell(column: str, text: str, problems: list[tuple[str, str]]) -> datetime | None:
    if not text:
        problems.append((column, f"{column} is required when a shift is given"))
        return None
    try:
        return parse_time(text)
    except ValueError as error:
        problems.append((column, str(error)))
        return None


def _is_new_shift_id(line: int, shift_id: str, state: _ParseState) -> bool:
    """Record ``shift_id``; report it if an earlier line (valid or not) already used it."""
    if not shift_id:
        return False
    first_line = state.shift_lines.get(shift_id)
    if first_line is not None:
        state.errors.append(
            RosterLineError(
                line, "shift_id", f"duplicate shift_id {shift_id!r} (first on line {first_line})"
            )
        )
        return False
    state.shift_lines[shift_id] = line
    return True


def _check_overlaps(state: _ParseState) -> None:
    line_of = {shift.id: line for line, shift in state.shifts.values()}
    for earlier, later in overlapping_shifts(shift for _, shift in state.shifts.values()):
        state.errors.append(
            RosterLineError(
                line_of[later.id],
                "shift_start",
                f"shift {later.id!r} overlaps shift {earlier.id!r} (line {line_of[earlier.id]}) "
                f"of the same staff member, which ends {format_time(earlier.end)}",
            )
        )
