"""Every visit triage asks for can be made by one person holding a role's default skills."""

from __future__ import annotations

from itertools import combinations

import pytest

from rosters.roles import ROLES, possible_skills, split_by_role
from triage.frailty import frailty_skills
from triage.needs import NEEDS


def _coverable(group: frozenset[str]) -> bool:
    return any(group <= possible_skills(role) for role in ROLES)


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
    CFS 9 (end of life) a social-care need may add a second, nursing visit."""
    for need in (n for n in NEEDS.values() if n.ucr):
        for frailty, most in ((None, 1), (7, 1), (9, 2)):
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
