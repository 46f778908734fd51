"""Staff, roles, skills, shifts, breaks, bases and availability (pure: no HTTP, no database).

The public names are re-exported here; see each module for the rules and their reasons.
"""

from rosters.availability import (
    available,
    is_available,
    on_break,
    on_shift,
    overlapping_shifts,
    remaining_shift,
    shifts_overlap,
)
from rosters.csv_io import COLUMNS, parse_roster_csv, write_roster_csv
from rosters.errors import (
    InvalidFieldError,
    RosterConsistencyError,
    RosterError,
    RosterImportError,
    RosterLineError,
)
from rosters.phones import normalise_uk_mobile
from rosters.roles import DEFAULT_SKILLS, ROLES, SKILLS, default_skills
from rosters.types import TRAVEL_MODES, Base, Break, Roster, Shift, StaffMember

__all__ = [
    "COLUMNS",
    "DEFAULT_SKILLS",
    "ROLES",
    "SKILLS",
    "TRAVEL_MODES",
    "Base",
    "Break",
    "InvalidFieldError",
    "Roster",
    "RosterConsistencyError",
    "RosterError",
    "RosterImportError",
    "RosterLineError",
    "Shift",
    "StaffMember",
    "available",
    "default_skills",
    "is_available",
    "normalise_uk_mobile",
    "on_break",
    "on_shift",
    "overlapping_shifts",
    "parse_roster_csv",
    "remaining_shift",
    "shifts_overlap",
    "write_roster_csv",
]
