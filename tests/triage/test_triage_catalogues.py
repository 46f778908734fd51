"""The catalogues: needs (UCR list, skills, durations), red flags, frailty names."""

from __future__ import annotations

import pytest

from triage.frailty import CFS_NAMES, frailty_name, frailty_skills
from triage.needs import NEEDS, SKILLS, UCR_NEEDS, visit_duration
from triage.red_flags import RED_FLAGS


@pytest.mark.safety("H-207")
def test_ucr_needs_cover_the_nhs_england_list() -> None:
    """The nine NHS England UCR conditions, catheter and continence care as two codes, and
    carer breakdown as two (the carer unable to cope; the carer's own crisis)."""
    assert UCR_NEEDS == (
        "fall_no_injury", "sudden_confusion", "loss_of_mobility", "urgent_catheter",
        "urgent_continence", "urgent_diabetes", "carer_breakdown", "carer_crisis",
        "end_of_life_crisis",
        "urgent_equipment", "urgent_reablement",
    )


def test_skills_constant_lists_the_twelve_codes() -> None:
    """rosters/ and routing/ match workers to visits on exactly these codes."""
    assert SKILLS == (
        "iv_therapy", "catheter_care", "wound_care", "insulin_administration",
        "falls_assessment", "personal_care", "medication_prompt", "end_of_life_care",
        "equipment", "clinical_assessment", "social_care_assessment", "reablement",
    )


@pytest.mark.parametrize("code", sorted(NEEDS))
def test_need_catalogue_entries_are_consistent(code: str) -> None:
    """Visit needs have skills and a duration; signposts have neither."""
    spec = NEEDS[code]

    assert spec.code == code and spec.label
    if spec.category == "signpost":
        assert (spec.skills, spec.visit_minutes) == ((), 0)
    else:
        assert spec.skills and spec.visit_minutes > 0


@pytest.mark.parametrize(
    ("codes", "minutes"),
    [((), 45), (("social_isolation",), 45), (("wound_care",), 45),
     (("carer_breakdown", "medication_support"), 105),
     (("carer_breakdown", "wound_care", "iv_therapy", "personal_care"), 120)],
)
def test_visit_duration(codes: tuple[str, ...], minutes: int) -> None:
    """Longest need plus 15 minutes per other visit need, capped at two hours."""
    assert visit_duration(codes) == minutes


@pytest.mark.parametrize("code", sorted(RED_FLAGS))
def test_red_flag_sentences_send_to_emergency(code: str) -> None:
    """Every red flag sentence tells the caller to call 999 or go to the ED."""
    sentence = RED_FLAGS[code].sentence

    assert "999" in sentence or "emergency department" in sentence


def test_red_flags_include_the_issue_list() -> None:
    """The flags the issue names are all recognised."""
    expected = {"chest_pain", "stroke_symptoms", "severe_breathlessness", "major_bleeding",
                "head_injury_on_anticoagulants", "fall_with_serious_injury",
                "suspected_fracture", "unresponsive", "anaphylaxis", "sepsis_suspected"}

    assert expected <= set(RED_FLAGS)


def test_frailty_names_are_cfs_v2() -> None:
    """CFS v2.0: 1 very fit ... 9 terminally ill."""
    assert (CFS_NAMES[1], CFS_NAMES[4], CFS_NAMES[9]) == (
        "very fit", "living with very mild frailty", "terminally ill")
    assert sorted(CFS_NAMES) == list(range(1, 10))


@pytest.mark.parametrize(
    ("score", "message"),
    [(0, "Clinical Frailty Scale score must be between 1 and 9, got 0"),
     (10, "Clinical Frailty Scale score must be between 1 and 9, got 10"),
     (True, "Clinical Frailty Scale score must be a whole number, got True")],
)
def test_frailty_name_rejects_bad_scores(score: int, message: str) -> None:
    """Scores outside 1-9 are refused with the range."""
    with pytest.raises(ValueError) as caught:
        frailty_name(score)

    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("score", "skills"),
    [(None, ()), (6, ()), (7, ("personal_care",)), (9, ("personal_care", "end_of_life_care"))],
)
def test_frailty_skills(score: int | None, skills: tuple[str, ...]) -> None:
    """Severe frailty needs personal care; terminal illness also end-of-life care."""
    assert frailty_skills(score) == skills
