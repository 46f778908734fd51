"""Tests for rosters.roles and rosters.phones: the shared vocabulary and phone numbers."""

from __future__ import annotations

import pytest

from rosters.phones import normalise_uk_mobile
from rosters.roles import DEFAULT_SKILLS, ROLES, SKILLS, default_skills

SHARED_SKILL_CODES = {
    "iv_therapy",
    "catheter_care",
    "wound_care",
    "insulin_administration",
    "falls_assessment",
    "personal_care",
    "medication_prompt",
    "end_of_life_care",
    "equipment",
    "clinical_assessment",
    "social_care_assessment",
    "reablement",
}


def test_skills_match_the_codes_triage_uses() -> None:
    """Triage and rosters must speak the same skill codes or no visit could be matched."""
    assert set(SKILLS) == SHARED_SKILL_CODES
    assert len(SKILLS) == len(SHARED_SKILL_CODES)


def test_default_skills_cover_every_role_with_known_skills() -> None:
    """Every role has a default set, drawn only from known skills."""
    assert set(DEFAULT_SKILLS) == set(ROLES)
    for skills in DEFAULT_SKILLS.values():
        assert skills <= set(SKILLS)


def test_default_skills_iv_therapy_is_not_a_default() -> None:
    """IV therapy needs an individual competency, so no role grants it by default."""
    assert all("iv_therapy" not in skills for skills in DEFAULT_SKILLS.values())


def test_default_skills_coordinator_has_none() -> None:
    """Coordinators run the board and are never sent on visits."""
    assert default_skills("coordinator") == frozenset()


def test_default_skills_unknown_role_raises() -> None:
    """A typo in a role name is reported, not silently given no skills."""
    with pytest.raises(ValueError, match="unknown role 'nurse'"):
        default_skills("nurse")


@pytest.mark.parametrize(
    "written",
    ["07700 900123", "+44 7700 900123", "+44 (0)7700 900123", "447700900123", "0044-7700-900123"],
)
def test_normalise_uk_mobile_common_forms(written: str) -> None:
    """The ways people write a UK mobile all become the one E.164 form Twilio needs."""
    assert normalise_uk_mobile(written) == "+447700900123"


@pytest.mark.parametrize("written", ["020 7946 0123", "0770090012", "+33 6 12 34 56 78", "mobile"])
def test_normalise_uk_mobile_rejects_non_mobiles(written: str) -> None:
    """Landlines, short numbers and foreign numbers cannot receive our SMS."""
    with pytest.raises(ValueError, match="is not a UK mobile number"):
        normalise_uk_mobile(written)
