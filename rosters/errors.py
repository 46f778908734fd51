"""Errors raised by the rosters package.

Why a small tree: callers (the CLI, the API) need to tell "this roster file is bad, here is
every bad line" apart from "this one value is invalid", and map each to its own response
(422 with a list of line errors, or a plain ``ValueError`` message).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class RosterError(Exception):
    """Base class for every error raised by :mod:`rosters`."""


class InvalidFieldError(RosterError, ValueError):
    """Invalid constructor data for one field of a roster type.

    It is a ``ValueError`` (house rule: invalid constructor data raises ``ValueError`` with an
    exact message) that also names the offending field, so the CSV importer can report the
    column without parsing the message.

    Parameters
    ----------
    field
        Name of the dataclass field that is invalid, e.g. ``"phone"`` or ``"breaks"``.
    message
        The exact, human-readable reason.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class RosterConsistencyError(RosterError, ValueError):
    """A roster whose parts contradict each other (duplicate ids, overlapping shifts)."""


@dataclass(frozen=True)
class RosterLineError:
    """One problem found on one line of a roster CSV file.

    Parameters
    ----------
    line
        Physical line number in the file, 1-based; the header is line 1.
    column
        Column name the problem is in (``"file"`` for problems with the file as a whole).
    reason
        What is wrong, phrased so a coordinator can fix the cell.
    """

    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.reason}"


class RosterImportError(RosterError):
    """A roster CSV file with at least one bad line; nothing from it is imported.

    Parameters
    ----------
    errors
        Every problem found, in file order. Never empty.
    """

    def __init__(self, errors: Sequence[RosterLineError]) -> None:
        self.errors: tuple[RosterLineError, ...] = tuple(errors)
        count = len(self.errors)
        summary = "; ".join(str(error) for error in self.errors[:5])
        more = f" (and {count - 5} more)" if count > 5 else ""
        noun = "error" if count == 1 else "errors"
        super().__init__(f"roster file has {count} {noun}: {summary}{more}")
