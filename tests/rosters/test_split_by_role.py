"""Every visit triage asks for can be made by one person holding a role's default skills.

A role's extra skills (a therapist who may also make clinical assessments) are held by some of
its members only, so a visit that needs one is refused whenever none of them is on shift
(H-242: an urgent reablement with NEWS2 medium went back to 999 for want of a therapist who
could also assess). Extras are used only for skills no role holds by default (IV therapy).
"""

from __future__ import annotations

from itertools import combinations

import pytest

from rosters.roles import DEFAULT_SKILLS, ROLES, SKILLS, possible_skills, split_by_role
from triage.frailty import frailty_skills
from triage.needs import NEEDS

#: Skills that only some members of a role hold (no role holds them by default).
ONLY_EXTRAS = frozenset(SKILLS) - frozenset().union(*DEFAULT_SKILLS.values())


def _coverable(group: frozenset[str]) -> bool:
    """One role's default skills cover the group, with extras only where nobody has them by
    default."""
    return any(group - ONLY_EXTRAS <= DEFAULT_SKILLS[role]
               and group & ONLY_EXTRAS <= possible_skills(role) for role in ROLES)


@pytest.mark.parametrize("need", sorted(NEEDS))
@pytest.mark.parametrize("frailty", [None, 5, 7, 9])
def test_each_need_with_frailty_is_coverable(need: str, frailty: int | None) -> None:
    """A single need at any frailty splits into groups each one role covers."""
    skills = frozenset(NEEDS[need].skills) | frozenset(frailty_skills(frailty))
    groups = split_by_role(skills)
    assert frozenset().union(*groups) == skills
    assert all(_coverable(g) for g in groups), groups


def test_single_urgent_needs_need_one_visit() -> None:
    """Each urgent community response condition is one visit by one person up to CFS 8; at
    CFS 9 (end of life) a social-care need may add a second, nursing visit. Urgent equipment
    is the therapist's, who gives no personal care by default: from CFS 7 (triage asks for
    personal care) that is a second visit rather than one for a hybrid worker who happens to
    hold the equipment extra."""
    for need in (n for n in NEEDS.values() if n.ucr):
        for frailty, most in ((None, 1), (7, 2 if need.code == "urgent_equipment" else 1),
                              (9, 2)):
            skills = frozenset(need.skills) | frozenset(frailty_skills(frailty))
            assert len(split_by_role(skills)) <= most, (need.code, frailty)


def test_two_needs_split_into_coverable_groups() -> None:
    """Any pair of needs becomes groups each coverable by a role."""
    for a, b in combinations(sorted(NEEDS), 2):
        skills = frozenset(NEEDS[a].skills) | frozenset(NEEDS[b].skills)
        assert all(_coverable(g) for g in split_by_role(skills)), (a, b)


def test_no_skills_one_empty_group() -> None:
    """A visit with no special skill is still one visit."""
    assert split_by_role(frozenset()) == [frozenset()]


@pytest.mark.safety("H-242")
@pytest.mark.parametrize("need", sorted(n for n in NEEDS if NEEDS[n].skills))
def test_a_need_with_observations_that_call_for_an_assessment_splits_by_default_skills(
    need: str,
) -> None:
    """Triage adds a clinical assessment when NEWS2 is medium or high; the urgent reablement
    or equipment then goes to its own visit, not to one that needs a therapist who can also
    assess (H-242)."""
    skills = frozenset(NEEDS[need].skills) | {"clinical_assessment"}
    groups = split_by_role(skills)
    assert frozenset().union(*groups) == skills
    assert all(_coverable(g) for g in groups), groups


@pytest.mark.safety("H-242")
def test_urgent_reablement_with_a_medium_news2_is_a_nurse_visit_and_a_reablement_visit() -> None:
    assert split_by_role(frozenset({"clinical_assessment", "reablement"})) == [
        frozenset({"clinical_assessment"}), frozenset({"reablement"})]


def test_iv_therapy_stays_with_the_nurses_assessment() -> None:
    """A skill no role holds by default joins the group of a role that may hold it."""
    assert split_by_role(frozenset({"clinical_assessment", "iv_therapy"})) == [
        frozenset({"clinical_assessment", "iv_therapy"})]
    assert split_by_role(frozenset({"iv_therapy"})) == [frozenset({"iv_therapy"})]
