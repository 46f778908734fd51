"""Constructors refuse bad data with exact messages, so a built object can be trusted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from triage.errors import TriageInputError
from triage.types import Disposition, NeedSpec, News2Score, Observations, TriageInput

NOW = datetime(2025, 1, 15, 11, 0, tzinfo=UTC)


def test_observations_collects_all_errors() -> None:
    """Every bad observation is reported, each under its own name."""
    with pytest.raises(TriageInputError) as caught:
        Observations(spo2=101, pulse=True, consciousness="asleep")

    assert caught.value.errors == {
        "spo2": ["must be between 0 and 100, got 101"],
        "pulse": ["must be a whole number, got True"],
        "consciousness": ["must be one of 'alert', 'new_confusion', 'voice', 'pain', "
                          "'unresponsive', got 'asleep'"],
    }


def test_observations_error_is_value_error_with_exact_message() -> None:
    """House rule: invalid constructor data raises ValueError with an exact message."""
    with pytest.raises(ValueError, match=r"^temperature: must be a finite number, got nan$"):
        Observations(temperature=float("nan"))


def test_triage_input_requires_aware_received_at() -> None:
    """A naive time cannot be placed on the London clock."""
    with pytest.raises(ValueError, match=r"^received_at: must be a date-time with a time zone$"):
        TriageInput(received_at=datetime(2025, 1, 15, 11, 0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"needs": ("flying",)}, "needs: unknown need code 'flying'"),
        ({"red_flags": ("hiccups",)}, "red_flags: unknown red flag code 'hiccups'"),
        ({"frailty": 10}, "frailty: must be between 1 and 9, got 10"),
        ({"needs": 5}, "needs: must be a list of need codes, got 5"),
    ],
)
def test_triage_input_rejects_bad_fields(kwargs: dict[str, Any], message: str) -> None:
    """Unknown codes and out-of-range scores name the field and the value."""
    with pytest.raises(TriageInputError, match=f"^{message}$"):
        TriageInput(received_at=NOW, **kwargs)


def test_triage_input_normalises_codes() -> None:
    """Lists become de-duplicated tuples and Pathways codes get canonical case."""
    inp = TriageInput(received_at=NOW, needs=["wound_care", "wound_care"],  # type: ignore[arg-type]
                      pathways_disposition="DX06")

    assert (inp.needs, inp.pathways_disposition) == (("wound_care",), "Dx06")


def test_news2_score_rejects_wrong_total() -> None:
    """A total that is not the sum of its parts is a programming error."""
    with pytest.raises(ValueError, match=r"^NEWS2 total must be the sum of its parts \(0-20\)$"):
        News2Score(total=4, parts={"pulse": 3}, missing=(), band="low_medium",
                   any_single_three=True)


def test_news2_score_parts_are_read_only() -> None:
    """Frozen means frozen: the parts mapping cannot be edited after scoring."""
    score = News2Score(total=3, parts={"pulse": 3}, missing=(), band="low_medium",
                       any_single_three=True)

    with pytest.raises(TypeError):
        score.parts["pulse"] = 0  # type: ignore[index]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"category": "soon"}, "category must be one of emergency_999, urgent_2h, "
                               "response_24h, planned, signpost, out_of_scope"),
        ({"priority": 0}, "priority must be between 1 and 5"),
        ({"deadline": None}, "only a signpost or out_of_scope disposition has no deadline"),
        ({"deadline": datetime(2025, 1, 15, 13, 0)}, "deadline must be timezone-aware"),
        ({"skills": ("juggling",)}, "unknown skill(s): juggling"),
        ({"reasons": ()}, "a disposition must give at least one reason"),
        ({"safety_netting": " "}, "a disposition must carry safety-netting advice"),
    ],
)
def test_disposition_rejects_bad_data(changes: dict[str, Any], message: str) -> None:
    """Each broken field of a Disposition gives its own exact message."""
    fields: dict[str, Any] = {
        "category": "urgent_2h", "deadline": NOW, "earliest_start": NOW, "priority": 2,
        "skills": ("falls_assessment",), "visit_duration_minutes": 60, "news2": None,
        "reasons": ("Because.",), "safety_netting": "Call 999 if worse.",
    }
    fields.update(changes)

    with pytest.raises(ValueError) as caught:
        Disposition(**fields)

    assert str(caught.value) == message


def test_need_spec_ucr_must_be_urgent() -> None:
    """The catalogue cannot mark a need as UCR unless it warrants the 2-hour response."""
    with pytest.raises(ValueError, match="UCR needs and only they are urgent_2h"):
        NeedSpec("x", "X", "response_24h", (), 30, clinical=False, ucr=True)
