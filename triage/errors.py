"""Exceptions raised by the triage package.

One base class so callers (the CLI, the API error handler) can catch everything triage
raises in one place, and a specific subclass for bad input that carries every field error
at once, so a call handler or an API client can fix all of them in one go.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["IncompleteScreeningError", "TriageError", "TriageInputError"]


class TriageError(Exception):
    """Base class for every error the triage package raises on purpose."""


class TriageInputError(TriageError, ValueError):
    """Triage input that cannot be scored, with the reasons per field.

    It is also a ``ValueError``, so constructors that reject bad data follow the house rule
    ("invalid constructor data raises ValueError") while still carrying field paths.

    Parameters
    ----------
    errors
        Field path (``"observations.spo2"``, ``"needs"``, ``"_schema"`` for the whole
        document) to the list of plain-English reasons that field was rejected.

    Examples
    --------
    >>> str(TriageInputError({"frailty": ["must be between 1 and 9, got 12"]}))
    'frailty: must be between 1 and 9, got 12'
    """

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        if not errors:
            raise ValueError("TriageInputError needs at least one field error")
        self.errors: dict[str, list[str]] = {field: list(msgs) for field, msgs in errors.items()}
        super().__init__(
            "; ".join(f"{field}: {msg}" for field, msgs in self.errors.items() for msg in msgs)
        )


class IncompleteScreeningError(TriageInputError):
    """Nothing to triage: no needs, no red-flag question answered yes or no, no observations.

    Issue 13, hazard H-003: such a referral used to be accepted as "signpost". It is refused
    instead (the API answers 422, ``dispatch triage`` exits non-zero). ``message`` is one
    sentence naming what is missing; ``errors`` names each missing field, like any input error.

    Parameters
    ----------
    missing
        The missing fields, from ``needs``, ``red_flag_answers`` and ``observations``.
    """

    REASONS = {
        "needs": "none recorded",
        "red_flag_answers": "no red-flag question was answered yes or no",
        "observations": "none recorded",
    }

    def __init__(self, missing: Sequence[str]) -> None:
        super().__init__({name: [self.REASONS.get(name, "missing")] for name in missing})
        self.missing = tuple(missing)
        self.message = (
            "Incomplete screening: nothing to triage. Missing: "
            + ", ".join(self.missing)
            + ". Record at least one need, answer the red-flag questions (yes or no) or "
            "record observations."
        )
        self.args = (self.message,)

    def __str__(self) -> str:
        return self.message
