"""Issue 13's triage hazards: incomplete screening (H-003), children (H-004), partial NEWS2 (H-005).

One test per rule outcome, each marked with the hazard it proves a control for.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage import IncompleteScreeningError, TriageInputError, parse_triage_input, triage
from triage.needs import NEEDS
from triage.parsing import triage_dict
from triage.red_flags import RED_FLAGS
from triage.safety_netting import SIGN_WORDS
from triage.screening import missing_screening
from triage.timing import LONDON
from triage.types import Observations, TriageInput

IN_HOURS = datetime(2025, 1, 15, 11, 0, tzinfo=LONDON)
RECEIVED = "2025-01-15T11:00:00+00:00"
ALL_NO = {code: "no" for code in RED_FLAGS}
# A complete, normal set of observations (NEWS2 0) to vary one or two parameters from.
NORMAL = Observations(respiration_rate=16, spo2=97, on_oxygen=False, systolic_bp=130, pulse=70,
                      consciousness="alert", temperature=37.0)


def make(**kwargs: Any) -> TriageInput:
    return TriageInput(received_at=kwargs.pop("received_at", IN_HOURS), **kwargs)


# --- H-003: incomplete screening ------------------------------------------------------------


@pytest.mark.safety("H-003")
def test_triage_empty_referral_is_refused_naming_what_is_missing() -> None:
    """Nothing filled in used to come out as "signpost"; now it is refused with the reason."""
    with pytest.raises(IncompleteScreeningError) as caught:
        triage(make())

    assert caught.value.missing == ("needs", "red_flag_answers", "observations")
    assert set(caught.value.errors) == {"needs", "red_flag_answers", "observations"}
    assert "needs, red_flag_answers, observations" in caught.value.message
    assert isinstance(caught.value, TriageInputError)  # callers map it like any input error


@pytest.mark.safety("H-003")
def test_triage_only_not_asked_answers_is_refused() -> None:
    """Every red-flag question "not asked" and nothing else is still nothing to triage."""
    inp = parse_triage_input({"received_at": RECEIVED,
                              "red_flag_answers": {c: "not_asked" for c in RED_FLAGS}})

    with pytest.raises(IncompleteScreeningError):
        triage(inp)


@pytest.mark.safety("H-003")
def test_triage_frailty_and_pathways_alone_are_refused() -> None:
    """A Pathways timeframe, frailty or a risk tier say how soon or how frail, not what is wrong."""
    with pytest.raises(IncompleteScreeningError):
        triage(make(pathways_disposition="Dx05", frailty=7, risk_tier="very_high"))


@pytest.mark.safety("H-003")
@pytest.mark.parametrize(
    "data",
    [{"needs": ["social_isolation"]}, {"red_flag_answers": {"chest_pain": "no"}},
     {"observations": {"pulse": 70}}],
    ids=["a need", "a no answer", "one observation"],
)
def test_triage_any_one_screening_answer_is_enough(data: dict[str, Any]) -> None:
    """A need, one red-flag answer or one observation is something to triage."""
    inp = parse_triage_input({"received_at": RECEIVED, **data})

    assert missing_screening(inp) == ()
    assert triage(inp).safety_netting


@pytest.mark.safety("H-003")
def test_parse_red_flag_yes_answer_is_a_red_flag() -> None:
    """A yes in red_flag_answers means 999, exactly like the red_flags list."""
    out = triage_dict({"received_at": RECEIVED, "needs": ["fall_no_injury"],
                       "red_flag_answers": {**ALL_NO, "suspected_fracture": "yes"}})

    assert out["category"] == "emergency_999"
    assert any("broken bone" in r for r in out["reasons"])


@pytest.mark.safety("H-003")
def test_parse_red_flags_list_and_answers_merge() -> None:
    """The list still means yes; answers add no and not asked; unanswered ones are not asked."""
    inp = parse_triage_input({"received_at": RECEIVED, "red_flags": ["seizure"],
                              "red_flag_answers": {"chest_pain": "no", "anaphylaxis": "yes",
                                                   "unresponsive": "not_asked"}})

    assert inp.red_flags == ("seizure", "anaphylaxis")
    assert dict(inp.red_flag_answers) == {"chest_pain": "no", "unresponsive": "not_asked",
                                          "anaphylaxis": "yes", "seizure": "yes"}
    assert "unresponsive" in inp.not_asked and "stroke_symptoms" in inp.not_asked
    assert inp.screened


@pytest.mark.safety("H-003")
def test_parse_red_flag_answers_errors_name_each_question() -> None:
    """Unknown questions, unknown answers and a yes listed but answered no are each refused."""
    with pytest.raises(TriageInputError) as caught:
        parse_triage_input({"received_at": RECEIVED, "red_flags": ["chest_pain"],
                            "red_flag_answers": {"chest_pain": "no", "hiccups": "yes",
                                                 "seizure": "maybe"}})

    assert caught.value.errors == {
        "red_flag_answers.chest_pain": ["is 'no' but chest_pain is listed in red_flags (a yes)"],
        "red_flag_answers.hiccups": ["unknown red flag code 'hiccups'"],
        "red_flag_answers.seizure": ["must be one of yes, no, not_asked, got 'maybe'"],
    }


def test_parse_red_flag_answers_must_be_an_object() -> None:
    """A list where the answers object belongs is a clear error, not a crash."""
    with pytest.raises(TriageInputError) as caught:
        parse_triage_input({"received_at": RECEIVED, "red_flag_answers": ["chest_pain"]})

    assert list(caught.value.errors) == ["red_flag_answers"]


@pytest.mark.safety("H-003")
def test_triage_reasons_name_red_flag_questions_not_asked() -> None:
    """A partly screened referral says which questions were not asked; none answered says so."""
    partly = triage(make(needs=("wound_care",),
                         red_flag_answers={c: "no" for c in list(RED_FLAGS)[1:]}))
    unscreened = triage(make(needs=("wound_care",)))
    screened = triage(make(needs=("wound_care",), red_flag_answers=ALL_NO))

    assert any(r.startswith("Red-flag questions not asked: Chest pain.") for r in partly.reasons)
    assert any(r.startswith("No red-flag question was answered") for r in unscreened.reasons)
    assert not any("red-flag question" in r.lower() for r in screened.reasons)


@pytest.mark.safety("H-003")
def test_safety_netting_visit_names_999_signs_111_and_the_deadline() -> None:
    """A visit's read-back: 999 for the core signs and the need's own, 111 otherwise, by when."""
    result = triage(make(needs=("fall_no_injury",), red_flag_answers=ALL_NO))

    text = result.safety_netting
    assert "call 999 straight away" in text and "call 111" in text
    for code in ("chest_pain", "stroke_symptoms", "severe_breathlessness", "unresponsive",
                 "suspected_fracture", "head_injury_on_anticoagulants"):
        assert SIGN_WORDS[code] in text
    assert SIGN_WORDS["overdose_or_poisoning"] not in text  # not relevant to a fall
    assert "13:00 on Wed 15 Jan" in text


@pytest.mark.safety("H-003")
def test_safety_netting_signpost_says_no_visit_999_and_111() -> None:
    """Signposting has no visit to wait for, but still 999 for these signs and 111 otherwise."""
    result = triage(make(needs=("social_isolation",), red_flag_answers=ALL_NO))

    assert result.safety_netting.startswith("No visit is booked.")
    assert "call 999 straight away" in result.safety_netting
    assert "call 111" in result.safety_netting


@pytest.mark.safety("H-003")
def test_safety_netting_emergency_says_what_to_do_while_waiting() -> None:
    """For 999: call now, and what to do until the ambulance comes."""
    result = triage(make(red_flags=("chest_pain",)))

    assert result.safety_netting.startswith("Call 999 now")
    assert "While you wait for the ambulance" in result.safety_netting
    assert "call 999 again" in result.safety_netting


@pytest.mark.safety("H-003")
def test_safety_netting_names_sepsis_when_temperature_scores() -> None:
    """A temperature that scores on NEWS2 (possible infection) adds the signs of sepsis."""
    feverish = triage(make(needs=("personal_care",),
                           observations=replace(NORMAL, temperature=38.5)))
    afebrile = triage(make(needs=("personal_care",), observations=NORMAL))

    assert SIGN_WORDS["sepsis_suspected"] in feverish.safety_netting
    assert SIGN_WORDS["sepsis_suspected"] not in afebrile.safety_netting


@pytest.mark.safety("H-003")
def test_disposition_to_dict_carries_safety_netting() -> None:
    """The JSON output (API, CLI) has safety_netting as a non-empty string."""
    out = triage_dict({"received_at": RECEIVED, "needs": ["wound_care"]})

    assert isinstance(out["safety_netting"], str) and "999" in out["safety_netting"]


# --- H-004: children ----------------------------------------------------------------------------


@pytest.mark.safety("H-004")
def test_triage_child_respiration_40_pulse_150_is_out_of_scope_not_signpost() -> None:
    """Issue 13's case: a 10-year-old with respiration 40 and pulse 150 was signposted."""
    out = triage_dict({"received_at": RECEIVED, "date_of_birth": "2014-06-01",
                       "red_flag_answers": ALL_NO,
                       "observations": {"respiration_rate": 40, "pulse": 150}})

    assert out["category"] == "out_of_scope"
    assert (out["deadline"], out["earliest_start"], out["skills"]) == (None, None, [])
    assert out["visit_duration_minutes"] == 0
    assert out["news2"]["scored"] is False
    summary = out["reasons"][0]
    assert "children's pathway" in summary and "111" in summary and "GP" in summary
    assert "999" in summary
    assert "within 2 hours" in summary  # observations that cannot be scored are urgent
    assert any("NEWS2 is for adults aged 16 and over" in r for r in out["reasons"])
    assert "the child" in out["safety_netting"] and "111" in out["safety_netting"]


@pytest.mark.safety("H-004")
def test_triage_child_with_red_flag_is_999() -> None:
    """A red flag still means 999 for a child; not out of scope."""
    result = triage(make(age=10, needs=("fall_no_injury",),
                         red_flag_answers={**ALL_NO, "suspected_fracture": "yes"}))

    assert result.category == "emergency_999"
    assert "While you wait" in result.safety_netting


@pytest.mark.safety("H-004")
@pytest.mark.parametrize(("age", "expected"), [(17, "emergency_999"), (15, "out_of_scope")])
def test_triage_news2_7_is_999_at_16_17_but_not_scored_under_16(age: int, expected: str) -> None:
    """NEWS2 is validated from 16: a 17-year-old's 7 is 999; a 15-year-old's is not scored."""
    obs = replace(NORMAL, respiration_rate=25, pulse=131, systolic_bp=101)  # 3 + 3 + 1 = 7

    result = triage(make(age=age, observations=obs))

    assert result.category == expected
    assert (result.news2 is None) is (age < 16)


@pytest.mark.safety("H-004")
def test_triage_17_year_old_news2_5_is_out_of_scope_within_2_hours() -> None:
    """A medium NEWS2 at 17 stays off the adult service, and the hand-over is urgent."""
    obs = replace(NORMAL, respiration_rate=25, pulse=111)  # 3 + 2 = 5

    result = triage(make(age=17, observations=obs))

    assert result.category == "out_of_scope"
    assert "within 2 hours" in result.reasons[0]


@pytest.mark.safety("H-004")
def test_triage_child_with_only_a_planned_need_is_handed_over_today() -> None:
    """Nothing urgent recorded: the children's pathway today, still no visit."""
    result = triage(make(age=9, needs=("equipment_review",), red_flag_answers=ALL_NO))

    assert result.category == "out_of_scope"
    assert "today" in result.reasons[0] and "within 2 hours" not in result.reasons[0]


@pytest.mark.safety("H-004")
@pytest.mark.parametrize("need", sorted(NEEDS))
def test_triage_child_never_gets_a_visit_or_signpost(need: str) -> None:
    """Every need in the catalogue, UCR or signposting, is out of scope under 18."""
    result = triage(make(age=12, needs=(need,)))

    assert result.category == "out_of_scope"
    assert (result.deadline, result.skills, result.visit_duration_minutes) == (None, (), 0)
    assert result.priority == 2


@pytest.mark.safety("H-004")
@pytest.mark.parametrize(("age", "expected"), [(17, "out_of_scope"), (18, "urgent_2h")])
def test_triage_age_18_is_the_edge(age: int, expected: str) -> None:
    """17 is a child for this service; 18 is an adult."""
    assert triage(make(age=age, needs=("fall_no_injury",))).category == expected


@pytest.mark.safety("H-004")
@pytest.mark.parametrize(("born", "expected"),
                         [(date(2007, 7, 16), "urgent_2h"), (date(2007, 7, 17), "out_of_scope")])
def test_triage_date_of_birth_counts_on_the_london_day(born: date, expected: str) -> None:
    """23:30 UTC on 15 July is 00:30 on 16 July in London: the 18th birthday has come."""
    received = datetime(2025, 7, 15, 23, 30, tzinfo=UTC)

    result = triage(make(received_at=received, date_of_birth=born, needs=("fall_no_injury",)))

    assert result.category == expected


def test_parse_age_years_and_date_of_birth_must_agree() -> None:
    """age_years is age; a date of birth that gives another age is an error, not a guess."""
    assert parse_triage_input({"received_at": RECEIVED, "age_years": 9}).age == 9
    with pytest.raises(TriageInputError) as caught:
        parse_triage_input({"received_at": RECEIVED, "age": 40, "date_of_birth": "1941-03-02"})
    assert caught.value.errors == {"age": ["is 40 but date_of_birth 1941-03-02 gives 83 on "
                                           "2025-01-15"]}


def test_parse_date_of_birth_errors() -> None:
    """A date of birth that is not a date, or after the call, is refused."""
    with pytest.raises(TriageInputError) as bad:
        parse_triage_input({"received_at": RECEIVED, "date_of_birth": "02/03/1941"})
    with pytest.raises(TriageInputError) as future:
        parse_triage_input({"received_at": RECEIVED, "date_of_birth": "2025-01-16"})

    assert list(bad.value.errors) == ["date_of_birth"]
    assert future.value.errors == {
        "date_of_birth": ["is after the day the referral was received (2025-01-15)"]}


_child_inputs = st.builds(
    TriageInput,
    received_at=st.just(IN_HOURS),
    needs=st.lists(st.sampled_from(sorted(NEEDS)), max_size=3),
    observations=st.builds(
        Observations,
        respiration_rate=st.none() | st.integers(0, 80),
        pulse=st.none() | st.integers(0, 300),
        consciousness=st.none() | st.sampled_from(("alert", "voice", "unresponsive")),
    ),
    pathways_disposition=st.none() | st.sampled_from(("Dx05", "Dx08")),
    age=st.integers(0, 17),
    red_flag_answers=st.dictionaries(st.sampled_from(sorted(RED_FLAGS)),
                                     st.sampled_from(("yes", "no", "not_asked")), max_size=4),
).filter(lambda inp: not missing_screening(inp))


@pytest.mark.safety("H-004")
@settings(max_examples=200, deadline=None)
@given(inp=_child_inputs)
def test_children_only_ever_999_or_out_of_scope(inp: TriageInput) -> None:
    """Whatever else is true, under 18 is 999 (a red flag; NEWS2 7+ at 16-17) or out of scope."""
    result = triage(inp)

    high = result.news2 is not None and result.news2.total >= 7
    assert (result.news2 is None) is (inp.age is not None and inp.age < 16)
    expected = "emergency_999" if inp.red_flags or high else "out_of_scope"
    assert result.category == expected
    assert (result.skills, result.visit_duration_minutes, result.earliest_start) == ((), 0, None)


# --- H-005: partial NEWS2 -------------------------------------------------------------------


@pytest.mark.safety("H-005")
def test_triage_scale2_spo2_with_oxygen_not_stated_is_scored_not_dropped() -> None:
    """Issue 13's case: scale-2 SpO2, oxygen not stated, gave "No NEWS2 observations"."""
    out = triage_dict({"received_at": RECEIVED, "needs": ["wound_care"],
                       "observations": {"spo2": 95, "spo2_scale": 2}})

    assert out["news2"]["parts"] == {"spo2": 2} and out["news2"]["conservative"] == ["spo2"]
    assert "on_oxygen" in out["news2"]["missing"]
    assert not any("No NEWS2 observations" in r for r in out["reasons"])
    assert any("scored 2, the higher of its scores on air (0) and on oxygen (2)" in r
               for r in out["reasons"])
    assert any(r.startswith("Not recorded, so not scored: respiration rate, air or oxygen")
               for r in out["reasons"])


@pytest.mark.safety("H-005")
def test_triage_scale2_spo2_97_oxygen_not_stated_is_a_single_three() -> None:
    """Scored at its worst (3 on oxygen), a 97% on scale 2 asks for the 2-hour response."""
    result = triage(make(observations=Observations(spo2=97, spo2_scale=2)))

    assert result.category == "urgent_2h"
    assert "clinical_assessment" in result.skills


@pytest.mark.safety("H-005")
@pytest.mark.parametrize(
    ("obs", "expected"),
    [
        (Observations(respiration_rate=25, pulse=111), "urgent_2h"),  # partial 5
        (Observations(systolic_bp=90), "urgent_2h"),  # a single 3
        (Observations(respiration_rate=25, pulse=131, systolic_bp=101), "emergency_999"),  # 7
    ],
    ids=["partial5", "single3", "partial7"],
)
def test_triage_partial_score_never_downgraded(obs: Observations, expected: str) -> None:
    """Missing parameters never lower what the recorded ones imply: 5-6 or a 3 is 2 h, 7 is 999."""
    result = triage(make(needs=("social_isolation",), observations=obs))

    assert result.category == expected
    assert result.news2 is not None and not result.news2.complete


@pytest.mark.safety("H-005")
def test_triage_partial_5_tells_the_clinician_to_complete_the_score() -> None:
    """A partial 5-6 says the full score may be higher and when to call 999."""
    result = triage(make(observations=Observations(respiration_rate=25, pulse=111)))

    assert any(r.startswith("NEWS2 is at least 5 from 2 of 7 parameters") for r in result.reasons)
    assert any("complete NEWS2 on arrival and call 999 if it is 7" in r for r in result.reasons)


@pytest.mark.safety("H-005")
def test_triage_partial_3_with_two_missing_is_treated_as_medium() -> None:
    """A partial 3 with two or more parameters missing is at least the 2-hour response."""
    obs = Observations(respiration_rate=21, pulse=95)  # 2 + 1, five missing

    result = triage(make(needs=("care_package_review",), observations=obs))

    assert result.category == "urgent_2h"
    assert "clinical_assessment" in result.skills
    assert any("partial NEWS2 of 3 with 5 parameters missing is treated as medium" in r
               for r in result.reasons)


@pytest.mark.safety("H-005")
def test_triage_partial_3_with_one_missing_is_not_escalated() -> None:
    """With only one parameter missing a 3 stays low: escalating would be guessing."""
    obs = replace(NORMAL, respiration_rate=21, pulse=95, temperature=None)

    result = triage(make(needs=("care_package_review",), observations=obs))

    assert result.category == "planned"


@pytest.mark.safety("H-005")
def test_triage_partial_completed_with_normal_values_is_no_longer_urgent() -> None:
    """Completing a partial 3 with normal values lowers it: the uncertainty was the reason."""
    partial = Observations(respiration_rate=21, pulse=95)
    complete = replace(NORMAL, respiration_rate=21, pulse=95)

    before = triage(make(needs=("care_package_review",), observations=partial))
    after = triage(make(needs=("care_package_review",), observations=complete))

    assert (before.category, after.category) == ("urgent_2h", "planned")


@pytest.mark.safety("H-005")
@pytest.mark.parametrize(("pulse", "expected"), [(110, "signpost"), (111, "urgent_2h")])
def test_triage_complete_band_edge_stays_exact(pulse: int, expected: str) -> None:
    """Complete scores keep the exact edges: 4 asks nothing, 5 asks for 2 hours."""
    obs = replace(NORMAL, respiration_rate=21, temperature=38.1, pulse=pulse)  # 2 + 1 + 1|2

    assert triage(make(observations=obs)).category == expected


def test_triage_late_triage_keeps_safety_netting_deadline() -> None:
    """Triage after the deadline still reads back the (passed) deadline in the advice."""
    result = triage(make(needs=("fall_no_injury",)), now=IN_HOURS + timedelta(hours=3))

    assert "13:00 on Wed 15 Jan" in result.safety_netting


@pytest.mark.safety("H-020")
def test_triage_without_age_says_adult_rules_were_applied() -> None:
    """No age and no date of birth: adult rules, and the reasons say so; with an age, silence."""
    unknown = triage(make(needs=("fall_no_injury",)))
    adult = triage(make(needs=("fall_no_injury",), age=80))

    assert unknown.category == "urgent_2h"
    assert any(r.startswith("Age not given, so adult rules were applied") for r in unknown.reasons)
    assert not any(r.startswith("Age not given") for r in adult.reasons)
