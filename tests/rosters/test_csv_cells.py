"""The spreadsheet-safe cell rule shared by every CSV we write (issue 20 item 10)."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rosters.csv_cells import read_cell, safe_cell
from rosters.csv_io import parse_roster_csv, write_roster_csv
from rosters.types import Roster, StaffMember

HOSTILE = ["=HYPERLINK(\"https://evil.example\",\"x\")", "+cmd|' /C calc'!A0",
           "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("text", HOSTILE)
def test_safe_cell_formula_gets_apostrophe(text: str) -> None:
    """Each character a spreadsheet starts a formula with is neutralised."""
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["+447700900123", "-5", "12.5", "-0.25", 42, 3.5, "Ada Obi",
                                   "O'Neill", "a=b"])
def test_safe_cell_numbers_phones_and_plain_text_unchanged(value: object) -> None:
    """Plain numbers (an E.164 phone, a negative minute count) cannot hold a formula and keep
    their type in the spreadsheet; other text passes unchanged."""
    assert safe_cell(value) == value


def test_safe_cell_none_is_empty() -> None:
    """A missing value is an empty cell."""
    assert safe_cell(None) == ""


@given(st.text())
def test_read_cell_undoes_safe_cell(text: str) -> None:
    """Exactly reversible, apostrophes already in the text included."""
    assert read_cell(safe_cell(text)) == text


@given(st.text())
def test_safe_cell_never_starts_a_formula(text: str) -> None:
    """Whatever the text, the written cell does not start with a formula character unless
    it is a plain number."""
    cell = safe_cell(text)
    assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r") or cell.lstrip("+-").replace(
        ".", "", 1).isdigit()


@pytest.mark.safety("H-082")
def test_roster_export_hostile_name_neutralised_and_round_trips() -> None:
    """A staff name written as a formula is exported with an apostrophe, the E.164 phone as
    it is, and importing the export gives the same names and phone back."""
    member = StaffMember(id="hf-dn-009", name="=HYPERLINK(\"https://evil.example\",\"Ada\")",
                         role="district_nurse", skills=frozenset(), base="W12",
                         phone="+447700900123", network="hammersmith_fulham")
    dash = StaffMember(id="hf-dn-010", name="-Ada", role="district_nurse", skills=frozenset(),
                       base="W12", phone="+447700900124", network="hammersmith_fulham")
    roster = Roster(staff=(member, dash), shifts=())

    text = write_roster_csv(roster)

    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["name"] == "'" + member.name and rows[1]["name"] == "'-Ada"
    assert rows[0]["phone"] == "+447700900123"
    assert parse_roster_csv(text) == roster
