"""NHS number checking (CLINICAL.md: ten digits, modulus-11 check digit).

The check itself is the well-kept ``nhs-number`` package; this module only normalises input
("943 476 5919", "943-476-5919") and turns failure into a sentence a call handler can read.

Two things pass the modulus-11 check and are still refused (hazard H-017): a placeholder of
one digit repeated (0000000000 and 1111111111 ... 9999999999 all pass it), which systems
type when the number is not known, and digits that are not ASCII 0-9 (full-width "９",
Arabic-Indic "٩"): Python's ``isdigit`` accepts them, and silently converting them would hide
a copy-and-paste from somewhere we should not trust.
"""

from __future__ import annotations

import re

import nhs_number

_SEPARATORS = re.compile(r"[\s-]")


class InvalidNhsNumber(ValueError):
    """An NHS number that is malformed or fails its check digit."""


_ASCII_DIGITS = frozenset("0123456789")


def normalise_nhs_number(raw: str) -> str:
    """Return the ten digits of ``raw`` or raise :class:`InvalidNhsNumber` saying why."""
    digits = _SEPARATORS.sub("", raw or "")
    if any(ch.isdigit() and ch not in _ASCII_DIGITS for ch in digits):
        raise InvalidNhsNumber("an NHS number is written with the digits 0-9 only; this one has "
                               "other digits (full-width or non-Latin): type it again")
    if not (set(digits) <= _ASCII_DIGITS) or len(digits) != 10:
        raise InvalidNhsNumber("an NHS number is 10 digits (spaces or dashes allowed)")
    if len(set(digits)) == 1:
        raise InvalidNhsNumber("this is a placeholder, not an NHS number; if the number is not "
                               "known, leave it out")
    if not nhs_number.is_valid(digits):
        raise InvalidNhsNumber("this NHS number fails its check digit; please re-check it")
    return digits


def check_digit_sql(column: str) -> str:
    """Portable SQL (SQLite and PostgreSQL) asserting the modulus-11 check digit of ``column``.

    Sum of the first nine digits times 10..2; 11 - (sum mod 11), where 11 means 0 and 10 is
    never valid. The database refuses a bad number even if the Python check were bypassed.
    """
    terms = " + ".join(
        f"CAST(substr({column}, {i + 1}, 1) AS INTEGER) * {10 - i}" for i in range(9)
    )
    check = f"(11 - (({terms}) % 11)) % 11"
    return f"{check} = CAST(substr({column}, 10, 1) AS INTEGER)"


def not_placeholder_sql(column: str) -> str:
    """Portable SQL asserting ``column`` is not one digit repeated (H-017-C2): removing its
    first digit everywhere leaves something."""
    return f"replace({column}, substr({column}, 1, 1), '') <> ''"


def digits_only_sql(column: str) -> str:
    """Portable SQL asserting ``column`` is exactly ten ASCII digits."""
    stripped = column
    for d in "0123456789":
        stripped = f"replace({stripped}, '{d}', '')"
    return f"length({column}) = 10 AND length({stripped}) = 0"
