"""The JSON edge of triage: the DESIGN.md input shape in, the output shape out.

``parse_triage_input`` checks every field before giving up, so one reply lists every
problem (``TriageInputError.errors``, keyed by field path such as ``observations.spo2``).
Unknown top-level keys are ignored because a referral request carries the triage input
plus other fields (source, referrer, patient); unknown keys inside ``observations`` are
errors because a misspelt observation would otherwise silently go unscored.

Second round (issue 13): ``red_flag_answers`` (``{"chest_pain": "no", ...}``, each ``yes``,
``no`` or ``not_asked``) alongside ``red_flags`` (still the yes answers); ``date_of_birth``
(``YYYY-MM-DD``) and ``age_years`` (the same as ``age``) for the children's rules. The output
adds ``safety_netting`` and ``news2.conservative``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from triage.disposition import triage
from triage.errors import TriageInputError
from triage.needs import NEEDS
from triage.red_flags import RED_FLAGS
from triage.types import (
    CATEGORY_LABELS,
    INPUT_CHECKS,
    OBSERVATION_CHECKS,
    Disposition,
    News2Score,
    Observations,
    TriageInput,
    code_tuple,
)

__all__ = ["disposition_to_dict", "news2_to_dict", "parse_triage_input", "triage_dict"]

# Fields that are whole numbers; JSON 22.0 is accepted as 22, 22.5 is not.
_WHOLE_NUMBER_FIELDS = frozenset(
    {"respiration_rate", "spo2", "systolic_bp", "pulse", "spo2_scale", "frailty", "age",
     "pathways_timeframe_minutes"}
)

Errors = dict[str, list[str]]


def parse_triage_input(data: Mapping[str, Any]) -> TriageInput:
    """Build a ``TriageInput`` from the DESIGN.md triage JSON, checking every field.

    Parameters
    ----------
    data
        The decoded JSON object. Only ``received_at`` (ISO 8601 with a zone) is required.

    Returns
    -------
    TriageInput

    Raises
    ------
    TriageInputError
        With every bad field at once: ``{"observations.spo2": ["must be between 0 and 100,
        got 101"], "received_at": ["is required"]}``.
    """
    if not isinstance(data, Mapping):
        raise TriageInputError({"_schema": [f"must be a JSON object, got {type(data).__name__}"]})
    errors: Errors = {}
    received_at = _received_at(data.get("received_at"), errors)
    needs = _codes(data.get("needs"), "needs", NEEDS, errors)
    red_flags = _codes(data.get("red_flags"), "red_flags", RED_FLAGS, errors)
    answers = _answers(data.get("red_flag_answers"), errors)
    observations = _observations(data.get("observations"), errors)
    scalars = {name: _scalar(name, data.get(name), check, errors)
               for name, check in INPUT_CHECKS.items()}
    age_years = _scalar("age", data.get("age_years"), INPUT_CHECKS["age"], errors)
    if age_years is not None and "age" not in errors:
        if scalars["age"] is not None and scalars["age"] != age_years:
            errors["age_years"] = [f"is {age_years} but age is {scalars['age']}"]
        scalars["age"] = age_years
    born = _date_of_birth(data.get("date_of_birth"), errors)
    if errors or received_at is None or observations is None:
        raise TriageInputError(errors)
    return TriageInput(
        received_at=received_at, needs=needs, red_flags=red_flags,
        observations=observations, red_flag_answers=answers, date_of_birth=born, **scalars,
    )


def _answers(value: Any, errors: Errors) -> dict[str, str]:
    """The red-flag answers object; each value is checked by ``TriageInput``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        errors["red_flag_answers"] = [
            f"must be an object of red flag code to yes, no or not_asked, got {value!r}"
        ]
        return {}
    return {str(code): answer for code, answer in value.items()}


def _date_of_birth(value: Any, errors: Errors) -> date | None:
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    errors["date_of_birth"] = [f"must be a date like 1941-03-02, got {value!r}"]
    return None


def _received_at(value: Any, errors: Errors) -> datetime | None:
    if value is None:
        errors["received_at"] = ["is required"]
        return None
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            errors["received_at"] = [f"must be an ISO 8601 date-time, got {value!r}"]
            return None
    if not isinstance(moment, datetime):
        errors["received_at"] = [f"must be an ISO 8601 date-time string, got {value!r}"]
        return None
    if moment.utcoffset() is None:
        errors["received_at"] = [
            f"must include a time zone (for example Z or +01:00), got {value!r}"
        ]
        return None
    return moment


def _codes(value: Any, name: str, known: Mapping[str, Any], errors: Errors) -> tuple[str, ...]:
    codes, problems = code_tuple(value, known, name[:-1].replace("_", " "))
    if problems:
        errors[name] = problems
    return codes


def _whole(name: str, value: Any) -> Any:
    """JSON has one number type: accept 22.0 where a whole number is expected."""
    if name in _WHOLE_NUMBER_FIELDS and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _scalar(name: str, value: Any, check: Any, errors: Errors, prefix: str = "") -> Any:
    value = _whole(name, value)
    if value is None:
        return None
    problem = check(value)
    if problem is not None:
        errors[prefix + name] = [problem]
        return None
    return value


def _observations(value: Any, errors: Errors) -> Observations | None:
    if value is None:
        return Observations()
    if not isinstance(value, Mapping):
        errors["observations"] = [f"must be a JSON object, got {value!r}"]
        return None
    before = len(errors)
    for key in value:
        if key not in OBSERVATION_CHECKS:
            known = ", ".join(OBSERVATION_CHECKS)
            errors[f"observations.{key}"] = [f"is not a known observation (known: {known})"]
    fields = {
        name: _scalar(name, value.get(name), check, errors, prefix="observations.")
        for name, check in OBSERVATION_CHECKS.items()
    }
    if len(errors) > before:
        return None
    return Observations(**fields)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def news2_to_dict(score: News2Score | None) -> dict[str, Any]:
    """The ``news2`` object of the output.

    ``scored`` is false (and ``total`` and ``band`` null) when NEWS2 does not apply (under 16)
    or no parameter was recorded; otherwise ``total`` is the sum of the recorded parts and
    ``complete`` says whether it is the full score.
    """
    if score is None:
        return {"total": None, "parts": {}, "missing": [], "band": None, "scored": False,
                "complete": False, "scale": None, "any_single_three": False,
                "conservative": []}
    scored = bool(score.parts)
    # Nothing recorded is not "0, low risk": say so with nulls rather than a reassuring score.
    return {
        "total": score.total if scored else None,
        "parts": dict(score.parts),
        "missing": list(score.missing),
        "band": score.band if scored else None,
        "scored": scored,
        "complete": score.complete,
        "scale": score.scale,
        "any_single_three": score.any_single_three,
        "conservative": list(score.conservative),
    }


def disposition_to_dict(d: Disposition) -> dict[str, Any]:
    """The DESIGN.md triage output shape, plus the extra fields the scheduler uses.

    Times are ISO 8601 with the Europe/London offset; ``deadline`` is null for signposting
    and out of scope. ``safety_netting`` is the advice read back last.
    """
    return {
        "category": d.category,
        "label": CATEGORY_LABELS[d.category],
        "deadline": _iso(d.deadline),
        "earliest_start": _iso(d.earliest_start),
        "priority": d.priority,
        "skills": list(d.skills),
        "visit_duration_minutes": d.visit_duration_minutes,
        "news2": news2_to_dict(d.news2),
        "reasons": list(d.reasons),
        "out_of_hours": d.out_of_hours,
        "ucr_hours_note": d.ucr_hours_note,
        "safety_netting": d.safety_netting,
        "staff": d.staff,
    }


def triage_dict(data: Mapping[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """Parse, triage and serialise in one call (what ``dispatch triage FILE`` prints).

    Raises
    ------
    TriageInputError
        When the input is invalid (see ``parse_triage_input``), including
        ``IncompleteScreeningError`` when there is nothing to triage.
    """
    return disposition_to_dict(triage(parse_triage_input(data), now=now))
