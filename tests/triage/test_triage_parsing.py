"""The JSON edge: parse_triage_input collects every error; disposition_to_dict's shape."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from typing import Any

import pytest

from triage import TriageInputError, disposition_to_dict, parse_triage_input, triage
from triage.parsing import triage_dict

DESIGN_EXAMPLE: dict[str, Any] = {
    "received_at": "2025-01-15T11:00:00Z",
    "needs": ["fall_no_injury"],
    "red_flags": [],
    "observations": {"respiration_rate": 22, "spo2": 95, "spo2_scale": 1, "on_oxygen": False,
                     "systolic_bp": 105, "pulse": 95, "consciousness": "alert",
                     "temperature": 38.2},
    "frailty": 6,
    "risk_tier": "very_high",
    "pathways_timeframe_minutes": 120,
}


def test_parse_design_example() -> None:
    """The DESIGN.md example parses into the matching TriageInput."""
    inp = parse_triage_input(DESIGN_EXAMPLE)

    assert inp.received_at.utcoffset() == timedelta(0)
    assert (inp.needs, inp.frailty, inp.risk_tier) == (("fall_no_injury",), 6, "very_high")
    assert inp.observations.temperature == 38.2
    assert inp.pathways_timeframe_minutes == 120


def test_parse_only_received_at_required() -> None:
    """Every other key is optional; a bare referral still parses."""
    inp = parse_triage_input({"received_at": "2025-01-15T11:00:00+00:00"})

    assert (inp.needs, inp.red_flags, inp.frailty) == ((), (), None)


def test_parse_collects_every_bad_field_at_once() -> None:
    """One reply lists every problem, keyed by field path."""
    data = {
        "received_at": "2025-01-15T11:00:00",
        "needs": ["fall_no_injury", "flying"],
        "red_flags": ["chest_pain", 3],
        "observations": {"spo2": 101, "pulse": "fast", "heart_rate": 80, "spo2_scale": 3},
        "frailty": 12,
        "risk_tier": "extreme",
        "pathways_disposition": "D05",
        "pathways_timeframe_minutes": 0,
        "age": -1,
    }

    with pytest.raises(TriageInputError) as caught:
        parse_triage_input(data)

    assert caught.value.errors == {
        "received_at": ["must include a time zone (for example Z or +01:00), "
                        "got '2025-01-15T11:00:00'"],
        "needs": ["unknown need code 'flying'"],
        "red_flags": ["must be a string, got 3"],
        "observations.heart_rate": [
            "is not a known observation (known: respiration_rate, spo2, spo2_scale, "
            "on_oxygen, systolic_bp, pulse, consciousness, temperature)"],
        "observations.spo2": ["must be between 0 and 100, got 101"],
        "observations.spo2_scale": ["must be one of 1, 2, got 3"],
        "observations.pulse": ["must be a whole number, got 'fast'"],
        "frailty": ["must be between 1 and 9, got 12"],
        "risk_tier": ["must be one of 'very_high', 'high', 'moderate', 'low', 'very_low', "
                      "got 'extreme'"],
        "pathways_disposition": ["must be an NHS Pathways disposition code like 'Dx05', "
                                 "got 'D05'"],
        "pathways_timeframe_minutes": ["must be between 1 and 20160, got 0"],
        "age": ["must be between 0 and 130, got -1"],
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "is required"),
        ("yesterday", "must be an ISO 8601 date-time, got 'yesterday'"),
        (1736938800, "must be an ISO 8601 date-time string, got 1736938800"),
    ],
)
def test_parse_received_at_errors(value: Any, message: str) -> None:
    """received_at is required, ISO 8601, and must carry a zone."""
    with pytest.raises(TriageInputError) as caught:
        parse_triage_input({"received_at": value})

    assert caught.value.errors == {"received_at": [message]}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("respiration_rate", 81, "must be between 0 and 80, got 81"),
        ("systolic_bp", 301, "must be between 0 and 300, got 301"),
        ("pulse", -1, "must be between 0 and 300, got -1"),
        ("temperature", 45.1, "must be between 25.0 and 45.0, got 45.1"),
        ("temperature", 24.9, "must be between 25.0 and 45.0, got 24.9"),
        ("respiration_rate", 22.5, "must be a whole number, got 22.5"),
        ("on_oxygen", "yes", "must be true or false, got 'yes'"),
        ("consciousness", "drowsy", "must be one of 'alert', 'new_confusion', 'voice', 'pain', "
                                    "'unresponsive', got 'drowsy'"),
    ],
)
def test_parse_observation_range_errors(field: str, value: Any, message: str) -> None:
    """Implausible observations are typing errors and are refused with the range."""
    data = {"received_at": "2025-01-15T11:00:00Z", "observations": {field: value}}

    with pytest.raises(TriageInputError) as caught:
        parse_triage_input(data)

    assert caught.value.errors == {f"observations.{field}": [message]}


def test_parse_accepts_integral_floats_nulls_and_extra_keys() -> None:
    """JSON 22.0 is 22, null means not recorded, and referral-only keys are ignored."""
    data = {"received_at": "2025-01-15T11:00:00+00:00", "source": "111", "patient_id": 4,
            "observations": {"respiration_rate": 22.0, "pulse": None, "spo2_scale": None},
            "frailty": 7.0, "pathways_disposition": "dx05", "needs": ["wound_care", "wound_care"]}

    inp = parse_triage_input(data)

    assert (inp.observations.respiration_rate, inp.observations.pulse) == (22, None)
    assert (inp.observations.spo2_scale, inp.frailty) == (1, 7)
    assert (inp.pathways_disposition, inp.needs) == ("Dx05", ("wound_care",))


@pytest.mark.parametrize(("data", "field"), [([], "_schema"),
                                              ({"received_at": "2025-01-15T11:00:00Z",
                                                "observations": [1]}, "observations"),
                                              ({"received_at": "2025-01-15T11:00:00Z",
                                                "needs": "fall_no_injury"}, "needs")])
def test_parse_wrong_container_types(data: Any, field: str) -> None:
    """A list where an object is expected (or a string for a list) is named, not crashed on."""
    with pytest.raises(TriageInputError) as caught:
        parse_triage_input(data)

    assert list(caught.value.errors) == [field]


def test_triage_input_error_is_a_value_error_with_joined_message() -> None:
    """Callers may catch ValueError; the message names field and value."""
    with pytest.raises(ValueError, match=r"^needs: unknown need code 'flying'$"):
        parse_triage_input({"received_at": "2025-01-15T11:00:00Z", "needs": ["flying"]})


def test_disposition_to_dict_has_design_shape() -> None:
    """The output carries every DESIGN.md key with JSON types, and round-trips through JSON."""
    out = disposition_to_dict(triage(parse_triage_input(DESIGN_EXAMPLE)))

    assert json.loads(json.dumps(out)) == out
    assert {"category", "deadline", "priority", "skills", "news2", "reasons"} <= set(out)
    assert {"total", "parts", "missing", "band"} <= set(out["news2"])
    assert out["category"] == "urgent_2h" and out["priority"] == 2
    assert out["news2"]["total"] == 6 and out["news2"]["missing"] == []
    assert out["news2"]["parts"]["respiration_rate"] == 2
    deadline = datetime.fromisoformat(out["deadline"])
    assert deadline.utcoffset() is not None
    assert deadline - datetime.fromisoformat(DESIGN_EXAMPLE["received_at"]) == timedelta(hours=2)
    assert all(isinstance(r, str) and r for r in out["reasons"])
    assert isinstance(out["skills"], list) and "falls_assessment" in out["skills"]


def test_disposition_to_dict_signpost_and_unscored() -> None:
    """Signposting has a null deadline; with nothing recorded total and band are null."""
    out = triage_dict({"received_at": "2025-01-15T11:00:00Z", "needs": ["social_isolation"]})

    assert (out["category"], out["deadline"], out["earliest_start"]) == ("signpost", None, None)
    assert (out["news2"]["total"], out["news2"]["band"], out["news2"]["scored"]) == (
        None, None, False)
    assert len(out["news2"]["missing"]) == 7


def test_disposition_to_dict_child_not_scored() -> None:
    """Under 16 the news2 object is present but says it was not scored."""
    out = triage_dict({"received_at": "2025-01-15T11:00:00Z", "age": 9,
                       "observations": {"pulse": 150}})

    assert out["news2"] == {"total": None, "parts": {}, "missing": [], "band": None,
                            "scored": False, "complete": False, "scale": None,
                            "any_single_three": False, "conservative": []}


def test_triage_dict_emergency_output() -> None:
    """A red flag serialises as 999 with no skills and a deadline of now."""
    out = triage_dict({"received_at": "2025-01-15T11:00:00Z", "red_flags": ["anaphylaxis"]})

    assert (out["category"], out["priority"], out["skills"]) == ("emergency_999", 1, [])
    assert out["deadline"] == "2025-01-15T11:00:00+00:00"


def test_triage_package_is_pure() -> None:
    """triage/ must not pull in Flask, the database, Twilio or the dispatch app."""
    code = ("import sys, triage; bad = {'flask', 'sqlalchemy', 'twilio', 'dispatch'} & "
            "{m.split('.')[0] for m in sys.modules}; sys.exit(', '.join(sorted(bad)) or 0)")

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)

    assert done.returncode == 0, done.stderr
