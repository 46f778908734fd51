"""Spreadsheet-safe CSV cells: one rule for every CSV the service writes (CSV injection).

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (and some treat a leading TAB or CR the same way), so a staff name, a client's
``X-Request-Id`` or an audit purpose like ``=HYPERLINK("https://evil.example",...)`` would
become a live link or worse on a manager's machine. :func:`safe_cell` puts an apostrophe in
front of such a cell, the usual OWASP neutralisation; :func:`read_cell` takes it off again,
so a file we wrote imports back to exactly the same values.

Plain numbers are left alone: ``-5`` (a late arrival in minutes) and E.164 phone numbers
(``+447700900123``) cannot carry a formula, and quoting them would turn a numeric column or a
phone column into text. A cell that already starts with apostrophes before one of the
characters gets one more, so the rule is exactly reversible.

Pure: no Flask, SQLAlchemy or dispatch imports; ``dispatch`` uses it for the audit and report
CSVs and ``rosters.csv_io`` for roster export and import.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NEEDS_QUOTE = re.compile(r"'*[=+\-@\t\r]")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")

__all__ = ["FORMULA_STARTS", "read_cell", "safe_cell"]


def _needs_quote(text: str) -> bool:
    return bool(_NEEDS_QUOTE.match(text)) and not _PLAIN_NUMBER.fullmatch(text)


def safe_cell(value: Any) -> Any:
    """``value`` ready for a CSV cell: text that a spreadsheet would run as a formula gets a
    leading apostrophe; None becomes ""; numbers and other text pass unchanged."""
    if value is None:
        return ""
    if isinstance(value, str) and _needs_quote(value):
        return "'" + value
    return value


def read_cell(text: str) -> str:
    """The value :func:`safe_cell` wrote as ``text`` (drops the apostrophe it added)."""
    if text.startswith("'") and _needs_quote(text[1:]):
        return text[1:]
    return text
